// The headless rehearsal of issues 2 and 8, through the real CLIs as a user
// runs them: 3 admins (thresholds 2), a 3-of-5 master key on files, an
// instance of 2 units whose transport keys are confirmed into the record.
// Then every bad input of the issues, each failing with one plain sentence
// and changing nothing; and the attacks of issue 8 (a forged transport key,
// blind signing of an edited bundle), built the way an attacker would.
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/encoding.js';
import {
  emu,
  expectCleanFailure,
  exportAndConfirmUnits,
  kc,
  KEYCEREMONY,
  ok,
  passFile,
  workdir,
} from '../support/cli.js';

const dir = workdir('kc-rehearsal-');
const ADMINS = ['alice', 'bob', 'carol'];
const CUSTODIANS = ['c1', 'c2', 'c3', 'c4', 'c5'];
let kcv = '';
let transports: string[] = [];
let freshTransports: string[] = [];

const share = (c: string): string => `${c}.share=${c}.pass`;
const transportArgs = (list = transports): string[] => list.flatMap((t) => ['--transport', t]);
interface UnitStatus {
  id: string;
  state: string;
  masterKeyKcv: string | null;
  adminThumbprints: string[];
  signatureThreshold: number;
  revocationThreshold: number;
  lastSequence: number;
  transportFingerprint: string;
}
interface Status {
  units: UnitStatus[];
  mismatches: string[];
}
const status = (state = 'emu'): Status => JSON.parse(ok(emu(dir, 'status', '--state', state, '--json'))) as Status;
/** The units as their status reports them: what a refused bundle must leave untouched (the audit log grows). */
const unitsOf = (state = 'emu'): UnitStatus[] => status(state).units;

const exportAndConfirm = (state: string, outDir: string, record: string): string[] =>
  exportAndConfirmUnits(dir, state, outDir, record);

function sign(bundle: string, ...admins: string[]): void {
  for (const a of admins)
    ok(
      kc(
        dir,
        'bundle',
        'sign',
        bundle,
        '--record',
        'record.jsonl',
        '--identity',
        `${a}.id`,
        '--passphrase-file',
        `${a}.pass`,
      ),
    );
}

beforeAll(() => {
  for (const a of ADMINS) {
    passFile(dir, `${a}.pass`, `${a} passphrase 2026`);
    ok(kc(dir, 'identity', 'generate', '--name', a, '--out', `${a}.id`, '--passphrase-file', `${a}.pass`));
    ok(kc(dir, 'identity', 'cert', `${a}.id`, '--out', `${a}.crt`));
  }
  for (const c of CUSTODIANS) passFile(dir, `${c}.pass`, `custodian ${c} secret`);
  ok(emu(dir, 'init', '--state', 'emu', '--units', '2'));
  ok(emu(dir, 'transport', '--state', 'emu', '--out-dir', 'transport'));
  const out = ok(
    kc(
      dir,
      'mk',
      'generate',
      '--key-name',
      'MK-2026',
      '--threshold',
      '3',
      ...CUSTODIANS.flatMap((c) => ['--share', share(c)]),
      '--record',
      'record.jsonl',
      ...readdirSync(join(dir, 'transport')).flatMap((f) => ['--transport', join('transport', f)]),
    ),
  );
  kcv = /^KCV ([0-9A-F]{6})$/m.exec(out)![1]!;
  transports = exportAndConfirm('emu', 'transport', 'record.jsonl');
  ok(
    kc(
      dir,
      'bundle',
      'create',
      '--operation',
      'initialize',
      '--record',
      'record.jsonl',
      '--share',
      share('c1'),
      '--share',
      share('c3'),
      '--share',
      share('c5'),
      ...transportArgs(),
      ...ADMINS.flatMap((a) => ['--admin', `${a}.crt`]),
      '--signature-threshold',
      '2',
      '--out',
      'bundle1.json',
    ),
  );
  sign('bundle1.json', ...ADMINS);
  ok(emu(dir, 'ingest', '--state', 'emu', 'bundle1.json'));
  // A second, cleared instance whose units are confirmed too: the share checks below reach the shares.
  ok(emu(dir, 'init', '--state', 'emu-fresh', '--units', '2'));
  freshTransports = exportAndConfirm('emu-fresh', 'transport-fresh', 'record.jsonl');
  transports = exportAndConfirm('emu', 'transport', 'record.jsonl');
}, 300_000);

describe('headless rehearsal', () => {
  it('ends with both units kms-initialized holding the KCV that mk generate printed', () => {
    const s = status();
    expect(s.units).toHaveLength(2);
    expect(s.mismatches).toEqual([]);
    for (const u of s.units) {
      expect(u).toMatchObject({
        state: 'kms-initialized',
        masterKeyKcv: kcv,
        signatureThreshold: 2,
        revocationThreshold: 2,
        lastSequence: 1,
      });
      expect(u.adminThumbprints).toHaveLength(3);
    }
  });

  it('bundle verify (against the record) and transcript verify agree', () => {
    const v = ok(kc(dir, 'bundle', 'verify', 'bundle1.json', '--record', 'record.jsonl'));
    expect(v).toContain('Operation: initialize');
    expect(v).toContain(`KCV ${kcv}`);
    expect(v).toMatch(/Signature 3: carol .* valid/);
    expect(v).toContain('Every admin the claim installs has signed.');
    expect(v).toMatch(/The record holds it: entry \d+/);
    expect(ok(kc(dir, 'transcript', 'verify', 'record.jsonl'))).toMatch(/hash chain intact/);
  });

  it('writes bundles for their owner only', () => {
    expect(statSync(join(dir, 'bundle1.json')).mode & 0o777).toBe(0o600);
  });

  it('a custodian checks a share against the record', () => {
    const v = ok(kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', share('c4')));
    expect(v).toMatch(/share 4 of 5 \(threshold 3\) of key "MK-2026"/);
    expect(v).toContain('issued to c4');
  });

  it('an admin change is refused with 1 signature and accepted with 2; the same bundle again is "already applied"', () => {
    ok(
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'admin-change',
        '--record',
        'record.jsonl',
        ...transportArgs(),
        '--signature-threshold',
        '2',
        '--revocation-threshold',
        '3',
        '--out',
        'bundle2.json',
      ),
    );
    sign('bundle2.json', 'bob');
    const before = unitsOf();
    const one = emu(dir, 'ingest', '--state', 'emu', 'bundle2.json');
    expectCleanFailure(one, /too few signatures: 1 valid, the unit requires 2 of its 3 admins/);
    expect(unitsOf()).toEqual(before);
    sign('bundle2.json', 'carol');
    ok(emu(dir, 'ingest', '--state', 'emu', 'bundle2.json'));
    expect(unitsOf().map((u) => [u.state, u.masterKeyKcv, u.revocationThreshold, u.lastSequence])).toEqual([
      ['kms-initialized', kcv, 3, 2],
      ['kms-initialized', kcv, 3, 2],
    ]);
    const again = ok(emu(dir, 'ingest', '--state', 'emu', 'bundle2.json'));
    expect(again.match(/OK \(already applied\)/g)).toHaveLength(2);
    transports = exportAndConfirm('emu', 'transport', 'record.jsonl');
  });
});

describe('issue 8: the trust chain holds against an attacker with the files', () => {
  it('a forged transport file (real unit and instance ids, another key, a matching fingerprint) is refused, naming the unit and both fingerprints', () => {
    const t = JSON.parse(readFileSync(join(dir, freshTransports[0]!), 'utf8')) as {
      publicKey: string;
      fingerprint: string;
      unitId: string;
    };
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
    const der = publicKey.export({ type: 'spki', format: 'der' });
    const forged = {
      ...t,
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      fingerprint: createHash('sha256').update(der).digest('hex'),
    };
    writeFileSync(
      join(dir, freshTransports[0]!.replace('.transport.json', '.forged.json')),
      JSON.stringify(forged, null, 2),
    );
    const args = [freshTransports[0]!.replace('.transport.json', '.forged.json'), freshTransports[1]!];
    const r = kc(
      dir,
      'bundle',
      'create',
      '--operation',
      'initialize',
      '--record',
      'record.jsonl',
      '--share',
      share('c1'),
      '--share',
      share('c2'),
      '--share',
      share('c3'),
      ...transportArgs(args),
      ...ADMINS.flatMap((a) => ['--admin', `${a}.crt`]),
      '--signature-threshold',
      '2',
      '--out',
      'forged-bundle.json',
    );
    expectCleanFailure(
      r,
      new RegExp(
        `Unit ${t.unitId}: the transport file holds key .* but the record confirmed .* against the unit's display`,
      ),
    );
    expect(r.stderr).toContain(forged.fingerprint.slice(0, 4).toUpperCase());
    expect(r.stderr).toContain(t.fingerprint.slice(0, 4).toUpperCase());
    expect(existsSync(join(dir, 'forged-bundle.json'))).toBe(false);
  });

  it("units confirm refuses a fingerprint that is not the one on the unit's display, and records nothing", () => {
    const before = readFileSync(join(dir, 'record.jsonl'), 'utf8');
    const wrong = 'AB'.repeat(32);
    expectCleanFailure(
      kc(
        dir,
        'units',
        'confirm',
        '--record',
        'record.jsonl',
        '--transport',
        freshTransports[0]!,
        '--fingerprint',
        wrong,
      ),
      /but the unit displays AB/,
    );
    expect(readFileSync(join(dir, 'record.jsonl'), 'utf8')).toBe(before);
  });

  it('a unit never confirmed in the record gets nothing wrapped to it', () => {
    ok(
      kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        'MK-B',
        '--threshold',
        '2',
        '--share',
        'b1.share=c1.pass',
        '--share',
        'b2.share=c2.pass',
        '--record',
        'b.jsonl',
      ),
    );
    expectCleanFailure(
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'initialize',
        '--record',
        'b.jsonl',
        '--share',
        'b1.share=c1.pass',
        '--share',
        'b2.share=c2.pass',
        ...transportArgs(freshTransports),
        '--admin',
        'alice.crt',
        '--signature-threshold',
        '1',
        '--out',
        'unconfirmed.json',
      ),
      /has not been confirmed against the unit's own display/,
    );
  });

  it('a bundle goes to every unit of the instance: one missing transport file is refused', () => {
    expectCleanFailure(
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'zeroize',
        '--record',
        'record.jsonl',
        '--transport',
        transports[0]!,
        '--out',
        'partial.json',
      ),
      /the transport key file of unit .* is missing/,
    );
  });

  it("the key name is checked against the units' limits before any key exists", () => {
    expectCleanFailure(
      kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        'much-too-long',
        '--threshold',
        '2',
        '--share',
        'l1.share=c1.pass',
        '--share',
        'l2.share=c2.pass',
        '--record',
        'long.jsonl',
        ...transportArgs(freshTransports),
      ),
      /has 13 characters; the target units take 1 to 8 \(limit of their kp-dedicated profile/,
    );
    expect(existsSync(join(dir, 'long.jsonl'))).toBe(false);
    expect(existsSync(join(dir, 'l1.share'))).toBe(false);
  });

  it('blind signing is impossible: an edited unsigned bundle is refused by bundle sign, and signing needs --record or --payload-sha256', () => {
    const out = ok(
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'zeroize',
        '--record',
        'record.jsonl',
        ...transportArgs(),
        '--out',
        'z.json',
      ),
    );
    const payloadHash = /Payload SHA-256: ([0-9a-f]{64})/.exec(out)![1]!;
    // The attacker edits the unsigned bundle: another sequence, re-encoded properly.
    const b = JSON.parse(readFileSync(join(dir, 'z.json'), 'utf8')) as { payload: string; signatures: unknown[] };
    const p = JSON.parse(Buffer.from(b.payload, 'base64url').toString('utf8')) as { sequence: number };
    p.sequence += 40;
    writeFileSync(
      join(dir, 'z-edited.json'),
      JSON.stringify({ payload: Buffer.from(JSON.stringify(p)).toString('base64url'), signatures: [] }, null, 2) + '\n',
    );
    const byRecord = kc(
      dir,
      'bundle',
      'sign',
      'z-edited.json',
      '--record',
      'record.jsonl',
      '--identity',
      'alice.id',
      '--passphrase-file',
      'alice.pass',
    );
    expectCleanFailure(
      byRecord,
      /holds no bundle-created entry for payload SHA-256 [0-9a-f]{64}: this is not a bundle the ceremony built/,
    );
    const byHash = kc(
      dir,
      'bundle',
      'sign',
      'z-edited.json',
      '--payload-sha256',
      payloadHash,
      '--identity',
      'alice.id',
      '--passphrase-file',
      'alice.pass',
    );
    expectCleanFailure(byHash, new RegExp(`not the ${payloadHash} you were given from the record`));
    const blind = kc(dir, 'bundle', 'sign', 'z.json', '--identity', 'alice.id', '--passphrase-file', 'alice.pass');
    expect(blind.code).toBe(2);
    expect(blind.stderr).toMatch(/nobody signs a bundle blind/);
    expect(JSON.parse(readFileSync(join(dir, 'z-edited.json'), 'utf8')).signatures).toEqual([]);
    // The genuine bundle: the summary is shown before the passphrase is asked (here: no terminal to ask on).
    const shown = kc(
      dir,
      'bundle',
      'sign',
      'z.json',
      '--payload-sha256',
      payloadHash.toUpperCase().match(/.{8}/g)!.join(' '),
      '--identity',
      'alice.id',
    );
    expect(shown.stdout).toMatch(
      /Operation: zeroize\n\s+ZEROIZE 2 units holding master key "MK-2026" \(KCV [0-9A-F]{6}\)/,
    );
    expect(shown.stdout).toContain(`Payload SHA-256: ${payloadHash}`);
    expectCleanFailure(shown, /is needed and no file was given/);
  });
});

describe('issue 11: a rehearsal never reaches production units', () => {
  // A key of its own, whose record says nothing about its mode yet; the
  // production units of emu-fresh and a rehearsal instance confirmed into it.
  let rehearsalTransports: string[] = [];
  let productionTransports: string[] = [];
  const rehearsalShare = (i: number): string => `r${i}.share=c${i}.pass`;
  const initializeArgs = (
    list: string[],
    out: string,
    record = 'reh.jsonl',
    shares = [rehearsalShare(1), rehearsalShare(2)],
  ): string[] => [
    'bundle',
    'create',
    '--operation',
    'initialize',
    '--record',
    record,
    ...shares.flatMap((s) => ['--share', s]),
    ...transportArgs(list),
    ...ADMINS.flatMap((a) => ['--admin', `${a}.crt`]),
    '--signature-threshold',
    '2',
    '--out',
    out,
  ];
  const signReh = (bundle: string, ...admins: string[]): void => {
    for (const a of admins)
      ok(
        kc(
          dir,
          'bundle',
          'sign',
          bundle,
          '--record',
          'reh.jsonl',
          '--identity',
          `${a}.id`,
          '--passphrase-file',
          `${a}.pass`,
        ),
      );
  };

  beforeAll(() => {
    const init = ok(emu(dir, 'init', '--state', 'emu-reh', '--units', '2', '--rehearsal'));
    expect(init).toMatch(/^REHEARSAL instance [0-9a-f-]+ with 2 cleared crypto units in emu-reh/);
    ok(
      kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        'MK-REH',
        '--threshold',
        '2',
        '--share',
        rehearsalShare(1),
        '--share',
        rehearsalShare(2),
        '--record',
        'reh.jsonl',
      ),
    );
    rehearsalTransports = exportAndConfirm('emu-reh', 'transport-reh', 'reh.jsonl');
    productionTransports = exportAndConfirm('emu-fresh', 'transport-prod', 'reh.jsonl');
  }, 120_000);

  it('the emulator shows its mode in status and in the transport files it exports', () => {
    expect(ok(emu(dir, 'status', '--state', 'emu-reh'))).toMatch(/^REHEARSAL instance [0-9a-f-]+ \(rehearsal mode;/);
    expect(ok(emu(dir, 'status', '--state', 'emu-fresh'))).toMatch(/^Instance [0-9a-f-]+ \(production mode;/);
    expect(
      (JSON.parse(ok(emu(dir, 'status', '--state', 'emu-reh', '--json'))) as { rehearsal: unknown }).rehearsal,
    ).toBe(true);
    for (const [files, mode] of [
      [rehearsalTransports, true],
      [productionTransports, false],
    ] as const)
      for (const f of files)
        expect(JSON.parse(readFileSync(join(dir, f), 'utf8'))).toMatchObject({
          format: 'keyceremony-transport/3',
          rehearsal: mode,
        });
  });

  it("bundle create refuses a mode that is not the units', naming the unit and both modes, before anyone signs", () => {
    const before = readFileSync(join(dir, 'reh.jsonl'), 'utf8');
    const productionUnit = JSON.parse(readFileSync(join(dir, productionTransports[0]!), 'utf8')) as { unitId: string };
    const rehearsalUnit = JSON.parse(readFileSync(join(dir, rehearsalTransports[0]!), 'utf8')) as { unitId: string };
    const toProduction = kc(dir, ...initializeArgs(productionTransports, 'p.json'), '--rehearsal');
    expectCleanFailure(
      toProduction,
      new RegExp(
        `Unit ${productionUnit.unitId} is a production unit \\(as its transport file says\\), but this bundle would be a rehearsal bundle; the unit would refuse it\\.`,
      ),
    );
    expectCleanFailure(
      kc(dir, ...initializeArgs(rehearsalTransports, 'r.json')),
      new RegExp(`Unit ${rehearsalUnit.unitId} is a rehearsal unit .*but this bundle would be a production bundle`),
    );
    expect(existsSync(join(dir, 'p.json'))).toBe(false);
    expect(existsSync(join(dir, 'r.json'))).toBe(false);
    expect(readFileSync(join(dir, 'reh.jsonl'), 'utf8')).toBe(before);
  });

  it('a rehearsal bundle is applied by rehearsal units and refused by production units, which it leaves as they were', () => {
    const created = ok(kc(dir, ...initializeArgs(rehearsalTransports, 'reh1.json'), '--rehearsal'));
    expect(created).toContain('Mode: REHEARSAL (only units in rehearsal mode accept it; production units refuse it)');
    const entry = readFileSync(join(dir, 'reh.jsonl'), 'utf8').trim().split('\n').at(-1)!;
    expect(JSON.parse(entry)).toMatchObject({ type: 'bundle-created', data: { rehearsal: true } });
    signReh('reh1.json', ...ADMINS);
    ok(emu(dir, 'ingest', '--state', 'emu-reh', 'reh1.json'));
    expect(status('emu-reh').units.map((u) => u.state)).toEqual(['kms-initialized', 'kms-initialized']);
    const before = unitsOf('emu-fresh');
    const stateBefore = readFileSync(join(dir, 'emu-fresh', 'instance.json'), 'utf8');
    const refused = emu(dir, 'ingest', '--state', 'emu-fresh', 'reh1.json');
    expectCleanFailure(
      refused,
      /The bundle was rejected: this is a production unit and the bundle is a rehearsal bundle; a unit accepts bundles of its own mode only/,
    );
    expect(refused.stdout.match(/FAILED rejected: this is a production unit/g)).toHaveLength(2);
    expect(unitsOf('emu-fresh')).toEqual(before);
    // Only the audit logs grew, each by one refusal naming the code.
    const strip = (text: string): unknown =>
      (JSON.parse(text) as { units: Array<Record<string, unknown>> }).units.map(({ audit: _a, ...u }) => u);
    expect(strip(readFileSync(join(dir, 'emu-fresh', 'instance.json'), 'utf8'))).toEqual(strip(stateBefore));
    expect(ok(emu(dir, 'audit', '--state', 'emu-fresh', '--unit', before[0]!.id))).toMatch(/RehearsalMismatch/);
  });

  it('a production bundle is refused by rehearsal units', () => {
    const before = unitsOf('emu-reh');
    expectCleanFailure(
      emu(dir, 'ingest', '--state', 'emu-reh', 'bundle1.json'),
      /this is a rehearsal unit and the bundle is a production bundle/,
    );
    expect(unitsOf('emu-reh')).toEqual(before);
  });

  it('mk generate --rehearsal refuses production units before the key exists; its record and shares say rehearsal, and so do its bundles', () => {
    const generate = (transports: string[]): ReturnType<typeof kc> =>
      kc(
        dir,
        'mk',
        'generate',
        '--rehearsal',
        '--key-name',
        'MK-REH3',
        '--threshold',
        '2',
        '--share',
        'q1.share=c1.pass',
        '--share',
        'q2.share=c2.pass',
        '--record',
        'reh3.jsonl',
        ...transportArgs(transports),
      );
    const productionUnit = JSON.parse(readFileSync(join(dir, productionTransports[0]!), 'utf8')) as { unitId: string };
    expectCleanFailure(
      generate(productionTransports),
      new RegExp(`Unit ${productionUnit.unitId} is a production unit \\(as its transport file says\\)`),
    );
    for (const f of ['reh3.jsonl', 'q1.share', 'q2.share']) expect(existsSync(join(dir, f))).toBe(false);

    // A cleared rehearsal instance of its own (emu-reh holds MK-REH by now).
    ok(emu(dir, 'init', '--state', 'emu-reh3', '--units', '2', '--rehearsal'));
    ok(emu(dir, 'transport', '--state', 'emu-reh3', '--out-dir', 'transport-reh3'));
    const cleared = readdirSync(join(dir, 'transport-reh3')).map((f) => join('transport-reh3', f));
    expect(ok(generate(cleared))).toMatch(/^REHEARSAL: this key and its shares are for rehearsal units only\./m);
    const entries = readFileSync(join(dir, 'reh3.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
    expect(entries[0]).toMatchObject({ type: 'ceremony-opened', data: { mode: 'rehearsal' } });
    for (const e of entries) expect([e.type, e.data['rehearsal']]).toEqual([e.type, true]);
    for (const f of ['q1.share', 'q2.share'])
      expect(JSON.parse(readFileSync(join(dir, f), 'utf8'))).toMatchObject({ header: { rehearsal: true } });
    // No --rehearsal on the bundle: the record's opening says rehearsal, so the bundle is one.
    const confirmed = exportAndConfirm('emu-reh3', 'transport-reh3-confirmed', 'reh3.jsonl');
    const created = ok(
      kc(dir, ...initializeArgs(confirmed, 'reh3.json', 'reh3.jsonl', ['q1.share=c1.pass', 'q2.share=c2.pass'])),
    );
    expect(created).toContain('Mode: REHEARSAL');
  });

  it("a record whose key lives in a rehearsal makes its bundles rehearsal bundles, and a production record's key never goes to rehearsal units", () => {
    // No --rehearsal: the record's first bundle says rehearsal, so this one is too.
    const implied = ok(
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'admin-change',
        '--record',
        'reh.jsonl',
        ...transportArgs(exportAndConfirm('emu-reh', 'transport-reh', 'reh.jsonl')),
        '--signature-threshold',
        '2',
        '--revocation-threshold',
        '3',
        '--out',
        'reh2.json',
      ),
    );
    expect(implied).toContain('Mode: REHEARSAL');
    signReh('reh2.json', 'alice', 'bob');
    ok(emu(dir, 'ingest', '--state', 'emu-reh', 'reh2.json'));
    // record.jsonl's key went to production units: no rehearsal bundle of it.
    expectCleanFailure(
      kc(
        dir,
        'bundle',
        'create',
        '--rehearsal',
        '--operation',
        'zeroize',
        '--record',
        'record.jsonl',
        ...transportArgs(rehearsalTransports),
        '--out',
        'leak.json',
      ),
      /The record record\.jsonl holds a production key \(entry \d+, bundle-created\), but this bundle would be a rehearsal bundle: a record is one key’s life in one mode/,
    );
    expect(existsSync(join(dir, 'leak.json'))).toBe(false);
  });
});

/** The initialize options for the fresh instance, so that a bundle create reaches the shares. */
const freshClaim = (): string[] => [
  ...transportArgs(freshTransports),
  ...ADMINS.flatMap((a) => ['--admin', `${a}.crt`]),
  '--signature-threshold',
  '2',
];

describe('bad input fails cleanly and loses nothing', () => {
  it('wrong passphrase for a share and for an identity', () => {
    passFile(dir, 'wrong.pass', 'not the right one');
    expectCleanFailure(
      kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', 'c1.share=wrong.pass'),
      /Wrong passphrase for share file c1.share/,
    );
    expectCleanFailure(
      kc(
        dir,
        'bundle',
        'sign',
        'bundle1.json',
        '--record',
        'record.jsonl',
        '--identity',
        'alice.id',
        '--passphrase-file',
        'wrong.pass',
      ),
      /Wrong passphrase for the identity file alice.id/,
    );
  });

  it('passphrase too short, before anything is written', () => {
    passFile(dir, 'short.pass', '12345');
    expectCleanFailure(
      kc(dir, 'identity', 'generate', '--name', 'dave', '--out', 'dave.id', '--passphrase-file', 'short.pass'),
      /too short: it has 5 characters and needs at least 6/,
    );
    expect(existsSync(join(dir, 'dave.id'))).toBe(false);
    expectCleanFailure(
      kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        'X',
        '--threshold',
        '2',
        '--share',
        'n1.share=c1.pass',
        '--share',
        'n2.share=short.pass',
        '--record',
        'short.jsonl',
      ),
      /too short/,
    );
    // The first share's file was not left behind either: passphrases are checked before the key exists.
    expect(existsSync(join(dir, 'n1.share'))).toBe(false);
  });

  it('a share or record in a folder that cannot be written is refused before the key exists', () => {
    expectCleanFailure(
      kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        'X',
        '--threshold',
        '2',
        '--share',
        'n1.share=c1.pass',
        '--share',
        'no-such-folder/n2.share=c2.pass',
        '--record',
        'nofolder.jsonl',
      ),
      /n2.share cannot be written: the folder no-such-folder does not exist\. Nothing was written; choose another place\./,
    );
    expect(existsSync(join(dir, 'nofolder.jsonl'))).toBe(false);
    expect(existsSync(join(dir, 'n1.share'))).toBe(false);
  });

  it('fewer than K shares', () => {
    expectCleanFailure(
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'initialize',
        '--record',
        'record.jsonl',
        '--share',
        share('c1'),
        '--share',
        share('c2'),
        ...freshClaim(),
        '--out',
        'few.json',
      ),
      /3 different shares are needed to rebuild key "MK-2026"; 2 were given/,
    );
    expect(existsSync(join(dir, 'few.json'))).toBe(false);
  });

  it('two copies of the same share', () => {
    copyFileSync(join(dir, 'c1.share'), join(dir, 'c1-copy.share'));
    expectCleanFailure(
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'initialize',
        '--record',
        'record.jsonl',
        '--share',
        share('c1'),
        '--share',
        'c1-copy.share=c1.pass',
        '--share',
        share('c2'),
        ...freshClaim(),
        '--out',
        'dup.json',
      ),
      /c1-copy.share is share 1 again: two copies of the same share count once/,
    );
  });

  it('shares from different ceremonies', () => {
    ok(
      kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        'Other',
        '--threshold',
        '2',
        '--share',
        'o1.share=c1.pass',
        '--share',
        'o2.share=c2.pass',
        '--record',
        'other.jsonl',
      ),
    );
    expectCleanFailure(
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'initialize',
        '--record',
        'record.jsonl',
        '--share',
        share('c1'),
        '--share',
        share('c2'),
        '--share',
        'o1.share=c1.pass',
        ...freshClaim(),
        '--out',
        'mixed.json',
      ),
      /share file o1.share belongs to another ceremony/,
    );
  });

  it('a corrupted share file and a truncated one', () => {
    const text = readFileSync(join(dir, 'c3.share'), 'utf8');
    const env = JSON.parse(text) as { ciphertext: string };
    const ct = Buffer.from(env.ciphertext, 'base64url');
    ct[5] = ct[5]! ^ 0x40;
    writeFileSync(join(dir, 'bad.share'), text.replace(env.ciphertext, ct.toString('base64url')));
    // Damage: the file's digest no longer matches; it is not called a wrong passphrase.
    expectCleanFailure(
      kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', 'bad.share=c3.pass'),
      /bad.share is damaged: its contents no longer match the digest written with it.*This is not a wrong passphrase/,
    );
    // A deliberate change with a recomputed digest is caught by the authenticated encryption.
    const forged = JSON.parse(text.replace(env.ciphertext, ct.toString('base64url'))) as Record<string, unknown>;
    const { digest: _digest, ...members } = forged;
    forged['digest'] = createHash('sha256').update(canonicalJson(members)).digest('base64url');
    writeFileSync(join(dir, 'forged.share'), JSON.stringify(forged, null, 2) + '\n');
    expectCleanFailure(
      kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', 'forged.share=c3.pass'),
      /forged.share has been altered/,
    );
    writeFileSync(join(dir, 'cut.share'), text.slice(0, 200));
    expectCleanFailure(
      kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', 'cut.share=c3.pass'),
      /cut.share is truncated or corrupted/,
    );
    writeFileSync(join(dir, 'junk.share'), Buffer.from([0xff, 0xfe, 0x00, 0x01]));
    expectCleanFailure(
      kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', 'junk.share=c3.pass'),
      /junk.share is corrupted/,
    );
  });

  it('an output path that exists is never overwritten', () => {
    const before = readFileSync(join(dir, 'alice.id'));
    expectCleanFailure(
      kc(dir, 'identity', 'generate', '--name', 'alice2', '--out', 'alice.id', '--passphrase-file', 'alice.pass'),
      /alice.id already exists; nothing was overwritten/,
    );
    expect(readFileSync(join(dir, 'alice.id')).equals(before)).toBe(true);
    const share1 = readFileSync(join(dir, 'c1.share'));
    expectCleanFailure(
      kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        'Y',
        '--threshold',
        '2',
        '--share',
        share('c1'),
        '--share',
        'fresh.share=c2.pass',
        '--record',
        'y.jsonl',
      ),
      /c1.share already exists/,
    );
    expect(readFileSync(join(dir, 'c1.share')).equals(share1)).toBe(true);
    expect(existsSync(join(dir, 'y.jsonl'))).toBe(false);
    expectCleanFailure(
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'zeroize',
        '--record',
        'record.jsonl',
        ...transportArgs(),
        '--out',
        'bundle1.json',
      ),
      /bundle1.json already exists/,
    );
  });

  it('a bundle with one flipped byte is refused by verify and by the units', () => {
    const text = readFileSync(join(dir, 'bundle1.json'));
    for (const at of [0.1, 0.3, 0.5, 0.7, 0.9]) {
      const copy = Buffer.from(text);
      const i = Math.floor(copy.length * at);
      copy[i] = copy[i]! ^ 0x01;
      writeFileSync(join(dir, 'flipped.json'), copy);
      const v = kc(dir, 'bundle', 'verify', 'flipped.json');
      expectCleanFailure(v, /altered|modified|not valid|does not verify|not canonical|INVALID/);
      const before = unitsOf();
      expect(emu(dir, 'ingest', '--state', 'emu', 'flipped.json').code).not.toBe(0);
      expect(unitsOf()).toEqual(before);
    }
  });

  it('a bundle signed by a stranger', () => {
    passFile(dir, 'mallory.pass', 'mallory passphrase');
    ok(
      kc(dir, 'identity', 'generate', '--name', 'mallory', '--out', 'mallory.id', '--passphrase-file', 'mallory.pass'),
    );
    // A claim names its admins, so signing refuses a stranger outright.
    expectCleanFailure(
      kc(
        dir,
        'bundle',
        'sign',
        'bundle1.json',
        '--record',
        'record.jsonl',
        '--identity',
        'mallory.id',
        '--passphrase-file',
        'mallory.pass',
      ),
      /mallory is not one of the admins this bundle installs/,
    );
    ok(
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'admin-change',
        '--record',
        'record.jsonl',
        ...transportArgs(),
        '--signature-threshold',
        '1',
        '--revocation-threshold',
        '3',
        '--out',
        'bundle3.json',
      ),
    );
    sign('bundle3.json', 'alice', 'bob');
    ok(
      kc(
        dir,
        'bundle',
        'sign',
        'bundle3.json',
        '--record',
        'record.jsonl',
        '--identity',
        'mallory.id',
        '--passphrase-file',
        'mallory.pass',
      ),
    );
    const before = unitsOf();
    expectCleanFailure(emu(dir, 'ingest', '--state', 'emu', 'bundle3.json'), /signature 3 is by an unknown signer/);
    expect(unitsOf()).toEqual(before);
    expect(ok(emu(dir, 'audit', '--state', 'emu', '--unit', before[0]!.id))).toMatch(/UnknownSigner/);
  });

  it('a bundle already applied changes nothing and says so', () => {
    const before = unitsOf();
    expect(ok(emu(dir, 'ingest', '--state', 'emu', 'bundle1.json'))).toMatch(
      /OK \(already applied\) already applied \(sequence 1\)/,
    );
    expect(unitsOf()).toEqual(before);
  });

  it('a bundle for another unit', () => {
    ok(emu(dir, 'init', '--state', 'emu-other', '--units', '2'));
    const before = unitsOf('emu-other');
    expectCleanFailure(
      emu(dir, 'ingest', '--state', 'emu-other', 'bundle1.json'),
      /the bundle is for service instance [0-9a-f-]+, not this one/,
    );
    expect(unitsOf('emu-other')).toEqual(before);
  });

  it('a transport file whose fingerprint does not match', () => {
    const t = JSON.parse(readFileSync(join(dir, transports[0]!), 'utf8')) as { fingerprint: string };
    t.fingerprint = t.fingerprint.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    writeFileSync(join(dir, 'forged.transport.json'), JSON.stringify(t));
    expectCleanFailure(
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'zeroize',
        '--record',
        'record.jsonl',
        '--transport',
        'forged.transport.json',
        '--out',
        'forged.json',
      ),
      /the key's fingerprint is [0-9a-f]{64}, not the [0-9a-f]{64} the file states/,
    );
    expect(existsSync(join(dir, 'forged.json'))).toBe(false);
  });

  it('every command answers -h with its own usage; a reader that stops reading is not an error', () => {
    const mk = kc(dir, 'mk', 'generate', '-h');
    expect(mk.code).toBe(0);
    expect(mk.stdout).toMatch(/^Usage:\n {2}keyceremony mk generate --key-name NAME/);
    expect(mk.stdout).not.toContain('bundle sign');
    const create = ok(kc(dir, 'bundle', 'create', '--help'));
    expect(create).toMatch(/initialize +--share/);
    expect(create).not.toContain('keyceremony card');
    expect(ok(emu(dir, 'ingest', '-h'))).toMatch(/^Usage:\n {2}crypto-unit-emulator ingest --state DIR/);
    const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${KEYCEREMONY}" --help | head -c 10`], {
      encoding: 'utf8',
    });
    expect(piped.stdout).toBe('Usage:\n  k');
    expect(piped.stderr).toBe('');
  });

  it('usage mistakes exit 2 with a hint', () => {
    const r = kc(
      dir,
      'mk',
      'generate',
      '--key-name',
      'Z',
      '--threshold',
      'two',
      '--share',
      'a=b',
      '--record',
      'z.jsonl',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--threshold must be a whole number/);
    expect(kc(dir, 'bundle', 'frobnicate').code).toBe(2);
    expect(kc(dir, 'identity', 'generate', '--name', 'x', '--out', 'x.id', '--passphrase', 'inline').code).toBe(2);
    // A thumbprint (base64url) may begin with "-": the refusal says how to give it.
    const dash = kc(dir, 'bundle', 'create', '--operation', 'admin-change', '--record', 'z.jsonl', '--remove', '-D4zI');
    expect(dash.code).toBe(2);
    expect(dash.stderr).toContain("use '--remove=-XYZ'");
  });
});

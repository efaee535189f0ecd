#!/usr/bin/env node
// A headless rehearsal of a master key's whole life (issues 2 and 8), run
// through the real CLIs exactly as an operator would type them, in a fresh
// workspace: admin identities; an instance of 2 crypto units whose transport
// keys are confirmed against their display; a 3-of-5 master key on files;
// initialize; a data key wrapped by the KMS; rotation to a new key (the data
// key still unwraps); an admin added and one removed; a lock-out refused; a
// unit in maintenance retried alone; the recovery ceremony (mk recover) onto
// a new instance with the keystore, and from the paper report of a "lost"
// record onto a third; zeroize, after which nothing unwraps.
//
// Everything runs in rehearsal mode (issue 11): the instances are made with
// --rehearsal and every bundle with bundle create --rehearsal, so nothing
// made here is accepted by a production unit, and that refusal is
// rehearsed too.
//
//   npm run rehearsal [-- --workspace DIR]
//
// The passphrase files it writes are rehearsal data: random, in the
// workspace, readable only by you. A real ceremony uses a prompt or
// removable media instead.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = fileURLToPath(new URL('.', import.meta.url));
const BINS: Record<string, string> = {
  keyceremony: join(here, 'keyceremony.js'),
  'crypto-unit-emulator': join(here, '../emulator/cli.js'),
};

const { values } = parseArgs({ options: { workspace: { type: 'string' } } });
const ws = values.workspace ? resolve(values.workspace) : mkdtempSync(join(tmpdir(), 'keyceremony-rehearsal-'));
mkdirSync(ws, { recursive: true });

function step(title: string): void {
  process.stdout.write(`\n== ${title}\n`);
}

interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

function exec(show: boolean, bin: string, args: string[]): Ran {
  if (show) process.stdout.write(`$ ${bin} ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [BINS[bin]!, ...args], {
    cwd: ws,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (show) {
    process.stdout.write(r.stdout.replace(/^/gm, '  ').replace(/ {2}$/, ''));
    if (r.status !== 0) process.stdout.write(r.stderr.replace(/^/gm, '  ! ').replace(/ {2}! $/, ''));
  }
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A command that must succeed. */
function sh(bin: string, ...args: string[]): string {
  const r = exec(true, bin, args);
  if (r.status !== 0) throw new Error(`rehearsal stopped: "${bin} ${args[0]} ${args[1] ?? ''}" failed`);
  return r.stdout;
}

/** A command that must be refused with this exit status and these words. */
function refused(status: number, words: RegExp, bin: string, ...args: string[]): void {
  const r = exec(true, bin, args);
  if (r.status !== status || !words.test(r.stderr)) {
    throw new Error(
      `rehearsal stopped: "${bin} ${args[0]} ${args[1] ?? ''}" should have been refused (exit ${status}, ${words}); it exited ${r.status}`,
    );
  }
}

function secretFile(name: string): string {
  writeFileSync(join(ws, name), randomBytes(15).toString('base64url') + '\n', { mode: 0o600 });
  return name;
}

const kc = (...args: string[]): string => sh('keyceremony', ...args);
const emu = (...args: string[]): string => sh('crypto-unit-emulator', ...args);

interface Status {
  units: Array<{
    id: string;
    state: string;
    masterKeyKcv: string | null;
    transportFingerprint: string;
    adminNames: string[];
  }>;
  mismatches: string[];
}
const status = (state: string): Status =>
  JSON.parse(exec(false, 'crypto-unit-emulator', ['status', '--state', state, '--json']).stdout) as Status;

/** Exports the units' transport files afresh (they carry the units' current state) and returns the --transport options. */
function transports(state: string, dir: string): string[] {
  rmSync(join(ws, dir), { recursive: true, force: true });
  emu('transport', '--state', state, '--out-dir', dir);
  return readdirSync(join(ws, dir)).flatMap((f) => ['--transport', `${dir}/${f}`]);
}

/** The operator reads each unit's fingerprint off its display (here: the emulator's status) and confirms it into the record. */
function confirmUnits(state: string, dir: string, record: string): void {
  for (const u of status(state).units) {
    const display = u.transportFingerprint.toUpperCase().match(/.{4}/g)!.join(' ');
    kc(
      'units',
      'confirm',
      '--record',
      record,
      '--transport',
      `${dir}/unit-${u.id}.transport.json`,
      '--fingerprint',
      display,
    );
  }
}

function signBy(bundle: string, record: string, ...admins: string[]): void {
  for (const a of admins)
    kc(
      'bundle',
      'sign',
      bundle,
      '--record',
      record,
      '--identity',
      `admins/${a}.id`,
      '--passphrase-file',
      `secrets/${a}.pass`,
    );
}

function thumbprint(admin: string): string {
  return /^Thumbprint (\S+)$/m.exec(readFileSync(join(ws, `admins/${admin}.thumbprint`), 'utf8'))![1]!;
}

function expectKcvs(state: string, kcv: string | null, what: string): void {
  const s = status(state);
  const good = s.units.every((u) => u.masterKeyKcv === kcv) && s.mismatches.length === 0;
  if (!good)
    throw new Error(
      `rehearsal FAILED at ${what}: units ${s.units.map((u) => `${u.id} ${u.state} ${u.masterKeyKcv}`).join('; ')}; expected KCV ${kcv}`,
    );
}

const admins = ['alice', 'bob', 'carol', 'dave'];
const custodians = ['erin', 'frank', 'grace', 'heidi', 'ivan'];
const share = (c: string): string => `shares/${c}.share=secrets/${c}.pass`;
const newShare = (c: string): string => `shares2/${c}.share=secrets/${c}.pass`;
const kcvOf = (out: string): string => /^KCV ([0-9A-F]{6})$/m.exec(out)![1]!;

try {
  process.stdout.write(`Rehearsal workspace: ${ws}\n`);
  for (const d of ['secrets', 'shares', 'shares2', 'admins']) mkdirSync(join(ws, d), { mode: 0o700 });

  step('1. Admin identities (RSA-2048, encrypted PKCS#8 + X.509)');
  for (const a of admins) {
    secretFile(`secrets/${a}.pass`);
    const out = kc(
      'identity',
      'generate',
      '--name',
      a,
      '--out',
      `admins/${a}.id`,
      '--passphrase-file',
      `secrets/${a}.pass`,
    );
    writeFileSync(join(ws, `admins/${a}.thumbprint`), out);
    kc('identity', 'cert', `admins/${a}.id`, '--out', `admins/${a}.crt`);
  }

  step('2. Crypto units: an instance of 2, and their transport keys');
  emu('init', '--state', 'units', '--units', '2', '--rehearsal');
  let tA = transports('units', 'transport');

  step('3. Master key "rehmk1", split 3-of-5 onto passphrase files, checked against the units\' limits first');
  for (const c of custodians) secretFile(`secrets/${c}.pass`);
  const kcv1 = kcvOf(
    kc(
      'mk',
      'generate',
      '--rehearsal',
      '--key-name',
      'rehmk1',
      '--threshold',
      '3',
      ...custodians.flatMap((c) => ['--share', share(c)]),
      '--record',
      'record.jsonl',
      ...tA,
    ),
  );

  step("4. The operator confirms each unit's transport key against the unit's display, into the record");
  confirmUnits('units', 'transport', 'record.jsonl');

  step('5. Initialize: claim for alice, bob, carol (thresholds 2), load the key from 3 shares; every admin signs');
  kc(
    'bundle',
    'create',
    '--rehearsal',
    '--operation',
    'initialize',
    '--record',
    'record.jsonl',
    '--share',
    share('erin'),
    '--share',
    share('grace'),
    '--share',
    share('ivan'),
    ...tA,
    '--admin',
    'admins/alice.crt',
    '--admin',
    'admins/bob.crt',
    '--admin',
    'admins/carol.crt',
    '--signature-threshold',
    '2',
    '--out',
    'bundle-1-initialize.json',
  );
  signBy('bundle-1-initialize.json', 'record.jsonl', 'alice', 'bob', 'carol');
  kc('bundle', 'verify', 'bundle-1-initialize.json', '--record', 'record.jsonl');
  emu('ingest', '--state', 'units', 'bundle-1-initialize.json');
  expectKcvs('units', kcv1, 'initialize');

  step('6. The key works: a KMS root key, and a data key wrapped under it');
  emu('kms', 'create-root-key', '--state', 'units', '--name', 'payments');
  writeFileSync(join(ws, 'secrets/dek.bin'), randomBytes(32), { mode: 0o600 });
  emu('kms', 'wrap', '--state', 'units', '--root', 'payments', '--in', 'secrets/dek.bin', '--out', 'dek.jwe');

  step(
    '7. Rotation: a new key "rehmk2" with its own record and shares; alice and bob sign; the units keep the old key as "old"',
  );
  tA = transports('units', 'transport');
  const kcv2 = kcvOf(
    kc(
      'mk',
      'generate',
      '--rehearsal',
      '--key-name',
      'rehmk2',
      '--threshold',
      '3',
      ...custodians.flatMap((c) => ['--share', newShare(c)]),
      '--record',
      'record2.jsonl',
      ...tA,
    ),
  );
  confirmUnits('units', 'transport', 'record2.jsonl');
  kc(
    'bundle',
    'create',
    '--rehearsal',
    '--operation',
    'rotate',
    '--record',
    'record2.jsonl',
    '--current-record',
    'record.jsonl',
    '--share',
    newShare('frank'),
    '--share',
    newShare('heidi'),
    '--share',
    newShare('ivan'),
    ...tA,
    '--out',
    'bundle-2-rotate.json',
  );
  signBy('bundle-2-rotate.json', 'record2.jsonl', 'alice', 'bob');
  emu('ingest', '--state', 'units', 'bundle-2-rotate.json');
  expectKcvs('units', kcv2, 'rotate');
  emu('kms', 'unwrap', '--state', 'units', '--in', 'dek.jwe', '--out', 'secrets/dek-after-rotation.bin');
  // The units report the new key current: the old key's record retires it (units report), and from
  // then on its shares are refused, naming the rotation (issue 11, ceremony 4).
  const saveStatus = (state: string, file: string): string => {
    process.stdout.write(`$ crypto-unit-emulator status --state ${state} --json > ${file}\n`);
    writeFileSync(join(ws, file), exec(false, 'crypto-unit-emulator', ['status', '--state', state, '--json']).stdout);
    return file;
  };
  kc(
    'units',
    'report',
    '--record',
    'record.jsonl',
    '--new-record',
    'record2.jsonl',
    '--status',
    saveStatus('units', 'status-after-rotation.json'),
  );
  refused(
    1,
    /retired it when the units of instance \S+ reported the new key current/,
    'keyceremony',
    'share',
    'verify',
    '--record',
    'record.jsonl',
    '--share',
    share('erin'),
  );

  step("8. Admin change: dave joins (signature threshold 2 of the units' admins)");
  tA = transports('units', 'transport');
  kc(
    'bundle',
    'create',
    '--rehearsal',
    '--operation',
    'admin-change',
    '--record',
    'record2.jsonl',
    ...tA,
    '--add',
    'admins/dave.crt',
    '--signature-threshold',
    '2',
    '--revocation-threshold',
    '2',
    '--out',
    'bundle-3-add-dave.json',
  );
  signBy('bundle-3-add-dave.json', 'record2.jsonl', 'bob', 'carol');
  emu('ingest', '--state', 'units', 'bundle-3-add-dave.json');

  step('9. Admin change: alice leaves (the revocation threshold signs)');
  tA = transports('units', 'transport');
  kc(
    'bundle',
    'create',
    '--rehearsal',
    '--operation',
    'admin-change',
    '--record',
    'record2.jsonl',
    ...tA,
    `--remove=${thumbprint('alice')}`,
    '--signature-threshold',
    '2',
    '--revocation-threshold',
    '2',
    '--out',
    'bundle-4-remove-alice.json',
  );
  signBy('bundle-4-remove-alice.json', 'record2.jsonl', 'carol', 'dave');
  emu('ingest', '--state', 'units', 'bundle-4-remove-alice.json');

  // --remove=VALUE: a base64url thumbprint may begin with "-", which would read as an option.
  step('10. A change that would lock the units out is refused before anyone signs');
  tA = transports('units', 'transport');
  refused(
    1,
    /lock/,
    'keyceremony',
    'bundle',
    'create',
    '--rehearsal',
    '--operation',
    'admin-change',
    '--record',
    'record2.jsonl',
    ...tA,
    `--remove=${thumbprint('bob')}`,
    `--remove=${thumbprint('carol')}`,
    '--signature-threshold',
    '2',
    '--revocation-threshold',
    '2',
    '--out',
    'bundle-lockout.json',
  );

  step('11. A unit in maintenance misses a change; status reports the mismatch; the unit is retried alone');
  const [u1, u2] = status('units').units.map((u) => u.id) as [string, string];
  emu('maintenance', '--state', 'units', '--unit', u2, '--on');
  kc(
    'bundle',
    'create',
    '--rehearsal',
    '--operation',
    'admin-change',
    '--record',
    'record2.jsonl',
    ...tA,
    '--signature-threshold',
    '2',
    '--revocation-threshold',
    '3',
    '--out',
    'bundle-5-thresholds.json',
  );
  signBy('bundle-5-thresholds.json', 'record2.jsonl', 'bob', 'dave');
  refused(
    1,
    /applied to 1 of 2 units; retry with --unit/,
    'crypto-unit-emulator',
    'ingest',
    '--state',
    'units',
    'bundle-5-thresholds.json',
  );
  refused(3, /mismatched thresholds/, 'crypto-unit-emulator', 'status', '--state', 'units');
  emu('maintenance', '--state', 'units', '--unit', u2, '--off');
  emu('ingest', '--state', 'units', 'bundle-5-thresholds.json', '--unit', u2);
  emu('ingest', '--state', 'units', 'bundle-5-thresholds.json', '--unit', u1);
  emu('status', '--state', 'units');

  step(
    '12. Recovery ceremony (mk recover) onto a new instance from 3 of the current shares; the KMS keystore moves with it',
  );
  emu('kms', 'export-keystore', '--state', 'units', '--out', 'keystore.json');
  emu('init', '--state', 'units-b', '--units', '2', '--rehearsal');
  const tB = transports('units-b', 'transport-b');
  confirmUnits('units-b', 'transport-b', 'record2.jsonl');
  kc(
    'mk',
    'recover',
    '--rehearsal',
    '--record',
    'record2.jsonl',
    '--share',
    newShare('erin'),
    '--share',
    newShare('grace'),
    '--share',
    newShare('heidi'),
    ...tB,
    '--admin',
    'admins/bob.crt',
    '--admin',
    'admins/carol.crt',
    '--admin',
    'admins/dave.crt',
    '--signature-threshold',
    '2',
    '--out',
    'bundle-6-recover.json',
  );
  signBy('bundle-6-recover.json', 'record2.jsonl', 'bob', 'carol', 'dave');
  emu('ingest', '--state', 'units-b', 'bundle-6-recover.json');
  expectKcvs('units-b', kcv2, 'recover');
  emu('kms', 'import-keystore', '--state', 'units-b', '--in', 'keystore.json');
  emu('kms', 'unwrap', '--state', 'units-b', '--in', 'dek.jwe', '--out', 'secrets/dek-after-recovery.bin');

  step(
    '12b. The record is lost: recovery from its signed paper report (key name, KCV, verification pattern, head hash) onto a third instance, into a new record',
  );
  // What the paper report prints; here read from the record, which is then "lost".
  const head = /^Head hash (.+)$/m.exec(kc('transcript', 'verify', 'record2.jsonl'))![1]!;
  const generated = readFileSync(join(ws, 'record2.jsonl'), 'utf8')
    .split('\n')
    .map((l) => (l ? (JSON.parse(l) as { type: string; data: Record<string, string> }) : null))
    .find((e) => e?.type === 'master-key-generated')!.data;
  emu('init', '--state', 'units-c', '--units', '2', '--rehearsal');
  const tC = transports('units-c', 'transport-c');
  const displays = status('units-c').units.flatMap((u) => [
    '--fingerprint',
    `${u.id}=${u.transportFingerprint.toUpperCase().match(/.{4}/g)!.join(' ')}`,
  ]);
  const paper = (kcv: string, record: string): string[] => [
    'mk',
    'recover',
    '--rehearsal',
    '--new-record',
    record,
    '--key-name',
    'rehmk2',
    '--kcv',
    kcv,
    '--verification-pattern',
    generated['verificationPattern']!,
    '--head',
    head,
    ...displays,
    '--share',
    newShare('frank'),
    '--share',
    newShare('grace'),
    '--share',
    newShare('ivan'),
    ...tC,
    '--admin',
    'admins/bob.crt',
    '--admin',
    'admins/carol.crt',
    '--signature-threshold',
    '2',
    '--out',
    'bundle-6b-recover-paper.json',
  ];
  refused(
    1,
    /^keyceremony: The paper report's KCV is 000000, but /m,
    'keyceremony',
    ...paper('000000', 'record2-paper.jsonl'),
  );
  if (readdirSync(ws).some((f) => f === 'record2-paper.jsonl' || f === 'bundle-6b-recover-paper.json'))
    throw new Error('rehearsal FAILED: a recovery with a mistyped KCV wrote something');
  kc(...paper(kcv2, 'record2-paper.jsonl'));
  signBy('bundle-6b-recover-paper.json', 'record2-paper.jsonl', 'bob', 'carol');
  emu('ingest', '--state', 'units-c', 'bundle-6b-recover-paper.json');
  expectKcvs('units-c', kcv2, 'recover from the paper report');
  kc('share', 'verify', '--record', 'record2-paper.jsonl', '--share', newShare('grace'));
  kc('transcript', 'verify', 'record2-paper.jsonl');

  step('13. Zeroize the old instance: afterwards nothing unwraps there');
  tA = transports('units', 'transport');
  kc(
    'bundle',
    'create',
    '--rehearsal',
    '--operation',
    'zeroize',
    '--record',
    'record2.jsonl',
    ...tA,
    '--out',
    'bundle-7-zeroize.json',
  );
  signBy('bundle-7-zeroize.json', 'record2.jsonl', 'bob', 'carol');
  emu('ingest', '--state', 'units', 'bundle-7-zeroize.json');
  expectKcvs('units', null, 'zeroize');
  refused(
    1,
    /./,
    'crypto-unit-emulator',
    'kms',
    'unwrap',
    '--state',
    'units',
    '--in',
    'dek.jwe',
    '--out',
    'secrets/dek-after-zeroize.bin',
  );
  // record2's key also lives on the instance it was recovered onto: its record does not call it destroyed.
  refused(
    1,
    /also loaded key "rehmk2" onto instance \S+: give that instance's status too/,
    'keyceremony',
    'units',
    'report',
    '--record',
    'record2.jsonl',
    '--status',
    saveStatus('units', 'status-after-zeroize.json'),
  );
  // The paper recovery's record loaded its key onto the third instance only: zeroized, the units report
  // no key, and that record closes with the key destroyed; its shares are refused (issue 11, ceremony 5).
  kc(
    'bundle',
    'create',
    '--rehearsal',
    '--operation',
    'zeroize',
    '--record',
    'record2-paper.jsonl',
    ...transports('units-c', 'transport-c'),
    '--out',
    'bundle-8-zeroize-paper.json',
  );
  signBy('bundle-8-zeroize-paper.json', 'record2-paper.jsonl', 'bob', 'carol');
  emu('ingest', '--state', 'units-c', 'bundle-8-zeroize-paper.json');
  expectKcvs('units-c', null, 'zeroize of the third instance');
  kc('units', 'report', '--record', 'record2-paper.jsonl', '--status', saveStatus('units-c', 'status-c.json'));
  refused(
    1,
    /it was destroyed: the units of instance \S+ reported it zeroized/,
    'keyceremony',
    'share',
    'verify',
    '--record',
    'record2-paper.jsonl',
    '--share',
    newShare('grace'),
  );

  step(
    '14. A rehearsal never reaches production units: bundle create refuses their transport files before anyone signs, and they refuse a rehearsal bundle',
  );
  emu('init', '--state', 'units-prod', '--units', '2');
  const tP = transports('units-prod', 'transport-prod');
  const toProduction =
    /is a production unit \(as its transport file says\), but this bundle would be a rehearsal bundle/;
  const zeroizeProduction = ['--operation', 'zeroize', '--record', 'record2.jsonl', ...tP];
  refused(1, toProduction, 'keyceremony', 'bundle', 'create', '--rehearsal', ...zeroizeProduction, '--out', 'p1.json');
  // Without --rehearsal too: a record whose key lives in a rehearsal makes every bundle of it a rehearsal bundle.
  refused(1, toProduction, 'keyceremony', 'bundle', 'create', ...zeroizeProduction, '--out', 'p2.json');
  refused(
    1,
    /this is a production unit and the bundle is a rehearsal bundle/,
    'crypto-unit-emulator',
    'ingest',
    '--state',
    'units-prod',
    'bundle-6-recover.json',
  );
  const production = status('units-prod');
  if (
    production.units.some((u) => u.state !== 'cleared' || u.masterKeyKcv !== null) ||
    readdirSync(ws).some((f) => /^p[12]\.json$/.test(f))
  )
    throw new Error('rehearsal FAILED: a rehearsal bundle was written for, or changed, a production unit');

  step('15. Checks: a custodian checks a share; the records; the audit log of a unit');
  kc('share', 'verify', '--record', 'record2.jsonl', '--share', newShare('ivan'));
  kc('transcript', 'verify', 'record.jsonl');
  kc('transcript', 'verify', 'record2.jsonl');
  emu('audit', '--state', 'units', '--unit', u2);

  const dek = readFileSync(join(ws, 'secrets/dek.bin'));
  const same = ['secrets/dek-after-rotation.bin', 'secrets/dek-after-recovery.bin'].every((f) =>
    readFileSync(join(ws, f)).equals(dek),
  );
  process.stdout.write(
    same
      ? `\nRehearsal complete: key ${kcv1} initialized, rotated to ${kcv2}, recovered onto a new instance; the data key unwrapped after each; the old instance zeroized.\n`
      : '\nRehearsal FAILED: an unwrapped data key differs from the one wrapped.\n',
  );
  process.exitCode = same ? 0 : 1;
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 1;
}

// keyceremony mk recover (issue 11, ceremony 1) through the built CLI: the
// recovery ceremony from the key's record, and from the paper report of a
// lost record into a new record; every refusal one sentence, exit 1 or 2,
// and nothing written.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { emu, expectCleanFailure, exportAndConfirmUnits, kc, ok, passFile, workdir } from '../support/cli.js';

const dir = workdir('kc-recover-');
const share = (c: string): string => `${c}.share=${c}.pass`;
const shares = (...cs: string[]): string[] => cs.flatMap((c) => ['--share', share(c)]);
const transportArgs = (list: string[]): string[] => list.flatMap((t) => ['--transport', t]);
const claimArgs = ['--admin', 'alice.crt', '--admin', 'bob.crt', '--signature-threshold', '2'];
interface Entry {
  type: string;
  actor: string;
  data: Record<string, unknown>;
}
const entriesOf = (record: string): Entry[] =>
  readFileSync(join(dir, record), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Entry);
const unitsOf = (state: string) =>
  (
    JSON.parse(ok(emu(dir, 'status', '--state', state, '--json'))) as {
      units: Array<{ id: string; state: string; masterKeyKcv: string | null; transportFingerprint: string }>;
    }
  ).units;

let kcv = '';
let transports: string[] = [];

function sign(bundle: string, record: string, ...admins: string[]): void {
  for (const a of admins)
    ok(
      kc(dir, 'bundle', 'sign', bundle, '--record', record, '--identity', `${a}.id`, '--passphrase-file', `${a}.pass`),
    );
}

beforeAll(() => {
  for (const a of ['alice', 'bob']) {
    passFile(dir, `${a}.pass`, `${a} passphrase 2026`);
    ok(kc(dir, 'identity', 'generate', '--name', a, '--out', `${a}.id`, '--passphrase-file', `${a}.pass`));
    ok(kc(dir, 'identity', 'cert', `${a}.id`, '--out', `${a}.crt`));
  }
  for (const c of ['c1', 'c2', 'c3', 'n1', 'n2']) passFile(dir, `${c}.pass`, `custodian ${c} secret`);
  const out = ok(
    kc(
      dir,
      'mk',
      'generate',
      '--key-name',
      'MK-R',
      '--threshold',
      '2',
      ...shares('c1', 'c2', 'c3'),
      '--record',
      'record.jsonl',
    ),
  );
  kcv = /^KCV ([0-9A-F]{6})$/m.exec(out)![1]!;
  ok(emu(dir, 'init', '--state', 'emu', '--units', '2'));
  transports = exportAndConfirmUnits(dir, 'emu', 'transport', 'record.jsonl');
}, 300_000);

const recover = (...args: string[]) =>
  kc(dir, 'mk', 'recover', '--record', 'record.jsonl', ...transportArgs(transports), ...args);

describe('keyceremony mk recover from the record', () => {
  it('answers -h with its usage', () => {
    const help = ok(kc(dir, 'mk', 'recover', '-h'));
    expect(help).toMatch(/^Usage:\n {2}keyceremony mk recover --record RECORD.jsonl --share/);
    expect(help).toContain('keyceremony mk recover --new-record NEW.jsonl --key-name NAME --kcv HEX');
    expect(help).not.toContain('bundle sign');
  });

  it('refuses usage mistakes with exit 2', () => {
    for (const [r, words] of [
      [kc(dir, 'mk', 'recover', ...shares('c1', 'c2'), '--out', 'x.json'), /give --record RECORD/],
      [
        recover(...shares('c1', 'c2'), '--fingerprint', 'u=ab', '--out', 'x.json'),
        /--fingerprint goes with --new-record/,
      ],
      [
        recover(...shares('c1', 'c2'), '--admin', 'alice.crt', '--out', 'x.json'),
        /--admin and --signature-threshold go together/,
      ],
    ] as const) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(words);
    }
  });

  it('refuses K-1 shares, a lock-out, an unconfirmed unit and an existing output, writing nothing', () => {
    ok(emu(dir, 'init', '--state', 'emu-other', '--units', '2'));
    ok(emu(dir, 'transport', '--state', 'emu-other', '--out-dir', 'transport-other'));
    const before = readFileSync(join(dir, 'record.jsonl'));
    const unconfirmed = readdir('transport-other');
    for (const [r, words] of [
      [
        recover(...shares('c1'), ...claimArgs, '--out', 'x.json'),
        /^keyceremony: 2 different shares are needed to rebuild key "MK-R"; 1 was given\.\n$/,
      ],
      [
        recover(...shares('c1', 'c2'), '--admin', 'alice.crt', '--signature-threshold', '2', '--out', 'x.json'),
        /^keyceremony: The claim: the signature threshold 2 is above the 1 admin there would be, .*lock-out, refused/,
      ],
      [
        kc(
          dir,
          'mk',
          'recover',
          '--record',
          'record.jsonl',
          ...transportArgs(unconfirmed),
          ...shares('c1', 'c2'),
          ...claimArgs,
          '--out',
          'x.json',
        ),
        /has not been confirmed against the unit's own display/,
      ],
      [recover(...shares('c1', 'c2'), ...claimArgs, '--out', 'alice.crt'), /alice\.crt already exists/],
    ] as const) {
      expectCleanFailure(r, words);
      expect(r.code).toBe(1);
    }
    expect(readFileSync(join(dir, 'record.jsonl')).equals(before)).toBe(true);
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
  });

  it('with the paper report at hand, refuses a record that does not hold the head hash the report printed', () => {
    const before = readFileSync(join(dir, 'record.jsonl'));
    for (const [head, words] of [
      [
        'ab'.repeat(32),
        /^keyceremony: The record record\.jsonl does not hold the head hash ABAB .* printed on the paper report \(its own head is [0-9A-F ]+\): it is not the record the report describes, or it was cut or rewritten\./,
      ],
      ['12 34', /^keyceremony: The paper report's head hash must be the 64 hex digits printed on the report/],
    ] as const) {
      const r = recover(...shares('c1', 'c2'), ...claimArgs, '--head', head, '--out', 'x.json');
      expectCleanFailure(r, words);
      expect(r.code).toBe(1);
    }
    expect(readFileSync(join(dir, 'record.jsonl')).equals(before)).toBe(true);
  });

  it('a wrong passphrase once the ceremony is open closes it as aborted with the reason', () => {
    passFile(dir, 'wrong.pass', 'not the passphrase');
    const r = recover(...shares('c1'), '--share', 'c2.share=wrong.pass', ...claimArgs, '--out', 'x.json');
    expect(r.code).toBe(1);
    const closing = entriesOf('record.jsonl').at(-1)!;
    expect(closing.type).toBe('ceremony-closed');
    expect(closing.data).toMatchObject({ outcome: 'aborted' });
    expect(r.stderr).toContain(String(closing.data['reason']));
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
  });

  it('runs the ceremony: bundle built and recorded, key wiped, ceremony closed; signed and ingested', () => {
    // The head the key ceremony's report printed (its closing entry); the record has grown since.
    const reportHead = readFileSync(join(dir, 'record.jsonl'), 'utf8')
      .split('\n')
      .map((l) => (l ? (JSON.parse(l) as { type: string; hash: string }) : null))
      .find((e) => e?.type === 'ceremony-closed')!.hash;
    const out = ok(
      recover(
        ...shares('c3', 'c1'),
        ...claimArgs,
        '--out',
        'recover.json',
        '--actor',
        'Olga Operator',
        '--head',
        reportHead.toUpperCase().replace(/(.{4})(?!$)/g, '$1 '),
      ),
    );
    expect(out).toMatch(/^Recovery [0-9a-f-]{36}: key "MK-R" rebuilt from shares 3, 1 and checked/m);
    const payload = /^ {2}Payload SHA-256: ([0-9a-f]{64})$/m.exec(out)![1]!;
    expect(out).toContain(`Next: every one of the 2 admins the claim installs signs it (payload SHA-256 ${payload}):`);
    const entries = entriesOf('record.jsonl');
    const recovery = entries.slice(entries.map((e) => e.data['kind']).lastIndexOf('recovery'));
    expect(recovery.map((e) => e.type)).toEqual([
      'ceremony-opened',
      'bundle-created',
      'master-key-wiped',
      'ceremony-closed',
    ]);
    expect(recovery.every((e) => e.actor === 'Olga Operator')).toBe(true);
    sign('recover.json', 'record.jsonl', 'alice', 'bob');
    ok(emu(dir, 'ingest', '--state', 'emu', 'recover.json'));
    expect(unitsOf('emu').map((u) => u.masterKeyKcv)).toEqual([kcv, kcv]);
    ok(kc(dir, 'transcript', 'verify', 'record.jsonl'));
  });
});

function readdir(sub: string): string[] {
  return readdirSync(join(dir, sub)).map((f) => join(sub, f));
}

describe('keyceremony mk recover from the paper report of a lost record', () => {
  let paper: string[] = [];
  let paperTransports: string[] = [];
  beforeAll(() => {
    const entries = entriesOf('record.jsonl');
    const head = /^Head hash (.+)$/m.exec(ok(kc(dir, 'transcript', 'verify', 'record.jsonl')))![1]!;
    const vp = String(entries.find((e) => e.type === 'master-key-generated')!.data['verificationPattern']);
    ok(emu(dir, 'init', '--state', 'emu-p', '--units', '2'));
    ok(emu(dir, 'transport', '--state', 'emu-p', '--out-dir', 'transport-p'));
    paperTransports = readdir('transport-p');
    const fingerprints = unitsOf('emu-p').flatMap((u) => ['--fingerprint', `${u.id}=${u.transportFingerprint}`]);
    paper = [
      '--key-name',
      'MK-R',
      '--verification-pattern',
      vp,
      '--head',
      head,
      ...fingerprints,
      ...transportArgs(paperTransports),
      ...claimArgs,
    ];
  });
  const fromPaper = (record: string, kcvTyped: string, ...more: string[]) =>
    kc(dir, 'mk', 'recover', '--new-record', record, '--kcv', kcvTyped, ...paper, ...more);

  it('refuses a mistyped KCV (naming both), a head that is not a hash, a fingerprint given twice, a share of another key, K-1 shares, an existing record, writing nothing', () => {
    ok(
      kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        'OTHER',
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
    const [u] = unitsOf('emu-p');
    for (const [r, words] of [
      [
        fromPaper('r2.jsonl', '000000', ...shares('c1', 'c2'), '--out', 'p.json'),
        new RegExp(
          `^keyceremony: The paper report's KCV is 000000, but share file c1\\.share is a share of key "MK-R" with KCV ${kcv}: `,
        ),
      ],
      [
        fromPaper('r2.jsonl', kcv, ...shares('c1', 'c2'), '--head', '1234', '--out', 'p.json'),
        /^keyceremony: The lost record's head hash must be the 64 hex digits printed on the report/,
      ],
      [
        fromPaper(
          'r2.jsonl',
          kcv,
          ...shares('c1', 'c2'),
          '--fingerprint',
          `${u!.id}=${'0'.repeat(64)}`,
          '--out',
          'p.json',
        ),
        /--fingerprint names unit .* twice/,
      ],
      [
        fromPaper('r2.jsonl', kcv, ...shares('c1'), '--share', 'o1.share=c1.pass', '--out', 'p.json'),
        /share file o1\.share belongs to another ceremony/,
      ],
      [
        fromPaper('r2.jsonl', kcv, ...shares('c1'), '--out', 'p.json'),
        /2 different shares are needed to rebuild key "MK-R"; 1 was given\./,
      ],
      [fromPaper('record.jsonl', kcv, ...shares('c1', 'c2'), '--out', 'p.json'), /record\.jsonl already exists/],
    ] as const) {
      expectCleanFailure(r, words);
    }
    expect(existsSync(join(dir, 'r2.jsonl'))).toBe(false);
    expect(existsSync(join(dir, 'p.json'))).toBe(false);
  });

  it('refuses a unit whose display shows another key than its transport file', () => {
    const [u1] = unitsOf('emu-p');
    const typo = paper.map((a) => (a.startsWith(`${u1!.id}=`) ? `${u1!.id}=${'ab'.repeat(32)}` : a));
    const r = kc(
      dir,
      'mk',
      'recover',
      '--new-record',
      'r2.jsonl',
      '--kcv',
      kcv,
      ...typo,
      ...shares('c1', 'c2'),
      '--out',
      'p.json',
    );
    expectCleanFailure(
      r,
      new RegExp(
        `^keyceremony: Unit ${u1!.id}: the transport file's key has fingerprint .*, but the unit displays ABAB`,
      ),
    );
    expect(existsSync(join(dir, 'r2.jsonl'))).toBe(false);
  });

  it('recovers into a new record, which later ceremonies use', () => {
    const out = ok(fromPaper('r2.jsonl', kcv.toLowerCase(), ...shares('c2', 'c3'), '--out', 'p.json'));
    expect(out).toMatch(
      /^New record r2\.jsonl: the key's record from now on \(key ceremony [0-9a-f-]{36}\); it knows shares 2, 3 only\.$/m,
    );
    expect(entriesOf('r2.jsonl').map((e) => e.type)).toEqual([
      'ceremony-opened',
      'unit-confirmed',
      'unit-confirmed',
      'key-recovered-from-paper',
      'bundle-created',
      'master-key-wiped',
      'ceremony-closed',
    ]);
    sign('p.json', 'r2.jsonl', 'alice', 'bob');
    ok(emu(dir, 'ingest', '--state', 'emu-p', 'p.json'));
    expect(unitsOf('emu-p').map((u) => u.masterKeyKcv)).toEqual([kcv, kcv]);
    ok(kc(dir, 'share', 'verify', '--record', 'r2.jsonl', '--share', share('c3')));
    expectCleanFailure(
      kc(dir, 'share', 'verify', '--record', 'r2.jsonl', '--share', share('c1')),
      /claims to be share 1, which this record does not know: .* only shares 2, 3 were presented/,
    );
    // A re-share from the new record, after which the retired shares are refused by name.
    ok(
      kc(
        dir,
        'mk',
        'reshare',
        '--record',
        'r2.jsonl',
        ...shares('c2', 'c3'),
        '--threshold',
        '2',
        '--new-share',
        share('n1'),
        '--new-share',
        share('n2'),
      ),
    );
    ok(emu(dir, 'init', '--state', 'emu-q', '--units', '2'));
    const q = exportAndConfirmUnits(dir, 'emu-q', 'transport-q', 'r2.jsonl');
    expectCleanFailure(
      kc(
        dir,
        'mk',
        'recover',
        '--record',
        'r2.jsonl',
        ...transportArgs(q),
        ...shares('c2', 'n1'),
        ...claimArgs,
        '--out',
        'q.json',
      ),
      /share file c2\.share is share 2 of ceremony .*, which the re-share .* retired/,
    );
    ok(kc(dir, 'transcript', 'verify', 'r2.jsonl'));
  });
});

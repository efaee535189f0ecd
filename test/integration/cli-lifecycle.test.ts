// The end of a key's life through the real CLIs (issue 11, ceremonies 4 and
// 5): after a rotation the units report the new key current and `units
// report` retires the old key in its record; after zeroize they report no
// key and it records the key destroyed. Every later use of the record's
// shares is refused naming what ended the key; a status that does not show
// what the record expects is refused naming the unit, and nothing is written.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { emu, expectCleanFailure, exportAndConfirmUnits, kc, ok, passFile, workdir } from '../support/cli.js';

const dir = workdir('kc-lifecycle-');
const ADMINS = ['alice', 'bob'];
let kcv1 = '';
let kcv2 = '';
let units: string[] = [];

const share1 = (c: string): string => `${c}.share=${c}.pass`;
const share2 = (c: string): string => `${c}-2.share=${c}.pass`;
const transportArgs = (list: string[]): string[] => list.flatMap((t) => ['--transport', t]);
const record = (name: string): string => readFileSync(join(dir, name), 'utf8');
const lastEntry = (name: string): { type: string; data: Record<string, unknown> } =>
  JSON.parse(record(name).trim().split('\n').at(-1)!) as { type: string; data: Record<string, unknown> };

/** The units' status as they export it, written to a file for units report. */
function statusFile(state: string, name: string): string {
  writeFileSync(join(dir, name), emu(dir, 'status', '--state', state, '--json').stdout);
  return name;
}

function sign(bundle: string, rec: string): void {
  for (const a of ADMINS)
    ok(kc(dir, 'bundle', 'sign', bundle, '--record', rec, '--identity', `${a}.id`, '--passphrase-file', `${a}.pass`));
}

function generate(keyName: string, rec: string, share: (c: string) => string): string {
  const out = ok(
    kc(
      dir,
      'mk',
      'generate',
      '--key-name',
      keyName,
      '--threshold',
      '2',
      ...['c1', 'c2', 'c3'].flatMap((c) => ['--share', share(c)]),
      '--record',
      rec,
    ),
  );
  return /^KCV ([0-9A-F]{6})$/m.exec(out)![1]!;
}

/** units report that must be refused with these words, leaving the record as it was. */
function refusedReport(rec: string, words: RegExp, ...args: string[]): void {
  const before = record(rec);
  expectCleanFailure(kc(dir, 'units', 'report', '--record', rec, ...args), words);
  expect(record(rec)).toBe(before);
}

beforeAll(() => {
  for (const a of ADMINS) {
    passFile(dir, `${a}.pass`, `${a} passphrase 2026`);
    ok(kc(dir, 'identity', 'generate', '--name', a, '--out', `${a}.id`, '--passphrase-file', `${a}.pass`));
    ok(kc(dir, 'identity', 'cert', `${a}.id`, '--out', `${a}.crt`));
  }
  for (const c of ['c1', 'c2', 'c3']) passFile(dir, `${c}.pass`, `custodian ${c} secret`);
  ok(emu(dir, 'init', '--state', 'emu', '--units', '2'));
  kcv1 = generate('MK1', 'record1.jsonl', share1);
  const t = exportAndConfirmUnits(dir, 'emu', 'transport', 'record1.jsonl');
  ok(
    kc(
      dir,
      'bundle',
      'create',
      '--operation',
      'initialize',
      '--record',
      'record1.jsonl',
      '--share',
      share1('c1'),
      '--share',
      share1('c2'),
      ...transportArgs(t),
      ...ADMINS.flatMap((a) => ['--admin', `${a}.crt`]),
      '--signature-threshold',
      '2',
      '--out',
      'b1-initialize.json',
    ),
  );
  sign('b1-initialize.json', 'record1.jsonl');
  ok(emu(dir, 'ingest', '--state', 'emu', 'b1-initialize.json'));
  units = (
    JSON.parse(ok(emu(dir, 'status', '--state', 'emu', '--json'))) as { units: Array<{ id: string }> }
  ).units.map((u) => u.id);
  // The rotation: a new key in its own record, its rotate bundle signed; not ingested yet.
  kcv2 = generate('MK2', 'record2.jsonl', share2);
  const t2 = exportAndConfirmUnits(dir, 'emu', 'transport2', 'record2.jsonl');
  ok(
    kc(
      dir,
      'bundle',
      'create',
      '--operation',
      'rotate',
      '--record',
      'record2.jsonl',
      '--current-record',
      'record1.jsonl',
      '--share',
      share2('c2'),
      '--share',
      share2('c3'),
      ...transportArgs(t2),
      '--out',
      'b2-rotate.json',
    ),
  );
  sign('b2-rotate.json', 'record2.jsonl');
  ok(emu(dir, 'init', '--state', 'emu-other', '--units', '2'));
}, 300_000);

describe('rotation: the old key is retired once the units report the new key current', () => {
  it('is refused while the units still hold the old key, naming the unit and what it reports', () => {
    const s = statusFile('emu', 'status-before.json');
    refusedReport(
      'record1.jsonl',
      new RegExp(
        `Unit ${units[0]} of instance \\S+ still holds key "MK1" \\(KCV ${kcv1}\\) of record1\\.jsonl current \\(state kms-initialized, current key ${kcv1} .*ingest the rotate bundle on it .*Nothing was written\\.`,
      ),
      '--new-record',
      'record2.jsonl',
      '--status',
      s,
    );
    // Without --new-record the units' key is not a destroyed one.
    refusedReport(
      'record1.jsonl',
      /holds key [0-9A-F]{6} current .* holds no zeroize bundle for that instance\. If a rotation replaced key "MK1" there, give the rotation's record \(--new-record\)/,
      '--status',
      s,
    );
  });

  it('is refused when one unit missed the rotate bundle', () => {
    ok(emu(dir, 'ingest', '--state', 'emu', 'b2-rotate.json', '--unit', units[0]!));
    refusedReport(
      'record1.jsonl',
      new RegExp(`Unit ${units[1]} of instance \\S+ still holds key "MK1"`),
      '--new-record',
      'record2.jsonl',
      '--status',
      statusFile('emu', 'status-half.json'),
    );
    ok(emu(dir, 'ingest', '--state', 'emu', 'b2-rotate.json', '--unit', units[1]!));
  });

  it('is refused for a status of another instance, and for a status that leaves a unit out', () => {
    refusedReport(
      'record1.jsonl',
      /The status status-other\.json is of instance \S+, onto which record1\.jsonl never loaded its key/,
      '--new-record',
      'record2.jsonl',
      '--status',
      statusFile('emu-other', 'status-other.json'),
    );
    const s = JSON.parse(readFileSync(join(dir, statusFile('emu', 'status-after.json')), 'utf8')) as {
      units: unknown[];
    };
    s.units = s.units.slice(0, 1);
    writeFileSync(join(dir, 'status-one-unit.json'), JSON.stringify(s));
    refusedReport(
      'record1.jsonl',
      new RegExp(`does not list unit ${units[1]}, a target of the rotate bundle`),
      '--new-record',
      'record2.jsonl',
      '--status',
      'status-one-unit.json',
    );
  });

  it('refuses a status file that is not exactly what the units export', () => {
    const s = JSON.parse(record('status-after.json')) as Record<string, unknown>;
    writeFileSync(join(dir, 'status-extra.json'), JSON.stringify({ ...s, note: 'edited' }));
    refusedReport(
      'record1.jsonl',
      /The status status-extra\.json is not a units' status this tool reads \(the status does not have exactly the members/,
      '--new-record',
      'record2.jsonl',
      '--status',
      'status-extra.json',
    );
  });

  it('records key-retired, and every later use of the old shares is refused naming the rotation', () => {
    const out = ok(
      kc(
        dir,
        'units',
        'report',
        '--record',
        'record1.jsonl',
        '--new-record',
        'record2.jsonl',
        '--status',
        'status-after.json',
        '--actor',
        'Olga Operator',
      ),
    );
    expect(out).toMatch(
      new RegExp(`Key "MK1" \\(KCV ${kcv1}\\) is retired: the rotation to key "MK2" \\(KCV ${kcv2}, ceremony \\S+\\)`),
    );
    expect(out).toMatch(/Recorded as entry \d+ \(key-retired\) of record1\.jsonl/);
    const e = lastEntry('record1.jsonl');
    expect(e.type).toBe('key-retired');
    expect(e.data).toMatchObject({ rotationKeyName: 'MK2', newKcv: kcv2 });
    const instances = e.data['instances'] as Array<{ bundleHash: string; units: Array<Record<string, unknown>> }>;
    expect(instances).toHaveLength(1);
    expect(instances[0]!.bundleHash).toMatch(/^[0-9a-f]{64}$/);
    expect(instances[0]!.units.map((u) => [u['unitId'], u['currentKcv'], u['oldKcv']])).toEqual(
      units.map((u) => [u, kcv2, kcv1]),
    );
    ok(kc(dir, 'transcript', 'verify', 'record1.jsonl'));
    ok(kc(dir, 'transcript', 'report', 'record1.jsonl', '--out', 'report1.html'));
    expect(record('report1.html')).toMatch(
      new RegExp(
        `End of the key.*Retired: the units reported key &quot;MK2&quot; \\(KCV ${kcv2}\\) current after its rotation`,
        's',
      ),
    );
    // No share of an ended key is called one that rebuilds it.
    expect(record('report1.html')).toMatch(/Last set: 2 of 3\..*the key was retired by a rotation/s);
    expect(record('report1.html')).not.toMatch(/shares marked Current rebuild the key/);

    const retired =
      /share file c1\.share is share 1 of key "MK1" \(KCV [0-9A-F]{6}\), and the rotation to key "MK2" \(KCV [0-9A-F]{6}, ceremony \S+\) retired it when the units of instance \S+ reported the new key current \(record line \d+/;
    expectCleanFailure(kc(dir, 'share', 'verify', '--record', 'record1.jsonl', '--share', share1('c1')), retired);
    expectCleanFailure(
      kc(
        dir,
        'mk',
        'reshare',
        '--record',
        'record1.jsonl',
        '--share',
        share1('c1'),
        '--share',
        share1('c2'),
        '--threshold',
        '2',
        '--new-share',
        'n1.share=c1.pass',
        '--new-share',
        'n2.share=c2.pass',
      ),
      retired,
    );
    expectCleanFailure(
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'zeroize',
        '--record',
        'record1.jsonl',
        ...transportArgs(exportAndConfirmUnits(dir, 'emu', 'transport3', 'record1.jsonl')),
        '--out',
        'old-zeroize.json',
      ),
      /The record record1\.jsonl holds key "MK1" .* no bundle is built for it any more; use the record of key "MK2"\. Nothing was written\./,
    );
    refusedReport(
      'record1.jsonl',
      /record1\.jsonl already records the end of key "MK1": the rotation to key "MK2"/,
      '--new-record',
      'record2.jsonl',
      '--status',
      'status-after.json',
    );
    // The new key's shares are its own record's, untouched.
    ok(kc(dir, 'share', 'verify', '--record', 'record2.jsonl', '--share', share2('c1')));
  });
});

describe('zeroize: the key is destroyed once every unit reports no key', () => {
  beforeAll(() => {
    ok(
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'zeroize',
        '--record',
        'record2.jsonl',
        ...transportArgs(exportAndConfirmUnits(dir, 'emu', 'transport4', 'record2.jsonl')),
        '--out',
        'b3-zeroize.json',
      ),
    );
    sign('b3-zeroize.json', 'record2.jsonl');
  }, 120_000);

  it('is refused while a unit still holds the key', () => {
    ok(emu(dir, 'ingest', '--state', 'emu', 'b3-zeroize.json', '--unit', units[1]!));
    refusedReport(
      'record2.jsonl',
      new RegExp(
        `Unit ${units[0]} of instance \\S+ is not zeroized: it reports state kms-initialized, current key ${kcv2} .*Ingest the zeroize bundle \\(sequence 3\\) on it`,
      ),
      '--status',
      statusFile('emu', 'status-z-half.json'),
    );
  });

  it('records key-destroyed, and every later use of the record is refused naming the destruction', () => {
    ok(emu(dir, 'ingest', '--state', 'emu', 'b3-zeroize.json', '--unit', units[0]!));
    const out = ok(
      kc(dir, 'units', 'report', '--record', 'record2.jsonl', '--status', statusFile('emu', 'status-z.json')),
    );
    expect(out).toMatch(new RegExp(`Key "MK2" \\(KCV ${kcv2}\\) is destroyed`));
    const e = lastEntry('record2.jsonl');
    expect(e.type).toBe('key-destroyed');
    expect(e.data).toMatchObject({ kcv: kcv2 });
    const instances = e.data['instances'] as Array<{ bundleSequence: number; units: Array<Record<string, unknown>> }>;
    expect(instances[0]!.bundleSequence).toBe(3);
    expect(instances[0]!.units.map((u) => [u['state'], u['currentKcv'], u['oldKcv']])).toEqual([
      ['cleared', null, null],
      ['cleared', null, null],
    ]);
    ok(kc(dir, 'transcript', 'verify', 'record2.jsonl'));
    ok(kc(dir, 'transcript', 'report', 'record2.jsonl', '--out', 'report2.html'));
    expect(record('report2.html')).toMatch(
      /End of the key.*Destroyed: the units of every instance it was loaded onto reported it zeroized/s,
    );
    expectCleanFailure(
      kc(dir, 'share', 'verify', '--record', 'record2.jsonl', '--share', share2('c3')),
      /share 3 of key "MK2" \(KCV [0-9A-F]{6}\), and it was destroyed: the units of instance \S+ reported it zeroized \(record line \d+, .*\): it can no longer be used; destroy it\./,
    );
    expectCleanFailure(
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'zeroize',
        '--record',
        'record2.jsonl',
        ...transportArgs(exportAndConfirmUnits(dir, 'emu', 'transport5', 'record2.jsonl')),
        '--out',
        'again.json',
      ),
      /holds key "MK2" .* it was destroyed: .* no bundle is built for it any more\. Nothing was written\./,
    );
  });
});

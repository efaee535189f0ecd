// The headless rehearsal of issue 2, through the real CLIs as a user runs
// them: 3 admins (signature threshold 2), a 3-of-5 master key on files, an
// instance of 2 units. Then every bad input of the issue, each failing with
// one plain sentence and changing nothing.
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { emu, expectCleanFailure, kc, ok, passFile, workdir } from '../support/cli.js';

const dir = workdir('kc-rehearsal-');
const ADMINS = ['alice', 'bob', 'carol'];
const CUSTODIANS = ['c1', 'c2', 'c3', 'c4', 'c5'];
let kcv = '';
let transports: string[] = [];

const share = (c: string): string => `${c}.share=${c}.pass`;
const transportArgs = (): string[] => transports.flatMap((t) => ['--transport', t]);
const emulatorState = (): string => readFileSync(join(dir, 'emu/instance.json'), 'utf8');
interface Status { units: Array<{ id: string; state: string; masterKeyKcv: string | null; adminThumbprints: string[]; signatureThreshold: number; lastSequence: number }> }
const status = (): Status => JSON.parse(ok(emu(dir, 'status', '--state', 'emu', '--json'))) as Status;

beforeAll(() => {
  for (const a of ADMINS) {
    passFile(dir, `${a}.pass`, `${a} passphrase 2026`);
    ok(kc(dir, 'identity', 'generate', '--name', a, '--out', `${a}.id`, '--passphrase-file', `${a}.pass`));
    ok(kc(dir, 'identity', 'cert', `${a}.id`, '--out', `${a}.crt`));
  }
  for (const c of CUSTODIANS) passFile(dir, `${c}.pass`, `custodian ${c} secret`);
  const out = ok(kc(dir, 'mk', 'generate', '--key-name', 'MK-2026', '--threshold', '3', ...CUSTODIANS.flatMap((c) => ['--share', share(c)]), '--record', 'record.jsonl'));
  kcv = /^KCV ([0-9A-F]{6})$/m.exec(out)![1]!;
  ok(emu(dir, 'init', '--state', 'emu', '--units', '2'));
  ok(emu(dir, 'transport', '--state', 'emu', '--out-dir', 'transport'));
  transports = readdirSync(join(dir, 'transport')).map((f) => join('transport', f));
  ok(kc(dir, 'bundle', 'create', '--record', 'record.jsonl', '--share', share('c1'), '--share', share('c3'), '--share', share('c5'),
    ...transportArgs(), ...ADMINS.flatMap((a) => ['--admin', `${a}.crt`]), '--signature-threshold', '2', '--out', 'bundle1.json'));
  for (const a of ADMINS) ok(kc(dir, 'bundle', 'sign', 'bundle1.json', '--identity', `${a}.id`, '--passphrase-file', `${a}.pass`));
  ok(emu(dir, 'ingest', '--state', 'emu', 'bundle1.json'));
}, 300_000);

describe('headless rehearsal', () => {
  it('ends with both units kms-initialized holding the KCV that mk generate printed', () => {
    const s = status();
    expect(s.units).toHaveLength(2);
    for (const u of s.units) {
      expect(u).toMatchObject({ state: 'kms-initialized', masterKeyKcv: kcv, signatureThreshold: 2, lastSequence: 1 });
      expect(u.adminThumbprints).toHaveLength(3);
    }
  });

  it('bundle verify and transcript verify agree', () => {
    const v = ok(kc(dir, 'bundle', 'verify', 'bundle1.json'));
    expect(v).toContain(`KCV ${kcv}`);
    expect(v).toMatch(/Signature 3: carol .* valid/);
    expect(v).toContain('Every admin the claim installs has signed.');
    expect(ok(kc(dir, 'transcript', 'verify', 'record.jsonl'))).toMatch(/OK: 9 entries, hash chain intact/);
  });

  it('a custodian checks a share against the record', () => {
    const v = ok(kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', share('c4')));
    expect(v).toMatch(/share 4 of 5 \(threshold 3\) of key "MK-2026"/);
    expect(v).toContain('issued to c4');
  });

  it('a second bundle for the same units is refused with 1 signature and accepted with 2', () => {
    ok(kc(dir, 'bundle', 'create', '--record', 'record.jsonl', '--share', share('c2'), '--share', share('c4'), '--share', share('c5'), ...transportArgs(), '--out', 'bundle2.json'));
    ok(kc(dir, 'bundle', 'sign', 'bundle2.json', '--identity', 'bob.id', '--passphrase-file', 'bob.pass'));
    const before = emulatorState();
    const one = emu(dir, 'ingest', '--state', 'emu', 'bundle2.json');
    expectCleanFailure(one, /too few signatures: 1 valid, the unit requires 2 of its 3 admins/);
    expect(emulatorState()).toBe(before);
    ok(kc(dir, 'bundle', 'sign', 'bundle2.json', '--identity', 'carol.id', '--passphrase-file', 'carol.pass'));
    ok(emu(dir, 'ingest', '--state', 'emu', 'bundle2.json'));
    expect(status().units.map((u) => [u.state, u.masterKeyKcv, u.lastSequence])).toEqual([
      ['kms-initialized', kcv, 2],
      ['kms-initialized', kcv, 2],
    ]);
  });
});

describe('bad input fails cleanly and loses nothing', () => {
  it('wrong passphrase for a share and for an identity', () => {
    passFile(dir, 'wrong.pass', 'not the right one');
    expectCleanFailure(kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', 'c1.share=wrong.pass'), /Wrong passphrase for share file c1.share/);
    expectCleanFailure(kc(dir, 'bundle', 'sign', 'bundle1.json', '--identity', 'alice.id', '--passphrase-file', 'wrong.pass'), /Wrong passphrase for the identity file alice.id/);
  });

  it('passphrase too short, before anything is written', () => {
    passFile(dir, 'short.pass', '12345');
    expectCleanFailure(kc(dir, 'identity', 'generate', '--name', 'dave', '--out', 'dave.id', '--passphrase-file', 'short.pass'), /too short: it has 5 characters and needs at least 6/);
    expect(existsSync(join(dir, 'dave.id'))).toBe(false);
    expectCleanFailure(
      kc(dir, 'mk', 'generate', '--key-name', 'X', '--threshold', '2', '--share', 'n1.share=c1.pass', '--share', 'n2.share=short.pass', '--record', 'short.jsonl'),
      /too short/,
    );
    // The first share's file was not left behind either: passphrases are checked before the key exists.
    expect(existsSync(join(dir, 'n1.share'))).toBe(false);
  });

  it('fewer than K shares', () => {
    expectCleanFailure(
      kc(dir, 'bundle', 'create', '--record', 'record.jsonl', '--share', share('c1'), '--share', share('c2'), ...transportArgs(), '--out', 'few.json'),
      /3 different shares are needed to rebuild key "MK-2026"; 2 were given/,
    );
    expect(existsSync(join(dir, 'few.json'))).toBe(false);
  });

  it('two copies of the same share', () => {
    copyFileSync(join(dir, 'c1.share'), join(dir, 'c1-copy.share'));
    expectCleanFailure(
      kc(dir, 'bundle', 'create', '--record', 'record.jsonl', '--share', share('c1'), '--share', 'c1-copy.share=c1.pass', '--share', share('c2'), ...transportArgs(), '--out', 'dup.json'),
      /c1-copy.share is share 1 again: two copies of the same share count once/,
    );
  });

  it('shares from different ceremonies', () => {
    ok(kc(dir, 'mk', 'generate', '--key-name', 'Other', '--threshold', '2', '--share', 'o1.share=c1.pass', '--share', 'o2.share=c2.pass', '--record', 'other.jsonl'));
    expectCleanFailure(
      kc(dir, 'bundle', 'create', '--record', 'record.jsonl', '--share', share('c1'), '--share', share('c2'), '--share', 'o1.share=c1.pass', ...transportArgs(), '--out', 'mixed.json'),
      /share file o1.share belongs to another ceremony/,
    );
  });

  it('a corrupted share file and a truncated one', () => {
    const text = readFileSync(join(dir, 'c3.share'), 'utf8');
    const env = JSON.parse(text) as { ciphertext: string };
    const ct = Buffer.from(env.ciphertext, 'base64url');
    ct[5] = ct[5]! ^ 0x40;
    writeFileSync(join(dir, 'bad.share'), text.replace(env.ciphertext, ct.toString('base64url')));
    expectCleanFailure(kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', 'bad.share=c3.pass'), /bad.share has been altered/);
    writeFileSync(join(dir, 'cut.share'), text.slice(0, 200));
    expectCleanFailure(kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', 'cut.share=c3.pass'), /cut.share is truncated or corrupted/);
    writeFileSync(join(dir, 'junk.share'), Buffer.from([0xff, 0xfe, 0x00, 0x01]));
    expectCleanFailure(kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', 'junk.share=c3.pass'), /junk.share is corrupted/);
  });

  it('an output path that exists is never overwritten', () => {
    const before = readFileSync(join(dir, 'alice.id'));
    expectCleanFailure(kc(dir, 'identity', 'generate', '--name', 'alice2', '--out', 'alice.id', '--passphrase-file', 'alice.pass'), /alice.id already exists; nothing was overwritten/);
    expect(readFileSync(join(dir, 'alice.id')).equals(before)).toBe(true);
    const share1 = readFileSync(join(dir, 'c1.share'));
    expectCleanFailure(
      kc(dir, 'mk', 'generate', '--key-name', 'Y', '--threshold', '2', '--share', share('c1'), '--share', 'fresh.share=c2.pass', '--record', 'y.jsonl'),
      /c1.share already exists/,
    );
    expect(readFileSync(join(dir, 'c1.share')).equals(share1)).toBe(true);
    expect(existsSync(join(dir, 'y.jsonl'))).toBe(false);
    expectCleanFailure(kc(dir, 'bundle', 'create', '--record', 'record.jsonl', '--share', share('c1'), '--share', share('c2'), '--share', share('c3'), ...transportArgs(), '--out', 'bundle1.json'), /bundle1.json already exists/);
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
      const before = emulatorState();
      expect(emu(dir, 'ingest', '--state', 'emu', 'flipped.json').code).not.toBe(0);
      expect(emulatorState()).toBe(before);
    }
  });

  it('a bundle signed by a stranger', () => {
    passFile(dir, 'mallory.pass', 'mallory passphrase');
    ok(kc(dir, 'identity', 'generate', '--name', 'mallory', '--out', 'mallory.id', '--passphrase-file', 'mallory.pass'));
    // A claim names its admins, so signing refuses a stranger outright.
    expectCleanFailure(kc(dir, 'bundle', 'sign', 'bundle1.json', '--identity', 'mallory.id', '--passphrase-file', 'mallory.pass'), /mallory is not one of the admins this bundle installs/);
    ok(kc(dir, 'bundle', 'create', '--record', 'record.jsonl', '--share', share('c1'), '--share', share('c2'), '--share', share('c3'), ...transportArgs(), '--out', 'bundle3.json'));
    for (const a of ['alice', 'bob', 'mallory']) ok(kc(dir, 'bundle', 'sign', 'bundle3.json', '--identity', `${a}.id`, '--passphrase-file', `${a}.pass`));
    const before = emulatorState();
    expectCleanFailure(emu(dir, 'ingest', '--state', 'emu', 'bundle3.json'), /signature 3 is by an unknown signer/);
    expect(emulatorState()).toBe(before);
  });

  it('a replayed bundle', () => {
    const before = emulatorState();
    expectCleanFailure(emu(dir, 'ingest', '--state', 'emu', 'bundle1.json'), /already applied to this unit/);
    expect(emulatorState()).toBe(before);
  });

  it('a bundle for another unit', () => {
    ok(emu(dir, 'init', '--state', 'emu-other', '--units', '2'));
    const before = readFileSync(join(dir, 'emu-other/instance.json'), 'utf8');
    expectCleanFailure(emu(dir, 'ingest', '--state', 'emu-other', 'bundle1.json'), /none of which belong to this instance/);
    expect(readFileSync(join(dir, 'emu-other/instance.json'), 'utf8')).toBe(before);
  });

  it('a transport file whose fingerprint does not match', () => {
    const t = JSON.parse(readFileSync(join(dir, transports[0]!), 'utf8')) as { fingerprint: string };
    t.fingerprint = t.fingerprint.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    writeFileSync(join(dir, 'forged.transport.json'), JSON.stringify(t));
    expectCleanFailure(
      kc(dir, 'bundle', 'create', '--record', 'record.jsonl', '--share', share('c1'), '--share', share('c2'), '--share', share('c3'), '--transport', 'forged.transport.json', '--out', 'forged.json'),
      /the key's fingerprint is [0-9a-f]{64}, not the [0-9a-f]{64} the file states/,
    );
    expect(existsSync(join(dir, 'forged.json'))).toBe(false);
  });

  it('usage mistakes exit 2 with a hint', () => {
    const r = kc(dir, 'mk', 'generate', '--key-name', 'Z', '--threshold', 'two', '--share', 'a=b', '--record', 'z.jsonl');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--threshold must be a whole number/);
    expect(kc(dir, 'bundle', 'frobnicate').code).toBe(2);
    expect(kc(dir, 'identity', 'generate', '--name', 'x', '--out', 'x.id', '--passphrase', 'inline').code).toBe(2);
  });
});

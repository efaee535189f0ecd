// Killed at any moment, nothing lost (issue 10). Each command of a ceremony
// (mk generate with file shares, bundle create, bundle sign, the units'
// ingest) is SIGKILLed at every durable write it makes, in each phase (just
// before it, with its temporary file written but not yet in place, just
// after it), through the test-only hook of src/core/files.ts; each time in a
// fresh copy of the folder as it was before the command. Then, each time:
// every file is as before or whole (a record whose lines all verify and are
// a prefix of what the full command writes, share files, bundles and unit
// state that parse; temporary .partial files are never taken for real ones),
// no master key or share is on disk in clear, and the next command either
// completes or fails with exit 1 and one plain sentence saying what to do.
// The desktop session is killed the same way in kill-session.test.ts.
import { readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBundle } from '../../src/core/bundle/bundle.js';
import { FileShareSource } from '../../src/core/ceremony/media.js';
import { recoverMasterKey } from '../../src/core/ceremony/operations.js';
import { ceremoniesOf } from '../../src/core/ceremony/record.js';
import { parseTranscript, readTranscript, type TranscriptEntry } from '../../src/core/ceremony/transcript.js';
import { openShareFile, readShareFile } from '../../src/core/shares/file-store.js';
import { loadInstance } from '../../src/emulator/state.js';
import {
  EMULATOR,
  emu,
  expectCleanFailure,
  kc,
  KEYCEREMONY,
  ok,
  passFile,
  run,
  type RunResult,
  workdir,
} from '../support/cli.js';
import {
  atEveryWrite,
  changedFiles,
  copyOf,
  filesHolding,
  holdsKeyOf,
  partialTarget,
  pointName,
  snapshot,
  type KilledRun,
} from '../support/kill.js';

const SHARES = ['shares/s1.share=s1.pass', 'shares/s2.share=s2.pass', 'shares/s3.share=s3.pass'];
const MK_GENERATE = [
  'mk',
  'generate',
  '--key-name',
  'MK-KILL',
  '--threshold',
  '2',
  ...SHARES.flatMap((s) => ['--share', s]),
  '--record',
  'record.jsonl',
];
let transports: string[] = [];
const bundleCreate = (): string[] => [
  'bundle',
  'create',
  '--operation',
  'initialize',
  '--record',
  'record.jsonl',
  ...transports.flatMap((t) => ['--transport', t]),
  '--share',
  SHARES[0]!,
  '--share',
  SHARES[1]!,
  '--admin',
  'alice.pem',
  '--admin',
  'bob.pem',
  '--signature-threshold',
  '2',
  '--out',
  'bundle.json',
];
const SIGN_ALICE = [
  'bundle',
  'sign',
  'bundle.json',
  '--record',
  'record.jsonl',
  '--identity',
  'alice.identity.pem',
  '--passphrase-file',
  'alice.pass',
];
const SIGN_BOB = [
  'bundle',
  'sign',
  'bundle.json',
  '--record',
  'record.jsonl',
  '--identity',
  'bob.identity.pem',
  '--passphrase-file',
  'bob.pass',
];
const INGEST = ['ingest', '--state', 'units', 'bundle.json'];

/** The next command may complete, or fail as a person can act on: exit 1, one plain sentence; never a crash (70). */
function expectCompletedOrClean(r: RunResult, pattern: RegExp, where: string): void {
  if (r.code === 0) return;
  expect(r.code, `${where}: ${r.stderr}`).toBe(1);
  expectCleanFailure(r, pattern);
}

const types = (entries: TranscriptEntry[]): string[] => entries.map((e) => e.type);

/**
 * What must hold after any kill: every file that changed is one the
 * completed command also writes, and whole; every temporary file is whole
 * too and never under a real name; the record is the one before plus whole
 * entries of the completed command.
 */
function checkNothingHalfWritten(run: KilledRun, before: Map<string, Buffer>, completed: Map<string, Buffer>): void {
  const where = pointName(run.point);
  const now = snapshot(run.dir);
  for (const name of changedFiles(before, now)) {
    const target = partialTarget(name);
    const real = target ?? name;
    // The lock of a killed ingest (not a durable write): the next ingest takes it over.
    if (real === 'units/instance.lock') continue;
    expect(completed.has(real) || target !== null, `${where}: ${name} is not a file the command writes`).toBe(true);
    const bytes = now.get(name)!;
    const text = bytes.toString('utf8');
    if (real.endsWith('.jsonl')) {
      const entries = parseTranscript(text, `${where}: ${name}`);
      const full = types(parseTranscript(completed.get(real)!.toString('utf8')));
      expect(full.slice(0, entries.length), `${where}: ${name} is not a prefix of the full record`).toEqual(
        types(entries),
      );
      const old = before.get(real);
      if (old && target === null)
        expect(bytes.subarray(0, old.length).equals(old), `${where}: the record's earlier lines changed`).toBe(true);
    } else if (real.endsWith('.share')) {
      expect(() => readShareFile(join(run.dir, name)), `${where}: ${name}`).not.toThrow();
    } else if (real.endsWith('bundle.json')) {
      expect(() => parseBundle(text), `${where}: ${name}`).not.toThrow();
    } else if (real === 'units/instance.json') {
      if (target === null)
        expect(() => loadInstance(join(run.dir, 'units')), `${where}: the units' state`).not.toThrow();
      else JSON.parse(text);
    } else {
      throw new Error(`${where}: ${name} changed`);
    }
  }
}

let template = '';
const passes = new Map<string, string>();

beforeAll(() => {
  template = workdir('kc-kill-template-');
  ok(emu(template, 'init', '--state', 'units', '--units', '2'));
  ok(emu(template, 'transport', '--state', 'units', '--out-dir', 'transport'));
  transports = readdirSync(join(template, 'transport'))
    .sort()
    .map((f) => `transport/${f}`);
  for (const name of ['alice', 'bob']) {
    passes.set(name, `${name} identity passphrase`);
    passFile(template, `${name}.pass`, passes.get(name)!);
    ok(
      kc(
        template,
        'identity',
        'generate',
        '--name',
        name,
        '--out',
        `${name}.identity.pem`,
        '--passphrase-file',
        `${name}.pass`,
      ),
    );
    ok(kc(template, 'identity', 'cert', `${name}.identity.pem`, '--out', `${name}.pem`));
  }
  for (const i of [1, 2, 3]) passFile(template, `s${i}.pass`, `share ${i} passphrase, kill test`);
  mkdirSync(join(template, 'shares'));
}, 120_000);

/** The master key and its shares, learned from the shares of a completed mk generate. */
async function secretsOf(dir: string): Promise<Buffer[]> {
  const sources = SHARES.slice(0, 2).map((s) => {
    const [path, pass] = s.split('=') as [string, string];
    return new FileShareSource(join(dir, path), async () => readFileSync(join(dir, pass)).subarray(0, -1));
  });
  const { key } = await recoverMasterKey(join(dir, 'record.jsonl'), sources);
  const shares: Buffer[] = [];
  for (const s of SHARES) {
    const [path, pass] = s.split('=') as [string, string];
    shares.push((await openShareFile(join(dir, path), readFileSync(join(dir, pass)).subarray(0, -1))).share);
  }
  return [key, ...shares];
}

describe('killed at any moment, nothing lost (issue 10)', () => {
  let afterGenerate = '';
  let afterCreate = '';
  let afterSign = '';
  let secrets: Buffer[] = [];

  it('mk generate: a stop leaves no record, or a record refused as cut off whose shares are refused, and never a key on disk', async () => {
    const before = snapshot(template);
    const { killed, completed } = await atEveryWrite(template, KEYCEREMONY, MK_GENERATE);
    const full = snapshot(completed);
    // The record (1), the key's KCV (2), each share and its issue (3-8), the wipe (9), the closing (10).
    expect(killed.at(-1)!.point.n).toBe(10);
    const seen = new Set<string>();
    for (const k of killed) {
      const where = pointName(k.point);
      checkNothingHalfWritten(k, before, full);
      const now = snapshot(k.dir);
      const record = now.get('record.jsonl');
      const entries = record ? parseTranscript(record.toString('utf8')) : [];
      const keyEntry = entries.find((e) => e.type === 'master-key-generated');
      if (keyEntry) {
        // A key made by this run can only be in what this run wrote.
        for (const name of changedFiles(before, now)) {
          const bytes = now.get(name)!;
          expect(
            holdsKeyOf(bytes, String(keyEntry.data['kcv']), String(keyEntry.data['verificationPattern'])),
            `${where}: ${name} holds the master key`,
          ).toBe(false);
        }
      }
      if (record === undefined) {
        // Nothing of the ceremony is on disk: running it again completes it.
        expect(
          [...now.keys()].filter((n) => n.startsWith('shares/') && partialTarget(n) === null),
          where,
        ).toEqual([]);
        ok(run(KEYCEREMONY, MK_GENERATE, k.dir));
        seen.add('nothing: ran again to its end');
        continue;
      }
      const complete = ceremoniesOf(entries).complete;
      const again = run(KEYCEREMONY, MK_GENERATE, k.dir);
      if (!complete) {
        // Cut off: the record says INCOMPLETE, its shares are refused, and mk generate run again says what to do.
        expectCleanFailure(
          again,
          /stopped before it ended; its key is gone and its shares can never be used .*generate the key again with a new record name/,
        );
        expectCleanFailure(
          kc(k.dir, 'transcript', 'verify', 'record.jsonl'),
          /INCOMPLETE: the last ceremony has no closing entry/,
        );
        expectCleanFailure(
          kc(k.dir, 'share', 'verify', '--record', 'record.jsonl', '--share', SHARES[0]!),
          /no closing entry.*its shares cannot be trusted\. If the command or application that made it was stopped before it ended, its key is gone: destroy those shares and generate the key again/,
        );
        seen.add('cut off');
      } else {
        expectCleanFailure(again, /record\.jsonl already exists; nothing was overwritten/);
        ok(kc(k.dir, 'transcript', 'verify', 'record.jsonl'));
        seen.add('complete');
      }
    }
    expect(seen).toEqual(new Set(['nothing: ran again to its end', 'cut off', 'complete']));
    // The completed ceremony: its shares rebuild its key, which is nowhere on disk in any form.
    secrets = await secretsOf(completed);
    expect(filesHolding(full, secrets)).toEqual([]);
    // Ready for the bundle: the units' transport keys confirmed into the record.
    for (const t of transports) {
      const fp = String((JSON.parse(readFileSync(join(completed, t), 'utf8')) as { fingerprint: string }).fingerprint);
      ok(kc(completed, 'units', 'confirm', '--record', 'record.jsonl', '--transport', t, '--fingerprint', fp));
    }
    afterGenerate = completed;
  });

  it('bundle create: a stop leaves no bundle, or one nobody signs that the same command run again replaces', async () => {
    expect(afterGenerate).not.toBe('');
    const before = snapshot(afterGenerate);
    const { killed, completed } = await atEveryWrite(afterGenerate, KEYCEREMONY, bundleCreate());
    const full = snapshot(completed);
    // The bundle (1), its bundle-created entry (2).
    expect(killed.at(-1)!.point.n).toBe(2);
    const seen = new Set<string>();
    for (const k of killed) {
      const where = pointName(k.point);
      checkNothingHalfWritten(k, before, full);
      const now = snapshot(k.dir);
      expect(filesHolding(now, secrets), `${where}: a secret on disk`).toEqual([]);
      const recorded = readTranscript(join(k.dir, 'record.jsonl')).some((e) => e.type === 'bundle-created');
      const bundleThere = now.has('bundle.json');
      if (bundleThere && !recorded) {
        // Nobody signs the unrecorded bundle; the same command run again replaces it.
        expectCleanFailure(
          run(KEYCEREMONY, SIGN_ALICE, k.dir),
          /the bundle create that wrote it was stopped before it recorded it .*run the same bundle create again, which replaces it/,
        );
        expect(
          snapshot(k.dir).get('bundle.json')!.equals(now.get('bundle.json')!),
          `${where}: the refused signing changed the bundle`,
        ).toBe(true);
        expect(ok(run(KEYCEREMONY, bundleCreate(), k.dir)), where).toMatch(
          /held the unrecorded bundle of a bundle create that was stopped before it finished; it was replaced/,
        );
        seen.add('unrecorded bundle, replaced');
      } else if (!bundleThere) {
        expect(recorded, `${where}: the record holds a bundle that is not there`).toBe(false);
        ok(run(KEYCEREMONY, bundleCreate(), k.dir));
        seen.add('nothing: ran again to its end');
      } else {
        expectCleanFailure(
          run(KEYCEREMONY, bundleCreate(), k.dir),
          /bundle\.json already exists; nothing was overwritten/,
        );
        seen.add('complete');
      }
      // Whatever happened, the bundle now on disk is the one the record holds.
      ok(kc(k.dir, 'bundle', 'verify', 'bundle.json', '--record', 'record.jsonl'));
    }
    expect(seen).toEqual(new Set(['nothing: ran again to its end', 'unrecorded bundle, replaced', 'complete']));
    expect(filesHolding(full, secrets)).toEqual([]);
    afterCreate = completed;
  });

  it('bundle sign: a stop leaves the bundle unsigned, or signed, and the same command run again records the signature', async () => {
    expect(afterCreate).not.toBe('');
    const before = snapshot(afterCreate);
    const { killed, completed } = await atEveryWrite(afterCreate, KEYCEREMONY, SIGN_ALICE);
    const full = snapshot(completed);
    // The signed bundle (1), its bundle-signed entry (2).
    expect(killed.at(-1)!.point.n).toBe(2);
    const seen = new Set<string>();
    for (const k of killed) {
      const where = pointName(k.point);
      checkNothingHalfWritten(k, before, full);
      expect(filesHolding(snapshot(k.dir), secrets), `${where}: a secret on disk`).toEqual([]);
      const signatures = parseBundle(readFileSync(join(k.dir, 'bundle.json'), 'utf8')).signatures.length;
      const recorded = readTranscript(join(k.dir, 'record.jsonl')).some((e) => e.type === 'bundle-signed');
      const again = run(KEYCEREMONY, SIGN_ALICE, k.dir);
      if (signatures === 0) {
        expect(recorded, where).toBe(false);
        ok(again);
        seen.add('unsigned: signed again');
      } else if (!recorded) {
        expect(ok(again), where).toMatch(
          /before: the bundle sign that added it was stopped before it recorded it; the record now holds it/,
        );
        seen.add('signed, unrecorded: recorded');
      } else {
        expectCleanFailure(again, /alice has already signed this bundle/);
        seen.add('complete');
      }
      const entries = readTranscript(join(k.dir, 'record.jsonl'));
      expect(entries.filter((e) => e.type === 'bundle-signed').length, where).toBe(1);
      expect(parseBundle(readFileSync(join(k.dir, 'bundle.json'), 'utf8')).signatures.length, where).toBe(1);
    }
    expect(seen).toEqual(new Set(['unsigned: signed again', 'signed, unrecorded: recorded', 'complete']));
    ok(run(KEYCEREMONY, SIGN_BOB, completed));
    afterSign = completed;
  });

  it('ingest: a stop leaves every unit as before or as after, the lock of the killed ingest is taken over, and the same ingest run again completes', async () => {
    expect(afterSign).not.toBe('');
    const before = snapshot(afterSign);
    const { killed, completed } = await atEveryWrite(afterSign, EMULATOR, INGEST);
    const full = snapshot(completed);
    expect(killed.at(-1)!.point.n).toBe(1);
    const statusOf = (dir: string): unknown =>
      (
        JSON.parse(ok(emu(dir, 'status', '--state', 'units', '--json'))) as {
          units: Array<{ id: string; state: string; masterKeyKcv: string | null; lastSequence: number }>;
        }
      ).units.map((u) => [u.id, u.state, u.masterKeyKcv, u.lastSequence]);
    const statusBefore = statusOf(copyOf(afterSign));
    const statusAfter = statusOf(completed);
    expect(statusAfter).not.toEqual(statusBefore);
    const seen = new Set<string>();
    for (const k of killed) {
      const where = pointName(k.point);
      checkNothingHalfWritten(k, before, full);
      expect(filesHolding(snapshot(k.dir), secrets), `${where}: a secret on disk`).toEqual([]);
      const state = snapshot(k.dir).get('units/instance.json')!;
      seen.add(state.equals(before.get('units/instance.json')!) ? 'as before' : 'as after');
      const again = run(EMULATOR, INGEST, k.dir);
      expectCompletedOrClean(again, /./, where);
      expect(again.code, `${where}: ${again.stderr}`).toBe(0);
      expect(again.stdout, where).toMatch(
        state.equals(before.get('units/instance.json')!)
          ? /unit \S+: OK accepted: initialize/
          : /unit \S+: OK \(already applied\)/,
      );
      expect(statusOf(k.dir), where).toEqual(statusAfter);
    }
    expect(seen).toEqual(new Set(['as before', 'as after']));
  });
});

// Recovery in the app (issue 11, ceremony 1): the RecoverySession drives the
// steps of `mk recover --record` one person at a time, on a key's record
// written by the real writers, with share files and identity files on disk;
// and its IPC channels, parsed strictly.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBundle } from '../../../src/core/bundle/bundle.js';
import { FileShareDestination } from '../../../src/core/ceremony/media.js';
import { generateMasterKeyCeremony } from '../../../src/core/ceremony/operations.js';
import { RecoverySession } from '../../../src/core/ceremony/recovery-session.js';
import { reshareMasterKey } from '../../../src/core/ceremony/reshare.js';
import { FileShareSource } from '../../../src/core/ceremony/media.js';
import { headHash, readTranscript } from '../../../src/core/ceremony/transcript.js';
import { CeremonyError } from '../../../src/core/errors.js';
import { generateFileIdentity } from '../../../src/core/identity/identity.js';
import { initInstance, transportFileFor } from '../../../src/emulator/instance.js';
import { ScriptedDialogs } from '../../support/dialogs.js';

const SCRYPT = { logN: 15, r: 8, p: 1 };
const PASS = 'correct horse battery staple 42';
const tmp = (): string => mkdtempSync(join(tmpdir(), 'kc-recovery-app-'));

interface KeyOnDisk {
  dir: string;
  record: string;
  kcv: string;
  shareFiles: string[];
  transports: string[];
  identities: Array<{ name: string; path: string }>;
}

async function writeShareFiles(dir: string, names: string[]): Promise<FileShareDestination[]> {
  return names.map((n) => new FileShareDestination(join(dir, `${n}.keyshare`), async () => Buffer.from(PASS), SCRYPT));
}

let identities: Array<{ name: string; text: string }>;

beforeAll(async () => {
  identities = await Promise.all(
    ['Alice', 'Bob'].map(async (name) => ({ name, text: (await generateFileIdentity(name, Buffer.from(PASS))).text })),
  );
});

async function keyOnDisk(): Promise<KeyOnDisk> {
  const dir = tmp();
  const record = join(dir, 'record.jsonl');
  const names = ['Carol', 'Dave', 'Erin'];
  const dests = await writeShareFiles(dir, names);
  const r = await generateMasterKeyCeremony({
    keyName: 'MK-APP',
    threshold: 2,
    custodians: dests.map((d, i) => ({ custodian: names[i]!, destination: d })),
    recordPath: record,
    actor: 'Olga',
  });
  const units = initInstance(join(dir, 'units'), 2);
  const transports = units.units.map((u) => {
    const p = join(dir, `transport-${u.id}.json`);
    writeFileSync(p, JSON.stringify(transportFileFor(units, u)));
    return p;
  });
  const ids = identities.map((i) => {
    const p = join(dir, `${i.name}.pem`);
    writeFileSync(p, i.text);
    return { name: i.name, path: p };
  });
  return { dir, record, kcv: r.kcv, shareFiles: dests.map((d) => d.path), transports, identities: ids };
}

function session(dir: string): { s: RecoverySession; dialogs: ScriptedDialogs } {
  const dialogs = new ScriptedDialogs();
  const work = join(dir, 'work');
  mkdirSync(work);
  return { s: new RecoverySession({ dialogs, workDir: work }), dialogs };
}

async function refusal(p: Promise<unknown>): Promise<CeremonyError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CeremonyError);
  return e as CeremonyError;
}

/** Record opened, units loaded and confirmed, both admins claimed 2 of 2. */
async function upToShares(k: KeyOnDisk, paperHead: string | null = null) {
  const { s, dialogs } = session(k.dir);
  dialogs.answer('openFile', k.record);
  await s.openRecord(paperHead);
  for (const t of k.transports) {
    dialogs.answer('openFile', t);
    const st = await s.addTransport();
    await s.confirmUnit(st.units.at(-1)!.unitId);
  }
  await s.unitsDone();
  for (const id of k.identities) {
    dialogs.answer('openFile', id.path);
    await s.addAdminCertificate();
  }
  await s.setThresholds({ signatureThreshold: 2, revocationThreshold: 2 });
  return { s, dialogs };
}

describe('RecoverySession', () => {
  it('recovers onto new units: paper head checked, units confirmed, K shares, bundle built, signed and saved', async () => {
    const k = await keyOnDisk();
    const head = headHash(readTranscript(k.record));
    const { s, dialogs } = await upToShares(k, head.match(/.{4}/g)!.join(' ').toUpperCase());
    expect(readTranscript(k.record).filter((e) => e.type === 'unit-confirmed')).toHaveLength(2);
    expect(s.snapshot()).toMatchObject({ step: 'shares', record: { keyName: 'MK-APP', threshold: 2 } });
    dialogs.answer('openFile', k.shareFiles[2]!);
    await s.presentShareFile(PASS);
    dialogs.answer('openFile', k.shareFiles[0]!);
    let st = await s.presentShareFile(PASS);
    expect(st.sharesIn).toEqual([
      { shareIndex: 3, custodian: 'Erin' },
      { shareIndex: 1, custodian: 'Carol' },
    ]);
    st = await s.buildBundle();
    expect(st.step).toBe('signing');
    expect(st.bundle).toMatchObject({ required: 2, signedBy: [], summary: { operation: 'recover', kcv: k.kcv } });
    expect(st.bundle!.summary.adminsInstalled.map((a) => a.name)).toEqual(['Alice', 'Bob']);
    // Not enough signatures yet: the units would refuse it.
    expect((await refusal(s.saveBundle())).code).toBe('TooFewSignatures');
    for (const id of k.identities) {
      dialogs.answer('openFile', id.path);
      st = await s.signWithIdentityFile(PASS);
    }
    expect(st.bundle!.signedBy).toEqual(['Alice', 'Bob']);
    const out = join(k.dir, 'media');
    mkdirSync(out);
    dialogs.answer('chooseFolder', out);
    st = await s.saveBundle();
    expect(st.step).toBe('done');
    const saved = parseBundle(readFileSync(st.bundle!.saved!.path, 'utf8'));
    expect(saved.signatures).toHaveLength(2);
    expect(saved.payloadHash).toBe(st.bundle!.payloadHash);
    const entries = readTranscript(k.record);
    const recovery = entries.slice(entries.findIndex((e) => e.data['kind'] === 'recovery'));
    expect(recovery.map((e) => e.type)).toEqual([
      'ceremony-opened',
      'bundle-created',
      'master-key-wiped',
      'ceremony-closed',
      'bundle-signed',
      'bundle-signed',
    ]);
    expect(recovery[3]!.data).toMatchObject({ outcome: 'completed' });
  });

  it('refuses a record that does not hold the paper report\u2019s head, before anything else', async () => {
    const k = await keyOnDisk();
    const { s, dialogs } = session(k.dir);
    dialogs.answer('openFile', k.record);
    const e = await refusal(s.openRecord('ab'.repeat(32)));
    expect(e.code).toBe('TranscriptInvalid');
    expect(e.message).toMatch(/does not hold the head hash ABAB|does not hold the head hash abab/i);
    expect(s.snapshot().step).toBe('idle');
  });

  it('refuses a lock-out when the thresholds are set, before any share is read', async () => {
    const k = await keyOnDisk();
    const { s, dialogs } = session(k.dir);
    dialogs.answer('openFile', k.record);
    await s.openRecord(null);
    for (const t of k.transports) {
      dialogs.answer('openFile', t);
      const st = await s.addTransport();
      await s.confirmUnit(st.units.at(-1)!.unitId);
    }
    await s.unitsDone();
    dialogs.answer('openFile', k.identities[0]!.path);
    await s.addAdminCertificate();
    const e = await refusal(s.setThresholds({ signatureThreshold: 2, revocationThreshold: 2 }));
    expect(e.message).toMatch(/lock-out, refused/);
    expect(s.snapshot().step).toBe('admins');
    expect(dialogs.pending()).toBe(0);
  });

  it('refuses K-1 shares: the bundle is not built and the record holds no recovery', async () => {
    const k = await keyOnDisk();
    const { s, dialogs } = await upToShares(k);
    dialogs.answer('openFile', k.shareFiles[1]!);
    await s.presentShareFile(PASS);
    const before = readFileSync(k.record);
    const e = await refusal(s.buildBundle());
    expect(e.code).toBe('ThresholdNotMet');
    expect(e.message).toBe('2 different shares are needed to rebuild key "MK-APP"; 1 was given.');
    expect(readFileSync(k.record).equals(before)).toBe(true);
    expect(s.snapshot()).toMatchObject({ step: 'shares', sharesIn: [] });
  });

  it('refuses a wrong passphrase and a share given twice, to the custodian at their turn', async () => {
    const k = await keyOnDisk();
    const { s, dialogs } = await upToShares(k);
    dialogs.answer('openFile', k.shareFiles[0]!);
    expect((await refusal(s.presentShareFile('not the passphrase at all'))).code).toBe('WrongPassphrase');
    dialogs.answer('openFile', k.shareFiles[0]!);
    await s.presentShareFile(PASS);
    dialogs.answer('openFile', k.shareFiles[0]!);
    expect((await refusal(s.presentShareFile(PASS))).code).toBe('DuplicateShare');
    expect(s.snapshot().sharesIn).toHaveLength(1);
  });

  it('refuses a share a re-share retired, naming the re-share', async () => {
    const k = await keyOnDisk();
    const names = ['Frank', 'Gina', 'Hank'];
    await reshareMasterKey({
      recordPath: k.record,
      sources: k.shareFiles.slice(0, 2).map((p) => new FileShareSource(p, async () => Buffer.from(PASS))),
      threshold: 2,
      custodians: (await writeShareFiles(k.dir, names)).map((d, i) => ({ custodian: names[i]!, destination: d })),
      ceremonyName: 'Dave left',
      actor: 'Rita',
    });
    const { s, dialogs } = await upToShares(k);
    dialogs.answer('openFile', k.shareFiles[2]!);
    const e = await refusal(s.presentShareFile(PASS));
    expect(e.code).toBe('ShareRetired');
    expect(e.message).toMatch(/the re-share "Dave left"/);
    expect(s.snapshot().sharesIn).toEqual([]);
  });
});

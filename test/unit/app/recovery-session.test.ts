// Recovery in the app (issue 11, ceremony 1): the RecoverySession drives the
// steps of `mk recover --record` one person at a time, on a key's record
// written by the real writers, with share files and identity files on disk;
// and its IPC channels, parsed strictly.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
import { generateFileIdentity } from '../../../src/core/identity/identity.js';
import { initInstance, transportFileFor } from '../../../src/emulator/instance.js';
import { ScriptedDialogs } from '../../support/dialogs.js';
import { preparedCard } from '../../support/cards.js';
import { CardShareDestination } from '../../../src/core/ceremony/card-media.js';
import type { PaperReport } from '../../../src/core/ceremony/recovery.js';
import { CardDesk } from '../../../src/core/ceremony/card-desk.js';
import { SerialQueue } from '../../../src/core/ceremony/serial-queue.js';
import type { CardTransport } from '../../../src/core/cards/transport.js';
import { InProcessTransport } from '../../../src/virtual-card/transport.js';
import { refusal } from '../../support/refusal.js';

const SCRYPT = { logN: 15, r: 8, p: 1 };
const PIN = '246813';
const READER = 'Virtual PIV reader 0';
const PASS = 'correct horse battery staple 42';
const tmp = (): string => mkdtempSync(join(tmpdir(), 'kc-recovery-app-'));

interface KeyOnDisk {
  dir: string;
  record: string;
  kcv: string;
  verificationPattern: string;
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
  return {
    dir,
    record,
    kcv: r.kcv,
    verificationPattern: r.verificationPattern,
    shareFiles: dests.map((d) => d.path),
    transports,
    identities: ids,
  };
}

const file = (passphrase: string) => ({ medium: 'file' as const, passphrase });

function session(dir: string, cards?: InProcessTransport): { s: RecoverySession; dialogs: ScriptedDialogs } {
  const dialogs = new ScriptedDialogs();
  const work = join(dir, 'work');
  mkdirSync(work, { recursive: true });
  const queue = new SerialQueue();
  const open = async (): Promise<CardTransport> => {
    if (!cards) throw new Error('no card in this test');
    return cards;
  };
  const desk = new CardDesk(open, queue);
  return { s: new RecoverySession({ dialogs, cardsFor: () => desk, queue, workDir: work }), dialogs };
}

/** Units loaded and confirmed (in the record, or on screen from the paper report), `admins` claimed `admins` of N. */
async function unitsAndAdmins(
  s: RecoverySession,
  dialogs: ScriptedDialogs,
  k: KeyOnDisk,
  o: { onScreen?: boolean; admins?: number } = {},
): Promise<void> {
  for (const t of k.transports) {
    dialogs.answer('openFile', t);
    const unitId = (await s.addTransport()).units.at(-1)!.unitId;
    await (o.onScreen === true ? s.confirmUnitOnScreen(unitId) : s.confirmUnit(unitId));
  }
  await s.unitsDone();
  const admins = k.identities.slice(0, o.admins ?? k.identities.length);
  for (const id of admins) {
    dialogs.answer('openFile', id.path);
    await s.addAdminCertificate();
  }
  await s.setThresholds({ signatureThreshold: admins.length, revocationThreshold: admins.length });
}

/** Record opened, units loaded and confirmed, both admins claimed 2 of 2. */
async function upToShares(k: KeyOnDisk, paperHead: string | null = null) {
  const { s, dialogs } = session(k.dir);
  dialogs.answer('openFile', k.record);
  await s.openRecord(paperHead);
  await unitsAndAdmins(s, dialogs, k);
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
    await s.presentShare(file(PASS));
    dialogs.answer('openFile', k.shareFiles[0]!);
    let st = await s.presentShare(file(PASS));
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
      st = await s.sign({ medium: 'file', passphrase: PASS });
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

  it('refuses K-1 shares: the bundle is not built, the record holds no recovery, the share given is kept', async () => {
    const k = await keyOnDisk();
    const { s, dialogs } = await upToShares(k);
    dialogs.answer('openFile', k.shareFiles[1]!);
    await s.presentShare(file(PASS));
    const before = readFileSync(k.record);
    const e = await refusal(s.buildBundle());
    expect(e.code).toBe('ThresholdNotMet');
    expect(e.message).toBe('2 different shares are needed to rebuild key "MK-APP"; 1 was given.');
    expect(readFileSync(k.record).equals(before)).toBe(true);
    expect(s.snapshot()).toMatchObject({ step: 'shares', sharesIn: [{ shareIndex: 2, custodian: 'Dave' }] });
  });

  it('refuses a wrong passphrase and a share given twice, to the custodian at their turn', async () => {
    const k = await keyOnDisk();
    const { s, dialogs } = await upToShares(k);
    dialogs.answer('openFile', k.shareFiles[0]!);
    expect((await refusal(s.presentShare(file('not the passphrase at all')))).code).toBe('WrongPassphrase');
    dialogs.answer('openFile', k.shareFiles[0]!);
    await s.presentShare(file(PASS));
    dialogs.answer('openFile', k.shareFiles[0]!);
    expect((await refusal(s.presentShare(file(PASS)))).code).toBe('DuplicateShare');
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
    const e = await refusal(s.presentShare(file(PASS)));
    expect(e.code).toBe('ShareRetired');
    expect(e.message).toMatch(/the re-share "Dave left"/);
    expect(s.snapshot().sharesIn).toEqual([]);
  });

  it('takes a share on a card (reader and PIN) with file shares, a wrong PIN told with the tries left', async () => {
    const dir = tmp();
    const record = join(dir, 'record.jsonl');
    const t = new InProcessTransport();
    t.insert(READER, await preparedCard(PIN));
    const carol = join(dir, 'Carol.keyshare');
    const r = await generateMasterKeyCeremony({
      keyName: 'MK-CARD',
      threshold: 2,
      custodians: [
        { custodian: 'Carol', destination: new FileShareDestination(carol, async () => Buffer.from(PASS), SCRYPT) },
        { custodian: 'Dave', destination: new CardShareDestination(t, READER, async () => Buffer.from(PIN)) },
      ],
      recordPath: record,
      actor: 'Olga',
    });
    const k = await keyOnDisk();
    const { s, dialogs } = session(dir, t);
    dialogs.answer('openFile', record);
    await s.openRecord(null);
    await unitsAndAdmins(s, dialogs, k, { admins: 1 });
    const wrong = await refusal(s.presentShare({ medium: 'card', reader: READER, pin: '999999' }));
    expect(wrong.code).toBe('WrongPin');
    expect(wrong.message).toMatch(/2 tries left/);
    await s.presentShare({ medium: 'card', reader: READER, pin: PIN });
    dialogs.answer('openFile', carol);
    const st = await s.presentShare(file(PASS));
    expect(st.sharesIn).toEqual([
      { shareIndex: 2, custodian: 'Dave' },
      { shareIndex: 1, custodian: 'Carol' },
    ]);
    expect((await s.buildBundle()).bundle?.summary.kcv).toBe(r.kcv);
  });
});

describe('RecoverySession from the paper report of a lost record', () => {
  async function fromPaper(k: KeyOnDisk, paper: Partial<PaperReport> = {}) {
    const { s, dialogs } = session(k.dir);
    const newRecord = join(k.dir, 'new-record.jsonl');
    dialogs.answer('saveFile', newRecord);
    await s.startFromPaper({
      keyName: 'MK-APP',
      kcv: k.kcv,
      verificationPattern: k.verificationPattern,
      headHash: headHash(readTranscript(k.record)),
      ...paper,
    });
    await unitsAndAdmins(s, dialogs, k, { onScreen: true });
    return { s, dialogs, newRecord };
  }

  it('rebuilds the key, checks it against the paper and only then writes the new record', async () => {
    const k = await keyOnDisk();
    const { s, dialogs, newRecord } = await fromPaper(k);
    expect(existsSync(newRecord)).toBe(false);
    expect(s.snapshot().record).toMatchObject({ from: 'paper', keyName: 'MK-APP', threshold: null });
    dialogs.answer('openFile', k.shareFiles[1]!);
    let st = await s.presentShare(file(PASS));
    expect(st.record).toMatchObject({ threshold: 2, shares: 3 });
    // One person, two shares (the same one): refused.
    dialogs.answer('openFile', k.shareFiles[1]!);
    expect((await refusal(s.presentShare(file(PASS)))).code).toBe('DuplicateShare');
    dialogs.answer('openFile', k.shareFiles[2]!);
    await s.presentShare(file(PASS));
    expect(existsSync(newRecord)).toBe(false);
    st = await s.buildBundle();
    expect(st.bundle?.summary.kcv).toBe(k.kcv);
    // The new record: the recovery from the paper, its units confirmed on screen, closed as completed.
    const entries = readTranscript(newRecord);
    expect(entries.filter((e) => e.type === 'unit-confirmed')).toHaveLength(2);
    expect(entries.find((e) => e.type === 'key-recovered-from-paper')?.data).toMatchObject({ kcv: k.kcv });
    expect(entries.at(-1)?.data).toMatchObject({ outcome: 'completed' });
    for (const id of k.identities) {
      dialogs.answer('openFile', id.path);
      st = await s.sign({ medium: 'file', passphrase: PASS });
    }
    expect(st.bundle?.signedBy).toEqual(['Alice', 'Bob']);
  });

  it('refuses a typed KCV that is not the shares\u2019, a share of another key, and a typed pattern at the build', async () => {
    const k = await keyOnDisk();
    const other = await keyOnDisk();
    const { s, dialogs, newRecord } = await fromPaper(k, { kcv: 'ABC123' });
    dialogs.answer('openFile', k.shareFiles[0]!);
    const kcv = await refusal(s.presentShare(file(PASS)));
    expect(kcv.code).toBe('KcvMismatch');
    expect(kcv.message).toMatch(/The paper report's KCV is ABC123/);

    const again = await fromPaper(k, { verificationPattern: '00'.repeat(32) });
    again.dialogs.answer('openFile', k.shareFiles[0]!);
    await again.s.presentShare(file(PASS));
    again.dialogs.answer('openFile', other.shareFiles[1]!);
    expect((await refusal(again.s.presentShare(file(PASS)))).code).toBe('ShareFromOtherCeremony');
    again.dialogs.answer('openFile', k.shareFiles[2]!);
    await again.s.presentShare(file(PASS));
    expect((await refusal(again.s.buildBundle())).code).toBe('ShareMismatch');
    expect(existsSync(newRecord)).toBe(false);
  });

  it('refuses a paper report typed wrong, and a unit confirmed on screen when the record is at hand', async () => {
    const k = await keyOnDisk();
    const { s, dialogs } = session(k.dir);
    const e = await refusal(
      s.startFromPaper({
        keyName: 'MK-APP',
        kcv: 'ABC12',
        verificationPattern: '00'.repeat(32),
        headHash: '11'.repeat(32),
      }),
    );
    expect(e.message).toMatch(/KCV must be the 6 hex digits/);
    expect(dialogs.pending()).toBe(0);
    // A lock-out from the paper report too is refused at the thresholds, before any share is read.
    dialogs.answer('saveFile', join(k.dir, 'new.jsonl'));
    await s.startFromPaper({
      keyName: 'MK-APP',
      kcv: k.kcv,
      verificationPattern: '00'.repeat(32),
      headHash: '11'.repeat(32),
    });
    for (const t of k.transports) {
      dialogs.answer('openFile', t);
      await s.confirmUnitOnScreen((await s.addTransport()).units.at(-1)!.unitId);
    }
    await s.unitsDone();
    dialogs.answer('openFile', k.identities[0]!.path);
    await s.addAdminCertificate();
    expect((await refusal(s.setThresholds({ signatureThreshold: 2, revocationThreshold: 2 }))).message).toMatch(
      /lock-out, refused/,
    );
    await s.abandon();
    dialogs.answer('openFile', k.record);
    await s.openRecord(null);
    dialogs.answer('openFile', k.transports[0]!);
    const st = await s.addTransport();
    expect((await refusal(s.confirmUnitOnScreen(st.units[0]!.unitId))).code).toBe('WrongStep');
  });
});

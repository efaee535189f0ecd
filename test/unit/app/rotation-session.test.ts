// Rotation in the app (issue 11, ceremony 4): the RotationSession drives the
// command line's steps (mk generate, units confirm, bundle create --operation
// rotate, bundle sign, units report --new-record) one person at a time, on a
// key initialized on emulated units by the CLI's own core functions. File
// media only here (the cards are covered by test/e2e/rotation.spec.ts).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CardDesk } from '../../../src/core/ceremony/card-desk.js';
import { FileShareSource } from '../../../src/core/ceremony/media.js';
import { verifyShareAgainstRecord } from '../../../src/core/ceremony/operations.js';
import { RotationSession } from '../../../src/core/ceremony/rotation-session.js';
import { SerialQueue } from '../../../src/core/ceremony/serial-queue.js';
import { readTranscript } from '../../../src/core/ceremony/transcript.js';
import { CeremonyError } from '../../../src/core/errors.js';
import { ingestBundle, instanceStatus } from '../../../src/emulator/instance.js';
import { ScriptedDialogs } from '../../support/dialogs.js';
import { keyOnUnits } from '../../support/key-on-units.js';
import { refusal } from '../../support/refusal.js';

const SCRYPT = { logN: 15, r: 8, p: 1 };

const OLD_PASS = 'the old key keeps a long passphrase 9';
/** What `crypto-unit-emulator status --json` writes. */
const saveStatus = (unitsDir: string, path: string): string => {
  writeFileSync(path, JSON.stringify(instanceStatus(unitsDir), null, 2) + '\n');
  return path;
};
const pass = (name: string): string => `${name} keeps a long passphrase 42`;

async function rig() {
  const dir = mkdtempSync(join(tmpdir(), 'kc-rotation-app-'));
  const key = await keyOnUnits({
    dir: dir,
    name: 'old',
    keyName: 'MK-OLD',
    admins: ['Alice', 'Bob', 'Frank'],
    signatureThreshold: 2,
    revocationThreshold: 2,
    passphrase: OLD_PASS,
  });
  const dialogs = new ScriptedDialogs();
  const work = join(dir, 'work');
  mkdirSync(work);
  const queue = new SerialQueue();
  const noCards = async (): Promise<never> => {
    throw new CeremonyError('NoPcscd', 'no cards in this test');
  };
  const s = new RotationSession({
    dialogs,
    cardsFor: () => new CardDesk(noCards, queue),
    queue,
    workDir: work,
    scryptCost: SCRYPT,
  });
  return { dir, key, dialogs, s };
}

describe('RotationSession', () => {
  it('rotates: new key and shares, rotate bundle signed by the units’ admins, ingested, old key retired', async () => {
    const { dir, key, dialogs, s } = await rig();
    dialogs.answer('openFile', key.record);
    let st = await s.openRecord();
    expect(st).toMatchObject({ step: 'units', current: { keyName: 'MK-OLD', kcv: key.kcv, threshold: 2 } });
    for (const t of key.transports) {
      dialogs.answer('openFile', t);
      st = await s.addTransport();
    }
    expect((await refusal(s.unitsDone())).code).toBe('TransportUnconfirmed');
    for (const u of st.units) st = await s.confirmUnit(u.unitId);
    st = await s.unitsDone();
    expect(st.step).toBe('new-key');
    expect(st.admins.map((a) => a.name)).toEqual(['Alice', 'Bob', 'Frank']);

    // One person taking two shares is refused before anyone chooses a medium.
    const plan = (names: string[]) =>
      s.planNewKey({
        keyName: 'MK-NEW',
        operator: 'Olga',
        threshold: 2,
        custodians: names.map((name) => ({ name, medium: 'file' as const })),
      });
    expect((await refusal(plan(['Gina', 'Hank', 'Gina']))).message).toMatch(/one person holds at most one share/);
    st = await plan(['Gina', 'Hank', 'Ivy']);
    expect(st.plan!.custodians.map((c) => c.destination)).toEqual([null, null, null]);
    const newShare = (n: string): string => join(dir, `new-${n}.keyshare`);
    for (const [i, n] of ['Gina', 'Hank', 'Ivy'].entries()) {
      dialogs.answer('saveFile', newShare(n));
      st = await s.setNewShare(i + 1, { medium: 'file', passphrase: pass(`new ${n}`) });
    }
    expect(st.plan!.custodians.every((c) => c.destination !== null)).toBe(true);
    // The record's save dialog closed: nothing is written and every custodian's choice is kept.
    dialogs.answer('saveFile', null);
    expect((await refusal(s.generate())).code).toBe('Canceled');
    expect(s.snapshot().plan!.custodians.every((c) => c.destination !== null)).toBe(true);
    const newRecord = join(dir, 'MK-NEW.jsonl');
    dialogs.answer('saveFile', newRecord);
    st = await s.generate();
    expect(st.step).toBe('shares');
    expect(st.newKey).toMatchObject({ keyName: 'MK-NEW', threshold: 2, fileName: 'MK-NEW.jsonl' });
    expect(readTranscript(newRecord).filter((e) => e.type === 'unit-confirmed')).toHaveLength(2);

    // K-1 new shares: the engine refuses the bundle; the shares are presented again.
    dialogs.answer('openFile', newShare('Hank'));
    st = await s.presentShare({ medium: 'file', passphrase: pass('new Hank') });
    expect(st.sharesIn).toEqual([{ shareIndex: 2, custodian: 'Hank' }]);
    expect((await refusal(s.buildBundle())).code).toBe('ThresholdNotMet');
    expect(s.snapshot().sharesIn).toEqual([]);
    // An old share is not a share of the new key.
    dialogs.answer('openFile', key.shares[0]!);
    expect((await refusal(s.presentShare({ medium: 'file', passphrase: OLD_PASS }))).code).toBe(
      'ShareFromOtherCeremony',
    );
    for (const n of ['Ivy', 'Gina']) {
      dialogs.answer('openFile', newShare(n));
      st = await s.presentShare({ medium: 'file', passphrase: pass(`new ${n}`) });
    }
    st = await s.buildBundle();
    expect(st.step).toBe('signing');
    expect(st.bundle).toMatchObject({ required: 2, signedBy: [], summary: { operation: 'rotate' } });
    expect((await refusal(s.saveBundle())).code).toBe('TooFewSignatures');
    for (const n of ['Alice', 'Bob']) {
      dialogs.answer('openFile', key.identities[n]!);
      st = await s.sign({ medium: 'file', passphrase: OLD_PASS });
    }
    expect(st.bundle!.signedBy).toEqual(['Alice', 'Bob']);
    const out = join(dir, 'usb');
    mkdirSync(out);
    dialogs.answer('chooseFolder', out);
    st = await s.saveBundle();
    expect(st.step).toBe('saved');

    // Before the units ingest it, their status does not show the new key: refused, nothing written.
    const before = readTranscript(key.record).length;
    dialogs.answer('openFile', saveStatus(key.unitsDir, join(dir, 'status-before.json')));
    expect((await refusal(s.reportUnits())).code).toBe('UnitState');
    expect(readTranscript(key.record)).toHaveLength(before);

    const results = ingestBundle(key.unitsDir, readFileSync(st.bundle!.saved!.path, 'utf8'));
    expect(results.every((r) => r.ok)).toBe(true);
    const status = instanceStatus(key.unitsDir);
    for (const u of status.units) {
      expect(u.masterKeyKcv).toBe(st.newKey!.kcv);
      expect(u.oldMasterKeyKcv).toBe(key.kcv);
    }
    dialogs.answer('openFile', saveStatus(key.unitsDir, join(dir, 'status.json')));
    st = await s.reportUnits();
    expect(st.step).toBe('done');
    expect(readTranscript(key.record).at(-1)!.type).toBe('key-retired');
    expect(st.report!.instances[0]!.units).toHaveLength(2);
    const old = new FileShareSource(key.shares[1]!, async () => Buffer.from(OLD_PASS));
    await expect(verifyShareAgainstRecord(key.record, old)).rejects.toMatchObject({ code: 'ShareRetired' });
    expect(dialogs.pending()).toBe(0);
  });

  it('a card medium chosen for a file custodian is refused; cancel drops the held choices', async () => {
    const { dir, key, dialogs, s } = await rig();
    dialogs.answer('openFile', key.record);
    await s.openRecord();
    for (const t of key.transports) {
      dialogs.answer('openFile', t);
      const st = await s.addTransport();
      await s.confirmUnit(st.units.at(-1)!.unitId);
    }
    await s.unitsDone();
    // The old key's name is not a new key's name.
    const planned = (keyName: string) =>
      s.planNewKey({
        keyName,
        operator: 'Olga',
        threshold: 2,
        custodians: [
          { name: 'Gina', medium: 'file' },
          { name: 'Hank', medium: 'file' },
        ],
      });
    expect((await refusal(planned('MK-OLD'))).code).toBe('InvalidArgument');
    await planned('MK-NEW');
    expect((await refusal(s.setNewShare(1, { medium: 'card', reader: 'r', pin: '123456' }))).code).toBe(
      'InvalidArgument',
    );
    dialogs.answer('saveFile', join(dir, 'gina.keyshare'));
    let st = await s.setNewShare(1, { medium: 'file', passphrase: pass('Gina') });
    expect(st.plan!.custodians[0]!.destination).toBe('share file gina.keyshare');
    st = await s.cancel();
    expect(st.step).toBe('idle');
    // Nothing was written: no record and no share.
    expect(() => readFileSync(join(dir, 'gina.keyshare'))).toThrow();
  });
});

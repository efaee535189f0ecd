// The units' report recorded apart from the wizard that built the bundle
// (issue 11): the zeroize or rotate bundle is built, saved and the wizard
// closed; the emulated units ingest it later; a fresh UnitsReportSession
// records key-destroyed or key-retired from their status (`units report`).
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
import { UnitsReportSession } from '../../../src/core/ceremony/units-report-session.js';
import { CeremonyError } from '../../../src/core/errors.js';
import { ingestBundle, instanceStatus } from '../../../src/emulator/instance.js';
import { ScriptedDialogs } from '../../support/dialogs.js';
import { keyOnUnits, type KeyOnUnits } from '../../support/key-on-units.js';
import { zeroizeBundleSaved } from '../../support/zeroize-bundle.js';
import { refusal } from '../../support/refusal.js';

const PASS = 'units report correct horse battery';
const SCRYPT = { logN: 15, r: 8, p: 1 };

/** What `crypto-unit-emulator status --json` writes. */
const saveStatus = (unitsDir: string, path: string): string => {
  writeFileSync(path, JSON.stringify(instanceStatus(unitsDir), null, 2) + '\n');
  return path;
};

async function key(keyName: string): Promise<{ dir: string; key: KeyOnUnits }> {
  const dir = mkdtempSync(join(tmpdir(), 'kc-units-report-'));
  const k = await keyOnUnits({
    dir,
    name: 'prod',
    keyName,
    admins: ['Alice', 'Bob', 'Carol'],
    signatureThreshold: 2,
    revocationThreshold: 2,
    passphrase: PASS,
  });
  return { dir, key: k };
}

describe('UnitsReportSession', () => {
  it('records key-destroyed after a zeroize; a status before the ingest is refused naming the unit; an ended key is refused', async () => {
    const { dir, key: k } = await key('MK-Z');
    const bundle = await zeroizeBundleSaved({
      key: k,
      keyName: 'MK-Z',
      dir,
      signers: ['Alice', 'Bob'],
      passphrase: PASS,
    });
    const early = saveStatus(k.unitsDir, join(dir, 'status-early.json'));

    // The app was closed in between: a new session.
    const dialogs = new ScriptedDialogs();
    const s = new UnitsReportSession({ dialogs });
    expect((await refusal(s.record())).code).toBe('WrongStep');
    dialogs.answer('openFile', k.record);
    let st = await s.openRecord();
    expect(st).toMatchObject({ step: 'statuses', record: { keyName: 'MK-Z', kcv: k.kcv }, newRecord: null });

    // Before the ingest the units still hold the key: refused with the unit named, nothing written.
    const before = readTranscript(k.record).length;
    dialogs.answer('openFile', early);
    st = await s.addStatus();
    expect(st.statuses).toHaveLength(1);
    const notYet = await refusal(s.record());
    expect(notYet.code).toBe('UnitState');
    const unitIds = instanceStatus(k.unitsDir).units.map((u) => u.id);
    expect(unitIds.some((id) => notYet.message.includes(id))).toBe(true);
    expect(readTranscript(k.record)).toHaveLength(before);
    expect(s.snapshot().statuses).toEqual([]);

    expect(ingestBundle(k.unitsDir, readFileSync(bundle, 'utf8')).every((r) => r.ok)).toBe(true);
    dialogs.answer('openFile', saveStatus(k.unitsDir, join(dir, 'status.json')));
    await s.addStatus();
    st = await s.record();
    expect(st.step).toBe('done');
    expect(st.recorded).toMatchObject({ kind: 'destroyed', keyName: 'MK-Z', kcv: k.kcv, newKey: null });
    expect(st.recorded!.instances[0]!.units.sort()).toEqual([...unitIds].sort());
    expect(st.recorded!.instances[0]!.neverLoaded).toBe(false);
    expect(readTranscript(k.record).at(-1)?.type).toBe('key-destroyed');
    const share = await refusal(
      verifyShareAgainstRecord(k.record, new FileShareSource(k.shares[0]!, async () => Buffer.from(PASS))),
    );
    expect(share.code).toBe('ShareRetired');

    // The key already ended: refused with its words.
    const again = new UnitsReportSession({ dialogs });
    dialogs.answer('openFile', k.record);
    const ended = await refusal(again.openRecord());
    expect(ended.message).toMatch(/holds key "MK-Z".*it was destroyed: the units of instance/);
    expect(again.snapshot().step).toBe('idle');
    expect(dialogs.pending()).toBe(0);
  });

  it('records key-retired after a rotation, with the rotation\u2019s new record', async () => {
    const { dir, key: k } = await key('MK-OLD');
    const dialogs = new ScriptedDialogs();
    const work = join(dir, 'work');
    mkdirSync(work);
    const queue = new SerialQueue();
    const noCards = async (): Promise<never> => {
      throw new CeremonyError('NoPcscd', 'no cards in this test');
    };
    const r = new RotationSession({
      dialogs,
      cardsFor: () => new CardDesk(noCards, queue),
      queue,
      workDir: work,
      scryptCost: SCRYPT,
    });
    dialogs.answer('openFile', k.record);
    await r.openRecord();
    for (const t of k.transports) {
      dialogs.answer('openFile', t);
      const st = await r.addTransport();
      await r.confirmUnit(st.units.at(-1)!.unitId);
    }
    await r.unitsDone();
    const names = ['Gina', 'Hank', 'Ivy'];
    await r.planNewKey({
      keyName: 'MK-NEW',
      operator: 'Olga',
      threshold: 2,
      custodians: names.map((name) => ({ name, medium: 'file' as const })),
    });
    const newShare = (n: string): string => join(dir, `new-${n}.keyshare`);
    for (const [i, n] of names.entries()) {
      dialogs.answer('saveFile', newShare(n));
      await r.setNewShare(i + 1, { medium: 'file', passphrase: `${n} ${PASS}` });
    }
    const newRecord = join(dir, 'MK-NEW.jsonl');
    dialogs.answer('saveFile', newRecord);
    await r.generate();
    for (const n of ['Gina', 'Hank']) {
      dialogs.answer('openFile', newShare(n));
      await r.presentShare({ medium: 'file', passphrase: `${n} ${PASS}` });
    }
    await r.buildBundle();
    for (const n of ['Alice', 'Bob']) {
      dialogs.answer('openFile', k.identities[n]!);
      await r.sign({ medium: 'file', passphrase: PASS });
    }
    const out = join(dir, 'usb');
    mkdirSync(out);
    dialogs.answer('chooseFolder', out);
    const saved = await r.saveBundle();
    r.dispose();
    expect(ingestBundle(k.unitsDir, readFileSync(saved.bundle!.saved!.path, 'utf8')).every((x) => x.ok)).toBe(true);

    const s = new UnitsReportSession({ dialogs });
    dialogs.answer('openFile', k.record);
    await s.openRecord();
    // The key's own record is not the rotation's.
    dialogs.answer('openFile', k.record);
    expect((await refusal(s.openNewRecord())).code).toBe('InvalidArgument');
    dialogs.answer('openFile', newRecord);
    let st = await s.openNewRecord();
    expect(st.newRecord).toMatchObject({ keyName: 'MK-NEW', fileName: 'MK-NEW.jsonl' });
    dialogs.answer('openFile', saveStatus(k.unitsDir, join(dir, 'status.json')));
    await s.addStatus();
    st = await s.record();
    expect(st.recorded).toMatchObject({
      kind: 'retired',
      keyName: 'MK-OLD',
      kcv: k.kcv,
      newKey: { keyName: 'MK-NEW' },
    });
    expect(st.recorded!.instances[0]!.units).toHaveLength(2);
    expect(readTranscript(k.record).at(-1)?.type).toBe('key-retired');
    const old = new FileShareSource(k.shares[1]!, async () => Buffer.from(PASS));
    await expect(verifyShareAgainstRecord(k.record, old)).rejects.toMatchObject({ code: 'ShareRetired' });
    expect(dialogs.pending()).toBe(0);
  });
});

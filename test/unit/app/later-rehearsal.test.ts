// Rehearsals of the later ceremonies (issue 11, "Rehearsal mode"): the mode
// comes from the record, never from the room. A rehearsal record's wizard
// reaches the rehearsal's virtual cards and its rehearsal units (found from
// the record in the work folder); a production record reaches PC/SC and is
// refused the rehearsal units. The zeroize of a rehearsal key is recorded
// from the rehearsal units' own status.
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CardTransport } from '../../../src/core/cards/transport.js';
import { noteInWizardRecord } from '../../../src/core/ceremony/card-desk.js';
import { CeremonySession } from '../../../src/core/ceremony/session.js';
import { readTranscript } from '../../../src/core/ceremony/transcript.js';
import { RotationSession } from '../../../src/core/ceremony/rotation-session.js';
import { UnitsBundleSession } from '../../../src/core/ceremony/units-bundle-session.js';
import { UnitsReportSession } from '../../../src/core/ceremony/units-report-session.js';
import { instanceStatus } from '../../../src/emulator/instance.js';
import { REHEARSAL_READERS, rehearsalCardTransport, rehearsalPorts } from '../../../src/main/rehearsal.js';
import { ScriptedDialogs } from '../../support/dialogs.js';
import { keyOnUnits, type KeyOnUnits } from '../../support/key-on-units.js';
import { refusal } from '../../support/refusal.js';

const PASS = 'later rehearsal correct horse battery';
const PCSC_READER = 'PC/SC reader 0';

/** A key on two emulated units, its instance in the work folder as a rehearsal leaves it (rehearsal-units-…). */
async function keyIn(rehearsal: boolean): Promise<{ key: KeyOnUnits; workDir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'kc-later-rehearsal-'));
  const key = await keyOnUnits({
    dir,
    name: rehearsal ? 'rehearsal' : 'prod',
    keyName: rehearsal ? 'MKREH' : 'MKPROD',
    admins: ['Alice', 'Bob'],
    signatureThreshold: 2,
    revocationThreshold: 2,
    passphrase: PASS,
    rehearsal,
  });
  const workDir = join(dir, 'work');
  mkdirSync(workDir);
  // Another attempt's folder that holds no instance is passed over.
  mkdirSync(join(workDir, 'rehearsal-units-aborted-0000'));
  symlinkSync(key.unitsDir, join(workDir, 'rehearsal-units-initial-1234'));
  return { key, workDir };
}

/** The app's session as main makes it: PC/SC (here an in-process reader standing for it) and the rehearsal's ports. */
function appSession(
  workDir: string,
  dialogs = new ScriptedDialogs(),
): { session: CeremonySession; pcscOpened: () => number } {
  let opened = 0;
  const session = new CeremonySession({
    dialogs,
    openCardTransport: async (): Promise<CardTransport> => {
      opened++;
      return rehearsalCardTransport([PCSC_READER]);
    },
    renderPdf: async () => new Uint8Array(),
    printHtml: async () => true,
    workDir,
    rehearsal: rehearsalPorts(),
  });
  return { session, pcscOpened: () => opened };
}

describe('the later ceremonies in a rehearsal', () => {
  it('reach the virtual cards for a rehearsal record and PC/SC for a production one, as the record says', async () => {
    const reh = await keyIn(true);
    const prod = await keyIn(false);
    const { session, pcscOpened } = appSession(reh.workDir);
    const later = session.laterCeremonyPorts;
    const dialogs = new ScriptedDialogs();
    const rotation = new RotationSession({ dialogs, ...later, workDir: reh.workDir });
    expect(rotation.cardMode).toBe('production');

    dialogs.answer('openFile', reh.key.record);
    await rotation.openRecord();
    expect(rotation.cardMode).toBe('rehearsal');
    const virtual = await session.listCards(rotation.cardMode);
    expect(virtual.readers.map((r) => r.name)).toEqual(REHEARSAL_READERS);
    expect(pcscOpened()).toBe(0); // no real card is asked for in a rehearsal

    dialogs.answer('openFile', prod.key.record);
    await rotation.openRecord();
    expect(rotation.cardMode).toBe('production');
    const real = await session.listCards(rotation.cardMode);
    expect(real.readers.map((r) => r.name)).toEqual([PCSC_READER]);
    expect(pcscOpened()).toBe(1);
    // The desks are the session's own: the same virtual cards the initial rehearsal used.
    expect(later.cardsFor('rehearsal')).toBe(later.cardsFor('rehearsal'));
    expect(later.cardsFor('rehearsal')).not.toBe(later.cardsFor('production'));
  });

  it('records a card prepared in a rehearsal re-share in its record, marked; never across the modes', async () => {
    const reh = await keyIn(true);
    const prod = await keyIn(false);
    const dialogs = new ScriptedDialogs();
    const { session, pcscOpened } = appSession(reh.workDir, dialogs);
    const length = (path: string): number => readTranscript(path).length;

    // The rehearsal key's re-share: its virtual card is prepared in the wizard, recorded in the key's record.
    dialogs.answer('openFile', reh.key.record);
    await session.reshare.openRecord();
    await session.prepareCard(REHEARSAL_READERS[0]!, '123456', '246813', '97531864', session.reshare);
    expect(readTranscript(reh.key.record).at(-1)).toMatchObject({
      type: 'card-prepared',
      data: { pin: 'changed', puk: 'changed', rehearsal: true },
    });
    expect(pcscOpened()).toBe(0);

    // A production key's re-share reaches PC/SC only: a rehearsal reader is refused, and nothing is recorded.
    dialogs.answer('openFile', prod.key.record);
    await session.reshare.openRecord();
    const before = length(prod.key.record);
    const e = await refusal(
      session.prepareCard(REHEARSAL_READERS[1]!, '123456', '246813', '97531864', session.reshare),
    );
    expect(e.code).not.toBe('RehearsalMismatch'); // the reader is simply not among the production cards
    expect(length(prod.key.record)).toBe(before);

    // A preparation done on the cards of one mode is never written in a record of the other.
    const rehBefore = length(reh.key.record);
    const now = (): Date => new Date();
    const cardPrepared = { serial: '12345678', pin: 'changed', puk: 'changed', managementKey: 'replaced' };
    expect(
      noteInWizardRecord(
        { cardMode: 'production', cardRecordPath: reh.key.record },
        'production',
        now,
      )('card-prepared', cardPrepared),
    ).toBe(false);
    expect(
      noteInWizardRecord(
        { cardMode: 'rehearsal', cardRecordPath: prod.key.record },
        'rehearsal',
        now,
      )('card-prepared', cardPrepared),
    ).toBe(false);
    expect(length(reh.key.record)).toBe(rehBefore);
    expect(length(prod.key.record)).toBe(before);
  });

  it('refuses the rehearsal units to a production record, and leaves its units to load', async () => {
    const prod = await keyIn(false);
    const { session } = appSession(prod.workDir);
    const dialogs = new ScriptedDialogs();
    const s = new UnitsBundleSession({ dialogs, ...session.laterCeremonyPorts, workDir: prod.workDir });
    dialogs.answer('openFile', prod.key.record);
    await s.openRecord('zeroize');
    const e = await refusal(s.useRehearsalUnits());
    expect(e.code).toBe('WrongStep');
    expect(e.message).toMatch(/rehearsal only: this record is a production key/);
    expect(s.snapshot()).toMatchObject({ step: 'units', units: [], rehearsalUnits: null });

    const r = new RotationSession({ dialogs, ...session.laterCeremonyPorts, workDir: prod.workDir });
    dialogs.answer('openFile', prod.key.record);
    await r.openRecord();
    expect((await refusal(r.useRehearsalUnits())).code).toBe('WrongStep');
    const report = new UnitsReportSession({ dialogs, ...session.laterCeremonyPorts, workDir: prod.workDir });
    dialogs.answer('openFile', prod.key.record);
    await report.openRecord();
    expect((await refusal(report.addRehearsalStatus())).code).toBe('WrongStep');
  });

  it('zeroizes a rehearsal key on the rehearsal units it lives on, key-destroyed from their own status', async () => {
    const reh = await keyIn(true);
    const { session } = appSession(reh.workDir);
    const dialogs = new ScriptedDialogs();
    const s = new UnitsBundleSession({ dialogs, ...session.laterCeremonyPorts, workDir: reh.workDir });
    dialogs.answer('openFile', reh.key.record);
    await s.openRecord('zeroize');
    let st = await s.useRehearsalUnits();
    const instanceId = instanceStatus(reh.key.unitsDir).instanceId;
    expect(st.rehearsalUnits?.instanceId).toBe(instanceId);
    expect(st.units).toHaveLength(2);
    // Each unit is still the operator's to confirm; its "display" is what the emulator reports.
    expect(st.units.every((u) => !u.confirmed)).toBe(true);
    expect(st.rehearsalUnits?.displays.map((d) => d.fingerprint)).toEqual(st.units.map((u) => u.fingerprint));
    expect((await refusal(s.useRehearsalUnits())).code).toBe('WrongStep'); // once
    for (const u of st.units) await s.confirmUnit(u.unitId);
    await s.unitsDone();
    await s.buildZeroize('MKREH');
    for (const n of ['Alice', 'Bob']) {
      dialogs.answer('openFile', reh.key.identities[n]!);
      await s.sign({ medium: 'file', passphrase: PASS });
    }
    const out = join(reh.workDir, '..', 'out');
    mkdirSync(out);
    dialogs.answer('chooseFolder', out);
    st = await s.saveBundle();
    expect(st.bundle?.saved?.path).toMatch(/REHEARSAL-bundle-zeroize-/);
    st = await s.loadIntoRehearsalUnits();
    expect(st.rehearsalUnits?.loaded?.results.map((r) => r.ok)).toEqual([true, true]);
    expect(st.step).toBe('done');
    expect(st.destroyed?.instances).toEqual([{ instanceId, units: st.rehearsalUnits!.displays.map((d) => d.unitId) }]);
    expect(readTranscript(reh.key.record).at(-1)?.type).toBe('key-destroyed');
    expect(instanceStatus(reh.key.unitsDir).units.every((u) => u.masterKeyKcv === null)).toBe(true);
  });
});

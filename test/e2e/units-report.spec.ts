// Recording what the units report apart from the wizard that built the
// bundle (issue 11): a key in service on an emulated instance of 2 units
// (made by the CLI's core functions), its zeroize bundle built, signed and
// saved by the zeroize wizard's session, which is then closed. Through the
// UI, later: the key's record opened, a status exported before the ingest
// refused with the unit named; the emulator ingests the bundle, its status
// is opened and key-destroyed recorded; the done screen says what was
// recorded; the record opened again is refused (the key ended), and a
// share of the key is refused. Screenshots and axe on every screen.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileShareSource } from '../../src/core/ceremony/media.js';
import { verifyShareAgainstRecord } from '../../src/core/ceremony/operations.js';
import { readTranscript } from '../../src/core/ceremony/transcript.js';
import { CeremonyError } from '../../src/core/errors.js';
import { emu, ok } from '../support/cli.js';
import { keyOnUnits } from '../support/key-on-units.js';
import { zeroizeBundleSaved } from '../support/zeroize-bundle.js';
import { expect, test } from './fixtures.js';

const PASS = 'units report correct horse battery';

test('units report: a status before the ingest refused naming the unit; then key-destroyed recorded, the ended key refused, its shares refused', async ({
  app,
  bridge,
  workDir,
  shot,
  axe,
}) => {
  test.setTimeout(180_000);
  const key = await keyOnUnits({
    dir: workDir,
    name: 'prod',
    keyName: 'MKREPORT',
    admins: ['Alice', 'Bob', 'Carol'],
    signatureThreshold: 2,
    revocationThreshold: 2,
    passphrase: PASS,
  });
  const bundle = await zeroizeBundleSaved({
    key,
    keyName: 'MKREPORT',
    dir: workDir,
    signers: ['Alice', 'Bob'],
    passphrase: PASS,
  });
  const status = (name: string): { file: string; instanceId: string; units: string[] } => {
    const text = ok(emu(workDir, 'status', '--state', key.unitsDir, '--json'));
    const s = JSON.parse(text) as { instanceId: string; units: Array<{ id: string }> };
    const file = join(workDir, name);
    writeFileSync(file, text);
    return { file, instanceId: s.instanceId, units: s.units.map((u) => u.id) };
  };
  const title = 'Record what the units report';

  await app.getByRole('button', { name: 'Record what the units report (after a rotation or a zeroize)' }).click();
  await expect(app.getByRole('heading', { name: title, level: 2 })).toBeVisible();
  await shot('units-report-start');
  await axe('units-report-start');

  // 1. The key's record.
  bridge.dialogs.answer('openFile', key.record);
  await app.getByRole('button', { name: 'Open the key’s record…' }).click();
  await expect(app.getByRole('heading', { name: '2. The units’ status' })).toBeVisible();
  await expect(app.getByText(/Key MKREPORT, KCV/)).toBeVisible();
  await shot('units-report-statuses');
  await axe('units-report-statuses');

  // A status exported before the units ingested the bundle: refused, the unit named, nothing written.
  const early = status('status-early.json');
  const before = readTranscript(key.record).length;
  bridge.dialogs.answer('openFile', early.file);
  await app.getByRole('button', { name: 'Open a units’ status file…' }).click();
  await expect(app.getByText(`Status given for instance ${early.instanceId}.`)).toBeVisible();
  await app.getByRole('button', { name: 'Record that the key is destroyed' }).click();
  await expect(app.getByRole('alert')).toContainText(/is not zeroized/);
  await expect(app.getByRole('alert')).toContainText(new RegExp(early.units.join('|')));
  await expect(app.getByRole('heading', { name: '2. The units’ status' })).toBeVisible();
  await shot('units-report-refused');
  await axe('units-report-refused');
  expect(readTranscript(key.record)).toHaveLength(before);

  // The units ingest the bundle; their status is opened and recorded.
  const ingest = emu(workDir, 'ingest', '--state', key.unitsDir, bundle);
  expect(ingest.code, ingest.stderr).toBe(0);
  const after = status('status.json');
  bridge.dialogs.answer('openFile', after.file);
  await app.getByRole('button', { name: 'Open a units’ status file…' }).click();
  await expect(app.getByText(`Status given for instance ${after.instanceId}.`)).toBeVisible();
  await app.getByRole('button', { name: 'Record that the key is destroyed' }).click();

  // Done: what was recorded.
  await expect(app.getByRole('heading', { name: 'The key is destroyed' })).toBeVisible();
  await expect(app.getByText(`units ${after.units.join(', ')}: zeroized`)).toBeVisible();
  await expect(app.getByText(/The key’s shares are refused from now on/)).toBeVisible();
  await shot('units-report-done');
  await axe('units-report-done');
  const entries = readTranscript(key.record);
  expect(entries.at(-1)?.type).toBe('key-destroyed');

  // The key's end is recorded: its record is refused with its words.
  await app.getByRole('button', { name: 'Back to the start screen' }).click();
  await app.getByRole('button', { name: 'Record what the units report (after a rotation or a zeroize)' }).click();
  bridge.dialogs.answer('openFile', key.record);
  await app.getByRole('button', { name: 'Open the key’s record…' }).click();
  await expect(app.getByRole('alert')).toContainText(/holds key "MKREPORT".*it was destroyed/);
  await shot('units-report-ended');
  await axe('units-report-ended');
  expect(readTranscript(key.record)).toHaveLength(entries.length);
  expect(bridge.dialogs.pending(), 'every scripted dialog was used').toBe(0);

  const refused = await verifyShareAgainstRecord(
    key.record,
    new FileShareSource(key.shares[0]!, async () => Buffer.from(PASS)),
  ).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(CeremonyError);
  expect((refused as CeremonyError).code).toBe('ShareRetired');
});

// Zeroize / decommission in the app (issue 11, ceremony 5): a key in service
// on an emulated production instance of 2 units claimed for Alice, Bob and
// Carol (thresholds 2 and 2), and a rehearsal key on rehearsal units, both
// made by the CLI's core functions. Through the UI: the rehearsal record
// offered the production units is refused (RehearsalMismatch) before
// anything is built; then the production record, its units, the key's
// name typed (a wrong one refused), the zeroize bundle signed by Bob (his
// identity file) and Carol (her card, slot 9C, on pcscd + vpcd) and saved;
// the emulator ingests it and its status file is opened, the record ends
// with key-destroyed, the done screen says what was
// destroyed. The units hold no key, and a share of the key is refused
// from then on. Screenshots and axe at each step.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FileShareSource } from '../../src/core/ceremony/media.js';
import { verifyShareAgainstRecord } from '../../src/core/ceremony/operations.js';
import { hexGroups } from '../../src/core/ceremony/fingerprint.js';
import { laterSetupFile } from '../../src/core/ceremony/later-papers.js';
import { serializeSetupFile } from '../../src/core/ceremony/setup-file.js';
import { headHash, readTranscript } from '../../src/core/ceremony/transcript.js';
import { CeremonyError } from '../../src/core/errors.js';
import { adminCard } from '../support/cards.js';
import { emu, ok } from '../support/cli.js';
import { keyOnUnits } from '../support/key-on-units.js';
import { pcscStackPerTest, startPcscStack, vpcdReaderName, VPCD_BASE_PORT } from '../support/pcsc-stack.js';
import { expect, test } from './fixtures.js';
import type { DialogKind } from './pages/ceremony-env.js';
import { PapersPart, printedText } from './pages/papers.js';
import { UnitsBundlePage } from './pages/units-bundle.js';

const PASS = 'zeroize correct horse battery';
const CAROL_PIN = '592648';

// The PC/SC stack carries Carol's card (her admin identity in slot 9C).
const pcsc = pcscStackPerTest(test);

test('zeroize: a rehearsal record refused on production units; then the bundle signed, ingested, the units’ status recorded, the key destroyed', async ({
  app,
  bridge,
  workDir,
  shot,
  axe,
}) => {
  test.setTimeout(180_000);
  // Carol's identity is on her card (generated there, as the app's Admins step does), in a vpcd reader.
  const carolCard = await adminCard('Carol', CAROL_PIN, join(workDir, 'carol.card.json'));
  const key = await keyOnUnits({
    dir: workDir,
    name: 'prod',
    keyName: 'MKZERO',
    admins: ['Alice', 'Bob', 'Carol'],
    signatureThreshold: 2,
    revocationThreshold: 2,
    passphrase: PASS,
    cards: [carolCard],
  });
  expect(key.identities['Carol'], 'Carol has no identity file: only her card signs for her').toBeUndefined();
  pcsc.stack = await startPcscStack([{ stateFile: carolCard.stateFile, port: VPCD_BASE_PORT }]);
  const rehearsal = await keyOnUnits({
    dir: workDir,
    name: 'rehearsal',
    keyName: 'MKREH',
    admins: ['Alice', 'Bob', 'Carol'],
    signatureThreshold: 2,
    revocationThreshold: 2,
    passphrase: PASS,
    rehearsal: true,
    identities: key.identities,
  });
  const answer = (kind: DialogKind, path: string): void => bridge.dialogs.answer(kind, path);
  const title = 'Zeroize the units (decommission)';
  const wizard = new UnitsBundlePage(app, answer);

  await app.getByRole('button', { name: title }).click();
  await expect(app.getByRole('heading', { name: title, level: 2 })).toBeVisible();
  await shot('zeroize-start');
  await axe('zeroize-start');

  // A rehearsal record never reaches production units: refused before anything is built.
  await wizard.openRecord(rehearsal.record);
  await expect(app.getByText(/REHEARSAL: this record’s key lives in a rehearsal/)).toBeVisible();
  await wizard.loadUnits(key.transports);
  await app.getByRole('button', { name: 'Continue' }).click();
  await expect(app.getByRole('alert')).toContainText('rehearsal');
  await expect(app.getByRole('heading', { name: '2. The units' })).toBeVisible();
  await shot('zeroize-rehearsal-refused');
  await axe('zeroize-rehearsal-refused');
  expect(readTranscript(rehearsal.record).filter((e) => e.type === 'bundle-created')).toHaveLength(1);
  await app.getByRole('button', { name: 'Stop and go back to the start screen' }).click();
  await app.getByRole('button', { name: title }).click();

  // 1-2. The production record and its units.
  await wizard.openRecord(key.record);
  await expect(app.getByText('Alice, Bob, Carol')).toBeVisible();
  await wizard.loadUnits(key.transports);
  await shot('zeroize-units');
  await axe('zeroize-units');
  await app.getByRole('button', { name: 'Continue' }).click();

  // 3. The irreversible action, confirmed by typing the key's name.
  await expect(app.getByRole('heading', { name: '3. Confirm the zeroize' })).toBeVisible();
  await expect(app.getByText('This cannot be undone.')).toBeVisible();
  await app.getByLabel('Type the key’s name to confirm').fill('MKZER');
  await app.getByRole('button', { name: 'Build the zeroize bundle' }).click();
  await expect(app.getByRole('alert')).toContainText('Type the key’s name, MKZERO, exactly');
  await shot('zeroize-confirm');
  await axe('zeroize-confirm');

  // Before anyone signs: the ceremony script. A plan of another key is refused; the names typed instead.
  const papers = new PapersPart(app, { answer, printed: bridge.printed, shot, axe });
  const otherPlan = join(workDir, 'SETUP-other-key.json');
  writeFileSync(
    otherPlan,
    serializeSetupFile(
      laterSetupFile(
        {
          kind: 'zeroize',
          rehearsal: false,
          keyName: 'MKREH',
          holders: [],
          custodians: [],
          admins: [{ name: 'Bob' }],
          units: [{ id: 'unit-1' }],
        },
        { operator: 'Olga', witnesses: ['Wendy'] },
      ),
    ),
  );
  await papers.openPlan(otherPlan);
  await expect(
    app.getByRole('alert').filter({ hasText: 'This plan is for key "MKREH", but this ceremony is about key "MKZERO"' }),
  ).toBeVisible();
  await papers.names('Olga', ['Wendy']);
  const script = printedText(await papers.printScript('zeroize-script'));
  expect(script).toContain('Ceremony script — Zeroize ceremony');
  for (const name of ['MKZERO', 'Olga', 'Wendy', 'Alice', 'Bob', 'Carol']) expect(script).toContain(name);
  for (const t of key.transports) {
    const fp = (JSON.parse(readFileSync(t, 'utf8')) as { fingerprint: string }).fingerprint;
    expect(script).toContain(hexGroups(Buffer.from(fp, 'hex')).join(' '));
  }
  expect(script).toContain('What was destroyed written into the record');
  await app.getByLabel('Type the key’s name to confirm').fill('MKZERO');
  await app.getByRole('button', { name: 'Build the zeroize bundle' }).click();

  // 4. Bob and Carol sign (the units' signature threshold, 2).
  await expect(app.getByRole('heading', { name: '4. The units’ admins sign the bundle' })).toBeVisible();
  await expect(app.getByText(/ZEROIZE 2 units/)).toBeVisible();
  await shot('zeroize-signing');
  await axe('zeroize-signing');
  await wizard.signWith(key.identities['Bob']!, PASS);
  await wizard.signWithCard(vpcdReaderName(VPCD_BASE_PORT), CAROL_PIN, async () => {
    await shot('zeroize-signing-card');
    await axe('zeroize-signing-card');
  });
  await expect(app.getByText('2 of 2 (Bob, Carol)')).toBeVisible({ timeout: 30_000 });
  const bundle = await wizard.saveInto(join(workDir, 'out'));

  // 5. The units ingest it; their status is opened and recorded.
  await expect(app.getByRole('heading', { name: '5. The units’ confirmation' })).toBeVisible();
  await shot('zeroize-saved');
  await axe('zeroize-saved');
  expect(basename(bundle)).toMatch(/^bundle-zeroize-2-[0-9a-f]{8}\.json$/);
  const ingest = emu(workDir, 'ingest', '--state', key.unitsDir, bundle);
  expect(ingest.code, ingest.stderr).toBe(0);
  const statusText = ok(emu(workDir, 'status', '--state', key.unitsDir, '--json'));
  const status = JSON.parse(statusText) as {
    instanceId: string;
    units: Array<{ id: string; state: string; masterKeyKcv: string | null; adminNames: string[] }>;
  };
  for (const u of status.units) expect([u.state, u.masterKeyKcv, u.adminNames]).toEqual(['cleared', null, []]);
  const statusFile = join(workDir, 'status.json');
  writeFileSync(statusFile, statusText);
  answer('openFile', statusFile);
  await app.getByRole('button', { name: 'Open the units’ status file…' }).click();
  await expect(app.getByText(`Status given for instance ${status.instanceId}.`)).toBeVisible();
  await app.getByRole('button', { name: 'Record that the key is destroyed' }).click();

  // Done: what was destroyed, and its shares refused.
  await expect(app.getByRole('heading', { name: 'The key is destroyed' })).toBeVisible();
  await expect(app.getByText(`units ${status.units.map((u) => u.id).join(', ')}: zeroized`)).toBeVisible();
  await expect(app.getByText(/Its shares are refused from now on/)).toBeVisible();
  // The record panel no longer says the units have admins: they are zeroized.
  await expect(app.getByText(/^None: the units are zeroized \(until then /)).toBeVisible();
  await shot('zeroize-done');
  await axe('zeroize-done');
  expect(bridge.dialogs.pending(), 'every scripted dialog was used').toBe(0);

  // After it: the record's report, its head hash, the witness named before to sign it.
  const report = printedText(await papers.printReport('zeroize-report'));
  expect(report).toContain(hexGroups(Buffer.from(headHash(readTranscript(key.record)), 'hex')).join(' '));
  expect(report).toContain('Wendy');

  const entries = readTranscript(key.record);
  expect(entries.at(-1)?.type).toBe('key-destroyed');
  const refused = await verifyShareAgainstRecord(
    key.record,
    new FileShareSource(key.shares[0]!, async () => Buffer.from(PASS)),
  ).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(CeremonyError);
  expect((refused as CeremonyError).code).toBe('ShareRetired');
  expect((refused as CeremonyError).message).toMatch(/destroyed/);
});

// Admin change in the app (issue 11, ceremony 3): a key in service on an
// emulated instance of 2 units claimed for Alice, Bob and Carol (signature
// and revocation thresholds 2), made by the CLI's core functions. Through
// the UI: the record opened (the units' admins and thresholds shown from
// it), both units confirmed, Dave added and Alice removed; a lock-out
// (signature threshold 4 for 3 admins) refused before anyone signs; the
// change built with thresholds 2 and 2, signed by Bob and Carol (the units'
// current admins; a removal needs max(signature, revocation) = 2), saved.
// The emulator ingests it and reports Bob, Carol and Dave with thresholds
// 2 and 2. Screenshots and axe at each step.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { hexGroups } from '../../src/core/ceremony/fingerprint.js';
import { headHash, readTranscript } from '../../src/core/ceremony/transcript.js';
import { generateFileIdentity } from '../../src/core/identity/identity.js';
import { emu, ok } from '../support/cli.js';
import { keyOnUnits } from '../support/key-on-units.js';
import { expect, test } from './fixtures.js';
import type { DialogKind } from './pages/ceremony-env.js';
import { PapersPart, printedText } from './pages/papers.js';
import { UnitsBundlePage } from './pages/units-bundle.js';

const PASS = 'admin change correct horse battery';

test('admin change: Dave added, Alice removed, a lock-out refused, signed by the current admins, ingested', async ({
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
    keyName: 'MKADMIN',
    admins: ['Alice', 'Bob', 'Carol'],
    signatureThreshold: 2,
    revocationThreshold: 2,
    passphrase: PASS,
  });
  const dave = join(workDir, 'dave.identity.pem');
  writeFileSync(dave, (await generateFileIdentity('Dave', Buffer.from(PASS))).text);
  const answer = (kind: DialogKind, path: string): void => bridge.dialogs.answer(kind, path);
  const wizard = new UnitsBundlePage(app, answer);

  await app.getByRole('button', { name: 'Change the admins' }).click();
  await expect(app.getByRole('heading', { name: 'Change the admins', level: 2 })).toBeVisible();
  await shot('admin-change-start');
  await axe('admin-change-start');

  // 1. The record: the units' admins and thresholds, as it knows them.
  await wizard.openRecord(key.record);
  await expect(app.getByText('Alice, Bob, Carol')).toBeVisible();
  await expect(app.getByText('signature 2, revocation 2')).toBeVisible();

  // 2. The units, each confirmed against its display.
  await wizard.loadUnits(key.transports);
  await shot('admin-change-units');
  await axe('admin-change-units');
  await app.getByRole('button', { name: 'Continue' }).click();

  // 3. The change: Dave in, Alice out.
  await expect(app.getByRole('heading', { name: '3. The change' })).toBeVisible();
  answer('openFile', dave);
  await app.getByRole('button', { name: 'Add an admin’s certificate…' }).click();
  await expect(app.getByRole('button', { name: 'Do not add Dave' })).toBeVisible();
  await app.getByRole('button', { name: 'Remove Alice' }).click();
  await expect(app.getByRole('button', { name: 'Keep Alice' })).toBeVisible();
  await expect(app.getByText('After this change the units will have 3 admins.')).toBeVisible();
  await expect(app.getByText(/How many admins must agree to remove an admin/)).toBeVisible();
  await shot('admin-change-change');
  await axe('admin-change-change');

  // A lock-out: a signature threshold above the admins left is refused before anyone signs.
  await app.getByLabel('New signature threshold').fill('4');
  await app.getByRole('button', { name: 'Build the admin change' }).click();
  await expect(app.getByRole('alert')).toContainText('lock-out');
  await expect(app.getByRole('heading', { name: '3. The change' })).toBeVisible();
  await shot('admin-change-lockout-refused');
  await axe('admin-change-lockout-refused');
  expect(
    readTranscript(key.record).some((e) => e.type === 'bundle-created' && e.data['operation'] === 'admin-change'),
  ).toBe(false);

  await app.getByLabel('New signature threshold').fill('2');
  await app.getByLabel('New revocation threshold').fill('2');

  // Before anyone signs: the ceremony script, with the thresholds typed and a witness.
  const papers = new PapersPart(app, { answer, printed: bridge.printed, shot, axe });
  await papers.names('Olga', ['Wendy']);
  const script = printedText(await papers.printScript('admin-change-script'));
  expect(script).toContain('Ceremony script — Admin change ceremony');
  for (const name of ['MKADMIN', 'Olga', 'Wendy', 'Alice', 'Bob', 'Carol', 'Dave']) expect(script).toContain(name);
  expect(script).toContain('2 signatures for any command; 2 to remove an admin');
  for (const t of key.transports) {
    const fp = (JSON.parse(readFileSync(t, 'utf8')) as { fingerprint: string }).fingerprint;
    expect(script).toContain(hexGroups(Buffer.from(fp, 'hex')).join(' '));
  }
  expect(script).toContain('Initials');
  await app.getByRole('button', { name: 'Build the admin change' }).click();

  // 4. Bob and Carol, current admins, sign; Dave (being added) may not.
  await expect(app.getByRole('heading', { name: '4. The units’ admins sign the bundle' })).toBeVisible();
  await expect(app.getByText('0 of 2')).toBeVisible();
  await shot('admin-change-signing');
  await axe('admin-change-signing');
  // An admin may sign with their card instead (slot 9C, reader and PIN).
  await app.getByLabel('On a smart card (PIN)').check();
  await expect(app.getByRole('button', { name: 'Sign with my card' })).toBeVisible();
  await shot('admin-change-signing-card');
  await axe('admin-change-signing-card');
  await app.getByLabel('In an identity file (passphrase)').check();
  await wizard.signWith(dave, PASS);
  await expect(app.getByRole('alert')).toContainText('not a current admin of the units');
  for (const n of ['Bob', 'Carol']) await wizard.signWith(key.identities[n]!, PASS);
  await expect(app.getByText('2 of 2 (Bob, Carol)')).toBeVisible();
  const bundle = await wizard.saveInto(join(workDir, 'out'));
  await expect(app.getByRole('heading', { name: 'The admin change bundle is saved' })).toBeVisible();
  await shot('admin-change-done');
  await axe('admin-change-done');
  expect(bridge.dialogs.pending(), 'every scripted dialog was used').toBe(0);

  // After it: the record's report, its head hash, the witness named before to sign it.
  const report = printedText(await papers.printReport('admin-change-report'));
  expect(report).toContain(hexGroups(Buffer.from(headHash(readTranscript(key.record)), 'hex')).join(' '));
  expect(report).toContain('Wendy');

  // The record holds the change and both signatures.
  const entries = readTranscript(key.record);
  expect(entries.slice(-3).map((e) => [e.type, e.actor])).toEqual([
    ['bundle-created', 'operator'],
    ['bundle-signed', 'Bob'],
    ['bundle-signed', 'Carol'],
  ]);

  // The units ingest it: Bob, Carol and Dave, thresholds 2 and 2.
  expect(basename(bundle)).toMatch(/^bundle-admin-change-2-[0-9a-f]{8}\.json$/);
  const ingest = emu(workDir, 'ingest', '--state', key.unitsDir, bundle);
  expect(ingest.code, ingest.stderr).toBe(0);
  const status = JSON.parse(ok(emu(workDir, 'status', '--state', key.unitsDir, '--json'))) as {
    units: Array<{ adminNames: string[]; signatureThreshold: number; revocationThreshold: number }>;
  };
  expect(status.units).toHaveLength(2);
  for (const u of status.units) {
    expect([...u.adminNames].sort()).toEqual(['Bob', 'Carol', 'Dave']);
    expect([u.signatureThreshold, u.revocationThreshold]).toEqual([2, 2]);
  }
});

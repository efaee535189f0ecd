// Issue 11, "Rehearsal mode", for the later ceremonies: right after the
// initial ceremony is rehearsed (rehearsal-flow.ts), in the same page, its
// key is rotated in rehearsal. The record decides the mode: the rotation
// finds the rehearsal units the key lives on from the record, writes Dora's
// new share on her virtual card (beside her old one) and Hank's and Ivy's to
// files, reads Dora's back from the card for the bundle, Alice signs with her
// virtual card and Bob with his file; the bundle is loaded into the rehearsal
// units, whose own status retires the old key. The REHEARSAL banner is on
// every step; every file is REHEARSAL-…; no real card is ever asked for
// (the card service is absent). Screenshots and axe at every step.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect as baseExpect } from '@playwright/test';
import { parseBundle } from '../../src/core/bundle/bundle.js';
import { readTranscript } from '../../src/core/ceremony/transcript.js';
import { PINS } from './ceremony-flow.js';
import { expect, test } from './fixtures.js';
import { passphraseOf } from './pages/ceremony-env.js';
import { button, SecretForm } from './pages/parts.js';
import {
  ADMIN_READER,
  DORA_READER,
  expectEveryEntryRehearsal,
  rehearsalInstanceStatus,
  rehearsedKeyForLater,
  useRehearsalUnits,
} from './rehearsal-flow.js';

const pass = (name: string): string => `${name} keeps a long passphrase on paper 7`;

test.use({ cardService: 'absent' });

test('the rehearsed key is rotated in rehearsal: its virtual cards and rehearsal units, REHEARSAL everywhere', async ({
  app,
  bridge,
  workDir,
  shot,
  axe,
}) => {
  test.setTimeout(480_000);
  const first = await rehearsedKeyForLater({ app, bridge, workDir, shot, axe });
  const { record: oldRecord, answer, check } = first;
  const secret = new SecretForm(app);

  // Back to the start screen; the rotation's first step has no record yet, so no banner.
  await button(app, 'Start over').click();
  await button(app, 'Rotate the master key').click();
  await expect(app.getByRole('heading', { name: 'Rotate the master key', level: 2 })).toBeVisible();

  // 1. The rehearsal's record: the rotation is a rehearsal from now on.
  answer('openFile', oldRecord);
  await button(app, 'Open the current key’s record…').click();
  await expect(app.getByRole('heading', { name: '2. Target units' })).toBeVisible();
  await check('rehearsal-rotation-units');

  // 2. The rehearsal units the key lives on, found from the record; each confirmed against its "display".
  await useRehearsalUnits(app);
  await check('rehearsal-rotation-units-confirmed');
  await button(app, 'Continue to the new key').click();

  // 3. The new key: Dora on her virtual card, Hank and Ivy on files.
  await expect(app.getByRole('heading', { name: '3. The new key' })).toBeVisible();
  await app.getByLabel('New key name', { exact: true }).fill('prodmk27');
  await app.getByLabel('Operator', { exact: true }).fill('Olivia Operator');
  await app.getByLabel('Shares needed to rebuild the new key (K)').fill('2');
  for (const [i, n] of ['Dora Custodian', 'Hank', 'Ivy'].entries())
    await app.getByLabel(`New custodian ${i + 1} name`).fill(n);
  await app.getByLabel('New custodian 1 medium').selectOption('card');
  await check('rehearsal-rotation-new-key');
  await button(app, 'Continue: the new custodians’ shares').click();

  // 4. Each new custodian's turn.
  await expect(app.getByRole('heading', { name: '4. The new custodians of “prodmk27”' })).toBeVisible();
  await expect(
    app.getByRole('heading', { name: 'Pass the keyboard to Dora Custodian: new share 1 of 3' }),
  ).toBeVisible();
  await secret.cardPin(DORA_READER, PINS.dora);
  await check('rehearsal-rotation-card-custodian');
  await button(app, 'Check and use this card').click();
  // The name typed in the save dialog; the app saves it as REHEARSAL-… (savedShare).
  const newShare = (n: string): string => join(first.mediaDir, `prodmk27-${n.toLowerCase()}.keyshare`);
  const savedShare = (n: string): string => join(first.mediaDir, `REHEARSAL-prodmk27-${n.toLowerCase()}.keyshare`);
  for (const [i, n] of [
    [2, 'Hank'],
    [3, 'Ivy'],
  ] as const) {
    await expect(app.getByRole('heading', { name: `Pass the keyboard to ${n}: new share ${i} of 3` })).toBeVisible();
    await secret.newPassphrase(pass(n));
    answer('saveFile', newShare(n));
    await button(app, 'Choose where to save the share…').click();
  }
  await expect(app.getByText(/Share 3: Ivy, file — ready/)).toBeVisible();
  await check('rehearsal-rotation-custodians-ready');
  const newRecordDir = join(first.mediaDir, 'record-prodmk27');
  mkdirSync(newRecordDir);
  answer('saveFile', join(newRecordDir, 'prodmk27.jsonl'));
  await button(app, 'Save the new key’s record and generate the key…').click();

  // 5. New shares for the bundle: Dora's read back from her virtual card, Hank's file.
  await expect(app.getByRole('heading', { name: '5. New shares for the rotate bundle' })).toBeVisible({
    timeout: 120_000,
  });
  const newRecord = join(newRecordDir, 'REHEARSAL-prodmk27.jsonl');
  const newKcv = readTranscript(newRecord).find((e) => e.type === 'master-key-generated')!.data['kcv'] as string;
  await expect(app.getByText(`is generated: KCV ${newKcv}`, { exact: false })).toBeVisible();
  await check('rehearsal-rotation-new-key-generated');
  await app.getByLabel('On a smart card (PIN)').check();
  await secret.cardPin(DORA_READER, PINS.dora);
  await button(app, 'Present this share').click();
  await expect(app.getByText(/1 of 2 new shares presented: share 1 \(Dora Custodian\)/)).toBeVisible({
    timeout: 60_000,
  });
  await app.getByLabel('In a share file (passphrase)').check();
  await secret.enterPassphrase(pass('Hank'));
  answer('openFile', savedShare('Hank'));
  await button(app, 'Present this share').click();
  await expect(app.getByText(/2 of 2 new shares presented/)).toBeVisible();
  await check('rehearsal-rotation-shares-presented');
  await button(app, 'Build the rotate bundle').click();

  // 6. The units' admins sign: Alice with her virtual card, Bob with his file.
  await expect(app.getByRole('heading', { name: '6. The units’ admins sign the bundle' })).toBeVisible();
  await check('rehearsal-rotation-signing');
  await app.getByLabel('On a smart card (PIN)').check();
  await secret.cardPin(ADMIN_READER, PINS.alice);
  await button(app, 'Sign with my card').click();
  await expect(app.getByText(/1 of 2 \(Alice Admin\)/)).toBeVisible({ timeout: 60_000 });
  await app.getByLabel('In an identity file (passphrase)').check();
  await secret.enterPassphrase(passphraseOf('Bob Admin'));
  answer('openFile', join(first.mediaDir, 'REHEARSAL-bob.identity.pem'));
  await button(app, 'Open my identity file and sign…').click();
  await expect(app.getByText('2 of 2 (Alice Admin, Bob Admin)')).toBeVisible();
  const out = join(first.mediaDir, 'rotation');
  mkdirSync(out);
  answer('chooseFolder', out);
  await button(app, 'Save the bundle…').click();

  // 7. The bundle loaded into the rehearsal units; their own status retires the old key.
  await expect(app.getByRole('heading', { name: '7. The units’ report' })).toBeVisible();
  await check('rehearsal-rotation-saved');
  await button(app, 'Load into the rehearsal units').click();
  await expect(app.getByRole('heading', { name: 'The key is rotated' })).toBeVisible({ timeout: 60_000 });
  const table = app.getByRole('table', { name: 'What the rehearsal units report after the bundle' });
  await expect(table.getByRole('row').filter({ hasText: 'accepted' })).toHaveCount(2);
  await expect(table).toContainText(newKcv);
  await expect(app.getByText(/its shares are now refused/)).toBeVisible();
  await check('rehearsal-rotation-done');
  expect(bridge.dialogs.pending(), 'every scripted dialog was used').toBe(0);

  // No real card was asked for: the card service is absent, and no call failed for it.
  baseExpect(bridge.calls.filter((c) => c.code === 'NoPcscd')).toEqual([]);

  // Every file the rotation saved is named REHEARSAL-…; the bundle is a rehearsal rotate bundle.
  const [bundleFile, ...more] = readdirSync(out);
  expect(more).toEqual([]);
  expect(bundleFile).toMatch(/^REHEARSAL-bundle-rotate-/);
  expect(parseBundle(readFileSync(join(out, bundleFile!), 'utf8')).payload.rehearsal).toBe(true);
  expect(readdirSync(newRecordDir)).toEqual(['REHEARSAL-prodmk27.jsonl']);
  expect(readdirSync(first.mediaDir).filter((f) => f.includes('prodmk27-'))).toEqual([
    'REHEARSAL-prodmk27-hank.keyshare',
    'REHEARSAL-prodmk27-ivy.keyshare',
  ]);
  // The new record opens in rehearsal mode; the old one ends with key-retired.
  const opened = readTranscript(newRecord)[0]!;
  expect(opened.data['mode']).toBe('rehearsal');
  const retired = readTranscript(oldRecord).at(-1)!;
  expect(retired.type).toBe('key-retired');
  // Every entry of both records says rehearsal, the rotation's and the units' report's included.
  for (const record of [oldRecord, newRecord]) expectEveryEntryRehearsal(record);

  // The rehearsal instance's end state: new key current, old key old, in rehearsal mode.
  const status = rehearsalInstanceStatus(workDir);
  expect(status.rehearsal).toBe(true);
  expect(status.units.map((u) => [u.masterKeyKcv?.toUpperCase(), u.oldMasterKeyKcv?.toUpperCase()])).toEqual([
    [newKcv.toUpperCase(), first.kcv],
    [newKcv.toUpperCase(), first.kcv],
  ]);
});

// Issue 11, "Rehearsal mode", for the admin change and the zeroize: right
// after the initial ceremony is rehearsed (rehearsal-flow.ts), in the same
// page, its key's admins change in rehearsal, then its units are zeroized in
// rehearsal. The record decides the mode: each wizard finds the rehearsal
// units the key lives on from the record and offers the rehearsal's virtual
// card readers only. The admin change adds Dave and removes Carol
// (thresholds 2 and 2), signed by Alice (virtual card), Bob and Carol
// (files): a removal needs max(2, 3) = 3. The zeroize is then signed by the
// units' admins after the change, Dave and Alice (Carol is refused), and
// loaded into the rehearsal units, whose own status records the key's end
// (key-destroyed). The REHEARSAL banner is on every step once the record is
// open; every bundle is REHEARSAL-…; every record entry says rehearsal; the
// ceremony scripts and the report say REHEARSAL; no real card is asked for
// (the card service is absent). Screenshots and axe at every step.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expect as baseExpect } from '@playwright/test';
import { parseBundle } from '../../src/core/bundle/bundle.js';
import { readTranscript } from '../../src/core/ceremony/transcript.js';
import { generateFileIdentity } from '../../src/core/identity/identity.js';
import { PINS } from './ceremony-flow.js';
import { expect, test } from './fixtures.js';
import { passphraseOf } from './pages/ceremony-env.js';
import { PapersPart, printedText } from './pages/papers.js';
import { button } from './pages/parts.js';
import { UnitsBundlePage } from './pages/units-bundle.js';
import {
  ADMIN_READER,
  BANNER,
  expectEveryEntryRehearsal,
  expectRehearsalReadersOnly,
  rehearsalInstanceStatus,
  rehearsedKeyForLater,
  useRehearsalUnits,
} from './rehearsal-flow.js';

test.use({ cardService: 'absent' });

/** A rehearsal bundle: saved as REHEARSAL-bundle-<operation>-…, its payload marked rehearsal. */
function expectRehearsalBundle(path: string, operation: string): void {
  expect(basename(path)).toMatch(new RegExp(`^REHEARSAL-bundle-${operation}-\\d+-[0-9a-f]{8}\\.json$`));
  const payload = parseBundle(readFileSync(path, 'utf8')).payload;
  expect(payload.rehearsal).toBe(true);
  expect(payload.operation).toBe(operation);
}

test('the rehearsed key’s admins change, then its units are zeroized, in rehearsal: virtual cards, rehearsal units, REHEARSAL everywhere', async ({
  app,
  bridge,
  workDir,
  shot,
  axe,
}) => {
  test.setTimeout(480_000);
  const first = await rehearsedKeyForLater({ app, bridge, workDir, shot, axe });
  const { record, answer, check } = first;
  const wizard = new UnitsBundlePage(app, answer);
  /**
   * The wizard's steps 1 and 2 from the start screen: no banner before the
   * record (it decides the mode); the record's admins and thresholds; the
   * rehearsal units the key lives on, found from the record, each confirmed
   * against its "display".
   */
  const recordAndUnits = async (title: string, name: string, admins: string, thresholds: string): Promise<void> => {
    await button(app, title).click();
    await expect(app.getByRole('heading', { name: title, level: 2 })).toBeVisible();
    await expect(app.getByText(BANNER)).toHaveCount(0);
    await shot(`rehearsal-${name}-start`);
    await axe(`rehearsal-${name}-start`);
    await wizard.openRecord(record);
    await expect(app.getByText(/REHEARSAL: this record’s key lives in a rehearsal/)).toBeVisible();
    await expect(app.getByText(admins)).toBeVisible();
    await expect(app.getByText(thresholds)).toBeVisible();
    await check(`rehearsal-${name}-units`);
    await useRehearsalUnits(app);
    await check(`rehearsal-${name}-units-confirmed`);
    await button(app, 'Continue').click();
  };
  const papers = new PapersPart(app, { answer, printed: bridge.printed, shot, axe });
  /** The ceremony script, printed before anyone signs: REHEARSAL in its title and atop every page. */
  const printRehearsalScript = async (name: string, title: string): Promise<void> => {
    await papers.names('Olivia Operator', ['Wendy Witness']);
    const script = printedText(await papers.printScript(`rehearsal-${name}-script`));
    expect(script).toContain(`REHEARSAL — Ceremony script — ${title}`);
    expect(script).toContain('REHEARSAL — virtual cards and units only; nothing made here is for production');
  };
  const bob = join(first.mediaDir, 'REHEARSAL-bob.identity.pem');
  const carol = first.env.carolIdentityFile;
  // Dave, the admin to add, brings an identity file of his own.
  const dave = join(first.mediaDir, 'dave.identity.pem');
  writeFileSync(dave, (await generateFileIdentity('Dave Admin', Buffer.from(passphraseOf('Dave Admin')))).text);

  // ---- Admin change: steps 1 and 2 on the rehearsal's record and units ----
  await button(app, 'Start over').click();
  await recordAndUnits(
    'Change the admins',
    'admin-change',
    'Alice Admin, Bob Admin, Carol Admin',
    'signature 2, revocation 3',
  );

  // 3. The change: Dave in, Carol out, thresholds 2 and 2.
  await expect(app.getByRole('heading', { name: '3. The change' })).toBeVisible();
  answer('openFile', dave);
  await button(app, 'Add an admin’s certificate…').click();
  await expect(button(app, 'Do not add Dave Admin')).toBeVisible();
  await button(app, 'Remove Carol Admin').click();
  await expect(button(app, 'Keep Carol Admin')).toBeVisible();
  await app.getByLabel('New signature threshold').fill('2');
  await app.getByLabel('New revocation threshold').fill('2');
  await expect(app.getByText(/it removes an admin, so 3 of Alice Admin, Bob Admin, Carol Admin/)).toBeVisible();
  await check('rehearsal-admin-change-change');
  await printRehearsalScript('admin-change', 'Admin change ceremony');
  await button(app, 'Build the admin change').click();

  // 4. The units' current admins sign: Alice with her virtual card (the rehearsal's readers only), Bob and Carol with files.
  await expect(app.getByRole('heading', { name: '4. The units’ admins sign the bundle' })).toBeVisible();
  await expect(app.getByText('0 of 3')).toBeVisible();
  await check('rehearsal-admin-change-signing');
  await wizard.signWithCard(ADMIN_READER, PINS.alice, async () => {
    await expectRehearsalReadersOnly(app);
    await check('rehearsal-admin-change-signing-card');
  });
  await expect(app.getByText(/1 of 3 \(Alice Admin\)/)).toBeVisible({ timeout: 60_000 });
  await wizard.signWith(bob, passphraseOf('Bob Admin'));
  await expect(app.getByText(/2 of 3 \(Alice Admin, Bob Admin\)/)).toBeVisible();
  await wizard.signWith(carol, passphraseOf('Carol Admin'));
  await expect(app.getByText('3 of 3 (Alice Admin, Bob Admin, Carol Admin)')).toBeVisible();
  const adminChange = await wizard.saveInto(join(first.mediaDir, 'admin-change'));
  expectRehearsalBundle(adminChange, 'admin-change');

  // 5. Saved as REHEARSAL-…, then loaded into the rehearsal units.
  await expect(app.getByRole('heading', { name: 'The admin change bundle is saved' })).toBeVisible();
  await expect(app.getByText(basename(adminChange), { exact: false })).toBeVisible();
  await check('rehearsal-admin-change-saved');
  await button(app, 'Load into the rehearsal units').click();
  const table = app.getByRole('table', { name: 'What the rehearsal units report after the bundle' });
  await expect(table.getByRole('row').filter({ hasText: 'accepted' })).toHaveCount(2, { timeout: 60_000 });
  await check('rehearsal-admin-change-done');
  // The rehearsal instance now has Alice, Bob and Dave, thresholds 2 and 2, and still the key.
  const changed = rehearsalInstanceStatus(workDir);
  expect(changed.rehearsal).toBe(true);
  for (const u of changed.units) {
    expect([...u.adminNames].sort()).toEqual(['Alice Admin', 'Bob Admin', 'Dave Admin']);
    expect([u.signatureThreshold, u.revocationThreshold]).toEqual([2, 2]);
    expect(u.masterKeyKcv?.toUpperCase()).toBe(first.kcv);
  }

  // ---- Zeroize: the same record, its units' admins after the change ----
  await button(app, 'Back to the start screen').click();
  await recordAndUnits(
    'Zeroize the units (decommission)',
    'zeroize',
    'Alice Admin, Bob Admin, Dave Admin',
    'signature 2, revocation 2',
  );

  // 3. The irreversible action, confirmed by typing the key's name.
  await expect(app.getByRole('heading', { name: '3. Confirm the zeroize' })).toBeVisible();
  await app.getByLabel('Type the key’s name to confirm').fill('prodmk26');
  await check('rehearsal-zeroize-confirm');
  await printRehearsalScript('zeroize', 'Zeroize ceremony');
  await button(app, 'Build the zeroize bundle').click();

  // 4. Dave (added by the change) and Alice sign; Carol (removed) is refused.
  await expect(app.getByRole('heading', { name: '4. The units’ admins sign the bundle' })).toBeVisible();
  await expect(app.getByText(/ZEROIZE 2 units/)).toBeVisible();
  await check('rehearsal-zeroize-signing');
  await wizard.signWith(carol, passphraseOf('Carol Admin'));
  await expect(app.getByRole('alert')).toContainText('not a current admin of the units');
  await check('rehearsal-zeroize-removed-admin-refused');
  await wizard.signWith(dave, passphraseOf('Dave Admin'));
  await expect(app.getByText(/1 of 2 \(Dave Admin\)/)).toBeVisible();
  await wizard.signWithCard(ADMIN_READER, PINS.alice, async () => {
    await expectRehearsalReadersOnly(app);
    await check('rehearsal-zeroize-signing-card');
  });
  await expect(app.getByText('2 of 2 (Dave Admin, Alice Admin)')).toBeVisible({ timeout: 60_000 });
  const zeroize = await wizard.saveInto(join(first.mediaDir, 'zeroize'));
  expectRehearsalBundle(zeroize, 'zeroize');

  // 5. The units' confirmation: from the rehearsal instance's own status, not an exported file.
  await expect(app.getByRole('heading', { name: '5. The units’ confirmation' })).toBeVisible();
  await check('rehearsal-zeroize-saved');
  await button(app, 'Load into the rehearsal units').click();
  await expect(app.getByRole('heading', { name: 'The key is destroyed' })).toBeVisible({ timeout: 60_000 });
  const cleared = rehearsalInstanceStatus(workDir);
  expect(cleared.instanceId).toBe(changed.instanceId);
  expect(cleared.rehearsal).toBe(true);
  for (const u of cleared.units) expect([u.state, u.masterKeyKcv, u.adminNames]).toEqual(['cleared', null, []]);
  await expect(table.getByRole('row').filter({ hasText: 'accepted' })).toHaveCount(2);
  await expect(app.getByText(`units ${cleared.units.map((u) => u.id).join(', ')}: zeroized`)).toBeVisible();
  await expect(app.getByText(/Its shares are refused from now on/)).toBeVisible();
  await check('rehearsal-zeroize-done');
  // The record's report says so too, and names the witness.
  const report = printedText(await papers.printReport('rehearsal-zeroize-report'));
  expect(report).toContain('REHEARSAL: no key or share in this record is for production use');
  expect(report).toContain('Wendy Witness');
  expect(bridge.dialogs.pending(), 'every scripted dialog was used').toBe(0);

  // No real card was asked for: the card service is absent, and no call failed for it.
  baseExpect(bridge.calls.filter((c) => c.code === 'NoPcscd')).toEqual([]);

  // The record: the change and the zeroize, each bundle a rehearsal bundle, and the key's end from the instance.
  const entries = readTranscript(record);
  const created = entries.filter((e) => e.type === 'bundle-created').map((e) => e.data['operation']);
  expect(created).toEqual(['initialize', 'admin-change', 'zeroize']);
  const end = entries.at(-1)!;
  expect(end.type).toBe('key-destroyed');
  expect((end.data['instances'] as Array<{ instanceId: string }>).map((i) => i.instanceId)).toEqual([
    cleared.instanceId,
  ]);
  expectEveryEntryRehearsal(record);
  // The bundles are the only files each save made.
  expect(readdirSync(join(first.mediaDir, 'admin-change'))).toEqual([basename(adminChange)]);
  expect(readdirSync(join(first.mediaDir, 'zeroize'))).toEqual([basename(zeroize)]);
});

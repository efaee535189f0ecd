// Issue 11, "Rehearsal mode", through the real renderer in Debian's Chromium
// and the test-only bridge: the whole ceremony rehearsed on the app's own
// in-process virtual cards (factory-fresh, prepared in the wizard) and
// in-process rehearsal units, with no card service at all (pcscd "absent":
// a real card is never asked for). The REHEARSAL banner is on every screen;
// every file saved is named REHEARSAL-…; the record opens with mode
// "rehearsal" and every entry says rehearsal; the units take the rehearsal
// bundle, and the emulator reports them kms-initialized in rehearsal mode.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { expect as baseExpect, type Page } from '@playwright/test';
import { parseBundle } from '../../src/core/bundle/bundle.js';
import { readTranscript } from '../../src/core/ceremony/transcript.js';
import { REHEARSAL_READERS } from '../../src/main/rehearsal.js';
import { emu, ok } from '../support/cli.js';
import { carolIdentity, PINS } from './ceremony-flow.js';
import { expect, test } from './fixtures.js';
import { AdminsPage } from './pages/admins.js';
import { BundlePage } from './pages/bundle.js';
import { ROSTER, type FlowEnv } from './pages/ceremony-env.js';
import { ClosePage } from './pages/close.js';
import { MasterKeyPage } from './pages/master-key.js';
import { button, Handoff, ReaderPicker } from './pages/parts.js';
import { SetupPage } from './pages/setup.js';
import { SharesPage } from './pages/shares.js';
import { UnitsPage } from './pages/units.js';

const BANNER = 'REHEARSAL — no real key, card or unit is used';
const [ADMIN_READER, DORA_READER, ERIN_READER] = REHEARSAL_READERS as [string, string, string];
const PUK = '27182818';

/** The banner, a status region, is on the screen. */
async function expectBanner(page: Page): Promise<void> {
  await expect(page.getByRole('status').filter({ hasText: BANNER })).toBeVisible();
}

/** Prepares the factory-fresh virtual card in `reader` (factory PIN 123456) with a new PIN and PUK. */
async function prepareCard(page: Page, reader: string, pin: string): Promise<void> {
  await new ReaderPicker(page).choose(reader);
  const care = page.getByRole('group', { name: /still has its factory PIN/ });
  await expect(care).toBeVisible();
  await care.getByLabel('Current PIN', { exact: true }).fill('123456');
  await care.getByLabel('New PIN', { exact: true }).fill(pin);
  await care.getByLabel('Repeat the new PIN', { exact: true }).fill(pin);
  await care.getByLabel('New PUK', { exact: true }).fill(PUK);
  await care.getByLabel('Repeat the new PUK', { exact: true }).fill(PUK);
  await care.getByRole('button', { name: 'Prepare the card' }).click();
  await expect(page.getByText(/is prepared\. Use its new PIN/)).toBeVisible({ timeout: 60_000 });
}

test.use({ cardService: 'absent' });

test('a whole ceremony rehearsed on virtual cards and rehearsal units, marked REHEARSAL everywhere', async ({
  app,
  bridge,
  workDir,
  shot,
  axe,
}) => {
  test.setTimeout(300_000);
  const mediaDir = join(workDir, 'usb');
  const recordDir = join(mediaDir, 'record');
  mkdirSync(recordDir, { recursive: true });
  // Mutable: Erin's card sits in the third rehearsal reader (there is no card to swap in).
  const readers = { admin: ADMIN_READER, custodian: DORA_READER };
  const env: FlowEnv = {
    page: app,
    answer: async (kind, path) => bridge.dialogs.answer(kind, path),
    shot,
    axe,
    transportFiles: ['', ''], // the rehearsal units bring their own
    mediaDir,
    readers,
    pins: PINS,
    insertErinCard: async () => {
      readers.custodian = ERIN_READER;
    },
    carolIdentityFile: carolIdentity(workDir),
    recordFile: async (folder) =>
      join(
        folder,
        readdirSync(folder).find((f) => f.endsWith('.jsonl'))!,
      ),
    mistakes: false,
  };
  const roster = { ...ROSTER, ceremonyName: 'Rehearsal of the master key 2026' };

  // Start screen: "Rehearse a ceremony" beside "Start a new ceremony"; no banner yet.
  await expect(button(app, 'Start a new ceremony')).toBeVisible();
  await expect(app.getByText(BANNER)).toHaveCount(0);
  await shot('rehearsal-start');
  await axe('rehearsal-start');
  await button(app, 'Rehearse a ceremony').click();

  const setup = new SetupPage(app, env);
  await setup.expectCurrent();
  await expectBanner(app);
  await setup.describe(roster, { sharesNeeded: 3, signatures: 2, revocations: 3 });
  await setup.startCeremony(roster);

  const units = new UnitsPage(app, env);
  await units.expectCurrent();
  await expectBanner(app);
  await button(app, 'Use rehearsal units').click();
  await expect(units.confirmations).toHaveCount(2, { timeout: 120_000 });
  // The emulator's fingerprint stands for the display, and the screen says so.
  await expect(app.getByText(/rehearsal: reported by the in-process emulator/).first()).toBeVisible();
  await units.confirmAll();
  await units.continue();

  const admins = new AdminsPage(app, env);
  await admins.expectCurrent();
  await expectBanner(app);
  const [alice, bob, carol] = ROSTER.admins;
  await admins.showFirstHandoff(alice);
  await new Handoff(app).claimTurn(alice.name);
  await prepareCard(app, ADMIN_READER, PINS.alice);
  await shot('rehearsal-admin-card-prepared');
  await admins.createOnCard(ADMIN_READER, PINS.alice);
  await admins.showFingerprintAndClear('rehearsal-admin-card');
  await admins.identify(bob);
  await admins.identify(carol);
  await admins.continue();

  const masterKey = new MasterKeyPage(app, env);
  await masterKey.expectCurrent();
  await expectBanner(app);
  const kcv = (await masterKey.generate()).toUpperCase();
  await masterKey.continue();

  const shares = new SharesPage(app, env);
  await shares.expectCurrent();
  await expectBanner(app);
  const n = ROSTER.custodians.length;
  for (const [i, custodian] of ROSTER.custodians.entries()) {
    if (custodian.medium === 'card') {
      const pin = custodian.name === 'Dora Custodian' ? PINS.dora : PINS.erin;
      if (custodian.name === 'Erin Custodian') await env.insertErinCard(false);
      await new Handoff(app).claimTurn(custodian.name);
      await shares.prepareFactoryFreshCard(pin, PUK);
      await shares.writeToCardAndReadBack(pin);
      await shares.confirmHolding(custodian, i + 1, n);
    } else {
      await shares.handOut(custodian, i + 1, n);
    }
  }
  await shot('rehearsal-shares-done');
  await shares.continue();

  const bundle = new BundlePage(app, env);
  await bundle.expectCurrent();
  await expectBanner(app);
  await bundle.build();
  await bundle.signAsEveryAdmin(ROSTER);
  await bundle.saveTo(mediaDir);
  await bundle.continue();

  const close = new ClosePage(app, env);
  await close.expectCurrent();
  await expectBanner(app);
  await button(app, 'Load into the rehearsal units').click();
  const table = app.getByRole('table', { name: 'What the rehearsal units report after the bundle' });
  await expect(table).toBeVisible({ timeout: 60_000 });
  await expect(table.getByRole('row').filter({ hasText: 'kms-initialized' })).toHaveCount(2);
  await expect(table).toContainText(kcv);
  await shot('rehearsal-units-loaded');
  await axe('rehearsal-units-loaded');
  await close.wipeSaveAndPrint(recordDir);
  await expectBanner(app);
  expect(bridge.dialogs.pending(), 'every scripted dialog was used').toBe(0);

  // No real card was asked for: the card service is absent, and no call failed for it.
  baseExpect(bridge.calls.filter((c) => c.code === 'NoPcscd')).toEqual([]);

  // Every file the rehearsal saved is named REHEARSAL-…
  const savedFiles = readdirSync(mediaDir).filter((f) => f !== 'record');
  expect(savedFiles.sort()).toEqual([
    'REHEARSAL-bob.identity.pem',
    'REHEARSAL-bundle-prodmk26-1.json',
    'REHEARSAL-frank.keyshare',
    'REHEARSAL-grace.keyshare',
    'REHEARSAL-heidi.keyshare',
  ]);
  const recordFiles = readdirSync(recordDir);
  expect(recordFiles).toHaveLength(3);
  for (const f of recordFiles) expect(f).toMatch(/^REHEARSAL-ceremony-/);

  // The record opens with mode "rehearsal", and every entry says rehearsal.
  const entries = readTranscript(await env.recordFile(recordDir));
  expect(entries[0]!.data['mode']).toBe('rehearsal');
  expect(entries.filter((e) => e.data['rehearsal'] !== true).map((e) => `${e.seq} ${e.type}`)).toEqual([]);
  // The printed report is marked.
  expect(bridge.printed).toHaveLength(1);
  expect(bridge.printed[0]).toContain('REHEARSAL');

  // The bundle is a rehearsal bundle.
  const bundleText = readFileSync(join(mediaDir, 'REHEARSAL-bundle-prodmk26-1.json'), 'utf8');
  expect(parseBundle(bundleText).payload.rehearsal).toBe(true);

  // The emulator instance the rehearsal created: rehearsal mode, both units kms-initialized with the KCV shown.
  const records = join(workDir, 'app-records');
  const instances = readdirSync(records).filter((f) => f.startsWith('rehearsal-units-'));
  expect(instances).toHaveLength(1);
  const status = JSON.parse(ok(emu(workDir, 'status', '--state', join(records, instances[0]!), '--json'))) as {
    rehearsal: boolean;
    units: Array<{ state: string; masterKeyKcv: string | null }>;
  };
  expect(status.rehearsal).toBe(true);
  expect(status.units.map((u) => [u.state, u.masterKeyKcv?.toUpperCase()])).toEqual([
    ['kms-initialized', kcv],
    ['kms-initialized', kcv],
  ]);
});

// The initial ceremony rehearsed through the UI (issue 11, "Rehearsal
// mode"), step by step, for the specs that start from a rehearsed key
// (rehearsal.spec.ts checks what it leaves behind; rehearsal-later*.spec.ts
// run later ceremonies on it): the app's own virtual cards (factory-fresh,
// prepared in the wizard) and rehearsal units, the REHEARSAL banner asserted
// on every step, screenshots and axe scans along the way; and the checks
// those specs share.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { readTranscript } from '../../src/core/ceremony/transcript.js';
import type { InstanceStatus } from '../../src/emulator/instance.js';
import { REHEARSAL_READERS } from '../../src/main/rehearsal.js';
import { emu, ok } from '../support/cli.js';
import type { Bridge } from './bridge/bridge.js';
import { carolIdentity, PINS } from './ceremony-flow.js';
import { expect } from './fixtures.js';
import { AdminsPage } from './pages/admins.js';
import { BundlePage } from './pages/bundle.js';
import { ROSTER, type DialogKind, type FlowEnv } from './pages/ceremony-env.js';
import { ClosePage } from './pages/close.js';
import { MasterKeyPage } from './pages/master-key.js';
import { button, Handoff, ReaderPicker } from './pages/parts.js';
import { SetupPage } from './pages/setup.js';
import { SharesPage } from './pages/shares.js';
import { UnitsPage } from './pages/units.js';

export const BANNER = 'REHEARSAL — no real key, card or unit is used';
export const [ADMIN_READER, DORA_READER, ERIN_READER] = REHEARSAL_READERS as [string, string, string];
const PUK = '27182818';

/** The banner, a status region, is on the screen. */
export async function expectBanner(page: Page): Promise<void> {
  await expect(page.getByRole('status').filter({ hasText: BANNER })).toBeVisible();
}

/** A step of a rehearsal: the banner, a screenshot, an axe scan. */
export async function expectRehearsalStep(
  f: Pick<RehearsalFixtures, 'app' | 'shot' | 'axe'>,
  name: string,
): Promise<void> {
  await expectBanner(f.app);
  await f.shot(name);
  await f.axe(name);
}

/**
 * A later ceremony's units step on a rehearsal record: "Use the rehearsal
 * units" finds the instance the key lives on; each unit's "display" (the
 * in-process emulator's fingerprint) is confirmed.
 */
export async function useRehearsalUnits(page: Page): Promise<void> {
  await button(page, 'Use the rehearsal units').click();
  const confirm = page.getByRole('button', { name: /matches the unit’s display$/ });
  await expect(confirm).toHaveCount(2, { timeout: 60_000 });
  await expect(page.getByText(/rehearsal: reported by the in-process emulator/).first()).toBeVisible();
  for (let i = 0; i < 2; i++) await confirm.first().click();
  await expect(page.getByText('Confirmed: matches the unit’s display.')).toHaveCount(2);
}

/** The reader list offers the rehearsal's virtual readers and nothing else (no PC/SC, no warning about it). */
export async function expectRehearsalReadersOnly(page: Page): Promise<void> {
  const picker = page.getByRole('group', { name: 'Card reader' });
  await expect(picker.getByRole('radio')).toHaveCount(REHEARSAL_READERS.length);
  for (const [i, reader] of REHEARSAL_READERS.entries())
    await expect(picker.getByRole('radio').nth(i)).toHaveAccessibleName(reader);
  await expect(picker.getByText('The smart-card service is not running.')).toHaveCount(0);
}

/** Every entry of the record says rehearsal: true (the later ceremonies' and the units' reports' included). */
export function expectEveryEntryRehearsal(record: string): void {
  const unmarked = readTranscript(record).filter((e) => e.data['rehearsal'] !== true);
  expect(
    unmarked.map((e) => `${e.seq} ${e.type}`),
    `${record}: entries without rehearsal: true`,
  ).toEqual([]);
}

/** The emulator's own status of the one rehearsal instance the app made in its work folder. */
export function rehearsalInstanceStatus(workDir: string): InstanceStatus {
  const records = join(workDir, 'app-records');
  const instances = readdirSync(records).filter((f) => f.startsWith('rehearsal-units-'));
  expect(instances).toHaveLength(1);
  return JSON.parse(ok(emu(workDir, 'status', '--state', join(records, instances[0]!), '--json'))) as InstanceStatus;
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

/** The e2e fixtures a rehearsal spec passes on (fixtures.ts). */
export interface RehearsalFixtures {
  app: Page;
  bridge: Bridge;
  workDir: string;
  shot: (name: string) => Promise<void>;
  axe: (where: string) => Promise<void>;
}

export interface RehearsedKey {
  env: FlowEnv;
  /** Where the people kept their files (identity and share files, the bundle). */
  mediaDir: string;
  /** Where the record was saved (JSON Lines, HTML, PDF). */
  recordDir: string;
  /** The master key's KCV, upper case, as the wizard showed it. */
  kcv: string;
}

/**
 * The whole initial ceremony rehearsed, from the start screen's "Rehearse a
 * ceremony" to its record saved and printed, the bundle loaded into the
 * rehearsal units on the Close step.
 */
export async function rehearseInitialCeremony(f: RehearsalFixtures): Promise<RehearsedKey> {
  const { app, bridge, workDir, shot, axe } = f;
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
  return { env, mediaDir, recordDir, kcv };
}

/** A rehearsed key, ready for a later ceremony in the same page: its record, the dialogs' answers, the step check. */
export interface LaterRehearsal extends RehearsedKey {
  /** The rehearsed key's record (JSON Lines). */
  record: string;
  answer: (kind: DialogKind, path: string) => void;
  /** Every step: the banner, a screenshot, an axe scan. */
  check: (name: string) => Promise<void>;
}

/** The initial ceremony rehearsed (rehearseInitialCeremony), for a spec that runs a later ceremony on its key. */
export async function rehearsedKeyForLater(f: RehearsalFixtures): Promise<LaterRehearsal> {
  const first = await rehearseInitialCeremony(f);
  return {
    ...first,
    record: await first.env.recordFile(first.recordDir),
    answer: (kind, path) => f.bridge.dialogs.answer(kind, path),
    check: (name) => expectRehearsalStep(f, name),
  };
}

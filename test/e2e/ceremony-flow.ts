// The full ceremony, as the people in the room perform it through the
// wizard: 3 admins (one on a smart card), a 3-of-5 master key on two cards
// and three files, 2 crypto units. Shared by the Chromium spec (test bridge)
// and the Electron spec, which differ only in how a file dialog is answered
// and how cards are swapped.
import { expect, type Locator, type Page } from '@playwright/test';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { preparedCard } from '../support/cards.js';
import { emu, kc, ok } from '../support/cli.js';
import { startPcscStack, vpcdReaderName, type PcscStack } from '../support/pcsc-stack.js';

import type { DialogKind } from '../support/dialogs.js';

export type { DialogKind };

export interface FlowEnv {
  page: Page;
  /** Queues the answer to the next file dialog of that kind. */
  answer(kind: DialogKind, path: string): Promise<void>;
  shot(name: string): Promise<void>;
  axe(where: string): Promise<void>;
  /** The two transport key files the emulator exported. */
  transportFiles: [string, string];
  /** Where the people keep their files (identity and share files, the bundle, the record). */
  mediaDir: string;
  readers: { admin: string; custodian: string };
  pins: { alice: string; dora: string; erin: string };
  /** Puts Erin's card in the custodian reader, optionally rigged to be pulled during the write. */
  insertErinCard(pullDuringWrite: boolean): Promise<void>;
  /** Carol's identity file from an earlier ceremony, which she brings (passphrase: see passphraseOf). */
  carolIdentityFile: string;
  /** The ceremony record (JSON Lines) saved into that folder. */
  recordFile(folder: string): Promise<string>;
  /**
   * Exercise the mistakes a person can make (wrong PIN, blocked PIN, pulled
   * card, …) along the way. Dora's card is then factory-fresh and is
   * prepared in the wizard; otherwise it comes prepared with her PIN.
   */
  mistakes: boolean;
}

export const ROSTER = {
  ceremonyName: 'Production master key 2026',
  keyName: 'prodmk26',
  operator: 'Olivia Operator',
  admins: [
    { name: 'Alice Admin', medium: 'card' },
    { name: 'Bob Admin', medium: 'file' },
    { name: 'Carol Admin', medium: 'file' },
  ],
  custodians: [
    { name: 'Dora Custodian', medium: 'card' },
    { name: 'Erin Custodian', medium: 'card' },
    { name: 'Frank Custodian', medium: 'file' },
    { name: 'Grace Custodian', medium: 'file' },
    { name: 'Heidi Custodian', medium: 'file' },
  ],
  witnesses: ['Wendy Witness'],
} as const;

const DORA_PUK = '27182818';
export const passphraseOf = (name: string): string => `${name.toLowerCase()} correct horse battery`;

export interface FlowResult {
  kcv: string;
  bundleSha256: string;
  bundlePath: string;
  recordDir: string;
}

const button = (page: Page, name: string | RegExp): Locator =>
  page.getByRole('button', { name, exact: typeof name === 'string' });

/** The step the rail marks as current. */
async function expectCurrentStep(page: Page, title: string): Promise<void> {
  await expect(page.getByRole('navigation', { name: 'Ceremony steps' }).locator('[aria-current="step"]')).toContainText(
    title,
  );
}

async function chooseReader(page: Page, reader: string): Promise<void> {
  const radio = page.getByRole('radio', { name: new RegExp(reader) });
  // The list is polled from main every second; wait until the card is read.
  await expect(radio).toBeVisible();
  await expect(radio).toBeEnabled();
  await radio.check();
}

async function claimTurn(page: Page, name: string): Promise<void> {
  await expect(page.getByRole('heading', { name: `Pass the keyboard to ${name}` })).toBeVisible();
  const claim = button(page, `I am ${name}`);
  // Focus lands on the handoff button: the new person only presses Enter.
  await expect(claim).toBeFocused();
  await page.keyboard.press('Enter');
}

async function cardSecret(page: Page, reader: string, pin: string): Promise<void> {
  await chooseReader(page, reader);
  await page.getByLabel('PIN', { exact: true }).fill(pin);
}

async function newPassphrase(page: Page, passphrase: string): Promise<void> {
  await page.getByLabel('Passphrase', { exact: true }).fill(passphrase);
  await page.getByLabel('Repeat the passphrase', { exact: true }).fill(passphrase);
}

async function alertSays(page: Page, text: RegExp): Promise<void> {
  await expect(page.getByRole('alert').filter({ hasText: text })).toBeVisible();
}

export async function runCeremony(env: FlowEnv): Promise<FlowResult> {
  const { page } = env;

  // Start screen
  await expect(button(page, 'Start a new ceremony')).toBeVisible();
  await env.shot('start');
  await env.axe('start');
  await button(page, 'Start a new ceremony').click();

  // 1. Set up
  await expectCurrentStep(page, 'Set up');
  await page.getByLabel('Ceremony name', { exact: true }).fill(ROSTER.ceremonyName);
  await page.getByLabel('Key name', { exact: true }).fill(ROSTER.keyName);
  await page.getByLabel('Operator', { exact: true }).fill(ROSTER.operator);
  for (let i = 2; i < ROSTER.admins.length; i++) await button(page, 'Add admin').click();
  for (let i = 3; i < ROSTER.custodians.length; i++) await button(page, 'Add custodian').click();
  for (const [i, a] of ROSTER.admins.entries()) {
    await page.getByLabel(`Admin ${i + 1} name`, { exact: true }).fill(a.name);
    await page.getByLabel(`Admin ${i + 1} medium`, { exact: true }).selectOption(a.medium);
  }
  for (const [i, c] of ROSTER.custodians.entries()) {
    await page.getByLabel(`Custodian ${i + 1} name`, { exact: true }).fill(c.name);
    await page.getByLabel(`Custodian ${i + 1} medium`, { exact: true }).selectOption(c.medium);
  }
  await page.getByLabel('Witness 1 name', { exact: true }).fill(ROSTER.witnesses[0]);
  await page.getByLabel('Shares needed to recover (K)', { exact: true }).fill('3');
  await page.getByLabel('Signature threshold', { exact: true }).fill('2');
  await env.shot('setup');
  await env.axe('setup');
  await button(page, 'Start the ceremony').click();

  // The header names the ceremony and who is at the keyboard.
  const header = page.getByRole('banner');
  await expect(header).toContainText(ROSTER.ceremonyName);
  await expect(header).toContainText(ROSTER.operator);

  // 2. Target units
  await expectCurrentStep(page, 'Target units');
  for (const file of env.transportFiles) {
    await env.answer('openFile', file);
    await button(page, 'Load transport file…').click();
  }
  const confirmations = page.getByRole('checkbox', {
    name: /The fingerprint of .* matches the unit’s display|The fingerprint of .* matches the unit's display/,
  });
  await expect(confirmations).toHaveCount(2);
  if (env.mistakes) {
    // Only one fingerprint confirmed: the ceremony cannot go on.
    await confirmations.first().check();
    await expect(confirmations.first()).toBeChecked();
    const go = button(page, 'Continue');
    if (await go.isEnabled()) {
      await go.click();
      await alertSays(page, /confirm|fingerprint/i);
    } else {
      await expect(go).toBeDisabled();
    }
    await expectCurrentStep(page, 'Target units');
    await env.shot('units-one-unconfirmed');
  }
  for (const box of await confirmations.all()) if (!(await box.isChecked())) await box.check();
  await env.shot('units-confirmed');
  await env.axe('units');
  await button(page, 'Continue').click();

  // 3. Admin identities, one admin at a time
  await expectCurrentStep(page, 'Admin identities');
  for (const admin of ROSTER.admins) {
    if (admin === ROSTER.admins[0]) {
      await expect(page.getByRole('heading', { name: `Pass the keyboard to ${admin.name}` })).toBeVisible();
      await env.shot('admin-handoff');
      await env.axe('admin-handoff');
    }
    await claimTurn(page, admin.name);
    if (admin.medium === 'card') {
      await cardSecret(page, env.readers.admin, env.pins.alice);
      await env.shot('admin-card-pin');
      await env.axe('admin-card');
    } else if (admin.name === 'Carol Admin') {
      // Carol has an identity file from an earlier ceremony and brings it.
      await button(page, 'I already have an identity file').click();
      if (env.mistakes) {
        await page.getByLabel('Passphrase', { exact: true }).fill('not carol passphrase');
        await env.answer('openFile', env.carolIdentityFile);
        await button(page, 'Open my identity file…').click();
        await alertSays(page, /wrong passphrase/i);
      }
      await page.getByLabel('Passphrase', { exact: true }).fill(passphraseOf(admin.name));
      await env.answer('openFile', env.carolIdentityFile);
      await button(page, 'Open my identity file…').click();
    } else {
      await newPassphrase(page, passphraseOf(admin.name));
      await env.answer('saveFile', join(env.mediaDir, `${admin.name.split(' ')[0]!.toLowerCase()}.identity.pem`));
    }
    if (admin.name !== 'Carol Admin') await button(page, 'Create the identity').click();
    await expect(page.getByText(/fingerprint/i).first()).toBeVisible();
    if (admin.medium === 'file')
      await env.shot(admin.name === 'Carol Admin' ? 'admin-file-brought' : 'admin-file-created');
    await button(page, 'Done — clear the screen').click();
    // The screen is cleared before the next person: no secret field is left.
    await expect(page.getByLabel('PIN', { exact: true })).toHaveCount(0);
    await expect(page.getByLabel('Passphrase', { exact: true })).toHaveCount(0);
  }
  await button(page, 'Continue').click();

  // 4. Master key
  await expectCurrentStep(page, 'Master key');
  await button(page, 'Generate the master key').click();
  const kcvText = (await page.getByTestId('kcv').innerText()).replace(/\s+/g, '');
  expect(kcvText).toMatch(/^[0-9A-F]{6}$/i);
  await env.shot('master-key');
  await env.axe('master-key');
  await button(page, 'Continue').click();

  // 5. Shares, one custodian at a time
  await expectCurrentStep(page, 'Key shares');
  for (const [i, c] of ROSTER.custodians.entries()) {
    const index = i + 1;
    // Erin brings her card to the reader while the screen waits for her.
    if (c.name === 'Erin Custodian') await env.insertErinCard(env.mistakes);
    await claimTurn(page, c.name);
    const first = c.name.split(' ')[0]!.toLowerCase();
    if (c.medium === 'card') {
      const pin = first === 'dora' ? env.pins.dora : env.pins.erin;
      if (first === 'dora' && env.mistakes) {
        // Dora brought a new card: she prepares it here (new PIN and PUK).
        await chooseReader(page, env.readers.custodian);
        const care = page.getByRole('group', { name: /still has its factory PIN/ });
        await expect(care).toBeVisible();
        await env.shot('card-prepare');
        await env.axe('card-prepare');
        await care.getByLabel('Current PIN', { exact: true }).fill('123456');
        await care.getByLabel('New PIN', { exact: true }).fill('314159');
        await care.getByLabel('Repeat the new PIN', { exact: true }).fill('314159');
        await care.getByLabel('New PUK', { exact: true }).fill(DORA_PUK);
        await care.getByLabel('Repeat the new PUK', { exact: true }).fill(DORA_PUK);
        await care.getByRole('button', { name: 'Prepare the card' }).click();
        await expect(page.getByText(/is prepared\. Use its new PIN/)).toBeVisible({ timeout: 60_000 });
        await expect(page.getByRole('radio', { name: /Virtual PCD 00 01/ })).toHaveAccessibleDescription(
          /prepared, 3 PIN tries left/,
        );

        // A wrong PIN says how many tries are left; three block the PIN.
        await cardSecret(page, env.readers.custodian, '999999');
        await button(page, 'Write the share').click();
        await alertSays(page, /wrong PIN/i);
        await alertSays(page, /2 tries left/i);
        // The live reader status catches up with the card.
        await expect(page.getByRole('radio', { name: /Virtual PCD 00 01/ })).toHaveAccessibleDescription(
          /2 PIN tries left/,
        );
        await env.shot('share-wrong-pin');
        await env.axe('share-wrong-pin');
        for (let i = 0; i < 2; i++) {
          await cardSecret(page, env.readers.custodian, '999999');
          await button(page, 'Write the share').click();
          await expect(button(page, 'Write the share')).toBeEnabled();
        }
        await alertSays(page, /PIN is blocked/i);
        await alertSays(page, /PUK/);
        // Blocked: Dora unblocks it with her PUK and chooses the PIN she will keep.
        const unblock = page.getByRole('group', { name: /PIN of card \d+ is blocked/ });
        await expect(unblock).toBeVisible();
        await env.shot('card-pin-blocked');
        await unblock.getByLabel('PUK', { exact: true }).fill(DORA_PUK);
        await unblock.getByLabel('New PIN', { exact: true }).fill(pin);
        await unblock.getByLabel('Repeat the new PIN', { exact: true }).fill(pin);
        await unblock.getByRole('button', { name: 'Unblock the PIN' }).click();
        await expect(page.getByText(/is unblocked\. Use the new PIN/)).toBeVisible({ timeout: 60_000 });
      }
      if (first === 'erin') {
        if (env.mistakes) {
          // Her card is rigged to be pulled out half-way through the write.
          await cardSecret(page, env.readers.custodian, pin);
          await button(page, 'Write the share').click();
          await alertSays(page, /removed/i);
          await alertSays(page, /nothing was written/i);
          await env.shot('share-card-pulled');
          await env.insertErinCard(false);
        }
      }
      await cardSecret(page, env.readers.custodian, pin);
      await button(page, 'Write the share').click();
      await expect(button(page, 'Read it back')).toBeVisible({ timeout: 60_000 });
      // Live status: the other reader holds Alice's card, which is not the one that holds this share.
      await expect(page.getByRole('radio', { name: env.readers.admin })).toHaveAccessibleDescription(/wrong card/i);
      await cardSecret(page, env.readers.custodian, pin);
      await button(page, 'Read it back').click();
    } else {
      await newPassphrase(page, passphraseOf(c.name));
      await env.answer('saveFile', join(env.mediaDir, `${first}.keyshare`));
      await button(page, 'Write the share').click();
      await expect(button(page, 'Read it back')).toBeVisible({ timeout: 60_000 });
      if (first === 'frank' && env.mistakes) {
        await page.getByLabel('Passphrase', { exact: true }).fill('not what frank chose');
        await button(page, 'Read it back').click();
        await alertSays(page, /wrong passphrase/i);
        await env.shot('share-wrong-passphrase');
      }
      await page.getByLabel('Passphrase', { exact: true }).fill(passphraseOf(c.name));
      await button(page, 'Read it back').click();
    }
    const statement = page.getByRole('checkbox', {
      name: new RegExp(`I, ${c.name}, hold share ${index} of ${ROSTER.custodians.length}`),
    });
    await expect(statement).toBeVisible({ timeout: 60_000 });
    if (index === 1) {
      await env.shot('share-confirm');
      await env.axe('share-confirm');
    }
    await statement.check();
    await button(page, 'Confirm').click();
  }
  await env.shot('shares-done');
  await button(page, 'Continue').click();

  // 6. Bundle: every admin signs (a first bundle installs them all)
  await expectCurrentStep(page, 'Import bundle');
  await button(page, 'Build the import bundle').click();
  for (const admin of ROSTER.admins) {
    await claimTurn(page, admin.name);
    // Each signer sees what the bundle makes the units do before the PIN or passphrase (issue 8, hole 3).
    const summary = page.getByTestId('bundle-summary');
    await expect(summary).toContainText('Initialize 2 units: claim them for 3 admins');
    await expect(summary).toContainText(`${ROSTER.keyName}, KCV`);
    for (const a of ROSTER.admins) await expect(summary).toContainText(a.name);
    if (admin.medium === 'card') {
      await cardSecret(page, env.readers.admin, env.pins.alice);
    } else {
      await page.getByLabel('Passphrase', { exact: true }).fill(passphraseOf(admin.name));
    }
    if (admin === ROSTER.admins[0]) {
      await env.shot('bundle-sign');
      await env.axe('bundle-sign');
    }
    await button(page, 'Sign the bundle').click();
    await button(page, 'Done — clear the screen').click();
  }
  await env.answer('chooseFolder', env.mediaDir);
  await button(page, 'Save the bundle…').click();
  const bundleSha256 = (await page.getByTestId('bundle-sha256').innerText()).replace(/\s+/g, '').toLowerCase();
  expect(bundleSha256).toMatch(/^[0-9a-f]{64}$/);
  await env.shot('bundle-saved');
  await env.axe('bundle-saved');
  await button(page, 'Continue').click();

  // 7. Close
  await expectCurrentStep(page, 'Close');
  await button(page, 'Wipe the master key and close').click();
  await expect(page.getByText(/wiped/i).first()).toBeVisible();
  const recordDir = join(env.mediaDir, 'record');
  await env.answer('chooseFolder', recordDir);
  await button(page, 'Save the ceremony record…').click();
  await expect(page.getByText(recordDir).first()).toBeVisible();
  await button(page, 'Print the report…').click();
  await expect(page.getByText('The report was sent to the printer.')).toBeVisible();
  await env.shot('closed');
  await env.axe('closed');

  // Back to the start screen, and a custodian checks a share against the saved record.
  await button(page, 'Start over').click();
  await button(page, 'Check a share against a ceremony record').click();
  const recordFile = await env.recordFile(recordDir);
  await env.answer('openFile', recordFile);
  await button(page, 'Open ceremony record…').click();
  await expect(page.getByText(kcvText).first()).toBeVisible();
  await page.getByLabel('In a share file (passphrase)').check();
  if (env.mistakes) {
    await page.getByLabel('Passphrase', { exact: true }).fill('not the passphrase');
    await env.answer('openFile', join(env.mediaDir, 'grace.keyshare'));
    await button(page, 'Check the share').click();
    await alertSays(page, /wrong passphrase/i);
  }
  await page.getByLabel('Passphrase', { exact: true }).fill(passphraseOf('Grace Custodian'));
  await env.answer('openFile', join(env.mediaDir, 'grace.keyshare'));
  await button(page, 'Check the share').click();
  await expect(
    page.getByRole('heading', { name: 'Share 4 of 5, held by Grace Custodian, matches the record' }),
  ).toBeVisible();
  await env.shot('check-file-share');
  await env.axe('check-share');
  await button(page, 'Check another share').click();
  await page.getByLabel('On a smart card (PIN)').check();
  await cardSecret(page, env.readers.custodian, env.pins.erin);
  await button(page, 'Check the share').click();
  await expect(
    page.getByRole('heading', { name: 'Share 2 of 5, held by Erin Custodian, matches the record' }),
  ).toBeVisible({ timeout: 60_000 });

  return {
    kcv: kcvText.toUpperCase(),
    bundleSha256,
    bundlePath: join(env.mediaDir, `bundle-${ROSTER.keyName}-1.json`),
    recordDir,
  };
}

export const PINS = { alice: '246813', dora: '135792', erin: '864213' };
const PORT_ADMIN = 35963;
const PORT_CUSTODIAN = 35964;

/** Everything a ceremony run needs around the app: the emulated units, the cards in their readers, the media. */
export interface CeremonyRig {
  stack: PcscStack;
  /** The emulator's state (crypto-unit-emulator --state). */
  unitsDir: string;
  /** The part of FlowEnv that does not depend on how the app is driven. */
  env: Pick<
    FlowEnv,
    'transportFiles' | 'mediaDir' | 'carolIdentityFile' | 'recordFile' | 'readers' | 'pins' | 'insertErinCard'
  >;
}

/**
 * Two emulated units with their transport files, Carol's identity file from
 * "an earlier ceremony", prepared cards for Alice and Erin (and Dora's, unless
 * it is to arrive factory-fresh), and pcscd with Alice's card in the admin
 * reader and Dora's in the custodian reader.
 */
export async function setUpCeremonyRig(workDir: string, o: { doraFactoryFresh: boolean }): Promise<CeremonyRig> {
  const cardsDir = join(workDir, 'cards');
  const mediaDir = join(workDir, 'usb');
  const unitsDir = join(workDir, 'units');
  const transportDir = join(workDir, 'transport');
  for (const d of [cardsDir, mediaDir, join(mediaDir, 'record')]) mkdirSync(d, { recursive: true });
  const card = (name: string): string => join(cardsDir, `${name}.card.json`);
  for (const [name, pin] of Object.entries(PINS)) {
    if (name !== 'dora' || !o.doraFactoryFresh) await preparedCard(pin, { stateFile: card(name) }, '97531975');
  }
  ok(emu(workDir, 'init', '--state', unitsDir, '--units', '2'));
  ok(emu(workDir, 'transport', '--state', unitsDir, '--out-dir', transportDir));
  const transports = readdirSync(transportDir)
    .sort()
    .map((f) => join(transportDir, f));
  if (transports.length !== 2) throw new Error(`expected 2 transport files, found ${transports.length}`);
  const stack = await startPcscStack([
    { stateFile: card('alice'), port: PORT_ADMIN },
    { stateFile: card('dora'), port: PORT_CUSTODIAN },
  ]);
  return {
    stack,
    unitsDir,
    env: {
      transportFiles: transports as [string, string],
      mediaDir,
      carolIdentityFile: carolIdentity(workDir),
      recordFile: async (folder) =>
        join(
          folder,
          readdirSync(folder).find((f) => f.endsWith('.jsonl'))!,
        ),
      readers: { admin: vpcdReaderName(PORT_ADMIN), custodian: vpcdReaderName(PORT_CUSTODIAN) },
      pins: PINS,
      insertErinCard: async (pullDuringWrite) => {
        const inReader = stack.cards.find(
          (c) => c.port === PORT_CUSTODIAN && c.process.exitCode === null && c.process.signalCode === null,
        );
        if (inReader) await inReader.remove();
        // Pulled out before the first PUT DATA: after the card generated the
        // share's key, before the share certificate is stored.
        await stack.insertCard(
          card('erin'),
          PORT_CUSTODIAN,
          pullDuringWrite ? { KEYCEREMONY_VIRTUAL_CARD_PULL_BEFORE: 'DB:1' } : {},
        );
      },
    },
  };
}

/** Carol's identity file from "an earlier ceremony", made with the CLI. */
export function carolIdentity(dir: string): string {
  const home = join(dir, 'carol-home');
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'carol.pass'), passphraseOf('Carol Admin') + '\n', { mode: 0o600 });
  ok(
    kc(
      home,
      'identity',
      'generate',
      '--name',
      'Carol Admin',
      '--out',
      'carol.identity.pem',
      '--passphrase-file',
      'carol.pass',
    ),
  );
  return join(home, 'carol.identity.pem');
}

// Keyboard only: a whole file-based ceremony (2 admins, 2-of-3 shares, one
// unit) operated with Tab, typing, Space and Enter and nothing else: no
// clicks, no programmatic focus. Also checks where focus lands at each step
// change and each handoff, since that is what a person at the keyboard
// relies on.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { emu } from '../support/cli.js';
import { expect, test } from './fixtures.js';

/** What the focused element is called: its label, aria-label or text. */
function focusedName(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (el === null || el === document.body) return '';
    const labelled = el.getAttribute('aria-labelledby');
    if (labelled)
      return labelled
        .split(' ')
        .map((id) => document.getElementById(id)?.textContent ?? '')
        .join(' ')
        .trim();
    const input = el as HTMLInputElement;
    if (input.labels && input.labels.length > 0) return (input.labels[0]?.textContent ?? '').trim();
    return (el.getAttribute('aria-label') ?? el.textContent ?? '').trim();
  });
}

/** Presses Tab until the focused element is called `name` (at most one lap of the page). */
async function tabTo(page: Page, name: string | RegExp): Promise<void> {
  const matches = (n: string): boolean => (typeof name === 'string' ? n === name : name.test(n));
  for (let i = 0; i < 80; i++) {
    if (matches(await focusedName(page))) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached "${String(name)}"; last focus: "${await focusedName(page)}"`);
}

async function press(page: Page, name: string | RegExp, key = 'Enter'): Promise<void> {
  await tabTo(page, name);
  await page.keyboard.press(key);
}

async function type(page: Page, label: string, text: string): Promise<void> {
  await tabTo(page, label);
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(text);
}

async function expectFocusOn(page: Page, name: string | RegExp): Promise<void> {
  await expect
    .poll(() => focusedName(page))
    .toMatch(typeof name === 'string' ? new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : name);
}

test('a whole ceremony from the keyboard alone, focus moving to each new step and person', async ({
  app,
  bridge,
  workDir,
}) => {
  const page = app;
  const units = join(workDir, 'units');
  const transport = join(workDir, 'transport');
  const media = join(workDir, 'usb');
  mkdirSync(join(media, 'record'), { recursive: true });
  expect(emu(workDir, 'init', '--state', units, '--units', '2').code).toBe(0);
  expect(emu(workDir, 'transport', '--state', units, '--out-dir', transport).code).toBe(0);
  const unitFiles = readdirSync(transport)
    .sort()
    .map((f) => join(transport, f));

  await expect(page.getByRole('button', { name: 'Start a new ceremony' })).toBeVisible();
  await press(page, 'Start a new ceremony');

  // Set up
  await expectFocusOn(page, 'Set up the ceremony');
  await type(page, 'Ceremony name', 'Keyboard rehearsal');
  await type(page, 'Key name', 'kbd-mk');
  await type(page, 'Operator', 'Olga');
  await type(page, 'Shares needed to recover (K)', '2');
  await type(page, 'Signature threshold', '1');
  // One signer needs a reason (issue 11): its field appears once the threshold is 1.
  await type(page, 'Why one admin’s signature is enough', 'A keyboard rehearsal with one signer.');
  for (const [i, name] of ['Ann', 'Ben'].entries()) {
    await type(page, `Admin ${i + 1} name`, name);
    await tabTo(page, `Admin ${i + 1} medium`);
    await page.keyboard.type('File'); // type-to-select in the list
  }
  for (const [i, name] of ['Cat', 'Dan', 'Eve'].entries()) {
    await type(page, `Custodian ${i + 1} name`, name);
    await tabTo(page, `Custodian ${i + 1} medium`);
    await page.keyboard.type('File');
  }
  await type(page, 'Witness 1 name', 'Wim');
  await expect(page.getByLabel('Admin 1 medium', { exact: true })).toHaveValue('file');
  await press(page, 'Start the ceremony');

  // Target units
  await expectFocusOn(page, 'Target units');
  // A bundle goes to every unit of the instance: both transport files are loaded and confirmed.
  for (const [i, file] of unitFiles.entries()) {
    bridge.dialogs.answer('openFile', file);
    await press(page, 'Load transport file…');
    const unitId = /unit-(.*)\.transport\.json$/.exec(file)![1]!;
    await press(page, new RegExp(`^The fingerprint of ${unitId} matches the unit's display$`), 'Space');
    await expect(page.getByRole('checkbox').nth(i)).toBeChecked();
  }
  await press(page, 'Continue');

  // Admin identities, each behind a handoff: focus goes straight to "I am …"
  for (const name of ['Ann', 'Ben']) {
    await expectFocusOn(page, `I am ${name}`);
    await page.keyboard.press('Enter');
    await type(page, 'Passphrase', `${name} keyboard passphrase`);
    await type(page, 'Repeat the passphrase', `${name} keyboard passphrase`);
    bridge.dialogs.answer('saveFile', join(media, `${name}.identity.pem`));
    await page.keyboard.press('Enter'); // submits the form
    await press(page, 'Done — clear the screen');
  }
  await press(page, 'Continue');

  // Master key
  await expectFocusOn(page, 'Master key');
  await press(page, 'Generate the master key');
  await expect(page.getByTestId('kcv')).toHaveText(/[0-9A-F]/i);
  await press(page, 'Continue');

  // Shares, each behind a handoff
  for (const [i, name] of ['Cat', 'Dan', 'Eve'].entries()) {
    await expectFocusOn(page, `I am ${name}`);
    await page.keyboard.press('Enter');
    await type(page, 'Passphrase', `${name} share passphrase`);
    await type(page, 'Repeat the passphrase', `${name} share passphrase`);
    bridge.dialogs.answer('saveFile', join(media, `${name}.keyshare`));
    await page.keyboard.press('Enter');
    await expect(page.getByRole('button', { name: 'Read it back' })).toBeVisible();
    await type(page, 'Passphrase', `${name} share passphrase`);
    await page.keyboard.press('Enter');
    await press(page, `I, ${name}, hold share ${i + 1} of 3`, 'Space');
    await press(page, 'Confirm');
  }
  await press(page, 'Continue');

  // Bundle: both admins sign (a first bundle needs every admin it installs)
  await expectFocusOn(page, 'Import bundle');
  await press(page, 'Build the import bundle');
  for (const name of ['Ann', 'Ben']) {
    await expectFocusOn(page, `I am ${name}`);
    await page.keyboard.press('Enter');
    await type(page, 'Passphrase', `${name} keyboard passphrase`);
    await page.keyboard.press('Enter');
    await press(page, 'Done — clear the screen');
  }
  bridge.dialogs.answer('chooseFolder', media);
  await press(page, 'Save the bundle…');
  await expect(page.getByTestId('bundle-sha256')).toHaveText(/^[0-9a-f]{64}$/);
  await press(page, 'Continue');

  // Close
  await expectFocusOn(page, 'Close the ceremony');
  await press(page, 'Wipe the master key and close');
  bridge.dialogs.answer('chooseFolder', join(media, 'record'));
  await press(page, 'Save the ceremony record…');
  await expect(page.getByText(join(media, 'record')).first()).toBeVisible();
  expect(bridge.dialogs.pending()).toBe(0);

  // The bundle is accepted by the unit it targets.
  const bundle = join(
    media,
    readdirSync(media).find((f) => f.startsWith('bundle-'))!,
  );
  const ingest = emu(workDir, 'ingest', '--state', units, bundle);
  expect(ingest.code, ingest.stderr).toBe(0);
});

test('abandoning from the keyboard asks first, then wipes and returns to the start screen', async ({ app, bridge }) => {
  const page = app;
  await press(page, 'Start a new ceremony');
  await type(page, 'Ceremony name', 'To be abandoned');
  await type(page, 'Key name', 'gone');
  await type(page, 'Operator', 'Olga');
  for (const [i, name] of ['Ann', 'Ben'].entries()) await type(page, `Admin ${i + 1} name`, name);
  for (const [i, name] of ['Cat', 'Dan', 'Eve'].entries()) await type(page, `Custodian ${i + 1} name`, name);
  await type(page, 'Witness 1 name', 'Wim');
  await press(page, 'Start the ceremony');
  await expectFocusOn(page, 'Target units');

  await press(page, 'Abandon ceremony');
  // The confirmation starts on the safe choice.
  await expectFocusOn(page, 'Keep the ceremony');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Target units' })).toBeVisible();
  await press(page, 'Abandon ceremony');
  await press(page, 'Yes, abandon the ceremony');
  await expect(page.getByRole('button', { name: 'Start a new ceremony' })).toBeVisible();
  await expect(page.getByText(/abandoned/i).first()).toBeVisible();
  expect(bridge.session.inProgress()).toBe(false);
});

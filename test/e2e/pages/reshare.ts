// From the start screen: the re-share (issue 11, ceremony 2) — a key's record
// opened, the current shares brought one custodian at a time, the new set
// named, each new custodian's share file chosen, the ceremony run.
import { expect, type Page } from '@playwright/test';
import type { DialogKind } from './ceremony-env.js';
import { button, prepareFactoryFreshCardIn, ReaderPicker, SecretForm } from './parts.js';

export class ResharePage {
  private readonly secret: SecretForm;

  constructor(
    private readonly page: Page,
    private readonly env: {
      answer: (kind: DialogKind, path: string) => Promise<void> | void;
      shot: (name: string) => Promise<void>;
      axe: (where: string) => Promise<void>;
    },
  ) {
    this.secret = new SecretForm(page);
  }

  /** Screenshot and axe scan of the step on screen. */
  async check(name: string): Promise<void> {
    await this.env.shot(name);
    await this.env.axe(name);
  }

  async fromStartScreen(): Promise<void> {
    await button(this.page, 'Re-share a key (replace a lost card or a departed custodian)').click();
    await expect(this.page.getByRole('heading', { name: 'Re-share a key: the key’s record', level: 2 })).toBeVisible();
  }

  async openRecord(file: string, kcv: string): Promise<void> {
    await this.env.answer('openFile', file);
    await button(this.page, 'Open the key’s record…').click();
    await expect(
      this.page.getByRole('heading', { name: 'Re-share a key: the current shares', level: 2 }),
    ).toBeVisible();
    await expect(this.page.getByText(kcv).first()).toBeVisible();
  }

  /** A custodian of the current set brings their share file. */
  async bringFile(file: string, passphrase: string, broughtAfter: number, needed: number): Promise<void> {
    await this.page.getByLabel('In a share file (passphrase)').check();
    await this.secret.enterPassphrase(passphrase);
    await this.env.answer('openFile', file);
    await button(this.page, 'Bring this share').click();
    await expect(
      this.page.getByRole('heading', { name: `Shares brought: ${broughtAfter} of the ${needed} needed` }),
    ).toBeVisible();
  }

  /** A custodian of the current set brings the share on their card (reader and PIN). */
  async bringCard(reader: string, pin: string, broughtAfter: number, needed: number): Promise<void> {
    await this.tryBringCard(reader, pin);
    await expect(
      this.page.getByRole('heading', { name: `Shares brought: ${broughtAfter} of the ${needed} needed` }),
    ).toBeVisible({ timeout: 60_000 });
  }

  /** Offers the card in `reader` as a current share; the caller checks what happened. */
  async tryBringCard(reader: string, pin: string): Promise<void> {
    await this.page.getByLabel('On a smart card (PIN)').check();
    await this.secret.cardPin(reader, pin);
    await button(this.page, 'Bring this share').click();
  }

  /** Offers a share file as a current share; the caller checks what happened. */
  async tryBringFile(file: string, passphrase: string): Promise<void> {
    await this.page.getByLabel('In a share file (passphrase)').check();
    await this.secret.enterPassphrase(passphrase);
    await this.env.answer('openFile', file);
    await button(this.page, 'Bring this share').click();
  }

  /** With fewer than K shares in, the new set cannot be named: no way on is offered. */
  async expectCannotGoOn(brought: number, needed: number): Promise<void> {
    await expect(
      this.page.getByRole('heading', { name: `Shares brought: ${brought} of the ${needed} needed` }),
    ).toBeVisible();
    await expect(this.page.getByText(/more shares? (is|are) needed: the key cannot be rebuilt/)).toBeVisible();
    await expect(button(this.page, 'Continue: name the new custodians')).toHaveCount(0);
  }

  async expectRefused(text: RegExp): Promise<void> {
    await expect(this.page.getByRole('alert').filter({ hasText: text })).toBeVisible();
  }

  async toNewCustodians(): Promise<void> {
    await button(this.page, 'Continue: name the new custodians').click();
    await expect(
      this.page.getByRole('heading', { name: 'Re-share a key: the new custodians', level: 2 }),
    ).toBeVisible();
  }

  /** Names the operator, K′ and the new custodians (files, or each with its medium), in share order. */
  async nameNewSet(
    operator: string,
    threshold: number,
    custodians: ReadonlyArray<string | { name: string; medium: 'file' | 'card' }>,
  ): Promise<void> {
    const names = custodians.map((c) => (typeof c === 'string' ? { name: c, medium: 'file' as const } : c));
    await this.page.getByLabel('Operator', { exact: true }).fill(operator);
    await this.page.getByLabel('Shares needed to rebuild the key (K′)').fill(String(threshold));
    const rows = this.page.locator('.roster-row');
    while ((await rows.count()) > names.length)
      await rows
        .last()
        .getByRole('button', { name: /^Remove/ })
        .click();
    while ((await rows.count()) < names.length) await button(this.page, 'Add new custodian').click();
    for (const [i, { name, medium }] of names.entries()) {
      await this.page.getByLabel(`New custodian ${i + 1} name`, { exact: true }).fill(name);
      await this.page.getByLabel(`New custodian ${i + 1} medium`, { exact: true }).selectOption(medium);
    }
  }

  async toNewShares(): Promise<void> {
    await button(this.page, 'Continue: issue the new shares').click();
    await expect(this.page.getByRole('heading', { name: 'Re-share a key: the new shares', level: 2 })).toBeVisible();
  }

  /** New custodian `name` chooses a passphrase and where their share file goes. */
  async newShareFile(name: string, shareIndex: number, of: number, file: string, passphrase: string): Promise<void> {
    await this.expectTurnOf(name, shareIndex, of);
    await this.secret.newPassphrase(passphrase);
    await this.env.answer('saveFile', file);
    await button(this.page, 'Choose where to save the share…').click();
    await expect(this.page.getByText(`Share ${shareIndex}: ${name}, file — ready`)).toBeVisible();
  }

  /** New custodian `name` inserts their card, chooses its reader and types its PIN; the card is checked. */
  async newShareCard(name: string, shareIndex: number, of: number, reader: string, pin: string): Promise<void> {
    await this.expectTurnOf(name, shareIndex, of);
    await this.secret.cardPin(reader, pin);
    await button(this.page, 'Check and use this card').click();
    await expect(this.page.getByText(`Share ${shareIndex}: ${name}, smart card — ready`)).toBeVisible({
      timeout: 60_000,
    });
  }

  async expectTurnOf(name: string, shareIndex: number, of: number): Promise<void> {
    await expect(
      this.page.getByRole('heading', { name: `Pass the keyboard to ${name}: new share ${shareIndex} of ${of}` }),
    ).toBeVisible();
  }

  /** A factory-fresh card in `reader` is prepared by its owner (new PIN and PUK), as in the initial ceremony. */
  async prepareFactoryFreshCard(reader: string, newPin: string, newPuk: string): Promise<void> {
    await new ReaderPicker(this.page).choose(reader);
    const care = this.page.getByRole('group', { name: /still has its factory PIN/ });
    await expect(care).toBeVisible();
    await this.check('reshare-card-prepare');
    await prepareFactoryFreshCardIn(this.page, newPin, newPuk);
  }

  async issue(): Promise<void> {
    await button(this.page, 'Issue the new shares and retire the old set').click();
    await expect(this.page.getByRole('heading', { name: 'The key has a new set of shares', level: 2 })).toBeVisible({
      timeout: 120_000,
    });
  }
}

// The admin-change and zeroize wizard (issue 11, ceremonies 3 and 5): the
// steps both share — the record, the units confirmed against their
// displays, the current admins signing with their identity files or cards, the
// bundle saved into a folder.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';
import type { DialogKind } from './ceremony-env.js';
import { SecretForm } from './parts.js';

export class UnitsBundlePage {
  constructor(
    private readonly page: Page,
    private readonly answer: (kind: DialogKind, path: string) => void,
  ) {}

  async openRecord(record: string): Promise<void> {
    this.answer('openFile', record);
    await this.page.getByRole('button', { name: 'Open the key’s record…' }).click();
  }

  /** Loads each transport file and confirms it against the unit's display. */
  async loadUnits(transports: readonly string[]): Promise<void> {
    for (const t of transports) {
      this.answer('openFile', t);
      await this.page.getByRole('button', { name: 'Load a unit’s transport file…' }).click();
      await this.page.getByRole('button', { name: /matches the unit’s display$/ }).click();
    }
    await expect(this.page.getByText('Confirmed: matches the unit’s display.')).toHaveCount(transports.length);
  }

  /** One admin's turn: the passphrase typed, their identity file opened. */
  async signWith(identity: string, passphrase: string): Promise<void> {
    await this.page.getByLabel('In an identity file (passphrase)').check();
    await this.page.getByLabel('Passphrase', { exact: true }).fill(passphrase);
    this.answer('openFile', identity);
    await this.page.getByRole('button', { name: 'Open my identity file and sign…' }).click();
  }

  /** One admin's turn with their card: its reader chosen and its PIN typed (`filled`: then), slot 9C signs. */
  async signWithCard(reader: string, pin: string, filled?: () => Promise<void>): Promise<void> {
    await this.page.getByLabel('On a smart card (PIN)').check();
    await new SecretForm(this.page).cardPin(reader, pin);
    await filled?.();
    await this.page.getByRole('button', { name: 'Sign with my card' }).click();
  }

  /** Saves the signed bundle into a new folder `dir`; answers the saved file's path. */
  async saveInto(dir: string): Promise<string> {
    mkdirSync(dir);
    this.answer('chooseFolder', dir);
    await this.page.getByRole('button', { name: 'Save the bundle…' }).click();
    await expect.poll(() => readdirSync(dir).length).toBe(1);
    return join(dir, readdirSync(dir)[0]!);
  }
}

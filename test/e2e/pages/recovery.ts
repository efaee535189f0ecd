// From the start screen: the recovery onto new units (issue 11, ceremony 1) —
// the key's record opened (or the paper report of a lost one typed in), the
// units loaded and confirmed, the admins and thresholds, the shares given one
// custodian at a time (files and cards), the bundle built, signed and saved.
import { expect, type Page } from '@playwright/test';
import type { DialogKind } from './ceremony-env.js';
import { alertSays, button, SecretForm } from './parts.js';

export interface PaperValues {
  keyName: string;
  kcv: string;
  verificationPattern: string;
  headHash: string;
}

export class RecoveryPage {
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
    await button(this.page, 'Recover a key onto new units').click();
    await expect(this.page.getByRole('heading', { name: 'Recover a key onto new units' })).toBeVisible();
  }

  /** Opens the key's record with the paper report's head hash typed in (or none). */
  async openRecord(file: string, head: string | null): Promise<void> {
    await this.page.getByLabel(/Head hash printed on the paper report/).fill(head ?? '');
    await this.env.answer('openFile', file);
    await button(this.page, 'Open the key’s record…').click();
  }

  /** The record is lost: the paper report's values, and where the new record goes. */
  async startFromPaper(paper: PaperValues, newRecord: string): Promise<void> {
    await this.page.getByLabel('Key name', { exact: true }).fill(paper.keyName);
    await this.page.getByLabel('KCV', { exact: true }).fill(paper.kcv);
    await this.page.getByLabel('Verification pattern', { exact: true }).fill(paper.verificationPattern);
    await this.page.getByLabel('Head hash of the lost record', { exact: true }).fill(paper.headHash);
    await this.env.answer('saveFile', newRecord);
    await button(this.page, 'Choose where the new record goes…').click();
    await expect(this.page.getByRole('heading', { name: 'The key, from its paper report' })).toBeVisible();
  }

  /** Each unit's transport file loaded and confirmed against its display; on to the admins. */
  async unitsConfirmed(transports: readonly string[], shot: string): Promise<void> {
    for (const t of transports) {
      await this.env.answer('openFile', t);
      await button(this.page, 'Load a unit’s transport file…').click();
      await this.page.getByRole('button', { name: /matches the unit’s display$/ }).click();
    }
    await expect(this.page.getByText('Confirmed: matches the unit’s display.')).toHaveCount(transports.length);
    await this.check(shot);
    await button(this.page, 'Continue to the admins').click();
  }

  /** The admins' certificates (from their identity files) and the signature threshold; on to the shares. */
  async admins(identities: readonly string[], signatureThreshold: number, shot: string): Promise<void> {
    for (const a of identities) {
      await this.env.answer('openFile', a);
      await button(this.page, 'Add an admin’s certificate…').click();
    }
    await expect(this.page.getByRole('button', { name: /^Remove / })).toHaveCount(identities.length);
    await this.page.getByLabel('Signature threshold').fill(String(signatureThreshold));
    await this.check(shot);
    await button(this.page, 'Continue to the shares').click();
    await expect(this.page.getByRole('heading', { name: '4. Key shares' })).toBeVisible();
  }

  /** A custodian gives their share file and its passphrase. */
  async giveFile(file: string, passphrase: string): Promise<void> {
    await this.page.getByLabel('In a share file (passphrase)').check();
    await this.secret.enterPassphrase(passphrase);
    await this.env.answer('openFile', file);
    await button(this.page, 'Open my share file…').click();
  }

  /** A custodian gives the share on their card: its reader and PIN. */
  async giveCard(reader: string, pin: string): Promise<void> {
    await this.page.getByLabel('On a smart card (PIN)').check();
    await this.secret.cardPin(reader, pin);
    await button(this.page, 'Read my share from the card').click();
  }

  async expectGiven(given: number, needed: number): Promise<void> {
    await expect(this.page.getByRole('status').filter({ hasText: `${given} of ${needed} shares given` })).toBeVisible();
  }

  async expectRefused(text: RegExp): Promise<void> {
    await alertSays(this.page, text);
  }

  async build(): Promise<void> {
    await button(this.page, 'Rebuild the key and build the bundle').click();
  }

  /** Every admin signs with their identity file, then the bundle is saved into `folder`. */
  async signAndSave(identities: readonly string[], passphrase: string, folder: string): Promise<void> {
    await expect(this.page.getByRole('heading', { name: '5. The admins sign the bundle' })).toBeVisible();
    await expect(this.page.getByText(`0 of ${identities.length}`)).toBeVisible();
    await this.check('recovery-signing');
    for (const a of identities) {
      await this.secret.enterPassphrase(passphrase);
      await this.env.answer('openFile', a);
      await button(this.page, 'Open my identity file and sign…').click();
    }
    await expect(this.page.getByText(new RegExp(`^${identities.length} of ${identities.length} \\(`))).toBeVisible();
    await this.env.answer('chooseFolder', folder);
    await button(this.page, 'Save the bundle…').click();
    await expect(this.page.getByRole('heading', { name: 'The recover bundle is saved' })).toBeVisible();
  }

  async stop(): Promise<void> {
    await button(this.page, 'Stop and go back to the start screen').click();
    await expect(button(this.page, 'Recover a key onto new units')).toBeVisible();
  }
}

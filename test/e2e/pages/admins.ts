// Step 3, "Admin identities": one admin at a time takes the keyboard and
// makes an identity on a smart card or in a new file, or brings the file
// from an earlier ceremony.
import { expect, type Page } from '@playwright/test';
import { join } from 'node:path';
import { firstNameOf, passphraseOf, type FlowEnv, type RosterAdmin } from './ceremony-env.js';
import { alertSays, button, Handoff, SecretForm, StepPage } from './parts.js';

type AdminsEnv = Pick<
  FlowEnv,
  'answer' | 'shot' | 'axe' | 'mediaDir' | 'readers' | 'pins' | 'carolIdentityFile' | 'mistakes'
>;

export class AdminsPage extends StepPage {
  private readonly handoff: Handoff;
  private readonly secret: SecretForm;

  constructor(
    page: Page,
    private readonly env: AdminsEnv,
  ) {
    super(page, 'Admin identities');
    this.handoff = new Handoff(page);
    this.secret = new SecretForm(page);
  }

  /** The first handoff screen, before anyone has taken the keyboard (screenshot and axe scan). */
  async showFirstHandoff(admin: RosterAdmin): Promise<void> {
    await this.handoff.expectWaitingFor(admin.name);
    await this.env.shot('admin-handoff');
    await this.env.axe('admin-handoff');
  }

  /** An identity key made on the admin's card, which the PIN unlocks. */
  async createOnCard(reader: string, pin: string): Promise<void> {
    await this.secret.cardPin(reader, pin);
    await this.env.shot('admin-card-pin');
    await this.env.axe('admin-card');
    await this.createIdentity();
  }

  /** A new identity file under a new passphrase, saved where the dialog is answered. */
  async createFile(passphrase: string, saveAs: string): Promise<void> {
    await this.secret.newPassphrase(passphrase);
    await this.env.answer('saveFile', saveAs);
    await this.createIdentity();
  }

  /** An identity file from an earlier ceremony, opened with its passphrase. */
  async bringFile(file: string, passphrase: string): Promise<void> {
    await button(this.page, 'I already have an identity file').click();
    if (this.env.mistakes) {
      await this.openIdentityFile(file, 'not carol passphrase');
      await alertSays(this.page, /wrong passphrase/i);
    }
    await this.openIdentityFile(file, passphrase);
  }

  private async openIdentityFile(file: string, passphrase: string): Promise<void> {
    await this.secret.enterPassphrase(passphrase);
    await this.env.answer('openFile', file);
    await button(this.page, 'Open my identity file…').click();
  }

  private async createIdentity(): Promise<void> {
    await button(this.page, 'Create the identity').click();
  }

  /** The identity's fingerprint is shown; the admin clears the screen and no secret field is left. */
  async showFingerprintAndClear(shotName: string | undefined): Promise<void> {
    await expect(this.page.getByText(/fingerprint/i).first()).toBeVisible();
    if (shotName !== undefined) await this.env.shot(shotName);
    await this.handoff.clearScreen();
    await this.secret.expectCleared();
  }

  /** One admin's turn: Alice on her card, Carol with the file she brings, the others with new files. */
  async identify(admin: RosterAdmin): Promise<void> {
    await this.handoff.claimTurn(admin.name);
    if (admin.medium === 'card') {
      await this.createOnCard(this.env.readers.admin, this.env.pins.alice);
    } else if (admin.name === 'Carol Admin') {
      // Carol has an identity file from an earlier ceremony and brings it.
      await this.bringFile(this.env.carolIdentityFile, passphraseOf(admin.name));
    } else {
      await this.createFile(
        passphraseOf(admin.name),
        join(this.env.mediaDir, `${firstNameOf(admin.name)}.identity.pem`),
      );
    }
    const shot =
      admin.medium === 'file'
        ? admin.name === 'Carol Admin'
          ? 'admin-file-brought'
          : 'admin-file-created'
        : undefined;
    await this.showFingerprintAndClear(shot);
  }

  /** Every admin in turn, the first handoff screen shown before the first. */
  async identifyAll(admins: readonly RosterAdmin[]): Promise<void> {
    for (const admin of admins) {
      if (admin === admins[0]) await this.showFirstHandoff(admin);
      await this.identify(admin);
    }
  }
}

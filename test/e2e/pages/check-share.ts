// From the start screen: a custodian checks their share (in a file or on a
// card) against a saved ceremony record, without the master key.
import { expect, type Page } from '@playwright/test';
import type { FlowEnv } from './ceremony-env.js';
import { alertSays, button, SecretForm } from './parts.js';

export class CheckSharePage {
  private readonly secret: SecretForm;

  constructor(
    private readonly page: Page,
    private readonly env: Pick<FlowEnv, 'answer' | 'shot' | 'axe'>,
  ) {
    this.secret = new SecretForm(page);
  }

  /** Opens the saved record; it shows the master key's KCV. */
  async openRecord(recordFile: string, kcv: string): Promise<void> {
    await this.env.answer('openFile', recordFile);
    await button(this.page, 'Open ceremony record…').click();
    await expect(this.page.getByText(kcv).first()).toBeVisible();
  }

  async chooseFileShare(): Promise<void> {
    await this.page.getByLabel('In a share file (passphrase)').check();
  }

  async chooseCardShare(): Promise<void> {
    await this.page.getByLabel('On a smart card (PIN)').check();
  }

  /** Opens the share file with the passphrase and checks it. */
  async checkFile(file: string, passphrase: string): Promise<void> {
    await this.secret.enterPassphrase(passphrase);
    await this.env.answer('openFile', file);
    await this.checkShare();
  }

  async checkFileWithWrongPassphrase(file: string, wrong: string): Promise<void> {
    await this.checkFile(file, wrong);
    await alertSays(this.page, /wrong passphrase/i);
  }

  /** Checks the share on the card in that reader. */
  async checkCard(reader: string, pin: string): Promise<void> {
    await this.secret.cardPin(reader, pin);
    await this.checkShare();
  }

  private async checkShare(): Promise<void> {
    await button(this.page, 'Check the share').click();
  }

  private async expectMatch(index: number, of: number, holder: string, o: { timeout?: number } = {}): Promise<void> {
    await expect(
      this.page.getByRole('heading', { name: `Share ${index} of ${of}, held by ${holder}, matches the record` }),
    ).toBeVisible(o);
  }

  /** "Share i of n, held by …, matches the record" for a file share (screenshot and axe scan). */
  async expectFileShareMatches(index: number, of: number, holder: string): Promise<void> {
    await this.expectMatch(index, of, holder);
    await this.env.shot('check-file-share');
    await this.env.axe('check-share');
  }

  /** "Share i of n, held by …, matches the record" for a card share (reading the card takes a while). */
  async expectCardShareMatches(index: number, of: number, holder: string): Promise<void> {
    await this.expectMatch(index, of, holder, { timeout: 60_000 });
  }

  async checkAnother(): Promise<void> {
    await button(this.page, 'Check another share').click();
  }
}

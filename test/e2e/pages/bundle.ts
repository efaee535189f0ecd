// Step 6, "Import bundle": the bundle is built, every admin signs it (a
// first bundle installs them all), and it is saved to the removable media.
import { expect, type Page } from '@playwright/test';
import { passphraseOf, type FlowEnv, type Roster, type RosterAdmin } from './ceremony-env.js';
import { button, Handoff, SecretForm, StepPage } from './parts.js';

type BundleEnv = Pick<FlowEnv, 'answer' | 'shot' | 'axe' | 'readers' | 'pins'>;

export class BundlePage extends StepPage {
  private readonly handoff: Handoff;
  private readonly secret: SecretForm;

  constructor(
    page: Page,
    private readonly env: BundleEnv,
  ) {
    super(page, 'Import bundle');
    this.handoff = new Handoff(page);
    this.secret = new SecretForm(page);
  }

  async build(): Promise<void> {
    await button(this.page, 'Build the import bundle').click();
  }

  /**
   * Each signer sees what the bundle makes the units do before the PIN or
   * passphrase (issue 8, hole 3): 2 units claimed for every admin, the key and its KCV.
   */
  async expectSummaryFor(roster: Roster): Promise<void> {
    const summary = this.page.getByTestId('bundle-summary');
    await expect(summary).toContainText('Initialize 2 units: claim them for 3 admins');
    await expect(summary).toContainText(`${roster.keyName}, KCV`);
    for (const a of roster.admins) await expect(summary).toContainText(a.name);
  }

  /**
   * One admin's turn: takes the keyboard, reads the summary, unlocks their
   * identity (Alice's card by PIN, the files by passphrase) and signs.
   */
  async signAs(admin: RosterAdmin, roster: Roster, o: { showForm: boolean }): Promise<void> {
    await this.handoff.claimTurn(admin.name);
    await this.expectSummaryFor(roster);
    if (admin.medium === 'card') {
      await this.secret.cardPin(this.env.readers.admin, this.env.pins.alice);
    } else {
      await this.secret.enterPassphrase(passphraseOf(admin.name));
    }
    if (o.showForm) {
      await this.env.shot('bundle-sign');
      await this.env.axe('bundle-sign');
    }
    await button(this.page, 'Sign the bundle').click();
    await this.handoff.clearScreen();
  }

  /** Every admin signs in turn; the first one's form gets a screenshot and axe scan. */
  async signAsEveryAdmin(roster: Roster): Promise<void> {
    for (const admin of roster.admins) await this.signAs(admin, roster, { showForm: admin === roster.admins[0] });
  }

  /** Saves the bundle into the folder and returns the SHA-256 the screen shows (screenshot and axe scan). */
  async saveTo(folder: string): Promise<string> {
    await this.env.answer('chooseFolder', folder);
    await button(this.page, 'Save the bundle…').click();
    const sha256 = (await this.page.getByTestId('bundle-sha256').innerText()).replace(/\s+/g, '').toLowerCase();
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    await this.env.shot('bundle-saved');
    await this.env.axe('bundle-saved');
    return sha256;
  }
}

// Step 5, "Key shares": one custodian at a time takes the keyboard, has
// their share written to a smart card or a passphrase-protected file, reads
// it back, and states that they hold it. Cards may need care first: a
// factory-fresh card is prepared (new PIN and PUK), a blocked PIN unblocked.
import { expect, type Locator, type Page } from '@playwright/test';
import { join } from 'node:path';
import { firstNameOf, passphraseOf, type FlowEnv, type RosterCustodian } from './ceremony-env.js';
import { alertSays, button, Handoff, prepareFactoryFreshCardIn, ReaderPicker, SecretForm, StepPage } from './parts.js';

/** The PUK Dora chooses when she prepares her factory-fresh card. */
const DORA_PUK = '27182818';
/** A PIN that is nobody's. */
const WRONG_PIN = '999999';

type SharesEnv = Pick<
  FlowEnv,
  'answer' | 'shot' | 'axe' | 'mediaDir' | 'readers' | 'pins' | 'insertErinCard' | 'mistakes'
>;

export class SharesPage extends StepPage {
  private readonly handoff: Handoff;
  private readonly secret: SecretForm;
  private readonly readers: ReaderPicker;

  constructor(
    page: Page,
    private readonly env: SharesEnv,
  ) {
    super(page, 'Key shares');
    this.handoff = new Handoff(page);
    this.secret = new SecretForm(page);
    this.readers = new ReaderPicker(page);
  }

  private get custodianReader(): Locator {
    return this.readers.reader(new RegExp(this.env.readers.custodian));
  }

  private get writeButton(): Locator {
    return button(this.page, 'Write the share');
  }

  private get readBackButton(): Locator {
    return button(this.page, 'Read it back');
  }

  /** A factory-fresh card in the custodian reader gets a new PIN and PUK (screenshot and axe scan of the form). */
  async prepareFactoryFreshCard(newPin: string, newPuk: string): Promise<void> {
    await this.readers.choose(this.env.readers.custodian);
    const care = this.page.getByRole('group', { name: /still has its factory PIN/ });
    await expect(care).toBeVisible();
    await this.env.shot('card-prepare');
    await this.env.axe('card-prepare');
    await prepareFactoryFreshCardIn(this.page, newPin, newPuk);
    await this.readers.expectStatus(this.custodianReader, /prepared, 3 PIN tries left/);
  }

  /** A wrong PIN says how many tries are left; three block the PIN (screenshots and an axe scan on the way). */
  async blockPinWithWrongTries(): Promise<void> {
    await this.secret.cardPin(this.env.readers.custodian, WRONG_PIN);
    await this.writeButton.click();
    await alertSays(this.page, /wrong PIN/i);
    await alertSays(this.page, /2 tries left/i);
    // The live reader status catches up with the card.
    await this.readers.expectStatus(this.custodianReader, /2 PIN tries left/);
    await this.env.shot('share-wrong-pin');
    await this.env.axe('share-wrong-pin');
    for (let i = 0; i < 2; i++) {
      await this.secret.cardPin(this.env.readers.custodian, WRONG_PIN);
      await this.writeButton.click();
      await expect(this.writeButton).toBeEnabled();
    }
    await alertSays(this.page, /PIN is blocked/i);
    await alertSays(this.page, /PUK/);
  }

  /** The blocked PIN is unblocked with the PUK, and the custodian chooses the PIN they will keep. */
  async unblockPin(puk: string, newPin: string): Promise<void> {
    const unblock = this.page.getByRole('group', { name: /PIN of card \d+ is blocked/ });
    await expect(unblock).toBeVisible();
    await this.env.shot('card-pin-blocked');
    await unblock.getByLabel('PUK', { exact: true }).fill(puk);
    await unblock.getByLabel('New PIN', { exact: true }).fill(newPin);
    await unblock.getByLabel('Repeat the new PIN', { exact: true }).fill(newPin);
    await unblock.getByRole('button', { name: 'Unblock the PIN' }).click();
    await expect(this.page.getByText(/is unblocked\. Use the new PIN/)).toBeVisible({ timeout: 60_000 });
  }

  /** The card is pulled out half-way through the write: the app says so, and that nothing was written. */
  async writeToCardPulledMidWrite(pin: string): Promise<void> {
    await this.secret.cardPin(this.env.readers.custodian, pin);
    await this.writeButton.click();
    await alertSays(this.page, /removed/i);
    await alertSays(this.page, /nothing was written/i);
    await this.env.shot('share-card-pulled');
  }

  /** Writes the share to the card in the custodian reader, then reads it back with the same PIN. */
  async writeToCardAndReadBack(pin: string): Promise<void> {
    await this.secret.cardPin(this.env.readers.custodian, pin);
    await this.writeButton.click();
    await expect(this.readBackButton).toBeVisible({ timeout: 60_000 });
    // Live status: the other reader holds Alice's card, which is not the one that holds this share.
    await this.readers.expectStatus(this.readers.reader(this.env.readers.admin), /wrong card/i);
    await this.secret.cardPin(this.env.readers.custodian, pin);
    await this.readBackButton.click();
  }

  /** Writes the share to a new file under a new passphrase, saved where the dialog is answered. */
  async writeToFile(passphrase: string, saveAs: string): Promise<void> {
    await this.secret.newPassphrase(passphrase);
    await this.env.answer('saveFile', saveAs);
    await this.writeButton.click();
    await expect(this.readBackButton).toBeVisible({ timeout: 60_000 });
  }

  /** Reading the file back with a passphrase that is not the one chosen is refused. */
  async tryReadBackWithWrongPassphrase(wrong: string): Promise<void> {
    await this.secret.enterPassphrase(wrong);
    await this.readBackButton.click();
    await alertSays(this.page, /wrong passphrase/i);
    await this.env.shot('share-wrong-passphrase');
  }

  async readBackFile(passphrase: string): Promise<void> {
    await this.secret.enterPassphrase(passphrase);
    await this.readBackButton.click();
  }

  /** "I, …, hold share i of n": checked and confirmed (the first one with a screenshot and axe scan). */
  async confirmHolding(custodian: RosterCustodian, index: number, of: number): Promise<void> {
    const statement = this.page.getByRole('checkbox', {
      name: new RegExp(`I, ${custodian.name}, hold share ${index} of ${of}`),
    });
    await expect(statement).toBeVisible({ timeout: 60_000 });
    if (index === 1) {
      await this.env.shot('share-confirm');
      await this.env.axe('share-confirm');
    }
    await statement.check();
    await button(this.page, 'Confirm').click();
  }

  /**
   * One custodian's turn. With mistakes: Dora prepares her factory-fresh
   * card and blocks and unblocks its PIN, Erin's card is pulled mid-write,
   * Frank first reads his file back with a wrong passphrase.
   */
  async handOut(custodian: RosterCustodian, index: number, of: number): Promise<void> {
    const { env } = this;
    const first = firstNameOf(custodian.name);
    // Erin brings her card to the reader while the screen waits for her.
    if (first === 'erin') await env.insertErinCard(env.mistakes);
    await this.handoff.claimTurn(custodian.name);
    if (custodian.medium === 'card') {
      const pin = first === 'dora' ? env.pins.dora : env.pins.erin;
      if (first === 'dora' && env.mistakes) {
        // Dora brought a new card: she prepares it here (new PIN and PUK).
        await this.prepareFactoryFreshCard('314159', DORA_PUK);
        await this.blockPinWithWrongTries();
        // Blocked: Dora unblocks it with her PUK and chooses the PIN she will keep.
        await this.unblockPin(DORA_PUK, pin);
      }
      if (first === 'erin' && env.mistakes) {
        // Her card is rigged to be pulled out half-way through the write.
        await this.writeToCardPulledMidWrite(pin);
        await env.insertErinCard(false);
      }
      await this.writeToCardAndReadBack(pin);
    } else {
      await this.writeToFile(passphraseOf(custodian.name), join(env.mediaDir, `${first}.keyshare`));
      if (first === 'frank' && env.mistakes) await this.tryReadBackWithWrongPassphrase('not what frank chose');
      await this.readBackFile(passphraseOf(custodian.name));
    }
    await this.confirmHolding(custodian, index, of);
  }

  /** Every custodian in turn, share i to the i-th; a screenshot once all are handed out. */
  async handOutAll(custodians: readonly RosterCustodian[]): Promise<void> {
    for (const [i, custodian] of custodians.entries()) await this.handOut(custodian, i + 1, custodians.length);
    await this.env.shot('shares-done');
  }
}

// Pieces every wizard step shares: the step rail and header, the handoff
// ("Pass the keyboard to …", "I am …"), the card reader picker, and the
// secret form (PIN, or a passphrase typed once or twice).
import { expect, type Locator, type Page } from '@playwright/test';

export const button = (page: Page, name: string | RegExp): Locator =>
  page.getByRole('button', { name, exact: typeof name === 'string' });

/** An alert saying that is on screen. */
export async function alertSays(page: Page, text: RegExp): Promise<void> {
  await expect(page.getByRole('alert').filter({ hasText: text })).toBeVisible();
}

/** The frame around every step: the step rail, the header, and the button to the next step. */
export class Wizard {
  constructor(private readonly page: Page) {}

  /** The step the rail marks as current. */
  async expectCurrentStep(title: string): Promise<void> {
    await expect(
      this.page.getByRole('navigation', { name: 'Ceremony steps' }).locator('[aria-current="step"]'),
    ).toContainText(title);
  }

  /** The header names the ceremony and who is at the keyboard. */
  async expectHeaderNames(ceremonyName: string, operator: string): Promise<void> {
    const header = this.page.getByRole('banner');
    await expect(header).toContainText(ceremonyName);
    await expect(header).toContainText(operator);
  }

  get continueButton(): Locator {
    return button(this.page, 'Continue');
  }

  async continue(): Promise<void> {
    await this.continueButton.click();
  }
}

/** Base of the page objects for the numbered steps: each knows its title on the rail. */
export abstract class StepPage {
  protected readonly wizard: Wizard;

  constructor(
    protected readonly page: Page,
    readonly title: string,
  ) {
    this.wizard = new Wizard(page);
  }

  async expectCurrent(): Promise<void> {
    await this.wizard.expectCurrentStep(this.title);
  }

  async continue(): Promise<void> {
    await this.wizard.continue();
  }
}

/** The screen between two people: "Pass the keyboard to …", then "I am …". */
export class Handoff {
  constructor(private readonly page: Page) {}

  heading(name: string): Locator {
    return this.page.getByRole('heading', { name: `Pass the keyboard to ${name}` });
  }

  async expectWaitingFor(name: string): Promise<void> {
    await expect(this.heading(name)).toBeVisible();
  }

  /** The named person takes the keyboard. */
  async claimTurn(name: string): Promise<void> {
    await this.expectWaitingFor(name);
    const claim = button(this.page, `I am ${name}`);
    // Focus lands on the handoff button: the new person only presses Enter.
    await expect(claim).toBeFocused();
    await this.page.keyboard.press('Enter');
  }

  /** "Done — clear the screen" after someone's turn. */
  async clearScreen(): Promise<void> {
    await button(this.page, 'Done — clear the screen').click();
  }
}

/** The list of card readers, polled from main every second, one radio button per reader. */
export class ReaderPicker {
  constructor(private readonly page: Page) {}

  /** The reader's radio button (a string matches part of its name, as Playwright does). */
  reader(name: string | RegExp): Locator {
    return this.page.getByRole('radio', { name });
  }

  async choose(reader: string): Promise<void> {
    const radio = this.reader(new RegExp(reader));
    // The list is polled from main every second; wait until the card is read.
    await expect(radio).toBeVisible();
    await expect(radio).toBeEnabled();
    await radio.check();
  }

  /** The live status under a reader (its accessible description). */
  async expectStatus(reader: Locator, status: RegExp): Promise<void> {
    await expect(reader).toHaveAccessibleDescription(status);
  }
}

/** The fields where a person proves who they are or protects a file: PIN or passphrase. */
export class SecretForm {
  private readonly readers: ReaderPicker;

  constructor(private readonly page: Page) {
    this.readers = new ReaderPicker(page);
  }

  get pin(): Locator {
    return this.page.getByLabel('PIN', { exact: true });
  }

  get passphrase(): Locator {
    return this.page.getByLabel('Passphrase', { exact: true });
  }

  /** Chooses the card's reader and types its PIN. */
  async cardPin(reader: string, pin: string): Promise<void> {
    await this.readers.choose(reader);
    await this.pin.fill(pin);
  }

  /** A new passphrase, typed twice. */
  async newPassphrase(passphrase: string): Promise<void> {
    await this.passphrase.fill(passphrase);
    await this.page.getByLabel('Repeat the passphrase', { exact: true }).fill(passphrase);
  }

  async enterPassphrase(passphrase: string): Promise<void> {
    await this.passphrase.fill(passphrase);
  }

  /** The screen is cleared before the next person: no secret field is left. */
  async expectCleared(): Promise<void> {
    await expect(this.pin).toHaveCount(0);
    await expect(this.passphrase).toHaveCount(0);
  }
}

/**
 * The card-care panel under a chosen reader holding a factory-fresh card: its
 * owner types the factory PIN, then a new PIN and PUK, each twice.
 */
export async function prepareFactoryFreshCardIn(page: Page, newPin: string, newPuk: string): Promise<void> {
  const care = page.getByRole('group', { name: /still has its factory PIN/ });
  await care.getByLabel('Current PIN', { exact: true }).fill('123456');
  await care.getByLabel('New PIN', { exact: true }).fill(newPin);
  await care.getByLabel('Repeat the new PIN', { exact: true }).fill(newPin);
  await care.getByLabel('New PUK', { exact: true }).fill(newPuk);
  await care.getByLabel('Repeat the new PUK', { exact: true }).fill(newPuk);
  await care.getByRole('button', { name: 'Prepare the card' }).click();
  await expect(page.getByText(/is prepared\. Use its new PIN/)).toBeVisible({ timeout: 60_000 });
}

// Step 2, "Target units": load each unit's transport file and confirm its fingerprint against the unit's display.
import { expect, type Locator, type Page } from '@playwright/test';
import type { FlowEnv } from './ceremony-env.js';
import { alertSays, button, StepPage } from './parts.js';

export class UnitsPage extends StepPage {
  constructor(
    page: Page,
    private readonly env: Pick<FlowEnv, 'answer' | 'shot' | 'axe'>,
  ) {
    super(page, 'Target units');
  }

  /** One checkbox per loaded unit: "The fingerprint of … matches the unit's display". */
  get confirmations(): Locator {
    return this.page.getByRole('checkbox', {
      name: /The fingerprint of .* matches the unit’s display|The fingerprint of .* matches the unit's display/,
    });
  }

  async loadTransportFiles(files: readonly string[]): Promise<void> {
    for (const file of files) {
      await this.env.answer('openFile', file);
      await button(this.page, 'Load transport file…').click();
    }
    await expect(this.confirmations).toHaveCount(files.length);
  }

  /** With only one fingerprint confirmed the ceremony cannot go on. */
  async tryToContinueWithOneUnconfirmed(): Promise<void> {
    await this.confirmations.first().check();
    await expect(this.confirmations.first()).toBeChecked();
    const go = this.wizard.continueButton;
    if (await go.isEnabled()) {
      await go.click();
      await alertSays(this.page, /confirm|fingerprint/i);
    } else {
      await expect(go).toBeDisabled();
    }
    await this.expectCurrent();
    await this.env.shot('units-one-unconfirmed');
  }

  /** Confirms every fingerprint not yet confirmed (screenshot and axe scan). */
  async confirmAll(): Promise<void> {
    for (const box of await this.confirmations.all()) if (!(await box.isChecked())) await box.check();
    await this.env.shot('units-confirmed');
    await this.env.axe('units');
  }

  /** Loads the transport files and confirms every fingerprint, first trying to skip one when making mistakes. */
  async loadAndConfirm(files: readonly string[], o: { mistakes: boolean }): Promise<void> {
    await this.loadTransportFiles(files);
    if (o.mistakes) await this.tryToContinueWithOneUnconfirmed();
    await this.confirmAll();
  }
}

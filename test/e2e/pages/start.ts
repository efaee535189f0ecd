// The start screen: a new ceremony, or a custodian's check of a share against a saved record.
import { expect, type Locator, type Page } from '@playwright/test';
import type { FlowEnv } from './ceremony-env.js';
import { button } from './parts.js';

export class StartPage {
  constructor(
    private readonly page: Page,
    private readonly env: Pick<FlowEnv, 'shot' | 'axe'>,
  ) {}

  get startButton(): Locator {
    return button(this.page, 'Start a new ceremony');
  }

  /** Shows the start screen (screenshot and axe scan), then starts a new ceremony. */
  async startNewCeremony(): Promise<void> {
    await expect(this.startButton).toBeVisible();
    await this.env.shot('start');
    await this.env.axe('start');
    await this.startButton.click();
  }

  async checkAShare(): Promise<void> {
    await button(this.page, 'Check a share against a ceremony record').click();
  }
}

// Step 4, "Master key": generated inside the app; its key check value (KCV) is shown.
import { expect, type Page } from '@playwright/test';
import type { FlowEnv } from './ceremony-env.js';
import { button, StepPage } from './parts.js';

export class MasterKeyPage extends StepPage {
  constructor(
    page: Page,
    private readonly env: Pick<FlowEnv, 'shot' | 'axe'>,
  ) {
    super(page, 'Master key');
  }

  /** Generates the master key and returns the KCV shown (6 hex digits, as displayed), after a screenshot and axe scan. */
  async generate(): Promise<string> {
    await button(this.page, 'Generate the master key').click();
    const kcv = (await this.page.getByTestId('kcv').innerText()).replace(/\s+/g, '');
    expect(kcv).toMatch(/^[0-9A-F]{6}$/i);
    await this.env.shot('master-key');
    await this.env.axe('master-key');
    return kcv;
  }
}

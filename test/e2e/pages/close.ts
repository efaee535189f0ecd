// Step 7, "Close": the master key is wiped, the ceremony record saved and the report printed.
import { expect, type Page } from '@playwright/test';
import type { FlowEnv } from './ceremony-env.js';
import { button, StepPage } from './parts.js';

export class ClosePage extends StepPage {
  constructor(
    page: Page,
    private readonly env: Pick<FlowEnv, 'answer' | 'shot' | 'axe'>,
  ) {
    super(page, 'Close');
  }

  async wipeMasterKey(): Promise<void> {
    await button(this.page, 'Wipe the master key and close').click();
    await expect(this.page.getByText(/wiped/i).first()).toBeVisible();
  }

  async saveRecordTo(folder: string): Promise<void> {
    await this.env.answer('chooseFolder', folder);
    await button(this.page, 'Save the ceremony record…').click();
    await expect(this.page.getByText(folder).first()).toBeVisible();
  }

  /** Prints the report, then a screenshot and axe scan of the closed ceremony. */
  async printReport(): Promise<void> {
    await button(this.page, 'Print the report…').click();
    await expect(this.page.getByText('The report was sent to the printer.')).toBeVisible();
    await this.env.shot('closed');
    await this.env.axe('closed');
  }

  /** Wipes the key, saves the record into the folder, prints the report. */
  async wipeSaveAndPrint(recordDir: string): Promise<void> {
    await this.wipeMasterKey();
    await this.saveRecordTo(recordDir);
    await this.printReport();
  }

  /** Back to the start screen. */
  async startOver(): Promise<void> {
    await button(this.page, 'Start over').click();
  }
}

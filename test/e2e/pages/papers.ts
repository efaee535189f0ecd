// The papers of every later ceremony (issue 11), as the wizards show them
// (src/renderer/ui/CeremonyPapers.tsx): "Print the ceremony script" with the
// operator and the witnesses, a plan (SETUP.json) opened or saved; on the
// done screen, "Print the report". What was printed is read back from the
// bridge (test/e2e/bridge: printHtml keeps every document).
import { expect, type Locator, type Page } from '@playwright/test';
import type { DialogKind } from './ceremony-env.js';
import { button } from './parts.js';

export class PapersPart {
  constructor(
    private readonly page: Page,
    private readonly env: {
      answer: (kind: DialogKind, path: string) => Promise<void> | void;
      printed: readonly string[];
      shot: (name: string) => Promise<void>;
      axe: (where: string) => Promise<void>;
    },
  ) {}

  private get script(): Locator {
    return this.page.getByTestId('ceremony-script');
  }

  /** Names the operator and the witnesses on the script panel. */
  async names(operator: string, witnesses: readonly string[]): Promise<void> {
    await this.script.getByLabel('Operator', { exact: true }).fill(operator);
    await this.script.getByLabel('Witnesses', { exact: true }).fill(witnesses.join('\n'));
  }

  /** Prints the script (the print dialog answers yes); answers the document printed. Screenshot and axe. */
  async printScript(shot: string): Promise<string> {
    const before = this.env.printed.length;
    await button(this.page, 'Print the ceremony script…').click();
    await expect(this.script.getByText('The ceremony script was sent to the printer.')).toBeVisible();
    expect(this.env.printed.length).toBe(before + 1);
    await this.env.shot(shot);
    await this.env.axe(shot);
    return this.env.printed.at(-1)!;
  }

  /** Asks for the script when it cannot be printed: nothing reaches the printer (the refusal is on screen). */
  async printScriptRefused(text: RegExp): Promise<void> {
    const before = this.env.printed.length;
    await button(this.page, 'Print the ceremony script…').click();
    await expect(this.page.getByRole('alert').filter({ hasText: text })).toBeVisible();
    expect(this.env.printed.length).toBe(before);
  }

  /** Saves the plan (SETUP.json) to `path`. */
  async savePlan(path: string): Promise<void> {
    await this.env.answer('saveFile', path);
    await button(this.page, 'Save the plan (SETUP.json)…').click();
    await expect(this.page.getByTestId('ceremony-script-plan')).toContainText('Saved as the plan');
  }

  /** Opens the plan at `path` for its names. */
  async openPlan(path: string): Promise<void> {
    await this.env.answer('openFile', path);
    await button(this.page, 'Open a plan (SETUP.json)…').click();
  }

  /** Prints the record's report from the done screen; answers the document printed. Screenshot and axe. */
  async printReport(shot: string): Promise<string> {
    const before = this.env.printed.length;
    await button(this.page, 'Print the report…').click();
    await expect(
      this.page.getByTestId('ceremony-report').getByText('The report was sent to the printer.'),
    ).toBeVisible();
    expect(this.env.printed.length).toBe(before + 1);
    await this.env.shot(shot);
    await this.env.axe(shot);
    return this.env.printed.at(-1)!;
  }
}

/** A printed document's text, its markup taken out, for asserting what it says. */
export function printedText(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ');
}

// From the start screen: the record check (issue 11, ceremony 6) — a
// ceremony record opened, checked as `transcript verify` checks it, its head
// compared with the one typed from the signed report, its history shown.
import { expect, type Page } from '@playwright/test';
import { alertSays, button } from './parts.js';

type Answer = (kind: 'openFile', path: string) => Promise<void> | void;

export class CheckRecordPage {
  constructor(
    private readonly page: Page,
    private readonly env: {
      answer: Answer;
      shot: (name: string) => Promise<void>;
      axe: (where: string) => Promise<void>;
    },
  ) {}

  async fromStartScreen(): Promise<void> {
    await button(this.page, 'Check a ceremony record').click();
    await expect(this.page.getByRole('heading', { name: 'Check a ceremony record', level: 2 })).toBeVisible();
  }

  /** Opens a record (the open dialog answered with `file`). */
  async open(file: string): Promise<void> {
    await this.env.answer('openFile', file);
    await button(this.page, /^Open (ceremony|another) record…$/).click();
  }

  async expectIntact(entries: number): Promise<void> {
    await expect(
      this.page.getByRole('heading', { name: `The record is intact and complete: ${entries} entries` }),
    ).toBeVisible();
  }

  async expectHead(groups: string): Promise<void> {
    await expect(this.page.getByTestId('record-head-groups')).toHaveText(groups);
  }

  /** The rows of the history table, each as its cells' text. */
  async ceremonies(): Promise<string[][]> {
    const table = this.page.getByRole('table', { name: /Every ceremony of the key’s life/ });
    const rows = table.locator('tbody tr');
    const out: string[][] = [];
    for (let i = 0; i < (await rows.count()); i++)
      out.push((await rows.nth(i).locator('th, td').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim()));
    return out;
  }

  async shareStatus(custodian: string): Promise<string> {
    const table = this.page.getByRole('table', { name: /Every share the record issued/ });
    const row = table
      .locator('tbody tr')
      .filter({ has: this.page.getByRole('cell', { name: custodian, exact: true }) });
    return (await row.first().locator('td').last().innerText()).trim();
  }

  async typeHead(text: string): Promise<void> {
    await this.page.getByLabel('Head hash printed on the signed paper report').fill(text);
    await button(this.page, 'Compare with the report').click();
  }

  async expectHeadMatches(): Promise<void> {
    await expect(
      this.page.getByRole('status').filter({ hasText: 'Matches: this is the record the signed report describes.' }),
    ).toBeVisible();
  }

  async expectHeadMismatch(): Promise<void> {
    await expect(
      this.page.getByRole('status').filter({ hasText: 'Does NOT match — this is not the record the report describes' }),
    ).toBeVisible();
  }

  /** Checks a bundle file against the opened record (the open dialog answered with `file`). */
  async checkBundle(file: string): Promise<void> {
    await this.env.answer('openFile', file);
    await button(this.page, 'Check a bundle file…').click();
  }

  /** The checked bundle's facts, label to value. */
  async bundleFacts(): Promise<Record<string, string>> {
    const panel = this.page.getByTestId('record-check-bundle');
    await expect(panel).toBeVisible();
    const facts: Record<string, string> = {};
    const rows = panel.locator('dl > div');
    for (let i = 0; i < (await rows.count()); i++)
      facts[(await rows.nth(i).locator('dt').innerText()).trim()] = (
        await rows.nth(i).locator('dd').innerText()
      ).trim();
    return facts;
  }

  async printReport(): Promise<void> {
    await button(this.page, 'Print the report…').click();
    await expect(
      this.page.getByRole('status').filter({ hasText: 'The report was sent to the printer.' }),
    ).toBeVisible();
  }

  async expectRefused(sentence: string): Promise<void> {
    await alertSays(this.page, /damaged, altered or incomplete/);
    await expect(this.page.getByRole('alert')).toContainText(sentence);
    await expect(this.page.getByRole('heading', { name: /The record is intact/ })).toHaveCount(0);
  }
}

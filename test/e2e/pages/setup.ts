// Step 1, "Set up": the ceremony's name, its people, and its thresholds.
import type { Page } from '@playwright/test';
import type { FlowEnv, Roster } from './ceremony-env.js';
import { button, StepPage } from './parts.js';

export interface Thresholds {
  /** Shares needed to recover the master key (K). */
  sharesNeeded: number;
  /** Admin signatures a bundle needs. */
  signatures: number;
}

export class SetupPage extends StepPage {
  constructor(
    page: Page,
    private readonly env: Pick<FlowEnv, 'shot' | 'axe'>,
  ) {
    super(page, 'Set up');
  }

  private field(label: string) {
    return this.page.getByLabel(label, { exact: true });
  }

  /** Names the ceremony, the key, the operator, and every admin, custodian and witness with their medium. */
  async describe(roster: Roster, thresholds: Thresholds): Promise<void> {
    await this.field('Ceremony name').fill(roster.ceremonyName);
    await this.field('Key name').fill(roster.keyName);
    await this.field('Operator').fill(roster.operator);
    for (let i = 2; i < roster.admins.length; i++) await button(this.page, 'Add admin').click();
    for (let i = 3; i < roster.custodians.length; i++) await button(this.page, 'Add custodian').click();
    for (const [i, a] of roster.admins.entries()) {
      await this.field(`Admin ${i + 1} name`).fill(a.name);
      await this.field(`Admin ${i + 1} medium`).selectOption(a.medium);
    }
    for (const [i, c] of roster.custodians.entries()) {
      await this.field(`Custodian ${i + 1} name`).fill(c.name);
      await this.field(`Custodian ${i + 1} medium`).selectOption(c.medium);
    }
    await this.field('Witness 1 name').fill(roster.witnesses[0]);
    await this.field('Shares needed to recover (K)').fill(String(thresholds.sharesNeeded));
    await this.field('Signature threshold').fill(String(thresholds.signatures));
  }

  /** Shows the filled form (screenshot and axe scan), starts the ceremony, and checks the header names it. */
  async startCeremony(roster: Roster): Promise<void> {
    await this.env.shot('setup');
    await this.env.axe('setup');
    await button(this.page, 'Start the ceremony').click();
    await this.wizard.expectHeaderNames(roster.ceremonyName, roster.operator);
  }
}

// Step 1, "Set up": the ceremony's name, its people, and its thresholds, and
// the reasons separation of duties asks for (issue 11).
import { expect, type Page } from '@playwright/test';
import type { FlowEnv } from './ceremony-env.js';
import { button, StepPage } from './parts.js';

export interface Thresholds {
  /** Shares needed to recover the master key (K). */
  sharesNeeded: number;
  /** Admin signatures a bundle needs. */
  signatures: number;
  /** Admin signatures needed to remove an admin or lower a threshold. */
  revocations: number;
}

/** Who takes part, as the form asks for them (ROSTER is one). */
export interface SetupRoster {
  readonly ceremonyName: string;
  readonly keyName: string;
  readonly operator: string;
  readonly admins: readonly { readonly name: string; readonly medium: 'card' | 'file' }[];
  readonly custodians: readonly { readonly name: string; readonly medium: 'card' | 'file' }[];
  readonly witnesses: readonly [string, ...string[]];
}

/** The plan's buttons (issue 11: SETUP.json exported and imported by the Set up). */
export const PLAN_BUTTON = {
  open: 'Open a plan (SETUP.json)',
  save: 'Save the plan (SETUP.json)',
  print: 'Print the ceremony script',
} as const;

/** The fields that appear only when a reason is needed. */
export const REASON_LABEL = {
  custodianIsAdmin: 'Why a custodian is also an admin',
  signatureThresholdOne: 'Why one admin’s signature is enough',
} as const;

export class SetupPage extends StepPage {
  constructor(
    page: Page,
    private readonly env: Pick<FlowEnv, 'shot' | 'axe'>,
  ) {
    super(page, 'Set up');
  }

  field(label: string) {
    return this.page.getByLabel(label, { exact: true });
  }

  /** Names the ceremony, the key, the operator, and every admin, custodian and witness with their medium. */
  async describe(roster: SetupRoster, thresholds: Thresholds): Promise<void> {
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
    await this.field('Revocation threshold').fill(String(thresholds.revocations));
  }

  /** Opens a plan file through the open dialog (answered by `answer`); the form fills, nothing starts. */
  async openPlan(answer: FlowEnv['answer'], file: string): Promise<void> {
    await answer('openFile', file);
    await button(this.page, PLAN_BUTTON.open).click();
  }

  /** Saves the form as a plan to `file` through the save dialog. */
  async savePlan(answer: FlowEnv['answer'], file: string): Promise<void> {
    await answer('saveFile', file);
    await button(this.page, PLAN_BUTTON.save).click();
  }

  async printScript(): Promise<void> {
    await button(this.page, PLAN_BUTTON.print).click();
  }

  /** The plan's summary next to the form: its file name and SHA-256 as the printed script shows it (hex groups). */
  async expectPlan(fileName: string, sha256Groups: string): Promise<void> {
    const plan = this.page.getByTestId('setup-plan');
    await expect(plan).toContainText(fileName);
    await expect(this.page.getByTestId('setup-plan-sha256')).toHaveText(sha256Groups);
    await expect(plan).toBeFocused();
  }

  /** The form holds these values (as a plan filled it). */
  async expectFilled(roster: SetupRoster, thresholds: Thresholds): Promise<void> {
    await expect(this.field('Ceremony name')).toHaveValue(roster.ceremonyName);
    await expect(this.field('Key name')).toHaveValue(roster.keyName);
    await expect(this.field('Operator')).toHaveValue(roster.operator);
    for (const [i, a] of roster.admins.entries()) {
      await expect(this.field(`Admin ${i + 1} name`)).toHaveValue(a.name);
      await expect(this.field(`Admin ${i + 1} medium`)).toHaveValue(a.medium);
    }
    await expect(this.field(`Admin ${roster.admins.length + 1} name`)).toHaveCount(0);
    for (const [i, c] of roster.custodians.entries()) {
      await expect(this.field(`Custodian ${i + 1} name`)).toHaveValue(c.name);
      await expect(this.field(`Custodian ${i + 1} medium`)).toHaveValue(c.medium);
    }
    await expect(this.field(`Custodian ${roster.custodians.length + 1} name`)).toHaveCount(0);
    for (const [i, w] of roster.witnesses.entries()) await expect(this.field(`Witness ${i + 1} name`)).toHaveValue(w);
    await expect(this.field('Shares needed to recover (K)')).toHaveValue(String(thresholds.sharesNeeded));
    await expect(this.field('Signature threshold')).toHaveValue(String(thresholds.signatures));
    await expect(this.field('Revocation threshold')).toHaveValue(String(thresholds.revocations));
  }

  /** Types the reason into the field that separation of duties showed. */
  async giveReason(reason: keyof typeof REASON_LABEL, text: string): Promise<void> {
    await this.field(REASON_LABEL[reason]).fill(text);
  }

  /**
   * Presses "Start the ceremony" on a set-up the form refuses: focus goes to
   * the field that needs fixing, which says why, and the step stays Set up.
   */
  async expectRefused(label: string, why: string | RegExp): Promise<void> {
    await button(this.page, 'Start the ceremony').click();
    const field = this.field(label);
    await expect(field).toBeFocused();
    await expect(field).toHaveAttribute('aria-invalid', 'true');
    await expect(field).toHaveAccessibleDescription(why);
    await this.expectCurrent();
  }

  /** Shows the filled form (screenshot and axe scan), starts the ceremony, and checks the header names it. */
  async startCeremony(roster: SetupRoster): Promise<void> {
    await this.env.shot('setup');
    await this.env.axe('setup');
    await button(this.page, 'Start the ceremony').click();
    await this.wizard.expectHeaderNames(roster.ceremonyName, roster.operator);
  }
}

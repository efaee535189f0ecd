import { basename } from 'node:path';
import { documentHtml } from '../document/html.js';
import { assertOutputFree, readFileOrFail, safeFileStem, writeFileExclusive } from '../files.js';
import { checkSetup, type CeremonySetup } from './roster.js';
import { ceremonyScriptDocument } from './script.js';
import { fail, picked, sha256Hex, type FileFilter, type SessionPorts } from './session-ports.js';
import type { OpenedPlan, PlanRef, PlanSaved } from './session-view.js';
import {
  MAX_SETUP_BYTES,
  parseSetupFile,
  serializeSetupFile,
  type CeremonySetupFile,
  type SetupUnit,
} from './setup-file.js';
import { carriedFromPlan, formOfPlan, planDifferences, planOfForm } from './setup-plan.js';

// The plan (SETUP.json, issue 11) in the app: written from the Set up form,
// or read into it, and its script printed, before anything starts. The
// plans opened or saved since the application started are kept by the
// SHA-256 of their file, so that Start can name the one it was set up from.

const PLAN_FILTERS: FileFilter[] = [{ name: 'Ceremony plan (SETUP.json)', extensions: ['json'] }];

/** A plan opened in this session: its text as read, and as the form's values. */
export interface PlanOpened {
  readonly fileName: string;
  readonly text: string;
  readonly setup: CeremonySetup;
  readonly units: readonly SetupUnit[];
}

/** A plan file's text (UTF-8, at most a page of JSON) and its SHA-256 (hex), as the printed script names it. */
export function readPlanFile(path: string): { text: string; sha256: string } {
  const bytes = readFileOrFail(path, 'The plan', MAX_SETUP_BYTES);
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), sha256: sha256Hex(bytes) };
  } catch {
    fail('InvalidArgument', 'SETUP.json: the file is not UTF-8 text.');
  }
}

export class PlanDesk {
  private readonly plans = new Map<string, PlanOpened>();

  constructor(
    private readonly ports: Pick<SessionPorts, 'dialogs' | 'printHtml'>,
    private readonly now: () => Date,
  ) {}

  /**
   * Writes the form's values as a plan (SETUP.json, an initial ceremony in
   * production) to a new file (save dialog), never overwriting. The values
   * are checked with the Set up's rules first; the file is what
   * serializeSetupFile gives. `fromPlan` names the plan the form was filled
   * from (or last saved as): what of it the form cannot hold (card serials,
   * bag numbers) is kept (planOfForm), and the notes say what was kept.
   */
  async save(form: CeremonySetup, units: readonly SetupUnit[], fromPlan?: PlanRef): Promise<PlanSaved> {
    const from = this.fileOf(fromPlan);
    const plan = planOfForm(form, units, from);
    const text = serializeSetupFile(plan);
    const path = picked(
      await this.ports.dialogs.saveFile({
        title: 'Save the ceremony plan (SETUP.json)',
        defaultName: `SETUP-${safeFileStem(form.ceremonyName)}.json`,
        filters: PLAN_FILTERS,
      }),
    );
    assertOutputFree(path);
    writeFileExclusive(path, text, 0o644);
    const saved = { fileName: basename(path), sha256: sha256Hex(text) };
    // Starting from the form as saved is starting from this plan: Start may name it as it names an opened one.
    this.plans.set(saved.sha256, { fileName: saved.fileName, text, setup: checkSetup(form), units: plan.units });
    return { ...saved, notes: from === undefined ? [] : carriedFromPlan(from, plan) };
  }

  /** The plan `ref` names, as its file says it; none without a ref. */
  private fileOf(ref: PlanRef | undefined): CeremonySetupFile | undefined {
    return ref === undefined ? undefined : parseSetupFile(this.opened(ref).text);
  }

  /**
   * Reads a plan (SETUP.json) chosen in the open dialog, for the Set up form
   * to show. Only an initial ceremony in production; refused with the member
   * named when it is not a plan, or breaks a rule. Nothing starts.
   */
  async open(): Promise<OpenedPlan> {
    const path = picked(
      await this.ports.dialogs.openFile({ title: 'Open a ceremony plan (SETUP.json)', filters: PLAN_FILTERS }),
    );
    const { text, sha256 } = readPlanFile(path);
    const { setup, units, notes } = formOfPlan(parseSetupFile(text));
    const fileName = basename(path);
    this.plans.set(sha256, { fileName, text, setup, units });
    return { fileName, sha256, setup, units, notes };
  }

  /**
   * Prints the ceremony script of the form's values (the system print
   * dialog). When they are still those of the plan `fromPlan`, the script
   * is printed from that file, with its SHA-256; otherwise from the form,
   * without one (no file holds it yet). False if the person canceled.
   */
  async printScript(
    form: CeremonySetup,
    units: readonly SetupUnit[],
    fromPlan?: PlanRef,
  ): Promise<{ printed: boolean }> {
    const plan = fromPlan === undefined ? undefined : this.opened(fromPlan);
    const ofForm = planOfForm(form, units, plan === undefined ? undefined : parseSetupFile(plan.text));
    const unchanged =
      plan !== undefined &&
      planDifferences(checkSetup(form), plan.setup, { form: ofForm.units, plan: plan.units }).length === 0;
    const doc = unchanged
      ? ceremonyScriptDocument(parseSetupFile(plan.text), this.now(), fromPlan!.sha256)
      : ceremonyScriptDocument(ofForm, this.now());
    return { printed: await this.ports.printHtml(documentHtml(doc)) };
  }

  /** The plan opened or saved here that `ref` names; refused when there is none. */
  opened(ref: PlanRef): PlanOpened {
    const plan = this.plans.get(ref.sha256);
    if (plan === undefined)
      fail(
        'InvalidArgument',
        'The plan the form names was not opened or saved here; open it again with "Open a plan".',
      );
    return plan;
  }
}

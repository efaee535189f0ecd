import { basename } from 'node:path';
import { documentHtml } from '../document/html.js';
import { CeremonyError } from '../errors.js';
import { assertOutputFree, safeFileStem, writeFileExclusive } from '../files.js';
import { CEREMONY_KIND, type CeremonyKind } from './kinds.js';
import type { IssuedShare } from './record.js';
import { recordReportHtml } from './record-check.js';
import { cleanName, NAME_MAX } from './roster.js';
import { ceremonyScriptDocument } from './script.js';
import { readPlanFile } from './plan-desk.js';
import { chooseSavePath, picked, sha256Hex, type FileFilter, type SessionPorts } from './session-ports.js';
import type { SavedPlan } from './session-view.js';
import { parseSetupFile, serializeSetupFile, type CeremonySetupFile, type SetupCustodian } from './setup-file.js';

// The papers of every later ceremony in the app (issue 11): before it, the
// ceremony script (script.ts) of a setup (SETUP.json, setup-file.ts) that the
// wizard assembles from what it holds once it knows who takes part and the
// units; after it, the record's report (the document of `transcript
// report`). Each later session says what it holds as LaterFacts; the names
// only the room knows (operator, witnesses) come from the wizard's papers
// panel or from a plan of the same kind and key. One implementation for the
// recovery, re-share, admin change, rotation and zeroize.

/** The kinds of the later ceremonies the app runs. */
export type LaterKind = Exclude<CeremonyKind, 'initial' | 'share-check'>;

/**
 * What a later session holds, as a setup names it (the session's own part of
 * its script): the key (for a rotation, the new key), K of the new split
 * (re-share, rotation) or of the key (recovery), who brings and who receives
 * shares, the admins, the units, and the admin thresholds where the kind has them.
 */
export type LaterFacts = Pick<
  CeremonySetupFile,
  'keyName' | 'threshold' | 'holders' | 'custodians' | 'admins' | 'units'
> & {
  readonly kind: LaterKind;
  readonly rehearsal: boolean;
  readonly thresholds?: { readonly signatureThreshold: number; readonly revocationThreshold: number };
};

/** A later wizard's session, as its papers see it. */
export interface LaterPapersSource {
  /** What its script names, once it knows who takes part and the units; an admin change takes the thresholds typed. */
  papersFacts(thresholds?: { signatureThreshold: number; revocationThreshold: number }): LaterFacts;
  /** The record its report is printed from, once it is done. */
  reportRecordPath(): string;
}

/** The names the room gives that no record holds: typed in the papers panel, or read from a plan. */
export interface PaperNames {
  /** The ceremony's name; the kind and key when not given. */
  readonly ceremonyName?: string;
  readonly operator: string;
  readonly witnesses: readonly string[];
}

const PLAN_FILTERS: FileFilter[] = [{ name: 'Ceremony plan (SETUP.json)', extensions: ['json'] }];

/** A share the record issued, as a setup names its holder: the medium, and the card's serial when on a card. */
export function holderOfIssued(issued: IssuedShare): SetupCustodian {
  if (issued.medium !== 'card') return { name: issued.custodian, medium: 'file' };
  // A card share's location reads "card <serial> slot <slot>" (card-media.ts).
  const serial = /^card (\d+)\b/.exec(issued.location)?.[1];
  return { name: issued.custodian, medium: 'card', ...(serial !== undefined ? { cardSerial: Number(serial) } : {}) };
}

function defaultCeremonyName(facts: LaterFacts): string {
  return `${CEREMONY_KIND[facts.kind].title} — ${facts.keyName}`.slice(0, NAME_MAX).trim();
}

/**
 * The setup (SETUP.json) of a later ceremony: what its session holds, and
 * the names the room gave. Checked as a plan file is (parseSetupFile): the
 * kind's members, and the separation-of-duties rules of roster.ts (a
 * production ceremony needs a witness who holds no share and no admin
 * identity), each refusal naming what to change.
 */
export function laterSetupFile(facts: LaterFacts, names: PaperNames): CeremonySetupFile {
  const operator = cleanName(names.operator, 'The operator name');
  const witnesses = names.witnesses.map((w, i) => ({ name: cleanName(w, `Witness ${i + 1}'s name`) }));
  const ceremonyName =
    names.ceremonyName === undefined || names.ceremonyName.trim() === ''
      ? defaultCeremonyName(facts)
      : cleanName(names.ceremonyName, 'The ceremony name');
  const setup: CeremonySetupFile = {
    format: 'keyceremony-setup/1',
    kind: facts.kind,
    mode: facts.rehearsal ? 'rehearsal' : 'production',
    ceremonyName,
    keyName: facts.keyName,
    operator,
    ...(facts.threshold !== undefined ? { threshold: facts.threshold } : {}),
    custodians: facts.custodians,
    holders: facts.holders,
    admins: facts.admins,
    witnesses,
    units: facts.units,
    ...(facts.thresholds !== undefined ? facts.thresholds : {}),
    reasons: {},
  };
  // serializeSetupFile parses what it writes: the setup is the one a SETUP.json of it would give.
  return parseSetupFile(serializeSetupFile(setup));
}

/**
 * The names of a plan (SETUP.json text) for a wizard whose session holds
 * `facts`: refused, saying why, when the plan is of another kind of
 * ceremony or of another key.
 */
export function namesOfPlan(text: string, facts: LaterFacts): PaperNames {
  const plan = parseSetupFile(text);
  if (plan.kind !== facts.kind)
    throw new CeremonyError(
      'InvalidArgument',
      `This plan is for a ${CEREMONY_KIND[plan.kind].title.toLocaleLowerCase()}, not a ${CEREMONY_KIND[facts.kind].title.toLocaleLowerCase()}: open the plan of this ceremony.`,
    );
  if (plan.keyName !== facts.keyName)
    throw new CeremonyError(
      'InvalidArgument',
      `This plan is for key "${plan.keyName}", but this ceremony is about key "${facts.keyName}": open the plan of this key.`,
    );
  return {
    ceremonyName: plan.ceremonyName,
    operator: plan.operator,
    witnesses: plan.witnesses.map((w) => w.name),
  };
}

/** A plan opened for a later ceremony: its file, and the names it gives. */
export interface LaterPlanOpened {
  readonly fileName: string;
  readonly sha256: string;
  readonly names: PaperNames;
}

/** The papers desk of the later wizards: the script and plan before, the record's report after. */
export class LaterPapers {
  constructor(
    private readonly ports: Pick<SessionPorts, 'dialogs' | 'printHtml'>,
    private readonly now: () => Date,
  ) {}

  /** Prints the ceremony script (system print dialog); false if the person canceled. */
  async printScript(facts: LaterFacts, names: PaperNames): Promise<{ printed: boolean }> {
    const doc = ceremonyScriptDocument(laterSetupFile(facts, names), this.now());
    return { printed: await this.ports.printHtml(documentHtml(doc)) };
  }

  /** Saves the plan (SETUP.json, save dialog) for sign-off before the day; never over a file. */
  async savePlan(facts: LaterFacts, names: PaperNames): Promise<SavedPlan> {
    const setup = laterSetupFile(facts, names);
    const text = serializeSetupFile(setup);
    // In a rehearsal the plan's name starts with REHEARSAL- whatever the person typed, as every file it saves.
    const path = await chooseSavePath(this.ports.dialogs, setup.mode, {
      title: 'Save the ceremony plan (SETUP.json)',
      defaultName: `SETUP-${safeFileStem(setup.ceremonyName)}.json`,
      filters: PLAN_FILTERS,
    });
    assertOutputFree(path);
    writeFileExclusive(path, text, 0o644);
    return { fileName: basename(path), sha256: sha256Hex(text) };
  }

  /** Opens a plan (SETUP.json, open dialog) of this kind and key, for its names. Nothing else changes. */
  async openPlan(facts: LaterFacts): Promise<LaterPlanOpened> {
    const path = picked(
      await this.ports.dialogs.openFile({ title: 'Open the ceremony plan (SETUP.json)', filters: PLAN_FILTERS }),
    );
    const { text, sha256 } = readPlanFile(path);
    return { fileName: basename(path), sha256, names: namesOfPlan(text, facts) };
  }

  /**
   * Prints the report of the record at `recordPath` (the document of
   * `transcript report`, `--witness` for each witness named): what
   * happened, the head hash as hex and words, the signature lines.
   */
  async printReport(recordPath: string, witnesses: readonly string[]): Promise<{ printed: boolean }> {
    const named = witnesses.map((w, i) => cleanName(w, `Witness ${i + 1}'s name`));
    return { printed: await this.ports.printHtml(recordReportHtml(recordPath, this.now(), named)) };
  }
}

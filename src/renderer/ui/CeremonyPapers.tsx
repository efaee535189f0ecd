// The papers of every later ceremony (issue 11): before it, "Print the
// ceremony script" (roles and names, materials, units with their transport
// fingerprints, every step with a box to initial and a time), built in main
// from what the wizard's session holds and the names typed here or read from
// the plan (SETUP.json) signed off before the day; after it, "Print the
// report" of the record (the document of `keyceremony transcript report`).
// One component for the recovery, re-share, admin change, rotation and
// zeroize; the wizard keeps the names (usePaperNames) so that the witnesses
// named before the ceremony sign its report too.
import { useEffect, useId, useState, type ReactNode } from 'react';
import type { IpcResult, PaperNames, LaterWizard, PlanFileView } from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { useCall } from '../lib/useCall.js';
import { FingerprintWords, HexGroups } from './Fingerprint.js';
import { BusyStatus, ErrorNotice } from './Notices.js';

/** The names as typed: the witnesses one per line. No secret. */
export interface PaperNamesDraft {
  readonly ceremonyName: string;
  readonly operator: string;
  readonly witnesses: string;
}

const EMPTY: PaperNamesDraft = { ceremonyName: '', operator: '', witnesses: '' };

/** The names a wizard keeps from its script to its report. */
export function usePaperNames(): [PaperNamesDraft, (names: PaperNamesDraft) => void] {
  const [names, setNames] = useState<PaperNamesDraft>(EMPTY);
  return [names, setNames];
}

function witnessesOf(draft: PaperNamesDraft): string[] {
  return draft.witnesses
    .split('\n')
    .map((w) => w.trim())
    .filter((w) => w !== '');
}

function namesOf(draft: PaperNamesDraft): PaperNames {
  const ceremonyName = draft.ceremonyName.trim();
  return {
    operator: draft.operator,
    witnesses: witnessesOf(draft),
    ...(ceremonyName !== '' ? { ceremonyName } : {}),
  };
}

type Outcome =
  | { kind: 'printed'; printed: boolean }
  | { kind: 'saved'; file: PlanFileView }
  | { kind: 'opened'; file: PlanFileView };

/**
 * "Print the ceremony script", once the wizard knows who takes part and the
 * units, before anyone brings a secret or signs. Not a form of its own (it
 * may sit beside or inside a step's form): its buttons only call main.
 */
export function CeremonyScriptPapers({
  wizard,
  names,
  onNames,
  suggestedOperator,
  thresholds,
  note,
}: {
  readonly wizard: LaterWizard;
  readonly names: PaperNamesDraft;
  readonly onNames: (names: PaperNamesDraft) => void;
  /** The operator the wizard already knows (the re-share's, the rotation's), filled in when none is typed. */
  readonly suggestedOperator?: string;
  /** An admin change: the thresholds typed on its form, printed as the plan's. */
  readonly thresholds?: { readonly signatureThreshold: number; readonly revocationThreshold: number };
  /** What this wizard's script is printed from, in a sentence. */
  readonly note?: string;
}) {
  const call = useCall();
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const id = useId();
  useEffect(() => {
    if (names.operator === '' && suggestedOperator !== undefined && suggestedOperator !== '')
      onNames({ ...names, operator: suggestedOperator });
    // Once, when the panel appears with an operator already named.
  }, []);
  const request = () => ({ wizard, names: namesOf(names), ...(thresholds !== undefined ? { thresholds } : {}) });
  const idle = call.busy === null;

  async function print(): Promise<void> {
    setOutcome(null);
    const r = await call.run('Preparing the ceremony script…', () => api().papers.printScript(request()));
    if (r?.ok === true) setOutcome({ kind: 'printed', printed: r.value.printed });
  }
  async function save(): Promise<void> {
    setOutcome(null);
    const r = await call.run('Saving the plan…', () => api().papers.savePlan(request()));
    if (r?.ok === true) setOutcome({ kind: 'saved', file: r.value });
  }
  async function open(): Promise<void> {
    setOutcome(null);
    const r = await call.run('Opening the plan…', () => api().papers.openPlan({ wizard }));
    if (r?.ok !== true) return;
    const n = r.value.names;
    onNames({ ceremonyName: n.ceremonyName ?? '', operator: n.operator, witnesses: n.witnesses.join('\n') });
    setOutcome({ kind: 'opened', file: r.value });
  }

  return (
    <section className="check-section ceremony-papers" aria-labelledby={`${id}-heading`} data-testid="ceremony-script">
      <h3 id={`${id}-heading`}>Print the ceremony script</h3>
      <p>
        Before anyone brings a secret or signs, print the script of this ceremony and follow it: the roles and names,
        the materials (cards by serial, files), the units with their transport fingerprints, and every step with a box
        to initial and a time to fill in. {note}
      </p>
      <p className="field-hint">
        Open the plan (SETUP.json) signed off before the day to fill in the names, or save these as a plan for sign-off.
        A production ceremony needs at least one witness who holds no share and no admin identity.
      </p>
      <div className="field">
        <label htmlFor={`${id}-operator`}>Operator</label>
        <input
          id={`${id}-operator`}
          type="text"
          className="input"
          autoComplete="off"
          value={names.operator}
          onChange={(e) => onNames({ ...names, operator: e.target.value })}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-witnesses`}>Witnesses</label>
        <textarea
          id={`${id}-witnesses`}
          rows={2}
          className="input"
          aria-describedby={`${id}-witnesses-hint`}
          value={names.witnesses}
          onChange={(e) => onNames({ ...names, witnesses: e.target.value })}
        />
        <p className="field-hint" id={`${id}-witnesses-hint`}>
          One name per line.
        </p>
      </div>
      <div className="field">
        <label htmlFor={`${id}-name`}>Ceremony name (optional)</label>
        <input
          id={`${id}-name`}
          type="text"
          className="input"
          autoComplete="off"
          value={names.ceremonyName}
          onChange={(e) => onNames({ ...names, ceremonyName: e.target.value })}
        />
      </div>
      <div className="actions">
        <button type="button" className="button button-secondary" disabled={!idle} onClick={() => void open()}>
          Open a plan (SETUP.json)…
        </button>
        <button type="button" className="button button-secondary" disabled={!idle} onClick={() => void save()}>
          Save the plan (SETUP.json)…
        </button>
        <button type="button" className="button button-secondary" disabled={!idle} onClick={() => void print()}>
          Print the ceremony script…
        </button>
      </div>
      <BusyStatus busy={call.busy} />
      <ErrorNotice error={call.error} />
      <div role="status">
        {outcome?.kind === 'printed' &&
          (outcome.printed ? (
            <p className="notice notice-success">The ceremony script was sent to the printer.</p>
          ) : (
            <p className="notice">Printing was cancelled.</p>
          ))}
        {(outcome?.kind === 'saved' || outcome?.kind === 'opened') && (
          <div className="notice notice-info" data-testid="ceremony-script-plan">
            <p className="notice-title">
              {outcome.kind === 'saved'
                ? `Saved as the plan ${outcome.file.fileName}`
                : `The names come from the plan ${outcome.file.fileName}`}
            </p>
            <p>SHA-256 of the plan file:</p>
            <HexGroups groups={outcome.file.sha256Groups} size="medium" />
            <FingerprintWords words={outcome.file.sha256Words} />
          </div>
        )}
      </div>
    </section>
  );
}

/**
 * A record's report to the system print dialog (the document of `keyceremony
 * transcript report`): the record check's, and every later wizard's once done.
 */
export function PrintReportSection({
  heading,
  print,
  primary = false,
  testId,
  children,
}: {
  readonly heading: string;
  readonly print: () => Promise<IpcResult<{ printed: boolean }>>;
  /** The screen's next thing to do (a done screen), or one action among others. */
  readonly primary?: boolean;
  readonly testId?: string;
  /** What the report is, in a paragraph. */
  readonly children: ReactNode;
}) {
  const call = useCall();
  const [printed, setPrinted] = useState<boolean | null>(null);
  const id = useId();

  async function run(): Promise<void> {
    setPrinted(null);
    const r = await call.run('Preparing the report…', print);
    if (r?.ok === true) setPrinted(r.value.printed);
  }

  return (
    <section className="check-section" aria-labelledby={`${id}-heading`} data-testid={testId}>
      <h3 id={`${id}-heading`}>{heading}</h3>
      {children}
      <div className="actions">
        <button
          type="button"
          className={`button ${primary ? 'button-primary' : 'button-secondary'}`}
          disabled={call.busy !== null}
          onClick={() => void run()}
        >
          Print the report…
        </button>
      </div>
      <BusyStatus busy={call.busy} />
      <ErrorNotice error={call.error} />
      <div role="status">
        {printed === true && <p className="notice notice-success">The report was sent to the printer.</p>}
        {printed === false && <p className="notice">Printing was cancelled.</p>}
      </div>
    </section>
  );
}

/** "Print the report" on a later wizard's done screen: the record's report, for everyone to sign. */
export function CeremonyReportPapers({
  wizard,
  names,
}: {
  readonly wizard: LaterWizard;
  readonly names: PaperNamesDraft;
}) {
  return (
    <PrintReportSection
      heading="Print the report"
      primary
      testId="ceremony-report"
      print={() => api().papers.printReport({ wizard, witnesses: witnessesOf(names) })}
    >
      <p>
        What happened, as the record says it, with the record’s head hash (hex and words) and signature lines for every
        participant and witness: the same report as <span className="mono">keyceremony transcript report</span>. Read
        the head hash aloud, then everyone signs.
      </p>
    </PrintReportSection>
  );
}

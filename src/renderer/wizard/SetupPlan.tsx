// The plan on the Set up step (issue 11: "The app's Set up can export and
// import SETUP.json, so a ceremony's plan can be reviewed and signed off
// before the day"): open a plan to fill the form, save the form as one, and
// print its ceremony script. The plan's SHA-256 is shown as the printed
// script shows it, so the room can check that the form holds the approved
// plan; main records it when the ceremony starts.
import { useLayoutEffect, useRef } from 'react';
import type { CeremonySetup, IpcError, PlanFileView, PlanUnit } from '../../shared/ipc.js';
import { FingerprintWords, HexGroups } from '../ui/Fingerprint.js';
import { BusyStatus, ErrorNotice } from '../ui/Notices.js';

/** The plan the form was filled from (opened) or last saved as: its file, and the values it holds. */
export interface FormPlan {
  readonly origin: 'opened' | 'saved';
  readonly file: PlanFileView;
  readonly setup: CeremonySetup;
  readonly units: readonly PlanUnit[];
  /** What the form set that the plan left open, and what of the plan the form does not keep. */
  readonly notes: readonly string[];
}

/** What each member of SETUP.json is called on the form. */
const MEMBER_LABEL = {
  ceremonyName: 'the ceremony name',
  keyName: 'the key name',
  operator: 'the operator',
  threshold: 'K',
  admins: 'the admins',
  custodians: 'the custodians',
  witnesses: 'the witnesses',
  units: 'the units',
  signatureThreshold: 'the signature threshold',
  revocationThreshold: 'the revocation threshold',
  reasons: 'the reasons',
} as const;

/** Where the form differs from the plan, in words; empty when it still holds the plan. */
export function differencesFromPlan(
  setup: CeremonySetup,
  units: readonly PlanUnit[],
  plan: Pick<FormPlan, 'setup' | 'units'>,
): string[] {
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const reasons = (s: CeremonySetup) => [s.reasons.custodianIsAdmin ?? null, s.reasons.signatureThresholdOne ?? null];
  const differs: Record<keyof typeof MEMBER_LABEL, boolean> = {
    ceremonyName: setup.ceremonyName !== plan.setup.ceremonyName,
    keyName: setup.keyName !== plan.setup.keyName,
    operator: setup.operator !== plan.setup.operator,
    threshold: setup.threshold !== plan.setup.threshold,
    admins: !same(setup.admins, plan.setup.admins),
    custodians: !same(setup.custodians, plan.setup.custodians),
    witnesses: !same(setup.witnesses, plan.setup.witnesses),
    units: !same(units, plan.units),
    signatureThreshold: setup.signatureThreshold !== plan.setup.signatureThreshold,
    revocationThreshold: setup.revocationThreshold !== plan.setup.revocationThreshold,
    reasons: !same(reasons(setup), reasons(plan.setup)),
  };
  return (Object.keys(MEMBER_LABEL) as (keyof typeof MEMBER_LABEL)[])
    .filter((m) => differs[m])
    .map((m) => MEMBER_LABEL[m]);
}

export const PLAN_SUMMARY_ID = 'setup-plan-summary';

export function PlanPanel({
  plan,
  differences,
  busy,
  error,
  disabled,
  onOpen,
  onSave,
  onPrint,
}: {
  readonly plan: FormPlan | null;
  /** Where the form no longer holds the plan (differencesFromPlan). */
  readonly differences: readonly string[];
  readonly busy: string | null;
  readonly error: IpcError | null;
  /** Another call is running (starting the ceremony). */
  readonly disabled: boolean;
  readonly onOpen: () => void;
  readonly onSave: () => void;
  readonly onPrint: () => void;
}) {
  const summary = useRef<HTMLDivElement | null>(null);
  const shown = plan?.file.sha256 ?? null;
  // A new plan's summary takes focus (in the commit that shows it, as useFocusOnMount), so it is read out
  // and the next Tab goes on into the form.
  useLayoutEffect(() => {
    if (shown !== null) summary.current?.focus();
  }, [shown]);
  const idle = busy === null && !disabled;
  return (
    <section className="group setup-plan" aria-labelledby="setup-plan-title">
      <h3 id="setup-plan-title">The plan (SETUP.json)</h3>
      <p className="field-hint">
        A ceremony’s plan is reviewed and signed off before the day. Open the approved plan to fill this form, or save
        the form as a plan to be reviewed, and print its ceremony script. Nothing starts until “Start the ceremony”.
      </p>
      <div className="actions">
        <button type="button" className="button button-secondary" onClick={onOpen} disabled={!idle}>
          Open a plan (SETUP.json)
        </button>
        <button type="button" className="button button-secondary" onClick={onSave} disabled={!idle}>
          Save the plan (SETUP.json)
        </button>
        <button type="button" className="button button-secondary" onClick={onPrint} disabled={!idle}>
          Print the ceremony script
        </button>
      </div>
      <BusyStatus busy={busy} />
      <ErrorNotice error={error} />
      {plan !== null && (
        <div
          id={PLAN_SUMMARY_ID}
          ref={summary}
          tabIndex={-1}
          className={`notice ${differences.length > 0 ? 'notice-warning' : 'notice-info'}`}
          data-testid="setup-plan"
        >
          <p className="notice-title">
            {plan.origin === 'opened'
              ? `The form holds the plan ${plan.file.fileName}`
              : `The form was saved as the plan ${plan.file.fileName}`}
          </p>
          <p>SHA-256 of the plan file (as its printed ceremony script shows it):</p>
          <HexGroups groups={plan.file.sha256Groups} size="medium" testId="setup-plan-sha256" />
          <FingerprintWords words={plan.file.sha256Words} />
          {plan.notes.map((note) => (
            <p key={note}>{note}</p>
          ))}
          {differences.length > 0 ? (
            <p data-testid="setup-plan-changed">
              {`The form no longer matches the plan: ${differences.join(', ')} changed. The ceremony record will say so.`}
              {differences.includes(MEMBER_LABEL.units) &&
                ' The Units step checks the transport files against the units of the plan file: save the form as a new plan to change them.'}
            </p>
          ) : (
            <p>The ceremony record will name this plan by its SHA-256.</p>
          )}
        </div>
      )}
    </section>
  );
}

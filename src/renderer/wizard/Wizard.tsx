// The ceremony wizard: the step rail beside the current step. The step on
// screen may lag behind main's `view.step` on purpose: a finished step stays
// up (the KCV to write down, the saved bundle's hash) until the operator
// presses Continue. It can never be ahead of main.
import { useMemo, useState } from 'react';
import type { CeremonyMode, CeremonyView, StepId } from '../../shared/ipc.js';
import { assertNever } from '../lib/format.js';
import { BusyContext, type BusyTracker } from '../lib/useCall.js';
import { AbandonCeremony } from './AbandonCeremony.js';
import { AdminsStep } from './AdminsStep.js';
import { BundleStep } from './BundleStep.js';
import { CloseStep } from './CloseStep.js';
import { CeremonyContext, stepIndex, type CeremonyContextValue } from './context.js';
import { MasterKeyStep } from './MasterKeyStep.js';
import { SetupStep } from './SetupStep.js';
import { SharesStep } from './SharesStep.js';
import { StepRail } from './StepRail.js';
import { UnitsStep } from './UnitsStep.js';

export function Wizard({
  startMode,
  view,
  onView,
  setAtKeyboard,
  onCancelSetup,
}: {
  /** What Start opens: a production ceremony or a rehearsal (issue 11). */
  readonly startMode: CeremonyMode;
  readonly view: CeremonyView;
  readonly onView: (view: CeremonyView) => void;
  readonly setAtKeyboard: (name: string | null) => void;
  /** Back to the start screen before anything was started. */
  readonly onCancelSetup: () => void;
}) {
  const [chosen, setChosen] = useState<StepId>(view.setup === null ? 'setup' : view.step);
  const [callsInFlight, setCallsInFlight] = useState(0);
  const shown: StepId = view.setup === null ? 'setup' : stepIndex(chosen) > stepIndex(view.step) ? view.step : chosen;

  const tracker = useMemo<BusyTracker>(
    () => ({ begin: () => setCallsInFlight((n) => n + 1), end: () => setCallsInFlight((n) => Math.max(0, n - 1)) }),
    [],
  );
  const context = useMemo<CeremonyContextValue>(
    () => ({ view, setView: onView, goTo: setChosen, setAtKeyboard }),
    [view, onView, setAtKeyboard],
  );

  return (
    <BusyContext.Provider value={tracker}>
      <CeremonyContext.Provider value={context}>
        <div className="wizard">
          <div className="sidebar">
            <div className="sidebar-inner">
              <StepRail view={view} shown={shown} />
              {view.setup !== null ? (
                // A closed ceremony is complete: nothing is left to abandon ("Start over" resets the screen).
                view.closed === null && <AbandonCeremony disabled={callsInFlight > 0} />
              ) : (
                <aside className="sidebar-actions" aria-label="Ceremony actions">
                  <button type="button" className="button button-quiet" onClick={onCancelSetup}>
                    Back to the start screen
                  </button>
                </aside>
              )}
            </div>
          </div>
          <main className="app-main wizard-main">
            <CurrentStep key={shown} step={shown} startMode={startMode} />
          </main>
        </div>
      </CeremonyContext.Provider>
    </BusyContext.Provider>
  );
}

function CurrentStep({ step, startMode }: { readonly step: StepId; readonly startMode: CeremonyMode }) {
  switch (step) {
    case 'setup':
      return <SetupStep mode={startMode} />;
    case 'units':
      return <UnitsStep />;
    case 'admins':
      return <AdminsStep />;
    case 'master-key':
      return <MasterKeyStep />;
    case 'shares':
      return <SharesStep />;
    case 'bundle':
      return <BundleStep />;
    case 'close':
      return <CloseStep />;
    default:
      return assertNever(step);
  }
}

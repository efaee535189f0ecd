// What every later ceremony's wizard (issue 11: recovery, rotation, admin
// change and zeroize, units report) has around its steps: the view main
// last answered, one call at a time that replaces it (`step`), and the list
// of steps with the current one marked, under the REHEARSAL banner when
// the record the wizard opened is a rehearsal's (issue 11).
import { useEffect, useState } from 'react';
import type { IpcResult } from '../../shared/ipc.js';
import { useCall, type CallState } from '../lib/useCall.js';
import { RehearsalBanner } from './RehearsalBanner.js';
import { StepStatus, useStepBusy } from './StepAction.js';

export interface WizardView<V> {
  readonly call: CallState;
  /** What main answered last; null until the first answer. */
  readonly view: V | null;
  /** Runs one call; its answer becomes the view. True when it succeeded. */
  readonly step: (busy: string, invoke: () => Promise<IpcResult<V>>) => Promise<boolean>;
}

/**
 * The view of a wizard's session in main: `open` once, when the screen
 * opens; after a refused step, `afterRefusal` (when given) shows what main
 * holds now (a refusal may have set things aside).
 */
export function useWizardView<V>(
  open: () => Promise<IpcResult<V>>,
  afterRefusal?: () => Promise<IpcResult<V>>,
): WizardView<V> {
  const call = useCall();
  const [view, setView] = useState<V | null>(null);

  useEffect(() => {
    void call.run('Loading…', open).then((r) => r?.ok && setView(r.value));
    // Once, on opening the screen.
  }, []);

  async function step(busy: string, invoke: () => Promise<IpcResult<V>>): Promise<boolean> {
    const r = await call.run(busy, invoke);
    if (r?.ok === true) setView(r.value);
    else if (r?.ok === false && afterRefusal) {
      const now = await afterRefusal();
      if (now.ok) setView(now.value);
    }
    return r?.ok === true;
  }

  return { call, view, step };
}

/**
 * The wizard's steps, in order, the current one marked (aria-current) and in
 * bold; above them the REHEARSAL banner on every step of a rehearsal
 * (`rehearsal`: from the record main opened, never from a choice on screen).
 */
export function WizardSteps({
  label,
  steps,
  rehearsal = false,
}: {
  readonly label: string;
  readonly steps: ReadonlyArray<{ readonly label: string; readonly here: boolean }>;
  readonly rehearsal?: boolean;
}) {
  return (
    <>
      {rehearsal && <RehearsalBanner />}
      <ol className="recovery-steps" aria-label={label}>
        {steps.map((s) => (
          <li key={s.label} aria-current={s.here ? 'step' : undefined}>
            {s.here ? <strong>{s.label}</strong> : s.label}
          </li>
        ))}
      </ol>
    </>
  );
}

/**
 * Below every step of a wizard (inside its StepScope): the call's progress and
 * error, then the way back to the start screen, "Back to the start screen"
 * once the wizard is `done`.
 */
export function WizardFooter({
  done,
  stopLabel = 'Stop and go back to the start screen',
  onLeave,
}: {
  readonly done: boolean;
  readonly stopLabel?: string;
  readonly onLeave: () => Promise<void>;
}) {
  const busy = useStepBusy();
  return (
    <>
      <StepStatus />
      <div className="step-footer">
        <button type="button" className="button button-quiet" disabled={busy} onClick={() => void onLeave()}>
          {done ? 'Back to the start screen' : stopLabel}
        </button>
        <span />
      </div>
    </>
  );
}

// The foot of a finished step: "Continue" to the next step, enabled only
// once main reports this one done. The finished step stays on screen until
// then (the KCV to write down, the bundle hash to read out).
import { STEPS, type StepId } from '../../shared/ipc.js';
import { isStepDone, stepIndex, useCeremony } from './context.js';

export function ContinueFooter({ step }: { readonly step: StepId }) {
  const { view, goTo } = useCeremony();
  const next = STEPS[stepIndex(step) + 1];
  return (
    <div className="step-footer">
      <span />
      <button
        type="button"
        className="button button-primary"
        disabled={!isStepDone(view, step) || next === undefined}
        onClick={() => {
          if (next !== undefined) goTo(next);
        }}
      >
        Continue
      </button>
    </div>
  );
}

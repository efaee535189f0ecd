// The step rail: where the ceremony is, in words as well as colours.
import type { CeremonyView, StepId } from '../../shared/ipc.js';
import { STEPS } from '../../shared/ipc.js';
import { isStepDone } from './context.js';

export const STEP_TITLES: Record<StepId, string> = {
  setup: 'Set up',
  units: 'Target units',
  admins: 'Admin identities',
  'master-key': 'Master key',
  shares: 'Key shares',
  bundle: 'Import bundle',
  close: 'Close',
};

export function StepRail({ view, shown }: { readonly view: CeremonyView | null; readonly shown: StepId }) {
  return (
    <nav className="rail" aria-label="Ceremony steps">
      <ol className="rail-list">
        {STEPS.map((step, i) => {
          const done = view !== null && view.setup !== null && isStepDone(view, step);
          const isShown = step === shown;
          const status = done ? 'done' : isShown ? 'current' : 'todo';
          const word = done ? 'done' : isShown ? 'current' : 'to do';
          return (
            <li
              key={step}
              className={`rail-item rail-${status}${isShown ? ' rail-shown' : ''}`}
              aria-current={isShown ? 'step' : undefined}
            >
              <span className="rail-marker" aria-hidden="true">
                {done ? '✓' : i + 1}
              </span>
              <span className="rail-text">
                <span className="rail-title">{STEP_TITLES[step]}</span>
                <span className="visually-hidden">, </span>
                <span className="rail-status">{word}</span>
              </span>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}

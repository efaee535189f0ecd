import type { CeremonyView, IpcResult } from '../../shared/ipc.js';
import { StepButton, StepScope, StepStatus } from '../ui/StepAction.js';
import { useCeremonyAction } from './context.js';

/**
 * One button that asks main to move the ceremony on, with its progress and
 * its error in plain words beneath it (its own call, not the step's).
 */
export function StepAction({
  label,
  busyText,
  invoke,
  kind = 'primary',
}: {
  readonly label: string;
  readonly busyText: string;
  readonly invoke: () => Promise<IpcResult<CeremonyView>>;
  readonly kind?: 'primary' | 'secondary';
}) {
  const { busy, error, act } = useCeremonyAction();
  return (
    <StepScope busy={busy} error={error} step={act}>
      <div className="actions">
        <StepButton label={label} busyText={busyText} invoke={invoke} kind={kind} large={kind === 'primary'} />
      </div>
      <StepStatus />
    </StepScope>
  );
}

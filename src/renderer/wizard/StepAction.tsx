import type { CeremonyView, IpcResult } from '../../shared/ipc.js';
import { BusyStatus, ErrorNotice } from '../ui/Notices.js';
import { useCeremonyAction } from './context.js';

/**
 * One button that asks main to move the ceremony on, with its progress and
 * its error in plain words beneath it.
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
    <>
      <div className="actions">
        <button
          type="button"
          className={kind === 'primary' ? 'button button-primary button-large' : 'button button-secondary'}
          disabled={busy !== null}
          onClick={() => void act(busyText, invoke)}
        >
          {label}
        </button>
      </div>
      <BusyStatus busy={busy} />
      <ErrorNotice error={error} />
    </>
  );
}

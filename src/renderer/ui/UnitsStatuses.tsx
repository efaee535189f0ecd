// The units' status files (`crypto-unit-emulator status --json`) given to
// the step that records a key's end once the units report it (issue 11: the
// zeroize's last step and the units report): which instances have given
// theirs, one more, and the record written once they are all in.
import type { IpcResult } from '../../shared/ipc.js';
import { StepButton } from './StepAction.js';

export function UnitsStatuses<V>({
  statuses,
  openLabel,
  open,
  recordLabel,
  record,
  rehearsal,
}: {
  /** The instances whose status is given, in order. */
  readonly statuses: readonly string[];
  readonly openLabel: string;
  /** Reads one more status file. */
  readonly open: () => Promise<IpcResult<V>>;
  readonly recordLabel: string;
  /** Checks the units against the record and records the key's end. */
  readonly record: () => Promise<IpcResult<V>>;
  /** A rehearsal record only: the rehearsal units' status, read from the in-process units. */
  readonly rehearsal?: (() => Promise<IpcResult<V>>) | undefined;
}) {
  const none = statuses.length === 0;
  return (
    <>
      <p role="status">{none ? 'No status given yet.' : `Status given for instance ${statuses.join(', ')}.`}</p>
      <div className="actions">
        {rehearsal && (
          <StepButton
            label="Use the rehearsal units’ status"
            busyText="Reading the rehearsal units’ status…"
            invoke={rehearsal}
            kind={none ? 'primary' : 'secondary'}
          />
        )}
        <StepButton
          label={openLabel}
          busyText="Reading the units’ status…"
          invoke={open}
          kind={none && !rehearsal ? 'primary' : 'secondary'}
        />
        <StepButton
          label={recordLabel}
          busyText="Checking the units against the record…"
          invoke={record}
          disabled={none}
        />
      </div>
    </>
  );
}

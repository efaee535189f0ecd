// Ceremonies cut off by a crash or a power cut, closed when Key Ceremony
// started again (issue 8): what became of their shares, and a way to save
// their records to removable media, as the last step of a ceremony does.
import { useEffect, useState } from 'react';
import type { InterruptedRecordView } from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { useCall } from '../lib/useCall.js';
import { BusyStatus, ErrorNotice } from '../ui/Notices.js';

export function InterruptedCeremonies() {
  const { run, error } = useCall();
  const [records, setRecords] = useState<readonly InterruptedRecordView[]>([]);

  // Once, when the start screen appears: main closes such records only at start-up.
  useEffect(() => {
    void run('Looking for interrupted ceremonies…', () => api().interrupted.list()).then((answer) => {
      if (answer?.ok === true) setRecords(answer.value);
    });
  }, [run]);

  if (records.length === 0) return <ErrorNotice error={error} />;
  return (
    <section className="interrupted" aria-labelledby="interrupted-heading">
      <h3 id="interrupted-heading">
        {records.length === 1 ? 'A ceremony was interrupted' : 'Ceremonies were interrupted'}
      </h3>
      <ul className="interrupted-list">
        {records.map((r) => (
          <InterruptedRecord key={r.ceremonyId} record={r} onRecords={setRecords} />
        ))}
      </ul>
    </section>
  );
}

function InterruptedRecord({
  record,
  onRecords,
}: {
  readonly record: InterruptedRecordView;
  readonly onRecords: (records: readonly InterruptedRecordView[]) => void;
}) {
  const save = useCall();
  const headingId = `interrupted-${record.ceremonyId}`;

  async function saveRecord(): Promise<void> {
    const answer = await save.run('Saving the ceremony record…', () =>
      api().interrupted.saveRecord({ ceremonyId: record.ceremonyId }),
    );
    if (answer?.ok === true) onRecords(answer.value);
  }

  return (
    <li
      className={`notice ${record.outcome === 'completed' ? 'notice-info' : 'notice-warning'}`}
      aria-labelledby={headingId}
    >
      <h4 id={headingId} className="notice-title">
        “{record.ceremonyName}” (key “{record.keyName}”) stopped before it was closed
      </h4>
      {record.outcome === 'completed' ? (
        <p>
          Key Ceremony stopped after every share had been issued and read back. The master key died with it; its shares
          are complete and valid, and the record is now closed as completed.
        </p>
      ) : (
        <p>
          Key Ceremony stopped before every share was issued. The master key died with it, and the record is now closed
          as aborted: its shares do not form a usable set. Run the ceremony again.
        </p>
      )}
      <p className="muted">
        Record <span className="mono">{record.path}</span>
      </p>
      {record.savedTo !== null && (
        <p role="status">
          Its record, printable report and PDF were saved to <span className="mono">{record.savedTo}</span>.
        </p>
      )}
      <div className="actions">
        <button
          type="button"
          className="button button-secondary"
          aria-describedby={headingId}
          disabled={save.busy !== null}
          onClick={() => void saveRecord()}
        >
          {record.savedTo === null ? 'Save its record…' : 'Save its record again…'}
        </button>
      </div>
      <BusyStatus busy={save.busy} />
      <ErrorNotice error={save.error} />
    </li>
  );
}

// Checking one share against a ceremony record: open the record, then the
// share (a file and its passphrase, or a card and its PIN). Nothing changes.
import { useState } from 'react';
import type { Medium, RecordView, ShareCheckView } from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { useCall } from '../lib/useCall.js';
import { ScreenHeading } from '../ui/Heading.js';
import { BusyStatus, ErrorNotice } from '../ui/Notices.js';
import { SecretForm } from '../ui/SecretForm.js';

export function CheckShare({ onBack }: { readonly onBack: () => void }) {
  const open = useCall();
  const check = useCall();
  const [record, setRecord] = useState<RecordView | null>(null);
  const [medium, setMedium] = useState<Medium>('file');
  const [result, setResult] = useState<ShareCheckView | null>(null);

  async function openRecord(): Promise<void> {
    const answer = await open.run('Opening the ceremony record…', () => api().check.openRecord());
    if (answer?.ok === true) {
      setRecord(answer.value);
      setResult(null);
      check.clearError();
    }
  }

  return (
    <main className="app-main check">
      <ScreenHeading level={2}>Check a share against a ceremony record</ScreenHeading>
      <p className="lead">
        Open the record of the ceremony that issued the share, then present the share. Key Ceremony opens it and
        compares it with what the record committed to. Nothing is written.
      </p>

      <section className="check-section" aria-labelledby="check-record-heading">
        <h3 id="check-record-heading">1. The ceremony record</h3>
        {record !== null && <RecordSummary record={record} />}
        <div className="actions">
          <button
            type="button"
            className={`button ${record === null ? 'button-primary' : 'button-secondary'}`}
            disabled={open.busy !== null || check.busy !== null}
            onClick={() => void openRecord()}
          >
            Open ceremony record…
          </button>
        </div>
        <BusyStatus busy={open.busy} />
        <ErrorNotice error={open.error} />
      </section>

      {record !== null && (
        <section className="check-section" aria-labelledby="check-share-heading">
          <h3 id="check-share-heading">2. The share</h3>
          {result !== null ? (
            <div className="result-panel">
              <ScreenHeading level={3}>
                {`Share ${result.shareIndex} of ${record.shares}, held by ${result.custodian}, matches the record`}
              </ScreenHeading>
              <p>
                It opens, and it is exactly the share the record says was issued for the key “{record.keyName}” with KCV{' '}
                <span className="mono">{result.kcv}</span>.
              </p>
              <div className="actions">
                <button type="button" className="button button-secondary" onClick={() => setResult(null)}>
                  Check another share
                </button>
              </div>
            </div>
          ) : (
            <>
              <fieldset className="medium-choice">
                <legend>Where is the share?</legend>
                <div className="radio-row">
                  <input
                    type="radio"
                    id="check-medium-file"
                    name="check-medium"
                    checked={medium === 'file'}
                    onChange={() => setMedium('file')}
                  />
                  <label htmlFor="check-medium-file">In a share file (passphrase)</label>
                </div>
                <div className="radio-row">
                  <input
                    type="radio"
                    id="check-medium-card"
                    name="check-medium"
                    checked={medium === 'card'}
                    onChange={() => setMedium('card')}
                  />
                  <label htmlFor="check-medium-card">On a smart card (PIN)</label>
                </div>
              </fieldset>
              <SecretForm
                key={medium}
                medium={medium}
                submitLabel="Check the share"
                busy={check.busy}
                error={check.error}
                onSubmit={async (secret) => {
                  const answer = await check.run(
                    medium === 'card' ? 'Reading the share from the card…' : 'Opening the share file…',
                    () => api().check.share({ secret }),
                  );
                  if (answer?.ok === true) setResult(answer.value);
                  return answer?.ok === true;
                }}
              >
                {medium === 'file' ? (
                  <p>Type the share file’s passphrase. After you press the button, choose the share file.</p>
                ) : (
                  <p>Insert the custodian’s card, choose its reader and type its PIN.</p>
                )}
              </SecretForm>
            </>
          )}
        </section>
      )}

      <div className="step-footer">
        <button
          type="button"
          className="button button-quiet"
          onClick={onBack}
          disabled={open.busy !== null || check.busy !== null}
        >
          Back to the start screen
        </button>
        <span />
      </div>
    </main>
  );
}

function RecordSummary({ record }: { readonly record: RecordView }) {
  return (
    <dl className="fact-list record-facts">
      <div>
        <dt>Ceremony</dt>
        <dd>{record.ceremonyName}</dd>
      </div>
      <div>
        <dt>Ceremony ID</dt>
        <dd className="mono">{record.ceremonyId}</dd>
      </div>
      <div>
        <dt>Key</dt>
        <dd>{record.keyName}</dd>
      </div>
      <div>
        <dt>KCV</dt>
        <dd className="mono kcv-inline">{record.kcv}</dd>
      </div>
      <div>
        <dt>Shares</dt>
        <dd>
          {record.threshold} of {record.shares} rebuild the key
        </dd>
      </div>
      <div>
        <dt>Custodians</dt>
        <dd>{record.custodians.join(', ')}</dd>
      </div>
      <div>
        <dt>Record file</dt>
        <dd className="path">{record.fileName}</dd>
      </div>
    </dl>
  );
}

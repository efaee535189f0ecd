// Checking a whole ceremony record (issue 11, ceremony 6): open the record;
// main checks it as `keyceremony transcript verify` does (chain, every
// ceremony closed) and answers its head hash and its history. The head hash
// typed from the signed paper report is compared with the record's. Nothing
// is written.
import { useState, type FormEvent } from 'react';
import type {
  BundleCheckedView,
  CeremonyOutcomeView,
  HeadComparisonView,
  KeyEndView,
  RecordCheckView,
  RecordShareStatusView,
} from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { assertNever } from '../lib/format.js';
import { useCall } from '../lib/useCall.js';
import { FingerprintWords, HexGroups } from '../ui/Fingerprint.js';
import { ScreenHeading } from '../ui/Heading.js';
import { BusyStatus, ErrorNotice } from '../ui/Notices.js';
import { PrintReportSection } from '../ui/CeremonyPapers.js';

export function CheckRecord({ onBack }: { readonly onBack: () => void }) {
  const open = useCall();
  const [record, setRecord] = useState<RecordCheckView | null>(null);

  async function openRecord(): Promise<void> {
    const answer = await open.run('Opening and checking the ceremony record…', () => api().recordCheck.open());
    // A refused record leaves nothing of the previous one on the screen.
    if (answer?.ok === false && answer.error.code !== 'Canceled') setRecord(null);
    if (answer?.ok === true) setRecord(answer.value);
  }

  return (
    <main className="app-main check">
      <ScreenHeading level={2}>Check a ceremony record</ScreenHeading>
      <p className="lead">
        Open a ceremony record. Key Ceremony checks it as <span className="mono">keyceremony transcript verify</span>{' '}
        does — every line chained to the one before, every ceremony closed — and shows its head hash and the key’s
        history. Nothing is written.
      </p>

      <section className="check-section" aria-labelledby="record-check-open-heading">
        <h3 id="record-check-open-heading">1. The ceremony record</h3>
        <div className="actions">
          <button
            type="button"
            className={`button ${record === null ? 'button-primary' : 'button-secondary'}`}
            disabled={open.busy !== null}
            onClick={() => void openRecord()}
          >
            {record === null ? 'Open ceremony record…' : 'Open another record…'}
          </button>
        </div>
        <BusyStatus busy={open.busy} />
        <ErrorNotice error={open.error} />
      </section>

      {record !== null && <RecordChecked key={`${record.fileName}:${record.headHash}`} record={record} />}

      <div className="step-footer">
        <button type="button" className="button button-quiet" onClick={onBack} disabled={open.busy !== null}>
          Back to the start screen
        </button>
        <span />
      </div>
    </main>
  );
}

function RecordChecked({ record }: { readonly record: RecordCheckView }) {
  return (
    <>
      {record.rehearsal && (
        <div className="notice notice-warning record-rehearsal" role="note">
          <p className="notice-title">REHEARSAL</p>
          <p>This is a rehearsal’s record: no key, share or bundle in it is for production use.</p>
        </div>
      )}
      <div className="result-panel">
        <ScreenHeading level={3}>{`The record is intact and complete: ${record.entries} entries`}</ScreenHeading>
        <p>
          Every line is chained to the one before, and every ceremony in it is closed. The record file is{' '}
          <span className="path">{record.fileName}</span>.
        </p>
      </div>

      <section className="check-section" aria-labelledby="record-check-head-heading">
        <h3 id="record-check-head-heading">2. The head hash</h3>
        <p>The hash of the record’s last entry. The signed paper report prints it; compare the two.</p>
        <HexGroups groups={record.headGroups} testId="record-head-groups" size="medium" />
        <FingerprintWords words={record.headWords} />
        <HeadComparison />
      </section>

      <section className="check-section" aria-labelledby="record-check-key-heading">
        <h3 id="record-check-key-heading">3. The key</h3>
        <dl className="fact-list record-facts">
          <div>
            <dt>Key</dt>
            <dd>{record.keyName || '—'}</dd>
          </div>
          <div>
            <dt>KCV</dt>
            <dd className="mono kcv-inline">{record.kcv || '—'}</dd>
          </div>
          <div>
            <dt>Current set</dt>
            <dd>
              {record.currentSet === null
                ? 'None: no ceremony of this record completed a set of shares that is still in use.'
                : `${record.currentSet.threshold} of ${record.currentSet.shares}: any ${record.currentSet.threshold} of the shares marked “current” rebuild the key (issued by ceremony ${record.currentSet.ceremony})`}
            </dd>
          </div>
          <div>
            <dt>Admin thresholds</dt>
            <dd>
              {record.thresholds === null
                ? 'Not in the record: the bundle that claims the units sets them.'
                : `Signature ${record.thresholds.signature}, revocation ${record.thresholds.revocation} (${record.thresholds.source})`}
            </dd>
          </div>
          <div>
            <dt>End of the key</dt>
            <dd>
              {record.end === null ? 'The key is in use: it was neither retired nor destroyed.' : endWords(record.end)}
            </dd>
          </div>
        </dl>
      </section>

      <section className="check-section" aria-labelledby="record-check-history-heading">
        <h3 id="record-check-history-heading">4. Ceremonies in this record</h3>
        <table className="share-table record-ceremonies">
          <caption>Every ceremony of the key’s life, in the order of the record</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Kind</th>
              <th scope="col">Ceremony</th>
              <th scope="col">Lines</th>
              <th scope="col">Opened</th>
              <th scope="col">Closed</th>
              <th scope="col">Actors</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {record.ceremonies.map((c) => (
              <tr key={c.number}>
                <th scope="row">{c.number}</th>
                <td>
                  {c.kind}
                  {c.rehearsal && <strong className="rehearsal-mark"> REHEARSAL</strong>}
                </td>
                <td>
                  {c.ceremonyName || '—'}
                  <br />
                  <span className="mono">{c.ceremonyId}</span>
                </td>
                <td>
                  {c.firstLine}–{c.lastLine}
                </td>
                <td>{c.opened}</td>
                <td>{c.closed ?? '—'}</td>
                <td>{c.actors.join(', ')}</td>
                <td>{outcomeWords(c.outcome)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section className="check-section" aria-labelledby="record-check-shares-heading">
        <h3 id="record-check-shares-heading">5. Shares</h3>
        {record.shares.length === 0 ? (
          <p>No share was issued.</p>
        ) : (
          <table className="share-table record-shares">
            <caption>Every share the record issued, with its status</caption>
            <thead>
              <tr>
                <th scope="col">Share</th>
                <th scope="col">Custodian</th>
                <th scope="col">Medium</th>
                <th scope="col">Issued by ceremony</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {record.shares.map((s, i) => (
                <tr key={i}>
                  <th scope="row">{s.shareIndex ?? '—'}</th>
                  <td>{s.custodian}</td>
                  <td>{s.medium}</td>
                  <td>{s.issuedBy ?? '—'}</td>
                  <td>{statusWords(s.status)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="check-section" aria-labelledby="record-check-bundles-heading">
        <h3 id="record-check-bundles-heading">6. Import bundles</h3>
        {record.bundles.length === 0 ? (
          <p>No import bundle was created.</p>
        ) : (
          <table className="share-table record-bundles">
            <caption>The bundles the record created</caption>
            <thead>
              <tr>
                <th scope="col">Bundle</th>
                <th scope="col">Operation</th>
                <th scope="col">Sequence</th>
                <th scope="col">Payload hash</th>
                <th scope="col">Signatures</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {record.bundles.map((b) => (
                <tr key={b.bundleId}>
                  <th scope="row" className="mono">
                    {b.bundleId}
                  </th>
                  <td>
                    {b.operation}
                    {b.rehearsal && <strong className="rehearsal-mark"> REHEARSAL</strong>}
                  </td>
                  <td>{b.sequence ?? '—'}</td>
                  <td className="mono hash-cell">{b.payloadHash}</td>
                  <td>
                    {b.signatures === null
                      ? 'not recorded'
                      : b.signatures.length === 0
                        ? 'none'
                        : b.signatures.join(', ')}
                  </td>
                  <td>{b.time}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <BundleCheck />
      </section>

      <PrintReport />
    </>
  );
}

/**
 * A bundle file beside the record, checked against it as `keyceremony bundle
 * verify BUNDLE --record RECORD` does: its signatures, and that the record
 * holds it. Refused with the CLI's sentence when altered or not the record's.
 */
function BundleCheck() {
  const check = useCall();
  const [bundle, setBundle] = useState<BundleCheckedView | null>(null);

  async function openBundle(): Promise<void> {
    const answer = await check.run('Checking the bundle against the record…', () => api().recordCheck.openBundle());
    if (answer?.ok === false && answer.error.code !== 'Canceled') setBundle(null);
    if (answer?.ok === true) setBundle(answer.value);
  }

  return (
    <div className="bundle-check">
      <p>
        A bundle file of this record (from the removable media that carried it to the units) can be checked here: every
        signature, and that the record holds it.
      </p>
      <div className="actions">
        <button
          type="button"
          className="button button-secondary"
          disabled={check.busy !== null}
          onClick={() => void openBundle()}
        >
          Check a bundle file…
        </button>
      </div>
      <BusyStatus busy={check.busy} />
      <ErrorNotice error={check.error} />
      {bundle !== null && (
        <div className="result-panel" role="status" data-testid="record-check-bundle">
          <h4>{`${bundle.fileName}: a bundle of this record, intact`}</h4>
          {bundle.rehearsal && (
            <p className="notice notice-warning">
              <strong>REHEARSAL</strong> bundle: only units in rehearsal mode accept it.
            </p>
          )}
          <p>{bundle.summary.action}</p>
          <dl className="fact-list">
            <div>
              <dt>Operation</dt>
              <dd className="mono">{bundle.summary.operation}</dd>
            </div>
            <div>
              <dt>Sequence and units</dt>
              <dd>{`${bundle.sequence}: ${bundle.targets.join(', ')} (instance ${bundle.summary.instanceId})`}</dd>
            </div>
            <div>
              <dt>Payload SHA-256</dt>
              <dd className="mono">{bundle.payloadHash}</dd>
            </div>
            <div>
              <dt>In the record</dt>
              <dd>{`Line ${bundle.recordedAt.line} (${bundle.recordedAt.time})`}</dd>
            </div>
            <div>
              <dt>Signatures</dt>
              <dd>
                {bundle.signatures.length === 0
                  ? 'None yet.'
                  : bundle.signatures.map((x) => `${x.name} (${x.valid ? 'valid' : 'INVALID'})`).join(', ')}
              </dd>
            </div>
            <div>
              <dt>Who must sign</dt>
              <dd>{bundle.signers}</dd>
            </div>
            {bundle.claimAdmins !== null && (
              <div>
                <dt>Still to sign</dt>
                <dd>
                  {bundle.claimAdmins.every((a) => a.signed)
                    ? 'Nobody: every admin the claim installs has signed.'
                    : bundle.claimAdmins
                        .filter((a) => !a.signed)
                        .map((a) => a.name)
                        .join(', ')}
                </dd>
              </div>
            )}
            <div>
              <dt>Signed, says the record</dt>
              <dd>{bundle.signedInRecord.length === 0 ? 'Nobody yet.' : bundle.signedInRecord.join(', ')}</dd>
            </div>
          </dl>
        </div>
      )}
    </div>
  );
}

/** The record's report (the document of `transcript report`), to the system print dialog. */
function PrintReport() {
  return (
    <PrintReportSection heading="7. The report" print={() => api().recordCheck.printReport()}>
      <p>
        The key’s whole life as the record tells it, with its head hash and signature lines for the people its
        ceremonies name: the same report as <span className="mono">keyceremony transcript report</span>.
      </p>
    </PrintReportSection>
  );
}

/** The head hash typed from the signed paper report, compared in main (the rule of `transcript verify --head`). */
function HeadComparison() {
  const compare = useCall();
  const [typed, setTyped] = useState('');
  const [result, setResult] = useState<HeadComparisonView | null>(null);

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setResult(null);
    const answer = await compare.run('Comparing the head hash…', () => api().recordCheck.compareHead({ head: typed }));
    if (answer?.ok === true) setResult(answer.value);
  }

  return (
    <form className="head-compare" onSubmit={(e) => void submit(e)}>
      <div className="field">
        <label htmlFor="record-check-typed-head">Head hash printed on the signed paper report</label>
        <input
          id="record-check-typed-head"
          className="input mono"
          type="text"
          aria-describedby="record-check-typed-head-hint"
          autoComplete="off"
          spellCheck={false}
          value={typed}
          onChange={(e) => {
            setTyped(e.target.value);
            setResult(null);
          }}
        />
        <p className="field-hint" id="record-check-typed-head-hint">
          The 64 hex digits under “Transcript head hash”, in groups or not.
        </p>
      </div>
      <div className="actions">
        <button type="submit" className="button button-secondary" disabled={compare.busy !== null}>
          Compare with the report
        </button>
      </div>
      <BusyStatus busy={compare.busy} />
      <ErrorNotice error={compare.error} />
      <div role="status">
        {result !== null &&
          (result.matches ? (
            <p className="notice notice-success head-matches">
              <strong>Matches</strong>: this is the record the signed report describes.
            </p>
          ) : (
            <p className="notice notice-error head-mismatch">
              <strong>Does NOT match</strong> — this is not the record the report describes (it was cut, added to or
              rewritten). Typed: <span className="mono">{result.typedGroups.join(' ')}</span>
            </p>
          ))}
      </div>
    </form>
  );
}

function outcomeWords(o: CeremonyOutcomeView): string {
  switch (o.kind) {
    case 'completed':
      return 'Completed';
    case 'aborted':
      return `Aborted [${o.code}]: ${o.reason}`;
    case 'open':
      return 'No closing entry';
    default:
      return assertNever(o);
  }
}

function statusWords(s: RecordShareStatusView): string {
  switch (s.kind) {
    case 'current':
      return s.inCurrentSet ? 'Current' : 'Not retired';
    case 'retired':
      return `Retired by ceremony ${s.byCeremony ?? '?'} (line ${s.line}, ${s.time})`;
    case 'void':
      return `Void: ${s.why}`;
    default:
      return assertNever(s);
  }
}

function endWords(end: KeyEndView): string {
  switch (end.kind) {
    case 'retired':
      return `Retired: the units reported key “${end.rotationKeyName}” (KCV ${end.newKcv}) current after its rotation (line ${end.line}, ${end.time}). Every share of this key is refused.`;
    case 'destroyed':
      return `Destroyed: every unit it was loaded onto reported it zeroized (line ${end.line}, ${end.time}). Every share of this key is refused.`;
    default:
      return assertNever(end);
  }
}

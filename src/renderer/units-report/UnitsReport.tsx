// Record what the units report, after a rotation or a zeroize (issue 11):
// the units ingest a bundle elsewhere and later, maybe after the app was
// closed. The key's record, the rotation's record if any, the units' status
// files, then key-retired or key-destroyed recorded (`units report`) and
// shown. Main holds the session; this screen shows its last view.
import type { IpcResult, UnitsReportView } from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { ScreenHeading } from '../ui/Heading.js';
import { useWizardView, WizardSteps } from '../ui/WizardFrame.js';
import { BusyStatus, ErrorNotice } from '../ui/Notices.js';

const TITLE = 'Record what the units report';

const STEPS: ReadonlyArray<{ step: UnitsReportView['step']; label: string }> = [
  { step: 'idle', label: 'The key’s record' },
  { step: 'statuses', label: 'The units’ status' },
  { step: 'done', label: 'Recorded' },
];

type Step = (busy: string, invoke: () => Promise<IpcResult<UnitsReportView>>) => Promise<boolean>;

export function UnitsReport({ onBack }: { readonly onBack: () => void }) {
  // Whatever was left open is dropped: this screen starts afresh.
  const { call, view, step } = useWizardView(() => api().unitsReport.abandon());

  async function leave(): Promise<void> {
    if (await step('Leaving…', () => api().unitsReport.abandon())) onBack();
  }

  const current = view?.step ?? 'idle';
  const busy = call.busy !== null;
  return (
    <main className="app-main check units-report">
      <ScreenHeading level={2}>{TITLE}</ScreenHeading>
      <WizardSteps
        label={`Steps: ${TITLE}`}
        steps={STEPS.map((s) => ({ label: s.label, here: s.step === current }))}
        rehearsal={view?.record?.rehearsal === true}
      />
      {current === 'idle' && <OpenRecord busy={busy} step={step} />}
      {view && current === 'statuses' && <Statuses view={view} busy={busy} step={step} />}
      {view && current === 'done' && <Recorded view={view} />}
      <BusyStatus busy={call.busy} />
      <ErrorNotice error={call.error} />
      <div className="step-footer">
        <button type="button" className="button button-quiet" disabled={busy} onClick={() => void leave()}>
          {current === 'done' ? 'Back to the start screen' : 'Stop and go back to the start screen'}
        </button>
        <span />
      </div>
    </main>
  );
}

function OpenRecord({ busy, step }: { readonly busy: boolean; readonly step: Step }) {
  return (
    <section className="check-section" aria-labelledby="units-report-open-heading">
      <ScreenHeading level={3} id="units-report-open-heading">
        1. The key’s record
      </ScreenHeading>
      <p>
        The units ingested a rotate or zeroize bundle, and the key’s record does not say so yet. Open the record of the
        key the bundle replaced or destroyed (the old key’s record after a rotation). A key whose end is already
        recorded is refused.
      </p>
      <div className="actions">
        <button
          type="button"
          className="button button-primary"
          disabled={busy}
          onClick={() => void step('Opening the record…', () => api().unitsReport.openRecord())}
        >
          Open the key’s record…
        </button>
      </div>
    </section>
  );
}

function RecordRows({ label, r }: { readonly label: string; readonly r: NonNullable<UnitsReportView['record']> }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>
        {`Key ${r.keyName}, KCV `}
        <span className="mono kcv-inline">{r.kcv}</span> <span className="path">({r.fileName})</span>
      </dd>
    </div>
  );
}

function Statuses({
  view,
  busy,
  step,
}: {
  readonly view: UnitsReportView;
  readonly busy: boolean;
  readonly step: Step;
}) {
  return (
    <section className="check-section" aria-labelledby="units-report-statuses-heading">
      <ScreenHeading level={3} id="units-report-statuses-heading">
        2. The units’ status
      </ScreenHeading>
      <dl className="fact-list record-facts">
        {view.record && <RecordRows label="The key’s record" r={view.record} />}
        {view.newRecord && <RecordRows label="The rotation’s record" r={view.newRecord} />}
      </dl>
      <p>
        After a rotation, open the new key’s record too (the one the rotation wrote); after a zeroize, do not. Then open
        each instance’s status (<span className="mono">crypto-unit-emulator status --json</span>), exported after the
        units ingested the bundle.
      </p>
      <div className="actions">
        {view.newRecord === null ? (
          <button
            type="button"
            className="button button-secondary"
            disabled={busy}
            onClick={() => void step('Opening the rotation’s record…', () => api().unitsReport.openNewRecord())}
          >
            Open the rotation’s record (after a rotation)…
          </button>
        ) : (
          <button
            type="button"
            className="button button-quiet"
            disabled={busy}
            onClick={() => void step('Taking back the rotation’s record…', () => api().unitsReport.dropNewRecord())}
          >
            Take back the rotation’s record
          </button>
        )}
      </div>
      <p role="status">
        {view.statuses.length === 0 ? 'No status given yet.' : `Status given for instance ${view.statuses.join(', ')}.`}
      </p>
      <div className="actions">
        {view.record?.rehearsal && (
          <button
            type="button"
            className={`button ${view.statuses.length === 0 ? 'button-primary' : 'button-secondary'}`}
            disabled={busy}
            onClick={() =>
              void step('Reading the rehearsal units’ status…', () => api().unitsReport.addRehearsalStatus())
            }
          >
            Use the rehearsal units’ status
          </button>
        )}
        <button
          type="button"
          className={`button ${view.statuses.length === 0 && !view.record?.rehearsal ? 'button-primary' : 'button-secondary'}`}
          disabled={busy}
          onClick={() => void step('Reading the units’ status…', () => api().unitsReport.addStatus())}
        >
          Open a units’ status file…
        </button>
        <button
          type="button"
          className="button button-primary"
          disabled={busy || view.statuses.length === 0}
          onClick={() => void step('Checking the units against the record…', () => api().unitsReport.record())}
        >
          {view.newRecord === null ? 'Record that the key is destroyed' : 'Record that the key is retired'}
        </button>
      </div>
    </section>
  );
}

function Recorded({ view }: { readonly view: UnitsReportView }) {
  const r = view.recorded!;
  const never = r.instances.filter((i) => i.neverLoaded);
  return (
    <section className="check-section" aria-labelledby="units-report-done-heading">
      <ScreenHeading level={3} id="units-report-done-heading">
        {r.kind === 'destroyed' ? 'The key is destroyed' : 'The key is retired'}
      </ScreenHeading>
      <dl className="fact-list record-facts">
        <div>
          <dt>Key</dt>
          <dd>{r.keyName}</dd>
        </div>
        <div>
          <dt>KCV</dt>
          <dd className="mono kcv-inline">{r.kcv}</dd>
        </div>
        {r.newKey && (
          <div>
            <dt>Replaced by</dt>
            <dd>
              {`Key ${r.newKey.keyName}, KCV `}
              <span className="mono kcv-inline">{r.newKey.kcv}</span>
            </dd>
          </div>
        )}
        {r.instances.map((i) => (
          <div key={i.instanceId}>
            <dt>{`Instance ${i.instanceId}`}</dt>
            <dd className="mono">
              {i.neverLoaded
                ? `units ${i.units.join(', ')}: never held the key`
                : `units ${i.units.join(', ')}: ${r.kind === 'destroyed' ? 'zeroized' : 'hold the new key'}`}
            </dd>
          </div>
        ))}
      </dl>
      {never.length > 0 && (
        <p>{`Instance ${never.map((i) => i.instanceId).join(', ')} never held the key: its units never ingested a bundle loading it.`}</p>
      )}
      <p>
        {`The record says so at line ${r.line} (${r.kind === 'destroyed' ? 'key-destroyed' : 'key-retired'}). The key’s shares are refused from now on: destroy its share cards and files.`}
        {r.newKey && ` The new key’s shares are those of its own record.`}
      </p>
    </section>
  );
}

// Record what the units report, after a rotation or a zeroize (issue 11):
// the units ingest a bundle elsewhere and later, maybe after the app was
// closed. The key's record, the rotation's record if any, the units' status
// files, then key-retired or key-destroyed recorded (`units report`) and
// shown. Main holds the session; this screen shows its last view.
import type { UnitsReportView } from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { ScreenHeading } from '../ui/Heading.js';
import { StepButton, StepScope } from '../ui/StepAction.js';
import { UnitsStatuses } from '../ui/UnitsStatuses.js';
import { useWizardView, WizardFooter, WizardSteps } from '../ui/WizardFrame.js';

const TITLE = 'Record what the units report';

const STEPS: ReadonlyArray<{ step: UnitsReportView['step']; label: string }> = [
  { step: 'idle', label: 'The key’s record' },
  { step: 'statuses', label: 'The units’ status' },
  { step: 'done', label: 'Recorded' },
];

export function UnitsReport({ onBack }: { readonly onBack: () => void }) {
  // Whatever was left open is dropped: this screen starts afresh.
  const { call, view, step } = useWizardView(() => api().unitsReport.abandon());

  async function leave(): Promise<void> {
    if (await step('Leaving…', () => api().unitsReport.abandon())) onBack();
  }

  const current = view?.step ?? 'idle';
  return (
    <main className="app-main check units-report">
      <StepScope busy={call.busy} error={call.error} step={step}>
        <ScreenHeading level={2}>{TITLE}</ScreenHeading>
        <WizardSteps
          label={`Steps: ${TITLE}`}
          steps={STEPS.map((s) => ({ label: s.label, here: s.step === current }))}
          rehearsal={view?.record?.rehearsal === true}
        />
        {current === 'idle' && <OpenRecord />}
        {view && current === 'statuses' && <Statuses view={view} />}
        {view && current === 'done' && <Recorded view={view} />}
        <WizardFooter done={current === 'done'} onLeave={leave} />
      </StepScope>
    </main>
  );
}

function OpenRecord() {
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
        <StepButton
          label="Open the key’s record…"
          busyText="Opening the record…"
          invoke={() => api().unitsReport.openRecord()}
        />
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

function Statuses({ view }: { readonly view: UnitsReportView }) {
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
          <StepButton
            label="Open the rotation’s record (after a rotation)…"
            busyText="Opening the rotation’s record…"
            invoke={() => api().unitsReport.openNewRecord()}
            kind="secondary"
          />
        ) : (
          <StepButton
            label="Take back the rotation’s record"
            busyText="Taking back the rotation’s record…"
            invoke={() => api().unitsReport.dropNewRecord()}
            kind="quiet"
          />
        )}
      </div>
      <UnitsStatuses
        statuses={view.statuses}
        openLabel="Open a units’ status file…"
        open={() => api().unitsReport.addStatus()}
        recordLabel={view.newRecord === null ? 'Record that the key is destroyed' : 'Record that the key is retired'}
        record={() => api().unitsReport.record()}
        rehearsal={view.record?.rehearsal ? () => api().unitsReport.addRehearsalStatus() : undefined}
      />
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

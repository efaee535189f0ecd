// Admin change and zeroize (issue 11, ceremonies 3 and 5): one bundle on the
// units' current key, signed by the units' current admins. Main holds the
// ceremony (UnitsBundleSession); this screen shows the last UnitsBundleView
// it answered and sends each step. One screen for both: they share the
// record, the units, the signatures and the save; only the change differs.
import { useEffect, useState } from 'react';
import type { IpcResult, UnitAdminsView, UnitsBundleOperationView, UnitsBundleView } from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { HexGroups } from '../ui/Fingerprint.js';
import { BundleFacts } from '../ui/BundleFacts.js';
import { ScreenHeading } from '../ui/Heading.js';
import { CeremonyReportPapers, CeremonyScriptPapers, usePaperNames } from '../ui/CeremonyPapers.js';
import { useWizardView, WizardFooter, WizardSteps } from '../ui/WizardFrame.js';
import { StepButton, StepForm, StepScope, StepSubmit } from '../ui/StepAction.js';
import { UnitsStatuses } from '../ui/UnitsStatuses.js';
import { SignBundleStep } from '../ui/SignBundleStep.js';
import { UnitsToConfirm } from '../ui/UnitsToConfirm.js';
import { LoadIntoRehearsalUnits } from '../ui/RehearsalUnits.js';

const TITLE: Record<UnitsBundleOperationView, string> = {
  'admin-change': 'Change the admins',
  zeroize: 'Zeroize the units (decommission)',
};

function stepsOf(op: UnitsBundleOperationView): ReadonlyArray<{ step: UnitsBundleView['step']; label: string }> {
  return [
    { step: 'idle', label: 'The key’s record' },
    { step: 'units', label: 'The units' },
    { step: 'change', label: op === 'zeroize' ? 'Confirm the zeroize' : 'The change' },
    { step: 'signing', label: 'Signatures' },
    ...(op === 'zeroize' ? [{ step: 'saved' as const, label: 'The units’ confirmation' }] : []),
    { step: 'done', label: 'Done' },
  ];
}

type Thresholds = { readonly signatureThreshold: number; readonly revocationThreshold: number };

type Step = (busy: string, invoke: () => Promise<IpcResult<UnitsBundleView>>) => Promise<boolean>;

export function UnitsBundle({
  operation,
  onBack,
}: {
  readonly operation: UnitsBundleOperationView;
  readonly onBack: () => void;
}) {
  // A ceremony of the other kind left open is dropped: this screen starts afresh.
  const { call, view, step } = useWizardView(() => api().unitsBundle.abandon());
  const [names, setNames] = usePaperNames();
  /** An admin change: the thresholds typed on its form, which its script prints. */
  const [thresholds, setThresholds] = useState<Thresholds | undefined>(undefined);

  async function leave(): Promise<void> {
    if (await step('Leaving…', () => api().unitsBundle.abandon())) onBack();
  }

  const current = view?.step ?? 'idle';
  return (
    <main className="app-main check units-bundle">
      <StepScope busy={call.busy} error={call.error} step={step}>
        <ScreenHeading level={2}>{TITLE[operation]}</ScreenHeading>
        <WizardSteps
          label={`Steps: ${TITLE[operation]}`}
          steps={stepsOf(operation).map((s) => ({ label: s.label, here: s.step === current }))}
          rehearsal={view?.record?.rehearsal === true}
        />
        {view?.record && <RecordFacts record={view.record} current={view.current} zeroized={view.destroyed !== null} />}
        {current === 'idle' && <OpenRecord operation={operation} />}
        {view && current === 'units' && <Units view={view} />}
        {view && current === 'change' && operation === 'admin-change' && (
          <AdminChange view={view} onThresholds={setThresholds} />
        )}
        {view && current === 'change' && (
          <CeremonyScriptPapers
            wizard="units-bundle"
            names={names}
            onNames={setNames}
            {...(operation === 'admin-change' && thresholds !== undefined ? { thresholds } : {})}
            note={
              operation === 'admin-change'
                ? 'It names the units’ admins and those to add, with the thresholds typed above.'
                : 'It names the units’ admins, who sign the zeroize.'
            }
          />
        )}
        {view && current === 'change' && operation === 'zeroize' && <ZeroizeConfirm view={view} />}
        {view && current === 'signing' && <Signing view={view} busy={call.busy} step={step} />}
        {view && current === 'saved' && <UnitsConfirmation view={view} />}
        {view && current === 'done' && <Done view={view} />}
        {view && current === 'done' && <CeremonyReportPapers wizard="units-bundle" names={names} />}
        <WizardFooter done={current === 'done'} onLeave={leave} />
      </StepScope>
    </main>
  );
}

function adminNames(a: UnitAdminsView): string {
  return a.admins.map((x) => x.name).join(', ');
}

function RecordFacts({
  record,
  current,
  zeroized,
}: {
  readonly record: NonNullable<UnitsBundleView['record']>;
  readonly current: UnitAdminsView | null;
  /** The units reported the zeroize: they hold no admins any more. */
  readonly zeroized: boolean;
}) {
  const admins = current ?? record.admins;
  return (
    <section className="check-section" aria-labelledby="units-bundle-record-heading">
      <h3 id="units-bundle-record-heading">The key’s record</h3>
      {record.rehearsal && (
        <p className="notice notice-warning" role="note">
          REHEARSAL: this record’s key lives in a rehearsal; the bundle will be refused by production units.
        </p>
      )}
      <dl className="fact-list record-facts">
        <div>
          <dt>Record</dt>
          <dd className="path">{record.fileName}</dd>
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
          <dt>Units’ admins (from the record)</dt>
          <dd>
            {zeroized
              ? `None: the units are zeroized${admins === null ? '' : ` (until then ${adminNames(admins)})`}`
              : admins === null
                ? 'The record installed no admins'
                : adminNames(admins)}
          </dd>
        </div>
        {admins !== null && !zeroized && (
          <div>
            <dt>Thresholds</dt>
            <dd>{`signature ${admins.signatureThreshold}, revocation ${admins.revocationThreshold}`}</dd>
          </div>
        )}
      </dl>
    </section>
  );
}

function OpenRecord({ operation }: { readonly operation: UnitsBundleOperationView }) {
  return (
    <section className="check-section" aria-labelledby="units-bundle-open-heading">
      <h3 id="units-bundle-open-heading">1. The key’s record</h3>
      <p>
        {operation === 'zeroize'
          ? 'Open the record of the key whose units are to be zeroized. The record says who the units’ admins are: they sign the zeroize bundle.'
          : 'Open the record of the key whose units’ admins change. The record says who the units’ admins are and their thresholds: the current admins sign the change.'}
      </p>
      <div className="actions">
        <StepButton
          label="Open the key’s record…"
          busyText="Opening the key’s record…"
          invoke={() => api().unitsBundle.openRecord({ operation })}
        />
      </div>
    </section>
  );
}

function Units({ view }: { readonly view: UnitsBundleView }) {
  return (
    <section className="check-section" aria-labelledby="units-bundle-units-heading">
      <h3 id="units-bundle-units-heading">2. The units</h3>
      <p>
        Load each unit’s transport key file and compare its fingerprint with the unit’s own display. Each confirmation
        is written to the record. The units must hold the record’s key and the admins the record says.
      </p>
      <UnitsToConfirm
        units={view.units}
        unitsMissing={view.unitsMissing}
        testIdPrefix="units-bundle"
        load={() => api().unitsBundle.addTransport()}
        confirm={{
          busyText: 'Recording the confirmation…',
          invoke: (unitId) => api().unitsBundle.confirmUnit({ unitId }),
        }}
        finish={{
          label: 'Continue',
          busyText: 'Checking the units against the record…',
          invoke: () => api().unitsBundle.unitsDone(),
        }}
        {...(view.record?.rehearsal
          ? {
              rehearsal: {
                units: view.rehearsalUnits,
                busyText: 'Finding the rehearsal units of this key…',
                use: () => api().unitsBundle.useRehearsalUnits(),
              },
            }
          : {})}
      />
    </section>
  );
}

function AdminChange({
  view,
  onThresholds,
}: {
  readonly view: UnitsBundleView;
  readonly onThresholds: (t: Thresholds | undefined) => void;
}) {
  const current = view.current!;
  const change = view.change!;
  const [signature, setSignature] = useState(String(current.signatureThreshold));
  const [revocation, setRevocation] = useState(String(current.revocationThreshold));
  useEffect(() => {
    const t = { signatureThreshold: Number(signature), revocationThreshold: Number(revocation) };
    onThresholds(Number.isInteger(t.signatureThreshold) && Number.isInteger(t.revocationThreshold) ? t : undefined);
  }, [signature, revocation]);
  const after = current.admins.length - change.remove.length + change.add.length;
  return (
    <StepForm
      className="check-section"
      aria-labelledby="units-bundle-change-heading"
      busyText="Checking the change and building the bundle…"
      invoke={() =>
        api().unitsBundle.buildAdminChange({
          signatureThreshold: Number(signature),
          revocationThreshold: Number(revocation),
        })
      }
    >
      <h3 id="units-bundle-change-heading">3. The change</h3>
      <h4>Current admins</h4>
      <ul className="admin-list">
        {current.admins.map((a) => {
          const removed = change.remove.includes(a.thumbprint);
          return (
            <li key={a.thumbprint}>
              <strong>{a.name}</strong> {removed && <span className="badge">to be removed</span>}
              <HexGroups groups={a.fingerprintGroups} size="medium" />
              <StepButton
                label={removed ? `Keep ${a.name}` : `Remove ${a.name}`}
                busyText="Updating the change…"
                invoke={() => api().unitsBundle.setRemoved({ thumbprint: a.thumbprint, removed: !removed })}
                kind="quiet"
              />
            </li>
          );
        })}
      </ul>
      <h4>Admins to add</h4>
      {change.add.length === 0 ? (
        <p>None yet.</p>
      ) : (
        <ul className="admin-list">
          {change.add.map((a, i) => (
            <li key={a.thumbprint}>
              <strong>{a.name}</strong> <span className="path">({a.fileName})</span>
              <HexGroups groups={a.fingerprintGroups} size="medium" />
              <StepButton
                label={`Do not add ${a.name}`}
                busyText="Updating the change…"
                invoke={() => api().unitsBundle.dropAddedAdmin({ index: i })}
                kind="quiet"
              />
            </li>
          ))}
        </ul>
      )}
      <div className="actions">
        <StepButton
          label="Add an admin’s certificate…"
          busyText="Reading the certificate…"
          invoke={() => api().unitsBundle.addAdmin()}
          kind="secondary"
        />
      </div>
      <p role="status">{`After this change the units will have ${after} admin${after === 1 ? '' : 's'}.`}</p>
      <div className="field">
        <label htmlFor="units-bundle-signature-threshold">New signature threshold</label>
        <input
          id="units-bundle-signature-threshold"
          className="input"
          type="number"
          min={1}
          max={255}
          required
          aria-describedby="units-bundle-signature-threshold-hint"
          value={signature}
          onChange={(e) => setSignature(e.target.value)}
        />
        <p className="field-hint" id="units-bundle-signature-threshold-hint">
          How many admins must sign any bundle for these units from now on.
        </p>
      </div>
      <div className="field">
        <label htmlFor="units-bundle-revocation-threshold">New revocation threshold</label>
        <input
          id="units-bundle-revocation-threshold"
          className="input"
          type="number"
          min={1}
          max={255}
          required
          aria-describedby="units-bundle-revocation-threshold-hint"
          value={revocation}
          onChange={(e) => setRevocation(e.target.value)}
        />
        <p className="field-hint" id="units-bundle-revocation-threshold-hint">
          How many admins must agree to remove an admin. A bundle that removes someone needs the larger of the two
          thresholds in signatures, so a small group cannot push the others out. Neither threshold may be more than the
          admins left: then nobody could ever sign again (a lock-out), and the change is refused before anyone signs.
        </p>
      </div>
      <p>
        {`This change is signed by the units’ current admins: ${change.remove.length > 0 ? `it removes an admin, so ${Math.max(current.signatureThreshold, current.revocationThreshold)}` : `${current.signatureThreshold}`} of ${adminNames(current)}. Admins being added cannot sign it.`}
      </p>
      <div className="actions">
        <StepSubmit label="Build the admin change" />
      </div>
    </StepForm>
  );
}

function ZeroizeConfirm({ view }: { readonly view: UnitsBundleView }) {
  const record = view.record!;
  const [typed, setTyped] = useState('');
  return (
    <StepForm
      className="check-section"
      aria-labelledby="units-bundle-zeroize-heading"
      busyText="Building the zeroize bundle…"
      invoke={() => api().unitsBundle.buildZeroize({ keyName: typed })}
    >
      <h3 id="units-bundle-zeroize-heading">3. Confirm the zeroize</h3>
      <div className="notice notice-warning" role="note">
        <p>
          <strong>This cannot be undone.</strong> Once the units ingest the zeroize bundle, they destroy master key “
          {record.keyName}” (KCV <span className="mono">{record.kcv}</span>), every admin and user, and return to
          cleared. The record then closes the key’s life: its shares are refused from then on.
        </p>
      </div>
      <div className="field">
        <label htmlFor="units-bundle-zeroize-name">Type the key’s name to confirm</label>
        <input
          id="units-bundle-zeroize-name"
          className="input mono"
          type="text"
          autoComplete="off"
          spellCheck={false}
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
        />
      </div>
      <div className="actions">
        <StepSubmit label="Build the zeroize bundle" kind="danger" disabled={typed === ''} />
      </div>
    </StepForm>
  );
}

/** A removed admin by name, from the units' current admins (the bundle names them by thumbprint). */
function removedNameIn(current: UnitAdminsView | null): (thumbprint: string) => string {
  return (t) => current?.admins.find((a) => a.thumbprint === t)?.name ?? t;
}

function Signing({
  view,
  busy,
  step,
}: {
  readonly view: UnitsBundleView;
  /** The call in flight, or null. */
  readonly busy: string | null;
  readonly step: Step;
}) {
  const bundle = view.bundle!;
  return (
    <SignBundleStep
      headingId="units-bundle-signing-heading"
      heading="4. The units’ admins sign the bundle"
      bundle={bundle}
      busy={busy}
      onSign={(secret) =>
        step(secret.medium === 'card' ? 'Signing the bundle with the card…' : 'Signing the bundle…', () =>
          api().unitsBundle.sign({ secret }),
        )
      }
      save={() => api().unitsBundle.saveBundle()}
    >
      <p>
        {`The bundle is in the record. Each signer reads what it does, then signs with their identity file or card. Who may sign: ${view.current ? adminNames(view.current) : ''}.`}
      </p>
      <BundleFacts bundle={bundle} testId="units-bundle-payload-hash" removedName={removedNameIn(view.current)} />
    </SignBundleStep>
  );
}

function Saved({ bundle }: { readonly bundle: NonNullable<UnitsBundleView['bundle']> }) {
  return (
    <p>
      Saved to <span className="path">{bundle.saved?.path}</span>, file SHA-256{' '}
      <span className="mono">{bundle.saved?.fileSha256}</span>. The record holds the bundle and its signatures.
    </p>
  );
}

function UnitsConfirmation({ view }: { readonly view: UnitsBundleView }) {
  const bundle = view.bundle!;
  return (
    <section className="check-section" aria-labelledby="units-bundle-confirmation-heading">
      <ScreenHeading level={3} id="units-bundle-confirmation-heading">
        5. The units’ confirmation
      </ScreenHeading>
      <Saved bundle={bundle} />
      <RehearsalLoad
        view={view}
        what="Their own status then shows them zeroized, and the record says the key is destroyed."
      />
      <p>
        Carry the bundle to the units and ingest it there (<span className="mono">crypto-unit-emulator ingest</span>).
        Then export the units’ status (<span className="mono">status --json</span>) and open it here: the record closes
        the key’s life only when every unit reports it gone.
      </p>
      <UnitsStatuses
        statuses={view.statuses}
        openLabel="Open the units’ status file…"
        open={() => api().unitsBundle.addStatus()}
        recordLabel="Record that the key is destroyed"
        record={() => api().unitsBundle.recordDestroyed()}
      />
    </section>
  );
}

/** A rehearsal's units, once the bundle is saved: "Load into the rehearsal units", then what they answered. */
function RehearsalLoad({ view, what }: { readonly view: UnitsBundleView; readonly what: string }) {
  if (view.rehearsalUnits === null) return null;
  return (
    <LoadIntoRehearsalUnits
      units={view.rehearsalUnits}
      what={what}
      load={() => api().unitsBundle.loadRehearsalUnits()}
    />
  );
}

function Done({ view }: { readonly view: UnitsBundleView }) {
  const bundle = view.bundle!;
  const destroyed = view.destroyed;
  if (destroyed !== null)
    return (
      <section className="check-section" aria-labelledby="units-bundle-done-heading">
        <ScreenHeading level={3} id="units-bundle-done-heading">
          The key is destroyed
        </ScreenHeading>
        <RehearsalLoad view={view} what="" />
        <dl className="fact-list record-facts">
          <div>
            <dt>Key</dt>
            <dd>{destroyed.keyName}</dd>
          </div>
          <div>
            <dt>KCV</dt>
            <dd className="mono kcv-inline">{destroyed.kcv}</dd>
          </div>
          {destroyed.instances.map((i) => (
            <div key={i.instanceId}>
              <dt>{`Instance ${i.instanceId}`}</dt>
              <dd className="mono">{`units ${i.units.join(', ')}: zeroized`}</dd>
            </div>
          ))}
        </dl>
        <p>
          {`The record says so at line ${destroyed.line} (key-destroyed). Its shares are refused from now on: destroy the share cards and files.`}
        </p>
      </section>
    );
  return (
    <section className="check-section" aria-labelledby="units-bundle-done-heading">
      <ScreenHeading level={3} id="units-bundle-done-heading">
        The admin change bundle is saved
      </ScreenHeading>
      <BundleFacts bundle={bundle} testId="units-bundle-payload-hash" removedName={removedNameIn(view.current)} />
      <Saved bundle={bundle} />
      <RehearsalLoad view={view} what="They then have the new admins and thresholds." />
      <p>
        <strong>Next:</strong> carry the bundle to the units and ingest it there (
        <span className="mono">crypto-unit-emulator ingest</span>); the units then have the new admins and thresholds.
      </p>
    </section>
  );
}

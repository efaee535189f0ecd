// Rotation (issue 11, ceremony 4): a new master key, its shares, the rotate
// bundle, and the old key's shares retired once the units report the new key
// current. The steps of the command line (`mk generate`, `units confirm`,
// `bundle create --operation rotate`, `bundle sign`, `units report`), one
// person at a time. Main holds the rotation; this screen shows the last
// RotationView it answered and sends each step.
import { useId, useState } from 'react';
import type { IpcResult, RotationView } from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { ScreenHeading } from '../ui/Heading.js';
import { CeremonyReportPapers, CeremonyScriptPapers, usePaperNames } from '../ui/CeremonyPapers.js';
import { useWizardView, WizardFooter, WizardSteps } from '../ui/WizardFrame.js';
import { StepButton, StepForm, StepScope, StepSubmit } from '../ui/StepAction.js';
import { BundleFacts } from '../ui/BundleFacts.js';
import { SignBundleStep } from '../ui/SignBundleStep.js';
import { MediumSecretForm, NewSetPlanFields, NewShareTurns, PlainField, useNewSetPlan } from '../ui/ShareTurns.js';
import { UnitsToConfirm } from '../ui/UnitsToConfirm.js';
import { LoadIntoRehearsalUnits, RehearsalUnitsTable } from '../ui/RehearsalUnits.js';

const STEPS: ReadonlyArray<{ steps: readonly RotationView['step'][]; label: string }> = [
  { steps: ['idle'], label: 'The current key’s record' },
  { steps: ['units'], label: 'Target units' },
  { steps: ['new-key'], label: 'The new key' },
  { steps: ['custodians'], label: 'New custodians' },
  { steps: ['shares'], label: 'New shares for the bundle' },
  { steps: ['signing'], label: 'Signatures' },
  { steps: ['saved'], label: 'The units’ report' },
  { steps: ['done'], label: 'Done' },
];

type Step = (busy: string, invoke: () => Promise<IpcResult<RotationView>>) => Promise<boolean>;

export function Rotation({ onBack }: { readonly onBack: () => void }) {
  // A refused step may have set things aside (a failed bundle build zeroes the presented shares): show what main holds now.
  const { call, view, step } = useWizardView(
    () => api().rotation.state(),
    () => api().rotation.state(),
  );
  const [names, setNames] = usePaperNames();

  async function leave(): Promise<void> {
    // Held shares and secrets are zeroed in main; what was written stays written.
    if (await step('Leaving the rotation…', () => api().rotation.cancel())) onBack();
  }

  const current = view?.step ?? 'idle';
  return (
    <main className="app-main check rotation">
      <StepScope busy={call.busy} error={call.error} step={step}>
        <ScreenHeading level={2}>Rotate the master key</ScreenHeading>
        <WizardSteps
          label="Steps of the rotation"
          steps={STEPS.map((s) => ({ label: s.label, here: s.steps.includes(current) }))}
          rehearsal={view?.current?.rehearsal === true}
        />
        {view?.current && <CurrentKeyFacts view={view} />}
        {current === 'idle' && <OpenRecord />}
        {view && current === 'units' && <Units view={view} />}
        {view && current === 'new-key' && <NewKey view={view} />}
        {view && current === 'custodians' && (
          <CeremonyScriptPapers
            wizard="rotation"
            names={names}
            onNames={setNames}
            {...(view.plan !== null ? { suggestedOperator: view.plan.operator } : {})}
            note="It names the new key’s custodians and the units’ current admins, who sign."
          />
        )}
        {view && current === 'custodians' && <Custodians view={view} busy={call.busy} step={step} />}
        {view && current === 'shares' && <Shares view={view} busy={call.busy} step={step} />}
        {view && current === 'signing' && <Signing view={view} busy={call.busy} step={step} />}
        {view && current === 'saved' && <Saved view={view} />}
        {view && current === 'done' && <Done view={view} />}
        {view && current === 'done' && <CeremonyReportPapers wizard="rotation" names={names} />}
        <WizardFooter done={current === 'done'} onLeave={leave} />
      </StepScope>
    </main>
  );
}

function CurrentKeyFacts({ view }: { readonly view: RotationView }) {
  const c = view.current!;
  const n = view.newKey;
  return (
    <section className="check-section" aria-labelledby="rotation-keys-heading">
      <h3 id="rotation-keys-heading">The keys</h3>
      {c.rehearsal && (
        <p className="notice notice-warning" role="note">
          REHEARSAL: this record’s key lives in a rehearsal; the bundle will load rehearsal units only.
        </p>
      )}
      <dl className="fact-list record-facts">
        <div>
          <dt>Current key</dt>
          <dd>
            {c.keyName} (KCV <span className="mono kcv-inline">{c.kcv}</span>), {c.threshold} of {c.shares} shares;
            record <span className="path">{c.fileName}</span>
          </dd>
        </div>
        {n && (
          <div>
            <dt>New key</dt>
            <dd>
              {n.keyName} (KCV <span className="mono kcv-inline">{n.kcv}</span>), {n.threshold} of {n.issued.length}{' '}
              shares; record <span className="path">{n.fileName}</span>
            </dd>
          </div>
        )}
      </dl>
    </section>
  );
}

function OpenRecord() {
  return (
    <section className="check-section" aria-labelledby="rotation-open-heading">
      <h3 id="rotation-open-heading">1. The current key’s record</h3>
      <p>
        A rotation replaces the units’ master key with a new one: the new key gets its own record and shares, the units
        keep the current key as their old key, and once they report the new key current, the current key’s record
        retires it, so that its shares are refused from then on. Open the record of the key the units hold now.
      </p>
      <div className="actions">
        <StepButton
          label="Open the current key’s record…"
          busyText="Opening the current key’s record…"
          invoke={() => api().rotation.openRecord()}
        />
      </div>
    </section>
  );
}

function Units({ view }: { readonly view: RotationView }) {
  return (
    <section className="check-section" aria-labelledby="rotation-units-heading">
      <h3 id="rotation-units-heading">2. Target units</h3>
      <p>
        Load each unit’s transport key file, exported now (it carries the unit’s current state), and compare its
        fingerprint with the unit’s own display. The confirmations are written to the new key’s record when it is
        created.
      </p>
      <UnitsToConfirm
        units={view.units}
        unitsMissing={view.unitsMissing}
        testIdPrefix="rotation"
        load={() => api().rotation.addTransport()}
        confirm={{ busyText: 'Noting the confirmation…', invoke: (unitId) => api().rotation.confirmUnit({ unitId }) }}
        finish={{
          label: 'Continue to the new key',
          busyText: 'Checking the units…',
          invoke: () => api().rotation.unitsDone(),
        }}
        {...(view.current?.rehearsal
          ? {
              rehearsal: {
                units: view.rehearsalUnits,
                busyText: 'Finding the rehearsal units of this key…',
                use: () => api().rotation.useRehearsalUnits(),
              },
            }
          : {})}
      />
    </section>
  );
}

function NewKey({ view }: { readonly view: RotationView }) {
  const idPrefix = useId().replace(/[^a-zA-Z0-9_-]/g, '');
  const [keyName, setKeyName] = useState('');
  const plan = useNewSetPlan(view.current?.threshold ?? 2, [
    { name: '', medium: 'file' },
    { name: '', medium: 'file' },
    { name: '', medium: 'file' },
  ]);
  return (
    <StepForm
      className="check-section"
      aria-labelledby="rotation-new-key-heading"
      busyText="Checking the new key’s plan…"
      invoke={() => api().rotation.plan({ keyName, ...plan.request() })}
    >
      <h3 id="rotation-new-key-heading">3. The new key</h3>
      <p>
        Name the new key (the units’ limits apply), the operator (the new record names who ran the rotation), how many
        shares rebuild it (K) and its custodians, in share order. One person holds at most one share.
      </p>
      <NewSetPlanFields plan={plan} thresholdLabel="Shares needed to rebuild the new key (K)">
        <PlainField id={`${idPrefix}-key-name`} label="New key name" value={keyName} onChange={setKeyName} />
      </NewSetPlanFields>
      <div className="actions">
        <StepSubmit label="Continue: the new custodians’ shares" />
      </div>
    </StepForm>
  );
}

function Custodians({
  view,
  busy,
  step,
}: {
  readonly view: RotationView;
  readonly busy: string | null;
  readonly step: Step;
}) {
  const plan = view.plan!;
  return (
    <section className="check-section" aria-labelledby="rotation-custodians-heading">
      <h3 id="rotation-custodians-heading">{`4. The new custodians of “${plan.keyName}”`}</h3>
      <p>
        {`${plan.threshold} of ${plan.custodians.length}: each new custodian in turn chooses their share’s passphrase and file, or inserts their card and types its PIN. Nothing is written until every custodian is ready; then the new key is generated, its record saved, and each share written and read back.`}
      </p>
      <NewShareTurns
        custodians={plan.custodians}
        busy={busy}
        headingId="rotation-turn-heading"
        onSubmit={(shareIndex, secret, busyLabel) =>
          step(busyLabel, () => api().rotation.setNewShare({ shareIndex, secret }))
        }
        whenAllReady={
          <div className="actions">
            <StepButton
              label="Change the new key’s plan"
              busyText="Back to the plan…"
              invoke={() => api().rotation.replan()}
              kind="quiet"
            />
            <StepButton
              label="Save the new key’s record and generate the key…"
              busyText="Generating the new key, writing and reading back its shares…"
              invoke={() => api().rotation.generate()}
            />
          </div>
        }
      />
    </section>
  );
}

function Shares({
  view,
  busy,
  step,
}: {
  readonly view: RotationView;
  readonly busy: string | null;
  readonly step: Step;
}) {
  const newKey = view.newKey!;
  return (
    <section className="check-section" aria-labelledby="rotation-shares-heading">
      <h3 id="rotation-shares-heading">5. New shares for the rotate bundle</h3>
      <div className="result-panel" role="status">
        <p>{`The new key “${newKey.keyName}” is generated: KCV ${newKey.kcv}. Its ${newKey.issued.length} shares were written, read back and recorded in ${newKey.fileName}, with the units’ confirmations.`}</p>
      </div>
      <ul>
        {newKey.issued.map((s) => (
          <li key={s.shareIndex}>{`Share ${s.shareIndex}: ${s.custodian} (${s.label})`}</li>
        ))}
      </ul>
      <p>
        {`${newKey.threshold} custodians of the new key present their new shares, one at a time: the new key is rebuilt from them, checked against its record and wrapped for the units in the rotate bundle.`}
      </p>
      <p>
        {`${view.sharesIn.length} of ${newKey.threshold} new shares presented`}
        {view.sharesIn.length > 0 &&
          `: ${view.sharesIn.map((s) => `share ${s.shareIndex} (${s.custodian})`).join(', ')}`}
      </p>
      {view.sharesIn.length < newKey.threshold && (
        <MediumSecretForm
          legend="Where is the next new share?"
          turn={view.sharesIn.length}
          busy={busy}
          submitLabel={() => 'Present this share'}
          fileHelp="Type your new share file’s passphrase. After you press the button, choose the share file."
          cardHelp="Insert your card, choose its reader and type its PIN."
          onSubmit={(secret) =>
            step(secret.medium === 'card' ? 'Reading the share from the card…' : 'Opening the share file…', () =>
              api().rotation.presentShare({ secret }),
            )
          }
        />
      )}
      <div className="actions">
        <StepButton
          label="Build the rotate bundle"
          busyText="Rebuilding the new key and building the rotate bundle…"
          invoke={() => api().rotation.buildBundle()}
          disabled={view.sharesIn.length === 0}
        />
      </div>
    </section>
  );
}

function Signing({
  view,
  busy,
  step,
}: {
  readonly view: RotationView;
  readonly busy: string | null;
  readonly step: Step;
}) {
  const bundle = view.bundle!;
  return (
    <SignBundleStep
      headingId="rotation-signing-heading"
      heading="6. The units’ admins sign the bundle"
      bundle={bundle}
      busy={busy}
      onSign={(secret) => step('Signing the bundle…', () => api().rotation.sign({ secret }))}
      save={() => api().rotation.saveBundle()}
    >
      <p>
        The new key was rebuilt, checked against its record and wiped; the rotate bundle is in the new record. The
        units’ current admins read what the bundle does, then sign with their identity file or card.
      </p>
      <BundleFacts bundle={bundle} keyLabel="New key" testId="rotation-payload-hash" />
      <p>{`The units’ admins: ${view.admins.map((a) => a.name).join(', ')}. ${bundle.required} must sign.`}</p>
    </SignBundleStep>
  );
}

function Saved({ view }: { readonly view: RotationView }) {
  const bundle = view.bundle!;
  return (
    <section className="check-section" aria-labelledby="rotation-saved-heading">
      <h3 id="rotation-saved-heading">7. The units’ report</h3>
      <BundleFacts bundle={bundle} keyLabel="New key" testId="rotation-payload-hash" />
      <p>
        Saved to <span className="path">{bundle.saved?.path}</span>, file SHA-256{' '}
        <span className="mono">{bundle.saved?.fileSha256}</span>.
      </p>
      {view.rehearsalUnits && (
        <LoadIntoRehearsalUnits
          units={view.rehearsalUnits}
          what="Their own status then shows the new key current, and the current key’s record retires the old key."
          load={() => api().rotation.loadRehearsalUnits()}
        />
      )}
      <p>
        Carry the bundle to the units and ingest it there (<span className="mono">crypto-unit-emulator ingest</span>
        ); each unit then holds the new key as current and the old one as old. Export the units’ status (
        <span className="mono">crypto-unit-emulator status --json</span>) and open it here: the current key’s record
        then retires the old key, once every unit reports the new key current.
      </p>
      <div className="actions">
        <StepButton
          label="Open the units’ status file…"
          busyText="Checking the units’ status…"
          invoke={() => api().rotation.reportUnits()}
        />
      </div>
    </section>
  );
}

function Done({ view }: { readonly view: RotationView }) {
  const c = view.current!;
  const n = view.newKey!;
  const report = view.report!;
  return (
    <section className="check-section" aria-labelledby="rotation-done-heading">
      <ScreenHeading level={3} id="rotation-done-heading">
        The key is rotated
      </ScreenHeading>
      <div className="result-panel" role="status">
        <p>{`The units hold the new key “${n.keyName}” (KCV ${n.kcv}) as current, and “${c.keyName}” (KCV ${c.kcv}) as old.`}</p>
        <p>{`The record ${c.fileName} retires “${c.keyName}” (entry ${report.entrySeq}): its shares are now refused by every later ceremony. Clear the old cards and destroy the old share files.`}</p>
      </div>
      {view.rehearsalUnits?.loaded && <RehearsalUnitsTable loaded={view.rehearsalUnits.loaded} />}
      <h3>What the units reported ({report.statusFile})</h3>
      <ul>
        {report.units.map((u) => (
          <li key={`${u.instanceId}-${u.unitId}`}>
            {`Unit ${u.unitId}: ${u.state}, current key ${u.currentKcv ?? 'none'}, old key ${u.oldKcv ?? 'none'}`}
          </li>
        ))}
      </ul>
      <p>Save copies of both records on removable media.</p>
    </section>
  );
}

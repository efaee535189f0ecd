// Recovery onto new units (issue 11, ceremony 1): the steps of `keyceremony
// mk recover --record` (or, when the record is lost, `--new-record` with the
// paper report's values), one person at a time; each share on a file or a
// card. Main holds the recovery; this screen shows the last RecoveryView it
// answered and sends each step.
import { useState } from 'react';
import type { IpcResult, RecoveryView } from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { HexGroups } from '../ui/Fingerprint.js';
import { ScreenHeading } from '../ui/Heading.js';
import { StepButton, StepForm, StepScope, StepSubmit } from '../ui/StepAction.js';
import { BRING_SHARE, MediumSecretForm } from '../ui/ShareTurns.js';
import { SignBundleStep } from '../ui/SignBundleStep.js';
import { BundleFacts } from '../ui/BundleFacts.js';
import { CeremonyReportPapers, CeremonyScriptPapers, usePaperNames } from '../ui/CeremonyPapers.js';
import { UnitsToConfirm } from '../ui/UnitsToConfirm.js';
import { LoadIntoRehearsalUnits } from '../ui/RehearsalUnits.js';
import { useWizardView, WizardFooter, WizardSteps } from '../ui/WizardFrame.js';

const STEPS: ReadonlyArray<{ step: RecoveryView['step']; label: string }> = [
  { step: 'idle', label: 'The key’s record or its paper report' },
  { step: 'units', label: 'Target units' },
  { step: 'admins', label: 'Admins and thresholds' },
  { step: 'shares', label: 'Key shares' },
  { step: 'signing', label: 'Signatures' },
  { step: 'done', label: 'Done' },
];

export function Recovery({ onBack }: { readonly onBack: () => void }) {
  const { call, view, step } = useWizardView(() => api().recovery.state());
  const [names, setNames] = usePaperNames();

  async function leave(): Promise<void> {
    if (await step('Leaving the recovery…', () => api().recovery.abandon())) onBack();
  }

  const current = view?.step ?? 'idle';
  return (
    <main className="app-main check recovery">
      <StepScope busy={call.busy} error={call.error} step={step}>
        <ScreenHeading level={2}>Recover a key onto new units</ScreenHeading>
        <WizardSteps
          label="Steps of the recovery"
          steps={STEPS.map((s) => ({ label: s.label, here: s.step === current }))}
          rehearsal={view?.record?.rehearsal === true}
        />
        {view?.record && <RecordFacts record={view.record} built={current === 'signing' || current === 'done'} />}
        {current === 'idle' && <OpenRecord />}
        {current === 'idle' && <FromPaper />}
        {view && current === 'units' && <Units view={view} />}
        {view && current === 'admins' && <Admins view={view} />}
        {view && current === 'shares' && (
          <CeremonyScriptPapers
            wizard="recovery"
            names={names}
            onNames={setNames}
            // From the paper report the record that names the custodians is lost: the script invents none.
            {...(view.record?.from === 'paper'
              ? {
                  note: 'The key’s record is lost, so the script names the custodians only as “named as their shares come in”; the report printed at the end names each one who brought a share.',
                }
              : {})}
          />
        )}
        {view && current === 'shares' && <Shares view={view} busy={call.busy} step={step} />}
        {view && current === 'signing' && <Signing view={view} busy={call.busy} step={step} />}
        {view && current === 'done' && <Done view={view} />}
        {view && current === 'done' && <CeremonyReportPapers wizard="recovery" names={names} />}
        <WizardFooter done={current === 'done'} onLeave={leave} />
      </StepScope>
    </main>
  );
}

type Step = (busy: string, invoke: () => Promise<IpcResult<RecoveryView>>) => Promise<boolean>;

function RecordFacts({
  record,
  built,
}: {
  readonly record: NonNullable<RecoveryView['record']>;
  /** The bundle is built: from the paper report, the new record exists. */
  readonly built: boolean;
}) {
  const paper = record.from === 'paper';
  return (
    <section className="check-section" aria-labelledby="recovery-record-heading">
      <h3 id="recovery-record-heading">{paper ? 'The key, from its paper report' : 'The key’s record'}</h3>
      {paper && (
        <p className="notice notice-warning" role="note">
          {built
            ? 'The key rebuilt from the shares matched the paper report: the new record holds this recovery and is the key’s record from now on.'
            : 'The key’s record is lost: the values typed from its signed paper report stand in for it. The new record is written only once the key rebuilt from the shares matches the paper.'}
        </p>
      )}
      {record.rehearsal && (
        <p className="notice notice-warning" role="note">
          REHEARSAL: this record’s key lives in a rehearsal; the bundle will load rehearsal units only.
        </p>
      )}
      <dl className="fact-list record-facts">
        <div>
          <dt>{paper ? 'New record' : 'Record'}</dt>
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
          <dt>Shares needed</dt>
          <dd>
            {record.threshold === null
              ? 'Known from the first share given'
              : `${record.threshold} of the ${record.shares ?? '?'} current shares`}
          </dd>
        </div>
        <div>
          <dt>{paper ? 'Lost record’s head hash (paper report)' : 'Paper report’s head hash'}</dt>
          <dd className="mono">
            {record.paperHeadGroups === null
              ? 'Not typed in'
              : `${record.paperHeadGroups.join(' ')}${paper ? ' — written into the new record' : ' — the record holds it'}`}
          </dd>
        </div>
      </dl>
    </section>
  );
}

function OpenRecord() {
  const [head, setHead] = useState('');
  return (
    <StepForm
      className="check-section"
      aria-labelledby="recovery-open-heading"
      busyText="Opening and checking the key’s record…"
      invoke={() => api().recovery.openRecord({ paperHead: head.trim() === '' ? null : head })}
    >
      <h3 id="recovery-open-heading">1. The key’s record</h3>
      <p>
        Open the record of the key to recover. With the key’s signed paper report at hand, type its head hash first: a
        record that does not hold it is refused.
      </p>
      <div className="field">
        <label htmlFor="recovery-paper-head">Head hash printed on the paper report (optional)</label>
        <input
          id="recovery-paper-head"
          className="input mono"
          type="text"
          autoComplete="off"
          spellCheck={false}
          aria-describedby="recovery-paper-head-hint"
          value={head}
          onChange={(e) => setHead(e.target.value)}
        />
        <p className="field-hint" id="recovery-paper-head-hint">
          The 64 hex digits under “Transcript head hash”, in groups or not.
        </p>
      </div>
      <div className="actions">
        <StepSubmit label="Open the key’s record…" />
      </div>
    </StepForm>
  );
}

function FromPaper() {
  const [keyName, setKeyName] = useState('');
  const [kcv, setKcv] = useState('');
  const [verificationPattern, setVerificationPattern] = useState('');
  const [headHash, setHeadHash] = useState('');
  const field = (id: string, label: string, hint: string, value: string, set: (v: string) => void, mono = true) => (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        className={mono ? 'input mono' : 'input'}
        type="text"
        autoComplete="off"
        spellCheck={false}
        required
        aria-describedby={`${id}-hint`}
        value={value}
        onChange={(e) => set(e.target.value)}
      />
      <p className="field-hint" id={`${id}-hint`}>
        {hint}
      </p>
    </div>
  );
  return (
    <StepForm
      className="check-section"
      aria-labelledby="recovery-paper-heading"
      busyText="Checking the paper report’s values…"
      invoke={() => api().recovery.startFromPaper({ keyName, kcv, verificationPattern, headHash })}
    >
      <h3 id="recovery-paper-heading">Or: the record is lost — recover from the paper report</h3>
      <p>
        Type the values printed on the key’s signed paper report. The shares must rebuild a key with this KCV and
        verification pattern; a new record then begins with this recovery and is the key’s record from then on.
      </p>
      {field('recovery-paper-key', 'Key name', 'As printed on the report.', keyName, setKeyName, false)}
      {field('recovery-paper-kcv', 'KCV', 'The 6 hex digits of the key check value.', kcv, setKcv)}
      {field(
        'recovery-paper-pattern',
        'Verification pattern',
        'The 64 hex digits, in groups or not.',
        verificationPattern,
        setVerificationPattern,
      )}
      {field(
        'recovery-paper-lost-head',
        'Head hash of the lost record',
        'The 64 hex digits under “Transcript head hash”, in groups or not.',
        headHash,
        setHeadHash,
      )}
      <div className="actions">
        <StepSubmit label="Choose where the new record goes…" kind="secondary" />
      </div>
    </StepForm>
  );
}

function Units({ view }: { readonly view: RecoveryView }) {
  const paper = view.record?.from === 'paper';
  return (
    <section className="check-section" aria-labelledby="recovery-units-heading">
      <h3 id="recovery-units-heading">2. Target units</h3>
      <p>
        {paper
          ? 'Load each unit’s transport key file and compare its fingerprint with the unit’s own display. The new record begins with these confirmations.'
          : 'Load each unit’s transport key file and compare its fingerprint with the unit’s own display. Each confirmation is written to the record.'}
      </p>
      <UnitsToConfirm
        units={view.units}
        unitsMissing={view.unitsMissing}
        testIdPrefix="recovery"
        load={() => api().recovery.addTransport()}
        confirm={{
          busyText: 'Recording the confirmation…',
          invoke: (unitId) =>
            paper ? api().recovery.confirmUnitOnScreen({ unitId }) : api().recovery.confirmUnit({ unitId }),
        }}
        finish={{
          label: 'Continue to the admins',
          busyText: 'Checking the units…',
          invoke: () => api().recovery.unitsDone(),
        }}
        {...(view.record?.rehearsal
          ? {
              rehearsal: {
                units: view.rehearsalUnits,
                busyText: 'Creating the rehearsal units…',
                use: () => api().recovery.useRehearsalUnits(),
              },
            }
          : {})}
      />
    </section>
  );
}

function Admins({ view }: { readonly view: RecoveryView }) {
  const [signature, setSignature] = useState('');
  const [revocation, setRevocation] = useState('');
  function setThresholds() {
    const signatureThreshold = Number(signature);
    const revocationThreshold = revocation.trim() === '' ? signatureThreshold : Number(revocation);
    return api().recovery.setThresholds({ signatureThreshold, revocationThreshold });
  }
  return (
    <StepForm
      className="check-section"
      aria-labelledby="recovery-admins-heading"
      busyText="Checking the claim against the units…"
      invoke={setThresholds}
    >
      <h3 id="recovery-admins-heading">3. Admins of the new units and thresholds</h3>
      <p>
        The bundle claims the units for these admins. Add each admin’s certificate (a certificate file, or their
        identity file: only its certificate is read). A claim that would lock the units out is refused here, before any
        share is read.
      </p>
      {view.admins.length === 0 ? (
        <p>No admin yet.</p>
      ) : (
        <ul className="admin-list">
          {view.admins.map((a, i) => (
            <li key={a.fingerprintGroups.join('')}>
              <strong>{a.name}</strong> <span className="path">({a.fileName})</span>
              <HexGroups groups={a.fingerprintGroups} size="medium" />
              <StepButton
                label={`Remove ${a.name}`}
                busyText="Removing the admin…"
                invoke={() => api().recovery.removeAdmin({ adminIndex: i })}
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
          invoke={() => api().recovery.addAdmin()}
          kind="secondary"
        />
      </div>
      <div className="field">
        <label htmlFor="recovery-signature-threshold">Signature threshold</label>
        <input
          id="recovery-signature-threshold"
          className="input"
          type="number"
          min={1}
          max={255}
          required
          value={signature}
          onChange={(e) => setSignature(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="recovery-revocation-threshold">Revocation threshold</label>
        <input
          id="recovery-revocation-threshold"
          className="input"
          type="number"
          min={1}
          max={255}
          aria-describedby="recovery-revocation-threshold-hint"
          value={revocation}
          onChange={(e) => setRevocation(e.target.value)}
        />
        <p className="field-hint" id="recovery-revocation-threshold-hint">
          How many admins must agree to remove one; left empty, the signature threshold.
        </p>
      </div>
      <div className="actions">
        <StepSubmit label="Continue to the shares" disabled={view.admins.length === 0} />
      </div>
    </StepForm>
  );
}

function Shares({
  view,
  busy,
  step,
}: {
  readonly view: RecoveryView;
  /** The call in flight, or null. */
  readonly busy: string | null;
  readonly step: Step;
}) {
  const needed = view.record?.threshold ?? null;
  const given = view.sharesIn.length;
  const enough = needed !== null && given >= needed;
  const against = view.record?.from === 'paper' ? 'the paper report' : 'the record';
  return (
    <section className="check-section" aria-labelledby="recovery-shares-heading">
      <h3 id="recovery-shares-heading">4. Key shares</h3>
      <p>
        {`${needed === null ? 'The custodians give their shares (the first says how many are needed)' : `${needed} custodians give their shares`}, one at a time: a share file and its passphrase, or a smart card and its PIN. Each share is checked against ${against} when it is given.`}
      </p>
      <p role="status">
        {needed === null ? `${given} shares given` : `${given} of ${needed} shares given`}
        {given > 0 && `: ${view.sharesIn.map((s) => `share ${s.shareIndex} (${s.custodian})`).join(', ')}`}
      </p>
      {!enough && (
        <MediumSecretForm
          {...BRING_SHARE}
          turn={given}
          submitLabel={(medium) => (medium === 'file' ? 'Open my share file…' : 'Read my share from the card')}
          busy={busy}
          onSubmit={(secret) =>
            step(
              secret.medium === 'card' ? 'Reading the share from the card…' : 'Opening and checking the share…',
              () => api().recovery.giveShare({ secret }),
            )
          }
        />
      )}
      <div className="actions">
        <StepButton
          label="Rebuild the key and build the bundle"
          busyText="Rebuilding the key and building the bundle…"
          invoke={() => api().recovery.buildBundle()}
          kind={enough ? 'primary' : 'secondary'}
          disabled={given === 0}
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
  readonly view: RecoveryView;
  /** The call in flight, or null. */
  readonly busy: string | null;
  readonly step: Step;
}) {
  const bundle = view.bundle!;
  return (
    <SignBundleStep
      headingId="recovery-signing-heading"
      heading="5. The admins sign the bundle"
      bundle={bundle}
      busy={busy}
      onSign={(secret) => step('Signing the bundle…', () => api().recovery.sign({ secret }))}
      save={() => api().recovery.saveBundle()}
    >
      <p>
        The key was rebuilt, checked against the record and wiped; the recover bundle is in the record and the recovery
        ceremony is closed. Each admin reads what the bundle does, then signs with their identity file or card.
      </p>
      <BundleFacts bundle={bundle} testId="recovery-payload-hash" />
    </SignBundleStep>
  );
}

function Done({ view }: { readonly view: RecoveryView }) {
  const bundle = view.bundle!;
  return (
    <section className="check-section" aria-labelledby="recovery-done-heading">
      <ScreenHeading level={3} id="recovery-done-heading">
        The recover bundle is saved
      </ScreenHeading>
      <BundleFacts bundle={bundle} testId="recovery-payload-hash" />
      <p>
        Saved to <span className="path">{bundle.saved?.path}</span>, file SHA-256{' '}
        <span className="mono">{bundle.saved?.fileSha256}</span>.{' '}
        {view.record?.from === 'paper'
          ? `The new record ${view.record.fileName} holds the recovery from the paper report, closed as completed, and the signatures: it is the key’s record from now on.`
          : 'The record holds the recovery, closed as completed, and the signatures.'}
      </p>
      {view.rehearsalUnits && (
        <LoadIntoRehearsalUnits
          units={view.rehearsalUnits}
          what="Each of them then holds the recovered key."
          load={() => api().recovery.loadRehearsalUnits()}
        />
      )}
      <p>
        <strong>Next:</strong> carry the bundle to the units and ingest it there (
        <span className="mono">crypto-unit-emulator ingest</span>); each unit then reports the key with KCV{' '}
        <span className="mono">{bundle.summary.kcv}</span>.
      </p>
    </section>
  );
}

// Re-share (issue 11, ceremony 2): the same key, a new set of shares. The
// wizard collects what `mk reshare` takes (the record; K current shares, one
// custodian at a time; the new custodians, K' and each new share's medium and
// secret), and main runs the command line's ceremony on it. Replacing a lost
// card or a departed custodian is this ceremony: that custodian's share is
// simply not brought.
import { useEffect, useState, type ReactNode } from 'react';
import type { IpcResult, ReshareView } from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { useCall } from '../lib/useCall.js';
import { ScreenHeading } from '../ui/Heading.js';
import { StepButton, StepForm, StepScope, StepSubmit } from '../ui/StepAction.js';
import { WizardFooter } from '../ui/WizardFrame.js';
import { BRING_SHARE, MediumSecretForm, NewSetPlanFields, NewShareTurns, useNewSetPlan } from '../ui/ShareTurns.js';
import { CeremonyReportPapers, CeremonyScriptPapers, usePaperNames } from '../ui/CeremonyPapers.js';

export function Reshare({ onBack }: { readonly onBack: () => void }) {
  const call = useCall();
  const [view, setView] = useState<ReshareView | null>(null);
  /** The current shares are in and the operator moved on to name the new set. */
  const [naming, setNaming] = useState(false);
  const [names, setNames] = usePaperNames();

  useEffect(() => {
    void call
      .run('Loading the re-share…', () => api().reshare.state())
      .then((a) => {
        if (a?.ok === true) setView(a.value);
      });
    // Once, on opening the screen: whatever re-share main holds.
  }, []);

  async function take(busy: string, invoke: () => Promise<IpcResult<ReshareView>>): Promise<boolean> {
    const answer = await call.run(busy, invoke);
    if (answer?.ok === true) setView(answer.value);
    return answer?.ok === true;
  }

  async function back(): Promise<void> {
    // Nothing is written before "Issue the new shares"; shares and secrets held in main are zeroed.
    await take('Leaving the re-share…', () => api().reshare.cancel());
    onBack();
  }

  const phase = view?.phase ?? 'idle';
  let body;
  if (view === null || phase === 'idle') body = <RecordStep />;
  else if (phase === 'shares-in' && !naming)
    body = <SharesInStep view={view} call={call} take={take} onNext={() => setNaming(true)} />;
  else if (phase === 'shares-in') body = <NewSetStep view={view} call={call} onBack={() => setNaming(false)} />;
  else if (phase === 'new-set')
    body = (
      <IssueStep
        view={view}
        call={call}
        take={take}
        papers={
          <CeremonyScriptPapers
            wizard="reshare"
            names={names}
            onNames={setNames}
            {...(view.newSet !== null ? { suggestedOperator: view.newSet.operator } : {})}
            note="It names who brought the current shares and the new set, before any new share is written."
          />
        }
      />
    );
  else
    body = (
      <>
        <DoneStep view={view} />
        <CeremonyReportPapers wizard="reshare" names={names} />
      </>
    );

  return (
    <main className="app-main check reshare">
      <StepScope busy={call.busy} error={call.error} step={take}>
        {body}
        <WizardFooter
          done={phase === 'done'}
          stopLabel="Cancel the re-share and go back to the start screen"
          onLeave={back}
        />
      </StepScope>
    </main>
  );
}

type Take = (busy: string, invoke: () => Promise<IpcResult<ReshareView>>) => Promise<boolean>;
type Call = ReturnType<typeof useCall>;

function RecordStep() {
  return (
    <>
      <ScreenHeading level={2}>Re-share a key: the key’s record</ScreenHeading>
      <p className="lead">
        A re-share gives the same key a new set of shares, K′ of N′, to new or remaining custodians, and the key’s
        record retires the old set: no later ceremony accepts an old share. Replacing a lost card or a departed
        custodian is this ceremony. Open the record of the key (the file saved at its ceremonies).
      </p>
      <div className="actions">
        <StepButton
          label="Open the key’s record…"
          busyText="Opening the ceremony record…"
          invoke={() => api().reshare.openRecord()}
        />
      </div>
    </>
  );
}

function RecordFacts({ view }: { readonly view: ReshareView }) {
  const r = view.record;
  if (r === null) return null;
  return (
    <dl className="fact-list record-facts">
      <div>
        <dt>Key</dt>
        <dd>{r.keyName}</dd>
      </div>
      <div>
        <dt>KCV</dt>
        <dd className="mono kcv-inline">{r.kcv}</dd>
      </div>
      <div>
        <dt>Current set</dt>
        <dd>
          {r.threshold} of {r.shares}, held by{' '}
          {r.holders.map((h) => `${h.custodian} (share ${h.shareIndex})`).join(', ')}
        </dd>
      </div>
      <div>
        <dt>Record file</dt>
        <dd className="path">{r.fileName}</dd>
      </div>
    </dl>
  );
}

function SharesInStep({
  view,
  call,
  take,
  onNext,
}: {
  readonly view: ReshareView;
  readonly call: Call;
  readonly take: Take;
  readonly onNext: () => void;
}) {
  const needed = view.record?.threshold ?? 0;
  const enough = view.brought.length >= needed;
  return (
    <>
      <ScreenHeading level={2}>Re-share a key: the current shares</ScreenHeading>
      <RecordFacts view={view} />
      <p className="lead">
        {`${needed} custodians of the current set bring their shares, one at a time: pass the keyboard to each in turn. A lost card or a departed custodian’s share is simply not brought.`}
      </p>
      <h3>{`Shares brought: ${view.brought.length} of the ${needed} needed`}</h3>
      {view.brought.length > 0 && (
        <ul className="brought-shares">
          {view.brought.map((b) => (
            <li
              key={b.shareIndex}
            >{`Share ${b.shareIndex}, held by ${b.custodian}: opened and checked against the record`}</li>
          ))}
        </ul>
      )}
      {enough ? (
        <div className="actions">
          <button type="button" className="button button-primary" disabled={call.busy !== null} onClick={onNext}>
            Continue: name the new custodians
          </button>
        </div>
      ) : (
        <>
          <p>
            {`${needed - view.brought.length} more ${needed - view.brought.length === 1 ? 'share is' : 'shares are'} needed: the key cannot be rebuilt, so the new custodians cannot be named, until ${needed} different shares of the current set are brought.`}
          </p>
          <MediumSecretForm
            {...BRING_SHARE}
            turn={view.brought.length}
            submitLabel={() => 'Bring this share'}
            busy={call.busy}
            onSubmit={(secret) =>
              take(secret.medium === 'card' ? 'Reading the share from the card…' : 'Opening the share file…', () =>
                api().reshare.bringShare({ secret }),
              )
            }
          />
        </>
      )}
    </>
  );
}

function NewSetStep({
  view,
  call,
  onBack,
}: {
  readonly view: ReshareView;
  readonly call: Call;
  readonly onBack: () => void;
}) {
  const plan = useNewSetPlan(
    view.record?.threshold ?? 2,
    (view.record?.holders ?? []).map((h) => ({ name: h.custodian, medium: 'file' as const })),
  );
  return (
    <>
      <ScreenHeading level={2}>Re-share a key: the new custodians</ScreenHeading>
      <p className="lead">
        Name the operator (the record names who ran the re-share), how many shares will rebuild the key (K′), and every
        custodian of the new set, in share order. One person holds at most one share.
      </p>
      <StepForm busyText="Checking the new set…" invoke={() => api().reshare.plan(plan.request())}>
        <NewSetPlanFields plan={plan} thresholdLabel="Shares needed to rebuild the key (K′)" />
        <div className="actions">
          <button type="button" className="button button-quiet" onClick={onBack} disabled={call.busy !== null}>
            Back to the current shares
          </button>
          <StepSubmit label="Continue: issue the new shares" />
        </div>
      </StepForm>
    </>
  );
}

function IssueStep({
  view,
  call,
  take,
  papers,
}: {
  readonly view: ReshareView;
  readonly call: Call;
  readonly take: Take;
  /** The ceremony script, printed before any new custodian takes their turn. */
  readonly papers: ReactNode;
}) {
  const set = view.newSet;
  if (set === null) return null;
  return (
    <>
      <ScreenHeading level={2}>Re-share a key: the new shares</ScreenHeading>
      <p className="lead">
        {`${set.threshold} of ${set.custodians.length}: each new custodian in turn chooses their share’s passphrase and file, or inserts their card and types its PIN. Nothing is written until every custodian is ready; then the new shares are written, read back and recorded, and only then is the old set retired.`}
      </p>
      {papers}
      <NewShareTurns
        custodians={set.custodians}
        busy={call.busy}
        headingId="reshare-turn-heading"
        cardNote="A card that already holds your current share can take the new one."
        onSubmit={(shareIndex, secret, busy) => take(busy, () => api().reshare.setNewShare({ shareIndex, secret }))}
        whenAllReady={
          <div className="actions">
            <StepButton
              label="Issue the new shares and retire the old set"
              busyText="Rebuilding the key, writing and reading back the new shares…"
              invoke={() => api().reshare.issue()}
            />
          </div>
        }
      />
    </>
  );
}

function DoneStep({ view }: { readonly view: ReshareView }) {
  const done = view.done;
  if (done === null) return null;
  return (
    <>
      <ScreenHeading level={2}>The key has a new set of shares</ScreenHeading>
      <div className="result-panel" role="status">
        <p>{`The record’s current set is now ${done.current.threshold} of ${done.current.shares} (re-share ceremony ${done.current.ceremonyId}), of the same key: KCV ${done.kcv}.`}</p>
        <p>{`The old set (${done.retired.threshold} of ${done.retired.shares}, ceremony ${done.retired.ceremonyId}) is retired: every later ceremony refuses its shares. Shares ${done.sharesUsed.join(', ')} of it rebuilt the key.`}</p>
      </div>
      <h3>New shares issued, read back and recorded</h3>
      <ul>
        {done.issued.map((s) => (
          <li key={s.shareIndex}>{`Share ${s.shareIndex}: ${s.custodian} (${s.location})`}</li>
        ))}
      </ul>
      <p>Destroy the old shares, or keep them apart as retired; save a copy of the record on removable media.</p>
    </>
  );
}

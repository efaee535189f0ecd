// Step 5, Key shares: one custodian at a time, behind a handoff screen. Each
// share is written, proved (read back with the same PIN or passphrase) and
// confirmed by its custodian before the next person is called.
import { useId, useState } from 'react';
import type { ShareView } from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { mediumLabel } from '../lib/format.js';
import { Handoff } from '../ui/Handoff.js';
import { ScreenHeading } from '../ui/Heading.js';
import { BusyStatus, ErrorNotice } from '../ui/Notices.js';
import { SecretForm } from '../ui/SecretForm.js';
import { ContinueFooter } from './ContinueFooter.js';
import { StepFrame } from './StepFrame.js';
import { useCeremony, useCeremonyAction } from './context.js';
import { Turn } from './Turn.js';

export function SharesStep() {
  const { view } = useCeremony();
  const [claimedBy, setClaimedBy] = useState<number | null>(null);
  const n = view.shares.length;
  const next = view.shares.find((s) => !s.confirmed);
  const kcv = view.masterKey?.kcv ?? '';

  let body;
  if (next !== undefined && claimedBy === next.index) {
    body = (
      <Turn key={`turn-${next.index}`} person={next.custodian} onCancel={() => setClaimedBy(null)}>
        <ShareWork share={next} n={n} kcv={kcv} onConfirmed={() => setClaimedBy(null)} />
      </Turn>
    );
  } else if (next !== undefined) {
    const lastConfirmed = [...view.shares].reverse().find((s) => s.confirmed);
    body = (
      <Handoff key={`handoff-${next.index}`} name={next.custodian} onClaim={() => setClaimedBy(next.index)}>
        {lastConfirmed !== undefined && (
          <p className="muted">
            Share {lastConfirmed.index} is confirmed by {lastConfirmed.custodian}.
          </p>
        )}
        <p>
          {next.custodian} receives share {next.index} of {n}
          {next.written ? ' (already written; it still needs to be read back and confirmed)' : ''}
          {next.medium === 'card'
            ? ' on their smart card, unlocked with its PIN.'
            : ' in a file protected by a passphrase they choose.'}{' '}
          Everyone else looks away from the screen and keyboard.
        </p>
      </Handoff>
    );
  } else {
    body = (
      <>
        <ScreenHeading level={3}>Every share is written, proved and confirmed</ScreenHeading>
        <p>Each custodian now holds one share. Any {view.setup?.threshold ?? ''} of them rebuild the master key.</p>
      </>
    );
  }

  return (
    <StepFrame title="Key shares">
      {body}
      <ShareTable shares={view.shares} />
      {next === undefined && <ContinueFooter step="shares" />}
    </StepFrame>
  );
}

function ShareWork({
  share,
  n,
  kcv,
  onConfirmed,
}: {
  readonly share: ShareView;
  readonly n: number;
  readonly kcv: string;
  readonly onConfirmed: () => void;
}) {
  const { busy, error, act } = useCeremonyAction();
  const onCard = share.medium === 'card';

  if (!share.written) {
    return (
      <div key="write">
        <ScreenHeading level={3}>
          {share.custodian}: receive share {share.index} of {n}
        </ScreenHeading>
        <SecretForm
          medium={share.medium}
          newPassphrase
          submitLabel="Write the share"
          busy={busy}
          error={error}
          onSubmit={(secret) =>
            act(onCard ? 'Writing the share to the card…' : 'Writing the share file…', () =>
              api().shares.write({ shareIndex: share.index, secret }),
            )
          }
        >
          {onCard ? (
            <p>
              Insert your smart card, choose its reader and type its PIN. The share is sealed so that only your card,
              with its PIN, can open it.
            </p>
          ) : (
            <p>
              Choose a passphrase for your share file and type it twice. Remember it: without it the share is lost.
              After you press the button, choose where to save the file (removable media you will keep).
            </p>
          )}
        </SecretForm>
      </div>
    );
  }

  if (!share.verified) {
    return (
      <div key="verify">
        <ScreenHeading level={3}>
          {share.custodian}: prove you can open share {share.index}
        </ScreenHeading>
        <SecretForm
          medium={share.medium}
          submitLabel="Read it back"
          expectedCard={share.cardSerial !== null ? { serial: share.cardSerial, owner: share.custodian } : null}
          busy={busy}
          error={error}
          onSubmit={(secret) =>
            act(onCard ? 'Reading the share back from the card…' : 'Reading the share file back…', () =>
              api().shares.verify({ shareIndex: share.index, secret }),
            )
          }
        >
          <p>
            The share is written
            {share.location !== null ? (
              <>
                {' '}
                to <strong>{share.location}</strong>
              </>
            ) : null}
            . Type your {onCard ? 'PIN' : 'passphrase'} once more: Key Ceremony reads the share back and checks it is
            exactly the one issued. This proves you can open it.
          </p>
        </SecretForm>
      </div>
    );
  }

  return <ConfirmShare key="confirm" share={share} n={n} kcv={kcv} onConfirmed={onConfirmed} />;
}

function ConfirmShare({
  share,
  n,
  kcv,
  onConfirmed,
}: {
  readonly share: ShareView;
  readonly n: number;
  readonly kcv: string;
  readonly onConfirmed: () => void;
}) {
  const { busy, error, act } = useCeremonyAction();
  const [checked, setChecked] = useState(false);
  const id = useId();
  return (
    <form
      className="confirm-form"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        if (!checked || busy !== null) return;
        void act('Recording your confirmation…', () => api().shares.confirm({ shareIndex: share.index })).then((ok) => {
          if (ok) onConfirmed();
        });
      }}
    >
      <ScreenHeading level={3}>
        {share.custodian}: confirm you hold share {share.index}
      </ScreenHeading>
      <p>
        Share {share.index} was read back and matches. It is on{' '}
        <strong>{share.location ?? mediumLabel(share.medium)}</strong>. Its master key has the KCV{' '}
        <span className="mono">{kcv}</span>.
      </p>
      <div className="checkbox-field checkbox-large">
        <input
          type="checkbox"
          id={`${id}-hold`}
          checked={checked}
          onChange={(event) => setChecked(event.target.checked)}
          aria-describedby={`${id}-hint`}
        />
        <label htmlFor={`${id}-hold`}>{`I, ${share.custodian}, hold share ${share.index} of ${n}`}</label>
      </div>
      <p id={`${id}-hint`} className="field-hint">
        …and will keep it safe, apart from the other shares, and never copy it.
      </p>
      <div className="actions">
        <button type="submit" className="button button-primary" disabled={!checked || busy !== null}>
          Confirm
        </button>
      </div>
      <BusyStatus busy={busy} />
      <ErrorNotice error={error} />
    </form>
  );
}

function Mark({ done, doneText }: { readonly done: boolean; readonly doneText: string }) {
  return done ? (
    <span className="mark mark-done">
      <span aria-hidden="true">✓ </span>
      {doneText}
    </span>
  ) : (
    <span className="mark mark-todo">Not yet</span>
  );
}

function ShareTable({ shares }: { readonly shares: readonly ShareView[] }) {
  return (
    <table className="share-table">
      <caption>Shares</caption>
      <thead>
        <tr>
          <th scope="col">Share</th>
          <th scope="col">Custodian</th>
          <th scope="col">Where</th>
          <th scope="col">Written</th>
          <th scope="col">Read back</th>
          <th scope="col">Confirmed</th>
        </tr>
      </thead>
      <tbody>
        {shares.map((share) => (
          <tr key={share.index}>
            <th scope="row">
              {share.index} of {shares.length}
            </th>
            <td>{share.custodian}</td>
            <td>{share.location ?? mediumLabel(share.medium)}</td>
            <td>
              <Mark done={share.written} doneText="Written" />
            </td>
            <td>
              <Mark done={share.verified} doneText="Verified" />
            </td>
            <td>
              <Mark done={share.confirmed} doneText="Confirmed" />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

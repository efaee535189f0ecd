// Step 3, Admin identities: one admin at a time, each behind a handoff
// screen. The screen is cleared (every input unmounted) before the next
// person is called to the keyboard.
import { useState } from 'react';
import type { AdminView } from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { mediumLabel } from '../lib/format.js';
import { HexGroups } from '../ui/Fingerprint.js';
import { Handoff } from '../ui/Handoff.js';
import { ScreenHeading } from '../ui/Heading.js';
import { SecretForm } from '../ui/SecretForm.js';
import { ContinueFooter } from './ContinueFooter.js';
import { StepFrame } from './StepFrame.js';
import { useCeremony, useCeremonyAction } from './context.js';
import { Turn } from './Turn.js';

export function AdminsStep() {
  const { view } = useCeremony();
  const [claimedBy, setClaimedBy] = useState<number | null>(null);
  const [showResultFor, setShowResultFor] = useState<number | null>(null);
  const nextIndex = view.admins.findIndex((a) => a.identity === null);
  const next = view.admins[nextIndex];
  const shownResult = showResultFor !== null ? view.admins[showResultFor] : undefined;

  let body;
  if (shownResult !== undefined && shownResult.identity !== null) {
    body = (
      <Turn key={`result-${showResultFor}`} person={shownResult.name}>
        <IdentityCreated admin={shownResult} onDone={() => setShowResultFor(null)} />
      </Turn>
    );
  } else if (next !== undefined && claimedBy === nextIndex) {
    body = (
      <Turn key={`create-${nextIndex}`} person={next.name} onCancel={() => setClaimedBy(null)}>
        <CreateIdentity
          admin={next}
          position={nextIndex}
          onCreated={() => {
            setClaimedBy(null);
            setShowResultFor(nextIndex);
          }}
        />
      </Turn>
    );
  } else if (next !== undefined) {
    body = (
      <>
        <Handoff key={`handoff-${nextIndex}`} name={next.name} onClaim={() => setClaimedBy(nextIndex)}>
          <p>
            {next.name} creates their admin signing identity{' '}
            {next.medium === 'card'
              ? 'on their smart card, with its PIN'
              : 'in a file protected by a passphrase they choose'}
            . Everyone else looks away from the screen and keyboard.
          </p>
        </Handoff>
        <AdminStatusList admins={view.admins} />
      </>
    );
  } else {
    body = (
      <>
        <ScreenHeading level={3}>All admin identities are created</ScreenHeading>
        <AdminStatusList admins={view.admins} />
        <ContinueFooter step="admins" />
      </>
    );
  }

  return <StepFrame title="Admin identities">{body}</StepFrame>;
}

function CreateIdentity({
  admin,
  position,
  onCreated,
}: {
  readonly admin: AdminView;
  readonly position: number;
  readonly onCreated: () => void;
}) {
  const { busy, error, act } = useCeremonyAction();
  const [existing, setExisting] = useState(false);
  // Slot 9C of the card already holds something (issue 9): what it holds is shown, and it is
  // replaced only after its owner types their own name.
  const [occupied, setOccupied] = useState<string | null>(null);
  const [ownerName, setOwnerName] = useState('');
  if (existing) {
    return (
      <UseIdentityFile admin={admin} position={position} onCreated={onCreated} onBack={() => setExisting(false)} />
    );
  }
  const agreed = occupied !== null && ownerName.trim() === admin.name;
  return (
    <>
      <ScreenHeading level={3}>{admin.name}: create your admin identity</ScreenHeading>
      {occupied !== null && (
        <div className="notice notice-warning" role="alert">
          <p>{occupied}</p>
          <p>
            Replacing it destroys that key for good. Only if the card is yours and you no longer need what it holds,
            type your name, <strong>{admin.name}</strong>, then type the PIN again.
          </p>
          <label>
            Your name{' '}
            <input
              type="text"
              autoComplete="off"
              value={ownerName}
              onChange={(e) => setOwnerName(e.target.value)}
              disabled={busy !== null}
            />
          </label>
        </div>
      )}
      <SecretForm
        medium={admin.medium}
        newPassphrase
        submitLabel={agreed ? 'Replace it and create the identity' : 'Create the identity'}
        busy={busy}
        error={occupied !== null && error?.code === 'CardSlotOccupied' ? null : error}
        onSubmit={async (secret) => {
          const ok = await act(
            admin.medium === 'card'
              ? 'Creating the signing key on the card… (this can take a minute)'
              : 'Creating the identity file…',
            async () => {
              const r = await api().admins.createIdentity({
                adminIndex: position,
                secret,
                ...(agreed ? { replaceSlot: { ownerName: ownerName.trim() } } : {}),
              });
              if (!r.ok && r.error.code === 'CardSlotOccupied') {
                setOccupied(r.error.message);
                setOwnerName('');
              }
              return r;
            },
          );
          if (ok) onCreated();
          return ok;
        }}
      >
        {admin.medium === 'card' ? (
          <p>
            Insert your smart card, choose its reader and type its PIN. The card generates your signing key; the key
            never leaves the card.
          </p>
        ) : (
          <p>
            Choose a passphrase for your identity file. You will need it to sign the import bundle in a moment and in
            every later ceremony, so make it one you can remember. After you press the button, choose where to save the
            file.
          </p>
        )}
      </SecretForm>
      {admin.medium === 'file' && (
        <div className="actions">
          <button
            type="button"
            className="button button-quiet"
            disabled={busy !== null}
            onClick={() => setExisting(true)}
          >
            I already have an identity file
          </button>
        </div>
      )}
    </>
  );
}

/** An admin from an earlier ceremony brings their identity file; its passphrase proves they hold it. */
function UseIdentityFile({
  admin,
  position,
  onCreated,
  onBack,
}: {
  readonly admin: AdminView;
  readonly position: number;
  readonly onCreated: () => void;
  readonly onBack: () => void;
}) {
  const { busy, error, act } = useCeremonyAction();
  return (
    <>
      <ScreenHeading level={3}>{admin.name}: use your existing identity file</ScreenHeading>
      <SecretForm
        medium="file"
        submitLabel="Open my identity file…"
        busy={busy}
        error={error}
        onSubmit={async (secret) => {
          if (secret.medium !== 'file') return false;
          const ok = await act('Opening the identity file…', () =>
            api().admins.useIdentityFile({ adminIndex: position, passphrase: secret.passphrase }),
          );
          if (ok) onCreated();
          return ok;
        }}
      >
        <p>
          Type the passphrase of the identity file you made in an earlier ceremony, then choose the file. Key Ceremony
          opens it to check it is yours; the file is not changed.
        </p>
      </SecretForm>
      <div className="actions">
        <button type="button" className="button button-quiet" disabled={busy !== null} onClick={onBack}>
          Create a new identity instead
        </button>
      </div>
    </>
  );
}

function IdentityCreated({ admin, onDone }: { readonly admin: AdminView; readonly onDone: () => void }) {
  if (admin.identity === null) return null;
  return (
    <>
      <ScreenHeading level={3}>{admin.name}: your identity is ready</ScreenHeading>
      <p>Note the fingerprint of your certificate. The crypto units will list it as an installed admin.</p>
      <h4 className="label-heading">Certificate fingerprint (SHA-256)</h4>
      <HexGroups groups={admin.identity.fingerprintGroups} />
      <p>
        Stored on: <strong>{admin.identity.location}</strong>
      </p>
      <div className="actions">
        <button type="button" className="button button-primary" onClick={onDone}>
          Done — clear the screen
        </button>
      </div>
    </>
  );
}

function AdminStatusList({ admins }: { readonly admins: readonly AdminView[] }) {
  return (
    <>
      <h3 className="list-heading">Admins</h3>
      <ul className="status-list">
        {admins.map((admin) => (
          <li key={admin.name} className="status-item">
            <span className="status-name">{admin.name}</span>
            <span className="status-medium">{mediumLabel(admin.medium)}</span>
            {admin.identity !== null ? (
              <span className="badge badge-done">Identity created: {admin.identity.location}</span>
            ) : (
              <span className="badge badge-todo">To do</span>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}

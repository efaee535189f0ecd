// Step 6, Import bundle: built once, then signed by admins in turn (each
// behind a handoff screen) until the signature threshold is met, then saved
// to removable media.
import { useState } from 'react';
import type { AdminView, BundleView } from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { groupHex } from '../lib/format.js';
import { HexGroups } from '../ui/Fingerprint.js';
import { Handoff } from '../ui/Handoff.js';
import { ScreenHeading } from '../ui/Heading.js';
import { SuccessNotice } from '../ui/Notices.js';
import { SecretForm } from '../ui/SecretForm.js';
import { ContinueFooter } from './ContinueFooter.js';
import { StepAction } from './StepAction.js';
import { StepFrame } from './StepFrame.js';
import { useCeremony, useCeremonyAction } from './context.js';
import { Turn } from './Turn.js';

export function BundleStep() {
  const { view } = useCeremony();
  const bundle = view.bundle;
  const targets = view.units.filter((u) => u.confirmed).map((u) => u.unitId);

  return (
    <StepFrame title="Import bundle">
      {bundle === null ? (
        <>
          <p className="lead">
            The import bundle carries the master key to the crypto units, wrapped for each unit under its own transport
            key, with the admin certificates and the commands to load it. It is built now, then the admins sign it in
            turn.
          </p>
          <p>
            Target units: <strong>{targets.join(', ')}</strong>
          </p>
          <StepAction
            label="Build the import bundle"
            busyText="Building the import bundle…"
            invoke={() => api().bundle.build()}
          />
        </>
      ) : (
        <BuiltBundle bundle={bundle} />
      )}
    </StepFrame>
  );
}

/** What the units will do: every signer sees it before the PIN or passphrase is asked. */
function WhatItDoes({ bundle }: { readonly bundle: BundleView }) {
  const s = bundle.summary;
  return (
    <div className="facts" data-testid="bundle-summary">
      <p>
        <strong>{s.action}</strong>
      </p>
      <dl className="fact-list">
        <div>
          <dt>Operation</dt>
          <dd>{s.operation}</dd>
        </div>
        <div>
          <dt>Service instance</dt>
          <dd>{s.instanceId}</dd>
        </div>
        <div>
          <dt>Target units</dt>
          <dd>{bundle.targets.join(', ')}</dd>
        </div>
        <div>
          <dt>Master key</dt>
          <dd>
            {s.keyName}, KCV {s.kcv}
          </dd>
        </div>
        {s.adminsInstalled.map((a) => (
          <div key={a.fingerprintGroups.join('')}>
            <dt>Admin installed</dt>
            <dd>
              {a.name} <span className="mono">{a.fingerprintGroups.slice(0, 4).join(' ')}…</span>
            </dd>
          </div>
        ))}
        {s.adminsRemoved.map((t) => (
          <div key={t}>
            <dt>Admin removed</dt>
            <dd className="mono">{t}</dd>
          </div>
        ))}
        {s.thresholds !== null ? (
          <div>
            <dt>Thresholds</dt>
            <dd>
              signature {s.thresholds.signatureThreshold}, revocation {s.thresholds.revocationThreshold}
            </dd>
          </div>
        ) : null}
      </dl>
    </div>
  );
}

function BundleFacts({ bundle }: { readonly bundle: BundleView }) {
  return (
    <div className="facts">
      <WhatItDoes bundle={bundle} />
      <h3 className="label-heading">Payload SHA-256 (the same for every signer)</h3>
      <HexGroups groups={groupHex(bundle.payloadHash)} size="medium" />
      <dl className="fact-list">
        <div>
          <dt>Sequence</dt>
          <dd>{bundle.sequence}</dd>
        </div>
        <div>
          <dt>Signatures</dt>
          <dd>
            {bundle.signatures.length} of {bundle.required} needed
            {bundle.signatures.length > 0 ? `: ${bundle.signatures.map((s) => s.name).join(', ')}` : ''}
          </dd>
        </div>
      </dl>
    </div>
  );
}

function BuiltBundle({ bundle }: { readonly bundle: BundleView }) {
  const { view } = useCeremony();
  const [claimedBy, setClaimedBy] = useState<number | null>(null);
  const [signedBy, setSignedBy] = useState<number | null>(null);
  const [chosen, setChosen] = useState<number | null>(null);

  const signedNames = new Set(bundle.signatures.map((s) => s.name));
  const unsigned = view.admins
    .map((admin, position) => ({ admin, position }))
    .filter(({ admin }) => !signedNames.has(admin.name));
  const enough = bundle.signatures.length >= bundle.required;
  const signer = unsigned.find((u) => u.position === chosen) ?? unsigned[0];
  const justSigned = signedBy !== null ? view.admins[signedBy] : undefined;

  if (justSigned !== undefined) {
    return (
      <Turn key={`signed-${signedBy}`} person={justSigned.name}>
        <ScreenHeading level={3}>{justSigned.name}: your signature is on the bundle</ScreenHeading>
        <p>
          {bundle.signatures.length} of {bundle.required} signatures collected.
        </p>
        <div className="actions">
          <button type="button" className="button button-primary" onClick={() => setSignedBy(null)}>
            Done — clear the screen
          </button>
        </div>
      </Turn>
    );
  }

  if (!enough && signer !== undefined && claimedBy === signer.position) {
    return (
      <Turn key={`sign-${signer.position}`} person={signer.admin.name} onCancel={() => setClaimedBy(null)}>
        <SignBundle
          admin={signer.admin}
          position={signer.position}
          bundle={bundle}
          onSigned={() => {
            setClaimedBy(null);
            setChosen(null);
            setSignedBy(signer.position);
          }}
        />
      </Turn>
    );
  }

  if (!enough) {
    if (signer === undefined) {
      return (
        <>
          <BundleFacts bundle={bundle} />
          <p className="notice notice-warning">
            Every admin has signed, but the bundle still needs more signatures than there are admins.
          </p>
        </>
      );
    }
    const others = unsigned.filter((u) => u.position !== signer.position);
    return (
      <>
        <Handoff
          key={`handoff-${signer.position}`}
          name={signer.admin.name}
          onClaim={() => setClaimedBy(signer.position)}
        >
          <p>
            {signer.admin.name} signs the import bundle with{' '}
            {signer.admin.medium === 'card' ? 'their smart card and its PIN' : 'the passphrase of their identity file'}.{' '}
            {bundle.required - bundle.signatures.length} more{' '}
            {bundle.required - bundle.signatures.length === 1 ? 'signature is' : 'signatures are'} needed.
          </p>
        </Handoff>
        {others.length > 0 && (
          <div className="alternatives">
            <p>Or another admin signs next:</p>
            <ul className="inline-list">
              {others.map(({ admin, position }) => (
                <li key={admin.name}>
                  <button type="button" className="button button-secondary" onClick={() => setChosen(position)}>
                    {`Let ${admin.name} sign instead`}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
        <BundleFacts bundle={bundle} />
      </>
    );
  }

  return (
    <>
      <ScreenHeading level={3}>The bundle is signed</ScreenHeading>
      <BundleFacts bundle={bundle} />
      {bundle.saved === null ? (
        <>
          <p>Save it to the removable media that goes to the crypto units. Choose the folder in the next window.</p>
          <StepAction label="Save the bundle…" busyText="Saving the bundle…" invoke={() => api().bundle.save()} />
        </>
      ) : (
        <>
          <ScreenHeading level={3}>The bundle is saved</ScreenHeading>
          <SuccessNotice title="Saved, never overwriting an existing file">
            <p>
              Saved to <strong className="path">{bundle.saved.path}</strong>
            </p>
          </SuccessNotice>
          <h3 className="label-heading">SHA-256 of the saved file</h3>
          <HexGroups groups={groupHex(bundle.saved.fileSha256)} size="medium" spaced={false} testId="bundle-sha256" />
          <p>Write this down: whoever loads the bundle into the crypto units checks the file against it.</p>
          <ContinueFooter step="bundle" />
        </>
      )}
    </>
  );
}

function SignBundle({
  admin,
  position,
  bundle,
  onSigned,
}: {
  readonly admin: AdminView;
  readonly position: number;
  readonly bundle: BundleView;
  readonly onSigned: () => void;
}) {
  const { busy, error, act } = useCeremonyAction();
  return (
    <>
      <ScreenHeading level={3}>{admin.name}: sign the import bundle</ScreenHeading>
      <p>You are signing this bundle. Read what it makes the units do before you sign:</p>
      <WhatItDoes bundle={bundle} />
      <p>Its payload has this SHA-256:</p>
      <HexGroups groups={groupHex(bundle.payloadHash)} size="medium" />
      <SecretForm
        medium={admin.medium}
        submitLabel="Sign the bundle"
        expectedCard={
          admin.identity?.cardSerial != null ? { serial: admin.identity.cardSerial, owner: admin.name } : null
        }
        busy={busy}
        error={error}
        onSubmit={async (secret) => {
          const ok = await act(
            admin.medium === 'card' ? 'Signing with the card…' : 'Signing with your identity file…',
            () => api().bundle.sign({ adminIndex: position, secret }),
          );
          if (ok) onSigned();
          return ok;
        }}
      >
        {admin.medium === 'card' ? (
          <p>Insert your smart card, choose its reader and type its PIN.</p>
        ) : (
          <p>
            Type the passphrase of your identity file
            {admin.identity !== null ? <> ({admin.identity.location})</> : null}.
          </p>
        )}
      </SecretForm>
    </>
  );
}

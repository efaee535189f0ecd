// The step where a bundle's admins sign it (recovery, rotation, admin change,
// zeroize; issue 11), once for every wizard: what the signers read (given by
// the wizard), one admin's turn with their identity file or card, and the save
// once enough have signed.
import type { ReactNode } from 'react';
import type { IpcResult, Medium, SecretInput } from '../../shared/ipc.js';
import { SecretForm } from './SecretForm.js';
import { MediumSecretForm } from './ShareTurns.js';
import { StepButton } from './StepAction.js';

const ADMIN_SIGN = {
  legend: 'Where is your admin identity?',
  fileLabel: 'In an identity file (passphrase)',
  cardLabel: 'On a smart card (PIN)',
  submitLabel: (medium: Medium): string =>
    medium === 'file' ? 'Open my identity file and sign…' : 'Sign with my card',
  fileHelp: 'Type your identity file’s passphrase. After you press the button, choose the identity file.',
  cardHelp: 'Insert your card (its admin identity is in slot 9C), choose its reader and type its PIN.',
} as const;

export function SignBundleStep<V>({
  headingId,
  heading,
  bundle,
  busy,
  cards = true,
  onSign,
  save,
  children,
}: {
  readonly headingId: string;
  readonly heading: string;
  readonly bundle: { readonly signedBy: readonly string[]; readonly required: number };
  /** The call in flight, or null. */
  readonly busy: string | null;
  /** Whether an admin may sign with their card; false: identity files only. */
  readonly cards?: boolean;
  /** Sends one admin's signing secret; resolves true when the signature was taken. */
  readonly onSign: (secret: SecretInput) => Promise<boolean>;
  /** The wizard's call that saves the signed bundle (a step of its StepScope). */
  readonly save: () => Promise<IpcResult<V>>;
  /** What the signers read before signing: the bundle's facts. */
  readonly children: ReactNode;
}) {
  const turn = bundle.signedBy.length;
  const enough = turn >= bundle.required;
  return (
    <section className="check-section" aria-labelledby={headingId}>
      <h3 id={headingId}>{heading}</h3>
      {children}
      {!enough && cards && <MediumSecretForm {...ADMIN_SIGN} turn={turn} busy={busy} onSubmit={onSign} />}
      {!enough && !cards && (
        <SecretForm
          key={turn}
          medium="file"
          submitLabel={ADMIN_SIGN.submitLabel('file')}
          busy={busy}
          error={null}
          onSubmit={onSign}
        >
          <p>{ADMIN_SIGN.fileHelp}</p>
        </SecretForm>
      )}
      <div className="actions">
        <StepButton
          label="Save the bundle…"
          busyText="Saving the bundle…"
          invoke={save}
          kind={enough ? 'primary' : 'secondary'}
          disabled={!enough}
        />
      </div>
    </section>
  );
}

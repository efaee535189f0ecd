// A custodian brings their share to a ceremony that rebuilds the key (the
// re-share and the recovery, issue 11): where it is (a share file or a smart
// card), then the one secret form for that medium. The form is emptied after
// each share (`turn` changes), whatever the call answered.
import { useId, useState } from 'react';
import type { Medium, SecretInput } from '../../shared/ipc.js';
import { SecretForm } from './SecretForm.js';

export interface BringShareFormProps {
  /** Changes with each share brought: the next custodian starts from an empty form. */
  readonly turn: number;
  readonly submitLabel: (medium: Medium) => string;
  /** The call in flight, or null. */
  readonly busy: string | null;
  /** Sends the secret; resolves true when the share was taken. */
  readonly onSubmit: (secret: SecretInput, medium: Medium) => Promise<boolean>;
}

export function BringShareForm({ turn, submitLabel, busy, onSubmit }: BringShareFormProps) {
  const [medium, setMedium] = useState<Medium>('file');
  const idPrefix = useId().replace(/[^a-zA-Z0-9_-]/g, '');
  return (
    <>
      <fieldset className="medium-choice">
        <legend>Where is the next custodian’s share?</legend>
        <div className="radio-row">
          <input
            type="radio"
            id={`${idPrefix}-file`}
            name={`${idPrefix}-medium`}
            checked={medium === 'file'}
            onChange={() => setMedium('file')}
          />
          <label htmlFor={`${idPrefix}-file`}>In a share file (passphrase)</label>
        </div>
        <div className="radio-row">
          <input
            type="radio"
            id={`${idPrefix}-card`}
            name={`${idPrefix}-medium`}
            checked={medium === 'card'}
            onChange={() => setMedium('card')}
          />
          <label htmlFor={`${idPrefix}-card`}>On a smart card (PIN)</label>
        </div>
      </fieldset>
      <SecretForm
        key={`${medium}-${turn}`}
        medium={medium}
        submitLabel={submitLabel(medium)}
        busy={busy}
        error={null}
        onSubmit={(secret) => onSubmit(secret, medium)}
      >
        {medium === 'file' ? (
          <p>Type your share file’s passphrase. After you press the button, choose the share file.</p>
        ) : (
          <p>Insert your card, choose its reader and type its PIN.</p>
        )}
      </SecretForm>
    </>
  );
}

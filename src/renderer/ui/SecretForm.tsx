// The one form that asks for a secret: a reader and a PIN for a card, or a
// passphrase (typed twice, with a strength meter, when it is being chosen)
// for a file.
//
// Secrets: the PIN and passphrases live only in these controlled inputs.
// They are put into the request of the one call that needs them and the
// inputs are emptied as soon as that call returns, whether it succeeded or
// failed. Never log them, and never put them anywhere else.
import { useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { IpcError, Medium, SecretInput } from '../../shared/ipc.js';
import { PASSPHRASE_MAX_LENGTH, PASSPHRASE_MIN_LENGTH, ratePassphrase } from '../lib/strength.js';
import { BusyStatus, ErrorNotice } from './Notices.js';
import { CardCare } from './CardCare.js';
import { SecretField } from './SecretField.js';
import { ReaderPicker, type ExpectedCard } from './ReaderPicker.js';

const PIN_MIN_LENGTH = 6;
const PIN_MAX_LENGTH = 8;

export interface SecretFormProps {
  readonly medium: Medium;
  /** For a file: the passphrase is chosen now, so ask twice and rate it. */
  readonly newPassphrase?: boolean;
  readonly submitLabel: string;
  /** The call in flight, e.g. "Writing the share to the card…", or null. */
  readonly busy: string | null;
  readonly error: IpcError | null;
  /** Sends the secret; resolves true when the call succeeded. */
  readonly onSubmit: (secret: SecretInput) => Promise<boolean>;
  /** Explanations shown above the fields. */
  readonly children?: ReactNode;
  /** The card this step needs, when known; other cards are shown as wrong. */
  readonly expectedCard?: ExpectedCard | null;
}

interface FieldErrors {
  reader?: string;
  pin?: string;
  passphrase?: string;
  repeat?: string;
}

export function SecretForm(props: SecretFormProps) {
  const { medium, newPassphrase = false, submitLabel, busy, error, onSubmit, children, expectedCard = null } = props;
  const idPrefix = useId().replace(/[^a-zA-Z0-9_-]/g, '');
  const [reader, setReader] = useState<string | null>(null);
  // Secret: the card PIN. Emptied right after the call that uses it.
  const [pin, setPin] = useState('');
  // Secret: the passphrase and its repetition. Emptied right after the call.
  const [passphrase, setPassphrase] = useState('');
  const [repeat, setRepeat] = useState('');
  const [attempted, setAttempted] = useState(false);
  const secretRef = useRef<HTMLInputElement | null>(null);
  const repeatRef = useRef<HTMLInputElement | null>(null);
  const readerGroupRef = useRef<HTMLDivElement | null>(null);

  const fieldErrors = validate();
  const shown: FieldErrors = attempted ? fieldErrors : {};

  function validate(): FieldErrors {
    const errors: FieldErrors = {};
    if (medium === 'card') {
      if (reader === null) errors.reader = 'Choose the reader that holds the card.';
      if (pin.length === 0) errors.pin = 'Type the PIN of the card.';
      else if (pin.length < PIN_MIN_LENGTH || pin.length > PIN_MAX_LENGTH) {
        errors.pin = `A PIN has ${PIN_MIN_LENGTH} to ${PIN_MAX_LENGTH} characters.`;
      }
    } else {
      const length = [...passphrase].length;
      if (length === 0) errors.passphrase = 'Type the passphrase.';
      else if (newPassphrase && length < PASSPHRASE_MIN_LENGTH) {
        errors.passphrase = `Use at least ${PASSPHRASE_MIN_LENGTH} characters.`;
      } else if (length > PASSPHRASE_MAX_LENGTH) errors.passphrase = `Use at most ${PASSPHRASE_MAX_LENGTH} characters.`;
      if (newPassphrase && errors.passphrase === undefined && repeat !== passphrase) {
        errors.repeat =
          repeat.length === 0
            ? 'Type the passphrase a second time.'
            : 'The two passphrases differ. Type the same one twice.';
      }
    }
    return errors;
  }

  function focusFirstProblem(errors: FieldErrors): void {
    if (errors.reader !== undefined) readerGroupRef.current?.querySelector<HTMLInputElement>('input')?.focus();
    else if (errors.pin !== undefined || errors.passphrase !== undefined) secretRef.current?.focus();
    else if (errors.repeat !== undefined) repeatRef.current?.focus();
  }

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (busy !== null) return;
    setAttempted(true);
    const errors = validate();
    if (Object.keys(errors).length > 0) {
      focusFirstProblem(errors);
      return;
    }
    const secret: SecretInput =
      medium === 'card' && reader !== null ? { medium: 'card', reader, pin } : { medium: 'file', passphrase };
    let ok = false;
    try {
      ok = await onSubmit(secret);
    } finally {
      setPin('');
      setPassphrase('');
      setRepeat('');
      setAttempted(false);
    }
    // On failure the form stays: put the person back where they retype.
    if (!ok) secretRef.current?.focus();
  }

  const strength = ratePassphrase(passphrase);
  const pinId = `${idPrefix}-pin`;
  const passphraseId = `${idPrefix}-passphrase`;
  const repeatId = `${idPrefix}-repeat`;
  const meterId = `${idPrefix}-strength`;

  return (
    <form className="secret-form" onSubmit={(event) => void submit(event)} noValidate>
      {children}
      {medium === 'card' ? (
        <>
          <div ref={readerGroupRef}>
            <ReaderPicker
              idPrefix={idPrefix}
              selected={reader}
              onSelect={setReader}
              error={shown.reader ?? null}
              expected={expectedCard}
              renderSelected={(r) => <CardCare reader={r} />}
            />
          </div>
          <SecretField
            ref={secretRef}
            id={pinId}
            label="PIN"
            maxLength={PIN_MAX_LENGTH}
            value={pin}
            onChange={setPin}
            error={shown.pin ?? null}
          />
        </>
      ) : (
        <>
          <SecretField
            ref={secretRef}
            id={passphraseId}
            label="Passphrase"
            value={passphrase}
            onChange={setPassphrase}
            hint={
              newPassphrase
                ? `At least ${PASSPHRASE_MIN_LENGTH} characters. A few unrelated words are easy to remember and hard to guess.`
                : null
            }
            error={shown.passphrase ?? null}
          />
          {newPassphrase && (
            <>
              <div className="strength">
                <label htmlFor={meterId} className="strength-label">
                  Passphrase strength
                </label>
                <meter
                  id={meterId}
                  className="strength-meter"
                  min={0}
                  max={100}
                  low={45}
                  high={70}
                  optimum={100}
                  value={strength.score}
                  aria-valuetext={strength.word}
                />
                <span className={`strength-word strength-${strength.level}`}>{strength.word}</span>
              </div>
              <SecretField
                ref={repeatRef}
                id={repeatId}
                label="Repeat the passphrase"
                value={repeat}
                onChange={setRepeat}
                error={shown.repeat ?? null}
              />
            </>
          )}
        </>
      )}
      <div className="actions">
        <button type="submit" className="button button-primary" disabled={busy !== null}>
          {submitLabel}
        </button>
      </div>
      <BusyStatus busy={busy} />
      <ErrorNotice error={error} />
    </form>
  );
}

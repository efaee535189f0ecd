// One field for a secret (PIN, PUK, passphrase): masked, never autocompleted,
// spell-checked or auto-corrected (nothing of it may reach a dictionary or a
// form history), labelled, with an optional hint and error tied to it for
// screen readers. The value lives in the caller's state, which empties it
// after the call that uses it.
import { forwardRef } from 'react';

export interface SecretFieldProps {
  readonly id: string;
  readonly label: string;
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly maxLength?: number;
  readonly hint?: string | null;
  readonly error?: string | null;
}

export const SecretField = forwardRef<HTMLInputElement, SecretFieldProps>(function SecretField(
  { id, label, value, onChange, maxLength, hint = null, error = null },
  ref,
) {
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint !== null ? hintId : '', error !== null ? errorId : ''].filter((x) => x !== '').join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        ref={ref}
        id={id}
        className="input input-secret"
        type="password"
        autoComplete="off"
        spellCheck={false}
        autoCapitalize="off"
        autoCorrect="off"
        maxLength={maxLength}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        aria-invalid={error !== null}
        aria-describedby={describedBy === '' ? undefined : describedBy}
      />
      {hint !== null && (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      )}
      {error !== null && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
});

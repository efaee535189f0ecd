// "Abandon ceremony", with a confirmation in a modal <dialog> (not
// window.confirm): the safe choice, keeping the ceremony, has the focus.
import { useRef } from 'react';
import { api } from '../lib/bridge.js';
import { BusyStatus, ErrorNotice } from '../ui/Notices.js';
import { useCeremony, useCeremonyAction } from './context.js';

export function AbandonCeremony({ disabled }: { readonly disabled: boolean }) {
  const { view } = useCeremony();
  const dialogRef = useRef<HTMLDialogElement | null>(null);
  const keepRef = useRef<HTMLButtonElement | null>(null);
  const openerRef = useRef<HTMLButtonElement | null>(null);
  const { busy, error, act, clearError } = useCeremonyAction();
  const keyExists = view.masterKey !== null && view.masterKey.present;

  function open(): void {
    clearError();
    dialogRef.current?.showModal();
    keepRef.current?.focus();
  }

  return (
    <aside className="sidebar-actions" aria-label="Ceremony actions">
      <button ref={openerRef} type="button" className="button button-danger-outline" onClick={open} disabled={disabled}>
        Abandon ceremony
      </button>
      <dialog
        ref={dialogRef}
        className="dialog"
        aria-labelledby="abandon-title"
        aria-describedby="abandon-description"
        onClose={() => openerRef.current?.focus()}
      >
        <h2 id="abandon-title" className="dialog-title">
          Abandon this ceremony?
        </h2>
        <div id="abandon-description">
          <p>
            {keyExists
              ? 'The master key is wiped from memory at once and this ceremony cannot be continued.'
              : 'This ceremony cannot be continued afterwards.'}{' '}
            Anything already written (identity files, cards, shares) stays where it is but belongs to an abandoned
            ceremony. The record notes the abort.
          </p>
        </div>
        <div className="actions">
          <button
            ref={keepRef}
            type="button"
            className="button button-primary"
            onClick={() => dialogRef.current?.close()}
            disabled={busy !== null}
          >
            Keep the ceremony
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={busy !== null}
            onClick={() => void act('Abandoning the ceremony…', () => api().ceremony.abandon())}
          >
            Yes, abandon the ceremony
          </button>
        </div>
        <BusyStatus busy={busy} />
        <ErrorNotice error={error} />
      </dialog>
    </aside>
  );
}

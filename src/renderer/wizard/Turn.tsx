// One person's turn at the keyboard (an admin creating an identity or
// signing, a custodian receiving a share). While it is on screen the header
// names that person; when it goes, every input in it goes with it.
import type { ReactNode } from 'react';
import { useAtKeyboard } from './context.js';

export function Turn({
  person,
  children,
  onCancel,
}: {
  readonly person: string;
  readonly children: ReactNode;
  /** Ends the turn without finishing it, back to the handoff screen. */
  readonly onCancel?: () => void;
}) {
  useAtKeyboard(person);
  return (
    <section className="turn" aria-label={`${person}’s turn`}>
      {children}
      {onCancel !== undefined && (
        <div className="turn-cancel">
          <button type="button" className="button button-quiet" onClick={onCancel}>
            Stop this turn and clear the screen
          </button>
        </div>
      )}
    </section>
  );
}

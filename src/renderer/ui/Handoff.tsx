import type { ReactNode } from 'react';
import { useFocusOnMount } from '../lib/useFocusOnMount.js';

/**
 * "Pass the keyboard to <name>": the screen between two people. Nothing of
 * the previous person's turn is on it. Focus starts on the "I am <name>"
 * button, so the new person only has to press Enter.
 */
export function Handoff({
  name,
  children,
  onClaim,
}: {
  readonly name: string;
  /** What the person will do in their turn. */
  readonly children: ReactNode;
  readonly onClaim: () => void;
}) {
  const buttonRef = useFocusOnMount<HTMLButtonElement>();
  return (
    <section className="handoff" aria-labelledby="handoff-heading">
      <h3 id="handoff-heading" className="handoff-title">
        Pass the keyboard to {name}
      </h3>
      <div className="handoff-body">{children}</div>
      <button ref={buttonRef} type="button" className="button button-primary button-large" onClick={onClaim}>
        I am {name}
      </button>
    </section>
  );
}

import { useEffect, useRef, type RefObject } from 'react';

/**
 * Moves keyboard focus to the element when it first appears, so that a
 * keyboard or screen-reader user lands on the new screen (its heading, or the
 * handoff button) instead of on whatever was removed.
 */
export function useFocusOnMount<E extends HTMLElement>(enabled = true): RefObject<E | null> {
  const ref = useRef<E | null>(null);
  useEffect(() => {
    if (enabled) ref.current?.focus();
  }, [enabled]);
  return ref;
}

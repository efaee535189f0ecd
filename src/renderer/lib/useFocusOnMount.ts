import { useLayoutEffect, useRef, type RefObject } from 'react';

/**
 * Moves keyboard focus to the element when it first appears, so that a
 * keyboard or screen-reader user lands on the new screen (its heading, or the
 * handoff button) instead of on whatever was removed.
 *
 * A layout effect, not a passive one: focus moves in the same task that puts
 * the screen in the DOM. A passive effect runs a task later, so a Tab pressed
 * in between could land on the new screen's button and the late focus() would
 * then pull it back to the heading under the person's Enter.
 */
export function useFocusOnMount<E extends HTMLElement>(enabled = true): RefObject<E | null> {
  const ref = useRef<E | null>(null);
  useLayoutEffect(() => {
    if (enabled) ref.current?.focus();
  }, [enabled]);
  return ref;
}

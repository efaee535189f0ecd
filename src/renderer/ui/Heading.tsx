import type { ReactNode } from 'react';
import { useFocusOnMount } from '../lib/useFocusOnMount.js';

/**
 * A screen's heading. It takes focus when it appears (tabIndex -1 makes it
 * focusable by script only), so each new step or turn starts at its title.
 */
export function ScreenHeading({
  level,
  id,
  children,
  focus = true,
}: {
  readonly level: 2 | 3;
  readonly id?: string;
  readonly children: ReactNode;
  readonly focus?: boolean;
}) {
  const ref = useFocusOnMount<HTMLHeadingElement>(focus);
  const Tag = level === 2 ? 'h2' : 'h3';
  return (
    <Tag ref={ref} id={id} tabIndex={-1} className="screen-heading">
      {children}
    </Tag>
  );
}

import type { ReactNode } from 'react';
import { ScreenHeading } from '../ui/Heading.js';

/** A wizard step's page: a section named by its heading, which takes focus when the step appears. */
export function StepFrame({ title, children }: { readonly title: string; readonly children: ReactNode }) {
  return (
    <section className="step" aria-labelledby="step-heading">
      <ScreenHeading level={2} id="step-heading">
        {title}
      </ScreenHeading>
      {children}
    </section>
  );
}

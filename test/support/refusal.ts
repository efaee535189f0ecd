import { expect } from 'vitest';
import { CeremonyError } from '../../src/core/errors.js';

/** The CeremonyError a call is refused with (the test fails if it succeeds or throws anything else). */
export async function refusal(p: Promise<unknown>): Promise<CeremonyError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CeremonyError);
  return e as CeremonyError;
}

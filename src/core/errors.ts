// The error taxonomy of the core (CONVENTIONS.md, "Errors"):
//  - CeremonyError: an expected error a person can act on. It carries a code
//    from the closed list below, one plain sentence, and the data needed to
//    act (retries left, which share, which signer). It crosses IPC and the
//    CLI as {code, message, details}; nothing else about it matters.
//  - anything else thrown is a bug, and is reported as such.

export { CEREMONY_ERROR_CODES, missingCase, type CeremonyErrorCode } from '../shared/error-codes.js';
import type { CeremonyErrorCode } from '../shared/error-codes.js';

export class CeremonyError extends Error {
  override readonly name = 'CeremonyError';
  constructor(
    readonly code: CeremonyErrorCode,
    message: string,
    readonly details: Readonly<Record<string, string | number | boolean | null>> = {},
  ) {
    super(message);
  }

  toJSON(): { code: CeremonyErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: { ...this.details } };
  }
}

export function isCeremonyError(e: unknown, code?: CeremonyErrorCode): e is CeremonyError {
  return e instanceof CeremonyError && (code === undefined || e.code === code);
}

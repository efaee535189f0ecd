// The closed list of error codes that cross the process boundary and the
// CLI (CONVENTIONS.md, "Closed lists"): one list, so that the renderer's
// explanation of each code (src/renderer/lib/errors.ts) covers every one or
// fails to compile. Pure TypeScript with no imports: core, main and the
// renderer all read it.

/** Codes of CeremonyError (src/core/errors.ts): expected errors a person can act on. */
export const CEREMONY_ERROR_CODES = [
  'InvalidArgument',
  'PassphraseTooShort',
  'PassphraseTooLong',
  'WrongPassphrase',
  'FileNotFound',
  'OutputExists',
  'OutputUnwritable',
  'ShareCorrupted',
  'ShareAltered',
  'ShareMismatch',
  'DuplicateShare',
  'ShareFromOtherCeremony',
  /** A share of a set that a re-share replaced (issue 11): the record names the re-share. */
  'ShareRetired',
  'ThresholdNotMet',
  'IdentityInvalid',
  'TranscriptInvalid',
  'TransportInvalid',
  'TransportFingerprintMismatch',
  /** A transport key never confirmed against its unit's display into the record (issue 8). */
  'TransportUnconfirmed',
  /** A bundle the record did not create, or that names an entry the record does not hold (issue 8). */
  'BundleNotInRecord',
  'BundleMalformed',
  'BundleSignatureInvalid',
  'BundleAlreadySigned',
  'UnknownSigner',
  'TooFewSignatures',
  'Replay',
  'WrongTarget',
  'KcvMismatch',
  'UnitState',
  'UnitInMaintenance',
  /** A rehearsal bundle offered to a production unit, or a production bundle to a rehearsal unit (issue 11). */
  'RehearsalMismatch',
  'EmulatorState',
  // Smart cards (issue 3)
  'NoPcscd',
  'NoReader',
  'NoCard',
  'CardRemoved',
  'CardBusy',
  'WrongCard',
  'WrongPin',
  /** A wrong PUK, with its tries left (not a wrong PIN: the unblock panel must say which). */
  'WrongPuk',
  'PinBlocked',
  'PukBlocked',
  'SecurityStatusNotSatisfied',
  'ManagementKeyRejected',
  'CardObjectNotFound',
  'CardDefaultCredentials',
  /** A key slot holds a key or certificate its owner has not agreed to replace (issue 9). */
  'CardSlotOccupied',
  'CardError',
  /** A card missed the deadline of an APDU or of connecting; it was released (issue 9, "Never hang"). */
  'CardTimeout',
  // The application (issue 4)
  'Canceled',
  'WrongStep',
] as const;
export type CeremonyErrorCode = (typeof CEREMONY_ERROR_CODES)[number];

/**
 * Codes only the IPC layer gives (src/main):
 * - `untrusted-sender`: the call did not come from the app's own page
 *   (Electron security checklist #17); a bug or an attack.
 * - `invalid-request`: the argument did not match the contract.
 * - `internal`: an unexpected failure in main (a bug).
 */
export const IPC_ONLY_ERROR_CODES = ['untrusted-sender', 'invalid-request', 'internal'] as const;

export type IpcErrorCode = CeremonyErrorCode | (typeof IPC_ONLY_ERROR_CODES)[number];

/** Ends an exhaustive switch: adding a case without handling it fails to compile. */
export function missingCase(value: never): never {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}

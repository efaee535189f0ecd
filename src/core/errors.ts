// The error taxonomy of the core (CONVENTIONS.md, "Errors"):
//  - CeremonyError: an expected error a person can act on. It carries a code
//    from the closed list below, one plain sentence, and the data needed to
//    act (retries left, which share, which signer). It crosses IPC and the
//    CLI as {code, message, details}; nothing else about it matters.
//  - anything else thrown is a bug, and is reported as such.

export type CeremonyErrorCode =
  | 'InvalidArgument'
  | 'PassphraseTooShort'
  | 'PassphraseTooLong'
  | 'WrongPassphrase'
  | 'FileNotFound'
  | 'OutputExists'
  | 'OutputUnwritable'
  | 'ShareCorrupted'
  | 'ShareAltered'
  | 'ShareMismatch'
  | 'DuplicateShare'
  | 'ShareFromOtherCeremony'
  | 'ThresholdNotMet'
  | 'IdentityInvalid'
  | 'TranscriptInvalid'
  | 'TransportInvalid'
  | 'TransportFingerprintMismatch'
  /** A transport key never confirmed against its unit's display into the record (issue 8). */
  | 'TransportUnconfirmed'
  /** A bundle the record did not create, or that names an entry the record does not hold (issue 8). */
  | 'BundleNotInRecord'
  | 'BundleMalformed'
  | 'BundleSignatureInvalid'
  | 'BundleAlreadySigned'
  | 'UnknownSigner'
  | 'TooFewSignatures'
  | 'Replay'
  | 'WrongTarget'
  | 'KcvMismatch'
  | 'UnitState'
  | 'UnitInMaintenance'
  | 'EmulatorState'
  // Smart cards (issue 3)
  | 'NoPcscd'
  | 'NoReader'
  | 'NoCard'
  | 'CardRemoved'
  | 'CardBusy'
  | 'WrongCard'
  | 'WrongPin'
  | 'PinBlocked'
  | 'PukBlocked'
  | 'SecurityStatusNotSatisfied'
  | 'ManagementKeyRejected'
  | 'CardObjectNotFound'
  | 'CardDefaultCredentials'
  /** A key slot holds a key or certificate its owner has not agreed to replace (issue 9). */
  | 'CardSlotOccupied'
  | 'CardError'
  /** A card missed the deadline of an APDU or of connecting; it was released (issue 9, "Never hang"). */
  | 'CardTimeout'
  // The application (issue 4)
  | 'Canceled'
  | 'WrongStep';

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

/** Ends an exhaustive switch: adding a case without handling it fails to compile. */
export function missingCase(value: never): never {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}

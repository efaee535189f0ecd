import type { BundleSummary } from '../bundle/bundle.js';
import type { CeremonySetup, RosterMedium, RosterMode } from './roster.js';
import type { RehearsalUnitsSnapshot } from './session-ports.js';
import type { SessionPhase, SessionStep } from './session-state.js';
import type { SetupUnit } from './setup-file.js';

// What the session returns: the ceremony as data (src/main/views.ts makes the
// renderer's view of it). Never a secret.

export interface UnitSnapshot {
  readonly unitId: string;
  /** The transport file's name (not its folder). */
  readonly fileName: string;
  /** SHA-256 (hex) of the unit's transport public key, as its transport file states it. */
  readonly fingerprint: string;
  /** Set only by an explicit "matches the unit's display" confirmation. */
  readonly confirmed: boolean;
}

export interface AdminSnapshot {
  readonly name: string;
  readonly medium: RosterMedium;
  /** Null until the identity exists. */
  readonly identity: null | {
    /** base64url SHA-256 of the certificate (the JWS x5t#S256). */
    readonly thumbprint: string;
    /** "card 12345678" or the identity file's name. */
    readonly location: string;
    /** The admin's card, for card identities. */
    readonly cardSerial: number | null;
  };
}

export interface ShareSnapshot {
  /** 1-based share index. */
  readonly index: number;
  readonly custodian: string;
  readonly medium: RosterMedium;
  /** "card 12345678 slot 82" or the share file's name; null until written. */
  readonly location: string | null;
  readonly cardSerial: number | null;
  readonly written: boolean;
  /** Read back with the custodian's PIN or passphrase and found identical. */
  readonly verified: boolean;
  /** The custodian confirmed they hold it. */
  readonly confirmed: boolean;
}

export interface BundleSnapshot {
  readonly bundleId: string;
  readonly sequence: number;
  readonly targets: readonly string[];
  /** SHA-256 (hex) of the signed payload: the same for every signer. */
  readonly payloadHash: string;
  /** What the bundle makes the units do: shown to every signer before they sign. */
  readonly summary: BundleSummary;
  /** Who signed, by the name of the admin of this ceremony whose certificate it is. */
  readonly signatures: readonly { readonly name: string; readonly thumbprint: string }[];
  readonly required: number;
  readonly saved: SavedFile | null;
}

/** The ceremony at one moment: what the wizard shows, never a secret. */
export interface CeremonyState {
  readonly phase: SessionPhase;
  /** Fixed for the ceremony at Start (issue 11); production before Set up is done. */
  readonly mode: RosterMode;
  /** A rehearsal's in-process units, once "Use rehearsal units" created them; null otherwise. */
  readonly rehearsalUnits: RehearsalUnitsSnapshot | null;
  /** The wizard step the phase is at: the first step not yet done. */
  readonly step: SessionStep;
  /** Null before Set up is done. */
  readonly ceremonyId: string | null;
  readonly setup: CeremonySetup | null;
  readonly units: readonly UnitSnapshot[];
  /** Units of the loaded instance whose transport files are still to load: a bundle goes to every unit. */
  readonly unitsMissing: readonly string[];
  readonly admins: readonly AdminSnapshot[];
  /** Null until generated. `present` turns false when it is wiped. */
  readonly masterKey: null | { readonly kcv: string; readonly present: boolean };
  readonly shares: readonly ShareSnapshot[];
  readonly bundle: BundleSnapshot | null;
  /** Set by Close. */
  readonly closed: null | { readonly recordSavedTo: string | null };
}

/** A record opened to check one share against it (the start screen's other task). */
export interface RecordForCheck {
  readonly ceremonyId: string;
  readonly ceremonyName: string;
  readonly keyName: string;
  readonly kcv: string;
  readonly threshold: number;
  readonly shares: number;
  /** The custodians, in the order of their shares. */
  readonly custodians: readonly string[];
  readonly fileName: string;
}

/** A share found to be the one the record committed to (a share that is not fails with an error). */
export interface ShareChecked {
  readonly shareIndex: number;
  readonly custodian: string;
  readonly kcv: string;
}

/** A plan (SETUP.json) written from the Set up form. */
export interface SavedPlan {
  readonly fileName: string;
  /** SHA-256 (hex) of the file as written: the script prints it, so the room can check it is the approved plan. */
  readonly sha256: string;
}

/** A plan written from the Set up form filled from another: what of that plan the form could not hold was kept. */
export interface PlanSaved extends SavedPlan {
  /** Plain sentences: the card serials and bag numbers kept from the plan the form was filled from, and any dropped. */
  readonly notes: readonly string[];
}

/** A plan (SETUP.json) opened to fill the Set up form; nothing starts until Start. */
export interface OpenedPlan extends SavedPlan {
  /** The plan as the form's values, checked with the Set up's rules. */
  readonly setup: CeremonySetup;
  readonly units: readonly SetupUnit[];
  /** What the form set that the plan left open, and what of the plan the form does not keep. */
  readonly notes: readonly string[];
}

/** Names a plan opened in this session, by the SHA-256 of its file. */
export interface PlanRef {
  readonly sha256: string;
}

/** A file the session saved: where, and the SHA-256 of what it wrote. */
export interface SavedFile {
  readonly path: string;
  readonly fileSha256: string;
}

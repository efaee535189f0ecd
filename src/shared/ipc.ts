// The one IPC contract between main, preload and the renderer.
//
// Every channel, its request and its result are declared here and nowhere
// else, so main (which handles), preload (which forwards) and the renderer
// (which calls) cannot drift apart. This file is pure TypeScript: no Node,
// Electron, React or DOM, because all three processes compile it.
//
// Nothing that crosses these channels back to the renderer is ever a secret:
// it gets metadata (names, fingerprints, KCVs, progress), never key material.
// PINs and passphrases travel one way only, renderer to main, in the request
// of the one call that needs them; main turns them into buffers it zeroes
// after use and never sends them back (DESIGN.md, "Rules of the house").

/** Facts about the running application, shown in the window header. */
export interface AppInfo {
  readonly name: string;
  readonly version: string;
  /**
   * Names of the non-loopback network interfaces that are up (have an
   * address). Empty on a properly air-gapped workstation; anything else makes
   * the renderer show the network warning.
   */
  readonly networkInterfacesUp: readonly string[];
}

// ---------------------------------------------------------------------------
// Errors

/**
 * Why a call failed, in a form a person or the renderer can act on: a
 * CeremonyErrorCode from the core (with its plain sentence and the details
 * needed to act, `retriesLeft`, …; `Canceled` when the person closed a
 * dialog, `WrongStep` when the call does not fit where the ceremony is), or
 * one of the IPC layer's own codes. One closed list: src/shared/error-codes.ts.
 */
export type { IpcErrorCode } from './error-codes.js';
import type { IpcErrorCode } from './error-codes.js';

export interface IpcError {
  readonly code: IpcErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, string | number | boolean | null>>;
}

/**
 * Results cross the process boundary as data, because Error subclasses do not
 * survive structured cloning.
 */
export type IpcResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: IpcError };

// ---------------------------------------------------------------------------
// The ceremony, as the renderer sees it

export type Medium = 'card' | 'file';

export const STEPS = ['setup', 'units', 'admins', 'master-key', 'shares', 'bundle', 'close'] as const;
export type StepId = (typeof STEPS)[number];

export interface Participant {
  readonly name: string;
  readonly medium: Medium;
}

/** What the operator enters on the Set up step. */
export interface CeremonySetup {
  readonly ceremonyName: string;
  readonly keyName: string;
  /** Shares needed to recover the master key (K). */
  readonly threshold: number;
  /** Admin signatures each later bundle needs (the claim's threshold). */
  readonly signatureThreshold: number;
  /** Admin signatures needed to remove an admin or lower a threshold (the claim's revocation threshold). */
  readonly revocationThreshold: number;
  /** The person running the ceremony at the keyboard between handoffs. */
  readonly operator: string;
  readonly admins: readonly Participant[];
  /** One share per custodian: N = custodians.length. */
  readonly custodians: readonly Participant[];
  readonly witnesses: readonly string[];
  /** Why the set-up departs from separation of duties (issue 11); recorded. Only the ones that apply. */
  readonly reasons: SetupReasons;
}

/** The reasons separation of duties asks for; the names are SETUP.json's. */
export interface SetupReasons {
  /** Why a custodian is also an admin of the same ceremony. */
  readonly custodianIsAdmin?: string;
  /** Why one admin's signature is enough (a signature threshold of 1). */
  readonly signatureThresholdOne?: string;
}

// ---------------------------------------------------------------------------
// The plan (SETUP.json, issue 11): the Set up form written to a file to be
// reviewed and signed off before the day, and read back into the form

/** A crypto unit the plan names (the Units step still loads and confirms its transport file). */
export interface PlanUnit {
  /** The unit's id, as its transport file and display give it. */
  readonly id: string;
  /** SHA-256 of its transport public key (hex), when known before the day; null when not. */
  readonly transportFingerprint: string | null;
}

/** The Set up form's values, for a plan: the set-up and the units. */
export interface PlanForm {
  readonly setup: CeremonySetup;
  readonly units: readonly PlanUnit[];
}

/**
 * The form's values, and the plan they were filled from (plan:open) or last
 * saved as, if any: the script of an unchanged plan is printed from its
 * file, and what of the plan the form cannot hold (card serials, bag
 * numbers) is kept when the form is saved or printed.
 */
export interface PlanScriptRequest extends PlanForm {
  readonly fromPlan?: PlanRef;
}

/** Names a plan opened with plan:open, by its file's SHA-256 (hex). */
export interface PlanRef {
  readonly sha256: string;
}

/**
 * The later ceremonies' wizards (issue 11), each naming its session in main:
 * its cards are those of its record's mode (a rehearsal's virtual readers,
 * or PC/SC), and it prints a ceremony script before and a report after.
 */
export const LATER_WIZARDS = ['recovery', 'reshare', 'units-bundle', 'rotation'] as const;
export type LaterWizard = (typeof LATER_WIZARDS)[number];

/** The names the room gives a later ceremony's script that no record holds (typed, or from a plan). */
export interface PaperNames {
  /** The ceremony's name; the kind and the key's name when absent. */
  readonly ceremonyName?: string;
  readonly operator: string;
  readonly witnesses: readonly string[];
}

/** A later wizard's script or plan: its session's facts and these names (an admin change: the thresholds typed). */
export interface PapersScriptRequest {
  readonly wizard: LaterWizard;
  readonly names: PaperNames;
  readonly thresholds?: { readonly signatureThreshold: number; readonly revocationThreshold: number };
}

/** A plan (SETUP.json) opened in a later wizard: of its kind and key, for its names. */
export interface PapersPlanOpenedView extends PlanFileView {
  readonly names: PaperNames;
}

/** The set-up Start takes, and the plan it was filled from, if any (recorded in the ceremony's opening). */
export interface CeremonyStartRequest extends CeremonySetup {
  readonly fromPlan?: PlanRef;
  /** A rehearsal (issue 11): virtual cards and rehearsal units, everything marked REHEARSAL. Production when absent. */
  readonly mode?: CeremonyMode;
}

/** Fixed for a ceremony at Start (issue 11, "Rehearsal mode"). */
export type CeremonyMode = 'production' | 'rehearsal';

/**
 * A rehearsal's in-process units (issue 11): the fingerprint each unit
 * reports stands for its display (nobody can read the display of an
 * in-process unit), and what the units report once the bundle is loaded.
 */
export interface RehearsalUnitsView {
  readonly instanceId: string;
  readonly displays: readonly {
    readonly unitId: string;
    readonly fingerprintGroups: readonly string[];
    readonly fingerprintWords: readonly string[];
  }[];
  /** Null until "Load into the rehearsal units". */
  readonly loaded: null | {
    readonly results: readonly { readonly unitId: string; readonly ok: boolean; readonly message: string }[];
    readonly units: readonly {
      readonly unitId: string;
      readonly state: string;
      readonly kcv: string | null;
      readonly rehearsal: boolean;
    }[];
  };
}

export interface PlanFileView {
  readonly fileName: string;
  /** SHA-256 (hex) of the file, as the ceremony script prints it. */
  readonly sha256: string;
  /** The same, as hex groups and PGP words, for comparing with the printed script. */
  readonly sha256Groups: readonly string[];
  readonly sha256Words: readonly string[];
}

/** A plan saved from the form: its file, and what was kept from the plan the form was filled from. */
export interface PlanSavedView extends PlanFileView {
  /** Plain sentences: the card serials and bag numbers kept from that plan, and any dropped. */
  readonly notes: readonly string[];
}

export interface PlanOpenedView extends PlanFileView {
  readonly setup: CeremonySetup;
  readonly units: readonly PlanUnit[];
  /** Plain sentences: what the form set that the plan left open, and what of the plan the form does not keep. */
  readonly notes: readonly string[];
}

export interface UnitView {
  readonly unitId: string;
  /** The transport file's name (not its folder). */
  readonly fileName: string;
  /** SHA-256 of the unit's transport public key, as 16 groups of 4 hex digits. */
  readonly fingerprintGroups: readonly string[];
  /** The same 32 bytes as PGP words, for reading aloud. */
  readonly fingerprintWords: readonly string[];
  /** Set only by an explicit "matches the unit's display" confirmation. */
  readonly confirmed: boolean;
}

export interface AdminView {
  readonly name: string;
  readonly medium: Medium;
  /** Null until the identity exists. */
  readonly identity: null | {
    /** base64url SHA-256 of the certificate (the JWS x5t#S256). */
    readonly thumbprint: string;
    /** The same, as hex groups for comparing by eye. */
    readonly fingerprintGroups: readonly string[];
    /** "card 12345678" or the identity file's name. */
    readonly location: string;
    /** The admin's card, for card identities. */
    readonly cardSerial: number | null;
  };
}

export interface ShareView {
  /** 1-based share index. */
  readonly index: number;
  readonly custodian: string;
  readonly medium: Medium;
  /** "card 12345678 slot 82" or the share file's name; null until written. */
  readonly location: string | null;
  /** The custodian's card once the share is written to it. */
  readonly cardSerial: number | null;
  readonly written: boolean;
  /** Read back with the custodian's PIN or passphrase and found identical. */
  readonly verified: boolean;
  /** The custodian confirmed they hold it. */
  readonly confirmed: boolean;
}

export interface BundleView {
  readonly bundleId: string;
  readonly sequence: number;
  readonly targets: readonly string[];
  /** SHA-256 (hex) of the signed payload: the same for every signer. */
  readonly payloadHash: string;
  /** What the bundle makes the units do: shown to every signer before they sign. */
  readonly summary: {
    readonly operation: string;
    /** One sentence for people. */
    readonly action: string;
    readonly instanceId: string;
    readonly keyName: string;
    readonly kcv: string;
    readonly adminsInstalled: readonly { readonly name: string; readonly fingerprintGroups: readonly string[] }[];
    /** Thumbprints of admins removed. */
    readonly adminsRemoved: readonly string[];
    readonly thresholds: null | { readonly signatureThreshold: number; readonly revocationThreshold: number };
  };
  readonly signatures: readonly { readonly name: string; readonly thumbprint: string }[];
  readonly required: number;
  /** Where it was saved and the SHA-256 (hex) of the saved file; null until saved. */
  readonly saved: null | { readonly path: string; readonly fileSha256: string };
}

export interface CeremonyView {
  /** Null before Set up is done. */
  readonly ceremonyId: string | null;
  /** Production, or a rehearsal (issue 11): the renderer shows the REHEARSAL banner on every screen. */
  readonly mode: CeremonyMode;
  /** A rehearsal's units, once created on the Units step; null otherwise. */
  readonly rehearsalUnits: RehearsalUnitsView | null;
  readonly setup: CeremonySetup | null;
  /** Where the wizard is: the first step not yet done. */
  readonly step: StepId;
  readonly units: readonly UnitView[];
  /** Units of the loaded instance whose transport files are still to load: a bundle goes to every unit. */
  readonly unitsMissing: readonly string[];
  readonly admins: readonly AdminView[];
  /** Null until generated. `present` turns false when it is wiped. */
  readonly masterKey: null | { readonly kcv: string; readonly present: boolean };
  readonly shares: readonly ShareView[];
  readonly bundle: BundleView | null;
  /** Set by Close. */
  readonly closed: null | { readonly recordSavedTo: string | null };
}

// ---------------------------------------------------------------------------
// Cards

export interface ReaderView {
  readonly name: string;
  readonly present: boolean;
  /** What the app knows of the card in it; null when empty or not yet read. */
  readonly card: null | {
    readonly serial: number;
    /** False while the card still has its factory PIN, PUK or management key. */
    readonly prepared: boolean;
    readonly pinTriesLeft: number;
    /** Name on the admin certificate in slot 9C, if any. */
    readonly adminName: string | null;
  };
  /** Why the card could not be read, in plain words (not a PIV card, busy…). */
  readonly problem: string | null;
}

export interface CardsView {
  /** False when the smart-card service (pcscd) cannot be reached. */
  readonly serviceAvailable: boolean;
  readonly problem: string | null;
  readonly readers: readonly ReaderView[];
}

// ---------------------------------------------------------------------------
// Secrets, in requests only

/** How a person proves themselves for a file (passphrase) or a card (reader + PIN). */
export type SecretInput =
  | { readonly medium: 'file'; readonly passphrase: string }
  | { readonly medium: 'card'; readonly reader: string; readonly pin: string };

// ---------------------------------------------------------------------------
// Checking a single share against a record (the start screen's other task)

export interface RecordView {
  readonly ceremonyId: string;
  readonly ceremonyName: string;
  readonly keyName: string;
  readonly kcv: string;
  readonly threshold: number;
  readonly shares: number;
  readonly custodians: readonly string[];
  readonly fileName: string;
}

export interface ShareCheckView {
  readonly shareIndex: number;
  readonly custodian: string;
  readonly kcv: string;
  /** Always true when the call succeeds: the share is the one the record committed to. */
  readonly matches: true;
}

// ---------------------------------------------------------------------------
// Checking a whole ceremony record (issue 11, ceremony 6; the start screen)

/** How a ceremony of the record ended. */
export type CeremonyOutcomeView =
  | { readonly kind: 'completed' }
  | { readonly kind: 'aborted'; readonly code: string; readonly reason: string }
  /** No closing entry: never in a record the check accepts, which requires every ceremony closed. */
  | { readonly kind: 'open' };

export interface RecordCeremonyView {
  /** 1-based, in the order of the record. */
  readonly number: number;
  /** "Key generation", "Re-share ceremony", … */
  readonly kind: string;
  readonly ceremonyName: string;
  readonly ceremonyId: string;
  readonly firstLine: number;
  readonly lastLine: number;
  readonly opened: string;
  /** The time of its closing entry; null without one. */
  readonly closed: string | null;
  /** Whoever wrote its entries, in the order they first act. */
  readonly actors: readonly string[];
  readonly outcome: CeremonyOutcomeView;
  readonly rehearsal: boolean;
}

export type RecordShareStatusView =
  | { readonly kind: 'current'; readonly inCurrentSet: boolean }
  | { readonly kind: 'retired'; readonly byCeremony: number | null; readonly line: number; readonly time: string }
  | { readonly kind: 'void'; readonly why: string };

export interface RecordShareView {
  readonly shareIndex: number | null;
  readonly custodian: string;
  readonly medium: string;
  /** The number of the ceremony that issued it. */
  readonly issuedBy: number | null;
  readonly status: RecordShareStatusView;
}

export interface RecordBundleView {
  readonly bundleId: string;
  readonly operation: string;
  readonly sequence: number | null;
  readonly targets: readonly string[];
  /** SHA-256 (hex) of the signed payload. */
  readonly payloadHash: string;
  /** The admins who signed it, when the record says (the CLI signs bundle files without recording it). */
  readonly signatures: readonly string[] | null;
  readonly rehearsal: boolean;
  readonly time: string;
}

export type KeyEndView =
  | {
      readonly kind: 'retired';
      readonly rotationKeyName: string;
      readonly newKcv: string;
      readonly line: number;
      readonly time: string;
    }
  | { readonly kind: 'destroyed'; readonly line: number; readonly time: string };

/** A record checked as `keyceremony transcript verify` checks it, and its history. */
export interface RecordCheckView {
  readonly fileName: string;
  readonly entries: number;
  /** The head hash (hex), as hex groups to compare by eye and PGP words to read aloud. */
  readonly headHash: string;
  readonly headGroups: readonly string[];
  readonly headWords: readonly string[];
  /** A rehearsal's record: nothing in it is for production use. */
  readonly rehearsal: boolean;
  readonly keyName: string;
  readonly kcv: string;
  readonly ceremonies: readonly RecordCeremonyView[];
  readonly shares: readonly RecordShareView[];
  /** The set of shares in use: any `threshold` of its `shares` rebuild the key; null when none is. */
  readonly currentSet: null | { readonly threshold: number; readonly shares: number; readonly ceremony: number };
  readonly thresholds: null | { readonly signature: number; readonly revocation: number; readonly source: string };
  readonly bundles: readonly RecordBundleView[];
  readonly end: KeyEndView | null;
}

/** A head hash typed from a signed report, compared with the record's own. */
export interface HeadComparisonView {
  readonly matches: boolean;
  /** What was typed, as hex groups. */
  readonly typedGroups: readonly string[];
}

/** A bundle file checked against the record the record check opened (`bundle verify --record`). */
export interface BundleCheckedView {
  readonly fileName: string;
  /** SHA-256 (hex) of the signed payload. */
  readonly payloadHash: string;
  readonly sequence: number;
  readonly targets: readonly string[];
  readonly rehearsal: boolean;
  /** Who must sign, in words. */
  readonly signers: string;
  readonly summary: BundleView['summary'];
  /** Every signature in the file, each checked against the certificate it carries. */
  readonly signatures: readonly {
    readonly name: string;
    readonly fingerprintGroups: readonly string[];
    readonly valid: boolean;
  }[];
  /** For a claim: the admins it installs, and whether each signed (a claim needs all). */
  readonly claimAdmins: readonly { readonly name: string; readonly signed: boolean }[] | null;
  /** The record's bundle-created entry that holds it. */
  readonly recordedAt: { readonly line: number; readonly time: string };
  /** Who the record says signed it. */
  readonly signedInRecord: readonly string[];
}

// ---------------------------------------------------------------------------
// Re-share (issue 11, ceremony 2): the same key, a new set of shares

/** A new custodian of a re-share, as named on its screen. */
export interface ReshareCustodianPlan {
  readonly name: string;
  readonly medium: Medium;
}

/** The new set a re-share issues: the operator (the record's actor), K' and its custodians in share order. */
export interface ResharePlanRequest {
  readonly operator: string;
  readonly threshold: number;
  readonly custodians: readonly ReshareCustodianPlan[];
}

/** The re-share wizard: which record, the current shares brought, the new set, and what it did. */
export interface ReshareView {
  readonly phase: 'idle' | 'shares-in' | 'new-set' | 'done';
  readonly record: null | {
    readonly fileName: string;
    readonly keyName: string;
    readonly kcv: string;
    readonly ceremonyId: string;
    readonly threshold: number;
    readonly shares: number;
    readonly holders: readonly { readonly shareIndex: number; readonly custodian: string }[];
  };
  /** The current shares brought so far (each opened and checked against the record). */
  readonly brought: readonly { readonly shareIndex: number; readonly custodian: string }[];
  readonly newSet: null | {
    readonly operator: string;
    readonly threshold: number;
    readonly custodians: readonly {
      readonly shareIndex: number;
      readonly name: string;
      readonly medium: Medium;
      /** Where the share will go once its custodian chose it; null before. */
      readonly destination: string | null;
    }[];
  };
  readonly done: null | {
    readonly ceremonyId: string;
    readonly kcv: string;
    /** The old set's shares that rebuilt the key. */
    readonly sharesUsed: readonly number[];
    readonly retired: { readonly ceremonyId: string; readonly threshold: number; readonly shares: number };
    readonly issued: readonly {
      readonly shareIndex: number;
      readonly custodian: string;
      readonly label: string;
      /** Where the share is, as the record says it: "card 12345678 slot 82" or the file's name. */
      readonly location: string;
    }[];
    /** The record's current set afterwards. */
    readonly current: { readonly ceremonyId: string; readonly threshold: number; readonly shares: number };
  };
}

// ---------------------------------------------------------------------------
// Ceremonies cut off by a crash (the start screen)

/**
 * The record of a ceremony that was still open when the application stopped
 * (a crash, a power cut), closed when it started again. Its key died with
 * the stopped application.
 */
export interface InterruptedRecordView {
  readonly ceremonyId: string;
  readonly ceremonyName: string;
  readonly keyName: string;
  /** The record's file in the application's profile. */
  readonly path: string;
  /**
   * `completed`: every share had been issued and read back, so the shares
   * are complete and valid. `aborted`: they do not form a usable set.
   */
  readonly outcome: 'completed' | 'aborted';
  /** The folder its record was saved to; null until then. */
  readonly savedTo: string | null;
}

// ---------------------------------------------------------------------------
// Recovery (issue 11, ceremony 1): the key onto new or cleared units

/** What the operator types from the signed paper report of a lost record (`mk recover --new-record`). */
export interface RecoveryPaperReport {
  readonly keyName: string;
  readonly kcv: string;
  readonly verificationPattern: string;
  readonly headHash: string;
}

/** The recovery wizard: the key's record, its units, the claim, the shares in and the bundle. */
export interface RecoveryView {
  readonly step: 'idle' | 'units' | 'admins' | 'shares' | 'signing' | 'done';
  readonly record: null | {
    readonly fileName: string;
    /** The key's record, or the paper report of a lost record (then fileName is the new record's). */
    readonly from: 'record' | 'paper';
    readonly keyName: string;
    readonly kcv: string;
    /** The current set: K of N; from the paper report, null until the first share is given. */
    readonly threshold: number | null;
    readonly shares: number | null;
    /** The paper report's head hash the record was checked against, as hex groups; null when none was typed. */
    readonly paperHeadGroups: readonly string[] | null;
    readonly rehearsal: boolean;
  };
  readonly units: readonly UnitView[];
  readonly unitsMissing: readonly string[];
  /** The admins the bundle installs on the units. */
  readonly admins: readonly {
    readonly name: string;
    readonly fingerprintGroups: readonly string[];
    readonly fileName: string;
  }[];
  readonly thresholds: null | { readonly signatureThreshold: number; readonly revocationThreshold: number };
  /** The shares given so far, each opened and checked against the record. */
  readonly sharesIn: readonly { readonly shareIndex: number; readonly custodian: string }[];
  readonly bundle: null | {
    readonly bundleId: string;
    readonly sequence: number;
    readonly targets: readonly string[];
    readonly payloadHash: string;
    readonly summary: BundleView['summary'];
    readonly signedBy: readonly string[];
    readonly required: number;
    readonly saved: null | { readonly path: string; readonly fileSha256: string };
  };
  /** A rehearsal's units (issue 11), once "Use the rehearsal units": what they display, then what they answered. */
  readonly rehearsalUnits: RehearsalUnitsView | null;
}

// ---------------------------------------------------------------------------
// Rotation (issue 11, ceremony 4): a new master key, its shares, the rotate
// bundle, and the old key retired once the units report the new key current

/** The new key of a rotation: its name, the operator (the new record's actor), K and its custodians. */
export interface RotationPlanRequest {
  readonly keyName: string;
  readonly operator: string;
  readonly threshold: number;
  readonly custodians: readonly ReshareCustodianPlan[];
}

/** The rotation wizard: the current key, the units, the new key and its shares, the bundle, the units' report. */
export interface RotationView {
  readonly step: 'idle' | 'units' | 'new-key' | 'custodians' | 'shares' | 'signing' | 'saved' | 'done';
  /** The key being rotated away. */
  readonly current: null | {
    readonly fileName: string;
    readonly keyName: string;
    readonly kcv: string;
    readonly threshold: number;
    readonly shares: number;
    readonly rehearsal: boolean;
  };
  readonly units: readonly UnitView[];
  readonly unitsMissing: readonly string[];
  /** The units' current admins: they sign the rotate bundle. */
  readonly admins: readonly { readonly name: string; readonly fingerprintGroups: readonly string[] }[];
  readonly plan: null | {
    readonly keyName: string;
    readonly operator: string;
    readonly threshold: number;
    readonly custodians: readonly {
      readonly shareIndex: number;
      readonly name: string;
      readonly medium: Medium;
      /** Where the share will go once its custodian chose it; null before. */
      readonly destination: string | null;
    }[];
  };
  readonly newKey: null | {
    readonly fileName: string;
    readonly keyName: string;
    readonly kcv: string;
    readonly threshold: number;
    readonly issued: readonly { readonly shareIndex: number; readonly custodian: string; readonly label: string }[];
  };
  /** The new shares presented for the bundle so far (each opened and checked against the new record). */
  readonly sharesIn: readonly { readonly shareIndex: number; readonly custodian: string }[];
  readonly bundle: null | {
    readonly bundleId: string;
    readonly sequence: number;
    readonly targets: readonly string[];
    readonly payloadHash: string;
    readonly summary: BundleView['summary'];
    readonly signedBy: readonly string[];
    readonly required: number;
    readonly saved: null | { readonly path: string; readonly fileSha256: string };
  };
  /** A rehearsal's units (issue 11), once "Use the rehearsal units": what they display, then what they answered. */
  readonly rehearsalUnits: RehearsalUnitsView | null;
  /** What the units reported, recorded as key-retired in the old key's record. */
  readonly report: null | {
    readonly statusFile: string;
    readonly entrySeq: number;
    readonly units: readonly {
      readonly instanceId: string;
      readonly unitId: string;
      readonly state: string;
      readonly currentKcv: string | null;
      readonly oldKcv: string | null;
    }[];
  };
}

// ---------------------------------------------------------------------------
// Admin change and zeroize (issue 11, ceremonies 3 and 5): one bundle on the units' current key

export type UnitsBundleOperationView = 'admin-change' | 'zeroize';

/** An admin as the screens show one: name and certificate thumbprint in hex groups. */
export interface NamedAdminView {
  readonly name: string;
  /** The x5t#S256 thumbprint (base64url), as the requests name an admin. */
  readonly thumbprint: string;
  readonly fingerprintGroups: readonly string[];
}

export interface UnitAdminsView {
  readonly admins: readonly NamedAdminView[];
  readonly signatureThreshold: number;
  readonly revocationThreshold: number;
}

/** The admin-change or zeroize wizard: the key's record, its units, the change, the bundle, the units' confirmation. */
export interface UnitsBundleView {
  readonly step: 'idle' | 'units' | 'change' | 'signing' | 'saved' | 'done';
  readonly operation: UnitsBundleOperationView | null;
  readonly record: null | {
    readonly fileName: string;
    readonly keyName: string;
    readonly kcv: string;
    readonly rehearsal: boolean;
    /** The units' admins and thresholds as the record knows them; null when it installed none. */
    readonly admins: UnitAdminsView | null;
  };
  readonly units: readonly UnitView[];
  readonly unitsMissing: readonly string[];
  /** A rehearsal's units (issue 11), once "Use the rehearsal units": what they display, then what they answered. */
  readonly rehearsalUnits: RehearsalUnitsView | null;
  /** The units' admins now (the record's, which the transport files agree with). */
  readonly current: UnitAdminsView | null;
  readonly change: null | {
    readonly add: readonly (NamedAdminView & { readonly fileName: string })[];
    /** Thumbprints of current admins to remove. */
    readonly remove: readonly string[];
  };
  readonly bundle: RecoveryView['bundle'];
  /** Zeroize: the instances whose status file was given. */
  readonly statuses: readonly string[];
  /** Zeroize: what the record now says was destroyed (key-destroyed, at this line). */
  readonly destroyed: null | {
    readonly keyName: string;
    readonly kcv: string;
    readonly instances: readonly { readonly instanceId: string; readonly units: readonly string[] }[];
    readonly line: number;
  };
}

// ---------------------------------------------------------------------------
// The units' report recorded apart from the wizard that built the bundle (issue 11)

/** The key's record, the rotation's record if any, the units' statuses, then what the record now says. */
export interface UnitsReportView {
  readonly step: 'idle' | 'statuses' | 'done';
  readonly record: null | {
    readonly fileName: string;
    readonly keyName: string;
    readonly kcv: string;
    readonly rehearsal: boolean;
  };
  /** The rotation's record (the new key's), when given. */
  readonly newRecord: null | {
    readonly fileName: string;
    readonly keyName: string;
    readonly kcv: string;
    readonly rehearsal: boolean;
  };
  /** The instances whose status file was given. */
  readonly statuses: readonly string[];
  /** What the record now says: key-retired or key-destroyed, at this line. */
  readonly recorded: null | {
    readonly kind: 'retired' | 'destroyed';
    readonly keyName: string;
    readonly kcv: string;
    readonly line: number;
    readonly newKey: null | { readonly keyName: string; readonly kcv: string };
    readonly instances: readonly {
      readonly instanceId: string;
      readonly units: readonly string[];
      readonly neverLoaded: boolean;
    }[];
  };
}

// ---------------------------------------------------------------------------
// Channels

/** Channel names. Use these constants, never string literals. */
export const IpcChannel = {
  appGetInfo: 'app:get-info',
  ceremonyState: 'ceremony:state',
  ceremonyStart: 'ceremony:start',
  ceremonyAbandon: 'ceremony:abandon',
  planSave: 'plan:save',
  planOpen: 'plan:open',
  planPrintScript: 'plan:print-script',
  papersPrintScript: 'papers:print-script',
  papersSavePlan: 'papers:save-plan',
  papersOpenPlan: 'papers:open-plan',
  papersPrintReport: 'papers:print-report',
  recoveryState: 'recovery:state',
  recoveryOpenRecord: 'recovery:open-record',
  recoveryAddTransport: 'recovery:add-transport',
  recoveryUseRehearsalUnits: 'recovery:use-rehearsal-units',
  recoveryLoadRehearsalUnits: 'recovery:load-rehearsal-units',
  recoveryConfirmUnit: 'recovery:confirm-unit',
  recoveryUnitsDone: 'recovery:units-done',
  recoveryAddAdmin: 'recovery:add-admin',
  recoveryRemoveAdmin: 'recovery:remove-admin',
  recoverySetThresholds: 'recovery:set-thresholds',
  recoveryGiveShare: 'recovery:give-share',
  recoveryBuildBundle: 'recovery:build-bundle',
  recoverySign: 'recovery:sign',
  recoverySaveBundle: 'recovery:save-bundle',
  recoveryAbandon: 'recovery:abandon',
  unitsBundleState: 'units-bundle:state',
  unitsBundleOpenRecord: 'units-bundle:open-record',
  unitsBundleAddTransport: 'units-bundle:add-transport',
  unitsBundleUseRehearsalUnits: 'units-bundle:use-rehearsal-units',
  unitsBundleLoadRehearsalUnits: 'units-bundle:load-rehearsal-units',
  unitsBundleConfirmUnit: 'units-bundle:confirm-unit',
  unitsBundleUnitsDone: 'units-bundle:units-done',
  unitsBundleAddAdmin: 'units-bundle:add-admin',
  unitsBundleDropAddedAdmin: 'units-bundle:drop-added-admin',
  unitsBundleSetRemoved: 'units-bundle:set-removed',
  unitsBundleBuildAdminChange: 'units-bundle:build-admin-change',
  unitsBundleBuildZeroize: 'units-bundle:build-zeroize',
  unitsBundleSign: 'units-bundle:sign',
  unitsBundleSaveBundle: 'units-bundle:save-bundle',
  unitsBundleAddStatus: 'units-bundle:add-status',
  unitsBundleRecordDestroyed: 'units-bundle:record-destroyed',
  unitsBundleAbandon: 'units-bundle:abandon',
  unitsReportState: 'units-report:state',
  unitsReportOpenRecord: 'units-report:open-record',
  unitsReportOpenNewRecord: 'units-report:open-new-record',
  unitsReportDropNewRecord: 'units-report:drop-new-record',
  unitsReportAddStatus: 'units-report:add-status',
  unitsReportAddRehearsalStatus: 'units-report:add-rehearsal-status',
  unitsReportRecord: 'units-report:record',
  unitsReportAbandon: 'units-report:abandon',
  recoveryStartFromPaper: 'recovery:start-from-paper',
  recoveryConfirmUnitOnScreen: 'recovery:confirm-unit-on-screen',
  unitsAddTransport: 'units:add-transport',
  unitsConfirm: 'units:confirm',
  unitsRemove: 'units:remove',
  unitsUseRehearsal: 'units:use-rehearsal',
  rehearsalLoadBundle: 'rehearsal:load-bundle',
  cardsList: 'cards:list',
  cardsListForWizard: 'cards:list-for-wizard',
  cardsPrepare: 'cards:prepare',
  cardsUnblock: 'cards:unblock',
  adminsCreateIdentity: 'admins:create-identity',
  adminsUseIdentityFile: 'admins:use-identity-file',
  masterKeyGenerate: 'master-key:generate',
  sharesWrite: 'shares:write',
  sharesVerify: 'shares:verify',
  sharesConfirm: 'shares:confirm',
  bundleBuild: 'bundle:build',
  bundleSign: 'bundle:sign',
  bundleSave: 'bundle:save',
  ceremonyClose: 'ceremony:close',
  recordSave: 'record:save',
  recordPrint: 'record:print',
  recordListInterrupted: 'record:list-interrupted',
  recordSaveInterrupted: 'record:save-interrupted',
  checkOpenRecord: 'check:open-record',
  checkShare: 'check:share',
  recordCheckOpen: 'record-check:open',
  recordCheckCompareHead: 'record-check:compare-head',
  recordCheckOpenBundle: 'record-check:open-bundle',
  recordCheckPrintReport: 'record-check:print-report',
  reshareState: 'reshare:state',
  reshareOpenRecord: 'reshare:open-record',
  reshareBringShare: 'reshare:bring-share',
  resharePlan: 'reshare:plan',
  reshareSetNewShare: 'reshare:set-new-share',
  reshareIssue: 'reshare:issue',
  reshareCancel: 'reshare:cancel',
  rotationState: 'rotation:state',
  rotationOpenRecord: 'rotation:open-record',
  rotationAddTransport: 'rotation:add-transport',
  rotationUseRehearsalUnits: 'rotation:use-rehearsal-units',
  rotationLoadRehearsalUnits: 'rotation:load-rehearsal-units',
  rotationConfirmUnit: 'rotation:confirm-unit',
  rotationUnitsDone: 'rotation:units-done',
  rotationPlan: 'rotation:plan',
  rotationReplan: 'rotation:replan',
  rotationSetNewShare: 'rotation:set-new-share',
  rotationGenerate: 'rotation:generate',
  rotationPresentShare: 'rotation:present-share',
  rotationBuildBundle: 'rotation:build-bundle',
  rotationSign: 'rotation:sign',
  rotationSaveBundle: 'rotation:save-bundle',
  rotationReportUnits: 'rotation:report-units',
  rotationCancel: 'rotation:cancel',
} as const;
export type IpcChannel = (typeof IpcChannel)[keyof typeof IpcChannel];

/**
 * Indexes: `adminIndex` is the admin's position in `setup.admins`, from 0;
 * `shareIndex` is the share's number, from 1 (as in the share files).
 *
 * For each channel: what the renderer sends and what main answers.
 * `request: undefined` means the call takes no argument, and main rejects one
 * that carries any. Calls that need a file or folder open the dialog in main
 * (the renderer never names a path), and fail with `Canceled` if the person
 * closes it.
 */
export interface IpcContract {
  [IpcChannel.appGetInfo]: { request: undefined; result: AppInfo };
  /** The ceremony in progress (an empty one before Set up). */
  [IpcChannel.ceremonyState]: { request: undefined; result: CeremonyView };
  /** Set up: checks the roster and starts the ceremony (naming the plan it was filled from, if any). */
  [IpcChannel.ceremonyStart]: { request: CeremonyStartRequest; result: CeremonyView };
  /** Writes the form's values as a plan (SETUP.json, save dialog), checked first; never overwrites; keeps what the form cannot hold of the plan it came from. */
  [IpcChannel.planSave]: { request: PlanScriptRequest; result: PlanSavedView };
  /** Opens a plan (SETUP.json, open dialog) to fill the Set up form; nothing starts. */
  [IpcChannel.planOpen]: { request: undefined; result: PlanOpenedView };
  /** Prints the ceremony script of the form's values (system print dialog); false if the person canceled. */
  [IpcChannel.planPrintScript]: { request: PlanScriptRequest; result: { printed: boolean } };
  /** A later wizard: prints its ceremony script (system print dialog) before anyone brings a secret; false if canceled. */
  [IpcChannel.papersPrintScript]: { request: PapersScriptRequest; result: { printed: boolean } };
  /** A later wizard: saves its plan (SETUP.json, save dialog) for sign-off; never overwrites. */
  [IpcChannel.papersSavePlan]: { request: PapersScriptRequest; result: PlanFileView };
  /** A later wizard: opens a plan (SETUP.json) of its kind and key for the names; refused for another kind or key. */
  [IpcChannel.papersOpenPlan]: { request: { wizard: LaterWizard }; result: PapersPlanOpenedView };
  /** A later wizard, once done: prints the record's report (`transcript report`), the witnesses named added. */
  [IpcChannel.papersPrintReport]: {
    request: { wizard: LaterWizard; witnesses: readonly string[] };
    result: { printed: boolean };
  };
  /** Abandons the ceremony: wipes any key, records the abort. */
  [IpcChannel.ceremonyAbandon]: { request: undefined; result: CeremonyView };
  /** Opens a transport key file (dialog) and adds its unit, unconfirmed. */
  [IpcChannel.unitsAddTransport]: { request: undefined; result: CeremonyView };
  /** The operator read the fingerprint on the unit's display and it matches. */
  [IpcChannel.unitsConfirm]: { request: { unitId: string }; result: CeremonyView };
  [IpcChannel.unitsRemove]: { request: { unitId: string }; result: CeremonyView };
  /** A rehearsal only (issue 11): creates the rehearsal units and loads their transport files. */
  [IpcChannel.unitsUseRehearsal]: { request: undefined; result: CeremonyView };
  /** A rehearsal only: offers the saved bundle to the rehearsal units; the view shows what they report. */
  [IpcChannel.rehearsalLoadBundle]: { request: undefined; result: CeremonyView };
  /** Readers and what is in them, for live status. Cheap; poll it. */
  [IpcChannel.cardsList]: { request: undefined; result: CardsView };
  /**
   * The readers of a later ceremony's wizard (issue 11): those of its
   * record's mode (a rehearsal's virtual readers, or PC/SC), decided in main
   * from the record the wizard opened.
   */
  [IpcChannel.cardsListForWizard]: { request: { wizard: LaterWizard }; result: CardsView };
  /**
   * Prepares a new card (factory PIN, PUK and management key): new PIN and
   * PUK, and a random management key kept PIN-protected on the card. With
   * `wizard`, a card among that later wizard's readers (its record's mode),
   * recorded by the ceremony that issues a share to it; without, among the
   * initial ceremony's, recorded in its record if one is open.
   */
  [IpcChannel.cardsPrepare]: {
    request: { reader: string; pin: string; newPin: string; newPuk: string; wizard?: LaterWizard };
    result: CardsView;
  };
  /** Unblocks a blocked PIN with the PUK, setting a new PIN; `wizard` as for cardsPrepare. */
  [IpcChannel.cardsUnblock]: {
    request: { reader: string; puk: string; newPin: string; wizard?: LaterWizard };
    result: CardsView;
  };
  /**
   * Creates admin `adminIndex`'s identity: on the card in `reader` (PIN), or
   * in a passphrase-protected file (save dialog).
   */
  /** replaceSlot: the admin typed their name to agree to replace what their card's slot 9C holds (after a CardSlotOccupied). */
  [IpcChannel.adminsCreateIdentity]: {
    request: { adminIndex: number; secret: SecretInput; replaceSlot?: { ownerName: string } };
    result: CeremonyView;
  };
  /**
   * Admin `adminIndex` brings the identity file they already have (open
   * dialog); its passphrase proves they hold it.
   */
  [IpcChannel.adminsUseIdentityFile]: { request: { adminIndex: number; passphrase: string }; result: CeremonyView };
  /** The recovery wizard's state (issue 11, ceremony 1). */
  [IpcChannel.recoveryState]: { request: undefined; result: RecoveryView };
  /** Opens the key's record (dialog); with the paper report's head hash, a record that does not hold it is refused. */
  [IpcChannel.recoveryOpenRecord]: { request: { paperHead: string | null }; result: RecoveryView };
  /** Loads a unit's transport key file (dialog). */
  [IpcChannel.recoveryAddTransport]: { request: undefined; result: RecoveryView };
  /** A rehearsal record only (issue 11): a new rehearsal instance's units, each to confirm. */
  [IpcChannel.recoveryUseRehearsalUnits]: { request: undefined; result: RecoveryView };
  /** A rehearsal only, once the bundle is saved: it is loaded into the rehearsal units, each unit's answer shown. */
  [IpcChannel.recoveryLoadRehearsalUnits]: { request: undefined; result: RecoveryView };
  /** The operator confirms the unit's fingerprint against its display: recorded as unit-confirmed. */
  [IpcChannel.recoveryConfirmUnit]: { request: { unitId: string }; result: RecoveryView };
  /** Every unit loaded and confirmed: on to the admins. */
  [IpcChannel.recoveryUnitsDone]: { request: undefined; result: RecoveryView };
  /** Adds an admin of the new units from a certificate or identity file (dialog). */
  [IpcChannel.recoveryAddAdmin]: { request: undefined; result: RecoveryView };
  [IpcChannel.recoveryRemoveAdmin]: { request: { adminIndex: number }; result: RecoveryView };
  /** The claim's thresholds; a lock-out is refused here, before any share is read. */
  [IpcChannel.recoverySetThresholds]: {
    request: { signatureThreshold: number; revocationThreshold: number };
    result: RecoveryView;
  };
  /** A custodian gives their share: a file (dialog) and its passphrase, or a card (reader) and its PIN; opened and checked now. */
  [IpcChannel.recoveryGiveShare]: { request: { secret: SecretInput }; result: RecoveryView };
  /** With K shares: the recovery ceremony of `mk recover --record`, the bundle built and recorded, the key wiped. */
  [IpcChannel.recoveryBuildBundle]: { request: undefined; result: RecoveryView };
  /** An admin signs with their identity file (dialog) and its passphrase, as `bundle sign --record` does. */
  /** An admin of the claim signs with their identity file (dialog) and passphrase, or their card (slot 9C) and PIN. */
  [IpcChannel.recoverySign]: { request: { secret: SecretInput }; result: RecoveryView };
  /** Saves the signed bundle into a folder (dialog). */
  [IpcChannel.recoverySaveBundle]: { request: undefined; result: RecoveryView };
  /** Back to the start screen; any share held is zeroed. */
  [IpcChannel.recoveryAbandon]: { request: undefined; result: RecoveryView };
  /** The admin-change or zeroize wizard's state (issue 11, ceremonies 3 and 5). */
  [IpcChannel.unitsBundleState]: { request: undefined; result: UnitsBundleView };
  /** Opens the key's record (dialog) for an admin change or a zeroize; a key already ended is refused. */
  [IpcChannel.unitsBundleOpenRecord]: { request: { operation: UnitsBundleOperationView }; result: UnitsBundleView };
  /** Loads a unit's transport key file (dialog). */
  [IpcChannel.unitsBundleAddTransport]: { request: undefined; result: UnitsBundleView };
  /** A rehearsal record only (issue 11): the rehearsal units its key lives on, each to confirm. */
  [IpcChannel.unitsBundleUseRehearsalUnits]: { request: undefined; result: UnitsBundleView };
  /** A rehearsal only, once the bundle is saved: loaded into the rehearsal units; a zeroize then records key-destroyed. */
  [IpcChannel.unitsBundleLoadRehearsalUnits]: { request: undefined; result: UnitsBundleView };
  /** The operator confirms the unit's fingerprint against its display: recorded as unit-confirmed. */
  [IpcChannel.unitsBundleConfirmUnit]: { request: { unitId: string }; result: UnitsBundleView };
  /** Every unit loaded and confirmed, of the record's mode, holding its key, with the admins the record says. */
  [IpcChannel.unitsBundleUnitsDone]: { request: undefined; result: UnitsBundleView };
  /** Admin change: an admin to add, from a certificate or identity file (dialog). */
  [IpcChannel.unitsBundleAddAdmin]: { request: undefined; result: UnitsBundleView };
  [IpcChannel.unitsBundleDropAddedAdmin]: { request: { index: number }; result: UnitsBundleView };
  /** Admin change: a current admin (by thumbprint) to remove, or to keep again. */
  [IpcChannel.unitsBundleSetRemoved]: { request: { thumbprint: string; removed: boolean }; result: UnitsBundleView };
  /** Admin change: the new thresholds; a lock-out is refused before anything is written; the bundle is built. */
  [IpcChannel.unitsBundleBuildAdminChange]: {
    request: { signatureThreshold: number; revocationThreshold: number };
    result: UnitsBundleView;
  };
  /** Zeroize: the key's name typed as the irreversible action's confirmation; the bundle is built. */
  [IpcChannel.unitsBundleBuildZeroize]: { request: { keyName: string }; result: UnitsBundleView };
  /** A current admin signs with their identity file (dialog) and passphrase, or their card and PIN. */
  [IpcChannel.unitsBundleSign]: { request: { secret: SecretInput }; result: UnitsBundleView };
  /** Saves the signed bundle into a folder (dialog). */
  [IpcChannel.unitsBundleSaveBundle]: { request: undefined; result: UnitsBundleView };
  /** Zeroize: a units' status file (status --json, dialog), after they ingested the bundle. */
  [IpcChannel.unitsBundleAddStatus]: { request: undefined; result: UnitsBundleView };
  /** Zeroize: the statuses checked against the record and key-destroyed recorded (units report). */
  [IpcChannel.unitsBundleRecordDestroyed]: { request: undefined; result: UnitsBundleView };
  /** Back to the start screen. */
  [IpcChannel.unitsBundleAbandon]: { request: undefined; result: UnitsBundleView };
  /** The units' report (after a rotation or a zeroize ingested elsewhere): its state. */
  [IpcChannel.unitsReportState]: { request: undefined; result: UnitsReportView };
  /** Opens the key's record (dialog); a key already ended is refused. */
  [IpcChannel.unitsReportOpenRecord]: { request: undefined; result: UnitsReportView };
  /** After a rotation: the new key's record (dialog). */
  [IpcChannel.unitsReportOpenNewRecord]: { request: undefined; result: UnitsReportView };
  /** Takes back the rotation's record. */
  [IpcChannel.unitsReportDropNewRecord]: { request: undefined; result: UnitsReportView };
  /** A units' status file (status --json, dialog), one per instance. */
  [IpcChannel.unitsReportAddStatus]: { request: undefined; result: UnitsReportView };
  /** A rehearsal record only (issue 11): the status of the rehearsal units its key lives on, read from them. */
  [IpcChannel.unitsReportAddRehearsalStatus]: { request: undefined; result: UnitsReportView };
  /** The statuses checked against the record(s); key-retired or key-destroyed recorded (units report). */
  [IpcChannel.unitsReportRecord]: { request: undefined; result: UnitsReportView };
  /** Back to the start screen. */
  [IpcChannel.unitsReportAbandon]: { request: undefined; result: UnitsReportView };
  /** The record is lost: the paper report's values, typed in, and where the new record goes (save dialog). */
  [IpcChannel.recoveryStartFromPaper]: { request: RecoveryPaperReport; result: RecoveryView };
  /** From the paper report: the operator confirms a unit's fingerprint against its display (the new record holds it). */
  [IpcChannel.recoveryConfirmUnitOnScreen]: { request: { unitId: string }; result: RecoveryView };
  /** Generates the master key and splits it; the KCV is in the view. */
  [IpcChannel.masterKeyGenerate]: { request: undefined; result: CeremonyView };
  /** Writes share `shareIndex` (1-based) to a card (PIN) or a file (save dialog, new passphrase). */
  [IpcChannel.sharesWrite]: { request: { shareIndex: number; secret: SecretInput }; result: CeremonyView };
  /** Reads share `shareIndex` back with the custodian's PIN or passphrase and compares it. */
  [IpcChannel.sharesVerify]: { request: { shareIndex: number; secret: SecretInput }; result: CeremonyView };
  /** The custodian confirms they hold verified share `shareIndex`. */
  [IpcChannel.sharesConfirm]: { request: { shareIndex: number }; result: CeremonyView };
  /** Builds the unsigned import bundle for the confirmed units. */
  [IpcChannel.bundleBuild]: { request: undefined; result: CeremonyView };
  /** Admin `adminIndex` signs the bundle with their card (PIN) or identity file (passphrase). */
  [IpcChannel.bundleSign]: { request: { adminIndex: number; secret: SecretInput }; result: CeremonyView };
  /** Saves the signed bundle into a folder (dialog), never overwriting. */
  [IpcChannel.bundleSave]: { request: undefined; result: CeremonyView };
  /** Wipes the master key and shares from memory and closes the record. */
  [IpcChannel.ceremonyClose]: { request: undefined; result: CeremonyView };
  /** Saves the record (JSON Lines), its printable HTML and PDF into a folder (dialog). */
  [IpcChannel.recordSave]: { request: undefined; result: CeremonyView };
  /** Prints the report (with its signature lines) through the system print dialog; false if the person canceled. */
  [IpcChannel.recordPrint]: { request: undefined; result: { printed: boolean } };
  /** The records of ceremonies cut off by a crash and closed when the application started. */
  [IpcChannel.recordListInterrupted]: { request: undefined; result: readonly InterruptedRecordView[] };
  /** Saves one of them (JSON Lines, HTML and PDF) into a folder (dialog), like record:save; answers the updated list. */
  [IpcChannel.recordSaveInterrupted]: { request: { ceremonyId: string }; result: readonly InterruptedRecordView[] };
  /** Opens a ceremony record (dialog) for checking a share. */
  [IpcChannel.checkOpenRecord]: { request: undefined; result: RecordView };
  /** Checks one share (file: dialog + passphrase; card: reader + PIN) against the open record. */
  [IpcChannel.checkShare]: { request: { secret: SecretInput }; result: ShareCheckView };
  /** Opens a ceremony record (dialog) and checks it as `transcript verify` does: chain, every ceremony closed. */
  [IpcChannel.recordCheckOpen]: { request: undefined; result: RecordCheckView };
  /** Compares a head hash typed from the signed report with the checked record's head. */
  [IpcChannel.recordCheckCompareHead]: { request: { head: string }; result: HeadComparisonView };
  /** Opens a bundle file (dialog) and checks it against the opened record. */
  [IpcChannel.recordCheckOpenBundle]: { request: undefined; result: BundleCheckedView };
  /** Prints the opened record's report (system print dialog). */
  [IpcChannel.recordCheckPrintReport]: { request: undefined; result: { printed: boolean } };
  /** The re-share in progress (idle before a record is opened). */
  [IpcChannel.reshareState]: { request: undefined; result: ReshareView };
  /** Opens the key's ceremony record (dialog) for a re-share; drops any re-share in progress. */
  [IpcChannel.reshareOpenRecord]: { request: undefined; result: ReshareView };
  /** A custodian of the current set brings their share (file: dialog + passphrase; card: reader + PIN). */
  [IpcChannel.reshareBringShare]: { request: { secret: SecretInput }; result: ReshareView };
  /** Names the new set (K' of its custodians, each with a medium) and the operator, once K shares are in. */
  [IpcChannel.resharePlan]: { request: ResharePlanRequest; result: ReshareView };
  /** New share `shareIndex` (1-based): its file (save dialog, new passphrase) or its card (reader + PIN). */
  [IpcChannel.reshareSetNewShare]: { request: { shareIndex: number; secret: SecretInput }; result: ReshareView };
  /** Runs the re-share as `mk reshare` does: new set issued and read back, the old set retired. */
  [IpcChannel.reshareIssue]: { request: undefined; result: ReshareView };
  /** Drops the re-share in progress; nothing is written. */
  [IpcChannel.reshareCancel]: { request: undefined; result: ReshareView };
  /** The rotation in progress (idle before the current key's record is opened). */
  [IpcChannel.rotationState]: { request: undefined; result: RotationView };
  /** Opens the current key's record (dialog); drops any rotation in progress. */
  [IpcChannel.rotationOpenRecord]: { request: undefined; result: RotationView };
  /** Opens a unit's transport file (dialog); it waits for the confirmation against the display. */
  [IpcChannel.rotationAddTransport]: { request: undefined; result: RotationView };
  /** A rehearsal record only (issue 11): the rehearsal units its key lives on, each to confirm. */
  [IpcChannel.rotationUseRehearsalUnits]: { request: undefined; result: RotationView };
  /** A rehearsal only, once the bundle is saved: loaded into the rehearsal units, then key-retired from their status. */
  [IpcChannel.rotationLoadRehearsalUnits]: { request: undefined; result: RotationView };
  [IpcChannel.rotationConfirmUnit]: { request: { unitId: string }; result: RotationView };
  /** Every unit loaded and confirmed: on to the new key. */
  [IpcChannel.rotationUnitsDone]: { request: undefined; result: RotationView };
  /** Names the new key, the operator, K and the new custodians (checked against the units' limits, one share per person). */
  [IpcChannel.rotationPlan]: { request: RotationPlanRequest; result: RotationView };
  /** Back to the new key's plan; the custodians' choices are dropped. */
  [IpcChannel.rotationReplan]: { request: undefined; result: RotationView };
  /** New share `shareIndex` (1-based): its file (save dialog, new passphrase) or its card (reader + PIN). */
  [IpcChannel.rotationSetNewShare]: { request: { shareIndex: number; secret: SecretInput }; result: RotationView };
  /** `mk generate`: the new key's record (save dialog), the key and its shares written and read back. */
  [IpcChannel.rotationGenerate]: { request: undefined; result: RotationView };
  /** A new custodian presents their new share for the bundle (file: dialog + passphrase; card: reader + PIN). */
  [IpcChannel.rotationPresentShare]: { request: { secret: SecretInput }; result: RotationView };
  /** `bundle create --operation rotate --current-record`, from the presented shares. */
  [IpcChannel.rotationBuildBundle]: { request: undefined; result: RotationView };
  /** A current admin of the units signs (identity file: dialog + passphrase; card: reader + PIN). */
  [IpcChannel.rotationSign]: { request: { secret: SecretInput }; result: RotationView };
  /** Saves the signed bundle into a folder (dialog). */
  [IpcChannel.rotationSaveBundle]: { request: undefined; result: RotationView };
  /** The units' status file (dialog): `units report --new-record` writes key-retired into the old record. */
  [IpcChannel.rotationReportUnits]: { request: undefined; result: RotationView };
  /** Drops the rotation in progress; held secrets are zeroed. */
  [IpcChannel.rotationCancel]: { request: undefined; result: RotationView };
}

export type IpcRequest<C extends IpcChannel> = IpcContract[C]['request'];
export type IpcResponse<C extends IpcChannel> = IpcResult<IpcContract[C]['result']>;

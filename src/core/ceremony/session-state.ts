import type { ParsedBundle } from '../bundle/bundle.js';
import type { TransportKey } from '../bundle/transport.js';
import { missingCase } from '../errors.js';
import type { KeyshareHeader } from '../shares/envelope.js';
import type { AdminState, OccupiedSlot } from './admin-identity.js';
import type { CeremonySetup, RosterMode, RosterParticipant } from './roster.js';
import { fail, type HeldOn, type RehearsalUnitsSnapshot } from './session-ports.js';
import type { SavedFile } from './session-view.js';
import type { SetupUnit } from './setup-file.js';
import type { TranscriptData } from './transcript.js';

// The initial ceremony's state in the app (initial-session.ts): one phase at a time,
// each holding only what it needs; the master key and its shares only in the
// phases from its generation to Close.

export type { AdminState, OccupiedSlot } from './admin-identity.js';

export interface UnitState {
  transport: TransportKey;
  fileName: string;
  confirmed: boolean;
}

/**
 * A custodian's share: not written yet, or written (where, with its
 * header), then read back (the share-issued entry), then confirmed by its
 * custodian. Written again until it is read back.
 */
export type ShareState = { readonly status: 'not-written' } | WrittenShare;

export interface WrittenShare {
  readonly status: 'written' | 'read-back' | 'confirmed';
  readonly header: KeyshareHeader;
  readonly location: string;
  readonly heldOn: HeldOn;
}

/** The bundle as built, gathering signatures. */
export interface BundleState {
  bundle: ParsedBundle;
  /** The bundle's file in the work folder, where it is built and signed. */
  readonly path: string;
  readonly required: number;
}

export interface SavedBundle extends BundleState {
  readonly saved: SavedFile;
}

/** A ceremony once Set up is done: its checked set-up, its id and its live record. */
export interface OpenCeremony {
  readonly setup: CeremonySetup;
  readonly id: string;
  readonly recordPath: string;
  /** Fixed at Start (issue 11): a rehearsal uses virtual cards and rehearsal units, and marks everything it writes. */
  readonly mode: RosterMode;
  /** A rehearsal's emulator instance (its folder in the work folder), once created. */
  rehearsalUnits: (RehearsalUnitsSnapshot & { readonly dir: string }) | null;
  /**
   * The units the plan (SETUP.json) this ceremony was started from names,
   * which the transport files loaded must match (setup-plan.ts
   * checkTransportOfPlan); empty without a plan, and in a rehearsal (its
   * units are rehearsal units, never the production units a plan names).
   */
  readonly plannedUnits: readonly SetupUnit[];
}

/**
 * Key material: the master key and its N shares. Never logged. It exists
 * only in the phases that hold it (shares, bundle, close); enter() zeroes it
 * on every transition that leaves them.
 */
export interface KeyMaterial {
  readonly key: Buffer;
  readonly shares: readonly Buffer[];
}

export interface UnitsPhase {
  readonly phase: 'units';
  readonly ceremony: OpenCeremony;
  units: UnitState[];
}

export interface AdminsPhase {
  readonly phase: 'admins';
  readonly ceremony: OpenCeremony;
  /** Every unit confirmed, none of the instance missing. */
  readonly units: readonly UnitState[];
  /** By the admin's index in the set-up; null until their identity exists. */
  readonly admins: Array<AdminState | null>;
  /** The owner is shown what their card's slot 9C holds and agrees by typing their name. */
  occupiedSlot?: OccupiedSlot;
}

export interface MasterKeyPhase {
  readonly phase: 'master-key';
  readonly ceremony: OpenCeremony;
  readonly units: readonly UnitState[];
  readonly admins: readonly AdminState[];
}

/** The phases that hold the master key and its shares: from its generation to Close. */
export interface KeyHeld {
  readonly ceremony: OpenCeremony;
  readonly units: readonly UnitState[];
  readonly admins: readonly AdminState[];
  readonly kcv: string;
  readonly secrets: KeyMaterial;
  /** By share index - 1; each written, read back and confirmed in turn. */
  readonly shares: ShareState[];
}

export interface SharesPhase extends KeyHeld {
  readonly phase: 'shares';
}

export interface BundlePhase extends KeyHeld {
  readonly phase: 'bundle';
  /** Null until built. */
  bundle: BundleState | null;
}

/** The bundle is signed and saved: the key waits for Close to wipe it. */
export interface ClosePhase extends KeyHeld {
  readonly phase: 'close';
  readonly bundle: SavedBundle;
}

/** What is left of a ceremony once its key is gone: what it showed, no secret. */
export interface Remains {
  readonly units: readonly UnitState[];
  readonly admins: ReadonlyArray<AdminState | null>;
  readonly kcv: string | null;
  readonly shares: readonly ShareState[];
  readonly bundle: (BundleState & { readonly saved: SavedFile | null }) | null;
}

/** Close wiped the key; the record's closing is still to write (again, if writing it failed). */
export interface ClosingPhase {
  readonly phase: 'closing';
  readonly ceremony: OpenCeremony;
  readonly remains: Remains;
  readonly details: TranscriptData;
}

export interface ClosedPhase {
  readonly phase: 'closed';
  readonly ceremony: OpenCeremony;
  readonly remains: Remains;
  recordSavedTo: string | null;
}

export type SessionState =
  | { readonly phase: 'setup' }
  | UnitsPhase
  | AdminsPhase
  | MasterKeyPhase
  | SharesPhase
  | BundlePhase
  | ClosePhase
  | ClosingPhase
  | ClosedPhase;

export type SessionPhase = SessionState['phase'];
/** The wizard's steps, in order; every phase is at one of them (closing and closed at the last). */
export type SessionStep = Exclude<SessionPhase, 'closing' | 'closed'>;
export type InProgress = Exclude<SessionState, { phase: 'setup' } | ClosedPhase>;
export type PhaseOf<P extends SessionPhase> = Extract<SessionState, { phase: P }>;

export function stepOf(phase: SessionPhase): SessionStep {
  return phase === 'closing' || phase === 'closed' ? 'close' : phase;
}

export function keyMaterialOf(s: SessionState): KeyMaterial | null {
  return 'secrets' in s ? s.secrets : null;
}

export function isInProgress(s: SessionState): s is InProgress {
  return s.phase !== 'setup' && s.phase !== 'closed';
}

/** The part of a phase that outlives its secrets. */
export function remainsOf(s: Exclude<SessionState, { phase: 'setup' }>): Remains {
  switch (s.phase) {
    case 'units':
      return { units: s.units, admins: s.ceremony.setup.admins.map(() => null), kcv: null, shares: [], bundle: null };
    case 'admins':
    case 'master-key':
      return { units: s.units, admins: s.admins, kcv: null, shares: [], bundle: null };
    case 'shares':
      return { units: s.units, admins: s.admins, kcv: s.kcv, shares: s.shares, bundle: null };
    case 'bundle':
      return {
        units: s.units,
        admins: s.admins,
        kcv: s.kcv,
        shares: s.shares,
        bundle: s.bundle && { ...s.bundle, saved: null },
      };
    case 'close':
      return { units: s.units, admins: s.admins, kcv: s.kcv, shares: s.shares, bundle: s.bundle };
    case 'closing':
    case 'closed':
      return s.remains;
    default:
      return missingCase(s);
  }
}

/** Units of the loaded instance whose transport files are not loaded yet: a bundle goes to all of them. */
/** A transport file joins the units loaded so far: of the same service instance, and not loaded twice. */
export function checkJoinsUnits(
  units: readonly Pick<UnitState, 'transport'>[],
  transport: TransportKey,
  fileName: string,
): void {
  const other = units[0];
  if (other && other.transport.file.instanceId !== transport.file.instanceId)
    fail(
      'InvalidArgument',
      `${fileName} belongs to another service instance (${transport.file.instanceId}) than the units already loaded (${other.transport.file.instanceId}).`,
    );
  if (units.some((u) => u.transport.file.unitId === transport.file.unitId))
    fail('InvalidArgument', `Unit ${transport.file.unitId} is already loaded.`);
}

export function missingUnits(units: readonly Pick<UnitState, 'transport'>[]): string[] {
  const first = units[0];
  if (!first) return [];
  return first.transport.file.units.filter((id) => !units.some((u) => u.transport.file.unitId === id));
}

/** The rehearsal units as the snapshot shows them (without their folder). */
export function rehearsalUnitsOf(ceremony: OpenCeremony): RehearsalUnitsSnapshot | null {
  const u = ceremony.rehearsalUnits;
  return u === null ? null : { instanceId: u.instanceId, displays: u.displays, loaded: u.loaded };
}

export function unitOf(st: UnitsPhase, unitId: string): UnitState {
  const u = st.units.find((x) => x.transport.file.unitId === unitId);
  if (!u) fail('InvalidArgument', `No unit ${unitId} is loaded.`);
  return u;
}

export function shareAt(
  st: SharesPhase,
  shareIndex: number,
): { custodian: RosterParticipant; state: ShareState; share: Buffer } {
  const custodian = st.ceremony.setup.custodians[shareIndex - 1];
  const state = st.shares[shareIndex - 1];
  const share = st.secrets.shares[shareIndex - 1];
  if (!custodian || !state || !share) fail('InvalidArgument', `There is no share ${shareIndex}.`);
  return { custodian, state, share };
}

/** The name of the admin of this ceremony whose certificate has `thumbprint`. */
export function adminNameOf(setup: CeremonySetup, admins: Remains['admins'], thumbprint: string): string {
  const i = admins.findIndex((a) => a?.certificate.thumbprint === thumbprint);
  return i >= 0 ? setup.admins[i]!.name : 'unknown signer';
}

import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CeremonyError } from '../core/errors.js';
import { replaceFileAtomic, writeFileExclusive } from '../core/files.js';
import type { UnitLimits } from '../core/bundle/transport.js';
import { parseInstanceState } from './schema.js';

// Persistent state of one emulated service instance (DESIGN.md, "The
// crypto-unit emulator"). The file is replaced atomically on every change,
// so a crash leaves either the old or the new state, never a mix.
//
// Deliberately absent: the master key itself. A unit keeps the KCV and the
// verification pattern of its registers, which is all the emulator needs
// to compare units, so a rehearsal never leaves a master key on disk. The
// transport private keys are here: they are the units' own secrets.

export const UNIT_STATES = ['cleared', 'claimed', 'mk-loaded', 'mk-committed', 'kms-initialized'] as const;
export type UnitStateName = (typeof UNIT_STATES)[number];

export const STATE_FORMAT = 'keyceremony-emulator/2';

/**
 * One master-key register (new, current or old, as on IBM's units). The
 * key itself is kept only sealed under the unit's own sealing key (see
 * keystore.ts): the stand-in for an HSM's internal storage.
 */
export interface MasterKeyRegister {
  kcv: string;
  verificationPattern: string;
  keyName: string;
  ceremonyId: string;
  /** The record entry hash of the bundle that loaded it. */
  transcriptHash: string;
  /** The key, AES-256-GCM under the unit's sealing key (base64url iv|ciphertext|tag). */
  sealed: string;
  /** new register only: loaded, or loaded and committed. */
  committed: boolean;
}

export interface InstalledAdmin {
  name: string;
  thumbprint: string;
  /** base64 DER certificate */
  certificate: string;
}

/** One line of a unit's audit log: every bundle offered, accepted or not. Hash-chained. */
export interface AuditEntry {
  seq: number;
  time: string;
  bundleId: string | null;
  operation: string | null;
  payloadHash: string | null;
  /** Thumbprints of the signatures the bundle carried (valid or not). */
  signers: string[];
  result: 'applied' | 'already-applied' | 'rejected' | 'local';
  /** Error code for a refusal, or the local action. */
  code: string | null;
  reason: string;
  prev: string;
  hash: string;
}

export interface AppliedBundle {
  bundleId: string;
  payloadHash: string;
  sequence: number;
  operation: string;
  transcriptHash: string;
  /** Thumbprints of the admins whose valid signatures it was applied with. */
  signers: string[];
}

export interface UnitState {
  id: string;
  state: UnitStateName;
  maintenance: boolean;
  transport: { publicKey: string; privateKey: string; fingerprint: string };
  /** The unit's own secret that seals its master-key registers (base64url, 32 bytes). */
  sealingKey: string;
  admins: InstalledAdmin[];
  /** 0 while cleared. */
  signatureThreshold: number;
  /** 0 while cleared. */
  revocationThreshold: number;
  newMasterKey: MasterKeyRegister | null;
  currentMasterKey: MasterKeyRegister | null;
  oldMasterKey: MasterKeyRegister | null;
  users: Array<'kmsCryptoUser'>;
  lastSequence: number;
  appliedBundles: AppliedBundle[];
  audit: AuditEntry[];
}

/** A KMS root key: its 32 bytes sealed under the instance's master key (kms.ts). */
export interface RootKeyRecord {
  name: string;
  created: string;
  /** base64url AES-256-GCM iv|ciphertext|tag under the master key, AAD = name. */
  sealed: string;
}

export interface KeystoreState {
  /** Verification pattern of the master key the root keys are sealed under. */
  masterKeyVerificationPattern: string;
  rootKeys: RootKeyRecord[];
}

export interface InstanceState {
  format: typeof STATE_FORMAT;
  instanceId: string;
  created: string;
  /**
   * Made for a rehearsal (issue 11): its units accept only rehearsal
   * bundles; a production instance's units only production bundles. Set at
   * init, never changed.
   */
  rehearsal: boolean;
  limits: UnitLimits;
  units: UnitState[];
  /** The KMS keystore of a kms-initialized instance; null before, and after zeroize. */
  keystore: KeystoreState | null;
}

const STATE_FILE = 'instance.json';
const LOCK_FILE = 'instance.lock';

export function statePath(dir: string): string {
  return join(dir, STATE_FILE);
}

export function loadInstance(dir: string): InstanceState {
  let text: string;
  try {
    text = readFileSync(statePath(dir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CeremonyError(
        'EmulatorState',
        `No emulated instance in ${dir}; run "crypto-unit-emulator init --state ${dir} --units 2" first.`,
      );
    }
    if ((e as NodeJS.ErrnoException).code === 'EACCES' || (e as NodeJS.ErrnoException).code === 'EISDIR') {
      throw new CeremonyError(
        'EmulatorState',
        `${statePath(dir)} cannot be read (${(e as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : 'it is a directory'}); check the --state directory.`,
      );
    }
    throw e;
  }
  // Every field checked against the schema (schema.ts): a damaged or edited
  // file is refused here, naming the field, not later as a TypeError.
  return parseInstanceState(text, statePath(dir));
}

export function createInstanceFile(dir: string, s: InstanceState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileExclusive(statePath(dir), JSON.stringify(s, null, 2) + '\n', 0o600);
}

export function saveInstance(dir: string, s: InstanceState): void {
  replaceFileAtomic(statePath(dir), JSON.stringify(s, null, 2) + '\n', 0o600);
}

/**
 * Serialises writers: two ingests at once must not both read the old state.
 * The lock file holds the process id of its holder. A command killed while
 * it held the lock (issue 10, "Killed at any moment") leaves the file
 * behind; the state itself is always whole (saveInstance replaces it
 * atomically), so a lock whose holder is no longer running is taken over
 * instead of blocking the instance until someone deletes it.
 */
export function withInstanceLock<T>(dir: string, fn: () => T): T {
  const lock = join(dir, LOCK_FILE);
  const fd = takeLock(dir, lock, true);
  try {
    return fn();
  } finally {
    closeSync(fd);
    unlinkSync(lock);
  }
}

function takeLock(dir: string, lock: string, mayTakeOver: boolean): number {
  let fd: number;
  try {
    fd = openSync(lock, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    if (mayTakeOver && lockHolderIsGone(lock)) {
      try {
        unlinkSync(lock);
      } catch (u) {
        if ((u as NodeJS.ErrnoException).code !== 'ENOENT') throw u;
      }
      return takeLock(dir, lock, false);
    }
    throw new CeremonyError(
      'EmulatorState',
      `The instance in ${dir} is busy (another command holds ${lock}). If no other command runs, delete that file.`,
    );
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } catch {
    /* an empty lock file still locks; it is only never taken over */
  }
  return fd;
}

/** True when the lock file names a process that no longer runs (this is one machine, the units' own). */
function lockHolderIsGone(lock: string): boolean {
  let pid: number;
  try {
    const text = readFileSync(lock, 'utf8');
    if (!/^[1-9][0-9]{0,9}\n$/.test(text)) return false;
    pid = Number(text.trim());
  } catch {
    return false;
  }
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** A unit by its id or a unique prefix of it. */
export function findUnit(s: InstanceState, unitId: string): UnitState {
  const matches = s.units.filter((u) => u.id === unitId || (unitId.length >= 4 && u.id.startsWith(unitId)));
  if (matches.length !== 1) {
    throw new CeremonyError(
      'InvalidArgument',
      `No single unit ${unitId} in this instance (units: ${s.units.map((u) => u.id).join(', ')}).`,
    );
  }
  return matches[0]!;
}

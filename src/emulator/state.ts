import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CeremonyError } from '../core/errors.js';
import { replaceFileAtomic, writeFileExclusive } from '../core/files.js';

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

export interface MasterKeyRegister {
  kcv: string;
  verificationPattern: string;
  keyName: string;
  ceremonyId: string;
}

export interface InstalledAdmin {
  name: string;
  thumbprint: string;
  /** base64 DER certificate */
  certificate: string;
}

export interface UnitState {
  id: string;
  state: UnitStateName;
  maintenance: boolean;
  transport: { publicKey: string; privateKey: string; fingerprint: string };
  admins: InstalledAdmin[];
  signatureThreshold: number;
  newMasterKey: MasterKeyRegister | null;
  currentMasterKey: MasterKeyRegister | null;
  users: string[];
  lastSequence: number;
  appliedBundles: string[];
}

export interface InstanceState {
  format: 'keyceremony-emulator/1';
  instanceId: string;
  created: string;
  units: UnitState[];
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
      throw new CeremonyError('EmulatorState', `No emulated instance in ${dir}; run "crypto-unit-emulator init --state ${dir} --units 2" first.`);
    }
    throw e;
  }
  const s = JSON.parse(text) as InstanceState;
  if (s.format !== 'keyceremony-emulator/1' || !Array.isArray(s.units)) {
    throw new CeremonyError('EmulatorState', `${statePath(dir)} is not an emulator state file.`);
  }
  return s;
}

export function createInstanceFile(dir: string, s: InstanceState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileExclusive(statePath(dir), JSON.stringify(s, null, 2) + '\n', 0o600);
}

export function saveInstance(dir: string, s: InstanceState): void {
  replaceFileAtomic(statePath(dir), JSON.stringify(s, null, 2) + '\n', 0o600);
}

/** Serialises writers: two ingests at once must not both read the old state. */
export function withInstanceLock<T>(dir: string, fn: () => T): T {
  const lock = join(dir, LOCK_FILE);
  let fd: number;
  try {
    fd = openSync(lock, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CeremonyError('EmulatorState', `The instance in ${dir} is busy (another command holds ${lock}). If no other command runs, delete that file.`);
    }
    throw e;
  }
  try {
    return fn();
  } finally {
    closeSync(fd);
    unlinkSync(lock);
  }
}

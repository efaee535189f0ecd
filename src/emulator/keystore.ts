import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { b64url, fromB64url } from '../core/encoding.js';
import { CeremonyError } from '../core/errors.js';
import { zeroize } from '../core/secrets.js';
import type { MasterKeyRegister, UnitState } from './state.js';

// A unit's sealed storage (DESIGN.md, "The crypto-unit emulator"). A real
// HSM keeps its master-key registers inside its tamper-protected boundary;
// the emulator keeps each register's key sealed with AES-256-GCM under the
// unit's own sealing key, so the state file never holds a master key in the
// clear. The sealing key sits beside the transport private key: both are
// the unit's own secrets. The same sealing serves the KMS root keys under
// the master key (kms.ts).

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM: base64url(iv | ciphertext | tag), the AAD binding what it is. */
export function sealBytes(key: Uint8Array, plaintext: Uint8Array, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return b64url(Buffer.concat([iv, ct, c.getAuthTag()]));
}

/** Opens what sealBytes sealed; the plaintext is a secret the caller zeroes. */
export function unsealBytes(key: Uint8Array, sealed: string, aad: string, what: string): Buffer {
  const bytes = fromB64url(sealed, what, 'EmulatorState');
  if (bytes.length < IV_BYTES + TAG_BYTES) throw new CeremonyError('EmulatorState', `${what} is damaged.`);
  const d = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  const plain = d.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES));
  try {
    d.final();
  } catch {
    zeroize(plain);
    throw new CeremonyError('EmulatorState', `${what} does not open: the state file was altered.`);
  }
  return plain;
}

export function newSealingKey(): string {
  return b64url(randomBytes(32));
}

function withSealingKey<T>(unit: UnitState, fn: (key: Buffer) => T): T {
  const key = fromB64url(unit.sealingKey, `The sealing key of unit ${unit.id}`, 'EmulatorState');
  try {
    return fn(key);
  } finally {
    zeroize(key);
  }
}

const registerAad = (unit: UnitState, verificationPattern: string): string =>
  `keyceremony-emulator master key|${unit.id}|${verificationPattern}`;

/** Seals a master key for one of the unit's registers. */
export function sealMasterKey(unit: UnitState, masterKey: Uint8Array, verificationPattern: string): string {
  return withSealingKey(unit, (k) => sealBytes(k, masterKey, registerAad(unit, verificationPattern)));
}

/** The master key of a register, unsealed. Key material: the caller zeroes it. */
export function unsealMasterKey(unit: UnitState, register: MasterKeyRegister): Buffer {
  return withSealingKey(unit, (k) =>
    unsealBytes(
      k,
      register.sealed,
      registerAad(unit, register.verificationPattern),
      `The master key register of unit ${unit.id}`,
    ),
  );
}

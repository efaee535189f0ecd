import { createCipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { CeremonyError } from '../errors.js';
import { zeroize } from '../secrets.js';

export const MASTER_KEY_BYTES = 32; // AES-256
export const SHARE_BYTES = MASTER_KEY_BYTES + 1; // y values + the x coordinate (shamir-secret-sharing layout)
export const MAX_SHARES = 255;

/** A fresh 256-bit AES master key from the CSPRNG. Key material: the caller zeroes it. */
export function generateMasterKey(): Buffer {
  return randomBytes(MASTER_KEY_BYTES);
}

function assertMasterKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== MASTER_KEY_BYTES) {
    throw new CeremonyError('InvalidArgument', `A master key is ${MASTER_KEY_BYTES} bytes.`);
  }
}

/**
 * Key check value for people: the first 3 bytes of AES-ECB encryption of an
 * all-zero block under the key, in hex (the customary KCV of ANSI X9.24-1
 * applied to AES). Six hex digits are easy to read aloud and compare, and
 * reveal nothing usable about the key.
 */
export function keyCheckValue(key: Uint8Array): string {
  assertMasterKey(key);
  const c = createCipheriv('aes-256-ecb', key, null);
  c.setAutoPadding(false);
  const block = Buffer.concat([c.update(Buffer.alloc(16)), c.final()]);
  return block.subarray(0, 3).toString('hex').toUpperCase();
}

const VERIFICATION_PATTERN_LABEL = 'KeyCeremony master-key verification pattern v1';

/**
 * Full verification pattern for machines: HMAC-SHA-256 keyed with the master
 * key over a fixed label, 64 hex digits. Where the 24-bit KCV only catches
 * mistakes, this one identifies the key: the emulator compares it to decide
 * that every unit holds the same key.
 */
export function verificationPattern(key: Uint8Array): string {
  assertMasterKey(key);
  return createHmac('sha256', key).update(VERIFICATION_PATTERN_LABEL).digest('hex');
}

export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

export const KEY_NAME_MAX = 128;

/**
 * The one rule for a master key's name, wherever it is entered: 1 to 128
 * characters, no control characters, no space at either end (it would be
 * invisible on the printed record and on every share).
 */
export function checkKeyName(name: string): void {
  if (name.length === 0 || name.length > KEY_NAME_MAX || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new CeremonyError('InvalidArgument', `The key name must be 1 to ${KEY_NAME_MAX} printable characters.`);
  }
  if (name.trim() !== name)
    throw new CeremonyError('InvalidArgument', 'The key name must not begin or end with a space.');
}

export function checkThreshold(threshold: number, shares: number): void {
  if (!Number.isInteger(shares) || shares < 2 || shares > MAX_SHARES) {
    throw new CeremonyError(
      'InvalidArgument',
      `The number of shares N must be a whole number from 2 to ${MAX_SHARES}; got ${shares}.`,
    );
  }
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > shares) {
    throw new CeremonyError(
      'InvalidArgument',
      `The threshold K must be a whole number from 2 to the number of shares (${shares}); got ${threshold}.`,
    );
  }
}

/**
 * Splits the key K-of-N with Shamir's scheme over GF(2^8) (the audited
 * shamir-secret-sharing package). Each share is 33 bytes: 32 y values and
 * the x coordinate. Shares are secrets: the caller zeroes them.
 */
export async function splitMasterKey(key: Uint8Array, threshold: number, shares: number): Promise<Buffer[]> {
  assertMasterKey(key);
  checkThreshold(threshold, shares);
  // The library checks `constructor === Uint8Array`, which a Buffer fails: hand it plain copies.
  const plain = new Uint8Array(key);
  let parts: Uint8Array[] = [];
  try {
    parts = await split(plain, shares, threshold);
    return parts.map((p) => Buffer.from(p));
  } finally {
    zeroize(plain, ...parts);
  }
}

/**
 * Rebuilds the key from shares. Shamir always yields *some* value, so the
 * caller must check the result against the recorded verification pattern.
 */
export async function combineShares(shares: Uint8Array[]): Promise<Buffer> {
  if (shares.length < 2) throw new CeremonyError('ThresholdNotMet', 'At least 2 shares are needed to rebuild a key.');
  const xs = new Set<number>();
  for (const s of shares) {
    if (s.length !== SHARE_BYTES)
      throw new CeremonyError('ShareCorrupted', `A share is ${SHARE_BYTES} bytes; one has ${s.length}.`);
    const x = s[SHARE_BYTES - 1]!;
    if (x === 0 || xs.has(x))
      throw new CeremonyError('DuplicateShare', 'Two of the shares are copies of the same share.');
    xs.add(x);
  }
  const plain = shares.map((s) => new Uint8Array(s));
  let key: Uint8Array | undefined;
  try {
    key = await combine(plain);
    return Buffer.from(key);
  } finally {
    zeroize(key, ...plain);
  }
}

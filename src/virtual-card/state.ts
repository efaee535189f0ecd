/**
 * Persistent state of the virtual PIV card: what a YubiKey 5 keeps in its
 * non-volatile memory. Volatile security state (PIN verified, management key
 * authenticated) lives in the applet and is never written here.
 *
 * The state file is JSON, written atomically (temporary file in the same
 * directory, fsync, rename, fsync of the directory) with mode 0600.
 */
import { readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { replaceFileAtomic } from '../core/files.js';
import { createVirtualAttestation } from './attestation.js';
import { concat, hex, tlv } from './tlv.js';

export const STATE_FORMAT = 'keyceremony-virtual-piv-card/1';

/** Yubico algorithm identifiers (SP 800-78-4 Table 6-2 and Yubico PIV extensions). */
export const ALG = {
  TDES: 0x03,
  RSA1024: 0x06,
  RSA2048: 0x07,
  AES128: 0x08,
  AES192: 0x0a,
  AES256: 0x0c,
  ECCP256: 0x11,
  ECCP384: 0x14,
} as const;

/** Yubico PIN policy values (tag AA). 0 = slot default. */
export const PIN_POLICY = { DEFAULT: 0, NEVER: 1, ONCE: 2, ALWAYS: 3 } as const;
/** Yubico touch policy values (tag AB). 0 = slot default. */
export const TOUCH_POLICY = { DEFAULT: 0, NEVER: 1, ALWAYS: 2, CACHED: 3 } as const;

export const DEFAULT_PIN = '123456';
export const DEFAULT_PUK = '12345678';
export const DEFAULT_MGMT_KEY_HEX = '010203040506070801020304050607080102030405060708';
export const DEFAULT_RETRIES = 3;

/** Key references of asymmetric key slots (SP 800-73-4 Part 1 Table 4b; F9 is Yubico's attestation slot). */
export const KEY_SLOTS: readonly number[] = [
  0x9a,
  0x9c,
  0x9d,
  0x9e,
  ...Array.from({ length: 20 }, (_, i) => 0x82 + i),
  0xf9,
];

export function isKeySlot(slot: number): boolean {
  return KEY_SLOTS.includes(slot);
}

/** Default PIN policy per slot, as on a YubiKey: 9C always, 9E and F9 never, the rest once. */
export function defaultPinPolicy(slot: number): number {
  if (slot === 0x9c) return PIN_POLICY.ALWAYS;
  if (slot === 0x9e || slot === 0xf9) return PIN_POLICY.NEVER;
  return PIN_POLICY.ONCE;
}

/** Data object holding the certificate of a key slot (SP 800-73-4 Part 1 Table 3 and Appendix A). */
export function certObjectForSlot(slot: number): number | undefined {
  switch (slot) {
    case 0x9a:
      return 0x5fc105;
    case 0x9c:
      return 0x5fc10a;
    case 0x9d:
      return 0x5fc10b;
    case 0x9e:
      return 0x5fc101;
    case 0xf9:
      return 0x5fff01; // Yubico: attestation certificate
    default:
      if (slot >= 0x82 && slot <= 0x95) return 0x5fc10d + (slot - 0x82);
      return undefined;
  }
}

export const OBJ = {
  CARD_AUTH_CERT: 0x5fc101,
  CHUID: 0x5fc102,
  FINGERPRINTS: 0x5fc103,
  PIV_AUTH_CERT: 0x5fc105,
  SECURITY_OBJECT: 0x5fc106,
  CCC: 0x5fc107,
  FACIAL_IMAGE: 0x5fc108,
  PRINTED_INFO: 0x5fc109,
  SIGNATURE_CERT: 0x5fc10a,
  KEY_MGMT_CERT: 0x5fc10b,
  KEY_HISTORY: 0x5fc10c,
  RETIRED_CERT_FIRST: 0x5fc10d,
  RETIRED_CERT_LAST: 0x5fc120,
  IRIS_IMAGE: 0x5fc121,
  DISCOVERY: 0x7e,
  YUBICO_ADMIN_DATA: 0x5fff00,
  YUBICO_ATTESTATION_CERT: 0x5fff01,
} as const;

export interface KeySlotState {
  algorithm: number;
  pinPolicy: number;
  touchPolicy: number;
  origin: 'generated' | 'imported';
  /** PKCS#8 DER, base64. */
  privateKey: string;
}

export interface SecretState {
  /** The reference data exactly as a YubiKey stores it: the value padded with 0xFF to 8 bytes, hex. */
  valueHex: string;
  retriesRemaining: number;
  maxRetries: number;
}

export interface CardState {
  format: typeof STATE_FORMAT;
  serial: number;
  version: [number, number, number];
  pin: SecretState;
  puk: SecretState;
  managementKey: { algorithm: number; keyHex: string; touchPolicy: number };
  /** Key slots by two-digit lowercase hex key reference ("9c", "82"). */
  slots: Record<string, KeySlotState>;
  /** Data objects by lowercase hex tag ("5fc102"), value = the content of tag 53, base64. */
  objects: Record<string, string>;
  /**
   * The self-signed virtual root (DER, base64) that issued the F9
   * attestation certificate in 5FFF01 (src/virtual-card/attestation.ts): the
   * trust anchor of this card's attestations, not Yubico's. Absent in state
   * files written before the card attested; loadOrCreate adds the chain then.
   */
  attestationRoot?: string;
}

export function padReference(value: string | Uint8Array): Uint8Array {
  const bytes = typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'utf8')) : value;
  if (bytes.length > 8) throw new Error('PIN/PUK longer than 8 bytes');
  const out = new Uint8Array(8).fill(0xff);
  out.set(bytes);
  return out;
}

export function slotKey(slot: number): string {
  return slot.toString(16).padStart(2, '0');
}

export function objectKey(tag: number): string {
  return tag.toString(16).padStart(2, '0');
}

/**
 * A card as it leaves the (virtual) factory, like a YubiKey 5's PIV
 * application after `ykman piv reset`: default PIN, PUK and management key,
 * no keys and no data objects. A factory YubiKey has no CHUID (5FC102) or
 * CCC (5FC107): tools write those when asked (`ykman piv objects generate
 * chuid`), so the virtual card does not invent them either (issue 9).
 * Like a YubiKey it does come with an attestation key in slot F9 and its
 * certificate in 5FFF01, from a virtual root that says it is not Yubico's.
 */
export function newCardState(serial?: number): CardState {
  const state: CardState = {
    format: STATE_FORMAT,
    serial: serial ?? randomInt(10_000_000, 40_000_000),
    version: [5, 4, 3],
    pin: { valueHex: hex(padReference(DEFAULT_PIN)), retriesRemaining: DEFAULT_RETRIES, maxRetries: DEFAULT_RETRIES },
    puk: { valueHex: hex(padReference(DEFAULT_PUK)), retriesRemaining: DEFAULT_RETRIES, maxRetries: DEFAULT_RETRIES },
    managementKey: { algorithm: ALG.TDES, keyHex: DEFAULT_MGMT_KEY_HEX, touchPolicy: TOUCH_POLICY.NEVER },
    slots: {},
    objects: {},
  };
  addAttestation(state);
  return state;
}

/**
 * Gives a card its attestation chain (src/virtual-card/attestation.ts): the
 * attestation key in slot F9 (P-256, PIN never, touch never), its
 * certificate in 5FFF01, and the virtual root in `attestationRoot`. Does
 * nothing, and answers false, when the card already has a root or an F9
 * key (someone may have put their own attestation key there, as ykman
 * allows on a YubiKey).
 */
export function addAttestation(state: CardState): boolean {
  if (state.attestationRoot !== undefined || state.slots[slotKey(0xf9)] !== undefined) return false;
  const chain = createVirtualAttestation(state.serial);
  state.slots[slotKey(0xf9)] = {
    algorithm: ALG.ECCP256,
    pinPolicy: PIN_POLICY.NEVER,
    touchPolicy: TOUCH_POLICY.NEVER,
    origin: 'generated',
    privateKey: chain.privateKey,
  };
  // Stored as every PIV certificate object is (SP 800-73-4 Part 1 Appendix A): 70 certificate,
  // 71 CertInfo (00: not compressed), FE error detection code (empty); ykman reads 5FFF01 so.
  const object = concat(tlv(0x70, chain.certificate), tlv(0x71, Uint8Array.of(0x00)), tlv(0xfe, new Uint8Array(0)));
  state.objects[objectKey(OBJ.YUBICO_ATTESTATION_CERT)] = Buffer.from(object).toString('base64');
  state.attestationRoot = Buffer.from(chain.rootCertificate).toString('base64');
  return true;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkSecret(v: unknown, name: string): SecretState {
  if (
    !isRecord(v) ||
    typeof v.valueHex !== 'string' ||
    !/^[0-9a-f]{16}$/.test(v.valueHex) ||
    typeof v.retriesRemaining !== 'number' ||
    typeof v.maxRetries !== 'number'
  ) {
    throw new Error(`the ${name} entry is malformed`);
  }
  return { valueHex: v.valueHex, retriesRemaining: v.retriesRemaining, maxRetries: v.maxRetries };
}

/** Validates parsed JSON as a CardState; throws an Error with a one-sentence message otherwise. */
export function parseCardState(json: unknown): CardState {
  if (!isRecord(json) || json.format !== STATE_FORMAT) throw new Error('it is not a virtual PIV card state file');
  const { serial, version, managementKey, slots, objects } = json;
  if (typeof serial !== 'number' || !Number.isInteger(serial) || serial < 0 || serial > 0xffffffff) {
    throw new Error('the serial number is malformed');
  }
  if (!Array.isArray(version) || version.length !== 3 || !version.every((n) => typeof n === 'number')) {
    throw new Error('the version is malformed');
  }
  if (
    !isRecord(managementKey) ||
    typeof managementKey.algorithm !== 'number' ||
    typeof managementKey.keyHex !== 'string' ||
    typeof managementKey.touchPolicy !== 'number'
  ) {
    throw new Error('the management key entry is malformed');
  }
  if (!isRecord(slots) || !isRecord(objects)) throw new Error('the slots or objects entry is malformed');
  for (const [k, s] of Object.entries(slots)) {
    if (
      !isRecord(s) ||
      typeof s.algorithm !== 'number' ||
      typeof s.privateKey !== 'string' ||
      typeof s.pinPolicy !== 'number' ||
      typeof s.touchPolicy !== 'number' ||
      (s.origin !== 'generated' && s.origin !== 'imported')
    ) {
      throw new Error(`key slot ${k} is malformed`);
    }
  }
  for (const [k, o] of Object.entries(objects)) {
    if (typeof o !== 'string') throw new Error(`data object ${k} is malformed`);
  }
  const { attestationRoot } = json;
  if (attestationRoot !== undefined && typeof attestationRoot !== 'string') {
    throw new Error('the attestation root is malformed');
  }
  return {
    format: STATE_FORMAT,
    serial,
    version: [version[0] as number, version[1] as number, version[2] as number],
    pin: checkSecret(json.pin, 'PIN'),
    puk: checkSecret(json.puk, 'PUK'),
    managementKey: {
      algorithm: managementKey.algorithm,
      keyHex: managementKey.keyHex,
      touchPolicy: managementKey.touchPolicy,
    },
    slots: slots as Record<string, KeySlotState>,
    objects: objects as Record<string, string>,
    ...(attestationRoot !== undefined ? { attestationRoot } : {}),
  };
}

export function loadState(file: string): CardState {
  const text = readFileSync(file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON`);
  }
  try {
    return parseCardState(json);
  } catch (e) {
    throw new Error(`${file} cannot be used because ${(e as Error).message}`);
  }
}

/** Atomic replace: temp file in the same directory, fsync, rename, fsync of the directory. Mode 0600. */
export function saveState(file: string, state: CardState): void {
  // Temp file, fsync, rename, directory fsync: the card never half-writes its state.
  replaceFileAtomic(file, JSON.stringify(state, null, 2) + '\n', 0o600);
}

/**
 * Loads the card in `file`, or creates a fresh card (random serial) there if
 * the file does not exist. A card saved before the virtual card attested
 * gets its attestation chain now, saved at once so that it stays the same.
 */
export function loadOrCreate(file: string): CardState {
  try {
    const state = loadState(file);
    if (addAttestation(state)) saveState(file, state);
    return state;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const state = newCardState();
  saveState(file, state);
  return state;
}

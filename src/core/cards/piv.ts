import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { CeremonyError } from '../errors.js';
import { zeroize } from '../secrets.js';
import { ApduChannel, CardStatusError, KEY_GENERATION_DEADLINE_MS, SW, statusError, type ApduTrace } from './apdu.js';
import { findTlv, parseTlvs, tlv } from './tlv.js';
import type { CardConnection } from './transport.js';

// A PIV client: NIST SP 800-73-4 Part 2 (card commands) plus the Yubico
// extensions a YubiKey 5 needs (developers.yubico.com/PIV/Introduction/
// Yubico_extensions.html): GET VERSION, GET SERIAL, GET METADATA, SET
// MANAGEMENT KEY, RESET.

export const PIV_AID = Buffer.from('a000000308', 'hex'); // SP 800-73-4 Part 1 §2.2 (truncated AID, as SELECT allows)

export const INS = {
  SELECT: 0xa4,
  GET_DATA: 0xcb,
  PUT_DATA: 0xdb,
  VERIFY: 0x20,
  CHANGE_REFERENCE_DATA: 0x24,
  RESET_RETRY_COUNTER: 0x2c,
  GENERATE_ASYMMETRIC_KEY_PAIR: 0x47,
  GENERAL_AUTHENTICATE: 0x87,
  // Yubico
  GET_VERSION: 0xfd,
  GET_SERIAL: 0xf8,
  GET_METADATA: 0xf7,
  SET_MANAGEMENT_KEY: 0xff,
  RESET: 0xfb,
} as const;

/** Key references (SP 800-73-4 Part 1 Table 4b; §5.1). */
export const KEY_REF = { PIN: 0x80, PUK: 0x81, MANAGEMENT: 0x9b } as const;

/** Cryptographic mechanism identifiers (SP 800-78-4 Table 6-2; AES mgmt keys per Yubico). */
export const ALG = {
  TDES: 0x03,
  AES128: 0x08,
  AES192: 0x0a,
  AES256: 0x0c,
  RSA2048: 0x07,
  ECCP256: 0x11,
  ECCP384: 0x14,
} as const;
export type ManagementKeyAlg = typeof ALG.TDES | typeof ALG.AES128 | typeof ALG.AES192 | typeof ALG.AES256;

export const SLOT = { AUTHENTICATION: 0x9a, SIGNATURE: 0x9c, KEY_MANAGEMENT: 0x9d, CARD_AUTHENTICATION: 0x9e } as const;
export const RETIRED_SLOTS = Array.from({ length: 20 }, (_, i) => 0x82 + i); // 82..95

/** Data object tags (SP 800-73-4 Part 1 Table 3). */
export const OBJECT = {
  CHUID: 0x5fc102,
  CCC: 0x5fc107,
  PRINTED: 0x5fc109,
  KEY_HISTORY: 0x5fc10c,
  DISCOVERY: 0x7e,
  YUBICO_ADMIN_DATA: 0x5fff00,
} as const;

/** GET DATA tags (SP 800-73-4 Part 2 §3.1.2): 5C tag list in the command, 53 data object in the answer. */
const TAG_TAG_LIST = 0x5c;
const TAG_DATA_OBJECT = 0x53;

/**
 * Tags inside the PIV commands' data (SP 800-73-4 Part 2 §3.2.4 GENERAL
 * AUTHENTICATE, §3.3.2 GENERATE ASYMMETRIC KEY PAIR, Table 10 public key
 * data objects; names as in Yubico's yubikit piv.py).
 */
export const TAG = {
  /** Dynamic Authentication Template. */
  DYN_AUTH: 0x7c,
  AUTH_WITNESS: 0x80,
  AUTH_CHALLENGE: 0x81,
  AUTH_RESPONSE: 0x82,
  AUTH_EXPONENTIATION: 0x85,
  /** Control reference template of GENERATE ASYMMETRIC KEY PAIR. */
  GEN_TEMPLATE: 0xac,
  GEN_ALGORITHM: 0x80,
  /** Yubico extensions inside the template. */
  PIN_POLICY: 0xaa,
  TOUCH_POLICY: 0xab,
  /** Public key template and its members. */
  PUBLIC_KEY: 0x7f49,
  RSA_MODULUS: 0x81,
  RSA_EXPONENT: 0x82,
  EC_POINT: 0x86,
} as const;

/** Yubico GET VERSION answers 3 bytes (major, minor, patch); GET SERIAL 4 (big-endian). */
const VERSION_LENGTH = 3;
const SERIAL_LENGTH = 4;

/** Yubico GET METADATA tags (Yubico PIV extensions, "GET METADATA"). */
const META = {
  ALGORITHM: 0x01,
  POLICY: 0x02,
  ORIGIN: 0x03,
  PUBLIC_KEY: 0x04,
  IS_DEFAULT: 0x05,
  RETRIES: 0x06,
} as const;
const ORIGIN = { GENERATED: 0x01, IMPORTED: 0x02 } as const;

/** The certificate object of a key slot (SP 800-73-4 Part 1 Table 3 and Table 4b). */
export function certificateObjectFor(slot: number): number {
  switch (slot) {
    case 0x9a:
      return 0x5fc105;
    case 0x9c:
      return 0x5fc10a;
    case 0x9d:
      return 0x5fc10b;
    case 0x9e:
      return 0x5fc101;
    default:
      if (slot >= 0x82 && slot <= 0x95) return 0x5fc10d + (slot - 0x82);
      throw new CeremonyError('InvalidArgument', `Slot ${slot.toString(16)} has no certificate object.`);
  }
}

/** YubiKey PIN and touch policies (GENERATE tags AA and AB). */
export const PIN_POLICY = { DEFAULT: 0, NEVER: 1, ONCE: 2, ALWAYS: 3 } as const;
export const TOUCH_POLICY = { DEFAULT: 0, NEVER: 1, ALWAYS: 2, CACHED: 3 } as const;

export const DEFAULT_PIN = '123456';
export const DEFAULT_PUK = '12345678';
export const DEFAULT_MANAGEMENT_KEY = Buffer.from('010203040506070801020304050607080102030405060708', 'hex');

/** PIN and PUK are 6-8 bytes, padded with FF to 8 (SP 800-73-4 Part 2 §2.4.3). */
export function padPin(pin: Uint8Array, what: string): Buffer {
  if (pin.length < 6 || pin.length > 8) {
    throw new CeremonyError('InvalidArgument', `${what} must be 6 to 8 characters; it has ${pin.length}.`);
  }
  for (const b of pin) {
    if (b < 0x20 || b > 0x7e) throw new CeremonyError('InvalidArgument', `${what} must be printable ASCII.`);
  }
  const out = Buffer.alloc(8, 0xff);
  out.set(pin);
  return out;
}

function mgmtCipher(alg: ManagementKeyAlg, key: Uint8Array): { name: string; block: number } {
  switch (alg) {
    case ALG.TDES:
      if (key.length !== 24) break;
      return { name: 'des-ede3', block: 8 };
    case ALG.AES128:
      if (key.length !== 16) break;
      return { name: 'aes-128-ecb', block: 16 };
    case ALG.AES192:
      if (key.length !== 24) break;
      return { name: 'aes-192-ecb', block: 16 };
    case ALG.AES256:
      if (key.length !== 32) break;
      return { name: 'aes-256-ecb', block: 16 };
  }
  throw new CeremonyError(
    'InvalidArgument',
    `A management key for algorithm ${alg.toString(16)} has the wrong length (${key.length} bytes).`,
  );
}

function ecb(decrypt: boolean, name: string, key: Uint8Array, block: Uint8Array): Buffer {
  const c = decrypt ? createDecipheriv(name, key, null) : createCipheriv(name, key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

export interface SlotMetadata {
  algorithm: number;
  pinPolicy?: number;
  touchPolicy?: number;
  generated?: boolean;
  publicKey?: KeyObject;
}

export interface PinMetadata {
  isDefault: boolean;
  totalTries: number;
  triesLeft: number;
}

/** DER SubjectPublicKeyInfo prefix for a P-256 uncompressed point (RFC 5480). */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/** A card answer that is not what the PIV specification or the Yubico extensions describe: one sentence, what to do. */
export function malformedAnswer(what: string): CeremonyError {
  return new CeremonyError(
    'CardError',
    `The card's answer is not well formed (${what}); it may not be a PIV card or it may be faulty, so take it out and use another card.`,
    {
      problem: what,
    },
  );
}

/** Uncompressed point (SEC 1 §2.3.3): 04 || X || Y, 32 bytes each for P-256. */
const EC_POINT_UNCOMPRESSED = 0x04;
const P256_POINT_LENGTH = 65;

export function p256PublicKeyFromPoint(point: Uint8Array): KeyObject {
  if (point.length !== P256_POINT_LENGTH || point[0] !== EC_POINT_UNCOMPRESSED)
    throw new CeremonyError('CardError', 'The card returned a malformed P-256 public key.');
  try {
    // Node checks that the point is on the curve.
    return createPublicKey({ key: Buffer.concat([P256_SPKI_PREFIX, point]), format: 'der', type: 'spki' });
  } catch {
    throw new CeremonyError('CardError', 'The card returned a malformed P-256 public key.');
  }
}

/** RSA-2048 modulus (tag 81) and public exponent (tag 82) of GENERATE / GET METADATA (SP 800-73-4 Part 2 Table 13). */
const RSA2048_MODULUS_BYTES = 256;
const MAX_RSA_EXPONENT_BYTES = 4;

function rsaPublicKey(modulus: Buffer, exponent: Buffer): KeyObject {
  // A YubiKey sends the modulus without a sign byte; tolerate one leading zero.
  const n = modulus.length === RSA2048_MODULUS_BYTES + 1 && modulus[0] === 0 ? modulus.subarray(1) : modulus;
  if (
    n.length !== RSA2048_MODULUS_BYTES ||
    (n[0]! & 0x80) === 0 ||
    exponent.length === 0 ||
    exponent.length > MAX_RSA_EXPONENT_BYTES ||
    (exponent[exponent.length - 1]! & 1) === 0
  ) {
    throw new CeremonyError('CardError', 'The card returned a malformed RSA-2048 public key.');
  }
  try {
    return createPublicKey({
      key: { kty: 'RSA', n: n.toString('base64url'), e: exponent.toString('base64url') },
      format: 'jwk',
    });
  } catch {
    throw new CeremonyError('CardError', 'The card returned a malformed RSA-2048 public key.');
  }
}

/**
 * One session with a PIV card over an exclusive connection. Security state
 * (verified PIN, authenticated management key) lives on the card for the
 * length of the connection and is lost when it ends.
 */
export class PivSession {
  readonly channel: ApduChannel;
  /**
   * What this connection already read and cannot change while it lasts
   * (serial, firmware version): read once per connection, never carried to
   * another one (a YubiKey takes 5-20 ms per APDU).
   */
  private readonly known: { serial?: number; version?: string } = {};

  constructor(connection: CardConnection, trace?: ApduTrace) {
    this.channel = new ApduChannel(connection, trace);
  }

  async select(): Promise<void> {
    await this.channel.send(
      { ins: INS.SELECT, p1: 0x04, p2: 0x00, data: PIV_AID, le: 0 },
      'Selecting the PIV application',
    );
  }

  /** Yubico GET VERSION: firmware major.minor.patch, exactly three bytes. */
  async version(): Promise<string> {
    if (this.known.version !== undefined) return this.known.version;
    const v = await this.channel.send({ ins: INS.GET_VERSION, p1: 0, p2: 0 }, 'Reading the card version');
    if (v.length !== VERSION_LENGTH)
      throw malformedAnswer(`a version of ${v.length} bytes instead of ${VERSION_LENGTH}`);
    this.known.version = [...v].join('.');
    return this.known.version;
  }

  /** Yubico GET SERIAL: the card's serial number, a 32-bit big-endian integer. */
  async serial(): Promise<number> {
    if (this.known.serial !== undefined) return this.known.serial;
    const s = await this.channel.send({ ins: INS.GET_SERIAL, p1: 0, p2: 0 }, 'Reading the card serial');
    if (s.length !== SERIAL_LENGTH)
      throw malformedAnswer(`a serial number of ${s.length} bytes instead of ${SERIAL_LENGTH}`);
    this.known.serial = s.readUInt32BE(0);
    return this.known.serial;
  }

  /** GET DATA (SP 800-73-4 Part 2 §3.1.2): the content of a data object, without its 53 wrapper. */
  async getData(tag: number, what: string): Promise<Buffer> {
    const tagBytes =
      tag === OBJECT.DISCOVERY ? Buffer.from([0x7e]) : Buffer.from([tag >> 16, (tag >> 8) & 0xff, tag & 0xff]);
    const r = await this.channel.send(
      { ins: INS.GET_DATA, p1: 0x3f, p2: 0xff, data: tlv(TAG_TAG_LIST, tagBytes), le: 0, extendedLength: true },
      what,
    );
    // The answer is exactly one data object: 53 for a container, 7E for the
    // discovery object (SP 800-73-4 Part 1 §3.1, Part 2 §3.1.2). Anything
    // before, after or instead of it is a card that does not follow PIV.
    const outer = parseTlvs(r, what.replace(/^Reading /, ''));
    const expected = tag === OBJECT.DISCOVERY ? OBJECT.DISCOVERY : TAG_DATA_OBJECT;
    if (outer.length !== 1 || outer[0]!.tag !== expected) {
      throw malformedAnswer(
        `a data object that is not one ${expected.toString(16).toUpperCase()} object (${what.replace(/^Reading /, '')})`,
      );
    }
    return outer[0]!.value;
  }

  /** PUT DATA (SP 800-73-4 Part 2 §3.3.2): needs the management key. */
  async putData(tag: number, content: Uint8Array, what: string): Promise<void> {
    const tagBytes = Buffer.from([tag >> 16, (tag >> 8) & 0xff, tag & 0xff]);
    await this.channel.send(
      {
        ins: INS.PUT_DATA,
        p1: 0x3f,
        p2: 0xff,
        data: Buffer.concat([tlv(TAG_TAG_LIST, tagBytes), tlv(TAG_DATA_OBJECT, content)]),
        extendedLength: true,
      },
      what,
    );
  }

  /** Tries left for the PIN without spending one (VERIFY with no data, SP 800-73-4 Part 2 §3.2.1). */
  async pinTriesLeft(): Promise<{ verified: boolean; triesLeft: number | null }> {
    const r = await this.channel.transmitRaw(
      { ins: INS.VERIFY, p1: 0x00, p2: KEY_REF.PIN },
      'Reading the PIN retry counter',
    );
    if (r.sw === SW.OK) return { verified: true, triesLeft: null };
    if ((r.sw & 0xfff0) === 0x63c0) return { verified: false, triesLeft: r.sw & 0x0f };
    if (r.sw === SW.AUTH_METHOD_BLOCKED) return { verified: false, triesLeft: 0 };
    throw statusError(r.sw, 'Reading the PIN retry counter');
  }

  /** VERIFY the PIN. A wrong PIN says how many tries remain; a blocked PIN says to use the PUK. */
  async verifyPin(pin: Uint8Array): Promise<void> {
    const padded = padPin(pin, 'The PIN');
    try {
      const r = await this.channel.transmitRaw(
        { ins: INS.VERIFY, p1: 0x00, p2: KEY_REF.PIN, data: padded },
        'Checking the PIN',
      );
      if (r.sw === SW.OK) return;
      throw pinError(r.sw, 'PIN');
    } finally {
      zeroize(padded);
    }
  }

  /** CHANGE REFERENCE DATA for the PIN (80) or PUK (81), SP 800-73-4 Part 2 §3.2.2. */
  async changeReference(
    ref: typeof KEY_REF.PIN | typeof KEY_REF.PUK,
    current: Uint8Array,
    next: Uint8Array,
  ): Promise<void> {
    const name = ref === KEY_REF.PIN ? 'PIN' : 'PUK';
    const data = Buffer.concat([padPin(current, `The current ${name}`), padPin(next, `The new ${name}`)]);
    try {
      const r = await this.channel.transmitRaw(
        { ins: INS.CHANGE_REFERENCE_DATA, p1: 0x00, p2: ref, data },
        `Changing the ${name}`,
      );
      if (r.sw !== SW.OK) throw pinError(r.sw, name);
    } finally {
      zeroize(data);
    }
  }

  /** RESET RETRY COUNTER: unblock the PIN with the PUK and set a new PIN (§3.2.3). */
  async unblockPin(puk: Uint8Array, newPin: Uint8Array): Promise<void> {
    const data = Buffer.concat([padPin(puk, 'The PUK'), padPin(newPin, 'The new PIN')]);
    try {
      const r = await this.channel.transmitRaw(
        { ins: INS.RESET_RETRY_COUNTER, p1: 0x00, p2: KEY_REF.PIN, data },
        'Unblocking the PIN',
      );
      if (r.sw !== SW.OK) throw pinError(r.sw, 'PUK');
    } finally {
      zeroize(data);
    }
  }

  /**
   * Mutual authentication with the management key (GENERAL AUTHENTICATE,
   * key reference 9B; SP 800-73-4 Part 2 Appendix A.1 and Yubico's
   * witness/challenge exchange): the host proves it knows the key by
   * decrypting the card's witness, the card by encrypting the host's challenge.
   */
  async authenticateManagementKey(key: Uint8Array, alg: ManagementKeyAlg = ALG.TDES): Promise<void> {
    const { name, block } = mgmtCipher(alg, key);
    const first = await this.channel.transmitRaw(
      {
        ins: INS.GENERAL_AUTHENTICATE,
        p1: alg,
        p2: KEY_REF.MANAGEMENT,
        data: tlv(TAG.DYN_AUTH, tlv(TAG.AUTH_WITNESS, Buffer.alloc(0))),
        le: 0,
      },
      'Authenticating with the management key',
    );
    // A card answers 6A80/6A86 when its management key is of another algorithm.
    if (first.sw === SW.INCORRECT_DATA || first.sw === SW.INCORRECT_P1P2) {
      throw new CardStatusError(
        first.sw,
        'ManagementKeyRejected',
        'The card rejected the management key: this card uses a management key of another type.',
      );
    }
    if (first.sw !== SW.OK) throw statusError(first.sw, 'Starting management-key authentication');
    const step1 = first.data;
    const witness = findTlv(
      parseTlvs(findTlv(parseTlvs(step1), TAG.DYN_AUTH, 'the witness')),
      TAG.AUTH_WITNESS,
      'the witness',
    );
    if (witness.length !== block) throw new CeremonyError('CardError', 'The card sent a witness of the wrong size.');
    const decrypted = ecb(true, name, key, witness);
    const challenge = randomBytes(block);
    try {
      const r = await this.channel.transmitRaw(
        {
          ins: INS.GENERAL_AUTHENTICATE,
          p1: alg,
          p2: KEY_REF.MANAGEMENT,
          data: tlv(
            TAG.DYN_AUTH,
            Buffer.concat([tlv(TAG.AUTH_WITNESS, decrypted), tlv(TAG.AUTH_CHALLENGE, challenge)]),
          ),
          le: 0,
        },
        'Authenticating with the management key',
      );
      if (r.sw === SW.SECURITY_STATUS_NOT_SATISFIED || r.sw === SW.INCORRECT_DATA || r.sw === SW.AUTH_METHOD_BLOCKED) {
        throw new CardStatusError(
          r.sw,
          'ManagementKeyRejected',
          'The card rejected the management key: it is not the key this card uses.',
        );
      }
      if (r.sw !== SW.OK) throw statusError(r.sw, 'Management-key authentication');
      const response = findTlv(
        parseTlvs(findTlv(parseTlvs(r.data), TAG.DYN_AUTH, 'the response')),
        TAG.AUTH_RESPONSE,
        'the response',
      );
      const expected = ecb(false, name, key, challenge);
      if (response.length !== expected.length || !timingSafeEqual(response, expected)) {
        throw new CeremonyError(
          'WrongCard',
          'The card failed to prove it holds the management key: it may not be a genuine PIV card.',
        );
      }
    } finally {
      zeroize(decrypted);
    }
  }

  /** Yubico SET MANAGEMENT KEY (INS FF, P2 FF: no touch). Needs the current management key. */
  async setManagementKey(key: Uint8Array, alg: ManagementKeyAlg): Promise<void> {
    mgmtCipher(alg, key);
    const data = Buffer.concat([Buffer.from([alg, KEY_REF.MANAGEMENT, key.length]), key]);
    try {
      await this.channel.send({ ins: INS.SET_MANAGEMENT_KEY, p1: 0xff, p2: 0xff, data }, 'Setting the management key');
    } finally {
      zeroize(data);
    }
  }

  /** GENERATE ASYMMETRIC KEY PAIR (SP 800-73-4 Part 2 §3.3.2) with YubiKey PIN/touch policies. */
  async generateKey(
    slot: number,
    alg: typeof ALG.RSA2048 | typeof ALG.ECCP256,
    policy: { pin?: number; touch?: number } = {},
  ): Promise<KeyObject> {
    const params = [tlv(TAG.GEN_ALGORITHM, Buffer.from([alg]))];
    if (policy.pin) params.push(tlv(TAG.PIN_POLICY, Buffer.from([policy.pin])));
    if (policy.touch) params.push(tlv(TAG.TOUCH_POLICY, Buffer.from([policy.touch])));
    const r = await this.channel.send(
      {
        ins: INS.GENERATE_ASYMMETRIC_KEY_PAIR,
        p1: 0x00,
        p2: slot,
        data: tlv(TAG.GEN_TEMPLATE, Buffer.concat(params)),
        le: 0,
        deadlineMs: KEY_GENERATION_DEADLINE_MS,
      },
      `Generating a key in slot ${slot.toString(16).toUpperCase()}`,
    );
    const inner = parseTlvs(findTlv(parseTlvs(r), TAG.PUBLIC_KEY, 'the public key'), 'the public key');
    if (alg === ALG.RSA2048)
      return rsaPublicKey(
        findTlv(inner, TAG.RSA_MODULUS, 'the modulus'),
        findTlv(inner, TAG.RSA_EXPONENT, 'the exponent'),
      );
    return p256PublicKeyFromPoint(findTlv(inner, TAG.EC_POINT, 'the EC point'));
  }

  /**
   * GENERAL AUTHENTICATE with a slot's private key (SP 800-73-4 Part 2
   * §3.2.4): dynamic authentication template 7C with an empty response (82)
   * and the input under `tag`; returns the card's response (82).
   */
  private async useSlotKey(
    alg: number,
    slot: number,
    tag: typeof TAG.AUTH_CHALLENGE | typeof TAG.AUTH_EXPONENTIATION,
    input: Uint8Array,
    what: string,
  ): Promise<Buffer> {
    const r = await this.channel.send(
      {
        ins: INS.GENERAL_AUTHENTICATE,
        p1: alg,
        p2: slot,
        data: tlv(TAG.DYN_AUTH, Buffer.concat([tlv(TAG.AUTH_RESPONSE, Buffer.alloc(0)), tlv(tag, input)])),
        le: 0,
      },
      `${what} with the key in slot ${slot.toString(16).toUpperCase()}`,
    );
    return findTlv(parseTlvs(findTlv(parseTlvs(r), TAG.DYN_AUTH, 'the response')), TAG.AUTH_RESPONSE, 'the response');
  }

  /** Raw RSA private-key operation (tag 81 challenge): the input is already padded to the modulus size by the host. */
  rsaPrivate(slot: number, input: Uint8Array): Promise<Buffer> {
    return this.useSlotKey(ALG.RSA2048, slot, TAG.AUTH_CHALLENGE, input, 'Signing');
  }

  /** ECDSA over a SHA-256 digest with a P-256 slot key (tag 81): DER signature. */
  ecdsaSign(slot: number, digest: Uint8Array): Promise<Buffer> {
    return this.useSlotKey(ALG.ECCP256, slot, TAG.AUTH_CHALLENGE, digest, 'Signing');
  }

  /** ECDH with a P-256 slot key (tag 85 exponentiation): the shared X coordinate. Secret: the caller zeroes it. */
  ecdh(slot: number, peerPoint: Uint8Array): Promise<Buffer> {
    return this.useSlotKey(ALG.ECCP256, slot, TAG.AUTH_EXPONENTIATION, peerPoint, 'Deriving the share key');
  }

  /**
   * Yubico GET METADATA for a PIN (80), PUK (81) or the management key (9B)
   * (Yubico PIV extensions, "GET METADATA"): 01 algorithm (1 byte), 05 is
   * default (1 byte: 0 or 1), 06 tries total and left (2 bytes; PIN and PUK
   * only). A missing or inconsistent field is refused, never read as zero:
   * "0 tries left" or "not default" from a lying card would mislead a person.
   */
  async referenceMetadata(ref: number): Promise<PinMetadata & { algorithm?: number }> {
    const name = ref === KEY_REF.PIN ? 'PIN' : ref === KEY_REF.PUK ? 'PUK' : 'management key';
    const r = await this.channel.send(
      { ins: INS.GET_METADATA, p1: 0x00, p2: ref, le: 0 },
      `Reading the ${name} metadata`,
    );
    const bad = (detail: string): CeremonyError => malformedAnswer(`metadata for the ${name} (${detail})`);
    const t = uniqueTlvs(parseTlvs(r, `metadata for the ${name}`), bad);
    const alg = t.get(META.ALGORITHM);
    if (alg !== undefined && alg.length !== 1) throw bad('algorithm');
    const isDefault = t.get(META.IS_DEFAULT);
    if (isDefault === undefined || isDefault.length !== 1 || isDefault[0]! > 1) throw bad('default flag');
    const tries = t.get(META.RETRIES);
    if (ref === KEY_REF.PIN || ref === KEY_REF.PUK) {
      if (tries === undefined || tries.length !== 2) throw bad('retry counters');
      const [total, left] = [tries[0]!, tries[1]!];
      if (total === 0 || left > total) throw bad(`${left} tries left of ${total}`);
      return {
        isDefault: isDefault[0] === 1,
        totalTries: total,
        triesLeft: left,
        ...(alg !== undefined ? { algorithm: alg[0]! } : {}),
      };
    }
    if (alg === undefined) throw bad('algorithm');
    return { isDefault: isDefault[0] === 1, totalTries: 0, triesLeft: 0, algorithm: alg[0]! };
  }

  /**
   * Yubico GET METADATA for a key slot; null when the slot is empty (6A88 on
   * a YubiKey, 6A82 on older virtual cards). 01 algorithm, 02 PIN and touch
   * policy (2 bytes), 03 origin (1 generated, 2 imported), 04 public key.
   */
  async slotMetadata(slot: number): Promise<SlotMetadata | null> {
    const what = `Reading the metadata of slot ${slot.toString(16).toUpperCase()}`;
    const r = await this.channel.transmitRaw({ ins: INS.GET_METADATA, p1: 0x00, p2: slot, le: 0 }, what);
    if (r.sw === SW.NOT_FOUND || r.sw === SW.REFERENCE_NOT_FOUND) return null;
    if (r.sw !== SW.OK) throw statusError(r.sw, what);
    const label = `metadata for slot ${slot.toString(16).toUpperCase()}`;
    const bad = (detail: string): CeremonyError => malformedAnswer(`${label} (${detail})`);
    const t = uniqueTlvs(parseTlvs(r.data, label), bad);
    const algBytes = t.get(META.ALGORITHM);
    if (algBytes === undefined || algBytes.length !== 1) throw bad('algorithm');
    const alg = algBytes[0]!;
    const policy = t.get(META.POLICY);
    if (policy !== undefined && policy.length !== 2) throw bad('PIN and touch policy');
    const originBytes = t.get(META.ORIGIN);
    if (
      originBytes !== undefined &&
      (originBytes.length !== 1 || (originBytes[0] !== ORIGIN.GENERATED && originBytes[0] !== ORIGIN.IMPORTED))
    )
      throw bad('origin');
    const pub = t.get(META.PUBLIC_KEY);
    let publicKey: KeyObject | undefined;
    if (pub) {
      const inner = parseTlvs(pub, `the public key in the ${label}`);
      publicKey =
        alg === ALG.RSA2048
          ? rsaPublicKey(findTlv(inner, TAG.RSA_MODULUS, 'n'), findTlv(inner, TAG.RSA_EXPONENT, 'e'))
          : alg === ALG.ECCP256
            ? p256PublicKeyFromPoint(findTlv(inner, TAG.EC_POINT, 'point'))
            : undefined;
    }
    return {
      algorithm: alg,
      ...(policy ? { pinPolicy: policy[0]!, touchPolicy: policy[1]! } : {}),
      ...(originBytes !== undefined ? { generated: originBytes[0] === ORIGIN.GENERATED } : {}),
      ...(publicKey ? { publicKey } : {}),
    };
  }
}

/** The TLVs of a flat answer by tag; a tag that appears twice is a malformed answer. */
function uniqueTlvs(
  tlvs: Array<{ tag: number; value: Buffer }>,
  bad: (detail: string) => CeremonyError,
): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  for (const t of tlvs) {
    if (m.has(t.tag)) throw bad(`tag ${t.tag.toString(16).toUpperCase()} twice`);
    m.set(t.tag, t.value);
  }
  return m;
}

/** Wrong PIN/PUK, blocked: one sentence a person can act on. */
export function pinError(sw: number, name: 'PIN' | 'PUK'): CeremonyError {
  if ((sw & 0xfff0) === 0x63c0) {
    const n = sw & 0x0f;
    if (n === 0) {
      return new CardStatusError(
        sw,
        name === 'PIN' ? 'PinBlocked' : 'PukBlocked',
        name === 'PIN'
          ? 'Wrong PIN; the PIN is now blocked. Unblock it with the PUK.'
          : 'Wrong PUK; the PUK is now blocked and the card can only be reset.',
      );
    }
    return new CardStatusError(
      sw,
      name === 'PIN' ? 'WrongPin' : 'WrongPuk',
      `Wrong ${name}: ${n} ${n === 1 ? 'try' : 'tries'} left before it is blocked.`,
      { retriesLeft: n, reference: name },
    );
  }
  if (sw === SW.AUTH_METHOD_BLOCKED) {
    return new CardStatusError(
      sw,
      name === 'PIN' ? 'PinBlocked' : 'PukBlocked',
      name === 'PIN'
        ? 'The PIN is blocked. Unblock it with the PUK.'
        : 'The PUK is blocked: the card can only be reset, which erases it.',
    );
  }
  return statusError(sw, `Checking the ${name}`);
}

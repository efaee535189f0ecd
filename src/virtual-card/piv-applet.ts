/**
 * The PIV card application of the virtual card: NIST SP 800-73-4 Part 2
 * ("PIV Card Application Card Command Interface") plus the Yubico PIV
 * extensions of a YubiKey 5 (https://developers.yubico.com/PIV/Introduction/Yubico_extensions.html).
 *
 * The applet sees whole logical commands: command chaining and GET RESPONSE
 * are resolved by the card (card.ts) before and after it.
 */
import { randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { CardStatus, SW, type CommandApdu } from './apdu.js';
import { attestSlot } from './attestation.js';
import {
  CURVES,
  ecdhSharedSecret,
  ecdsaSignDigest,
  exportPkcs8,
  generatePrivateKey,
  importPkcs8,
  importPrivateKey,
  isEc,
  isRsa,
  keyMatchesAlgorithm,
  mgmtDecrypt,
  mgmtEncrypt,
  mgmtKeyInfo,
  publicKeyTlvs,
  rsaRaw,
  RSA_BITS,
} from './card-crypto.js';
import {
  ALG,
  DEFAULT_MGMT_KEY_HEX,
  DEFAULT_PIN,
  DEFAULT_PUK,
  OBJ,
  PIN_POLICY,
  TOUCH_POLICY,
  defaultPinPolicy,
  isKeySlot,
  newCardState,
  objectKey,
  padReference,
  slotKey,
  type CardState,
  type KeySlotState,
  type SecretState,
} from './state.js';
import { bytesEqual, concat, fromHex, hex, parseTlvs, readTlv, tlv, tlvMap, TlvError } from './tlv.js';

/** The PIV AID (SP 800-73-4 Part 1 section 2.2): RID A0 00 00 03 08, PIX 00 00 10 00 01 00. */
export const PIV_AID = fromHex('a000000308000010000100');

export const INS = {
  SELECT: 0xa4,
  GET_RESPONSE: 0xc0,
  GET_DATA: 0xcb,
  PUT_DATA: 0xdb,
  VERIFY: 0x20,
  CHANGE_REFERENCE_DATA: 0x24,
  RESET_RETRY_COUNTER: 0x2c,
  GENERATE_ASYMMETRIC_KEY_PAIR: 0x47,
  GENERAL_AUTHENTICATE: 0x87,
  // Yubico extensions
  SET_MANAGEMENT_KEY: 0xff,
  IMPORT_ASYMMETRIC_KEY: 0xfe,
  GET_VERSION: 0xfd,
  RESET: 0xfb,
  SET_PIN_RETRIES: 0xfa,
  ATTEST: 0xf9,
  GET_SERIAL: 0xf8,
  GET_METADATA: 0xf7,
} as const;

export const INS_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(INS).map(([name, ins]) => [ins, name]),
) as Record<number, string>;

/** Key reference of the card application administration (management) key, SP 800-73-4 Part 1 Table 4b. */
const MGMT_KEY_REF = 0x9b;
const PIN_REF = 0x80;
const PUK_REF = 0x81;

/** Objects that may only be read after PIN verification (SP 800-73-4 Part 1 Table 2 access rules). */
const PIN_PROTECTED_OBJECTS = new Set<number>([OBJ.FINGERPRINTS, OBJ.FACIAL_IMAGE, OBJ.PRINTED_INFO, OBJ.IRIS_IMAGE]);

/** Largest data field a YubiKey 5 accepts in one logical command (its APDU buffer). */
const MAX_OBJECT_DATA = 3072;

export interface AppletResult {
  data: Uint8Array;
  sw: number;
}

type MgmtPending = { kind: 'witness'; witness: Uint8Array } | { kind: 'challenge'; challenge: Uint8Array };

function ok(data: Uint8Array = new Uint8Array(0)): AppletResult {
  return { data, sw: SW.OK };
}

function fail(sw: number): never {
  throw new CardStatus(sw);
}

function triesSw(secret: SecretState): number {
  return SW.VERIFY_FAIL | Math.min(secret.retriesRemaining, 15);
}

/** Unpadded length of a PIN/PUK reference (trailing 0xFF padding removed), SP 800-73-4 Part 2 section 2.4.3. */
function unpaddedLength(ref: Uint8Array): number {
  let n = ref.length;
  while (n > 0 && ref[n - 1] === 0xff) n--;
  return n;
}

/**
 * The discovery object (SP 800-73-4 Part 1 section 3.3.2, Table 18): PIV AID
 * and PIN usage policy 40 00 (PIV card application PIN only), as on a YubiKey.
 */
const DISCOVERY_OBJECT = tlv(0x7e, concat(tlv(0x4f, PIV_AID), tlv(0x5f2f, Uint8Array.of(0x40, 0x00))));

/**
 * The application property template returned by SELECT (SP 800-73-4 Part 2
 * section 3.1.1, Table 3): AID (PIX), coexistent tag allocation authority,
 * and the cryptographic algorithms the card supports.
 */
const APPLICATION_PROPERTY_TEMPLATE = tlv(
  0x61,
  concat(
    tlv(0x4f, PIV_AID.subarray(5)),
    tlv(0x79, tlv(0x4f, PIV_AID.subarray(0, 5))),
    tlv(
      0xac,
      concat(
        ...[ALG.TDES, ALG.AES128, ALG.AES192, ALG.AES256, ALG.RSA1024, ALG.RSA2048, ALG.ECCP256, ALG.ECCP384].map((a) =>
          tlv(0x80, Uint8Array.of(a)),
        ),
        tlv(0x06, Uint8Array.of(0x00)),
      ),
    ),
  ),
);

/** The certificate (tag 70) of a PIV certificate object such as 5FFF01 (SP 800-73-4 Part 1 Appendix A). */
function certificateOfObject(object: Uint8Array): Uint8Array {
  const cert = tlvMap(object).get(0x70);
  if (!cert || cert.length === 0) throw new TlvError('no certificate in the object');
  return cert;
}

export class PivApplet {
  // Volatile security state (cleared on power-off and on SELECT).
  private pinVerified = false;
  /** Set by a successful VERIFY, consumed by the next command: the "PIN always" rule. */
  private pinJustVerified = false;
  private mgmtAuthenticated = false;
  private mgmtPending: MgmtPending | undefined;
  private readonly keyCache = new Map<string, KeyObject>();

  constructor(
    private state: CardState,
    private readonly onStateChange: (state: CardState) => void,
  ) {}

  getState(): CardState {
    return this.state;
  }

  /** Clears the security status, as on power-off/reset or a (re-)SELECT of the application. */
  resetSecurityState(): void {
    this.pinVerified = false;
    this.pinJustVerified = false;
    this.mgmtAuthenticated = false;
    this.mgmtPending = undefined;
  }

  /** Response to SELECT of the PIV AID. */
  select(): AppletResult {
    this.resetSecurityState();
    return ok(APPLICATION_PROPERTY_TEMPLATE);
  }

  process(cmd: CommandApdu): AppletResult {
    const keepJustVerified = cmd.ins === INS.VERIFY;
    try {
      return this.dispatch(cmd);
    } catch (e) {
      if (e instanceof CardStatus) return { data: new Uint8Array(0), sw: e.sw };
      if (e instanceof TlvError) return { data: new Uint8Array(0), sw: SW.WRONG_DATA };
      throw e;
    } finally {
      if (!keepJustVerified) this.pinJustVerified = false;
    }
  }

  private changed(): void {
    this.onStateChange(this.state);
  }

  private dispatch(cmd: CommandApdu): AppletResult {
    switch (cmd.ins) {
      case INS.GET_DATA:
        return this.getData(cmd);
      case INS.PUT_DATA:
        return this.putData(cmd);
      case INS.VERIFY:
        return this.verify(cmd);
      case INS.CHANGE_REFERENCE_DATA:
        return this.changeReferenceData(cmd);
      case INS.RESET_RETRY_COUNTER:
        return this.resetRetryCounter(cmd);
      case INS.GENERATE_ASYMMETRIC_KEY_PAIR:
        return this.generate(cmd);
      case INS.GENERAL_AUTHENTICATE:
        return this.generalAuthenticate(cmd);
      case INS.GET_VERSION:
        return ok(Uint8Array.from(this.state.version));
      case INS.GET_SERIAL: {
        const s = this.state.serial;
        return ok(Uint8Array.of((s >>> 24) & 0xff, (s >>> 16) & 0xff, (s >>> 8) & 0xff, s & 0xff));
      }
      case INS.GET_METADATA:
        return this.getMetadata(cmd);
      case INS.SET_MANAGEMENT_KEY:
        return this.setManagementKey(cmd);
      case INS.SET_PIN_RETRIES:
        return this.setPinRetries(cmd);
      case INS.RESET:
        return this.reset(cmd);
      case INS.IMPORT_ASYMMETRIC_KEY:
        return this.importKey(cmd);
      case INS.ATTEST:
        return this.attest(cmd);
      default:
        return fail(SW.INS_NOT_SUPPORTED);
    }
  }

  // ------------------------------------------------------------ data objects

  /** GET DATA, SP 800-73-4 Part 2 section 3.1.2: data field 5C <tag>, response 53 <object>. */
  private getData(cmd: CommandApdu): AppletResult {
    if (cmd.p1 !== 0x3f || cmd.p2 !== 0xff) fail(SW.INCORRECT_P1P2);
    const t = readTlv(cmd.data);
    if (t.tag !== 0x5c || t.end !== cmd.data.length || t.value.length < 1 || t.value.length > 3) fail(SW.WRONG_DATA);
    const tag = t.value.reduce((acc, b) => (acc << 8) | b, 0);
    if (tag === OBJ.DISCOVERY) return ok(DISCOVERY_OBJECT);
    const stored = this.state.objects[objectKey(tag)];
    // Like a YubiKey, absence is reported before access control (OpenSC's CI_LEAKS_FILE_NOT_FOUND).
    if (stored === undefined) fail(SW.FILE_NOT_FOUND);
    if (PIN_PROTECTED_OBJECTS.has(tag) && !this.pinVerified) fail(SW.SECURITY_STATUS_NOT_SATISFIED);
    return ok(tlv(0x53, new Uint8Array(Buffer.from(stored, 'base64'))));
  }

  /** PUT DATA, SP 800-73-4 Part 2 section 3.2.1: 5C <tag> 53 <object>; needs the management key. */
  private putData(cmd: CommandApdu): AppletResult {
    if (cmd.p1 !== 0x3f || cmd.p2 !== 0xff) fail(SW.INCORRECT_P1P2);
    if (!this.mgmtAuthenticated) fail(SW.SECURITY_STATUS_NOT_SATISFIED);
    if (cmd.data.length > MAX_OBJECT_DATA) fail(SW.NOT_ENOUGH_MEMORY);
    const tagTlv = readTlv(cmd.data);
    if (tagTlv.tag !== 0x5c || tagTlv.value.length !== 3) fail(SW.WRONG_DATA);
    const tag = tagTlv.value.reduce((acc, b) => (acc << 8) | b, 0);
    // The PIV objects 5FC101-5FC123 and the vendor range up to 5FFFFF, as a YubiKey allows.
    if (tag < 0x5fc101 || tag > 0x5fffff) fail(SW.WRONG_DATA);
    const body = readTlv(cmd.data, tagTlv.end);
    if (body.tag !== 0x53 || body.end !== cmd.data.length) fail(SW.WRONG_DATA);
    const key = objectKey(tag);
    if (body.value.length === 0) delete this.state.objects[key];
    else this.state.objects[key] = Buffer.from(body.value).toString('base64');
    // Like a YubiKey 5, the card never writes the key history object 5FC10C
    // itself: the host keeps it (src/core/cards/roles.ts), and a host that
    // forgot it would fail here as on a real card (issue 9).
    this.changed();
    return ok();
  }

  // ------------------------------------------------------------ PIN and PUK

  /** VERIFY, SP 800-73-4 Part 2 section 3.2.1 (P1 FF resets the verification status). */
  private verify(cmd: CommandApdu): AppletResult {
    if (cmd.p2 !== PIN_REF) fail(cmd.p2 === PUK_REF || cmd.p2 === 0x00 ? SW.REFERENCE_NOT_FOUND : SW.INCORRECT_P1P2);
    const pin = this.state.pin;
    if (cmd.p1 === 0xff) {
      if (cmd.data.length !== 0) fail(SW.WRONG_DATA);
      this.pinVerified = false;
      this.pinJustVerified = false;
      return ok();
    }
    if (cmd.p1 !== 0x00) fail(SW.INCORRECT_P1P2);
    if (cmd.data.length === 0) {
      // Status query (Lc absent): 9000 if verified, else the retries left.
      if (pin.retriesRemaining === 0) fail(SW.AUTH_METHOD_BLOCKED);
      if (this.pinVerified) return ok();
      fail(triesSw(pin));
    }
    this.pinJustVerified = false;
    if (cmd.data.length !== 8) fail(SW.WRONG_DATA);
    if (pin.retriesRemaining === 0) fail(SW.AUTH_METHOD_BLOCKED);
    if (!bytesEqual(cmd.data, fromHex(pin.valueHex))) {
      this.pinVerified = false;
      pin.retriesRemaining--;
      this.changed();
      fail(triesSw(pin));
    }
    if (pin.retriesRemaining !== pin.maxRetries) {
      pin.retriesRemaining = pin.maxRetries;
      this.changed();
    }
    this.pinVerified = true;
    this.pinJustVerified = true;
    return ok();
  }

  /** Checks a PIN/PUK against its reference data, counting a failure (63Cx) or blocking (6983). */
  private checkSecret(secret: SecretState, candidate: Uint8Array): void {
    if (secret.retriesRemaining === 0) fail(SW.AUTH_METHOD_BLOCKED);
    if (!bytesEqual(candidate, fromHex(secret.valueHex))) {
      secret.retriesRemaining--;
      if (secret === this.state.pin) this.pinVerified = false;
      this.changed();
      fail(triesSw(secret));
    }
  }

  /** CHANGE REFERENCE DATA, SP 800-73-4 Part 2 section 3.2.2: old (8 bytes) || new (8 bytes). */
  private changeReferenceData(cmd: CommandApdu): AppletResult {
    if (cmd.p1 !== 0x00) fail(SW.INCORRECT_P1P2);
    if (cmd.p2 !== PIN_REF && cmd.p2 !== PUK_REF) fail(SW.REFERENCE_NOT_FOUND);
    if (cmd.data.length !== 16) fail(SW.WRONG_DATA);
    const secret = cmd.p2 === PIN_REF ? this.state.pin : this.state.puk;
    const newValue = cmd.data.subarray(8);
    this.checkSecret(secret, cmd.data.subarray(0, 8));
    if (unpaddedLength(newValue) < 6) fail(SW.WRONG_DATA);
    secret.valueHex = hex(newValue);
    secret.retriesRemaining = secret.maxRetries;
    this.changed();
    return ok();
  }

  /** RESET RETRY COUNTER, SP 800-73-4 Part 2 section 3.2.3: PUK (8 bytes) || new PIN (8 bytes). */
  private resetRetryCounter(cmd: CommandApdu): AppletResult {
    if (cmd.p1 !== 0x00) fail(SW.INCORRECT_P1P2);
    if (cmd.p2 !== PIN_REF) fail(SW.REFERENCE_NOT_FOUND);
    if (cmd.data.length !== 16) fail(SW.WRONG_DATA);
    const newPin = cmd.data.subarray(8);
    this.checkSecret(this.state.puk, cmd.data.subarray(0, 8));
    if (unpaddedLength(newPin) < 6) fail(SW.WRONG_DATA);
    this.state.puk.retriesRemaining = this.state.puk.maxRetries;
    this.state.pin.valueHex = hex(newPin);
    this.state.pin.retriesRemaining = this.state.pin.maxRetries;
    this.changed();
    return ok();
  }

  // ------------------------------------------------------------ keys

  private slotState(slot: number): KeySlotState | undefined {
    return this.state.slots[slotKey(slot)];
  }

  private privateKey(slot: number, s: KeySlotState): KeyObject {
    const cacheKey = `${slotKey(slot)}:${s.privateKey.length}:${s.privateKey.slice(-16)}`;
    let k = this.keyCache.get(cacheKey);
    if (!k) {
      k = importPkcs8(s.privateKey);
      this.keyCache.set(cacheKey, k);
    }
    return k;
  }

  private parsePolicies(slot: number, m: Map<number, Uint8Array>): { pinPolicy: number; touchPolicy: number } {
    const pinRaw = m.get(0xaa);
    const touchRaw = m.get(0xab);
    let pinPolicy = pinRaw ? pinRaw[0]! : PIN_POLICY.DEFAULT;
    let touchPolicy = touchRaw ? touchRaw[0]! : TOUCH_POLICY.DEFAULT;
    if ((pinRaw && pinRaw.length !== 1) || (touchRaw && touchRaw.length !== 1)) fail(SW.WRONG_DATA);
    if (pinPolicy > PIN_POLICY.ALWAYS || touchPolicy > TOUCH_POLICY.CACHED) fail(SW.WRONG_DATA);
    if (pinPolicy === PIN_POLICY.DEFAULT) pinPolicy = defaultPinPolicy(slot);
    if (touchPolicy === TOUCH_POLICY.DEFAULT) touchPolicy = TOUCH_POLICY.NEVER;
    return { pinPolicy, touchPolicy };
  }

  private storeKey(
    slot: number,
    alg: number,
    key: KeyObject,
    policies: { pinPolicy: number; touchPolicy: number },
    origin: KeySlotState['origin'],
  ): void {
    this.state.slots[slotKey(slot)] = { algorithm: alg, ...policies, origin, privateKey: exportPkcs8(key) };
    for (const k of this.keyCache.keys()) if (k.startsWith(`${slotKey(slot)}:`)) this.keyCache.delete(k);
    this.changed();
  }

  /**
   * GENERATE ASYMMETRIC KEY PAIR, SP 800-73-4 Part 2 section 3.3.2: template
   * AC { 80 algorithm, AA PIN policy, AB touch policy (Yubico) }; response
   * 7F49 with the public key. Needs the management key.
   */
  private generate(cmd: CommandApdu): AppletResult {
    if (cmd.p1 !== 0x00 || !isKeySlot(cmd.p2) || cmd.p2 === 0xf9) fail(SW.INCORRECT_P1P2);
    if (!this.mgmtAuthenticated) fail(SW.SECURITY_STATUS_NOT_SATISFIED);
    const t = readTlv(cmd.data);
    if (t.tag !== 0xac) fail(SW.WRONG_DATA);
    const m = tlvMap(t.value);
    const algBytes = m.get(0x80);
    if (!algBytes || algBytes.length !== 1) fail(SW.WRONG_DATA);
    const alg = algBytes[0]!;
    if (!isRsa(alg) && !isEc(alg)) fail(SW.WRONG_DATA);
    const policies = this.parsePolicies(cmd.p2, m);
    const key = generatePrivateKey(alg);
    this.storeKey(cmd.p2, alg, key, policies, 'generated');
    return ok(tlv(0x7f49, publicKeyTlvs(alg, key)));
  }

  /** Yubico IMPORT ASYMMETRIC KEY (INS FE, P1 algorithm, P2 slot). Needs the management key. */
  private importKey(cmd: CommandApdu): AppletResult {
    if (!isKeySlot(cmd.p2)) fail(SW.INCORRECT_P1P2);
    if (!isRsa(cmd.p1) && !isEc(cmd.p1)) fail(SW.INCORRECT_P1P2);
    if (!this.mgmtAuthenticated) fail(SW.SECURITY_STATUS_NOT_SATISFIED);
    const m = tlvMap(cmd.data);
    const policies = this.parsePolicies(cmd.p2, m);
    let key: KeyObject;
    try {
      key = importPrivateKey(cmd.p1, m);
    } catch {
      return fail(SW.WRONG_DATA);
    }
    this.storeKey(cmd.p2, cmd.p1, key, policies, 'imported');
    return ok();
  }

  // ------------------------------------------------------------ GENERAL AUTHENTICATE

  /** GENERAL AUTHENTICATE, SP 800-73-4 Part 2 section 3.2.4, dynamic authentication template 7C. */
  private generalAuthenticate(cmd: CommandApdu): AppletResult {
    const outer = readTlv(cmd.data);
    if (outer.tag !== 0x7c || outer.end !== cmd.data.length) fail(SW.WRONG_DATA);
    const items = new Map<number, Uint8Array>();
    for (const t of parseTlvs(outer.value)) items.set(t.tag, t.value);
    if (cmd.p2 === MGMT_KEY_REF) return this.mgmtAuthenticate(cmd.p1, items);
    if (!isKeySlot(cmd.p2)) fail(SW.INCORRECT_P1P2);
    return this.keyOperation(cmd.p1, cmd.p2, items);
  }

  /**
   * Authentication with the card application administration key:
   * - mutual (SP 800-73-4 Part 2 Appendix A.3, as ykpiv does it): 7C{80 00}
   *   returns the witness encrypted; 7C{80 witness, 81 challenge} proves
   *   the host knows the key and returns 7C{82 E(challenge)};
   * - external (Appendix A.2): 7C{81 00} returns a challenge;
   *   7C{82 E(challenge)} authenticates the host.
   * Any mismatch is 6982 and leaves the card unauthenticated.
   */
  private mgmtAuthenticate(p1: number, items: Map<number, Uint8Array>): AppletResult {
    const mk = this.state.managementKey;
    if (p1 !== mk.algorithm) fail(SW.WRONG_DATA);
    const info = mgmtKeyInfo(mk.algorithm);
    if (!info) fail(SW.WRONG_DATA);
    const key = fromHex(mk.keyHex);
    const witness = items.get(0x80);
    const challenge = items.get(0x81);
    const response = items.get(0x82);
    const pending = this.mgmtPending;
    this.mgmtPending = undefined;

    if (witness !== undefined && witness.length === 0 && challenge === undefined && response === undefined) {
      this.mgmtAuthenticated = false;
      const w = new Uint8Array(randomBytes(info.block));
      this.mgmtPending = { kind: 'witness', witness: w };
      return ok(tlv(0x7c, tlv(0x80, mgmtEncrypt(mk.algorithm, key, w))));
    }
    if (witness !== undefined && witness.length > 0) {
      this.mgmtAuthenticated = false;
      if (!challenge || challenge.length !== info.block || witness.length !== info.block) fail(SW.WRONG_DATA);
      if (pending?.kind !== 'witness' || !bytesEqual(pending.witness, witness)) fail(SW.SECURITY_STATUS_NOT_SATISFIED);
      this.mgmtAuthenticated = true;
      return ok(tlv(0x7c, tlv(0x82, mgmtEncrypt(mk.algorithm, key, challenge))));
    }
    if (challenge !== undefined && challenge.length === 0 && witness === undefined) {
      this.mgmtAuthenticated = false;
      const c = new Uint8Array(randomBytes(info.block));
      this.mgmtPending = { kind: 'challenge', challenge: c };
      return ok(tlv(0x7c, tlv(0x81, c)));
    }
    if (response !== undefined && response.length > 0 && witness === undefined && challenge === undefined) {
      this.mgmtAuthenticated = false;
      if (response.length !== info.block) fail(SW.WRONG_DATA);
      if (pending?.kind !== 'challenge') fail(SW.SECURITY_STATUS_NOT_SATISFIED);
      if (!bytesEqual(mgmtDecrypt(mk.algorithm, key, response), pending.challenge))
        fail(SW.SECURITY_STATUS_NOT_SATISFIED);
      this.mgmtAuthenticated = true;
      return ok();
    }
    if (challenge !== undefined && challenge.length === info.block && response !== undefined && response.length === 0) {
      // Internal authentication of the card with the administration key: proves the card holds it.
      return ok(tlv(0x7c, tlv(0x82, mgmtEncrypt(mk.algorithm, key, challenge))));
    }
    return fail(SW.WRONG_DATA);
  }

  /** Private-key operations in a key slot, subject to the slot's PIN policy. */
  private keyOperation(alg: number, slot: number, items: Map<number, Uint8Array>): AppletResult {
    const s = this.slotState(slot);
    if (!s) fail(SW.FILE_NOT_FOUND);
    if (alg !== s.algorithm) fail(SW.WRONG_DATA);
    const response = items.get(0x82);
    const challenge = items.get(0x81);
    const exponentiation = items.get(0x85);
    if (response === undefined || response.length !== 0) fail(SW.WRONG_DATA);
    if ((challenge === undefined) === (exponentiation === undefined)) fail(SW.WRONG_DATA);

    // PIN policy (Yubico extension of SP 800-73-4 Part 1 section 3.5 key access rules).
    if (s.pinPolicy === PIN_POLICY.ALWAYS) {
      if (!this.pinVerified || !this.pinJustVerified) fail(SW.SECURITY_STATUS_NOT_SATISFIED);
    } else if (s.pinPolicy === PIN_POLICY.ONCE) {
      if (!this.pinVerified) fail(SW.SECURITY_STATUS_NOT_SATISFIED);
    }
    const key = this.privateKey(slot, s);
    if (!keyMatchesAlgorithm(alg, key)) fail(SW.NO_PRECISE_DIAGNOSIS);

    let result: Uint8Array;
    if (isRsa(alg)) {
      const input = challenge ?? exponentiation!;
      if (input.length !== RSA_BITS[alg]! / 8) fail(SW.WRONG_DATA);
      try {
        result = rsaRaw(key, input);
      } catch {
        return fail(SW.WRONG_DATA); // input not smaller than the modulus
      }
    } else if (challenge !== undefined) {
      if (challenge.length === 0 || challenge.length > CURVES[alg]!.size) fail(SW.WRONG_DATA);
      result = ecdsaSignDigest(alg, key, challenge);
    } else {
      try {
        result = ecdhSharedSecret(alg, key, exponentiation!);
      } catch {
        return fail(SW.WRONG_DATA);
      }
    }
    return ok(tlv(0x7c, tlv(0x82, result)));
  }

  // ------------------------------------------------------------ attestation

  /**
   * Yubico ATTEST (INS F9, P1 slot, P2 00, firmware 4.3+): the DER
   * certificate of the slot's public key, signed by the attestation key in
   * F9 and issued by the subject of its certificate in 5FFF01
   * (src/virtual-card/attestation.ts; the virtual chain is not Yubico's).
   * Needs no PIN or management key. An empty slot is 6A88; a key that was
   * imported, not generated on the card, is 6A80, as on a YubiKey 5; a card
   * without an F9 key or certificate cannot attest (6A88).
   */
  private attest(cmd: CommandApdu): AppletResult {
    if (cmd.p2 !== 0x00 || !isKeySlot(cmd.p1) || cmd.p1 === 0xf9) fail(SW.INCORRECT_P1P2);
    if (cmd.data.length !== 0) fail(SW.WRONG_LENGTH);
    const s = this.slotState(cmd.p1);
    if (!s) fail(SW.REFERENCE_NOT_FOUND);
    if (s.origin !== 'generated') fail(SW.WRONG_DATA);
    const f9 = this.slotState(0xf9);
    const f9Cert = this.state.objects[objectKey(OBJ.YUBICO_ATTESTATION_CERT)];
    if (!f9 || f9Cert === undefined) fail(SW.REFERENCE_NOT_FOUND);
    let der: Uint8Array;
    try {
      der = attestSlot(
        {
          serial: this.state.serial,
          version: this.state.version,
          attestationCertificate: certificateOfObject(new Uint8Array(Buffer.from(f9Cert, 'base64'))),
          attestationKey: this.privateKey(0xf9, f9),
        },
        {
          slot: cmd.p1,
          publicKey: this.privateKey(cmd.p1, s),
          pinPolicy: s.pinPolicy,
          touchPolicy: s.touchPolicy,
        },
      );
    } catch {
      // 5FFF01 was overwritten with something that is not a certificate object.
      return fail(SW.NO_PRECISE_DIAGNOSIS);
    }
    return ok(der);
  }

  /** Carries the attestation key, its certificate and the virtual root over into a reset card. */
  private keepAttestation(fresh: CardState): void {
    const f9 = this.state.slots[slotKey(0xf9)];
    const cert = this.state.objects[objectKey(OBJ.YUBICO_ATTESTATION_CERT)];
    delete fresh.slots[slotKey(0xf9)];
    delete fresh.objects[objectKey(OBJ.YUBICO_ATTESTATION_CERT)];
    delete fresh.attestationRoot;
    if (f9) fresh.slots[slotKey(0xf9)] = f9;
    if (cert !== undefined) fresh.objects[objectKey(OBJ.YUBICO_ATTESTATION_CERT)] = cert;
    if (this.state.attestationRoot !== undefined) fresh.attestationRoot = this.state.attestationRoot;
  }

  // ------------------------------------------------------------ Yubico management

  /**
   * Yubico GET METADATA (INS F7, firmware 5.3+): 01 algorithm, 02 PIN/touch
   * policy, 03 origin, 04 public key, 05 default value, 06 retries (total, remaining).
   */
  private getMetadata(cmd: CommandApdu): AppletResult {
    if (cmd.p1 !== 0x00) fail(SW.INCORRECT_P1P2);
    const ref = cmd.p2;
    if (ref === PIN_REF || ref === PUK_REF) {
      const secret = ref === PIN_REF ? this.state.pin : this.state.puk;
      const isDefault = bytesEqual(fromHex(secret.valueHex), padReference(ref === PIN_REF ? DEFAULT_PIN : DEFAULT_PUK));
      return ok(
        concat(
          tlv(0x01, Uint8Array.of(0xff)),
          tlv(0x05, Uint8Array.of(isDefault ? 1 : 0)),
          tlv(0x06, Uint8Array.of(secret.maxRetries, secret.retriesRemaining)),
        ),
      );
    }
    if (ref === MGMT_KEY_REF) {
      const mk = this.state.managementKey;
      const isDefault = mk.algorithm === ALG.TDES && mk.keyHex.toLowerCase() === DEFAULT_MGMT_KEY_HEX;
      return ok(
        concat(
          tlv(0x01, Uint8Array.of(mk.algorithm)),
          tlv(0x02, Uint8Array.of(PIN_POLICY.NEVER, mk.touchPolicy)),
          tlv(0x05, Uint8Array.of(isDefault ? 1 : 0)),
        ),
      );
    }
    if (!isKeySlot(ref)) fail(SW.INCORRECT_P1P2);
    const s = this.slotState(ref);
    // An empty slot is 6A88 "referenced data not found" on a YubiKey 5 (yubikit
    // reads it so); hosts take 6A88 to mean the slot is free (issue 9).
    if (!s) fail(SW.REFERENCE_NOT_FOUND);
    const key = this.privateKey(ref, s);
    return ok(
      concat(
        tlv(0x01, Uint8Array.of(s.algorithm)),
        tlv(0x02, Uint8Array.of(s.pinPolicy, s.touchPolicy)),
        tlv(0x03, Uint8Array.of(s.origin === 'generated' ? 1 : 2)),
        tlv(0x04, publicKeyTlvs(s.algorithm, key)),
      ),
    );
  }

  /** Yubico SET MANAGEMENT KEY (INS FF, P1 FF, P2 FF or FE for touch): algorithm, 9B, length, key. */
  private setManagementKey(cmd: CommandApdu): AppletResult {
    if (cmd.p1 !== 0xff || (cmd.p2 !== 0xff && cmd.p2 !== 0xfe)) fail(SW.INCORRECT_P1P2);
    if (!this.mgmtAuthenticated) fail(SW.SECURITY_STATUS_NOT_SATISFIED);
    const d = cmd.data;
    if (d.length < 3 || d[1] !== MGMT_KEY_REF) fail(SW.WRONG_DATA);
    const alg = d[0]!;
    const info = mgmtKeyInfo(alg);
    if (!info || d[2] !== info.keyLen || d.length !== 3 + info.keyLen) fail(SW.WRONG_DATA);
    this.state.managementKey = {
      algorithm: alg,
      keyHex: hex(d.subarray(3)),
      touchPolicy: cmd.p2 === 0xfe ? TOUCH_POLICY.ALWAYS : TOUCH_POLICY.NEVER,
    };
    this.changed();
    return ok();
  }

  /**
   * Yubico SET PIN RETRIES (INS FA, P1 PIN tries, P2 PUK tries). Needs the
   * management key and a verified PIN; resets PIN and PUK to their defaults.
   */
  private setPinRetries(cmd: CommandApdu): AppletResult {
    if (cmd.p1 === 0 || cmd.p2 === 0) fail(SW.INCORRECT_P1P2);
    if (!this.mgmtAuthenticated || !this.pinVerified) fail(SW.SECURITY_STATUS_NOT_SATISFIED);
    this.state.pin = { valueHex: hex(padReference(DEFAULT_PIN)), retriesRemaining: cmd.p1, maxRetries: cmd.p1 };
    this.state.puk = { valueHex: hex(padReference(DEFAULT_PUK)), retriesRemaining: cmd.p2, maxRetries: cmd.p2 };
    this.changed();
    return ok();
  }

  /** Yubico RESET (INS FB): only when both PIN and PUK are blocked; back to factory state, same serial. */
  private reset(cmd: CommandApdu): AppletResult {
    if (cmd.p1 !== 0x00 || cmd.p2 !== 0x00) fail(SW.INCORRECT_P1P2);
    if (this.state.pin.retriesRemaining !== 0 || this.state.puk.retriesRemaining !== 0)
      fail(SW.CONDITIONS_NOT_SATISFIED);
    const fresh = newCardState(this.state.serial);
    fresh.version = this.state.version;
    // As on a YubiKey, a reset leaves the attestation key (F9) and its certificate (5FFF01) alone.
    this.keepAttestation(fresh);
    // Mutate in place so holders of the state object see the reset card.
    Object.assign(this.state, fresh);
    this.keyCache.clear();
    this.resetSecurityState();
    this.changed();
    return ok();
  }
}

/**
 * Virtual PIV card over the in-process transport: the card side of
 * SP 800-73-4 and the Yubico extensions, exercised with raw APDUs the way a
 * host (ykpiv, OpenSC) sends them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createPublicKey,
  randomBytes,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualPivCard, YUBIKEY5_ATR } from '../../src/virtual-card/card.js';
import { InProcessCardReader } from '../../src/virtual-card/in-process.js';
import { buildApdu } from '../../src/virtual-card/apdu.js';
import { loadState } from '../../src/virtual-card/state.js';
import { parseTlvs, readTlv, tlv, concat, tlvMap } from '../../src/virtual-card/tlv.js';

// ---------------------------------------------------------------- host-side helpers (what a PIV client does)

interface Resp {
  data: Uint8Array;
  sw: number;
}

const PIV_AID = Buffer.from('a000000308', 'hex');
const DEFAULT_3DES = Buffer.from('010203040506070801020304050607080102030405060708', 'hex');

function raw(reader: InProcessCardReader, apdu: Uint8Array): Resp {
  const r = reader.transmit(apdu);
  return { data: r.subarray(0, r.length - 2), sw: (r[r.length - 2]! << 8) | r[r.length - 1]! };
}

/** Sends a command (chaining blocks of 255 bytes when needed) and collects 61xx continuations with GET RESPONSE. */
function send(reader: InProcessCardReader, ins: number, p1: number, p2: number, data?: Uint8Array, le?: number): Resp {
  const d = data ?? new Uint8Array(0);
  let off = 0;
  while (d.length - off > 255) {
    const r = raw(reader, buildApdu(0x10, ins, p1, p2, d.subarray(off, off + 255)));
    if (r.sw !== 0x9000) return r;
    off += 255;
  }
  let r = raw(reader, buildApdu(0x00, ins, p1, p2, d.subarray(off), le));
  const chunks = [r.data];
  while (r.sw >> 8 === 0x61) {
    r = raw(reader, buildApdu(0x00, 0xc0, 0x00, 0x00, undefined, r.sw & 0xff || 256));
    chunks.push(r.data);
  }
  return { data: concat(...chunks), sw: r.sw };
}

function select(reader: InProcessCardReader): Resp {
  return send(reader, 0xa4, 0x04, 0x00, PIV_AID);
}

function pinBlock(pin: string): Uint8Array {
  const b = Buffer.alloc(8, 0xff);
  b.write(pin, 'utf8');
  return b;
}

function verifyPin(reader: InProcessCardReader, pin: string): number {
  return send(reader, 0x20, 0x00, 0x80, pinBlock(pin)).sw;
}

const MGMT_CIPHER: Record<number, string> = {
  0x03: 'des-ede3',
  0x08: 'aes-128-ecb',
  0x0a: 'aes-192-ecb',
  0x0c: 'aes-256-ecb',
};

function ecb(alg: number, key: Uint8Array, block: Uint8Array, encrypt: boolean): Uint8Array {
  const c = encrypt
    ? createCipheriv(MGMT_CIPHER[alg]!, key, null).setAutoPadding(false)
    : createDecipheriv(MGMT_CIPHER[alg]!, key, null).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(block), c.final()]));
}

/** Mutual authentication with the management key, as ykpiv does it. Returns the SW of the second step. */
function authenticateMgmt(reader: InProcessCardReader, alg: number, key: Uint8Array): number {
  const step1 = send(reader, 0x87, alg, 0x9b, Uint8Array.from([0x7c, 0x02, 0x80, 0x00]));
  if (step1.sw !== 0x9000) return step1.sw;
  const encWitness = tlvMap(readTlv(step1.data).value).get(0x80)!;
  const witness = ecb(alg, key, encWitness, false);
  const challenge = new Uint8Array(randomBytes(encWitness.length));
  const step2 = send(reader, 0x87, alg, 0x9b, tlv(0x7c, concat(tlv(0x80, witness), tlv(0x81, challenge))));
  if (step2.sw !== 0x9000) return step2.sw;
  const answer = tlvMap(readTlv(step2.data).value).get(0x82)!;
  expect(Buffer.from(answer)).toEqual(Buffer.from(ecb(alg, key, challenge, true)));
  return step2.sw;
}

function putData(reader: InProcessCardReader, tag: number, content: Uint8Array): number {
  const tagBytes = Uint8Array.of((tag >> 16) & 0xff, (tag >> 8) & 0xff, tag & 0xff);
  return send(reader, 0xdb, 0x3f, 0xff, concat(tlv(0x5c, tagBytes), tlv(0x53, content))).sw;
}

function getData(reader: InProcessCardReader, tag: number, le?: number): Resp {
  const tagBytes = Uint8Array.of((tag >> 16) & 0xff, (tag >> 8) & 0xff, tag & 0xff);
  return send(reader, 0xcb, 0x3f, 0xff, tlv(0x5c, tagBytes), le);
}

function generate(reader: InProcessCardReader, slot: number, alg: number, pinPolicy?: number): Resp {
  const items = [tlv(0x80, Uint8Array.of(alg))];
  if (pinPolicy !== undefined) items.push(tlv(0xaa, Uint8Array.of(pinPolicy)));
  return send(reader, 0x47, 0x00, slot, tlv(0xac, concat(...items)));
}

function rsaPublicKey(resp: Resp): KeyObject {
  const inner = tlvMap(readTlv(resp.data).value);
  return createPublicKey({
    key: {
      kty: 'RSA',
      n: Buffer.from(inner.get(0x81)!).toString('base64url'),
      e: Buffer.from(inner.get(0x82)!).toString('base64url'),
    },
    format: 'jwk',
  });
}

function ecPoint(resp: Resp): Uint8Array {
  return tlvMap(readTlv(resp.data).value).get(0x86)!;
}

/** EMSA-PKCS1-v1_5 encoding of a SHA-256 digest for a 2048-bit modulus (RFC 8017 section 9.2). */
function pkcs1v15Sha256(message: Uint8Array): Uint8Array {
  const digestInfo = Buffer.concat([
    Buffer.from('3031300d060960864801650304020105000420', 'hex'),
    createHash('sha256').update(message).digest(),
  ]);
  const ps = Buffer.alloc(256 - 3 - digestInfo.length, 0xff);
  return Buffer.concat([Buffer.from([0x00, 0x01]), ps, Buffer.from([0x00]), digestInfo]);
}

function sign(reader: InProcessCardReader, alg: number, slot: number, input: Uint8Array): Resp {
  return send(reader, 0x87, alg, slot, tlv(0x7c, concat(tlv(0x82, new Uint8Array(0)), tlv(0x81, input))));
}

function ecdh(reader: InProcessCardReader, slot: number, point: Uint8Array): Resp {
  return send(reader, 0x87, 0x11, slot, tlv(0x7c, concat(tlv(0x82, new Uint8Array(0)), tlv(0x85, point))));
}

function responseValue(resp: Resp): Uint8Array {
  return tlvMap(readTlv(resp.data).value).get(0x82)!;
}

// ---------------------------------------------------------------- tests

let card: VirtualPivCard;
let reader: InProcessCardReader;

beforeEach(() => {
  card = new VirtualPivCard();
  reader = new InProcessCardReader(card);
  expect(Buffer.from(reader.connect())).toEqual(Buffer.from(YUBIKEY5_ATR));
});

afterEach(() => reader.disconnect());

describe('virtual PIV card: selection and identification', () => {
  it('answers SELECT with the application property template (61 with 4F, 79, AC)', () => {
    const r = select(reader);
    expect(r.sw).toBe(0x9000);
    const apt = readTlv(r.data);
    expect(apt.tag).toBe(0x61);
    const items = tlvMap(apt.value);
    expect(Buffer.from(items.get(0x4f)!).toString('hex')).toBe('000010000100');
    expect(Buffer.from(items.get(0x79)!).toString('hex')).toBe('4f05a000000308');
    const algs = parseTlvs(items.get(0xac)!)
      .filter((t) => t.tag === 0x80)
      .map((t) => t.value[0]);
    expect(algs).toEqual(expect.arrayContaining([0x03, 0x07, 0x11, 0x14]));
  });

  it('reports status words like a real card', () => {
    expect(raw(reader, buildApdu(0x00, 0xfd, 0, 0, undefined, 256)).sw).toBe(0x6d00); // nothing selected yet
    expect(send(reader, 0xa4, 0x04, 0x00, Buffer.from('a0000005272001', 'hex')).sw).toBe(0x6a82);
    select(reader);
    expect(raw(reader, Uint8Array.of(0x80, 0xfd, 0, 0)).sw).toBe(0x6e00);
    expect(raw(reader, Uint8Array.of(0x00, 0x12, 0, 0)).sw).toBe(0x6d00);
    expect(raw(reader, Uint8Array.of(0x00, 0xcb, 0x3f, 0xff, 0x05, 0x5c)).sw).toBe(0x6700);
    expect(getData(reader, 0x5fc105).sw).toBe(0x6a82);
    expect(send(reader, 0xcb, 0x3f, 0x00, tlv(0x5c, Uint8Array.of(0x7e))).sw).toBe(0x6a86);
    expect(send(reader, 0x20, 0x00, 0x80, Uint8Array.of(1, 2, 3)).sw).toBe(0x6a80);
    const v = send(reader, 0xfd, 0, 0);
    expect([...v.data]).toEqual([5, 4, 3]);
    const s = send(reader, 0xf8, 0, 0);
    expect(Buffer.from(s.data).readUInt32BE(0)).toBe(card.serial);
    const disc = send(reader, 0xcb, 0x3f, 0xff, tlv(0x5c, Uint8Array.of(0x7e)));
    expect(Buffer.from(disc.data).toString('hex')).toBe('7e124f0ba0000003080000100001005f2f024000');
    // A factory YubiKey 5 has no CHUID (5FC102) or CCC (5FC107), nor a key history object (5FC10C).
    expect(getData(reader, 0x5fc102).sw).toBe(0x6a82);
    expect(getData(reader, 0x5fc107).sw).toBe(0x6a82);
    expect(getData(reader, 0x5fc10c).sw).toBe(0x6a82);
    // Its one data object is the attestation certificate (5FFF01), which a YubiKey 5 comes with too.
    expect(Object.keys(card.state.objects)).toEqual(['5fff01']);
  });

  it('GET METADATA of an empty key slot answers 6A88 (referenced data not found), as a YubiKey 5 does', () => {
    select(reader);
    for (const slot of [0x9a, 0x9c, 0x9d, 0x9e, 0x82, 0x95]) expect(send(reader, 0xf7, 0x00, slot).sw).toBe(0x6a88);
    expect(send(reader, 0xf7, 0x00, 0x42).sw).toBe(0x6a86); // not a key reference at all
  });
});

describe('virtual card: YubiKey management application', () => {
  const MANAGEMENT_AID = Buffer.from('a000000527471117', 'hex');

  it('answers SELECT with the firmware version and READ CONFIG with device information', () => {
    const sel = send(reader, 0xa4, 0x04, 0x00, MANAGEMENT_AID);
    expect(sel.sw).toBe(0x9000);
    expect(Buffer.from(sel.data).toString('ascii')).toBe('5.4.3');
    const info = send(reader, 0x1d, 0x00, 0x00);
    expect(info.sw).toBe(0x9000);
    expect(info.data[0]).toBe(info.data.length - 1); // one length byte, then the TLVs
    const m = tlvMap(info.data.subarray(1));
    expect(Buffer.from(m.get(0x01)!).readUInt16BE(0)).toBe(0x10); // USB supported: PIV
    expect(Buffer.from(m.get(0x03)!).readUInt16BE(0)).toBe(0x10); // USB enabled: PIV
    expect(Buffer.from(m.get(0x02)!).readUInt32BE(0)).toBe(card.serial);
    expect([...m.get(0x05)!]).toEqual([5, 4, 3]);
    expect([...m.get(0x04)!]).toEqual([0x03]); // USB-C keychain
    expect(m.has(0x0d)).toBe(false); // no NFC
    expect(send(reader, 0x1d, 0x01, 0x00).sw).toBe(0x6a86);
    expect(send(reader, 0x1c, 0x00, 0x00, Uint8Array.of(0x00)).sw).toBe(0x6d00); // configuration changes are not supported
    expect(send(reader, 0xfd, 0x00, 0x00).sw).toBe(0x6d00); // PIV commands need the PIV application
  });

  it('selecting the management application ends the PIV security status', () => {
    select(reader);
    expect(verifyPin(reader, '123456')).toBe(0x9000);
    expect(send(reader, 0x20, 0x00, 0x80).sw).toBe(0x9000);
    expect(send(reader, 0xa4, 0x04, 0x00, MANAGEMENT_AID).sw).toBe(0x9000);
    select(reader);
    expect(send(reader, 0x20, 0x00, 0x80).sw).toBe(0x63c3);
  });
});

describe('virtual PIV card: PIN and PUK', () => {
  beforeEach(() => select(reader));

  it('counts wrong PINs down (63C2, 63C1, 63C0) and then blocks (6983)', () => {
    expect(send(reader, 0x20, 0x00, 0x80).sw).toBe(0x63c3);
    expect(verifyPin(reader, '000000')).toBe(0x63c2);
    expect(verifyPin(reader, '000000')).toBe(0x63c1);
    expect(verifyPin(reader, '000000')).toBe(0x63c0);
    expect(verifyPin(reader, '123456')).toBe(0x6983);
    expect(send(reader, 0x20, 0x00, 0x80).sw).toBe(0x6983);
    const meta = tlvMap(send(reader, 0xf7, 0x00, 0x80).data);
    expect([...meta.get(0x06)!]).toEqual([3, 0]);
  });

  it('a correct PIN resets the counter; empty VERIFY reports 9000 once verified', () => {
    expect(verifyPin(reader, '000000')).toBe(0x63c2);
    expect(verifyPin(reader, '123456')).toBe(0x9000);
    expect(send(reader, 0x20, 0x00, 0x80).sw).toBe(0x9000);
    expect(send(reader, 0x20, 0xff, 0x80).sw).toBe(0x9000); // reset verification status
    expect(send(reader, 0x20, 0x00, 0x80).sw).toBe(0x63c3);
  });

  it('unblocks a blocked PIN with the PUK (RESET RETRY COUNTER) and changes PIN and PUK', () => {
    for (let i = 0; i < 3; i++) verifyPin(reader, '000000');
    expect(verifyPin(reader, '123456')).toBe(0x6983);
    expect(send(reader, 0x2c, 0x00, 0x80, concat(pinBlock('00000000'), pinBlock('654321'))).sw).toBe(0x63c2);
    expect(send(reader, 0x2c, 0x00, 0x80, concat(pinBlock('12345678'), pinBlock('654321'))).sw).toBe(0x9000);
    expect(verifyPin(reader, '654321')).toBe(0x9000);
    expect(send(reader, 0x24, 0x00, 0x80, concat(pinBlock('654321'), pinBlock('11112222'))).sw).toBe(0x9000);
    expect(verifyPin(reader, '11112222')).toBe(0x9000);
    expect(send(reader, 0x24, 0x00, 0x81, concat(pinBlock('12345678'), pinBlock('87654321'))).sw).toBe(0x9000);
    expect(send(reader, 0x24, 0x00, 0x80, concat(pinBlock('11112222'), pinBlock('123'))).sw).toBe(0x6a80);
    const meta = tlvMap(send(reader, 0xf7, 0x00, 0x81).data);
    expect([...meta.get(0x05)!]).toEqual([0]); // PUK no longer the default
  });

  it('RESET works only when PIN and PUK are both blocked', () => {
    expect(send(reader, 0xfb, 0, 0).sw).toBe(0x6985);
    for (let i = 0; i < 3; i++) verifyPin(reader, '000000');
    for (let i = 0; i < 3; i++) send(reader, 0x2c, 0x00, 0x80, concat(pinBlock('00000000'), pinBlock('654321')));
    expect(send(reader, 0xfb, 0, 0).sw).toBe(0x9000);
    expect(verifyPin(reader, '123456')).toBe(0x9000);
  });
});

describe('virtual PIV card: management key', () => {
  beforeEach(() => select(reader));

  it('authenticates with the default 3DES key; PUT DATA needs it', () => {
    expect(putData(reader, 0x5fc109, Uint8Array.of(1, 2, 3))).toBe(0x6982);
    expect(authenticateMgmt(reader, 0x03, DEFAULT_3DES)).toBe(0x9000);
    expect(putData(reader, 0x5fc109, Uint8Array.of(1, 2, 3))).toBe(0x9000);
    // Printed information is PIN-protected.
    expect(getData(reader, 0x5fc109).sw).toBe(0x6982);
    verifyPin(reader, '123456');
    expect(Buffer.from(getData(reader, 0x5fc109).data).toString('hex')).toBe('5303010203');
  });

  it('refuses a wrong key with 6982 and stays unauthenticated', () => {
    const wrong = Buffer.from(DEFAULT_3DES);
    wrong[0] = wrong[0]! ^ 0xff;
    expect(authenticateMgmt(reader, 0x03, wrong)).toBe(0x6982);
    expect(putData(reader, 0x5fc10d, Uint8Array.of(1))).toBe(0x6982);
    expect(generate(reader, 0x9a, 0x11).sw).toBe(0x6982);
    expect(send(reader, 0x87, 0x0c, 0x9b, Uint8Array.from([0x7c, 0x02, 0x80, 0x00])).sw).toBe(0x6a80); // wrong algorithm
  });

  it('switches to AES-256 with SET MANAGEMENT KEY', () => {
    const aes = new Uint8Array(randomBytes(32));
    expect(send(reader, 0xff, 0xff, 0xff, concat(Uint8Array.of(0x0c, 0x9b, 32), aes)).sw).toBe(0x6982);
    expect(authenticateMgmt(reader, 0x03, DEFAULT_3DES)).toBe(0x9000);
    expect(send(reader, 0xff, 0xff, 0xff, concat(Uint8Array.of(0x0c, 0x9b, 32), aes)).sw).toBe(0x9000);
    const meta = tlvMap(send(reader, 0xf7, 0x00, 0x9b).data);
    expect([...meta.get(0x01)!]).toEqual([0x0c]);
    expect([...meta.get(0x05)!]).toEqual([0]);
    reader.disconnect();
    reader.connect();
    select(reader);
    expect(authenticateMgmt(reader, 0x0c, new Uint8Array(32))).toBe(0x6982);
    expect(authenticateMgmt(reader, 0x0c, aes)).toBe(0x9000);
    expect(putData(reader, 0x5fc10d, Uint8Array.of(1))).toBe(0x9000);
  });

  it('supports the SP 800-73-4 challenge/response (external authenticate) flow', () => {
    const c = send(reader, 0x87, 0x03, 0x9b, Uint8Array.from([0x7c, 0x02, 0x81, 0x00]));
    const challenge = tlvMap(readTlv(c.data).value).get(0x81)!;
    const answer = ecb(0x03, DEFAULT_3DES, challenge, true);
    expect(send(reader, 0x87, 0x03, 0x9b, tlv(0x7c, tlv(0x82, answer))).sw).toBe(0x9000);
    expect(putData(reader, 0x5fc10e, Uint8Array.of(1))).toBe(0x9000);
  });
});

describe('virtual PIV card: keys', () => {
  beforeEach(() => {
    select(reader);
    expect(authenticateMgmt(reader, 0x03, DEFAULT_3DES)).toBe(0x9000);
  });

  it('generates RSA-2048 in 9C and signs a PKCS#1 v1.5 padded digest, PIN required before each use', () => {
    const gen = generate(reader, 0x9c, 0x07);
    expect(gen.sw).toBe(0x9000);
    expect(readTlv(gen.data).tag).toBe(0x7f49);
    const pub = rsaPublicKey(gen);
    expect(pub.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const message = Buffer.from('admin identity statement');
    const padded = pkcs1v15Sha256(message);

    expect(sign(reader, 0x07, 0x9c, padded).sw).toBe(0x6982); // no PIN yet
    expect(verifyPin(reader, '123456')).toBe(0x9000);
    const s = sign(reader, 0x07, 0x9c, padded);
    expect(s.sw).toBe(0x9000);
    const signature = responseValue(s);
    expect(signature.length).toBe(256);
    expect(cryptoVerify('sha256', message, pub, signature)).toBe(true);

    // PIN-always: the verification was consumed by the signature...
    expect(sign(reader, 0x07, 0x9c, padded).sw).toBe(0x6982);
    // ...and any other command between VERIFY and the signature also consumes it.
    expect(verifyPin(reader, '123456')).toBe(0x9000);
    expect(send(reader, 0xfd, 0, 0).sw).toBe(0x9000);
    expect(sign(reader, 0x07, 0x9c, padded).sw).toBe(0x6982);
    expect(verifyPin(reader, '123456')).toBe(0x9000);
    expect(sign(reader, 0x07, 0x9c, padded).sw).toBe(0x9000);

    expect(sign(reader, 0x11, 0x9c, padded).sw).toBe(0x6a80); // wrong algorithm for the slot
    expect(verifyPin(reader, '123456')).toBe(0x9000);
    expect(sign(reader, 0x07, 0x9c, padded.subarray(1)).sw).toBe(0x6a80); // not modulus-sized

    const meta = tlvMap(send(reader, 0xf7, 0x00, 0x9c).data);
    expect([...meta.get(0x01)!]).toEqual([0x07]);
    expect([...meta.get(0x02)!]).toEqual([0x03, 0x01]); // PIN always, touch never
    expect([...meta.get(0x03)!]).toEqual([0x01]); // generated
    expect(readTlv(meta.get(0x04)!).tag).toBe(0x81);
  });

  it('generates P-256 in retired slot 82: ECDH matches node, ECDSA verifies, PIN once', () => {
    const gen = generate(reader, 0x82, 0x11);
    expect(gen.sw).toBe(0x9000);
    const cardPoint = ecPoint(gen);
    expect(cardPoint.length).toBe(65);

    const peer = createECDH('prime256v1');
    const peerPoint = peer.generateKeys();
    expect(ecdh(reader, 0x82, peerPoint).sw).toBe(0x6982);
    expect(verifyPin(reader, '123456')).toBe(0x9000);
    const r1 = ecdh(reader, 0x82, peerPoint);
    expect(r1.sw).toBe(0x9000);
    expect(Buffer.from(responseValue(r1))).toEqual(peer.computeSecret(cardPoint));
    // PIN once: still usable for the rest of the session.
    expect(ecdh(reader, 0x82, peerPoint).sw).toBe(0x9000);
    expect(ecdh(reader, 0x82, Uint8Array.of(4, 1, 2)).sw).toBe(0x6a80);

    const digest = createHash('sha256').update('share envelope').digest();
    const s = sign(reader, 0x11, 0x82, digest);
    expect(s.sw).toBe(0x9000);
    const spki = createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: Buffer.from(cardPoint.subarray(1, 33)).toString('base64url'),
        y: Buffer.from(cardPoint.subarray(33)).toString('base64url'),
      },
      format: 'jwk',
    });
    expect(cryptoVerify('sha256', Buffer.from('share envelope'), spki, responseValue(s))).toBe(true);
  });

  it('imports a P-256 key (Yubico IMPORT ASYMMETRIC KEY) and reports it as imported', () => {
    const local = createECDH('prime256v1');
    const localPoint = local.generateKeys();
    expect(
      send(reader, 0xfe, 0x11, 0x83, concat(tlv(0x06, local.getPrivateKey()), tlv(0xaa, Uint8Array.of(0x01)))).sw,
    ).toBe(0x9000);
    const meta = tlvMap(send(reader, 0xf7, 0x00, 0x83).data);
    expect([...meta.get(0x03)!]).toEqual([0x02]);
    expect(Buffer.from(tlvMap(meta.get(0x04)!).get(0x86)!)).toEqual(localPoint);
    const peer = createECDH('prime256v1');
    const peerPoint = peer.generateKeys();
    const r = ecdh(reader, 0x83, peerPoint); // PIN policy never
    expect(Buffer.from(responseValue(r))).toEqual(peer.computeSecret(localPoint));
  });

  it('never writes the key history object itself, like a YubiKey 5: a retired certificate alone leaves it absent', () => {
    expect(getData(reader, 0x5fc10c).sw).toBe(0x6a82);
    expect(putData(reader, 0x5fc10e, Uint8Array.of(0x70, 0x01, 0x00, 0x71, 0x01, 0x00, 0xfe, 0x00))).toBe(0x9000);
    expect(getData(reader, 0x5fc10c).sw).toBe(0x6a82);
    // What a host writes there is kept as written.
    expect(putData(reader, 0x5fc10c, Uint8Array.of(0xc1, 0x01, 0x02, 0xc2, 0x01, 0x00))).toBe(0x9000);
    const h = tlvMap(readTlv(getData(reader, 0x5fc10c).data).value);
    expect([...h.get(0xc1)!]).toEqual([2]);
  });
});

describe('virtual PIV card: transport', () => {
  beforeEach(() => {
    select(reader);
    expect(authenticateMgmt(reader, 0x03, DEFAULT_3DES)).toBe(0x9000);
  });

  it('accepts a 3 KB object through command chaining and returns it with 61xx / GET RESPONSE', () => {
    const big = new Uint8Array(randomBytes(3000));
    card.resetApduCounts();
    expect(putData(reader, 0x5fc10d, big)).toBe(0x9000);
    expect(card.apduCounts()).toEqual({ PUT_DATA: 12 }); // 3009 bytes: 11 chained blocks + the last one

    card.resetApduCounts();
    const first = raw(reader, buildApdu(0x00, 0xcb, 0x3f, 0xff, tlv(0x5c, Uint8Array.of(0x5f, 0xc1, 0x0d)), 256));
    expect(first.data.length).toBe(256);
    expect(first.sw).toBe(0x6100);
    const all = getData(reader, 0x5fc10d);
    expect(all.sw).toBe(0x9000);
    expect(Buffer.from(readTlv(all.data).value)).toEqual(Buffer.from(big));
    expect(card.apduCounts()).toEqual({ GET_DATA: 2, GET_RESPONSE: 11 });
    expect(card.apduTotal()).toBe(13);

    // Extended Le: the whole object in one response.
    const ext = raw(reader, buildApdu(0x00, 0xcb, 0x3f, 0xff, tlv(0x5c, Uint8Array.of(0x5f, 0xc1, 0x0d)), 65536));
    expect(ext.sw).toBe(0x9000);
    expect(ext.data.length).toBe(3004);

    // Objects over the card's buffer are refused.
    expect(putData(reader, 0x5fc10d, new Uint8Array(3100))).toBe(0x6a84);
  });

  it('clears the security state on power-off and on re-SELECT', () => {
    expect(verifyPin(reader, '123456')).toBe(0x9000);
    reader.disconnect();
    reader.connect();
    expect(raw(reader, buildApdu(0x00, 0x20, 0x00, 0x80)).sw).toBe(0x6d00); // applet not selected after power-on
    select(reader);
    expect(send(reader, 0x20, 0x00, 0x80).sw).toBe(0x63c3);
    expect(putData(reader, 0x5fc10d, Uint8Array.of(1))).toBe(0x6982);

    expect(authenticateMgmt(reader, 0x03, DEFAULT_3DES)).toBe(0x9000);
    expect(verifyPin(reader, '123456')).toBe(0x9000);
    select(reader);
    expect(send(reader, 0x20, 0x00, 0x80).sw).toBe(0x63c3);
    expect(putData(reader, 0x5fc10d, Uint8Array.of(1))).toBe(0x6982);
  });
});

describe('virtual PIV card: persistence', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vcard-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('persists keys, objects and retry counters across power cycles and reloads', () => {
    const file = join(dir, 'card.json');
    const c1 = new VirtualPivCard({ stateFile: file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const r1 = new InProcessCardReader(c1);
    r1.connect();
    select(r1);
    expect(authenticateMgmt(r1, 0x03, DEFAULT_3DES)).toBe(0x9000);
    const point = ecPoint(generate(r1, 0x82, 0x11));
    expect(verifyPin(r1, '000000')).toBe(0x63c2);
    expect(verifyPin(r1, '000000')).toBe(0x63c1);
    r1.disconnect();

    const saved = loadState(file);
    expect(saved.pin.retriesRemaining).toBe(1);
    expect(saved.slots['82']?.origin).toBe('generated');

    const c2 = new VirtualPivCard({ stateFile: file });
    expect(c2.serial).toBe(c1.serial);
    const r2 = new InProcessCardReader(c2);
    r2.connect();
    select(r2);
    expect(send(r2, 0x20, 0x00, 0x80).sw).toBe(0x63c1);
    expect(verifyPin(r2, '123456')).toBe(0x9000);
    const peer = createECDH('prime256v1');
    const peerPoint = peer.generateKeys();
    expect(Buffer.from(responseValue(ecdh(r2, 0x82, peerPoint)))).toEqual(peer.computeSecret(point));
    r2.disconnect();
    expect(loadState(file).pin.retriesRemaining).toBe(3);
  });
});

/**
 * ATTEST (Yubico INS F9) of the virtual card, over the in-process reader:
 * the certificate a YubiKey 5 answers for a key generated on the card,
 * here from the card's own virtual chain (root "not Yubico" -> F9 key whose
 * certificate is 5FFF01 -> the attested slot). Read back with Node's X.509
 * parser and with OpenSSL.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  X509Certificate,
  createCipheriv,
  createDecipheriv,
  createECDH,
  createPublicKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualPivCard } from '../../src/virtual-card/card.js';
import { InProcessCardReader } from '../../src/virtual-card/in-process.js';
import { buildApdu } from '../../src/virtual-card/apdu.js';
import { VIRTUAL_ATTESTATION_ROOT_CN, YUBICO_PIV_ATTESTATION_OID } from '../../src/virtual-card/attestation.js';
import { loadOrCreate, newCardState, saveState, type CardState } from '../../src/virtual-card/state.js';
import { concat, readTlv, tlv, tlvMap } from '../../src/virtual-card/tlv.js';

interface Resp {
  data: Uint8Array;
  sw: number;
}

const DEFAULT_3DES = Buffer.from('010203040506070801020304050607080102030405060708', 'hex');

function raw(reader: InProcessCardReader, apdu: Uint8Array): Resp {
  const r = reader.transmit(apdu);
  return { data: r.subarray(0, r.length - 2), sw: (r[r.length - 2]! << 8) | r[r.length - 1]! };
}

/** One command (chained in 255-byte blocks), its 61xx continuations collected with GET RESPONSE. */
function send(reader: InProcessCardReader, ins: number, p1: number, p2: number, data?: Uint8Array): Resp {
  const d = data ?? new Uint8Array(0);
  let off = 0;
  while (d.length - off > 255) {
    const r = raw(reader, buildApdu(0x10, ins, p1, p2, d.subarray(off, off + 255)));
    if (r.sw !== 0x9000) return r;
    off += 255;
  }
  let r = raw(reader, buildApdu(0x00, ins, p1, p2, d.subarray(off)));
  const chunks = [r.data];
  while (r.sw >> 8 === 0x61) {
    r = raw(reader, buildApdu(0x00, 0xc0, 0x00, 0x00, undefined, r.sw & 0xff || 256));
    chunks.push(r.data);
  }
  return { data: concat(...chunks), sw: r.sw };
}

function tdes(key: Uint8Array, block: Uint8Array, encrypt: boolean): Uint8Array {
  const c = encrypt
    ? createCipheriv('des-ede3', key, null).setAutoPadding(false)
    : createDecipheriv('des-ede3', key, null).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(block), c.final()]));
}

function authenticateMgmt(reader: InProcessCardReader): void {
  const step1 = send(reader, 0x87, 0x03, 0x9b, Uint8Array.from([0x7c, 0x02, 0x80, 0x00]));
  expect(step1.sw).toBe(0x9000);
  const witness = tdes(DEFAULT_3DES, tlvMap(readTlv(step1.data).value).get(0x80)!, false);
  const challenge = new Uint8Array(randomBytes(8));
  const step2 = send(reader, 0x87, 0x03, 0x9b, tlv(0x7c, concat(tlv(0x80, witness), tlv(0x81, challenge))));
  expect(step2.sw).toBe(0x9000);
}

function generate(reader: InProcessCardReader, slot: number, alg: number, pinPolicy?: number): Resp {
  const items = [tlv(0x80, Uint8Array.of(alg))];
  if (pinPolicy !== undefined) items.push(tlv(0xaa, Uint8Array.of(pinPolicy)));
  return send(reader, 0x47, 0x00, slot, tlv(0xac, concat(...items)));
}

function getData(reader: InProcessCardReader, tag: number): Resp {
  const tagBytes = Uint8Array.of((tag >> 16) & 0xff, (tag >> 8) & 0xff, tag & 0xff);
  return send(reader, 0xcb, 0x3f, 0xff, tlv(0x5c, tagBytes));
}

/** The certificate in 5FFF01, stored as a PIV certificate object (70 certificate, 71 CertInfo, FE). */
function f9Object(reader: InProcessCardReader): Uint8Array {
  const r = getData(reader, 0x5fff01);
  expect(r.sw).toBe(0x9000);
  return tlvMap(readTlv(r.data).value).get(0x70)!;
}

function attest(reader: InProcessCardReader, slot: number): Resp {
  return send(reader, 0xf9, slot, 0x00);
}

/** The public key GENERATE answered (7F49 with 81/82 for RSA or 86 for P-256). */
function generatedPublicKey(resp: Resp): KeyObject {
  const inner = tlvMap(readTlv(resp.data).value);
  const point = inner.get(0x86);
  if (point) {
    return createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: Buffer.from(point.subarray(1, 33)).toString('base64url'),
        y: Buffer.from(point.subarray(33)).toString('base64url'),
      },
      format: 'jwk',
    });
  }
  return createPublicKey({
    key: {
      kty: 'RSA',
      n: Buffer.from(inner.get(0x81)!).toString('base64url'),
      e: Buffer.from(inner.get(0x82)!).toString('base64url'),
    },
    format: 'jwk',
  });
}

const spkiHex = (k: KeyObject): string => k.export({ format: 'der', type: 'spki' }).toString('hex');

/** The raw value (inside extnValue's OCTET STRING) of an extension, found in the certificate DER. */
function extensionValue(der: Uint8Array, oid: string): Buffer | undefined {
  const oidDer = Buffer.from(
    spawnSync('openssl', ['asn1parse', '-genstr', `OID:${oid}`, '-noout', '-out', '-'], { encoding: 'buffer' })
      .stdout as Buffer,
  );
  const at = Buffer.from(der).indexOf(oidDer);
  if (at < 0) return undefined;
  const octet = readTlv(der, at + oidDer.length);
  expect(octet.tag).toBe(0x04); // non-critical: no BOOLEAN before extnValue
  return Buffer.from(octet.value);
}

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!hasOpenssl) console.warn('Skipping the OpenSSL reading of attestation certificates: openssl is not installed.');

let card: VirtualPivCard;
let reader: InProcessCardReader;
let dir: string;

beforeEach(() => {
  card = new VirtualPivCard();
  reader = new InProcessCardReader(card);
  reader.connect();
  expect(send(reader, 0xa4, 0x04, 0x00, Buffer.from('a000000308', 'hex')).sw).toBe(0x9000);
  dir = mkdtempSync(join(tmpdir(), 'kc-attest-'));
});

afterEach(() => {
  reader.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('virtual card: attestation (Yubico ATTEST, INS F9), a virtual chain that is not Yubico', () => {
  it('comes with an attestation key in F9 and its certificate in 5FFF01, issued by a root that says it is not Yubico', () => {
    const f9 = getData(reader, 0x5fff01);
    expect(f9.sw).toBe(0x9000);
    const object = tlvMap(readTlv(f9.data).value);
    expect([...object.get(0x71)!]).toEqual([0x00]); // CertInfo: not compressed, as ykman expects
    const f9Cert = new X509Certificate(object.get(0x70)!);
    const root = new X509Certificate(Buffer.from(card.state.attestationRoot!, 'base64'));
    expect(root.subject).toBe(`CN=${VIRTUAL_ATTESTATION_ROOT_CN}`);
    expect(root.subject).toContain('not Yubico');
    expect(root.verify(root.publicKey)).toBe(true);
    expect(f9Cert.issuer).toBe(root.subject);
    expect(f9Cert.subject).toContain('not Yubico');
    expect(f9Cert.subject).toContain(String(card.serial));
    expect(f9Cert.verify(root.publicKey)).toBe(true);
    expect(f9Cert.ca).toBe(true);
    // GET METADATA of F9: a P-256 key generated on the card, PIN never, touch never.
    const meta = tlvMap(send(reader, 0xf7, 0x00, 0xf9).data);
    expect([...meta.get(0x01)!]).toEqual([0x11]);
    expect([...meta.get(0x02)!]).toEqual([0x01, 0x01]);
    expect([...meta.get(0x03)!]).toEqual([0x01]);
    expect(spkiHex(f9Cert.publicKey)).toBe(spkiHex(generatedPublicKey({ data: tlv(0x7f49, meta.get(0x04)!), sw: 0 })));
  });

  for (const [slot, alg, name] of [
    [0x9c, 0x07, 'an RSA-2048 key in 9C'],
    [0x82, 0x11, 'a P-256 key in retired slot 82'],
  ] as const) {
    it(`ATTEST of ${name} generated on the card: the slot's key, signed by F9, with Yubico's extensions`, () => {
      authenticateMgmt(reader);
      const gen = generate(reader, slot, alg, slot === 0x82 ? 0x02 : undefined);
      expect(gen.sw).toBe(0x9000);
      const r = attest(reader, slot);
      expect(r.sw).toBe(0x9000);
      const cert = new X509Certificate(r.data);
      const f9Cert = new X509Certificate(f9Object(reader));
      const slotHex = slot.toString(16);
      expect(cert.subject).toBe(`CN=YubiKey PIV Attestation ${slotHex}`);
      expect(cert.issuer).toBe(f9Cert.subject);
      expect(spkiHex(cert.publicKey)).toBe(spkiHex(generatedPublicKey(gen)));
      expect(cert.verify(f9Cert.publicKey)).toBe(true);
      expect(cert.validFrom).toBe(f9Cert.validFrom);
      expect(cert.validTo).toBe(f9Cert.validTo);

      if (!hasOpenssl) return;
      const file = join(dir, `attest-${slotHex}.der`);
      writeFileSync(file, r.data);
      const text = spawnSync('openssl', ['x509', '-inform', 'DER', '-in', file, '-noout', '-text'], {
        encoding: 'utf8',
      });
      expect(text.status, text.stderr).toBe(0);
      expect(text.stdout).toContain(`Subject: CN = YubiKey PIV Attestation ${slotHex}`);
      for (const oid of Object.values(YUBICO_PIV_ATTESTATION_OID)) expect(text.stdout).toContain(oid);

      // The extensions' values, as Yubico encodes them.
      expect([...extensionValue(r.data, YUBICO_PIV_ATTESTATION_OID.FIRMWARE_VERSION)!]).toEqual(card.state.version);
      const serial = readTlv(extensionValue(r.data, YUBICO_PIV_ATTESTATION_OID.SERIAL_NUMBER)!);
      expect(serial.tag).toBe(0x02);
      expect(Number(BigInt('0x' + Buffer.from(serial.value).toString('hex')))).toBe(card.serial);
      // PIN policy: 9C's default "always" (3), or "once" (2) as asked for 82; touch "never" (1).
      expect([...extensionValue(r.data, YUBICO_PIV_ATTESTATION_OID.PIN_TOUCH_POLICY)!]).toEqual([
        slot === 0x9c ? 3 : 2,
        1,
      ]);
      expect([...extensionValue(r.data, YUBICO_PIV_ATTESTATION_OID.FORM_FACTOR)!]).toEqual([0x03]);

      // The whole chain verifies with OpenSSL from the virtual root.
      const pem = (der: Uint8Array | Buffer): string =>
        `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64')}\n-----END CERTIFICATE-----\n`;
      writeFileSync(join(dir, 'root.pem'), pem(Buffer.from(card.state.attestationRoot!, 'base64')));
      writeFileSync(join(dir, 'f9.pem'), f9Cert.toString());
      writeFileSync(join(dir, 'leaf.pem'), pem(r.data));
      const verified = spawnSync(
        'openssl',
        ['verify', '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'f9.pem'), join(dir, 'leaf.pem')],
        { encoding: 'utf8' },
      );
      expect(verified.status, verified.stdout + verified.stderr).toBe(0);
    });
  }

  it('ATTEST needs neither PIN nor management key, and answers a fresh certificate each time', () => {
    authenticateMgmt(reader);
    expect(generate(reader, 0x9a, 0x11).sw).toBe(0x9000);
    reader.disconnect();
    reader.connect();
    expect(send(reader, 0xa4, 0x04, 0x00, Buffer.from('a000000308', 'hex')).sw).toBe(0x9000);
    const a = attest(reader, 0x9a);
    const b = attest(reader, 0x9a);
    expect(a.sw).toBe(0x9000);
    expect(b.sw).toBe(0x9000);
    expect(new X509Certificate(a.data).serialNumber).not.toBe(new X509Certificate(b.data).serialNumber);
  });

  it('ATTEST of an empty slot is 6A88; of an imported key 6A80; of F9 itself or a non-slot 6A86', () => {
    for (const slot of [0x9a, 0x9c, 0x9d, 0x9e, 0x82, 0x95]) expect(attest(reader, slot).sw).toBe(0x6a88);
    authenticateMgmt(reader);
    const local = createECDH('prime256v1');
    local.generateKeys();
    expect(send(reader, 0xfe, 0x11, 0x9d, tlv(0x06, local.getPrivateKey())).sw).toBe(0x9000);
    expect(attest(reader, 0x9d).sw).toBe(0x6a80);
    expect(attest(reader, 0xf9).sw).toBe(0x6a86);
    expect(attest(reader, 0x42).sw).toBe(0x6a86);
    expect(send(reader, 0xf9, 0x9d, 0x01).sw).toBe(0x6a86);
  });

  it('a PIV reset keeps the attestation key and certificate, as on a YubiKey', () => {
    const before = f9Object(reader);
    const root = card.state.attestationRoot;
    const f9Key = card.state.slots['f9']!.privateKey;
    // Block PIN and PUK, then reset.
    for (let i = 0; i < 3; i++) send(reader, 0x20, 0x00, 0x80, Buffer.alloc(8, 0x30));
    for (let i = 0; i < 3; i++) send(reader, 0x2c, 0x00, 0x80, Buffer.alloc(16, 0x30));
    expect(send(reader, 0xfb, 0x00, 0x00).sw).toBe(0x9000);
    expect(Buffer.from(f9Object(reader))).toEqual(Buffer.from(before));
    expect(card.state.attestationRoot).toBe(root);
    expect(card.state.slots['f9']!.privateKey).toBe(f9Key);
    expect(Object.keys(card.state.slots)).toEqual(['f9']);
  });

  it('a state file from before attestation gets its chain on load, saved so it stays the same', () => {
    const file = join(dir, 'old.card.json');
    const old: CardState = newCardState(12345678);
    delete old.slots['f9'];
    delete old.objects['5fff01'];
    delete old.attestationRoot;
    saveState(file, old);
    const loaded = loadOrCreate(file);
    expect(loaded.slots['f9']?.origin).toBe('generated');
    expect(loaded.objects['5fff01']).toBeDefined();
    expect(loaded.attestationRoot).toBeDefined();
    const again = loadOrCreate(file);
    expect(again.slots['f9']!.privateKey).toBe(loaded.slots['f9']!.privateKey);
    expect(again.attestationRoot).toBe(loaded.attestationRoot);
  });
});

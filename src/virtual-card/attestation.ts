/**
 * PIV attestation of the virtual card, shaped like a YubiKey 5's
 * (https://developers.yubico.com/PIV/Introduction/PIV_attestation.html) but
 * NOT Yubico's: the chain ends at a virtual root that the card made for
 * itself when it was created, whose subject says so. Nothing here chains to
 * Yubico's PIV Root CA, so a verifier that trusts only Yubico's root rejects
 * every attestation of the virtual card, as it should.
 *
 * - At card creation: a virtual root (P-256, self-signed,
 *   "CN=Key Ceremony virtual card attestation root (not Yubico)") signs the
 *   certificate of a fresh attestation key (P-256), which goes to slot F9
 *   with its certificate in object 5FFF01, as on a YubiKey. The root's
 *   private key is dropped at once; its certificate stays in the card state
 *   so a verifier can anchor the chain.
 * - ATTEST (INS F9, P1 = slot): the F9 key signs a certificate of the slot's
 *   public key, subject "CN=YubiKey PIV Attestation <slot>", issuer the F9
 *   certificate's subject, with Yubico's extensions under
 *   1.3.6.1.4.1.41482.3: .3 firmware version (3 bytes), .7 serial (DER
 *   INTEGER), .8 PIN and touch policy (2 bytes), .9 form factor (1 byte, the USB-C keychain that the management
 *   application reports).
 *
 * Only node:crypto and the TLV helpers: the DER of the certificates is
 * written here (RFC 5280 section 4.1).
 */
import { createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { FORM_FACTOR_USB_C_KEYCHAIN } from './management-applet.js';
import { concat, tlv } from './tlv.js';

/** Subject CN of the virtual attestation root. */
export const VIRTUAL_ATTESTATION_ROOT_CN = 'Key Ceremony virtual card attestation root (not Yubico)';

/** Yubico's PIV attestation extension arc, 1.3.6.1.4.1.41482.3. */
export const YUBICO_PIV_ATTESTATION_OID = {
  FIRMWARE_VERSION: '1.3.6.1.4.1.41482.3.3',
  SERIAL_NUMBER: '1.3.6.1.4.1.41482.3.7',
  PIN_TOUCH_POLICY: '1.3.6.1.4.1.41482.3.8',
  FORM_FACTOR: '1.3.6.1.4.1.41482.3.9',
} as const;

// ---------------------------------------------------------------- DER

function derOid(oid: string): Uint8Array {
  const arcs = oid.split('.').map((a) => BigInt(a));
  const bytes: number[] = [];
  const push = (n: bigint): void => {
    const groups: number[] = [Number(n & 0x7fn)];
    for (let v = n >> 7n; v > 0n; v >>= 7n) groups.unshift(Number(v & 0x7fn) | 0x80);
    bytes.push(...groups);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return tlv(0x06, Uint8Array.from(bytes));
}

function derUnsigned(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return tlv(0x02, v[0]! & 0x80 ? concat(Uint8Array.of(0), v) : v);
}

function derUint(n: number): Uint8Array {
  const b = Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  return derUnsigned(b);
}

const seq = (...parts: Uint8Array[]): Uint8Array => tlv(0x30, concat(...parts));
const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

/** Name with one RDN, commonName (2.5.4.3) as UTF8String. */
function derName(cn: string): Uint8Array {
  return seq(tlv(0x31, seq(derOid('2.5.4.3'), tlv(0x0c, utf8(cn)))));
}

/** GeneralizedTime (valid for all years; RFC 5280 wants UTCTime before 2050, used below when it applies). */
function derTime(d: Date): Uint8Array {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  if (d.getUTCFullYear() < 2050) return tlv(0x17, utf8(iso.slice(2)));
  return tlv(0x18, utf8(iso));
}

function extension(oid: string, value: Uint8Array, critical = false): Uint8Array {
  return seq(derOid(oid), ...(critical ? [Uint8Array.of(0x01, 0x01, 0xff)] : []), tlv(0x04, value));
}

/** ecdsa-with-SHA256 (RFC 5758 section 3.2), parameters absent. */
const ECDSA_SHA256 = seq(derOid('1.2.840.10045.4.3.2'));

function spki(key: KeyObject): Uint8Array {
  const pub = key.type === 'public' ? key : createPublicKey(key);
  return new Uint8Array(pub.export({ format: 'der', type: 'spki' }));
}

interface CertificateFields {
  issuer: Uint8Array;
  subject: Uint8Array;
  notBefore: Uint8Array;
  notAfter: Uint8Array;
  subjectPublicKeyInfo: Uint8Array;
  extensions: Uint8Array[];
}

/** A v3 certificate signed with ECDSA-SHA256 by `signer` (an EC private key). */
function issueCertificate(fields: CertificateFields, signer: KeyObject): Uint8Array {
  const serial = new Uint8Array(randomBytes(16));
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, 16 bytes
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Uint8Array.of(2))),
    tlv(0x02, serial),
    ECDSA_SHA256,
    fields.issuer,
    seq(fields.notBefore, fields.notAfter),
    fields.subject,
    fields.subjectPublicKeyInfo,
    ...(fields.extensions.length ? [tlv(0xa3, seq(...fields.extensions))] : []),
  );
  const signature = new Uint8Array(sign('sha256', tbs, signer));
  return seq(tbs, ECDSA_SHA256, tlv(0x03, concat(Uint8Array.of(0), signature)));
}

/** basicConstraints cA TRUE (critical) and keyUsage keyCertSign (critical): a CA that signs attestations. */
const CA_EXTENSIONS = [
  extension('2.5.29.19', seq(Uint8Array.of(0x01, 0x01, 0xff)), true),
  extension('2.5.29.15', Uint8Array.of(0x03, 0x02, 0x02, 0x04), true),
];

// ---------------------------------------------------------------- the card's chain

export interface VirtualAttestation {
  /** The attestation key for slot F9, PKCS#8 DER base64. */
  privateKey: string;
  /** Its certificate (object 5FFF01), DER. */
  certificate: Uint8Array;
  /** The self-signed virtual root that issued it, DER. */
  rootCertificate: Uint8Array;
}

/** The subject CN of the F9 attestation certificate of the virtual card with this serial. */
export function attestationCertificateCn(serial: number): string {
  return `Key Ceremony virtual card PIV attestation ${serial} (not Yubico)`;
}

/**
 * Creates the attestation chain of a new virtual card: a root whose private
 * key is discarded, and the F9 attestation key with the certificate the root
 * issued for it. Valid from now for 20 years (the attestations inherit it).
 */
export function createVirtualAttestation(serial: number, now = new Date()): VirtualAttestation {
  const notBefore = derTime(new Date(Math.floor(now.getTime() / 1000) * 1000));
  const end = new Date(now.getTime());
  end.setUTCFullYear(end.getUTCFullYear() + 20);
  const notAfter = derTime(new Date(Math.floor(end.getTime() / 1000) * 1000));
  const root = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rootName = derName(VIRTUAL_ATTESTATION_ROOT_CN);
  const rootCertificate = issueCertificate(
    {
      issuer: rootName,
      subject: rootName,
      notBefore,
      notAfter,
      subjectPublicKeyInfo: spki(root.publicKey),
      extensions: CA_EXTENSIONS,
    },
    root.privateKey,
  );
  const f9 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certificate = issueCertificate(
    {
      issuer: rootName,
      subject: derName(attestationCertificateCn(serial)),
      notBefore,
      notAfter,
      subjectPublicKeyInfo: spki(f9.publicKey),
      extensions: CA_EXTENSIONS,
    },
    root.privateKey,
  );
  return {
    privateKey: f9.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    certificate,
    rootCertificate,
  };
}

// ---------------------------------------------------------------- ATTEST

/** Reads issuer-relevant parts of the F9 certificate: its subject Name and its validity, as DER. */
function subjectAndValidity(cert: Uint8Array): { subject: Uint8Array; notBefore: Uint8Array; notAfter: Uint8Array } {
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version, serial, sigAlg, issuer, validity, subject, ... } }
  const items = (buf: Uint8Array): Uint8Array[] => {
    const out: Uint8Array[] = [];
    let off = 0;
    while (off < buf.length) {
      let lenOff = off + 1;
      let len = buf[lenOff]!;
      let hdr = 2;
      if (len & 0x80) {
        const n = len & 0x7f;
        len = 0;
        for (let i = 0; i < n; i++) len = (len << 8) | buf[lenOff + 1 + i]!;
        hdr += n;
      }
      lenOff = off + hdr + len;
      if (lenOff > buf.length) throw new Error('the attestation certificate is not DER');
      out.push(buf.subarray(off, lenOff));
      off = lenOff;
    }
    return out;
  };
  const content = (el: Uint8Array): Uint8Array => {
    const l = el[1]!;
    return el.subarray(l & 0x80 ? 2 + (l & 0x7f) : 2);
  };
  const [tbs] = items(content(items(cert)[0]!));
  const fields = items(content(tbs!));
  const start = fields[0]![0] === 0xa0 ? 1 : 0;
  const validity = items(content(fields[start + 3]!));
  return { subject: fields[start + 4]!, notBefore: validity[0]!, notAfter: validity[1]! };
}

export interface AttestedSlot {
  slot: number;
  publicKey: KeyObject;
  pinPolicy: number;
  touchPolicy: number;
}

export interface AttestingCard {
  serial: number;
  version: readonly [number, number, number];
  /** The F9 certificate (object 5FFF01), DER: its subject is the issuer, its validity the attestation's. */
  attestationCertificate: Uint8Array;
  /** The F9 private key (EC P-256 here; an EC or RSA key if someone imported another). */
  attestationKey: KeyObject;
}

/** signatureAlgorithm for the F9 key: ecdsa-with-SHA256, or sha256WithRSAEncryption (NULL parameters). */
function signatureAlgorithm(key: KeyObject): Uint8Array {
  if (key.asymmetricKeyType === 'rsa') return seq(derOid('1.2.840.113549.1.1.11'), Uint8Array.of(0x05, 0x00));
  return ECDSA_SHA256;
}

/** The DER attestation certificate of `slot`, as a YubiKey 5 answers ATTEST. */
export function attestSlot(card: AttestingCard, slot: AttestedSlot): Uint8Array {
  const f9 = subjectAndValidity(card.attestationCertificate);
  const serial = new Uint8Array(randomBytes(16));
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const sigAlg = signatureAlgorithm(card.attestationKey);
  const slotHex = slot.slot.toString(16).padStart(2, '0');
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Uint8Array.of(2))),
    tlv(0x02, serial),
    sigAlg,
    f9.subject,
    seq(f9.notBefore, f9.notAfter),
    derName(`YubiKey PIV Attestation ${slotHex}`),
    spki(slot.publicKey),
    tlv(
      0xa3,
      seq(
        extension(YUBICO_PIV_ATTESTATION_OID.FIRMWARE_VERSION, Uint8Array.from(card.version)),
        extension(YUBICO_PIV_ATTESTATION_OID.SERIAL_NUMBER, derUint(card.serial)),
        extension(YUBICO_PIV_ATTESTATION_OID.PIN_TOUCH_POLICY, Uint8Array.of(slot.pinPolicy, slot.touchPolicy)),
        extension(YUBICO_PIV_ATTESTATION_OID.FORM_FACTOR, Uint8Array.of(FORM_FACTOR_USB_C_KEYCHAIN)),
      ),
    ),
  );
  const signature = new Uint8Array(sign('sha256', tbs, card.attestationKey));
  return seq(tbs, sigAlg, tlv(0x03, concat(Uint8Array.of(0), signature)));
}

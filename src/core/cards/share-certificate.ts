import { createHash, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { CeremonyError } from '../errors.js';

// A custodian card keeps its share in the certificate object of the
// retired slot that holds the share's P-256 key: a self-signed X.509
// certificate for that key (signed on the card with ECDSA), whose one
// private extension carries the sealed keyshare envelope as JSON. So the
// card holds nothing but standard objects — OpenSC lists the key and the
// certificate like any other — and the envelope is bound to the key that
// opens it. node-forge cannot build EC certificates, so the DER is
// assembled here with its ASN.1 encoder (RFC 5280 §4.1).

/**
 * The identity of the keyshare-envelope extension is one random UUID,
 * e04fd123-5ee3-45d9-936f-f9a44e35264a, written as an OID that every
 * mainstream X.509 parser accepts.
 *
 * Shares were first written under 2.25.<the UUID as one 128-bit integer>
 * (ITU-T X.667 §6.3). That arc is legal but RFC 5280 (Appendix B, ASN.1
 * notes) only asks implementations to handle arcs up to 2^28 - 1, and real
 * parsers hold an arc in 32 or 64 bits:
 * Debian 12's python3-cryptography (38) refuses the whole certificate, so
 * `ykman piv info` said "Failed to parse certificate" for the share slot
 * and `ykman piv certificates export` crashed (issue 9).
 *
 * Now: the same UUID under Microsoft's arc for ad-hoc GUID-based OIDs,
 * 1.2.840.113556.1.8000.2554 ("Adhoc (GUID based) customer use"), where a
 * GUID aaaabbbb-cccc-dddd-eeee-ffffffgggggg is the OID …2554.A.B.C.D.E.F.G,
 * each group read as a hex integer (Microsoft's oidgen for Active Directory
 * schema extensions). Every arc is below 2^24, so it fits the RFC 5280 bound
 * and 32-bit parsers (OpenSSL, Go, python-cryptography, NSS, Bouncy Castle).
 * The arc is used only for this one extension.
 * Limits: allocations under that arc are implicit, so nothing registers what
 * this OID means (a reader learns it from this file, and dumps show the OID
 * only as numbers); uniqueness rests on the UUID being random, like 2.25.
 * A Private Enterprise Number from IANA (1.3.6.1.4.1.<PEN>) would name us,
 * but the project has none. The extension stays non-critical (RFC 5280
 * §4.2), so a parser that does not know it still accepts the certificate.
 */
export const KEYSHARE_EXTENSION_OID = '1.2.840.113556.1.8000.2554.57423.53539.24291.17881.37743.16360526.3483210';
/**
 * The first OID of the extension (2.25 + the same UUID). Still read, never
 * written: shares already on cards stay readable with this tool, though
 * python-cryptography-based tools cannot parse those certificates.
 */
export const LEGACY_KEYSHARE_EXTENSION_OID = '2.25.298161504333604605052590835275715126858';
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';
const KEY_USAGE = '2.5.29.15';

const asn1 = forge.asn1;

/** DER content bytes of an OID with arcs of any size (forge's encoder stops at 32 bits). X.690 §8.19. */
function oidContent(o: string): Buffer {
  const arcs = o.split('.').map((x) => BigInt(x));
  const subs = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const out: number[] = [];
  for (const sub of subs) {
    const bytes: number[] = [];
    let v = sub;
    do {
      bytes.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < bytes.length - 1; i++) bytes[i]! |= 0x80;
    out.push(...bytes);
  }
  return Buffer.from(out);
}
/** DER contents of the OIDs read as the keyshare extension (forge holds OID values as binary strings). */
const READ_EXTENSION_OID_CONTENTS = new Set(
  [KEYSHARE_EXTENSION_OID, LEGACY_KEYSHARE_EXTENSION_OID].map((o) => oidContent(o).toString('binary')),
);
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

const oid = (o: string): forge.asn1.Asn1 => asn1.create(U, T.OID, false, oidContent(o).toString('binary'));
const seq = (...xs: forge.asn1.Asn1[]): forge.asn1.Asn1 => asn1.create(U, T.SEQUENCE, true, xs);
const octets = (b: Uint8Array): forge.asn1.Asn1 =>
  asn1.create(U, T.OCTETSTRING, false, Buffer.from(b).toString('binary'));
const der = (a: forge.asn1.Asn1): Buffer => Buffer.from(asn1.toDer(a).getBytes(), 'binary');
const fromDer = (b: Uint8Array): forge.asn1.Asn1 => asn1.fromDer(Buffer.from(b).toString('binary'));

function name(cn: string): forge.asn1.Asn1 {
  return seq(
    asn1.create(U, T.SET, true, [
      seq(oid(COMMON_NAME), asn1.create(U, T.UTF8, false, Buffer.from(cn, 'utf8').toString('binary'))),
    ]),
  );
}

function utcTime(d: Date): forge.asn1.Asn1 {
  return asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(d));
}

/**
 * Builds the certificate. `signDigest` signs a SHA-256 digest with the
 * card key (ECDSA, DER signature).
 */
export async function buildShareCertificate(
  subject: string,
  publicKey: KeyObject,
  envelopeJson: string,
  signDigest: (digest: Buffer) => Promise<Buffer>,
  now = new Date(),
): Promise<Buffer> {
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const notAfter = new Date(now);
  // Long-lived like the share; UTCTime (RFC 5280 §4.1.2.5) cannot express 2050 or later.
  notAfter.setUTCFullYear(Math.min(notAfter.getUTCFullYear() + 20, 2049));
  const spki = fromDer(publicKey.export({ type: 'spki', format: 'der' }));
  const keyUsage = seq(
    oid(KEY_USAGE),
    asn1.create(U, T.BOOLEAN, false, '\xff'),
    octets(der(asn1.create(U, T.BITSTRING, false, '\x03\x08'))),
  ); // keyAgreement
  const envelopeExt = seq(
    oid(KEYSHARE_EXTENSION_OID),
    octets(der(asn1.create(U, T.UTF8, false, Buffer.from(envelopeJson, 'utf8').toString('binary')))),
  );
  const sigAlg = seq(oid(ECDSA_WITH_SHA256));
  const tbs = seq(
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [asn1.create(U, T.INTEGER, false, '\x02')]),
    asn1.create(U, T.INTEGER, false, serial.toString('binary')),
    sigAlg,
    name(subject),
    seq(utcTime(new Date(now.getTime() - 60_000)), utcTime(notAfter)),
    name(subject),
    spki,
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [seq(keyUsage, envelopeExt)]),
  );
  const tbsDer = der(tbs);
  const signature = await signDigest(createHash('sha256').update(tbsDer).digest());
  const cert = der(
    seq(tbs, seq(oid(ECDSA_WITH_SHA256)), asn1.create(U, T.BITSTRING, false, '\x00' + signature.toString('binary'))),
  );
  const x509 = new X509Certificate(cert);
  if (!x509.verify(publicKey))
    throw new CeremonyError('CardError', "The card's signature on the share certificate does not verify.");
  return cert;
}

/** ASN.1 universal tags of X.690 §8 met in the extension (RFC 5280 §4.1, §4.2). */
const DER_TAG = { BOOLEAN: 0x01, OCTET_STRING: 0x04, OID: 0x06, UTF8_STRING: 0x0c, SEQUENCE: 0x30 } as const;

function corrupted(what: string): CeremonyError {
  return new CeremonyError(
    'ShareCorrupted',
    `The keyshare extension of the share certificate on the card is damaged: ${what}.`,
  );
}

/**
 * One DER TLV at `offset` (X.690 §10.1: definite length in the fewest
 * octets; single-octet tags only, which is all the extension uses).
 * Throws ShareCorrupted naming `what` otherwise.
 */
function derTlv(b: Uint8Array, offset: number, what: string): { tag: number; value: Uint8Array; end: number } {
  if (offset + 2 > b.length) throw corrupted(`${what} is truncated`);
  const tag = b[offset]!;
  if ((tag & 0x1f) === 0x1f) throw corrupted(`${what} has a multi-byte tag`);
  let len = b[offset + 1]!;
  let p = offset + 2;
  if (len === 0x80) throw corrupted(`${what} has an indefinite length, which DER forbids`);
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 3 || p + n > b.length) throw corrupted(`${what} has an impossible length`);
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + b[p + k]!;
    if (b[p] === 0 || len < 0x80) throw corrupted(`${what} has a length not in its shortest form, which DER forbids`);
    p += n;
  }
  if (p + len > b.length) throw corrupted(`${what} is truncated`);
  return { tag, value: b.subarray(p, p + len), end: p + len };
}

/**
 * The Extension (RFC 5280 §4.1: extnID, critical DEFAULT FALSE, extnValue)
 * parsed strictly: the keyshare extension is non-critical, so DER omits the
 * critical field (X.690 §11.5); extnValue holds exactly one DER UTF8String,
 * valid UTF-8. Returns the extnID contents and, when it is one of ours, the
 * JSON.
 */
function parseExtension(ext: Uint8Array): { oid: string; json?: string } {
  const outer = derTlv(ext, 0, 'the extension');
  if (outer.tag !== DER_TAG.SEQUENCE || outer.end !== ext.length)
    throw corrupted('the extension is not one DER SEQUENCE');
  const id = derTlv(outer.value, 0, 'the extension identifier');
  if (id.tag !== DER_TAG.OID) throw corrupted('the extension does not start with an OID');
  const oid = Buffer.from(id.value).toString('binary');
  if (!READ_EXTENSION_OID_CONTENTS.has(oid)) return { oid };
  const next = derTlv(outer.value, id.end, 'the extension value');
  if (next.tag === DER_TAG.BOOLEAN)
    throw corrupted('it is marked critical or encodes the default "not critical", which it never does');
  if (next.tag !== DER_TAG.OCTET_STRING || next.end !== outer.value.length)
    throw corrupted('the extension value is not one OCTET STRING');
  const inner = derTlv(next.value, 0, 'the envelope');
  if (inner.tag !== DER_TAG.UTF8_STRING || inner.end !== next.value.length)
    throw corrupted('the envelope is not one DER UTF8String');
  let json: string;
  try {
    json = new TextDecoder('utf-8', { fatal: true }).decode(inner.value);
  } catch {
    throw corrupted('the envelope is not valid UTF-8');
  }
  return { oid, json };
}

/** The DER of each Extension in the TBSCertificate's [3] field, or none (RFC 5280 §4.1.2.9). */
function certificateExtensions(certDer: Uint8Array): Uint8Array[] {
  let tbs: forge.asn1.Asn1;
  try {
    // Node's X509Certificate accepted the certificate already; forge only finds the extensions.
    tbs = (fromDer(certDer).value as forge.asn1.Asn1[])[0]!;
  } catch {
    throw new CeremonyError('CardError', 'The certificate in the share slot cannot be read as DER.');
  }
  if (!Array.isArray(tbs?.value))
    throw new CeremonyError('CardError', 'The certificate in the share slot has no TBSCertificate.');
  const ctx3 = tbs.value.find((n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  if (!ctx3) return [];
  const list = Array.isArray(ctx3.value) ? ctx3.value[0] : undefined;
  if (!list || !Array.isArray(list.value))
    throw new CeremonyError('CardError', 'The extensions of the certificate in the share slot are not a SEQUENCE.');
  return list.value.map((e) => der(e));
}

/**
 * Reads the envelope JSON from a share certificate, after checking it is
 * signed by its own key. Null if it carries none (a foreign certificate, or
 * no certificate at all). An extension under our OID that is not exactly
 * what buildShareCertificate writes is a ShareCorrupted error, never a
 * crash (issue 9).
 */
export function envelopeFromCertificate(certDer: Uint8Array): { json: string; publicKey: KeyObject } | null {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(Buffer.from(certDer));
  } catch {
    return null;
  }
  if (x509.publicKey.asymmetricKeyType !== 'ec') return null;
  const ours = certificateExtensions(certDer)
    .map(parseExtension)
    .filter((e): e is { oid: string; json: string } => e.json !== undefined);
  if (ours.length === 0) return null;
  // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
  if (ours.length > 1) throw corrupted('the certificate carries more than one keyshare extension');
  if (!x509.verify(x509.publicKey)) {
    throw new CeremonyError(
      'ShareAltered',
      'The share certificate on the card is not signed by its own key: it was altered.',
    );
  }
  return { json: ours[0]!.json, publicKey: x509.publicKey };
}

/** PIV certificate object content (SP 800-73-4 Part 1 Appendix A): 70 cert, 71 CertInfo (uncompressed), FE LRC. */
export function certificateObject(certDer: Uint8Array): Buffer {
  const len = (n: number): Buffer =>
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([
    Buffer.from([0x70]),
    len(certDer.length),
    certDer,
    Buffer.from([0x71, 0x01, 0x00, 0xfe, 0x00]),
  ]);
}

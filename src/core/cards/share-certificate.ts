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
 * OID of the keyshare-envelope extension: a UUID-based OID under 2.25
 * (ITU-T X.667 §6.3), which needs no registration.
 * UUID e04fd123-5ee3-45d9-936f-f9a44e35264a.
 */
export const KEYSHARE_EXTENSION_OID = '2.25.298161504333604605052590835275715126858';
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
const EXTENSION_OID_CONTENT = oidContent(KEYSHARE_EXTENSION_OID).toString('binary');
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

const oid = (o: string): forge.asn1.Asn1 => asn1.create(U, T.OID, false, oidContent(o).toString('binary'));
const seq = (...xs: forge.asn1.Asn1[]): forge.asn1.Asn1 => asn1.create(U, T.SEQUENCE, true, xs);
const octets = (b: Uint8Array): forge.asn1.Asn1 => asn1.create(U, T.OCTETSTRING, false, Buffer.from(b).toString('binary'));
const der = (a: forge.asn1.Asn1): Buffer => Buffer.from(asn1.toDer(a).getBytes(), 'binary');
const fromDer = (b: Uint8Array): forge.asn1.Asn1 => asn1.fromDer(Buffer.from(b).toString('binary'));

function name(cn: string): forge.asn1.Asn1 {
  return seq(asn1.create(U, T.SET, true, [seq(oid(COMMON_NAME), asn1.create(U, T.UTF8, false, Buffer.from(cn, 'utf8').toString('binary')))]));
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
  const keyUsage = seq(oid(KEY_USAGE), asn1.create(U, T.BOOLEAN, false, '\xff'), octets(der(asn1.create(U, T.BITSTRING, false, '\x03\x08')))); // keyAgreement
  const envelopeExt = seq(oid(KEYSHARE_EXTENSION_OID), octets(der(asn1.create(U, T.UTF8, false, Buffer.from(envelopeJson, 'utf8').toString('binary')))));
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
  const cert = der(seq(tbs, seq(oid(ECDSA_WITH_SHA256)), asn1.create(U, T.BITSTRING, false, '\x00' + signature.toString('binary'))));
  const x509 = new X509Certificate(cert);
  if (!x509.verify(publicKey)) throw new CeremonyError('CardError', 'The card\'s signature on the share certificate does not verify.');
  return cert;
}

/** Reads the envelope JSON from a share certificate, after checking it is signed by its own key. Null if it carries none. */
export function envelopeFromCertificate(certDer: Uint8Array): { json: string; publicKey: KeyObject } | null {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(Buffer.from(certDer));
  } catch {
    return null;
  }
  if (x509.publicKey.asymmetricKeyType !== 'ec') return null;
  const tbs = fromDer(certDer).value[0] as forge.asn1.Asn1;
  const ctx3 = (tbs.value as forge.asn1.Asn1[]).find((n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  if (!ctx3) return null;
  const exts = (ctx3.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
  for (const ext of exts) {
    const parts = ext.value as forge.asn1.Asn1[];
    if (parts[0]!.value !== EXTENSION_OID_CONTENT) continue;
    if (!x509.verify(x509.publicKey)) {
      throw new CeremonyError('ShareAltered', 'The share certificate on the card is not signed by its own key: it was altered.');
    }
    const inner = fromDer(Buffer.from(parts[parts.length - 1]!.value as string, 'binary'));
    return { json: Buffer.from(inner.value as string, 'binary').toString('utf8'), publicKey: x509.publicKey };
  }
  return null;
}

/** PIV certificate object content (SP 800-73-4 Part 1 Appendix A): 70 cert, 71 CertInfo (uncompressed), FE LRC. */
export function certificateObject(certDer: Uint8Array): Buffer {
  const len = (n: number): Buffer => (n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]));
  return Buffer.concat([Buffer.from([0x70]), len(certDer.length), certDer, Buffer.from([0x71, 0x01, 0x00, 0xfe, 0x00])]);
}

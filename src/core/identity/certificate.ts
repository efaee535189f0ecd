import { createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { b64url, sha256 } from '../encoding.js';
import { CeremonyError } from '../errors.js';

/** Signs DER-encoded data with RSASSA-PKCS1-v1_5 and SHA-256 (a file key or a card). */
export type Rs256Signer = (data: Buffer) => Promise<Buffer>;

export const ADMIN_NAME_MAX = 64; // X.520 ub-common-name
export const CERT_VALIDITY_YEARS = 5;

export function checkAdminName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() !== name || name.length === 0) {
    throw new CeremonyError(
      'InvalidArgument',
      'The admin name must be non-empty text without leading or trailing spaces.',
    );
  }
  if ([...name].length > ADMIN_NAME_MAX) {
    throw new CeremonyError('InvalidArgument', `The admin name may have at most ${ADMIN_NAME_MAX} characters.`);
  }
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new CeremonyError('InvalidArgument', 'The admin name must not contain control characters.');
  }
  return name;
}

/**
 * Builds a self-signed X.509 v3 admin certificate (RFC 5280): SHA-256 with
 * RSA, subject = issuer = CN=<name>, keyUsage digitalSignature (critical),
 * basicConstraints CA:false, subject key identifier. The signature comes
 * from `sign`, so the private key may sit in a file or on a card.
 */
export async function buildSelfSignedCertificate(
  name: string,
  publicKey: KeyObject,
  sign: Rs256Signer,
  now: Date = new Date(),
): Promise<string> {
  checkAdminName(name);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // RFC 5280 §4.1.2.2: positive, at most 20 octets, unpredictable.
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CERT_VALIDITY_YEARS);
  cert.validity.notAfter = notAfter;
  const subject = [
    { name: 'commonName', value: name, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const sha256WithRSA = forge.pki.oids['sha256WithRSAEncryption'] as string;
  const c = cert as unknown as {
    signatureOid: string;
    siginfo: { algorithmOid: string };
    tbsCertificate: forge.asn1.Asn1;
    signature: string;
  };
  c.signatureOid = sha256WithRSA;
  c.siginfo.algorithmOid = sha256WithRSA;
  // getTBSCertificate exists in node-forge but is missing from its type definitions.
  c.tbsCertificate = (
    forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }
  ).getTBSCertificate(cert);
  const tbs = Buffer.from(forge.asn1.toDer(c.tbsCertificate).getBytes(), 'binary');
  c.signature = (await sign(tbs)).toString('binary');
  const pem = forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
  // Check what was produced with an independent parser before anyone relies on it.
  const x509 = new X509Certificate(pem);
  if (!x509.verify(publicKey)) {
    throw new CeremonyError(
      'IdentityInvalid',
      'The new certificate does not verify with its own key; the signer is faulty.',
    );
  }
  return pem;
}

export interface AdminCertificateInfo {
  /** Subject common name: the admin's name. */
  name: string;
  /** base64url SHA-256 of the DER certificate: the JOSE "x5t#S256" (RFC 7515 §4.1.8). */
  thumbprint: string;
  /** The same thumbprint in hex, for people. */
  fingerprintHex: string;
  publicKey: KeyObject;
  pem: string;
  der: Buffer;
  notBefore: Date;
  notAfter: Date;
}

function commonName(x509: X509Certificate): string | null {
  // X509Certificate.subject is "CN=Name" lines; escaped values are quoted.
  for (const line of x509.subject.split('\n')) {
    if (line.startsWith('CN=')) {
      const v = line.slice(3);
      return v.startsWith('"') && v.endsWith('"') ? (JSON.parse(v) as string) : v;
    }
  }
  return null;
}

/**
 * Parses and checks an admin certificate: X.509, self-signed and verifying
 * with its own key, RSA of at least 2048 bits, a common name.
 */
export function readAdminCertificate(
  pemOrDer: string | Uint8Array,
  what = 'The admin certificate',
): AdminCertificateInfo {
  let x509: X509Certificate;
  let publicKey: KeyObject;
  try {
    x509 = new X509Certificate(typeof pemOrDer === 'string' ? pemOrDer : Buffer.from(pemOrDer));
    // Node parses the key lazily: a damaged key inside a well-formed certificate throws only here.
    publicKey = x509.publicKey;
  } catch {
    throw new CeremonyError(
      'IdentityInvalid',
      `${what} is not an X.509 certificate (it is damaged, or not a certificate at all).`,
    );
  }
  if (publicKey.asymmetricKeyType !== 'rsa' || (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new CeremonyError('IdentityInvalid', `${what} does not hold an RSA key of at least 2048 bits.`);
  }
  if (!x509.verify(publicKey)) {
    throw new CeremonyError('IdentityInvalid', `${what} is not correctly self-signed.`);
  }
  const name = commonName(x509);
  if (!name) throw new CeremonyError('IdentityInvalid', `${what} has no common name (CN).`);
  const der = Buffer.from(x509.raw);
  const digest = sha256(der);
  return {
    name,
    thumbprint: b64url(digest),
    fingerprintHex: digest.toString('hex'),
    publicKey: createPublicKey(publicKey.export({ type: 'spki', format: 'pem' })),
    pem: x509.toString(),
    der,
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
  };
}

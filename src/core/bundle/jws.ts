import { constants, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { b64url, fromB64url, parseCompactJson } from '../encoding.js';
import { CeremonyError } from '../errors.js';
import type { AdminCertificateInfo, Rs256Signer } from '../identity/certificate.js';

// JWS General JSON Serialization (RFC 7515 §7.2.1): one payload, one entry
// in "signatures" per admin. Each signature has its own protected header
// naming the signer by certificate thumbprint ("x5t#S256", §4.1.8) and
// carrying the certificate ("x5c", §4.1.6) so a bundle can be checked on its
// own; a crypto unit ignores x5c and trusts only the admins it has installed.

export type JwsAlg = 'RS256' | 'PS256';
export const ACCEPTED_ALGS: readonly JwsAlg[] = ['RS256', 'PS256'];

export interface JwsProtectedHeader {
  alg: JwsAlg;
  'x5t#S256': string;
  x5c: string[];
}

export interface JwsSignatureEntry {
  protected: string;
  signature: string;
}

export interface GeneralJws {
  payload: string;
  signatures: JwsSignatureEntry[];
}

/** RFC 7515 §5.1 step 5: ASCII(BASE64URL(protected) || '.' || BASE64URL(payload)). */
export function signingInput(protectedB64: string, payloadB64: string): Buffer {
  return Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii');
}

/** Signs the payload with RS256 (RSASSA-PKCS1-v1_5 SHA-256): file keys and PIV cards both do it. */
export async function signGeneralJws(
  jws: GeneralJws,
  signer: AdminCertificateInfo,
  sign: Rs256Signer,
): Promise<JwsSignatureEntry> {
  const header: JwsProtectedHeader = {
    alg: 'RS256',
    'x5t#S256': signer.thumbprint,
    x5c: [signer.der.toString('base64')],
  };
  const protectedB64 = b64url(Buffer.from(JSON.stringify(header), 'utf8'));
  const signature = await sign(signingInput(protectedB64, jws.payload));
  const entry = { protected: protectedB64, signature: b64url(signature) };
  if (
    !verifyJwsSignature(
      jws.payload,
      entry,
      parseProtectedHeader(entry.protected, 'the new signature'),
      signer.publicKey,
    )
  ) {
    throw new CeremonyError(
      'BundleSignatureInvalid',
      "The new signature does not verify with the signer's certificate; the key and certificate do not match.",
    );
  }
  return entry;
}

export function parseProtectedHeader(protectedB64: string, what: string): JwsProtectedHeader {
  const bytes = fromB64url(protectedB64, `${what}: the protected header`);
  const read = parseCompactJson(bytes);
  if ('fault' in read) {
    throw new CeremonyError(
      'BundleMalformed',
      read.fault === 'not-json'
        ? `${what} has a protected header that is not JSON.`
        : read.fault === 'too-deep'
          ? `${what} has a protected header nested too deeply to be one this tool wrote.`
          : `${what} has a protected header that is not in the compact form this tool writes (spaces or duplicate members).`,
    );
  }
  const h = read.value;
  const o = h as Partial<JwsProtectedHeader> & Record<string, unknown>;
  const keys = Object.keys(o ?? {})
    .sort()
    .join(',');
  if (keys !== 'alg,x5c,x5t#S256') {
    throw new CeremonyError('BundleMalformed', `${what} has unexpected protected header fields (${keys}).`);
  }
  if (!ACCEPTED_ALGS.includes(o.alg as JwsAlg)) {
    throw new CeremonyError(
      'BundleMalformed',
      `${what} uses algorithm ${String(o.alg)}; only RS256 and PS256 are accepted.`,
    );
  }
  if (
    typeof o['x5t#S256'] !== 'string' ||
    !Array.isArray(o.x5c) ||
    o.x5c.length !== 1 ||
    typeof o.x5c[0] !== 'string'
  ) {
    throw new CeremonyError('BundleMalformed', `${what} does not identify its signer.`);
  }
  return o as JwsProtectedHeader;
}

export function verifyJwsSignature(
  payloadB64: string,
  entry: JwsSignatureEntry,
  header: JwsProtectedHeader,
  key: KeyObject,
): boolean {
  let sig: Buffer;
  try {
    sig = fromB64url(entry.signature, 'signature');
  } catch {
    return false;
  }
  const data = signingInput(entry.protected, payloadB64);
  if (header.alg === 'RS256') return nodeVerify('sha256', data, key, sig);
  // PS256: RSASSA-PSS with SHA-256, MGF1-SHA-256, salt length 32 (RFC 7518 §3.5).
  return nodeVerify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
}

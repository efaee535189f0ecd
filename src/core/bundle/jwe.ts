import {
  constants,
  createCipheriv,
  createDecipheriv,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { b64url, fromB64url, parseCompactJson } from '../encoding.js';
import { CeremonyError } from '../errors.js';
import { zeroize } from '../secrets.js';

// JWE Compact Serialization (RFC 7516 §7.1) with "alg": "RSA-OAEP-256" and
// "enc": "A256GCM" (RFC 7518 §4.3 and §5.3), built from Node's OpenSSL so
// the content-encryption key can be zeroed. Any JOSE library decrypts it
// with the unit's private key (the tests use `jose`).

export interface JweHeader {
  alg: 'RSA-OAEP-256';
  enc: 'A256GCM';
  /** The SHA-256 fingerprint (hex) of the transport key it is encrypted to. */
  kid: string;
  cty?: string;
}

export function encryptCompactJwe(plaintext: Uint8Array, recipient: KeyObject, header: JweHeader): string {
  const cek = randomBytes(32);
  try {
    const encryptedKey = publicEncrypt(
      { key: recipient, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      cek,
    );
    const protectedB64 = b64url(Buffer.from(JSON.stringify(header), 'utf8'));
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', cek, iv);
    // RFC 7516 §5.1 step 14: AAD = ASCII(BASE64URL(UTF8(JWE Protected Header))).
    cipher.setAAD(Buffer.from(protectedB64, 'ascii'));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [protectedB64, b64url(encryptedKey), b64url(iv), b64url(ct), b64url(cipher.getAuthTag())].join('.');
  } finally {
    zeroize(cek);
  }
}

export function readJweHeader(jwe: string, what: string): JweHeader {
  const parts = typeof jwe === 'string' ? jwe.split('.') : [];
  if (parts.length !== 5) throw new CeremonyError('BundleMalformed', `${what} is not a compact JWE.`);
  const read = parseCompactJson(fromB64url(parts[0], `${what} header`));
  if ('fault' in read) {
    throw new CeremonyError(
      'BundleMalformed',
      read.fault === 'not-compact'
        ? `${what} has a header that is not compact JSON (spaces or duplicate members).`
        : `${what} has an unreadable header.`,
    );
  }
  const h = read.value;
  const hh = h as Partial<JweHeader>;
  const members = Object.keys(hh ?? {})
    .sort()
    .join(',');
  if (members !== 'alg,enc,kid') {
    // RFC 7516 §4.1.13 (crit), §4.1.3 (zip): a unit implements none of the optional members, so it accepts none.
    throw new CeremonyError(
      'BundleMalformed',
      `${what} has header members ${members}; a unit accepts exactly alg, enc and kid.`,
    );
  }
  if (hh.alg !== 'RSA-OAEP-256' || hh.enc !== 'A256GCM' || typeof hh.kid !== 'string') {
    throw new CeremonyError(
      'BundleMalformed',
      `${what} uses algorithms this unit does not accept (needs RSA-OAEP-256 with A256GCM).`,
    );
  }
  return hh as JweHeader;
}

/** Decrypts a compact JWE; the plaintext is a secret the caller zeroes. */
export function decryptCompactJwe(jwe: string, recipient: KeyObject, what: string): Buffer {
  readJweHeader(jwe, what);
  const [p, ek, ivB, ctB, tagB] = jwe.split('.') as [string, string, string, string, string];
  const encryptedKey = fromB64url(ek, `${what} encrypted key`);
  const iv = fromB64url(ivB, `${what} IV`);
  const ct = fromB64url(ctB, `${what} ciphertext`);
  const tag = fromB64url(tagB, `${what} tag`);
  let cek: Buffer | undefined;
  try {
    try {
      cek = privateDecrypt(
        { key: recipient, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        encryptedKey,
      );
    } catch {
      throw new CeremonyError('BundleMalformed', `${what} cannot be unwrapped with this unit's transport key.`);
    }
    if (cek.length !== 32 || iv.length !== 12 || tag.length !== 16) {
      throw new CeremonyError('BundleMalformed', `${what} is malformed.`);
    }
    const d = createDecipheriv('aes-256-gcm', cek, iv);
    d.setAAD(Buffer.from(p, 'ascii'));
    d.setAuthTag(tag);
    const plain = d.update(ct);
    try {
      d.final();
    } catch {
      zeroize(plain);
      throw new CeremonyError('BundleMalformed', `${what} fails authentication: it was altered.`);
    }
    return plain;
  } finally {
    zeroize(cek);
  }
}

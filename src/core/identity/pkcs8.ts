import { createCipheriv, createPrivateKey, pbkdf2Sync, randomBytes, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { toPem } from '../encoding.js';
import { CeremonyError } from '../errors.js';
import { zeroize } from '../secrets.js';

// Encrypted PKCS#8 (RFC 5958 §3) with PBES2 (RFC 8018 §6.2): PBKDF2 with
// HMAC-SHA-256 and AES-256-CBC. Node can export this structure itself, but
// only with OpenSSL's default of 2,048 PBKDF2 iterations, which is far too
// few for a 6-character passphrase; here the same standard structure is
// assembled with the iteration count OWASP recommends for PBKDF2-HMAC-SHA256
// (600,000), and the key derivation and cipher run in Node's OpenSSL.
export const PBKDF2_ITERATIONS = 600_000;

const OID = {
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSHA256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
};

const asn1 = forge.asn1;

function oid(o: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(o).getBytes());
}
function octets(b: Uint8Array): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, Buffer.from(b).toString('binary'));
}
function integer(n: number): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(n).getBytes());
}
function seq(...items: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
}
function nul(): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '');
}

/** Returns "-----BEGIN ENCRYPTED PRIVATE KEY-----" PEM of the key under the passphrase. */
export function encryptPrivateKeyPkcs8(key: KeyObject, passphrase: Uint8Array, iterations = PBKDF2_ITERATIONS): string {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  let plain: Buffer | undefined;
  let kek: Buffer | undefined;
  try {
    plain = key.export({ type: 'pkcs8', format: 'der' });
    kek = pbkdf2Sync(passphrase, salt, iterations, 32, 'sha256');
    const cipher = createCipheriv('aes-256-cbc', kek, iv);
    const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
    const info = seq(
      seq(
        oid(OID.pbes2),
        seq(
          seq(oid(OID.pbkdf2), seq(octets(salt), integer(iterations), integer(32), seq(oid(OID.hmacWithSHA256), nul()))),
          seq(oid(OID.aes256Cbc), octets(iv)),
        ),
      ),
      octets(encrypted),
    );
    const der = Buffer.from(asn1.toDer(info).getBytes(), 'binary');
    return toPem('ENCRYPTED PRIVATE KEY', der);
  } finally {
    zeroize(plain, kek);
  }
}

/** Decrypts an encrypted PKCS#8 PEM; a wrong passphrase is reported as such. */
export function decryptPrivateKeyPkcs8(pem: string, passphrase: Uint8Array, what: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase: Buffer.from(passphrase.buffer, passphrase.byteOffset, passphrase.byteLength) });
  } catch (e) {
    const msg = String((e as Error).message);
    if (/bad decrypt|wrong password|decrypt|unsupported/i.test(msg)) {
      throw new CeremonyError('WrongPassphrase', `Wrong passphrase for ${what}.`);
    }
    throw new CeremonyError('IdentityInvalid', `${what} holds no readable private key (${msg}).`);
  }
}

import { createCipheriv, createPrivateKey, pbkdf2Sync, randomBytes, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { toPem } from '../encoding.js';
import { CeremonyError } from '../errors.js';
import { zeroize } from '../secrets.js';
import { passphraseHint } from '../passphrase.js';

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
          seq(
            oid(OID.pbkdf2),
            seq(octets(salt), integer(iterations), integer(32), seq(oid(OID.hmacWithSHA256), nul())),
          ),
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

/** Below this, a 6-character passphrase falls to a guessing attack in hours (issue 10); OWASP asks 600,000. */
export const MIN_PBKDF2_ITERATIONS = 100_000;
/** Above this a hostile file could keep the tool busy for seconds per try (about 1 s here); this tool writes 600,000. */
export const MAX_PBKDF2_ITERATIONS = 2_000_000;

/** The openssl commands that re-encrypt a key file the way this tool writes it. */
function reencryptHint(): string {
  return (
    'Re-encrypt it first: openssl pkcs8 -in OLD.pem -passin file:PASSFILE | openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 ' +
    `-iter ${PBKDF2_ITERATIONS} -passout file:PASSFILE -out NEW.pem, then append the certificate to NEW.pem.`
  );
}

/**
 * Checks how an "ENCRYPTED PRIVATE KEY" block is protected before any
 * passphrase is tried (RFC 5958 §3, RFC 8018 §6.2, §A.2): it must really be
 * encrypted (an unencrypted PrivateKeyInfo under that label would open with
 * any passphrase, and so prove nothing about who holds it), with PBES2 (not
 * the obsolete PBES1 of DES/3DES with MD5/SHA-1) and PBKDF2 at no fewer than
 * MIN_PBKDF2_ITERATIONS iterations.
 */
export function checkPkcs8Protection(pem: string, what: string): void {
  const body = pem.replace(/-----(BEGIN|END) ENCRYPTED PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  let info: forge.asn1.Asn1;
  try {
    // node-forge takes these options at run time; its type definitions know only the boolean form.
    const fromDer = asn1.fromDer as unknown as (
      bytes: string,
      options: { strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean },
    ) => forge.asn1.Asn1;
    info = fromDer(Buffer.from(body, 'base64').toString('binary'), {
      strict: true,
      parseAllBytes: true,
      decodeBitStrings: false,
    });
  } catch {
    throw new CeremonyError('IdentityInvalid', `${what} holds an encrypted private key block that is not valid DER.`);
  }
  const parts = Array.isArray(info.value) ? info.value : [];
  const first = parts[0] as forge.asn1.Asn1 | undefined;
  // PrivateKeyInfo starts with INTEGER version; EncryptedPrivateKeyInfo with an AlgorithmIdentifier SEQUENCE.
  if (first?.type === asn1.Type.INTEGER) {
    throw new CeremonyError(
      'IdentityInvalid',
      `${what} holds a private key that is not encrypted, under a label that says it is: it would open with any passphrase. Do not use it; ${reencryptHint()}`,
    );
  }
  const alg = Array.isArray(first?.value) ? (first.value as forge.asn1.Asn1[]) : [];
  const algOid = alg[0]?.type === asn1.Type.OID ? asn1.derToOid(alg[0].value as string) : '';
  if (algOid !== OID.pbes2) {
    throw new CeremonyError(
      'IdentityInvalid',
      `${what} is encrypted with ${algOid ? `algorithm ${algOid} (PBES1 or another obsolete scheme)` : 'an unknown scheme'}, not PBES2 with PBKDF2. ${reencryptHint()}`,
    );
  }
  const params = Array.isArray(alg[1]?.value) ? (alg[1]!.value as forge.asn1.Asn1[]) : [];
  const kdf = Array.isArray(params[0]?.value) ? (params[0]!.value as forge.asn1.Asn1[]) : [];
  const kdfOid = kdf[0]?.type === asn1.Type.OID ? asn1.derToOid(kdf[0].value as string) : '';
  const kdfParams = Array.isArray(kdf[1]?.value) ? (kdf[1]!.value as forge.asn1.Asn1[]) : [];
  const iterations =
    kdfParams[1]?.type === asn1.Type.INTEGER
      ? parseInt(forge.util.bytesToHex(kdfParams[1].value as string) || '0', 16)
      : 0;
  if (iterations > MAX_PBKDF2_ITERATIONS) {
    throw new CeremonyError(
      'IdentityInvalid',
      `${what} asks for ${iterations.toLocaleString('en-US')} PBKDF2 iterations; this tool allows at most ${MAX_PBKDF2_ITERATIONS.toLocaleString('en-US')}, so that no file can keep it busy. ${reencryptHint()}`,
      { iterations },
    );
  }
  if (kdfOid !== OID.pbkdf2 || !(iterations >= MIN_PBKDF2_ITERATIONS)) {
    throw new CeremonyError(
      'IdentityInvalid',
      kdfOid !== OID.pbkdf2
        ? `${what} derives its key with ${kdfOid || 'an unknown function'}, not PBKDF2. ${reencryptHint()}`
        : `${what} derives its key with only ${iterations.toLocaleString('en-US')} PBKDF2 iterations; this tool needs at least ${MIN_PBKDF2_ITERATIONS.toLocaleString('en-US')}, so that a short passphrase cannot be guessed quickly. ${reencryptHint()}`,
      { iterations },
    );
  }
}

/** Decrypts an encrypted PKCS#8 PEM; a wrong passphrase is reported as such. */
export function decryptPrivateKeyPkcs8(pem: string, passphrase: Uint8Array, what: string): KeyObject {
  checkPkcs8Protection(pem, what);
  try {
    return createPrivateKey({
      key: pem,
      format: 'pem',
      passphrase: Buffer.from(passphrase.buffer, passphrase.byteOffset, passphrase.byteLength),
    });
  } catch (e) {
    const msg = String((e as Error).message);
    if (/bad decrypt|wrong password|decrypt|unsupported/i.test(msg)) {
      throw new CeremonyError('WrongPassphrase', `Wrong passphrase for ${what}.${passphraseHint(passphrase)}`);
    }
    throw new CeremonyError('IdentityInvalid', `${what} holds no readable private key (${msg}).`);
  }
}

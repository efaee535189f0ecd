import { generateKeyPair, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { findPemBlock } from '../encoding.js';
import { CeremonyError } from '../errors.js';
import { checkPassphrase } from '../passphrase.js';
import {
  buildSelfSignedCertificate,
  checkAdminName,
  readAdminCertificate,
  type AdminCertificateInfo,
  type Rs256Signer,
} from './certificate.js';
import { decryptPrivateKeyPkcs8, encryptPrivateKeyPkcs8 } from './pkcs8.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface AdminIdentityFile {
  /** The identity file's text: encrypted PKCS#8 PEM, then the certificate PEM. */
  text: string;
  certificate: AdminCertificateInfo;
}

/** RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2) with a private key in memory. */
export function fileKeySigner(privateKey: KeyObject): Rs256Signer {
  return async (data) => nodeSign('sha256', data, privateKey);
}

/**
 * Generates an admin identity in a file: an RSA-2048 key pair from Node's
 * OpenSSL, a self-signed certificate, and the key encrypted under the
 * passphrase. The caller zeroes the passphrase.
 */
export async function generateFileIdentity(
  name: string,
  passphrase: Uint8Array,
  now?: Date,
): Promise<AdminIdentityFile> {
  checkAdminName(name);
  checkPassphrase(passphrase);
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  const certPem = await buildSelfSignedCertificate(name, publicKey, fileKeySigner(privateKey), now);
  const keyPem = encryptPrivateKeyPkcs8(privateKey, passphrase);
  return { text: keyPem + certPem, certificate: readAdminCertificate(certPem) };
}

/** The certificate of an identity file (no passphrase needed). */
export function identityCertificate(text: string, what = 'The identity file'): AdminCertificateInfo {
  const certPem = findPemBlock(text, 'CERTIFICATE');
  if (!certPem) throw new CeremonyError('IdentityInvalid', `${what} holds no certificate.`);
  return readAdminCertificate(certPem, `The certificate in ${what.replace(/^The /, 'the ')}`);
}

export interface UnlockedIdentity {
  certificate: AdminCertificateInfo;
  /** The admin's private key. Key material: never log or serialise it. */
  privateKey: KeyObject;
}

/** Opens an identity file with its passphrase and checks key and certificate belong together. */
export function unlockFileIdentity(text: string, passphrase: Uint8Array, what = 'the identity file'): UnlockedIdentity {
  const certificate = identityCertificate(text, what);
  const keyPem = findPemBlock(text, 'ENCRYPTED PRIVATE KEY');
  if (!keyPem) throw new CeremonyError('IdentityInvalid', `${what} holds no encrypted private key.`);
  const privateKey = decryptPrivateKeyPkcs8(keyPem, passphrase, what);
  const probe = Buffer.from('key-ceremony identity self-check');
  const sig = nodeSign('sha256', probe, privateKey);
  if (!nodeVerify('sha256', probe, certificate.publicKey, sig)) {
    throw new CeremonyError('IdentityInvalid', `The private key in ${what} does not match its certificate.`);
  }
  return { certificate, privateKey };
}

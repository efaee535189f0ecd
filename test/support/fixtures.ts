import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { buildSelfSignedCertificate, readAdminCertificate, type AdminCertificateInfo } from '../../src/core/identity/certificate.js';
import { fileKeySigner } from '../../src/core/identity/identity.js';

export interface TestAdmin {
  cert: AdminCertificateInfo;
  key: KeyObject;
  sign: (data: Buffer) => Promise<Buffer>;
}

/** An admin identity in memory (no passphrase file: tests of bundles need only keys). */
export async function makeAdmin(name: string): Promise<TestAdmin> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = await buildSelfSignedCertificate(name, publicKey, fileKeySigner(privateKey));
  return { cert: readAdminCertificate(pem), key: privateKey, sign: fileKeySigner(privateKey) };
}

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  buildSelfSignedCertificate,
  readAdminCertificate,
  type AdminCertificateInfo,
} from '../../src/core/identity/certificate.js';
import { fileKeySigner } from '../../src/core/identity/identity.js';
import { serializeBundle, type BundlePayload } from '../../src/core/bundle/bundle.js';
import { signGeneralJws, type GeneralJws, type JwsSignatureEntry } from '../../src/core/bundle/jws.js';
import { b64url } from '../../src/core/encoding.js';

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

/**
 * A bundle re-issued the way an attacker with write access to the file would
 * make it: the payload decoded, edited, encoded again with b64url, then
 * signed with signGeneralJws by each of `signers` (in order, duplicates
 * kept), so every signature is valid over whatever the payload now says.
 * Without `edit` the payload is re-signed unchanged. Returns the bundle file
 * text in the tool's canonical serialisation.
 */
export async function reissueBundle(
  jws: GeneralJws,
  signers: readonly TestAdmin[],
  edit?: (payload: BundlePayload) => void,
): Promise<string> {
  let payload = jws.payload;
  if (edit) {
    const p = JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as BundlePayload;
    edit(p);
    payload = b64url(Buffer.from(JSON.stringify(p), 'utf8'));
  }
  const unsigned: GeneralJws = { payload, signatures: [] };
  const signatures: JwsSignatureEntry[] = [];
  for (const s of signers) signatures.push(await signGeneralJws(unsigned, s.cert, s.sign));
  return serializeBundle({ payload, signatures });
}

import type { PivSession } from '../cards/piv.js';
import { cardRs256Signer, readAdminCertificateFromCard } from '../cards/roles.js';
import type { AdminCertificateInfo, Rs256Signer } from '../identity/certificate.js';
import { fileKeySigner, unlockFileIdentity } from '../identity/identity.js';

// An admin's signer, for `bundle sign` and the app's sessions alike: their
// certificate, and a way to sign with its key (signPreparedBundle adds the
// signature and records it).

export interface AdminSigner {
  certificate: AdminCertificateInfo;
  sign: Rs256Signer;
}

/** An identity file, unlocked with its passphrase (the caller zeroes it). `what` names the file in a refusal. */
export function fileIdentitySigner(identityText: string, passphrase: Uint8Array, what: string): AdminSigner {
  const unlocked = unlockFileIdentity(identityText, passphrase, what);
  return { certificate: unlocked.certificate, sign: fileKeySigner(unlocked.privateKey) };
}

/** The admin identity on the card of session `s` (slot 9C), signing with the PIN (the caller zeroes it). */
export async function cardIdentitySigner(s: PivSession, pin: Uint8Array): Promise<AdminSigner> {
  return { certificate: await readAdminCertificateFromCard(s), sign: cardRs256Signer(s, pin) };
}

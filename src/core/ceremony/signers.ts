import type { PivSession } from '../cards/piv.js';
import { cardRs256Signer, readAdminCertificateFromCard, slotReplacedData, type SlotContent } from '../cards/roles.js';
import { assertOutputFree, writeFileExclusive } from '../files.js';
import type { AdminCertificateInfo, Rs256Signer } from '../identity/certificate.js';
import { fileKeySigner, generateFileIdentity, unlockFileIdentity } from '../identity/identity.js';
import type { TranscriptData } from './transcript.js';

// An admin's identity, for `identity generate`, `bundle sign` and the app's
// sessions alike: a new identity file, the record of what a card identity
// replaced, and a signer (their certificate and a way to sign with its key;
// signPreparedBundle adds the signature and records it).

/**
 * Generates an admin identity file for `name` at `path` (never over a file),
 * its key sealed with the passphrase (the caller zeroes it), readable by its
 * owner only. Answers its certificate.
 */
export async function writeFileIdentity(
  path: string,
  name: string,
  passphrase: Uint8Array,
  now?: Date,
): Promise<AdminCertificateInfo> {
  assertOutputFree(path);
  const id = await generateFileIdentity(name, passphrase, now);
  writeFileExclusive(path, id.text, 0o600);
  return id.certificate;
}

/** The data of the card-slot-replaced entry of an admin identity generated on a card over what slot 9C held. */
export function identitySlotReplacedData(
  serial: number,
  replaced: SlotContent,
  identity: { name: string; thumbprint: string },
): TranscriptData {
  return slotReplacedData(serial, replaced, `admin identity of ${identity.name} ${identity.thumbprint}`);
}

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

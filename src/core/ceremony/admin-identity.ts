import { verify as nodeVerify } from 'node:crypto';
import { basename } from 'node:path';
import { SLOT } from '../cards/piv.js';
import {
  cardRs256Signer,
  describeSlotContent,
  generateAdminIdentityOnCard,
  inspectSlot,
  readAdminCertificateFromCard,
  type SlotContent,
} from '../cards/roles.js';
import { CeremonyError } from '../errors.js';
import { readFileOrFail, safeFileStem } from '../files.js';
import type { AdminCertificateInfo } from '../identity/certificate.js';
import { unlockFileIdentity } from '../identity/identity.js';
import { checkPassphrase } from '../passphrase.js';
import type { CardDesk } from './card-desk.js';
import { ENTRY, type EntryType } from './record.js';
import type { RosterMode, RosterParticipant } from './roster.js';
import { chooseSavePath, fail, picked, type FileDialogs, type HeldOn, type SecretInput } from './session-ports.js';
import { identitySlotReplacedData, writeFileIdentity } from './signers.js';
import type { TranscriptData } from './transcript.js';
import { IDENTITY_FILTERS } from './bundle-steps.js';

// An admin's identity in the app, for a ceremony that gives admins their
// identities (the initial ceremony's step 3; an admin change could add
// admins the same way): a new identity file, a new identity on the admin's
// card (slot 9C; never over what it holds without its owner's word, issue
// 9), the identity already on their card (after a PIN check), or an identity
// file from an earlier ceremony; then one admin of the ceremony takes it.

/** An admin's identity: its certificate and where its key is. */
export interface AdminState {
  certificate: AdminCertificateInfo;
  location: string;
  /** The identity file, or the card (slot 9C). */
  heldOn: HeldOn;
}

/** What slot 9C held when an admin's card was refused for it (issue 9); only exactly this is then replaced. */
export interface OccupiedSlot {
  readonly adminIndex: number;
  readonly serial: number;
  readonly content: SlotContent;
}

/** Where a refused card's slot 9C is kept until its owner agrees to replace it (a phase of the ceremony). */
export interface SlotAgreement {
  occupiedSlot?: OccupiedSlot;
}

/** What an identity step reaches: the ceremony's dialogs, cards and record. */
export interface IdentityPorts {
  readonly dialogs: FileDialogs;
  readonly cards: CardDesk;
  readonly now: () => Date;
  readonly mode: RosterMode;
  /** The ceremony's id: the PIN check of an identity already on a card signs a text that names it. */
  readonly ceremonyId: string;
  /** Writes an entry of the ceremony's record, by `actor`. */
  readonly record: (type: EntryType, data: TranscriptData, actor: string) => void;
}

/** An identity an admin now has, and when it was made (the admin-identity entry's `created`). */
export interface AdminIdentity {
  readonly identity: AdminState;
  readonly created: string;
}

/**
 * A new identity for `admin` (the admin at `adminIndex`), on their medium:
 * an identity file saved where the dialog says, sealed with the passphrase,
 * or on the card in their reader with the PIN. A card already holding this
 * admin's identity is used after a PIN check; one holding another admin's is
 * refused; a slot 9C holding anything else is replaced only once its owner
 * agreed (`replaceSlot`, after a refusal kept in `pending`), and the record
 * says what was replaced. `secret` says the medium; `bytes` is its secret
 * (the caller zeroes it).
 */
export async function createAdminIdentity(
  p: IdentityPorts,
  admin: RosterParticipant,
  adminIndex: number,
  secret: SecretInput,
  bytes: Buffer,
  pending: SlotAgreement,
  replaceSlot?: { ownerName: string },
): Promise<AdminIdentity> {
  if (secret.medium === 'file') {
    checkPassphrase(bytes, 'The passphrase');
    const path = await chooseSavePath(p.dialogs, p.mode, {
      title: `Save ${admin.name}\u2019s identity file`,
      defaultName: `${safeFileStem(admin.name)}.identity.pem`,
      filters: IDENTITY_FILTERS,
    });
    const certificate = await writeFileIdentity(path, admin.name, bytes, p.now());
    return { identity: { certificate, location: basename(path), heldOn: { medium: 'file', path } }, created: 'now' };
  }
  const { certificate, serial, existed } = await p.cards.onCard(secret.reader, async (s) => {
    const serial = await s.serial();
    const existing = await readAdminCertificateFromCard(s).catch(() => null);
    if (existing && existing.name !== admin.name) {
      throw new CeremonyError(
        'InvalidArgument',
        `Card ${serial} already holds the identity of ${existing.name}; use ${admin.name}\u2019s own card.`,
      );
    }
    if (existing) {
      // The card already holds this admin's identity: prove the PIN
      // opens it with a signature, then use it rather than replace it.
      const probe = Buffer.from(`key ceremony ${p.ceremonyId} identity check`);
      const sig = await cardRs256Signer(s, bytes)(probe);
      if (!signatureMatches(existing, probe, sig))
        throw new CeremonyError('CardError', `The key in card ${serial} does not match its certificate.`);
      return { certificate: existing, serial, existed: true };
    }
    // A 9C holding anything else is never replaced without its owner's word (issue 9).
    const present = await inspectSlot(s, SLOT.SIGNATURE);
    let replaced: SlotContent | undefined;
    if (present) {
      const agreed = pending.occupiedSlot;
      if (!replaceSlot || !agreed || agreed.adminIndex !== adminIndex || agreed.serial !== serial) {
        pending.occupiedSlot = { adminIndex, serial, content: present };
        throw new CeremonyError(
          'CardSlotOccupied',
          `On card ${serial}, ${describeSlotContent(present)}. Nothing was changed: ${admin.name} must agree to replace it, or use another card.`,
          { serial, slot: '9C', content: describeSlotContent(present) },
        );
      }
      if (replaceSlot.ownerName.trim() !== admin.name)
        fail('InvalidArgument', `To agree to replace what card ${serial} holds, type the name ${admin.name} exactly.`);
      replaced = agreed.content; // generateAdminIdentityOnCard refuses if the card no longer holds exactly this
    }
    const certificate = await generateAdminIdentityOnCard(s, admin.name, bytes, replaced ? { replace: replaced } : {});
    delete pending.occupiedSlot;
    if (replaced) p.record(ENTRY.cardSlotReplaced, identitySlotReplacedData(serial, replaced, certificate), admin.name);
    return { certificate, serial, existed: false };
  });
  return {
    identity: { certificate, location: `card ${serial}`, heldOn: { medium: 'card', serial } },
    created: existed ? 'earlier (already on the card)' : 'now',
  };
}

/**
 * An admin with a file identity from an earlier ceremony brings it (open
 * dialog): the passphrase (`bytes`, the caller zeroes it) must open it,
 * which proves they hold it, and the name on its certificate must be theirs.
 */
export async function bringIdentityFile(
  dialogs: FileDialogs,
  admin: RosterParticipant,
  bytes: Buffer,
): Promise<AdminIdentity> {
  const path = picked(
    await dialogs.openFile({
      title: `Open ${admin.name}\u2019s identity file`,
      filters: IDENTITY_FILTERS,
    }),
  );
  const what = `the identity file ${basename(path)}`;
  const unlocked = unlockFileIdentity(readFileOrFail(path, 'The identity file').toString('utf8'), bytes, what);
  const certificate = unlocked.certificate;
  if (certificate.name !== admin.name) {
    throw new CeremonyError(
      'IdentityInvalid',
      `${basename(path)} is the identity of ${certificate.name}, not of ${admin.name}.`,
    );
  }
  return {
    identity: { certificate, location: basename(path), heldOn: { medium: 'file', path } },
    created: 'earlier (identity file brought by the admin)',
  };
}

/**
 * Admin `adminIndex` of `admins` takes the identity, unless another admin of
 * the ceremony has it. Answers the admin-identity entry's data, which the
 * ceremony records by the admin.
 */
export function adoptIdentity(
  admins: Array<AdminState | null>,
  admin: RosterParticipant,
  adminIndex: number,
  made: AdminIdentity,
): TranscriptData {
  const { identity } = made;
  if (admins.some((a) => a?.certificate.thumbprint === identity.certificate.thumbprint)) {
    fail('InvalidArgument', 'That identity is already used by another admin of this ceremony.');
  }
  admins[adminIndex] = identity;
  return {
    admin: admin.name,
    medium: admin.medium,
    location: identity.location,
    thumbprint: identity.certificate.thumbprint,
    created: made.created,
  };
}

/** Checks an RS256 signature against the certificate it claims. */
function signatureMatches(cert: AdminCertificateInfo, data: Buffer, signature: Buffer): boolean {
  return nodeVerify('sha256', data, cert.publicKey, signature);
}

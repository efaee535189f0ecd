// Plain words for every failure, keyed on error.code: what happened and what
// to do next. The core's own sentence (error.message) is always shown as
// well, under this summary, because it names the specific file, card or share.
import { CARD_REMEDIES, type CardRemedy } from '../../shared/card-remedies.js';
import { missingCase } from '../../shared/error-codes.js';
import type { IpcError } from '../../shared/ipc.js';
import { plural } from './format.js';

export interface ErrorExplanation {
  /** One line: what happened. */
  readonly summary: string;
  /** What to do about it, when there is something to do. */
  readonly next: string | null;
}

const INTERNAL: ErrorExplanation = {
  summary: 'Something went wrong inside Key Ceremony.',
  next: 'Nothing you typed was kept. Try again; if it happens again, abandon the ceremony and report the problem with the message below.',
};

/**
 * What to do in the app about a card refusal that names a remedy
 * (src/shared/card-remedies.ts); the core's sentence says what is missing.
 */
export function cardRemedyInApp(remedy: CardRemedy): string {
  switch (remedy) {
    case 'prepare':
      return 'Prepare the card in the panel under the card reader (its owner chooses a new PIN and PUK), then try again.';
    case 'prepare-with-management-key':
      return "Its owner changed the card's management key with another tool. Its owner can keep that key PIN-protected on the card (ykman piv access change-management-key --protect), or prepare the card with the command line, giving the key (keyceremony card prepare --management-key-file); or use another card.";
    case 'owner-consent-to-replace':
      return "Nothing on the card was changed. Its owner decides: use another card, or replace what the slot holds by typing the owner's name where the step asks.";
    case 'new-pin':
      return 'Choose a new PIN for the card (6 to 8 characters), then try again.';
    case 'new-puk':
      return 'Choose a new PUK for the card (8 characters), then try again.';
    case 'current-puk':
      return "The card's own PUK is kept. Leave the new PUK empty.";
    default:
      return missingCase(remedy);
  }
}

export function explainError(error: IpcError): ErrorExplanation {
  const remedy = error.details?.['remedy'];
  if (typeof remedy === 'string' && (CARD_REMEDIES as readonly string[]).includes(remedy)) {
    const base = explainByCode(error);
    return { summary: base.summary, next: cardRemedyInApp(remedy as CardRemedy) };
  }
  return explainByCode(error);
}

function explainByCode(error: IpcError): ErrorExplanation {
  switch (error.code) {
    case 'WrongPin': {
      const retriesLeft = error.details?.retriesLeft;
      return {
        summary:
          typeof retriesLeft === 'number' ? `Wrong PIN. ${plural(retriesLeft, 'try', 'tries')} left.` : 'Wrong PIN.',
        next: 'Nothing was changed on the card. Type the PIN again carefully.',
      };
    }
    case 'WrongPuk': {
      const retriesLeft = error.details?.retriesLeft;
      return {
        summary:
          typeof retriesLeft === 'number' ? `Wrong PUK. ${plural(retriesLeft, 'try', 'tries')} left.` : 'Wrong PUK.',
        next: 'Nothing was changed on the card. Type the PUK again carefully: when its tries run out, the card can only be reset.',
      };
    }
    case 'PinBlocked':
      return {
        summary: 'The PIN is blocked.',
        next: 'Unblock it with the PUK in the panel under the card reader, choosing a new PIN, then try again.',
      };
    case 'PukBlocked':
      return {
        summary: 'The PIN and the PUK of this card are both blocked.',
        next: 'This card can no longer be used. Use another, prepared card.',
      };
    case 'CardRemoved':
      return {
        summary: 'The card was removed.',
        next: 'Nothing was written; insert it again and retry.',
      };
    case 'WrongCard':
      return {
        summary: 'This is not the expected card.',
        next: 'Insert the card this step needs (see the message below), then try again.',
      };
    case 'NoCard':
      return { summary: 'There is no card in the chosen reader.', next: 'Insert the card, then try again.' };
    case 'NoReader':
      return {
        summary: 'The chosen card reader is not connected.',
        next: 'Plug the reader in, choose it in the list and try again.',
      };
    case 'NoPcscd':
      return {
        summary: 'The smart-card service is not running.',
        next: 'Start the smart-card service (pcscd), then try again.',
      };
    case 'CardBusy':
      return { summary: 'The card is busy.', next: 'Close any other program using the card, then try again.' };
    case 'CardDefaultCredentials':
      return {
        summary: 'This card still has its factory PIN or keys.',
        next: 'Prepare it first in the panel under the card reader (its owner chooses a new PIN and PUK), then try again.',
      };
    case 'ManagementKeyRejected':
    case 'SecurityStatusNotSatisfied':
    case 'CardObjectNotFound':
    case 'CardError':
      return {
        summary: 'The card refused the operation.',
        next: 'Check the card and the message below, then try again.',
      };
    case 'CardSlotOccupied':
      return {
        summary: 'The card already holds a key in the slot this step needs.',
        next: 'Nothing on the card was changed. Its owner decides: use another card, or replace that key only with their consent.',
      };
    case 'CardTimeout':
      return {
        summary: 'The card stopped answering.',
        next: 'The card was released. Take it out, insert it again and repeat the step; if it happens again, use another card.',
      };
    case 'WrongPassphrase':
      return { summary: 'Wrong passphrase.', next: 'Nothing changed; try again.' };
    case 'PassphraseTooShort':
      return { summary: 'The passphrase is too short.', next: 'Use at least 6 characters.' };
    case 'PassphraseTooLong':
      return { summary: 'The passphrase is too long.', next: 'Use at most 255 characters.' };
    case 'OutputExists':
      return {
        summary: 'A file with that name is already there.',
        next: 'Key Ceremony never overwrites a file. Choose another name or folder.',
      };
    case 'OutputUnwritable':
      return {
        summary: 'The file could not be written there.',
        next: 'Nothing was written. Choose another folder or medium (see the message below).',
      };
    case 'FileNotFound':
      return { summary: 'The file was not found.', next: 'Choose the file again.' };
    case 'ShareMismatch':
      return {
        summary: 'This share does not match the ceremony record.',
        next: 'Do not rely on it. Tell the ceremony operator; the share may be from another issue of this key.',
      };
    case 'ShareRetired':
      return {
        summary: 'This share can no longer be used: a later re-share, rotation or zeroize retired it.',
        next: 'The message below names the ceremony that retired it. Use a share of the current set, if the key still lives; the retired one may be destroyed as the record says.',
      };
    case 'ShareFromOtherCeremony':
      return { summary: 'This share belongs to another ceremony.', next: 'Use the share issued in this ceremony.' };
    case 'ShareCorrupted':
    case 'ShareAltered':
      return {
        summary: 'The share is damaged or has been altered.',
        next: 'Do not use it. Tell the ceremony operator.',
      };
    case 'DuplicateShare':
      return { summary: 'This share was already used.', next: 'Use a different share.' };
    case 'TransportInvalid':
      return {
        summary: 'This is not a valid transport key file.',
        next: 'Export the transport key from the crypto unit again and load that file.',
      };
    case 'TransportFingerprintMismatch':
      return {
        summary: 'The transport key does not match its fingerprint.',
        next: 'Do not use this file. Export the transport key from the crypto unit again.',
      };
    case 'IdentityInvalid':
      return { summary: 'The admin identity cannot be used.', next: 'Check the identity file or card named below.' };
    case 'BundleAlreadySigned':
      return { summary: 'This admin has already signed the bundle.', next: 'Pass the keyboard to another admin.' };
    case 'UnknownSigner':
      return {
        summary: 'This signer is not an admin of the ceremony.',
        next: 'Use the admin’s own card or identity file.',
      };
    case 'TooFewSignatures':
    case 'ThresholdNotMet':
      return { summary: 'Not enough signatures or shares yet.', next: 'Complete the missing ones first.' };
    case 'InvalidArgument':
      return {
        summary: 'Some of what was entered is not accepted.',
        next: 'Correct it as the message below says, then try again.',
      };
    case 'TranscriptInvalid':
      return {
        summary: 'The ceremony record is damaged, altered or incomplete.',
        next: 'Do not rely on it. Use the original record (see the message below for the line).',
      };
    case 'TransportUnconfirmed':
      return {
        summary: 'A unit’s transport key has not been confirmed against the unit’s display.',
        next: 'Compare its fingerprint with the unit’s display and confirm it, then try again.',
      };
    case 'BundleNotInRecord':
    case 'BundleMalformed':
    case 'BundleSignatureInvalid':
      return {
        summary: 'The import bundle is not the one this ceremony built, or it was altered.',
        next: 'Do not sign or load it. Use the original file.',
      };
    case 'KcvMismatch':
      // A unit's key, or the KCV typed from a paper report (issue 11), is not the key's.
      return {
        summary: 'The key check values (KCV) do not match.',
        next: 'Read the message below: it names both KCVs and where each comes from.',
      };
    case 'Replay':
    case 'WrongTarget':
    case 'UnitState':
    case 'UnitInMaintenance':
    case 'RehearsalMismatch':
    case 'EmulatorState':
      return {
        summary: 'The crypto units would refuse this.',
        next: 'Read the message below: it names the unit and what it expects.',
      };
    case 'Canceled':
      return { summary: 'Nothing was chosen.', next: 'Nothing changed. Try again when you are ready.' };
    case 'WrongStep':
      return {
        summary: 'That action does not fit where the ceremony is now.',
        next: 'Nothing changed. The screen shows the current state; carry on from there.',
      };
    case 'internal':
    case 'invalid-request':
    case 'untrusted-sender':
      return INTERNAL;
    default:
      return missingCase(error.code);
  }
}

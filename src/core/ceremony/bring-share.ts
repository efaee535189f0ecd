import { CeremonyError } from '../errors.js';
import type { KeyshareHeader } from '../shares/envelope.js';
import type { CardDesk } from './card-desk.js';
import type { CardShareHints } from './card-media.js';
import { FileShareSource, type ShareSource } from './media.js';
import { cardShareHintsOf, checkNextSourceAgainstRecord } from './operations.js';
import type { CeremonySummary } from './record.js';
import type { FileDialogs } from './session.js';

// One custodian's turn in a ceremony that rebuilds the key from K shares
// (issue 11: the re-share and the recovery in the app): the share they bring,
// a file (open dialog and passphrase) or a card (reader and PIN, the share
// read from the slot the record names), checked by its header against the
// key and the shares already brought, then opened. The one implementation of
// that step for both wizards; the CLI takes its shares all at once
// (checkSourcesAgainstRecord), with the same checks.

const SHARE_FILTERS = [{ name: 'Keyshare', extensions: ['keyshare'] }];

/** A share its custodian brought: opened, its header checked. */
export interface BroughtShare {
  readonly header: KeyshareHeader;
  /** Who the key's record (or, without one, the share's header) says holds it. */
  readonly custodian: string;
  readonly label: string;
  /** The opened share. Secret: never logged; whoever holds it zeroes it. */
  readonly share: Buffer;
}

/** What a brought share is checked against: the key, and the shares brought before it. */
export interface ShareCheck {
  /** Where a card's share is looked for; undefined: the card's only share (no record to say which). */
  readonly cardHints: CardShareHints | undefined;
  /** The header check, before any secret is used; answers the header. */
  check(source: ShareSource): Promise<KeyshareHeader>;
  custodianOf(header: KeyshareHeader): string;
}

/** The check against the key's record (of its current set, not retired, not brought twice, one per person). */
export function checkAgainstRecord(summary: CeremonySummary, accepted: readonly KeyshareHeader[]): ShareCheck {
  return {
    cardHints: cardShareHintsOf(summary),
    check: (source) => checkNextSourceAgainstRecord(summary, accepted, source),
    custodianOf: (h) => summary.issued.get(h.shareIndex)?.custodian ?? h.custodian,
  };
}

/** Where the share is: a file (chosen in a dialog) or the card in a reader. */
export type ShareMedium = { readonly medium: 'file' } | { readonly medium: 'card'; readonly reader: string };

/**
 * The share its custodian brings, checked and opened. `secret` is the
 * passphrase or PIN, as bytes: a copy is handed to the medium, which zeroes
 * it; the caller zeroes `secret`.
 */
export async function bringShare(
  ports: { readonly dialogs: FileDialogs; readonly cards: CardDesk },
  medium: ShareMedium,
  secret: Buffer,
  against: ShareCheck,
  dialogTitle = 'Open your share file',
): Promise<BroughtShare> {
  const provide = async (): Promise<Buffer> => Buffer.from(secret);
  let source: ShareSource;
  if (medium.medium === 'file') {
    const path = await ports.dialogs.openFile({ title: dialogTitle, filters: SHARE_FILTERS });
    if (path === null) throw new CeremonyError('Canceled', 'No file was chosen.');
    source = new FileShareSource(path, provide);
  } else {
    source = ports.cards.shareSource(medium.reader, provide, against.cardHints);
  }
  const reader = medium.medium === 'card' ? medium.reader : null;
  return ports.cards.touching(reader, async () => {
    const header = await against.check(source);
    const share = await source.open();
    return { header, custodian: against.custodianOf(header), label: source.label, share };
  });
}

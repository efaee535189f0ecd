import { basename } from 'node:path';
import type { Preparation } from '../cards/roles.js';
import { CeremonyError } from '../errors.js';
import { safeFileStem } from '../files.js';
import { checkPassphrase } from '../passphrase.js';
import { zeroize } from '../secrets.js';
import type { KeyshareHeader } from '../shares/envelope.js';
import type { CardDesk } from './card-desk.js';
import { CardShareDestination } from './card-media.js';
import { FileShareDestination, type ShareDestination, type ShareSource } from './media.js';
import type { CeremonySummary } from './record.js';
import { checkShareSetRoster, type CustodianShare } from './share-issue.js';
import type { RosterMode } from './roster.js';
import type { FileDialogs, FileFilter, SecretInput } from './session.js';
import { fileNameFor, pathFor, picked } from './session-ports.js';
import { bringShare as bringOneShare, checkAgainstRecord, type BroughtShare } from './bring-share.js';

export type { BroughtShare };

// A custodian's turn with a share, in the app's wizards that take shares in
// and give new ones out (re-share, rotation; issue 11): bringing a share of
// a record (file or card, opened and checked against the record and the
// shares brought before it), and a new custodian choosing where their new
// share goes and typing its secret, held until the ceremony runs. Each step
// is here once; the wizards only say which record and which key.

const SHARE_FILTERS: FileFilter[] = [{ name: 'Keyshare', extensions: ['keyshare'] }];

/** What a custodian's turn needs from the app: its file dialogs and its cards. */
export interface ShareTurnPorts {
  dialogs: FileDialogs;
  cards: CardDesk;
  /** The record's mode: a rehearsal's new share files are named REHEARSAL-… whatever was typed (issue 11). */
  mode?: RosterMode;
  /** scrypt cost for share files; tests lower it, the app never sets it. */
  scryptCost?: { logN: number; r: number; p: number };
}

/**
 * A custodian brings a share of `summary`'s key (file: open dialog and the
 * passphrase in `bytes`; card: reader and PIN): bring-share.ts's one step,
 * checked against the record and the shares already brought (a retired
 * share, a share of another key, a share given twice or a second share of
 * one person is refused), then opened, so a wrong secret is told to its
 * owner now. `bytes` stays the caller's to zero.
 */
export function bringShare(
  ports: ShareTurnPorts,
  summary: CeremonySummary,
  brought: readonly BroughtShare[],
  secret: SecretInput,
  bytes: Buffer,
  title: string,
): Promise<BroughtShare> {
  const medium =
    secret.medium === 'file' ? { medium: 'file' as const } : { medium: 'card' as const, reader: secret.reader };
  return bringOneShare(
    ports,
    medium,
    bytes,
    checkAgainstRecord(
      summary,
      brought.map((b) => b.header),
    ),
    title,
  );
}

/** A brought share as a source for the ceremony: each open() answers a copy, which the ceremony zeroes. */
export function broughtSource(b: BroughtShare): ShareSource {
  return { label: b.label, header: async () => b.header, open: async () => Buffer.from(b.share) };
}

export function forgetBrought(brought: readonly BroughtShare[]): void {
  for (const b of brought) zeroize(b.share);
}

// ---------------------------------------------------------------------------
// A new set of shares, collected one custodian at a time

export interface NewCustodianPlan {
  readonly name: string;
  readonly medium: 'file' | 'card';
}

/** Where a new share goes and the secret that will seal it. */
type NewShareMedium =
  | { readonly medium: 'file'; readonly path: string; readonly secret: Buffer }
  | {
      readonly medium: 'card';
      readonly reader: string;
      /** The card checked when its custodian chose it; only this card receives the share. */
      readonly serial: number;
      readonly secret: Buffer;
    };

interface NewCustodian {
  readonly name: string;
  readonly medium: 'file' | 'card';
  /** Null until the custodian chose where their share goes and typed its secret. */
  ready: NewShareMedium | null;
}

/** A new custodian as the screens show them. No secret. */
export interface NewCustodianView {
  readonly shareIndex: number;
  readonly name: string;
  readonly medium: 'file' | 'card';
  /** Where the share will go, once its custodian chose; never a secret. */
  readonly destination: string | null;
}

/**
 * The new set a ceremony will issue: K and its custodians in share order,
 * each with a medium, and, once each custodian took their turn, where their
 * share goes and the secret that seals it (held until the ceremony runs;
 * zeroed by forget()).
 */
export class NewShareSet {
  /**
   * Cards chosen for this set that were prepared in the app while no record
   * was open (CardDesk.takePreparation), by serial: each ceremony run on the
   * set records them (issueShareSet), a run after a refusal too. No secret.
   */
  private readonly preparedCards = new Map<number, Preparation>();

  private constructor(
    readonly threshold: number,
    private readonly custodians: NewCustodian[],
  ) {}

  /** Names the set: every custodian named, K of N, one share per person (checkShareSetRoster). */
  static plan(threshold: number, custodians: readonly NewCustodianPlan[]): NewShareSet {
    const names = custodians.map((c) => c.name.trim());
    if (names.some((n) => n.length === 0))
      throw new CeremonyError('InvalidArgument', 'Every new custodian needs a name.');
    checkShareSetRoster(threshold, names);
    return new NewShareSet(
      threshold,
      custodians.map((c, i) => ({ name: names[i]!, medium: c.medium, ready: null })),
    );
  }

  get size(): number {
    return this.custodians.length;
  }

  get names(): string[] {
    return this.custodians.map((c) => c.name);
  }

  view(): NewCustodianView[] {
    return this.custodians.map((c, i) => ({
      shareIndex: i + 1,
      name: c.name,
      medium: c.medium,
      destination: c.ready === null ? null : destinationName(c.ready),
    }));
  }

  /**
   * New custodian `shareIndex` (from 1) chooses where their share goes (file:
   * save dialog, `fileStem` naming the default file; card: reader) with the
   * new passphrase or the card's PIN in `bytes`, copied and held until the
   * ceremony runs. `bytes` stays the caller's to zero.
   */
  async choose(
    ports: ShareTurnPorts,
    shareIndex: number,
    secret: SecretInput,
    bytes: Buffer,
    fileStem: string,
  ): Promise<void> {
    const c = this.custodians[shareIndex - 1];
    if (c === undefined) throw new CeremonyError('InvalidArgument', `There is no new share ${shareIndex}.`);
    if (c.medium !== secret.medium)
      throw new CeremonyError(
        'InvalidArgument',
        `${c.name}\u2019s share goes on a ${c.medium === 'card' ? 'smart card' : 'file'}, not a ${secret.medium === 'card' ? 'smart card' : 'file'}.`,
      );
    let ready: NewShareMedium;
    if (secret.medium === 'file') {
      checkPassphrase(bytes, 'The passphrase');
      const mode = ports.mode ?? 'production';
      const chosen = picked(
        await ports.dialogs.saveFile({
          title: `Save ${c.name}\u2019s new share (${shareIndex} of ${this.custodians.length})`,
          defaultName: fileNameFor(mode, `${fileStem}-share-${shareIndex}-${safeFileStem(c.name)}.keyshare`),
          filters: SHARE_FILTERS,
        }),
      );
      const path = pathFor(mode, chosen);
      ready = { medium: 'file', path, secret: Buffer.from(bytes) };
    } else {
      const serial = await checkNewShareCard(ports.cards, secret.reader, bytes);
      const taken = this.custodians.find(
        (o) => o !== c && o.ready?.medium === 'card' && (o.ready.serial === serial || o.ready.reader === secret.reader),
      );
      if (taken !== undefined)
        throw new CeremonyError(
          'InvalidArgument',
          taken.ready?.medium === 'card' && taken.ready.serial === serial
            ? `Card ${serial} already receives ${taken.name}\u2019s new share: one card holds one share of a key. Use ${c.name}\u2019s own card.`
            : `The card in reader "${secret.reader}" receives ${taken.name}\u2019s new share, and stays there until the shares are issued. Insert ${c.name}\u2019s card in another reader.`,
        );
      const prepared = ports.cards.takePreparation(serial);
      if (prepared) this.preparedCards.set(serial, prepared);
      ready = { medium: 'card', reader: secret.reader, serial, secret: Buffer.from(bytes) };
    }
    forgetMedium(c);
    c.ready = ready;
  }

  /**
   * The custodians and their destinations, for the ceremony that issues the
   * set (generateMasterKeyCeremony, reshareMasterKey); refused while a
   * custodian has not chosen yet. Each destination is handed a copy of the
   * held secret; the held one stays until forget().
   */
  async custodianShares(ports: ShareTurnPorts): Promise<CustodianShare[]> {
    const missing = this.custodians.filter((c) => c.ready === null).map((c) => c.name);
    if (missing.length > 0)
      throw new CeremonyError(
        'WrongStep',
        `Every new custodian chooses where their share goes first (still to do: ${missing.join(', ')}).`,
      );
    const transport = this.custodians.some((c) => c.medium === 'card') ? await ports.cards.transport() : null;
    return this.custodians.map((c) => {
      const ready = c.ready!;
      const provide = async (): Promise<Buffer> => Buffer.from(ready.secret);
      let destination: ShareDestination;
      if (ready.medium === 'file') destination = new FileShareDestination(ready.path, provide, ports.scryptCost);
      else if (transport === null) throw new Error('a card share without a card transport');
      else {
        destination = new ChosenCardDestination(
          ready.serial,
          new CardShareDestination(transport, ready.reader, provide),
        );
        const cardPrepared = this.preparedCards.get(ready.serial);
        if (cardPrepared) return { custodian: c.name, destination, cardPrepared };
      }
      return { custodian: c.name, destination };
    });
  }

  /** Zeroes every held secret; the custodians choose again. */
  forget(): void {
    for (const c of this.custodians) forgetMedium(c);
  }
}

/**
 * Checks the card a new share will go to while its custodian is at the
 * keyboard, as the share write checks it (CardShareDestination.precheck:
 * prepared, a free retired slot — nothing on the card is ever overwritten —
 * and the PIN), so that a wrong PIN or an unprepared or full card is refused
 * now rather than when the ceremony runs. Returns its serial.
 */
async function checkNewShareCard(cards: CardDesk, reader: string, pin: Buffer): Promise<number> {
  const transport = await cards.transport();
  const check = new CardShareDestination(transport, reader, async () => Buffer.from(pin));
  try {
    await cards.touching(reader, () => check.precheck());
    return check.cardSerial!;
  } finally {
    check.dispose();
  }
}

/**
 * A new share's card destination that writes only to the card its custodian
 * chose: the precheck the ceremony runs (withPrecheckedDestinations) refuses
 * another card put in that reader since.
 */
class ChosenCardDestination implements ShareDestination {
  readonly medium = 'card' as const;
  constructor(
    private readonly serial: number,
    private readonly inner: CardShareDestination,
  ) {}
  get label(): string {
    return this.inner.label;
  }
  get location(): string {
    return this.inner.location;
  }
  async precheck(): Promise<void> {
    await this.inner.precheck();
    const now = this.inner.cardSerial;
    if (now !== this.serial)
      throw new CeremonyError(
        'WrongCard',
        `The card in reader "${this.inner.reader}" is card ${now}, not card ${this.serial} that was chosen for this share. Insert card ${this.serial}; nothing was written.`,
        { expected: this.serial, actual: now ?? null },
      );
  }
  write(header: KeyshareHeader, share: Uint8Array): Promise<void> {
    return this.inner.write(header, share);
  }
  readBack(): Promise<Buffer> {
    return this.inner.readBack();
  }
  dispose(): void {
    this.inner.dispose();
  }
}

function destinationName(ready: NewShareMedium): string {
  return ready.medium === 'file'
    ? `share file ${basename(ready.path)}`
    : `card ${ready.serial} in reader "${ready.reader}"`;
}

function forgetMedium(c: NewCustodian): void {
  if (c.ready !== null) zeroize(c.ready.secret);
  c.ready = null;
}

import { KEY_REF, padPin, type PivSession } from '../cards/piv.js';
import {
  preparationGaps,
  prepareCard,
  readAdminCertificateFromCard,
  readPreparation,
  type Preparation,
  withCard,
} from '../cards/roles.js';
import type { CardConnection, CardTransport, ReaderState } from '../cards/transport.js';
import { CeremonyError } from '../errors.js';
import { zeroize } from '../secrets.js';
import type { KeyshareHeader } from '../shares/envelope.js';
import { CardShareSource, type CardShareHints } from './card-media.js';
import type { ShareSource } from './media.js';
import { cardPreparedData, ENTRY, recordMode, type EntryType } from './record.js';
import type { RosterMode } from './roster.js';
import type { SerialQueue } from './serial-queue.js';
import { withSecretsBytes } from './session-ports.js';
import { appendTranscript, readTranscript, type TranscriptData } from './transcript.js';

// The card side of the desktop app's ceremony: the PC/SC transport (opened on
// first use, opened again after pcscd comes back), the live reader list with
// what is known of each card, and card operations that hold a reader
// exclusively. Whatever talks to a card through the desk's transport (a share
// written or read, a PIN verified or mistyped, a key generated) leaves its
// card's details out of date: they are read again on the next poll, so the
// list stays true without the card being reinserted. Everything runs in the
// session's queue, so a poll never interleaves with a write.

/** What the app knows of a card in a reader: read once per insertion. */
export interface CardSummary {
  readonly serial: number;
  /** False while the card still has its factory PIN, PUK or management key. */
  readonly prepared: boolean;
  readonly pinTriesLeft: number;
  /** Name on the admin certificate in slot 9C, if any. */
  readonly adminName: string | null;
}

export interface ReaderSnapshot {
  readonly name: string;
  readonly present: boolean;
  /** Null when empty or not yet read. */
  readonly card: CardSummary | null;
  /** Why the card could not be read, in plain words (not a PIV card, busy…). */
  readonly problem: string | null;
}

/** The readers and what is in them (src/main/views.ts makes the renderer's view of it). */
export interface CardsSnapshot {
  /** False when the smart-card service (pcscd) cannot be reached. */
  readonly serviceAvailable: boolean;
  readonly problem: string | null;
  readonly readers: readonly ReaderSnapshot[];
}

/**
 * Records a card operation (card-prepared, card-pin-unblocked) in the
 * ceremony in progress, if any; false when no record was open to take it.
 */
export type CardNote = (type: EntryType, data: TranscriptData) => boolean;

/**
 * A later wizard, as its card care sees it (issue 11): the cards of its
 * record's mode, and the key's record that says what was done to a card in
 * the wizard, from the moment the wizard has it loaded (null before, or
 * while the wizard has no record yet: a recovery from the paper report until
 * its new record is written).
 */
export interface CardWizard {
  readonly cardMode: RosterMode;
  readonly cardRecordPath: string | null;
}

/**
 * Records a card operation done in a later wizard on the cards of `mode` in
 * the key's record the wizard has loaded when the operation ends, whatever
 * the wizard's phase: between the record's ceremonies (a standalone entry)
 * or inside one still open. The entry's actor is the card's owner, who typed
 * its codes. False, and nothing written, when the wizard has no record, or
 * its record is of the other mode (a rehearsal's card is never recorded in a
 * production key's record, nor the reverse): the desk then keeps what was
 * done for the ceremony whose share the card receives.
 */
export function noteInWizardRecord(wizard: CardWizard, mode: RosterMode, now: () => Date): CardNote {
  return (type, data) => {
    const path = wizard.cardRecordPath;
    if (path === null) return false;
    const recordIsRehearsal = recordMode(readTranscript(path))?.rehearsal === true;
    if (recordIsRehearsal !== (mode === 'rehearsal')) return false;
    appendTranscript(path, { type, actor: `the owner of card ${String(data['serial'])}`, data }, now());
    return true;
  };
}

interface CardInfo {
  atr: string | undefined;
  card: CardSummary | null;
  problem: string | null;
  /** The card was used since it was read (PIN tries, slots may differ): read again when the queue is idle. */
  outOfDate: boolean;
}

export class CardDesk {
  private transportPromise: Promise<CardTransport> | undefined;
  private readonly known = new Map<string, CardInfo>();
  /**
   * Cards prepared in the app while no record was there to say so (a
   * rotation's new share card before its new record is written; a card
   * prepared outside any ceremony), by serial: the ceremony whose share the
   * card receives records it. What was done, never a secret.
   */
  private readonly preparedWithoutRecord = new Map<number, Preparation>();

  constructor(
    private readonly open: () => Promise<CardTransport>,
    private readonly queue: SerialQueue,
  ) {}

  /** The transport, opened once; a failed open is tried again on the next call. */
  transport(): Promise<CardTransport> {
    this.transportPromise ??= this.open().then((t) => noteEveryCardUse(t, (reader) => this.cardUsed(reader)));
    const p = this.transportPromise;
    p.catch(() => {
      if (this.transportPromise === p) this.transportPromise = undefined;
    });
    return p;
  }

  /** Readers and what is in them; card details are read once per insertion. */
  async list(): Promise<CardsSnapshot> {
    let transport: CardTransport;
    let readers: ReaderState[];
    try {
      transport = await this.transport();
      readers = await transport.listReaders();
    } catch (e) {
      this.transportPromise = undefined; // try again on the next poll (pcscd may be started)
      return {
        serviceAvailable: false,
        problem: e instanceof CeremonyError ? e.message : 'The smart-card service could not be reached.',
        readers: [],
      };
    }
    const inReaders: ReaderSnapshot[] = [];
    for (const r of readers) {
      if (!r.present) {
        this.known.delete(r.name);
        inReaders.push({ name: r.name, present: false, card: null, problem: null });
        continue;
      }
      let info = this.known.get(r.name);
      // Read once per insertion; a card that could not be read (pulled
      // half-way, reset by another program) is tried again on the next poll.
      // Never waits behind a ceremony operation: while one runs, the list
      // shows what it knew.
      if ((!info || info.atr !== r.atr || info.problem !== null || info.outOfDate) && this.queue.busy === 0) {
        info = await this.queue.run(() => readCardInfo(transport, r));
        this.known.set(r.name, info);
      }
      inReaders.push({ name: r.name, present: true, card: info?.card ?? null, problem: info?.problem ?? null });
    }
    return {
      serviceAvailable: true,
      problem: readers.length === 0 ? 'No card reader is connected.' : null,
      readers: inReaders,
    };
  }

  /** One exclusive session with the card in `reader`; afterwards its details are read again. */
  async onCard<T>(reader: string, op: (s: PivSession) => Promise<T>): Promise<T> {
    const transport = await this.transport();
    return this.touching(reader, () => withCard(transport, reader, op));
  }

  /** Runs an operation on the card in `reader` (if any); its details are then read again. */
  async touching<T>(reader: string | null, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } finally {
      if (reader !== null) this.cardUsed(reader);
    }
  }

  /** The card in `reader` was talked to: what the list shows of it is read again on the next poll. */
  private cardUsed(reader: string): void {
    const info = this.known.get(reader);
    if (info) info.outOfDate = true;
  }

  /** A card prepared while no ceremony record was open: kept until a ceremony records it (takePreparation). */
  notePreparedWithoutRecord(done: Preparation): void {
    this.preparedWithoutRecord.set(done.serial, done);
  }

  /** What was done to card `serial` when it was prepared without a record, once: the caller records it. */
  takePreparation(serial: number): Preparation | undefined {
    const done = this.preparedWithoutRecord.get(serial);
    this.preparedWithoutRecord.delete(serial);
    return done;
  }

  /** Prepares a factory-fresh card: new PIN and PUK, random management key kept PIN-protected. Returns its serial. */
  async prepare(reader: string, pin: Uint8Array, newPin: Uint8Array, newPuk: Uint8Array): Promise<Preparation> {
    return this.onCard(reader, async (s) => {
      // A PUK its owner already set (metadata says it is not the factory one) is the
      // owner's: kept, never guessed at (issue 9). The new PUK typed in the app is then unused.
      const { pukIsDefault } = await readPreparation(s);
      return prepareCard(s, pukIsDefault ? { pin, newPin, newPuk } : { pin, newPin });
    });
  }

  /**
   * Prepares the factory-fresh card in `reader` as its owner typed it in
   * the app (the current PIN, the new PIN and PUK: secrets, each checked for
   * its length, zeroed afterwards whatever happens), in the queue; `note`
   * records what was done (never a secret: the PIN and PUK say only whether
   * they were changed).
   */
  prepareCard(reader: string, typed: { pin: string; newPin: string; newPuk: string }, note: CardNote): Promise<void> {
    return this.queue.run(() =>
      withSecretsBytes([typed.pin, typed.newPin, typed.newPuk], async ([pin, newPin, newPuk]) => {
        zeroize(padPin(pin!, 'The current PIN'), padPin(newPin!, 'The new PIN'), padPin(newPuk!, 'The new PUK'));
        const done = await this.prepare(reader, pin!, newPin!, newPuk!);
        // No record to take it (the initial ceremony's not open, a later wizard's not loaded yet, a rotation's new
        // key's not written yet), or it could not be written: the desk keeps what was done, and the ceremony whose
        // share the card receives records it (share-turns.ts).
        let noted = false;
        try {
          noted = note(ENTRY.cardPrepared, cardPreparedData(done));
        } finally {
          if (!noted) this.notePreparedWithoutRecord(done);
        }
      }),
    );
  }

  /** Sets a new PIN as typed on the card in `reader` whose PIN is blocked, with its PUK (secrets, zeroed afterwards). */
  unblockPin(reader: string, typed: { puk: string; newPin: string }, note: CardNote): Promise<void> {
    return this.queue.run(() =>
      withSecretsBytes([typed.puk, typed.newPin], async ([puk, newPin]) => {
        zeroize(padPin(newPin!, 'The new PIN'));
        const serial = await this.unblock(reader, puk!, newPin!);
        note(ENTRY.cardPinUnblocked, { serial: String(serial) });
      }),
    );
  }

  /** Sets a new PIN on a card whose PIN is blocked, with its PUK. Returns its serial. */
  async unblock(reader: string, puk: Uint8Array, newPin: Uint8Array): Promise<number> {
    return this.onCard(reader, async (s) => {
      await s.unblockPin(puk, newPin);
      return s.serial();
    });
  }

  /** The share on the card in `reader` (of the given ceremony), opened with the PIN from `pin`. */
  /**
   * `wanted`: the ceremony whose share is read, or what the record says of the key's card shares (cardShareHintsOf);
   * undefined without a record (a recovery from the paper report): the card's only share.
   */
  shareSource(reader: string, pin: () => Promise<Buffer>, wanted: string | CardShareHints | undefined): ShareSource {
    return new LazyCardSource(() => this.transport(), reader, pin, wanted);
  }
}

async function readCardInfo(transport: CardTransport, r: ReaderState): Promise<CardInfo> {
  try {
    const card = await withCard(transport, r.name, async (s) => {
      const pin = await s.referenceMetadata(KEY_REF.PIN);
      // Prepared means nothing is lacking, a management key kept PIN-protected included (issue 9).
      const prepared = preparationGaps(await readPreparation(s)).length === 0;
      const admin = await readAdminCertificateFromCard(s).catch(() => null);
      return { serial: await s.serial(), prepared, pinTriesLeft: pin.triesLeft, adminName: admin?.name ?? null };
    });
    return { atr: r.atr, card, problem: null, outOfDate: false };
  } catch (e) {
    const problem =
      e instanceof CeremonyError
        ? e.code === 'CardRemoved'
          ? 'The card was removed while it was being read.'
          : `This card cannot be used: ${e.message}`
        : 'This card cannot be read; is it a PIV card?';
    return { atr: r.atr, card: null, problem, outOfDate: false };
  }
}

/**
 * The transport as the desk hands it out: each card session, when it ends,
 * says which reader it used (`used`), whoever opened it (a share written
 * through a ShareDestination, a share read, an identity signing).
 */
function noteEveryCardUse(transport: CardTransport, used: (reader: string) => void): CardTransport {
  return {
    listReaders: () => transport.listReaders(),
    watch: (onEvent) => transport.watch(onEvent),
    close: () => transport.close(),
    async connect(reader: string): Promise<CardConnection> {
      const conn = await transport.connect(reader);
      return {
        reader: conn.reader,
        atr: conn.atr,
        transmit: (apdu) => conn.transmit(apdu),
        async disconnect() {
          try {
            await conn.disconnect();
          } finally {
            used(reader);
          }
        },
      };
    },
  };
}

/** A card share source whose transport is opened on first use. */
class LazyCardSource implements ShareSource {
  readonly label: string;
  private inner: CardShareSource | undefined;
  constructor(
    private readonly transport: () => Promise<CardTransport>,
    private readonly reader: string,
    private readonly pin: () => Promise<Buffer>,
    private readonly wanted: string | CardShareHints | undefined,
  ) {
    this.label = `the card in reader "${reader}"`;
  }
  private async get(): Promise<CardShareSource> {
    this.inner ??= new CardShareSource(await this.transport(), this.reader, this.pin, this.wanted);
    return this.inner;
  }
  async header(): Promise<KeyshareHeader> {
    return (await this.get()).header();
  }
  async open(): Promise<Buffer> {
    return (await this.get()).open();
  }
}

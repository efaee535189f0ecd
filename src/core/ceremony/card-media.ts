import { CeremonyError } from '../errors.js';
import {
  assertPrepared,
  freeRetiredSlot,
  listCardShares,
  readShareFromCard,
  readShareInSlot,
  withCard,
  writeShareToCard,
} from '../cards/roles.js';
import type { ApduTrace } from '../cards/apdu.js';
import type { CardTransport } from '../cards/transport.js';
import { padPin, type PivSession } from '../cards/piv.js';
import { zeroize } from '../secrets.js';
import type { KeyshareEnvelope, KeyshareHeader } from '../shares/envelope.js';
import type { SecretProvider, ShareDestination, ShareSource } from './media.js';

// Shares on PIV cards, behind the same interfaces as share files.

function checkPin(pin: Buffer): void {
  zeroize(padPin(pin, 'The PIN'));
}

/** A custodian's card: the share is sealed to a key the card generates and kept on the card. */
export class CardShareDestination implements ShareDestination {
  readonly medium = 'card' as const;
  readonly label: string;
  location: string;
  private pin: Buffer | undefined;
  private serial: number | undefined;
  private written: { slot: number; header: KeyshareHeader; back: Buffer | undefined } | undefined;

  constructor(
    private readonly transport: CardTransport,
    readonly reader: string,
    private readonly pinProvider: SecretProvider,
    private readonly trace?: ApduTrace,
  ) {
    this.label = `card in reader "${reader}"`;
    this.location = this.label;
  }

  async precheck(): Promise<void> {
    this.dispose();
    this.pin = await this.pinProvider();
    checkPin(this.pin);
    const pin = this.pin;
    // Every card fact the write needs is checked here, before the master key exists, and
    // before the PIN is tried (issue 9): prepared (PIN-protected management key), a free retired slot.
    this.serial = await withCard(
      this.transport,
      this.reader,
      async (s) => {
        await assertPrepared(s);
        await freeRetiredSlot(s);
        await s.verifyPin(pin);
        return s.serial();
      },
      this.trace,
    );
    this.location = `card ${this.serial}`;
  }

  /** The serial of the card checked by precheck (undefined before it). */
  get cardSerial(): number | undefined {
    return this.serial;
  }

  private held(): Buffer {
    if (!this.pin) throw new Error('CardShareDestination used before precheck');
    return this.pin;
  }

  async write(header: KeyshareHeader, share: Uint8Array): Promise<void> {
    const pin = this.held();
    const { slot, serial, back } = await withCard(
      this.transport,
      this.reader,
      async (s) => {
        const now = await s.serial();
        if (now !== this.serial) {
          throw new CeremonyError(
            'WrongCard',
            `The card in reader "${this.reader}" is card ${now}, not card ${this.serial} that was checked for this share. Insert card ${this.serial}.`,
            { expected: this.serial ?? null, actual: now },
          );
        }
        // Preparation was refused or accepted by precheck, on this same card; the share is read
        // back in this connection, from the card, right after it is written.
        return writeShareToCard(s, header, share, pin, { prechecked: true, readBack: true });
      },
      this.trace,
    );
    zeroize(this.written?.back);
    this.written = { slot, header, back };
    this.location = cardLocation(serial, slot);
  }

  /**
   * The share as read back from the card by write(): its certificate object
   * read after it was stored and its envelope opened by the card's key, in
   * the same connection (a YubiKey takes 5-20 ms per APDU). Without it (a
   * write that did not read back), the card is read again.
   */
  async readBack(): Promise<Buffer> {
    const w = this.written;
    if (!w) throw new Error('readBack before write');
    if (w.back) {
      const back = w.back;
      w.back = undefined;
      return back;
    }
    return new CardShareSource(
      this.transport,
      this.reader,
      async () => Buffer.from(this.held()),
      w.header.ceremonyId,
      this.trace,
    ).open();
  }

  dispose(): void {
    zeroize(this.pin, this.written?.back);
    this.pin = undefined;
    if (this.written) this.written.back = undefined;
  }
}

/** Where a share written to a card is, as the record says it ("card 12345678 slot 82"). */
export function cardLocation(serial: number, slot: number): string {
  return `card ${serial} slot ${slot.toString(16).toUpperCase()}`;
}

/** A card share's place, read back from a record's location (cardLocation). */
export interface CardShareSlot {
  ceremonyId: string;
  cardSerial: number;
  slot: number;
}

/** The ceremonies whose share a card may hold, in order of preference, and where the record put them. */
export interface CardShareHints {
  ceremonyIds: readonly string[];
  slots: readonly CardShareSlot[];
}

/**
 * The hints a record gives for reading a card share: `sets` in order of
 * preference (the current set first), each with the locations its shares
 * were issued to. Locations that are not a card's are left out.
 */
export function cardShareHints(
  sets: ReadonlyArray<{ ceremonyId: string; locations: Iterable<string> }>,
): CardShareHints {
  const slots: CardShareSlot[] = [];
  for (const set of sets) {
    for (const location of set.locations) {
      const m = /^card (\d{1,10}) slot ([0-9A-F]{2})$/.exec(location);
      if (m) slots.push({ ceremonyId: set.ceremonyId, cardSerial: Number(m[1]), slot: parseInt(m[2]!, 16) });
    }
  }
  return { ceremonyIds: sets.map((x) => x.ceremonyId), slots };
}

/**
 * A share kept on a card, found by its ceremony (or the only one on the
 * card). A key's record may hold several share sets (issue 11, re-share):
 * given their ceremonies in order of preference, the card's share of the
 * first one it holds is read, so that a card holding a retired share and
 * a current one gives the current one.
 */
export class CardShareSource implements ShareSource {
  readonly label: string;
  private envelope: KeyshareEnvelope | undefined;
  private readonly ceremonyIds: readonly string[] | undefined;
  private readonly slots: readonly CardShareSlot[];

  /**
   * `wanted`: the ceremony whose share is read, or the share sets'
   * ceremonies in order of preference, or those with the cards and slots the
   * record says the shares went to (cardShareHints).
   */
  constructor(
    private readonly transport: CardTransport,
    readonly reader: string,
    private readonly pinProvider: SecretProvider,
    wanted?: string | readonly string[] | CardShareHints,
    private readonly trace?: ApduTrace,
  ) {
    this.label = `the card in reader "${reader}"`;
    const hints: CardShareHints | undefined =
      wanted === undefined
        ? undefined
        : typeof wanted === 'string'
          ? { ceremonyIds: [wanted], slots: [] }
          : 'ceremonyIds' in wanted
            ? wanted
            : { ceremonyIds: wanted, slots: [] };
    this.ceremonyIds = hints?.ceremonyIds;
    this.slots = hints?.slots ?? [];
  }

  /**
   * The card's shares to choose from. Where the record names this card's
   * slot for a wanted ceremony, that one certificate is read (a YubiKey takes
   * 5-20 ms per APDU; a card may hold many shares); otherwise, or when the
   * slot no longer holds that share, every share on the card.
   */
  private async candidates(s: PivSession): Promise<Array<{ slot: number; envelope: KeyshareEnvelope }>> {
    if (this.slots.length > 0) {
      const serial = await s.serial();
      for (const id of this.ceremonyIds ?? []) {
        for (const hint of this.slots.filter((h) => h.cardSerial === serial && h.ceremonyId === id)) {
          const envelope = await readShareInSlot(s, hint.slot);
          if (envelope?.header.ceremonyId === id) return [{ slot: hint.slot, envelope }];
        }
      }
    }
    // A share is being read: a share certificate that is not DER is damage, not "no keyshare".
    return listCardShares(s, { damagedIsError: true });
  }

  private async find(): Promise<KeyshareEnvelope> {
    if (this.envelope) return this.envelope;
    const all = await withCard(this.transport, this.reader, (s) => this.candidates(s), this.trace);
    const wanted = this.ceremonyIds?.find((id) => all.some((x) => x.envelope.header.ceremonyId === id));
    const matching = this.ceremonyIds ? all.filter((x) => x.envelope.header.ceremonyId === wanted) : all;
    if (matching.length === 0) {
      throw new CeremonyError(
        all.length === 0 ? 'CardObjectNotFound' : 'ShareFromOtherCeremony',
        all.length === 0
          ? `${this.label} holds no keyshare. Is it the right card?`
          : `${this.label} holds no share of this ceremony (it holds shares of ${[...new Set(all.map((x) => x.envelope.header.keyName))].join(', ')}). Is it the right card?`,
      );
    }
    if (matching.length > 1)
      throw new CeremonyError('InvalidArgument', `${this.label} holds ${matching.length} shares; say which ceremony.`);
    this.envelope = matching[0]!.envelope;
    return this.envelope;
  }

  async header(): Promise<KeyshareHeader> {
    return (await this.find()).header;
  }

  async open(): Promise<Buffer> {
    const env = await this.find();
    const pin = await this.pinProvider();
    try {
      checkPin(pin);
      return await withCard(
        this.transport,
        this.reader,
        async (s) => {
          const serial = await s.serial();
          if (env.protection.scheme === 'piv-ecdh-p256-a256gcm' && serial !== env.protection.cardSerial) {
            throw new CeremonyError(
              'WrongCard',
              `The card in reader "${this.reader}" is card ${serial}, not card ${env.protection.cardSerial} that holds this share. Insert card ${env.protection.cardSerial}.`,
            );
          }
          return readShareFromCard(s, env, pin);
        },
        this.trace,
      );
    } finally {
      zeroize(pin);
    }
  }
}

import { CeremonyError } from '../errors.js';
import {
  assertPrepared,
  freeRetiredSlot,
  listCardShares,
  readShareFromCard,
  withCard,
  writeShareToCard,
} from '../cards/roles.js';
import type { ApduTrace } from '../cards/apdu.js';
import type { CardTransport } from '../cards/transport.js';
import { padPin } from '../cards/piv.js';
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
    this.location = `card ${serial} slot ${slot.toString(16).toUpperCase()}`;
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

  constructor(
    private readonly transport: CardTransport,
    readonly reader: string,
    private readonly pinProvider: SecretProvider,
    ceremonyId?: string | readonly string[],
    private readonly trace?: ApduTrace,
  ) {
    this.label = `the card in reader "${reader}"`;
    this.ceremonyIds = typeof ceremonyId === 'string' ? [ceremonyId] : ceremonyId;
  }

  private async find(): Promise<KeyshareEnvelope> {
    if (this.envelope) return this.envelope;
    // A share is being read: a share certificate that is not DER is damage, not "no keyshare".
    const all = await withCard(
      this.transport,
      this.reader,
      (s) => listCardShares(s, { damagedIsError: true }),
      this.trace,
    );
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

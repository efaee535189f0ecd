import { CeremonyError, type CeremonyErrorCode } from '../errors.js';
import type { CardConnection } from './transport.js';

// The host side of ISO/IEC 7816-4 APDUs as PIV cards use them (SP 800-73-4
// Part 2 §3): short APDUs with command chaining for long data, 61xx/GET
// RESPONSE and 6Cxx for long or mis-sized responses, and status words mapped
// to typed errors. Extended-length APDUs (§5.1) carry a whole certificate in
// one command or one answer, but only on a card whose ATR says it takes them
// (a YubiKey 5 does, not every PIV card does); short APDUs stay the fallback.

export interface CommandApdu {
  cla?: number;
  ins: number;
  p1: number;
  p2: number;
  data?: Uint8Array;
  /** Expected response length; 0 means "up to 256" (Le = 00). Omit for no Le. */
  le?: number;
  /**
   * How long the card may take to answer each APDU of this command, in
   * milliseconds; APDU_DEADLINE_MS unless the command is known to be slow
   * (on-card key generation: KEY_GENERATION_DEADLINE_MS).
   */
  deadlineMs?: number;
  /**
   * The command may go as one extended-length APDU (Lc and Le of up to 65535
   * and 65536 bytes) when the card offers extended length: then its data
   * needs no chaining and its answer no GET RESPONSE. PIV's GET DATA and PUT
   * DATA, which a YubiKey 5 takes in extended form.
   */
  extendedLength?: boolean;
}

/** Status words this layer and the PIV client act on (ISO/IEC 7816-4 §5.6, SP 800-73-4 Part 2 Table 6). */
export const SW = {
  OK: 0x9000,
  WRONG_LENGTH: 0x6700,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTH_METHOD_BLOCKED: 0x6983,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  INCORRECT_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  NOT_FOUND: 0x6a82,
  NOT_ENOUGH_MEMORY: 0x6a84,
  INCORRECT_P1P2: 0x6a86,
  REFERENCE_NOT_FOUND: 0x6a88,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  MEMORY_FAILURE: 0x6581,
} as const;

const MAX_SHORT_DATA = 255;
/** Lc of an extended command: 1 to 65535 bytes (ISO/IEC 7816-4 §5.1). */
const MAX_EXTENDED_DATA = 65535;
/** Ne of an extended command with Le = 0000: 65536 bytes. */
const MAX_EXTENDED_RESPONSE_DATA = 65536;

/**
 * The most data one answer to a short command may carry: Ne = 256 when Le =
 * 00 (ISO/IEC 7816-4 §5.1). Every command this channel sends is short, so a
 * longer answer is a card that does not speak the protocol.
 */
const MAX_SHORT_RESPONSE_DATA = 256;

/** The most data one command may collect over 61xx/GET RESPONSE: far above any PIV object (the largest, a certificate, is a few KB). */
export const MAX_RESPONSE_DATA = 64 * 1024;

/** GET RESPONSE rounds one command may take: MAX_RESPONSE_DATA in full 256-byte chunks. Stops a card that answers 61xx forever. */
const MAX_GET_RESPONSE_ROUNDS = MAX_RESPONSE_DATA / MAX_SHORT_RESPONSE_DATA;

/**
 * Deadline of one APDU, in milliseconds (issue 9, "Never hang"). A YubiKey 5
 * answers most APDUs in 5-20 ms and an RSA-2048 signature in well under a
 * second; five seconds leaves room for a slow reader or a busy pcscd and still
 * tells a person quickly that a card has stopped answering.
 */
export const APDU_DEADLINE_MS = 5_000;

/**
 * Deadline of GENERATE ASYMMETRIC KEY PAIR: a YubiKey takes up to about 20 s
 * for an RSA-2048 key (prime search time varies from key to key); 60 s leaves
 * a wide margin.
 */
export const KEY_GENERATION_DEADLINE_MS = 60_000;

/** Status word classes and instructions of the response protocol (ISO/IEC 7816-4 §5.1.3, §5.6, §7.6.1). */
const SW1_MASK = 0xff00;
const SW1_BYTES_REMAINING = 0x6100; // 61xx: xx more bytes (00: 256 or more) to fetch with GET RESPONSE
const SW1_WRONG_LE = 0x6c00; // 6Cxx: wrong Le; xx is the exact length available
const INS_GET_RESPONSE = 0xc0;
const CLA_CHAINING = 0x10; // CLA b5: command chaining, more blocks follow (§5.1.1.1)

export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/** A card answered with a status word other than 9000. */
export class CardStatusError extends CeremonyError {
  constructor(
    readonly sw: number,
    code: CeremonyErrorCode,
    message: string,
    details: Record<string, string | number | boolean | null> = {},
  ) {
    super(code, message, { sw: swHex(sw), ...details });
  }

  /** For 63Cx: how many tries the reference data (PIN/PUK) has left. */
  get retriesLeft(): number | null {
    return (this.sw & 0xfff0) === 0x63c0 ? this.sw & 0x0f : null;
  }
}

/** Maps a status word to a typed error. Callers rephrase for the person (which PIN, what to do). */
export function statusError(sw: number, what: string): CardStatusError {
  if ((sw & 0xfff0) === 0x63c0) {
    const n = sw & 0x0f;
    return new CardStatusError(sw, 'WrongPin', `${what}: wrong PIN, ${n} ${n === 1 ? 'try' : 'tries'} left.`, {
      retriesLeft: n,
    });
  }
  switch (sw) {
    case SW.AUTH_METHOD_BLOCKED:
      return new CardStatusError(sw, 'PinBlocked', `${what}: blocked (no tries left).`);
    case SW.SECURITY_STATUS_NOT_SATISFIED:
      return new CardStatusError(
        sw,
        'SecurityStatusNotSatisfied',
        `${what}: the card requires the PIN or management key first.`,
      );
    case SW.NOT_FOUND:
    case SW.REFERENCE_NOT_FOUND:
      return new CardStatusError(sw, 'CardObjectNotFound', `${what}: not found on the card.`);
    case SW.INS_NOT_SUPPORTED:
      return new CardStatusError(
        sw,
        'CardError',
        `${what}: this card does not know the command (${swHex(sw)}); Key Ceremony needs a PIV card with the YubiKey extensions, such as a YubiKey 5.`,
      );
    default:
      return new CardStatusError(sw, 'CardError', `${what}: the card answered ${swHex(sw)}.`);
  }
}

export interface ApduTrace {
  /** Called once per APDU exchanged, for the benchmark's APDU counts. */
  onExchange?: (command: Uint8Array, response: Uint8Array) => void;
}

function encode(
  cla: number,
  ins: number,
  p1: number,
  p2: number,
  data: Uint8Array | undefined,
  le: number | undefined,
): Uint8Array {
  const parts = [cla, ins, p1, p2];
  if (data && data.length > 0) parts.push(data.length, ...data);
  if (le !== undefined) parts.push(le & 0xff);
  return Uint8Array.from(parts);
}

/**
 * An extended-length command (ISO/IEC 7816-4 §5.1): 00 then a 2-byte Lc and
 * the data when there is data, and a 2-byte Le (0000: 65536) when an answer is
 * expected; without data, the Le alone follows the 00.
 */
function encodeExtended(
  cla: number,
  ins: number,
  p1: number,
  p2: number,
  data: Uint8Array,
  le: number | undefined,
): Uint8Array {
  const parts = [cla, ins, p1, p2, 0x00];
  if (data.length > 0) parts.push(data.length >> 8, data.length & 0xff, ...data);
  if (le !== undefined) parts.push((le >> 8) & 0xff, le & 0xff);
  return Uint8Array.from(parts);
}

/** Card capabilities (ISO/IEC 7816-4 §12.1.1.9): third software function table, b7 = extended Lc and Le fields. */
const COMPACT_TLV_CARD_CAPABILITIES = 0x7;
const CAPABILITY_EXTENDED_LENGTH = 0x40;

/**
 * Whether the card's ATR announces extended Lc and Le (ISO/IEC 7816-3 §8.2
 * for the ATR's layout; ISO/IEC 7816-4 §12.1.1 for the historical bytes): the
 * "card capabilities" compact-TLV object (tag 7) with bit b7 of its third
 * byte. A YubiKey 5 announces 73 C0 21 C0. A malformed or silent ATR says no.
 */
export function atrOffersExtendedLength(atr: Uint8Array): boolean {
  if (atr.length < 2) return false;
  const historicalCount = atr[1]! & 0x0f;
  let y = atr[1]! >> 4;
  let i = 2;
  // Interface bytes: TAi, TBi, TCi present by bits 5-7 of Y; TDi (bit 8) gives the next Y.
  for (;;) {
    i += (y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1);
    if (!(y & 8)) break;
    if (i >= atr.length) return false;
    y = atr[i]! >> 4;
    i++;
  }
  const historical = atr.subarray(i, i + historicalCount);
  if (historical.length !== historicalCount || historical[0] !== 0x80) return false; // category 80: compact-TLV objects
  for (let j = 1; j < historical.length;) {
    const tag = historical[j]! >> 4;
    const len = historical[j]! & 0x0f;
    const value = historical.subarray(j + 1, j + 1 + len);
    if (value.length !== len) return false;
    if (tag === COMPACT_TLV_CARD_CAPABILITIES) return len >= 3 && (value[2]! & CAPABILITY_EXTENDED_LENGTH) !== 0;
    j += 1 + len;
  }
  return false;
}

/** "Reading the card serial" -> "reading the card serial", to go inside a sentence. */
function lowerFirst(what: string): string {
  return what.charAt(0).toLowerCase() + what.slice(1);
}

const TIMED_OUT: unique symbol = Symbol('timed out');

export class ApduChannel {
  /** Set once the card missed a deadline: the connection is released and every later command fails the same way. */
  private failure: CeremonyError | undefined;
  /**
   * The card takes extended-length APDUs: its ATR says so, and it has not
   * refused one with 6700 (then this channel goes back to short APDUs).
   */
  private extended: boolean;

  constructor(
    readonly connection: CardConnection,
    private readonly trace: ApduTrace = {},
  ) {
    this.extended = atrOffersExtendedLength(connection.atr);
  }

  /** Whether commands that allow it go as extended-length APDUs on this connection. */
  get extendedLength(): boolean {
    return this.extended;
  }

  /** A card answer that breaks ISO/IEC 7816-4: one sentence naming the reader, the operation and what was wrong. */
  private malformed(what: string, problem: string): CeremonyError {
    return new CeremonyError(
      'CardError',
      `The card in reader "${this.connection.reader}" gave a malformed answer while ${lowerFirst(what)} (${problem}); it may not be a PIV card or it may be faulty, so take it out and use another card.`,
      { reader: this.connection.reader, problem },
    );
  }

  /**
   * Sends one APDU and waits for its answer at most `deadlineMs`. A card that
   * misses the deadline is released at once (PC/SC: SCardDisconnect with
   * SCARD_RESET_CARD as soon as the reader gives the handle back, so no PIN
   * stays verified) and the channel refuses every later command.
   */
  private async exchange(
    bytes: Uint8Array,
    what: string,
    deadlineMs: number,
    maxData = MAX_SHORT_RESPONSE_DATA,
  ): Promise<{ data: Buffer; sw: number }> {
    if (this.failure) throw this.failure;
    const answer = this.connection.transmit(bytes);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), deadlineMs);
    });
    let r: Uint8Array | typeof TIMED_OUT;
    try {
      r = await Promise.race([answer, deadline]);
    } finally {
      clearTimeout(timer);
    }
    if (r === TIMED_OUT) {
      answer.catch(() => undefined); // whatever the card says later, nobody is listening any more
      const seconds = Math.round(deadlineMs / 1000);
      this.failure = new CeremonyError(
        'CardTimeout',
        `The card in reader "${this.connection.reader}" did not answer within ${seconds} seconds while ${lowerFirst(what)}, so the operation was stopped and the card released; take the card out, insert it again and repeat the operation.`,
        { reader: this.connection.reader, operation: what, deadlineMs },
      );
      await this.connection.disconnect().catch(() => undefined);
      throw this.failure;
    }
    this.trace.onExchange?.(bytes, r);
    if (r.length < 2) throw this.malformed(what, `${r.length} bytes, fewer than a status word`);
    const b = Buffer.from(r);
    const data = b.subarray(0, b.length - 2);
    if (data.length > maxData)
      throw this.malformed(
        what,
        `${data.length} bytes of data to ${maxData === MAX_SHORT_RESPONSE_DATA ? 'a short' : 'an extended'} command`,
      );
    return { data, sw: (b[b.length - 2]! << 8) | b[b.length - 1]! };
  }

  /**
   * Sends a command (chained if its data exceeds 255 bytes) and collects the
   * whole response. Returns data and final status word without judging it.
   * `what` names the operation in errors ("Reading the card serial").
   */
  async transmitRaw(c: CommandApdu, what = 'Talking to the card'): Promise<{ data: Buffer; sw: number }> {
    const cla = c.cla ?? 0x00;
    const data = c.data ?? new Uint8Array(0);
    const deadlineMs = c.deadlineMs ?? APDU_DEADLINE_MS;
    if (c.extendedLength && this.extended && data.length <= MAX_EXTENDED_DATA) {
      // Le 0000 asks for up to 65536 bytes.
      const bytes = encodeExtended(cla, c.ins, c.p1, c.p2, data, c.le);
      const r = await this.exchange(bytes, what, deadlineMs, MAX_EXTENDED_RESPONSE_DATA);
      // 6700 to an extended command: the card (or its reader) does not take them after all; short APDUs from now on.
      if (r.sw !== SW.WRONG_LENGTH) return this.collect(r, what, deadlineMs);
      this.extended = false;
    }
    // Command chaining, ISO/IEC 7816-4 §5.1.1.1: CLA bit b5 on every block
    // but the last; each intermediate block must answer 9000.
    let offset = 0;
    while (data.length - offset > MAX_SHORT_DATA) {
      const block = data.subarray(offset, offset + MAX_SHORT_DATA);
      const r = await this.exchange(encode(cla | CLA_CHAINING, c.ins, c.p1, c.p2, block, undefined), what, deadlineMs);
      if (r.sw !== SW.OK) return r;
      offset += MAX_SHORT_DATA;
    }
    const last = data.subarray(offset);
    let r = await this.exchange(encode(cla, c.ins, c.p1, c.p2, last, c.le), what, deadlineMs);
    // 6Cxx: wrong Le; resend the same (last) block once with Le = xx
    // (§5.1.3). A second 6Cxx is a card going round in circles.
    if ((r.sw & SW1_MASK) === SW1_WRONG_LE) {
      r = await this.exchange(encode(cla, c.ins, c.p1, c.p2, last, r.sw & 0xff), what, deadlineMs);
      if ((r.sw & SW1_MASK) === SW1_WRONG_LE)
        throw this.malformed(what, `${swHex(r.sw)} again after the length it asked for`);
    }
    return this.collect(r, what, deadlineMs);
  }

  /** The answer to a command with whatever 61xx announces fetched by GET RESPONSE. */
  private async collect(
    first: { data: Buffer; sw: number },
    what: string,
    deadlineMs: number,
  ): Promise<{ data: Buffer; sw: number }> {
    let r = first;
    const chunks = [r.data];
    let total = r.data.length;
    if (total > MAX_RESPONSE_DATA) throw this.malformed(what, `more than ${MAX_RESPONSE_DATA} bytes`);
    // 61xx: more data available; fetch it with GET RESPONSE (§7.6.1). Each
    // answer that announces still more must carry all it was asked for (xx,
    // or 256 for 00), which with the round and size bounds ends any loop.
    for (let round = 0; (r.sw & SW1_MASK) === SW1_BYTES_REMAINING; round++) {
      if (round >= MAX_GET_RESPONSE_ROUNDS)
        throw this.malformed(what, `more than ${MAX_GET_RESPONSE_ROUNDS} GET RESPONSE rounds`);
      const asked = r.sw & 0xff || MAX_SHORT_RESPONSE_DATA;
      r = await this.exchange(encode(0x00, INS_GET_RESPONSE, 0x00, 0x00, undefined, r.sw & 0xff), what, deadlineMs);
      if (r.data.length > asked) throw this.malformed(what, `${r.data.length} bytes to GET RESPONSE for ${asked}`);
      if ((r.sw & SW1_MASK) === SW1_BYTES_REMAINING && r.data.length !== asked) {
        throw this.malformed(what, `${r.data.length} of ${asked} bytes with more announced (${swHex(r.sw)})`);
      }
      chunks.push(r.data);
      total += r.data.length;
      if (total > MAX_RESPONSE_DATA) throw this.malformed(what, `more than ${MAX_RESPONSE_DATA} bytes`);
    }
    return { data: Buffer.concat(chunks), sw: r.sw };
  }

  /** Sends a command and returns its data; any status but 9000 becomes a typed error about `what`. */
  async send(c: CommandApdu, what: string): Promise<Buffer> {
    const r = await this.transmitRaw(c, what);
    if (r.sw !== SW.OK) throw statusError(r.sw, what);
    return r.data;
  }
}

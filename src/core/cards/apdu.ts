import { CeremonyError, type CeremonyErrorCode } from '../errors.js';
import type { CardConnection } from './transport.js';

// The host side of ISO/IEC 7816-4 APDUs as PIV cards use them (SP 800-73-4
// Part 2 §3): short APDUs only (every PIV card supports them, not every card
// supports extended length), command chaining for long data, 61xx/GET
// RESPONSE and 6Cxx for long or mis-sized responses, and status words
// mapped to typed errors.

export interface CommandApdu {
  cla?: number;
  ins: number;
  p1: number;
  p2: number;
  data?: Uint8Array;
  /** Expected response length; 0 means "up to 256" (Le = 00). Omit for no Le. */
  le?: number;
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
const MAX_RESPONSE = 64 * 1024; // far above any PIV object; stops a runaway 61xx loop

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
    return new CardStatusError(sw, 'WrongPin', `${what}: wrong PIN, ${n} ${n === 1 ? 'try' : 'tries'} left.`, { retriesLeft: n });
  }
  switch (sw) {
    case SW.AUTH_METHOD_BLOCKED:
      return new CardStatusError(sw, 'PinBlocked', `${what}: blocked (no tries left).`);
    case SW.SECURITY_STATUS_NOT_SATISFIED:
      return new CardStatusError(sw, 'SecurityStatusNotSatisfied', `${what}: the card requires the PIN or management key first.`);
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

function encode(cla: number, ins: number, p1: number, p2: number, data: Uint8Array | undefined, le: number | undefined): Uint8Array {
  const parts = [cla, ins, p1, p2];
  if (data && data.length > 0) parts.push(data.length, ...data);
  if (le !== undefined) parts.push(le & 0xff);
  return Uint8Array.from(parts);
}

export class ApduChannel {
  constructor(
    readonly connection: CardConnection,
    private readonly trace: ApduTrace = {},
  ) {}

  private async exchange(bytes: Uint8Array): Promise<{ data: Buffer; sw: number }> {
    const r = await this.connection.transmit(bytes);
    this.trace.onExchange?.(bytes, r);
    if (r.length < 2) throw new CeremonyError('CardError', 'The card gave a malformed answer (fewer than 2 bytes).');
    const b = Buffer.from(r);
    return { data: b.subarray(0, b.length - 2), sw: (b[b.length - 2]! << 8) | b[b.length - 1]! };
  }

  /**
   * Sends a command (chained if its data exceeds 255 bytes) and collects the
   * whole response. Returns data and final status word without judging it.
   */
  async transmitRaw(c: CommandApdu): Promise<{ data: Buffer; sw: number }> {
    const cla = c.cla ?? 0x00;
    const data = c.data ?? new Uint8Array(0);
    // Command chaining, ISO/IEC 7816-4 §5.1.1.1: CLA bit b5 (0x10) on every
    // block but the last; each intermediate block must answer 9000.
    let offset = 0;
    while (data.length - offset > MAX_SHORT_DATA) {
      const block = data.subarray(offset, offset + MAX_SHORT_DATA);
      const r = await this.exchange(encode(cla | 0x10, c.ins, c.p1, c.p2, block, undefined));
      if (r.sw !== SW.OK) return r;
      offset += MAX_SHORT_DATA;
    }
    let r = await this.exchange(encode(cla, c.ins, c.p1, c.p2, data.subarray(offset), c.le));
    // 6Cxx: wrong Le; resend the same (last) block with Le = xx (§5.1.3).
    if ((r.sw & 0xff00) === 0x6c00) {
      r = await this.exchange(encode(cla, c.ins, c.p1, c.p2, data.subarray(offset), r.sw & 0xff));
    }
    const chunks = [r.data];
    let total = r.data.length;
    // 61xx: more data available; fetch it with GET RESPONSE (§7.6.1).
    while ((r.sw & 0xff00) === 0x6100) {
      r = await this.exchange(encode(0x00, 0xc0, 0x00, 0x00, undefined, r.sw & 0xff));
      chunks.push(r.data);
      total += r.data.length;
      if (total > MAX_RESPONSE) throw new CeremonyError('CardError', 'The card sent an implausibly long response.');
    }
    return { data: Buffer.concat(chunks), sw: r.sw };
  }

  /** Sends a command and returns its data; any status but 9000 becomes a typed error about `what`. */
  async send(c: CommandApdu, what: string): Promise<Buffer> {
    const r = await this.transmitRaw(c);
    if (r.sw !== SW.OK) throw statusError(r.sw, what);
    return r.data;
  }
}

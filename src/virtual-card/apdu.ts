/**
 * Command APDU parsing and status words (ISO/IEC 7816-4 section 5.1,
 * SP 800-73-4 Part 2 section 3 and Table 6 "Status words").
 *
 * Both short and extended length fields are accepted: the ATR of a
 * YubiKey 5 advertises extended Lc/Le in its card capabilities (historical
 * bytes 73 C0 21 C0), and OpenSC uses them when it can.
 */

export const SW = {
  OK: 0x9000,
  /** 61xx: more response data, fetch with GET RESPONSE. */
  BYTES_REMAINING: 0x6100,
  /** 63Cx: verification failed, x tries left. */
  VERIFY_FAIL: 0x63c0,
  WRONG_LENGTH: 0x6700,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTH_METHOD_BLOCKED: 0x6983,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  WRONG_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  NOT_ENOUGH_MEMORY: 0x6a84,
  INCORRECT_P1P2: 0x6a86,
  REFERENCE_NOT_FOUND: 0x6a88,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  NO_PRECISE_DIAGNOSIS: 0x6f00,
} as const;

export class CardStatus extends Error {
  constructor(
    readonly sw: number,
    message?: string,
  ) {
    super(message ?? `SW ${sw.toString(16).padStart(4, '0').toUpperCase()}`);
  }
}

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data: Uint8Array;
  /** Ne, the maximum number of response bytes expected; undefined if Le was absent. */
  ne: number | undefined;
  extended: boolean;
}

/**
 * Parses the four ISO cases in short and extended form
 * (ISO/IEC 7816-4 section 5.1, "Command-response pairs").
 * Throws CardStatus(6700) for inconsistent lengths.
 */
export function parseCommandApdu(apdu: Uint8Array): CommandApdu {
  if (apdu.length < 4) throw new CardStatus(SW.WRONG_LENGTH, 'APDU shorter than its header');
  const [cla, ins, p1, p2] = [apdu[0]!, apdu[1]!, apdu[2]!, apdu[3]!];
  const body = apdu.subarray(4);
  const base = { cla, ins, p1, p2 };
  if (body.length === 0) return { ...base, data: new Uint8Array(0), ne: undefined, extended: false }; // case 1
  if (body.length === 1)
    return { ...base, data: new Uint8Array(0), ne: body[0] === 0 ? 256 : body[0], extended: false }; // case 2S
  const b0 = body[0]!;
  if (b0 !== 0) {
    // Short Lc.
    const lc = b0;
    if (body.length === 1 + lc) return { ...base, data: body.slice(1), ne: undefined, extended: false }; // case 3S
    if (body.length === 2 + lc) {
      const le = body[1 + lc]!;
      return { ...base, data: body.slice(1, 1 + lc), ne: le === 0 ? 256 : le, extended: false }; // case 4S
    }
    throw new CardStatus(SW.WRONG_LENGTH, 'Lc does not match the APDU length');
  }
  // b0 === 0 and more than one byte: extended form.
  if (body.length === 3) {
    const le = (body[1]! << 8) | body[2]!;
    return { ...base, data: new Uint8Array(0), ne: le === 0 ? 65536 : le, extended: true }; // case 2E
  }
  if (body.length < 3) throw new CardStatus(SW.WRONG_LENGTH, 'malformed extended length');
  const lc = (body[1]! << 8) | body[2]!;
  if (lc === 0) throw new CardStatus(SW.WRONG_LENGTH, 'extended Lc of zero');
  if (body.length === 3 + lc) return { ...base, data: body.slice(3), ne: undefined, extended: true }; // case 3E
  if (body.length === 5 + lc) {
    const le = (body[3 + lc]! << 8) | body[4 + lc]!;
    return { ...base, data: body.slice(3, 3 + lc), ne: le === 0 ? 65536 : le, extended: true }; // case 4E
  }
  throw new CardStatus(SW.WRONG_LENGTH, 'extended Lc does not match the APDU length');
}

export function withSw(data: Uint8Array, sw: number): Uint8Array {
  const out = new Uint8Array(data.length + 2);
  out.set(data, 0);
  out[data.length] = (sw >> 8) & 0xff;
  out[data.length + 1] = sw & 0xff;
  return out;
}

/** Builds a command APDU (short form when it fits, otherwise extended). Handy for tests and the host side. */
export function buildApdu(
  cla: number,
  ins: number,
  p1: number,
  p2: number,
  data?: Uint8Array,
  le?: number,
): Uint8Array {
  const d = data ?? new Uint8Array(0);
  const extended = d.length > 255 || (le !== undefined && le > 256);
  const parts: number[] = [cla, ins, p1, p2];
  if (!extended) {
    if (d.length > 0) parts.push(d.length, ...d);
    if (le !== undefined) parts.push(le === 256 ? 0 : le);
  } else {
    parts.push(0);
    if (d.length > 0) parts.push(d.length >> 8, d.length & 0xff, ...d);
    if (le !== undefined) parts.push((le >> 8) & 0xff, le & 0xff);
  }
  return Uint8Array.from(parts);
}

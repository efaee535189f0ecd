/**
 * The virtual card: ATR, power, application selection, and the ISO 7816-4
 * transport features a YubiKey 5 implements around its PIV applet:
 * - command chaining (CLA bit 0x10 on all but the last block, ISO/IEC 7816-4
 *   section 5.1.1.1; SP 800-73-4 Part 2 section 3 requires it for large data);
 * - response chaining with 61xx and GET RESPONSE (ISO/IEC 7816-4 section 7.6.1)
 *   for responses longer than the short Le;
 * - extended-length APDUs, which the ATR advertises.
 *
 * It also counts APDUs per instruction so benchmarks can report the APDU cost
 * of each host operation.
 */
import { CardStatus, SW, parseCommandApdu, withSw, type CommandApdu } from './apdu.js';
import { MANAGEMENT_AID, ManagementApplet } from './management-applet.js';
import { INS, INS_NAMES, PIV_AID, PivApplet } from './piv-applet.js';
import { loadOrCreate, newCardState, saveState, type CardState } from './state.js';
import { concat, fromHex } from './tlv.js';

/**
 * ATR of a YubiKey 5 (USB CCID): T=1, historical bytes in compact-TLV form
 * 80 | 73 C0 21 C0 (card capabilities: command chaining, extended Lc/Le) |
 * 57 "YubiKey" (tag 5, which OpenSC uses to recognise a YubiKey), then TCK.
 */
export const YUBIKEY5_ATR = fromHex('3bfd1300008131fe158073c021c057597562694b657940');

/** Largest data field accepted across a command chain (a YubiKey 5's APDU buffer is about 3 KB). */
const MAX_CHAINED_DATA = 4096;

export interface VirtualPivCardOptions {
  /** Card state to use (kept by reference and mutated). Default: a fresh card. */
  state?: CardState;
  /** Persist to this file after each state-changing APDU; loaded (or created) from it when `state` is not given. */
  stateFile?: string;
  /** Called after each state-changing APDU (after the file, if any, is written). */
  onStateChange?: (state: CardState) => void;
  atr?: Uint8Array;
}

export class VirtualPivCard {
  readonly atr: Uint8Array;
  private readonly stateFile: string | undefined;
  private readonly onStateChangeCb: ((state: CardState) => void) | undefined;
  private readonly applet: PivApplet;
  private readonly management: ManagementApplet;
  private powered = false;
  /** The application the last successful SELECT chose; none after power-on, as on a YubiKey. */
  private selected: 'none' | 'piv' | 'management' = 'none';
  private chain: { ins: number; p1: number; p2: number; data: Uint8Array[]; length: number } | undefined;
  private pendingResponse: Uint8Array | undefined;
  private readonly counts = new Map<number, number>();

  constructor(options: VirtualPivCardOptions = {}) {
    this.atr = options.atr ?? YUBIKEY5_ATR;
    this.stateFile = options.stateFile;
    this.onStateChangeCb = options.onStateChange;
    const state = options.state ?? (options.stateFile ? loadOrCreate(options.stateFile) : newCardState());
    this.applet = new PivApplet(state, (s) => this.persist(s));
    this.management = new ManagementApplet(() => this.applet.getState());
  }

  get state(): CardState {
    return this.applet.getState();
  }

  get serial(): number {
    return this.state.serial;
  }

  get isPowered(): boolean {
    return this.powered;
  }

  private persist(state: CardState): void {
    if (this.stateFile) saveState(this.stateFile, state);
    this.onStateChangeCb?.(state);
  }

  /** Powers the card (cold reset) and returns the ATR. Volatile state is cleared. */
  powerOn(): Uint8Array {
    this.clearVolatile();
    this.powered = true;
    return this.atr.slice();
  }

  powerOff(): void {
    this.clearVolatile();
    this.powered = false;
  }

  /** Warm reset: same effect on the card as power off + on. */
  reset(): Uint8Array {
    return this.powerOn();
  }

  private clearVolatile(): void {
    this.selected = 'none';
    this.chain = undefined;
    this.pendingResponse = undefined;
    this.applet.resetSecurityState();
  }

  /** Sends one command APDU; returns response data followed by SW1 SW2. */
  transmit(apdu: Uint8Array): Uint8Array {
    if (!this.powered) throw new Error('the virtual card is not powered');
    if (apdu.length >= 2) this.counts.set(apdu[1]!, (this.counts.get(apdu[1]!) ?? 0) + 1);
    try {
      return this.handle(apdu);
    } catch (e) {
      if (e instanceof CardStatus) return withSw(new Uint8Array(0), e.sw);
      throw e;
    }
  }

  private handle(raw: Uint8Array): Uint8Array {
    const cmd = parseCommandApdu(raw);
    // Interindustry class only, optionally with the chaining bit (ISO/IEC 7816-4 section 5.1.1).
    if ((cmd.cla & ~0x10) !== 0x00) {
      this.chain = undefined;
      return withSw(new Uint8Array(0), SW.CLA_NOT_SUPPORTED);
    }

    if (cmd.ins === INS.GET_RESPONSE && !this.chain) return this.getResponse(cmd);
    this.pendingResponse = undefined;

    if (cmd.cla & 0x10) {
      // A chained block: buffer it and wait for the last one.
      if (this.chain && (this.chain.ins !== cmd.ins || this.chain.p1 !== cmd.p1 || this.chain.p2 !== cmd.p2)) {
        this.chain = undefined;
      }
      this.chain ??= { ins: cmd.ins, p1: cmd.p1, p2: cmd.p2, data: [], length: 0 };
      this.chain.data.push(cmd.data);
      this.chain.length += cmd.data.length;
      if (this.chain.length > MAX_CHAINED_DATA) {
        this.chain = undefined;
        return withSw(new Uint8Array(0), SW.WRONG_LENGTH);
      }
      return withSw(new Uint8Array(0), SW.OK);
    }

    let full: CommandApdu = cmd;
    if (this.chain) {
      const chain = this.chain;
      this.chain = undefined;
      if (chain.ins !== cmd.ins || chain.p1 !== cmd.p1 || chain.p2 !== cmd.p2) {
        // ISO/IEC 7816-4: last command of the chain expected.
        return withSw(new Uint8Array(0), 0x6883);
      }
      if (chain.length + cmd.data.length > MAX_CHAINED_DATA) return withSw(new Uint8Array(0), SW.WRONG_LENGTH);
      full = { ...cmd, data: concat(...chain.data, cmd.data) };
    }

    const result = this.execute(full);
    return this.respond(result.data, result.sw, full);
  }

  private execute(cmd: CommandApdu): { data: Uint8Array; sw: number } {
    if (cmd.ins === INS.SELECT) return this.select(cmd);
    switch (this.selected) {
      case 'piv':
        return this.applet.process(cmd);
      case 'management':
        return this.management.process(cmd);
      case 'none':
        return { data: new Uint8Array(0), sw: SW.INS_NOT_SUPPORTED };
    }
  }

  /**
   * SELECT by DF name (SP 800-73-4 Part 2 section 3.1.1; ISO/IEC 7816-4
   * section 11.2.2): the PIV AID, right-truncated or whole, or the YubiKey
   * management AID. An unknown AID (6A82) leaves the current application
   * selected, as ISO/IEC 7816-4 has it. Selecting another application ends
   * the PIV security status, as on a YubiKey.
   */
  private select(cmd: CommandApdu): { data: Uint8Array; sw: number } {
    if (cmd.p1 !== 0x04 || (cmd.p2 & ~0x0c) !== 0x00) return { data: new Uint8Array(0), sw: SW.INCORRECT_P1P2 };
    const aid = cmd.data;
    if (aid.length >= 5 && aid.length <= PIV_AID.length && aid.every((b, i) => b === PIV_AID[i])) {
      this.selected = 'piv';
      return this.applet.select();
    }
    if (aid.length === MANAGEMENT_AID.length && aid.every((b, i) => b === MANAGEMENT_AID[i])) {
      this.selected = 'management';
      this.applet.resetSecurityState();
      return this.management.select();
    }
    return { data: new Uint8Array(0), sw: SW.FILE_NOT_FOUND };
  }

  /** Sends up to Ne bytes; the rest waits for GET RESPONSE, announced with 61xx. */
  private respond(data: Uint8Array, sw: number, cmd: CommandApdu): Uint8Array {
    const limit = cmd.extended ? (cmd.ne ?? 65536) : (cmd.ne ?? 256);
    if (sw !== SW.OK || data.length <= limit) return withSw(data, sw);
    return this.chunk(data, limit);
  }

  private chunk(data: Uint8Array, limit: number): Uint8Array {
    const head = data.subarray(0, limit);
    const rest = data.slice(limit);
    this.pendingResponse = rest;
    return withSw(head, SW.BYTES_REMAINING | (rest.length > 255 ? 0x00 : rest.length));
  }

  private getResponse(cmd: CommandApdu): Uint8Array {
    const pending = this.pendingResponse;
    this.pendingResponse = undefined;
    if (cmd.p1 !== 0x00 || cmd.p2 !== 0x00) return withSw(new Uint8Array(0), SW.INCORRECT_P1P2);
    if (!pending) return withSw(new Uint8Array(0), SW.CONDITIONS_NOT_SATISFIED);
    const limit = cmd.ne ?? 256;
    if (pending.length <= limit) return withSw(pending, SW.OK);
    return this.chunk(pending, limit);
  }

  // ------------------------------------------------------------ APDU accounting

  /** APDUs received since the last reset of the counters, by instruction name (unknown INS as "INS_xx"). */
  apduCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [ins, n] of [...this.counts.entries()].sort((a, b) => a[0] - b[0])) {
      out[INS_NAMES[ins] ?? `INS_${ins.toString(16).padStart(2, '0').toUpperCase()}`] = n;
    }
    return out;
  }

  apduTotal(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  resetApduCounts(): void {
    this.counts.clear();
  }
}

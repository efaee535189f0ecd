/**
 * Connects a VirtualPivCard to vsmartcard's vpcd reader driver (loaded by
 * pcscd), the way vsmartcard's vicc does.
 *
 * vpcd listens on TCP (127.0.0.1:35963 for its first reader, 35964 for the
 * second). Every message in both directions is a 2-byte big-endian length
 * followed by that many bytes. From vpcd, a 1-byte message is a control
 * code: 0 power off, 1 power on, 2 reset, 4 "send the ATR" (answered with
 * the ATR); a longer message is a command APDU, answered with the response
 * APDU. An open connection means a card is in the reader; closing it
 * removes the card.
 */
import { Socket, connect } from 'node:net';
import type { VirtualPivCard } from './card.js';

export const VPCD_DEFAULT_HOST = '127.0.0.1';
export const VPCD_DEFAULT_PORT = 35963;

const CTRL_OFF = 0;
const CTRL_ON = 1;
const CTRL_RESET = 2;
const CTRL_ATR = 4;

export interface VpcdClientOptions {
  card: VirtualPivCard;
  host?: string;
  port?: number;
  /** Called each time the connection to vpcd is established (card inserted). */
  onConnected?: () => void;
  /** Called when an established connection ends (card removed). */
  onDisconnected?: () => void;
  /** Called after each APDU exchange. */
  onApdu?: (command: Uint8Array, response: Uint8Array) => void;
  /**
   * Test hook: when it returns true for an APDU, the card is pulled out
   * instead of answering it (the connection to vpcd closes and stays closed),
   * which is how tests pull a card between two APDUs of a write.
   */
  pullBefore?: (command: Uint8Array) => boolean;
  /** Called after the card was pulled by `pullBefore`. */
  onPulled?: () => void;
  /** Called for protocol problems worth logging; the client keeps going. */
  onWarning?: (message: string) => void;
  /** Reconnect backoff bounds in milliseconds. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class VpcdClient {
  private readonly host: string;
  private readonly port: number;
  private socket: Socket | undefined;
  private stopped = true;
  private connected = false;
  private backoff: number;
  private timer: NodeJS.Timeout | undefined;
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly options: VpcdClientOptions) {
    this.host = options.host ?? VPCD_DEFAULT_HOST;
    this.port = options.port ?? VPCD_DEFAULT_PORT;
    this.backoff = options.minBackoffMs ?? 100;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Starts connecting (and reconnecting with backoff while vpcd is not up). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt();
  }

  /** Removes the card: closes the connection and stops reconnecting. */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.socket;
    if (!s || s.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      s.once('close', () => resolve());
      s.end();
      setTimeout(() => s.destroy(), 500).unref();
    });
  }

  private attempt(): void {
    if (this.stopped) return;
    this.buffer = Buffer.alloc(0);
    const socket = connect({ host: this.host, port: this.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.connected = true;
      this.backoff = this.options.minBackoffMs ?? 100;
      this.options.onConnected?.();
    });
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('error', () => {
      /* reported through 'close'; ECONNREFUSED while vpcd is not up is expected */
    });
    socket.on('close', () => {
      const wasConnected = this.connected;
      this.connected = false;
      if (this.socket === socket) this.socket = undefined;
      if (this.options.card.isPowered) this.options.card.powerOff();
      if (wasConnected) this.options.onDisconnected?.();
      if (!this.stopped) this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.options.maxBackoffMs ?? 2000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.attempt();
    }, delay);
  }

  private onData(socket: Socket, chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 2) {
      const len = this.buffer.readUInt16BE(0);
      if (this.buffer.length < 2 + len) break;
      const msg = new Uint8Array(this.buffer.subarray(2, 2 + len));
      this.buffer = this.buffer.subarray(2 + len);
      if (msg.length > 1 && this.options.pullBefore?.(msg)) {
        void this.stop().then(() => this.options.onPulled?.());
        return;
      }
      const reply = this.handle(msg);
      if (reply) this.send(socket, reply);
    }
  }

  private handle(msg: Uint8Array): Uint8Array | undefined {
    const card = this.options.card;
    if (msg.length === 0) return undefined;
    if (msg.length === 1) {
      switch (msg[0]) {
        case CTRL_OFF:
          card.powerOff();
          return undefined;
        case CTRL_ON:
          card.powerOn();
          return undefined;
        case CTRL_RESET:
          card.reset();
          return undefined;
        case CTRL_ATR:
          return card.atr;
        default:
          this.options.onWarning?.(`unknown vpcd control code ${msg[0]}`);
          return undefined;
      }
    }
    let response: Uint8Array;
    if (!card.isPowered) {
      // vpcd powers the card before any APDU; answer like a mute application rather than crash.
      this.options.onWarning?.('APDU received while the card was powered off');
      response = Uint8Array.of(0x6f, 0x00);
    } else {
      response = card.transmit(msg);
    }
    this.options.onApdu?.(msg, response);
    return response;
  }

  private send(socket: Socket, payload: Uint8Array): void {
    const frame = Buffer.alloc(2 + payload.length);
    frame.writeUInt16BE(payload.length, 0);
    frame.set(payload, 2);
    socket.write(frame);
  }
}

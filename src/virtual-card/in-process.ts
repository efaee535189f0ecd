/**
 * In-process "reader" for the virtual card, used by rehearsal mode and unit
 * tests: the same card that vpcd exposes through PC/SC, without pcscd.
 * connect() inserts and powers the card, disconnect() powers it off (like
 * pulling it), transmit() sends one APDU.
 */
import { VirtualPivCard } from './card.js';

export class InProcessCardReader {
  private connected = false;

  constructor(
    readonly card: VirtualPivCard,
    readonly name = 'Virtual PIV card (in-process)',
  ) {}

  get isConnected(): boolean {
    return this.connected;
  }

  /** Powers the card and returns its ATR. */
  connect(): Uint8Array {
    const atr = this.card.powerOn();
    this.connected = true;
    return atr;
  }

  transmit(apdu: Uint8Array): Uint8Array {
    if (!this.connected) throw new Error('no card is connected in the in-process reader');
    return this.card.transmit(apdu);
  }

  disconnect(): void {
    if (!this.connected) return;
    this.card.powerOff();
    this.connected = false;
  }
}

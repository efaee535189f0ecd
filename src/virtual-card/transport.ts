// The in-process card transport: the virtual card behind the same
// CardTransport interface as PC/SC (src/core/cards/transport.ts). Rehearsal
// mode and unit tests use it; tests can insert and pull cards at will.
import { CeremonyError } from '../core/errors.js';
import type { CardConnection, CardTransport, ReaderEvent, ReaderState } from '../core/cards/transport.js';
import { matchReader } from '../core/cards/transport.js';
import type { VirtualPivCard } from './card.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class InProcessTransport implements CardTransport {
  private readonly slots = new Map<string, { card: VirtualPivCard | null; busy: boolean; generation: number }>();
  private readonly listeners = new Set<(e: ReaderEvent) => void>();

  constructor(readers: string[] = ['Virtual PIV reader 0', 'Virtual PIV reader 1']) {
    for (const r of readers) this.slots.set(r, { card: null, busy: false, generation: 0 });
  }

  private slot(reader: string): { card: VirtualPivCard | null; busy: boolean; generation: number } {
    const s = this.slots.get(reader);
    if (!s) throw new CeremonyError('NoReader', `There is no reader "${reader}".`);
    return s;
  }

  private emit(e: ReaderEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** Puts a card in a reader (like pushing it into the slot). */
  insert(reader: string, card: VirtualPivCard): void {
    const s = this.slot(reader);
    s.card = card;
    s.generation++;
    this.emit({ kind: 'card-inserted', reader, atr: hex(card.atr) });
  }

  /** Pulls the card out: any open connection fails from its next APDU on. */
  remove(reader: string): void {
    const s = this.slot(reader);
    if (!s.card) return;
    s.card.powerOff();
    s.card = null;
    s.busy = false;
    s.generation++;
    this.emit({ kind: 'card-removed', reader });
  }

  async listReaders(): Promise<ReaderState[]> {
    return [...this.slots.entries()].map(([name, s]) =>
      s.card ? { name, present: true, atr: hex(s.card.atr) } : { name, present: false },
    );
  }

  watch(onEvent: (e: ReaderEvent) => void): () => void {
    this.listeners.add(onEvent);
    return () => this.listeners.delete(onEvent);
  }

  async connect(pattern: string): Promise<CardConnection> {
    const readers = await this.listReaders();
    if (readers.length === 0) throw new CeremonyError('NoReader', 'No card reader is connected.');
    const name = matchReader(readers, pattern).name;
    const s = this.slot(name);
    const card = s.card;
    if (!card)
      throw new CeremonyError('NoCard', `There is no card in reader "${name}". Insert the card.`, { reader: name });
    if (s.busy)
      throw new CeremonyError('CardBusy', `The card in "${name}" is in use by another operation.`, { reader: name });
    s.busy = true;
    const generation = s.generation;
    const atr = card.powerOn();
    const gone = (): boolean => s.generation !== generation || s.card !== card;
    return {
      reader: name,
      atr,
      async transmit(apdu: Uint8Array): Promise<Uint8Array> {
        if (gone()) throw new CeremonyError('CardRemoved', `The card was removed from "${name}".`, { reader: name });
        return card.transmit(apdu);
      },
      async disconnect(): Promise<void> {
        if (gone()) return;
        card.powerOff();
        s.busy = false;
      },
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

// The card transport: the small interface every reader technology
// implements (CONVENTIONS.md, "Hardware behind an interface"). PC/SC through
// pcsc-lite implements it for real readers; the in-process virtual card
// implements it for rehearsals and unit tests. Everything above it (APDU
// layer, PIV client, card roles) is the same for both.

export interface ReaderState {
  /** The reader's name as the system reports it. */
  name: string;
  /** A card is present in the reader. */
  present: boolean;
  /** The card's ATR (hex) when present. */
  atr?: string;
}

export type ReaderEvent =
  | { kind: 'reader-added'; reader: string }
  | { kind: 'reader-removed'; reader: string }
  | { kind: 'card-inserted'; reader: string; atr: string }
  | { kind: 'card-removed'; reader: string };

export interface CardConnection {
  readonly reader: string;
  /** The ATR of the card, as returned when it was connected. */
  readonly atr: Uint8Array;
  /** Sends one APDU (command bytes) and returns the response bytes (data + SW1 SW2). */
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
  /** Releases the card (and resets its security state: PIN verification is lost). */
  disconnect(): Promise<void>;
}

export interface CardTransport {
  /** Readers currently attached, with whether a card is in each. */
  listReaders(): Promise<ReaderState[]>;
  /**
   * Watches readers for insertion and removal. Returns a function that stops
   * watching; after it is called, no callback runs and nothing keeps the
   * process alive.
   */
  watch(onEvent: (e: ReaderEvent) => void): () => void;
  /**
   * Connects to the card in the reader, exclusively: no other application
   * can talk to the card until disconnect() (one card operation at a time).
   */
  connect(reader: string): Promise<CardConnection>;
  /** Releases the transport's resources (PC/SC context). */
  close(): Promise<void>;
}

/** Finds the one reader whose name contains `pattern`; errors name what was found instead. */
export function matchReader(readers: ReaderState[], pattern: string): ReaderState {
  const hits = readers.filter((r) => r.name.includes(pattern));
  if (hits.length === 1) return hits[0]!;
  const names = readers.map((r) => `"${r.name}"`).join(', ') || 'none';
  if (hits.length === 0) throw new ReaderNotFound(pattern, names);
  throw new ReaderAmbiguous(
    pattern,
    hits.map((r) => r.name),
  );
}

import { CeremonyError } from '../errors.js';

export class ReaderNotFound extends CeremonyError {
  constructor(pattern: string, available: string) {
    super('InvalidArgument', `No card reader matches "${pattern}" (readers: ${available}).`, { pattern });
  }
}

export class ReaderAmbiguous extends CeremonyError {
  constructor(pattern: string, names: string[]) {
    super('InvalidArgument', `"${pattern}" matches ${names.length} readers (${names.join(', ')}); be more specific.`, {
      pattern,
    });
  }
}

// The PC/SC card transport: real readers through pcsc-lite (DESIGN.md,
// "Smart cards"), behind the CardTransport interface (transport.ts).
//
// Binding. The native binding is the N-API package `smartcard` (tomkp), not
// the nan package `pcsclite` 1.0.1 the issue first named. `pcsclite` was
// evaluated against this stack (pcscd 1.9.9 + vpcd) and keeps the Node
// process alive after close() when a reader object is closed before its
// status thread has reported once (its uv_async handle is never closed),
// deadlocks the main thread when reader.close() runs inside that reader's
// own 'status' callback (the native callback holds the reader's mutex), and
// emits "SCardGetStatusChange error: Command cancelled" as an 'error' event
// on every close (santigimeno/node-pcsclite#70), which crashes a process
// without an 'error' listener. It also has no one-shot "list readers" call
// (every listing spins up one thread and one context per reader) and, being
// nan-based, must be rebuilt for each Electron ABI. `smartcard` maps 1:1 onto
// the PC/SC calls we need (SCardEstablishContext, SCardListReaders,
// SCardGetStatusChange with SCardCancel, SCardConnect, SCardTransmit,
// SCardDisconnect, SCardReleaseContext), and N-API is ABI-stable across Node
// and Electron versions.
//
// The binding is loaded lazily by createPcscTransport() (a dynamic import):
// code that never touches a card, and the renderer bundle, never load a
// native addon. This file only imports the binding's types.
//
// Contexts. Every operation uses its own PC/SC context (SCardEstablishContext
// .. SCardReleaseContext): listReaders() one per call, each connection one
// for its lifetime, each watch() one for its lifetime. pcsc-lite contexts are
// cheap (one socket to pcscd), a fresh one never carries stale state across
// a pcscd restart, and a blocking SCardGetStatusChange on the watch context
// never serialises a transmit behind it (pcsc-lite locks per context).
import type * as Smartcard from 'smartcard';
import { CeremonyError } from '../errors.js';
import { forkPcscWorker, PcscProcessTransport, type SpawnPcscWorker } from './pcsc-process.js';
import {
  matchReader,
  type CardConnection,
  type CardTransport,
  type ReaderEvent,
  type ReaderState,
} from './transport.js';

/** The part of the `smartcard` module this transport uses (a fake can stand in for it). */
export type PcscBinding = Pick<
  typeof Smartcard,
  | 'Context'
  | 'SCARD_SHARE_EXCLUSIVE'
  | 'SCARD_PROTOCOL_T0'
  | 'SCARD_PROTOCOL_T1'
  | 'SCARD_RESET_CARD'
  | 'SCARD_STATE_PRESENT'
  | 'SCARD_STATE_MUTE'
  | 'SCARD_STATE_CHANGED'
  | 'SCARD_STATE_UNKNOWN'
>;
type Context = Smartcard.ContextInterface;
type Card = Smartcard.CardInterface;

/**
 * The PnP pseudo-reader: SCardGetStatusChange on it returns when a reader is
 * attached or detached (pcsc-lite API, SCardGetStatusChange, "\\?PnP?\Notification").
 */
const PNP_READER = '\\\\?PnP?\\Notification';

/**
 * How long one SCardGetStatusChange of watch() blocks before it is re-armed.
 * SCardCancel normally ends the wait at once; the bound covers a cancel that
 * lands between two waits (pcsc-lite ignores it then; LudovicRousseau/PCSC#160)
 * and reader-list changes that happen between a listing and the next wait
 * (pcsc-lite 1.9 compares the reader count with the count at call time).
 */
const WATCH_WAIT_MS = 1000;

/** After pcscd disappears, watch() retries establishing a context this often. */
const WATCH_RETRY_MS = 1000;

/**
 * Deadline of SCardConnect (power-up and ATR; tens of milliseconds on a
 * YubiKey). A reader whose driver is stuck on another client's APDU can keep
 * it waiting forever (vpcd waits on its card without a timeout).
 */
export const CONNECT_DEADLINE_MS = 5_000;

/**
 * PC/SC calls abandoned after a deadline that are still running on a libuv
 * thread-pool thread (issue 9, "Never hang"). pcsc-lite serialises every
 * call of a context behind one mutex, so while a card does not answer,
 * SCardDisconnect and SCardReleaseContext on that context would block the
 * JavaScript thread: they run when the stuck call returns (the card answers
 * late, or the reader driver gives up or sees the card pulled).
 *
 * The process that runs this cannot end before the stuck call returns: Node
 * joins its thread-pool threads on exit (process.exit() included, via
 * uv_library_shutdown), and a pending N-API async worker keeps the event loop
 * alive. A CCID reader driver gives up on a mute card by itself; vsmartcard's
 * vpcd waits until its card answers or disconnects. That is why the tool
 * runs card connections in helper processes (pcsc-process.ts): a helper with
 * an abandoned call is killed, not waited for.
 */
let abandonedCalls = 0;

/** How many PC/SC calls were abandoned after a deadline and have not returned yet. */
export function abandonedPcscCalls(): number {
  return abandonedCalls;
}

/** Runs `release` once `call` settles, counting it as abandoned until then. */
function releaseWhenReturned(call: Promise<unknown>, release: () => void): void {
  abandonedCalls++;
  const done = (): void => {
    abandonedCalls--;
    try {
      release();
    } catch {
      // the handle or context is gone already
    }
  };
  call.then(done, done);
}

/**
 * Response buffer for SCardTransmit: the largest extended-length response
 * (65536 data bytes + SW1 SW2, ISO/IEC 7816-4 §5.1). The binding's default
 * (258) would truncate a response to an extended APDU.
 */
const MAX_RESPONSE = 65538;

// The binding reports PC/SC failures as Error objects whose message is the
// fixed text of GetPCSCErrorString() in its src/pcsc_errors.h (no numeric
// code crosses into JavaScript), so the mapping keys on those strings. Each
// comment names the PC/SC return code (pcsc-lite pcsclite.h).
const PCSC = {
  noService: 'PC/SC service not running', // SCARD_E_NO_SERVICE: pcscd is not running
  serviceStopped: 'PC/SC service stopped', // SCARD_E_SERVICE_STOPPED
  noReaders: 'No readers available', // SCARD_E_NO_READERS_AVAILABLE
  unknownReader: 'Unknown reader', // SCARD_E_UNKNOWN_READER: the reader went away
  readerUnavailable: 'Reader unavailable', // SCARD_E_READER_UNAVAILABLE
  noSmartcard: 'No smart card present', // SCARD_E_NO_SMARTCARD
  removed: 'Card was removed', // SCARD_W_REMOVED_CARD
  sharing: 'Sharing violation', // SCARD_E_SHARING_VIOLATION: another handle holds the card
  cancelled: 'Operation cancelled', // SCARD_E_CANCELLED: our own SCardCancel
  reset: 'Card was reset', // SCARD_W_RESET_CARD
  unpowered: 'Card is unpowered', // SCARD_W_UNPOWERED_CARD
  unresponsive: 'Card is unresponsive', // SCARD_W_UNRESPONSIVE_CARD
  unsupported: 'Card is not supported', // SCARD_W_UNSUPPORTED_CARD
} as const;

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const noPcscd = (): CeremonyError =>
  new CeremonyError('NoPcscd', 'The smart-card service (pcscd) is not running; start it with `systemctl start pcscd`.');

const noReaderAttached = (): CeremonyError =>
  new CeremonyError('NoReader', 'No smart-card reader is connected; plug one in.');

/** Translates a binding error raised while working with `reader` (or with no reader yet). */
function pcscError(e: unknown, reader: string | undefined, during: 'connect' | 'transmit' | 'list'): CeremonyError {
  const raw = messageOf(e);
  const details = { reader: reader ?? null, pcsc: raw };
  switch (raw) {
    case PCSC.noService:
    case PCSC.serviceStopped:
      return new CeremonyError('NoPcscd', noPcscd().message, details);
    case PCSC.noReaders:
      return new CeremonyError('NoReader', noReaderAttached().message, details);
    case PCSC.unknownReader:
    case PCSC.readerUnavailable:
      return reader === undefined
        ? new CeremonyError('NoReader', noReaderAttached().message, details)
        : new CeremonyError('NoReader', `The card reader "${reader}" was disconnected; plug it in again.`, details);
    case PCSC.sharing:
      return new CeremonyError(
        'CardBusy',
        `The card in reader "${reader}" is in use by another application; close that application or wait for it to finish, then try again.`,
        details,
      );
    case PCSC.noSmartcard:
    case PCSC.removed:
      // At connect time the card left between the listing and SCardConnect:
      // the person needs to insert it. During a transmit it was pulled
      // mid-operation (the brief's SCARD_W_REMOVED_CARD / SCARD_E_NO_SMARTCARD).
      return during === 'transmit'
        ? new CeremonyError(
            'CardRemoved',
            `The card was removed from reader "${reader}" during the operation; insert it again and repeat the operation.`,
            details,
          )
        : new CeremonyError('NoCard', `There is no card in reader "${reader}"; insert the card.`, details);
    case PCSC.reset:
    case PCSC.unpowered:
    case PCSC.unresponsive:
    case PCSC.unsupported:
      return new CeremonyError(
        'CardError',
        `The card in reader "${reader}" stopped responding (${raw.toLowerCase()}); take it out, insert it again and repeat the operation.`,
        details,
      );
    default:
      return new CeremonyError(
        'CardError',
        reader === undefined
          ? `The smart-card service reported an error (${raw}); check the reader and try again.`
          : `The card reader "${reader}" reported an error (${raw}); take the card out, insert it again and repeat the operation.`,
        details,
      );
  }
}

const hex = (b: Uint8Array | null | undefined): string | undefined =>
  b && b.length > 0 ? Buffer.from(b).toString('hex') : undefined;

export class PcscTransport implements CardTransport {
  private closed = false;
  private readonly connections = new Set<PcscConnection>();
  private readonly watchers = new Set<ReaderWatcher>();

  constructor(private readonly sc: PcscBinding) {}

  /** Establishes a fresh context; pcsc-lite returns SCARD_E_NO_SERVICE here when pcscd is not running. */
  private newContext(): Context {
    try {
      return new this.sc.Context();
    } catch (e) {
      throw pcscError(e, undefined, 'list');
    }
  }

  private assertOpen(): void {
    // Using a closed transport is a bug in the caller, not something a person can act on.
    if (this.closed) throw new Error('PcscTransport used after close()');
  }

  private toReaderState(name: string, state: number, atr: Buffer | null): ReaderState {
    const present = (state & this.sc.SCARD_STATE_PRESENT) !== 0;
    const a = present ? hex(atr) : undefined;
    return a ? { name, present, atr: a } : { name, present };
  }

  async listReaders(): Promise<ReaderState[]> {
    this.assertOpen();
    const ctx = this.newContext();
    try {
      // The binding's listReaders() is SCardListReaders followed by one
      // SCardGetStatusChange with timeout 0 from SCARD_STATE_UNAWARE, which
      // reports each reader's current state and ATR without waiting. It
      // returns [] for SCARD_E_NO_READERS_AVAILABLE.
      return ctx.listReaders().map((r) => this.toReaderState(r.name, r.state, r.atr));
    } catch (e) {
      throw pcscError(e, undefined, 'list');
    } finally {
      ctx.close();
    }
  }

  watch(onEvent: (e: ReaderEvent) => void): () => void {
    this.assertOpen();
    // Establishing the watch context synchronously lets watch() throw
    // NoPcscd to its caller instead of failing silently in the background.
    const w = new ReaderWatcher(this.sc, this.newContext(), onEvent, () => this.newContext());
    this.watchers.add(w);
    w.start();
    return () => {
      this.watchers.delete(w);
      // Fire and forget: the watch loop catches its own errors (run()), and the caller need not wait for it to end.
      void w.stop();
    };
  }

  async connect(pattern: string): Promise<CardConnection> {
    this.assertOpen();
    const ctx = this.newContext();
    let abandoned = false; // the context is held by an abandoned SCardConnect: released when it returns
    try {
      let listed: Smartcard.ReaderInterface[];
      try {
        listed = ctx.listReaders();
      } catch (e) {
        throw pcscError(e, undefined, 'list');
      }
      if (listed.length === 0) throw noReaderAttached();
      const readers = listed.map((r) => this.toReaderState(r.name, r.state, r.atr));
      const name = matchReader(readers, pattern).name; // ReaderNotFound / ReaderAmbiguous name what was found
      const reader = listed.find((r) => r.name === name)!;
      if (!(reader.state & this.sc.SCARD_STATE_PRESENT)) {
        throw new CeremonyError('NoCard', `There is no card in reader "${name}"; insert the card.`, { reader: name });
      }
      let card: Card;
      // SCARD_SHARE_EXCLUSIVE: no other handle, in this process or another,
      // can connect until we disconnect; a second SCardConnect fails at once
      // with SCARD_E_SHARING_VIOLATION (pcsc-lite API, SCardConnect). One
      // card operation (select, verify PIN, sign...) runs start to finish
      // without another application seeing or resetting the card between
      // its APDUs. T=0 or T=1, whichever the card offers.
      const connecting = reader.connect(
        this.sc.SCARD_SHARE_EXCLUSIVE,
        this.sc.SCARD_PROTOCOL_T0 | this.sc.SCARD_PROTOCOL_T1,
      );
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), CONNECT_DEADLINE_MS);
      });
      try {
        const got = await Promise.race([connecting, deadline]);
        if (got === null) {
          // The context is busy with the stuck SCardConnect: release it (and
          // the card, if it is connected after all) when that call returns.
          releaseWhenReturned(
            connecting.then((c) => c.disconnect(this.sc.SCARD_RESET_CARD)),
            () => ctx.close(),
          );
          abandoned = true;
          throw new CeremonyError(
            'CardTimeout',
            `The card in reader "${name}" did not answer within ${CONNECT_DEADLINE_MS / 1000} seconds when connecting; take it out, insert it again and repeat the operation.`,
            { reader: name, operation: 'connect', deadlineMs: CONNECT_DEADLINE_MS },
          );
        }
        card = got;
      } catch (e) {
        if (e instanceof CeremonyError) throw e;
        throw pcscError(e, name, 'connect');
      } finally {
        clearTimeout(timer);
      }
      let atr: Buffer | null = null;
      try {
        atr = card.getStatus().atr; // SCardStatus: the ATR of the card we actually hold
      } catch {
        atr = reader.atr;
      }
      const conn = new PcscConnection(this.sc, ctx, card, name, new Uint8Array(atr ?? []), () =>
        this.connections.delete(conn),
      );
      this.connections.add(conn);
      return conn;
    } catch (e) {
      if (!abandoned) ctx.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.connections]) await c.disconnect();
    const stopping = [...this.watchers].map((w) => w.stop());
    this.watchers.clear();
    await Promise.all(stopping);
  }
}

class PcscConnection implements CardConnection {
  private done = false;
  private pending: Promise<unknown> = Promise.resolve();
  /** APDUs handed to the binding whose SCardTransmit has not returned. */
  private inFlight = 0;

  constructor(
    private readonly sc: PcscBinding,
    private readonly ctx: Context,
    private readonly card: Card,
    readonly reader: string,
    readonly atr: Uint8Array,
    private readonly onReleased: () => void,
  ) {}

  transmit(apdu: Uint8Array): Promise<Uint8Array> {
    // A transmit after disconnect is a bug in the caller.
    if (this.done) return Promise.reject(new Error(`transmit on a disconnected card connection (${this.reader})`));
    const run = async (): Promise<Uint8Array> => {
      // Disconnected while this APDU waited its turn (a caller gave up on the card).
      if (this.done) throw new Error(`transmit on a disconnected card connection (${this.reader})`);
      try {
        let r: Buffer;
        this.inFlight++;
        try {
          r = await this.card.transmit(Buffer.from(apdu), { maxRecvLength: MAX_RESPONSE });
        } finally {
          this.inFlight--;
        }
        if (r.length < 2) {
          // A card pulled mid-APDU can leave the reader driver (vpcd does)
          // answering with nothing instead of an error: ask PC/SC whether
          // the card is still there before calling the answer malformed.
          // The driver may not have noticed yet: look for up to a second.
          for (let i = 0; i < 10; i++) {
            let present = false;
            try {
              present = (this.card.getStatus().state & this.sc.SCARD_STATE_PRESENT) !== 0;
            } catch {
              present = false;
            }
            if (!present) throw new Error(PCSC.removed);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          throw new CeremonyError(
            'CardError',
            `The card in reader "${this.reader}" stopped answering in the middle of an operation (was it pulled out?); insert it again and retry.`,
            { reader: this.reader },
          );
        }
        return new Uint8Array(r);
      } catch (e) {
        if (e instanceof CeremonyError) throw e;
        throw pcscError(e, this.reader, 'transmit');
      }
    };
    // APDUs of one connection go to the card one at a time, in order, even
    // if a caller forgets to await: a card processes one command at a time
    // and GET RESPONSE / chaining depend on the previous APDU.
    const p = this.pending.then(run, run);
    this.pending = p.catch(() => undefined);
    return p;
  }

  async disconnect(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.inFlight > 0) {
      // A caller gave up on an APDU the card has not answered (a deadline,
      // issue 9). SCardDisconnect now would block this thread on the
      // context's mutex until the card answers, so reset and release when
      // the stuck SCardTransmit returns; this connection is done either way.
      this.onReleased();
      releaseWhenReturned(this.pending, () => this.release());
      return;
    }
    await this.pending;
    this.release();
  }

  private release(): void {
    try {
      // SCARD_RESET_CARD (pcsc-lite SCardDisconnect: "reset the card", a
      // warm reset) rather than SCARD_LEAVE_CARD: the security status of a
      // card (PIN verified, management key authenticated) is volatile and
      // does not survive a reset (ISO/IEC 7816-4), so nothing this operation
      // unlocked outlives it for the next application that connects. With
      // SCARD_LEAVE_CARD the card stays powered and the PIV application
      // stays selected with the PIN verified (the integration test shows
      // the difference). SCARD_UNPOWER_CARD (a cold reset) would clear it
      // too, but a warm reset is enough and quicker. If the card was
      // already pulled there is nothing to reset and the error is expected.
      this.card.disconnect(this.sc.SCARD_RESET_CARD);
    } catch {
      // The handle is gone either way (the binding forgets it even when
      // SCardDisconnect fails), and releasing the context below makes
      // pcscd drop any handle the context still owns.
    } finally {
      this.ctx.close();
      this.onReleased();
    }
  }
}

interface Known {
  /** dwEventState from the last SCardGetStatusChange (fed back as dwCurrentState). */
  state: number;
  present: boolean;
}

/**
 * One watch() subscription: a loop of SCardGetStatusChange over every reader
 * plus the PnP pseudo-reader, on its own context, turning state changes into
 * ReaderEvents. The wait runs on a libuv thread-pool thread (an N-API
 * AsyncWorker); stop() ends it with SCardCancel, then releases the context.
 */
class ReaderWatcher {
  private stopped = false;
  private readonly known = new Map<string, Known>();
  private loop: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private wakeRetry: (() => void) | undefined;

  constructor(
    private readonly sc: PcscBinding,
    private ctx: Context | undefined,
    private readonly onEvent: (e: ReaderEvent) => void,
    private readonly newContext: () => Context,
  ) {}

  start(): void {
    // The subscription starts from the current state: no events for readers
    // and cards that are already there (listReaders() reports those).
    try {
      this.refreshReaders(false);
    } catch {
      // pcscd went away between establishing the context and listing; the loop retries.
    }
    this.loop = this.run();
  }

  stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      try {
        // SCardCancel makes the pending SCardGetStatusChange return
        // SCARD_E_CANCELLED at once (pcsc-lite API, SCardCancel).
        this.ctx?.cancel();
      } catch {
        // The context may already be invalid (pcscd gone); the wait then ends by itself.
      }
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.wakeRetry?.();
    }
    return this.loop;
  }

  private emit(e: ReaderEvent): void {
    // After stop() no callback runs, even for a wait that was already returning.
    if (!this.stopped) this.onEvent(e);
  }

  private isPresent(state: number): boolean {
    return (state & this.sc.SCARD_STATE_PRESENT) !== 0 && (state & this.sc.SCARD_STATE_UNKNOWN) === 0;
  }

  /** Re-lists readers on this watcher's context and reports readers that came or went. */
  private refreshReaders(report: boolean): void {
    const listed = this.ctx!.listReaders();
    const names = new Set(listed.map((r) => r.name));
    for (const [name, k] of this.known) {
      if (names.has(name)) continue;
      this.known.delete(name);
      if (report && k.present) this.emit({ kind: 'card-removed', reader: name });
      if (report) this.emit({ kind: 'reader-removed', reader: name });
    }
    for (const r of listed) {
      if (this.known.has(r.name)) continue;
      const present = this.isPresent(r.state);
      this.known.set(r.name, { state: r.state & ~this.sc.SCARD_STATE_CHANGED, present });
      if (report) {
        this.emit({ kind: 'reader-added', reader: r.name });
        if (present) this.emit({ kind: 'card-inserted', reader: r.name, atr: hex(r.atr) ?? '' });
      }
    }
  }

  /** pcscd is gone: every reader and card is gone with it, as far as anyone can tell. */
  private dropAll(): void {
    for (const [name, k] of this.known) {
      if (k.present) this.emit({ kind: 'card-removed', reader: name });
      this.emit({ kind: 'reader-removed', reader: name });
    }
    this.known.clear();
    try {
      this.ctx?.close();
    } catch {
      // already invalid
    }
    this.ctx = undefined;
  }

  private sleepForRetry(): Promise<void> {
    return new Promise((resolve) => {
      this.wakeRetry = resolve;
      this.retryTimer = setTimeout(resolve, WATCH_RETRY_MS);
    });
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopped) {
        if (!this.ctx) {
          // pcscd was not reachable: try again until it is, or until stop().
          try {
            this.ctx = this.newContext();
            this.refreshReaders(true);
          } catch {
            this.dropAll();
            await this.sleepForRetry();
            continue;
          }
        }
        const watched: Smartcard.ReaderState[] = [...this.known.entries()].map(([name, k]) => ({
          name,
          state: k.state,
          changed: false,
          atr: null,
        }));
        // The PnP pseudo-reader from "unaware" each time: it wakes the wait
        // when a reader is attached or detached during it. Changes between
        // two waits are caught by re-listing after every wake.
        watched.push({ name: PNP_READER, state: 0, changed: false, atr: null });
        let changes: Smartcard.ReaderState[] | null;
        try {
          changes = await this.ctx.waitForChange(watched, WATCH_WAIT_MS);
        } catch (e) {
          if (this.stopped) break;
          const raw = messageOf(e);
          if (raw === PCSC.unknownReader || raw === PCSC.readerUnavailable) {
            // A watched reader vanished before the wait started: re-list and wait again.
            try {
              this.refreshReaders(true);
              continue;
            } catch {
              /* fall through to the pcscd-gone path */
            }
          }
          this.dropAll();
          await this.sleepForRetry();
          continue;
        }
        if (this.stopped || changes === null) continue; // null: cancelled (our stop())
        for (const c of changes) {
          if (c.name === PNP_READER) continue;
          const k = this.known.get(c.name);
          if (!k || !(c.state & this.sc.SCARD_STATE_CHANGED)) continue;
          const present = this.isPresent(c.state);
          // pcsc-lite keeps a per-reader card event counter in the high 16
          // bits of dwEventState: a different counter with a card present on
          // both sides means the card was swapped between two waits.
          const swapped = present && k.present && c.state >>> 16 !== k.state >>> 16;
          if (k.present && (!present || swapped)) this.emit({ kind: 'card-removed', reader: c.name });
          if (present && (!k.present || swapped))
            this.emit({ kind: 'card-inserted', reader: c.name, atr: hex(c.atr) ?? '' });
          // Feed dwEventState back as dwCurrentState, as pcsc-lite's SCardGetStatusChange documentation asks.
          k.state = c.state & ~this.sc.SCARD_STATE_CHANGED;
          k.present = present;
        }
        // Readers attached or detached during or between waits.
        try {
          this.refreshReaders(true);
        } catch {
          this.dropAll();
        }
      }
    } finally {
      // The wait has returned (cancelled or not), so no thread is inside
      // SCardGetStatusChange on this context any more: releasing it is safe,
      // and nothing of this watcher keeps the process alive.
      if (this.retryTimer) clearTimeout(this.retryTimer);
      try {
        this.ctx?.close();
      } catch {
        // already invalid
      }
      this.ctx = undefined;
    }
  }
}

/**
 * The PC/SC transport the tool uses: readers listed and watched here, each
 * card connection in a helper process (pcsc-process.ts) that can be killed
 * when a card stops answering. `spawn` starts a helper (Node's fork by
 * default; the app passes Electron's utilityProcess).
 */
export async function createPcscTransport(spawn: SpawnPcscWorker = forkPcscWorker): Promise<CardTransport> {
  return new PcscProcessTransport(await createInProcessPcscTransport(), spawn);
}

/**
 * PC/SC in this process (the helper process runs this). Loads the native
 * binding on first call (a dynamic import), so nothing that never calls this
 * loads a native addon.
 */
export async function createInProcessPcscTransport(): Promise<PcscTransport> {
  let mod: typeof Smartcard & { default?: typeof Smartcard };
  try {
    mod = (await import('smartcard')) as typeof Smartcard & { default?: typeof Smartcard };
  } catch (e) {
    // The addon links against libpcsclite.so.1; without it the dlopen fails.
    if (/libpcsclite/.test(messageOf(e))) {
      throw new CeremonyError(
        'NoPcscd',
        'The smart-card library (pcsc-lite) is not installed; install the pcscd package.',
        {
          pcsc: messageOf(e),
        },
      );
    }
    throw e;
  }
  // `smartcard` is CommonJS: depending on the loader its exports arrive as
  // named exports or under `default`.
  const sc = mod.default ?? mod;
  return new PcscTransport(sc);
}

// The card transport the tool uses: PC/SC with every card connection in a
// helper process of its own (issue 9, "Never hang").
//
// Why a process. A card that never answers leaves SCardTransmit (or
// SCardConnect) blocked on a libuv thread-pool thread. The APDU layer stops
// waiting at its deadline and tells the person, but a Node process cannot end
// while that call is running: Node joins its thread pool on exit
// (process.exit() included), and pcsc-lite serialises every call of a context
// behind one mutex, so the handle cannot even be released. A CCID reader
// driver gives up on a mute card by itself; vsmartcard's vpcd, and a reader
// whose driver is stuck, wait forever. A helper process can be killed: when a
// caller gives up on an APDU the helper is ended with SIGKILL, its socket to
// pcscd closes, pcscd releases what it held for it (the card is reset when
// its reader returns), and nothing in this process waits for the card.
//
// Shape. listReaders() and watch() stay in this process (they never wait on a
// card: pcscd answers them from its reader state, and the watch's wait is
// bounded and cancellable). Each connect() takes an idle helper or starts
// one; the helper runs the in-process PcscTransport (pcsc.ts) for exactly
// one connection at a time and goes back to the idle set after a clean
// disconnect. A helper whose call was abandoned is never reused.
//
// What crosses the pipe: reader names, ATRs, APDUs and answers (a VERIFY
// carries a PIN, as it does on the socket to pcscd). Nothing is logged; the
// helper zeroes each command after sending it.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CEREMONY_ERROR_CODES, CeremonyError, type CeremonyErrorCode } from '../errors.js';
import type { CardConnection, CardTransport, ReaderEvent, ReaderState } from './transport.js';

/** A request to a helper. One connection per helper; `id` pairs the reply. */
export type PcscWorkerRequest =
  | { id: number; op: 'connect'; reader: string }
  | { id: number; op: 'transmit'; apdu: Uint8Array }
  | { id: number; op: 'disconnect' };

/** What crosses back for a failure: a CeremonyError's parts, or a bug's message. */
export type PcscWorkerFailure =
  | { kind: 'ceremony'; code: string; message: string; details: CeremonyError['details'] }
  | { kind: 'bug'; message: string };

/**
 * A helper's reply. `poisoned`: the helper holds a PC/SC call it abandoned
 * (its own connect deadline passed), so it must not be used again.
 */
export type PcscWorkerReply =
  | { id: number; ok: true; poisoned: boolean; reader?: string; atr?: Uint8Array; answer?: Uint8Array }
  | { id: number; ok: false; poisoned: boolean; failure: PcscWorkerFailure };

/** One helper process, whatever started it (Node's child_process, Electron's utilityProcess). */
export interface PcscWorkerHandle {
  post(request: PcscWorkerRequest): void;
  onMessage(listener: (reply: PcscWorkerReply) => void): void;
  /** Called once when the process ends, for whatever reason. */
  onExit(listener: (detail: string) => void): void;
  /** Ends the process at once (SIGKILL): nothing it was doing is waited for. */
  kill(): void;
  /** Whether the helper keeps this process alive (only while a request is pending). */
  setBusy(busy: boolean): void;
}

export type SpawnPcscWorker = () => PcscWorkerHandle;

/**
 * How long a helper may take to start and answer a connect. The helper keeps
 * the connect deadline itself (CONNECT_DEADLINE_MS in pcsc.ts, 5 s) and says
 * so in its answer; this only covers a helper that never starts or answers.
 */
const HELPER_CONNECT_DEADLINE_MS = 15_000;

/** How long a clean disconnect may take before the helper is killed instead. */
const DISCONNECT_DEADLINE_MS = 5_000;

/** At most this many idle helpers are kept for the next connect. */
const MAX_IDLE = 2;

function rebuild(f: PcscWorkerFailure): Error {
  if (f.kind === 'bug' || !(CEREMONY_ERROR_CODES as readonly string[]).includes(f.code)) return new Error(f.message);
  return new CeremonyError(f.code as CeremonyErrorCode, f.message, f.details);
}

class Worker {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: PcscWorkerReply) => void; reject: (e: Error) => void }>();
  exited = false;
  /** Abandoned by its caller or by its own deadline: killed, never reused. */
  poisoned = false;

  constructor(private readonly handle: PcscWorkerHandle) {
    handle.setBusy(false);
    handle.onMessage((reply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.poisoned) this.poisoned = true;
      if (this.pending.size === 0) handle.setBusy(false);
      p.resolve(reply);
    });
    handle.onExit((detail) => {
      this.exited = true;
      const error = new CeremonyError(
        'CardError',
        `The smart-card helper process stopped (${detail}) in the middle of the operation; take the card out, insert it again and repeat the operation.`,
      );
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    });
  }

  /** Sends a request; rejects when the helper dies first or `deadlineMs` passes (then the helper is killed). */
  request(
    make: (id: number) => PcscWorkerRequest,
    deadlineMs: number | undefined,
    onDeadline: () => Error,
  ): Promise<PcscWorkerReply> {
    if (this.exited) return Promise.reject(new Error('request to a smart-card helper that has exited'));
    const id = this.nextId++;
    return new Promise<PcscWorkerReply>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = <T>(f: (v: T) => void) => {
        return (v: T): void => {
          if (timer) clearTimeout(timer);
          f(v);
        };
      };
      this.pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      if (deadlineMs !== undefined) {
        timer = setTimeout(() => {
          this.pending.delete(id);
          this.kill();
          reject(onDeadline());
        }, deadlineMs);
      }
      this.handle.setBusy(true);
      this.handle.post(make(id));
    });
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  kill(): void {
    this.poisoned = true;
    if (this.exited) return;
    this.handle.setBusy(false);
    this.handle.kill();
  }
}

/** PC/SC with card connections in helper processes (see the top of this file). */
export class PcscProcessTransport implements CardTransport {
  private closed = false;
  private readonly idle: Worker[] = [];
  private readonly connections = new Set<WorkerConnection>();

  constructor(
    private readonly local: CardTransport,
    private readonly spawn: SpawnPcscWorker,
  ) {}

  listReaders(): Promise<ReaderState[]> {
    return this.local.listReaders();
  }

  watch(onEvent: (e: ReaderEvent) => void): () => void {
    return this.local.watch(onEvent);
  }

  private takeWorker(): Worker {
    for (;;) {
      const w = this.idle.pop();
      if (!w) return new Worker(this.spawn());
      if (!w.exited && !w.poisoned) return w;
    }
  }

  private giveBack(w: Worker): void {
    if (this.closed || w.exited || w.poisoned || this.idle.length >= MAX_IDLE) w.kill();
    else this.idle.push(w);
  }

  async connect(reader: string): Promise<CardConnection> {
    // Using a closed transport is a bug in the caller, not something a person can act on.
    if (this.closed) throw new Error('PcscProcessTransport used after close()');
    const w = this.takeWorker();
    let reply: PcscWorkerReply;
    try {
      reply = await w.request(
        (id) => ({ id, op: 'connect', reader }),
        HELPER_CONNECT_DEADLINE_MS,
        () =>
          new CeremonyError(
            'CardTimeout',
            `The card in reader "${reader}" did not answer within ${HELPER_CONNECT_DEADLINE_MS / 1000} seconds when connecting; take it out, insert it again and repeat the operation.`,
            { reader, operation: 'connect', deadlineMs: HELPER_CONNECT_DEADLINE_MS },
          ),
      );
    } catch (e) {
      w.kill();
      throw e;
    }
    if (!reply.ok) {
      this.giveBack(w);
      throw rebuild(reply.failure);
    }
    const conn = new WorkerConnection(w, reply.reader ?? reader, reply.atr ?? new Uint8Array(0), (clean) => {
      this.connections.delete(conn);
      if (clean) this.giveBack(w);
      else w.kill();
    });
    this.connections.add(conn);
    return conn;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.connections]) await c.disconnect();
    for (const w of this.idle.splice(0)) w.kill();
    await this.local.close();
  }
}

class WorkerConnection implements CardConnection {
  private done = false;

  constructor(
    private readonly worker: Worker,
    readonly reader: string,
    readonly atr: Uint8Array,
    private readonly onReleased: (clean: boolean) => void,
  ) {}

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    // A transmit after disconnect is a bug in the caller.
    if (this.done) throw new Error(`transmit on a disconnected card connection (${this.reader})`);
    // No deadline here: the APDU layer (apdu.ts) keeps the per-command
    // deadline and calls disconnect() when it passes, which kills the helper.
    const reply = await this.worker.request(
      (id) => ({ id, op: 'transmit', apdu }),
      undefined,
      () => new Error(),
    );
    if (!reply.ok) throw rebuild(reply.failure);
    return reply.answer ?? new Uint8Array(0);
  }

  async disconnect(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.worker.busy || this.worker.exited) {
      // A caller gave up on an APDU the card has not answered: the helper
      // is stuck in SCardTransmit. Killing it closes its pcscd socket, and
      // pcscd releases the card for it; nothing here waits for the card.
      this.worker.kill();
      this.onReleased(false);
      return;
    }
    let clean = false;
    try {
      const reply = await this.worker.request(
        (id) => ({ id, op: 'disconnect' }),
        DISCONNECT_DEADLINE_MS,
        () => new Error('disconnect deadline'),
      );
      clean = reply.ok;
    } catch {
      // The helper died or did not release the card in time; it is killed either way.
    } finally {
      this.onReleased(clean);
    }
  }
}

/**
 * Starts helpers with Node's child_process.fork (the CLI and the tests; the
 * app uses Electron's utilityProcess, src/main). The helper is this module's
 * sibling pcsc-worker, built (.js) or, when this module runs from source
 * (.ts, under vitest or tsx), its source with tsx's loader.
 */
export function forkPcscWorker(): PcscWorkerHandle {
  const here = fileURLToPath(import.meta.url);
  const ext = extname(here);
  const script = join(dirname(here), `pcsc-worker${ext}`);
  const execArgv = ext === '.ts' ? ['--import', pathToFileURL(createRequire(here).resolve('tsx')).href] : [];
  const child = fork(script, [], {
    // Uint8Arrays cross as bytes (structured clone), not as JSON objects.
    serialization: 'advanced',
    execArgv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let exited = false;
  return {
    post: (request) => {
      // A send that fails means the helper is gone; its exit rejects what was pending.
      if (!exited && child.connected) child.send(request, (e) => void e);
    },
    onMessage: (listener) => child.on('message', (m) => listener(m as PcscWorkerReply)),
    onExit: (listener) => {
      const report = (detail: string): void => {
        if (exited) return;
        exited = true;
        listener(detail);
      };
      child.on('exit', (code, signal) => report(signal ? `signal ${signal}` : `exit code ${code}`));
      child.on('error', (e) => report(e.message));
    },
    kill: () => {
      if (!exited) child.kill('SIGKILL');
    },
    setBusy: (busy) => {
      // An idle helper must not keep the CLI running after its work is done.
      if (busy) {
        child.ref();
        child.channel?.ref();
      } else {
        child.unref();
        child.channel?.unref();
      }
    },
  };
}

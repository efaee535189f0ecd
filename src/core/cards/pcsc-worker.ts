// The smart-card helper process (pcsc-process.ts): holds at most one PC/SC
// card connection for its parent and does what the parent asks, one request
// at a time. Started by Node's child_process.fork (the CLI, tests) or by
// Electron's utilityProcess.fork (the app); it talks to whichever it finds.
// It ends when its parent goes away; the parent kills it (SIGKILL) when it
// gives up on the card.
import { CeremonyError } from '../errors.js';
import { zeroize } from '../secrets.js';
import type { PcscWorkerFailure, PcscWorkerReply, PcscWorkerRequest } from './pcsc-process.js';
import { abandonedPcscCalls, createInProcessPcscTransport, type PcscTransport } from './pcsc.js';
import type { CardConnection } from './transport.js';

interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

/** Electron's utility process exposes process.parentPort; Node's fork, process.send. */
function channel(): { post: (m: PcscWorkerReply) => void; listen: (f: (m: unknown) => void) => void } {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort)
    return { post: (m) => parentPort.postMessage(m), listen: (f) => parentPort.on('message', (e) => f(e.data)) };
  const send = process.send?.bind(process);
  if (!send) throw new Error('pcsc-worker must be started as a helper process (no IPC channel)');
  // The parent ended (or closed the channel): nothing is left to serve.
  process.on('disconnect', () => process.exit(0));
  return { post: (m) => void send(m), listen: (f) => process.on('message', f) };
}

function failure(e: unknown): PcscWorkerFailure {
  if (e instanceof CeremonyError)
    return { kind: 'ceremony', code: e.code, message: e.message, details: { ...e.details } };
  return { kind: 'bug', message: e instanceof Error ? e.message : String(e) };
}

function isRequest(m: unknown): m is PcscWorkerRequest {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  if (typeof r.id !== 'number') return false;
  switch (r.op) {
    case 'connect':
      return typeof r.reader === 'string';
    case 'transmit':
      return r.apdu instanceof Uint8Array;
    case 'disconnect':
      return true;
    default:
      return false;
  }
}

function main(): void {
  const { post, listen } = channel();
  let transport: PcscTransport | undefined;
  let connection: CardConnection | undefined;
  let queue: Promise<void> = Promise.resolve();

  type Success = { reader?: string; atr?: Uint8Array; answer?: Uint8Array };
  const handle = async (r: PcscWorkerRequest): Promise<Success> => {
    switch (r.op) {
      case 'connect': {
        if (connection) throw new Error('connect while a card connection is open');
        transport ??= await createInProcessPcscTransport();
        connection = await transport.connect(r.reader);
        return { reader: connection.reader, atr: connection.atr };
      }
      case 'transmit': {
        if (!connection) throw new Error('transmit without a card connection');
        try {
          return { answer: await connection.transmit(r.apdu) };
        } finally {
          zeroize(r.apdu);
        }
      }
      case 'disconnect': {
        const c = connection;
        connection = undefined;
        await c?.disconnect();
        return {};
      }
    }
  };

  listen((m) => {
    if (!isRequest(m)) return; // only the parent writes to this channel; anything else is ignored
    queue = queue.then(async () => {
      let reply: PcscWorkerReply;
      try {
        reply = { ...(await handle(m)), id: m.id, ok: true, poisoned: abandonedPcscCalls() > 0 };
      } catch (e) {
        reply = { id: m.id, ok: false, poisoned: abandonedPcscCalls() > 0, failure: failure(e) };
      }
      post(reply);
    });
  });
}

main();

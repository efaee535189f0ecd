/**
 * The helper-process transport (src/core/cards/pcsc-process.ts) with fake
 * helpers: which helper a connection gets, what happens when a caller gives
 * up on an APDU, when a helper dies, and what crosses back as an error. The
 * real helper over pcscd + vpcd is in test/integration/pcsc-transport.test.ts
 * and test/integration/hostile-card.test.ts (a silent card).
 */
import { describe, expect, it } from 'vitest';
import { CeremonyError, isCeremonyError } from '../../../src/core/errors.js';
import {
  PcscProcessTransport,
  type PcscWorkerHandle,
  type PcscWorkerReply,
  type PcscWorkerRequest,
} from '../../../src/core/cards/pcsc-process.js';
import type { CardTransport } from '../../../src/core/cards/transport.js';

/** A fake helper: answers connect at once, transmit by `answer` (undefined: never), disconnect at once. */
class FakeHelper implements PcscWorkerHandle {
  killed = false;
  busy = false;
  readonly requests: PcscWorkerRequest[] = [];
  private listener: ((r: PcscWorkerReply) => void) | undefined;
  private exitListener: ((detail: string) => void) | undefined;

  constructor(private readonly answer: (apdu: Uint8Array) => PcscWorkerReply['ok'] | undefined | 'die' = () => true) {}

  post(r: PcscWorkerRequest): void {
    this.requests.push(r);
    const reply = (m: PcscWorkerReply): void => void queueMicrotask(() => this.listener?.(m));
    if (r.op === 'connect')
      reply({ id: r.id, ok: true, poisoned: false, reader: `Reader ${r.reader}`, atr: Uint8Array.of(0x3b) });
    else if (r.op === 'disconnect') reply({ id: r.id, ok: true, poisoned: false });
    else {
      const a = this.answer(r.apdu);
      if (a === 'die') queueMicrotask(() => this.exitListener?.('signal SIGSEGV'));
      else if (a === true) reply({ id: r.id, ok: true, poisoned: false, answer: Uint8Array.of(0x90, 0x00) });
      else if (a === false)
        reply({
          id: r.id,
          ok: false,
          poisoned: false,
          failure: {
            kind: 'ceremony',
            code: 'CardRemoved',
            message: 'The card was removed.',
            details: { reader: 'R' },
          },
        });
    }
  }
  onMessage(l: (r: PcscWorkerReply) => void): void {
    this.listener = l;
  }
  onExit(l: (detail: string) => void): void {
    this.exitListener = l;
  }
  kill(): void {
    this.killed = true;
    queueMicrotask(() => this.exitListener?.('signal SIGKILL'));
  }
  setBusy(busy: boolean): void {
    this.busy = busy;
  }
}

const local: CardTransport = {
  listReaders: async () => [],
  watch: () => () => undefined,
  connect: () => Promise.reject(new Error('not here')),
  close: async () => undefined,
};

function setup(make: () => FakeHelper = () => new FakeHelper()) {
  const helpers: FakeHelper[] = [];
  const t = new PcscProcessTransport(local, () => {
    const h = make();
    helpers.push(h);
    return h;
  });
  return { t, helpers };
}

describe('PcscProcessTransport', () => {
  it('runs a connection in a helper and reuses the helper after a clean disconnect', async () => {
    const { t, helpers } = setup();
    const c = await t.connect('A');
    expect(c.reader).toBe('Reader A');
    expect([...(await c.transmit(Uint8Array.of(0, 0xa4, 4, 0)))]).toEqual([0x90, 0x00]);
    expect(helpers[0]!.busy).toBe(false); // an idle helper does not keep the process alive
    await c.disconnect();
    const again = await t.connect('A');
    await again.disconnect();
    expect(helpers).toHaveLength(1);
    expect(helpers[0]!.killed).toBe(false);
    await t.close();
    expect(helpers[0]!.killed).toBe(true);
  });

  it('kills the helper at once when a caller gives up on an unanswered APDU, and never reuses it', async () => {
    const { t, helpers } = setup(() => new FakeHelper(() => undefined)); // the card never answers
    const c = await t.connect('A');
    const stuck = c.transmit(Uint8Array.of(0, 0xcb, 0x3f, 0xff));
    expect(helpers[0]!.busy).toBe(true);
    await c.disconnect(); // what the APDU layer does at its deadline
    expect(helpers[0]!.killed).toBe(true);
    const e = await stuck.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isCeremonyError(e, 'CardError')).toBe(true);
    const next = await t.connect('A');
    expect(helpers).toHaveLength(2);
    await next.disconnect();
    await t.close();
  });

  it('two connections at once run in two helpers', async () => {
    const { t, helpers } = setup();
    const a = await t.connect('A');
    const b = await t.connect('B');
    expect(helpers).toHaveLength(2);
    await a.disconnect();
    await b.disconnect();
    await t.close();
  });

  it('a helper that dies mid-APDU is a CardError that says what to do, and the next connect starts a new helper', async () => {
    const { t, helpers } = setup(() => new FakeHelper(() => 'die'));
    const c = await t.connect('A');
    const e = await c.transmit(Uint8Array.of(0, 0xf8, 0, 0)).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(CeremonyError);
    expect((e as CeremonyError).message).toMatch(/helper process stopped \(signal SIGSEGV\).*insert it again/);
    await c.disconnect();
    await (await t.connect('A')).disconnect();
    expect(helpers).toHaveLength(2);
    await t.close();
  });

  it("rebuilds the helper's CeremonyError with its code, message and details", async () => {
    const { t } = setup(() => new FakeHelper(() => false));
    const c = await t.connect('A');
    const e = await c.transmit(Uint8Array.of(0, 0xf8, 0, 0)).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isCeremonyError(e, 'CardRemoved')).toBe(true);
    expect((e as CeremonyError).details).toEqual({ reader: 'R' });
    await c.disconnect();
    await t.close();
  });
});

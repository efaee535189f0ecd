import { describe, expect, it } from 'vitest';
import { isCeremonyError } from '../../../src/core/errors.js';
import {
  matchReader,
  ReaderAmbiguous,
  ReaderNotFound,
  type ReaderEvent,
  type ReaderState,
} from '../../../src/core/cards/transport.js';
import { PcscTransport, type PcscBinding } from '../../../src/core/cards/pcsc.js';

const readers: ReaderState[] = [
  { name: 'Yubico YubiKey OTP+FIDO+CCID 00 00', present: true, atr: '3bfd1300008131fe158073c021c057597562694b657940' },
  { name: 'Virtual PCD 00 00', present: false },
  { name: 'Virtual PCD 00 01', present: true, atr: '3b00' },
];

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('matchReader', () => {
  it('finds the one reader whose name contains the pattern', () => {
    expect(matchReader(readers, 'YubiKey').name).toBe('Yubico YubiKey OTP+FIDO+CCID 00 00');
    expect(matchReader(readers, 'PCD 00 01')).toEqual(readers[2]);
  });

  it('accepts the full name', () => {
    expect(matchReader(readers, 'Virtual PCD 00 00')).toEqual(readers[1]);
  });

  it('is case-sensitive, like the names pcsc-lite reports', () => {
    expect(() => matchReader(readers, 'yubikey')).toThrow(ReaderNotFound);
  });

  it('names the readers that exist when nothing matches', () => {
    const e = thrown(() => matchReader(readers, 'Nitrokey'));
    expect(e).toBeInstanceOf(ReaderNotFound);
    expect(isCeremonyError(e, 'InvalidArgument')).toBe(true);
    expect((e as Error).message).toBe(
      'No card reader matches "Nitrokey" (readers: "Yubico YubiKey OTP+FIDO+CCID 00 00", "Virtual PCD 00 00", "Virtual PCD 00 01").',
    );
    expect((e as ReaderNotFound).details).toEqual({ pattern: 'Nitrokey' });
  });

  it('says "none" when there are no readers at all', () => {
    const e = thrown(() => matchReader([], 'YubiKey'));
    expect(e).toBeInstanceOf(ReaderNotFound);
    expect((e as Error).message).toBe('No card reader matches "YubiKey" (readers: none).');
  });

  it('refuses a pattern that matches several readers and lists them', () => {
    const e = thrown(() => matchReader(readers, 'Virtual PCD'));
    expect(e).toBeInstanceOf(ReaderAmbiguous);
    expect(isCeremonyError(e, 'InvalidArgument')).toBe(true);
    expect((e as Error).message).toBe(
      '"Virtual PCD" matches 2 readers (Virtual PCD 00 00, Virtual PCD 00 01); be more specific.',
    );
  });

  it('treats the empty pattern as matching every reader (so it is ambiguous unless there is one)', () => {
    expect(() => matchReader(readers, '')).toThrow(ReaderAmbiguous);
    expect(matchReader([readers[0]!], '')).toEqual(readers[0]);
  });
});

// ---------------------------------------------------------------------------
// PcscTransport.watch() against a scripted PC/SC binding. The integration
// test (test/integration/pcsc-transport.test.ts) covers cards coming and
// going with the real pcscd; vpcd's readers are fixed in its configuration,
// so reader hot-plug and pcscd going away are exercised here. The fake
// follows pcsc-lite's SCardGetStatusChange (winscard_clnt.c): a reader that
// vanished reports UNKNOWN|UNAVAILABLE|CHANGED, the PnP pseudo-reader reports
// CHANGED when the reader count differs from the count at call time, and
// SCardCancel makes the wait return SCARD_E_CANCELLED (null in the binding).
// Importing pcsc.ts loads no native addon: it only imports the binding's types.

const S = { CHANGED: 0x2, UNKNOWN: 0x4, UNAVAILABLE: 0x8, EMPTY: 0x10, PRESENT: 0x20, MUTE: 0x200 };
const PNP = '\\\\?PnP?\\Notification';

interface FakeReader {
  state: number;
  atr: Buffer | null;
}

class FakePcsc {
  readers = new Map<string, FakeReader>();
  down = false;
  openContexts = 0;
  private wake = new Set<() => void>();

  change(f: () => void): void {
    f();
    for (const w of [...this.wake]) w();
  }

  insert(name: string, atrHex: string): void {
    this.change(() => this.readers.set(name, { state: S.PRESENT + 0x10000 * 1, atr: Buffer.from(atrHex, 'hex') }));
  }

  binding(): PcscBinding {
    // The fake binding's classes close over the world they simulate.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const world = this;
    class Context {
      private valid = true;
      private cancelWait: (() => void) | undefined;
      constructor() {
        if (world.down) throw new Error('PC/SC service not running');
        world.openContexts++;
      }
      listReaders(): Array<{ name: string; state: number; atr: Buffer | null }> {
        if (world.down) throw new Error('PC/SC service not running');
        return [...world.readers].map(([name, r]) => ({ name, state: r.state | S.CHANGED, atr: r.atr }));
      }
      waitForChange(states: Array<{ name: string; state: number }>, timeout: number): Promise<unknown> {
        const count = world.readers.size;
        const evaluate = ():
          Array<{ name: string; state: number; changed: boolean; atr: Buffer | null }> | undefined => {
          if (world.down) throw new Error('PC/SC service not running');
          let any = false;
          const out = states.map(({ name, state }) => {
            if (name === PNP) {
              const changed = world.readers.size !== count;
              any ||= changed;
              return { name, state: changed ? S.CHANGED : 0, changed, atr: null };
            }
            const r = world.readers.get(name);
            const now = r ? r.state : S.UNKNOWN | S.UNAVAILABLE;
            const changed = now !== (state & ~S.CHANGED);
            any ||= changed;
            return { name, state: changed ? now | S.CHANGED : now, changed, atr: r?.atr ?? null };
          });
          return any ? out : undefined;
        };
        return new Promise((resolve, reject) => {
          const finish = (v: unknown, err?: unknown): void => {
            world.wake.delete(check);
            clearTimeout(timer);
            this.cancelWait = undefined;
            if (err) reject(err);
            else resolve(v);
          };
          const check = (): void => {
            try {
              const r = evaluate();
              if (r) finish(r);
            } catch (e) {
              finish(undefined, e);
            }
          };
          const timer = setTimeout(() => finish([]), timeout);
          this.cancelWait = () => finish(null);
          world.wake.add(check);
          check();
        });
      }
      cancel(): void {
        this.cancelWait?.();
      }
      close(): void {
        if (this.valid) world.openContexts--;
        this.valid = false;
      }
    }
    return {
      Context,
      SCARD_SHARE_EXCLUSIVE: 1,
      SCARD_PROTOCOL_T0: 1,
      SCARD_PROTOCOL_T1: 2,
      SCARD_RESET_CARD: 1,
      SCARD_STATE_PRESENT: S.PRESENT,
      SCARD_STATE_MUTE: S.MUTE,
      SCARD_STATE_CHANGED: S.CHANGED,
      SCARD_STATE_UNKNOWN: S.UNKNOWN,
    } as unknown as PcscBinding;
  }
}

async function until(what: string, f: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('PcscTransport.watch (scripted PC/SC binding)', () => {
  it('reports readers plugged and unplugged, with the card in them', async () => {
    const world = new FakePcsc();
    world.readers.set('Reader A', { state: S.EMPTY, atr: null });
    const t = new PcscTransport(world.binding());
    const events: ReaderEvent[] = [];
    const stop = t.watch((e) => events.push(e));
    world.insert('Reader B', '3b00');
    await until('reader B', () => events.length === 2);
    expect(events).toEqual([
      { kind: 'reader-added', reader: 'Reader B' },
      { kind: 'card-inserted', reader: 'Reader B', atr: '3b00' },
    ]);
    world.change(() => world.readers.delete('Reader B'));
    await until('reader B gone', () => events.length === 4);
    expect(events.slice(2)).toEqual([
      { kind: 'card-removed', reader: 'Reader B' },
      { kind: 'reader-removed', reader: 'Reader B' },
    ]);
    stop();
    await t.close();
    expect(world.openContexts).toBe(0);
  });

  it('reports a card swapped between two waits (pcsc-lite event counter) as removed then inserted', async () => {
    const world = new FakePcsc();
    world.readers.set('Reader A', { state: S.PRESENT + 0x10000, atr: Buffer.from('3b01', 'hex') });
    const t = new PcscTransport(world.binding());
    const events: ReaderEvent[] = [];
    t.watch((e) => events.push(e));
    world.change(() => world.readers.set('Reader A', { state: S.PRESENT + 0x20000, atr: Buffer.from('3b02', 'hex') }));
    await until('swap', () => events.length === 2);
    expect(events).toEqual([
      { kind: 'card-removed', reader: 'Reader A' },
      { kind: 'card-inserted', reader: 'Reader A', atr: '3b02' },
    ]);
    await t.close();
    expect(world.openContexts).toBe(0);
  });

  it('treats pcscd going away as every reader removed, and picks the readers up again when it is back', async () => {
    const world = new FakePcsc();
    world.readers.set('Reader A', { state: S.PRESENT + 0x10000, atr: Buffer.from('3b01', 'hex') });
    const t = new PcscTransport(world.binding());
    const events: ReaderEvent[] = [];
    const stop = t.watch((e) => events.push(e));
    world.change(() => (world.down = true));
    await until('pcscd gone', () => events.length === 2);
    expect(events).toEqual([
      { kind: 'card-removed', reader: 'Reader A' },
      { kind: 'reader-removed', reader: 'Reader A' },
    ]);
    expect(world.openContexts).toBe(0);
    world.down = false; // the watcher retries about once a second
    await until('pcscd back', () => events.length === 4);
    expect(events.slice(2)).toEqual([
      { kind: 'reader-added', reader: 'Reader A' },
      { kind: 'card-inserted', reader: 'Reader A', atr: '3b01' },
    ]);
    stop();
    world.insert('Reader B', '3b00'); // after unsubscribe: no callback
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toHaveLength(4);
    await t.close();
    expect(world.openContexts).toBe(0);
  });

  it('throws NoPcscd from watch() itself when pcscd is not running', () => {
    const world = new FakePcsc();
    world.down = true;
    const t = new PcscTransport(world.binding());
    expect(() => t.watch(() => undefined)).toThrow(
      expect.objectContaining({
        code: 'NoPcscd',
        message: 'The smart-card service (pcscd) is not running; start it with `systemctl start pcscd`.',
      }),
    );
  });
});

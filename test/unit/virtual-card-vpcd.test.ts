/**
 * The vpcd client against a fake vpcd (a TCP server speaking vsmartcard's
 * framing: 2-byte big-endian length + payload; 1-byte control codes 0 off,
 * 1 on, 2 reset, 4 ATR; longer payloads are APDUs).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { VirtualPivCard, YUBIKEY5_ATR } from '../../src/virtual-card/card.js';
import { VpcdClient } from '../../src/virtual-card/vpcd.js';

class FakeVpcd {
  private pending: Array<(b: Buffer) => void> = [];
  private buffer = Buffer.alloc(0);
  socket: Socket | undefined;
  connections = 0;
  constructor(readonly server: Server) {}

  static async listen(port = 0): Promise<FakeVpcd> {
    const server = createServer();
    const fake = new FakeVpcd(server);
    server.on('connection', (s) => {
      fake.connections++;
      fake.socket = s;
      fake.buffer = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        fake.buffer = Buffer.concat([fake.buffer, d]);
        while (fake.buffer.length >= 2 && fake.buffer.length >= 2 + fake.buffer.readUInt16BE(0)) {
          const len = fake.buffer.readUInt16BE(0);
          const msg = fake.buffer.subarray(2, 2 + len);
          fake.buffer = fake.buffer.subarray(2 + len);
          fake.pending.shift()?.(Buffer.from(msg));
        }
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    return fake;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  send(payload: Uint8Array): void {
    const frame = Buffer.alloc(2 + payload.length);
    frame.writeUInt16BE(payload.length, 0);
    frame.set(payload, 2);
    this.socket!.write(frame);
  }

  request(payload: Uint8Array): Promise<Buffer> {
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.send(payload);
    });
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let client: VpcdClient | undefined;
let fake: FakeVpcd | undefined;

afterEach(async () => {
  await client?.stop();
  await fake?.close();
  client = undefined;
  fake = undefined;
});

describe('vpcd client', () => {
  it('answers ATR requests, power control and APDUs with vpcd framing', async () => {
    fake = await FakeVpcd.listen();
    const card = new VirtualPivCard();
    let connected = 0;
    client = new VpcdClient({ card, port: fake.port, onConnected: () => connected++ });
    client.start();
    await until(() => connected === 1 && fake!.socket !== undefined);

    fake.send(Uint8Array.of(1)); // power on
    expect([...(await fake.request(Uint8Array.of(4)))]).toEqual([...YUBIKEY5_ATR]);
    const sel = await fake.request(Buffer.from('00a4040005a000000308', 'hex'));
    expect(sel.subarray(-2).toString('hex')).toBe('9000');
    expect((await fake.request(Buffer.from('00fd000000', 'hex'))).toString('hex')).toBe('0504039000');
    fake.send(Uint8Array.of(0)); // power off: the applet is deselected
    fake.send(Uint8Array.of(1));
    expect((await fake.request(Buffer.from('00fd000000', 'hex'))).toString('hex')).toBe('6d00');
    fake.send(Uint8Array.of(2)); // reset
    expect(card.isPowered).toBe(true);
  });

  it('keeps retrying until vpcd is up, and reconnects after vpcd goes away', async () => {
    // Find a free port, then start the client before anything listens there.
    const probe = await FakeVpcd.listen();
    const port = probe.port;
    await probe.close();
    const card = new VirtualPivCard();
    let connected = 0;
    let disconnected = 0;
    client = new VpcdClient({
      card,
      port,
      minBackoffMs: 20,
      maxBackoffMs: 100,
      onConnected: () => connected++,
      onDisconnected: () => disconnected++,
    });
    client.start();
    await new Promise((r) => setTimeout(r, 150));
    expect(connected).toBe(0);

    fake = await FakeVpcd.listen(port);
    await until(() => connected === 1);
    fake.send(Uint8Array.of(1));
    await until(() => card.isPowered);

    fake.socket!.destroy(); // vpcd drops the connection: the card is removed (powered off) and retries
    await until(() => disconnected === 1);
    expect(card.isPowered).toBe(false);
    await until(() => connected === 2);
  });
});

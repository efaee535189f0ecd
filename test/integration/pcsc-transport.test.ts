/**
 * The PC/SC transport (src/core/cards/pcsc.ts) against the real stack:
 * pcscd + vsmartcard's vpcd reader driver + the project's virtual PIV card
 * (test/support/pcsc-stack.ts starts what is not running and stops only what
 * it started). One virtual card sits in "Virtual PCD 00 00"; "Virtual PCD
 * 00 01" stays empty.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CeremonyError, isCeremonyError } from '../../src/core/errors.js';
import { createPcscTransport } from '../../src/core/cards/pcsc.js';
import type { CardTransport } from '../../src/core/cards/transport.js';
import type { ReaderEvent } from '../../src/core/cards/transport.js';
import {
  pcscStackUnavailableReason,
  REPO_ROOT,
  startPcscStack,
  VPCD_BASE_PORT,
  vpcdReaderName,
  type PcscStack,
  type VirtualCardProcess,
} from '../support/pcsc-stack.js';

const READER_A = vpcdReaderName(VPCD_BASE_PORT); // "Virtual PCD 00 00", holds the card
const READER_B = vpcdReaderName(VPCD_BASE_PORT + 1); // "Virtual PCD 00 01", empty
// The virtual card's ATR (a YubiKey 5 look-alike; src/virtual-card).
const ATR = '3bfd1300008131fe158073c021c057597562694b657940';
// SELECT the PIV application by its AID (SP 800-73-4 Part 2 §3.1.1).
const SELECT_PIV = Uint8Array.from([0x00, 0xa4, 0x04, 0x00, 0x05, 0xa0, 0x00, 0x00, 0x03, 0x08]);
// VERIFY with the default PIN 123456 padded with FF (SP 800-73-4 Part 2 §3.2.1) and the status query (no data).
const VERIFY_PIN = Uint8Array.from([0x00, 0x20, 0x00, 0x80, 0x08, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0xff, 0xff]);
const VERIFY_STATUS = Uint8Array.from([0x00, 0x20, 0x00, 0x80]);
const PCSC_MODULE = pathToFileURL(join(REPO_ROOT, 'src', 'core', 'cards', 'pcsc.ts')).href;

const sw = (r: Uint8Array): number => (r[r.length - 2]! << 8) | r[r.length - 1]!;

async function waitFor(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function rejection(p: Promise<unknown>): Promise<CeremonyError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CeremonyError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

interface ScriptRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the script printing DONE to the process exiting. */
  exitAfterDoneMs: number | undefined;
}

/**
 * Runs a TypeScript snippet in a fresh Node process (tsx), with `pcsc` bound
 * to the transport module. The child is killed if it has not exited after
 * `timeoutMs`; the caller checks how long it lingered after printing DONE.
 */
function runScript(
  dir: string,
  name: string,
  body: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 30_000,
): Promise<ScriptRun> {
  // .mts: an ES module wherever the temporary directory is (top-level await).
  const file = join(dir, `${name}.mts`);
  writeFileSync(file, `import * as pcsc from ${JSON.stringify(PCSC_MODULE)};\n${body}\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let doneAt: number | undefined;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (doneAt === undefined && /^DONE$/m.test(stdout)) doneAt = Date.now();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      if (doneAt !== undefined) console.info(`${name}: exited ${Date.now() - doneAt} ms after DONE`);
      clearTimeout(killer);
      resolve({
        code,
        signal,
        stdout,
        stderr,
        exitAfterDoneMs: doneAt === undefined ? undefined : Date.now() - doneAt,
      });
    });
  });
}

const unavailable = pcscStackUnavailableReason();
if (unavailable) console.warn(`Skipping the PC/SC transport tests: ${unavailable}.`);

describe.skipIf(!!unavailable)('PcscTransport through pcscd + vpcd', () => {
  let dir: string;
  let stateFile: string;
  let stack: PcscStack;
  let card: VirtualCardProcess;
  let t: CardTransport;

  /** Pulls the card out the hard way: the card process dies and its vpcd connection drops. */
  async function killCard(): Promise<void> {
    card.process.kill('SIGKILL');
    await waitFor(
      `${READER_A} to report no card`,
      async () => !(await t.listReaders()).find((r) => r.name === READER_A)?.present,
    );
  }

  async function insertCard(): Promise<void> {
    card = await stack.insertCard(stateFile, VPCD_BASE_PORT);
    await waitFor(
      `${READER_A} to report a card`,
      async () => (await t.listReaders()).find((r) => r.name === READER_A)?.present === true,
    );
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pcsc-transport-'));
    stateFile = join(dir, 'card-a.json');
    stack = await startPcscStack([{ stateFile, port: VPCD_BASE_PORT }]);
    card = stack.cards[0]!;
    t = await createPcscTransport();
  });

  afterAll(async () => {
    await t?.close();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the two vpcd readers, with the card and its ATR in the first', async () => {
    const readers = await t.listReaders();
    expect(readers.map((r) => r.name)).toEqual(expect.arrayContaining([READER_A, READER_B]));
    expect(readers.find((r) => r.name === READER_A)).toEqual({ name: READER_A, present: true, atr: ATR });
    expect(readers.find((r) => r.name === READER_B)).toEqual({ name: READER_B, present: false });
  });

  it('connects by a substring of the reader name and SELECTs the PIV application', async () => {
    const conn = await t.connect('PCD 00 00');
    try {
      expect(conn.reader).toBe(READER_A);
      expect(Buffer.from(conn.atr).toString('hex')).toBe(ATR);
      const r = await conn.transmit(SELECT_PIV);
      expect(sw(r) === 0x9000 || r[r.length - 2] === 0x61).toBe(true);
      // The application property template (SP 800-73-4 Part 2 §3.1.1, tag 61) names the PIV AID.
      expect(Buffer.from(r).toString('hex')).toMatch(/^61.*4f0600001000010079074f05a000000308/);
    } finally {
      await conn.disconnect();
    }
  });

  it('reports NoCard for an empty reader and InvalidArgument for an unknown or ambiguous one', async () => {
    const empty = await rejection(t.connect(READER_B));
    expect(empty.code).toBe('NoCard');
    expect(empty.message).toBe(`There is no card in reader "${READER_B}"; insert the card.`);
    const unknown = await rejection(t.connect('Nitrokey'));
    expect(unknown.code).toBe('InvalidArgument');
    expect(unknown.message).toContain(`"${READER_A}"`);
    const ambiguous = await rejection(t.connect('Virtual PCD'));
    expect(ambiguous.code).toBe('InvalidArgument');
    expect(ambiguous.message).toMatch(/matches 2 readers/);
  });

  it('holds the card exclusively: a second connect, from this process or another, fails with CardBusy until disconnect', async () => {
    const other = await createPcscTransport();
    const conn = await t.connect(READER_A);
    try {
      const busy = await rejection(other.connect(READER_A));
      expect(busy.code).toBe('CardBusy');
      expect(busy.message).toBe(
        `The card in reader "${READER_A}" is in use by another application; close that application or wait for it to finish, then try again.`,
      );
      // Another process (another application, as far as pcscd knows).
      const run = await runScript(
        dir,
        'busy',
        `const t = await pcsc.createPcscTransport();
try { await t.connect(${JSON.stringify(READER_A)}); console.log('connected'); } catch (e) { console.log(JSON.stringify({ code: e.code })); }
await t.close();`,
      );
      expect(run.stderr).toBe('');
      expect(run.stdout.trim()).toBe('{"code":"CardBusy"}');
      // Our own handle still works while the others were turned away.
      expect(sw(await conn.transmit(SELECT_PIV))).toBe(0x9000);
    } finally {
      await conn.disconnect();
    }
    const again = await other.connect(READER_A);
    await again.disconnect();
    await other.close();
  });

  it('disconnect resets the card: the verified PIN does not survive into the next connection', async () => {
    const first = await t.connect(READER_A);
    try {
      expect(sw(await first.transmit(SELECT_PIV))).toBe(0x9000);
      expect(sw(await first.transmit(VERIFY_PIN))).toBe(0x9000);
      expect(sw(await first.transmit(VERIFY_STATUS))).toBe(0x9000); // verified
    } finally {
      await first.disconnect();
    }
    const second = await t.connect(READER_A);
    try {
      // No SELECT first: had the card been left powered (SCARD_LEAVE_CARD), the
      // PIV application would still be selected and the PIN still verified
      // (9000). After the reset nothing is selected (6D00).
      expect(sw(await second.transmit(VERIFY_STATUS))).toBe(0x6d00);
      expect(sw(await second.transmit(SELECT_PIV))).toBe(0x9000);
      expect(sw(await second.transmit(VERIFY_STATUS)) & 0xfff0).toBe(0x63c0); // not verified; tries left
    } finally {
      await second.disconnect();
    }
  });

  it('watch() reports card-removed when the card process is killed and card-inserted when it comes back; nothing after unsubscribe', async () => {
    const events: ReaderEvent[] = [];
    const stop = t.watch((e) => events.push(e));
    try {
      await killCard();
      await waitFor('card-removed', () => events.some((e) => e.kind === 'card-removed' && e.reader === READER_A));
      await insertCard();
      await waitFor('card-inserted', () => events.some((e) => e.kind === 'card-inserted' && e.reader === READER_A));
    } finally {
      stop();
    }
    expect(events).toEqual([
      { kind: 'card-removed', reader: READER_A },
      { kind: 'card-inserted', reader: READER_A, atr: ATR },
    ]);
    // After unsubscribe: pull and re-insert the card, wait longer than one
    // watch cycle, and no callback has run.
    await killCard();
    await new Promise((r) => setTimeout(r, 1500));
    await insertCard();
    expect(events).toHaveLength(2);
  });

  it('transmit after the card was pulled fails with CardRemoved; disconnect still succeeds', async () => {
    const conn = await t.connect(READER_A);
    try {
      expect(sw(await conn.transmit(SELECT_PIV))).toBe(0x9000);
      await killCard();
      const e = await rejection(conn.transmit(SELECT_PIV));
      expect(e.code).toBe('CardRemoved');
      expect(e.message).toBe(
        `The card was removed from reader "${READER_A}" during the operation; insert it again and repeat the operation.`,
      );
      expect(e.details.reader).toBe(READER_A);
    } finally {
      await conn.disconnect();
    }
    await insertCard();
    const conn2 = await t.connect(READER_A);
    expect(sw(await conn2.transmit(SELECT_PIV))).toBe(0x9000);
    await conn2.disconnect();
  });

  it('reports NoPcscd when the PC/SC service cannot be reached', async () => {
    // pcsc-lite's client library takes the daemon's socket path from
    // PCSCLITE_CSOCK_NAME; pointing it at nothing is "pcscd not running"
    // for this process only, and leaves the shared pcscd alone.
    const run = await runScript(
      dir,
      'no-pcscd',
      `const t = await pcsc.createPcscTransport();
const out: unknown[] = [];
for (const f of [() => t.listReaders(), () => t.connect('PCD'), async () => t.watch(() => undefined)]) {
  try { await f(); out.push('no error'); } catch (e) { out.push({ code: e.code, message: e.message }); }
}
await t.close();
console.log(JSON.stringify(out));`,
      { PCSCLITE_CSOCK_NAME: join(dir, 'no-such-pcscd.comm') },
    );
    expect(run.stderr).toBe('');
    const expected = {
      code: 'NoPcscd',
      message: 'The smart-card service (pcscd) is not running; start it with `systemctl start pcscd`.',
    };
    expect(JSON.parse(run.stdout)).toEqual([expected, expected, expected]);
    expect(run.code).toBe(0);
  });

  it('after close() the Node process exits on its own', async () => {
    // Everything that could leave a handle behind: a listing, a watch that is
    // unsubscribed, a watch that is left to close(), a connection with a
    // transmit. The script neither calls process.exit nor sets timers.
    const run = await runScript(
      dir,
      'exits',
      `const t = await pcsc.createPcscTransport();
const readers = await t.listReaders();
const unsubscribe = t.watch(() => undefined);
t.watch(() => undefined); // left for close() to stop
const conn = await t.connect(${JSON.stringify(READER_A)});
const r = await conn.transmit(Uint8Array.from(${JSON.stringify([...SELECT_PIV])}));
await conn.disconnect();
unsubscribe();
await t.close();
console.log(JSON.stringify({ readers: readers.map((x) => x.name), sw: Buffer.from(r.subarray(-2)).toString('hex') }));
console.log('DONE');`,
    );
    expect(run.stderr).toBe('');
    expect(run.signal).toBeNull(); // not killed by the 30 s guard
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout.split('\n')[0]!) as { readers: string[]; sw: string };
    expect(result.readers).toEqual(expect.arrayContaining([READER_A, READER_B]));
    expect(result.sw).toBe('9000');
    expect(run.exitAfterDoneMs).toBeDefined();
    expect(run.exitAfterDoneMs!).toBeLessThan(3000);
  });

  it('after a watch is unsubscribed (no close()) nothing keeps the process alive', async () => {
    const run = await runScript(
      dir,
      'unsubscribed',
      `const t = await pcsc.createPcscTransport();
const stop = t.watch(() => undefined);
await new Promise((r) => setTimeout(r, 300)); // let the wait start on its thread
stop();
console.log('DONE');`,
    );
    expect(run.stderr).toBe('');
    expect(run.signal).toBeNull();
    expect(run.code).toBe(0);
    expect(run.exitAfterDoneMs!).toBeLessThan(3000);
  });

  it('is a CeremonyError for every expected failure (crosses IPC as {code, message, details})', async () => {
    const e = await rejection(t.connect(READER_B));
    expect(isCeremonyError(e, 'NoCard')).toBe(true);
    expect(e.toJSON()).toEqual({ code: 'NoCard', message: e.message, details: { reader: READER_B } });
  });
});

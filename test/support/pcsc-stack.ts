/**
 * Starts the real smart-card stack for integration tests:
 *   pcscd (reused if one is already running, otherwise started as a child
 *   with --foreground) + vsmartcard's vpcd reader driver (Debian package
 *   vsmartcard-vpcd, configured in /etc/reader.conf.d/vpcd: "Virtual PCD 00 00"
 *   on TCP 35963 and "Virtual PCD 00 01" on 35964) + one or two virtual PIV
 *   cards, each a child process running src/virtual-card/cli.ts.
 *
 * stop() removes the cards and stops pcscd only if this helper started it.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CARD_CLI = join(REPO_ROOT, 'src', 'virtual-card', 'cli.ts');
const VPCD_DRIVER_CANDIDATES = [
  '/usr/lib/pcsc/drivers/serial/libifdvpcd.so',
  '/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so',
];
export const VPCD_BASE_PORT = 35963;

function findInPath(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin', '/usr/local/sbin']);
  for (const d of dirs) {
    const p = join(d, name);
    if (d && existsSync(p)) return p;
  }
  return undefined;
}

function vpcdConfigured(): boolean {
  if (!VPCD_DRIVER_CANDIDATES.some((p) => existsSync(p))) return false;
  try {
    return readdirSync('/etc/reader.conf.d').some((f) =>
      /libifdvpcd/.test(readFileSync(join('/etc/reader.conf.d', f), 'utf8')),
    );
  } catch {
    return false;
  }
}

/**
 * KEYCEREMONY_REQUIRE_PCSC=1 (set by .ci/run) turns "skip, the stack is not
 * installed" into a failure, so CI can never pass by skipping the card tests.
 */
const REQUIRED = process.env['KEYCEREMONY_REQUIRE_PCSC'] === '1';

/** Why the PC/SC stack cannot run here, or undefined if it can. */
export function pcscStackUnavailableReason(): string | undefined {
  let reason: string | undefined;
  if (!findInPath('pcscd')) reason = 'pcscd is not installed (apt-get install pcscd)';
  else if (!vpcdConfigured()) reason = 'the vpcd reader driver is not installed (apt-get install vsmartcard-vpcd)';
  else if (!findInPath('opensc-tool')) reason = 'opensc-tool is not installed (apt-get install opensc)';
  if (reason && REQUIRED) throw new Error(`KEYCEREMONY_REQUIRE_PCSC=1 but ${reason}`);
  return reason;
}

export function toolAvailable(name: string): boolean {
  const found = findInPath(name) !== undefined;
  if (!found && REQUIRED) throw new Error(`KEYCEREMONY_REQUIRE_PCSC=1 but ${name} is not installed`);
  return found;
}

export interface ReaderInfo {
  index: number;
  name: string;
  cardPresent: boolean;
}

/** Parses `opensc-tool --list-readers`. */
export async function listReaders(): Promise<ReaderInfo[]> {
  let out: string;
  try {
    ({ stdout: out } = await execFileAsync('opensc-tool', ['--list-readers'], { timeout: 15_000 }));
  } catch (e) {
    out = (e as { stdout?: string }).stdout ?? '';
  }
  const readers: ReaderInfo[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\d+)\s+(Yes|No)\s+(.*?)\s*$/.exec(line);
    if (m) {
      const rest = m[3]!.replace(/^(PIN pad|Display)\s+/, '');
      readers.push({ index: Number(m[1]), cardPresent: m[2] === 'Yes', name: rest.trim() });
    }
  }
  return readers;
}

/** The vpcd reader bound to a port: "Virtual PCD 00 00" for 35963, "... 00 01" for 35964. */
export function vpcdReaderName(port: number): string {
  return `Virtual PCD 00 ${String(port - VPCD_BASE_PORT).padStart(2, '0')}`;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** True if a live (non-zombie) pcscd process exists. */
async function pcscdRunning(): Promise<boolean> {
  let pids: string[];
  try {
    pids = (await execFileAsync('pgrep', ['-x', 'pcscd'])).stdout.split('\n').filter(Boolean);
  } catch {
    return false;
  }
  return pids.some((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return true; // no procfs: trust pgrep
    }
  });
}

/**
 * For a spec whose tests run the PC/SC stack: they are skipped where it is
 * not installed, and the stack a test started (`holder.stack`) is stopped
 * after it.
 */
export function pcscStackPerTest(test: {
  skip(condition: boolean, description: string): void;
  afterEach(hook: () => Promise<void>): void;
}): { stack: PcscStack | undefined } {
  const unavailable = pcscStackUnavailableReason();
  test.skip(unavailable !== undefined, `the PC/SC stack is not installed: ${unavailable ?? ''}`);
  const holder: { stack: PcscStack | undefined } = { stack: undefined };
  test.afterEach(async () => {
    await holder.stack?.stop();
    holder.stack = undefined;
  });
  return holder;
}

export interface VirtualCardProcess {
  port: number;
  stateFile: string;
  readerName: string;
  serial: number;
  process: ChildProcess;
  /** Everything the card process wrote to stderr (warnings, errors). */
  stderr(): string;
  /** Removes the card (SIGTERM; the CLI closes its vpcd connection). */
  remove(): Promise<void>;
}

export interface PcscStack {
  startedPcscd: boolean;
  cards: VirtualCardProcess[];
  /** Starts a virtual card on a vpcd port; `env` reaches the card process (test hooks). */
  insertCard(stateFile: string, port: number, env?: Record<string, string>): Promise<VirtualCardProcess>;
  stop(): Promise<void>;
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

function spawnCard(
  stateFile: string,
  port: number,
  env: Record<string, string>,
): { child: ChildProcess; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', CARD_CLI, '--state', stateFile, '--port', String(port)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, stdout: () => stdout, stderr: () => stderr };
}

async function startCard(
  stateFile: string,
  port: number,
  env: Record<string, string> = {},
): Promise<VirtualCardProcess> {
  const readerName = vpcdReaderName(port);
  let card = spawnCard(stateFile, port, env);
  let serial = 0;
  // Now and then pcscd's vpcd driver does not take a card that connects right
  // after another left the same reader; as a person would, pull it out and
  // put it in again once before giving up.
  for (let attempt = 1; ; attempt++) {
    const { child, stdout, stderr } = card;
    serial = await waitFor(`the virtual card on port ${port} to connect to vpcd`, async () => {
      if (child.exitCode !== null) throw new Error(`the virtual card exited: ${stderr().trim()}`);
      const m = /serial (\d+) inserted/.exec(stdout());
      return m ? Number(m[1]) : undefined;
    });
    try {
      await waitFor(
        `${readerName} to report a card`,
        async () => {
          if (child.exitCode !== null)
            throw new Error(`the virtual card exited (${child.exitCode}): ${stderr().trim()}`);
          return (await listReaders()).some((r) => r.name === readerName && r.cardPresent) ? true : undefined;
        },
        15_000,
      );
      break;
    } catch (e) {
      if (attempt >= 2) throw e;
      child.kill('SIGTERM');
      await waitExit(child, 5_000);
      card = spawnCard(stateFile, port, env);
    }
  }
  const { child } = card;
  return {
    port,
    stateFile,
    readerName,
    serial,
    process: child,
    stderr: () => card.stderr(),
    remove: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await waitExit(child, 5_000);
      await waitFor(`${readerName} to report no card`, async () =>
        (await listReaders()).some((r) => r.name === readerName && r.cardPresent) ? undefined : true,
      );
    },
  };
}

/**
 * Ensures pcscd with the vpcd readers is up (starting `pcscd --foreground`
 * as a child if none runs) and inserts one virtual card per entry.
 */
export async function startPcscStack(cards: Array<{ stateFile: string; port?: number }>): Promise<PcscStack> {
  const reason = pcscStackUnavailableReason();
  if (reason) throw new Error(`cannot start the PC/SC stack: ${reason}`);
  let pcscd: ChildProcess | undefined;
  let pcscdLog = '';
  if (!(await pcscdRunning())) {
    pcscd = spawn(findInPath('pcscd')!, ['--foreground'], { stdio: ['ignore', 'pipe', 'pipe'] });
    pcscd.stdout!.on('data', (d: Buffer) => (pcscdLog += d.toString()));
    pcscd.stderr!.on('data', (d: Buffer) => (pcscdLog += d.toString()));
  }
  const stack: PcscStack = {
    startedPcscd: pcscd !== undefined,
    cards: [],
    insertCard: async (stateFile, port, env) => {
      const c = await startCard(stateFile, port, env);
      stack.cards.push(c);
      return c;
    },
    stop: async () => {
      for (const c of stack.cards) {
        if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGTERM');
      }
      await Promise.all(stack.cards.map((c) => waitExit(c.process, 5_000)));
      if (pcscd) {
        pcscd.kill('SIGTERM');
        await waitExit(pcscd, 5_000);
      }
    },
  };
  try {
    await waitFor('pcscd to list the vpcd readers', async () => {
      if (pcscd && pcscd.exitCode !== null) throw new Error(`pcscd exited: ${pcscdLog.trim()}`);
      return (await listReaders()).some((r) => r.name.startsWith('Virtual PCD')) ? true : undefined;
    });
    for (const [i, c] of cards.entries()) await stack.insertCard(c.stateFile, c.port ?? VPCD_BASE_PORT + i);
  } catch (e) {
    await stack.stop();
    throw e;
  }
  return stack;
}

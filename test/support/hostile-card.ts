// Starts a hostile card (hostile-card-cli.ts) behind vpcd for one scenario
// and removes it again (issue 9, "Never hang, never crash").
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { listReaders, REPO_ROOT, vpcdReaderName } from './pcsc-stack.js';

const HOSTILE_CLI = join(REPO_ROOT, 'test', 'support', 'hostile-card-cli.ts');

export interface HostileCard {
  readerName: string;
  process: ChildProcess;
  remove(): Promise<void>;
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function exited(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

const cardPresent = async (reader: string): Promise<boolean> =>
  (await listReaders()).some((r) => r.name === reader && r.cardPresent);

/** Inserts a hostile card playing `scenario` on a vpcd port; the PC/SC stack must be up (startPcscStack). */
export async function insertHostileCard(
  scenario: string,
  stateFile: string,
  port: number,
  options: { serial?: number } = {},
): Promise<HostileCard> {
  const readerName = vpcdReaderName(port);
  for (let attempt = 1; ; attempt++) {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        HOSTILE_CLI,
        '--scenario',
        scenario,
        '--state',
        stateFile,
        '--port',
        String(port),
        ...(options.serial === undefined ? [] : ['--serial', String(options.serial)]),
      ],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const remove = async (): Promise<void> => {
      child.kill('SIGTERM');
      await exited(child, 5_000);
      await waitFor(`${readerName} to report no card`, async () => !(await cardPresent(readerName)));
    };
    try {
      await waitFor(`${readerName} to report the hostile card`, async () => {
        if (child.exitCode !== null) throw new Error(`the hostile card exited: ${stderr.trim()}`);
        return cardPresent(readerName);
      });
      return { readerName, process: child, remove };
    } catch (e) {
      // As pcsc-stack.ts does: vpcd now and then misses a card that connects right after another left.
      child.kill('SIGKILL');
      await exited(child, 5_000);
      if (attempt >= 2) throw e;
    }
  }
}

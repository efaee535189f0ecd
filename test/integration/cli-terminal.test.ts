// The interactive passphrase prompt, on a real pseudo-terminal: util-linux
// `script` (Debian's bsdutils, always installed) gives the CLI a pty, so what
// the terminal would show is exactly what `script` prints back.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYCEREMONY, workdir } from '../support/cli.js';

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

interface Session {
  /** Waits until the terminal has shown text matching the pattern. */
  waitFor(pattern: RegExp): Promise<void>;
  /** Types into the terminal. */
  type(text: string): void;
  exit: Promise<{ code: number; screen: string }>;
}

/** Runs the built CLI on a pseudo-terminal. */
function onTerminal(cwd: string, args: string[]): Session {
  const command = [process.execPath, KEYCEREMONY, ...args].map(quote).join(' ');
  // -q: no banner; -e: its exit code; -f: flush; the typescript goes nowhere.
  const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const onOutput = (d: Buffer): void => {
    screen += d.toString('utf8');
    for (const w of [...waiters]) {
      if (w.pattern.test(screen)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const exit = new Promise<{ code: number; screen: string }>((resolve) =>
    child.on('close', (code) => resolve({ code: code ?? -1, screen })),
  );
  return {
    waitFor: (pattern) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(screen)) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`the terminal never showed ${pattern}; it shows ${JSON.stringify(screen)}`)),
          20_000,
        );
        waiters.push({ pattern, resolve: () => (clearTimeout(timer), resolve()) });
      }),
    type: (text) => child.stdin.write(text),
    exit,
  };
}

describe('the passphrase prompt on a terminal', () => {
  let dir: string;
  beforeAll(() => {
    dir = workdir('kc-tty-');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('asks twice without echoing, and the key opens with what was typed', async () => {
    const passphrase = 'typed at the keyboard 42';
    const t = onTerminal(dir, ['identity', 'generate', '--name', 'alice', '--out', 'alice.id']);
    await t.waitFor(/passphrase[^\n]*: $/i);
    // A typing mistake corrected with backspace is not part of the passphrase.
    t.type(`${passphrase}X\x7f\r`);
    await t.waitFor(/again: $/i);
    t.type(`${passphrase}\r`);
    const { code, screen } = await t.exit;
    expect(code, screen).toBe(0);
    expect(screen).not.toContain(passphrase);
    expect(screen).not.toContain('typed');
    writeFileSync(join(dir, 'p'), passphrase, { mode: 0o600 });
    const openssl = spawnSync(
      'openssl',
      ['pkey', '-in', join(dir, 'alice.id'), '-passin', `file:${join(dir, 'p')}`, '-noout'],
      { encoding: 'utf8' },
    );
    expect(openssl.status, openssl.stderr).toBe(0);
  });

  it('two different entries are refused and nothing is written', async () => {
    const t = onTerminal(dir, ['identity', 'generate', '--name', 'bob', '--out', 'bob.id']);
    await t.waitFor(/passphrase[^\n]*: $/i);
    t.type('first passphrase\r');
    await t.waitFor(/again: $/i);
    t.type('second passphrase\r');
    const { code, screen } = await t.exit;
    expect(code).not.toBe(0);
    expect(screen).toMatch(/differ/);
    expect(screen).not.toMatch(/first passphrase|second passphrase/);
    expect(existsSync(join(dir, 'bob.id'))).toBe(false);
  });

  it('Ctrl-C at the prompt cancels without echo and writes nothing', async () => {
    const t = onTerminal(dir, ['identity', 'generate', '--name', 'carol', '--out', 'carol.id']);
    await t.waitFor(/passphrase[^\n]*: $/i);
    t.type('half typ\x03');
    const { code, screen } = await t.exit;
    expect(code).not.toBe(0);
    expect(screen).toMatch(/Cancelled/);
    expect(screen).not.toContain('half typ');
    expect(existsSync(join(dir, 'carol.id'))).toBe(false);
  });
});

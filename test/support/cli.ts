import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const KEYCEREMONY = join(ROOT, 'build/cli/keyceremony.js');
export const EMULATOR = join(ROOT, 'build/emulator/cli.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a built CLI (npm test builds first) with stdin closed, like a script would. */
export function run(bin: string, args: string[], cwd: string): RunResult {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export const kc = (cwd: string, ...args: string[]): RunResult => run(KEYCEREMONY, args, cwd);

/** The standard output of a command that must succeed; its stderr otherwise. */
export function ok(r: RunResult): string {
  if (r.code !== 0) throw new Error(`command failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}
export const emu = (cwd: string, ...args: string[]): RunResult => run(EMULATOR, args, cwd);

export function workdir(prefix = 'kc-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a passphrase file (test data only) and returns its name. */
export function passFile(dir: string, name: string, passphrase: string): string {
  writeFileSync(join(dir, name), passphrase + '\n', { mode: 0o600 });
  return name;
}

/** Asserts the shape every failure must have: non-zero exit, one plain sentence, no stack. */
export function expectCleanFailure(r: RunResult, pattern: RegExp): void {
  const lines = r.stderr.trim().split('\n');
  if (r.code === 0) throw new Error(`expected failure, got success: ${r.stdout}`);
  if (!pattern.test(r.stderr)) throw new Error(`stderr ${JSON.stringify(r.stderr)} does not match ${pattern}`);
  if (/\n\s+at /.test(r.stderr) || lines.length > 2) throw new Error(`stderr is not one plain sentence: ${r.stderr}`);
  if (/unexpected error/.test(r.stderr)) throw new Error(`reported as a bug: ${r.stderr}`);
}

/**
 * Exports an emulated instance's transport files into `outDir` and confirms
 * each unit's key into `record` with the fingerprint the unit "displays" (the
 * emulator's status, in groups as a person would type it). Returns the files,
 * relative to `dir`.
 */
export function exportAndConfirmUnits(dir: string, state: string, outDir: string, record: string): string[] {
  ok(emu(dir, 'transport', '--state', state, '--out-dir', outDir));
  const status = JSON.parse(ok(emu(dir, 'status', '--state', state, '--json'))) as {
    units: Array<{ id: string; transportFingerprint: string }>;
  };
  for (const u of status.units) {
    const display = u.transportFingerprint.toUpperCase().match(/.{4}/g)!.join(' ');
    ok(
      kc(
        dir,
        'units',
        'confirm',
        '--record',
        record,
        '--transport',
        join(outDir, `unit-${u.id}.transport.json`),
        '--fingerprint',
        display,
      ),
    );
  }
  return readdirSync(join(dir, outDir)).map((f) => join(outDir, f));
}

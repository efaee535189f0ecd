// The kill harness (issue 10, "Killed at any moment, nothing lost"): runs a
// command with KEYCEREMONY_TEST_KILL_AT set so that it SIGKILLs itself at one
// durable write (src/core/files.ts), once per write and phase, each time in a
// fresh copy of the folder as it was before the command; and the checks that
// every such stop leaves nothing half-written and no secret on disk.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { KILL_AT_VARIABLE, KILL_PHASES, type KillPhase } from '../../src/core/files.js';
import { keyCheckValue, verificationPattern } from '../../src/core/masterkey/masterkey.js';
import type { RunResult } from './cli.js';

export interface KillPoint {
  n: number;
  phase: KillPhase;
}
export const pointName = (p: KillPoint): string => `write ${p.n} (${p.phase})`;

export interface KilledRun {
  point: KillPoint;
  dir: string;
  /** True when the command stopped at the point; false when it ran to its end first. */
  killed: boolean;
  result: RunResult;
}

/** Runs a program with node in `cwd`, killed at `point` (null: not killed). */
export function runAt(
  program: string,
  args: string[],
  cwd: string,
  point: KillPoint | null,
): Promise<RunResult & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env[KILL_AT_VARIABLE];
    if (point) env[KILL_AT_VARIABLE] = `${point.n}:${point.phase}`;
    const child = spawn(process.execPath, [program, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr }));
  });
}

/**
 * The kill points in order: every phase of write 1, then the temp and after
 * phases of each later write. Just before write n the files are those just
 * after write n-1 (nothing durable happens in between), so `before` is
 * checked once, at write 1, where it means "nothing written yet".
 */
function pointAt(i: number): KillPoint {
  if (i < KILL_PHASES.length) return { n: 1, phase: KILL_PHASES[i]! };
  const j = i - KILL_PHASES.length;
  return { n: Math.floor(j / 2) + 2, phase: j % 2 === 0 ? 'temp' : 'after' };
}

/**
 * Kills `program args` at each kill point (pointAt), n = 1, 2, … until it
 * runs to its end without being killed; each run in its own copy of
 * `template`. Two at a time (the runs are independent). Returns the killed
 * runs, in order, and the folder of the first run that completed.
 */
export async function atEveryWrite(
  template: string,
  program: string,
  args: string[],
): Promise<{ killed: KilledRun[]; completed: string }> {
  const runs: Array<KilledRun & { i: number }> = [];
  let next = 0;
  let done = false;
  const worker = async (): Promise<void> => {
    while (!done) {
      const i = next++;
      if (i > 500) throw new Error('the command never completed');
      const point = pointAt(i);
      const dir = copyOf(template);
      const r = await runAt(program, args, dir, point);
      const killed = r.signal === 'SIGKILL';
      if (!killed && r.signal !== null) throw new Error(`${pointName(point)}: stopped by ${r.signal}`);
      if (!killed) done = true;
      runs.push({ i, point, dir, killed, result: r });
    }
  };
  await Promise.all([worker(), worker()]);
  runs.sort((a, b) => a.i - b.i);
  const firstDone = runs.findIndex((r) => !r.killed);
  const completed = runs[firstDone]!;
  if (completed.result.code !== 0)
    throw new Error(`the command, not killed, failed (${completed.result.code}): ${completed.result.stderr}`);
  return { killed: runs.slice(0, firstDone), completed: completed.dir };
}

export function copyOf(template: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kc-kill-'));
  cpSync(template, dir, { recursive: true });
  return dir;
}

/** Every file under `dir`, by its path relative to it. */
export function snapshot(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return files;
}

/** A temporary file of files.ts (`.NAME.<12 hex>.partial`): the name of the file it was meant to become, or null. */
export function partialTarget(rel: string): string | null {
  const m = /^(.*\/)?\.(.+)\.[0-9a-f]{12}\.partial$/.exec(rel);
  return m ? `${m[1] ?? ''}${m[2]!}` : null;
}

/**
 * The files that changed between two snapshots. Files never disappear
 * (nothing a command does deletes a file of the ceremony), which is checked.
 */
export function changedFiles(before: Map<string, Buffer>, after: Map<string, Buffer>): string[] {
  for (const name of before.keys()) if (!after.has(name)) throw new Error(`${name} disappeared`);
  return [...after.keys()].filter((k) => !before.get(k)?.equals(after.get(k)!));
}

/** Byte strings that hold `secret` in the forms a careless write would: raw, hex (either case), base64, base64url. */
function encodings(secret: Buffer): Buffer[] {
  return [
    secret,
    secret.toString('hex'),
    secret.toString('hex').toUpperCase(),
    secret.toString('base64'),
    secret.toString('base64url'),
    secret.toString('base64').replace(/=+$/, ''),
  ].map((e) => (typeof e === 'string' ? Buffer.from(e, 'utf8') : e));
}

/** The files of `files` that hold any of `secrets` in any of its encodings. */
export function filesHolding(files: Map<string, Buffer>, secrets: Buffer[]): string[] {
  const hits: string[] = [];
  for (const [name, bytes] of files) {
    if (secrets.some((s) => encodings(s).some((e) => bytes.includes(e)))) hits.push(name);
  }
  return hits;
}

/**
 * Whether `bytes` holds a master key whose KCV and verification pattern are
 * the recorded ones: every 32-byte window of the raw bytes and of every hex
 * and base64 run decoded. Finds a key that only the record describes (the
 * process that made it is dead).
 */
export function holdsKeyOf(bytes: Buffer, kcv: string, vp: string): boolean {
  const text = bytes.toString('latin1');
  // Raw windows only in files that are not plain ASCII text: 32 random bytes
  // are all below 0x80 with probability 2^-32, so a raw key makes a file non-ASCII.
  const candidates: Buffer[] = /^[\x09\x0a\x0d\x20-\x7e]*$/.test(text) ? [] : [bytes];
  for (const m of text.matchAll(/[0-9a-fA-F]{64,}/g))
    candidates.push(Buffer.from(m[0].slice(0, m[0].length - (m[0].length % 2)), 'hex'));
  for (const m of text.matchAll(/[A-Za-z0-9+/_-]{43,}/g)) {
    for (let shift = 0; shift < 4; shift++)
      candidates.push(
        Buffer.from(m[0].slice(shift), m[0].includes('_') || m[0].includes('-') ? 'base64url' : 'base64'),
      );
  }
  for (const c of candidates) {
    for (let off = 0; off + 32 <= c.length; off++) {
      const w = c.subarray(off, off + 32);
      if (keyCheckValue(w) === kcv && verificationPattern(w) === vp) return true;
    }
  }
  return false;
}

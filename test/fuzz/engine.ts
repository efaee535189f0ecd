// Runs the cases of one target and judges them: an input must be accepted,
// or refused with a CeremonyError; anything else thrown is a crash, and a
// case that takes longer than the time limit is a finding too. Every case
// is made from (seed, target, index) alone (prng.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CeremonyError } from '../../src/core/errors.js';
import { Rng } from './prng.js';
import { Finding, type Target } from './targets.js';

export const CASE_TIME_LIMIT_MS = 2_000;
export const FINDINGS_DIR = join('test-results', 'fuzz');
/**
 * Inputs are cut to 2 MiB. Larger ones measure JSON.parse rather than the
 * tool: V8 takes ~1.5 s for 8 MB of nested brackets, in every parser alike
 * (capping the sizes of files read is its own item of issue 10).
 */
export const MAX_INPUT_CHARS = 2 * 1024 * 1024;

export interface FindingReport {
  target: string;
  seed: number;
  index: number;
  kind: 'crash' | 'slow' | 'oracle' | 'generator';
  message: string;
  ms: number;
  /** Where the input was written (test-results/fuzz/…), when it was. */
  file?: string;
}

export interface TargetStats {
  target: string;
  cases: number;
  accepted: number;
  refused: number;
  codes: Record<string, number>;
  notes: Record<string, number>;
  findings: FindingReport[];
  slowestMs: number;
  slowestIndex: number;
  totalMs: number;
}

export function emptyStats(target: string): TargetStats {
  return {
    target,
    cases: 0,
    accepted: 0,
    refused: 0,
    codes: {},
    notes: {},
    findings: [],
    slowestMs: 0,
    slowestIndex: -1,
    totalMs: 0,
  };
}

export function mergeStats(a: TargetStats, b: TargetStats): TargetStats {
  const add = (x: Record<string, number>, y: Record<string, number>): Record<string, number> => {
    const o = { ...x };
    for (const [k, v] of Object.entries(y)) o[k] = (o[k] ?? 0) + v;
    return o;
  };
  const slow = b.slowestMs > a.slowestMs ? b : a;
  return {
    target: a.target,
    cases: a.cases + b.cases,
    accepted: a.accepted + b.accepted,
    refused: a.refused + b.refused,
    codes: add(a.codes, b.codes),
    notes: add(a.notes, b.notes),
    findings: [...a.findings, ...b.findings],
    slowestMs: slow.slowestMs,
    slowestIndex: slow.slowestIndex,
    totalMs: a.totalMs + b.totalMs,
  };
}

export function reproduceCommand(f: Pick<FindingReport, 'seed' | 'target' | 'index'>): string {
  return `npm run fuzz -- --seed ${f.seed} --target ${f.target} --index ${f.index}`;
}

function describe(e: unknown): string {
  if (e instanceof Finding) return e.message;
  if (e instanceof Error) return (e.stack ?? `${e.name}: ${e.message}`).split('\n').slice(0, 6).join('\n');
  return `a thrown ${typeof e}: ${String(e)}`;
}

export interface RunOptions {
  seed: number;
  /** The indexes to run. */
  indexes: Iterable<number>;
  /** Write each finding's input to test-results/fuzz/ (the CLI; not the unit test). */
  writeFindings?: boolean;
  timeLimitMs?: number;
  onFinding?: (f: FindingReport) => void;
}

/** One case: its outcome, for --index. */
export interface CaseOutcome {
  outcome: 'accepted' | 'refused' | 'finding';
  code?: string;
  note?: string;
  ms: number;
  finding?: FindingReport;
  error?: unknown;
}

export async function runCase(
  target: Target,
  seed: number,
  index: number,
  opts: Pick<RunOptions, 'writeFindings' | 'timeLimitMs'> = {},
): Promise<CaseOutcome> {
  const rng = new Rng(seed, target.name, index);
  const limit = opts.timeLimitMs ?? CASE_TIME_LIMIT_MS;
  let input: unknown;
  try {
    input = target.generate(rng);
    if (typeof input === 'string' && input.length > MAX_INPUT_CHARS) input = input.slice(0, MAX_INPUT_CHARS);
  } catch (e) {
    return {
      outcome: 'finding',
      ms: 0,
      error: e,
      finding: {
        target: target.name,
        seed,
        index,
        kind: 'generator',
        message: `the fuzzer's own generator failed: ${describe(e)}`,
        ms: 0,
      },
    };
  }
  const t0 = performance.now();
  let result: CaseOutcome;
  try {
    const r = await target.run(input, rng);
    const ms = performance.now() - t0;
    result = r.accepted
      ? { outcome: 'accepted', ms, ...(r.note ? { note: r.note } : {}) }
      : { outcome: 'refused', code: r.code, ms };
  } catch (e) {
    const ms = performance.now() - t0;
    result =
      e instanceof CeremonyError
        ? { outcome: 'refused', code: e.code, ms, error: e }
        : {
            outcome: 'finding',
            ms,
            error: e,
            finding: {
              target: target.name,
              seed,
              index,
              kind: e instanceof Finding ? 'oracle' : 'crash',
              message: describe(e),
              ms,
            },
          };
  }
  if (result.outcome !== 'finding' && result.ms > limit) {
    result = {
      ...result,
      outcome: 'finding',
      finding: {
        target: target.name,
        seed,
        index,
        kind: 'slow',
        message: `took ${Math.round(result.ms)} ms (limit ${limit} ms); it was ${result.outcome}${result.code ? ` (${result.code})` : ''}`,
        ms: result.ms,
      },
    };
  }
  if (result.finding && opts.writeFindings) {
    mkdirSync(FINDINGS_DIR, { recursive: true });
    const base = join(FINDINGS_DIR, `${target.name}-seed${seed}-${index}`);
    writeFileSync(`${base}.input`, target.save(input));
    writeFileSync(
      `${base}.json`,
      JSON.stringify({ ...result.finding, reproduce: reproduceCommand(result.finding) }, null, 2) + '\n',
    );
    result.finding.file = `${base}.input`;
  }
  return result;
}

export async function runTarget(target: Target, opts: RunOptions): Promise<TargetStats> {
  const s = emptyStats(target.name);
  for (const index of opts.indexes) {
    const r = await runCase(target, opts.seed, index, opts);
    s.cases++;
    s.totalMs += r.ms;
    if (r.ms > s.slowestMs) {
      s.slowestMs = r.ms;
      s.slowestIndex = index;
    }
    if (r.note) s.notes[r.note] = (s.notes[r.note] ?? 0) + 1;
    if (r.finding) {
      s.findings.push(r.finding);
      opts.onFinding?.(r.finding);
    } else if (r.outcome === 'accepted') s.accepted++;
    else {
      s.refused++;
      s.codes[r.code!] = (s.codes[r.code!] ?? 0) + 1;
    }
  }
  return s;
}

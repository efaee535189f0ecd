// npm run fuzz [-- --seed N] [--cases N] [--target NAME[,NAME]] [--index I] [--jobs N] [--refresh-corpus]
//
// Seeded, reproducible fuzzing of every parser of untrusted input (issue
// 10, "Fuzzing in the repo"). Prints a table per target; exits 1 on any
// finding (a crash: something other than a CeremonyError thrown; a case
// over 2 s; an IPC request that reached the session or was not refused as
// invalid-request), each with the command that reproduces it and its input
// in test-results/fuzz/.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isCeremonyError } from '../../src/core/errors.js';
import { buildCorpus, loadCorpus, saveCorpus, CORPUS_PATH, type Corpus } from './corpus.js';
import {
  emptyStats,
  mergeStats,
  reproduceCommand,
  runCase,
  runTarget,
  type FindingReport,
  type TargetStats,
} from './engine.js';
import { makeTargets, type Budget, type Target } from './targets.js';

export const DEFAULT_TOTAL_CASES = 100_000;

interface Options {
  seed: number;
  cases: number;
  targets: string[] | null;
  index: number | null;
  jobs: number;
  worker: number | null;
  refreshCorpus: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    seed: 1,
    cases: DEFAULT_TOTAL_CASES,
    targets: null,
    index: null,
    jobs: 2,
    worker: null,
    refreshCorpus: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = Number(value());
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${a} needs a whole number`);
      return v;
    };
    if (a === '--seed') o.seed = int();
    else if (a === '--cases') o.cases = int();
    else if (a === '--target') o.targets = value().split(',');
    else if (a === '--index') o.index = int();
    else if (a === '--jobs') o.jobs = Math.max(1, int());
    else if (a === '--worker') o.worker = int();
    else if (a === '--refresh-corpus') o.refreshCorpus = true;
    else if (a === '-h' || a === '--help') {
      console.log(
        'npm run fuzz -- [--seed N] [--cases TOTAL] [--target NAME[,NAME]] [--index I] [--jobs N] [--refresh-corpus]',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** Cases per target: the total shared by weight (every target at least one). */
export function casesPerTarget(targets: readonly Target[], total: number): Map<string, number> {
  const w = targets.reduce((s, t) => s + t.weight, 0);
  const m = new Map(targets.map((t) => [t.name, Math.max(1, Math.round((total * t.weight) / w))]));
  const sum = [...m.values()].reduce((a, b) => a + b, 0);
  if (sum < total) m.set(targets[0]!.name, m.get(targets[0]!.name)! + total - sum);
  return m;
}

/** Per full run of 100,000 cases: ~150 scrypt opens (~15 s), ~60 PBKDF2 unlocks. */
export function budgetFor(total: number): Budget {
  return {
    shareOpens: Math.max(5, Math.round((150 * total) / DEFAULT_TOTAL_CASES)),
    identityUnlocks: Math.max(3, Math.round((60 * total) / DEFAULT_TOTAL_CASES)),
  };
}

/** Every seed must pass its own target unmutated; otherwise the corpus is stale (a format changed). */
export async function checkCorpus(c: Corpus): Promise<void> {
  const { parseBundle } = await import('../../src/core/bundle/bundle.js');
  const { parseEnvelope } = await import('../../src/core/shares/envelope.js');
  const { identityCertificate } = await import('../../src/core/identity/identity.js');
  const { parseTranscript } = await import('../../src/core/ceremony/transcript.js');
  const { parseInstanceState } = await import('../../src/emulator/schema.js');
  const { parseTransportFile } = await import('../../src/core/bundle/transport.js');
  const { parseKeystoreFile, parseWrappedDek } = await import('../../src/emulator/kms.js');
  const checks: Array<[string, () => unknown]> = [
    ...Object.entries(c.bundles).map(([k, t]): [string, () => unknown] => [`bundle ${k}`, () => parseBundle(t)]),
    ...[...c.shares, ...c.cardShares].map((t): [string, () => unknown] => ['share', () => parseEnvelope(t, 's')]),
    ...c.identities.map((t): [string, () => unknown] => ['identity', () => identityCertificate(t)]),
    ...c.records.map((t): [string, () => unknown] => ['record', () => parseTranscript(t)]),
    ...c.states.map((t): [string, () => unknown] => ['state', () => parseInstanceState(t, 's')]),
    ...c.transports.map((t): [string, () => unknown] => ['transport', () => parseTransportFile(t, 't')]),
    ...c.keystores.map((t): [string, () => unknown] => ['keystore', () => parseKeystoreFile(t, 'k')]),
    ...c.wrappedDeks.map((t): [string, () => unknown] => ['wrapped DEK', () => parseWrappedDek(t)]),
  ];
  for (const [what, check] of checks) {
    try {
      check();
    } catch (e) {
      throw new Error(
        `The fuzz corpus (${CORPUS_PATH}) is stale: its ${what} seed no longer parses (${isCeremonyError(e) ? e.message : String(e)}). Make it again: npm run fuzz -- --refresh-corpus`,
      );
    }
  }
}

export async function corpus(refresh = false): Promise<Corpus> {
  let c = refresh ? null : loadCorpus();
  if (c === null) {
    c = await buildCorpus((l) => console.error(l));
    saveCorpus(c);
    console.error(`corpus written to ${CORPUS_PATH}`);
  }
  await checkCorpus(c);
  return c;
}

function topCodes(codes: Record<string, number>, n = 3): string {
  const sorted = Object.entries(codes).sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, n).map(([k, v]) => `${k} ${v}`);
  return shown.join(', ') + (sorted.length > n ? `, +${sorted.length - n} more` : '');
}

export function table(stats: TargetStats[]): string {
  const rows = stats.map((s) => [
    s.target,
    String(s.cases),
    String(s.accepted),
    `${s.refused} (${topCodes(s.codes)})`,
    String(s.findings.length),
    s.slowestMs.toFixed(1),
  ]);
  const total = stats.reduce(
    (a, s) => ({
      cases: a.cases + s.cases,
      accepted: a.accepted + s.accepted,
      refused: a.refused + s.refused,
      findings: a.findings + s.findings.length,
      slow: Math.max(a.slow, s.slowestMs),
    }),
    { cases: 0, accepted: 0, refused: 0, findings: 0, slow: 0 },
  );
  rows.push([
    '**total**',
    String(total.cases),
    String(total.accepted),
    String(total.refused),
    String(total.findings),
    total.slow.toFixed(1),
  ]);
  const head = ['target', 'cases', 'accepted', 'refused (top codes)', 'findings', 'slowest ms'];
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

async function runWorker(o: Options, c: Corpus): Promise<TargetStats[]> {
  const targets = makeTargets(c, budgetFor(o.cases));
  const selected = o.targets ? targets.filter((t) => o.targets!.includes(t.name)) : targets;
  const counts = casesPerTarget(selected, o.cases);
  const worker = o.worker ?? 0;
  const out: TargetStats[] = [];
  for (const t of selected) {
    const n = counts.get(t.name)!;
    const indexes = function* (): Generator<number> {
      for (let i = worker; i < n; i += o.jobs) yield i;
    };
    const budget = budgetFor(o.cases);
    void budget;
    out.push(
      await runTarget(t, {
        seed: o.seed,
        indexes: indexes(),
        writeFindings: true,
        onFinding: (f) =>
          console.error(
            `FINDING ${f.target} #${f.index} (${f.kind}): ${f.message.split('\n')[0]}\n  reproduce: ${reproduceCommand(f)}\n  input: ${f.file}`,
          ),
      }),
    );
  }
  return out;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const c = await corpus(o.refreshCorpus);
  const known = makeTargets(c, budgetFor(o.cases)).map((t) => t.name);
  for (const t of o.targets ?? [])
    if (!known.includes(t)) throw new Error(`unknown target ${t}; targets: ${known.join(', ')}`);

  if (o.index !== null) {
    // One case, verbosely.
    for (const t of makeTargets(c, { shareOpens: 1, identityUnlocks: 1 }).filter(
      (x) => !o.targets || o.targets.includes(x.name),
    )) {
      const r = await runCase(t, o.seed, o.index, { writeFindings: true });
      console.log(
        `${t.name} #${o.index} (seed ${o.seed}): ${r.outcome}${r.code ? ` ${r.code}` : ''}${r.note ? ` (${r.note})` : ''}, ${r.ms.toFixed(1)} ms`,
      );
      if (r.error) console.log(r.error instanceof Error ? (r.error.stack ?? r.error.message) : String(r.error));
      if (r.finding) process.exitCode = 1;
    }
    return;
  }

  if (o.worker !== null) {
    const stats = await runWorker(o, c);
    process.send!(stats);
    return;
  }

  const started = Date.now();
  console.error(`fuzzing: seed ${o.seed}, ${o.cases} cases, ${o.jobs} job(s)`);
  let stats: TargetStats[];
  if (o.jobs === 1) stats = await runWorker({ ...o, worker: 0 }, c);
  else {
    const self = fileURLToPath(import.meta.url);
    const children: ReturnType<typeof fork>[] = [];
    const parts = await Promise.all(
      Array.from(
        { length: o.jobs },
        (_, w) =>
          new Promise<TargetStats[]>((resolve, reject) => {
            const args = [
              '--seed',
              String(o.seed),
              '--cases',
              String(o.cases),
              '--jobs',
              String(o.jobs),
              '--worker',
              String(w),
              ...(o.targets ? ['--target', o.targets.join(',')] : []),
            ];
            const child = fork(self, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
            children.push(child);
            let got: TargetStats[] | null = null;
            child.on('message', (m) => (got = m as TargetStats[]));
            child.on('exit', (code, signal) =>
              got ? resolve(got) : reject(new Error(`fuzz worker ${w} ended (${signal ?? code}) without results`)),
            );
          }),
      ),
    ).catch((e: unknown) => {
      for (const c of children) if (c.exitCode === null) c.kill(); // the workers this run started, and only those
      throw e;
    });
    stats = parts[0]!.map((s, i) => parts.slice(1).reduce((a, p) => mergeStats(a, p[i]!), s));
  }
  const findings: FindingReport[] = stats.flatMap((s) => s.findings);
  console.log(table(stats));
  const notes = stats
    .filter((s) => Object.keys(s.notes).length > 0)
    .map(
      (s) =>
        `${s.target}: ${Object.entries(s.notes)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')}`,
    );
  console.log(
    `\nseed ${o.seed}; ${((Date.now() - started) / 1000).toFixed(0)} s wall clock with ${o.jobs} job(s)${notes.length ? `; ${notes.join('; ')}` : ''}`,
  );
  const slowest = [...stats].sort((a, b) => b.slowestMs - a.slowestMs)[0];
  if (slowest && slowest.slowestIndex >= 0)
    console.log(
      `slowest case: ${slowest.target} #${slowest.slowestIndex} (${slowest.slowestMs.toFixed(0)} ms): npm run fuzz -- --seed ${o.seed} --target ${slowest.target} --index ${slowest.slowestIndex}`,
    );
  if (findings.length > 0) {
    console.log(`\n${findings.length} finding(s):`);
    for (const f of findings)
      console.log(
        `- ${f.target} #${f.index} (${f.kind}): ${f.message.split('\n')[0]}\n  ${reproduceCommand(f)}\n  input: ${f.file ?? '-'}`,
      );
    process.exitCode = 1;
  }
  void emptyStats;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  });
}

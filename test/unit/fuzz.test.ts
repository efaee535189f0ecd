// The CI slice of `npm run fuzz` (test/fuzz): every target, a fixed seed, a
// few hundred cases each, on the committed seed corpus; no findings allowed.
// A finding prints the command that reproduces it in full.
import { describe, expect, it } from 'vitest';
import { loadCorpus } from '../fuzz/corpus.js';
import { runTarget } from '../fuzz/engine.js';
import { budgetFor, checkCorpus } from '../fuzz/fuzz.js';
import { makeTargets } from '../fuzz/targets.js';

const SEED = 20261126;
const CASES = 300;

const corpus = loadCorpus();

describe('fuzzing, the seeded CI slice', () => {
  it('has a seed corpus that every parser still accepts unmutated', async () => {
    expect(corpus, 'test/fuzz/corpus/seeds.json is missing: npm run fuzz -- --refresh-corpus').not.toBeNull();
    await checkCorpus(corpus!);
  });

  const targets = corpus ? makeTargets(corpus, budgetFor(CASES * 10)) : [];
  it.each(targets.map((t) => [t.name, t] as const))(
    `%s: ${CASES} cases, no crash, none over 2 s`,
    async (_name, target) => {
      const s = await runTarget(target, { seed: SEED, indexes: Array.from({ length: CASES }, (_, i) => i) });
      const found = s.findings.map(
        (f) =>
          `${f.kind} #${f.index}: ${f.message.split('\n')[0]} (npm run fuzz -- --seed ${SEED} --target ${f.target} --index ${f.index})`,
      );
      expect(found).toEqual([]);
      expect(s.cases).toBe(CASES);
      expect(s.accepted + s.refused).toBe(CASES);
    },
  );
});

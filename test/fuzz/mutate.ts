// Mutators: byte-level (bit flips, byte insert/delete/duplicate, truncation,
// splicing two seeds) and structure-aware JSON (a value replaced by another
// type, huge/fractional/negative numbers, deep nesting, duplicate keys, very
// long strings, members removed or added). All draw from the case's Rng only.
import type { Rng } from './prng.js';

// ---------------------------------------------------------------------------
// Bytes

const INTERESTING_BYTES = [
  0x00, 0x01, 0x7f, 0x80, 0xff, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x2d, 0x2e, 0x30, 0x39, 0x0a, 0x0d,
  0x20, 0x3d, 0x2b, 0x2f, 0x5f,
];
const INTERESTING_TOKENS = [
  '"',
  '\\',
  '\\u0000',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '-',
  '1e999',
  '-0',
  '0.5',
  '9007199254740993',
  'null',
  'true',
  '\n',
  '\r\n',
  ' ',
  '=',
  '.',
  '-----',
  '\u00e9',
  '\ud800',
  '\ufeff',
  '"__proto__"',
  '{}',
  '[]',
];

/** One byte-level mutation of `b` (a new buffer). `others` are seeds to splice with. */
export function mutateBytesOnce(rng: Rng, b: Buffer, others: readonly Buffer[] = []): Buffer {
  const n = b.length;
  const pos = (extra = 0): number => rng.int(n + extra);
  switch (rng.int(10)) {
    case 0: {
      // flip 1..8 bits
      const c = Buffer.from(b);
      if (n === 0) return c;
      for (let k = rng.range(1, 8); k > 0; k--) {
        const i = pos();
        c[i] = c[i]! ^ (1 << rng.int(8));
      }
      return c;
    }
    case 1: {
      const c = Buffer.from(b);
      if (n === 0) return c;
      c[pos()] = rng.chance(0.5) ? rng.pick(INTERESTING_BYTES) : rng.int(256);
      return c;
    }
    case 2: {
      // insert random bytes
      const i = pos(1);
      return Buffer.concat([b.subarray(0, i), rng.bytes(rng.size(64)), b.subarray(i)]);
    }
    case 3: {
      // insert a token
      const i = pos(1);
      return Buffer.concat([b.subarray(0, i), Buffer.from(rng.pick(INTERESTING_TOKENS), 'utf8'), b.subarray(i)]);
    }
    case 4: {
      // delete a range
      const i = pos();
      return Buffer.concat([b.subarray(0, i), b.subarray(Math.min(n, i + rng.size(Math.max(1, n >> 2))))]);
    }
    case 5: {
      // duplicate a range somewhere (or many times in place)
      const i = pos();
      const r = b.subarray(i, i + rng.size(Math.max(1, n >> 3)));
      const j = pos(1);
      const times = rng.chance(0.1) ? rng.size(2000) : 1;
      return Buffer.concat([b.subarray(0, j), ...Array.from({ length: times }, () => r), b.subarray(j)]);
    }
    case 6:
      // truncate
      return b.subarray(0, pos());
    case 7: {
      // splice with another seed (or itself)
      const o = others.length > 0 ? rng.pick(others) : b;
      return Buffer.concat([b.subarray(0, pos(1)), o.subarray(rng.int(o.length + 1))]);
    }
    case 8: {
      // overwrite a range with bytes from elsewhere
      const c = Buffer.from(b);
      if (n < 2) return c;
      const from = pos();
      const to = pos();
      const len = Math.min(rng.size(32), n - from, n - to);
      b.copy(c, to, from, from + len);
      return c;
    }
    default: {
      // swap two bytes
      const c = Buffer.from(b);
      if (n < 2) return c;
      const i = pos();
      const j = pos();
      [c[i], c[j]] = [c[j]!, c[i]!];
      return c;
    }
  }
}

/** A stack of 1..`max` byte mutations (havoc), mostly one. */
export function mutateBytes(rng: Rng, b: Buffer, others: readonly Buffer[] = [], max = 8): Buffer {
  let out = b;
  const k = rng.chance(0.6) ? 1 : rng.range(2, max);
  for (let i = 0; i < k; i++) out = mutateBytesOnce(rng, out, others);
  return out;
}

export function mutateText(rng: Rng, text: string, others: readonly string[] = [], max = 8): string {
  return mutateBytes(
    rng,
    Buffer.from(text, 'utf8'),
    others.map((o) => Buffer.from(o, 'utf8')),
    max,
  ).toString('utf8');
}

// ---------------------------------------------------------------------------
// JSON, structure-aware

/** Text written verbatim by `writeJson`: numbers JSON.stringify cannot write, or nesting too deep to build as objects. */
export class Raw {
  constructor(readonly text: string) {}
}

/** Members written twice: the extra [key, value] pairs of an object, written before its own members. */
const DUPLICATES = new WeakMap<object, Array<[string, unknown]>>();

type Json = null | boolean | number | string | Raw | Json[] | { [k: string]: Json };

const HUGE_NUMBERS = [
  '1e308',
  '1e999',
  '-1e999',
  '9007199254740993',
  '18446744073709551617',
  '-9007199254740993',
  '1.5',
  '0.1',
  '-1',
  '-0',
  '0',
  '2.0',
  '1e-400',
  '4294967296',
  '2147483648',
  '-2147483649',
  '123456789012345678901234567890',
  '0.000001',
  '5e-324',
];

function interestingValue(rng: Rng, like?: unknown): Json {
  switch (rng.int(14)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return new Raw(rng.pick(HUGE_NUMBERS));
    case 3:
      return rng.pick([
        0,
        -1,
        1,
        2,
        3,
        8,
        9,
        15,
        16,
        20,
        255,
        256,
        65535,
        65536,
        2 ** 31,
        2 ** 32,
        Number.MAX_SAFE_INTEGER,
        -Number.MAX_SAFE_INTEGER,
      ]);
    case 4:
      return '';
    case 5:
      return rng.pick([
        'x',
        '__proto__',
        'constructor',
        'toString',
        '0',
        'null',
        'true',
        '\u0000',
        '\ud800',
        '\u202e',
        'A'.repeat(65),
        '../../etc/passwd',
        'MK',
        '2026-01-01T00:00:00.000Z',
      ]);
    case 6:
      return 'A'.repeat(rng.size(1 << 20));
    case 7:
      return [];
    case 8:
      return {};
    case 9:
      return [like === undefined ? null : (like as Json)];
    case 10:
      return { [rng.pick(['a', '__proto__', 'format', 'command', 'length'])]: (like as Json) ?? null };
    case 11:
      return typeof like === 'string' ? like + like : typeof like === 'number' ? like + 1 : 1;
    case 12:
      return typeof like === 'number' ? -like : typeof like === 'string' ? like.slice(0, rng.int(like.length + 1)) : 0;
    default:
      return Array.from({ length: rng.size(5000) }, () => (like as Json) ?? 0);
  }
}

function deepNest(rng: Rng, inner: Json, indent: number | undefined): Raw {
  const depth = rng.pick([2, 10, 100, 1000, 5000, 20_000, 100_000]);
  const core = writeJson(inner, indent);
  return rng.chance(0.5)
    ? new Raw('['.repeat(depth) + core + ']'.repeat(depth))
    : new Raw('{"a":'.repeat(depth) + core + '}'.repeat(depth));
}

interface Slot {
  parent: Json[] | { [k: string]: Json };
  key: string | number;
}

function slots(root: Json): Slot[] {
  const out: Slot[] = [];
  const stack: Json[] = [root];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        out.push({ parent: v, key: i });
        stack.push(x);
      });
    } else if (v !== null && typeof v === 'object' && !(v instanceof Raw)) {
      for (const k of Object.keys(v)) {
        out.push({ parent: v, key: k });
        stack.push(v[k]!);
      }
    }
  }
  return out;
}

function containers(root: Json): Array<Json[] | { [k: string]: Json }> {
  const out: Array<Json[] | { [k: string]: Json }> = [];
  const stack: Json[] = [root];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (Array.isArray(v)) {
      out.push(v);
      stack.push(...v);
    } else if (v !== null && typeof v === 'object' && !(v instanceof Raw)) {
      out.push(v);
      stack.push(...Object.values(v));
    }
  }
  return out;
}

/** Sets an own member, even one named __proto__ (plain assignment would set the prototype). */
function defineMember(o: Record<string, Json>, k: string, v: Json): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function get(s: Slot): Json {
  return (s.parent as Record<string | number, Json>)[s.key]!;
}
function set(s: Slot, v: Json): void {
  if (Array.isArray(s.parent)) s.parent[s.key as number] = v;
  else defineMember(s.parent, s.key as string, v);
}

/**
 * One structure-aware mutation of a JSON value, in place (pass a copy).
 * Returns the (possibly new) root.
 */
export function mutateJsonOnce(rng: Rng, root: Json, indent: number | undefined): Json {
  const all = slots(root);
  if (all.length === 0 || rng.chance(0.02))
    return rng.chance(0.5) ? interestingValue(rng, root) : deepNest(rng, root, indent);
  const s = rng.pick(all);
  const v = get(s);
  switch (rng.int(11)) {
    case 0:
    case 1:
      set(s, interestingValue(rng, v));
      return root;
    case 2:
      set(s, typeof v === 'number' || rng.chance(0.3) ? new Raw(rng.pick(HUGE_NUMBERS)) : interestingValue(rng, v));
      return root;
    case 3:
      set(s, deepNest(rng, v, indent));
      return root;
    case 4:
      // remove a member or an element
      if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
      else delete s.parent[s.key as string];
      return root;
    case 5: {
      // add a member or an element
      const c = rng.pick(containers(root));
      const value = rng.chance(0.5) ? structuredCloneJson(get(rng.pick(all))) : interestingValue(rng);
      if (Array.isArray(c)) c.splice(rng.int(c.length + 1), 0, value);
      else
        defineMember(
          c,
          rng.pick(['extra', '__proto__', 'constructor', ...Object.keys(c), 'a'.repeat(rng.size(300))]) +
            (rng.chance(0.4) ? 'x' : ''),
          value,
        );
      return root;
    }
    case 6: {
      // duplicate key: the member written twice, the first time with another value
      if (Array.isArray(s.parent)) {
        s.parent.splice(s.key as number, 0, structuredCloneJson(v));
        return root;
      }
      const extra = DUPLICATES.get(s.parent) ?? [];
      extra.push([s.key as string, rng.chance(0.5) ? interestingValue(rng, v) : structuredCloneJson(v)]);
      DUPLICATES.set(s.parent, extra);
      return root;
    }
    case 7:
      // very long string
      set(
        s,
        typeof v === 'string' && v.length > 0
          ? v.repeat(Math.ceil(rng.size(1 << 20) / v.length))
          : 'x'.repeat(rng.size(1 << 20)),
      );
      return root;
    case 8:
      // tweak one character of a string
      if (typeof v === 'string' && v.length > 0) {
        const i = rng.int(v.length);
        set(
          s,
          v.slice(0, i) +
            String.fromCharCode(rng.chance(0.5) ? v.charCodeAt(i) ^ (1 << rng.int(7)) : rng.int(0x10000)) +
            v.slice(i + 1),
        );
      } else set(s, interestingValue(rng, v));
      return root;
    case 9: {
      // swap with another value of the tree
      const o = rng.pick(all);
      const w = get(o);
      set(o, structuredCloneJson(v));
      set(s, structuredCloneJson(w));
      return root;
    }
    default: {
      // repeat an element many times
      if (Array.isArray(s.parent)) {
        const times = rng.size(rng.chance(0.2) ? 100_000 : 50);
        s.parent.splice(s.key as number, 0, ...Array.from({ length: times }, () => v));
      } else set(s, [v, v]);
      return root;
    }
  }
}

/** The most a mutated JSON value may take written out (characters, roughly): beyond, the mutation is undone. */
export const MAX_JSON_CHARS = 4 * 1024 * 1024;

/** Roughly how many characters `v` takes written out, counting no further than `limit`. */
function approxSize(v: Json, limit: number): number {
  let n = 0;
  const stack: unknown[] = [v];
  while (stack.length > 0 && n <= limit) {
    const x = stack.pop();
    if (x instanceof Raw) n += x.text.length;
    else if (typeof x === 'string') n += x.length + 2;
    else if (Array.isArray(x)) {
      n += 2 + x.length;
      stack.push(...x);
    } else if (x !== null && typeof x === 'object') {
      for (const [k, y] of [...(DUPLICATES.get(x) ?? []), ...Object.entries(x)]) {
        n += k.length + 4;
        stack.push(y);
      }
      n += 2;
    } else n += 6;
  }
  return n;
}

export function mutateJson(rng: Rng, value: unknown, indent: number | undefined, max = 4): Json {
  let root = structuredCloneJson(value as Json);
  const k = rng.chance(0.6) ? 1 : rng.range(2, max);
  for (let i = 0; i < k; i++) {
    const before = structuredCloneJson(root);
    root = mutateJsonOnce(rng, root, indent);
    // Repeating a long string thousands of times would measure the memory of this process, not the parser.
    if (approxSize(root, MAX_JSON_CHARS) > MAX_JSON_CHARS) root = before;
  }
  return root;
}

function structuredCloneJson(v: Json): Json {
  if (v instanceof Raw) return v;
  if (Array.isArray(v)) return v.map(structuredCloneJson);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) defineMember(o, k, structuredCloneJson(x));
    const d = DUPLICATES.get(v);
    if (d)
      DUPLICATES.set(
        o,
        d.map(([k, x]) => [k, structuredCloneJson(x as Json)]),
      );
    return o;
  }
  return v;
}

/**
 * Writes JSON as JSON.stringify(v, null, indent) does, plus Raw text and
 * duplicate members. Iterative enough: nesting deeper than the seeds comes
 * only as Raw text.
 */
export function writeJson(v: unknown, indent?: number, level = 0): string {
  if (v instanceof Raw) return v.text;
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  const nl = indent ? '\n' + ' '.repeat(indent * (level + 1)) : '';
  const end = indent ? '\n' + ' '.repeat(indent * level) : '';
  const sep = indent ? ': ' : ':';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[' + v.map((x) => nl + writeJson(x, indent, level + 1)).join(',') + end + ']';
  }
  const members = [...(DUPLICATES.get(v) ?? []), ...Object.entries(v as Record<string, unknown>)].filter(
    ([, x]) => x !== undefined,
  );
  if (members.length === 0) return '{}';
  return (
    '{' + members.map(([k, x]) => nl + JSON.stringify(k) + sep + writeJson(x, indent, level + 1)).join(',') + end + '}'
  );
}

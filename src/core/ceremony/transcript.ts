import { canonicalJson, sha256Hex } from '../encoding.js';
import { CeremonyError } from '../errors.js';
import { appendDurably, readFileOrFail, writeFileExclusive } from '../files.js';

// The ceremony record: an append-only, hash-chained JSON Lines transcript
// (DESIGN.md, "Formats"). Each line is one step: who, what, when, and
// public values (fingerprints, KCVs, share commitments) — never a secret.
// Each entry's hash covers the previous entry's hash, so removing,
// reordering or editing any line breaks every hash after it.

export const TRANSCRIPT_FORMAT = 'keyceremony-transcript/1';
export const GENESIS_HASH = '0'.repeat(64);

export type TranscriptData = Record<string, string | number | boolean | null | string[] | Record<string, unknown>[] | Record<string, unknown>>;

export interface TranscriptEntry {
  format: typeof TRANSCRIPT_FORMAT;
  seq: number;
  time: string;
  type: string;
  actor: string;
  data: TranscriptData;
  prev: string;
  hash: string;
}

export type NewEntry = Pick<TranscriptEntry, 'type' | 'actor' | 'data'>;

function entryHash(e: Omit<TranscriptEntry, 'hash'>): string {
  return sha256Hex(canonicalJson(e));
}

function seal(prev: TranscriptEntry | null, entry: NewEntry, now: Date): TranscriptEntry {
  const body = {
    format: TRANSCRIPT_FORMAT,
    seq: prev ? prev.seq + 1 : 1,
    time: now.toISOString(),
    type: entry.type,
    actor: entry.actor,
    data: entry.data,
    prev: prev ? prev.hash : GENESIS_HASH,
  } as const;
  return { ...body, hash: entryHash(body) };
}

/** Parses and verifies a transcript's text; names the first line that fails. */
export function parseTranscript(text: string, what = 'The ceremony record'): TranscriptEntry[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else if (lines.length > 0) {
    throw new CeremonyError('TranscriptInvalid', `${what} is truncated: its last line is incomplete.`);
  }
  const entries: TranscriptEntry[] = [];
  let prev: TranscriptEntry | null = null;
  for (const [i, line] of lines.entries()) {
    const n = i + 1;
    let e: TranscriptEntry;
    try {
      e = JSON.parse(line) as TranscriptEntry;
    } catch {
      throw new CeremonyError('TranscriptInvalid', `${what} is damaged at line ${n}: it is not valid JSON.`, { line: n });
    }
    const keys = Object.keys(e ?? {}).sort().join(',');
    if (keys !== 'actor,data,format,hash,prev,seq,time,type' || e.format !== TRANSCRIPT_FORMAT) {
      throw new CeremonyError('TranscriptInvalid', `${what} is damaged at line ${n}: it is not a transcript entry.`, { line: n });
    }
    if (e.seq !== n || e.prev !== (prev ? prev.hash : GENESIS_HASH)) {
      throw new CeremonyError('TranscriptInvalid', `${what} is broken at line ${n}: the chain to the previous entry does not hold (an entry was removed, reordered or inserted).`, { line: n });
    }
    const { hash, ...body } = e;
    if (entryHash(body) !== hash) {
      throw new CeremonyError('TranscriptInvalid', `${what} is altered at line ${n}: the entry does not match its hash.`, { line: n });
    }
    entries.push(e);
    prev = e;
  }
  if (entries.length === 0) throw new CeremonyError('TranscriptInvalid', `${what} is empty.`);
  return entries;
}

export function readTranscript(path: string): TranscriptEntry[] {
  const text = readFileOrFail(path, 'Ceremony record').toString('utf8');
  return parseTranscript(text, `The ceremony record ${path}`);
}

/** Starts a new record; refuses an existing file. */
export function createTranscript(path: string, first: NewEntry, now = new Date()): TranscriptEntry {
  const e = seal(null, first, now);
  writeFileExclusive(path, JSON.stringify(e) + '\n', 0o644);
  return e;
}

/** Verifies the whole chain, then appends one entry durably. */
export function appendTranscript(path: string, entry: NewEntry, now = new Date()): TranscriptEntry {
  const entries = readTranscript(path);
  const e = seal(entries[entries.length - 1]!, entry, now);
  appendDurably(path, JSON.stringify(e) + '\n');
  return e;
}

export function headHash(entries: TranscriptEntry[]): string {
  return entries[entries.length - 1]!.hash;
}

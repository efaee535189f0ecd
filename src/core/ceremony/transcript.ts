import { canonicalJson, sha256Hex } from '../encoding.js';
import { CeremonyError } from '../errors.js';
import { appendAtomically, readFileOrFail, writeFileExclusive } from '../files.js';
import { ceremoniesOf, closingData, ENTRY, isEntryType, recordMode, type Closing, type EntryType } from './record.js';

// The ceremony record: an append-only, hash-chained JSON Lines transcript
// (DESIGN.md, "Formats"). Each line is one step: who, what, when, and
// public values (fingerprints, KCVs, share commitments) — never a secret.
// Each entry's hash covers the previous entry's hash, so removing,
// reordering or editing any line breaks every hash after it.
//
// The chain alone only catches accidents: whoever can write the file can
// recompute it. So every line must also be exactly the canonical JSON this
// tool writes (one form per entry: no spaces, sorted keys, no duplicates,
// whole numbers only), every entry of a kind this tool writes, and the
// record a sequence of ceremonies each ended by a closing entry that counts
// its entries (record.ts, ceremoniesOf). What is left to an attacker, a
// consistent rewrite, is caught by comparing the head hash with the one on
// the signed report (`keyceremony transcript verify --head`).

export const TRANSCRIPT_FORMAT = 'keyceremony-transcript/1';
export const GENESIS_HASH = '0'.repeat(64);

export type TranscriptData = Record<
  string,
  string | number | boolean | null | string[] | Record<string, unknown>[] | Record<string, unknown>
>;

export interface TranscriptEntry {
  format: typeof TRANSCRIPT_FORMAT;
  seq: number;
  time: string;
  type: EntryType;
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

const ENTRY_KEYS = 'actor,data,format,hash,prev,seq,time,type';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One line as the entry it must be, or the reason it is refused. */
function parseLine(line: string, n: number, what: string): TranscriptEntry {
  const refuse = (problem: string): CeremonyError =>
    new CeremonyError('TranscriptInvalid', `${what} ${problem}`, { line: n });
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw refuse(`is damaged at line ${n}: it is not valid JSON.`);
  }
  let canonical: string;
  try {
    canonical = canonicalJson(value);
  } catch {
    // canonicalJson refuses what the tool never writes: fractions, and integers beyond 2^53.
    throw refuse(
      `is not in the form this tool writes at line ${n} (a number that is not a whole number, or too large): it was edited. Use the original record.`,
    );
  }
  // JSON.parse keeps the last of duplicate keys, so re-serialising differs from the line.
  if (canonical !== line) {
    throw refuse(
      `is not in the form this tool writes at line ${n} (extra spaces, line endings, key order or duplicate keys): it was edited. Use the original record.`,
    );
  }
  if (
    !isPlainObject(value) ||
    Object.keys(value).sort().join(',') !== ENTRY_KEYS ||
    value['format'] !== TRANSCRIPT_FORMAT
  ) {
    throw refuse(`is damaged at line ${n}: it is not a transcript entry.`);
  }
  if (!isEntryType(value['type'])) {
    throw refuse(
      `is not in the form this tool writes at line ${n}: "${String(value['type'])}" is not a kind of entry this tool writes. Use the original record.`,
    );
  }
  if (!isPlainObject(value['data']) || typeof value['actor'] !== 'string' || typeof value['time'] !== 'string') {
    throw refuse(
      `is not in the form this tool writes at line ${n}: its data must be an object, its actor and time text. Use the original record.`,
    );
  }
  return value as unknown as TranscriptEntry;
}

/**
 * Parses and verifies a transcript's text: every line canonical and chained
 * to the one before, and the whole a sequence of ceremonies. Names the first
 * line that fails. A record whose last ceremony is still open passes: that
 * is for the reader to judge (ceremoniesOf, summarize).
 */
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
    const e = parseLine(line, n, what);
    if (e.seq !== n || e.prev !== (prev ? prev.hash : GENESIS_HASH)) {
      throw new CeremonyError(
        'TranscriptInvalid',
        `${what} is broken at line ${n}: the chain to the previous entry does not hold (an entry was removed, reordered or inserted).`,
        { line: n },
      );
    }
    const { hash, ...body } = e;
    if (entryHash(body) !== hash) {
      throw new CeremonyError(
        'TranscriptInvalid',
        `${what} is altered at line ${n}: the entry does not match its hash.`,
        { line: n },
      );
    }
    entries.push(e);
    prev = e;
  }
  if (entries.length === 0) throw new CeremonyError('TranscriptInvalid', `${what} is empty.`);
  ceremoniesOf(entries, what);
  return entries;
}

export function readTranscript(path: string): TranscriptEntry[] {
  return readRecordFile(path).entries;
}

/** A record as read: its bytes, and its entries checked. */
interface RecordFile {
  bytes: Buffer;
  entries: TranscriptEntry[];
}

function readRecordFile(path: string): RecordFile {
  const bytes = readFileOrFail(path, 'Ceremony record');
  return { bytes, entries: parseTranscript(bytes.toString('utf8'), `The ceremony record ${path}`) };
}

/** The line the tool writes for an entry: its canonical JSON. */
function line(e: TranscriptEntry): string {
  return canonicalJson(e) + '\n';
}

/**
 * The entries a new record would begin with, sealed in memory and checked as
 * a record's structure is, for the checks a command makes before it writes
 * the record (a recovery from the paper report, issue 11). Nothing is written.
 */
export function draftRecord(first: readonly NewEntry[], now = new Date()): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  for (const e of first) entries.push(seal(entries.at(-1) ?? null, marked(entries, e), now));
  ceremoniesOf(entries, 'The new ceremony record');
  return entries;
}

/** Starts a new record with the opening of its first ceremony; refuses an existing file. */
export function createTranscript(path: string, first: NewEntry, now = new Date()): TranscriptEntry {
  const e = seal(null, marked([], first), now);
  ceremoniesOf([e], `The new ceremony record ${path}`);
  writeFileExclusive(path, line(e), 0o644);
  return e;
}

/**
 * Verifies the whole record, then appends one entry durably. An entry that
 * would break the record's structure (a step outside any ceremony, a second
 * opening) is refused before anything is written.
 */
export function appendTranscript(path: string, entry: NewEntry, now = new Date()): TranscriptEntry {
  return appendTo(path, readRecordFile(path), entry, now);
}

/**
 * An entry of a rehearsal record says so (issue 11, "REHEARSAL on every
 * record entry"): once the record's key lives in a rehearsal (recordMode),
 * and from the opening that says `mode: "rehearsal"` on, every entry added
 * to it carries `rehearsal: true` in its data, whichever ceremony or command
 * writes it (a new record's first entry too). An entry that states its own
 * `rehearsal` (a bundle's mode) is left as it is.
 */
function marked(entries: readonly TranscriptEntry[], entry: NewEntry): NewEntry {
  const opensRehearsal = entry.type === ENTRY.opened && entry.data['mode'] === 'rehearsal';
  if ('rehearsal' in entry.data || (!opensRehearsal && recordMode(entries)?.rehearsal !== true)) return entry;
  return { ...entry, data: { ...entry.data, rehearsal: true } };
}

/**
 * The new line is added atomically (appendAtomically: the record is
 * rewritten whole and renamed into place), so a command killed while it
 * writes leaves the record as it was or with the whole new entry, never a
 * half-written line (issue 10, "Killed at any moment").
 */
function appendTo(path: string, record: RecordFile, entry: NewEntry, now: Date): TranscriptEntry {
  const e = seal(record.entries[record.entries.length - 1]!, marked(record.entries, entry), now);
  ceremoniesOf([...record.entries, e], `The ceremony record ${path}, with its new entry,`);
  // Nothing another writer added since the record was read is lost.
  if (!readFileOrFail(path, 'Ceremony record').equals(record.bytes)) {
    throw new CeremonyError(
      'TranscriptInvalid',
      `The ceremony record ${path} changed while this entry was being added (another command is writing it); nothing was added. Run the command again.`,
    );
  }
  appendAtomically(path, record.bytes, line(e));
  return e;
}

/**
 * Ends the ceremony open at the end of the record: the wipe of its key
 * (when it held one: `wiped` is the note), then the closing entry, which
 * counts the ceremony's entries, its opening and this closing included.
 * Used by the CLI and the desktop app alike.
 */
export function endCeremony(
  path: string,
  actor: string,
  end: {
    wiped: string | null;
    closing: Closing;
  },
  now = new Date(),
): void {
  if (end.wiped !== null) appendTranscript(path, { type: ENTRY.masterKeyWiped, actor, data: { note: end.wiped } }, now);
  const record = readRecordFile(path);
  const open = ceremoniesOf(record.entries).ceremonies.at(-1)!;
  if (open.outcome.kind !== 'open') {
    throw new CeremonyError('TranscriptInvalid', `The ceremony record ${path} has no open ceremony to close.`);
  }
  appendTo(path, record, { type: ENTRY.closed, actor, data: closingData(end.closing, open.entries.length + 1) }, now);
}

export function headHash(entries: TranscriptEntry[]): string {
  return entries[entries.length - 1]!.hash;
}

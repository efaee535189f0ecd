import { CeremonyError } from '../errors.js';
import { checkRecordComplete, recordHistory, type RecordHistory } from './report.js';
import { headHash, readTranscript, type TranscriptEntry } from './transcript.js';

// Checking a whole ceremony record (issue 11, ceremony 6: "open a record,
// verify chain, closing and head, show the ceremony's history"). The checks
// are those of `keyceremony transcript verify` (src/cli/keyceremony.ts), by
// the same functions: the hash chain and the form of every line when read
// (readTranscript), then every ceremony closed (checkRecordComplete). The
// history is the one the printed report renders (report.ts recordHistory).

/** A record found sound: chained, every ceremony closed. */
export interface CheckedRecord {
  readonly entries: readonly TranscriptEntry[];
  /** The hash of its last entry (hex): what the signed report printed. */
  readonly head: string;
  readonly history: RecordHistory;
}

/**
 * Reads and checks the record at `path` as `transcript verify` does; throws
 * the sentence it gives for a broken, cut or incomplete record.
 */
export function checkRecordFile(path: string): CheckedRecord {
  const entries = readTranscript(path);
  checkRecordComplete(entries);
  return { entries, head: headHash(entries), history: recordHistory(entries) };
}

/**
 * A head hash as typed from a signed report (`transcript verify --head`):
 * 64 hex digits, in groups or not, either case. Undefined when it is not.
 */
export function typedHeadHash(text: string): string | undefined {
  const hex = text.replace(/\s+/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

/**
 * Whether the head hash typed from a signed report is the record's own
 * head (the whole record's, as `transcript verify --head` requires: a record
 * cut or added to after the report does not match). Refuses what is not a
 * head hash, naming what to type.
 */
export function recordHeadMatches(record: CheckedRecord, typed: string): { matches: boolean; typed: string } {
  const hex = typedHeadHash(typed);
  if (hex === undefined)
    throw new CeremonyError(
      'InvalidArgument',
      'The head hash must be the 64 hex digits printed on the signed report (spaces allowed).',
    );
  return { matches: hex === record.head, typed: hex };
}

import { basename } from 'node:path';
import type { BundleSummary } from '../bundle/bundle.js';
import { CeremonyError } from '../errors.js';
import { verifyBundleFile } from './bundles.js';
import { ENTRY } from './record.js';
import {
  checkRecordComplete,
  recordHistory,
  recordReportDocument,
  rosterOfRecord,
  type RecordHistory,
} from './report.js';
import { documentHtml } from '../document/html.js';
import type { PrintedDocument } from '../document/model.js';
import type { FileDialogs } from './session.js';
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

/**
 * The report `transcript report` prints of a record's entries, checked first
 * as `transcript verify` checks them (every ceremony closed): the people the
 * record names, and the witnesses given (`--witness`) added to its own.
 */
export function recordReportOf(
  entries: TranscriptEntry[],
  witnesses: readonly string[],
  generatedAt: Date,
): PrintedDocument {
  checkRecordComplete(entries);
  const roster = rosterOfRecord(entries);
  for (const w of witnesses) if (!roster.witnesses.includes(w)) roster.witnesses.push(w);
  return recordReportDocument(entries, roster, generatedAt);
}

/** The report of the record at `path`, as HTML for printing (the record read anew). */
export function recordReportHtml(path: string, generatedAt: Date, witnesses: readonly string[] = []): string {
  return documentHtml(recordReportOf(readTranscript(path), witnesses, generatedAt));
}

// ---------------------------------------------------------------------------
// The record check of the desktop app: a record opened and checked, its
// head compared with the paper, its bundles checked against it (`bundle
// verify --record`), and its report printed (`transcript report`).

/** A record the record check found sound (issue 11, ceremony 6): chained, every ceremony closed. */
export interface RecordVerified {
  readonly fileName: string;
  /** How many entries (lines) it holds. */
  readonly entries: number;
  /** The hash of its last entry (hex), as the signed report prints it. */
  readonly head: string;
  /** Every ceremony, share, bundle and the end of the key, as the printed report derives them. */
  readonly history: RecordHistory;
}

/** A head hash typed from a signed report, compared with the record's (the typed value as hex). */
export interface HeadComparison {
  readonly matches: boolean;
  readonly typed: string;
}

/** A bundle file checked against the opened record, as `bundle verify BUNDLE --record RECORD` checks it. */
export interface BundleChecked {
  readonly fileName: string;
  readonly summary: BundleSummary;
  /** Every signature the file carries, each checked against the certificate it carries. */
  readonly signatures: readonly { readonly name: string; readonly thumbprint: string; readonly valid: boolean }[];
  /** For a claim (initialize, recover onto cleared units): the admins it installs, and whether each signed. */
  readonly claimAdmins:
    readonly { readonly name: string; readonly thumbprint: string; readonly signed: boolean }[] | null;
  /** The record's bundle-created entry that holds it. */
  readonly recordedAt: { readonly line: number; readonly time: string };
  /** Who the record says signed it (bundle-signed entries of the same payload), in order. */
  readonly signedInRecord: readonly string[];
}

export interface RecordCheckPorts {
  readonly dialogs: FileDialogs;
  /** The system print dialog for a document; false when the person cancelled it. */
  printHtml(html: string): Promise<boolean>;
  readonly now?: () => Date;
}

/** The record check (start screen): one record at a time; nothing here writes anything. */
export class RecordCheck {
  private opened: { path: string; record: CheckedRecord } | null = null;
  private readonly now: () => Date;

  constructor(private readonly ports: RecordCheckPorts) {
    this.now = ports.now ?? (() => new Date());
  }

  /**
   * Opens a record (dialog) and checks it as `transcript verify` does;
   * refused with the sentence the CLI gives. Nothing is written.
   */
  async open(): Promise<RecordVerified> {
    const path = await this.ports.dialogs.openFile({
      title: 'Open the ceremony record to check',
      filters: [{ name: 'Ceremony record', extensions: ['jsonl'] }],
    });
    if (path === null) throw new CeremonyError('Canceled', 'No file was chosen.');
    this.opened = null;
    const record = checkRecordFile(path);
    this.opened = { path, record };
    return { fileName: basename(path), entries: record.entries.length, head: record.head, history: record.history };
  }

  /**
   * Compares a head hash typed from the signed paper report with the head of
   * the opened record (the rule of `transcript verify --head`).
   */
  compareHead(typed: string): HeadComparison {
    return recordHeadMatches(this.expectOpened().record, typed);
  }

  /**
   * Opens a bundle file (dialog) and checks it against the opened record as
   * `bundle verify BUNDLE --record RECORD` does: every signature against its
   * certificate, and the record holds it (its bundle-created entry, and the
   * entry it was built at). A bundle the record does not hold, or one with a
   * signature that does not verify (altered after signing), is refused with
   * the CLI's sentence.
   */
  async openBundle(): Promise<BundleChecked> {
    const { path: recordPath } = this.expectOpened();
    const path = await this.ports.dialogs.openFile({
      title: 'Open a bundle of this record',
      filters: [{ name: 'Import bundle', extensions: ['json'] }],
    });
    if (path === null) throw new CeremonyError('Canceled', 'No file was chosen.');
    const r = verifyBundleFile(path, recordPath);
    if (!r.allValid)
      throw new CeremonyError(
        'BundleSignatureInvalid',
        `${basename(path)} has an invalid signature: it was altered after signing. Do not use it.`,
      );
    // The record is read again: what is checked is the file as it is now.
    const entries = readTranscript(recordPath);
    return {
      fileName: basename(path),
      summary: r.summary,
      signatures: r.signatures.map((x) => ({ name: x.name, thumbprint: x.thumbprint, valid: x.valid })),
      claimAdmins: r.claimAdmins,
      recordedAt: { line: r.recordEntry!.seq, time: r.recordEntry!.time },
      signedInRecord: entries
        .filter((e) => e.type === ENTRY.bundleSigned && e.data['payloadHash'] === r.bundle.payloadHash)
        .map((e) => String(e.data['admin'])),
    };
  }

  /**
   * Prints the opened record's report (the document of `transcript report`:
   * the key's whole life, the head as hex and words, signature lines for the
   * people its ceremonies name).
   */
  async printReport(): Promise<{ printed: boolean }> {
    const { path } = this.expectOpened();
    return { printed: await this.ports.printHtml(recordReportHtml(path, this.now())) };
  }

  private expectOpened(): { path: string; record: CheckedRecord } {
    if (this.opened === null) throw new CeremonyError('WrongStep', 'Open the ceremony record to check first.');
    return this.opened;
  }
}

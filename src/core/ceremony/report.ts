import { documentHtml, escapeHtml } from '../document/html.js';
import {
  cell,
  lineBreak,
  mono,
  paragraph,
  plain,
  type Block,
  type Inline,
  type PrintedDocument,
  type Section,
} from '../document/model.js';
import { CeremonyError, missingCase } from '../errors.js';
import { hexGroups, pgpWords } from './fingerprint.js';
import { ceremoniesOf, ENTRY, type CeremonyInRecord, type CeremonyOutcome } from './record.js';
import { headHash, type TranscriptEntry } from './transcript.js';

// The printable ceremony record, built once as a document model
// (src/core/document/model.ts) and rendered to HTML (the app prints it) or to
// PDF (the CLI writes it): one self-contained document that the participants
// print, read and sign. It is a rendering of the transcript, never a
// replacement for it: the JSON Lines record stays the authoritative copy.
//
// It reads the entries directly rather than through summarize(), which
// refuses aborted and incomplete records: those must print too.

export { escapeHtml };

export interface CeremonyRoster {
  operator: string;
  admins: string[];
  custodians: string[];
  witnesses: string[];
}

type Data = TranscriptEntry['data'];

function str(d: Data, k: string): string | undefined {
  const v = d[k];
  return typeof v === 'string' ? v : undefined;
}
function int(d: Data, k: string): number | undefined {
  const v = d[k];
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}
function strs(d: Data, k: string): string[] {
  const v = d[k];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

interface ShareRow {
  shareIndex: number | undefined;
  custodian: string;
  medium: string;
  location: string;
  commitment: string;
  verified: boolean | undefined;
  time: string;
}

interface BundleRow {
  bundleId: string;
  sequence: number | undefined;
  targets: string[];
  payloadHash: string;
  signatures: string[] | undefined;
  time: string;
}

interface ReadRecord {
  opened: boolean;
  ceremonyId: string;
  ceremonyName: string;
  keyName: string;
  threshold: number | undefined;
  shares: number | undefined;
  custodians: string[];
  kcv: string;
  verificationPattern: string;
  issued: ShareRow[];
  bundles: BundleRow[];
  units: Map<string, { fingerprint: string; bundles: string[] }>;
  /** The closing entry of the first ceremony (the one that made the key), if it has one. */
  closing:
    | { outcome: 'completed'; note: string | undefined }
    | { outcome: 'aborted'; reason: string; code: string; time: string }
    | undefined;
}

function readRecord(entries: TranscriptEntry[]): ReadRecord {
  const first = entries[0];
  const opened = first?.type === ENTRY.opened;
  const od: Data = opened ? first.data : {};
  const r: ReadRecord = {
    opened,
    ceremonyId: str(od, 'ceremonyId') ?? '',
    ceremonyName: str(od, 'ceremonyName') ?? str(od, 'keyName') ?? '',
    keyName: str(od, 'keyName') ?? '',
    threshold: int(od, 'threshold'),
    shares: int(od, 'shares'),
    custodians: strs(od, 'custodians'),
    kcv: '',
    verificationPattern: '',
    issued: [],
    bundles: [],
    units: new Map(),
    closing: undefined,
  };
  for (const e of entries.slice(opened ? 1 : 0)) {
    const d = e.data;
    switch (e.type) {
      case ENTRY.masterKeyGenerated:
        r.kcv = str(d, 'kcv') ?? r.kcv;
        r.verificationPattern = str(d, 'verificationPattern') ?? r.verificationPattern;
        break;
      case ENTRY.shareIssued: {
        const v = d['verifiedReadBack'];
        r.issued.push({
          shareIndex: int(d, 'shareIndex'),
          custodian: str(d, 'custodian') ?? '',
          medium: str(d, 'medium') ?? '',
          location: str(d, 'location') ?? '',
          commitment: str(d, 'commitment') ?? '',
          verified: typeof v === 'boolean' ? v : undefined,
          time: e.time,
        });
        break;
      }
      case ENTRY.bundleCreated: {
        const bundleId = str(d, 'bundleId') ?? '';
        const targets = strs(d, 'targets');
        r.bundles.push({
          bundleId,
          sequence: int(d, 'sequence'),
          targets,
          payloadHash: str(d, 'payloadHash') ?? '',
          // Filled by bundle-signed entries; the CLI signs bundle files without recording it.
          signatures: undefined,
          time: e.time,
        });
        // The transports are recorded in the order of the targets they name.
        const fps = strs(d, 'transportFingerprints');
        for (const [i, unit] of targets.entries()) {
          const fingerprint = fps[i];
          if (fingerprint === undefined) continue;
          const u = r.units.get(unit) ?? { fingerprint, bundles: [] };
          if (u.fingerprint !== fingerprint) u.fingerprint = `${u.fingerprint} / ${fingerprint}`;
          u.bundles.push(bundleId);
          r.units.set(unit, u);
        }
        break;
      }
      case ENTRY.closed:
        r.closing ??=
          d['outcome'] === 'completed'
            ? { outcome: 'completed', note: str(d, 'note') }
            : {
                outcome: 'aborted',
                reason: str(d, 'reason') ?? '(no reason recorded)',
                code: str(d, 'code') ?? '',
                time: e.time,
              };
        break;
      case ENTRY.bundleSigned: {
        const b = r.bundles.find((x) => x.bundleId === str(d, 'bundleId'));
        const admin = str(d, 'admin');
        if (b && admin !== undefined) (b.signatures ??= []).push(admin);
        break;
      }
      default:
        break;
    }
  }
  return r;
}

function outcome(r: ReadRecord): { text: string; cls: string } {
  if (r.closing?.outcome === 'aborted') {
    const code = r.closing.code ? ` [${r.closing.code}]` : '';
    return {
      text: `Aborted at ${r.closing.time}: ${r.closing.reason}${code}. Its shares do not form a usable set.`,
      cls: 'aborted',
    };
  }
  if (!r.opened)
    return { text: 'Incomplete: the record does not start with the opening of a ceremony.', cls: 'aborted' };
  if (r.closing === undefined) {
    return {
      text: 'Incomplete: the ceremony has no closing entry (it was cut off, or lines were cut from the end of the record). Its shares cannot be trusted.',
      cls: 'aborted',
    };
  }
  if (!r.kcv) return { text: 'Incomplete: the record has no master key.', cls: 'aborted' };
  if (r.shares !== undefined && r.issued.length < r.shares) {
    return { text: `Incomplete: ${r.issued.length} of ${r.shares} shares were issued.`, cls: 'aborted' };
  }
  // A ceremony closed at the application's next start says so.
  return { text: r.closing.note ? `Completed. ${r.closing.note}` : 'Completed.', cls: 'completed' };
}

const none: Inline = [{ text: '—', style: 'none' }];

function monoOrNone(text: string | undefined): Inline {
  return text ? [mono(text)] : none;
}

function textOrNone(text: string | undefined): Inline {
  return text ? [plain(text)] : none;
}

function hexBytes(hex: string): Uint8Array | undefined {
  return /^(?:[0-9a-fA-F]{2})+$/.test(hex) ? new Uint8Array(Buffer.from(hex, 'hex')) : undefined;
}

/** A hex digest as groups to compare by eye, and as PGP words to read aloud. */
export function digestInline(hex: string): Inline {
  const bytes = hexBytes(hex);
  if (!bytes) return monoOrNone(hex);
  return [mono(hexGroups(bytes).join(' ')), lineBreak, { text: pgpWords(bytes).join(' '), style: 'words' }];
}

function summaryBlock(r: ReadRecord, entries: TranscriptEntry[]): Block {
  const o = outcome(r);
  const kOfN = r.threshold !== undefined && r.shares !== undefined ? `${r.threshold} of ${r.shares}` : '';
  const rows: Array<{ label: string; value: Inline }> = [
    { label: 'Ceremony ID', value: monoOrNone(r.ceremonyId) },
    { label: 'Ceremony name', value: textOrNone(r.ceremonyName) },
    { label: 'Key name', value: textOrNone(r.keyName) },
    { label: 'Shares needed (K of N)', value: textOrNone(kOfN) },
    { label: 'Key check value (KCV)', value: monoOrNone(r.kcv) },
  ];
  if (r.verificationPattern) rows.push({ label: 'Verification pattern', value: monoOrNone(r.verificationPattern) });
  const closed = entries[entries.length - 1];
  rows.push(
    { label: 'Opened', value: [plain(entries[0]?.time ?? '')] },
    { label: 'Closed (last entry)', value: [plain(closed?.time ?? '')] },
    { label: 'Transcript entries', value: [plain(String(entries.length))] },
    { label: 'Transcript head hash', value: entries.length > 0 ? digestInline(headHash(entries)) : none },
    { label: 'Outcome', value: [{ text: o.text, style: o.cls === 'completed' ? 'verdict' : 'alarm' }] },
  );
  return { kind: 'fields', name: 'summary', rows };
}

function sharesBlock(r: ReadRecord): Block {
  if (r.issued.length === 0) return paragraph('No share was issued.', 'none');
  return {
    kind: 'table',
    name: 'shares',
    columns: [
      { title: 'Share', weight: 6 },
      { title: 'Custodian', weight: 13 },
      { title: 'Medium', weight: 8 },
      { title: 'Location', weight: 14 },
      { title: 'Commitment', weight: 27 },
      { title: 'Verified read-back', weight: 9 },
      { title: 'Issued', weight: 22 },
    ],
    rows: r.issued.map((s) => [
      cell(s.shareIndex === undefined ? undefined : String(s.shareIndex)),
      cell(s.custodian),
      cell(s.medium),
      cell(s.location, 'mono'),
      cell(s.commitment, 'mono'),
      cell(s.verified === undefined ? undefined : s.verified ? 'Yes' : 'NO'),
      cell(s.time),
    ]),
  };
}

function bundlesBlock(r: ReadRecord): Block {
  if (r.bundles.length === 0) return paragraph('No import bundle was created.', 'none');
  return {
    kind: 'table',
    name: 'bundles',
    columns: [
      { title: 'Bundle', weight: 12 },
      { title: 'Sequence', weight: 9 },
      { title: 'Targets', weight: 12 },
      { title: 'Payload hash', weight: 28 },
      { title: 'Signatures', weight: 17 },
      { title: 'Created', weight: 22 },
    ],
    rows: r.bundles.map((b) => [
      cell(b.bundleId, 'mono'),
      cell(b.sequence === undefined ? undefined : String(b.sequence)),
      cell(b.targets.join(', ')),
      cell(b.payloadHash, 'mono'),
      cell(b.signatures === undefined ? 'not recorded' : b.signatures.length === 0 ? 'none' : b.signatures.join('; ')),
      cell(b.time),
    ]),
  };
}

function unitsSection(r: ReadRecord): Section[] {
  if (r.units.size === 0) return [];
  return [
    {
      heading: 'Units and transport key fingerprints',
      blocks: [
        {
          kind: 'table',
          name: 'units',
          columns: [
            { title: 'Unit', weight: 15 },
            { title: 'Transport key fingerprint (SHA-256 of the public key)', weight: 60 },
            { title: 'Bundles', weight: 25 },
          ],
          rows: [...r.units.entries()].map(([unit, u]) => [
            cell(unit, 'mono'),
            { content: digestInline(u.fingerprint), look: 'plain' },
            cell(u.bundles.join(', '), 'mono'),
          ]),
        },
      ],
    },
  ];
}

function outcomeWords(o: CeremonyOutcome): string {
  switch (o.kind) {
    case 'completed':
      return 'Completed';
    case 'aborted':
      return `Aborted [${o.code}]: ${o.reason}`;
    case 'open':
      return 'No closing entry';
    default:
      return missingCase(o);
  }
}

/**
 * Every ceremony of the record (a record holds a key's whole life), when it
 * holds more than one; a record of one ceremony says it all in its summary.
 * A record whose structure is broken prints without this table: the app
 * prints such records too, and the CLI refuses them before it gets here.
 */
function ceremoniesSection(entries: TranscriptEntry[]): Section[] {
  let ceremonies: CeremonyInRecord[];
  try {
    ceremonies = ceremoniesOf(entries).ceremonies;
  } catch {
    return [];
  }
  if (ceremonies.length < 2) return [];
  const rows = ceremonies.map((c, i) => {
    const d = c.entries[0]!.data;
    const s = (k: string): string | undefined => (typeof d[k] === 'string' ? d[k] : undefined);
    const last = c.entries.at(-1)!;
    return [
      cell(String(i + 1)),
      cell(s('kind') ?? (c.entries.some((e) => e.type === ENTRY.masterKeyGenerated) ? 'key generation' : undefined)),
      cell(s('ceremonyName')),
      cell(s('keyName')),
      cell(s('ceremonyId'), 'mono'),
      cell(`${c.entries[0]!.seq}–${last.seq}`),
      cell(c.entries[0]!.time),
      cell(c.outcome.kind === 'open' ? undefined : last.time),
      cell(outcomeWords(c.outcome)),
    ];
  });
  return [
    {
      heading: 'Ceremonies in this record',
      blocks: [
        {
          kind: 'table',
          name: 'ceremonies',
          columns: [
            { title: '#', weight: 4 },
            { title: 'Kind', weight: 9 },
            { title: 'Ceremony', weight: 13 },
            { title: 'Key', weight: 9 },
            { title: 'Ceremony ID', weight: 16 },
            { title: 'Lines', weight: 7 },
            { title: 'Opened', weight: 15 },
            { title: 'Closed', weight: 15 },
            { title: 'Outcome', weight: 12 },
          ],
          rows,
        },
      ],
    },
  ];
}

function transcriptBlock(entries: TranscriptEntry[]): Block {
  return {
    kind: 'table',
    name: 'transcript',
    columns: [
      { title: '#', weight: 4 },
      { title: 'Time', weight: 21 },
      { title: 'Step', weight: 17 },
      { title: 'Actor', weight: 9 },
      { title: 'Data', weight: 32 },
      { title: 'Hash (prefix)', weight: 17 },
    ],
    rows: entries.map((e) => [
      cell(String(e.seq)),
      cell(e.time),
      cell(e.type),
      cell(e.actor),
      cell(JSON.stringify(e.data), 'data'),
      cell(e.hash.slice(0, 16), 'mono'),
    ]),
  };
}

function participants(roster: CeremonyRoster, r: ReadRecord): Array<{ role: string; name: string }> {
  // Every custodian the record names signs, even one the roster left out.
  const custodians = [...roster.custodians];
  for (const c of [...r.custodians, ...r.issued.map((s) => s.custodian)]) {
    if (c && !custodians.includes(c)) custodians.push(c);
  }
  return [
    { role: 'Operator', name: roster.operator },
    ...roster.admins.map((name) => ({ role: 'Administrator', name })),
    ...custodians.map((name) => ({ role: 'Custodian', name })),
    ...roster.witnesses.map((name) => ({ role: 'Witness', name })),
  ];
}

/** The ceremony record as a printable document: summary, every ceremony, shares, bundles, units, transcript, signatures. */
export function recordReportDocument(
  entries: TranscriptEntry[],
  roster: CeremonyRoster,
  generatedAt: Date,
): PrintedDocument {
  const r = readRecord(entries);
  const name = r.ceremonyName || r.keyName || r.ceremonyId || '(unnamed)';
  const head = entries.length > 0 ? headHash(entries) : '';
  return {
    title: `Key ceremony record — ${name}`,
    header: [paragraph(`Printed ${generatedAt.toISOString()} from the ceremony record.`, 'generated')],
    sections: [
      { heading: 'Summary', blocks: [summaryBlock(r, entries)] },
      ...ceremoniesSection(entries),
      { heading: 'Shares', blocks: [sharesBlock(r)] },
      { heading: 'Import bundles', blocks: [bundlesBlock(r)] },
      ...unitsSection(r),
      { heading: 'Transcript', blocks: [transcriptBlock(entries)] },
      {
        heading: 'Signatures',
        blocks: [
          paragraph([
            plain(
              'By signing, each person below confirms that this printout shows the ceremony they took part in or witnessed, whose transcript ends in the head hash ',
            ),
            mono(head),
            plain('.'),
          ]),
          { kind: 'signatures', people: participants(roster, r) },
        ],
      },
    ],
    footer: [
      paragraph([
        plain(
          'This printout is a rendering of the ceremony record. The record file (JSON Lines, hash-chained) is the authoritative copy: where the two differ, the file prevails. Verify it with ',
        ),
        { text: 'keyceremony transcript verify RECORD.jsonl', style: 'code' },
        plain(' and check that it reports the head hash '),
        mono(head),
        plain('.'),
      ]),
    ],
  };
}

/**
 * Renders the ceremony record as a complete, self-contained, printable
 * HTML5 document. Every value from the record or roster is escaped.
 */
export function renderRecordHtml(entries: TranscriptEntry[], roster: CeremonyRoster, generatedAt: Date): string {
  return documentHtml(recordReportDocument(entries, roster, generatedAt));
}

/**
 * Who signs a record's report when no app session names them: the people
 * every ceremony's opening names (the app records operator, admins,
 * custodians and witnesses; the CLI its custodians), and the admins who
 * signed its bundles. Names are kept in the order they first appear.
 */
export function rosterOfRecord(entries: readonly TranscriptEntry[]): CeremonyRoster {
  const roster: CeremonyRoster = { operator: '', admins: [], custodians: [], witnesses: [] };
  const add = (list: string[], v: unknown): void => {
    const names = Array.isArray(v) ? v : [v];
    for (const n of names) if (typeof n === 'string' && n !== '' && !list.includes(n)) list.push(n);
  };
  for (const e of entries) {
    if (e.type === ENTRY.opened) {
      if (roster.operator === '') {
        const op = e.data['operator'];
        roster.operator = typeof op === 'string' ? op : e.actor;
      }
      add(roster.admins, e.data['admins']);
      add(roster.custodians, e.data['custodians']);
      add(roster.witnesses, e.data['witnesses']);
    } else if (e.type === ENTRY.bundleSigned) {
      add(roster.admins, e.data['admin']);
    }
  }
  return roster;
}

/**
 * A record fit to print from the CLI: the checks of `transcript verify`
 * (hash chain when read, then the sequence of ceremonies), and every
 * ceremony closed. Throws the message `transcript verify` gives.
 */
export function checkRecordComplete(entries: readonly TranscriptEntry[]): void {
  if (!ceremoniesOf(entries).complete) throw incompleteRecordError();
}

/** Why a record whose last ceremony is not closed cannot be relied on (transcript verify, transcript report). */
export function incompleteRecordError(): CeremonyError {
  return new CeremonyError(
    'TranscriptInvalid',
    'INCOMPLETE: the last ceremony has no closing entry (it is still running, was cut off, or lines were cut from the end of the record).',
  );
}

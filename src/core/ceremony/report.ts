import { documentHtml, escapeHtml } from '../document/html.js';
import {
  cell,
  lineBreak,
  type Cell,
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
import { CEREMONY_KIND, isCeremonyKind } from './kinds.js';
import { ceremoniesOf, ENTRY, type CeremonyOutcome } from './record.js';
import { personKey } from './roster.js';
import type { SetupReason } from './setup-file.js';
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

/** The departures from separation of duties a set-up may give a reason for (roster.ts SetupReasons), in words. */
export const REASON_TITLE: { readonly [R in SetupReason]: string } = {
  custodianIsAdmin: 'A custodian is also an admin',
  signatureThresholdOne: 'One admin signature suffices (signature threshold 1)',
};

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

/** A ceremony of the record, as the report (and the app's record check) tells it. */
export interface CeremonyRow {
  /** 1-based, in the order of the record. */
  number: number;
  opening: TranscriptEntry;
  entries: TranscriptEntry[];
  kind: string;
  ceremonyId: string;
  ceremonyName: string;
  /** Whoever wrote its entries, in the order they first act. */
  actors: string[];
  outcome: CeremonyOutcome;
  rehearsal: boolean;
  /** Why it departs from separation of duties, word for word as recorded (issue 11). */
  reasons: Array<{ key: string; text: string }>;
}

export type ShareStatus =
  | { kind: 'current' }
  | { kind: 'retired'; by: CeremonyRow | undefined; line: number; time: string }
  | { kind: 'void'; why: string };

export interface ShareRow {
  shareIndex: number | undefined;
  custodian: string;
  medium: string;
  location: string;
  commitment: string;
  verified: boolean | undefined;
  time: string;
  /** The ceremony that issued it. */
  ceremony: CeremonyRow | undefined;
  status: ShareStatus;
}

export interface BundleRow {
  bundleId: string;
  sequence: number | undefined;
  operation: string;
  rehearsal: boolean;
  thresholds: Thresholds | undefined;
  targets: string[];
  payloadHash: string;
  signatures: string[] | undefined;
  time: string;
}

/** The claim's two thresholds (docs/unit-protocol.md), and where the record states them. */
export interface Thresholds {
  signature: number;
  revocation: number;
  source: string;
}

/** A set of shares any K of which rebuild the key. */
export interface CurrentSet {
  ceremony: CeremonyRow;
  threshold: number;
  shares: number;
}

/**
 * The end of the key (issue 11): the units reported the rotation's new key
 * current (key-retired), or every unit it was loaded onto zeroized
 * (key-destroyed). `line` and `time` are those of the record's entry.
 */
export type KeyEnd =
  | { kind: 'retired'; rotationKeyName: string; newKcv: string; line: number; time: string }
  | { kind: 'destroyed'; line: number; time: string };

/**
 * What a record holds, derived once from its entries: the key, every
 * ceremony, every share with its status, the current set, the bundles, the
 * units and the end of the key. The printed report renders it, and the
 * app's record check maps it to its view (src/main/views.ts).
 */
export interface RecordHistory {
  opened: boolean;
  ceremonyId: string;
  ceremonyName: string;
  keyName: string;
  threshold: number | undefined;
  shares: number | undefined;
  custodians: string[];
  kcv: string;
  verificationPattern: string;
  ceremonies: CeremonyRow[];
  /** Every share the record issued, in its order. */
  issued: ShareRow[];
  /** The shares the first ceremony (the key generation) issued. */
  issuedByFirst: number;
  current: CurrentSet | undefined;
  thresholds: Thresholds | undefined;
  rehearsal: boolean;
  bundles: BundleRow[];
  units: Map<string, { fingerprint: string; bundles: string[] }>;
  /** The closing entry of the first ceremony (the one that made the key), if it has one. */
  closing:
    | { outcome: 'completed'; note: string | undefined }
    | { outcome: 'aborted'; reason: string; code: string; time: string }
    | undefined;
  /** The end of the key (issue 11): a key-retired or key-destroyed entry. */
  end: KeyEnd | undefined;
}

/** What kind of ceremony an opening opens, in words. */
function kindTitle(opening: TranscriptEntry, entries: readonly TranscriptEntry[]): string {
  const kind = opening.data['kind'];
  if (kind === undefined)
    // The key generation's opening carries no kind: it came before kinds (record.ts ceremonyKindOf).
    return entries.some((e) => e.type === ENTRY.masterKeyGenerated) ? 'Key generation' : CEREMONY_KIND.initial.title;
  return isCeremonyKind(kind) ? CEREMONY_KIND[kind].title : `Unknown kind "${String(kind)}"`;
}

function reasonsOf(d: Data): Array<{ key: string; text: string }> {
  const v = d['reasons'];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [];
  return Object.entries(v)
    .filter((kv): kv is [string, string] => typeof kv[1] === 'string')
    .map(([key, text]) => ({ key, text }));
}

/**
 * The record's ceremonies, each from its opening to its closing. Read
 * leniently, unlike ceremoniesOf (record.ts): the app prints broken and
 * unfinished records too, and the report says what they hold.
 */
function ceremonyRows(entries: readonly TranscriptEntry[]): { rows: CeremonyRow[]; of: Map<number, CeremonyRow> } {
  const rows: CeremonyRow[] = [];
  const of = new Map<number, CeremonyRow>();
  let open: CeremonyRow | undefined;
  for (const e of entries) {
    if (e.type === ENTRY.opened) {
      const d = e.data;
      open = {
        number: rows.length + 1,
        opening: e,
        entries: [],
        kind: '',
        ceremonyId: str(d, 'ceremonyId') ?? '',
        ceremonyName: str(d, 'ceremonyName') ?? str(d, 'keyName') ?? '',
        actors: [],
        outcome: { kind: 'open' },
        rehearsal: d['mode'] === 'rehearsal',
        reasons: reasonsOf(d),
      };
      rows.push(open);
    }
    if (open === undefined) continue;
    open.entries.push(e);
    if (!open.actors.includes(e.actor)) open.actors.push(e.actor);
    of.set(e.seq, open);
    if (e.type === ENTRY.closed) {
      const d = e.data;
      open.outcome =
        d['outcome'] === 'completed'
          ? { kind: 'completed' }
          : { kind: 'aborted', code: str(d, 'code') ?? '', reason: str(d, 'reason') ?? '(no reason recorded)' };
      open = undefined;
    }
  }
  for (const c of rows) c.kind = kindTitle(c.opening, c.entries);
  return { rows, of };
}

function thresholdsOf(v: unknown, source: string): Thresholds | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const t = v as Record<string, unknown>;
  const sig = t['signatureThreshold'];
  const rev = t['revocationThreshold'];
  return Number.isInteger(sig) && Number.isInteger(rev)
    ? { signature: sig as number, revocation: rev as number, source }
    : undefined;
}

/**
 * A record's history, read leniently (broken and unfinished records print
 * too); whoever needs a sound record checks it first (checkRecordComplete).
 */
export function recordHistory(entries: readonly TranscriptEntry[]): RecordHistory {
  const first = entries[0];
  const opened = first?.type === ENTRY.opened;
  const od: Data = opened ? first.data : {};
  const { rows: ceremonies, of } = ceremonyRows(entries);
  const r: RecordHistory = {
    opened,
    ceremonyId: str(od, 'ceremonyId') ?? '',
    ceremonyName: str(od, 'ceremonyName') ?? str(od, 'keyName') ?? '',
    keyName: str(od, 'keyName') ?? '',
    threshold: int(od, 'threshold'),
    shares: int(od, 'shares'),
    custodians: strs(od, 'custodians'),
    kcv: '',
    verificationPattern: '',
    ceremonies,
    issued: [],
    issuedByFirst: 0,
    current: undefined,
    thresholds: undefined,
    rehearsal: ceremonies.some((c) => c.rehearsal),
    bundles: [],
    units: new Map(),
    closing: undefined,
    end: undefined,
  };
  // Retirements by completed re-shares only: one that did not complete retired nothing (record.ts addReshare).
  const retirements: Array<{ entry: TranscriptEntry; by: CeremonyRow | undefined }> = [];
  for (const e of entries) {
    const d = e.data;
    switch (e.type) {
      case ENTRY.opened:
        r.thresholds =
          thresholdsOf(d, `set up for ceremony ${of.get(e.seq)?.number ?? '?'}, "${str(d, 'ceremonyName') ?? ''}"`) ??
          r.thresholds;
        break;
      case ENTRY.masterKeyGenerated:
        r.kcv ||= str(d, 'kcv') ?? '';
        r.verificationPattern ||= str(d, 'verificationPattern') ?? '';
        break;
      case ENTRY.shareIssued: {
        const v = d['verifiedReadBack'];
        const ceremony = of.get(e.seq);
        if (ceremony?.number === 1) r.issuedByFirst++;
        r.issued.push({
          shareIndex: int(d, 'shareIndex'),
          custodian: str(d, 'custodian') ?? '',
          medium: str(d, 'medium') ?? '',
          location: str(d, 'location') ?? '',
          commitment: str(d, 'commitment') ?? '',
          verified: typeof v === 'boolean' ? v : undefined,
          time: e.time,
          ceremony,
          status: { kind: 'current' },
        });
        break;
      }
      case ENTRY.sharesRetired:
        retirements.push({ entry: e, by: of.get(e.seq) });
        break;
      case ENTRY.bundleCreated: {
        const bundleId = str(d, 'bundleId') ?? '';
        const targets = strs(d, 'targets');
        const thresholds = thresholdsOf(d['thresholds'], `bundle ${bundleId}`);
        r.thresholds = thresholds ?? r.thresholds;
        if (d['rehearsal'] === true) r.rehearsal = true;
        r.bundles.push({
          bundleId,
          sequence: int(d, 'sequence'),
          operation: str(d, 'operation') ?? '',
          rehearsal: d['rehearsal'] === true,
          thresholds,
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
      case ENTRY.keyRetired:
        r.end = {
          kind: 'retired',
          rotationKeyName: str(d, 'rotationKeyName') ?? '',
          newKcv: str(d, 'newKcv') ?? '',
          line: e.seq,
          time: e.time,
        };
        break;
      case ENTRY.keyDestroyed:
        r.end = { kind: 'destroyed', line: e.seq, time: e.time };
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
  for (const s of r.issued) s.status = shareStatus(s, retirements);
  // The current set: that of the last completed ceremony that issued shares, unless it was retired.
  const lastSet = [...ceremonies]
    .reverse()
    .find((c) => c.outcome.kind === 'completed' && r.issued.some((s) => s.ceremony === c));
  const lastShares = r.issued.filter((s) => s.ceremony !== undefined && s.ceremony === lastSet);
  const k = lastSet && int(lastSet.opening.data, 'threshold');
  if (lastSet && k !== undefined && lastShares.every((s) => s.status.kind === 'current'))
    r.current = { ceremony: lastSet, threshold: k, shares: int(lastSet.opening.data, 'shares') ?? lastShares.length };
  return r;
}

function shareStatus(
  s: ShareRow,
  retirements: ReadonlyArray<{ entry: TranscriptEntry; by: CeremonyRow | undefined }>,
): ShareStatus {
  const c = s.ceremony;
  if (c === undefined) return { kind: 'void', why: 'issued outside any ceremony' };
  switch (c.outcome.kind) {
    case 'completed':
      break;
    case 'aborted':
      return { kind: 'void', why: `its ceremony was aborted [${c.outcome.code}]` };
    case 'open':
      return { kind: 'void', why: 'its ceremony has no closing entry' };
    default:
      return missingCase(c.outcome);
  }
  const retired = retirements.find(
    (x) =>
      x.by?.outcome.kind === 'completed' &&
      x.entry.data['retiredCeremonyId'] === c.ceremonyId &&
      strs(x.entry.data, 'commitments').includes(s.commitment),
  );
  return retired
    ? { kind: 'retired', by: retired.by, line: retired.entry.seq, time: retired.entry.time }
    : { kind: 'current' };
}

/** The end of the key, in the report's words. */
function keyEndWords(end: KeyEnd): string {
  switch (end.kind) {
    case 'retired':
      return `Retired: the units reported key "${end.rotationKeyName}" (KCV ${end.newKcv}) current after its rotation (line ${end.line}, ${end.time}); every share of this key is refused`;
    case 'destroyed':
      return `Destroyed: the units of every instance it was loaded onto reported it zeroized (line ${end.line}, ${end.time}); every share of this key is refused`;
    default:
      return missingCase(end);
  }
}

function outcome(r: RecordHistory): { text: string; cls: string } {
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
  if (r.shares !== undefined && r.issuedByFirst < r.shares) {
    return { text: `Incomplete: ${r.issuedByFirst} of ${r.shares} shares were issued.`, cls: 'aborted' };
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

function kOfN(threshold: number | undefined, shares: number | undefined): string {
  return threshold !== undefined && shares !== undefined ? `${threshold} of ${shares}` : '';
}

/** "ceremony 2, "Name"": how the report names a ceremony of the record. */
function ceremonyRef(c: CeremonyRow): string {
  return `ceremony ${c.number}, "${c.ceremonyName}"`;
}

function thresholdRows(r: RecordHistory): Array<{ label: string; value: Inline }> {
  const t = r.thresholds;
  if (t === undefined)
    return [
      {
        label: 'Admin thresholds (signature, revocation)',
        value: [{ text: 'not in the record: the bundle that claims the units sets them', style: 'none' }],
      },
    ];
  return [
    {
      label: 'Signature threshold',
      value: [plain(`${t.signature}: admin signatures any bundle needs (${t.source})`)],
    },
    {
      label: 'Revocation threshold',
      value: [plain(`${t.revocation}: admin signatures needed to remove an admin or lower a threshold (${t.source})`)],
    },
  ];
}

function summaryBlock(r: RecordHistory, entries: TranscriptEntry[]): Block {
  const o = outcome(r);
  const several = r.ceremonies.length > 1;
  const current = r.current ? kOfN(r.current.threshold, r.current.shares) : kOfN(r.threshold, r.shares);
  const rows: Array<{ label: string; value: Inline }> = [];
  if (r.rehearsal)
    rows.push({
      label: 'Mode',
      value: [{ text: `${REHEARSAL}: no key or share in this record is for production use`, style: 'alarm' }],
    });
  rows.push(
    { label: 'Ceremony ID', value: monoOrNone(r.ceremonyId) },
    { label: 'Ceremony name', value: textOrNone(r.ceremonyName) },
    { label: 'Key name', value: textOrNone(r.keyName) },
    {
      label: 'Shares needed (K of N)',
      value: textOrNone(
        several && r.current ? `${current} (the current set, issued by ${ceremonyRef(r.current.ceremony)})` : current,
      ),
    },
    ...thresholdRows(r),
    { label: 'Key check value (KCV)', value: monoOrNone(r.kcv) },
  );
  if (r.verificationPattern) rows.push({ label: 'Verification pattern', value: monoOrNone(r.verificationPattern) });
  if (r.end) rows.push({ label: 'End of the key', value: [{ text: keyEndWords(r.end), style: 'alarm' }] });
  const closed = entries[entries.length - 1];
  rows.push(
    { label: 'Opened', value: [plain(entries[0]?.time ?? '')] },
    { label: 'Closed (last entry)', value: [plain(closed?.time ?? '')] },
    { label: 'Ceremonies', value: [plain(String(r.ceremonies.length))] },
    { label: 'Transcript entries', value: [plain(String(entries.length))] },
    { label: 'Transcript head hash', value: entries.length > 0 ? digestInline(headHash(entries)) : none },
    {
      label: several ? 'Outcome of the key generation' : 'Outcome',
      value: [{ text: o.text, style: o.cls === 'completed' ? 'verdict' : 'alarm' }],
    },
  );
  return { kind: 'fields', name: 'summary', rows };
}

function shareStatusCell(s: ShareRow, current: CurrentSet | undefined): Cell {
  switch (s.status.kind) {
    case 'current':
      return current?.ceremony === s.ceremony
        ? { content: [{ text: 'Current', style: 'verdict' }], look: 'plain' }
        : cell('Not retired');
    case 'retired': {
      const by = s.status.by;
      return cell(
        `Retired by ${by ? `the ${by.kind.toLocaleLowerCase()}, ${ceremonyRef(by)}` : 'a re-share'} (line ${s.status.line}, ${s.status.time})`,
      );
    }
    case 'void':
      return { content: [{ text: `Void: ${s.status.why}`, style: 'alarm' }], look: 'plain' };
    default:
      return missingCase(s.status);
  }
}

function currentSetParagraph(r: RecordHistory): Block {
  const c = r.current;
  if (c === undefined)
    return paragraph(
      [
        {
          text: 'No current set: no ceremony of this record completed a set of shares that is still in use.',
          style: 'alarm',
        },
      ],
      'plain',
    );
  // A key whose life ended (rotation, zeroize) has no share that rebuilds anything any more.
  if (r.end)
    return paragraph([
      { text: `Last set: ${c.threshold} of ${c.shares}.`, style: 'alarm' },
      plain(
        ` Issued by ${ceremonyRef(c.ceremony)} (${c.ceremony.kind.toLocaleLowerCase()}); the key ${r.end.kind === 'retired' ? 'was retired by a rotation' : 'was destroyed'}, so no share of this record is used any more and every one is refused.`,
      ),
    ]);
  return paragraph([
    { text: `Current set: ${c.threshold} of ${c.shares}.`, style: 'verdict' },
    plain(
      ` Any ${c.threshold} of the ${c.shares} shares marked Current rebuild the key; they were issued by ${ceremonyRef(c.ceremony)} (${c.ceremony.kind.toLocaleLowerCase()}). Every other share is retired or void and is refused.`,
    ),
  ]);
}

function sharesBlocks(r: RecordHistory): Block[] {
  if (r.issued.length === 0) return [paragraph('No share was issued.', 'none')];
  return [
    currentSetParagraph(r),
    {
      kind: 'table',
      name: 'shares',
      columns: [
        { title: 'Share', weight: 6 },
        { title: 'Custodian', weight: 9 },
        { title: 'Medium', weight: 8 },
        { title: 'Location', weight: 10 },
        { title: 'Commitment', weight: 18 },
        { title: 'Verified read-back', weight: 9 },
        { title: 'Issued', weight: 14 },
        { title: 'Issued by', weight: 11 },
        { title: 'Status', weight: 15 },
      ],
      rows: r.issued.map((s) => [
        cell(s.shareIndex === undefined ? undefined : String(s.shareIndex)),
        cell(s.custodian),
        cell(s.medium),
        cell(s.location, 'mono'),
        cell(s.commitment, 'mono'),
        cell(s.verified === undefined ? undefined : s.verified ? 'Yes' : 'NO'),
        cell(s.time),
        cell(s.ceremony ? `${s.ceremony.number}. ${s.ceremony.ceremonyName}` : undefined),
        shareStatusCell(s, r.current),
      ]),
    },
  ];
}

function bundlesBlock(r: RecordHistory): Block {
  if (r.bundles.length === 0) return paragraph('No import bundle was created.', 'none');
  return {
    kind: 'table',
    name: 'bundles',
    columns: [
      { title: 'Bundle', weight: 11 },
      { title: 'Operation', weight: 10 },
      { title: 'Sequence', weight: 7 },
      { title: 'Targets', weight: 10 },
      { title: 'Thresholds (signature, revocation)', weight: 10 },
      { title: 'Payload hash', weight: 21 },
      { title: 'Signatures', weight: 13 },
      { title: 'Created', weight: 18 },
    ],
    rows: r.bundles.map((b) => [
      cell(b.bundleId, 'mono'),
      b.rehearsal
        ? {
            content: [plain(b.operation ? `${b.operation} ` : ''), { text: REHEARSAL, style: 'alarm' }],
            look: 'plain',
          }
        : cell(b.operation),
      cell(b.sequence === undefined ? undefined : String(b.sequence)),
      cell(b.targets.join(', ')),
      cell(b.thresholds ? `${b.thresholds.signature}, ${b.thresholds.revocation}` : undefined),
      cell(b.payloadHash, 'mono'),
      cell(b.signatures === undefined ? 'not recorded' : b.signatures.length === 0 ? 'none' : b.signatures.join('; ')),
      cell(b.time),
    ]),
  };
}

function unitsSection(r: RecordHistory): Section[] {
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
 * Every ceremony of the record, in order (a record holds a key's whole
 * life): its kind, name, when, who acted, and how it ended.
 */
function ceremoniesSection(r: RecordHistory): Section[] {
  if (r.ceremonies.length === 0) return [];
  const rows = r.ceremonies.map((c): Cell[] => {
    const last = c.entries.at(-1)!;
    return [
      cell(String(c.number)),
      c.rehearsal
        ? { content: [plain(`${c.kind} `), { text: REHEARSAL, style: 'alarm' }], look: 'plain' }
        : cell(c.kind),
      { content: [plain(c.ceremonyName || '—'), lineBreak, mono(c.ceremonyId)], look: 'plain' },
      cell(`${c.opening.seq}–${last.seq}`),
      cell(c.opening.time),
      cell(c.outcome.kind === 'open' ? undefined : last.time),
      cell(c.actors.join(', ')),
      c.outcome.kind === 'completed'
        ? cell(outcomeWords(c.outcome))
        : { content: [{ text: outcomeWords(c.outcome), style: 'alarm' }], look: 'plain' },
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
            { title: 'Kind', weight: 11 },
            { title: 'Ceremony (name, ID)', weight: 19 },
            { title: 'Lines', weight: 6 },
            { title: 'Opened', weight: 14 },
            { title: 'Closed', weight: 14 },
            { title: 'Actor(s)', weight: 12 },
            { title: 'Outcome', weight: 20 },
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

/** Names as roster.ts compares them: trimmed, without case. */
const samePerson = (name: string): string => personKey(name.trim());

function participants(roster: CeremonyRoster, r: RecordHistory): Array<{ role: string; name: string }> {
  // Every custodian the record names signs, even one the roster left out.
  const custodians = [...roster.custodians];
  for (const c of [...r.custodians, ...r.issued.map((s) => s.custodian)]) {
    if (c && !custodians.includes(c)) custodians.push(c);
  }
  // The roster's operator ran the first ceremony; whoever opened a later one signs for it too.
  const operators = [roster.operator];
  for (const c of r.ceremonies.slice(1)) {
    const who = c.opening.actor;
    if (who && !operators.some((o) => samePerson(o) === samePerson(who))) operators.push(who);
  }
  return [
    ...operators.map((name) => ({ role: 'Operator', name })),
    ...roster.admins.map((name) => ({ role: 'Administrator', name })),
    ...custodians.map((name) => ({ role: 'Custodian', name })),
    ...roster.witnesses.map((name) => ({ role: 'Witness', name })),
  ];
}

/**
 * Departures from separation of duties (issue 11, "Two-person integrity"):
 * the reasons each ceremony's opening records, word for word, and whether
 * each witness is independent (holds no share and no admin identity).
 * Printed just before the signature lines, so that signers read it first.
 */
function departuresSection(people: ReadonlyArray<{ role: string; name: string }>, r: RecordHistory): Section {
  const names = (role: string): Set<string> =>
    new Set(people.filter((p) => p.role === role).map((p) => samePerson(p.name)));
  const admins = names('Administrator');
  const custodians = names('Custodian');
  const blocks: Block[] = [];
  const reasons = r.ceremonies.flatMap((c) => c.reasons.map((x) => ({ c, ...x })));
  if (reasons.length > 0)
    blocks.push({
      kind: 'table',
      name: 'reasons',
      columns: [
        { title: 'Ceremony', weight: 22 },
        { title: 'Departure', weight: 25 },
        { title: 'Reason recorded, word for word', weight: 53 },
      ],
      rows: reasons.map((x) => [
        cell(`${x.c.number}. ${x.c.ceremonyName}`),
        cell((REASON_TITLE as Record<string, string | undefined>)[x.key] ?? x.key),
        cell(x.text),
      ]),
    });
  else blocks.push(paragraph('No ceremony in this record records a reason to depart from separation of duties.'));
  const both = [...new Set(people.filter((p) => p.role === 'Custodian').map((p) => p.name))].filter((n) =>
    admins.has(samePerson(n)),
  );
  if (both.length > 0)
    blocks.push(
      paragraph([
        {
          text: `Both a custodian and an admin: ${both.map((n) => `"${n}"`).join(', ')}.`,
          style: 'alarm',
        },
      ]),
    );
  const witnesses = people.filter((p) => p.role === 'Witness');
  if (witnesses.length === 0) blocks.push(paragraph('No witness is named in the record.', 'none'));
  else
    blocks.push({
      kind: 'table',
      name: 'witnesses',
      columns: [
        { title: 'Witness', weight: 40 },
        { title: 'Independence', weight: 60 },
      ],
      rows: witnesses.map((w) => {
        const also = [
          custodians.has(samePerson(w.name)) ? 'a custodian' : '',
          admins.has(samePerson(w.name)) ? 'an admin' : '',
        ].filter((x) => x !== '');
        return [
          cell(w.name),
          also.length === 0
            ? cell('Independent: holds no share and no admin identity')
            : { content: [{ text: `Not independent: also ${also.join(' and ')}`, style: 'alarm' }], look: 'plain' },
        ];
      }),
    });
  return { heading: 'Departures from separation of duties', blocks };
}

/** The word every page of a rehearsal's report carries (issue 11, "Rehearsal mode"). */
const REHEARSAL = 'REHEARSAL';
const REHEARSAL_BANNER = `${REHEARSAL} — not a production ceremony: nothing in this record is for production use`;

/**
 * The ceremony record as a printable document: summary, every ceremony,
 * shares, bundles, units, transcript, the departures from separation of
 * duties, signatures.
 */
export function recordReportDocument(
  entries: TranscriptEntry[],
  roster: CeremonyRoster,
  generatedAt: Date,
): PrintedDocument {
  const r = recordHistory(entries);
  const name = r.ceremonyName || r.keyName || r.ceremonyId || '(unnamed)';
  const head = entries.length > 0 ? headHash(entries) : '';
  const people = participants(roster, r);
  return {
    title: `${r.rehearsal ? `${REHEARSAL} — ` : ''}Key ceremony record — ${name}`,
    ...(r.rehearsal ? { banner: REHEARSAL_BANNER } : {}),
    header: [paragraph(`Printed ${generatedAt.toISOString()} from the ceremony record.`, 'generated')],
    sections: [
      { heading: 'Summary', blocks: [summaryBlock(r, entries)] },
      ...ceremoniesSection(r),
      { heading: 'Shares', blocks: sharesBlocks(r) },
      { heading: 'Import bundles', blocks: [bundlesBlock(r)] },
      ...unitsSection(r),
      { heading: 'Transcript', blocks: [transcriptBlock(entries)] },
      departuresSection(people, r),
      {
        heading: 'Signatures',
        blocks: [
          paragraph([
            plain(
              'By signing, each person below confirms that this printout shows the ceremony they took part in or witnessed, whose transcript ends in the head hash ',
            ),
            mono(head),
            plain(', and that they have read the departures from separation of duties above.'),
          ]),
          { kind: 'signatures', people },
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
 * custodians and witnesses; the CLI its custodians), the custodians who
 * presented their shares to a recovery from the paper report (whom no
 * opening can name: they were named as their shares came in), and the admins
 * who signed its bundles. Names are kept in the order they first appear.
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
    } else if (e.type === ENTRY.keyRecoveredFromPaper) {
      const presented = e.data['sharesPresented'];
      if (Array.isArray(presented))
        for (const p of presented) add(roster.custodians, (p as { custodian?: unknown } | null)?.custodian);
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

import type { Preparation } from '../cards/roles.js';
import { CeremonyError, missingCase } from '../errors.js';
import { isCeremonyKind, type CeremonyKind } from './kinds.js';
import type { TranscriptData, TranscriptEntry } from './transcript.js';

// What a ceremony record says, read back from its transcript entries.

export interface IssuedShare {
  shareIndex: number;
  custodian: string;
  medium: string;
  location: string;
  commitment: string;
  issued: string;
}

/** The completed re-share that retired a share set (issue 11). */
export interface Retirement {
  /** The re-share ceremony. */
  ceremonyId: string;
  ceremonyName: string;
  /** The shares-retired entry: its line and time. */
  line: number;
  time: string;
}

/** The shares one ceremony issued: the key generation's, or a completed re-share's. */
export interface ShareSet {
  /** The ceremony that issued the set; every share's header names it. */
  ceremonyId: string;
  threshold: number;
  shares: number;
  issued: Map<number, IssuedShare>;
  /** The re-share that retired the set; null for the current set. */
  retiredBy: Retirement | null;
  /**
   * How the record knows the set: every share it issued, or (issue 11, a
   * recovery from the paper report) only the shares presented at that
   * recovery, at its record line; the others were issued in a lost record.
   */
  known: { from: 'issue' } | { from: 'paper-recovery'; line: number };
}

/** A re-share that did not complete: its shares never were a usable set. */
export interface VoidShareCeremony {
  ceremonyId: string;
  /** Why, in words that follow "which": "was aborted (…)", "has no closing entry". */
  why: string;
}

export interface CeremonySummary {
  /** The key ceremony: the key's identity, which bundles name. */
  ceremonyId: string;
  ceremonyName: string;
  keyName: string;
  kcv: string;
  verificationPattern: string;
  /** K, N and the shares of the current set (the last in shareSets). */
  threshold: number;
  shares: number;
  issued: Map<number, IssuedShare>;
  /** Every set of shares issued for the key, oldest first: all but the last retired. */
  shareSets: ShareSet[];
  voidShareCeremonies: VoidShareCeremony[];
  bundles: Array<{ sequence: number; bundleHash: string; targets: string[] }>;
  /** Present, and true, when the key lives in a rehearsal (recordMode): its shares say so, and only it takes them. */
  rehearsal?: true;
  /**
   * The end of the key's life (issue 11, ceremonies 4 and 5): retired by a
   * rotation, or destroyed, as its units reported. Absent while the key is
   * in service; every later use of its shares is refused, naming it.
   */
  end?: KeyEnd;
}

/**
 * Every kind of entry the tool writes: one closed list (CONVENTIONS.md,
 * "Closed lists"). A record holding any other kind was not written by this
 * tool and is refused, naming the line.
 */
export const ENTRY = {
  /** The first entry of every ceremony: who, what key, K of N. */
  opened: 'ceremony-opened',
  /** The operator compared a unit's transport key fingerprint with the unit's own display. */
  unitConfirmed: 'unit-confirmed',
  unitRemoved: 'unit-removed',
  /** An admin's identity (certificate thumbprint) created or brought (the desktop app). */
  adminIdentity: 'admin-identity',
  masterKeyGenerated: 'master-key-generated',
  /** A share written to its medium, not yet read back (the desktop app). */
  shareWritten: 'share-written',
  /** A share written, read back and found identical: its commitment. */
  shareIssued: 'share-issued',
  /** The custodian's statement that they hold their share (the desktop app). */
  shareAccepted: 'share-accepted',
  masterKeyWiped: 'master-key-wiped',
  bundleCreated: 'bundle-created',
  /** An admin's signature added to a bundle. */
  bundleSigned: 'bundle-signed',
  bundleSaved: 'bundle-saved',
  cardPrepared: 'card-prepared',
  cardPinUnblocked: 'card-pin-unblocked',
  /** What a card slot held when its owner agreed to replace it (issue 9): never overwritten silently. */
  cardSlotReplaced: 'card-slot-replaced',
  /**
   * A completed re-share retired the share set it replaced (issue 11): every
   * later reader refuses those shares, naming the re-share. Written only
   * after every new share was issued and read back.
   */
  sharesRetired: 'shares-retired',
  /**
   * A recovery whose record was lost (issue 11, ceremony 1): the key rebuilt
   * from K shares checked against the paper report's KCV and verification
   * pattern, and the commitments of the shares presented. It stands where a
   * key ceremony's master-key-generated and share-issued entries stand: the
   * key's life in this record starts here.
   */
  keyRecoveredFromPaper: 'key-recovered-from-paper',
  /**
   * The units reported the key of a later record current, loaded by a
   * rotate bundle that replaced this record's key (issue 11, ceremony 4):
   * this key's shares are retired; every later reader refuses them, naming
   * the rotation. Written by `units report --new-record`, between ceremonies.
   */
  keyRetired: 'key-retired',
  /**
   * The units of every instance this record loaded its key onto reported it
   * gone after this record's zeroize bundles (issue 11, ceremony 5): the
   * key is destroyed and the record closed. Written by `units report`,
   * between ceremonies.
   */
  keyDestroyed: 'key-destroyed',
  /** The last entry of every ceremony: completed or aborted, with its entry count. */
  closed: 'ceremony-closed',
} as const;
export type EntryType = (typeof ENTRY)[keyof typeof ENTRY];
export const ENTRY_TYPES: readonly EntryType[] = Object.values(ENTRY);

export function isEntryType(value: unknown): value is EntryType {
  return (ENTRY_TYPES as readonly unknown[]).includes(value);
}

/**
 * Entries that may stand between two ceremonies, after one is closed: the
 * CLI records them against the key of a closed ceremony (`units confirm`,
 * `bundle create`, `bundle sign --record`, `identity generate --card
 * --replace-slot 9C --record`), and the app a card prepared or unblocked in
 * a later wizard whose key's record is loaded (card-desk.ts
 * noteInWizardRecord), whatever that ceremony's step.
 */
export const STANDALONE_ENTRIES: readonly EntryType[] = [
  ENTRY.unitConfirmed,
  ENTRY.bundleCreated,
  ENTRY.bundleSigned,
  ENTRY.cardSlotReplaced,
  ENTRY.cardPrepared,
  ENTRY.cardPinUnblocked,
  ENTRY.keyRetired,
  ENTRY.keyDestroyed,
];

export const CLOSING_OUTCOMES = ['completed', 'aborted'] as const;
export type ClosingOutcome = (typeof CLOSING_OUTCOMES)[number];

/** What a closing entry says, besides the entry count that the writer adds. */
export type Closing =
  { outcome: 'completed'; details?: TranscriptData } | { outcome: 'aborted'; code: string; reason: string };

/** The data of a ceremony-closed entry; `entries` counts the ceremony's entries, its opening and this closing included. */
export function closingData(closing: Closing, entries: number): TranscriptData {
  return closing.outcome === 'completed'
    ? { ...closing.details, outcome: 'completed', entries }
    : { outcome: 'aborted', code: closing.code, reason: closing.reason, entries };
}

/**
 * What a ceremony does: its opening's `kind`, one of the closed list in
 * kinds.ts (issue 11). The key generation's opening carries none: it came
 * before kinds.
 */
export function ceremonyKindOf(opening: TranscriptEntry): CeremonyKind {
  const kind = opening.data['kind'] ?? 'initial';
  if (!isCeremonyKind(kind))
    throw new CeremonyError(
      'TranscriptInvalid',
      `Record entry ${opening.seq} (${opening.type}) opens a ceremony of kind "${String(kind)}", which this tool does not run. Use the original record.`,
      { line: opening.seq },
    );
  return kind;
}

/** The note of a master-key-wiped entry written by the process that held the key. */
export const WIPED_IN_MEMORY = 'master key and shares zeroed in memory';

// ---------------------------------------------------------------------------
// Ceremonies inside a record
//
// A record is one or more ceremonies, each from its ceremony-opened entry to
// its ceremony-closed entry. Between two ceremonies only the standalone
// entries above may appear. A record whose last ceremony has no closing
// entry is incomplete: the ceremony is still running, was cut off, or lines
// were cut from the end of the record.

export type CeremonyOutcome =
  | { kind: 'completed' }
  | { kind: 'aborted'; code: string; reason: string }
  /** No closing entry (yet). */
  | { kind: 'open' };

export interface CeremonyInRecord {
  /** Its entries, from the opening to the closing (or to the end of the record). */
  entries: TranscriptEntry[];
  outcome: CeremonyOutcome;
}

export interface RecordStatus {
  ceremonies: CeremonyInRecord[];
  /** True when the last ceremony has its closing entry. */
  complete: boolean;
}

function malformed(e: TranscriptEntry, problem: string, what: string): CeremonyError {
  return new CeremonyError(
    'TranscriptInvalid',
    `${what} is not a sequence of ceremonies at line ${e.seq} (${e.type}): ${problem}. Use the original record.`,
    { line: e.seq },
  );
}

function closingOutcome(closing: TranscriptEntry, count: number, what: string): CeremonyOutcome {
  const d = closing.data;
  if (d['entries'] !== count) {
    throw malformed(
      closing,
      `the closing entry counts ${String(d['entries'])} entries, but its ceremony has ${count}`,
      what,
    );
  }
  switch (d['outcome']) {
    case 'completed':
      return { kind: 'completed' };
    case 'aborted':
      if (typeof d['code'] !== 'string' || typeof d['reason'] !== 'string')
        throw malformed(closing, 'an aborted closing must say why (code and reason)', what);
      return { kind: 'aborted', code: d['code'], reason: d['reason'] };
    default:
      throw malformed(closing, `the outcome must be ${CLOSING_OUTCOMES.join(' or ')}`, what);
  }
}

/**
 * Splits a record into its ceremonies and checks its structure strictly:
 * it starts with an opening; no ceremony opens inside an open one; a closing
 * closes an open ceremony and counts its entries right; between ceremonies
 * stand only the standalone entries.
 */
export function ceremoniesOf(entries: readonly TranscriptEntry[], what = 'The ceremony record'): RecordStatus {
  const ceremonies: CeremonyInRecord[] = [];
  let open: TranscriptEntry[] | null = null;
  for (const [i, e] of entries.entries()) {
    if (open !== null) {
      if (e.type === ENTRY.opened)
        throw malformed(
          e,
          `a ceremony opens inside the ceremony opened at line ${open[0]!.seq}, which has no closing entry`,
          what,
        );
      open.push(e);
      if (e.type === ENTRY.closed) {
        ceremonies.push({ entries: open, outcome: closingOutcome(e, open.length, what) });
        open = null;
      }
    } else if (e.type === ENTRY.opened) {
      open = [e];
    } else if (i === 0) {
      throw malformed(e, 'a record starts with the opening of a ceremony', what);
    } else if (e.type === ENTRY.closed) {
      throw malformed(e, 'it closes no open ceremony', what);
    } else if (!STANDALONE_ENTRIES.includes(e.type)) {
      throw malformed(
        e,
        `it stands outside any ceremony, where only ${STANDALONE_ENTRIES.join(', ')} entries may`,
        what,
      );
    }
  }
  if (open !== null) ceremonies.push({ entries: open, outcome: { kind: 'open' } });
  return { ceremonies, complete: open === null };
}

// What the entries that summarize() reads carry, written in one place for the
// CLI and the desktop app alike.

/** The data of a share-issued entry: the share was written, read back and found identical. */
export function shareIssuedData(a: {
  shareIndex: number;
  custodian: string;
  medium: string;
  location: string;
  commitment: string;
}): TranscriptData {
  return {
    shareIndex: a.shareIndex,
    custodian: a.custodian,
    medium: a.medium,
    location: a.location,
    commitment: a.commitment,
    verifiedReadBack: true,
  };
}

/** The data of a shares-retired entry: the set a re-share replaced, by its shares' commitments. */
export function sharesRetiredData(a: {
  reshareCeremonyId: string;
  retired: ShareSet;
  sharesUsed: readonly number[];
}): TranscriptData {
  return {
    reshareCeremonyId: a.reshareCeremonyId,
    retiredCeremonyId: a.retired.ceremonyId,
    commitments: commitmentsOf(a.retired),
    sharesUsed: a.sharesUsed.map(String),
  };
}

/**
 * The data of a card-prepared entry: which card, and what its preparation
 * did to its PIN, PUK and management key (actions only: never a PIN, a PUK
 * or a key). Whichever ceremony the card was prepared in writes this.
 */
export function cardPreparedData(done: Preparation): TranscriptData {
  return {
    serial: String(done.serial),
    pin: done.pin,
    puk: done.puk,
    managementKey: done.managementKey.action,
    note: `PIN ${done.pin}, PUK ${done.puk}; management key ${done.managementKey.action}, kept PIN-protected on the card`,
  };
}

function commitmentsOf(set: ShareSet): string[] {
  return [...set.issued.values()].sort((x, y) => x.shareIndex - y.shareIndex).map((i) => i.commitment);
}

function str(e: TranscriptEntry, k: string): string {
  const v = e.data[k];
  if (typeof v !== 'string')
    throw new CeremonyError('TranscriptInvalid', `Record entry ${e.seq} (${e.type}) lacks ${k}.`);
  return v;
}
function int(e: TranscriptEntry, k: string): number {
  const v = e.data[k];
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new CeremonyError('TranscriptInvalid', `Record entry ${e.seq} (${e.type}) lacks ${k}.`);
  return v;
}

/**
 * What a record says about its key: the key ceremony (the first, which made
 * the key and issued its first shares), every set of shares issued since
 * (each completed re-share retires the set before it), and every bundle
 * recorded for the key. Refuses a key ceremony that is not closed as
 * completed: its shares are not a set anyone may use. A re-share that did
 * not complete changes nothing: its shares are void, the set it would have
 * replaced stays current.
 */
export function summarize(entries: TranscriptEntry[]): CeremonySummary {
  const { ceremonies } = ceremoniesOf(entries);
  const keyCeremony = usableKeyCeremony(ceremonies[0]!);
  // A record begun by a recovery from the paper report starts the key's life there (issue 11).
  const s =
    ceremonyKindOf(keyCeremony[0]!) === 'recovery' ? keyRecoveredFromPaper(keyCeremony) : keyGenerated(keyCeremony);
  for (const c of ceremonies.slice(1)) addReshare(s, c);
  const end = keyEndOf(entries, ceremonies, s);
  if (end) s.end = end;
  if (recordMode(entries)?.rehearsal === true) s.rehearsal = true;
  const current = s.shareSets.at(-1)!;
  s.threshold = current.threshold;
  s.shares = current.shares;
  s.issued = current.issued;
  // Bundles are recorded inside the key ceremony (the desktop app) or after it (the CLI).
  for (const e of entries) {
    if (e.type !== ENTRY.bundleCreated) continue;
    s.bundles.push({
      sequence: int(e, 'sequence'),
      bundleHash: str(e, 'payloadHash'),
      targets: (e.data['targets'] as string[]) ?? [],
    });
  }
  return s;
}

/**
 * The key of the key ceremony that begins a record while it is still open:
 * the app's initial ceremony builds its bundle before it closes, once every
 * share is issued.
 */
export function keyOfOpenKeyCeremony(entries: readonly TranscriptEntry[]): CeremonySummary {
  return keyGenerated(ceremoniesOf(entries).ceremonies[0]!.entries);
}

/** The key of a key ceremony that generated it (mk generate, the app): its first set of shares. */
function keyGenerated(keyCeremony: readonly TranscriptEntry[]): CeremonySummary {
  const first = keyCeremony[0]!;
  const generated = keyCeremony.find((e) => e.type === ENTRY.masterKeyGenerated);
  if (!generated)
    throw new CeremonyError(
      'TranscriptInvalid',
      'The key ceremony in this record is closed as completed but has no master key: the record was rewritten. Use the original record.',
    );
  const firstSet = shareSetOf(keyCeremony, 'The key ceremony in this record');
  return keySummary(first, firstSet, generated);
}

function keySummary(opening: TranscriptEntry, set: ShareSet, keyEntry: TranscriptEntry): CeremonySummary {
  return {
    ceremonyId: set.ceremonyId,
    ceremonyName: str(opening, 'ceremonyName'),
    keyName: str(opening, 'keyName'),
    kcv: str(keyEntry, 'kcv'),
    verificationPattern: str(keyEntry, 'verificationPattern'),
    threshold: set.threshold,
    shares: set.shares,
    issued: set.issued,
    shareSets: [set],
    voidShareCeremonies: [],
    bundles: [],
  };
}

/** What the paper report of a lost record said, as a recovery from it records it in its opening. */
export interface LostRecordReport {
  /** The lost record's head hash (hex), as the signed report printed it. */
  headHash: string;
  kcv: string;
  verificationPattern: string;
}

/** A share presented at a recovery from the paper report: the record knows it by its commitment. */
export interface PresentedShare {
  shareIndex: number;
  custodian: string;
  /** How it was given ("share file c1.share", "card in reader …"). */
  presentedAs: string;
  commitment: string;
  /** When it was made (its header). */
  created: string;
}

/** The data of a key-recovered-from-paper entry. */
export function keyRecoveredFromPaperData(a: {
  keyCeremonyId: string;
  kcv: string;
  verificationPattern: string;
  presented: readonly PresentedShare[];
}): TranscriptData {
  return {
    keyCeremonyId: a.keyCeremonyId,
    kcv: a.kcv,
    verificationPattern: a.verificationPattern,
    sharesPresented: a.presented.map((p) => ({ ...p })),
  };
}

/**
 * The key of a record begun by a recovery from the paper report (issue 11):
 * the share set the presented shares' headers name (K and N in the
 * opening), known by the commitments of the shares presented only; the KCV
 * and verification pattern the rebuilt key had, which equal the paper's.
 * Also read while that recovery is still running, to build its bundle.
 */
export function keyRecoveredFromPaper(ceremony: readonly TranscriptEntry[]): CeremonySummary {
  const opening = ceremony[0]!;
  const recovered = ceremony.filter((e) => e.type === ENTRY.keyRecoveredFromPaper);
  const r = recovered[0];
  const keyCeremonyId = str(opening, 'keyCeremonyId');
  if (
    recovered.length !== 1 ||
    r!.data['keyCeremonyId'] !== keyCeremonyId ||
    !isPlainRecord(opening.data['lostRecord'])
  )
    throw malformed(
      opening,
      'a record that begins with a recovery holds, exactly once, the key that recovery rebuilt from the paper report of the lost record',
      'The ceremony record',
    );
  const set: ShareSet = {
    ceremonyId: keyCeremonyId,
    threshold: int(opening, 'threshold'),
    shares: int(opening, 'shares'),
    issued: new Map(),
    retiredBy: null,
    known: { from: 'paper-recovery', line: r!.seq },
  };
  const presented = r!.data['sharesPresented'];
  for (const p of Array.isArray(presented) ? (presented as unknown[]) : []) {
    const d = isPlainRecord(p) ? p : {};
    const idx = d['shareIndex'];
    const text = (k: string): string => (typeof d[k] === 'string' ? d[k] : '');
    if (typeof idx !== 'number' || !Number.isInteger(idx) || !text('commitment'))
      throw malformed(r!, 'a presented share lacks its index or commitment', 'The ceremony record');
    set.issued.set(idx, {
      shareIndex: idx,
      custodian: text('custodian'),
      medium: 'presented at the recovery',
      location: text('presentedAs'),
      commitment: text('commitment'),
      issued: text('created'),
    });
  }
  if (set.issued.size < set.threshold)
    throw malformed(
      r!,
      `it knows ${set.issued.size} shares, fewer than the ${set.threshold} that rebuilt the key`,
      'The ceremony record',
    );
  return keySummary(opening, set, r!);
}

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The shares a ceremony issued, all N of them, or why the record was rewritten. */
function shareSetOf(entries: readonly TranscriptEntry[], what: string): ShareSet {
  const opening = entries[0]!;
  const set: ShareSet = {
    ceremonyId: str(opening, 'ceremonyId'),
    threshold: int(opening, 'threshold'),
    shares: int(opening, 'shares'),
    issued: new Map(),
    retiredBy: null,
    known: { from: 'issue' },
  };
  for (const e of entries) {
    if (e.type !== ENTRY.shareIssued) continue;
    const idx = int(e, 'shareIndex');
    set.issued.set(idx, {
      shareIndex: idx,
      custodian: str(e, 'custodian'),
      medium: str(e, 'medium'),
      location: str(e, 'location'),
      commitment: str(e, 'commitment'),
      issued: e.time,
    });
  }
  if (set.issued.size !== set.shares) {
    throw new CeremonyError(
      'TranscriptInvalid',
      `${what} is closed as completed but lists ${set.issued.size} of its ${set.shares} shares as issued: the record was rewritten. Use the original record.`,
    );
  }
  return set;
}

/**
 * A ceremony after the key ceremony: a completed re-share of this key adds
 * its set and retires the one before; one that did not complete is void.
 * Ceremonies of other kinds issue no shares.
 */
function addReshare(s: CeremonySummary, c: CeremonyInRecord): void {
  const opening = c.entries[0]!;
  const kind = ceremonyKindOf(opening);
  switch (kind) {
    case 'reshare':
      break;
    case 'initial':
    case 'recovery':
    case 'admin-change':
    case 'rotation':
    case 'zeroize':
    case 'share-check':
      return; // they issue no share of the record's key (the key is its first ceremony's)
    default:
      return missingCase(kind);
  }
  const ceremonyId = str(opening, 'ceremonyId');
  if (str(opening, 'keyCeremonyId') !== s.ceremonyId || str(opening, 'keyName') !== s.keyName)
    throw malformed(opening, "the re-share names another key than the record's", 'The ceremony record');
  switch (c.outcome.kind) {
    case 'completed':
      break;
    case 'aborted':
      s.voidShareCeremonies.push({ ceremonyId, why: `was aborted (${c.outcome.reason})` });
      return;
    case 'open':
      s.voidShareCeremonies.push({ ceremonyId, why: 'has no closing entry (it was stopped, or is still running)' });
      return;
    default:
      return missingCase(c.outcome);
  }
  const what = `The re-share at line ${opening.seq} of this record`;
  const set = shareSetOf(c.entries, what);
  const retiring = c.entries.filter((e) => e.type === ENTRY.sharesRetired);
  const current = s.shareSets.at(-1)!;
  const r = retiring[0];
  if (
    retiring.length !== 1 ||
    r!.data['reshareCeremonyId'] !== ceremonyId ||
    r!.data['retiredCeremonyId'] !== current.ceremonyId ||
    JSON.stringify(r!.data['commitments']) !== JSON.stringify(commitmentsOf(current))
  ) {
    throw new CeremonyError(
      'TranscriptInvalid',
      `${what} is closed as completed but does not retire, exactly once, every share of the set it replaced (ceremony ${current.ceremonyId}): the record was rewritten. Use the original record.`,
      { line: opening.seq },
    );
  }
  current.retiredBy = { ceremonyId, ceremonyName: str(opening, 'ceremonyName'), line: r!.seq, time: r!.time };
  s.shareSets.push(set);
}

/** The entries of the key ceremony, if it was closed as completed; otherwise why its shares cannot be used. */
function usableKeyCeremony(c: CeremonyInRecord): TranscriptEntry[] {
  switch (c.outcome.kind) {
    case 'completed':
      return c.entries;
    case 'aborted':
      throw new CeremonyError(
        'TranscriptInvalid',
        `The key ceremony in this record was aborted (${c.outcome.reason}); its shares do not form a usable set.`,
        { code: c.outcome.code },
      );
    case 'open':
      throw new CeremonyError(
        'TranscriptInvalid',
        'The key ceremony in this record has no closing entry: the ceremony was cut off, or lines were cut from the end of the record; its shares cannot be trusted. If the command or application that made it was stopped before it ended, its key is gone: destroy those shares and generate the key again; otherwise use the original, complete record.',
      );
    default:
      return missingCase(c.outcome);
  }
}

// ---------------------------------------------------------------------------
// The end of a key's life (issue 11, ceremonies 4 and 5): what the units
// reported (units report, lifecycle.ts), recorded once, between ceremonies.

/** One unit as its status reported it when the end was recorded. */
export interface ReportedUnit {
  unitId: string;
  state: string;
  currentKcv: string | null;
  oldKcv: string | null;
  newKcv: string | null;
  lastSequence: number;
  transportFingerprint: string;
}

/**
 * One instance's units, and the bundle (rotate or zeroize) that brought them
 * there; or, with `neverLoaded`, the bundle that was to load the key onto
 * them and that they never applied (a recovery never ingested): the key
 * never reached that instance.
 */
export interface ReportedInstance {
  instanceId: string;
  bundleHash: string;
  bundleSequence: number;
  units: ReportedUnit[];
  neverLoaded?: true;
}

export type KeyEnd =
  | {
      kind: 'retired';
      /** The key-retired entry. */
      line: number;
      time: string;
      /** The rotation: the new key's record (its key ceremony) and the key. */
      rotation: { ceremonyId: string; keyName: string; kcv: string; verificationPattern: string; recordHead: string };
      instances: ReportedInstance[];
    }
  | { kind: 'destroyed'; line: number; time: string; instances: ReportedInstance[] };

function instancesData(instances: readonly ReportedInstance[]): Array<Record<string, unknown>> {
  return instances.map((i) => ({
    instanceId: i.instanceId,
    bundleHash: i.bundleHash,
    bundleSequence: i.bundleSequence,
    units: i.units.map((u) => ({ ...u })),
    ...(i.neverLoaded ? { neverLoaded: true } : {}),
  }));
}

/** The data of a key-retired entry. */
export function keyRetiredData(a: {
  rotation: Extract<KeyEnd, { kind: 'retired' }>['rotation'];
  instances: readonly ReportedInstance[];
}): TranscriptData {
  return {
    rotationCeremonyId: a.rotation.ceremonyId,
    rotationKeyName: a.rotation.keyName,
    rotationRecordHead: a.rotation.recordHead,
    newKcv: a.rotation.kcv,
    newVerificationPattern: a.rotation.verificationPattern,
    instances: instancesData(a.instances),
  };
}

/** The data of a key-destroyed entry: the key (KCV and verification pattern), and where it was destroyed. */
export function keyDestroyedData(a: {
  kcv: string;
  verificationPattern: string;
  instances: readonly ReportedInstance[];
}): TranscriptData {
  return { kcv: a.kcv, verificationPattern: a.verificationPattern, instances: instancesData(a.instances) };
}

/**
 * The end of the key a record holds, if one is recorded: at most one
 * key-retired or key-destroyed entry, between ceremonies, its data exactly
 * what keyRetiredData or keyDestroyedData write; otherwise the record was
 * rewritten.
 */
function keyEndOf(
  entries: readonly TranscriptEntry[],
  ceremonies: readonly CeremonyInRecord[],
  key: Pick<CeremonySummary, 'kcv' | 'verificationPattern'>,
): KeyEnd | null {
  const ends = entries.filter((e) => e.type === ENTRY.keyRetired || e.type === ENTRY.keyDestroyed);
  if (ends.length === 0) return null;
  const e = ends[0]!;
  const bad = (why: string): CeremonyError => malformed(e, why, 'The ceremony record');
  if (ends.length > 1)
    throw malformed(ends[1]!, `the key's end is already recorded at line ${e.seq}`, 'The ceremony record');
  if (ceremonies.some((c) => c.entries.includes(e))) throw bad('the end of a key stands between ceremonies');
  // A rehearsal record's entry says so (transcript.ts marked): `rehearsal: true`, besides its members.
  const { rehearsal, ...d } = e.data;
  if ('rehearsal' in e.data && (rehearsal !== true || recordMode(entries)?.rehearsal !== true))
    throw bad('it says rehearsal, but the record is not a rehearsal record');
  const text = (o: Record<string, unknown>, k: string, re?: RegExp): string => {
    const v = o[k];
    if (typeof v !== 'string' || (re && !re.test(v))) throw bad(`${k} is missing or malformed`);
    return v;
  };
  const kcvOrNull = (o: Record<string, unknown>, k: string): string | null =>
    o[k] === null ? null : text(o, k, RECORD_KCV);
  const exact = (o: unknown, keys: readonly string[], what: string): Record<string, unknown> => {
    if (
      typeof o !== 'object' ||
      o === null ||
      Array.isArray(o) ||
      Object.keys(o).sort().join(',') !== [...keys].sort().join(',')
    )
      throw bad(`${what} does not have exactly the members ${keys.join(', ')}`);
    return o as Record<string, unknown>;
  };
  const count = (o: Record<string, unknown>, k: string): number => {
    const v = o[k];
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw bad(`${k} is not a whole number`);
    return v as number;
  };
  const list = (v: unknown, what: string): unknown[] => {
    if (!Array.isArray(v) || v.length === 0) throw bad(`${what} is not a list of at least one`);
    return v;
  };
  const instances = list(d['instances'], 'instances').map((x): ReportedInstance => {
    const members = ['instanceId', 'bundleHash', 'bundleSequence', 'units'];
    const neverLoaded = typeof x === 'object' && x !== null && 'neverLoaded' in x;
    const i = exact(x, neverLoaded ? [...members, 'neverLoaded'] : members, 'an instance');
    if (neverLoaded && i['neverLoaded'] !== true) throw bad('neverLoaded is not true');
    return {
      ...(neverLoaded ? { neverLoaded: true as const } : {}),
      instanceId: text(i, 'instanceId'),
      bundleHash: text(i, 'bundleHash', RECORD_HEX64),
      bundleSequence: count(i, 'bundleSequence'),
      units: list(i['units'], 'units').map((y): ReportedUnit => {
        const u = exact(y, REPORTED_UNIT_KEYS, 'a unit');
        return {
          unitId: text(u, 'unitId'),
          state: text(u, 'state'),
          currentKcv: kcvOrNull(u, 'currentKcv'),
          oldKcv: kcvOrNull(u, 'oldKcv'),
          newKcv: kcvOrNull(u, 'newKcv'),
          lastSequence: count(u, 'lastSequence'),
          transportFingerprint: text(u, 'transportFingerprint', RECORD_HEX64),
        };
      }),
    };
  });
  if (instances.every((i) => i.neverLoaded)) throw bad('it names no instance whose units held the key');
  if (e.type === ENTRY.keyDestroyed) {
    exact(d, ['kcv', 'verificationPattern', 'instances'], 'its data');
    if (d['kcv'] !== key.kcv || d['verificationPattern'] !== key.verificationPattern)
      throw bad("it destroys another key than the record's");
    return { kind: 'destroyed', line: e.seq, time: e.time, instances };
  }
  exact(
    d,
    ['rotationCeremonyId', 'rotationKeyName', 'rotationRecordHead', 'newKcv', 'newVerificationPattern', 'instances'],
    'its data',
  );
  if (d['newVerificationPattern'] === key.verificationPattern) throw bad("the key it names as new is the record's own");
  return {
    kind: 'retired',
    line: e.seq,
    time: e.time,
    rotation: {
      ceremonyId: text(d, 'rotationCeremonyId'),
      keyName: text(d, 'rotationKeyName'),
      kcv: text(d, 'newKcv', RECORD_KCV),
      verificationPattern: text(d, 'newVerificationPattern', RECORD_HEX64),
      recordHead: text(d, 'rotationRecordHead', RECORD_HEX64),
    },
    instances,
  };
}

const RECORD_KCV = /^[0-9A-F]{6}$/;
const RECORD_HEX64 = /^[0-9a-f]{64}$/;
const REPORTED_UNIT_KEYS = [
  'unitId',
  'state',
  'currentKcv',
  'oldKcv',
  'newKcv',
  'lastSequence',
  'transportFingerprint',
] as const;

/**
 * The mode a record's key lives in (issue 11): a record is one key's life,
 * in one mode, so that a key made or used in a rehearsal never reaches
 * production units and a production key is never wrapped to a rehearsal
 * unit. The record says so when a ceremony in it was opened as a rehearsal
 * (`ceremony-opened` data `mode: "rehearsal"`, the mode of SETUP.json) or
 * by the first bundle recorded with a mode (`bundle-created` data
 * `rehearsal`; entries of bundles made before the mode existed say
 * nothing), whichever comes first. Null when it says nothing.
 */
export function recordMode(entries: readonly TranscriptEntry[]): { rehearsal: boolean; entry: TranscriptEntry } | null {
  const entry = entries.find(
    (e) =>
      (e.type === ENTRY.opened && e.data['mode'] === 'rehearsal') ||
      (e.type === ENTRY.bundleCreated && typeof e.data['rehearsal'] === 'boolean'),
  );
  return entry ? { rehearsal: entry.type === ENTRY.opened || entry.data['rehearsal'] === true, entry } : null;
}

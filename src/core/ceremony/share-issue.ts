import type { Preparation } from '../cards/roles.js';
import { CeremonyError, isCeremonyError } from '../errors.js';
import {
  checkThreshold,
  generateMasterKey,
  keyCheckValue,
  splitMasterKey,
  verificationPattern,
} from '../masterkey/masterkey.js';
import { zeroize } from '../secrets.js';
import { KEYSHARE_FORMAT, shareCommitment, type KeyshareHeader } from '../shares/envelope.js';
import type { CeremonyKind } from './kinds.js';
import {
  cardPreparedData,
  ceremoniesOf,
  ceremonyKindOf,
  ENTRY,
  recordMode,
  shareIssuedData,
  WIPED_IN_MEMORY,
  type Closing,
  type EntryType,
} from './record.js';
import { appendTranscript, endCeremony, readTranscript, type TranscriptData } from './transcript.js';
import type { ShareDestination } from './media.js';

// The steps of every ceremony that issues a set of shares (issue 11, "One
// engine"): `mk generate` issues the first set of a new key, `mk reshare` a
// new set of the same key. Each step is here once; the ceremonies differ
// only in where the key comes from and in what their record says around it.

export interface CustodianShare {
  custodian: string;
  destination: ShareDestination;
  /**
   * The destination is a card prepared in the app before this ceremony's
   * record was open (a re-share's or a rotation's new card): what was done,
   * recorded as a card-prepared entry when the ceremony issues its set.
   */
  cardPrepared?: Preparation;
}

export interface IssuedShareResult {
  shareIndex: number;
  custodian: string;
  label: string;
  commitment: string;
}

export type ProgressListener = (event: { step: string; shareIndex?: number; label?: string }) => void;

/**
 * Refuses a set of shares that cannot be issued, before any medium is
 * touched: K of N, every share in its own place, and one share per person
 * (issue 11, "Two-person integrity": one person holds at most one share).
 */
export function checkShareSetPlan(threshold: number, custodians: readonly CustodianShare[]): void {
  checkShareSetRoster(
    threshold,
    custodians.map((c) => c.custodian),
  );
  const locations = custodians.map((c) => c.destination.label);
  if (new Set(locations).size !== locations.length)
    throw new CeremonyError('InvalidArgument', 'Two shares would go to the same place.');
}

/**
 * The part of checkShareSetPlan that needs no medium: K of N, and one share
 * per person. The app's re-share checks it when its new custodians are named,
 * before any of them chooses a medium.
 */
export function checkShareSetRoster(threshold: number, custodians: readonly string[]): void {
  checkThreshold(threshold, custodians.length);
  const seen = new Set<string>();
  for (const c of custodians) {
    if (seen.has(c))
      throw new CeremonyError(
        'InvalidArgument',
        `Two shares would go to ${c}: one person holds at most one share of a key.`,
        { custodian: c },
      );
    seen.add(c);
  }
}

/**
 * Prechecks every destination (its secret collected and checked, a file's
 * path free, a card prepared with a free slot), so that no share is written
 * for a set that cannot be completed; runs `use`; then disposes of every
 * destination's secret, whatever happens.
 */
export async function withPrecheckedDestinations<T>(
  custodians: readonly CustodianShare[],
  use: () => Promise<T>,
): Promise<T> {
  try {
    for (const c of custodians) await c.destination.precheck();
    return await use();
  } finally {
    for (const c of custodians) c.destination.dispose();
  }
}

export interface CeremonyFrame {
  recordPath: string;
  actor: string;
  now: () => Date;
}

/**
 * Runs a ceremony's body between its opening (written by `open`, which
 * creates or extends the record) and its closing. A body that fails closes
 * the ceremony as aborted with its reason, so nobody mistakes its shares for
 * a usable set; the error then names the shares already written. `written`
 * collects the labels of the media written so far.
 */
export async function runCeremony<T>(
  frame: CeremonyFrame,
  open: () => void,
  body: (written: string[]) => Promise<T>,
): Promise<T> {
  open();
  const written: string[] = [];
  let result: T;
  try {
    result = await body(written);
  } catch (e) {
    // Messages never hold secrets.
    try {
      const closing: Closing = {
        outcome: 'aborted',
        code: (e as { code?: string }).code ?? 'Bug',
        reason: String((e as Error).message),
      };
      endCeremony(frame.recordPath, frame.actor, { wiped: WIPED_IN_MEMORY, closing }, frame.now());
    } catch {
      /* keep the original error */
    }
    throw withSharesLeftBehind(e, written);
  }
  // Not swallowed: shares of a ceremony whose record does not say it
  // completed are refused later, so the custodians must learn it now.
  endCeremony(
    frame.recordPath,
    frame.actor,
    { wiped: WIPED_IN_MEMORY, closing: { outcome: 'completed' } },
    frame.now(),
  );
  return result;
}

/**
 * A record whose last ceremony has no closing entry: a ceremony of `kind`
 * stopped (killed, power gone) before it ended is closed as aborted by the
 * next one of its kind (closeStoppedCeremony), which names the shares it had
 * written (they are void). Any other open ceremony is refused: it may still
 * be running. `what` names the ceremony about to start ("a re-share").
 */
export function stoppedCeremony(
  recordPath: string,
  kind: CeremonyKind,
  what: string,
): { line: number; written: string[] } | null {
  const last = ceremoniesOf(readTranscript(recordPath)).ceremonies.at(-1)!;
  if (last.outcome.kind !== 'open') return null;
  const opening = last.entries[0]!;
  if (ceremonyKindOf(opening) !== kind) {
    throw new CeremonyError(
      'TranscriptInvalid',
      `The ceremony record ${recordPath} ends with a ceremony that has no closing entry (opened at line ${opening.seq}): it is still running, or was stopped; ${what} starts only after it is closed.`,
      { line: opening.seq },
    );
  }
  return {
    line: opening.seq,
    written: last.entries.filter((e) => e.type === ENTRY.shareIssued).map((e) => String(e.data['location'])),
  };
}

/** Closes, as aborted with `reason`, the stopped ceremony that stoppedCeremony found. */
export function closeStoppedCeremony(frame: CeremonyFrame, reason: string): void {
  endCeremony(
    frame.recordPath,
    frame.actor,
    { wiped: null, closing: { outcome: 'aborted', code: 'Stopped', reason } },
    frame.now(),
  );
}

/**
 * A failure after some shares were written must not say "nothing was
 * written": it names what is on the media and what to do with it.
 */
function withSharesLeftBehind(e: unknown, written: readonly string[]): unknown {
  if (!isCeremonyError(e) || written.length === 0) return e;
  const what = e.message.replace(/ Nothing was written;[^.]*\.$/, '');
  return new CeremonyError(
    e.code,
    `${what} The ceremony was aborted, and its record says so. ${written.length === 1 ? 'One share had been written' : `${written.length} shares had been written`} before this (${written.join(', ')}): they belong to the aborted ceremony and will be refused; destroy them, then start again.`,
    e.details,
  );
}

export interface ShareSetToIssue {
  /** The ceremony issuing the set: every share's header names it. */
  ceremonyId: string;
  keyName: string;
  kcv: string;
  threshold: number;
  custodians: readonly CustodianShare[];
}

/** The set a share belongs to, as every header of the set names it. */
export interface ShareSetIdentity {
  ceremonyId: string;
  keyName: string;
  kcv: string;
  threshold: number;
  /** N. */
  shares: number;
  /** The key lives in a rehearsal: each share's header says so (`rehearsal: true`). */
  rehearsal?: boolean;
}

/** The header of share `shareIndex` of a set: what the share's medium shows without any secret. */
export function shareHeader(
  set: ShareSetIdentity,
  shareIndex: number,
  custodian: string,
  created: Date,
): KeyshareHeader {
  return {
    format: KEYSHARE_FORMAT,
    ceremonyId: set.ceremonyId,
    keyName: set.keyName,
    shareIndex,
    threshold: set.threshold,
    shares: set.shares,
    kcv: set.kcv,
    custodian,
    created: created.toISOString(),
    ...(set.rehearsal === true ? { rehearsal: true as const } : {}),
  };
}

/**
 * Generates a new master key and records its KCV and verification pattern
 * (master-key-generated), through `record`. Secret: the caller zeroes the
 * key; it is zeroed here if recording fails.
 */
export function generateRecordedMasterKey(record: (type: EntryType, data: TranscriptData) => void): {
  key: Buffer;
  kcv: string;
  verificationPattern: string;
} {
  const key = generateMasterKey();
  try {
    const kcv = keyCheckValue(key);
    const vp = verificationPattern(key);
    record(ENTRY.masterKeyGenerated, { kcv, verificationPattern: vp, algorithm: 'AES-256' });
    return { key, kcv, verificationPattern: vp };
  } catch (e) {
    zeroize(key);
    throw e;
  }
}

/**
 * The proof that a share was stored: what was read back from its medium
 * (`back`, with the header found there when it was read from a source) is
 * what was written. Answers the share's commitment, which share-issued
 * records. `location` names the medium in the refusal, `advice` says what to
 * do then. Zeroes nothing: the caller owns both shares.
 */
export function checkShareReadBack(
  written: { header: KeyshareHeader; share: Uint8Array },
  back: { header?: KeyshareHeader; share: Buffer },
  location: string,
  advice?: string,
): string {
  const commitment = shareCommitment(written.header, written.share);
  if (!back.share.equals(written.share) || shareCommitment(back.header ?? written.header, back.share) !== commitment) {
    throw new CeremonyError(
      'ShareMismatch',
      `Share ${written.header.shareIndex} read back from ${location} differs from what was written.${advice ? ` ${advice}` : ''}`,
    );
  }
  return commitment;
}

/** Who writes a ceremony's entries (a rehearsal record's writer marks each, transcript.ts). */
export interface EntryWriter {
  recordPath: string;
  actor: string;
  now: () => Date;
}

/** Records a share written, read back and found identical: its commitment (share-issued). */
export function recordShareIssued(
  w: EntryWriter,
  a: { shareIndex: number; custodian: string; medium: string; location: string; commitment: string },
): void {
  appendTranscript(w.recordPath, { type: ENTRY.shareIssued, actor: w.actor, data: shareIssuedData(a) }, w.now());
}

/**
 * Issues one share to its custodian's medium: written, read back and
 * compared, its commitment recorded (share-issued). The step of every
 * share of a set; `written` collects the media written so far. The share is
 * the caller's to zero.
 */
export async function issueShare(
  c: CustodianShare,
  header: KeyshareHeader,
  share: Buffer,
  frame: CeremonyFrame & { written: string[] },
): Promise<IssuedShareResult> {
  await c.destination.write(header, share);
  frame.written.push(c.destination.label);
  const back = await c.destination.readBack();
  let commitment: string;
  try {
    commitment = checkShareReadBack({ header, share }, { share: back }, c.destination.label);
  } finally {
    zeroize(back);
  }
  recordShareIssued(frame, {
    shareIndex: header.shareIndex,
    custodian: c.custodian,
    medium: c.destination.medium,
    location: c.destination.location,
    commitment,
  });
  return { shareIndex: header.shareIndex, custodian: c.custodian, label: c.destination.label, commitment };
}

/**
 * Splits the key K-of-N and issues every share in turn (issueShare). The
 * shares are zeroed before this returns; the key is the caller's to zero.
 */
export async function issueShareSet(
  key: Uint8Array,
  set: ShareSetToIssue,
  frame: CeremonyFrame & { written: string[]; onProgress?: ProgressListener | undefined },
): Promise<IssuedShareResult[]> {
  const n = set.custodians.length;
  let shares: Buffer[] = [];
  try {
    shares = await splitMasterKey(key, set.threshold, n);
    // Cards prepared for this set before its record was open: recorded as the key ceremony records them.
    for (const c of set.custodians)
      if (c.cardPrepared)
        appendTranscript(
          frame.recordPath,
          { type: ENTRY.cardPrepared, actor: frame.actor, data: cardPreparedData(c.cardPrepared) },
          frame.now(),
        );
    const issued: IssuedShareResult[] = [];
    // The shares of a rehearsal record's key say so inside (its mode: recordMode).
    const rehearsal = recordMode(readTranscript(frame.recordPath))?.rehearsal === true;
    for (const [i, c] of set.custodians.entries()) {
      const header = shareHeader({ ...set, shares: n, rehearsal }, i + 1, c.custodian, frame.now());
      const result = await issueShare(c, header, shares[i]!, frame);
      issued.push(result);
      frame.onProgress?.({ step: 'share-issued', shareIndex: i + 1, label: c.destination.label });
    }
    return issued;
  } finally {
    zeroize(...shares);
  }
}

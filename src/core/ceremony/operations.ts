import { randomUUID } from 'node:crypto';
import { CeremonyError, isCeremonyError } from '../errors.js';
import { assertFolderWritable, assertOutputFree } from '../files.js';
import {
  checkKeyName,
  checkThreshold,
  combineShares,
  generateMasterKey,
  keyCheckValue,
  sameHex,
  splitMasterKey,
  verificationPattern,
} from '../masterkey/masterkey.js';
import { zeroize } from '../secrets.js';
import { KEYSHARE_FORMAT, shareCommitment, type KeyshareHeader } from '../shares/envelope.js';
import {
  ceremoniesOf,
  shareIssuedData,
  summarize,
  ENTRY,
  WIPED_IN_MEMORY,
  type CeremonySummary,
  type Closing,
  type IssuedShare,
} from './record.js';
import { appendTranscript, endCeremony, createTranscript, headHash, readTranscript } from './transcript.js';
import type { ShareDestination, ShareSource } from './media.js';

// The ceremony steps, independent of how they are driven (CLI or app).

export const TOOL = 'keyceremony 0.1.0';

export interface CustodianShare {
  custodian: string;
  destination: ShareDestination;
}

export interface GenerateArgs {
  ceremonyName?: string;
  keyName: string;
  threshold: number;
  custodians: CustodianShare[];
  recordPath: string;
  actor?: string;
  now?: () => Date;
  onProgress?: (event: { step: string; shareIndex?: number; label?: string }) => void;
}

export interface GenerateResult {
  ceremonyId: string;
  kcv: string;
  verificationPattern: string;
  shares: Array<{ shareIndex: number; custodian: string; label: string; commitment: string }>;
}

/**
 * Generates the master key, splits it K-of-N, writes every share to its
 * custodian's medium, reads each one back and checks it, and keeps the
 * ceremony record. The master key and the shares exist only in memory and
 * are zeroed before this returns, whatever happens.
 */
export async function generateMasterKeyCeremony(a: GenerateArgs): Promise<GenerateResult> {
  const now = a.now ?? (() => new Date());
  const n = a.custodians.length;
  checkThreshold(a.threshold, n);
  checkKeyName(a.keyName);
  const locations = a.custodians.map((c) => c.destination.label);
  if (new Set(locations).size !== n)
    throw new CeremonyError('InvalidArgument', 'Two shares would go to the same place.');
  // Everything that can fail for a person's reason fails before the key exists.
  refuseRecordOfStoppedCeremony(a.recordPath);
  assertOutputFree(a.recordPath);
  assertFolderWritable(a.recordPath);
  try {
    for (const c of a.custodians) await c.destination.precheck();
    return await generateAfterPrecheck(a, n, now);
  } finally {
    for (const c of a.custodians) c.destination.dispose();
  }
}

/**
 * mk generate run again after it was stopped (killed, power gone) finds the
 * record it began (issue 10, "Killed at any moment"): it says what happened
 * and what to do, rather than only that the file exists. The record is
 * never overwritten.
 */
function refuseRecordOfStoppedCeremony(recordPath: string): void {
  let entries;
  try {
    entries = readTranscript(recordPath);
  } catch {
    return; // no record there (or not one this tool can read): assertOutputFree says what is in the way
  }
  const last = ceremoniesOf(entries).ceremonies.at(-1)!;
  if (last.outcome.kind !== 'open') return;
  const written = last.entries.filter((e) => e.type === ENTRY.shareIssued).map((e) => String(e.data['location']));
  throw new CeremonyError(
    'OutputExists',
    `${recordPath} holds a key ceremony that was stopped before it ended; its key is gone and its shares can never be used${written.length > 0 ? ` (destroy ${written.join(', ')}, and any other share file it wrote)` : ' (destroy any share file it wrote)'}: keep that record, and generate the key again with a new record name.`,
    { path: recordPath },
  );
}

async function generateAfterPrecheck(a: GenerateArgs, n: number, now: () => Date): Promise<GenerateResult> {
  const ceremonyId = randomUUID();
  const actor = a.actor ?? 'operator';
  createTranscript(
    a.recordPath,
    {
      type: ENTRY.opened,
      actor,
      data: {
        ceremonyId,
        ceremonyName: a.ceremonyName ?? a.keyName,
        keyName: a.keyName,
        threshold: a.threshold,
        shares: n,
        custodians: a.custodians.map((c) => c.custodian),
        tool: TOOL,
      },
    },
    now(),
  );
  let result: GenerateResult;
  const written: string[] = [];
  try {
    result = await issueShares(a, ceremonyId, actor, now, written);
  } catch (e) {
    // The record says the ceremony did not complete and why (messages never
    // hold secrets), so nobody mistakes its shares for a usable set.
    try {
      const closing: Closing = {
        outcome: 'aborted',
        code: (e as { code?: string }).code ?? 'Bug',
        reason: String((e as Error).message),
      };
      endCeremony(a.recordPath, actor, { wiped: WIPED_IN_MEMORY, closing }, now());
    } catch {
      /* keep the original error */
    }
    throw withSharesLeftBehind(e, written);
  }
  // Not swallowed: shares of a ceremony whose record does not say it
  // completed are refused later, so the custodians must learn it now.
  endCeremony(a.recordPath, actor, { wiped: WIPED_IN_MEMORY, closing: { outcome: 'completed' } }, now());
  return result;
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

/** Generates the key, splits it and issues every share; the key and shares are zeroed before it returns. */
async function issueShares(
  a: GenerateArgs,
  ceremonyId: string,
  actor: string,
  now: () => Date,
  written: string[],
): Promise<GenerateResult> {
  const n = a.custodians.length;
  const key = generateMasterKey();
  let shares: Buffer[] = [];
  try {
    const kcv = keyCheckValue(key);
    const vp = verificationPattern(key);
    appendTranscript(
      a.recordPath,
      { type: ENTRY.masterKeyGenerated, actor, data: { kcv, verificationPattern: vp, algorithm: 'AES-256' } },
      now(),
    );
    a.onProgress?.({ step: 'master-key-generated' });
    shares = await splitMasterKey(key, a.threshold, n);
    const issued: GenerateResult['shares'] = [];
    for (const [i, c] of a.custodians.entries()) {
      const header: KeyshareHeader = {
        format: KEYSHARE_FORMAT,
        ceremonyId,
        keyName: a.keyName,
        shareIndex: i + 1,
        threshold: a.threshold,
        shares: n,
        kcv,
        custodian: c.custodian,
        created: now().toISOString(),
      };
      const share = shares[i]!;
      await c.destination.write(header, share);
      written.push(c.destination.label);
      const back = await c.destination.readBack();
      try {
        if (!back.equals(share)) {
          throw new CeremonyError(
            'ShareMismatch',
            `Share ${i + 1} read back from ${c.destination.label} differs from what was written.`,
          );
        }
      } finally {
        zeroize(back);
      }
      const commitment = shareCommitment(header, share);
      appendTranscript(
        a.recordPath,
        {
          type: ENTRY.shareIssued,
          actor,
          data: shareIssuedData({
            shareIndex: i + 1,
            custodian: c.custodian,
            medium: c.destination.medium,
            location: c.destination.location,
            commitment,
          }),
        },
        now(),
      );
      issued.push({ shareIndex: i + 1, custodian: c.custodian, label: c.destination.label, commitment });
      a.onProgress?.({ step: 'share-issued', shareIndex: i + 1, label: c.destination.label });
    }
    return { ceremonyId, kcv, verificationPattern: vp, shares: issued };
  } finally {
    zeroize(key, ...shares);
  }
}

/** Reads a record and its key ceremony, which must be closed as completed. */
export function loadCeremony(recordPath: string): { summary: CeremonySummary; head: string } {
  const entries = readTranscript(recordPath);
  return { summary: summarize(entries), head: headHash(entries) };
}

function checkHeaderAgainstRecord(h: KeyshareHeader, s: CeremonySummary, label: string): IssuedShare {
  if (h.ceremonyId !== s.ceremonyId) {
    throw new CeremonyError(
      'ShareFromOtherCeremony',
      `${label} belongs to another ceremony (${h.ceremonyId}, key "${h.keyName}"), not to ${s.ceremonyId} (key "${s.keyName}").`,
      { shareCeremony: h.ceremonyId, recordCeremony: s.ceremonyId },
    );
  }
  const issued = s.issued.get(h.shareIndex);
  if (!issued || h.kcv !== s.kcv || h.threshold !== s.threshold || h.shares !== s.shares) {
    throw new CeremonyError(
      'ShareMismatch',
      `${label} claims to be share ${h.shareIndex}, which the record does not list as issued.`,
    );
  }
  return issued;
}

export interface VerifiedShare {
  header: KeyshareHeader;
  issued: IssuedShare;
  summary: CeremonySummary;
}

/** Checks one share against the record: readable with its secret, and the one issued. */
export async function verifyShareAgainstRecord(recordPath: string, source: ShareSource): Promise<VerifiedShare> {
  const { summary } = loadCeremony(recordPath);
  const header = await source.header();
  const issued = checkHeaderAgainstRecord(header, summary, source.label);
  const share = await source.open();
  try {
    if (shareCommitment(header, share) !== issued.commitment) {
      throw new CeremonyError(
        'ShareMismatch',
        `${source.label} opens, but it is not the share ${header.shareIndex} that was issued: its commitment differs from the record.`,
      );
    }
  } finally {
    zeroize(share);
  }
  return { header, issued, summary };
}

/**
 * Rebuilds the master key from shares, checking each against the record
 * and the result against the recorded verification pattern. Secret: the
 * caller zeroes the key.
 */
export async function recoverMasterKey(
  recordPath: string,
  sources: ShareSource[],
): Promise<{ key: Buffer; summary: CeremonySummary; used: number[] }> {
  const { summary } = loadCeremony(recordPath);
  const headers: KeyshareHeader[] = [];
  for (const src of sources) {
    const h = await src.header();
    checkHeaderAgainstRecord(h, summary, src.label);
    if (headers.some((o) => o.shareIndex === h.shareIndex)) {
      throw new CeremonyError(
        'DuplicateShare',
        `${src.label} is share ${h.shareIndex} again: two copies of the same share count once.`,
        { shareIndex: h.shareIndex },
      );
    }
    headers.push(h);
  }
  if (sources.length < summary.threshold) {
    throw new CeremonyError(
      'ThresholdNotMet',
      `${summary.threshold} different shares are needed to rebuild key "${summary.keyName}"; ${sources.length} ${sources.length === 1 ? 'was' : 'were'} given.`,
      { needed: summary.threshold, given: sources.length },
    );
  }
  const opened: Buffer[] = [];
  try {
    for (const [i, src] of sources.entries()) {
      const share = await src.open();
      opened.push(share);
      const issued = summary.issued.get(headers[i]!.shareIndex)!;
      if (shareCommitment(headers[i]!, share) !== issued.commitment) {
        throw new CeremonyError(
          'ShareMismatch',
          `${src.label} is not the share ${headers[i]!.shareIndex} that was issued: its commitment differs from the record.`,
        );
      }
    }
    const key = await combineShares(opened);
    if (!sameHex(verificationPattern(key), summary.verificationPattern)) {
      zeroize(key);
      throw new CeremonyError('ShareMismatch', 'The shares do not rebuild the recorded master key.');
    }
    return { key, summary, used: headers.map((h) => h.shareIndex) };
  } finally {
    zeroize(...opened);
  }
}

import { CeremonyError } from '../errors.js';
import { combineShares, keyCheckValue, sameHex, verificationPattern } from '../masterkey/masterkey.js';
import { zeroize } from '../secrets.js';
import { shareCommitment, type KeyshareHeader } from '../shares/envelope.js';
import { summarize, type CeremonySummary, type IssuedShare, type ShareSet } from './record.js';
import { headHash, readTranscript } from './transcript.js';
import type { ShareSource } from './media.js';
import { cardShareHints, type CardShareHints } from './card-media.js';
import { shareOfEndedKeyError } from './lifecycle.js';

// A share against its key's record, for every ceremony that takes shares in
// (share check, recovery, re-share, rotation, bundle create): of the
// current set, the one issued, no share or custodian twice, at least K, and
// the key they rebuild the recorded one.

/** Reads a record and its key ceremony, which must be closed as completed. */
export function loadCeremony(recordPath: string): { summary: CeremonySummary; head: string } {
  const entries = readTranscript(recordPath);
  return { summary: summarize(entries), head: headHash(entries) };
}

/**
 * The share set of a record that a share's header claims, and its issued
 * share: refused when the share belongs to another key, to a re-share that
 * did not complete, or to a set a re-share retired (which it names), or
 * when the key itself was retired by a rotation or destroyed.
 */
function checkHeaderAgainstRecord(
  h: KeyshareHeader,
  s: CeremonySummary,
  label: string,
): { set: ShareSet; issued: IssuedShare } {
  if (h.rehearsal === true && s.rehearsal !== true)
    throw new CeremonyError(
      'RehearsalMismatch',
      `${label} is a rehearsal share (its header says so, key "${h.keyName}"), and the record of key "${s.keyName}" is a production record: a rehearsal share is never used for a production key. Use a share of this key.`,
      { share: 'rehearsal', record: 'production' },
    );
  const set = s.shareSets.find((x) => x.ceremonyId === h.ceremonyId);
  if (!set) {
    const v = s.voidShareCeremonies.find((x) => x.ceremonyId === h.ceremonyId);
    throw new CeremonyError(
      'ShareFromOtherCeremony',
      v
        ? `${label} belongs to the re-share ${h.ceremonyId} of key "${s.keyName}", which ${v.why}: its shares never were a usable set; use a share of the current set (ceremony ${currentSet(s).ceremonyId}).`
        : `${label} belongs to another ceremony (${h.ceremonyId}, key "${h.keyName}"), not to ${s.ceremonyId} (key "${s.keyName}").`,
      { shareCeremony: h.ceremonyId, recordCeremony: s.ceremonyId },
    );
  }
  // The key itself ended (issue 11): retired by a rotation, or destroyed, as its units reported.
  if (s.end) throw shareOfEndedKeyError(label, h.shareIndex, s, s.end);
  if (set.retiredBy) {
    const r = set.retiredBy;
    throw new CeremonyError(
      'ShareRetired',
      `${label} is share ${h.shareIndex} of ceremony ${set.ceremonyId}, which the re-share "${r.ceremonyName}" (ceremony ${r.ceremonyId}, record line ${r.line}, ${r.time}) retired: it can no longer be used; use a share of the current set (${currentSet(s).threshold} of ${currentSet(s).shares}, ceremony ${currentSet(s).ceremonyId}).`,
      { retiredBy: r.ceremonyId, shareCeremony: set.ceremonyId, shareIndex: h.shareIndex },
    );
  }
  const issued = set.issued.get(h.shareIndex);
  if (!issued && set.known.from === 'paper-recovery') {
    throw new CeremonyError(
      'ShareMismatch',
      `${label} claims to be share ${h.shareIndex}, which this record does not know: it begins with a recovery from the paper report (line ${set.known.line}), where only shares ${[...set.issued.keys()].sort((x, y) => x - y).join(', ')} were presented; use those, or re-share the key (mk reshare) to record a whole new set.`,
      { shareIndex: h.shareIndex },
    );
  }
  if (!issued || h.kcv !== s.kcv || h.threshold !== set.threshold || h.shares !== set.shares) {
    throw new CeremonyError(
      'ShareMismatch',
      `${label} claims to be share ${h.shareIndex}, which the record does not list as issued.`,
    );
  }
  return { set, issued };
}

function currentSet(s: CeremonySummary): ShareSet {
  return s.shareSets.at(-1)!;
}

/**
 * What the record says about where a card's share is: the ceremonies of the
 * key's share sets in the order a card's shares are looked for (the current
 * set first, then the retired sets, newest first, so that a retired share is
 * found, and refused by name), and the card and slot each card share went to.
 */
export function cardShareHintsOf(s: CeremonySummary): CardShareHints {
  return cardShareHints(
    [...s.shareSets].reverse().map((set) => ({
      ceremonyId: set.ceremonyId,
      locations: [...set.issued.values()].map((i) => i.location),
    })),
  );
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
  const { issued } = checkHeaderAgainstRecord(header, summary, source.label);
  const share = await source.open();
  try {
    checkCommitment(header, share, issued, source.label);
  } finally {
    zeroize(share);
  }
  return { header, issued, summary };
}

function checkCommitment(header: KeyshareHeader, share: Uint8Array, issued: IssuedShare, label: string): void {
  if (shareCommitment(header, share) !== issued.commitment) {
    throw new CeremonyError(
      'ShareMismatch',
      `${label} opens, but it is not the share ${header.shareIndex} that was issued: its commitment differs from the record.`,
    );
  }
}

/**
 * Checks shares against the record by their headers, before any secret is
 * asked: each of the current set (not retired, not of another key), no
 * share twice, no two shares of one custodian, at least K.
 */
export async function checkSourcesAgainstRecord(
  summary: CeremonySummary,
  sources: readonly ShareSource[],
): Promise<KeyshareHeader[]> {
  const headers: KeyshareHeader[] = [];
  for (const src of sources) headers.push(await checkNextSourceAgainstRecord(summary, headers, src));
  checkEnoughShares(summary, sources.length);
  return headers;
}

/**
 * Checks one more share by its header, before any secret is asked, against
 * the record and the shares `accepted` so far (checkSourcesAgainstRecord's
 * step, for a caller that takes shares one at a time, as the app's re-share
 * does): of the current set, not a share already given, not a second share
 * of one custodian. Answers its header.
 */
export async function checkNextSourceAgainstRecord(
  summary: CeremonySummary,
  accepted: readonly KeyshareHeader[],
  src: ShareSource,
): Promise<KeyshareHeader> {
  const h = await src.header();
  const { issued } = checkHeaderAgainstRecord(h, summary, src.label);
  if (accepted.some((o) => o.shareIndex === h.shareIndex)) {
    throw new CeremonyError(
      'DuplicateShare',
      `${src.label} is share ${h.shareIndex} again: two copies of the same share count once.`,
      { shareIndex: h.shareIndex },
    );
  }
  // The custodian the record names for each accepted share (all of the current set).
  const other = accepted.find(
    (o) => checkHeaderAgainstRecord(o, summary, src.label).issued.custodian === issued.custodian,
  );
  if (other !== undefined) {
    throw new CeremonyError(
      'DuplicateShare',
      `${src.label} is share ${h.shareIndex}, issued to ${issued.custodian}, who also holds share ${other.shareIndex}: one person's shares count once.`,
      { shareIndex: h.shareIndex },
    );
  }
  return h;
}

/** Refuses fewer than K different shares of the key's current set. */
export function checkEnoughShares(summary: CeremonySummary, given: number): void {
  if (given < summary.threshold) {
    throw new CeremonyError(
      'ThresholdNotMet',
      `${summary.threshold} different shares are needed to rebuild key "${summary.keyName}"; ${given} ${given === 1 ? 'was' : 'were'} given.`,
      { needed: summary.threshold, given },
    );
  }
}

/**
 * Opens shares whose headers checkSourcesAgainstRecord accepted, checks
 * each against its commitment, and rebuilds the key, checked against the
 * record's KCV and verification pattern. Secret: the caller zeroes the key.
 */
export async function combineCheckedSources(
  summary: CeremonySummary,
  sources: readonly ShareSource[],
  headers: readonly KeyshareHeader[],
): Promise<Buffer> {
  return combineSources(
    sources,
    headers,
    { kcv: summary.kcv, verificationPattern: summary.verificationPattern, what: 'the recorded master key' },
    (header, share, label) => checkCommitment(header, share, summary.issued.get(header.shareIndex)!, label),
  );
}

/** The key shares must rebuild: its KCV and verification pattern, and what it is called in a refusal. */
export interface ExpectedKey {
  kcv: string;
  verificationPattern: string;
  /** "the recorded master key", "the key of the paper report". */
  what: string;
}

/**
 * Opens each share (`each` checks it as it opens; the share is zeroed after),
 * rebuilds the key and refuses one whose KCV or verification pattern is not
 * the expected key's, naming both. Secret: the caller zeroes the key.
 */
export async function combineSources(
  sources: readonly ShareSource[],
  headers: readonly KeyshareHeader[],
  expected: ExpectedKey,
  each: (header: KeyshareHeader, share: Buffer, label: string) => void,
): Promise<Buffer> {
  const opened: Buffer[] = [];
  try {
    for (const [i, src] of sources.entries()) {
      const share = await src.open();
      opened.push(share);
      each(headers[i]!, share, src.label);
    }
    const key = await combineShares(opened);
    const kcv = keyCheckValue(key);
    const vp = verificationPattern(key);
    if (!sameHex(vp, expected.verificationPattern) || !sameHex(kcv, expected.kcv)) {
      zeroize(key);
      throw new CeremonyError(
        'ShareMismatch',
        sameHex(kcv, expected.kcv)
          ? `The shares rebuild a key with KCV ${kcv}, but its verification pattern is ${vp}, not ${expected.verificationPattern} of ${expected.what}.`
          : `The shares rebuild a key with KCV ${kcv}, not ${expected.what} (KCV ${expected.kcv}).`,
        { kcv, expectedKcv: expected.kcv },
      );
    }
    return key;
  } finally {
    zeroize(...opened);
  }
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
  const headers = await checkSourcesAgainstRecord(summary, sources);
  const key = await combineCheckedSources(summary, sources, headers);
  return { key, summary, used: headers.map((h) => h.shareIndex) };
}

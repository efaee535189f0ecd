import { randomUUID } from 'node:crypto';
import type { ClaimSpec } from '../bundle/bundle.js';
import type { TransportKey } from '../bundle/transport.js';
import { CeremonyError } from '../errors.js';
import { groupHex } from '../encoding.js';
import { assertFolderWritable, assertOutputFree } from '../files.js';
import { checkKeyName, sameHex } from '../masterkey/masterkey.js';
import { zeroize } from '../secrets.js';
import { shareCommitment, type KeyshareHeader } from '../shares/envelope.js';
import { checkDisplayedFingerprint, unitConfirmedData } from './bundle-record.js';
import {
  createBundle,
  precheckBundle,
  type BundleRequest,
  type CreateBundleArgs,
  type CreatedBundle,
  type RebuiltKey,
} from './bundles.js';
import type { CeremonyKind } from './kinds.js';
import type { ShareSource } from './media.js';
import { checkSourcesAgainstRecord, combineCheckedSources, combineSources, loadCeremony, TOOL } from './operations.js';
import {
  ceremoniesOf,
  ENTRY,
  keyRecoveredFromPaper,
  keyRecoveredFromPaperData,
  type CeremonySummary,
  type IssuedShare,
  type LostRecordReport,
  type PresentedShare,
} from './record.js';
import { closeStoppedCeremony, runCeremony, stoppedCeremony, type CeremonyFrame } from './share-issue.js';
import {
  appendTranscript,
  createTranscript,
  draftRecord,
  headHash,
  readTranscript,
  type NewEntry,
} from './transcript.js';
import type { TranscriptData } from './transcript.js';

// Recovery (issue 11, ceremony 1): the master key rebuilt from any K shares
// (cards and files mixed) and loaded onto new or cleared units by a recover
// bundle, as a ceremony of the key's record: opened, the shares checked and
// combined, the key checked, the bundle built and recorded (the steps of
// `bundle create --operation recover`, bundles.ts), the key wiped, closed.
// When the record is lost, the paper report stands in for it: its KCV,
// verification pattern and head hash, typed in, begin a new record.

export const RECOVERY_KIND: CeremonyKind = 'recovery';

interface RecoveryArgs {
  /** At least K shares of the key's current set. */
  sources: ShareSource[];
  /** One per unit of the instance. */
  transports: TransportKey[];
  /** Admins and thresholds to claim cleared units; null for claimed units holding no key. */
  claim: ClaimSpec | null;
  outPath: string;
  rehearsal?: boolean;
  ceremonyName?: string;
  actor?: string;
  now?: () => Date;
}

export interface RecoverFromRecordArgs extends RecoveryArgs {
  recordPath: string;
  /** The head hash printed on the key's paper report, as typed: the record must hold it. */
  paperHead?: string;
}

/** What the operator types from the paper report of a lost record. */
export interface PaperReport extends LostRecordReport {
  keyName: string;
}

export interface RecoverFromPaperArgs extends RecoveryArgs {
  /** The record this recovery begins; must not exist. */
  newRecordPath: string;
  paper: PaperReport;
  /** The transport key fingerprint each unit displays, by unit id, as the operator read it. */
  displayed: ReadonlyMap<string, string>;
}

export interface RecoveryResult {
  recordPath: string;
  /** The recovery ceremony. */
  ceremonyId: string;
  /** The key's identity: the ceremony that issued the shares' set (the bundle names it). */
  keyCeremonyId: string;
  keyName: string;
  kcv: string;
  sharesUsed: number[];
  created: CreatedBundle;
  /** What the units need before they load it: every admin the claim installs, or their own signature threshold. */
  signatures: { needed: number; by: 'claim' | 'units' };
  /** A recovery of this record stopped before it ended, closed as aborted by this one. */
  closedStopped: { line: number } | null;
}

/**
 * The recovery ceremony on the key's record. Everything that needs no
 * secret is refused before the ceremony opens, with the record unchanged:
 * the record, the output path, the units (confirmed, of the bundle's mode,
 * in the state a recovery needs), the claim (a lock-out), the shares'
 * headers (K of the current set, none retired, of this key). From the
 * opening on, a failure (a wrong passphrase, a key that is not the record's)
 * closes the ceremony as aborted with its reason. The key is zeroed before
 * this returns, whatever happens.
 */
export async function recoverFromRecord(a: RecoverFromRecordArgs): Promise<RecoveryResult> {
  const frame = frameOf(a, a.recordPath);
  if (a.paperHead !== undefined) checkRecordAgainstPaperHead(a.recordPath, a.paperHead);
  const { summary } = loadCeremony(a.recordPath);
  const stopped = stoppedCeremony(a.recordPath, RECOVERY_KIND, 'a recovery');
  const { rehearsal } = precheckBundle(
    bundleArgs(a, a.recordPath, { operation: 'recover', sources: a.sources, claim: a.claim }),
    readTranscript(a.recordPath),
    summary,
  );
  const headers = await checkSourcesAgainstRecord(summary, a.sources);
  if (stopped) closeStoppedCeremony(frame, 'stopped before it ended; closed by the next mk recover');
  const ceremonyId = randomUUID();
  const open = (): void => {
    appendTranscript(
      a.recordPath,
      { type: ENTRY.opened, actor: frame.actor, data: openingData(a, ceremonyId, summary, rehearsal) },
      frame.now(),
    );
  };
  return runCeremony(frame, open, async () => {
    const key = await combineCheckedSources(summary, a.sources, headers);
    try {
      const sharesUsed = headers.map((h) => h.shareIndex);
      const created = await createBundle(bundleArgs(a, a.recordPath, recoverRequest(a, { key, sharesUsed })));
      return result(a, a.recordPath, ceremonyId, summary, sharesUsed, created, stopped);
    } finally {
      // Zeroed before the record says so (runCeremony writes the wipe next).
      zeroize(key);
    }
  });
}

/**
 * The recovery when the key's record is lost (issue 11): the paper report's
 * key name, KCV, verification pattern and head hash, typed in, stand in for
 * it. The shares' headers must name that key and one set of it; the units'
 * transport keys are confirmed against their displays here, since there is
 * no record to have confirmed them into. The new record is written only once
 * the rebuilt key is the paper's: every refusal before that leaves nothing
 * behind. It then holds the recovery (kind "recovery", what the paper said,
 * the units confirmed, a key-recovered-from-paper entry with the presented
 * shares' commitments, the bundle) and is the key's record from then on.
 */
export async function recoverFromPaper(a: RecoverFromPaperArgs): Promise<RecoveryResult> {
  const frame = frameOf(a, a.newRecordPath);
  const paper = parsePaperReport(a.paper);
  checkKeyName(paper.keyName);
  assertOutputFree(a.newRecordPath);
  assertFolderWritable(a.newRecordPath);
  const headers = await Promise.all(a.sources.map((s) => s.header()));
  const first = paperMatchesShare(paper, headers[0], a.sources[0]);
  refuseRehearsalShares(headers, a.sources, a.rehearsal === true);
  const ceremonyId = randomUUID();
  const presented = presentedSummary(paper, first, a.sources, headers, a.rehearsal === true);
  const opening: NewEntry = {
    type: ENTRY.opened,
    actor: frame.actor,
    data: {
      ...openingData(a, ceremonyId, presented, a.rehearsal === true),
      threshold: first.threshold,
      shares: first.shares,
      lostRecord: { headHash: paper.headHash, kcv: paper.kcv, verificationPattern: paper.verificationPattern },
    },
  };
  const confirmations = unitsConfirmedFromDisplays(a.transports, a.displayed, frame.actor);
  precheckBundle(
    bundleArgs(a, a.newRecordPath, { operation: 'recover', sources: a.sources, claim: a.claim }),
    draftRecord([opening, ...confirmations], frame.now()),
    presented,
  );
  await checkSourcesAgainstRecord(presented, a.sources);
  const seen: PresentedShare[] = [];
  const key = await combineSources(
    a.sources,
    headers,
    { kcv: paper.kcv, verificationPattern: paper.verificationPattern, what: 'the key of the paper report' },
    (h, share, label) =>
      seen.push({
        shareIndex: h.shareIndex,
        custodian: h.custodian,
        presentedAs: label,
        commitment: shareCommitment(h, share),
        created: h.created,
      }),
  );
  try {
    // Only now, with the key proven to be the paper's, is the new record written.
    const open = (): void => void createTranscript(a.newRecordPath, opening, frame.now());
    return await runCeremony(frame, open, async () => {
      for (const c of confirmations) appendTranscript(a.newRecordPath, c, frame.now());
      appendTranscript(
        a.newRecordPath,
        {
          type: ENTRY.keyRecoveredFromPaper,
          actor: frame.actor,
          data: keyRecoveredFromPaperData({
            keyCeremonyId: first.ceremonyId,
            kcv: paper.kcv,
            verificationPattern: paper.verificationPattern,
            presented: seen,
          }),
        },
        frame.now(),
      );
      const sharesUsed = headers.map((h) => h.shareIndex);
      const created = await createBundle({
        ...bundleArgs(a, a.newRecordPath, recoverRequest(a, { key, sharesUsed })),
        // The record's first ceremony is this one, still open: its key is the one it recovered.
        keyOf: (entries) => keyRecoveredFromPaper(ceremoniesOf(entries).ceremonies[0]!.entries),
      });
      return result(a, a.newRecordPath, ceremonyId, presented, sharesUsed, created, null);
    });
  } finally {
    zeroize(key);
  }
}

/**
 * The key the paper report describes, as the shares presented so far know it
 * (recoverFromPaper's view of them: the first share must be of the paper's
 * key, the others of its set). For the app, which takes the shares one
 * custodian at a time and checks each as it is given.
 */
export async function paperKeyOf(
  typed: PaperReport,
  sources: readonly ShareSource[],
  rehearsal = false,
): Promise<CeremonySummary> {
  const paper = parsePaperReport(typed);
  const headers = await Promise.all(sources.map((s) => s.header()));
  const first = paperMatchesShare(paper, headers[0], sources[0]);
  refuseRehearsalShares(headers, sources, rehearsal);
  return presentedSummary(paper, first, sources, headers, rehearsal);
}

/**
 * A recovery from the paper report writes a record of its own mode: a
 * production one never takes a rehearsal key's share (its header says so),
 * which would put a rehearsal key on production units.
 */
function refuseRehearsalShares(
  headers: readonly KeyshareHeader[],
  sources: readonly ShareSource[],
  rehearsal: boolean,
): void {
  if (rehearsal) return;
  const i = headers.findIndex((h) => h.rehearsal === true);
  if (i >= 0)
    throw new CeremonyError(
      'RehearsalMismatch',
      `${sources[i]!.label} is a rehearsal share (its header says so): a recovery from the paper report onto production units never takes a rehearsal key. Nothing was written.`,
      { share: 'rehearsal', record: 'production' },
    );
}

/** A value typed from the paper report: hex in groups or not, either case; normalised, or refused naming what it is. */
function hex(text: string, digits: number, what: string): string {
  const h = text.replace(/[\s:]+/g, '').toLowerCase();
  if (!new RegExp(`^[0-9a-f]{${digits}}$`).test(h))
    throw new CeremonyError(
      'InvalidArgument',
      `${what} must be the ${digits} hex digits printed on the report (spaces allowed), not "${text.slice(0, 100)}".`,
    );
  return h;
}

/**
 * With the record at hand and its paper report too (issue 11: "a record
 * whose head does not match the paper"): the record must hold the head hash
 * the report printed, at the line where the report was made or before later
 * entries were added. A record that does not was cut or rewritten before
 * the report's end, and nothing is recovered from it.
 */
export function checkRecordAgainstPaperHead(recordPath: string, typedHead: string): void {
  const head = hex(typedHead, 64, "The paper report's head hash");
  const entries = readTranscript(recordPath);
  if (entries.some((e) => e.hash === head)) return;
  throw new CeremonyError(
    'TranscriptInvalid',
    `The record ${recordPath} does not hold the head hash ${groupHex(head)} printed on the paper report (its own head is ${groupHex(headHash(entries))}): it is not the record the report describes, or it was cut or rewritten. Use the original record, or recover from the paper report with --new-record.`,
    { expectedHead: head },
  );
}

/** The paper report as typed: hex in groups or not, either case; normalised, or refused naming what is wrong. */
export function parsePaperReport(typed: PaperReport): PaperReport {
  return {
    keyName: typed.keyName,
    kcv: hex(typed.kcv, 6, "The paper report's KCV").toUpperCase(),
    verificationPattern: hex(typed.verificationPattern, 64, "The paper report's verification pattern"),
    headHash: hex(typed.headHash, 64, "The lost record's head hash"),
  };
}

function frameOf(a: RecoveryArgs, recordPath: string): CeremonyFrame {
  return { recordPath, actor: a.actor ?? 'operator', now: a.now ?? (() => new Date()) };
}

function bundleArgs(a: RecoveryArgs, recordPath: string, request: BundleRequest): CreateBundleArgs {
  return {
    recordPath,
    transports: a.transports,
    request,
    outPath: a.outPath,
    rehearsal: a.rehearsal === true,
    ...(a.actor !== undefined ? { actor: a.actor } : {}),
    ...(a.now !== undefined ? { now: a.now } : {}),
  };
}

function recoverRequest(a: RecoveryArgs, rebuilt: RebuiltKey): BundleRequest {
  return { operation: 'recover', rebuilt, claim: a.claim };
}

function openingData(
  a: RecoveryArgs,
  ceremonyId: string,
  key: Pick<CeremonySummary, 'ceremonyId' | 'keyName'>,
  rehearsal: boolean,
): TranscriptData {
  return {
    ceremonyId,
    ceremonyName: a.ceremonyName ?? `recovery of ${key.keyName}`,
    kind: RECOVERY_KIND,
    keyName: key.keyName,
    keyCeremonyId: key.ceremonyId,
    tool: TOOL,
    // The mode of SETUP.json (bundle-record.ts, recordMode): a rehearsal says so in its opening.
    ...(rehearsal ? { mode: 'rehearsal' } : {}),
  };
}

function result(
  a: RecoveryArgs,
  recordPath: string,
  ceremonyId: string,
  key: CeremonySummary,
  sharesUsed: number[],
  created: CreatedBundle,
  stopped: { line: number } | null,
): RecoveryResult {
  return {
    recordPath,
    ceremonyId,
    keyCeremonyId: key.ceremonyId,
    keyName: key.keyName,
    kcv: key.kcv,
    sharesUsed,
    created,
    signatures: a.claim
      ? { needed: a.claim.admins.length, by: 'claim' }
      : { needed: Math.max(...a.transports.map((t) => t.file.unit.signatureThreshold)), by: 'units' },
    closedStopped: stopped ? { line: stopped.line } : null,
  };
}

/** The first share must be of the key the paper report describes: its name and KCV, refused naming both. */
function paperMatchesShare(
  paper: PaperReport,
  h: KeyshareHeader | undefined,
  source: ShareSource | undefined,
): KeyshareHeader {
  if (!h || !source) throw new CeremonyError('ThresholdNotMet', 'No share was given; K shares rebuild the key.');
  if (!sameHex(h.kcv, paper.kcv))
    throw new CeremonyError(
      'KcvMismatch',
      `The paper report's KCV is ${paper.kcv}, but ${source.label} is a share of key "${h.keyName}" with KCV ${h.kcv}: check the KCV typed from the report, or the share. Nothing was written.`,
      { typed: paper.kcv, share: h.kcv },
    );
  if (h.keyName !== paper.keyName)
    throw new CeremonyError(
      'ShareFromOtherCeremony',
      `The paper report names key "${paper.keyName}", but ${source.label} is a share of key "${h.keyName}". Nothing was written.`,
    );
  return h;
}

/**
 * The key as the paper report and the presented shares describe it, before
 * the new record exists: the set the first share names, known by the shares
 * presented, so that the shares are checked as against a record (one set,
 * no share twice, one per person, at least K).
 */
function presentedSummary(
  paper: PaperReport,
  first: KeyshareHeader,
  sources: readonly ShareSource[],
  headers: readonly KeyshareHeader[],
  rehearsal: boolean,
): CeremonySummary {
  const issued = new Map<number, IssuedShare>();
  for (const [i, h] of headers.entries()) {
    if (h.ceremonyId !== first.ceremonyId || issued.has(h.shareIndex)) continue; // refused by checkSourcesAgainstRecord
    issued.set(h.shareIndex, {
      shareIndex: h.shareIndex,
      custodian: h.custodian,
      medium: 'presented at the recovery',
      location: sources[i]!.label,
      commitment: '',
      issued: h.created,
    });
  }
  return {
    ceremonyId: first.ceremonyId,
    ceremonyName: '',
    keyName: paper.keyName,
    kcv: paper.kcv,
    verificationPattern: paper.verificationPattern,
    threshold: first.threshold,
    shares: first.shares,
    issued,
    shareSets: [
      {
        ceremonyId: first.ceremonyId,
        threshold: first.threshold,
        shares: first.shares,
        issued,
        retiredBy: null,
        known: { from: 'paper-recovery', line: 0 },
      },
    ],
    voidShareCeremonies: [],
    bundles: [],
    // The record this recovery writes is a rehearsal's when it is one: its key's shares say so (share-check.ts).
    ...(rehearsal ? { rehearsal: true as const } : {}),
  };
}

/**
 * The units' confirmations for a record that does not exist yet: each
 * transport key checked against the fingerprint its unit displays (the
 * check of `units confirm`), one displayed fingerprint per unit.
 */
function unitsConfirmedFromDisplays(
  transports: readonly TransportKey[],
  displayed: ReadonlyMap<string, string>,
  actor: string,
): NewEntry[] {
  const units = new Set(transports.map((t) => t.file.unitId));
  const stray = [...displayed.keys()].find((u) => !units.has(u));
  if (stray !== undefined)
    throw new CeremonyError(
      'InvalidArgument',
      `A fingerprint was given for unit ${stray}, but no transport file of that unit was given (units: ${[...units].join(', ')}).`,
    );
  return transports.map((t) => {
    const typed = displayed.get(t.file.unitId);
    if (typed === undefined)
      throw new CeremonyError(
        'TransportUnconfirmed',
        `The transport key of unit ${t.file.unitId} has not been confirmed against the unit's own display: read the fingerprint off the unit and give it for unit ${t.file.unitId}; nothing is wrapped to an unconfirmed key.`,
        { unitId: t.file.unitId },
      );
    checkDisplayedFingerprint(t, typed);
    return { type: ENTRY.unitConfirmed, actor, data: unitConfirmedData(t) };
  });
}

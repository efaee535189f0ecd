import { randomUUID } from 'node:crypto';
import { zeroize } from '../secrets.js';
import type { ShareSource } from './media.js';
import { checkSourcesAgainstRecord, combineCheckedSources, loadCeremony, TOOL } from './operations.js';
import type { CeremonyKind } from './kinds.js';
import { ENTRY, sharesRetiredData } from './record.js';
import {
  checkShareSetPlan,
  closeStoppedCeremony,
  issueShareSet,
  runCeremony,
  stoppedCeremony,
  withPrecheckedDestinations,
  type CeremonyFrame,
  type CustodianShare,
  type IssuedShareResult,
  type ProgressListener,
} from './share-issue.js';
import { appendTranscript } from './transcript.js';

// Re-share (issue 11, ceremony 2): K current shares in, a new K'-of-N' set
// of the same key out, in the same record, which then retires the old set.
// Replacing one lost card or one departed custodian is this ceremony. The
// steps are those of the key generation (share-issue.ts) and of reading
// shares (operations.ts); only the key's source and the retirement differ.

export const RESHARE_KIND: CeremonyKind = 'reshare';

export interface ReshareArgs {
  recordPath: string;
  /** At least K shares of the current set, cards and files mixed. */
  sources: ShareSource[];
  /** K' of the new set; N' is the number of custodians. */
  threshold: number;
  custodians: CustodianShare[];
  ceremonyName?: string;
  actor?: string;
  now?: () => Date;
  onProgress?: ProgressListener;
}

export interface ReshareResult {
  ceremonyId: string;
  keyCeremonyId: string;
  keyName: string;
  kcv: string;
  /** The share indices of the old set that rebuilt the key. */
  sharesUsed: number[];
  retired: { ceremonyId: string; threshold: number; shares: number };
  shares: IssuedShareResult[];
  /** A re-share of this record that was stopped before it ended, closed as aborted by this one. */
  closedStopped: { line: number; written: string[] } | null;
}

/**
 * Rebuilds the key from K current shares (checked against the record, the
 * key against its KCV and verification pattern), issues a new set exactly
 * as the key generation does (each share written, read back and checked),
 * and only then retires the old set in the record. The key and every share
 * are zeroed before this returns, whatever happens. A re-share that fails
 * or is stopped before its retirement leaves the old set current.
 */
export async function reshareMasterKey(a: ReshareArgs): Promise<ReshareResult> {
  const now = a.now ?? (() => new Date());
  const frame: CeremonyFrame = { recordPath: a.recordPath, actor: a.actor ?? 'operator', now };
  checkShareSetPlan(a.threshold, a.custodians);
  const { summary } = loadCeremony(a.recordPath);
  const stopped = stoppedCeremony(a.recordPath, RESHARE_KIND, 'a re-share');
  // Shares of another key, retired, repeated or too few are refused before any secret is asked.
  const headers = await checkSourcesAgainstRecord(summary, a.sources);
  const retired = summary.shareSets.at(-1)!;
  return withPrecheckedDestinations(a.custodians, async () => {
    let key: Buffer | undefined = await combineCheckedSources(summary, a.sources, headers);
    a.onProgress?.({ step: 'master-key-rebuilt' });
    try {
      if (stopped)
        closeStoppedCeremony(
          frame,
          'stopped before it ended; closed by the next mk reshare, its shares never were a usable set',
        );
      const ceremonyId = randomUUID();
      const sharesUsed = headers.map((h) => h.shareIndex);
      const open = (): void => {
        appendTranscript(
          a.recordPath,
          {
            type: ENTRY.opened,
            actor: frame.actor,
            data: {
              ceremonyId,
              ceremonyName: a.ceremonyName ?? `re-share of ${summary.keyName}`,
              kind: RESHARE_KIND,
              keyName: summary.keyName,
              keyCeremonyId: summary.ceremonyId,
              threshold: a.threshold,
              shares: a.custodians.length,
              custodians: a.custodians.map((c) => c.custodian),
              tool: TOOL,
            },
          },
          now(),
        );
      };
      const shares = await runCeremony(frame, open, async (written) => {
        try {
          const issued = await issueShareSet(
            key!,
            {
              ceremonyId,
              keyName: summary.keyName,
              kcv: summary.kcv,
              threshold: a.threshold,
              custodians: a.custodians,
            },
            { ...frame, written, onProgress: a.onProgress },
          );
          // Only now, with every new share issued and read back, is the old set retired.
          appendTranscript(
            a.recordPath,
            {
              type: ENTRY.sharesRetired,
              actor: frame.actor,
              data: sharesRetiredData({ reshareCeremonyId: ceremonyId, retired, sharesUsed }),
            },
            now(),
          );
          a.onProgress?.({ step: 'shares-retired' });
          return issued;
        } finally {
          // Zeroed before the record says so (runCeremony writes the wipe next).
          zeroize(key);
          key = undefined;
        }
      });
      return {
        ceremonyId,
        keyCeremonyId: summary.ceremonyId,
        keyName: summary.keyName,
        kcv: summary.kcv,
        sharesUsed,
        retired: { ceremonyId: retired.ceremonyId, threshold: retired.threshold, shares: retired.shares },
        shares,
        closedStopped: stopped,
      };
    } finally {
      zeroize(key);
    }
  });
}

import { randomUUID } from 'node:crypto';
import { CeremonyError } from '../errors.js';
import { assertFolderWritable, assertOutputFree } from '../files.js';
import { checkKeyName } from '../masterkey/masterkey.js';
import { zeroize } from '../secrets.js';
import { ceremoniesOf, ENTRY } from './record.js';
import { appendTranscript, createTranscript, readTranscript, type TranscriptData } from './transcript.js';
import type { RosterMode } from './roster.js';
import {
  checkShareSetPlan,
  generateRecordedMasterKey,
  issueShareSet,
  runCeremony,
  withPrecheckedDestinations,
  type CeremonyFrame,
  type CustodianShare,
  type IssuedShareResult,
  type ProgressListener,
} from './share-issue.js';

// The key ceremony (`mk generate`): a new master key and its first set of
// shares. The desktop app's initial ceremony runs the same steps one at a
// time (initial-session.ts): its opening entry, the key's generation, each share's
// header, write, read-back and record entry are the functions used here.

export const TOOL = 'keyceremony 0.1.0';

export type { CustodianShare } from './share-issue.js';

/**
 * The data of a key ceremony's opening entry: who holds the shares of which
 * key, K of N. `more` (the app's roster, admins, thresholds, plan) goes
 * before the tool's name.
 */
export function keyCeremonyOpenedData(
  a: { ceremonyId: string; ceremonyName: string; keyName: string; threshold: number; custodians: readonly string[] },
  more: TranscriptData = {},
): TranscriptData {
  return {
    ceremonyId: a.ceremonyId,
    ceremonyName: a.ceremonyName,
    keyName: a.keyName,
    threshold: a.threshold,
    shares: a.custodians.length,
    custodians: [...a.custodians],
    ...more,
    tool: TOOL,
  };
}

export interface GenerateArgs {
  ceremonyName?: string;
  keyName: string;
  threshold: number;
  custodians: CustodianShare[];
  recordPath: string;
  actor?: string;
  now?: () => Date;
  onProgress?: ProgressListener;
  /** A rehearsal's key (issue 11: a rotation in a rehearsal): its opening says so, as the app's rehearsal opening does. */
  mode?: RosterMode;
}

export interface GenerateResult {
  ceremonyId: string;
  kcv: string;
  verificationPattern: string;
  shares: IssuedShareResult[];
}

/**
 * Generates the master key, splits it K-of-N, writes every share to its
 * custodian's medium, reads each one back and checks it, and keeps the
 * ceremony record. The master key and the shares exist only in memory and
 * are zeroed before this returns, whatever happens.
 */
export async function generateMasterKeyCeremony(a: GenerateArgs): Promise<GenerateResult> {
  const now = a.now ?? (() => new Date());
  checkShareSetPlan(a.threshold, a.custodians);
  checkKeyName(a.keyName);
  // Everything that can fail for a person's reason fails before the key exists.
  refuseRecordOfStoppedCeremony(a.recordPath);
  assertOutputFree(a.recordPath);
  assertFolderWritable(a.recordPath);
  return withPrecheckedDestinations(a.custodians, () => generateAfterPrecheck(a, now));
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

async function generateAfterPrecheck(a: GenerateArgs, now: () => Date): Promise<GenerateResult> {
  const ceremonyId = randomUUID();
  const frame: CeremonyFrame = { recordPath: a.recordPath, actor: a.actor ?? 'operator', now };
  const open = (): void => {
    createTranscript(
      a.recordPath,
      {
        type: ENTRY.opened,
        actor: frame.actor,
        data: keyCeremonyOpenedData(
          {
            ceremonyId,
            ceremonyName: a.ceremonyName ?? a.keyName,
            keyName: a.keyName,
            threshold: a.threshold,
            custodians: a.custodians.map((c) => c.custodian),
          },
          a.mode === 'rehearsal' ? { mode: 'rehearsal' } : {},
        ),
      },
      now(),
    );
  };
  return runCeremony(frame, open, (written) => generateAndIssue(a, ceremonyId, { ...frame, written }));
}

/** Generates the key and issues every share; the key and shares are zeroed before it returns. */
async function generateAndIssue(
  a: GenerateArgs,
  ceremonyId: string,
  frame: CeremonyFrame & { written: string[] },
): Promise<GenerateResult> {
  const {
    key,
    kcv,
    verificationPattern: vp,
  } = generateRecordedMasterKey((type, data) =>
    appendTranscript(a.recordPath, { type, actor: frame.actor, data }, frame.now()),
  );
  try {
    a.onProgress?.({ step: 'master-key-generated' });
    const shares = await issueShareSet(
      key,
      { ceremonyId, keyName: a.keyName, kcv, threshold: a.threshold, custodians: a.custodians },
      { ...frame, onProgress: a.onProgress },
    );
    return { ceremonyId, kcv, verificationPattern: vp, shares };
  } finally {
    zeroize(key);
  }
}

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assertOutputFree, readFileOrFail, safeFileStem, writeFileExclusive } from '../files.js';
import { ceremoniesOf, ENTRY, type Closing } from './record.js';
import { renderRecordHtml, type CeremonyRoster } from './report.js';
import { fileNameFor, modeOfOpening, picked, type SessionPorts } from './session-ports.js';
import { endCeremony, parseTranscript, readTranscript, type TranscriptEntry } from './transcript.js';

// The app's ceremony records once a ceremony is over: saved with their
// printable report, and the records of ceremonies a crash cut off, closed
// when the application next starts.

/**
 * Closes the records in `workDir` of ceremonies that were cut off (the app
 * crashed or the power went) before they were closed or abandoned, except
 * `current`'s. Returns the records closed now; an unreadable record is left
 * as it is, for a person to look at.
 */
export function closeInterruptedRecords(workDir: string, current: string | null, now: Date): InterruptedRecord[] {
  const closed: InterruptedRecord[] = [];
  let names: string[];
  try {
    names = readdirSync(workDir).filter((f) => /^ceremony-[0-9a-f-]{36}\.jsonl$/.test(f));
  } catch {
    return closed;
  }
  for (const name of names) {
    const path = join(workDir, name);
    if (path === current) continue;
    try {
      const record = closeInterruptedRecord(path, now);
      if (record !== null) closed.push(record);
    } catch {
      /* an unreadable record is left as it is, for a person to look at */
    }
  }
  return closed;
}

/**
 * Saves a record as it is (JSON Lines), with its printable report (HTML
 * and PDF), into a folder the person chooses; never overwrites. Returns
 * the folder.
 */
export async function saveRecordFiles(
  ports: Pick<SessionPorts, 'dialogs' | 'renderPdf'>,
  recordPath: string,
  now: Date,
): Promise<string> {
  const folder = picked(
    await ports.dialogs.chooseFolder({ title: 'Choose the folder for the ceremony record' }),
    'folder',
  );
  const recordText = readFileOrFail(recordPath, 'The ceremony record');
  // The report is rendered from the very bytes that are saved.
  const entries = parseTranscript(recordText.toString('utf8'), `The ceremony record ${recordPath}`);
  const opening = entries[0]!.data;
  // A rehearsal's record, report and PDF are named so (issue 11), as its opening says, interrupted or not.
  const stem = fileNameFor(
    modeOfOpening(entries[0]!),
    `ceremony-${safeFileStem(String(opening['keyName']))}-${String(opening['ceremonyId']).slice(0, 8)}`,
  );
  const targets = ['.jsonl', '.html', '.pdf'].map((ext) => join(folder, stem + ext));
  for (const t of targets) assertOutputFree(t);
  const html = reportHtml(entries, now);
  const pdf = await ports.renderPdf(html);
  writeFileExclusive(targets[0]!, recordText, 0o644);
  writeFileExclusive(targets[1]!, html, 0o644);
  writeFileExclusive(targets[2]!, pdf, 0o644);
  return folder;
}

/** A record of a ceremony cut off by a crash, closed when the application started. */
export interface InterruptedRecord {
  path: string;
  ceremonyId: string;
  ceremonyName: string;
  keyName: string;
  /** completed: every share was issued and read back, so the shares are valid; aborted: they are not. */
  outcome: Closing['outcome'];
  /** The folder its record was saved to from the start screen; null until then. */
  savedTo: string | null;
}

/** Who writes the entries of a ceremony closed at start-up: nobody was at the keyboard. */
const APPLICATION_ACTOR = 'Key Ceremony';

/**
 * Closes the ceremony left open at the end of a record by a crash, or
 * returns null when it has none. The shares are complete once every share
 * is issued (written, read back and found identical) and the key wiped
 * (issue 8): the key died with the stopped process, so such a ceremony is
 * closed as completed, whatever step the wizard was at.
 */
export function closeInterruptedRecord(path: string, now: Date): InterruptedRecord | null {
  const last = ceremoniesOf(readTranscript(path)).ceremonies.at(-1)!;
  if (last.outcome.kind !== 'open') return null;
  const opening = last.entries[0]!.data;
  const issued = new Set(last.entries.filter((e) => e.type === ENTRY.shareIssued).map((e) => e.data['shareIndex']));
  const shares = typeof opening['shares'] === 'number' ? opening['shares'] : 0;
  const hadKey = last.entries.some((e) => e.type === ENTRY.masterKeyGenerated);
  const everyShareIssued =
    hadKey && shares > 0 && Array.from({ length: shares }, (_, i) => i + 1).every((i) => issued.has(i));
  const closing: Closing = everyShareIssued
    ? {
        outcome: 'completed',
        details: {
          note: 'Closed when Key Ceremony next started: every share had been issued and read back before it stopped.',
        },
      }
    : { outcome: 'aborted', code: 'Interrupted', reason: 'the application stopped before the ceremony was closed' };
  const wiped = hadKey
    ? 'the master key and shares were only in the memory of the application, and died with it when it stopped'
    : null;
  endCeremony(path, APPLICATION_ACTOR, { wiped, closing }, now);
  return {
    path,
    ceremonyId: String(opening['ceremonyId']),
    ceremonyName: String(opening['ceremonyName']),
    keyName: String(opening['keyName']),
    outcome: closing.outcome,
    savedTo: null,
  };
}

/** The ceremony report, signed by the people its opening entry names. */
export function reportHtml(entries: TranscriptEntry[], now: Date): string {
  return renderRecordHtml(entries, rosterOf(entries[0]!), now);
}

function rosterOf(opening: TranscriptEntry): CeremonyRoster {
  const names = (key: string): string[] => {
    const v = opening.data[key];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  };
  const operator = opening.data['operator'];
  return {
    operator: typeof operator === 'string' ? operator : opening.actor,
    admins: names('admins'),
    custodians: names('custodians'),
    witnesses: names('witnesses'),
  };
}

import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CeremonyError } from '../errors.js';
import { readFileOrFail } from '../files.js';
import { recordMode } from './bundle-record.js';
import { parseUnitsStatus, type GivenStatus } from './lifecycle.js';
import { ENTRY } from './record.js';
import type { RosterMode } from './roster.js';
import type {
  RehearsalIngest,
  RehearsalPorts,
  RehearsalUnitsCreated,
  RehearsalUnitsSnapshot,
} from './session-ports.js';
import { sha256Hex } from './session-ports.js';
import type { TranscriptEntry } from './transcript.js';

// A rehearsal's units (issue 11, "Rehearsal mode"), the steps every
// ceremony of a rehearsal shares: the initial ceremony creates an emulator
// instance in rehearsal mode in the work folder (rehearsal-units-<id>-…);
// every later ceremony on the same key finds that instance again from its
// record (the instance id of its unit-confirmed entries), or, for a
// recovery, creates a new one; the saved, signed bundle is loaded into it;
// and the units' status comes from the instance itself, not from an
// exported file. Only through RehearsalPorts: core never touches the
// emulator.

/** The folders of rehearsal instances in the work folder start with this. */
const INSTANCE_DIR_PREFIX = 'rehearsal-units-';

/** A rehearsal instance this ceremony uses: its folder, its id, what its units display, and what they answered. */
export interface RehearsalUnitsAt extends RehearsalUnitsSnapshot {
  readonly dir: string;
}

/**
 * The mode of a record's key (issue 11): a rehearsal when its opening says
 * so or its bundles are rehearsal bundles. It decides the cards and units a
 * later ceremony uses; nothing the room chooses can contradict it.
 */
export function recordModeOf(entries: readonly TranscriptEntry[]): RosterMode {
  return recordMode(entries)?.rehearsal === true ? 'rehearsal' : 'production';
}

/** The rehearsal ports, for a rehearsal only: a production ceremony targets real units. */
export function rehearsalPortsFor(mode: RosterMode, rehearsal: RehearsalPorts | undefined): RehearsalPorts {
  if (mode !== 'rehearsal')
    throw new CeremonyError(
      'WrongStep',
      'Rehearsal units are for a rehearsal only: this record is a production key, which only real units take.',
    );
  if (rehearsal === undefined)
    throw new CeremonyError('WrongStep', 'This application cannot run a rehearsal: it has no rehearsal units.');
  return rehearsal;
}

function atOf(dir: string, created: RehearsalUnitsCreated): { at: RehearsalUnitsAt; transportFiles: string[] } {
  return {
    at: {
      dir,
      instanceId: created.instanceId,
      displays: created.units.map((u) => ({ unitId: u.unitId, fingerprint: u.displayed })),
      loaded: null,
    },
    transportFiles: created.units.map((u) => u.transportFile),
  };
}

/** Every transport file of a rehearsal instance added by `add`, all or none: a refusal takes back those added. */
export function addAllUnits(units: unknown[], transportFiles: readonly string[], add: (path: string) => void): void {
  try {
    for (const path of transportFiles) add(path);
  } catch (e) {
    units.length = 0;
    throw e;
  }
}

/**
 * A new rehearsal instance in the work folder (the initial ceremony, a
 * recovery), in a folder of its own per attempt: a refused attempt leaves
 * its instance unused. Its transport files wait to be loaded and confirmed.
 */
export async function createRehearsalUnits(
  rehearsal: RehearsalPorts,
  workDir: string,
  ceremonyId: string,
): Promise<{ at: RehearsalUnitsAt; transportFiles: string[] }> {
  const dir = join(workDir, `${INSTANCE_DIR_PREFIX}${ceremonyId}-${randomUUID().slice(0, 8)}`);
  return atOf(dir, await rehearsal.createUnits(dir));
}

/**
 * The rehearsal instance a record's key lives on (admin change, zeroize,
 * rotation, units report): the instance its last unit-confirmed entry
 * names, found among the rehearsal instances in the work folder, its
 * transport files written again with the units' state now.
 */
export async function rehearsalUnitsOfRecord(
  rehearsal: RehearsalPorts,
  workDir: string,
  recordPath: string,
  entries: readonly TranscriptEntry[],
): Promise<{ at: RehearsalUnitsAt; transportFiles: string[] }> {
  const dir = await findRehearsalUnits(rehearsal, workDir, recordPath, entries);
  return atOf(dir, await rehearsal.openUnits(dir));
}

/** The folder of the rehearsal instance a record's key lives on (its last unit-confirmed entry's instance). */
export async function findRehearsalUnits(
  rehearsal: RehearsalPorts,
  workDir: string,
  recordPath: string,
  entries: readonly TranscriptEntry[],
): Promise<string> {
  const confirmed = entries.filter((e) => e.type === ENTRY.unitConfirmed).at(-1);
  const instanceId = confirmed?.data['instanceId'];
  if (typeof instanceId !== 'string')
    throw new CeremonyError(
      'UnitState',
      `${basename(recordPath)} confirms no unit: it does not say which rehearsal units hold its key. Load the units' transport files instead.`,
    );
  const dir = await findInstance(rehearsal, workDir, instanceId);
  if (dir === null)
    throw new CeremonyError(
      'UnitState',
      `The rehearsal units of ${basename(recordPath)} (instance ${instanceId}) are not in this application's work folder: they were made by another run or on another computer. Load their transport files instead.`,
      { instanceId },
    );
  return dir;
}

async function findInstance(rehearsal: RehearsalPorts, workDir: string, instanceId: string): Promise<string | null> {
  let names: string[];
  try {
    names = readdirSync(workDir).filter((n) => n.startsWith(INSTANCE_DIR_PREFIX));
  } catch {
    return null; // no work folder yet: no instance either
  }
  for (const name of names.sort()) {
    const dir = join(workDir, name);
    try {
      const status = parseUnitsStatus(await rehearsal.unitsStatus(dir), `The rehearsal units in ${name}`);
      if (status.instanceId === instanceId) return dir;
    } catch {
      // An attempt refused before its instance was made, or a folder that is no instance: not this one.
    }
  }
  return null;
}

/**
 * "Load into the rehearsal units": the saved, signed bundle offered to every
 * unit of the instance, as the operator would carry it to real ones,
 * refused if the file changed since it was saved. Nothing is recorded here:
 * the units keep their own audit log.
 */
export async function loadIntoRehearsalUnits(
  rehearsal: RehearsalPorts,
  units: RehearsalUnitsAt,
  saved: { readonly path: string; readonly fileSha256: string },
): Promise<RehearsalIngest> {
  const text = readFileOrFail(saved.path, 'The saved bundle').toString('utf8');
  if (sha256Hex(text) !== saved.fileSha256)
    throw new CeremonyError(
      'InvalidArgument',
      `The bundle file ${basename(saved.path)} changed since it was saved (its SHA-256 differs); nothing was loaded.`,
    );
  return rehearsal.ingestBundle(units.dir, text);
}

/** The rehearsal units' own status, read as a status file is (for `units report`: recordUnitsStatus). */
export async function rehearsalUnitsStatus(
  rehearsal: RehearsalPorts,
  units: Pick<RehearsalUnitsAt, 'dir'>,
): Promise<GivenStatus> {
  const status = parseUnitsStatus(await rehearsal.unitsStatus(units.dir), 'The status of the rehearsal units');
  const label = `The status of the rehearsal units (instance ${status.instanceId})`;
  return { label, status };
}

/** What the room sees of the rehearsal units: no folder. */
export function rehearsalUnitsSnapshot(units: RehearsalUnitsAt | null): RehearsalUnitsSnapshot | null {
  return units === null ? null : { instanceId: units.instanceId, displays: units.displays, loaded: units.loaded };
}

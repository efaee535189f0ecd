import { basename } from 'node:path';
import { CeremonyError, missingCase } from '../errors.js';
import { loadUnitsStatus, recordUnitsStatus } from './bundle-steps.js';
import { refuseEndedKey, type GivenStatus, type UnitsReportResult } from './lifecycle.js';
import { summarize, type CeremonySummary } from './record.js';
import { SerialQueue } from './serial-queue.js';
import { findRehearsalUnits, recordModeOf, rehearsalPortsFor, rehearsalUnitsStatus } from './rehearsal-units.js';
import type { RosterMode } from './roster.js';
import type { FileDialogs, FileFilter, RehearsalPorts } from './session.js';
import { readTranscript } from './transcript.js';
import { picked } from './session-ports.js';

// The end of a key recorded from what its units report (issue 11), apart
// from the wizard that built the bundle: the units ingest a rotate or
// zeroize bundle elsewhere and later, and the app may have been closed in
// between. The step is the CLI's `units report --record R --status S.json
// [--new-record R2]` (bundle-steps.ts recordUnitsStatus → lifecycle.ts
// reportUnits); this class holds the records and statuses given so far.
// No secret is involved.

const RECORD_FILTERS: FileFilter[] = [{ name: 'Ceremony record', extensions: ['jsonl'] }];

export interface UnitsReportPorts {
  dialogs: FileDialogs;
  now?: () => Date;
  /** A rehearsal's units (issue 11), in the work folder; without them a rehearsal gives status files. */
  rehearsal?: RehearsalPorts;
  /** The work folder the rehearsal units live in. */
  workDir?: string;
}

interface OpenedRecord {
  path: string;
  summary: CeremonySummary;
  /** From the record (issue 11): a rehearsal's key is reported by its rehearsal units. */
  mode: RosterMode;
}

type Phase =
  | { phase: 'idle' }
  | { phase: 'statuses'; record: OpenedRecord; newRecord: OpenedRecord | null; statuses: GivenStatus[] }
  | { phase: 'done'; record: OpenedRecord; newRecord: OpenedRecord | null; report: UnitsReportResult };

export type UnitsReportStep = Phase['phase'];

/** What the room sees: domain data, mapped to the IPC view in src/main. */
export interface UnitsReportState {
  step: UnitsReportStep;
  record: null | { fileName: string; keyName: string; kcv: string; rehearsal: boolean };
  /** The rotation's record (the new key's), when given. */
  newRecord: null | { fileName: string; keyName: string; kcv: string; rehearsal: boolean };
  /** The instances whose status file was given. */
  statuses: string[];
  /** What the record now says (key-retired or key-destroyed, at this line). */
  recorded: null | {
    kind: 'retired' | 'destroyed';
    keyName: string;
    kcv: string;
    line: number;
    /** The rotation's new key, for a retirement. */
    newKey: null | { keyName: string; kcv: string };
    instances: Array<{ instanceId: string; units: string[]; neverLoaded: boolean }>;
  };
}

export class UnitsReportSession {
  private state: Phase = { phase: 'idle' };
  private readonly queue = new SerialQueue();
  private readonly now: () => Date;

  constructor(private readonly ports: UnitsReportPorts) {
    this.now = ports.now ?? (() => new Date());
  }

  snapshot(): UnitsReportState {
    return snapshotOf(this.state);
  }

  /** Opens the key's record (dialog); a key already ended is refused with its words. */
  openRecord(): Promise<UnitsReportState> {
    return this.queue.run(async () => {
      const path = picked(
        await this.ports.dialogs.openFile({ title: 'Open the key\u2019s record', filters: RECORD_FILTERS }),
      );
      const entries = readTranscript(path);
      const summary = summarize(entries);
      refuseEndedKey(summary, `The record ${basename(path)}`);
      const record = { path, summary, mode: recordModeOf(entries) };
      this.state = { phase: 'statuses', record, newRecord: null, statuses: [] };
      return this.snapshot();
    });
  }

  /** After a rotation: the new key's record (dialog), whose rotate bundle replaced this record's key. */
  openNewRecord(): Promise<UnitsReportState> {
    return this.queue.run(async () => {
      const st = this.expect('statuses', 'open the rotation\u2019s record');
      const path = picked(
        await this.ports.dialogs.openFile({
          title: 'Open the rotation\u2019s record (the new key\u2019s)',
          filters: RECORD_FILTERS,
        }),
      );
      if (path === st.record.path)
        throw new CeremonyError(
          'InvalidArgument',
          `${basename(path)} is the key\u2019s own record: open the record the rotation wrote for the new key.`,
        );
      const entries = readTranscript(path);
      st.newRecord = { path, summary: summarize(entries), mode: recordModeOf(entries) };
      return this.snapshot();
    });
  }

  /** Takes back the rotation's record (the units were zeroized, not rotated). */
  dropNewRecord(): Promise<UnitsReportState> {
    return this.queue.run(async () => {
      this.expect('statuses', 'take back the rotation\u2019s record').newRecord = null;
      return this.snapshot();
    });
  }

  /** A units' status file (`status --json`, dialog), one per instance. */
  addStatus(): Promise<UnitsReportState> {
    return this.queue.run(async () => {
      const st = this.expect('statuses', 'give the units\u2019 status');
      st.statuses.push(await loadUnitsStatus(this.ports.dialogs, st.statuses));
      return this.snapshot();
    });
  }

  /**
   * A rehearsal record's units (issue 11): the status of the rehearsal
   * instance its key lives on, read from the instance itself in the work
   * folder, instead of an exported status file.
   */
  addRehearsalStatus(): Promise<UnitsReportState> {
    return this.queue.run(async () => {
      const st = this.expect('statuses', 'give the rehearsal units\u2019 status');
      const rehearsal = rehearsalPortsFor(st.record.mode, this.ports.rehearsal);
      const dir = await findRehearsalUnits(
        rehearsal,
        this.ports.workDir ?? '',
        st.record.path,
        readTranscript(st.record.path),
      );
      const given = await rehearsalUnitsStatus(rehearsal, { dir });
      if (st.statuses.some((g) => g.status.instanceId === given.status.instanceId))
        throw new CeremonyError('InvalidArgument', `${given.label} is already given.`);
      st.statuses.push(given);
      return this.snapshot();
    });
  }

  /**
   * The statuses checked against the record (and the rotation's record) and
   * key-retired or key-destroyed recorded, as `units report` does. Refused
   * statuses are dropped, to be exported again once the units agree.
   */
  record(): Promise<UnitsReportState> {
    return this.queue.run(async () => {
      const st = this.expect('statuses', 'record what the units report');
      let report: UnitsReportResult;
      try {
        report = recordUnitsStatus({
          recordPath: st.record.path,
          statuses: st.statuses,
          ...(st.newRecord ? { newRecordPath: st.newRecord.path } : {}),
          now: this.now,
        });
      } catch (e) {
        st.statuses = [];
        throw e;
      }
      this.state = { phase: 'done', record: st.record, newRecord: st.newRecord, report };
      return this.snapshot();
    });
  }

  /** Back to the start screen (nothing is held). */
  abandon(): Promise<UnitsReportState> {
    return this.queue.run(async () => {
      this.state = { phase: 'idle' };
      return this.snapshot();
    });
  }

  private expect<P extends UnitsReportStep>(phase: P, what: string): Extract<Phase, { phase: P }> {
    if (this.state.phase !== phase)
      throw new CeremonyError(
        'WrongStep',
        this.state.phase === 'idle'
          ? `Cannot ${what} now: open the key\u2019s record first.`
          : `Cannot ${what} now: the units\u2019 report is already recorded.`,
      );
    return this.state as Extract<Phase, { phase: P }>;
  }
}

function recordFacts(r: OpenedRecord): { fileName: string; keyName: string; kcv: string; rehearsal: boolean } {
  return {
    fileName: basename(r.path),
    keyName: r.summary.keyName,
    kcv: r.summary.kcv,
    rehearsal: r.mode === 'rehearsal',
  };
}

function snapshotOf(s: Phase): UnitsReportState {
  const base: UnitsReportState = { step: s.phase, record: null, newRecord: null, statuses: [], recorded: null };
  switch (s.phase) {
    case 'idle':
      return base;
    case 'statuses':
      return {
        ...base,
        record: recordFacts(s.record),
        newRecord: s.newRecord && recordFacts(s.newRecord),
        statuses: s.statuses.map((g) => g.status.instanceId),
      };
    case 'done': {
      const end = s.report.end;
      return {
        ...base,
        record: recordFacts(s.record),
        newRecord: s.newRecord && recordFacts(s.newRecord),
        recorded: {
          kind: end.kind,
          keyName: s.report.summary.keyName,
          kcv: s.report.summary.kcv,
          line: end.line,
          newKey: end.kind === 'retired' ? { keyName: end.rotation.keyName, kcv: end.rotation.kcv } : null,
          instances: end.instances.map((i) => ({
            instanceId: i.instanceId,
            units: i.units.map((u) => u.unitId),
            neverLoaded: i.neverLoaded === true,
          })),
        },
      };
    }
    default:
      return missingCase(s);
  }
}

import { randomUUID } from 'node:crypto';
import { basename, join } from 'node:path';
import type { BundleSummary } from '../bundle/bundle.js';
import type { TransportKey } from '../bundle/transport.js';
import { CeremonyError, missingCase } from '../errors.js';
import type { AdminCertificateInfo } from '../identity/certificate.js';
import {
  loadRehearsalUnitsStep,
  useRehearsalUnitsStep,
  type RehearsalUnitsStep,
  confirmLoadedUnit,
  loadTransport,
  loadUnitsStatus,
  readAdminCertificateFile,
  recordUnitsStatus,
  saveSignedBundle,
  signaturesNeeded,
  signBundleStep,
  unitAdminsForBundle,
  unitAdminsOfRecord,
  unitsReady,
  CERTIFICATE_FILTERS,
  type SavedBundle,
  type SignerSecret,
  type StepUnit,
  type UnitAdmins,
} from './bundle-steps.js';
import { createBundle, precheckBundle, type BundleRequest, type CreatedBundle } from './bundles.js';
import { refuseEndedKey, type GivenStatus, type UnitsReportResult } from './lifecycle.js';
import { summarize, type CeremonySummary } from './record.js';
import type { LaterFacts } from './later-papers.js';
import { SerialQueue } from './serial-queue.js';
import { recordModeOf, rehearsalUnitsSnapshot, type RehearsalUnitsAt } from './rehearsal-units.js';
import type { RosterMode } from './roster.js';
import {
  missingUnits,
  type CardsByMode,
  type FileDialogs,
  type FileFilter,
  type RehearsalPorts,
  type RehearsalUnitsSnapshot,
} from './session.js';
import { readTranscript } from './transcript.js';
import { picked } from './session-ports.js';

// Admin change and zeroize in the desktop app (issue 11, ceremonies 3 and
// 5): a bundle on the units' current key, signed by the units' current
// admins. The steps are the CLI's (`bundle create --operation admin-change
// | zeroize`, `bundle sign --record`, `units report`), through
// bundle-steps.ts; this class holds what the room gave so far, in one typed
// phase. No secret is held: a signer's passphrase or PIN lives for their
// signature only.

const RECORD_FILTERS: FileFilter[] = [{ name: 'Ceremony record', extensions: ['jsonl'] }];

/** The ceremonies this session runs: one bundle on the units' current key. */
export const UNITS_BUNDLE_OPERATIONS = ['admin-change', 'zeroize'] as const;
export type UnitsBundleOperation = (typeof UNITS_BUNDLE_OPERATIONS)[number];

export interface UnitsBundlePorts {
  dialogs: FileDialogs;
  /** Where the unsigned bundle is built and signed before it is saved (never a secret there). */
  workDir: string;
  /** The cards of the record's mode an admin may sign with (slot 9C); without them, identity files only. */
  cardsFor?: CardsByMode;
  /** A rehearsal's units (issue 11); without them a rehearsal loads transport files. */
  rehearsal?: RehearsalPorts;
  now?: () => Date;
}

/** The key's record as opened. */
export interface UnitsBundleRecord {
  path: string;
  summary: CeremonySummary;
  /** The record says its key lives in a rehearsal (the bundle will be a rehearsal bundle). */
  rehearsal: boolean;
  /** The units' admins and thresholds after every bundle of the record; null when it installed none. */
  admins: UnitAdmins | null;
}

interface AddedAdmin {
  certificate: AdminCertificateInfo;
  fileName: string;
}

interface Built {
  bundlePath: string;
  created: CreatedBundle;
  needed: number;
  signedBy: string[];
}

type Phase =
  | { phase: 'idle' }
  | { phase: 'units'; op: UnitsBundleOperation; record: UnitsBundleRecord; units: StepUnit[] }
  | {
      phase: 'change';
      op: UnitsBundleOperation;
      record: UnitsBundleRecord;
      transports: TransportKey[];
      current: UnitAdmins;
      add: AddedAdmin[];
      remove: string[];
    }
  | { phase: 'signing'; op: UnitsBundleOperation; record: UnitsBundleRecord; current: UnitAdmins; built: Built }
  | {
      phase: 'saved';
      op: UnitsBundleOperation;
      record: UnitsBundleRecord;
      current: UnitAdmins;
      built: Built;
      saved: SavedBundle;
      statuses: GivenStatus[];
    }
  | {
      phase: 'done';
      op: UnitsBundleOperation;
      record: UnitsBundleRecord;
      current: UnitAdmins;
      built: Built;
      saved: SavedBundle;
      report: UnitsReportResult | null;
    };

export type UnitsBundleStep = Phase['phase'];

/** What the room sees: domain data, mapped to the IPC view in src/main. */
export interface UnitsBundleState {
  step: UnitsBundleStep;
  operation: UnitsBundleOperation | null;
  record: null | {
    fileName: string;
    keyName: string;
    kcv: string;
    rehearsal: boolean;
    /** The units' admins as the record knows them. */
    admins: UnitAdmins | null;
  };
  units: Array<{ unitId: string; fileName: string; fingerprint: string; confirmed: boolean }>;
  unitsMissing: string[];
  /** The units' admins now (the record's, which their transport files agree with), once the units are in. */
  current: UnitAdmins | null;
  /** The admin change asked so far. */
  change: null | {
    add: Array<{ name: string; thumbprint: string; fileName: string }>;
    remove: string[];
  };
  bundle: null | {
    bundleId: string;
    sequence: number;
    targets: string[];
    payloadHash: string;
    summary: BundleSummary;
    signedBy: string[];
    required: number;
    saved: SavedBundle | null;
  };
  /** Zeroize: the units' status files given so far (instance ids). */
  statuses: string[];
  /** The rehearsal units in use (issue 11), and what they answered to the bundle; null otherwise. */
  rehearsalUnits: RehearsalUnitsSnapshot | null;
  /** Zeroize: what the record now says was destroyed. */
  destroyed: null | {
    keyName: string;
    kcv: string;
    instances: Array<{ instanceId: string; units: string[] }>;
    line: number;
  };
}

export class UnitsBundleSession {
  private state: Phase = { phase: 'idle' };
  /** The rehearsal instance the record's key lives on, once "Use the rehearsal units"; its folder stays in main. */
  private rehearsalUnits: RehearsalUnitsAt | null = null;
  private readonly queue = new SerialQueue();
  private readonly now: () => Date;

  constructor(private readonly ports: UnitsBundlePorts) {
    this.now = ports.now ?? (() => new Date());
  }

  /** The mode of the record opened (its cards' mode); production before one is. */
  get cardMode(): RosterMode {
    return this.state.phase === 'idle' ? 'production' : this.rehearsalStep(this.state.record).mode;
  }

  /** The key's record a card operation in this wizard is recorded in (card-desk.ts noteInWizardRecord); null before one is opened. */
  get cardRecordPath(): string | null {
    return this.state.phase === 'idle' ? null : this.state.record.path;
  }

  snapshot(): UnitsBundleState {
    return { ...snapshotOf(this.state), rehearsalUnits: rehearsalUnitsSnapshot(this.rehearsalUnits) };
  }

  /** Opens the key's record (dialog) for an admin change or a zeroize; a key already ended is refused. */
  openRecord(operation: UnitsBundleOperation): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      if (this.state.phase !== 'idle' && this.state.phase !== 'units' && this.state.phase !== 'done')
        throw new CeremonyError('WrongStep', 'A ceremony is under way: finish it or start again first.');
      const path = picked(
        await this.ports.dialogs.openFile({ title: 'Open the key\u2019s record', filters: RECORD_FILTERS }),
      );
      const entries = readTranscript(path);
      const summary = summarize(entries);
      refuseEndedKey(summary, `The record ${basename(path)}`);
      const record: UnitsBundleRecord = {
        path,
        summary,
        rehearsal: recordModeOf(entries) === 'rehearsal',
        admins: unitAdminsOfRecord(entries),
      };
      this.state = { phase: 'units', op: operation, record, units: [] };
      this.rehearsalUnits = null;
      return this.snapshot();
    });
  }

  addTransport(): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      await loadTransport(this.ports.dialogs, this.expect('units', 'load a unit').units);
      return this.snapshot();
    });
  }

  /**
   * "Use the rehearsal units" (issue 11), for a rehearsal record only: the
   * rehearsal instance its key lives on, found from the record, its
   * transport files written again with the units' state now; each unit is
   * confirmed as a loaded file is.
   */
  useRehearsalUnits(): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      const st = this.expect('units', 'use the rehearsal units');
      this.rehearsalUnits = await useRehearsalUnitsStep({
        ...this.rehearsalStep(st.record),
        units: st.units,
        recordPath: st.record.path,
      });
      return this.snapshot();
    });
  }

  confirmUnit(unitId: string): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      const st = this.expect('units', 'confirm a unit');
      confirmLoadedUnit(st.record.path, st.units, unitId, this.now());
      return this.snapshot();
    });
  }

  /**
   * Every unit loaded and confirmed: they must hold the record's key, be of
   * its mode (a rehearsal record never reaches production units), and have
   * the admins the record says (who may sign).
   */
  unitsDone(): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      const st = this.expect('units', 'go on');
      const transports = unitsReady(st.units);
      const entries = readTranscript(st.record.path);
      // Nothing about the change is asked yet: the units' mode (first), confirmations and key are checked now.
      precheckBundle(
        {
          recordPath: st.record.path,
          transports,
          request: { operation: 'zeroize' },
          outPath: this.workBundlePath(),
          rehearsal: st.record.rehearsal,
        },
        entries,
        st.record.summary,
      );
      const current = unitAdminsForBundle(st.record.path, entries, transports);
      this.state = { phase: 'change', op: st.op, record: st.record, transports, current, add: [], remove: [] };
      return this.snapshot();
    });
  }

  /** An admin to add: the certificate of an identity or certificate file (dialog). */
  addAdmin(): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      const st = this.expectChange('admin-change', 'add an admin');
      const path = picked(
        await this.ports.dialogs.openFile({
          title: 'Open the new admin\u2019s certificate or identity file',
          filters: CERTIFICATE_FILTERS,
        }),
      );
      const certificate = readAdminCertificateFile(path, st.add);
      if (st.current.admins.some((a) => a.thumbprint === certificate.thumbprint))
        throw new CeremonyError('InvalidArgument', `${certificate.name} is already an admin of the units.`);
      st.add.push({ certificate, fileName: basename(path) });
      return this.snapshot();
    });
  }

  /** Takes back an admin added by mistake (by position in the list of admins to add). */
  dropAddedAdmin(index: number): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      const st = this.expectChange('admin-change', 'take back an admin');
      if (!st.add[index]) throw new CeremonyError('InvalidArgument', `There is no added admin ${index + 1}.`);
      st.add.splice(index, 1);
      return this.snapshot();
    });
  }

  /** Marks a current admin for removal, or keeps them again. */
  setRemoved(thumbprint: string, removed: boolean): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      const st = this.expectChange('admin-change', 'remove an admin');
      if (!st.current.admins.some((a) => a.thumbprint === thumbprint))
        throw new CeremonyError('InvalidArgument', `There is no current admin ${thumbprint}.`);
      st.remove = st.remove.filter((t) => t !== thumbprint);
      if (removed) st.remove.push(thumbprint);
      return this.snapshot();
    });
  }

  /**
   * The admin change with its new thresholds: checked against the units
   * before anything is written (a lock-out is refused here, before anyone
   * signs), then built and recorded as `bundle create` does.
   */
  buildAdminChange(thresholds: { signatureThreshold: number; revocationThreshold: number }): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      const st = this.expectChange('admin-change', 'build the admin change');
      const request: BundleRequest = {
        operation: 'admin-change',
        add: st.add.map((a) => a.certificate),
        remove: [...st.remove],
        thresholds,
      };
      const needed = signaturesNeeded('admin-change', { units: st.current, removes: st.remove.length > 0 });
      return this.build(st, request, needed);
    });
  }

  /** The zeroize, once the key's name is typed as the irreversible action's confirmation. */
  buildZeroize(typedKeyName: string): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      const st = this.expectChange('zeroize', 'build the zeroize bundle');
      if (typedKeyName !== st.record.summary.keyName)
        throw new CeremonyError(
          'InvalidArgument',
          `Type the key\u2019s name, ${st.record.summary.keyName}, exactly, to confirm that its units are to be zeroized. Nothing was written.`,
        );
      return this.build(st, { operation: 'zeroize' }, signaturesNeeded('zeroize', { units: st.current }));
    });
  }

  /** A current admin of the units signs, with their identity file (dialog) and passphrase or their card and PIN. */
  sign(secret: SignerSecret): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      const st = this.expect('signing', 'sign the bundle');
      const signer = await signBundleStep(
        {
          bundlePath: st.built.bundlePath,
          recordPath: st.record.path,
          signers: { admins: st.current.admins, role: 'a current admin of the units' },
          dialogs: this.ports.dialogs,
          cards: this.ports.cardsFor?.(this.rehearsalStep(st.record).mode) ?? null,
          now: this.now(),
        },
        secret,
      );
      st.built.signedBy.push(signer.name);
      return this.snapshot();
    });
  }

  /** Saves the signed bundle into a folder (dialog); an admin change is then done, a zeroize waits for the units. */
  saveBundle(): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      const st = this.expect('signing', 'save the bundle');
      const b = st.built.created.bundle.payload;
      const saved = await saveSignedBundle({
        dialogs: this.ports.dialogs,
        bundlePath: st.built.bundlePath,
        operation: st.op,
        sequence: b.sequence,
        bundleId: b.bundleId,
        signatures: st.built.signedBy.length,
        needed: st.built.needed,
        rehearsal: st.record.rehearsal,
      });
      const { phase: _signing, ...rest } = st;
      this.state =
        st.op === 'zeroize'
          ? { ...rest, phase: 'saved', saved, statuses: [] }
          : { ...rest, phase: 'done', saved, report: null };
      return this.snapshot();
    });
  }

  /** Zeroize: a units' status file (`status --json`, dialog), once they ingested the bundle. */
  addStatus(): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      const st = this.expect('saved', 'give the units\u2019 status');
      st.statuses.push(await loadUnitsStatus(this.ports.dialogs, st.statuses));
      return this.snapshot();
    });
  }

  /**
   * Zeroize: the statuses checked against the record, and key-destroyed
   * recorded (`units report`). Refused statuses are dropped, to be exported
   * again once the units agree.
   */
  recordDestroyed(): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      this.recordReport(this.expect('saved', 'record the units\u2019 confirmation'));
      return this.snapshot();
    });
  }

  /**
   * "Load into the rehearsal units" (issue 11): the saved bundle offered to
   * the rehearsal units, each unit's answer kept; for a zeroize, then the
   * units' report from the instance's own status, as recordDestroyed
   * records it from status files (key-destroyed). A unit that refused leaves
   * the report unwritten and says why.
   */
  loadIntoRehearsalUnits(): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      const st = this.state;
      if (st.phase !== 'saved' && st.phase !== 'done')
        throw new CeremonyError('WrongStep', 'Save the signed bundle first.');
      const { units, status } = await loadRehearsalUnitsStep({
        ...this.rehearsalStep(st.record),
        units: this.rehearsalUnits,
        saved: st.saved,
      });
      this.rehearsalUnits = units;
      if (st.phase === 'saved') {
        st.statuses = [status];
        this.recordReport(st);
      }
      return this.snapshot();
    });
  }

  /** The rehearsal units of the record's mode: refused for a production record. */
  private rehearsalStep(record: UnitsBundleRecord): RehearsalUnitsStep {
    return {
      mode: record.rehearsal ? 'rehearsal' : 'production',
      rehearsal: this.ports.rehearsal,
      workDir: this.ports.workDir,
    };
  }

  /** `units report`: the statuses checked against the record, and key-destroyed recorded. */
  private recordReport(st: Extract<Phase, { phase: 'saved' }>): void {
    let report: UnitsReportResult;
    try {
      report = recordUnitsStatus({ recordPath: st.record.path, statuses: st.statuses, now: this.now });
    } catch (e) {
      // Refused statuses are of no further use: the refusal says to export them again and open them anew.
      st.statuses = [];
      throw e;
    }
    const { phase: _saved, statuses: _statuses, ...rest } = st;
    this.state = { ...rest, phase: 'done', report };
  }

  /**
   * What the script of the admin change or the zeroize names
   * (later-papers.ts), once the units are confirmed and before anything is
   * built or signed: the units' current admins and those to add, the units.
   * An admin change's thresholds are the ones `thresholds` gives (the form's),
   * else the units' current ones.
   */
  papersFacts(thresholds?: { signatureThreshold: number; revocationThreshold: number }): LaterFacts {
    const st = this.expect('change', 'print the script (confirm the units first)');
    const units = st.transports.map((t) => ({ id: t.file.unitId, transportFingerprint: t.file.fingerprint }));
    const admins = [...st.current.admins, ...st.add.map((a) => a.certificate)].map((a) => ({ name: a.name }));
    const common = { rehearsal: st.record.rehearsal, keyName: st.record.summary.keyName, holders: [], custodians: [] };
    return st.op === 'zeroize'
      ? { ...common, kind: 'zeroize', admins, units }
      : {
          ...common,
          kind: 'admin-change',
          admins,
          units,
          thresholds: thresholds ?? {
            signatureThreshold: st.current.signatureThreshold,
            revocationThreshold: st.current.revocationThreshold,
          },
        };
  }

  /** The record the report is printed from, once the ceremony is done. */
  reportRecordPath(): string {
    return this.expect('done', 'print the report').record.path;
  }

  abandon(): Promise<UnitsBundleState> {
    return this.queue.run(async () => {
      this.state = { phase: 'idle' };
      this.rehearsalUnits = null;
      return this.snapshot();
    });
  }

  private async build(
    st: Extract<Phase, { phase: 'change' }>,
    request: BundleRequest,
    needed: number,
  ): Promise<UnitsBundleState> {
    const bundlePath = this.workBundlePath();
    const created = await createBundle({
      recordPath: st.record.path,
      transports: st.transports,
      request,
      outPath: bundlePath,
      rehearsal: st.record.rehearsal,
      now: this.now,
    });
    this.state = {
      phase: 'signing',
      op: st.op,
      record: st.record,
      current: st.current,
      built: { bundlePath, created, needed, signedBy: [] },
    };
    return this.snapshot();
  }

  private workBundlePath(): string {
    return join(this.ports.workDir, `units-bundle-${randomUUID()}.json`);
  }

  private expect<P extends UnitsBundleStep>(phase: P, what: string): Extract<Phase, { phase: P }> {
    if (this.state.phase !== phase)
      throw new CeremonyError('WrongStep', `Cannot ${what} now: the ceremony is at its ${this.state.phase} step.`);
    return this.state as Extract<Phase, { phase: P }>;
  }

  private expectChange(op: UnitsBundleOperation, what: string): Extract<Phase, { phase: 'change' }> {
    const st = this.expect('change', what);
    if (st.op !== op) throw new CeremonyError('WrongStep', `Cannot ${what} in a ${st.op}.`);
    return st;
  }
}

function snapshotOf(s: Phase): UnitsBundleState {
  const base: UnitsBundleState = {
    step: s.phase,
    operation: null,
    record: null,
    units: [],
    unitsMissing: [],
    current: null,
    change: null,
    bundle: null,
    statuses: [],
    rehearsalUnits: null,
    destroyed: null,
  };
  if (s.phase === 'idle') return base;
  const r = s.record;
  base.operation = s.op;
  base.record = {
    fileName: basename(r.path),
    keyName: r.summary.keyName,
    kcv: r.summary.kcv,
    rehearsal: r.rehearsal,
    admins: r.admins,
  };
  switch (s.phase) {
    case 'units':
      base.units = s.units.map((u) => ({
        unitId: u.transport.file.unitId,
        fileName: u.fileName,
        fingerprint: u.transport.file.fingerprint,
        confirmed: u.confirmed,
      }));
      base.unitsMissing = missingUnits(s.units);
      return base;
    case 'change':
      base.current = s.current;
      base.change = {
        add: s.add.map((a) => ({
          name: a.certificate.name,
          thumbprint: a.certificate.thumbprint,
          fileName: a.fileName,
        })),
        remove: [...s.remove],
      };
      return base;
    case 'signing':
    case 'saved':
    case 'done': {
      base.current = s.current;
      const b = s.built.created.bundle;
      base.bundle = {
        bundleId: b.payload.bundleId,
        sequence: b.payload.sequence,
        targets: s.built.created.summary.targets,
        payloadHash: b.payloadHash,
        summary: s.built.created.summary,
        signedBy: [...s.built.signedBy],
        required: s.built.needed,
        saved: s.phase === 'signing' ? null : s.saved,
      };
      if (s.phase === 'saved') base.statuses = s.statuses.map((g) => g.status.instanceId);
      if (s.phase === 'done' && s.report && s.report.end.kind === 'destroyed')
        base.destroyed = {
          keyName: s.report.summary.keyName,
          kcv: s.report.summary.kcv,
          instances: s.report.end.instances.map((i) => ({
            instanceId: i.instanceId,
            units: i.units.map((u) => u.unitId),
          })),
          line: s.report.end.line,
        };
      return base;
    }
    default:
      return missingCase(s);
  }
}

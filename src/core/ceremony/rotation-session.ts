import { randomUUID } from 'node:crypto';
import { basename, join } from 'node:path';
import type { BundleSummary } from '../bundle/bundle.js';
import { checkAgainstLimits, checkTransportSet, type TransportKey } from '../bundle/transport.js';
import { CeremonyError, missingCase } from '../errors.js';
import { safeFileStem } from '../files.js';
import {
  confirmLoadedUnit,
  loadRehearsalUnitsStep,
  useRehearsalUnitsStep,
  type RehearsalUnitsStep,
  loadTransport,
  loadUnitsStatus,
  recordUnitsStatus,
  saveSignedBundle,
  signaturesNeeded,
  signBundleStep,
  unitAdminsForBundle,
  unitsReady,
  type NamedAdminRef,
  type SavedBundle,
  type StepUnit,
} from './bundle-steps.js';
import { createBundle, prepareSigning, type CreatedBundle } from './bundles.js';
import { refuseEndedKey, type GivenStatus, type UnitsReportResult } from './lifecycle.js';
import { generateMasterKeyCeremony, loadCeremony, type GenerateResult } from './operations.js';
import type { CeremonySummary } from './record.js';
import { recordModeOf, rehearsalUnitsSnapshot, type RehearsalUnitsAt } from './rehearsal-units.js';
import type { RosterMode } from './roster.js';
import {
  missingUnits,
  type FileDialogs,
  type FileFilter,
  type LaterCeremonyPorts,
  type RehearsalUnitsSnapshot,
  type SecretInput,
} from './session.js';
import { fileNameFor, pathFor, picked, withSecretBytes } from './session-ports.js';
import {
  bringShare,
  broughtSource,
  forgetBrought,
  NewShareSet,
  type BroughtShare,
  type NewCustodianPlan,
  type NewCustodianView,
  type ShareTurnPorts,
} from './share-turns.js';
import type { LaterFacts } from './later-papers.js';
import { readTranscript } from './transcript.js';

// Rotation in the desktop app (issue 11, ceremony 4): a new master key, its
// shares, the `rotate` bundle, and the old key's shares retired once the
// units report the new key current. The steps are the command line's, in
// its order (src/cli/rehearsal.ts, step 7): `mk generate` writes the new
// key's record (generateMasterKeyCeremony), `units confirm` into it, `bundle
// create --operation rotate --current-record` from K new shares
// (createBundle), `bundle sign` by the units' current admins, then, once the
// units ingested the bundle, `units report --new-record` (reportUnits) writes
// key-retired into the old key's record. This class only holds what the room
// has given so far, in one typed phase.
//
// Secrets: a new custodian's passphrase or PIN is held from their turn until
// the key is generated; a new share presented for the bundle is opened at its
// custodian's turn and held until the bundle is built; an admin's passphrase
// or PIN only for their signature. Each is zeroed when used, and on cancel
// and quit.

const RECORD_FILTERS: FileFilter[] = [{ name: 'Ceremony record', extensions: ['jsonl'] }];

/** The app's cards by the record's mode (new shares, card identities), its queue and rehearsal units, and: */
export interface RotationPorts extends LaterCeremonyPorts {
  dialogs: FileDialogs;
  /** Where the unsigned bundle is built and signed before it is saved (never a secret there). */
  workDir: string;
  now?: () => Date;
  /** scrypt cost for share files; tests lower it, the app never sets it. */
  scryptCost?: { logN: number; r: number; p: number };
}

/** The key being rotated away: its record. */
interface CurrentKey {
  readonly path: string;
  readonly summary: CeremonySummary;
  /** Its record says it lives in a rehearsal (the bundle is then a rehearsal bundle, on virtual cards and rehearsal units). */
  readonly rehearsal: boolean;
}

function modeOf(current: CurrentKey): RosterMode {
  return current.rehearsal ? 'rehearsal' : 'production';
}

/** The units, as they will receive the bundle: their transports, and their current admins, who sign it. */
interface Units {
  readonly transports: TransportKey[];
  readonly admins: NamedAdminRef[];
  /** The signatures a rotate bundle needs: the units' signature threshold. */
  readonly needed: number;
}

/** The new key, generated: its record and what its ceremony answered. */
interface NewKey {
  readonly path: string;
  readonly summary: CeremonySummary;
  readonly result: GenerateResult;
}

interface Signing {
  readonly bundlePath: string;
  readonly created: CreatedBundle;
  readonly summary: BundleSummary;
  readonly signedBy: string[];
}

type RotationPhase =
  | { readonly phase: 'idle' }
  | { readonly phase: 'units'; readonly current: CurrentKey; readonly units: StepUnit[] }
  | { readonly phase: 'new-key'; readonly current: CurrentKey; readonly units: Units }
  | {
      readonly phase: 'custodians';
      readonly current: CurrentKey;
      readonly units: Units;
      readonly keyName: string;
      readonly operator: string;
      readonly set: NewShareSet;
    }
  | {
      readonly phase: 'shares';
      readonly current: CurrentKey;
      readonly units: Units;
      readonly operator: string;
      readonly newKey: NewKey;
      readonly brought: BroughtShare[];
    }
  | {
      readonly phase: 'signing';
      readonly current: CurrentKey;
      readonly units: Units;
      readonly operator: string;
      readonly newKey: NewKey;
      readonly signing: Signing;
    }
  | {
      readonly phase: 'saved';
      readonly current: CurrentKey;
      readonly units: Units;
      readonly operator: string;
      readonly newKey: NewKey;
      readonly signing: Signing;
      readonly saved: SavedBundle;
    }
  | {
      readonly phase: 'done';
      readonly current: CurrentKey;
      readonly units: Units;
      readonly newKey: NewKey;
      readonly signing: Signing;
      readonly saved: SavedBundle;
      readonly report: UnitsReportResult;
      readonly statusFile: string;
    };

export type RotationStep = RotationPhase['phase'];

/** What the room sees of the rotation: domain data, mapped to the IPC view in src/main. No secret. */
export interface RotationState {
  readonly step: RotationStep;
  readonly current: null | {
    readonly fileName: string;
    readonly keyName: string;
    readonly kcv: string;
    readonly threshold: number;
    readonly shares: number;
    readonly rehearsal: boolean;
  };
  readonly units: readonly { unitId: string; fileName: string; fingerprint: string; confirmed: boolean }[];
  readonly unitsMissing: readonly string[];
  /** The units' current admins (who sign the rotate bundle), from their transport files. */
  readonly admins: readonly { name: string; thumbprint: string }[];
  readonly plan: null | {
    readonly keyName: string;
    readonly operator: string;
    readonly threshold: number;
    readonly custodians: readonly NewCustodianView[];
  };
  readonly newKey: null | {
    readonly fileName: string;
    readonly keyName: string;
    readonly kcv: string;
    readonly verificationPattern: string;
    readonly threshold: number;
    readonly issued: readonly { shareIndex: number; custodian: string; label: string }[];
  };
  readonly sharesIn: readonly { shareIndex: number; custodian: string }[];
  readonly bundle: null | {
    readonly bundleId: string;
    readonly sequence: number;
    readonly targets: readonly string[];
    readonly payloadHash: string;
    readonly summary: BundleSummary;
    readonly signedBy: readonly string[];
    readonly required: number;
    readonly saved: { path: string; fileSha256: string } | null;
  };
  /** The rehearsal units in use (issue 11), and what they answered to the bundle; null otherwise. */
  readonly rehearsalUnits: RehearsalUnitsSnapshot | null;
  readonly report: null | {
    readonly statusFile: string;
    readonly entrySeq: number;
    readonly instances: readonly {
      instanceId: string;
      units: readonly { unitId: string; state: string; currentKcv: string | null; oldKcv: string | null }[];
    }[];
  };
}

export class RotationSession {
  private state: RotationPhase = { phase: 'idle' };
  /** The rehearsal instance the record's key lives on, once "Use the rehearsal units"; its folder stays in main. */
  private rehearsalUnits: RehearsalUnitsAt | null = null;
  private readonly now: () => Date;

  constructor(private readonly ports: RotationPorts) {
    this.now = ports.now ?? (() => new Date());
  }

  /** The mode of the record opened (its cards' mode); production before one is. */
  get cardMode(): RosterMode {
    return this.state.phase === 'idle' ? 'production' : modeOf(this.state.current);
  }

  /**
   * The record a card operation in this wizard is recorded in (card-desk.ts
   * noteInWizardRecord): the new key's, once written. Before it, a card
   * prepared for a new share is kept on the desk and recorded in the new
   * record when the rotation issues its shares (share-turns.ts).
   */
  get cardRecordPath(): string | null {
    const st = this.state;
    return 'newKey' in st ? st.newKey.path : null;
  }

  snapshot(): RotationState {
    return { ...snapshotOf(this.state), rehearsalUnits: rehearsalUnitsSnapshot(this.rehearsalUnits) };
  }

  /** Opens the record of the key to rotate away (dialog); any rotation in progress is dropped first. */
  openRecord(): Promise<RotationState> {
    return this.run(async () => {
      const path = picked(
        await this.ports.dialogs.openFile({ title: 'Open the current key\u2019s record', filters: RECORD_FILTERS }),
      );
      const { summary } = loadCeremony(path);
      refuseEndedKey(summary, `The record ${basename(path)}`);
      const rehearsal = recordModeOf(readTranscript(path)) === 'rehearsal';
      this.forget();
      this.rehearsalUnits = null;
      this.state = { phase: 'units', current: { path, summary, rehearsal }, units: [] };
      return this.snapshot();
    });
  }

  /** Loads a unit's transport file (dialog); it waits for the operator's confirmation against the display. */
  addTransport(): Promise<RotationState> {
    return this.run(async () => {
      await loadTransport(this.ports.dialogs, this.expect('units', 'load a unit').units);
      return this.snapshot();
    });
  }

  /**
   * "Use the rehearsal units" (issue 11), for a rehearsal record only: the
   * rehearsal instance its key lives on, found from the record, its
   * transport files written again with the units' state now; each unit
   * waits for its confirmation as a loaded file does.
   */
  useRehearsalUnits(): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('units', 'use the rehearsal units');
      this.rehearsalUnits = await useRehearsalUnitsStep({
        ...this.rehearsalStep(st.current),
        units: st.units,
        recordPath: st.current.path,
      });
      return this.snapshot();
    });
  }

  /**
   * The operator compared the fingerprint with the unit's display. The new
   * key's record, which the rotate bundle is built on, does not exist yet:
   * the confirmation is written into it as soon as it does (generate).
   */
  confirmUnit(unitId: string): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('units', 'confirm a unit');
      const unit = st.units.find((u) => u.transport.file.unitId === unitId);
      if (!unit) throw new CeremonyError('InvalidArgument', `There is no unit ${unitId} loaded.`);
      unit.confirmed = true;
      return this.snapshot();
    });
  }

  /**
   * Every unit of the instance loaded and confirmed: on to the new key. The
   * units' current admins, who sign the rotate bundle, are the current
   * record's, which every unit's transport file must agree with.
   */
  unitsDone(): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('units', 'go on to the new key');
      const transports = unitsReady(st.units);
      const known = unitAdminsForBundle(st.current.path, readTranscript(st.current.path), transports);
      const units: Units = {
        transports,
        admins: known.admins,
        needed: signaturesNeeded('rotate', { units: known }),
      };
      this.state = { phase: 'new-key', current: st.current, units };
      return this.snapshot();
    });
  }

  /**
   * Names the new key, the operator (the new record's actor), K and the new
   * custodians in share order, each with a medium. Checked as `mk generate`
   * checks them before the key exists: the units' limits, K of N, one share
   * per person.
   */
  planNewKey(plan: {
    keyName: string;
    operator: string;
    threshold: number;
    custodians: readonly NewCustodianPlan[];
  }): Promise<RotationState> {
    return this.run(async () => {
      const st = this.state;
      if (st.phase !== 'new-key' && st.phase !== 'custodians')
        throw new CeremonyError('WrongStep', 'Load and confirm the units first.');
      const keyName = plan.keyName.trim();
      const operator = plan.operator.trim();
      if (operator.length === 0)
        throw new CeremonyError('InvalidArgument', 'Name the operator: the new record names who ran the rotation.');
      checkTransportSet(st.units.transports);
      checkAgainstLimits(st.units.transports[0]!.file.limits, { keyName });
      if (keyName === st.current.summary.keyName)
        throw new CeremonyError(
          'InvalidArgument',
          `The new key needs a name of its own: "${keyName}" is the key it replaces.`,
        );
      const set = NewShareSet.plan(plan.threshold, plan.custodians);
      if (st.phase === 'custodians') st.set.forget();
      this.state = { phase: 'custodians', current: st.current, units: st.units, keyName, operator, set };
      return this.snapshot();
    });
  }

  /**
   * What the rotation's script names (later-papers.ts), once the new key is
   * planned and before any share is written: the new key, K of N and each
   * custodian's medium, the units' current admins (who sign), the units.
   */
  papersFacts(): LaterFacts {
    const st = this.expect('custodians', 'print the script (plan the new key first)');
    return {
      kind: 'rotation',
      rehearsal: st.current.rehearsal,
      keyName: st.keyName,
      threshold: st.set.threshold,
      holders: [],
      custodians: st.set.view().map((c) => ({ name: c.name, medium: c.medium })),
      admins: st.units.admins.map((a) => ({ name: a.name })),
      units: st.units.transports.map((t) => ({ id: t.file.unitId, transportFingerprint: t.file.fingerprint })),
    };
  }

  /** The record the report is printed from, once the rotation is done: the new key's. */
  reportRecordPath(): string {
    return this.expect('done', 'print the report').newKey.path;
  }

  /** Back from the custodians to the new key's plan: every secret held so far is zeroed. */
  replan(): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('custodians', 'change the plan');
      st.set.forget();
      this.state = { phase: 'new-key', current: st.current, units: st.units };
      return this.snapshot();
    });
  }

  /** New custodian `shareIndex` (from 1): their share's file (save dialog, new passphrase) or card (reader, PIN). */
  setNewShare(shareIndex: number, secret: SecretInput): Promise<RotationState> {
    return this.run(() =>
      withSecretBytes(secret, async (bytes) => {
        const st = this.expect('custodians', 'choose a new share\u2019s medium');
        await st.set.choose(this.turnPorts(st.current), shareIndex, secret, bytes, safeFileStem(st.keyName));
        return this.snapshot();
      }),
    );
  }

  /**
   * `mk generate`: the new key's record (save dialog, never over a file),
   * the key generated, split K of N, each share written, read back and
   * recorded (generateMasterKeyCeremony); then the units' confirmations
   * recorded in it, as `units confirm` does. Once the ceremony runs, the
   * held secrets are zeroed whatever happens; after a failure the
   * custodians choose again.
   */
  generate(): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('custodians', 'generate the new key');
      // Refused before anything is used (a custodian not ready, the dialog closed): every choice is kept.
      const custodians = await st.set.custodianShares(this.turnPorts(st.current));
      const chosen = picked(
        await this.ports.dialogs.saveFile({
          title: `Save the record of the new key "${st.keyName}"`,
          defaultName: fileNameFor(modeOf(st.current), `${safeFileStem(st.keyName)}.jsonl`),
          filters: RECORD_FILTERS,
        }),
      );
      // A rehearsal's new record is named REHEARSAL-… whatever was typed, and opens in rehearsal mode (issue 11).
      const path = pathFor(modeOf(st.current), chosen);
      try {
        const result = await generateMasterKeyCeremony({
          keyName: st.keyName,
          threshold: st.set.threshold,
          custodians,
          recordPath: path,
          actor: st.operator,
          now: this.now,
          mode: modeOf(st.current),
        });
        // `units confirm` into the new record: the confirmations the operator gave on the units step.
        const toRecord: StepUnit[] = st.units.transports.map((transport) => ({
          transport,
          fileName: '',
          confirmed: false,
        }));
        for (const u of toRecord) confirmLoadedUnit(path, toRecord, u.transport.file.unitId, this.now(), st.operator);
        this.state = {
          phase: 'shares',
          current: st.current,
          units: st.units,
          operator: st.operator,
          newKey: { path, summary: loadCeremony(path).summary, result },
          brought: [],
        };
        return this.snapshot();
      } finally {
        st.set.forget();
      }
    });
  }

  /** A custodian of the new key presents their new share (file or card), checked against the new record and opened. */
  presentShare(secret: SecretInput): Promise<RotationState> {
    return this.run(() =>
      withSecretBytes(secret, async (bytes) => {
        const st = this.expect('shares', 'present a new share');
        const summary = st.newKey.summary;
        const brought = await bringShare(
          this.turnPorts(st.current),
          summary,
          st.brought,
          secret,
          bytes,
          'Open your new share file',
        );
        st.brought.push(brought);
        return this.snapshot();
      }),
    );
  }

  /**
   * `bundle create --operation rotate --current-record`: the new key rebuilt
   * from the presented shares, checked against its record, wrapped for the
   * units with the current key's verification pattern, recorded in the new
   * record. Fewer than K shares are refused by the engine (ThresholdNotMet).
   * The shares are zeroed whatever happens; after a failure they are
   * presented again.
   */
  buildBundle(): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('shares', 'build the rotate bundle');
      const bundlePath = join(this.ports.workDir, `rotation-bundle-${randomUUID()}.json`);
      let created: CreatedBundle;
      try {
        created = await createBundle({
          recordPath: st.newKey.path,
          transports: st.units.transports,
          request: { operation: 'rotate', sources: st.brought.map(broughtSource), currentRecordPath: st.current.path },
          outPath: bundlePath,
          rehearsal: st.current.rehearsal,
          actor: st.operator,
          now: this.now,
        });
      } finally {
        forgetBrought(st.brought);
        st.brought.length = 0;
      }
      const { summary } = prepareSigning(bundlePath, this.approval(st.newKey));
      this.state = {
        phase: 'signing',
        current: st.current,
        units: st.units,
        operator: st.operator,
        newKey: st.newKey,
        signing: { bundlePath, created, summary, signedBy: [] },
      };
      return this.snapshot();
    });
  }

  /** A current admin of the units signs (identity file: dialog and passphrase; card: reader and PIN), as `bundle sign --record` does. */
  sign(secret: SecretInput): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('signing', 'sign the bundle');
      const signer = await signBundleStep(
        {
          bundlePath: st.signing.bundlePath,
          recordPath: st.newKey.path,
          signers: { admins: st.units.admins, role: 'a current admin of the units' },
          dialogs: this.ports.dialogs,
          cards: this.ports.cardsFor(modeOf(st.current)),
          now: this.now(),
        },
        secret,
      );
      if (!st.signing.signedBy.includes(signer.name)) st.signing.signedBy.push(signer.name);
      return this.snapshot();
    });
  }

  /** Saves the signed bundle into a folder (dialog), never over a file; the operator ingests it on the units. */
  saveBundle(): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('signing', 'save the bundle');
      const { signing } = st;
      const b = signing.created.bundle.payload;
      const saved = await saveSignedBundle({
        dialogs: this.ports.dialogs,
        bundlePath: signing.bundlePath,
        operation: 'rotate',
        sequence: b.sequence,
        bundleId: b.bundleId,
        signatures: signing.signedBy.length,
        needed: st.units.needed,
        rehearsal: st.current.rehearsal,
      });
      this.state = {
        phase: 'saved',
        current: st.current,
        operator: st.operator,
        units: st.units,
        newKey: st.newKey,
        signing,
        saved,
      };
      return this.snapshot();
    });
  }

  /**
   * The units' confirmation: their status file (dialog), exported after they
   * ingested the bundle; `units report --new-record` checks it against both
   * records and writes key-retired into the old key's record. A status that
   * does not show the new key current is refused, naming the unit; nothing
   * is written then.
   */
  reportUnits(): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('saved', 'record the units\u2019 report');
      const status = await loadUnitsStatus(this.ports.dialogs, []);
      this.recordReport(st, status, status.label.replace(/^The status /, ''));
      return this.snapshot();
    });
  }

  /**
   * "Load into the rehearsal units" (issue 11): the saved bundle offered to
   * the rehearsal units, each unit's answer kept; then the units' report
   * from the instance's own status, as reportUnits records it from a
   * status file (key-retired in the current record). A unit that refused
   * leaves the report unwritten and says why.
   */
  loadIntoRehearsalUnits(): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('saved', 'load the bundle into the rehearsal units');
      const { units, status } = await loadRehearsalUnitsStep({
        ...this.rehearsalStep(st.current),
        units: this.rehearsalUnits,
        saved: st.saved,
      });
      this.rehearsalUnits = units;
      this.recordReport(st, status, `rehearsal units, instance ${units.instanceId}`);
      return this.snapshot();
    });
  }

  /** `units report --new-record`: checked against both records, key-retired written into the current one. */
  private recordReport(st: Extract<RotationPhase, { phase: 'saved' }>, status: GivenStatus, statusFile: string): void {
    const report = recordUnitsStatus({
      recordPath: st.current.path,
      statuses: [status],
      newRecordPath: st.newKey.path,
      now: this.now,
    });
    this.state = {
      phase: 'done',
      current: { ...st.current, summary: report.summary },
      newKey: st.newKey,
      signing: st.signing,
      saved: st.saved,
      units: st.units,
      report,
      statusFile,
    };
  }

  /** Drops the rotation in progress: every held share and secret is zeroed. What was written stays written. */
  cancel(): Promise<RotationState> {
    return this.run(async () => {
      this.forget();
      this.state = { phase: 'idle' };
      this.rehearsalUnits = null;
      return this.snapshot();
    });
  }

  /** For shutdown: zeroes every held share and secret. */
  dispose(): void {
    this.forget();
    this.state = { phase: 'idle' };
  }

  /** The rehearsal units of the record's mode: refused for a production record. */
  private rehearsalStep(current: CurrentKey): RehearsalUnitsStep {
    return { mode: modeOf(current), rehearsal: this.ports.rehearsal, workDir: this.ports.workDir };
  }

  /** A person's turn reaches the cards of the record's mode only. */
  private turnPorts(current: CurrentKey): ShareTurnPorts {
    return {
      mode: modeOf(current),
      dialogs: this.ports.dialogs,
      cards: this.ports.cardsFor(modeOf(current)),
      ...(this.ports.scryptCost ? { scryptCost: this.ports.scryptCost } : {}),
    };
  }

  private forget(): void {
    const st = this.state;
    if (st.phase === 'custodians') st.set.forget();
    if (st.phase === 'shares') {
      forgetBrought(st.brought);
      st.brought.length = 0;
    }
  }

  private approval(newKey: NewKey): { recordEntries: ReturnType<typeof readTranscript>; recordLabel: string } {
    return { recordEntries: readTranscript(newKey.path), recordLabel: `The record ${basename(newKey.path)}` };
  }

  private run<T>(op: () => Promise<T>): Promise<T> {
    return this.ports.queue.run(op);
  }

  private expect<P extends RotationStep>(phase: P, what: string): Extract<RotationPhase, { phase: P }> {
    if (this.state.phase !== phase)
      throw new CeremonyError('WrongStep', `Cannot ${what} now: the rotation is at its ${this.state.phase} step.`);
    return this.state as Extract<RotationPhase, { phase: P }>;
  }
}

function snapshotOf(s: RotationPhase): RotationState {
  const empty: RotationState = {
    step: s.phase,
    current: null,
    units: [],
    unitsMissing: [],
    admins: [],
    plan: null,
    newKey: null,
    sharesIn: [],
    bundle: null,
    rehearsalUnits: null,
    report: null,
  };
  if (s.phase === 'idle') return empty;
  const c = s.current;
  const current = {
    fileName: basename(c.path),
    keyName: c.summary.keyName,
    kcv: c.summary.kcv,
    threshold: c.summary.shareSets.at(-1)?.threshold ?? c.summary.threshold,
    shares: c.summary.shareSets.at(-1)?.shares ?? c.summary.shares,
    rehearsal: c.rehearsal,
  };
  const newKey = (k: NewKey): RotationState['newKey'] => ({
    fileName: basename(k.path),
    keyName: k.summary.keyName,
    kcv: k.result.kcv,
    verificationPattern: k.result.verificationPattern,
    threshold: k.summary.threshold,
    issued: k.result.shares.map((x) => ({ shareIndex: x.shareIndex, custodian: x.custodian, label: x.label })),
  });
  const admins = (u: Units): RotationState['admins'] => u.admins.map((a) => ({ ...a }));
  const needed = s.phase === 'units' ? 0 : s.units.needed;
  const bundle = (
    g: Signing,
    saved: { path: string; fileSha256: string } | null,
  ): NonNullable<RotationState['bundle']> => ({
    bundleId: g.created.bundle.payload.bundleId,
    sequence: g.created.bundle.payload.sequence,
    targets: g.summary.targets,
    payloadHash: g.created.bundle.payloadHash,
    summary: g.summary,
    signedBy: [...g.signedBy],
    required: needed,
    saved,
  });
  switch (s.phase) {
    case 'units':
      return {
        ...empty,
        current,
        units: s.units.map((u) => ({
          unitId: u.transport.file.unitId,
          fileName: u.fileName,
          fingerprint: u.transport.file.fingerprint,
          confirmed: u.confirmed,
        })),
        unitsMissing: missingUnits(s.units),
      };
    case 'new-key':
      return { ...empty, current, admins: admins(s.units) };
    case 'custodians':
      return {
        ...empty,
        current,
        admins: admins(s.units),
        plan: { keyName: s.keyName, operator: s.operator, threshold: s.set.threshold, custodians: s.set.view() },
      };
    case 'shares':
      return {
        ...empty,
        current,
        admins: admins(s.units),
        newKey: newKey(s.newKey),
        sharesIn: s.brought.map((b) => ({ shareIndex: b.header.shareIndex, custodian: b.custodian })),
      };
    case 'signing':
      return {
        ...empty,
        current,
        admins: admins(s.units),
        newKey: newKey(s.newKey),
        bundle: bundle(s.signing, null),
      };
    case 'saved':
      return { ...empty, current, newKey: newKey(s.newKey), bundle: bundle(s.signing, s.saved) };
    case 'done':
      return {
        ...empty,
        current,
        newKey: newKey(s.newKey),
        bundle: bundle(s.signing, s.saved),
        report: {
          statusFile: s.statusFile,
          entrySeq: s.report.entry.seq,
          instances: s.report.end.instances.map((i) => ({
            instanceId: i.instanceId,
            units: i.units.map((u) => ({
              unitId: u.unitId,
              state: u.state,
              currentKcv: u.currentKcv,
              oldKcv: u.oldKcv,
            })),
          })),
        },
      };
    default:
      return missingCase(s);
  }
}

import { randomUUID, verify as nodeVerify } from 'node:crypto';
import { basename, join } from 'node:path';
import { claimedAdmins, summarizeBundle } from '../bundle/bundle.js';
import { checkAgainstLimits, readTransportFile } from '../bundle/transport.js';
import { createBundle, prepareSigning, saveBundleFile, signPreparedBundle } from './bundles.js';
import { unitConfirmedData } from './bundle-record.js';
import { padPin, SLOT } from '../cards/piv.js';
import {
  cardRs256Signer,
  describeSlotContent,
  generateAdminIdentityOnCard,
  inspectSlot,
  readAdminCertificateFromCard,
  type SlotContent,
} from '../cards/roles.js';
import { CeremonyError } from '../errors.js';
import { readFileOrFail, safeFileStem } from '../files.js';
import type { AdminCertificateInfo } from '../identity/certificate.js';
import { unlockFileIdentity } from '../identity/identity.js';
import { splitMasterKey } from '../masterkey/masterkey.js';
import { checkPassphrase } from '../passphrase.js';
import { zeroize } from '../secrets.js';
import { CardDesk, type CardsSnapshot } from './card-desk.js';
import { CardShareDestination } from './card-media.js';
import { keyCeremonyOpenedData } from './key-ceremony.js';
import { FileShareDestination } from './media.js';
import { LaterPapers } from './later-papers.js';
import { PlanDesk, type PlanOpened } from './plan-desk.js';
import { ENTRY, keyOfOpenKeyCeremony, WIPED_IN_MEMORY, type Closing, type EntryType } from './record.js';
import { RecordDesk, SHARE_FILTERS } from './record-desk.js';
import { RecordCheck } from './record-check.js';
import { ReshareSession } from './reshare-session.js';
import { checkSetup, type CeremonySetup, type RosterMedium, type RosterMode } from './roster.js';
import { SerialQueue } from './serial-queue.js';
import {
  fail,
  fileNameFor,
  markOf,
  pathFor,
  picked,
  sha256Hex,
  shareSourceOf,
  type FileFilter,
  type SecretInput,
  type SessionPorts,
} from './session-ports.js';
import { closeInterruptedRecords, reportHtml, saveRecordFiles, type InterruptedRecord } from './session-records.js';
import {
  adminNameOf,
  checkJoinsUnits,
  isInProgress,
  keyMaterialOf,
  missingUnits,
  rehearsalUnitsOf,
  remainsOf,
  shareAt,
  stepOf,
  unitOf,
  type AdminsPhase,
  type AdminState,
  type ClosedPhase,
  type InProgress,
  type OpenCeremony,
  type PhaseOf,
  type SessionPhase,
  type SessionState,
  type UnitsPhase,
} from './session-state.js';
import type {
  AdminSnapshot,
  CeremonyState,
  OpenedPlan,
  PlanRef,
  RecordForCheck,
  SavedPlan,
  ShareChecked,
} from './session-view.js';
import {
  checkShareReadBack,
  generateRecordedMasterKey,
  recordShareIssued,
  shareHeader,
  type EntryWriter,
} from './share-issue.js';
import { cardIdentitySigner, fileIdentitySigner, identitySlotReplacedData, writeFileIdentity } from './signers.js';
import type { SetupUnit } from './setup-file.js';
import { planDifferences } from './setup-plan.js';
import { appendTranscript, createTranscript, endCeremony, readTranscript, type TranscriptData } from './transcript.js';

// The session's parts live in their own modules; what src/main, the other
// sessions and the tests import from here is re-exported.
export {
  REHEARSAL_FILE_PREFIX,
  type FileDialogs,
  type FileFilter,
  type RehearsalIngest,
  type RehearsalPorts,
  type RehearsalUnitsCreated,
  type RehearsalUnitsSnapshot,
  type RehearsalUnitState,
  type SecretInput,
  type SessionPorts,
} from './session-ports.js';
export type * from './session-view.js';
export { checkJoinsUnits, missingUnits, type SessionPhase, type SessionStep } from './session-state.js';
export type { InterruptedRecord } from './session-records.js';

const IDENTITY_FILTERS: FileFilter[] = [{ name: 'Admin identity', extensions: ['pem'] }];

// The ceremony the desktop app runs, one step at a time (issue 4). Where the
// CLI does a whole master-key ceremony in one call, the wizard spreads it
// over the room: units are confirmed, admins create identities in turn, the
// key is generated, each custodian writes and proves a share, admins sign
// the bundle. This object holds that state in the main process, one phase
// at a time (SessionState), including the master key and its shares from
// the master-key step to Close, and answers with metadata only
// (CeremonyState, a domain snapshot that src/main turns into the renderer's
// view). Every method is one IPC call.
//
// It reaches the outside world only through SessionPorts, so the same code
// runs in Electron (native dialogs, printToPDF, the print dialog) and under
// the test bridge.

// ---------------------------------------------------------------------------
// The session's state: one phase at a time

export class CeremonySession {
  private readonly queue = new SerialQueue();
  private readonly now: () => Date;
  private readonly productionCards: CardDesk;
  /** A rehearsal's virtual cards (issue 11): never the PC/SC transport. */
  private readonly rehearsalCards: CardDesk | null;
  /** The re-share (issue 11, ceremony 2): its own wizard, on the same cards and queue. */
  readonly reshare: ReshareSession;
  /** The record check (issue 11, ceremony 6): a record, its head, its bundles, its report. */
  readonly recordCheck: RecordCheck;
  /** The later wizards' papers (issue 11): the script and plan before a ceremony, the record's report after. */
  readonly papers: LaterPapers;

  /** The ceremony, one phase at a time; change it only through enter() (which wipes key material). */
  private state: SessionState = { phase: 'setup' };

  /** The start screen's share check and record check (issue 11, ceremony 6). */
  private readonly checks: RecordDesk;
  /** Records of ceremonies cut off by a crash, closed when the application started. */
  private readonly interrupted: InterruptedRecord[] = [];
  /** Plans (SETUP.json) opened or saved since the application started. */
  private readonly plans: PlanDesk;

  constructor(private readonly ports: SessionPorts) {
    this.now = ports.now ?? (() => new Date());
    this.plans = new PlanDesk(ports, this.now);
    this.checks = new RecordDesk(ports);
    this.productionCards = new CardDesk(() => ports.openCardTransport(), this.queue);
    const rehearsal = ports.rehearsal;
    this.rehearsalCards = rehearsal ? new CardDesk(() => rehearsal.openCardTransport(), this.queue) : null;
    this.reshare = new ReshareSession({
      dialogs: ports.dialogs,
      cards: this.productionCards,
      queue: this.queue,
      now: this.now,
      ...(ports.scryptCost ? { scryptCost: ports.scryptCost } : {}),
    });
    this.recordCheck = new RecordCheck({ dialogs: ports.dialogs, printHtml: ports.printHtml, now: this.now });
    this.papers = new LaterPapers(ports, this.now);
  }

  /**
   * The production cards and the one queue of card and record operations,
   * for the later ceremonies' wizards (issue 11): one PC/SC connection, and
   * a reader poll never interleaves with a card read in any of them.
   */
  get cardPorts(): { readonly cards: CardDesk; readonly queue: SerialQueue } {
    return { cards: this.productionCards, queue: this.queue };
  }

  /** The ceremony's mode; production while none is set up. */
  private get mode(): RosterMode {
    return this.state.phase === 'setup' ? 'production' : this.state.ceremony.mode;
  }

  /** The cards of the ceremony's mode: a rehearsal's virtual cards, or the real ones through PC/SC. */
  private get cards(): CardDesk {
    if (this.mode === 'production') return this.productionCards;
    if (this.rehearsalCards === null) fail('WrongStep', 'This application has no rehearsal cards.');
    return this.rehearsalCards;
  }

  /**
   * Closes the records of ceremonies that were cut off (the app crashed or
   * the power went) before they were closed or abandoned, so none is left
   * open. Their keys died with the process. A ceremony that had issued and
   * read back every share is closed as completed: its shares are valid (the
   * key is gone, as closing would have wiped it). Any other is closed as
   * aborted. Returns the records closed now; the start screen lists them
   * (interruptedRecords) so their records can be saved.
   */
  closeInterruptedRecords(): InterruptedRecord[] {
    const current = this.state.phase === 'setup' ? null : this.state.ceremony.recordPath;
    const closed = closeInterruptedRecords(this.ports.workDir, current, this.now());
    this.interrupted.push(...closed);
    return closed;
  }

  /** The records closed by closeInterruptedRecords since the application started. */
  interruptedRecords(): InterruptedRecord[] {
    return this.interrupted.map((r) => ({ ...r }));
  }

  /** Saves the record of an interrupted ceremony (JSON Lines, HTML, PDF) into a folder (dialog), as saveRecord does. */
  saveInterruptedRecord(ceremonyId: string): Promise<InterruptedRecord[]> {
    return this.queue.run(async () => {
      const record = this.interrupted.find((r) => r.ceremonyId === ceremonyId);
      if (record === undefined)
        fail('InvalidArgument', `No interrupted ceremony ${ceremonyId} was closed when Key Ceremony started.`);
      record.savedTo = await saveRecordFiles(this.ports, record.path, this.now());
      return this.interruptedRecords();
    });
  }

  // ---------------------------------------------------------------------
  // State

  /** The ceremony as it stands: metadata only, never a secret. */
  snapshot(): CeremonyState {
    const st = this.state;
    if (st.phase === 'setup') {
      return {
        phase: 'setup',
        step: 'setup',
        mode: 'production',
        rehearsalUnits: null,
        ceremonyId: null,
        setup: null,
        units: [],
        unitsMissing: [],
        admins: [],
        masterKey: null,
        shares: [],
        bundle: null,
        closed: null,
      };
    }
    const { setup } = st.ceremony;
    const r = remainsOf(st);
    return {
      phase: st.phase,
      step: stepOf(st.phase),
      mode: st.ceremony.mode,
      rehearsalUnits: rehearsalUnitsOf(st.ceremony),
      ceremonyId: st.ceremony.id,
      setup,
      units: r.units.map((u) => ({
        unitId: u.transport.file.unitId,
        fileName: u.fileName,
        fingerprint: u.transport.file.fingerprint,
        confirmed: u.confirmed,
      })),
      unitsMissing: missingUnits(r.units),
      admins: setup.admins.map((a, i): AdminSnapshot => {
        const id = r.admins[i];
        return {
          name: a.name,
          medium: a.medium,
          identity: id
            ? { thumbprint: id.certificate.thumbprint, location: id.location, cardSerial: id.cardSerial ?? null }
            : null,
        };
      }),
      masterKey: r.kcv === null ? null : { kcv: r.kcv, present: keyMaterialOf(st) !== null },
      shares: r.shares.map((s, i) => ({
        index: i + 1,
        custodian: setup.custodians[i]!.name,
        medium: setup.custodians[i]!.medium,
        location: s.location,
        cardSerial: s.cardSerial ?? null,
        written: s.header !== null,
        verified: s.verified,
        confirmed: s.confirmed,
      })),
      bundle: r.bundle
        ? {
            bundleId: r.bundle.bundle.payload.bundleId,
            sequence: r.bundle.bundle.payload.sequence,
            targets: r.bundle.bundle.payload.targets,
            payloadHash: r.bundle.bundle.payloadHash,
            summary: summarizeBundle(r.bundle.bundle),
            signatures: r.bundle.bundle.signatures.map((s) => ({
              name: adminNameOf(setup, r.admins, s.thumbprint),
              thumbprint: s.thumbprint,
            })),
            required: r.bundle.required,
            saved: r.bundle.saved,
          }
        : null,
      closed: st.phase === 'closed' ? { recordSavedTo: st.recordSavedTo } : null,
    };
  }

  /** Moves to the next phase; key material the next phase does not hold is zeroed here, whatever the transition. */
  private enter(next: SessionState): void {
    const held = keyMaterialOf(this.state);
    if (held !== null && held !== keyMaterialOf(next)) zeroize(held.key, ...held.shares);
    this.state = next;
  }

  /** The current phase, if it is `phase`; otherwise the call is refused, naming the step the ceremony is at. */
  private expectPhase<P extends SessionPhase>(phase: P, doing: string): PhaseOf<P> {
    const st = this.state;
    if (st.phase !== phase)
      fail('WrongStep', `Cannot ${doing} now: the ceremony is at the "${stepOf(st.phase)}" step.`);
    return st as PhaseOf<P>;
  }

  private record(ceremony: OpenCeremony, type: EntryType, data: TranscriptData, actor?: string): void {
    appendTranscript(
      ceremony.recordPath,
      { type, actor: actor ?? ceremony.setup.operator, data: { ...data, ...markOf(ceremony.mode) } },
      this.now(),
    );
  }

  /** Who writes the ceremony's entries through the shared steps (share-issue.ts): `actor`, or the operator. */
  private writer(ceremony: OpenCeremony, actor?: string): EntryWriter {
    return {
      recordPath: ceremony.recordPath,
      actor: actor ?? ceremony.setup.operator,
      now: this.now,
      mark: markOf(ceremony.mode),
    };
  }

  // ---------------------------------------------------------------------
  // Step 1: set up

  /**
   * Checks the set-up and opens the ceremony. `fromPlan` names the plan
   * (SETUP.json) the form was filled from (openPlan): the record's opening
   * then names it by its SHA-256, with the members the form changed before
   * Start, if any.
   */
  start(input: CeremonySetup, fromPlan?: PlanRef, mode: RosterMode = 'production'): Promise<CeremonyState> {
    return this.queue.run(async () => {
      if (this.state.phase !== 'setup') fail('WrongStep', 'A ceremony is already in progress; abandon it first.');
      if (mode === 'rehearsal' && this.ports.rehearsal === undefined)
        fail('InvalidArgument', 'This application cannot run a rehearsal: it has no virtual cards or rehearsal units.');
      // A rehearsal needs no independent witness (roster.ts); every other rule holds.
      const setup = checkSetup(input, mode);
      const plan = fromPlan === undefined ? undefined : this.plans.opened(fromPlan);
      const ceremonyId = randomUUID();
      const recordPath = join(this.ports.workDir, `ceremony-${ceremonyId}.jsonl`);
      createTranscript(
        recordPath,
        {
          type: ENTRY.opened,
          actor: setup.operator,
          data: {
            ...keyCeremonyOpenedData(
              {
                ceremonyId,
                ceremonyName: setup.ceremonyName,
                keyName: setup.keyName,
                threshold: setup.threshold,
                custodians: setup.custodians.map((c) => c.name),
              },
              this.openingRoster(setup, plan, fromPlan),
            ),
            // A rehearsal says so in its opening, as SETUP.json's mode (bundle-record.ts recordMode, report.ts).
            ...(mode === 'rehearsal' ? { mode: 'rehearsal', ...markOf(mode) } : {}),
          },
        },
        this.now(),
      );
      this.enter({
        phase: 'units',
        ceremony: { setup, id: ceremonyId, recordPath, mode, rehearsalUnits: null },
        units: [],
      });
      return this.snapshot();
    });
  }

  /** What the app's opening says beyond the key ceremony's: the whole roster, and the plan it came from. */
  private openingRoster(
    setup: CeremonySetup,
    plan: PlanOpened | undefined,
    fromPlan: PlanRef | undefined,
  ): TranscriptData {
    const changed = plan === undefined ? [] : planDifferences(setup, plan.setup);
    return {
      custodianMedia: setup.custodians.map((c) => c.medium),
      admins: setup.admins.map((a) => a.name),
      adminMedia: setup.admins.map((a) => a.medium),
      signatureThreshold: setup.signatureThreshold,
      revocationThreshold: setup.revocationThreshold,
      witnesses: [...setup.witnesses],
      // Why the set-up departs from separation of duties (issue 11): only the reasons that apply.
      reasons: { ...setup.reasons },
      operator: setup.operator,
      // The approved plan this ceremony was set up from (issue 11), as the printed script names it.
      ...(plan !== undefined && fromPlan !== undefined
        ? {
            plan: {
              sha256: fromPlan.sha256,
              file: plan.fileName,
              ...(changed.length > 0 ? { changedBeforeStart: changed } : {}),
            },
          }
        : {}),
    };
  }

  // ---------------------------------------------------------------------
  // The plan (SETUP.json, issue 11): written from the Set up form, or read into it, before anything starts (plan-desk.ts)

  savePlan(form: CeremonySetup, units: readonly SetupUnit[]): Promise<SavedPlan> {
    return this.queue.run(() => this.plans.save(form, units));
  }

  openPlan(): Promise<OpenedPlan> {
    return this.queue.run(async () => {
      if (this.state.phase !== 'setup')
        fail('WrongStep', 'A plan fills the Set up of a new ceremony; this one is already in progress.');
      return this.plans.open();
    });
  }

  printPlanScript(form: CeremonySetup, units: readonly SetupUnit[], fromPlan?: PlanRef): Promise<{ printed: boolean }> {
    return this.queue.run(() => this.plans.printScript(form, units, fromPlan));
  }

  /** Abandons the ceremony in progress: wipes the key, records why, and resets. */
  abandon(): Promise<CeremonyState> {
    return this.queue.run(async () => {
      const st = this.state;
      if (isInProgress(st)) this.abort(st, 'the operator abandoned the ceremony', { phase: 'setup' });
      else this.enter({ phase: 'setup' });
      return this.snapshot();
    });
  }

  // ---------------------------------------------------------------------
  // Step 2: target units

  addTransport(): Promise<CeremonyState> {
    return this.queue.run(async () => {
      const st = this.expectPhase('units', 'add a unit');
      const path = picked(
        await this.ports.dialogs.openFile({
          title: 'Open a crypto unit\u2019s transport key file',
          filters: [{ name: 'Transport key', extensions: ['json'] }],
        }),
      );
      this.loadTransport(st, path);
      return this.snapshot();
    });
  }

  /**
   * A rehearsal's units (issue 11): creates an emulator instance in
   * rehearsal mode in the work folder and loads every unit's transport
   * file. The operator cannot read the display of an in-process unit, so
   * the fingerprint the emulator reports stands for it; confirming each unit
   * is still the operator's act.
   */
  useRehearsalUnits(): Promise<CeremonyState> {
    return this.queue.run(async () => {
      const st = this.expectPhase('units', 'use rehearsal units');
      const rehearsal = this.ports.rehearsal;
      if (st.ceremony.mode !== 'rehearsal' || rehearsal === undefined)
        fail('WrongStep', 'Rehearsal units are for a rehearsal only: a production ceremony targets real units.');
      if (st.ceremony.rehearsalUnits !== null) fail('WrongStep', 'The rehearsal units are already created.');
      if (st.units.length > 0)
        fail('WrongStep', 'Transport files are already loaded: remove them first to use the rehearsal units.');
      // A folder of its own per attempt: a refused attempt (the key name too long for the units) leaves its instance unused.
      const dir = join(this.ports.workDir, `rehearsal-units-${st.ceremony.id}-${randomUUID().slice(0, 8)}`);
      const created = await rehearsal.createUnits(dir);
      try {
        for (const u of created.units) this.loadTransport(st, u.transportFile);
      } catch (e) {
        st.units = []; // all of the instance's units or none
        throw e;
      }
      st.ceremony.rehearsalUnits = {
        dir,
        instanceId: created.instanceId,
        displays: created.units.map((u) => ({ unitId: u.unitId, fingerprint: u.displayed })),
        loaded: null,
      };
      return this.snapshot();
    });
  }

  /** Reads a transport file and adds its unit, after every check (instance, duplicate, limits, state, mode). */
  private loadTransport(st: UnitsPhase, path: string): void {
    const transport = readTransportFile(path);
    // The mode first (issue 11): a unit of the other mode would refuse this ceremony's bundle.
    const mode = st.ceremony.mode;
    const unitMode: RosterMode = transport.file.rehearsal ? 'rehearsal' : 'production';
    if (unitMode !== mode)
      throw new CeremonyError(
        'RehearsalMismatch',
        mode === 'rehearsal'
          ? `${basename(path)} is the transport file of unit ${transport.file.unitId}, a production unit: a rehearsal never targets production units (they refuse rehearsal bundles). Use the rehearsal units, or units of an instance made in rehearsal mode.`
          : `${basename(path)} is the transport file of unit ${transport.file.unitId}, a rehearsal unit: a production ceremony targets production units only (a rehearsal unit refuses production bundles).`,
        { unitId: transport.file.unitId, unitMode, ceremonyMode: mode },
      );
    checkJoinsUnits(st.units, transport, basename(path));
    // The set-up must fit the units before any key exists.
    checkAgainstLimits(transport.file.limits, {
      keyName: st.ceremony.setup.keyName,
      admins: st.ceremony.setup.admins.length,
    });
    if (transport.file.unit.state !== 'cleared') {
      fail(
        'InvalidArgument',
        `Unit ${transport.file.unitId} is ${transport.file.unit.state}, not cleared: this ceremony initializes new units. Later ceremonies (recovery, rotation) are run from the command line for now.`,
      );
    }
    st.units.push({ transport, fileName: basename(path), confirmed: false });
  }

  confirmUnit(unitId: string): Promise<CeremonyState> {
    return this.queue.run(async () => {
      const st = this.expectPhase('units', 'confirm a unit');
      const unit = unitOf(st, unitId);
      if (!unit.confirmed) {
        unit.confirmed = true;
        this.afterUnitsChanged(st);
        this.record(st.ceremony, ENTRY.unitConfirmed, unitConfirmedData(unit.transport));
      }
      return this.snapshot();
    });
  }

  removeUnit(unitId: string): Promise<CeremonyState> {
    return this.queue.run(async () => {
      const st = this.expectPhase('units', 'remove a unit');
      const unit = unitOf(st, unitId);
      st.units = st.units.filter((u) => u !== unit);
      this.afterUnitsChanged(st);
      if (unit.confirmed) this.record(st.ceremony, ENTRY.unitRemoved, { unitId });
      return this.snapshot();
    });
  }

  /** Every unit of the instance loaded and confirmed: on to the admins. */
  private afterUnitsChanged(st: UnitsPhase): void {
    if (st.units.length > 0 && st.units.every((u) => u.confirmed) && missingUnits(st.units).length === 0) {
      this.enter({
        phase: 'admins',
        ceremony: st.ceremony,
        units: st.units,
        admins: st.ceremony.setup.admins.map(() => null),
      });
    }
  }

  // ---------------------------------------------------------------------
  // Step 3: admin identities

  createIdentity(adminIndex: number, secret: SecretInput, replaceSlot?: { ownerName: string }): Promise<CeremonyState> {
    return this.withSecret(secret, async (bytes) => {
      const st = this.expectPhase('admins', 'create an admin identity');
      const admin = st.ceremony.setup.admins[adminIndex];
      if (!admin) fail('InvalidArgument', `There is no admin ${adminIndex + 1}.`);
      if (st.admins[adminIndex]) fail('WrongStep', `${admin.name} already has an identity.`);
      this.expectMedium(admin.medium, secret, admin.name);
      let state: AdminState;
      let reused = false;
      if (secret.medium === 'file') {
        checkPassphrase(bytes, 'The passphrase');
        const path = await this.saveDialog(st.ceremony.mode, {
          title: `Save ${admin.name}\u2019s identity file`,
          defaultName: `${safeFileStem(admin.name)}.identity.pem`,
          filters: IDENTITY_FILTERS,
        });
        const certificate = await writeFileIdentity(path, admin.name, bytes, this.now());
        state = { certificate, location: basename(path), file: path };
      } else {
        const reader = secret.reader;
        const { certificate, serial, existed } = await this.cards.onCard(reader, async (s) => {
          const serial = await s.serial();
          const existing = await readAdminCertificateFromCard(s).catch(() => null);
          if (existing && existing.name !== admin.name) {
            throw new CeremonyError(
              'InvalidArgument',
              `Card ${serial} already holds the identity of ${existing.name}; use ${admin.name}\u2019s own card.`,
            );
          }
          if (existing) {
            // The card already holds this admin's identity: prove the PIN
            // opens it with a signature, then use it rather than replace it.
            const probe = Buffer.from(`key ceremony ${st.ceremony.id} identity check`);
            const sig = await cardRs256Signer(s, bytes)(probe);
            if (!signatureMatches(existing, probe, sig))
              throw new CeremonyError('CardError', `The key in card ${serial} does not match its certificate.`);
            return { certificate: existing, serial, existed: true };
          }
          // A 9C holding anything else is never replaced without its owner's word (issue 9).
          const present = await inspectSlot(s, SLOT.SIGNATURE);
          let replaced: SlotContent | undefined;
          if (present) {
            const agreed = st.occupiedSlot;
            if (!replaceSlot || !agreed || agreed.adminIndex !== adminIndex || agreed.serial !== serial) {
              st.occupiedSlot = { adminIndex, serial, content: present };
              throw new CeremonyError(
                'CardSlotOccupied',
                `On card ${serial}, ${describeSlotContent(present)}. Nothing was changed: ${admin.name} must agree to replace it, or use another card.`,
                { serial, slot: '9C', content: describeSlotContent(present) },
              );
            }
            if (replaceSlot.ownerName.trim() !== admin.name)
              fail(
                'InvalidArgument',
                `To agree to replace what card ${serial} holds, type the name ${admin.name} exactly.`,
              );
            replaced = agreed.content; // generateAdminIdentityOnCard refuses if the card no longer holds exactly this
          }
          const certificate = await generateAdminIdentityOnCard(
            s,
            admin.name,
            bytes,
            replaced ? { replace: replaced } : {},
          );
          delete st.occupiedSlot;
          if (replaced)
            this.record(
              st.ceremony,
              ENTRY.cardSlotReplaced,
              identitySlotReplacedData(serial, replaced, certificate),
              admin.name,
            );
          return { certificate, serial, existed: false };
        });
        reused = existed;
        state = { certificate, location: `card ${serial}`, cardSerial: serial };
      }
      this.adoptIdentity(st, adminIndex, state, reused ? 'earlier (already on the card)' : 'now');
      return this.snapshot();
    });
  }

  /**
   * An admin with a file identity from an earlier ceremony brings it: the
   * passphrase must open it (which proves they hold it), and the name on its
   * certificate must be theirs.
   */
  useIdentityFile(adminIndex: number, passphrase: string): Promise<CeremonyState> {
    return this.withSecret({ medium: 'file', passphrase }, async (bytes) => {
      const st = this.expectPhase('admins', 'add an admin identity');
      const admin = st.ceremony.setup.admins[adminIndex];
      if (!admin) fail('InvalidArgument', `There is no admin ${adminIndex + 1}.`);
      if (st.admins[adminIndex]) fail('WrongStep', `${admin.name} already has an identity.`);
      if (admin.medium !== 'file') fail('InvalidArgument', `${admin.name} uses a smart card, not an identity file.`);
      const path = picked(
        await this.ports.dialogs.openFile({
          title: `Open ${admin.name}\u2019s identity file`,
          filters: IDENTITY_FILTERS,
        }),
      );
      const what = `the identity file ${basename(path)}`;
      const unlocked = unlockFileIdentity(readFileOrFail(path, 'The identity file').toString('utf8'), bytes, what);
      const certificate = unlocked.certificate;
      if (certificate.name !== admin.name) {
        throw new CeremonyError(
          'IdentityInvalid',
          `${basename(path)} is the identity of ${certificate.name}, not of ${admin.name}.`,
        );
      }
      this.adoptIdentity(
        st,
        adminIndex,
        { certificate, location: basename(path), file: path },
        'earlier (identity file brought by the admin)',
      );
      return this.snapshot();
    });
  }

  /**
   * Gives admin `adminIndex` the identity, unless another admin of this
   * ceremony has it, and records it; with the last identity, on to the
   * master key.
   */
  private adoptIdentity(st: AdminsPhase, adminIndex: number, state: AdminState, created: string): void {
    const admin = st.ceremony.setup.admins[adminIndex]!;
    if (st.admins.some((a) => a?.certificate.thumbprint === state.certificate.thumbprint)) {
      fail('InvalidArgument', 'That identity is already used by another admin of this ceremony.');
    }
    st.admins[adminIndex] = state;
    const admins = st.admins.filter((a): a is AdminState => a !== null);
    if (admins.length === st.admins.length)
      this.enter({ phase: 'master-key', ceremony: st.ceremony, units: st.units, admins });
    this.record(
      st.ceremony,
      'admin-identity',
      {
        admin: admin.name,
        medium: admin.medium,
        location: state.location,
        thumbprint: state.certificate.thumbprint,
        created,
      },
      admin.name,
    );
  }

  // ---------------------------------------------------------------------
  // Step 4: master key

  generateMasterKey(): Promise<CeremonyState> {
    return this.queue.run(async () => {
      const st = this.expectPhase('master-key', 'generate the master key');
      const setup = st.ceremony.setup;
      const { key, kcv } = generateRecordedMasterKey((type, data) => this.record(st.ceremony, type, data));
      let shares: Buffer[] = [];
      try {
        shares = await splitMasterKey(key, setup.threshold, setup.custodians.length);
      } catch (e) {
        zeroize(key, ...shares);
        throw e;
      }
      this.enter({
        phase: 'shares',
        ceremony: st.ceremony,
        units: st.units,
        admins: st.admins,
        kcv,
        secrets: { key, shares },
        shares: setup.custodians.map(() => ({ header: null, location: null, verified: false, confirmed: false })),
      });
      return this.snapshot();
    });
  }

  // ---------------------------------------------------------------------
  // Step 5: shares

  writeShare(shareIndex: number, secret: SecretInput): Promise<CeremonyState> {
    return this.withSecret(secret, async (bytes) => {
      const st = this.expectPhase('shares', 'write a share');
      const { setup } = st.ceremony;
      const { custodian, state, share } = shareAt(st, shareIndex);
      if (state.verified) fail('WrongStep', `Share ${shareIndex} is already written and proven.`);
      this.expectMedium(custodian.medium, secret, custodian.name);
      const header = shareHeader(
        {
          ceremonyId: st.ceremony.id,
          keyName: setup.keyName,
          kcv: st.kcv,
          threshold: setup.threshold,
          shares: setup.custodians.length,
        },
        shareIndex,
        custodian.name,
        this.now(),
      );
      const provide = async (): Promise<Buffer> => Buffer.from(bytes);
      if (secret.medium === 'file') {
        checkPassphrase(bytes, 'The passphrase');
        const path = await this.saveDialog(st.ceremony.mode, {
          title: `Save ${custodian.name}\u2019s share (${shareIndex} of ${st.shares.length})`,
          defaultName: `${safeFileStem(setup.keyName)}-share-${shareIndex}-${safeFileStem(custodian.name)}.keyshare`,
          filters: SHARE_FILTERS,
        });
        const dest = new FileShareDestination(path, provide, this.ports.scryptCost);
        try {
          await dest.precheck();
          await dest.write(header, share);
        } finally {
          dest.dispose();
        }
        Object.assign(state, { header, location: basename(path), file: path, cardSerial: undefined, verified: false });
      } else {
        const transport = await this.cards.transport();
        const dest = new CardShareDestination(transport, secret.reader, provide);
        try {
          await this.cards.touching(secret.reader, async () => {
            await dest.precheck();
            await dest.write(header, share);
          });
        } finally {
          dest.dispose();
        }
        Object.assign(state, {
          header,
          location: dest.location,
          file: undefined,
          cardSerial: dest.cardSerial,
          verified: false,
        });
      }
      this.record(
        st.ceremony,
        'share-written',
        { shareIndex, custodian: custodian.name, medium: custodian.medium, location: state.location! },
        custodian.name,
      );
      return this.snapshot();
    });
  }

  verifyShare(shareIndex: number, secret: SecretInput): Promise<CeremonyState> {
    return this.withSecret(secret, async (bytes) => {
      const st = this.expectPhase('shares', 'read a share back');
      const { custodian, state, share } = shareAt(st, shareIndex);
      if (state.header === null) fail('WrongStep', `Share ${shareIndex} has not been written yet.`);
      this.expectMedium(custodian.medium, secret, custodian.name);
      const header = state.header;
      const source = shareSourceOf(this.cards, secret, async () => Buffer.from(bytes), state.file, header.ceremonyId);
      const found = await source.header();
      if (found.ceremonyId !== header.ceremonyId || found.shareIndex !== shareIndex) {
        throw new CeremonyError(
          // A share file is not a card: only a card in the wrong hands is a "wrong card".
          custodian.medium === 'card' ? 'WrongCard' : 'ShareMismatch',
          found.ceremonyId === header.ceremonyId
            ? `That is share ${found.shareIndex} (${found.custodian}), not share ${shareIndex}. Use ${custodian.name}\u2019s ${custodian.medium === 'card' ? `card (${state.cardSerial ?? 'its serial is in the table'})` : 'file'}.`
            : `That share belongs to another ceremony. Use ${custodian.name}\u2019s ${custodian.medium === 'card' ? 'card' : 'file'}.`,
        );
      }
      const back = await this.cards.touching(secret.medium === 'card' ? secret.reader : null, () => source.open());
      let commitment: string;
      try {
        commitment = checkShareReadBack(
          { header, share },
          { header: found, share: back },
          state.location!,
          custodian.medium === 'card'
            ? 'Do not use this card: write the share again to another card.'
            : 'Write it again to another file.',
        );
      } finally {
        zeroize(back);
      }
      state.verified = true;
      recordShareIssued(this.writer(st.ceremony, custodian.name), {
        shareIndex,
        custodian: custodian.name,
        medium: custodian.medium,
        location: state.location!,
        commitment,
      });
      return this.snapshot();
    });
  }

  confirmShare(shareIndex: number): Promise<CeremonyState> {
    return this.queue.run(async () => {
      const st = this.expectPhase('shares', 'confirm a share');
      const { custodian, state } = shareAt(st, shareIndex);
      if (!state.verified)
        fail('WrongStep', `Share ${shareIndex} must be read back before ${custodian.name} confirms it.`);
      if (!state.confirmed) {
        state.confirmed = true;
        // Every custodian holds their share: on to the bundle, the key (still needed to wrap it) with it.
        if (st.shares.every((s) => s.confirmed)) this.enter({ ...st, phase: 'bundle', bundle: null });
        this.record(
          st.ceremony,
          'share-accepted',
          {
            shareIndex,
            custodian: custodian.name,
            statement: `I, ${custodian.name}, hold share ${shareIndex} of ${st.shares.length}`,
          },
          custodian.name,
        );
      }
      return this.snapshot();
    });
  }

  // ---------------------------------------------------------------------
  // Step 6: bundle

  /**
   * Builds the initialize bundle as `bundle create --operation initialize`
   * does (bundles.ts createBundle: every check before the key is used, the
   * bundle-created entry), from the key this ceremony holds, into a file in
   * the work folder where the admins sign it.
   */
  buildBundle(): Promise<CeremonyState> {
    return this.queue.run(async () => {
      const st = this.expectPhase('bundle', 'build the bundle');
      if (st.bundle !== null) fail('WrongStep', 'The bundle is already built.');
      const { setup } = st.ceremony;
      const threshold = setup.signatureThreshold;
      const path = join(this.ports.workDir, fileNameFor(st.ceremony.mode, `bundle-${st.ceremony.id}.json`));
      const { bundle } = await createBundle({
        recordPath: st.ceremony.recordPath,
        transports: st.units.map((u) => u.transport),
        request: {
          operation: 'initialize',
          rebuilt: { key: st.secrets.key, sharesUsed: [] },
          claim: {
            admins: st.admins.map((a) => a.certificate),
            signatureThreshold: threshold,
            revocationThreshold: setup.revocationThreshold,
          },
        },
        outPath: path,
        // A rehearsal's bundle says so in its signed payload: production units refuse it (issue 11).
        rehearsal: st.ceremony.mode === 'rehearsal',
        // This ceremony is the record's key ceremony, still open: its key is the one it generated.
        keyOf: keyOfOpenKeyCeremony,
        actor: setup.operator,
        now: this.now,
      });
      // A first bundle to cleared units must carry the signature of every
      // admin it installs (docs/unit-protocol.md, the claim rule).
      st.bundle = { bundle, path, required: claimedAdmins(bundle.plan)?.length ?? threshold };
      return this.snapshot();
    });
  }

  /**
   * An admin of this ceremony signs the bundle with their identity file or
   * card, as `bundle sign --record` does (prepareSigning, signPreparedBundle:
   * the signature added and recorded).
   */
  signBundle(adminIndex: number, secret: SecretInput): Promise<CeremonyState> {
    return this.withSecret(secret, async (bytes) => {
      const st = this.expectPhase('bundle', 'sign the bundle');
      const b = st.bundle;
      if (b === null) fail('WrongStep', 'Build the bundle before signing it.');
      const admin = st.ceremony.setup.admins[adminIndex];
      const state = st.admins[adminIndex];
      if (!admin || !state) fail('InvalidArgument', `There is no admin ${adminIndex + 1}.`);
      this.expectMedium(admin.medium, secret, admin.name);
      const { recordPath, mode } = st.ceremony;
      const turn = prepareSigning(b.path, {
        recordEntries: readTranscript(recordPath),
        recordLabel: `The ceremony record ${recordPath}`,
      });
      const record = { path: recordPath, now: this.now(), mark: markOf(mode) };
      let signed;
      if (secret.medium === 'file') {
        const what = `${admin.name}\u2019s identity file`;
        const signer = fileIdentitySigner(readFileOrFail(state.file!, what).toString('utf8'), bytes, what);
        if (signer.certificate.thumbprint !== state.certificate.thumbprint) {
          throw new CeremonyError(
            'IdentityInvalid',
            `The identity file at ${state.location} is no longer ${admin.name}\u2019s identity from this ceremony.`,
          );
        }
        signed = await signPreparedBundle(b.path, turn, state.certificate, signer.sign, record);
      } else {
        signed = await this.cards.onCard(secret.reader, async (s) => {
          const signer = await cardIdentitySigner(s, bytes);
          if (signer.certificate.thumbprint !== state.certificate.thumbprint) {
            throw new CeremonyError(
              'WrongCard',
              `The card in reader "${secret.reader}" holds the identity of ${signer.certificate.name}, not ${admin.name}\u2019s from this ceremony (card ${state.cardSerial}).`,
            );
          }
          return signPreparedBundle(b.path, turn, state.certificate, signer.sign, record);
        });
      }
      b.bundle = signed.bundle;
      return this.snapshot();
    });
  }

  saveBundle(): Promise<CeremonyState> {
    return this.queue.run(async () => {
      const st = this.expectPhase('bundle', 'save the bundle');
      const b = st.bundle;
      if (b === null) fail('WrongStep', 'Build the bundle first.');
      if (b.bundle.signatures.length < b.required) {
        throw new CeremonyError(
          'TooFewSignatures',
          `The bundle has ${b.bundle.signatures.length} of the ${b.required} signatures it needs; the units would refuse it.`,
          {
            signatures: b.bundle.signatures.length,
            required: b.required,
          },
        );
      }
      const folder = picked(
        await this.ports.dialogs.chooseFolder({ title: 'Choose the folder (removable media) for the import bundle' }),
        'folder',
      );
      const saved = saveBundleFile(
        b.path,
        join(
          folder,
          fileNameFor(
            st.ceremony.mode,
            `bundle-${safeFileStem(st.ceremony.setup.keyName)}-${b.bundle.payload.sequence}.json`,
          ),
        ),
        b.bundle,
      );
      // Signed and saved: the bundle takes no more signatures; the key waits for Close.
      this.enter({ ...st, phase: 'close', bundle: { ...b, saved } });
      this.record(st.ceremony, 'bundle-saved', {
        bundleId: b.bundle.payload.bundleId,
        file: basename(saved.path),
        fileSha256: saved.fileSha256,
      });
      return this.snapshot();
    });
  }

  // ---------------------------------------------------------------------
  // Step 7: close

  /** Wipes the master key and its shares, then closes the record as completed. Closing again changes nothing. */
  close(): Promise<CeremonyState> {
    return this.queue.run(async () => {
      let st = this.state;
      if (st.phase === 'closed') return this.snapshot();
      if (st.phase !== 'closing') {
        const ready = this.expectPhase('close', 'close the ceremony');
        st = {
          phase: 'closing',
          ceremony: ready.ceremony,
          remains: remainsOf(ready),
          details: { kcv: ready.kcv, bundle: basename(ready.bundle.saved.path) },
        };
        this.enter(st); // wipes the key and its shares
      }
      // A record that could not be written leaves the ceremony closing: Close again writes it.
      this.endInRecord(st.ceremony, { wiped: WIPED_IN_MEMORY, closing: { outcome: 'completed', details: st.details } });
      this.enter({ phase: 'closed', ceremony: st.ceremony, remains: st.remains, recordSavedTo: null });
      return this.snapshot();
    });
  }

  /** Prints the ceremony report for signing. Allowed once the ceremony is closed. */
  printRecord(): Promise<{ printed: boolean }> {
    return this.queue.run(async () => {
      const st = this.state;
      if (st.phase !== 'closed')
        fail('WrongStep', 'Close the ceremony (wipe the master key) before printing its record.');
      return { printed: await this.ports.printHtml(reportHtml(readTranscript(st.ceremony.recordPath), this.now())) };
    });
  }

  saveRecord(): Promise<CeremonyState> {
    return this.queue.run(async () => {
      const st = this.state;
      if (st.phase !== 'closed')
        fail('WrongStep', 'Close the ceremony (wipe the master key) before saving its record.');
      st.recordSavedTo = await saveRecordFiles(this.ports, st.ceremony.recordPath, this.now());
      return this.snapshot();
    });
  }

  /**
   * A rehearsal's last act (issue 11): offers the saved, signed bundle to
   * the rehearsal units, as the operator would carry it to real ones, and
   * keeps what they report (state, KCV). Once the bundle is saved; before or
   * after Close. Nothing is recorded: the units keep their own audit log.
   */
  loadBundleIntoRehearsalUnits(): Promise<CeremonyState> {
    return this.queue.run(async () => {
      const st = this.state;
      if (st.phase !== 'close' && st.phase !== 'closing' && st.phase !== 'closed')
        fail(
          'WrongStep',
          `Cannot load the bundle into the rehearsal units now: the ceremony is at the "${stepOf(st.phase)}" step.`,
        );
      const units = st.ceremony.rehearsalUnits;
      const rehearsal = this.ports.rehearsal;
      if (units === null || rehearsal === undefined)
        fail('WrongStep', 'This ceremony did not use rehearsal units ("Use rehearsal units" on the Units step).');
      const saved = remainsOf(st).bundle?.saved;
      if (!saved) fail('WrongStep', 'Save the signed bundle first.');
      const text = readFileOrFail(saved.path, 'The saved bundle').toString('utf8');
      if (sha256Hex(text) !== saved.fileSha256)
        throw new CeremonyError(
          'InvalidArgument',
          `The bundle file ${basename(saved.path)} changed since it was saved (its SHA-256 differs); nothing was loaded.`,
        );
      st.ceremony.rehearsalUnits = { ...units, loaded: await rehearsal.ingestBundle(units.dir, text) };
      return this.snapshot();
    });
  }

  // ---------------------------------------------------------------------
  // The start screen's checks: one share against a record, a whole record (record-desk.ts)

  openRecordForCheck(): Promise<RecordForCheck> {
    return this.queue.run(() => this.checks.openForCheck());
  }

  checkShare(secret: SecretInput): Promise<ShareChecked> {
    return this.withSecret(secret, (bytes) => this.checks.checkShare(secret, bytes, this.cards));
  }

  // ---------------------------------------------------------------------
  // Cards

  /** Readers and what is in them, for the live status. */
  listCards(): Promise<CardsSnapshot> {
    return this.cards.list();
  }

  /** Prepares a factory-fresh card in `reader` (new PIN and PUK, PIN-protected random management key). */
  async prepareCard(reader: string, pin: string, newPin: string, newPuk: string): Promise<CardsSnapshot> {
    await this.withSecrets([pin, newPin, newPuk], async ([oldBytes, pinBytes, pukBytes]) => {
      zeroize(padPin(oldBytes!, 'The current PIN'), padPin(pinBytes!, 'The new PIN'), padPin(pukBytes!, 'The new PUK'));
      const done = await this.cards.prepare(reader, oldBytes!, pinBytes!, pukBytes!);
      const st = this.state;
      if (isInProgress(st))
        this.record(st.ceremony, 'card-prepared', {
          serial: String(done.serial),
          pin: done.pin,
          puk: done.puk,
          managementKey: done.managementKey.action,
          note: `PIN ${done.pin}, PUK ${done.puk}; management key ${done.managementKey.action}, kept PIN-protected on the card`,
        });
    });
    return this.cards.list();
  }

  /** Sets a new PIN on a card whose PIN is blocked, with its PUK. */
  async unblockPin(reader: string, puk: string, newPin: string): Promise<CardsSnapshot> {
    await this.withSecrets([puk, newPin], async ([pukBytes, pinBytes]) => {
      zeroize(padPin(pinBytes!, 'The new PIN'));
      const serial = await this.cards.unblock(reader, pukBytes!, pinBytes!);
      const st = this.state;
      if (isInProgress(st)) this.record(st.ceremony, 'card-pin-unblocked', { serial: String(serial) });
    });
    return this.cards.list();
  }

  // ---------------------------------------------------------------------
  // Secrets

  /**
   * Runs an operation that needs the PIN or passphrase, in the queue, with
   * the secret as a buffer that is zeroed afterwards whatever happens. The
   * string it came in as cannot be zeroed (JavaScript strings are immutable);
   * it is dropped here and never stored.
   */
  private withSecret<T>(secret: SecretInput, op: (bytes: Buffer) => Promise<T>): Promise<T> {
    return this.withSecrets([secret.medium === 'file' ? secret.passphrase : secret.pin], async ([bytes]) => {
      if (secret.medium === 'card') zeroize(padPin(bytes!, 'The PIN'));
      return op(bytes!);
    });
  }

  /** The same for several secrets at once (PIN, new PIN, PUK). */
  private withSecrets<T>(texts: readonly string[], op: (bytes: Buffer[]) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      const bytes = texts.map((t) => Buffer.from(t, 'utf8'));
      try {
        return await op(bytes);
      } finally {
        zeroize(...bytes);
      }
    });
  }

  /** The save dialog, its suggested and chosen names prefixed in a rehearsal whatever the person typed. */
  private async saveDialog(
    mode: RosterMode,
    o: { title: string; defaultName: string; filters: FileFilter[] },
  ): Promise<string> {
    const chosen = await this.ports.dialogs.saveFile({ ...o, defaultName: fileNameFor(mode, o.defaultName) });
    return pathFor(mode, picked(chosen));
  }

  private expectMedium(medium: RosterMedium, secret: SecretInput, who: string): void {
    if (secret.medium !== medium) {
      fail(
        'InvalidArgument',
        `${who} uses a ${medium === 'card' ? 'smart card' : 'file'}, not a ${secret.medium === 'card' ? 'smart card' : 'file'}.`,
      );
    }
  }

  /** True while a ceremony is set up and not yet closed (closing the app would abandon it). */
  inProgress(): boolean {
    return isInProgress(this.state);
  }

  /**
   * For shutdown: a ceremony still in progress is recorded as abandoned
   * (with the wipe), and every secret is zeroed. Synchronous, so it can run
   * in the application's last moments.
   */
  dispose(reason = 'the application was closed'): void {
    this.reshare.dispose();
    const st = this.state;
    if (isInProgress(st))
      this.abort(st, reason, { phase: 'closed', ceremony: st.ceremony, remains: remainsOf(st), recordSavedTo: null });
  }

  /**
   * Leaves the ceremony in progress for `next`, which wipes the key and
   * shares, then records the wipe (if a key existed) and the ceremony's
   * closing as aborted. A record that cannot be written does not stop the
   * wipe or what follows.
   */
  private abort(st: InProgress, reason: string, next: { phase: 'setup' } | ClosedPhase): void {
    const hadKey = keyMaterialOf(st) !== null;
    this.enter(next);
    try {
      this.endInRecord(st.ceremony, {
        wiped: hadKey ? WIPED_IN_MEMORY : null,
        closing: { outcome: 'aborted', code: 'Abandoned', reason },
      });
    } catch {
      /* the wipe matters more than the record */
    }
  }

  /** Writes the last entries of the ceremony: the wipe (when it held a key) and its closing. */
  private endInRecord(ceremony: OpenCeremony, end: { wiped: string | null; closing: Closing }): void {
    endCeremony(ceremony.recordPath, ceremony.setup.operator, { ...end, mark: markOf(ceremony.mode) }, this.now());
  }
}

/** Checks an RS256 signature against the certificate it claims. */
function signatureMatches(cert: AdminCertificateInfo, data: Buffer, signature: Buffer): boolean {
  return nodeVerify('sha256', data, cert.publicKey, signature);
}

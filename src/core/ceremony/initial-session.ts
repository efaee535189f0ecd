import { randomUUID } from 'node:crypto';
import { basename, join } from 'node:path';
import { claimedAdmins, summarizeBundle } from '../bundle/bundle.js';
import { checkAgainstLimits, readTransportFile } from '../bundle/transport.js';
import { CeremonyError } from '../errors.js';
import { readFileOrFail, safeFileStem } from '../files.js';
import { splitMasterKey } from '../masterkey/masterkey.js';
import { checkPassphrase } from '../passphrase.js';
import { zeroize } from '../secrets.js';
import { adoptIdentity, bringIdentityFile, createAdminIdentity, type AdminIdentity } from './admin-identity.js';
import { unitConfirmedData } from './bundle-record.js';
import { createBundle, prepareSigning, saveBundleFile, signPreparedBundle } from './bundles.js';
import type { CardDesk } from './card-desk.js';
import { CardShareDestination } from './card-media.js';
import { keyCeremonyOpenedData } from './key-ceremony.js';
import { FileShareDestination } from './media.js';
import type { PlanOpened } from './plan-desk.js';
import { ENTRY, keyOfOpenKeyCeremony, WIPED_IN_MEMORY, type Closing, type EntryType } from './record.js';
import { SHARE_FILTERS } from './record-desk.js';
import { checkSetup, type CeremonySetup, type RosterMode, type RosterParticipant } from './roster.js';
import { addAllUnits, createRehearsalUnits, loadIntoRehearsalUnits } from './rehearsal-units.js';
import type { SerialQueue } from './serial-queue.js';
import {
  chooseSavePath,
  expectMedium,
  fail,
  fileNameFor,
  picked,
  shareSourceOf,
  type SecretInput,
  type SessionPorts,
  cardSerialOf,
  withSecretBytes,
} from './session-ports.js';
import { reportHtml, saveRecordFiles } from './session-records.js';
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
  type UnitState,
  type WrittenShare,
} from './session-state.js';
import type { AdminSnapshot, CeremonyState, PlanRef } from './session-view.js';
import {
  checkShareReadBack,
  generateRecordedMasterKey,
  recordShareIssued,
  shareHeader,
  type EntryWriter,
} from './share-issue.js';
import { cardIdentitySigner, fileIdentitySigner } from './signers.js';
import { checkTransportOfPlan, planDifferences, plannedUnitsMissing } from './setup-plan.js';
import { appendTranscript, createTranscript, endCeremony, readTranscript, type TranscriptData } from './transcript.js';

// The initial ceremony in the desktop app, one step at a time (issue 4).
// Where the CLI does a whole master-key ceremony in one call, the wizard
// spreads it over the room: units are confirmed, admins create identities in
// turn, the key is generated, each custodian writes and proves a share,
// admins sign the bundle. This object holds that state in the main process,
// one phase at a time (SessionState, session-state.ts), including the master
// key and its shares from the master-key step to Close, and answers with
// metadata only (CeremonyState, a domain snapshot that src/main turns into
// the renderer's view). Every method is one IPC call.
//
// It is one of the app's ceremonies on the desk (session.ts): the desk's
// cards (of the ceremony's mode), its queue and its plans.

/** What the initial ceremony takes from the app's desk (session.ts). */
export interface InitialSessionDesk {
  readonly ports: SessionPorts;
  readonly queue: SerialQueue;
  readonly now: () => Date;
  /** The cards of a mode: a rehearsal's virtual cards, or the real ones through PC/SC. */
  readonly cardsFor: (mode: RosterMode) => CardDesk;
  /** The plan (SETUP.json) the Set up form was filled from, as opened on the desk. */
  readonly planOpened: (ref: PlanRef) => PlanOpened;
}

export class InitialSession {
  private readonly ports: SessionPorts;
  private readonly queue: SerialQueue;
  private readonly now: () => Date;

  /** The ceremony, one phase at a time; change it only through enter() (which wipes key material). */
  private state: SessionState = { phase: 'setup' };

  constructor(private readonly desk: InitialSessionDesk) {
    this.ports = desk.ports;
    this.queue = desk.queue;
    this.now = desk.now;
  }

  /** The ceremony once Start opened it (in progress or closed); null while none is set up. */
  get ceremony(): OpenCeremony | null {
    return this.state.phase === 'setup' ? null : this.state.ceremony;
  }

  /** The cards of the ceremony's mode (production while none is set up). */
  private get cards(): CardDesk {
    return this.desk.cardsFor(this.ceremony?.mode ?? 'production');
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
      unitsMissing: unitsMissing(st.ceremony, r.units),
      admins: setup.admins.map((a, i): AdminSnapshot => {
        const id = r.admins[i];
        return {
          name: a.name,
          medium: a.medium,
          identity: id
            ? { thumbprint: id.certificate.thumbprint, location: id.location, cardSerial: cardSerialOf(id.heldOn) }
            : null,
        };
      }),
      masterKey: r.kcv === null ? null : { kcv: r.kcv, present: keyMaterialOf(st) !== null },
      shares: r.shares.map((s, i) => ({
        index: i + 1,
        custodian: setup.custodians[i]!.name,
        medium: setup.custodians[i]!.medium,
        location: s.status === 'not-written' ? null : s.location,
        cardSerial: s.status === 'not-written' ? null : cardSerialOf(s.heldOn),
        written: s.status !== 'not-written',
        verified: s.status === 'read-back' || s.status === 'confirmed',
        confirmed: s.status === 'confirmed',
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
    appendTranscript(ceremony.recordPath, { type, actor: actor ?? ceremony.setup.operator, data }, this.now());
  }

  /** Who writes the ceremony's entries through the shared steps (share-issue.ts): `actor`, or the operator. */
  private writer(ceremony: OpenCeremony, actor?: string): EntryWriter {
    return {
      recordPath: ceremony.recordPath,
      actor: actor ?? ceremony.setup.operator,
      now: this.now,
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
      const plan = fromPlan === undefined ? undefined : this.desk.planOpened(fromPlan);
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
            ...(mode === 'rehearsal' ? { mode: 'rehearsal' } : {}),
          },
        },
        this.now(),
      );
      this.enter({
        phase: 'units',
        ceremony: {
          setup,
          id: ceremonyId,
          recordPath,
          mode,
          rehearsalUnits: null,
          // The plan's units bind the ceremony the plan is for: a rehearsal targets rehearsal units, which no plan names.
          plannedUnits: plan !== undefined && mode === 'production' ? plan.units : [],
        },
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
      const created = await createRehearsalUnits(rehearsal, this.ports.workDir, st.ceremony.id);
      addAllUnits(st.units, created.transportFiles, (path) => this.loadTransport(st, path));
      st.ceremony.rehearsalUnits = created.at;
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
    // The units the plan was signed off for (issue 11): another unit or another key is refused before it is confirmed.
    checkTransportOfPlan(st.ceremony.plannedUnits, transport, basename(path));
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

  /** Every unit of the instance, and every unit the plan names, loaded and confirmed: on to the admins. */
  private afterUnitsChanged(st: UnitsPhase): void {
    if (st.units.length > 0 && st.units.every((u) => u.confirmed) && unitsMissing(st.ceremony, st.units).length === 0) {
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
      const admin = adminWithoutIdentity(st, adminIndex);
      expectMedium(admin.medium, secret, admin.name);
      const ports = {
        dialogs: this.ports.dialogs,
        cards: this.cards,
        now: this.now,
        mode: st.ceremony.mode,
        ceremonyId: st.ceremony.id,
        record: (type: EntryType, data: TranscriptData, actor: string) => this.record(st.ceremony, type, data, actor),
      };
      this.adoptIdentity(
        st,
        adminIndex,
        await createAdminIdentity(ports, admin, adminIndex, secret, bytes, st, replaceSlot),
      );
      return this.snapshot();
    });
  }

  /** An admin with a file identity from an earlier ceremony brings it (admin-identity.ts bringIdentityFile). */
  useIdentityFile(adminIndex: number, passphrase: string): Promise<CeremonyState> {
    return this.withSecret({ medium: 'file', passphrase }, async (bytes) => {
      const st = this.expectPhase('admins', 'add an admin identity');
      const admin = adminWithoutIdentity(st, adminIndex);
      if (admin.medium !== 'file') fail('InvalidArgument', `${admin.name} uses a smart card, not an identity file.`);
      this.adoptIdentity(st, adminIndex, await bringIdentityFile(this.ports.dialogs, admin, bytes));
      return this.snapshot();
    });
  }

  /**
   * Gives admin `adminIndex` the identity, unless another admin of this
   * ceremony has it, and records it; with the last identity, on to the
   * master key.
   */
  private adoptIdentity(st: AdminsPhase, adminIndex: number, made: AdminIdentity): void {
    const admin = st.ceremony.setup.admins[adminIndex]!;
    const data = adoptIdentity(st.admins, admin, adminIndex, made);
    const admins = st.admins.filter((a): a is AdminState => a !== null);
    if (admins.length === st.admins.length)
      this.enter({ phase: 'master-key', ceremony: st.ceremony, units: st.units, admins });
    this.record(st.ceremony, 'admin-identity', data, admin.name);
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
        shares: setup.custodians.map(() => ({ status: 'not-written' })),
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
      if (state.status === 'read-back' || state.status === 'confirmed')
        fail('WrongStep', `Share ${shareIndex} is already written and proven.`);
      expectMedium(custodian.medium, secret, custodian.name);
      const header = shareHeader(
        {
          ceremonyId: st.ceremony.id,
          keyName: setup.keyName,
          kcv: st.kcv,
          threshold: setup.threshold,
          shares: setup.custodians.length,
          rehearsal: st.ceremony.mode === 'rehearsal',
        },
        shareIndex,
        custodian.name,
        this.now(),
      );
      const provide = async (): Promise<Buffer> => Buffer.from(bytes);
      let written: WrittenShare;
      if (secret.medium === 'file') {
        checkPassphrase(bytes, 'The passphrase');
        const path = await chooseSavePath(this.ports.dialogs, st.ceremony.mode, {
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
        written = { status: 'written', header, location: basename(path), heldOn: { medium: 'file', path } };
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
        const serial = dest.cardSerial;
        if (serial === undefined) throw new Error('a card share was written before its precheck'); // precheck reads it
        written = { status: 'written', header, location: dest.location, heldOn: { medium: 'card', serial } };
      }
      st.shares[shareIndex - 1] = written;
      this.record(
        st.ceremony,
        'share-written',
        { shareIndex, custodian: custodian.name, medium: custodian.medium, location: written.location },
        custodian.name,
      );
      return this.snapshot();
    });
  }

  verifyShare(shareIndex: number, secret: SecretInput): Promise<CeremonyState> {
    return this.withSecret(secret, async (bytes) => {
      const st = this.expectPhase('shares', 'read a share back');
      const { custodian, state, share } = shareAt(st, shareIndex);
      if (state.status === 'not-written') fail('WrongStep', `Share ${shareIndex} has not been written yet.`);
      expectMedium(custodian.medium, secret, custodian.name);
      const { header, heldOn } = state;
      const path = heldOn.medium === 'file' ? heldOn.path : undefined;
      const source = shareSourceOf(this.cards, secret, async () => Buffer.from(bytes), path, header.ceremonyId);
      const found = await source.header();
      if (found.ceremonyId !== header.ceremonyId || found.shareIndex !== shareIndex) {
        throw new CeremonyError(
          // A share file is not a card: only a card in the wrong hands is a "wrong card".
          custodian.medium === 'card' ? 'WrongCard' : 'ShareMismatch',
          found.ceremonyId === header.ceremonyId
            ? `That is share ${found.shareIndex} (${found.custodian}), not share ${shareIndex}. Use ${custodian.name}\u2019s ${custodian.medium === 'card' ? `card (${cardSerialOf(heldOn) ?? 'its serial is in the table'})` : 'file'}.`
            : `That share belongs to another ceremony. Use ${custodian.name}\u2019s ${custodian.medium === 'card' ? 'card' : 'file'}.`,
        );
      }
      const back = await this.cards.touching(secret.medium === 'card' ? secret.reader : null, () => source.open());
      let commitment: string;
      try {
        commitment = checkShareReadBack(
          { header, share },
          { header: found, share: back },
          state.location,
          custodian.medium === 'card'
            ? 'Do not use this card: write the share again to another card.'
            : 'Write it again to another file.',
        );
      } finally {
        zeroize(back);
      }
      st.shares[shareIndex - 1] = { ...state, status: 'read-back' };
      recordShareIssued(this.writer(st.ceremony, custodian.name), {
        shareIndex,
        custodian: custodian.name,
        medium: custodian.medium,
        location: state.location,
        commitment,
      });
      return this.snapshot();
    });
  }

  confirmShare(shareIndex: number): Promise<CeremonyState> {
    return this.queue.run(async () => {
      const st = this.expectPhase('shares', 'confirm a share');
      const { custodian, state } = shareAt(st, shareIndex);
      if (state.status !== 'read-back' && state.status !== 'confirmed')
        fail('WrongStep', `Share ${shareIndex} must be read back before ${custodian.name} confirms it.`);
      if (state.status !== 'confirmed') {
        st.shares[shareIndex - 1] = { ...state, status: 'confirmed' };
        // Every custodian holds their share: on to the bundle, the key (still needed to wrap it) with it.
        if (st.shares.every((s) => s.status === 'confirmed')) this.enter({ ...st, phase: 'bundle', bundle: null });
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
      expectMedium(admin.medium, secret, admin.name);
      const { recordPath } = st.ceremony;
      const turn = prepareSigning(b.path, {
        recordEntries: readTranscript(recordPath),
        recordLabel: `The ceremony record ${recordPath}`,
      });
      const record = { path: recordPath, now: this.now() };
      const held = state.heldOn;
      let signed;
      if (secret.medium === 'file' && held.medium === 'file') {
        const what = `${admin.name}\u2019s identity file`;
        const signer = fileIdentitySigner(readFileOrFail(held.path, what).toString('utf8'), bytes, what);
        if (signer.certificate.thumbprint !== state.certificate.thumbprint) {
          throw new CeremonyError(
            'IdentityInvalid',
            `The identity file at ${state.location} is no longer ${admin.name}\u2019s identity from this ceremony.`,
          );
        }
        signed = await signPreparedBundle(b.path, turn, state.certificate, signer.sign, record);
      } else if (secret.medium === 'card' && held.medium === 'card') {
        signed = await this.cards.onCard(secret.reader, async (s) => {
          const signer = await cardIdentitySigner(s, bytes);
          if (signer.certificate.thumbprint !== state.certificate.thumbprint) {
            throw new CeremonyError(
              'WrongCard',
              `The card in reader "${secret.reader}" holds the identity of ${signer.certificate.name}, not ${admin.name}\u2019s from this ceremony (card ${held.serial}).`,
            );
          }
          return signPreparedBundle(b.path, turn, state.certificate, signer.sign, record);
        });
      } else {
        // Unreachable: the secret is for the admin's medium (expectMedium), where their identity was made.
        throw new Error(`${admin.name}'s identity is not on the medium of their secret`);
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
      st.ceremony.rehearsalUnits = { ...units, loaded: await loadIntoRehearsalUnits(rehearsal, units, saved) };
      return this.snapshot();
    });
  }

  // ---------------------------------------------------------------------
  // Secrets, dialogs, the end

  /** Runs an operation that needs the PIN or passphrase in the queue, the secret zeroed afterwards (withSecretBytes). */
  private withSecret<T>(secret: SecretInput, op: (bytes: Buffer) => Promise<T>): Promise<T> {
    return this.queue.run(() => withSecretBytes(secret, op));
  }

  /** True while a ceremony is set up and not yet closed (closing the app would abandon it). */
  inProgress(): boolean {
    return isInProgress(this.state);
  }

  /** Records an entry of the desk (a card prepared, a PIN unblocked) in the ceremony in progress; false when none is. */
  noteInRecord(type: EntryType, data: TranscriptData): boolean {
    const st = this.state;
    if (!isInProgress(st)) return false;
    this.record(st.ceremony, type, data);
    return true;
  }

  /**
   * For shutdown: a ceremony still in progress is recorded as abandoned
   * (with the wipe), and its key and shares are zeroed. Synchronous, so it
   * can run in the application's last moments.
   */
  dispose(reason = 'the application was closed'): void {
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
    endCeremony(ceremony.recordPath, ceremony.setup.operator, end, this.now());
  }
}

/** The units of the instance not loaded yet, then those the plan names (before any file is loaded, all of them). */
function unitsMissing(ceremony: OpenCeremony, units: readonly UnitState[]): string[] {
  const missing = missingUnits(units);
  const planned = plannedUnitsMissing(
    ceremony.plannedUnits,
    units.map((u) => u.transport.file.unitId),
  ).filter((id) => !missing.includes(id));
  return [...missing, ...planned];
}

/** Admin `adminIndex` of the set-up, who has no identity yet in this ceremony. */
function adminWithoutIdentity(st: AdminsPhase, adminIndex: number): RosterParticipant {
  const admin = st.ceremony.setup.admins[adminIndex];
  if (!admin) fail('InvalidArgument', `There is no admin ${adminIndex + 1}.`);
  if (st.admins[adminIndex]) fail('WrongStep', `${admin.name} already has an identity.`);
  return admin;
}

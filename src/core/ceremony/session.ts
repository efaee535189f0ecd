import { CardDesk, noteInWizardRecord, type CardNote, type CardsSnapshot, type CardWizard } from './card-desk.js';
import { InitialSession } from './initial-session.js';
import { LaterPapers } from './later-papers.js';
import { PlanDesk } from './plan-desk.js';
import { RecordDesk } from './record-desk.js';
import { RecordCheck } from './record-check.js';
import { ReshareSession } from './reshare-session.js';
import type { CeremonySetup, RosterMode } from './roster.js';
import { SerialQueue } from './serial-queue.js';
import {
  fail,
  type LaterCeremonyPorts,
  type SecretInput,
  type SessionPorts,
  withSecretBytes,
} from './session-ports.js';
import { closeInterruptedRecords, saveRecordFiles, type InterruptedRecord } from './session-records.js';
import type { OpenedPlan, PlanRef, PlanSaved, RecordForCheck, ShareChecked } from './session-view.js';
import type { SetupUnit } from './setup-file.js';

// The session's parts live in their own modules; what src/main, the other
// sessions and the tests import from here is re-exported.
export {
  REHEARSAL_FILE_PREFIX,
  type CardsByMode,
  type FileDialogs,
  type LaterCeremonyPorts,
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

// The desktop app's desk: what every ceremony of the app shares. The cards
// (PC/SC, or a rehearsal's virtual cards) and the one queue of card and
// record operations; the records of ceremonies cut off by a crash; the plans
// (SETUP.json); the start screen's share check; and the ceremonies, each its
// own session: the initial ceremony (initial-session.ts), the re-share, the
// record check; the later wizards take `cardPorts`.
//
// It reaches the outside world only through SessionPorts, so the same code
// runs in Electron (native dialogs, printToPDF, the print dialog) and under
// the test bridge.

export class CeremonySession {
  private readonly queue = new SerialQueue();
  private readonly now: () => Date;
  private readonly productionCards: CardDesk;
  /** A rehearsal's virtual cards (issue 11): never the PC/SC transport. */
  private readonly rehearsalCards: CardDesk | null;
  /** The initial ceremony (issue 4): set up, units, admins, master key, shares, bundle, close. */
  readonly initial: InitialSession;
  /** The re-share (issue 11, ceremony 2): its own wizard, on the same cards and queue. */
  readonly reshare: ReshareSession;
  /** The record check (issue 11, ceremony 6): a record, its head, its bundles, its report. */
  readonly recordCheck: RecordCheck;
  /** The later wizards' papers (issue 11): the script and plan before a ceremony, the record's report after. */
  readonly papers: LaterPapers;

  /** The start screen's share check: one share against its key's record (record-desk.ts). */
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
    this.initial = new InitialSession({
      ports,
      queue: this.queue,
      now: this.now,
      cardsFor: (mode) => this.cardsFor(mode),
      planOpened: (ref) => this.plans.opened(ref),
    });
    this.reshare = new ReshareSession({
      dialogs: ports.dialogs,
      cardsFor: (mode) => this.cardsFor(mode),
      queue: this.queue,
      now: this.now,
      ...(ports.scryptCost ? { scryptCost: ports.scryptCost } : {}),
    });
    this.recordCheck = new RecordCheck({ dialogs: ports.dialogs, printHtml: ports.printHtml, now: this.now });
    this.papers = new LaterPapers(ports, this.now);
  }

  /**
   * What the later ceremonies' wizards share with this session (issue 11;
   * LaterCeremonyPorts): the cards of their record's mode and the one queue
   * of card and record operations (one PC/SC connection; a reader poll
   * never interleaves with a card read in any of them).
   */
  get laterCeremonyPorts(): LaterCeremonyPorts {
    return {
      cardsFor: (mode) => this.cardsFor(mode),
      queue: this.queue,
      ...(this.ports.rehearsal ? { rehearsal: this.ports.rehearsal } : {}),
    };
  }

  /** The cards of a mode: a rehearsal's virtual cards, or the real ones through PC/SC; never the other's. */
  private cardsFor(mode: RosterMode): CardDesk {
    if (mode === 'production') return this.productionCards;
    if (this.rehearsalCards === null) fail('WrongStep', 'This application has no rehearsal cards.');
    return this.rehearsalCards;
  }

  /** The cards of the initial ceremony's mode; production while none is set up. */
  private get cards(): CardDesk {
    return this.cardsFor(this.initial.ceremony?.mode ?? 'production');
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
    const current = this.initial.ceremony?.recordPath ?? null;
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
  // The plan (SETUP.json, issue 11): written from the Set up form, or read into it, before anything starts (plan-desk.ts)

  savePlan(form: CeremonySetup, units: readonly SetupUnit[], fromPlan?: PlanRef): Promise<PlanSaved> {
    return this.queue.run(() => this.plans.save(form, units, fromPlan));
  }

  openPlan(): Promise<OpenedPlan> {
    return this.queue.run(async () => {
      if (this.initial.ceremony !== null)
        fail('WrongStep', 'A plan fills the Set up of a new ceremony; this one is already in progress.');
      return this.plans.open();
    });
  }

  printPlanScript(form: CeremonySetup, units: readonly SetupUnit[], fromPlan?: PlanRef): Promise<{ printed: boolean }> {
    return this.queue.run(() => this.plans.printScript(form, units, fromPlan));
  }

  // ---------------------------------------------------------------------
  // The start screen's checks: one share against a record, a whole record (record-desk.ts)

  openRecordForCheck(): Promise<RecordForCheck> {
    return this.queue.run(() => this.checks.openForCheck());
  }

  checkShare(secret: SecretInput): Promise<ShareChecked> {
    return this.queue.run(() => withSecretBytes(secret, (bytes) => this.checks.checkShare(secret, bytes, this.cards)));
  }

  // ---------------------------------------------------------------------
  // Cards

  /** A card prepared or unblocked during the initial ceremony is in its record. */
  private readonly noteCard: CardNote = (type, data) => this.initial.noteInRecord(type, data);

  /** Readers and what is in them, for the live status: of the initial ceremony's mode, or of `mode` (a later ceremony's record). */
  listCards(mode?: RosterMode): Promise<CardsSnapshot> {
    return (mode === undefined ? this.cards : this.cardsFor(mode)).list();
  }

  /**
   * Prepares a factory-fresh card in `reader` (new PIN and PUK, PIN-protected
   * random management key): among the initial ceremony's cards, recorded in
   * its record if one is open; or, with `wizard` (a later wizard), among the
   * cards of its record's mode, recorded in the key's record it has loaded
   * whatever its step (noteInWizardRecord), never in the initial's. Without
   * a record to take it, the desk keeps it for the ceremony that issues a
   * share to the card (share-turns.ts).
   */
  async prepareCard(
    reader: string,
    pin: string,
    newPin: string,
    newPuk: string,
    wizard?: CardWizard,
  ): Promise<CardsSnapshot> {
    const [cards, note] = this.cardsAndNote(wizard);
    await cards.prepareCard(reader, { pin, newPin, newPuk }, note);
    return cards.list();
  }

  /** Sets a new PIN on a card whose PIN is blocked, with its PUK; `wizard` as for prepareCard. */
  async unblockPin(reader: string, puk: string, newPin: string, wizard?: CardWizard): Promise<CardsSnapshot> {
    const [cards, note] = this.cardsAndNote(wizard);
    await cards.unblockPin(reader, { puk, newPin }, note);
    return cards.list();
  }

  /** The cards and the record of a card operation: the initial ceremony's, or a later wizard's key's record. */
  private cardsAndNote(wizard: CardWizard | undefined): [CardDesk, CardNote] {
    if (wizard === undefined) return [this.cards, this.noteCard];
    const mode = wizard.cardMode;
    return [this.cardsFor(mode), noteInWizardRecord(wizard, mode, this.now)];
  }

  /** True while a ceremony is set up and not yet closed (closing the app would abandon it). */
  inProgress(): boolean {
    return this.initial.inProgress();
  }

  /**
   * For shutdown: a ceremony still in progress is recorded as abandoned
   * (with the wipe), and every secret is zeroed. Synchronous, so it can run
   * in the application's last moments.
   */
  dispose(reason = 'the application was closed'): void {
    this.reshare.dispose();
    this.initial.dispose(reason);
  }
}

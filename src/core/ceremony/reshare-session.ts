import { basename } from 'node:path';
import { CeremonyError, missingCase } from '../errors.js';
import { safeFileStem } from '../files.js';
import { loadCeremony } from './operations.js';
import { holderOfIssued, type LaterFacts } from './later-papers.js';
import { recordMode } from './bundle-record.js';
import type { CeremonySummary } from './record.js';
import { readTranscript } from './transcript.js';
import { reshareMasterKey, type ReshareResult } from './reshare.js';
import type { SerialQueue } from './serial-queue.js';
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
import { recordModeOf } from './rehearsal-units.js';
import type { RosterMode } from './roster.js';
import type { CardsByMode, FileDialogs, SecretInput } from './session.js';
import { fail, picked, withSecretBytes } from './session-ports.js';

// The desktop app's re-share (issue 11, ceremony 2): an adapter that collects
// across screens what `mk reshare` takes on its command line (the record; K
// current shares, one custodian at a time; the new custodians, K', each new
// share's medium and its secret), then calls reshareMasterKey, the CLI's one
// implementation of the ceremony. Nothing here writes the record or a share.
//
// Secrets: a current share is opened when its custodian brings it (a card
// leaves with its custodian, so its PIN would be of no use later), and the
// share is held until the ceremony runs; a new share's passphrase or PIN is
// held from the moment its custodian types it until the ceremony runs. Both
// are zeroed when the ceremony ends, succeeds or fails, and on cancel.

const RECORD_FILTERS = [{ name: 'Ceremony record', extensions: ['jsonl'] }];

export interface ReshareSessionPorts {
  dialogs: FileDialogs;
  /** The cards of the record's mode (the ceremony session's desks, so a card poll never interleaves with a read). */
  cardsFor: CardsByMode;
  queue: SerialQueue;
  now: () => Date;
  /** scrypt cost for share files; tests lower it, the app never sets it. */
  scryptCost?: { logN: number; r: number; p: number };
}

interface OpenRecord {
  readonly path: string;
  readonly summary: CeremonySummary;
  /** From the record (issue 11): a rehearsal's key is re-shared on the rehearsal's virtual cards only. */
  readonly mode: RosterMode;
}

type ReshareState =
  | { readonly phase: 'idle' }
  | { readonly phase: 'shares-in'; readonly record: OpenRecord; readonly brought: BroughtShare[] }
  | {
      readonly phase: 'new-set';
      readonly record: OpenRecord;
      readonly brought: BroughtShare[];
      readonly operator: string;
      readonly set: NewShareSet;
    }
  | {
      readonly phase: 'done';
      readonly record: OpenRecord;
      readonly result: ReshareResult;
      readonly after: CeremonySummary;
    };

export type ReshareSessionPhase = ReshareState['phase'];

export type ReshareNewCustodianPlan = NewCustodianPlan;

/** The re-share as data (src/main/views.ts makes the renderer's view of it). No secret. */
export interface ReshareSnapshot {
  readonly phase: ReshareSessionPhase;
  readonly record: null | {
    readonly fileName: string;
    readonly keyName: string;
    readonly kcv: string;
    readonly ceremonyId: string;
    /** The current set: K of N, and who holds which share. */
    readonly threshold: number;
    readonly shares: number;
    readonly holders: readonly { readonly shareIndex: number; readonly custodian: string }[];
  };
  readonly brought: readonly { readonly shareIndex: number; readonly custodian: string }[];
  readonly newSet: null | {
    readonly operator: string;
    readonly threshold: number;
    readonly custodians: readonly NewCustodianView[];
  };
  readonly done: null | {
    readonly result: ReshareResult;
    /** The record's current set afterwards. */
    readonly current: { readonly ceremonyId: string; readonly threshold: number; readonly shares: number };
    /** Where each new share is, as the record says it ("card 12345678 slot 82", a file name). */
    readonly locations: readonly { readonly shareIndex: number; readonly location: string }[];
  };
}

export class ReshareSession {
  private state: ReshareState = { phase: 'idle' };

  constructor(private readonly ports: ReshareSessionPorts) {}

  /** The mode of the record opened (its cards' mode); production before one is. */
  get cardMode(): RosterMode {
    return this.state.phase === 'idle' ? 'production' : this.state.record.mode;
  }

  /**
   * The key's record a card prepared or unblocked in this wizard is recorded
   * in (card-desk.ts noteInWizardRecord): the re-share appends to the key's
   * own record, loaded from the start, so whatever the phase (current shares
   * being brought, a failed issue sent back to them); null before one is opened.
   */
  get cardRecordPath(): string | null {
    return this.state.phase === 'idle' ? null : this.state.record.path;
  }

  snapshot(): ReshareSnapshot {
    const st = this.state;
    if (st.phase === 'idle') return { phase: 'idle', record: null, brought: [], newSet: null, done: null };
    const s = st.record.summary;
    const record = {
      fileName: basename(st.record.path),
      keyName: s.keyName,
      kcv: s.kcv,
      ceremonyId: s.ceremonyId,
      threshold: s.threshold,
      shares: s.shares,
      holders: [...s.issued.values()]
        .sort((a, b) => a.shareIndex - b.shareIndex)
        .map((i) => ({ shareIndex: i.shareIndex, custodian: i.custodian })),
    };
    switch (st.phase) {
      case 'shares-in':
      case 'new-set':
        return {
          phase: st.phase,
          record,
          brought: st.brought.map((b) => ({ shareIndex: b.header.shareIndex, custodian: b.custodian })),
          newSet:
            st.phase === 'new-set'
              ? {
                  operator: st.operator,
                  threshold: st.set.threshold,
                  custodians: st.set.view(),
                }
              : null,
          done: null,
        };
      case 'done': {
        const current = st.after.shareSets.at(-1)!;
        return {
          phase: 'done',
          record,
          brought: [],
          newSet: null,
          done: {
            result: st.result,
            current: { ceremonyId: current.ceremonyId, threshold: current.threshold, shares: current.shares },
            locations: [...current.issued.values()]
              .sort((a, b) => a.shareIndex - b.shareIndex)
              .map((i) => ({ shareIndex: i.shareIndex, location: i.location })),
          },
        };
      }
      default:
        return missingCase(st);
    }
  }

  /** Opens the key's record (open dialog); any re-share in progress is dropped first. */
  openRecord(): Promise<ReshareSnapshot> {
    return this.ports.queue.run(async () => {
      const path = picked(
        await this.ports.dialogs.openFile({ title: 'Open the key\u2019s ceremony record', filters: RECORD_FILTERS }),
      );
      const { summary } = loadCeremony(path);
      const mode = recordModeOf(readTranscript(path));
      this.forget();
      this.state = { phase: 'shares-in', record: { path, summary, mode }, brought: [] };
      return this.snapshot();
    });
  }

  /**
   * A custodian of the current set brings their share (file: open dialog and
   * passphrase; card: reader and PIN). Its header is checked against the
   * record and the shares already brought (checkNextSourceAgainstRecord),
   * then it is opened; a wrong secret, a retired share, a share of another
   * key or a second share of one person is refused here.
   */
  bringShare(secret: SecretInput): Promise<ReshareSnapshot> {
    return this.ports.queue.run(() =>
      withSecretBytes(secret, async (bytes) => {
        const st = this.expect('shares-in', 'bring a current share');
        const brought = await bringShare(
          this.turnPorts(st.record),
          st.record.summary,
          st.brought,
          secret,
          bytes,
          'Open your share file (current set)',
        );
        st.brought.push(brought);
        return this.snapshot();
      }),
    );
  }

  /**
   * Names the new set once K current shares are in: the operator (the
   * record's actor), K' and its custodians in share order, each with a medium.
   * One person holds at most one share (checkShareSetRoster).
   */
  planNewSet(plan: {
    operator: string;
    threshold: number;
    custodians: readonly ReshareNewCustodianPlan[];
  }): Promise<ReshareSnapshot> {
    return this.ports.queue.run(async () => {
      const st = this.state;
      if (st.phase !== 'shares-in' && st.phase !== 'new-set') fail('WrongStep', 'Bring the current shares first.');
      const needed = st.record.summary.threshold;
      if (st.brought.length < needed)
        throw new CeremonyError(
          'ThresholdNotMet',
          `${needed} different shares are needed to rebuild key "${st.record.summary.keyName}"; ${st.brought.length} ${st.brought.length === 1 ? 'was' : 'were'} brought.`,
          { needed, given: st.brought.length },
        );
      const operator = plan.operator.trim();
      if (operator.length === 0) fail('InvalidArgument', 'Name the operator: the record names who ran the re-share.');
      const set = NewShareSet.plan(plan.threshold, plan.custodians);
      if (st.phase === 'new-set') st.set.forget();
      this.state = { phase: 'new-set', record: st.record, brought: st.brought, operator, set };
      return this.snapshot();
    });
  }

  /**
   * New custodian `shareIndex` (from 1) chooses where their share goes (file:
   * save dialog; card: reader) and types its new passphrase or the card's
   * PIN, held until the ceremony runs.
   */
  setNewShare(shareIndex: number, secret: SecretInput): Promise<ReshareSnapshot> {
    return this.ports.queue.run(() =>
      withSecretBytes(secret, async (bytes) => {
        const st = this.expect('new-set', 'choose a new share\u2019s medium');
        await st.set.choose(
          this.turnPorts(st.record),
          shareIndex,
          secret,
          bytes,
          `${safeFileStem(st.record.summary.keyName)}-reshare`,
        );
        return this.snapshot();
      }),
    );
  }

  /**
   * Runs the re-share (reshareMasterKey, as `mk reshare` does): the key
   * rebuilt from the brought shares and checked against the record, the new
   * set issued and read back, the old set retired. Every held secret is
   * zeroed afterwards, whatever happens; a failure leaves the old set
   * current, and the current shares must be brought again.
   */
  issue(): Promise<ReshareSnapshot> {
    return this.ports.queue.run(async () => {
      const st = this.expect('new-set', 'issue the new shares');
      const custodians = await st.set.custodianShares(this.turnPorts(st.record));
      const sources = st.brought.map(broughtSource);
      const record = st.record;
      try {
        const result = await reshareMasterKey({
          recordPath: record.path,
          sources,
          threshold: st.set.threshold,
          custodians,
          actor: st.operator,
          now: this.ports.now,
        });
        this.forget();
        this.state = { phase: 'done', record, result, after: loadCeremony(record.path).summary };
        return this.snapshot();
      } catch (e) {
        this.forget();
        this.state = {
          phase: 'shares-in',
          record: { ...record, summary: loadCeremony(record.path).summary },
          brought: [],
        };
        throw e;
      }
    });
  }

  /**
   * What the re-share's script names (later-papers.ts), once the new set is
   * planned and before any new share is written: the custodians who brought
   * the current shares, the new set K' of N' with each medium. (The wizard
   * names the new set only once the current shares are in, as `mk reshare`
   * takes them.)
   */
  papersFacts(): LaterFacts {
    const st = this.expect('new-set', 'print the script (plan the new set first)');
    const s = st.record.summary;
    return {
      kind: 'reshare',
      rehearsal: recordMode(readTranscript(st.record.path))?.rehearsal === true,
      keyName: s.keyName,
      threshold: st.set.threshold,
      holders: st.brought.map((b) => {
        const issued = s.issued.get(b.header.shareIndex);
        return issued === undefined ? { name: b.custodian, medium: 'file' as const } : holderOfIssued(issued);
      }),
      custodians: st.set.view().map((c) => ({ name: c.name, medium: c.medium })),
      admins: [],
      units: [],
    };
  }

  /** The record the report is printed from, once the re-share is done. */
  reportRecordPath(): string {
    return this.expect('done', 'print the report').record.path;
  }

  /** Drops the re-share in progress, zeroing every held share and secret. Nothing is written. */
  cancel(): ReshareSnapshot {
    this.forget();
    this.state = { phase: 'idle' };
    return this.snapshot();
  }

  /** For shutdown: zeroes every held share and secret. */
  dispose(): void {
    this.cancel();
  }

  /** A person's turn reaches the cards of the record's mode only. */
  private turnPorts(record: OpenRecord): ShareTurnPorts {
    return {
      mode: record.mode,
      dialogs: this.ports.dialogs,
      cards: this.ports.cardsFor(record.mode),
      ...(this.ports.scryptCost ? { scryptCost: this.ports.scryptCost } : {}),
    };
  }

  private forget(): void {
    const st = this.state;
    if (st.phase === 'shares-in' || st.phase === 'new-set') forgetBrought(st.brought);
    if (st.phase === 'new-set') st.set.forget();
  }

  private expect<P extends ReshareSessionPhase>(phase: P, what: string): Extract<ReshareState, { phase: P }> {
    const st = this.state;
    if (st.phase !== phase) fail('WrongStep', `Cannot ${what} now (the re-share is at: ${st.phase}).`);
    return st as Extract<ReshareState, { phase: P }>;
  }
}

import { basename } from 'node:path';
import { padPin } from '../cards/piv.js';
import { CeremonyError, missingCase } from '../errors.js';
import { safeFileStem } from '../files.js';
import { checkPassphrase } from '../passphrase.js';
import { zeroize } from '../secrets.js';
import type { KeyshareHeader } from '../shares/envelope.js';
import { bringShare, checkAgainstRecord, type BroughtShare } from './bring-share.js';
import type { CardDesk } from './card-desk.js';
import { CardShareDestination } from './card-media.js';
import { FileShareDestination, type ShareDestination, type ShareSource } from './media.js';
import { loadCeremony } from './operations.js';
import type { CeremonySummary } from './record.js';
import { reshareMasterKey, type ReshareResult } from './reshare.js';
import type { SerialQueue } from './serial-queue.js';
import { checkShareSetRoster, type CustodianShare } from './share-issue.js';
import type { FileDialogs, SecretInput } from './session.js';

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

const SHARE_FILTERS = [{ name: 'Keyshare', extensions: ['keyshare'] }];
const RECORD_FILTERS = [{ name: 'Ceremony record', extensions: ['jsonl'] }];

export interface ReshareSessionPorts {
  dialogs: FileDialogs;
  /** The production cards (the ceremony session's desk, so a card poll never interleaves with a read). */
  cards: CardDesk;
  queue: SerialQueue;
  now: () => Date;
  /** scrypt cost for share files; tests lower it, the app never sets it. */
  scryptCost?: { logN: number; r: number; p: number };
}

/** Where a new share goes and the secret that will seal it. */
type NewShareMedium =
  | { readonly medium: 'file'; readonly path: string; readonly secret: Buffer }
  | {
      readonly medium: 'card';
      readonly reader: string;
      /** The card checked when its custodian chose it; only this card receives the share. */
      readonly serial: number;
      readonly secret: Buffer;
    };

interface NewCustodian {
  readonly name: string;
  readonly medium: 'file' | 'card';
  /** Null until the custodian chose where their share goes and typed its secret. */
  ready: NewShareMedium | null;
}

interface OpenRecord {
  readonly path: string;
  readonly summary: CeremonySummary;
}

type ReshareState =
  | { readonly phase: 'idle' }
  | { readonly phase: 'shares-in'; readonly record: OpenRecord; readonly brought: BroughtShare[] }
  | {
      readonly phase: 'new-set';
      readonly record: OpenRecord;
      readonly brought: BroughtShare[];
      readonly operator: string;
      readonly threshold: number;
      readonly custodians: NewCustodian[];
    }
  | {
      readonly phase: 'done';
      readonly record: OpenRecord;
      readonly result: ReshareResult;
      readonly after: CeremonySummary;
    };

export type ReshareSessionPhase = ReshareState['phase'];

export interface ReshareNewCustodianPlan {
  readonly name: string;
  readonly medium: 'file' | 'card';
}

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
    readonly custodians: readonly {
      readonly shareIndex: number;
      readonly name: string;
      readonly medium: 'file' | 'card';
      /** Where the share will go, once its custodian chose; never a secret. */
      readonly destination: string | null;
    }[];
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
                  threshold: st.threshold,
                  custodians: st.custodians.map((c, i) => ({
                    shareIndex: i + 1,
                    name: c.name,
                    medium: c.medium,
                    destination: c.ready === null ? null : destinationName(c.ready),
                  })),
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
      this.forget();
      this.state = { phase: 'shares-in', record: { path, summary }, brought: [] };
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
    return this.withSecret(secret, async (bytes) => {
      const st = this.expect('shares-in', 'bring a current share');
      const brought = await bringShare(
        this.ports,
        secret,
        bytes,
        checkAgainstRecord(
          st.record.summary,
          st.brought.map((b) => b.header),
        ),
        'Open your share file (current set)',
      );
      st.brought.push(brought);
      return this.snapshot();
    });
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
      const names = plan.custodians.map((c) => c.name.trim());
      if (names.some((n) => n.length === 0)) fail('InvalidArgument', 'Every new custodian needs a name.');
      checkShareSetRoster(plan.threshold, names);
      if (st.phase === 'new-set') for (const c of st.custodians) forgetMedium(c);
      this.state = {
        phase: 'new-set',
        record: st.record,
        brought: st.brought,
        operator,
        threshold: plan.threshold,
        custodians: plan.custodians.map((c, i) => ({ name: names[i]!, medium: c.medium, ready: null })),
      };
      return this.snapshot();
    });
  }

  /**
   * New custodian `shareIndex` (from 1) chooses where their share goes (file:
   * save dialog; card: reader) and types its new passphrase or the card's
   * PIN, held until the ceremony runs.
   */
  setNewShare(shareIndex: number, secret: SecretInput): Promise<ReshareSnapshot> {
    return this.withSecret(secret, async (bytes) => {
      const st = this.expect('new-set', 'choose a new share\u2019s medium');
      const c = st.custodians[shareIndex - 1];
      if (c === undefined) fail('InvalidArgument', `There is no new share ${shareIndex}.`);
      if (c.medium !== secret.medium)
        fail(
          'InvalidArgument',
          `${c.name}\u2019s share goes on a ${c.medium === 'card' ? 'smart card' : 'file'}, not a ${secret.medium === 'card' ? 'smart card' : 'file'}.`,
        );
      let ready: NewShareMedium;
      if (secret.medium === 'file') {
        checkPassphrase(bytes, 'The passphrase');
        const path = picked(
          await this.ports.dialogs.saveFile({
            title: `Save ${c.name}\u2019s new share (${shareIndex} of ${st.custodians.length})`,
            defaultName: `${safeFileStem(st.record.summary.keyName)}-reshare-share-${shareIndex}-${safeFileStem(c.name)}.keyshare`,
            filters: SHARE_FILTERS,
          }),
        );
        ready = { medium: 'file', path, secret: Buffer.from(bytes) };
      } else {
        const serial = await this.checkNewShareCard(secret.reader, bytes);
        const taken = st.custodians.find(
          (o) =>
            o !== c && o.ready?.medium === 'card' && (o.ready.serial === serial || o.ready.reader === secret.reader),
        );
        if (taken !== undefined)
          fail(
            'InvalidArgument',
            taken.ready?.medium === 'card' && taken.ready.serial === serial
              ? `Card ${serial} already receives ${taken.name}\u2019s new share: one card holds one share of a key. Use ${c.name}\u2019s own card.`
              : `The card in reader "${secret.reader}" receives ${taken.name}\u2019s new share, and stays there until the shares are issued. Insert ${c.name}\u2019s card in another reader.`,
          );
        ready = { medium: 'card', reader: secret.reader, serial, secret: Buffer.from(bytes) };
      }
      forgetMedium(c);
      c.ready = ready;
      return this.snapshot();
    });
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
      const missing = st.custodians.filter((c) => c.ready === null).map((c) => c.name);
      if (missing.length > 0)
        fail(
          'WrongStep',
          `Every new custodian chooses where their share goes first (still to do: ${missing.join(', ')}).`,
        );
      const transport = st.custodians.some((c) => c.medium === 'card') ? await this.ports.cards.transport() : null;
      const custodians: CustodianShare[] = st.custodians.map((c) => ({
        custodian: c.name,
        destination: this.destinationOf(c.ready!, transport),
      }));
      const sources: ShareSource[] = st.brought.map(heldSource);
      const record = st.record;
      try {
        const result = await reshareMasterKey({
          recordPath: record.path,
          sources,
          threshold: st.threshold,
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
          record: { path: record.path, summary: loadCeremony(record.path).summary },
          brought: [],
        };
        throw e;
      }
    });
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

  /**
   * Checks the card a new share will go to while its custodian is at the
   * keyboard, as the share write checks it (CardShareDestination.precheck:
   * prepared, a free retired slot — nothing on the card is ever overwritten —
   * and the PIN), so that a wrong PIN or an unprepared or full card is
   * refused now rather than when the ceremony runs. Returns its serial.
   */
  private async checkNewShareCard(reader: string, pin: Buffer): Promise<number> {
    const transport = await this.ports.cards.transport();
    const check = new CardShareDestination(transport, reader, async () => Buffer.from(pin));
    try {
      await this.ports.cards.touching(reader, () => check.precheck());
      return check.cardSerial!;
    } finally {
      check.dispose();
    }
  }

  private destinationOf(
    ready: NewShareMedium,
    transport: Awaited<ReturnType<CardDesk['transport']>> | null,
  ): ShareDestination {
    // Each call hands a copy: the destination zeroes it, the held secret stays until forget().
    const provide = async (): Promise<Buffer> => Buffer.from(ready.secret);
    if (ready.medium === 'file') return new FileShareDestination(ready.path, provide, this.ports.scryptCost);
    if (transport === null) throw new Error('a card share without a card transport');
    return new ChosenCardDestination(ready.serial, new CardShareDestination(transport, ready.reader, provide));
  }

  private forget(): void {
    const st = this.state;
    if (st.phase === 'shares-in' || st.phase === 'new-set') for (const b of st.brought) zeroize(b.share);
    if (st.phase === 'new-set') for (const c of st.custodians) forgetMedium(c);
  }

  private expect<P extends ReshareSessionPhase>(phase: P, what: string): Extract<ReshareState, { phase: P }> {
    const st = this.state;
    if (st.phase !== phase) fail('WrongStep', `Cannot ${what} now (the re-share is at: ${st.phase}).`);
    return st as Extract<ReshareState, { phase: P }>;
  }

  /** The secret as a buffer, zeroed after the call (the string it came in as is dropped, never stored). */
  private withSecret<T>(secret: SecretInput, op: (bytes: Buffer) => Promise<T>): Promise<T> {
    return this.ports.queue.run(async () => {
      const bytes = Buffer.from(secret.medium === 'file' ? secret.passphrase : secret.pin, 'utf8');
      try {
        if (secret.medium === 'card') zeroize(padPin(bytes, 'The PIN'));
        return await op(bytes);
      } finally {
        zeroize(bytes);
      }
    });
  }
}

/** A brought share, for reshareMasterKey: each open() answers a copy, which the ceremony zeroes. */
function heldSource(b: BroughtShare): ShareSource {
  return { label: b.label, header: async () => b.header, open: async () => Buffer.from(b.share) };
}

/**
 * A new share's card destination that writes only to the card its custodian
 * chose: the precheck the ceremony runs (withPrecheckedDestinations) refuses
 * another card put in that reader since.
 */
class ChosenCardDestination implements ShareDestination {
  readonly medium = 'card' as const;
  constructor(
    private readonly serial: number,
    private readonly inner: CardShareDestination,
  ) {}
  get label(): string {
    return this.inner.label;
  }
  get location(): string {
    return this.inner.location;
  }
  async precheck(): Promise<void> {
    await this.inner.precheck();
    const now = this.inner.cardSerial;
    if (now !== this.serial)
      throw new CeremonyError(
        'WrongCard',
        `The card in reader "${this.inner.reader}" is card ${now}, not card ${this.serial} that was chosen for this share. Insert card ${this.serial}; nothing was written.`,
        { expected: this.serial, actual: now ?? null },
      );
  }
  write(header: KeyshareHeader, share: Uint8Array): Promise<void> {
    return this.inner.write(header, share);
  }
  readBack(): Promise<Buffer> {
    return this.inner.readBack();
  }
  dispose(): void {
    this.inner.dispose();
  }
}

function destinationName(ready: NewShareMedium): string {
  return ready.medium === 'file'
    ? `share file ${basename(ready.path)}`
    : `card ${ready.serial} in reader "${ready.reader}"`;
}

function forgetMedium(c: NewCustodian): void {
  if (c.ready !== null) zeroize(c.ready.secret);
  c.ready = null;
}

function fail(code: 'WrongStep' | 'InvalidArgument', message: string): never {
  throw new CeremonyError(code, message);
}

function picked(path: string | null): string {
  if (path === null) throw new CeremonyError('Canceled', 'No file was chosen.');
  return path;
}

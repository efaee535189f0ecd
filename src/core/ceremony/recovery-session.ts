import { randomUUID } from 'node:crypto';
import { basename, join } from 'node:path';
import type { BundleSummary, ClaimSpec } from '../bundle/bundle.js';
import { checkThresholds } from '../bundle/protocol.js';
import type { TransportKey } from '../bundle/transport.js';
import { CeremonyError, missingCase } from '../errors.js';
import { assertFolderWritable, assertOutputFree, readFileOrFail } from '../files.js';
import type { AdminCertificateInfo } from '../identity/certificate.js';
import { identityCertificate } from '../identity/identity.js';
import { checkKeyName } from '../masterkey/masterkey.js';
import { zeroize } from '../secrets.js';
import type { KeyshareHeader } from '../shares/envelope.js';
import { precheckBundle, prepareSigning } from './bundles.js';
import { bringShare, checkAgainstRecord, type ShareCheck } from './bring-share.js';
import type { ShareSource } from './media.js';
import {
  checkEnoughShares,
  checkNextSourceAgainstRecord,
  loadCeremony,
  verifyShareAgainstRecord,
} from './operations.js';
import type { CeremonySummary } from './record.js';
import {
  checkRecordAgainstPaperHead,
  paperKeyOf,
  parsePaperReport,
  recoverFromPaper,
  recoverFromRecord,
  type PaperReport,
  type RecoveryResult,
} from './recovery.js';
import { holderOfIssued, type LaterFacts } from './later-papers.js';
import type { SerialQueue } from './serial-queue.js';
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
import { picked, withSecretBytes } from './session-ports.js';
import { readTranscript } from './transcript.js';
import {
  CERTIFICATE_FILTERS,
  confirmLoadedUnit,
  loadRehearsalUnitsStep,
  useRehearsalUnitsStep,
  type RehearsalUnitsStep,
  loadTransport,
  saveSignedBundle,
  signBundleStep,
  unitsReady,
  type StepUnit,
} from './bundle-steps.js';

// Recovery in the desktop app (issue 11, ceremony 1): the steps of `mk
// recover --record`, one person at a time. Every step is the CLI's own
// (recovery.ts, bundles.ts, operations.ts): this class only holds what the
// room has given so far, in one typed phase, and the shares' secrets only
// from the custodian's turn to the bundle's build, zeroed then whatever
// happens. A share comes on a file or a card (bring-share.ts, the re-share's
// step too). When the key's record is lost, the paper report stands in for it
// (recoverFromPaper): the units are confirmed on screen, not in a record, and
// the new record is written only once the rebuilt key is the paper's.

const RECORD_FILTERS: FileFilter[] = [{ name: 'Ceremony record', extensions: ['jsonl'] }];

/** The app's cards by the record's mode, its queue (a card poll never interleaves with a share's read) and rehearsal units, and: */
export interface RecoveryPorts extends LaterCeremonyPorts {
  dialogs: FileDialogs;
  /** Where the unsigned bundle is built and signed before it is saved (never a secret there). */
  workDir: string;
  now?: () => Date;
}

/** The key's record as opened, and the paper head it was checked against; or the paper report of a lost one. */
export interface RecoveryRecord {
  /** The key's record; from the paper report, the new record, written only when the bundle is built. */
  path: string;
  from:
    | { kind: 'record'; summary: CeremonySummary }
    /** `set`: K of N, once the shares rebuilt the paper's key. */
    | { kind: 'paper'; paper: PaperReport; set?: { threshold: number; shares: number } };
  paperHead: string | null;
  /** The record says its key lives in a rehearsal (the bundle will be a rehearsal bundle). */
  rehearsal: boolean;
}

function modeOf(record: RecoveryRecord): RosterMode {
  return record.rehearsal ? 'rehearsal' : 'production';
}

export type RecoveryUnit = StepUnit;

/** A share given at its custodian's turn: opened and checked then, held until the bundle is built. */
class HeldShare implements ShareSource {
  /** The opened share. Secret: never log; zeroed by dispose. */
  private share: Buffer | null;
  constructor(
    readonly label: string,
    private readonly h: KeyshareHeader,
    share: Buffer,
    /** Who the record says holds it (from the paper report: the share's header). */
    readonly custodian: string,
  ) {
    this.share = share;
  }
  get shareIndex(): number {
    return this.h.shareIndex;
  }
  get knownHeader(): KeyshareHeader {
    return this.h;
  }
  async header(): Promise<KeyshareHeader> {
    return this.h;
  }
  /** A copy: whoever opens a share zeroes it. */
  async open(): Promise<Buffer> {
    if (this.share === null) throw new Error('HeldShare opened after it was zeroed');
    return Buffer.from(this.share);
  }
  dispose(): void {
    zeroize(this.share ?? undefined);
    this.share = null;
  }
}

type RecoveryPhase =
  | { phase: 'idle' }
  | { phase: 'units'; record: RecoveryRecord; units: RecoveryUnit[] }
  | {
      phase: 'admins';
      record: RecoveryRecord;
      transports: TransportKey[];
      admins: Array<{ certificate: AdminCertificateInfo; fileName: string }>;
    }
  | { phase: 'shares'; record: RecoveryRecord; transports: TransportKey[]; claim: ClaimSpec; held: HeldShare[] }
  | {
      phase: 'signing';
      record: RecoveryRecord;
      claim: ClaimSpec;
      bundlePath: string;
      result: RecoveryResult;
      summary: BundleSummary;
      signedBy: string[];
    }
  | {
      phase: 'done';
      record: RecoveryRecord;
      result: RecoveryResult;
      summary: BundleSummary;
      signedBy: string[];
      saved: { path: string; fileSha256: string };
    };

export type RecoveryStep = RecoveryPhase['phase'];

/** What the room sees of the recovery: domain data, mapped to the IPC view in src/main. */
export interface RecoveryState {
  step: RecoveryStep;
  record: null | {
    fileName: string;
    /** From the key's record, or from the paper report of a lost record (a new record). */
    from: 'record' | 'paper';
    keyName: string;
    kcv: string;
    /** K of N; from the paper report, unknown (null) until the first share is given. */
    threshold: number | null;
    shares: number | null;
    paperHead: string | null;
    rehearsal: boolean;
  };
  units: Array<{ unitId: string; fileName: string; fingerprint: string; confirmed: boolean }>;
  unitsMissing: string[];
  admins: Array<{ name: string; thumbprint: string; fileName: string }>;
  thresholds: null | { signatureThreshold: number; revocationThreshold: number };
  sharesIn: Array<{ shareIndex: number; custodian: string }>;
  bundle: null | {
    bundleId: string;
    sequence: number;
    targets: string[];
    payloadHash: string;
    summary: BundleSummary;
    signedBy: string[];
    required: number;
    saved: { path: string; fileSha256: string } | null;
  };
  /** The rehearsal units in use (issue 11), and what they answered to the bundle; null otherwise. */
  rehearsalUnits: RehearsalUnitsSnapshot | null;
}

export class RecoverySession {
  private state: RecoveryPhase = { phase: 'idle' };
  /** The new rehearsal instance the key is recovered onto, once "Use the rehearsal units"; its folder stays in main. */
  private rehearsalUnits: RehearsalUnitsAt | null = null;
  private readonly queue: SerialQueue;
  private readonly now: () => Date;

  constructor(private readonly ports: RecoveryPorts) {
    this.queue = ports.queue;
    this.now = ports.now ?? (() => new Date());
  }

  /** The mode of the record opened (its cards' mode); production before one is. */
  get cardMode(): RosterMode {
    return this.state.phase === 'idle' ? 'production' : modeOf(this.state.record);
  }

  /**
   * The key's record a card operation in this wizard is recorded in
   * (card-desk.ts noteInWizardRecord): the record opened; from the paper
   * report, the new record once written (when the bundle is built), null before.
   */
  get cardRecordPath(): string | null {
    const st = this.state;
    if (st.phase === 'idle') return null;
    return st.record.from.kind === 'record' || st.phase === 'signing' || st.phase === 'done' ? st.record.path : null;
  }

  snapshot(): RecoveryState {
    return { ...snapshotOf(this.state), rehearsalUnits: rehearsalUnitsSnapshot(this.rehearsalUnits) };
  }

  /**
   * Opens the key's record (dialog). With the paper report's head hash typed
   * in, a record that does not hold it is refused before anything else
   * (recovery.ts, the check of `mk recover --head`).
   */
  openRecord(paperHead: string | null): Promise<RecoveryState> {
    return this.queue.run(async () => {
      this.expectStart();
      const path = picked(
        await this.ports.dialogs.openFile({ title: 'Open the key\u2019s record', filters: RECORD_FILTERS }),
      );
      if (paperHead !== null) checkRecordAgainstPaperHead(path, paperHead);
      const { summary } = loadCeremony(path);
      const rehearsal = recordModeOf(readTranscript(path)) === 'rehearsal';
      this.reset();
      this.state = {
        phase: 'units',
        record: { path, from: { kind: 'record', summary }, paperHead, rehearsal },
        units: [],
      };
      return this.snapshot();
    });
  }

  /**
   * The key's record is lost (`mk recover --new-record`): the values of its
   * signed paper report, typed in, stand in for it, and the operator chooses
   * where the new record goes (save dialog; never over a file). Nothing is
   * written until the key rebuilt from the shares is the paper's.
   */
  startFromPaper(typed: PaperReport): Promise<RecoveryState> {
    return this.queue.run(async () => {
      this.expectStart();
      const paper = parsePaperReport({ ...typed, keyName: typed.keyName.trim() });
      checkKeyName(paper.keyName);
      const path = picked(
        await this.ports.dialogs.saveFile({
          title: 'Save the key\u2019s new record',
          defaultName: `${paper.keyName.replace(/[^A-Za-z0-9._-]+/g, '-')}-recovered.jsonl`,
          filters: RECORD_FILTERS,
        }),
      );
      assertOutputFree(path);
      assertFolderWritable(path);
      this.reset();
      this.state = {
        phase: 'units',
        record: { path, from: { kind: 'paper', paper }, paperHead: paper.headHash, rehearsal: false },
        units: [],
      };
      return this.snapshot();
    });
  }

  /**
   * From the paper report: the operator compared the unit's fingerprint with
   * its display. There is no record to write it to yet: the new record
   * begins with it (recoverFromPaper, the check of `--fingerprint`).
   */
  confirmUnitOnScreen(unitId: string): Promise<RecoveryState> {
    return this.queue.run(async () => {
      const st = this.expect('units', 'confirm a unit');
      if (st.record.from.kind !== 'paper')
        throw new CeremonyError(
          'WrongStep',
          'With the key\u2019s record, a unit\u2019s confirmation is written to it.',
        );
      const unit = st.units.find((u) => u.transport.file.unitId === unitId);
      if (!unit) throw new CeremonyError('InvalidArgument', `There is no unit ${unitId} loaded.`);
      unit.confirmed = true;
      return this.snapshot();
    });
  }

  /** Loads a unit's transport file (dialog); it waits for the operator's confirmation against the display. */
  addTransport(): Promise<RecoveryState> {
    return this.queue.run(async () => {
      await loadTransport(this.ports.dialogs, this.expect('units', 'load a unit').units);
      return this.snapshot();
    });
  }

  /**
   * "Use the rehearsal units" (issue 11), for a rehearsal record only: a new
   * emulator instance in rehearsal mode in the work folder, cleared units
   * for the recovery; each unit is confirmed as a loaded file is.
   */
  useRehearsalUnits(): Promise<RecoveryState> {
    return this.queue.run(async () => {
      const st = this.expect('units', 'use the rehearsal units');
      const ceremonyId = st.record.from.kind === 'record' ? st.record.from.summary.ceremonyId : 'recovery';
      this.rehearsalUnits = await useRehearsalUnitsStep({
        ...this.rehearsalStep(st.record),
        units: st.units,
        recordPath: st.record.path,
        create: { ceremonyId },
      });
      return this.snapshot();
    });
  }

  /** "Load into the rehearsal units" (issue 11): the saved bundle offered to the rehearsal units, each unit's answer kept. */
  loadIntoRehearsalUnits(): Promise<RecoveryState> {
    return this.queue.run(async () => {
      const st = this.expect('done', 'load the bundle into the rehearsal units');
      const { units } = await loadRehearsalUnitsStep({
        ...this.rehearsalStep(st.record),
        units: this.rehearsalUnits,
        saved: st.saved,
      });
      this.rehearsalUnits = units;
      return this.snapshot();
    });
  }

  /** The rehearsal units of the record's mode: refused for a production record. */
  private rehearsalStep(record: RecoveryRecord): RehearsalUnitsStep {
    return { mode: modeOf(record), rehearsal: this.ports.rehearsal, workDir: this.ports.workDir };
  }

  /** The operator compared the fingerprint with the unit's display: recorded as `units confirm` records it. */
  confirmUnit(unitId: string): Promise<RecoveryState> {
    return this.queue.run(async () => {
      const st = this.expect('units', 'confirm a unit');
      confirmLoadedUnit(st.record.path, st.units, unitId, this.now());
      return this.snapshot();
    });
  }

  /** Every unit of the instance loaded and confirmed: on to the admins. */
  unitsDone(): Promise<RecoveryState> {
    return this.queue.run(async () => {
      const st = this.expect('units', 'go on to the admins');
      this.state = { phase: 'admins', record: st.record, transports: unitsReady(st.units), admins: [] };
      return this.snapshot();
    });
  }

  /** An admin of the new units: the certificate of an identity file, or a certificate file (dialog). */
  addAdminCertificate(): Promise<RecoveryState> {
    return this.queue.run(async () => {
      const st = this.expect('admins', 'add an admin');
      const path = picked(
        await this.ports.dialogs.openFile({
          title: 'Open an admin\u2019s certificate or identity file',
          filters: CERTIFICATE_FILTERS,
        }),
      );
      const certificate = identityCertificate(
        readFileOrFail(path, 'The admin certificate').toString('utf8'),
        `The file ${basename(path)}`,
      );
      const same = st.admins.find((a) => a.certificate.thumbprint === certificate.thumbprint);
      if (same)
        throw new CeremonyError(
          'InvalidArgument',
          `${basename(path)} is the identity of ${certificate.name}, already given (${same.fileName}).`,
        );
      st.admins.push({ certificate, fileName: basename(path) });
      return this.snapshot();
    });
  }

  removeAdmin(index: number): Promise<RecoveryState> {
    return this.queue.run(async () => {
      const st = this.expect('admins', 'remove an admin');
      if (!st.admins[index]) throw new CeremonyError('InvalidArgument', `There is no admin ${index + 1}.`);
      st.admins.splice(index, 1);
      return this.snapshot();
    });
  }

  /**
   * The claim's thresholds. Everything about the bundle that needs no key is
   * checked now, before any share is read (bundles.ts precheckBundle: a
   * lock-out, the units' mode, limits and state, their confirmations).
   */
  setThresholds(t: { signatureThreshold: number; revocationThreshold: number }): Promise<RecoveryState> {
    return this.queue.run(async () => {
      const st = this.expect('admins', 'set the thresholds');
      const claim: ClaimSpec = { admins: st.admins.map((a) => a.certificate), ...t };
      // From the paper report there is no record yet: a lock-out is refused now (the claim's own check), the
      // rest by recoverFromPaper before it writes anything.
      if (st.record.from.kind === 'paper') checkThresholds(claim, claim.admins.length, 'The claim');
      else
        precheckBundle(
          {
            recordPath: st.record.path,
            transports: st.transports,
            request: { operation: 'recover', sources: [], claim },
            outPath: this.workBundlePath(),
            rehearsal: st.record.rehearsal,
          },
          readTranscript(st.record.path),
          st.record.from.summary,
        );
      this.state = { phase: 'shares', record: st.record, transports: st.transports, claim, held: [] };
      return this.snapshot();
    });
  }

  /**
   * A custodian gives their share: a file (dialog) and its passphrase, or a
   * card (reader) and its PIN, the share read from the slot the record names
   * (bring-share.ts). Checked against the record (of the current set, not
   * retired, not given twice, one per person) or, from the paper report,
   * against the paper's key, and opened now, so a wrong secret is told to its
   * owner (a wrong PIN with the tries left); with the record, its commitment
   * is checked too.
   */
  presentShare(secret: SecretInput): Promise<RecoveryState> {
    return this.queue.run(async () => {
      const st = this.expect('shares', 'give a share');
      // Secret: the passphrase's or PIN's bytes, zeroed after the turn.
      await withSecretBytes(secret, async (bytes) => {
        const from = st.record.from;
        const against =
          from.kind === 'record'
            ? checkAgainstRecord(
                from.summary,
                st.held.map((h) => h.knownHeader),
              )
            : checkAgainstPaper(from.paper, st.held);
        const b = await bringShare(
          { dialogs: this.ports.dialogs, cards: this.ports.cardsFor(modeOf(st.record)) },
          secret,
          bytes,
          against,
        );
        const held = new HeldShare(b.label, b.header, b.share, b.custodian);
        try {
          if (from.kind === 'record') await verifyShareAgainstRecord(st.record.path, held);
        } catch (e) {
          held.dispose();
          throw e;
        }
        st.held.push(held);
      });
      return this.snapshot();
    });
  }

  /**
   * With K shares in: the recovery ceremony of `mk recover --record` on the
   * record (opened, key rebuilt and checked, bundle built and recorded, key
   * wiped, closed). The shares are zeroed whatever happens; a failure leaves
   * the shares step empty, to start it again.
   */
  buildBundle(): Promise<RecoveryState> {
    return this.queue.run(async () => {
      const st = this.expect('shares', 'build the bundle');
      const from = st.record.from;
      const first = st.held[0]?.knownHeader;
      // Fewer than K: refused with the shares kept, so that the next custodian can still give theirs.
      checkEnoughShares(from.kind === 'record' ? from.summary : await paperKeyOf(from.paper, st.held), st.held.length);
      const bundlePath = this.workBundlePath();
      const common = {
        sources: st.held,
        transports: st.transports,
        claim: st.claim,
        outPath: bundlePath,
        rehearsal: st.record.rehearsal,
        now: this.now,
      };
      let result: RecoveryResult;
      try {
        result =
          from.kind === 'record'
            ? await recoverFromRecord({
                ...common,
                recordPath: st.record.path,
                ...(st.record.paperHead !== null ? { paperHead: st.record.paperHead } : {}),
              })
            : await recoverFromPaper({
                ...common,
                newRecordPath: st.record.path,
                paper: from.paper,
                // Each unit was confirmed against its display on screen (unitsDone required it).
                displayed: new Map(st.transports.map((t) => [t.file.unitId, t.file.fingerprint])),
              });
      } finally {
        for (const h of st.held) h.dispose();
        st.held = [];
      }
      // From the paper report, the new record now holds the key: K of N as its shares said.
      const record: RecoveryRecord =
        from.kind === 'paper' && first !== undefined
          ? { ...st.record, from: { ...from, set: { threshold: first.threshold, shares: first.shares } } }
          : st.record;
      const { summary } = prepareSigning(bundlePath, this.approval(record));
      this.state = { phase: 'signing', record, claim: st.claim, bundlePath, result, summary, signedBy: [] };
      return this.snapshot();
    });
  }

  /** An admin of the claim signs with their identity file (dialog) and its passphrase, as `bundle sign --record` does. */
  sign(secret: SecretInput): Promise<RecoveryState> {
    return this.queue.run(async () => {
      const st = this.expect('signing', 'sign the bundle');
      const signer = await signBundleStep(
        {
          bundlePath: st.bundlePath,
          recordPath: st.record.path,
          signers: { admins: st.claim.admins, role: 'an admin of this bundle\u2019s claim' },
          dialogs: this.ports.dialogs,
          cards: this.ports.cardsFor(modeOf(st.record)),
          now: this.now(),
        },
        secret,
      );
      st.signedBy.push(signer.name);
      return this.snapshot();
    });
  }

  /** Saves the signed bundle into a folder (dialog), never over a file; the operator ingests it on the units. */
  saveBundle(): Promise<RecoveryState> {
    return this.queue.run(async () => {
      const st = this.expect('signing', 'save the bundle');
      const b = st.result.created.bundle.payload;
      const saved = await saveSignedBundle({
        dialogs: this.ports.dialogs,
        bundlePath: st.bundlePath,
        operation: 'recover',
        sequence: b.sequence,
        bundleId: b.bundleId,
        signatures: st.signedBy.length,
        needed: st.result.signatures.needed,
        rehearsal: st.record.rehearsal,
      });
      this.state = {
        phase: 'done',
        record: st.record,
        result: st.result,
        summary: st.summary,
        signedBy: st.signedBy,
        saved,
      };
      return this.snapshot();
    });
  }

  /**
   * What the recovery's script names (later-papers.ts), once the units are
   * confirmed and the claim's admins set: the key's record, its current
   * custodians (any K bring their shares), the admins, the units. From the
   * paper report neither the custodians nor K are known before the shares
   * come in (the record that names them is lost): the script names none and
   * says they are named as their shares come in (setup-file.ts holdersComeIn).
   */
  papersFacts(): LaterFacts {
    const st = this.state;
    if (st.phase !== 'shares')
      throw new CeremonyError(
        'WrongStep',
        'The script is printed before the shares are brought, once the units are confirmed and the admins set.',
      );
    const from = st.record.from;
    const key =
      from.kind === 'record'
        ? {
            keyName: from.summary.keyName,
            threshold: from.summary.threshold,
            holders: [...from.summary.issued.values()].sort((a, b) => a.shareIndex - b.shareIndex).map(holderOfIssued),
          }
        : { keyName: from.paper.keyName, holders: [] };
    return {
      kind: 'recovery',
      rehearsal: st.record.rehearsal,
      ...key,
      custodians: [],
      admins: st.claim.admins.map((a) => ({ name: a.name })),
      units: st.transports.map((t) => ({ id: t.file.unitId, transportFingerprint: t.file.fingerprint })),
      thresholds: thresholdsOf(st.claim)!,
    };
  }

  /** The record the report is printed from, once the recovery is done (from the paper report, the new one). */
  reportRecordPath(): string {
    return this.expect('done', 'print the report').record.path;
  }

  /** Back to the start: any share held is zeroed. */
  abandon(): Promise<RecoveryState> {
    return this.queue.run(async () => {
      this.reset();
      return this.snapshot();
    });
  }

  dispose(): void {
    this.reset();
  }

  /** A new recovery starts from the start, after one ended, or over one that has not got past its units. */
  private expectStart(): void {
    if (this.state.phase !== 'idle' && this.state.phase !== 'units' && this.state.phase !== 'done')
      throw new CeremonyError('WrongStep', 'A recovery is under way: finish it or start again first.');
  }

  private reset(): void {
    if (this.state.phase === 'shares') for (const h of this.state.held) h.dispose();
    this.state = { phase: 'idle' };
    this.rehearsalUnits = null;
  }

  private approval(record: RecoveryRecord): { recordEntries: ReturnType<typeof readTranscript>; recordLabel: string } {
    return { recordEntries: readTranscript(record.path), recordLabel: `The record ${basename(record.path)}` };
  }

  private workBundlePath(): string {
    return join(this.ports.workDir, `recovery-bundle-${randomUUID()}.json`);
  }

  private expect<P extends RecoveryStep>(phase: P, what: string): Extract<RecoveryPhase, { phase: P }> {
    if (this.state.phase !== phase)
      throw new CeremonyError('WrongStep', `Cannot ${what} now: the recovery is at its ${this.state.phase} step.`);
    return this.state as Extract<RecoveryPhase, { phase: P }>;
  }
}

/**
 * From the paper report: a share is checked against the key the paper and
 * the shares given before it describe (paperKeyOf: the paper's key name and
 * KCV, one set, no share twice, one per person); a card's share is looked
 * for in that set once it is known.
 */
function checkAgainstPaper(paper: PaperReport, held: readonly HeldShare[]): ShareCheck {
  const first = held[0]?.knownHeader;
  return {
    cardHints: first === undefined ? undefined : { ceremonyIds: [first.ceremonyId], slots: [] },
    check: async (source) =>
      checkNextSourceAgainstRecord(
        await paperKeyOf(paper, [...held, source]),
        held.map((h) => h.knownHeader),
        source,
      ),
    custodianOf: (h) => h.custodian,
  };
}

function snapshotOf(s: RecoveryPhase): RecoveryState {
  const base: RecoveryState = {
    step: s.phase,
    record: null,
    units: [],
    unitsMissing: [],
    admins: [],
    thresholds: null,
    sharesIn: [],
    bundle: null,
    rehearsalUnits: null,
  };
  if (s.phase === 'idle') return base;
  const r = s.record;
  // From the paper report, K of N are the first share's (its header), once one is given.
  const first = s.phase === 'shares' ? s.held[0]?.knownHeader : undefined;
  const known =
    r.from.kind === 'record'
      ? {
          keyName: r.from.summary.keyName,
          kcv: r.from.summary.kcv,
          threshold: r.from.summary.threshold,
          shares: r.from.summary.shares,
        }
      : {
          keyName: r.from.paper.keyName,
          kcv: r.from.paper.kcv,
          threshold: r.from.set?.threshold ?? first?.threshold ?? null,
          shares: r.from.set?.shares ?? first?.shares ?? null,
        };
  base.record = {
    fileName: basename(r.path),
    from: r.from.kind,
    ...known,
    paperHead: r.paperHead,
    rehearsal: r.rehearsal,
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
    case 'admins':
      base.admins = s.admins.map((a) => ({
        name: a.certificate.name,
        thumbprint: a.certificate.thumbprint,
        fileName: a.fileName,
      }));
      return base;
    case 'shares':
      base.admins = claimAdmins(s.claim);
      base.thresholds = thresholdsOf(s.claim);
      base.sharesIn = s.held.map((h) => ({ shareIndex: h.shareIndex, custodian: h.custodian }));
      return base;
    case 'signing':
    case 'done': {
      const b = s.result.created.bundle;
      base.bundle = {
        bundleId: b.payload.bundleId,
        sequence: b.payload.sequence,
        targets: s.summary.targets,
        payloadHash: b.payloadHash,
        summary: s.summary,
        signedBy: [...s.signedBy],
        required: s.result.signatures.needed,
        saved: s.phase === 'done' ? s.saved : null,
      };
      if (s.phase === 'signing') {
        base.admins = claimAdmins(s.claim);
        base.thresholds = thresholdsOf(s.claim);
      }
      return base;
    }
    default:
      return missingCase(s);
  }
}

function claimAdmins(c: ClaimSpec): RecoveryState['admins'] {
  return c.admins.map((a) => ({ name: a.name, thumbprint: a.thumbprint, fileName: '' }));
}

function thresholdsOf(c: ClaimSpec): RecoveryState['thresholds'] {
  return { signatureThreshold: c.signatureThreshold, revocationThreshold: c.revocationThreshold };
}

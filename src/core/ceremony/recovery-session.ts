import { randomUUID } from 'node:crypto';
import { basename, join } from 'node:path';
import type { BundleSummary, ClaimSpec } from '../bundle/bundle.js';
import type { TransportKey } from '../bundle/transport.js';
import { CeremonyError, missingCase } from '../errors.js';
import { readFileOrFail } from '../files.js';
import type { AdminCertificateInfo } from '../identity/certificate.js';
import { identityCertificate } from '../identity/identity.js';
import { zeroize } from '../secrets.js';
import type { KeyshareHeader } from '../shares/envelope.js';
import {
  confirmLoadedUnit,
  loadTransport,
  saveSignedBundle,
  signBundleStep,
  unitsReady,
  type StepUnit,
} from './bundle-steps.js';
import { precheckBundle, prepareSigning } from './bundles.js';
import { FileShareSource, type ShareSource } from './media.js';
import { checkNextSourceAgainstRecord, loadCeremony, verifyShareAgainstRecord } from './operations.js';
import { ENTRY, type CeremonySummary } from './record.js';
import { checkRecordAgainstPaperHead, recoverFromRecord, type RecoveryResult } from './recovery.js';
import { SerialQueue } from './serial-queue.js';
import { missingUnits, type FileDialogs, type FileFilter } from './session.js';
import { readTranscript } from './transcript.js';

// Recovery in the desktop app (issue 11, ceremony 1): the steps of `mk
// recover --record`, one person at a time. Every step is the CLI's own
// (recovery.ts, bundles.ts, operations.ts): this class only holds what the
// room has given so far, in one typed phase, and the shares' secrets only
// from the custodian's turn to the bundle's build, zeroed then whatever
// happens. Card shares and card identities are not here yet (files only).

const RECORD_FILTERS: FileFilter[] = [{ name: 'Ceremony record', extensions: ['jsonl'] }];
const CERTIFICATE_FILTERS: FileFilter[] = [{ name: 'Admin certificate or identity', extensions: ['pem'] }];
const SHARE_FILTERS: FileFilter[] = [{ name: 'Keyshare', extensions: ['keyshare'] }];

export interface RecoveryPorts {
  dialogs: FileDialogs;
  /** Where the unsigned bundle is built and signed before it is saved (never a secret there). */
  workDir: string;
  now?: () => Date;
}

/** The key's record as opened, and the paper head it was checked against. */
export interface RecoveryRecord {
  path: string;
  summary: CeremonySummary;
  paperHead: string | null;
  /** The record says its key lives in a rehearsal (the bundle will be a rehearsal bundle). */
  rehearsal: boolean;
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
  ) {
    this.share = share;
  }
  get shareIndex(): number {
    return this.h.shareIndex;
  }
  get custodian(): string {
    return this.h.custodian;
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
    keyName: string;
    kcv: string;
    threshold: number;
    shares: number;
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
}

export class RecoverySession {
  private state: RecoveryPhase = { phase: 'idle' };
  private readonly queue = new SerialQueue();
  private readonly now: () => Date;

  constructor(private readonly ports: RecoveryPorts) {
    this.now = ports.now ?? (() => new Date());
  }

  snapshot(): RecoveryState {
    return snapshotOf(this.state);
  }

  /**
   * Opens the key's record (dialog). With the paper report's head hash typed
   * in, a record that does not hold it is refused before anything else
   * (recovery.ts, the check of `mk recover --head`).
   */
  openRecord(paperHead: string | null): Promise<RecoveryState> {
    return this.queue.run(async () => {
      if (this.state.phase !== 'idle' && this.state.phase !== 'units' && this.state.phase !== 'done')
        throw new CeremonyError('WrongStep', 'A recovery is under way: finish it or start again first.');
      const path = picked(
        await this.ports.dialogs.openFile({ title: 'Open the key\u2019s record', filters: RECORD_FILTERS }),
      );
      if (paperHead !== null) checkRecordAgainstPaperHead(path, paperHead);
      const { summary } = loadCeremony(path);
      const rehearsal = readTranscript(path).some((e) => e.type === ENTRY.opened && e.data['mode'] === 'rehearsal');
      this.reset();
      this.state = {
        phase: 'units',
        record: { path, summary, paperHead: paperHead === null ? null : paperHead, rehearsal },
        units: [],
      };
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
      precheckBundle(
        {
          recordPath: st.record.path,
          transports: st.transports,
          request: { operation: 'recover', sources: [], claim },
          outPath: this.workBundlePath(),
          rehearsal: st.record.rehearsal,
        },
        readTranscript(st.record.path),
        st.record.summary,
      );
      this.state = { phase: 'shares', record: st.record, transports: st.transports, claim, held: [] };
      return this.snapshot();
    });
  }

  /**
   * A custodian gives their share file (dialog) and its passphrase: checked
   * against the record (of the current set, not retired, not given twice, one
   * per person) and opened now, so a wrong passphrase is told to its owner.
   */
  presentShareFile(passphrase: string): Promise<RecoveryState> {
    return this.queue.run(async () => {
      const st = this.expect('shares', 'give a share');
      const path = picked(await this.ports.dialogs.openFile({ title: 'Open your share file', filters: SHARE_FILTERS }));
      // Secret: the passphrase's bytes, zeroed below.
      const pass = Buffer.from(passphrase, 'utf8');
      try {
        const file = new FileShareSource(path, async () => Buffer.from(pass));
        const accepted = await Promise.all(st.held.map((h) => h.header()));
        const header = await checkNextSourceAgainstRecord(st.record.summary, accepted, file);
        const held = new HeldShare(file.label, header, await file.open());
        try {
          await verifyShareAgainstRecord(st.record.path, held);
        } catch (e) {
          held.dispose();
          throw e;
        }
        st.held.push(held);
      } finally {
        zeroize(pass);
      }
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
      const bundlePath = this.workBundlePath();
      let result: RecoveryResult;
      try {
        result = await recoverFromRecord({
          recordPath: st.record.path,
          ...(st.record.paperHead !== null ? { paperHead: st.record.paperHead } : {}),
          sources: st.held,
          transports: st.transports,
          claim: st.claim,
          outPath: bundlePath,
          rehearsal: st.record.rehearsal,
          now: this.now,
        });
      } finally {
        for (const h of st.held) h.dispose();
        st.held = [];
      }
      const { summary } = prepareSigning(bundlePath, this.approval(st.record));
      this.state = { phase: 'signing', record: st.record, claim: st.claim, bundlePath, result, summary, signedBy: [] };
      return this.snapshot();
    });
  }

  /** An admin of the claim signs with their identity file (dialog) and its passphrase, as `bundle sign --record` does. */
  signWithIdentityFile(passphrase: string): Promise<RecoveryState> {
    return this.queue.run(async () => {
      const st = this.expect('signing', 'sign the bundle');
      const signer = await signBundleStep(
        {
          bundlePath: st.bundlePath,
          recordPath: st.record.path,
          signers: { admins: st.claim.admins, role: 'an admin of this bundle\u2019s claim' },
          dialogs: this.ports.dialogs,
          cards: null,
          now: this.now(),
        },
        { medium: 'file', passphrase },
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

  private reset(): void {
    if (this.state.phase === 'shares') for (const h of this.state.held) h.dispose();
    this.state = { phase: 'idle' };
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

function picked(path: string | null, what: 'file' | 'folder' = 'file'): string {
  if (path === null) throw new CeremonyError('Canceled', `No ${what} was chosen.`);
  return path;
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
  };
  if (s.phase === 'idle') return base;
  const r = s.record;
  base.record = {
    fileName: basename(r.path),
    keyName: r.summary.keyName,
    kcv: r.summary.kcv,
    threshold: r.summary.shareSets.at(-1)?.threshold ?? r.summary.threshold,
    shares: r.summary.shareSets.at(-1)?.shares ?? r.summary.shares,
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

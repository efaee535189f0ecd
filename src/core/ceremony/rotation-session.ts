import { createHash, randomUUID } from 'node:crypto';
import { basename, join } from 'node:path';
import type { BundleSummary } from '../bundle/bundle.js';
import { checkAgainstLimits, checkTransportSet, readTransportFile, type TransportKey } from '../bundle/transport.js';
import { cardRs256Signer, readAdminCertificateFromCard } from '../cards/roles.js';
import { CeremonyError, missingCase } from '../errors.js';
import { readFileOrFail, safeFileStem, writeFileExclusive } from '../files.js';
import type { AdminCertificateInfo, Rs256Signer } from '../identity/certificate.js';
import { fileKeySigner, unlockFileIdentity } from '../identity/identity.js';
import { unitConfirmedData } from './bundle-record.js';
import { BUNDLE_FILE_MODE, createBundle, prepareSigning, signPreparedBundle, type CreatedBundle } from './bundles.js';
import type { CardDesk } from './card-desk.js';
import { readUnitsStatus, refuseEndedKey, reportUnits, type UnitsReportResult } from './lifecycle.js';
import { cardShareHintsOf, generateMasterKeyCeremony, loadCeremony, type GenerateResult } from './operations.js';
import { ENTRY, type CeremonySummary } from './record.js';
import type { SerialQueue } from './serial-queue.js';
import { checkJoinsUnits, missingUnits, type FileDialogs, type FileFilter, type SecretInput } from './session.js';
import {
  bringShare,
  broughtSource,
  forgetBrought,
  NewShareSet,
  withSecretBytes,
  type BroughtShare,
  type NewCustodianPlan,
  type NewCustodianView,
} from './share-turns.js';
import { appendTranscript, readTranscript } from './transcript.js';

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
const TRANSPORT_FILTERS: FileFilter[] = [{ name: 'Unit transport key', extensions: ['json'] }];
const IDENTITY_FILTERS: FileFilter[] = [{ name: 'Admin identity', extensions: ['pem'] }];
const STATUS_FILTERS: FileFilter[] = [{ name: 'Units status', extensions: ['json'] }];

export interface RotationPorts {
  dialogs: FileDialogs;
  /** The production cards (new shares, card identities). */
  cards: CardDesk;
  queue: SerialQueue;
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
  /** Its record says it lives in a rehearsal (the bundle is then a rehearsal bundle). */
  readonly rehearsal: boolean;
}

interface RotationUnit {
  readonly transport: TransportKey;
  readonly fileName: string;
  /** The operator compared its fingerprint with the unit's display (recorded in the new key's record once it exists). */
  confirmed: boolean;
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
  /** The units' signature threshold (their current admins sign a rotate bundle). */
  readonly needed: number;
  readonly signedBy: string[];
}

type RotationPhase =
  | { readonly phase: 'idle' }
  | { readonly phase: 'units'; readonly current: CurrentKey; readonly units: RotationUnit[] }
  | { readonly phase: 'new-key'; readonly current: CurrentKey; readonly transports: TransportKey[] }
  | {
      readonly phase: 'custodians';
      readonly current: CurrentKey;
      readonly transports: TransportKey[];
      readonly keyName: string;
      readonly operator: string;
      readonly set: NewShareSet;
    }
  | {
      readonly phase: 'shares';
      readonly current: CurrentKey;
      readonly transports: TransportKey[];
      readonly operator: string;
      readonly newKey: NewKey;
      readonly brought: BroughtShare[];
    }
  | {
      readonly phase: 'signing';
      readonly current: CurrentKey;
      readonly transports: TransportKey[];
      readonly operator: string;
      readonly newKey: NewKey;
      readonly signing: Signing;
    }
  | {
      readonly phase: 'saved';
      readonly current: CurrentKey;
      readonly operator: string;
      readonly newKey: NewKey;
      readonly signing: Signing;
      readonly saved: { readonly path: string; readonly fileSha256: string };
    }
  | {
      readonly phase: 'done';
      readonly current: CurrentKey;
      readonly newKey: NewKey;
      readonly signing: Signing;
      readonly saved: { readonly path: string; readonly fileSha256: string };
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
  private readonly now: () => Date;

  constructor(private readonly ports: RotationPorts) {
    this.now = ports.now ?? (() => new Date());
  }

  snapshot(): RotationState {
    return snapshotOf(this.state);
  }

  /** Opens the record of the key to rotate away (dialog); any rotation in progress is dropped first. */
  openRecord(): Promise<RotationState> {
    return this.run(async () => {
      const path = picked(
        await this.ports.dialogs.openFile({ title: 'Open the current key\u2019s record', filters: RECORD_FILTERS }),
      );
      const { summary } = loadCeremony(path);
      refuseEndedKey(summary, `The record ${basename(path)}`);
      const rehearsal = readTranscript(path).some((e) => e.type === ENTRY.opened && e.data['mode'] === 'rehearsal');
      this.forget();
      this.state = { phase: 'units', current: { path, summary, rehearsal }, units: [] };
      return this.snapshot();
    });
  }

  /** Loads a unit's transport file (dialog); it waits for the operator's confirmation against the display. */
  addTransport(): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('units', 'load a unit');
      const path = picked(
        await this.ports.dialogs.openFile({
          title: 'Open a unit\u2019s transport key file',
          filters: TRANSPORT_FILTERS,
        }),
      );
      const transport = readTransportFile(path);
      checkJoinsUnits(st.units, transport, basename(path));
      st.units.push({ transport, fileName: basename(path), confirmed: false });
      return this.snapshot();
    });
  }

  /** The operator compared the fingerprint with the unit's display. */
  confirmUnit(unitId: string): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('units', 'confirm a unit');
      const unit = st.units.find((u) => u.transport.file.unitId === unitId);
      if (!unit) throw new CeremonyError('InvalidArgument', `There is no unit ${unitId} loaded.`);
      unit.confirmed = true;
      return this.snapshot();
    });
  }

  /** Every unit of the instance loaded and confirmed: on to the new key. */
  unitsDone(): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('units', 'go on to the new key');
      if (st.units.length === 0) throw new CeremonyError('WrongStep', 'Load the units\u2019 transport files first.');
      const missing = missingUnits(st.units);
      if (missing.length > 0)
        throw new CeremonyError(
          'WrongStep',
          `The bundle goes to every unit of the instance: load the transport files of ${missing.join(', ')} too.`,
        );
      const unconfirmed = st.units.find((u) => !u.confirmed);
      if (unconfirmed)
        throw new CeremonyError(
          'TransportUnconfirmed',
          `Unit ${unconfirmed.transport.file.unitId} has not been confirmed against its display.`,
        );
      this.state = { phase: 'new-key', current: st.current, transports: st.units.map((u) => u.transport) };
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
      checkTransportSet(st.transports);
      checkAgainstLimits(st.transports[0]!.file.limits, { keyName });
      if (keyName === st.current.summary.keyName)
        throw new CeremonyError(
          'InvalidArgument',
          `The new key needs a name of its own: "${keyName}" is the key it replaces.`,
        );
      const set = NewShareSet.plan(plan.threshold, plan.custodians);
      if (st.phase === 'custodians') st.set.forget();
      this.state = { phase: 'custodians', current: st.current, transports: st.transports, keyName, operator, set };
      return this.snapshot();
    });
  }

  /** Back from the custodians to the new key's plan: every secret held so far is zeroed. */
  replan(): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('custodians', 'change the plan');
      st.set.forget();
      this.state = { phase: 'new-key', current: st.current, transports: st.transports };
      return this.snapshot();
    });
  }

  /** New custodian `shareIndex` (from 1): their share's file (save dialog, new passphrase) or card (reader, PIN). */
  setNewShare(shareIndex: number, secret: SecretInput): Promise<RotationState> {
    return this.run(() =>
      withSecretBytes(secret, async (bytes) => {
        const st = this.expect('custodians', 'choose a new share\u2019s medium');
        await st.set.choose(this.ports.dialogs, shareIndex, secret, bytes, safeFileStem(st.keyName));
        return this.snapshot();
      }),
    );
  }

  /**
   * `mk generate`: the new key's record (save dialog, never over a file),
   * the key generated, split K of N, each share written, read back and
   * recorded (generateMasterKeyCeremony); then the units' confirmations
   * recorded in it, as `units confirm` does. The held secrets are zeroed
   * whatever happens; after a failure the custodians choose again.
   */
  generate(): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('custodians', 'generate the new key');
      try {
        const custodians = await st.set.custodianShares(this.ports);
        const path = picked(
          await this.ports.dialogs.saveFile({
            title: `Save the record of the new key "${st.keyName}"`,
            defaultName: `${safeFileStem(st.keyName)}.jsonl`,
            filters: RECORD_FILTERS,
          }),
        );
        const result = await generateMasterKeyCeremony({
          keyName: st.keyName,
          threshold: st.set.threshold,
          custodians,
          recordPath: path,
          actor: st.operator,
          now: this.now,
        });
        for (const t of st.transports)
          appendTranscript(
            path,
            { type: ENTRY.unitConfirmed, actor: st.operator, data: unitConfirmedData(t) },
            this.now(),
          );
        this.state = {
          phase: 'shares',
          current: st.current,
          transports: st.transports,
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
          this.ports,
          { summary, cardHints: cardShareHintsOf(summary) },
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
          transports: st.transports,
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
      const needed = Math.max(...st.transports.map((t) => t.file.unit.signatureThreshold));
      this.state = {
        phase: 'signing',
        current: st.current,
        transports: st.transports,
        operator: st.operator,
        newKey: st.newKey,
        signing: { bundlePath, created, summary, needed, signedBy: [] },
      };
      return this.snapshot();
    });
  }

  /** A current admin of the units signs (identity file: dialog and passphrase; card: reader and PIN), as `bundle sign --record` does. */
  sign(secret: SecretInput): Promise<RotationState> {
    return this.run(() =>
      withSecretBytes(secret, async (bytes) => {
        const st = this.expect('signing', 'sign the bundle');
        const turn = prepareSigning(st.signing.bundlePath, this.approval(st.newKey));
        const admins = unitAdmins(st.transports);
        const asAdmin = (signer: AdminCertificateInfo, what: string): void => {
          if (!admins.some((a) => a.thumbprint === signer.thumbprint))
            throw new CeremonyError(
              'IdentityInvalid',
              `${what} is the identity of ${signer.name}, who is not an admin of the units (their admins: ${admins.map((a) => a.name).join(', ')}).`,
            );
        };
        const signWith = (signer: AdminCertificateInfo, key: Rs256Signer) =>
          signPreparedBundle(st.signing.bundlePath, turn, signer, key, { path: st.newKey.path, now: this.now() });
        let signer: AdminCertificateInfo;
        if (secret.medium === 'file') {
          const path = picked(
            await this.ports.dialogs.openFile({ title: 'Open your identity file', filters: IDENTITY_FILTERS }),
          );
          const what = `The identity file ${basename(path)}`;
          const unlocked = unlockFileIdentity(readFileOrFail(path, 'The identity file').toString('utf8'), bytes, what);
          signer = unlocked.certificate;
          asAdmin(signer, what);
          await signWith(signer, fileKeySigner(unlocked.privateKey));
        } else {
          signer = await this.ports.cards.onCard(secret.reader, async (s) => {
            const cert = await readAdminCertificateFromCard(s);
            asAdmin(cert, `The card in reader "${secret.reader}"`);
            await signWith(cert, cardRs256Signer(s, bytes));
            return cert;
          });
        }
        if (!st.signing.signedBy.includes(signer.name)) st.signing.signedBy.push(signer.name);
        return this.snapshot();
      }),
    );
  }

  /** Saves the signed bundle into a folder (dialog), never over a file; the operator ingests it on the units. */
  saveBundle(): Promise<RotationState> {
    return this.run(async () => {
      const st = this.expect('signing', 'save the bundle');
      const { signing } = st;
      if (signing.signedBy.length < signing.needed)
        throw new CeremonyError(
          'TooFewSignatures',
          `The bundle has ${signing.signedBy.length} of the ${signing.needed} signatures it needs; the units would refuse it.`,
          { signatures: signing.signedBy.length, required: signing.needed },
        );
      const folder = picked(
        await this.ports.dialogs.chooseFolder({ title: 'Choose the folder (removable media) for the rotate bundle' }),
        'folder',
      );
      const text = readFileOrFail(signing.bundlePath, 'The bundle');
      const b = signing.created.bundle.payload;
      const name = `bundle-rotate-${b.sequence}-${b.bundleId.slice(0, 8)}.json`;
      const path = join(folder, st.current.rehearsal ? `REHEARSAL-${name}` : name);
      writeFileExclusive(path, text, BUNDLE_FILE_MODE);
      const fileSha256 = createHash('sha256').update(text).digest('hex');
      this.state = {
        phase: 'saved',
        current: st.current,
        operator: st.operator,
        newKey: st.newKey,
        signing,
        saved: { path, fileSha256 },
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
      const path = picked(
        await this.ports.dialogs.openFile({ title: 'Open the units\u2019 status file', filters: STATUS_FILTERS }),
      );
      const report = reportUnits({
        recordPath: st.current.path,
        statuses: [readUnitsStatus(path)],
        newRecordPath: st.newKey.path,
        actor: st.operator,
        now: this.now,
      });
      this.state = {
        phase: 'done',
        current: { ...st.current, summary: report.summary },
        newKey: st.newKey,
        signing: st.signing,
        saved: st.saved,
        report,
        statusFile: basename(path),
      };
      return this.snapshot();
    });
  }

  /** Drops the rotation in progress: every held share and secret is zeroed. What was written stays written. */
  cancel(): Promise<RotationState> {
    return this.run(async () => {
      this.forget();
      this.state = { phase: 'idle' };
      return this.snapshot();
    });
  }

  /** For shutdown: zeroes every held share and secret. */
  dispose(): void {
    this.forget();
    this.state = { phase: 'idle' };
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

/** The units' current admins, from their transport files (one entry per identity). */
function unitAdmins(transports: readonly TransportKey[]): Array<{ name: string; thumbprint: string }> {
  const seen = new Map<string, { name: string; thumbprint: string }>();
  for (const t of transports) for (const a of t.file.unit.admins) seen.set(a.thumbprint, { ...a });
  return [...seen.values()];
}

function picked(path: string | null, what: 'file' | 'folder' = 'file'): string {
  if (path === null) throw new CeremonyError('Canceled', `No ${what} was chosen.`);
  return path;
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
    required: g.needed,
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
      return { ...empty, current, admins: unitAdmins(s.transports) };
    case 'custodians':
      return {
        ...empty,
        current,
        admins: unitAdmins(s.transports),
        plan: { keyName: s.keyName, operator: s.operator, threshold: s.set.threshold, custodians: s.set.view() },
      };
    case 'shares':
      return {
        ...empty,
        current,
        admins: unitAdmins(s.transports),
        newKey: newKey(s.newKey),
        sharesIn: s.brought.map((b) => ({ shareIndex: b.header.shareIndex, custodian: b.custodian })),
      };
    case 'signing':
      return {
        ...empty,
        current,
        admins: unitAdmins(s.transports),
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

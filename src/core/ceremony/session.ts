import { createHash, randomUUID, verify as nodeVerify } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type {
  AdminView,
  BundleView,
  CardsView,
  CeremonyView,
  Medium,
  RecordView,
  SecretInput,
  ShareCheckView,
  StepId,
  UnitView,
} from '../../shared/ipc.js';
import {
  addBundleSignature,
  buildBundle,
  claimedAdmins,
  parseBundle,
  serializeBundle,
  summarizeBundle,
  type ParsedBundle,
} from '../bundle/bundle.js';
import { checkAgainstLimits, readTransportFile, type TransportKey } from '../bundle/transport.js';
import { BUNDLE_FILE_MODE } from './bundles.js';
import { bundleCreatedData, bundleSignedData, checkTransportsConfirmed, unitConfirmedData } from './bundle-record.js';
import { padPin } from '../cards/piv.js';
import type { CardTransport } from '../cards/transport.js';
import {
  cardRs256Signer,
  describeSlotContent,
  generateAdminIdentityOnCard,
  inspectSlot,
  readAdminCertificateFromCard,
  slotReplacedData,
  type SlotContent,
} from '../cards/roles.js';
import { SLOT } from '../cards/piv.js';
import { CeremonyError } from '../errors.js';
import { assertOutputFree, readFileOrFail, writeFileExclusive } from '../files.js';
import type { AdminCertificateInfo } from '../identity/certificate.js';
import { fileKeySigner, generateFileIdentity, unlockFileIdentity } from '../identity/identity.js';
import { generateMasterKey, keyCheckValue, splitMasterKey, verificationPattern } from '../masterkey/masterkey.js';
import { checkPassphrase } from '../passphrase.js';
import { zeroize } from '../secrets.js';
import { KEYSHARE_FORMAT, shareCommitment, type KeyshareHeader } from '../shares/envelope.js';
import { CardDesk } from './card-desk.js';
import { CardShareDestination, type CardShareHints } from './card-media.js';
import { fingerprintFromB64url, hexGroups, pgpWords } from './fingerprint.js';
import { FileShareDestination, FileShareSource, type ShareSource } from './media.js';
import { cardShareHintsOf, loadCeremony, TOOL, verifyShareAgainstRecord } from './operations.js';
import { ceremoniesOf, ENTRY, shareIssuedData, WIPED_IN_MEMORY, type Closing, type EntryType } from './record.js';
import { renderRecordHtml, type CeremonyRoster } from './report.js';
import { checkSetup, type CeremonySetup } from './roster.js';
import { SerialQueue } from './serial-queue.js';
import {
  appendTranscript,
  createTranscript,
  endCeremony,
  headHash,
  parseTranscript,
  readTranscript,
  type TranscriptData,
  type TranscriptEntry,
} from './transcript.js';

// The ceremony the desktop app runs, one step at a time (issue 4). Where the
// CLI does a whole master-key ceremony in one call, the wizard spreads it
// over the room: units are confirmed, admins create identities in turn, the
// key is generated, each custodian writes and proves a share, admins sign
// the bundle. This object holds that state in the main process, including
// the master key and its shares between steps 4 and 7, and answers the
// renderer with metadata only (CeremonyView). Every method is one IPC call.
//
// It reaches the outside world only through SessionPorts, so the same code
// runs in Electron (native dialogs, printToPDF, the print dialog) and under
// the test bridge.

export interface FileFilter {
  name: string;
  extensions: string[];
}

/** File and folder choosers. Null when the person closes the dialog. */
export interface FileDialogs {
  openFile(o: { title: string; filters: FileFilter[] }): Promise<string | null>;
  saveFile(o: { title: string; defaultName: string; filters: FileFilter[] }): Promise<string | null>;
  chooseFolder(o: { title: string }): Promise<string | null>;
}

export interface SessionPorts {
  dialogs: FileDialogs;
  /** The smart-card transport (PC/SC); created once, on first use. */
  openCardTransport(): Promise<CardTransport>;
  /** Renders a self-contained HTML document to PDF. */
  renderPdf(html: string): Promise<Uint8Array>;
  /** Prints a self-contained HTML document (system print dialog); false if canceled. */
  printHtml(html: string): Promise<boolean>;
  /** Folder for the live ceremony record (no secrets are ever written there). */
  workDir: string;
  now?: () => Date;
  /** scrypt cost for share files; tests lower it, the app never sets it. */
  scryptCost?: { logN: number; r: number; p: number };
}

const SHARE_FILTERS: FileFilter[] = [{ name: 'Keyshare', extensions: ['keyshare'] }];
const IDENTITY_FILTERS: FileFilter[] = [{ name: 'Admin identity', extensions: ['pem'] }];

interface UnitState {
  transport: TransportKey;
  fileName: string;
  confirmed: boolean;
}

interface AdminState {
  certificate: AdminCertificateInfo;
  location: string;
  /** Identity file path (file medium) or card serial (card medium). */
  file?: string;
  cardSerial?: number;
}

interface ShareState {
  header: KeyshareHeader | null;
  location: string | null;
  file?: string;
  cardSerial?: number;
  verified: boolean;
  confirmed: boolean;
}

interface BundleState {
  bundle: ParsedBundle;
  required: number;
  saved: null | { path: string; fileSha256: string };
}

function fail(code: 'WrongStep' | 'InvalidArgument', message: string): never {
  throw new CeremonyError(code, message);
}

/** The path a dialog answered; a closed dialog cancels the call (nothing changed). */
function picked(path: string | null, what: 'file' | 'folder' = 'file'): string {
  if (path === null) throw new CeremonyError('Canceled', `No ${what} was chosen.`);
  return path;
}

function safeFileStem(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s.length > 0 ? s.slice(0, 48) : 'unnamed';
}

export class CeremonySession {
  private readonly queue = new SerialQueue();
  private readonly now: () => Date;
  private readonly cards: CardDesk;

  private setup: CeremonySetup | null = null;
  private ceremonyId: string | null = null;
  private recordPath: string | null = null;
  private units: UnitState[] = [];
  private admins: Array<AdminState | null> = [];
  /** Key material. Zeroed by wipeSecrets(). */
  private key: Buffer | null = null;
  /** Key material: the N shares. Zeroed by wipeSecrets(). */
  private shareSecrets: Buffer[] = [];
  private kcv: string | null = null;
  private shares: ShareState[] = [];
  private bundle: BundleState | null = null;
  private closed: { recordSavedTo: string | null } | null = null;

  /** The record opened for checking a share (the start screen's other task). */
  private checkRecord: string | null = null;
  /** Records of ceremonies cut off by a crash, closed when the application started. */
  private readonly interrupted: InterruptedRecord[] = [];

  constructor(private readonly ports: SessionPorts) {
    this.now = ports.now ?? (() => new Date());
    this.cards = new CardDesk(() => ports.openCardTransport(), this.queue);
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
    const closed: InterruptedRecord[] = [];
    let names: string[];
    try {
      names = readdirSync(this.ports.workDir).filter((f) => /^ceremony-[0-9a-f-]{36}\.jsonl$/.test(f));
    } catch {
      return closed;
    }
    for (const name of names) {
      const path = join(this.ports.workDir, name);
      if (path === this.recordPath) continue;
      try {
        const record = closeInterruptedRecord(path, this.now());
        if (record !== null) closed.push(record);
      } catch {
        /* an unreadable record is left as it is, for a person to look at */
      }
    }
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
      record.savedTo = await this.saveRecordFiles(record.path);
      return this.interruptedRecords();
    });
  }

  // ---------------------------------------------------------------------
  // View

  view(): CeremonyView {
    const setup = this.setup;
    return {
      ceremonyId: this.ceremonyId,
      setup,
      step: this.step(),
      unitsMissing: this.missingUnits(),
      units: this.units.map((u): UnitView => {
        const fp = Buffer.from(u.transport.file.fingerprint, 'hex');
        return {
          unitId: u.transport.file.unitId,
          fileName: u.fileName,
          fingerprintGroups: hexGroups(fp),
          fingerprintWords: pgpWords(fp),
          confirmed: u.confirmed,
        };
      }),
      admins: (setup?.admins ?? []).map((a, i): AdminView => {
        const st = this.admins[i];
        return {
          name: a.name,
          medium: a.medium,
          identity: st
            ? {
                thumbprint: st.certificate.thumbprint,
                fingerprintGroups: hexGroups(fingerprintFromB64url(st.certificate.thumbprint)),
                location: st.location,
                cardSerial: st.cardSerial ?? null,
              }
            : null,
        };
      }),
      masterKey: this.kcv === null ? null : { kcv: this.kcv, present: this.key !== null },
      shares: this.shares.map((s, i) => ({
        index: i + 1,
        custodian: setup!.custodians[i]!.name,
        medium: setup!.custodians[i]!.medium,
        location: s.location,
        cardSerial: s.cardSerial ?? null,
        written: s.header !== null,
        verified: s.verified,
        confirmed: s.confirmed,
      })),
      bundle: this.bundle
        ? {
            bundleId: this.bundle.bundle.payload.bundleId,
            sequence: this.bundle.bundle.payload.sequence,
            targets: this.bundle.bundle.payload.targets,
            payloadHash: this.bundle.bundle.payloadHash,
            summary: bundleSummaryView(this.bundle.bundle),
            signatures: this.bundle.bundle.signatures.map((s) => ({
              name: this.adminNameOf(s.thumbprint),
              thumbprint: s.thumbprint,
            })),
            required: this.bundle.required,
            saved: this.bundle.saved,
          }
        : null,
      closed: this.closed,
    };
  }

  private step(): StepId {
    if (this.setup === null) return 'setup';
    if (this.closed !== null) return 'close';
    if (this.units.length === 0 || this.units.some((u) => !u.confirmed) || this.missingUnits().length > 0)
      return 'units';
    if (this.admins.some((a) => a === null)) return 'admins';
    if (this.kcv === null) return 'master-key';
    if (this.shares.some((s) => !s.confirmed)) return 'shares';
    if (
      this.bundle === null ||
      this.bundle.bundle.signatures.length < this.bundle.required ||
      this.bundle.saved === null
    )
      return 'bundle';
    return 'close';
  }

  private expectStep(step: StepId, doing: string): void {
    const at = this.step();
    if (at !== step) fail('WrongStep', `Cannot ${doing} now: the ceremony is at the "${at}" step.`);
  }

  private adminNameOf(thumbprint: string): string {
    const i = this.admins.findIndex((a) => a?.certificate.thumbprint === thumbprint);
    return i >= 0 ? this.setup!.admins[i]!.name : 'unknown signer';
  }

  private record(type: EntryType, data: TranscriptData, actor?: string): void {
    appendTranscript(this.recordPath!, { type, actor: actor ?? this.setup!.operator, data }, this.now());
  }

  // ---------------------------------------------------------------------
  // Step 1: set up

  start(input: CeremonySetup): Promise<CeremonyView> {
    return this.queue.run(async () => {
      if (this.setup !== null) fail('WrongStep', 'A ceremony is already in progress; abandon it first.');
      const setup = checkSetup(input);
      const ceremonyId = randomUUID();
      const recordPath = join(this.ports.workDir, `ceremony-${ceremonyId}.jsonl`);
      createTranscript(
        recordPath,
        {
          type: ENTRY.opened,
          actor: setup.operator,
          data: {
            ceremonyId,
            ceremonyName: setup.ceremonyName,
            keyName: setup.keyName,
            threshold: setup.threshold,
            shares: setup.custodians.length,
            custodians: setup.custodians.map((c) => c.name),
            custodianMedia: setup.custodians.map((c) => c.medium),
            admins: setup.admins.map((a) => a.name),
            adminMedia: setup.admins.map((a) => a.medium),
            signatureThreshold: setup.signatureThreshold,
            revocationThreshold: setup.revocationThreshold,
            witnesses: [...setup.witnesses],
            // Why the set-up departs from separation of duties (issue 11): only the reasons that apply.
            reasons: { ...setup.reasons },
            operator: setup.operator,
            tool: TOOL,
          },
        },
        this.now(),
      );
      this.setup = setup;
      this.ceremonyId = ceremonyId;
      this.recordPath = recordPath;
      this.admins = setup.admins.map(() => null);
      return this.view();
    });
  }

  /** Abandons the ceremony in progress: wipes the key, records why, and resets. */
  abandon(): Promise<CeremonyView> {
    return this.queue.run(async () => {
      if (this.inProgress()) this.abandonInRecord('the operator abandoned the ceremony');
      this.reset();
      return this.view();
    });
  }

  private reset(): void {
    this.wipeSecrets();
    this.setup = null;
    this.ceremonyId = null;
    this.recordPath = null;
    this.units = [];
    this.admins = [];
    this.kcv = null;
    this.shares = [];
    this.bundle = null;
    this.closed = null;
  }

  private wipeSecrets(): void {
    zeroize(this.key, ...this.shareSecrets);
    this.key = null;
    this.shareSecrets = [];
  }

  // ---------------------------------------------------------------------
  // Step 2: target units

  addTransport(): Promise<CeremonyView> {
    return this.queue.run(async () => {
      this.expectStep('units', 'add a unit');
      const path = picked(
        await this.ports.dialogs.openFile({
          title: 'Open a crypto unit\u2019s transport key file',
          filters: [{ name: 'Transport key', extensions: ['json'] }],
        }),
      );
      const transport = readTransportFile(path);
      const other = this.units[0];
      if (other && other.transport.file.instanceId !== transport.file.instanceId) {
        fail(
          'InvalidArgument',
          `${basename(path)} belongs to another service instance (${transport.file.instanceId}) than the units already loaded (${other.transport.file.instanceId}).`,
        );
      }
      if (this.units.some((u) => u.transport.file.unitId === transport.file.unitId)) {
        fail('InvalidArgument', `Unit ${transport.file.unitId} is already loaded.`);
      }
      // The set-up must fit the units before any key exists.
      checkAgainstLimits(transport.file.limits, { keyName: this.setup!.keyName, admins: this.setup!.admins.length });
      if (transport.file.unit.state !== 'cleared') {
        fail(
          'InvalidArgument',
          `Unit ${transport.file.unitId} is ${transport.file.unit.state}, not cleared: this ceremony initializes new units. Later ceremonies (recovery, rotation) are run from the command line for now.`,
        );
      }
      this.units.push({ transport, fileName: basename(path), confirmed: false });
      return this.view();
    });
  }

  confirmUnit(unitId: string): Promise<CeremonyView> {
    return this.queue.run(async () => {
      this.expectStep('units', 'confirm a unit');
      const unit = this.unit(unitId);
      if (!unit.confirmed) {
        unit.confirmed = true;
        this.record(ENTRY.unitConfirmed, unitConfirmedData(unit.transport));
      }
      return this.view();
    });
  }

  removeUnit(unitId: string): Promise<CeremonyView> {
    return this.queue.run(async () => {
      this.expectStep('units', 'remove a unit');
      const unit = this.unit(unitId);
      this.units = this.units.filter((u) => u !== unit);
      if (unit.confirmed) this.record(ENTRY.unitRemoved, { unitId });
      return this.view();
    });
  }

  /** Units of the loaded instance whose transport files are not loaded yet: a bundle goes to all of them. */
  private missingUnits(): string[] {
    const first = this.units[0];
    if (!first) return [];
    return first.transport.file.units.filter((id) => !this.units.some((u) => u.transport.file.unitId === id));
  }

  private unit(unitId: string): UnitState {
    const u = this.units.find((x) => x.transport.file.unitId === unitId);
    if (!u) fail('InvalidArgument', `No unit ${unitId} is loaded.`);
    return u;
  }

  // ---------------------------------------------------------------------
  // Step 3: admin identities

  /**
   * What slot 9C held when an admin's card was refused for it (issue 9): the
   * owner is shown it and agrees by typing their name; only exactly this
   * content is then replaced.
   */
  private occupiedSlot: { adminIndex: number; serial: number; content: SlotContent } | undefined;

  createIdentity(adminIndex: number, secret: SecretInput, replaceSlot?: { ownerName: string }): Promise<CeremonyView> {
    return this.withSecret(secret, async (bytes) => {
      this.expectStep('admins', 'create an admin identity');
      const admin = this.setup!.admins[adminIndex];
      if (!admin) fail('InvalidArgument', `There is no admin ${adminIndex + 1}.`);
      if (this.admins[adminIndex]) fail('WrongStep', `${admin.name} already has an identity.`);
      this.expectMedium(admin.medium, secret, admin.name);
      let state: AdminState;
      let reused = false;
      if (secret.medium === 'file') {
        checkPassphrase(bytes, 'The passphrase');
        const path = picked(
          await this.ports.dialogs.saveFile({
            title: `Save ${admin.name}\u2019s identity file`,
            defaultName: `${safeFileStem(admin.name)}.identity.pem`,
            filters: IDENTITY_FILTERS,
          }),
        );
        assertOutputFree(path);
        const id = await generateFileIdentity(admin.name, bytes, this.now());
        writeFileExclusive(path, id.text, 0o600);
        state = { certificate: id.certificate, location: basename(path), file: path };
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
            const probe = Buffer.from(`key ceremony ${this.ceremonyId} identity check`);
            const sig = await cardRs256Signer(s, bytes)(probe);
            if (!signatureMatches(existing, probe, sig))
              throw new CeremonyError('CardError', `The key in card ${serial} does not match its certificate.`);
            return { certificate: existing, serial, existed: true };
          }
          // A 9C holding anything else is never replaced without its owner's word (issue 9).
          const present = await inspectSlot(s, SLOT.SIGNATURE);
          let replaced: SlotContent | undefined;
          if (present) {
            const agreed = this.occupiedSlot;
            if (!replaceSlot || !agreed || agreed.adminIndex !== adminIndex || agreed.serial !== serial) {
              this.occupiedSlot = { adminIndex, serial, content: present };
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
          this.occupiedSlot = undefined;
          if (replaced)
            this.record(
              ENTRY.cardSlotReplaced,
              slotReplacedData(serial, replaced, `admin identity of ${certificate.name} ${certificate.thumbprint}`),
              admin.name,
            );
          return { certificate, serial, existed: false };
        });
        reused = existed;
        state = { certificate, location: `card ${serial}`, cardSerial: serial };
      }
      this.adoptIdentity(adminIndex, state, reused ? 'earlier (already on the card)' : 'now');
      return this.view();
    });
  }

  /**
   * An admin with a file identity from an earlier ceremony brings it: the
   * passphrase must open it (which proves they hold it), and the name on its
   * certificate must be theirs.
   */
  useIdentityFile(adminIndex: number, passphrase: string): Promise<CeremonyView> {
    return this.withSecret({ medium: 'file', passphrase }, async (bytes) => {
      this.expectStep('admins', 'add an admin identity');
      const admin = this.setup!.admins[adminIndex];
      if (!admin) fail('InvalidArgument', `There is no admin ${adminIndex + 1}.`);
      if (this.admins[adminIndex]) fail('WrongStep', `${admin.name} already has an identity.`);
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
        adminIndex,
        { certificate, location: basename(path), file: path },
        'earlier (identity file brought by the admin)',
      );
      return this.view();
    });
  }

  /** Gives admin `adminIndex` the identity, unless another admin of this ceremony has it, and records it. */
  private adoptIdentity(adminIndex: number, state: AdminState, created: string): void {
    const admin = this.setup!.admins[adminIndex]!;
    if (this.admins.some((a) => a?.certificate.thumbprint === state.certificate.thumbprint)) {
      fail('InvalidArgument', 'That identity is already used by another admin of this ceremony.');
    }
    this.admins[adminIndex] = state;
    this.record(
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

  generateMasterKey(): Promise<CeremonyView> {
    return this.queue.run(async () => {
      this.expectStep('master-key', 'generate the master key');
      const setup = this.setup!;
      const key = generateMasterKey();
      try {
        const shares = await splitMasterKey(key, setup.threshold, setup.custodians.length);
        const kcv = keyCheckValue(key);
        this.record(ENTRY.masterKeyGenerated, {
          kcv,
          verificationPattern: verificationPattern(key),
          algorithm: 'AES-256',
        });
        this.key = key;
        this.shareSecrets = shares;
        this.kcv = kcv;
        this.shares = setup.custodians.map(() => ({ header: null, location: null, verified: false, confirmed: false }));
        return this.view();
      } catch (e) {
        zeroize(key);
        throw e;
      }
    });
  }

  // ---------------------------------------------------------------------
  // Step 5: shares

  writeShare(shareIndex: number, secret: SecretInput): Promise<CeremonyView> {
    return this.withSecret(secret, async (bytes) => {
      this.expectStep('shares', 'write a share');
      const { custodian, state, share } = this.shareAt(shareIndex);
      if (state.verified) fail('WrongStep', `Share ${shareIndex} is already written and proven.`);
      this.expectMedium(custodian.medium, secret, custodian.name);
      const header: KeyshareHeader = {
        format: KEYSHARE_FORMAT,
        ceremonyId: this.ceremonyId!,
        keyName: this.setup!.keyName,
        shareIndex,
        threshold: this.setup!.threshold,
        shares: this.setup!.custodians.length,
        kcv: this.kcv!,
        custodian: custodian.name,
        created: this.now().toISOString(),
      };
      const provide = async (): Promise<Buffer> => Buffer.from(bytes);
      if (secret.medium === 'file') {
        checkPassphrase(bytes, 'The passphrase');
        const path = picked(
          await this.ports.dialogs.saveFile({
            title: `Save ${custodian.name}\u2019s share (${shareIndex} of ${this.shares.length})`,
            defaultName: `${safeFileStem(this.setup!.keyName)}-share-${shareIndex}-${safeFileStem(custodian.name)}.keyshare`,
            filters: SHARE_FILTERS,
          }),
        );
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
        'share-written',
        { shareIndex, custodian: custodian.name, medium: custodian.medium, location: state.location! },
        custodian.name,
      );
      return this.view();
    });
  }

  verifyShare(shareIndex: number, secret: SecretInput): Promise<CeremonyView> {
    return this.withSecret(secret, async (bytes) => {
      this.expectStep('shares', 'read a share back');
      const { custodian, state, share } = this.shareAt(shareIndex);
      if (state.header === null) fail('WrongStep', `Share ${shareIndex} has not been written yet.`);
      this.expectMedium(custodian.medium, secret, custodian.name);
      const header = state.header;
      const source = this.shareSource(secret, async () => Buffer.from(bytes), state.file, header.ceremonyId);
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
      try {
        if (!back.equals(share) || shareCommitment(found, back) !== shareCommitment(header, share)) {
          throw new CeremonyError(
            'ShareMismatch',
            `Share ${shareIndex} read back from ${state.location} differs from what was written. ${custodian.medium === 'card' ? 'Do not use this card: write the share again to another card.' : 'Write it again to another file.'}`,
          );
        }
      } finally {
        zeroize(back);
      }
      state.verified = true;
      this.record(
        ENTRY.shareIssued,
        shareIssuedData({
          shareIndex,
          custodian: custodian.name,
          medium: custodian.medium,
          location: state.location!,
          commitment: shareCommitment(header, share),
        }),
        custodian.name,
      );
      return this.view();
    });
  }

  confirmShare(shareIndex: number): Promise<CeremonyView> {
    return this.queue.run(async () => {
      this.expectStep('shares', 'confirm a share');
      const { custodian, state } = this.shareAt(shareIndex);
      if (!state.verified)
        fail('WrongStep', `Share ${shareIndex} must be read back before ${custodian.name} confirms it.`);
      if (!state.confirmed) {
        state.confirmed = true;
        this.record(
          'share-accepted',
          {
            shareIndex,
            custodian: custodian.name,
            statement: `I, ${custodian.name}, hold share ${shareIndex} of ${this.shares.length}`,
          },
          custodian.name,
        );
      }
      return this.view();
    });
  }

  private shareAt(shareIndex: number): {
    custodian: CeremonySetup['custodians'][number];
    state: ShareState;
    share: Buffer;
  } {
    const custodian = this.setup!.custodians[shareIndex - 1];
    const state = this.shares[shareIndex - 1];
    const share = this.shareSecrets[shareIndex - 1];
    if (!custodian || !state || !share) fail('InvalidArgument', `There is no share ${shareIndex}.`);
    return { custodian, state, share };
  }

  private shareSource(
    secret: SecretInput,
    provide: () => Promise<Buffer>,
    path: string | undefined,
    wanted: string | CardShareHints,
  ): ShareSource {
    if (secret.medium === 'file') {
      if (path === undefined) fail('InvalidArgument', 'This share is not in a file.');
      return new FileShareSource(path, provide);
    }
    return this.cards.shareSource(secret.reader, provide, wanted);
  }

  // ---------------------------------------------------------------------
  // Step 6: bundle

  buildBundle(): Promise<CeremonyView> {
    return this.queue.run(async () => {
      this.expectStep('bundle', 'build the bundle');
      if (this.bundle !== null) fail('WrongStep', 'The bundle is already built.');
      const key = this.key;
      if (key === null) fail('WrongStep', 'The master key is no longer in memory.');
      const transports = this.units.map((u) => u.transport);
      const admins = this.admins.map((a) => a!.certificate);
      const entries = readTranscript(this.recordPath!);
      checkTransportsConfirmed(entries, transports);
      const sequence = Math.max(0, ...transports.map((t) => t.file.lastSequence)) + 1;
      const threshold = this.setup!.signatureThreshold;
      const { jws } = buildBundle({
        operation: 'initialize',
        masterKey: key,
        claim: { admins, signatureThreshold: threshold, revocationThreshold: this.setup!.revocationThreshold },
        transports,
        rehearsal: false,
        sequence,
        ceremonyId: this.ceremonyId!,
        keyName: this.setup!.keyName,
        transcriptHash: headHash(entries),
        now: this.now(),
      });
      const bundle = parseBundle(serializeBundle(jws));
      // A first bundle to cleared units must carry the signature of every
      // admin it installs (docs/unit-protocol.md, the claim rule).
      this.bundle = { bundle, required: claimedAdmins(bundle.plan)?.length ?? threshold, saved: null };
      this.record(ENTRY.bundleCreated, bundleCreatedData({ bundle, transports, sharesUsed: [] }));
      return this.view();
    });
  }

  signBundle(adminIndex: number, secret: SecretInput): Promise<CeremonyView> {
    return this.withSecret(secret, async (bytes) => {
      this.expectStep('bundle', 'sign the bundle');
      const b = this.bundle;
      if (b === null) fail('WrongStep', 'Build the bundle before signing it.');
      if (b.saved !== null) fail('WrongStep', 'The bundle is already saved; it cannot take more signatures.');
      const admin = this.setup!.admins[adminIndex];
      const state = this.admins[adminIndex];
      if (!admin || !state) fail('InvalidArgument', `There is no admin ${adminIndex + 1}.`);
      this.expectMedium(admin.medium, secret, admin.name);
      let jws;
      if (secret.medium === 'file') {
        const text = readFileOrFail(state.file!, `${admin.name}\u2019s identity file`).toString('utf8');
        const unlocked = unlockFileIdentity(text, bytes, `${admin.name}\u2019s identity file`);
        if (unlocked.certificate.thumbprint !== state.certificate.thumbprint) {
          throw new CeremonyError(
            'IdentityInvalid',
            `The identity file at ${state.location} is no longer ${admin.name}\u2019s identity from this ceremony.`,
          );
        }
        jws = await addBundleSignature(b.bundle, state.certificate, fileKeySigner(unlocked.privateKey));
      } else {
        jws = await this.cards.onCard(secret.reader, async (s) => {
          const cert = await readAdminCertificateFromCard(s);
          if (cert.thumbprint !== state.certificate.thumbprint) {
            throw new CeremonyError(
              'WrongCard',
              `The card in reader "${secret.reader}" holds the identity of ${cert.name}, not ${admin.name}\u2019s from this ceremony (card ${state.cardSerial}).`,
            );
          }
          return addBundleSignature(b.bundle, state.certificate, cardRs256Signer(s, bytes));
        });
      }
      b.bundle = parseBundle(serializeBundle(jws));
      this.record(ENTRY.bundleSigned, bundleSignedData(b.bundle, state.certificate), admin.name);
      return this.view();
    });
  }

  saveBundle(): Promise<CeremonyView> {
    return this.queue.run(async () => {
      this.expectStep('bundle', 'save the bundle');
      const b = this.bundle;
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
      const text = serializeBundle(b.bundle.jws);
      const path = join(folder, `bundle-${safeFileStem(this.setup!.keyName)}-${b.bundle.payload.sequence}.json`);
      writeFileExclusive(path, text, BUNDLE_FILE_MODE);
      const fileSha256 = createHash('sha256').update(text, 'utf8').digest('hex');
      b.saved = { path, fileSha256 };
      this.record('bundle-saved', { bundleId: b.bundle.payload.bundleId, file: basename(path), fileSha256 });
      return this.view();
    });
  }

  // ---------------------------------------------------------------------
  // Step 7: close

  close(): Promise<CeremonyView> {
    return this.queue.run(async () => {
      this.expectStep('close', 'close the ceremony');
      if (this.closed !== null) return this.view();
      this.wipeSecrets();
      const details = { kcv: this.kcv!, bundle: this.bundle?.saved ? basename(this.bundle.saved.path) : null };
      this.endInRecord({ wiped: WIPED_IN_MEMORY, closing: { outcome: 'completed', details } });
      this.closed = { recordSavedTo: null };
      return this.view();
    });
  }

  /** Prints the ceremony report for signing. Allowed once the ceremony is closed. */
  printRecord(): Promise<{ printed: boolean }> {
    return this.queue.run(async () => {
      if (this.closed === null)
        fail('WrongStep', 'Close the ceremony (wipe the master key) before printing its record.');
      return { printed: await this.ports.printHtml(reportHtml(readTranscript(this.recordPath!), this.now())) };
    });
  }

  saveRecord(): Promise<CeremonyView> {
    return this.queue.run(async () => {
      if (this.closed === null) fail('WrongStep', 'Close the ceremony (wipe the master key) before saving its record.');
      this.closed = { recordSavedTo: await this.saveRecordFiles(this.recordPath!) };
      return this.view();
    });
  }

  /**
   * Saves a record as it is (JSON Lines), with its printable report (HTML
   * and PDF), into a folder the person chooses; never overwrites. Returns
   * the folder.
   */
  private async saveRecordFiles(recordPath: string): Promise<string> {
    const folder = picked(
      await this.ports.dialogs.chooseFolder({ title: 'Choose the folder for the ceremony record' }),
      'folder',
    );
    const recordText = readFileOrFail(recordPath, 'The ceremony record');
    // The report is rendered from the very bytes that are saved.
    const entries = parseTranscript(recordText.toString('utf8'), `The ceremony record ${recordPath}`);
    const opening = entries[0]!.data;
    const stem = `ceremony-${safeFileStem(String(opening['keyName']))}-${String(opening['ceremonyId']).slice(0, 8)}`;
    const targets = ['.jsonl', '.html', '.pdf'].map((ext) => join(folder, stem + ext));
    for (const t of targets) assertOutputFree(t);
    const html = reportHtml(entries, this.now());
    const pdf = await this.ports.renderPdf(html);
    writeFileExclusive(targets[0]!, recordText, 0o644);
    writeFileExclusive(targets[1]!, html, 0o644);
    writeFileExclusive(targets[2]!, pdf, 0o644);
    return folder;
  }

  // ---------------------------------------------------------------------
  // Checking one share against a record

  openRecordForCheck(): Promise<RecordView> {
    return this.queue.run(async () => {
      const path = picked(
        await this.ports.dialogs.openFile({
          title: 'Open a ceremony record',
          filters: [{ name: 'Ceremony record', extensions: ['jsonl'] }],
        }),
      );
      const { summary } = loadCeremony(path);
      this.checkRecord = path;
      return {
        ceremonyId: summary.ceremonyId,
        ceremonyName: summary.ceremonyName,
        keyName: summary.keyName,
        kcv: summary.kcv,
        threshold: summary.threshold,
        shares: summary.shares,
        custodians: [...summary.issued.values()].sort((a, b) => a.shareIndex - b.shareIndex).map((s) => s.custodian),
        fileName: basename(path),
      };
    });
  }

  checkShare(secret: SecretInput): Promise<ShareCheckView> {
    return this.withSecret(secret, async (bytes) => {
      const record = this.checkRecord;
      if (record === null) fail('WrongStep', 'Open the ceremony record first.');
      const { summary } = loadCeremony(record);
      let path: string | undefined;
      if (secret.medium === 'file') {
        const chosen = picked(
          await this.ports.dialogs.openFile({ title: 'Open the share file to check', filters: SHARE_FILTERS }),
        );
        path = chosen;
      }
      const source = this.shareSource(secret, async () => Buffer.from(bytes), path, cardShareHintsOf(summary));
      const r = await this.cards.touching(secret.medium === 'card' ? secret.reader : null, () =>
        verifyShareAgainstRecord(record, source),
      );
      return { shareIndex: r.header.shareIndex, custodian: r.issued.custodian, kcv: r.summary.kcv, matches: true };
    });
  }

  // ---------------------------------------------------------------------
  // Cards

  /** Readers and what is in them, for the live status. */
  listCards(): Promise<CardsView> {
    return this.cards.list();
  }

  /** Prepares a factory-fresh card in `reader` (new PIN and PUK, PIN-protected random management key). */
  async prepareCard(reader: string, pin: string, newPin: string, newPuk: string): Promise<CardsView> {
    await this.withSecrets([pin, newPin, newPuk], async ([oldBytes, pinBytes, pukBytes]) => {
      zeroize(padPin(oldBytes!, 'The current PIN'), padPin(pinBytes!, 'The new PIN'), padPin(pukBytes!, 'The new PUK'));
      const done = await this.cards.prepare(reader, oldBytes!, pinBytes!, pukBytes!);
      if (this.inProgress())
        this.record('card-prepared', {
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
  async unblockPin(reader: string, puk: string, newPin: string): Promise<CardsView> {
    await this.withSecrets([puk, newPin], async ([pukBytes, pinBytes]) => {
      zeroize(padPin(pinBytes!, 'The new PIN'));
      const serial = await this.cards.unblock(reader, pukBytes!, pinBytes!);
      if (this.inProgress()) this.record('card-pin-unblocked', { serial: String(serial) });
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

  private expectMedium(medium: Medium, secret: SecretInput, who: string): void {
    if (secret.medium !== medium) {
      fail(
        'InvalidArgument',
        `${who} uses a ${medium === 'card' ? 'smart card' : 'file'}, not a ${secret.medium === 'card' ? 'smart card' : 'file'}.`,
      );
    }
  }

  /** True while a ceremony is set up and not yet closed (closing the app would abandon it). */
  inProgress(): boolean {
    return this.setup !== null && this.closed === null;
  }

  /**
   * For shutdown: a ceremony still in progress is recorded as abandoned
   * (with the wipe), and every secret is zeroed. Synchronous, so it can run
   * in the application's last moments.
   */
  dispose(reason = 'the application was closed'): void {
    if (this.inProgress()) {
      this.abandonInRecord(reason);
      this.closed = { recordSavedTo: null };
    }
    this.wipeSecrets();
  }

  /**
   * Wipes the key and shares and records the wipe (if a key existed) and
   * the ceremony's closing as aborted. A record that cannot be written does
   * not stop the wipe or what follows.
   */
  private abandonInRecord(reason: string): void {
    const hadKey = this.key !== null;
    this.wipeSecrets();
    try {
      this.endInRecord({
        wiped: hadKey ? WIPED_IN_MEMORY : null,
        closing: { outcome: 'aborted', code: 'Abandoned', reason },
      });
    } catch {
      /* the wipe matters more than the record */
    }
  }

  /** Writes the last entries of the ceremony in progress: the wipe (when it held a key) and its closing. */
  private endInRecord(end: { wiped: string | null; closing: Closing }): void {
    endCeremony(this.recordPath!, this.setup!.operator, end, this.now());
  }
}

/** What the signers are shown: the core's bundle summary, as the renderer's view. */
function bundleSummaryView(b: ParsedBundle): BundleView['summary'] {
  const s = summarizeBundle(b);
  return {
    operation: s.operation,
    action: s.action,
    instanceId: s.instanceId,
    keyName: s.keyName,
    kcv: s.kcv,
    adminsInstalled: s.adminsInstalled.map((a) => ({
      name: a.name,
      fingerprintGroups: hexGroups(fingerprintFromB64url(a.thumbprint)),
    })),
    adminsRemoved: s.adminsRemoved,
    thresholds: s.thresholds,
  };
}

/** Checks an RS256 signature against the certificate it claims. */
function signatureMatches(cert: AdminCertificateInfo, data: Buffer, signature: Buffer): boolean {
  return nodeVerify('sha256', data, cert.publicKey, signature);
}

/** A record of a ceremony cut off by a crash, closed when the application started. */
export interface InterruptedRecord {
  path: string;
  ceremonyId: string;
  ceremonyName: string;
  keyName: string;
  /** completed: every share was issued and read back, so the shares are valid; aborted: they are not. */
  outcome: Closing['outcome'];
  /** The folder its record was saved to from the start screen; null until then. */
  savedTo: string | null;
}

/** Who writes the entries of a ceremony closed at start-up: nobody was at the keyboard. */
const APPLICATION_ACTOR = 'Key Ceremony';

/**
 * Closes the ceremony left open at the end of a record by a crash, or
 * returns null when it has none. The shares are complete once every share
 * is issued (written, read back and found identical) and the key wiped
 * (issue 8): the key died with the stopped process, so such a ceremony is
 * closed as completed, whatever step the wizard was at.
 */
function closeInterruptedRecord(path: string, now: Date): InterruptedRecord | null {
  const last = ceremoniesOf(readTranscript(path)).ceremonies.at(-1)!;
  if (last.outcome.kind !== 'open') return null;
  const opening = last.entries[0]!.data;
  const issued = new Set(last.entries.filter((e) => e.type === ENTRY.shareIssued).map((e) => e.data['shareIndex']));
  const shares = typeof opening['shares'] === 'number' ? opening['shares'] : 0;
  const hadKey = last.entries.some((e) => e.type === ENTRY.masterKeyGenerated);
  const everyShareIssued =
    hadKey && shares > 0 && Array.from({ length: shares }, (_, i) => i + 1).every((i) => issued.has(i));
  const closing: Closing = everyShareIssued
    ? {
        outcome: 'completed',
        details: {
          note: 'Closed when Key Ceremony next started: every share had been issued and read back before it stopped.',
        },
      }
    : { outcome: 'aborted', code: 'Interrupted', reason: 'the application stopped before the ceremony was closed' };
  const wiped = hadKey
    ? 'the master key and shares were only in the memory of the application, and died with it when it stopped'
    : null;
  endCeremony(path, APPLICATION_ACTOR, { wiped, closing }, now);
  return {
    path,
    ceremonyId: String(opening['ceremonyId']),
    ceremonyName: String(opening['ceremonyName']),
    keyName: String(opening['keyName']),
    outcome: closing.outcome,
    savedTo: null,
  };
}

/** The ceremony report, signed by the people its opening entry names. */
function reportHtml(entries: TranscriptEntry[], now: Date): string {
  return renderRecordHtml(entries, rosterOf(entries[0]!), now);
}

function rosterOf(opening: TranscriptEntry): CeremonyRoster {
  const names = (key: string): string[] => {
    const v = opening.data[key];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  };
  const operator = opening.data['operator'];
  return {
    operator: typeof operator === 'string' ? operator : opening.actor,
    admins: names('admins'),
    custodians: names('custodians'),
    witnesses: names('witnesses'),
  };
}

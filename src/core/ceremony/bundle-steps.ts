import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import type { Operation, Thresholds } from '../bundle/protocol.js';
import { readTransportFile, type TransportKey } from '../bundle/transport.js';
import { cardRs256Signer, readAdminCertificateFromCard } from '../cards/roles.js';
import { CeremonyError } from '../errors.js';
import { readFileOrFail, writeFileExclusive } from '../files.js';
import type { AdminCertificateInfo } from '../identity/certificate.js';
import { fileKeySigner, identityCertificate, unlockFileIdentity } from '../identity/identity.js';
import { zeroize } from '../secrets.js';
import { unitConfirmedData } from './bundle-record.js';
import { BUNDLE_FILE_MODE, prepareSigning, signPreparedBundle } from './bundles.js';
import type { CardDesk } from './card-desk.js';
import { readUnitsStatus, reportUnits, type GivenStatus, type UnitsReportResult } from './lifecycle.js';
import { ENTRY } from './record.js';
import {
  addAllUnits,
  createRehearsalUnits,
  loadIntoRehearsalUnits,
  rehearsalPortsFor,
  rehearsalUnitsOfRecord,
  rehearsalUnitsStatus,
  type RehearsalUnitsAt,
} from './rehearsal-units.js';
import type { RosterMode } from './roster.js';
import {
  checkJoinsUnits,
  missingUnits,
  REHEARSAL_FILE_PREFIX,
  type FileDialogs,
  type FileFilter,
  type RehearsalPorts,
} from './session.js';
import { appendTranscript, readTranscript, type TranscriptEntry } from './transcript.js';
import { picked } from './session-ports.js';

// The steps every ceremony after the first shares in the desktop app (issue
// 11: recovery, admin change, rotation, zeroize): the units (their
// transport files loaded and confirmed against their displays into the
// record), the signing of a built bundle by the admins allowed to sign it
// (identity file or card), the signed bundle saved, and the units' status
// recorded once they applied it. Each is the CLI's own step (`units
// confirm`, `bundle sign --record`, `units report`); a session holds only
// what the room gave so far and calls these.

export const TRANSPORT_FILTERS: FileFilter[] = [{ name: 'Unit transport key', extensions: ['json'] }];
export const IDENTITY_FILTERS: FileFilter[] = [{ name: 'Admin identity', extensions: ['pem'] }];
export const CERTIFICATE_FILTERS: FileFilter[] = [{ name: 'Admin certificate or identity', extensions: ['pem'] }];
export const STATUS_FILTERS: FileFilter[] = [{ name: 'Units status (status --json)', extensions: ['json'] }];

// ---------------------------------------------------------------------------
// (a) The units: transport files loaded, each confirmed against its unit's display

export interface StepUnit {
  transport: TransportKey;
  fileName: string;
  confirmed: boolean;
}

/** Loads a unit's transport file (dialog) into `units`, refused if it does not join them; it waits for its confirmation. */
export async function loadTransport(dialogs: FileDialogs, units: StepUnit[]): Promise<void> {
  const path = picked(
    await dialogs.openFile({ title: 'Open a unit\u2019s transport key file', filters: TRANSPORT_FILTERS }),
  );
  addTransportFile(units, path);
}

/** Adds the unit of the transport file at `path` to `units`, refused if it does not join them; it waits for its confirmation. */
export function addTransportFile(units: StepUnit[], path: string): void {
  const transport = readTransportFile(path);
  checkJoinsUnits(units, transport, basename(path));
  units.push({ transport, fileName: basename(path), confirmed: false });
}

/** The operator compared the fingerprint with the unit's display: recorded as `units confirm` records it. */
export function confirmLoadedUnit(
  recordPath: string,
  units: StepUnit[],
  unitId: string,
  now: Date,
  actor = 'operator',
): void {
  const unit = units.find((u) => u.transport.file.unitId === unitId);
  if (!unit) throw new CeremonyError('InvalidArgument', `There is no unit ${unitId} loaded.`);
  if (unit.confirmed) return;
  appendTranscript(recordPath, { type: ENTRY.unitConfirmed, actor, data: unitConfirmedData(unit.transport) }, now);
  unit.confirmed = true;
}

/** Every unit of the instance loaded and confirmed: their transports, or a refusal naming what is missing. */
export function unitsReady(units: readonly StepUnit[]): TransportKey[] {
  if (units.length === 0) throw new CeremonyError('WrongStep', 'Load the units\u2019 transport files first.');
  const missing = missingUnits(units);
  if (missing.length > 0)
    throw new CeremonyError(
      'WrongStep',
      `The bundle goes to every unit of the instance: load the transport files of ${missing.join(', ')} too.`,
    );
  const unconfirmed = units.find((u) => !u.confirmed);
  if (unconfirmed)
    throw new CeremonyError(
      'TransportUnconfirmed',
      `Unit ${unconfirmed.transport.file.unitId} has not been confirmed against its display.`,
    );
  return units.map((u) => u.transport);
}

// ---------------------------------------------------------------------------
// The units' admins, as the record knows them

export interface NamedAdminRef {
  name: string;
  thumbprint: string;
}

/** The admins installed on the units holding a record's key, and their thresholds. */
export interface UnitAdmins extends Thresholds {
  admins: NamedAdminRef[];
}

/** An `adminsInstalled` item of a bundle-created entry: "name thumbprint" (the thumbprint has no space). */
function adminOfEntry(text: string): NamedAdminRef {
  const at = text.lastIndexOf(' ');
  return { name: text.slice(0, at), thumbprint: text.slice(at + 1) };
}

/**
 * The units' admins after the record's bundles (issue 11: admin change,
 * rotation and zeroize are signed by the units' current admins): a claim
 * (initialize or recover onto cleared units) installs its admins and
 * thresholds, an admin change removes, adds and sets both thresholds, a
 * zeroize leaves none. Only bundles the units applied count: those of a
 * sequence up to `appliedUpTo` (the units' last sequence, from their
 * transport files), when given. Null when the record installed no admins
 * (its key went onto units claimed elsewhere).
 */
export function unitAdminsOfRecord(
  entries: readonly TranscriptEntry[],
  appliedUpTo = Number.POSITIVE_INFINITY,
): UnitAdmins | null {
  let now: UnitAdmins | null = null;
  for (const e of entries) {
    if (e.type !== ENTRY.bundleCreated) continue;
    const d = e.data;
    if (typeof d['sequence'] === 'number' && d['sequence'] > appliedUpTo) continue;
    const installed = Array.isArray(d['adminsInstalled']) ? (d['adminsInstalled'] as string[]).map(adminOfEntry) : [];
    const removed = Array.isArray(d['adminsRemoved']) ? (d['adminsRemoved'] as string[]) : [];
    const t = d['thresholds'] as Thresholds | null | undefined;
    switch (d['operation']) {
      case 'initialize':
      case 'recover':
        if (t)
          now = {
            admins: installed,
            signatureThreshold: t.signatureThreshold,
            revocationThreshold: t.revocationThreshold,
          };
        break;
      case 'admin-change':
        if (now && t)
          now = {
            admins: [...now.admins.filter((a) => !removed.includes(a.thumbprint)), ...installed],
            signatureThreshold: t.signatureThreshold,
            revocationThreshold: t.revocationThreshold,
          };
        break;
      case 'zeroize':
        now = null;
        break;
      default:
        break; // rotate: the admins stay
    }
  }
  return now;
}

/**
 * The units' admins for a bundle on their current key: the record's, which
 * every unit's transport file must agree with (same admins, same
 * thresholds); otherwise the units were changed outside this record, or a
 * bundle it holds was never ingested, and nobody could tell who may sign.
 */
export function unitAdminsForBundle(
  recordPath: string,
  entries: readonly TranscriptEntry[],
  transports: readonly TransportKey[],
): UnitAdmins {
  const applied = Math.min(...transports.map((t) => t.file.lastSequence));
  const known = unitAdminsOfRecord(entries, applied);
  if (!known)
    throw new CeremonyError(
      'UnitState',
      `${basename(recordPath)} installed no admins on these units (its bundles claim none up to sequence ${applied}): the app cannot tell who may sign for them. Use the record of the ceremony that claimed them.`,
    );
  const ids = (l: readonly NamedAdminRef[]): string => [...l.map((a) => a.thumbprint)].sort().join(',');
  for (const t of transports) {
    const u = t.file.unit;
    if (
      ids(u.admins) !== ids(known.admins) ||
      u.signatureThreshold !== known.signatureThreshold ||
      u.revocationThreshold !== known.revocationThreshold
    )
      throw new CeremonyError(
        'UnitState',
        `Unit ${t.file.unitId} has admins ${u.admins.map((a) => a.name).join(', ') || 'none'} (signature threshold ${u.signatureThreshold}, revocation threshold ${u.revocationThreshold}), ` +
          `but ${basename(recordPath)} says ${known.admins.map((a) => a.name).join(', ')} (${known.signatureThreshold}, ${known.revocationThreshold}): ` +
          'a bundle of the record was not ingested, or the units were changed outside it. Export the transport files again once the units agree with the record.',
        { unitId: t.file.unitId },
      );
  }
  return known;
}

/** The admin certificate of a certificate or identity file (the public part only), refused if already in `given`. */
export function readAdminCertificateFile(
  path: string,
  given: ReadonlyArray<{ certificate: { thumbprint: string }; fileName: string }>,
): AdminCertificateInfo {
  const certificate = identityCertificate(
    readFileOrFail(path, 'The admin certificate').toString('utf8'),
    `The file ${basename(path)}`,
  );
  const same = given.find((a) => a.certificate.thumbprint === certificate.thumbprint);
  if (same)
    throw new CeremonyError(
      'InvalidArgument',
      `${basename(path)} is the identity of ${certificate.name}, already given (${same.fileName}).`,
    );
  return certificate;
}

// ---------------------------------------------------------------------------
// (b) The signing of a built bundle by the admins allowed to sign it

/** Who may sign a bundle (docs/unit-protocol.md §7), and how they are called in a refusal. */
export interface Signers {
  admins: readonly NamedAdminRef[];
  /** "an admin of this bundle's claim", "a current admin of the units". */
  role: string;
}

/** What an admin brings: their identity file (chosen in a dialog) and passphrase, or their card and its PIN. */
export type SignerSecret = { medium: 'file'; passphrase: string } | { medium: 'card'; reader: string; pin: string };

export interface SigningStep {
  bundlePath: string;
  recordPath: string;
  signers: Signers;
  dialogs: FileDialogs;
  /** The cards (CardDesk.onCard); null where the session has none (a card is then refused). */
  cards: CardDesk | null;
  now: Date;
}

function refuseUnlisted(signer: AdminCertificateInfo, signers: Signers, what: string): void {
  if (!signers.admins.some((a) => a.thumbprint === signer.thumbprint))
    throw new CeremonyError(
      'IdentityInvalid',
      `${what} is the identity of ${signer.name}, who is not ${signers.role} (${signers.admins.map((a) => a.name).join(', ')}).`,
    );
}

/**
 * An admin signs the bundle as `bundle sign --record` does: the bundle
 * approved against the record before any secret is used, the signer one of
 * those allowed, the signature recorded (bundle-signed). The passphrase or
 * PIN bytes are zeroed whatever happens. Returns the signer.
 */
export async function signBundleStep(step: SigningStep, secret: SignerSecret): Promise<AdminCertificateInfo> {
  const approval = {
    recordEntries: readTranscript(step.recordPath),
    recordLabel: `The record ${basename(step.recordPath)}`,
  };
  const record = { path: step.recordPath, now: step.now };
  if (secret.medium === 'file') {
    const path = picked(await step.dialogs.openFile({ title: 'Open your identity file', filters: IDENTITY_FILTERS }));
    const turn = prepareSigning(step.bundlePath, approval);
    // Secret: the passphrase's bytes, zeroed below.
    const pass = Buffer.from(secret.passphrase, 'utf8');
    try {
      const what = `the identity file ${basename(path)}`;
      const unlocked = unlockFileIdentity(readFileOrFail(path, 'The identity file').toString('utf8'), pass, what);
      refuseUnlisted(unlocked.certificate, step.signers, basename(path));
      await signPreparedBundle(step.bundlePath, turn, unlocked.certificate, fileKeySigner(unlocked.privateKey), record);
      return unlocked.certificate;
    } finally {
      zeroize(pass);
    }
  }
  const cards = step.cards;
  if (cards === null) throw new CeremonyError('WrongStep', 'This ceremony signs with identity files only here.');
  const turn = prepareSigning(step.bundlePath, approval);
  // Secret: the PIN's bytes, zeroed below.
  const pin = Buffer.from(secret.pin, 'utf8');
  try {
    return await cards.onCard(secret.reader, async (s) => {
      const cert = await readAdminCertificateFromCard(s);
      refuseUnlisted(cert, step.signers, `The card in reader "${secret.reader}"`);
      await signPreparedBundle(step.bundlePath, turn, cert, cardRs256Signer(s, pin), record);
      return cert;
    });
  } finally {
    zeroize(pin);
  }
}

/** Signatures a bundle needs (docs/unit-protocol.md §7): every admin a claim installs, else the units' thresholds. */
export function signaturesNeeded(
  operation: Operation,
  a: { claimAdmins?: number; units?: Thresholds; removes?: boolean },
): number {
  if (a.claimAdmins !== undefined && (operation === 'initialize' || operation === 'recover')) return a.claimAdmins;
  const t = a.units;
  if (!t) throw new CeremonyError('WrongStep', `The units' thresholds are not known for this ${operation} bundle.`);
  return operation === 'admin-change' && a.removes === true
    ? Math.max(t.signatureThreshold, t.revocationThreshold)
    : t.signatureThreshold;
}

// ---------------------------------------------------------------------------
// (c) The signed bundle saved for the units

export interface SavedBundle {
  path: string;
  fileSha256: string;
}

/**
 * Saves the signed bundle into a folder (dialog), never over a file, named
 * for its operation (REHEARSAL- first in a rehearsal); refused while it has
 * fewer signatures than the units need.
 */
export async function saveSignedBundle(a: {
  dialogs: FileDialogs;
  bundlePath: string;
  operation: Operation;
  sequence: number;
  bundleId: string;
  signatures: number;
  needed: number;
  rehearsal: boolean;
}): Promise<SavedBundle> {
  if (a.signatures < a.needed)
    throw new CeremonyError(
      'TooFewSignatures',
      `The bundle has ${a.signatures} of the ${a.needed} signatures it needs; the units would refuse it.`,
      { signatures: a.signatures, required: a.needed },
    );
  const folder = picked(
    await a.dialogs.chooseFolder({ title: `Choose the folder (removable media) for the ${a.operation} bundle` }),
    'folder',
  );
  const text = readFileOrFail(a.bundlePath, 'The bundle');
  const name = `bundle-${a.operation}-${a.sequence}-${a.bundleId.slice(0, 8)}.json`;
  const path = join(folder, a.rehearsal ? `${REHEARSAL_FILE_PREFIX}${name}` : name);
  writeFileExclusive(path, text, BUNDLE_FILE_MODE);
  return { path, fileSha256: createHash('sha256').update(text).digest('hex') };
}

// ---------------------------------------------------------------------------
// (d) The units' status, once they applied the bundle

/** Opens a units' status file (`status --json`, dialog), read strictly. */
export async function loadUnitsStatus(dialogs: FileDialogs, given: readonly GivenStatus[]): Promise<GivenStatus> {
  const path = picked(
    await dialogs.openFile({ title: 'Open the units\u2019 status file (status --json)', filters: STATUS_FILTERS }),
  );
  const status = readUnitsStatus(path);
  if (given.some((g) => g.status.instanceId === status.status.instanceId))
    throw new CeremonyError(
      'InvalidArgument',
      `${basename(path)} is the status of instance ${status.status.instanceId}, already given: give one status per instance.`,
    );
  return { label: `The status ${basename(path)}`, status: status.status };
}

/** `units report`: the statuses checked against the record and its end (key-destroyed, key-retired) recorded. */
export function recordUnitsStatus(a: {
  recordPath: string;
  statuses: GivenStatus[];
  newRecordPath?: string;
  now: () => Date;
}): UnitsReportResult {
  return reportUnits({
    recordPath: a.recordPath,
    statuses: a.statuses,
    ...(a.newRecordPath !== undefined ? { newRecordPath: a.newRecordPath } : {}),
    now: a.now,
  });
}

// ---------------------------------------------------------------------------
// (e) A rehearsal's units (issue 11): the units step and the units' report on the rehearsal instance

/** Where a later ceremony's rehearsal units come from: the record's mode decides; the room cannot. */
export interface RehearsalUnitsStep {
  mode: RosterMode;
  rehearsal: RehearsalPorts | undefined;
  workDir: string;
}

/**
 * "Use the rehearsal units", for a rehearsal record only: the instance the
 * record's key lives on (admin change, zeroize, rotation), or a new one
 * (`create`, a recovery onto cleared units, named for `create.ceremonyId`);
 * every unit's transport file added to `units`, each to be confirmed.
 */
export async function useRehearsalUnitsStep(
  a: RehearsalUnitsStep & { units: StepUnit[]; recordPath: string; create?: { ceremonyId: string } },
): Promise<RehearsalUnitsAt> {
  const rehearsal = rehearsalPortsFor(a.mode, a.rehearsal);
  if (a.units.length > 0)
    throw new CeremonyError(
      'WrongStep',
      'Transport files are already loaded: start again to use the rehearsal units instead.',
    );
  const found = a.create
    ? await createRehearsalUnits(rehearsal, a.workDir, a.create.ceremonyId)
    : await rehearsalUnitsOfRecord(rehearsal, a.workDir, a.recordPath, readTranscript(a.recordPath));
  addAllUnits(a.units, found.transportFiles, (path) => addTransportFile(a.units, path));
  return found.at;
}

/**
 * "Load into the rehearsal units": the saved bundle loaded into the
 * rehearsal units (each unit's answer kept in the returned units), and their
 * own status afterwards, for `units report` (recordUnitsStatus).
 */
export async function loadRehearsalUnitsStep(
  a: Omit<RehearsalUnitsStep, 'workDir'> & { units: RehearsalUnitsAt | null; saved: SavedBundle },
): Promise<{ units: RehearsalUnitsAt; status: GivenStatus }> {
  const rehearsal = rehearsalPortsFor(a.mode, a.rehearsal);
  if (a.units === null)
    throw new CeremonyError('WrongStep', 'This ceremony did not use the rehearsal units (its units step).');
  const units = { ...a.units, loaded: await loadIntoRehearsalUnits(rehearsal, a.units, a.saved) };
  return { units, status: await rehearsalUnitsStatus(rehearsal, units) };
}

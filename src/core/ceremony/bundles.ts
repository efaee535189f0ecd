import {
  addBundleSignature,
  buildBundle,
  checkEmbeddedSignatures,
  claimedAdmins,
  parseBundle,
  serializeBundle,
  summarizeBundle,
  type BundleSpec,
  type BundleSummary,
  type ClaimSpec,
  type KeyIdentity,
  type ParsedBundle,
  type SignatureCheck,
} from '../bundle/bundle.js';
import { checkThresholds, type Thresholds } from '../bundle/protocol.js';
import { checkAgainstLimits, checkTransportModes, checkTransportSet, type TransportKey } from '../bundle/transport.js';
import { CeremonyError, missingCase } from '../errors.js';
import { assertOutputFree, readFileOrFail, replaceFileAtomic, writeFileExclusive } from '../files.js';
import type { AdminCertificateInfo, Rs256Signer } from '../identity/certificate.js';
import { keyCheckValue, sameHex, verificationPattern } from '../masterkey/masterkey.js';
import { zeroize } from '../secrets.js';
import {
  approveForSigning,
  bundleCreatedData,
  bundleModeFor,
  bundleSignedData,
  checkBundleInRecord,
  checkDisplayedFingerprint,
  checkTransportsConfirmed,
  unitConfirmedData,
  type SigningApproval,
} from './bundle-record.js';
import type { ShareSource } from './media.js';
import { refuseEndedKey } from './lifecycle.js';
import { recoverMasterKey } from './operations.js';
import { ENTRY, summarize, type CeremonySummary } from './record.js';
import { appendTranscript, headHash, readTranscript, type TranscriptEntry } from './transcript.js';

// The bundle steps of every ceremony (issue 8): confirm a unit's transport
// key into the record, build a bundle for one operation of the unit
// protocol, sign it having seen what it does, verify it. The CLI drives
// these directly; the desktop app's session uses the same checks.

/** Bundles hold wrapped keys and admin lists: readable by their owner only. */
export const BUNDLE_FILE_MODE = 0o600;

/** `keyceremony units confirm`: the operator read the fingerprint off the unit; it matches the file. */
export function confirmUnit(
  recordPath: string,
  transport: TransportKey,
  typedFingerprint: string,
  actor = 'operator',
  now = new Date(),
): TranscriptEntry {
  checkDisplayedFingerprint(transport, typedFingerprint);
  readTranscript(recordPath); // a broken record is refused before anything is added
  return appendTranscript(recordPath, { type: ENTRY.unitConfirmed, actor, data: unitConfirmedData(transport) }, now);
}

/**
 * A master key its caller already rebuilt from shares and checked (mk
 * recover, issue 11), with the indices of the shares used: not opened again
 * here, only checked against the record. Secret: the caller zeroes it.
 */
export interface RebuiltKey {
  key: Uint8Array;
  sharesUsed: number[];
}

/** What each operation needs beyond the record and the transports. */
export type BundleRequest =
  | { operation: 'initialize'; sources: ShareSource[]; claim: ClaimSpec }
  | { operation: 'recover'; sources: ShareSource[]; claim: ClaimSpec | null }
  | { operation: 'recover'; rebuilt: RebuiltKey; claim: ClaimSpec | null }
  | { operation: 'rotate'; sources: ShareSource[]; currentRecordPath: string }
  | { operation: 'admin-change'; add: AdminCertificateInfo[]; remove: string[]; thresholds: Thresholds }
  | { operation: 'zeroize' };

export interface CreateBundleArgs {
  /** The record of the key the bundle loads (or, for admin-change and zeroize, the units' current key). */
  recordPath: string;
  transports: TransportKey[];
  request: BundleRequest;
  outPath: string;
  /**
   * A rehearsal bundle (`bundle create --rehearsal`), for units in rehearsal
   * mode only. A record whose key lives in a rehearsal implies it (bundleModeFor).
   */
  rehearsal?: boolean;
  /**
   * How the key is read from the record: summarize (the key ceremony, closed
   * as completed), unless the caller is the ceremony that begins the record
   * and is still open (a recovery from the paper report, issue 11).
   */
  keyOf?: (entries: TranscriptEntry[]) => CeremonySummary;
  actor?: string;
  now?: () => Date;
}

export interface CreatedBundle {
  bundle: ParsedBundle;
  summary: BundleSummary;
  /** True when the file at outPath was the unrecorded bundle of a bundle create that was stopped, and was replaced. */
  replacedUnrecorded: boolean;
}

/**
 * The bytes of the bundle that an earlier `bundle create` of this record
 * wrote to outPath and was stopped (killed, power gone) before it could
 * record (issue 10, "Killed at any moment"): unsigned, built on the
 * record's current last entry, and held by no bundle-created entry. Nobody
 * can sign or load it (bundle sign refuses a bundle the record does not
 * hold), so running the same command again replaces it. Null when outPath
 * is free; anything else there is refused, never overwritten.
 */
function unrecordedBundleAt(outPath: string, entries: readonly TranscriptEntry[]): Buffer | null {
  let bytes: Buffer;
  try {
    bytes = readFileOrFail(outPath, 'Bundle');
  } catch (e) {
    if (e instanceof CeremonyError && e.code === 'FileNotFound') return null;
    assertOutputFree(outPath);
    throw e;
  }
  let bundle: ParsedBundle | null = null;
  try {
    bundle = parseBundle(bytes.toString('utf8'));
  } catch {
    /* not a bundle: refused below */
  }
  const unrecorded =
    bundle !== null &&
    bundle.signatures.length === 0 &&
    bundle.payload.transcriptHash === headHash(entries as TranscriptEntry[]) &&
    !entries.some((e) => e.type === ENTRY.bundleCreated && e.data['payloadHash'] === bundle.payloadHash);
  if (!unrecorded) assertOutputFree(outPath);
  return bytes;
}

/** The units' public state, as their transport files describe it, must agree with the request before any key is touched. */
function precheckAgainstUnits(
  a: CreateBundleArgs,
  key: Pick<CeremonySummary, 'kcv' | 'verificationPattern'>,
  rotationFrom: KeyIdentity | null,
): void {
  const r = a.request;
  const snapshots = a.transports.map((t) => ({ id: t.file.unitId, ...t.file.unit }));
  const current = (vp: string, what: string): void => {
    for (const u of snapshots) {
      if (!u.currentMasterKey || !sameHex(u.currentMasterKey.verificationPattern, vp)) {
        throw new CeremonyError(
          'KcvMismatch',
          `Unit ${u.id} holds ${u.currentMasterKey ? `master key ${u.currentMasterKey.kcv}` : 'no master key'} (as its transport file says), not ${what}; the units would refuse this bundle.`,
          { unitId: u.id },
        );
      }
    }
  };
  switch (r.operation) {
    case 'initialize':
      for (const u of snapshots)
        if (u.state !== 'cleared')
          throw new CeremonyError(
            'UnitState',
            `Unit ${u.id} is ${u.state}, not cleared; initialize claims cleared units (use recover or rotate).`,
            { unitId: u.id },
          );
      return;
    case 'recover':
      for (const u of snapshots) {
        if (r.claim && u.state !== 'cleared')
          throw new CeremonyError(
            'UnitState',
            `Unit ${u.id} is ${u.state}; a recovery that claims the units needs cleared units (leave out --admin for claimed units).`,
            { unitId: u.id },
          );
        if (!r.claim && (u.state !== 'claimed' || u.currentMasterKey))
          throw new CeremonyError(
            'UnitState',
            `Unit ${u.id} is ${u.state}; a recovery without a claim needs claimed units that hold no key.`,
            { unitId: u.id },
          );
      }
      return;
    case 'rotate':
      current(rotationFrom!.verificationPattern, `the current key ${rotationFrom!.kcv} of ${r.currentRecordPath}`);
      return;
    case 'admin-change': {
      current(key.verificationPattern, `the key of this record (${key.kcv})`);
      for (const u of snapshots) {
        const after = u.admins.filter((x) => !r.remove.includes(x.thumbprint)).length + r.add.length;
        const gone = r.remove.find((t) => !u.admins.some((x) => x.thumbprint === t));
        if (gone)
          throw new CeremonyError(
            'InvalidArgument',
            `Unit ${u.id} has no admin ${gone} to remove (its admins: ${u.admins.map((x) => `${x.name} ${x.thumbprint}`).join(', ')}).`,
          );
        const dup = r.add.find((c) => u.admins.some((x) => x.thumbprint === c.thumbprint));
        if (dup) throw new CeremonyError('InvalidArgument', `${dup.name} is already an admin of unit ${u.id}.`);
        checkThresholds(r.thresholds, after, `After this change unit ${u.id}`);
        checkAgainstLimits(a.transports[0]!.file.limits, { admins: after });
      }
      return;
    }
    case 'zeroize':
      current(key.verificationPattern, `the key of this record (${key.kcv})`);
      return;
    default:
      missingCase(r);
  }
}

/** What the checks before any key is touched found: the bundle's mode, the key a rotation replaces, a stopped bundle create's file. */
export interface BundlePrecheck {
  rehearsal: boolean;
  currentOfRotation: KeyIdentity | null;
  unrecorded: Buffer | null;
}

/**
 * Everything about a bundle that can be checked without the key, before any
 * share is opened: the output path, the units (all of one instance, of the
 * bundle's mode, each transport confirmed in `entries` against the unit's
 * display), their limits and state, the claim's thresholds (a lock-out is
 * refused here, before anyone signs). `entries` are the record's, or (a
 * recovery from the paper report) those its new record will begin with.
 */
export function precheckBundle(
  a: CreateBundleArgs,
  entries: readonly TranscriptEntry[],
  key: Pick<CeremonySummary, 'ceremonyId' | 'keyName' | 'kcv' | 'verificationPattern'>,
): BundlePrecheck {
  const unrecorded = unrecordedBundleAt(a.outPath, entries);
  checkTransportSet(a.transports);
  const r = a.request;
  // The mode first (issue 11): transport files of units of the other mode
  // are the wrong units, whether confirmed or not; nothing else about them
  // matters, and no share is opened.
  const rehearsal = bundleModeFor(
    [
      { label: `The record ${a.recordPath}`, entries },
      ...(r.operation === 'rotate'
        ? [{ label: `The current record ${r.currentRecordPath}`, entries: readTranscript(r.currentRecordPath) }]
        : []),
    ],
    a.rehearsal === true,
  );
  checkTransportModes(a.transports, rehearsal);
  checkTransportsConfirmed(entries, a.transports);
  const limits = a.transports[0]!.file.limits;
  checkAgainstLimits(limits, {
    keyName: key.keyName,
    ...('claim' in r && r.claim ? { admins: r.claim.admins.length } : {}),
  });
  if ('claim' in r && r.claim) checkThresholds(r.claim, r.claim.admins.length, 'The claim');
  // A rotation replaces the key of its current record, which is another ceremony's.
  let currentOfRotation: KeyIdentity | null = null;
  if (r.operation === 'rotate') {
    const current = summarize(readTranscript(r.currentRecordPath));
    refuseEndedKey(current, `The current record ${r.currentRecordPath}`);
    if (current.ceremonyId === key.ceremonyId)
      throw new CeremonyError(
        'InvalidArgument',
        'The current record and the record of the new key are the same; a rotation loads a newly generated key.',
      );
    currentOfRotation = { kcv: current.kcv, verificationPattern: current.verificationPattern };
  }
  precheckAgainstUnits(a, key, currentOfRotation);
  return { rehearsal, currentOfRotation, unrecorded };
}

/**
 * Builds an unsigned bundle for one operation and records it. Everything
 * that can be checked without the key is checked before any share is
 * opened (precheckBundle): the record (its key ceremony closed as
 * completed), the units (all of one instance, each transport confirmed
 * against the unit's display), their limits and state. Written 0600, never
 * over an existing file.
 */
export async function createBundle(a: CreateBundleArgs): Promise<CreatedBundle> {
  const now = a.now ?? (() => new Date());
  const entries = readTranscript(a.recordPath);
  const key = (a.keyOf ?? summarize)(entries);
  refuseEndedKey(key, `The record ${a.recordPath}`); // retired by a rotation or destroyed (issue 11)
  const { rehearsal, currentOfRotation, unrecorded } = precheckBundle(a, entries, key);
  const r = a.request;
  const lastRecorded = Math.max(0, ...key.bundles.map((b) => b.sequence));
  const lastOnUnits = Math.max(0, ...a.transports.map((t) => t.file.lastSequence));
  const addressing = {
    transports: a.transports,
    rehearsal,
    sequence: Math.max(lastRecorded, lastOnUnits) + 1,
    ceremonyId: key.ceremonyId,
    keyName: key.keyName,
    transcriptHash: headHash(entries),
    now: now(),
  };
  const write = (spec: BundleSpec, sharesUsed: number[]): CreatedBundle => {
    const { jws } = buildBundle({ ...spec, ...addressing });
    const text = serializeBundle(jws);
    const bundle = parseBundle(text);
    if (unrecorded === null) {
      writeFileExclusive(a.outPath, text, BUNDLE_FILE_MODE);
    } else {
      if (!readFileOrFail(a.outPath, 'Bundle').equals(unrecorded)) assertOutputFree(a.outPath);
      replaceFileAtomic(a.outPath, text, BUNDLE_FILE_MODE);
    }
    // Killed between the two writes, the file is an unrecorded bundle that
    // nobody can sign, and the same command run again replaces it.
    appendTranscript(
      a.recordPath,
      {
        type: ENTRY.bundleCreated,
        actor: a.actor ?? 'operator',
        data: bundleCreatedData({ bundle, transports: a.transports, sharesUsed }),
      },
      now(),
    );
    return { bundle, summary: summarizeBundle(bundle), replacedUnrecorded: unrecorded !== null };
  };
  /** The key rebuilt here from shares checked against the record; zeroed before this returns. */
  const fromShares = async (sources: ShareSource[], spec: (masterKey: Uint8Array) => BundleSpec) => {
    const { key: masterKey, used } = await recoverMasterKey(a.recordPath, sources);
    try {
      return write(spec(masterKey), used);
    } finally {
      zeroize(masterKey);
    }
  };
  switch (r.operation) {
    case 'admin-change':
      return write(
        { operation: 'admin-change', current: key, add: r.add, remove: r.remove, thresholds: r.thresholds },
        [],
      );
    case 'zeroize':
      return write({ operation: 'zeroize', current: key }, []);
    case 'initialize':
      return fromShares(r.sources, (masterKey) => ({ operation: 'initialize', masterKey, claim: r.claim }));
    case 'recover':
      if ('rebuilt' in r) {
        // Rebuilt and checked by the caller, who zeroes it; checked once more against the record it goes into.
        const k = r.rebuilt.key;
        if (!sameHex(keyCheckValue(k), key.kcv) || !sameHex(verificationPattern(k), key.verificationPattern))
          throw new CeremonyError('ShareMismatch', 'The rebuilt key is not the key of the record.');
        return write({ operation: 'recover', masterKey: k, claim: r.claim }, r.rebuilt.sharesUsed);
      }
      return fromShares(r.sources, (masterKey) => ({ operation: 'recover', masterKey, claim: r.claim }));
    case 'rotate':
      return fromShares(r.sources, (masterKey) => ({
        operation: 'rotate',
        masterKey,
        currentVerificationPattern: currentOfRotation!.verificationPattern,
      }));
    default:
      return missingCase(r);
  }
}

export function readBundleFile(path: string): ParsedBundle {
  return parseBundle(readFileOrFail(path, 'Bundle').toString('utf8'));
}

/** An approval for signing, from the CLI's --record or --payload-sha256. */
export function signingApproval(a: {
  recordPath?: string | undefined;
  payloadSha256?: string | undefined;
}): SigningApproval {
  if (a.recordPath !== undefined)
    return { recordEntries: readTranscript(a.recordPath), recordLabel: `The ceremony record ${a.recordPath}` };
  if (a.payloadSha256 !== undefined) return { payloadSha256: a.payloadSha256 };
  throw new CeremonyError(
    'InvalidArgument',
    'Say which bundle you mean to sign: --record RECORD or --payload-sha256 HEX from the printed record.',
  );
}

export interface SigningTurn {
  bundle: ParsedBundle;
  summary: BundleSummary;
  signatures: SignatureCheck[];
}

/**
 * Everything a signer must see and every check that needs no secret, before
 * the PIN or passphrase is asked: the bundle is intact, holds only valid
 * signatures, and is the one the record created.
 */
export function prepareSigning(path: string, approval: SigningApproval): SigningTurn {
  const bundle = readBundleFile(path);
  const signatures = checkEmbeddedSignatures(bundle);
  const bad = signatures.filter((c) => !c.valid);
  if (bad.length > 0) {
    throw new CeremonyError(
      'BundleSignatureInvalid',
      `The bundle is already damaged: the signature of ${bad.map((b) => b.name).join(', ')} does not verify. Do not sign it.`,
    );
  }
  return { bundle, summary: approveForSigning(bundle, approval), signatures };
}

/** Adds the signature to the file the signer saw (atomic replace); refuses if it changed meanwhile. */
export async function signPreparedBundle(
  path: string,
  turn: SigningTurn,
  signer: AdminCertificateInfo,
  sign: Rs256Signer,
  record?: { path: string; now?: Date },
): Promise<{ signatures: number; required: number | null; bundle: ParsedBundle; resumed?: true }> {
  const onDisk = readBundleFile(path);
  if (onDisk.payloadHash !== turn.bundle.payloadHash) {
    throw new CeremonyError(
      'BundleMalformed',
      'The bundle file changed while you were deciding to sign it; nothing was signed. Start again.',
    );
  }
  if (record && onDisk.signatures.some((x) => x.thumbprint === signer.thumbprint)) {
    const resumed = recordSignatureLeftUnrecorded(onDisk, signer, record);
    if (resumed) return resumed;
  }
  const jws = await addBundleSignature(onDisk, signer, sign);
  const text = serializeBundle(jws);
  const updated = parseBundle(text);
  replaceFileAtomic(path, text, BUNDLE_FILE_MODE);
  if (record) {
    appendTranscript(
      record.path,
      { type: ENTRY.bundleSigned, actor: signer.name, data: bundleSignedData(updated, signer) },
      record.now,
    );
  }
  const claimed = claimedAdmins(updated.plan);
  return { signatures: updated.signatures.length, required: claimed ? claimed.length : null, bundle: updated };
}

/**
 * A `bundle sign --record` stopped (killed, power gone) after it saved the
 * signature in the bundle but before it recorded it (issue 10): the same
 * command run again records it instead of refusing a second signature. The
 * signature in the file was checked by prepareSigning. Null when the record
 * already holds it (a real second signing, refused as such).
 */
function recordSignatureLeftUnrecorded(
  bundle: ParsedBundle,
  signer: AdminCertificateInfo,
  record: { path: string; now?: Date },
): { signatures: number; required: number | null; bundle: ParsedBundle; resumed: true } | null {
  const entries = readTranscript(record.path);
  const recorded = entries.some(
    (e) =>
      e.type === ENTRY.bundleSigned &&
      e.data['payloadHash'] === bundle.payloadHash &&
      e.data['thumbprint'] === signer.thumbprint,
  );
  if (recorded) return null;
  const valid = checkEmbeddedSignatures(bundle).some((c) => c.valid && c.thumbprint === signer.thumbprint);
  if (!valid) return null;
  appendTranscript(
    record.path,
    { type: ENTRY.bundleSigned, actor: signer.name, data: bundleSignedData(bundle, signer) },
    record.now,
  );
  const claimed = claimedAdmins(bundle.plan);
  return { signatures: bundle.signatures.length, required: claimed ? claimed.length : null, bundle, resumed: true };
}

export interface BundleReport {
  bundle: ParsedBundle;
  summary: BundleSummary;
  signatures: SignatureCheck[];
  claimAdmins: Array<{ name: string; thumbprint: string; signed: boolean }> | null;
  allValid: boolean;
  /** With a record: the bundle-created entry that holds it. */
  recordEntry: TranscriptEntry | null;
}

export function verifyBundleFile(path: string, recordPath?: string): BundleReport {
  const bundle = readBundleFile(path);
  const signatures = checkEmbeddedSignatures(bundle);
  const allValid = signatures.every((s) => s.valid);
  const claimed = claimedAdmins(bundle.plan);
  // An altered bundle is reported as altered; its claim is not worth reading.
  const claimAdmins =
    claimed && allValid
      ? claimed.map((c) => ({
          name: c.name,
          thumbprint: c.thumbprint,
          signed: signatures.some((s) => s.valid && s.thumbprint === c.thumbprint),
        }))
      : null;
  const recordEntry =
    recordPath === undefined
      ? null
      : checkBundleInRecord(bundle, readTranscript(recordPath), `The ceremony record ${recordPath}`);
  return { bundle, summary: summarizeBundle(bundle), signatures, claimAdmins, allValid, recordEntry };
}

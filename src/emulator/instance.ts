import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { checkEmbeddedSignatures, parseBundle, type ParsedBundle } from '../core/bundle/bundle.js';
import { decryptCompactJwe, readJweHeader } from '../core/bundle/jwe.js';
import { verifyJwsSignature } from '../core/bundle/jws.js';
import {
  checkThresholds,
  planOf,
  requiredSignatures,
  type LoadNewCommand,
  type NamedAdmin,
  type OperationPlan,
} from '../core/bundle/protocol.js';
import {
  KP_DEDICATED_LIMITS,
  modeName,
  spkiFingerprint,
  TRANSPORT_FORMAT,
  type TransportKeyFile,
  type UnitLimits,
} from '../core/bundle/transport.js';
import { CeremonyError, isCeremonyError, missingCase, type CeremonyErrorCode } from '../core/errors.js';
import { replaceFileAtomic } from '../core/files.js';
import { readAdminCertificate } from '../core/identity/certificate.js';
import { keyCheckValue, sameHex, verificationPattern } from '../core/masterkey/masterkey.js';
import { zeroize } from '../core/secrets.js';
import { appendAudit } from './audit.js';
import { resealKeystore } from './kms.js';
import { newSealingKey, sealMasterKey, unsealMasterKey } from './keystore.js';
import {
  createInstanceFile,
  loadInstance,
  saveInstance,
  STATE_FORMAT,
  findUnit,
  withInstanceLock,
  type InstalledAdmin,
  type InstanceState,
  type MasterKeyRegister,
  type UnitState,
} from './state.js';

// The crypto units of one service instance (DESIGN.md, "The crypto-unit
// emulator"; docs/unit-protocol.md is the specification this implements,
// in the order it gives). A bundle goes to every unit of the instance; each
// unit applies all of it or none, checks it in the documented order, and
// logs the offer in its audit log whatever the outcome.

export const TRANSPORT_KEY_BITS = 4096;

/**
 * Creates a new instance of 2 or 3 cleared units, each with its own
 * transport key pair, in production mode unless `rehearsal` (issue 11): the
 * mode is the instance's for its whole life.
 */
export function initInstance(
  dir: string,
  units: number,
  options: { rehearsal?: boolean; now?: Date; limits?: UnitLimits } = {},
): InstanceState {
  const { rehearsal = false, now = new Date(), limits = KP_DEDICATED_LIMITS } = options;
  if (units !== 2 && units !== 3) {
    throw new CeremonyError('InvalidArgument', `An instance has 2 or 3 crypto units; got ${units}.`);
  }
  const s: InstanceState = {
    format: STATE_FORMAT,
    instanceId: randomUUID(),
    created: now.toISOString(),
    rehearsal,
    limits,
    units: Array.from({ length: units }, (): UnitState => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: TRANSPORT_KEY_BITS });
      return {
        id: randomUUID(),
        maintenance: false,
        transport: {
          publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
          fingerprint: spkiFingerprint(publicKey),
        },
        sealingKey: newSealingKey(),
        ...clearedUnit(),
        lastSequence: 0,
        appliedBundles: [],
        audit: [],
      };
    }),
    keystore: null,
  };
  createInstanceFile(dir, s);
  return s;
}

/** What a cleared unit holds: nothing but its transport key, its history and its log. */
function clearedUnit(): Pick<
  UnitState,
  | 'state'
  | 'admins'
  | 'signatureThreshold'
  | 'revocationThreshold'
  | 'newMasterKey'
  | 'currentMasterKey'
  | 'oldMasterKey'
  | 'users'
> {
  return {
    state: 'cleared',
    admins: [],
    signatureThreshold: 0,
    revocationThreshold: 0,
    newMasterKey: null,
    currentMasterKey: null,
    oldMasterKey: null,
    users: [],
  };
}

export { findUnit };

export function transportFileFor(s: InstanceState, u: UnitState): TransportKeyFile {
  return {
    format: TRANSPORT_FORMAT,
    instanceId: s.instanceId,
    unitId: u.id,
    units: s.units.map((x) => x.id),
    publicKey: u.transport.publicKey,
    fingerprint: u.transport.fingerprint,
    lastSequence: u.lastSequence,
    limits: s.limits,
    rehearsal: s.rehearsal,
    unit: {
      state: u.state,
      admins: u.admins.map((a) => ({ name: a.name, thumbprint: a.thumbprint })),
      signatureThreshold: u.signatureThreshold,
      revocationThreshold: u.revocationThreshold,
      currentMasterKey: u.currentMasterKey
        ? { kcv: u.currentMasterKey.kcv, verificationPattern: u.currentMasterKey.verificationPattern }
        : null,
    },
  };
}

/** Writes one transport key file per unit (replacing older exports of the same unit). */
export function exportTransportFiles(
  dir: string,
  outDir: string,
): Array<{ unitId: string; path: string; fingerprint: string }> {
  const s = loadInstance(dir);
  return s.units.map((u) => {
    const path = join(outDir, `unit-${u.id}.transport.json`);
    replaceFileAtomic(path, JSON.stringify(transportFileFor(s, u), null, 2) + '\n', 0o644);
    return { unitId: u.id, path, fingerprint: u.transport.fingerprint };
  });
}

export function setMaintenance(dir: string, unitId: string, on: boolean): UnitState {
  return withInstanceLock(dir, () => {
    const s = loadInstance(dir);
    const u = findUnit(s, unitId);
    u.maintenance = on;
    saveInstance(dir, s);
    return u;
  });
}

export interface UnitResult {
  unitId: string;
  ok: boolean;
  /** The unit had applied this very bundle before: nothing changed, nothing failed. */
  alreadyApplied: boolean;
  state: string;
  code?: string;
  message: string;
}

/** A refusal by one unit: the code and sentence that reach its audit log and the operator. */
function refuse(code: CeremonyErrorCode, message: string): never {
  throw new CeremonyError(code, message);
}

/**
 * Step 7 of the unit's checks: the unit is in a state the operation can
 * start from, and the bundle names the key the unit holds where it acts
 * under one.
 */
function checkPrecondition(unit: UnitState, plan: OperationPlan, bundle: ParsedBundle): void {
  const p = bundle.payload;
  const current = unit.currentMasterKey;
  const holdsNamedKey = (): void => {
    if (!current)
      refuse(
        'UnitState',
        `the bundle acts under master key ${p.kcv}, but the unit holds no master key (state ${unit.state}).`,
      );
    if (!sameHex(current.verificationPattern, p.verificationPattern)) {
      refuse(
        'KcvMismatch',
        `the bundle acts under master key ${p.kcv} (verification pattern ${p.verificationPattern.slice(0, 16)}\u2026), but this unit's current key is ${current.kcv} (${current.verificationPattern.slice(0, 16)}\u2026).`,
      );
    }
  };
  switch (plan.operation) {
    case 'initialize':
      if (unit.state !== 'cleared')
        refuse(
          'UnitState',
          `initialize claims cleared units, but this unit is ${unit.state}; to put a key on claimed units use recover, to replace a key use rotate.`,
        );
      return;
    case 'recover':
      if (plan.claim && unit.state !== 'cleared')
        refuse('UnitState', `this recover bundle claims the unit, but it is already claimed (state ${unit.state}).`);
      if (!plan.claim && (unit.state !== 'claimed' || current)) {
        refuse(
          'UnitState',
          unit.state === 'cleared'
            ? 'the unit is cleared and the bundle does not claim it; a recovery onto cleared units carries the claim.'
            : `a recovery onto claimed units needs a unit that holds no master key; this one is ${unit.state}${current ? ` with key ${current.kcv}` : ''}. Only rotate replaces a current key.`,
        );
      }
      return;
    case 'rotate':
      if (unit.state !== 'kms-initialized' || !current)
        refuse('UnitState', `rotate replaces the current key of an initialized unit; this unit is ${unit.state}.`);
      if (!sameHex(plan.expectedCurrentVerificationPattern, current.verificationPattern)) {
        refuse(
          'KcvMismatch',
          `the rotation expects current key ${plan.expectedCurrentVerificationPattern.slice(0, 16)}\u2026, but this unit's current key is ${current.kcv} (${current.verificationPattern.slice(0, 16)}\u2026); nothing was loaded.`,
        );
      }
      for (const [reg, name] of [
        [current, 'current'],
        [unit.oldMasterKey, 'old'],
      ] as const) {
        if (reg && sameHex(reg.verificationPattern, p.verificationPattern))
          refuse(
            'KcvMismatch',
            `the new key ${p.kcv} is the unit's ${name} key; a rotation needs a newly generated key.`,
          );
      }
      return;
    case 'admin-change':
    case 'zeroize':
      if (unit.state === 'cleared')
        refuse(
          'UnitState',
          `the unit is cleared: there is nothing to ${plan.operation === 'zeroize' ? 'zeroize' : 'change'}.`,
        );
      holdsNamedKey();
      return;
    default:
      missingCase(plan);
  }
}

/** Step 8: the signatures, against the unit's installed admins (or the claim's), never the x5c in the bundle. */
function checkSignatures(unit: UnitState, bundle: ParsedBundle): string[] {
  const plan = bundle.plan;
  const claim = (plan.operation === 'initialize' || plan.operation === 'recover') && plan.claim ? plan.claim : null;
  const trusted: InstalledAdmin[] = claim ? claim.admins.map(installed) : unit.admins;
  const { required, rule } = claim
    ? requiredSignatures(plan, { signatureThreshold: 0, revocationThreshold: 0, admins: 0 })
    : requiredSignatures(plan, {
        signatureThreshold: unit.signatureThreshold,
        revocationThreshold: unit.revocationThreshold,
        admins: unit.admins.length,
      });
  if (bundle.signatures.length > trusted.length) {
    refuse(
      'BundleMalformed',
      `the bundle carries ${bundle.signatures.length} signatures, more than the ${trusted.length} admins who may sign it.`,
    );
  }
  const valid = new Set<string>();
  for (const [i, s] of bundle.signatures.entries()) {
    const admin = trusted.find((a) => a.thumbprint === s.thumbprint);
    if (!admin)
      refuse(
        'UnknownSigner',
        `signature ${i + 1} is by an unknown signer (certificate thumbprint ${s.thumbprint}), not an admin of this unit.`,
      );
    if (valid.has(admin.thumbprint))
      refuse('BundleMalformed', `${admin.name} signed the bundle twice; a signature counts once.`);
    const key = readAdminCertificate(Buffer.from(admin.certificate, 'base64')).publicKey;
    if (!verifyJwsSignature(bundle.jws.payload, s.entry, s.header, key)) {
      refuse(
        'BundleSignatureInvalid',
        `the signature of ${admin.name} does not verify: the bundle was altered after signing.`,
      );
    }
    valid.add(admin.thumbprint);
  }
  if (valid.size < required) {
    const missing = claim ? trusted.filter((a) => !valid.has(a.thumbprint)).map((a) => a.name) : [];
    refuse(
      'TooFewSignatures',
      `too few signatures: ${valid.size} valid, ${rule}` +
        (missing.length > 0 ? `; missing: ${missing.join(', ')}.` : '.'),
    );
  }
  return [...valid];
}

function installed(a: NamedAdmin): InstalledAdmin {
  return { name: a.name, thumbprint: a.thumbprint, certificate: a.certificate };
}

/** load-new: unwraps the key for this unit and checks it against the bundle's KCV and pattern. Returns the sealed register. */
function loadNewKey(u: UnitState, load: LoadNewCommand, bundle: ParsedBundle): MasterKeyRegister {
  const p = bundle.payload;
  const jwe = load.keys[u.id]!;
  const h = readJweHeader(jwe, 'The wrapped master key');
  if (h.kid !== u.transport.fingerprint) {
    refuse(
      'WrongTarget',
      `the master key was wrapped for transport key ${h.kid}, not this unit's ${u.transport.fingerprint}.`,
    );
  }
  const key = decryptCompactJwe(jwe, createPrivateKey(u.transport.privateKey), 'The wrapped master key');
  try {
    if (key.length !== 32) refuse('BundleMalformed', 'the wrapped master key is not 32 bytes.');
    const kcv = keyCheckValue(key);
    const vp = verificationPattern(key);
    if (kcv !== p.kcv)
      refuse(
        'KcvMismatch',
        `the unwrapped master key's check value is ${kcv}, but the bundle says ${p.kcv}; nothing was loaded.`,
      );
    if (!sameHex(vp, p.verificationPattern)) {
      refuse(
        'KcvMismatch',
        `the unwrapped master key's verification pattern differs from the bundle's (the KCV ${kcv} matches, the full pattern does not); nothing was loaded.`,
      );
    }
    return {
      kcv,
      verificationPattern: vp,
      keyName: p.keyName,
      ceremonyId: p.ceremonyId,
      transcriptHash: p.transcriptHash,
      sealed: sealMasterKey(u, key, vp),
      committed: false,
    };
  } finally {
    zeroize(key);
  }
}

/** Installs admins and thresholds after checking nobody is locked out. */
function setAdmins(
  u: UnitState,
  admins: InstalledAdmin[],
  t: { signatureThreshold: number; revocationThreshold: number },
  limits: UnitLimits,
): void {
  if (admins.length > limits.maxAdmins)
    refuse(
      'UnitState',
      `the unit would have ${admins.length} admins; it takes at most ${limits.maxAdmins} (${limits.profile}).`,
    );
  try {
    checkThresholds(t, admins.length, 'The change');
  } catch (e) {
    refuse('UnitState', `refused, it would lock the unit out: ${(e as Error).message}`);
  }
  u.admins = admins;
  u.signatureThreshold = t.signatureThreshold;
  u.revocationThreshold = t.revocationThreshold;
}

/** Step 9: the commands, in order, on a copy of the unit. Throws the reason; the copy is discarded then. */
function applyCommands(unit: UnitState, bundle: ParsedBundle, s: InstanceState): UnitState {
  const plan = bundle.plan;
  const p = bundle.payload;
  const u: UnitState = structuredClone(unit);
  for (const c of p.commands) {
    switch (c.command) {
      case 'claim': {
        const claim = (plan as { claim: { admins: NamedAdmin[] } }).claim;
        setAdmins(u, claim.admins.map(installed), c, s.limits);
        u.state = 'claimed';
        break;
      }
      case 'load-new':
        if ([...p.keyName].length > s.limits.keyNameMaxLength) {
          refuse(
            'InvalidArgument',
            `the key name "${p.keyName}" is longer than the ${s.limits.keyNameMaxLength} characters this unit takes (${s.limits.profile}).`,
          );
        }
        u.newMasterKey = loadNewKey(u, c, bundle);
        u.state = 'mk-loaded';
        break;
      case 'commit':
        if (!u.newMasterKey) refuse('UnitState', 'there is no new master key to commit.');
        u.newMasterKey.committed = true;
        u.state = 'mk-committed';
        break;
      case 'activate': {
        const next = u.newMasterKey;
        if (!next?.committed) refuse('UnitState', 'there is no committed master key to activate.');
        if (u.currentMasterKey) u.oldMasterKey = u.currentMasterKey;
        u.currentMasterKey = { ...next, committed: true };
        u.newMasterKey = null;
        u.state = u.users.includes('kmsCryptoUser') ? 'kms-initialized' : 'mk-committed';
        break;
      }
      case 'add-user':
        if (!u.currentMasterKey)
          refuse('UnitState', `the ${c.type} can only be added once a master key is active (state ${u.state}).`);
        if (!u.users.includes(c.type)) u.users.push(c.type);
        u.state = 'kms-initialized';
        break;
      case 'remove-admin': {
        const victim = u.admins.find((a) => a.thumbprint === c.thumbprint);
        if (!victim) refuse('UnitState', `the bundle removes admin ${c.thumbprint}, who is not an admin of this unit.`);
        u.admins = u.admins.filter((a) => a !== victim);
        break;
      }
      case 'add-admin': {
        const cert = readAdminCertificate(Buffer.from(c.certificate, 'base64'));
        if (u.admins.some((a) => a.thumbprint === cert.thumbprint))
          refuse('UnitState', `${cert.name} (${cert.thumbprint}) is already an admin of this unit.`);
        u.admins = [...u.admins, { name: cert.name, thumbprint: cert.thumbprint, certificate: c.certificate }];
        break;
      }
      case 'set-thresholds': {
        const unchanged =
          u.admins.length === unit.admins.length &&
          u.admins.every((a, i) => a.thumbprint === unit.admins[i]!.thumbprint) &&
          c.signatureThreshold === unit.signatureThreshold &&
          c.revocationThreshold === unit.revocationThreshold;
        if (unchanged) refuse('UnitState', 'the admin change changes nothing on this unit.');
        setAdmins(u, u.admins, c, s.limits);
        break;
      }
      case 'zeroize':
        Object.assign(u, clearedUnit());
        u.sealingKey = newSealingKey(); // what was sealed under the old one is gone with it
        break;
      default:
        missingCase(c);
    }
  }
  return u;
}

/** After a unit activated a rotated key: the KMS keystore follows it, sealed under the new key. */
function followRotation(s: InstanceState, before: UnitState, after: UnitState): void {
  const from = before.currentMasterKey;
  const to = after.currentMasterKey;
  if (!s.keystore || !from || !to || from.verificationPattern === to.verificationPattern) return;
  if (s.keystore.masterKeyVerificationPattern !== from.verificationPattern) return;
  const oldKey = unsealMasterKey(before, from);
  const newKey = unsealMasterKey(after, to);
  try {
    s.keystore = resealKeystore(s.keystore, oldKey, newKey, to.verificationPattern);
  } finally {
    zeroize(oldKey, newKey);
  }
}

/**
 * Once every unit of the instance is cleared (zeroized), the keystore is gone
 * too. Not before: a unit that missed a rotation can still be brought to the
 * key the keystore is sealed under by a retry, and its root keys with it.
 */
function dropOrphanKeystore(s: InstanceState): void {
  if (s.keystore && s.units.every((u) => u.state === 'cleared')) s.keystore = null;
}

/**
 * Check B1, for the whole instance (issue 11): the bundle's mode is the
 * instance's. A rehearsal bundle never reaches a production unit's other
 * checks, not even "already applied", and a production bundle never a
 * rehearsal unit's. Returns the refusal, or null.
 */
function modeRefusal(s: InstanceState, bundle: ParsedBundle): { code: CeremonyErrorCode; message: string } | null {
  const bundleMode = modeName(bundle.payload.rehearsal);
  const unitMode = modeName(s.rehearsal);
  if (bundleMode === unitMode) return null;
  return {
    code: 'RehearsalMismatch',
    message: `this is a ${unitMode} unit and the bundle is a ${bundleMode} bundle; a unit accepts bundles of its own mode only${s.rehearsal ? '' : ', so nothing made in a rehearsal reaches a production unit'}.`,
  };
}

/**
 * Checks 1-2, for the whole instance: the bundle is for this instance and
 * addresses exactly its units. Returns the refusal, or null.
 */
function instanceRefusal(s: InstanceState, bundle: ParsedBundle): { code: CeremonyErrorCode; message: string } | null {
  const p = bundle.payload;
  if (p.instanceId !== s.instanceId)
    return {
      code: 'WrongTarget',
      message: `the bundle is for service instance ${p.instanceId}, not this one (${s.instanceId}).`,
    };
  const mine = s.units
    .map((u) => u.id)
    .sort()
    .join(',');
  if ([...p.targets].sort().join(',') !== mine) {
    return {
      code: 'WrongTarget',
      message: `the bundle targets units ${p.targets.join(', ')}, not exactly this instance's units ${s.units.map((u) => u.id).join(', ')}; a bundle goes to every unit of its instance.`,
    };
  }
  return null;
}

/**
 * Ingests a bundle. Each unit (every unit of the instance, or those named
 * in `onlyUnits` for a retry) applies all of the bundle or none of it and
 * logs the offer; results are per unit, so a partial success is visible and
 * a retry aimed at the failed units completes the instance. A bundle that
 * cannot even be parsed changes nothing anywhere.
 */
export function ingestBundle(
  dir: string,
  bundleText: string,
  onlyUnits: readonly string[] = [],
  now = new Date(),
): UnitResult[] {
  return withInstanceLock(dir, () => {
    const s = loadInstance(dir);
    const units = onlyUnits.length > 0 ? [...new Set(onlyUnits.map((id) => findUnit(s, id)))] : s.units;
    let bundle: ParsedBundle;
    try {
      bundle = parseBundle(bundleText);
    } catch (e) {
      if (!isCeremonyError(e)) throw e;
      // Every unit offered the bundle logs it, even one it could not read.
      for (const u of units.filter((x) => !x.maintenance)) {
        appendAudit(
          u,
          {
            bundleId: null,
            operation: null,
            payloadHash: null,
            signers: [],
            result: 'rejected',
            code: e.code,
            reason: e.message,
          },
          now,
        );
      }
      saveInstance(dir, s);
      return [
        { unitId: '*', ok: false, alreadyApplied: false, state: '-', code: e.code, message: `rejected: ${e.message}` },
      ];
    }
    const refusal = modeRefusal(s, bundle) ?? instanceRefusal(s, bundle);
    const results: UnitResult[] = [];
    for (const unit of units) {
      const r = offerToUnit(s, unit, bundle, refusal, now);
      results.push(r);
    }
    dropOrphanKeystore(s);
    saveInstance(dir, s); // audit entries are kept whatever the outcome
    return results;
  });
}

/**
 * A refusal decided on what the bundle says before its signatures are
 * checked (step 8): the person is told that the bundle may also have been
 * altered, since nothing in it is authenticated yet (issue 10).
 */
function refuseUnsigned(code: CeremonyErrorCode, message: string): never {
  refuse(
    code,
    `${message} (This is what the bundle says; its signatures are not checked yet, so it may also have been altered.)`,
  );
}

/** How the unit was zeroized after it applied this bundle (a zeroize bundle or locally), or null. */
function zeroizedSince(unit: UnitState, bundleId: string): string | null {
  const applied = unit.audit.findLast((a) => a.result === 'applied' && a.bundleId === bundleId);
  if (!applied) return null;
  const later = unit.audit.find(
    (a) =>
      a.seq > applied.seq &&
      ((a.result === 'applied' && a.operation === 'zeroize') || (a.result === 'local' && a.code === 'zeroize')),
  );
  if (!later) return null;
  return later.result === 'local' ? `locally, ${later.time}` : `by bundle ${later.bundleId}, ${later.time}`;
}

function offerToUnit(
  s: InstanceState,
  unit: UnitState,
  bundle: ParsedBundle,
  refusal: { code: CeremonyErrorCode; message: string } | null,
  now: Date,
): UnitResult {
  const p = bundle.payload;
  const audit = (
    u: UnitState,
    result: 'applied' | 'already-applied' | 'rejected',
    code: string | null,
    reason: string,
  ): void => {
    appendAudit(
      u,
      {
        bundleId: p.bundleId,
        operation: p.operation,
        payloadHash: bundle.payloadHash,
        signers: bundle.signatures.map((x) => x.thumbprint),
        result,
        code,
        reason,
      },
      now,
    );
  };
  if (unit.maintenance) {
    // A unit in maintenance does not see the bundle at all.
    return {
      unitId: unit.id,
      ok: false,
      alreadyApplied: false,
      state: unit.state,
      code: 'UnitInMaintenance',
      message: 'rejected: the unit is in maintenance; retry when it is back, aiming at this unit only (--unit).',
    };
  }
  try {
    if (refusal) refuseUnsigned(refusal.code, refusal.message);
    const seen = unit.appliedBundles.find((a) => a.bundleId === p.bundleId);
    // A bundle whose effect a later zeroize destroyed is not "in place": it is a replay.
    if (seen && zeroizedSince(unit, seen.bundleId)) {
      refuseUnsigned(
        'Replay',
        `this bundle (sequence ${p.sequence}) was applied before, but the unit was zeroized since (${zeroizedSince(unit, seen.bundleId)}); a replay is refused. A new bundle is needed.`,
      );
    }
    if (seen && seen.payloadHash === bundle.payloadHash) {
      // Only this very bundle, intact and signed by those it was applied with, is "already applied".
      const intact =
        checkEmbeddedSignatures(bundle).every((c) => c.valid) &&
        bundle.signatures.every((x) => seen.signers.includes(x.thumbprint));
      if (!intact)
        refuse(
          'BundleSignatureInvalid',
          `this bundle (sequence ${p.sequence}) was applied before, but this copy carries signatures that do not verify or that it was not applied with: it was altered.`,
        );
      audit(unit, 'already-applied', null, `sequence ${p.sequence} was applied before; nothing changed`);
      return {
        unitId: unit.id,
        ok: true,
        alreadyApplied: true,
        state: unit.state,
        message: `already applied (sequence ${p.sequence}); nothing changed`,
      };
    }
    if (seen)
      refuse(
        'Replay',
        `a different bundle with the same id ${p.bundleId} was applied before: this one was altered and re-issued.`,
      );
    if (p.sequence <= unit.lastSequence)
      refuseUnsigned(
        'Replay',
        `replayed or out-of-date bundle: sequence ${p.sequence} is not above the last accepted ${unit.lastSequence}.`,
      );
    // The sequence of commands again, against this unit's copy of the rules, before any change.
    planOf(p.operation, p.commands, p.targets);
    try {
      checkPrecondition(unit, bundle.plan, bundle);
    } catch (e) {
      if (isCeremonyError(e)) refuseUnsigned(e.code, e.message);
      throw e;
    }
    const signers = checkSignatures(unit, bundle);
    const updated = applyCommands(unit, bundle, s);
    updated.lastSequence = p.sequence;
    updated.appliedBundles.push({
      bundleId: p.bundleId,
      payloadHash: bundle.payloadHash,
      sequence: p.sequence,
      operation: p.operation,
      transcriptHash: p.transcriptHash,
      signers,
    });
    audit(updated, 'applied', null, `${p.operation} applied; signed by ${signers.length}; state ${updated.state}`);
    followRotation(s, unit, updated);
    s.units[s.units.indexOf(unit)] = updated;
    return {
      unitId: unit.id,
      ok: true,
      alreadyApplied: false,
      state: updated.state,
      message: `accepted: ${p.operation}; state ${updated.state}, master key KCV ${updated.currentMasterKey?.kcv ?? '-'}`,
    };
  } catch (e) {
    if (!isCeremonyError(e)) throw e;
    audit(unit, 'rejected', e.code, e.message);
    return {
      unitId: unit.id,
      ok: false,
      alreadyApplied: false,
      state: unit.state,
      code: e.code,
      message: `rejected: ${e.message}`,
    };
  }
}

/** Zeroizes one unit locally (taken out of service, no bundle): it returns to cleared with nothing left. */
export function zeroizeUnitLocally(dir: string, unitId: string, now = new Date()): UnitState {
  return withInstanceLock(dir, () => {
    const s = loadInstance(dir);
    const u = findUnit(s, unitId);
    Object.assign(u, clearedUnit());
    u.sealingKey = newSealingKey();
    appendAudit(
      u,
      {
        bundleId: null,
        operation: null,
        payloadHash: null,
        signers: [],
        result: 'local',
        code: 'zeroize',
        reason: 'zeroized locally at the unit (taken out of service)',
      },
      now,
    );
    dropOrphanKeystore(s);
    saveInstance(dir, s);
    return u;
  });
}

export interface UnitStatus {
  id: string;
  state: string;
  maintenance: boolean;
  adminThumbprints: string[];
  adminNames: string[];
  signatureThreshold: number;
  revocationThreshold: number;
  masterKeyKcv: string | null;
  masterKeyVerificationPattern: string | null;
  newMasterKeyKcv: string | null;
  newMasterKeyVerificationPattern: string | null;
  oldMasterKeyKcv: string | null;
  oldMasterKeyVerificationPattern: string | null;
  /** The record entry hash of the bundle that loaded the current key. */
  masterKeyTranscriptHash: string | null;
  lastSequence: number;
  transportFingerprint: string;
}

export interface InstanceStatus {
  instanceId: string;
  /** Rehearsal or production (issue 11): its units accept bundles of that mode only. */
  rehearsal: boolean;
  limits: UnitLimits;
  units: UnitStatus[];
  /** Where the units of the instance differ: empty when they are identical. */
  mismatches: string[];
  rootKeys: number;
}

function unitStatus(u: UnitState): UnitStatus {
  return {
    id: u.id,
    state: u.maintenance ? 'maintenance' : u.state,
    maintenance: u.maintenance,
    adminThumbprints: u.admins.map((a) => a.thumbprint),
    adminNames: u.admins.map((a) => a.name),
    signatureThreshold: u.signatureThreshold,
    revocationThreshold: u.revocationThreshold,
    masterKeyKcv: u.currentMasterKey?.kcv ?? null,
    masterKeyVerificationPattern: u.currentMasterKey?.verificationPattern ?? null,
    newMasterKeyKcv: u.newMasterKey?.kcv ?? null,
    newMasterKeyVerificationPattern: u.newMasterKey?.verificationPattern ?? null,
    oldMasterKeyKcv: u.oldMasterKey?.kcv ?? null,
    oldMasterKeyVerificationPattern: u.oldMasterKey?.verificationPattern ?? null,
    masterKeyTranscriptHash: u.currentMasterKey?.transcriptHash ?? null,
    lastSequence: u.lastSequence,
    transportFingerprint: u.transport.fingerprint,
  };
}

/** The units of one instance must end up identical; names every way in which they differ. */
export function compareUnits(units: readonly UnitStatus[]): string[] {
  // Compared on the full values; shown short, for people.
  const differ = (what: string, full: (u: UnitStatus) => string, shown: (u: UnitStatus) => string): string[] => {
    const values = new Set(units.map(full));
    return values.size > 1 ? [`mismatched ${what}: ${units.map((u) => `unit ${u.id} ${shown(u)}`).join(', ')}`] : [];
  };
  return [
    ...differ(
      'master key material',
      (u) =>
        [u.masterKeyVerificationPattern, u.newMasterKeyVerificationPattern, u.oldMasterKeyVerificationPattern].join(
          '/',
        ),
      (u) => `${u.masterKeyKcv ?? 'none'} (new ${u.newMasterKeyKcv ?? 'none'}, old ${u.oldMasterKeyKcv ?? 'none'})`,
    ),
    ...differ(
      'admins',
      (u) => u.adminThumbprints.join(','),
      (u) => `[${u.adminNames.map((n, i) => `${n} ${u.adminThumbprints[i]!.slice(0, 8)}`).join(', ')}]`,
    ),
    ...differ(
      'thresholds',
      (u) => `${u.signatureThreshold}/${u.revocationThreshold}`,
      (u) => `signature ${u.signatureThreshold}, revocation ${u.revocationThreshold}`,
    ),
  ];
}

export function instanceStatus(dir: string): InstanceStatus {
  const s = loadInstance(dir);
  const units = s.units.map(unitStatus);
  return {
    instanceId: s.instanceId,
    rehearsal: s.rehearsal,
    limits: s.limits,
    units,
    mismatches: compareUnits(units),
    rootKeys: s.keystore?.rootKeys.length ?? 0,
  };
}

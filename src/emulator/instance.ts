import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { decryptCompactJwe, readJweHeader } from '../core/bundle/jwe.js';
import { verifyJwsSignature } from '../core/bundle/jws.js';
import { claimOf, parseBundle, type BundlePayload, type ParsedBundle } from '../core/bundle/bundle.js';
import { spkiFingerprint, TRANSPORT_FORMAT, type TransportKeyFile } from '../core/bundle/transport.js';
import { CeremonyError, isCeremonyError, missingCase } from '../core/errors.js';
import { replaceFileAtomic } from '../core/files.js';
import { readAdminCertificate } from '../core/identity/certificate.js';
import { keyCheckValue, sameHex, verificationPattern } from '../core/masterkey/masterkey.js';
import { zeroize } from '../core/secrets.js';
import {
  createInstanceFile,
  loadInstance,
  saveInstance,
  withInstanceLock,
  type InstalledAdmin,
  type InstanceState,
  type UnitState,
} from './state.js';

export const TRANSPORT_KEY_BITS = 4096;

/** Creates a new instance of 2 or 3 cleared units, each with its own transport key pair. */
export function initInstance(dir: string, units: number, now = new Date()): InstanceState {
  if (units !== 2 && units !== 3) {
    throw new CeremonyError('InvalidArgument', `An instance has 2 or 3 crypto units; got ${units}.`);
  }
  const s: InstanceState = {
    format: 'keyceremony-emulator/1',
    instanceId: randomUUID(),
    created: now.toISOString(),
    units: Array.from({ length: units }, () => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: TRANSPORT_KEY_BITS });
      return {
        id: randomUUID(),
        state: 'cleared' as const,
        maintenance: false,
        transport: {
          publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
          fingerprint: spkiFingerprint(publicKey),
        },
        admins: [],
        signatureThreshold: 0,
        newMasterKey: null,
        currentMasterKey: null,
        users: [],
        lastSequence: 0,
        appliedBundles: [],
      };
    }),
  };
  createInstanceFile(dir, s);
  return s;
}

export function transportFileFor(s: InstanceState, u: UnitState): TransportKeyFile {
  return {
    format: TRANSPORT_FORMAT,
    instanceId: s.instanceId,
    unitId: u.id,
    publicKey: u.transport.publicKey,
    fingerprint: u.transport.fingerprint,
    lastSequence: u.lastSequence,
  };
}

/** Writes one transport key file per unit (replacing older exports of the same unit). */
export function exportTransportFiles(dir: string, outDir: string): Array<{ unitId: string; path: string; fingerprint: string }> {
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

function findUnit(s: InstanceState, unitId: string): UnitState {
  const matches = s.units.filter((u) => u.id === unitId || u.id.startsWith(unitId));
  if (matches.length !== 1) {
    throw new CeremonyError('InvalidArgument', `No single unit ${unitId} in this instance (units: ${s.units.map((u) => u.id).join(', ')}).`);
  }
  return matches[0]!;
}

export interface UnitResult {
  unitId: string;
  ok: boolean;
  state: string;
  code?: string;
  message: string;
}

function unitError(code: ConstructorParameters<typeof CeremonyError>[0], message: string): never {
  throw new CeremonyError(code, message);
}

/** Who must have signed, and who did, for this unit. Throws with the reason if not enough. */
function checkSignatures(unit: UnitState, bundle: ParsedBundle): void {
  const claim = claimOf(bundle.payload);
  let trusted: InstalledAdmin[];
  let required: number;
  let rule: string;
  if (claim) {
    if (unit.state !== 'cleared') {
      unitError('UnitState', `the bundle claims the unit, but it is already claimed (state ${unit.state}).`);
    }
    trusted = claim.admins.map((der, i) => {
      const c = readAdminCertificate(Buffer.from(der, 'base64'), `Admin certificate ${i + 1} in the claim`);
      return { name: c.name, thumbprint: c.thumbprint, certificate: der };
    });
    required = trusted.length;
    rule = `a claim must be signed by every admin it installs (${required})`;
  } else {
    if (unit.state === 'cleared') {
      unitError('UnitState', 'the unit is cleared and the bundle does not claim it; a claim with the admin certificates comes first.');
    }
    trusted = unit.admins;
    required = unit.signatureThreshold;
    rule = `the unit requires ${required} of its ${unit.admins.length} admins`;
  }
  const valid = new Set<string>();
  for (const [i, s] of bundle.signatures.entries()) {
    const admin = trusted.find((a) => a.thumbprint === s.thumbprint);
    if (!admin) {
      unitError('UnknownSigner', `signature ${i + 1} is by an unknown signer (certificate thumbprint ${s.thumbprint}), not an admin of this unit.`);
    }
    const key = readAdminCertificate(Buffer.from(admin.certificate, 'base64')).publicKey;
    if (!verifyJwsSignature(bundle.jws.payload, s.entry, s.header, key)) {
      unitError('BundleSignatureInvalid', `the signature of ${admin.name} does not verify: the bundle was altered after signing.`);
    }
    valid.add(admin.thumbprint);
  }
  if (valid.size < required) {
    const missing = trusted.filter((a) => !valid.has(a.thumbprint)).map((a) => a.name);
    unitError(
      'TooFewSignatures',
      `too few signatures: ${valid.size} valid, ${rule}` + (claim ? `; missing: ${missing.join(', ')}.` : '.'),
    );
  }
}

/** Applies the bundle's commands to a copy of the unit; returns the copy or throws the reason. */
function applyToUnit(unit: UnitState, bundle: ParsedBundle, instanceId: string): UnitState {
  const p: BundlePayload = bundle.payload;
  if (p.instanceId !== instanceId) unitError('WrongTarget', `the bundle is for service instance ${p.instanceId}, not this one (${instanceId}).`);
  if (!p.targets.includes(unit.id)) unitError('WrongTarget', `the bundle is not addressed to this unit (it targets ${p.targets.join(', ')}).`);
  if (unit.maintenance) unitError('UnitInMaintenance', 'the unit is in maintenance; retry when it is back, aiming at this unit only.');
  if (p.sequence <= unit.lastSequence) {
    unitError('Replay', unit.appliedBundles.includes(p.bundleId)
      ? `this bundle (sequence ${p.sequence}) was already applied to this unit.`
      : `replayed or out-of-date bundle: sequence ${p.sequence} is not above the last accepted ${unit.lastSequence}.`);
  }
  checkSignatures(unit, bundle);
  const u: UnitState = structuredClone(unit);
  for (const c of p.commands) {
    switch (c.command) {
      case 'claim': {
        u.admins = c.admins.map((der) => {
          const cert = readAdminCertificate(Buffer.from(der, 'base64'));
          return { name: cert.name, thumbprint: cert.thumbprint, certificate: der };
        });
        if (new Set(u.admins.map((a) => a.thumbprint)).size !== u.admins.length) unitError('BundleMalformed', 'the claim lists an admin twice.');
        if (!Number.isInteger(c.signatureThreshold) || c.signatureThreshold < 1 || c.signatureThreshold > u.admins.length) {
          unitError('BundleMalformed', `the claim's signature threshold ${c.signatureThreshold} is not between 1 and ${u.admins.length}.`);
        }
        u.signatureThreshold = c.signatureThreshold;
        u.state = 'claimed';
        break;
      }
      case 'load-master-key': {
        if (u.state === 'cleared') unitError('UnitState', 'a master key cannot be loaded into a cleared unit.');
        const jwe = c.keys[u.id];
        if (!jwe) unitError('BundleMalformed', 'the bundle holds no master key wrapped for this unit.');
        const h = readJweHeader(jwe, 'The wrapped master key');
        if (h.kid !== u.transport.fingerprint) {
          unitError('WrongTarget', `the master key was wrapped for transport key ${h.kid}, not this unit's ${u.transport.fingerprint}.`);
        }
        const key = decryptCompactJwe(jwe, createPrivateKey(u.transport.privateKey), 'The wrapped master key');
        try {
          if (key.length !== 32) unitError('BundleMalformed', 'the wrapped master key is not 32 bytes.');
          const kcv = keyCheckValue(key);
          const vp = verificationPattern(key);
          if (kcv !== p.kcv || !sameHex(vp, p.verificationPattern)) {
            unitError('KcvMismatch', `the master key's check value ${kcv} does not match the bundle's ${p.kcv}; nothing was loaded.`);
          }
          u.newMasterKey = { kcv, verificationPattern: vp, keyName: p.keyName, ceremonyId: p.ceremonyId };
        } finally {
          zeroize(key);
        }
        u.state = 'mk-loaded';
        break;
      }
      case 'commit-master-key':
        if (!u.newMasterKey) unitError('UnitState', 'there is no new master key to commit.');
        u.currentMasterKey = u.newMasterKey;
        u.newMasterKey = null;
        u.state = 'mk-committed';
        break;
      case 'add-user':
        if (u.state !== 'mk-committed' && u.state !== 'kms-initialized') {
          unitError('UnitState', `the ${c.type} can only be added once a master key is committed (state ${u.state}).`);
        }
        if (!u.users.includes(c.type)) u.users.push(c.type);
        u.state = 'kms-initialized';
        break;
      default:
        missingCase(c);
    }
  }
  u.lastSequence = p.sequence;
  u.appliedBundles.push(p.bundleId);
  return u;
}

/**
 * Ingests a bundle. Each addressed unit (or only `onlyUnit`) applies all of
 * the bundle or none of it; results are per unit, so a partial success is
 * visible and a retry aimed at the failed units completes the instance.
 * A bundle that cannot even be parsed changes nothing anywhere.
 */
export function ingestBundle(dir: string, bundleText: string, onlyUnit?: string): UnitResult[] {
  return withInstanceLock(dir, () => {
    const s = loadInstance(dir);
    let bundle: ParsedBundle;
    try {
      bundle = parseBundle(bundleText);
    } catch (e) {
      if (!isCeremonyError(e)) throw e;
      return [{ unitId: '*', ok: false, state: '-', code: e.code, message: `rejected: ${e.message}` }];
    }
    let units: UnitState[];
    if (onlyUnit !== undefined) units = [findUnit(s, onlyUnit)];
    else {
      units = s.units.filter((u) => bundle.payload.targets.includes(u.id));
      if (units.length === 0) {
        return [{
          unitId: '*',
          ok: false,
          state: '-',
          code: 'WrongTarget',
          message: `rejected: the bundle is for units ${bundle.payload.targets.join(', ')}, none of which belong to this instance.`,
        }];
      }
    }
    const results: UnitResult[] = [];
    for (const unit of units) {
      try {
        const updated = applyToUnit(unit, bundle, s.instanceId);
        s.units[s.units.indexOf(unit)] = updated;
        results.push({ unitId: unit.id, ok: true, state: updated.state, message: `accepted; state ${updated.state}, master key KCV ${updated.currentMasterKey?.kcv ?? '-'}` });
      } catch (e) {
        if (!isCeremonyError(e)) throw e;
        results.push({ unitId: unit.id, ok: false, state: unit.state, code: e.code, message: `rejected: ${e.message}` });
      }
    }
    if (results.some((r) => r.ok)) saveInstance(dir, s);
    return results;
  });
}

export interface UnitStatus {
  id: string;
  state: string;
  maintenance: boolean;
  adminThumbprints: string[];
  adminNames: string[];
  signatureThreshold: number;
  masterKeyKcv: string | null;
  masterKeyVerificationPattern: string | null;
  newMasterKeyKcv: string | null;
  lastSequence: number;
  transportFingerprint: string;
}

export function instanceStatus(dir: string): { instanceId: string; units: UnitStatus[] } {
  const s = loadInstance(dir);
  return {
    instanceId: s.instanceId,
    units: s.units.map((u) => ({
      id: u.id,
      state: u.maintenance ? 'maintenance' : u.state,
      maintenance: u.maintenance,
      adminThumbprints: u.admins.map((a) => a.thumbprint),
      adminNames: u.admins.map((a) => a.name),
      signatureThreshold: u.signatureThreshold,
      masterKeyKcv: u.currentMasterKey?.kcv ?? null,
      masterKeyVerificationPattern: u.currentMasterKey?.verificationPattern ?? null,
      newMasterKeyKcv: u.newMasterKey?.kcv ?? null,
      lastSequence: u.lastSequence,
      transportFingerprint: u.transport.fingerprint,
    })),
  };
}

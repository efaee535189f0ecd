import { createPublicKey, type KeyObject } from 'node:crypto';
import { exactMembers, sha256Hex } from '../encoding.js';
import { CeremonyError } from '../errors.js';
import { readFileOrFail } from '../files.js';
import { MAX_ADMINS } from './protocol.js';

// The transport key file a crypto unit exports (DESIGN.md, "Formats";
// docs/unit-protocol.md): the unit id, its RSA public key, the SHA-256
// fingerprint of the key's SubjectPublicKeyInfo, every unit of its instance
// (a bundle addresses them all), the unit's limits, and a snapshot of its
// public state. The file comes over removable media and proves nothing by
// itself: the operator confirms the fingerprint against the unit's own
// display into the record (`keyceremony units confirm`), and only confirmed
// keys are wrapped to. The snapshot serves early refusals; units decide.
//
// Version 3 (issue 11) added `rehearsal`: whether the unit's instance is a
// rehearsal or a production one, so that `bundle create` refuses a bundle
// of the other mode before anyone signs. A version 2 file says nothing
// about the mode and is refused naming its version.

export const TRANSPORT_FORMAT = 'keyceremony-transport/3';

/** What a unit accepts, carried to the ceremony so the setup is checked before any key exists. */
export interface UnitLimits {
  /** The units' profile: whose client rules they follow. */
  profile: string;
  keyNameMaxLength: number;
  maxAdmins: number;
}

/** IBM Key Protect Dedicated's client enforces 1-8 character key names and at most 8 admins. */
export const KP_DEDICATED_LIMITS: UnitLimits = { profile: 'kp-dedicated', keyNameMaxLength: 8, maxAdmins: MAX_ADMINS };

export interface UnitSnapshot {
  state: string;
  admins: Array<{ name: string; thumbprint: string }>;
  signatureThreshold: number;
  revocationThreshold: number;
  currentMasterKey: { kcv: string; verificationPattern: string } | null;
}

export interface TransportKeyFile {
  format: typeof TRANSPORT_FORMAT;
  instanceId: string;
  unitId: string;
  /** Every unit of the instance, this one included. */
  units: string[];
  /** SPKI PEM of the unit's RSA transport key. */
  publicKey: string;
  /** Lowercase hex SHA-256 of the SPKI DER. */
  fingerprint: string;
  /** The unit's last accepted bundle sequence when the file was exported. */
  lastSequence: number;
  limits: UnitLimits;
  /** The unit's mode: a rehearsal unit accepts only rehearsal bundles, a production unit only production ones. */
  rehearsal: boolean;
  unit: UnitSnapshot;
}

export interface TransportKey {
  file: TransportKeyFile;
  key: KeyObject;
}

export function spkiFingerprint(key: KeyObject): string {
  return sha256Hex(key.export({ type: 'spki', format: 'der' }));
}

function invalid(what: string, why: string): never {
  throw new CeremonyError(
    'TransportInvalid',
    `${what} is not a transport key file this tool reads (${why}). Export the transport keys from the units again.`,
  );
}

function exactKeys(o: unknown, keys: string[], what: string, part: string): Record<string, unknown> {
  const m = exactMembers(o, keys);
  if ('notObject' in m) invalid(what, `${part} is not an object`);
  if ('has' in m) invalid(what, `${part} has fields ${m.has}`);
  return m.members;
}

const isCount = (v: unknown, max: number): boolean =>
  Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max;
const isId = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(v);
const HEX64 = /^[0-9a-f]{64}$/;

function checkSnapshot(u: unknown, what: string): void {
  const o = exactKeys(
    u,
    ['state', 'admins', 'signatureThreshold', 'revocationThreshold', 'currentMasterKey'],
    what,
    'its unit state',
  );
  if (typeof o['state'] !== 'string') invalid(what, 'no unit state');
  if (!Array.isArray(o['admins']) || o['admins'].length > MAX_ADMINS) invalid(what, 'no admin list');
  for (const a of o['admins'] as unknown[]) {
    const x = exactKeys(a, ['name', 'thumbprint'], what, 'an admin');
    if (typeof x['name'] !== 'string' || typeof x['thumbprint'] !== 'string') invalid(what, 'an admin without name');
  }
  if (!isCount(o['signatureThreshold'], MAX_ADMINS) || !isCount(o['revocationThreshold'], MAX_ADMINS))
    invalid(what, 'thresholds');
  if (o['currentMasterKey'] !== null) {
    const k = exactKeys(o['currentMasterKey'], ['kcv', 'verificationPattern'], what, 'its current key');
    if (
      typeof k['kcv'] !== 'string' ||
      typeof k['verificationPattern'] !== 'string' ||
      !HEX64.test(k['verificationPattern'])
    )
      invalid(what, 'its current key');
  }
}

/** A value read from the file, for a message: never the whole of it, and never by recursing into it (found by npm run fuzz). */
function shownValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 40));
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return v === undefined ? 'missing' : String(v);
}

export function parseTransportFile(text: string, what: string): TransportKey {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CeremonyError('TransportInvalid', `${what} is not valid JSON.`);
  }
  const format = (raw as { format?: unknown } | null)?.format;
  if (format !== TRANSPORT_FORMAT) invalid(what, `format ${shownValue(format)}, not ${TRANSPORT_FORMAT}`);
  const f = exactKeys(
    raw,
    [
      'format',
      'instanceId',
      'unitId',
      'units',
      'publicKey',
      'fingerprint',
      'lastSequence',
      'limits',
      'rehearsal',
      'unit',
    ],
    what,
    'the file',
  );
  if (!isId(f['instanceId']) || !isId(f['unitId'])) invalid(what, 'instance or unit id');
  if (
    !Array.isArray(f['units']) ||
    f['units'].length < 1 ||
    f['units'].length > 16 ||
    !f['units'].every(isId) ||
    !f['units'].includes(f['unitId'])
  ) {
    invalid(what, 'the list of the instance\u2019s units');
  }
  if (new Set(f['units']).size !== f['units'].length) invalid(what, 'a unit listed twice');
  if (typeof f['publicKey'] !== 'string' || typeof f['fingerprint'] !== 'string' || !HEX64.test(f['fingerprint']))
    invalid(what, 'key or fingerprint');
  if (!Number.isSafeInteger(f['lastSequence']) || (f['lastSequence'] as number) < 0) invalid(what, 'last sequence');
  const l = exactKeys(f['limits'], ['profile', 'keyNameMaxLength', 'maxAdmins'], what, 'its limits');
  if (
    typeof l['profile'] !== 'string' ||
    !isCount(l['keyNameMaxLength'], 1024) ||
    (l['keyNameMaxLength'] as number) < 1 ||
    !isCount(l['maxAdmins'], MAX_ADMINS) ||
    (l['maxAdmins'] as number) < 1
  ) {
    invalid(what, 'its limits');
  }
  if (typeof f['rehearsal'] !== 'boolean') invalid(what, 'its mode, rehearsal, is not true or false');
  checkSnapshot(f['unit'], what);
  let key: KeyObject;
  try {
    key = createPublicKey(f['publicKey']);
  } catch {
    throw new CeremonyError('TransportInvalid', `${what} holds no readable public key.`);
  }
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 3072) {
    throw new CeremonyError('TransportInvalid', `${what} does not hold an RSA transport key of at least 3072 bits.`);
  }
  const actual = spkiFingerprint(key);
  if (actual !== f['fingerprint']) {
    throw new CeremonyError(
      'TransportFingerprintMismatch',
      `${what}: the key's fingerprint is ${actual}, not the ${f['fingerprint'] as string} the file states. Do not use it; export the transport key from the unit again.`,
      { unitId: f['unitId'] as string, stated: f['fingerprint'] as string, actual },
    );
  }
  return { file: f as unknown as TransportKeyFile, key };
}

export function readTransportFile(path: string): TransportKey {
  return parseTransportFile(readFileOrFail(path, 'Transport key file').toString('utf8'), `Transport key file ${path}`);
}

/**
 * The transports of one bundle: every unit of one instance, each once, with
 * one set of limits. Returns the instance id.
 */
export function checkTransportSet(transports: readonly TransportKey[]): string {
  if (transports.length === 0)
    throw new CeremonyError('InvalidArgument', 'A bundle needs the transport key files of its units (--transport).');
  const first = transports[0]!.file;
  for (const t of transports) {
    if (t.file.instanceId !== first.instanceId) {
      throw new CeremonyError(
        'InvalidArgument',
        `The transport files come from different service instances (${first.instanceId} and ${t.file.instanceId}); a bundle addresses one instance.`,
      );
    }
    if (
      [...t.file.units].sort().join(',') !== [...first.units].sort().join(',') ||
      JSON.stringify(t.file.limits) !== JSON.stringify(first.limits) ||
      t.file.rehearsal !== first.rehearsal
    ) {
      throw new CeremonyError(
        'InvalidArgument',
        `The transport files of instance ${first.instanceId} disagree about its units, limits or mode (rehearsal or production); export them again, all at once.`,
      );
    }
  }
  const given = transports.map((t) => t.file.unitId);
  if (new Set(given).size !== given.length)
    throw new CeremonyError('InvalidArgument', 'The same unit is given twice (--transport).');
  const missing = first.units.filter((u) => !given.includes(u));
  if (missing.length > 0) {
    throw new CeremonyError(
      'InvalidArgument',
      `A bundle goes to every unit of the instance, so that they stay identical; the transport key file of unit ${missing.join(', ')} is missing (--transport).`,
      { missing: missing.join(',') },
    );
  }
  return first.instanceId;
}

/** A mode in words, for messages: the same two words everywhere (issue 11). */
export function modeName(rehearsal: boolean): 'rehearsal' | 'production' {
  return rehearsal ? 'rehearsal' : 'production';
}

/**
 * A rehearsal bundle must never reach a production unit, nor a production
 * bundle a rehearsal unit (issue 11): every unit's mode, as its transport
 * file states it, must be the bundle's. Checked before any share is opened
 * and before anyone signs; each unit checks it again (RehearsalMismatch).
 */
export function checkTransportModes(transports: readonly TransportKey[], rehearsal: boolean): void {
  const other = transports.find((t) => t.file.rehearsal !== rehearsal);
  if (other) {
    throw new CeremonyError(
      'RehearsalMismatch',
      `Unit ${other.file.unitId} is a ${modeName(other.file.rehearsal)} unit (as its transport file says), but this bundle would be a ${modeName(rehearsal)} bundle; the unit would refuse it. ` +
        (rehearsal
          ? 'A rehearsal bundle goes to units created in rehearsal mode only.'
          : 'Build a rehearsal bundle for a rehearsal (bundle create --rehearsal), or use the transport files of the production units.'),
      { unitId: other.file.unitId, unitMode: modeName(other.file.rehearsal), bundleMode: modeName(rehearsal) },
    );
  }
}

/** Checks a key name and an admin count against the units' limits, naming the limit and its source. */
export function checkAgainstLimits(limits: UnitLimits, a: { keyName?: string; admins?: number }): void {
  if (a.keyName !== undefined && [...a.keyName].length > limits.keyNameMaxLength) {
    throw new CeremonyError(
      'InvalidArgument',
      `The key name "${a.keyName}" has ${[...a.keyName].length} characters; the target units take 1 to ${limits.keyNameMaxLength} (limit of their ${limits.profile} profile, from their transport key files). Choose a shorter name.`,
      { limit: limits.keyNameMaxLength },
    );
  }
  if (a.admins !== undefined && a.admins > limits.maxAdmins) {
    throw new CeremonyError(
      'InvalidArgument',
      `${a.admins} admins are more than the target units take (at most ${limits.maxAdmins}, limit of their ${limits.profile} profile, from their transport key files).`,
      { limit: limits.maxAdmins },
    );
  }
}

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { OPERATIONS, MAX_ADMINS, MAX_CERTIFICATE_BASE64, MAX_THRESHOLD } from '../core/bundle/protocol.js';
import { spkiFingerprint } from '../core/bundle/transport.js';
import { fromB64url } from '../core/encoding.js';
import { CeremonyError } from '../core/errors.js';
import { KEY_NAME_MAX } from '../core/masterkey/masterkey.js';
import { AUDIT_FIELD_MAX, AUDIT_REASON_MAX, AUDIT_RESULTS, AUDIT_SIGNER_MAX, AUDIT_SIGNERS_MAX } from './audit.js';
import {
  STATE_FORMAT,
  UNIT_STATES,
  type AppliedBundle,
  type AuditEntry,
  type InstalledAdmin,
  type InstanceState,
  type KeystoreState,
  type MasterKeyRegister,
  type RootKeyRecord,
  type UnitState,
} from './state.js';

// The schema of the emulator's state file (issue 8: "the state file is
// checked against its schema on load; a corrupted or edited file is refused
// in words, never exit 70"). Every object has exactly its fields, every
// value its type and range, so the protocol code can trust what it reads
// and a damaged file is named with the first field that fails instead of
// surfacing later as a TypeError.
//
// Messages name fields and describe values by kind and range, never by
// content: the file holds the units' transport private keys and sealing
// keys, and a message goes to a terminal.
//
// state.ts imports this module and this module imports state.ts (the
// types, and the UNIT_STATES and STATE_FORMAT constants): the constants are
// only read inside functions, so the import cycle is harmless in ESM.

/** How a ShapeChecker refuses a field: the caller supplies the words about the file (state file, keystore file). */
export type Refuse = (field: string, why: string) => never;

const HEX64 = /^[0-9a-f]{64}$/;
const KCV = /^[0-9A-F]{6}$/;
/** Ids the tool makes (UUIDs) and the rule of transport files (transport.ts isId). */
const ID = /^[A-Za-z0-9._-]{1,64}$/;
/** x5t#S256 of an admin certificate: base64url SHA-256 (protocol.ts THUMBPRINT). */
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
/** A base64 DER certificate: a few kilobytes at most. */
const CERTIFICATE_MAX = MAX_CERTIFICATE_BASE64;
/** A PEM RSA-4096 private key is about 3.3 KB. */
const PEM_MAX = 16 * 1024;
const TEXT_MAX = 256;

/** A KMS root key's name: also the JWE "kid" of every DEK wrapped under it (kms.ts). */
export const ROOT_KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** Far above any rehearsal; keeps a hostile keystore file from growing without bound. */
export const MAX_ROOT_KEYS = 10_000;
/** AES-256-GCM seal of 32 bytes (keystore.ts): 12-byte IV, 32 bytes, 16-byte tag. */
const SEALED_32_BYTES = 12 + 32 + 16;

type Obj = Record<string, unknown>;

/** A value described by kind only: it may be a secret, and is never echoed. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return Number.isSafeInteger(v) ? `${v}` : 'a number that is not a whole number';
  if (typeof v === 'boolean') return `${v}`;
  return 'an object';
}

/** A field name from the file, safe to print (a hostile key could be long or hold escape sequences). */
function fieldName(k: string): string {
  const shown = JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k);
  return /^[A-Za-z][A-Za-z0-9]*$/.test(k) ? k : shown;
}

/**
 * Checks one value's shape, naming the field on failure through `refuse`,
 * which supplies the words about the file. Shared with the keystore file
 * parser (kms.ts).
 */
export class ShapeChecker {
  constructor(readonly refuse: Refuse) {}

  object(v: unknown, field: string, keys: readonly string[]): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.refuse(field, `is ${kindOf(v)}, not an object`);
    const o = v as Obj;
    for (const k of keys) if (!Object.hasOwn(o, k)) this.refuse(field, `has no field ${k}`);
    for (const k of Object.keys(o))
      if (!keys.includes(k)) this.refuse(field, `has a field ${fieldName(k)} that does not belong there`);
    return o;
  }

  string(v: unknown, field: string, rule?: { re: RegExp; what: string }, max = TEXT_MAX): string {
    if (typeof v !== 'string') this.refuse(field, `is ${kindOf(v)}, not a string`);
    if (rule) {
      if (!rule.re.test(v)) this.refuse(field, `is not ${rule.what}`);
    } else if (v.length > max) this.refuse(field, `is longer than ${max} characters`);
    return v;
  }

  nullableString(v: unknown, field: string, rule?: { re: RegExp; what: string }, max = TEXT_MAX): string | null {
    return v === null ? null : this.string(v, field, rule, max);
  }

  integer(v: unknown, field: string, min: number, max: number, why = ''): number {
    if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) {
      this.refuse(field, `is ${kindOf(v)}, not a whole number from ${min} to ${max}${why}`);
    }
    return v as number;
  }

  boolean(v: unknown, field: string): boolean {
    if (typeof v !== 'boolean') this.refuse(field, `is ${kindOf(v)}, not true or false`);
    return v;
  }

  oneOf<T extends string>(v: unknown, field: string, values: readonly T[]): T {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
      this.refuse(field, `is not one of ${values.join(', ')}`);
    return v as T;
  }

  list(v: unknown, field: string, max: number, min = 0): unknown[] {
    if (!Array.isArray(v)) this.refuse(field, `is ${kindOf(v)}, not a list`);
    if (v.length < min || v.length > max)
      this.refuse(field, `has ${v.length} entries, not ${min === max ? min : `${min} to ${max}`}`);
    return v;
  }

  time(v: unknown, field: string): string {
    const t = this.string(v, field, { re: ISO_TIME, what: 'a time (ISO 8601, UTC)' });
    // Date.parse takes 30 February (as 2 March): the time must read back as written.
    const d = new Date(t);
    if (Number.isNaN(d.getTime()) || d.toISOString() !== (t.length === 20 ? t.replace('Z', '.000Z') : t))
      this.refuse(field, 'is not a time (ISO 8601, UTC)');
    return t;
  }

  hex64(v: unknown, field: string): string {
    return this.string(v, field, { re: HEX64, what: '64 lowercase hex digits' });
  }

  /** Strict base64url (no padding, canonical) of exactly `bytes` bytes. */
  base64url(v: unknown, field: string, bytes: number): string {
    const s = this.string(v, field, { re: /^[A-Za-z0-9_-]*$/, what: 'base64url' });
    let decoded: Buffer;
    try {
      decoded = fromB64url(s, field, 'EmulatorState');
    } catch {
      this.refuse(field, 'is not canonical base64url');
    }
    const n = decoded.length;
    decoded.fill(0); // it may be a sealing key
    if (n !== bytes) this.refuse(field, `holds ${n} bytes, not ${bytes}`);
    return s;
  }
}

export function checkRootKeys(c: ShapeChecker, v: unknown, field: string): RootKeyRecord[] {
  const names = new Set<string>();
  return c.list(v, field, MAX_ROOT_KEYS).map((r, i) => {
    const f = `${field}[${i}]`;
    const o = c.object(r, f, ['name', 'created', 'sealed']);
    const name = c.string(o['name'], `${f}.name`, {
      re: ROOT_KEY_NAME,
      what: 'a root key name (1 to 64 of A-Z a-z 0-9 . _ -)',
    });
    if (names.has(name)) c.refuse(`${f}.name`, `repeats the root key name ${name}`);
    names.add(name);
    return {
      name,
      created: c.time(o['created'], `${f}.created`),
      sealed: c.base64url(o['sealed'], `${f}.sealed`, SEALED_32_BYTES),
    };
  });
}

function checkKeystore(c: ShapeChecker, v: unknown, field: string): KeystoreState | null {
  if (v === null) return null;
  const o = c.object(v, field, ['masterKeyVerificationPattern', 'rootKeys']);
  return {
    masterKeyVerificationPattern: c.hex64(o['masterKeyVerificationPattern'], `${field}.masterKeyVerificationPattern`),
    rootKeys: checkRootKeys(c, o['rootKeys'], `${field}.rootKeys`),
  };
}

function checkRegister(c: ShapeChecker, v: unknown, field: string): MasterKeyRegister | null {
  if (v === null) return null;
  const o = c.object(v, field, [
    'kcv',
    'verificationPattern',
    'keyName',
    'ceremonyId',
    'transcriptHash',
    'sealed',
    'committed',
  ]);
  const keyName = c.string(o['keyName'], `${field}.keyName`, undefined, KEY_NAME_MAX);
  // The key-name rule of masterkey.ts checkKeyName.
  if (keyName.length === 0 || CONTROL.test(keyName) || keyName.trim() !== keyName)
    c.refuse(`${field}.keyName`, 'is not a key name');
  return {
    kcv: c.string(o['kcv'], `${field}.kcv`, { re: KCV, what: 'a KCV (6 uppercase hex digits)' }),
    verificationPattern: c.hex64(o['verificationPattern'], `${field}.verificationPattern`),
    keyName,
    ceremonyId: c.string(o['ceremonyId'], `${field}.ceremonyId`, { re: ID, what: 'a ceremony id' }),
    transcriptHash: c.hex64(o['transcriptHash'], `${field}.transcriptHash`),
    sealed: c.base64url(o['sealed'], `${field}.sealed`, SEALED_32_BYTES),
    committed: c.boolean(o['committed'], `${field}.committed`),
  };
}

function checkAdmins(c: ShapeChecker, v: unknown, field: string, maxAdmins: number): InstalledAdmin[] {
  const seen = new Set<string>();
  return c.list(v, field, maxAdmins).map((a, i) => {
    const f = `${field}[${i}]`;
    const o = c.object(a, f, ['name', 'thumbprint', 'certificate']);
    const name = c.string(o['name'], `${f}.name`);
    const thumbprint = c.string(o['thumbprint'], `${f}.thumbprint`, {
      re: THUMBPRINT,
      what: 'a certificate thumbprint (43 base64url characters)',
    });
    if (seen.has(thumbprint)) c.refuse(`${f}.thumbprint`, 'repeats an admin installed before it');
    seen.add(thumbprint);
    const certificate = c.string(o['certificate'], `${f}.certificate`, {
      re: /^[A-Za-z0-9+/]+={0,2}$/,
      what: 'a base64 certificate',
    });
    if (certificate.length > CERTIFICATE_MAX)
      c.refuse(`${f}.certificate`, `is longer than ${CERTIFICATE_MAX} characters`);
    return { name, thumbprint, certificate };
  });
}

function checkTransport(c: ShapeChecker, v: unknown, field: string): UnitState['transport'] {
  const o = c.object(v, field, ['publicKey', 'privateKey', 'fingerprint']);
  const publicKey = c.string(o['publicKey'], `${field}.publicKey`, undefined, PEM_MAX);
  const privateKey = c.string(o['privateKey'], `${field}.privateKey`, undefined, PEM_MAX);
  const fingerprint = c.hex64(o['fingerprint'], `${field}.fingerprint`);
  // Parsed here, so a damaged key is named now rather than failing inside an ingest.
  let pub: KeyObject;
  let fromPrivate: KeyObject;
  try {
    pub = createPublicKey(publicKey);
  } catch {
    c.refuse(`${field}.publicKey`, 'is not a PEM public key');
  }
  if (pub.asymmetricKeyType !== 'rsa') c.refuse(`${field}.publicKey`, 'is not an RSA key');
  try {
    fromPrivate = createPublicKey(createPrivateKey(privateKey));
  } catch {
    c.refuse(`${field}.privateKey`, 'is not a PEM private key');
  }
  if (spkiFingerprint(pub) !== fingerprint) c.refuse(`${field}.fingerprint`, 'is not the SHA-256 of the public key');
  if (spkiFingerprint(fromPrivate) !== fingerprint)
    c.refuse(`${field}.privateKey`, 'does not belong to the public key');
  return { publicKey, privateKey, fingerprint };
}

function checkAppliedBundles(c: ShapeChecker, v: unknown, field: string): AppliedBundle[] {
  return c.list(v, field, Number.MAX_SAFE_INTEGER).map((b, i) => {
    const f = `${field}[${i}]`;
    const o = c.object(b, f, ['bundleId', 'payloadHash', 'sequence', 'operation', 'transcriptHash', 'signers']);
    return {
      bundleId: c.string(o['bundleId'], `${f}.bundleId`, { re: ID, what: 'a bundle id' }),
      payloadHash: c.hex64(o['payloadHash'], `${f}.payloadHash`),
      sequence: c.integer(o['sequence'], `${f}.sequence`, 1, Number.MAX_SAFE_INTEGER),
      operation: c.oneOf(o['operation'], `${f}.operation`, OPERATIONS),
      transcriptHash: c.hex64(o['transcriptHash'], `${f}.transcriptHash`),
      signers: c
        .list(o['signers'], `${f}.signers`, AUDIT_SIGNERS_MAX)
        .map((s, j) => c.string(s, `${f}.signers[${j}]`, undefined, AUDIT_SIGNER_MAX)),
    };
  });
}

function checkAudit(c: ShapeChecker, v: unknown, field: string): AuditEntry[] {
  // Structure only; whether the chain holds is verifyAudit's question
  // (audit.ts), so that `audit` can still show a log whose chain is broken.
  return c.list(v, field, Number.MAX_SAFE_INTEGER).map((e, i) => {
    const f = `${field}[${i}]`;
    const o = c.object(e, f, [
      'seq',
      'time',
      'bundleId',
      'operation',
      'payloadHash',
      'signers',
      'result',
      'code',
      'reason',
      'prev',
      'hash',
    ]);
    return {
      seq: c.integer(o['seq'], `${f}.seq`, 1, Number.MAX_SAFE_INTEGER),
      time: c.time(o['time'], `${f}.time`),
      bundleId: c.nullableString(o['bundleId'], `${f}.bundleId`, undefined, AUDIT_FIELD_MAX),
      operation: c.nullableString(o['operation'], `${f}.operation`, undefined, AUDIT_FIELD_MAX),
      payloadHash: c.nullableString(o['payloadHash'], `${f}.payloadHash`, undefined, AUDIT_FIELD_MAX),
      signers: c
        .list(o['signers'], `${f}.signers`, AUDIT_SIGNERS_MAX)
        .map((s, j) => c.string(s, `${f}.signers[${j}]`, undefined, AUDIT_SIGNER_MAX)),
      result: c.oneOf(o['result'], `${f}.result`, AUDIT_RESULTS),
      code: c.nullableString(o['code'], `${f}.code`, undefined, AUDIT_FIELD_MAX),
      // The cap counts characters as appendAudit does (code points), so at most twice as many UTF-16 units.
      reason: c.string(o['reason'], `${f}.reason`, undefined, AUDIT_REASON_MAX * 2),
      prev: c.hex64(o['prev'], `${f}.prev`),
      hash: c.hex64(o['hash'], `${f}.hash`),
    };
  });
}

const UNIT_FIELDS = [
  'id',
  'state',
  'maintenance',
  'transport',
  'sealingKey',
  'admins',
  'signatureThreshold',
  'revocationThreshold',
  'newMasterKey',
  'currentMasterKey',
  'oldMasterKey',
  'users',
  'lastSequence',
  'appliedBundles',
  'audit',
] as const satisfies readonly (keyof UnitState)[];

/** The unit's user types (IBM: the KMS crypto user the ceremony adds). */
const USER_TYPES = ['kmsCryptoUser'] as const satisfies readonly UnitState['users'][number][];

function checkUnit(c: ShapeChecker, v: unknown, field: string, maxAdmins: number): UnitState {
  const o = c.object(v, field, UNIT_FIELDS);
  const id = c.string(o['id'], `${field}.id`, { re: ID, what: 'a unit id' });
  const state = c.oneOf(o['state'], `${field}.state`, UNIT_STATES);
  const maintenance = c.boolean(o['maintenance'], `${field}.maintenance`);
  const transport = checkTransport(c, o['transport'], `${field}.transport`);
  const sealingKey = c.base64url(o['sealingKey'], `${field}.sealingKey`, 32);
  const admins = checkAdmins(c, o['admins'], `${field}.admins`, maxAdmins);
  const cleared = state === 'cleared';
  if (cleared && admins.length > 0)
    c.refuse(`${field}.admins`, `lists ${admins.length} admins, but a cleared unit has none`);
  if (!cleared && admins.length === 0)
    c.refuse(`${field}.admins`, `is empty, but a ${state} unit has 1 to ${maxAdmins} admins`);
  // IBM's rule (issue 8): a threshold is 1 to 8 and never above the number
  // of admins, which would lock the unit; 0 means "no admins yet" and so
  // belongs to a cleared unit only.
  const threshold = (k: 'signatureThreshold' | 'revocationThreshold'): number =>
    cleared
      ? c.integer(o[k], `${field}.${k}`, 0, 0, ' (a cleared unit has no thresholds)')
      : c.integer(
          o[k],
          `${field}.${k}`,
          1,
          Math.min(MAX_THRESHOLD, admins.length),
          ` (a ${state} unit needs at least 1, and at most its ${admins.length} admins)`,
        );
  const signatureThreshold = threshold('signatureThreshold');
  const revocationThreshold = threshold('revocationThreshold');
  const newMasterKey = checkRegister(c, o['newMasterKey'], `${field}.newMasterKey`);
  const currentMasterKey = checkRegister(c, o['currentMasterKey'], `${field}.currentMasterKey`);
  const oldMasterKey = checkRegister(c, o['oldMasterKey'], `${field}.oldMasterKey`);
  // "Zeroize: the unit returns to cleared with nothing left" (issue 8).
  if (cleared) {
    for (const [k, r] of [
      ['newMasterKey', newMasterKey],
      ['currentMasterKey', currentMasterKey],
      ['oldMasterKey', oldMasterKey],
    ] as const) {
      if (r !== null) c.refuse(`${field}.${k}`, 'holds a key, but a cleared unit holds none');
    }
  }
  const users = c
    .list(o['users'], `${field}.users`, USER_TYPES.length)
    .map((u, i) => c.oneOf(u, `${field}.users[${i}]`, USER_TYPES));
  if (new Set(users).size !== users.length) c.refuse(`${field}.users`, 'lists a user twice');
  if (cleared && users.length > 0) c.refuse(`${field}.users`, 'lists users, but a cleared unit has none');
  return {
    id,
    state,
    maintenance,
    transport,
    sealingKey,
    admins,
    signatureThreshold,
    revocationThreshold,
    newMasterKey,
    currentMasterKey,
    oldMasterKey,
    users,
    lastSequence: c.integer(o['lastSequence'], `${field}.lastSequence`, 0, Number.MAX_SAFE_INTEGER),
    appliedBundles: checkAppliedBundles(c, o['appliedBundles'], `${field}.appliedBundles`),
    audit: checkAudit(c, o['audit'], `${field}.audit`),
  };
}

const INSTANCE_FIELDS = [
  'format',
  'instanceId',
  'created',
  'rehearsal',
  'limits',
  'units',
  'keystore',
] as const satisfies readonly (keyof InstanceState)[];

function damaged(path: string, field: string, why: string): CeremonyError {
  return new CeremonyError(
    'EmulatorState',
    `${path} is damaged or was edited: ${field} ${why}. Restore the state directory from a backup, or start a new instance with "crypto-unit-emulator init".`,
    { path, field },
  );
}

/**
 * Parses the emulator's state file and checks it field by field. Returns a
 * fresh object holding exactly the schema's fields; throws EmulatorState
 * naming the file and the first field that fails.
 */
export function parseInstanceState(text: string, path: string): InstanceState {
  const c: ShapeChecker = new ShapeChecker((field, why) => {
    throw damaged(path, field, why);
  });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the text around the error, which
    // here could be a private key: it is not passed on.
    throw new CeremonyError(
      'EmulatorState',
      `${path} is damaged or was edited: it is not valid JSON${text.length === 0 ? ' (it is empty)' : ' (cut short or altered)'}. Restore the state directory from a backup, or start a new instance with "crypto-unit-emulator init".`,
      { path, field: '' },
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    c.refuse('the file', `holds ${kindOf(raw)}, not an object`);
  const format = (raw as Obj)['format'];
  if (format !== STATE_FORMAT) {
    if (typeof format === 'string' && /^keyceremony-emulator\/\d+$/.test(format)) {
      throw new CeremonyError(
        'EmulatorState',
        `${path} is in the format ${format}, which this version does not read (it reads ${STATE_FORMAT}). Start a new instance with "crypto-unit-emulator init".`,
        { path, field: 'format' },
      );
    }
    c.refuse('format', `is not ${STATE_FORMAT}`);
  }
  const o = c.object(raw, 'the file', INSTANCE_FIELDS);
  // Checked in the order the fields are written, so the first one that fails is named.
  const instanceId = c.string(o['instanceId'], 'instanceId', { re: ID, what: 'an instance id' });
  const created = c.time(o['created'], 'created');
  // Required: an instance that does not say its mode is taken for neither (issue 11).
  const rehearsal = c.boolean(o['rehearsal'], 'rehearsal');
  const lo = c.object(o['limits'], 'limits', ['profile', 'keyNameMaxLength', 'maxAdmins']);
  const limits = {
    profile: c.string(lo['profile'], 'limits.profile', {
      re: /^[^\u0000-\u001f\u007f]{1,64}$/,
      what: 'a profile name (1 to 64 printable characters)',
    }),
    keyNameMaxLength: c.integer(lo['keyNameMaxLength'], 'limits.keyNameMaxLength', 1, 1024),
    maxAdmins: c.integer(lo['maxAdmins'], 'limits.maxAdmins', 1, MAX_ADMINS),
  };
  const units = c.list(o['units'], 'units', 3, 2).map((u, i) => checkUnit(c, u, `units[${i}]`, limits.maxAdmins));
  units.forEach((u, i) => {
    if (units.findIndex((x) => x.id === u.id) !== i) c.refuse(`units[${i}].id`, 'repeats the id of another unit');
  });
  return {
    format: STATE_FORMAT,
    instanceId,
    created,
    rehearsal,
    limits,
    units,
    keystore: checkKeystore(c, o['keystore'], 'keystore'),
  };
}

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { b64url, fromB64url } from '../core/encoding.js';
import { CeremonyError } from '../core/errors.js';
import { readFileOrFail, writeFileExclusive } from '../core/files.js';
import { sameHex, verificationPattern } from '../core/masterkey/masterkey.js';
import { zeroize } from '../core/secrets.js';
import { sealBytes, unsealBytes, unsealMasterKey } from './keystore.js';
import { checkRootKeys, ROOT_KEY_NAME, ShapeChecker } from './schema.js';
import {
  loadInstance,
  saveInstance,
  withInstanceLock,
  type InstanceState,
  type KeystoreState,
  type MasterKeyRegister,
  type RootKeyRecord,
  type UnitState,
} from './state.js';

// The instance's small KMS: the proof that a master key works (issue 8,
// "Proof the key works"; the envelope encryption of IBM's VPC seed,
// /work/shared/seeds/004). Root keys are 32 random bytes sealed under the
// master key; a data-encryption key (DEK) is wrapped under a root key as a
// JWE (RFC 7516) with "alg": "A256KW" (AES key wrap, RFC 7518 §4.4 and
// RFC 3394) and "enc": "A256GCM" (RFC 7518 §5.3), so any JOSE library
// unwraps it given the root key, and the KMS itself never needs to keep a
// DEK.
//
// The root keys' bytes never change; only their seal does. A rotation
// re-seals them under the new master key (resealKeystore), a recovered
// instance receives them sealed under the same master key (the keystore
// file), so a DEK wrapped before either still unwraps after it. Zeroize
// leaves no master key to open the seal, so nothing unwraps.
//
// Secrets here: master keys, root keys, content-encryption keys and DEKs.
// Each lives in a Buffer that is zeroed in a finally; none is ever logged,
// printed or put in a message.

export const KEYSTORE_FORMAT = 'keyceremony-keystore/1';

/** The largest DEK the KMS wraps. A DEK is a key, not the data: 64 KiB is far more than any key. */
export const DEK_MAX_BYTES = 64 * 1024;

const ROOT_KEY_BYTES = 32; // AES-256 for A256KW
const CEK_BYTES = 32; // A256GCM's content-encryption key (RFC 7518 §5.3)
const GCM_IV_BYTES = 12; // RFC 7518 §5.3: 96-bit IV
const GCM_TAG_BYTES = 16; // RFC 7518 §5.3: 128-bit tag
/** RFC 3394 §2.2.1: the wrapped key is one 64-bit block longer than the key. */
const WRAPPED_CEK_BYTES = CEK_BYTES + 8;
/** RFC 3394 §2.2.3.1: the default initial value, which A256KW uses (RFC 7518 §4.4). */
const AES_KW_DEFAULT_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');
/** OpenSSL's name for RFC 3394 AES-256 key wrap. */
const AES_256_KW = 'id-aes256-wrap';
const JWE_ALG = 'A256KW';
const JWE_ENC = 'A256GCM';
/** Five base64url parts of a JWE around the largest DEK, with room for the header. */
const JWE_MAX_CHARS = Math.ceil((DEK_MAX_BYTES * 4) / 3) + 1024;

// ---------------------------------------------------------------------------
// Which key serves

/** The key that serves, once every unit not in maintenance is found to hold it as current. */
interface Serving {
  /** The first unit not in maintenance: the one whose registers are unsealed. */
  unit: UnitState;
  current: MasterKeyRegister;
}

/**
 * The units that serve the KMS: every unit not in maintenance, each
 * kms-initialized with the same current master key (compared by
 * verification pattern, which identifies the key; the KCV only catches
 * mistakes). A unit that differs is named, never silently outvoted.
 */
function servingUnits(s: InstanceState): Serving {
  const active = s.units.filter((u) => !u.maintenance);
  if (active.length === 0) {
    throw new CeremonyError(
      'EmulatorState',
      `All ${s.units.length} units of instance ${s.instanceId} are in maintenance, so none can serve the KMS; take one out with "crypto-unit-emulator maintenance --off".`,
    );
  }
  const notReady = active.filter((u) => u.state !== 'kms-initialized');
  if (notReady.length === active.length && active.every((u) => u.state === 'cleared')) {
    throw new CeremonyError(
      'EmulatorState',
      `The units of instance ${s.instanceId} hold no master key (they are cleared: never initialized, or zeroized), so the KMS has nothing to serve; initialize or recover the instance first.`,
    );
  }
  if (notReady.length > 0) {
    throw new CeremonyError(
      'EmulatorState',
      `${notReady.length === 1 ? 'Unit' : 'Units'} ${notReady.map((u) => `${u.id} (${u.state})`).join(', ')} ${notReady.length === 1 ? 'is' : 'are'} not kms-initialized, so the KMS cannot serve; finish the ceremony on ${notReady.length === 1 ? 'it' : 'them'} (ingest its bundle), or put a failed unit in maintenance.`,
    );
  }
  const held = active.map((u) => {
    const r = u.currentMasterKey;
    if (r === null) {
      throw new CeremonyError(
        'EmulatorState',
        `Unit ${u.id} is kms-initialized but holds no current master key; the state file is damaged, restore it from a backup.`,
      );
    }
    return { unit: u, register: r };
  });
  const first = held[0]!;
  if (held.some((h) => !sameHex(h.register.verificationPattern, first.register.verificationPattern))) {
    // Grouped by key, in unit order: "KCV A on u1, u3; KCV B on u2".
    const groups = new Map<string, { kcv: string; ids: string[] }>();
    for (const h of held) {
      const g = groups.get(h.register.verificationPattern) ?? { kcv: h.register.kcv, ids: [] };
      g.ids.push(h.unit.id);
      groups.set(h.register.verificationPattern, g);
    }
    const byKey = [...groups.values()].map((g) => `KCV ${g.kcv} on ${g.ids.join(', ')}`);
    throw new CeremonyError(
      'EmulatorState',
      `The units hold mismatched master key material: units ${active.map((u) => u.id).join(', ')} (${byKey.join('; ')}); bring every unit to the same key (retry the failed one with "ingest --unit"), or put the odd one in maintenance, before using the KMS.`,
      { units: active.map((u) => u.id).join(',') },
    );
  }
  return { unit: first.unit, current: first.register };
}

/**
 * The register holding the key the keystore is sealed under: the current
 * one, or the old one when a rotation moved the key there and the keystore
 * has not been re-sealed since.
 */
function keystoreRegister(serving: Serving, keystore: KeystoreState): MasterKeyRegister {
  const { unit, current } = serving;
  if (sameHex(keystore.masterKeyVerificationPattern, current.verificationPattern)) return current;
  const old = unit.oldMasterKey;
  if (old !== null && sameHex(keystore.masterKeyVerificationPattern, old.verificationPattern)) return old;
  throw new CeremonyError(
    'EmulatorState',
    `The KMS keystore is sealed under a master key these units no longer hold (not their current key, KCV ${current.kcv}${old ? `, nor their old one, KCV ${old.kcv}` : ''}), so no root key opens; recover that master key onto a new instance and import the keystore there.`,
  );
}

/** Runs `use` with a register's master key, unsealed, and zeroes it afterwards. */
function withMasterKey<T>(unit: UnitState, register: MasterKeyRegister, use: (masterKey: Buffer) => T): T {
  const masterKey = unsealMasterKey(unit, register); // key material: never logged
  try {
    // The seal binds the register's verification pattern, but a wrong key
    // here would seal root keys that nothing opens again: check the key too.
    if (masterKey.length !== 32 || !sameHex(verificationPattern(masterKey), register.verificationPattern)) {
      throw new CeremonyError(
        'EmulatorState',
        `The master key register of unit ${unit.id} does not hold the key its verification pattern names; the state file was altered, restore it from a backup.`,
      );
    }
    return use(masterKey);
  } finally {
    zeroize(masterKey);
  }
}

function checkRootKeyName(name: string): void {
  if (typeof name !== 'string' || !ROOT_KEY_NAME.test(name)) {
    const shown =
      typeof name === 'string' ? JSON.stringify(name.length > 70 ? `${name.slice(0, 70)}…` : name) : 'missing';
    throw new CeremonyError(
      'InvalidArgument',
      `The root key name ${shown} is not allowed: use 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" and "-".`,
    );
  }
}

function findRootKey(
  keystore: KeystoreState | null,
  name: string,
  what: 'wrap' | 'unwrap',
): { keystore: KeystoreState; record: RootKeyRecord } {
  if (keystore === null || keystore.rootKeys.length === 0) {
    throw new CeremonyError(
      'EmulatorState',
      what === 'wrap'
        ? 'This instance has no root keys (none created yet, or it was zeroized); create one with "crypto-unit-emulator kms create-root-key".'
        : 'Nothing can be unwrapped: this instance has no root keys (it was zeroized, or its keystore was never created or imported here).',
    );
  }
  const record = keystore.rootKeys.find((r) => r.name === name);
  if (!record) {
    throw new CeremonyError(
      'EmulatorState',
      what === 'wrap'
        ? `This instance has no root key named ${name} (it has ${keystore.rootKeys.map((r) => r.name).join(', ')}); create it, or import the keystore that holds it.`
        : `This instance has no root key named ${name}: the DEK was wrapped by another instance, or that instance's keystore was not imported here.`,
    );
  }
  return { keystore, record };
}

/** A root key, unsealed. Key material: the caller zeroes it. */
function unsealRootKey(masterKey: Uint8Array, record: RootKeyRecord): Buffer {
  // AAD = the name: a sealed root key moved to another name does not open.
  const rootKey = unsealBytes(masterKey, record.sealed, record.name, `Root key ${record.name}`);
  if (rootKey.length !== ROOT_KEY_BYTES) {
    zeroize(rootKey);
    throw new CeremonyError(
      'EmulatorState',
      `Root key ${record.name} is not ${ROOT_KEY_BYTES} bytes; the state file was altered, restore it from a backup.`,
    );
  }
  return rootKey;
}

/**
 * Re-seals every root key of a keystore from one master key to another,
 * for a rotation (the new key becomes current) and for a keystore found
 * under the old register. Pure: returns a new keystore. The root keys
 * themselves are unchanged, so every DEK wrapped under them still unwraps.
 */
export function resealKeystore(
  keystore: KeystoreState,
  from: Uint8Array,
  to: Uint8Array,
  toVerificationPattern: string,
): KeystoreState {
  if (from.length !== 32 || !sameHex(verificationPattern(from), keystore.masterKeyVerificationPattern)) {
    throw new CeremonyError(
      'EmulatorState',
      'The KMS keystore is not sealed under the master key given to re-seal it; nothing was changed, re-seal it with the key it is sealed under.',
    );
  }
  if (to.length !== 32 || !sameHex(verificationPattern(to), toVerificationPattern)) {
    throw new CeremonyError(
      'InvalidArgument',
      'The master key to re-seal the KMS keystore under does not match its verification pattern; nothing was changed.',
    );
  }
  return {
    masterKeyVerificationPattern: toVerificationPattern,
    rootKeys: keystore.rootKeys.map((r) => {
      const rootKey = unsealRootKey(from, r);
      try {
        return { name: r.name, created: r.created, sealed: sealBytes(to, rootKey, r.name) };
      } finally {
        zeroize(rootKey);
      }
    }),
  };
}

/**
 * Runs `use` with the keystore sealed under the serving units' current
 * master key (re-sealing it in memory if a rotation left it under the old
 * one) and that key. An instance without a keystore starts an empty one.
 */
function withCurrentKeystore<T>(
  s: InstanceState,
  serving: Serving,
  use: (keystore: KeystoreState, masterKey: Buffer) => T,
): T {
  const { unit, current } = serving;
  return withMasterKey(unit, current, (masterKey) => {
    let keystore: KeystoreState = s.keystore ?? {
      masterKeyVerificationPattern: current.verificationPattern,
      rootKeys: [],
    };
    const register = keystoreRegister(serving, keystore);
    if (register !== current) {
      const under = keystore;
      keystore = withMasterKey(unit, register, (oldKey) =>
        resealKeystore(under, oldKey, masterKey, current.verificationPattern),
      );
    }
    return use(keystore, masterKey);
  });
}

// ---------------------------------------------------------------------------
// Root keys

export interface CreatedRootKey {
  name: string;
  created: string;
  /** KCV of the master key it is sealed under, for the operator's output. */
  masterKeyKcv: string;
}

/** Creates a root key: 32 random bytes sealed under the instance's current master key. */
export function createRootKey(dir: string, name: string, now = new Date()): CreatedRootKey {
  checkRootKeyName(name);
  return withInstanceLock(dir, () => {
    const s = loadInstance(dir);
    const serving = servingUnits(s);
    if (s.keystore?.rootKeys.some((r) => r.name === name)) {
      throw new CeremonyError(
        'InvalidArgument',
        `This instance already has a root key named ${name}; choose another name.`,
      );
    }
    const created = now.toISOString();
    s.keystore = withCurrentKeystore(s, serving, (keystore, masterKey) => {
      const rootKey = randomBytes(ROOT_KEY_BYTES); // key material: never logged
      try {
        return {
          ...keystore,
          rootKeys: [...keystore.rootKeys, { name, created, sealed: sealBytes(masterKey, rootKey, name) }],
        };
      } finally {
        zeroize(rootKey);
      }
    });
    saveInstance(dir, s);
    return { name, created, masterKeyKcv: serving.current.kcv };
  });
}

// ---------------------------------------------------------------------------
// Wrap and unwrap (JWE, RFC 7516 §7.1 Compact Serialization)

interface JweHeader {
  alg: typeof JWE_ALG;
  enc: typeof JWE_ENC;
  /** The root key's name (RFC 7516 §4.1.6). */
  kid: string;
}

/** The JWE of a DEK under a root key. Pure; the caller zeroes the root key and the DEK. */
export function wrapDekUnderRootKey(rootKey: Uint8Array, rootName: string, dek: Uint8Array): string {
  const header: JweHeader = { alg: JWE_ALG, enc: JWE_ENC, kid: rootName };
  const protectedB64 = b64url(Buffer.from(JSON.stringify(header), 'utf8'));
  const cek = randomBytes(CEK_BYTES); // key material: never logged
  try {
    // RFC 7518 §4.4: the CEK is wrapped with AES key wrap (RFC 3394) under the root key.
    const kw = createCipheriv(AES_256_KW, rootKey, AES_KW_DEFAULT_IV);
    const encryptedKey = Buffer.concat([kw.update(cek), kw.final()]);
    const iv = randomBytes(GCM_IV_BYTES);
    const gcm = createCipheriv('aes-256-gcm', cek, iv);
    // RFC 7516 §5.1 step 14: AAD = ASCII(BASE64URL(UTF8(JWE Protected Header))).
    gcm.setAAD(Buffer.from(protectedB64, 'ascii'));
    const ciphertext = Buffer.concat([gcm.update(dek), gcm.final()]);
    return [protectedB64, b64url(encryptedKey), b64url(iv), b64url(ciphertext), b64url(gcm.getAuthTag())].join('.');
  } finally {
    zeroize(cek);
  }
}

interface ParsedWrappedDek {
  protectedB64: string;
  kid: string;
  encryptedKey: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

function notAWrappedDek(why: string): never {
  throw new CeremonyError(
    'InvalidArgument',
    `This is not a wrapped DEK this KMS made (${why}); use the file "kms wrap" wrote.`,
  );
}

/**
 * Strict parsing of a wrapped DEK: exactly five base64url parts (RFC 7516
 * §7.1), a protected header of exactly alg A256KW, enc A256GCM and kid,
 * and parts of the sizes those algorithms give. No "zip", no "crit", no
 * unprotected header: nothing this KMS did not write.
 */
export function parseWrappedDek(jwe: string): ParsedWrappedDek {
  if (typeof jwe !== 'string') notAWrappedDek('it is not text');
  if (jwe.length > JWE_MAX_CHARS) notAWrappedDek(`it is longer than a JWE around a DEK of ${DEK_MAX_BYTES} bytes`);
  const parts = jwe.split('.');
  if (parts.length !== 5) notAWrappedDek(`it has ${parts.length} dot-separated parts, not the 5 of a compact JWE`);
  const [protectedB64, ekB64, ivB64, ctB64, tagB64] = parts as [string, string, string, string, string];
  const decode = (text: string, what: string): Buffer => {
    try {
      return fromB64url(text, what, 'InvalidArgument');
    } catch {
      notAWrappedDek(`its ${what} is not base64url`);
    }
  };
  let header: unknown;
  try {
    header = JSON.parse(decode(protectedB64, 'header').toString('utf8'));
  } catch (e) {
    if (e instanceof CeremonyError) throw e;
    notAWrappedDek('its header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    notAWrappedDek('its header is not a JSON object');
  const h = header as Record<string, unknown>;
  const fields = Object.keys(h).sort().join(',');
  if (fields !== 'alg,enc,kid')
    notAWrappedDek(`its header has the fields ${fields.slice(0, 80)}, not exactly alg, enc and kid`);
  if (h['alg'] !== JWE_ALG) notAWrappedDek(`its key management algorithm is not ${JWE_ALG}`);
  if (h['enc'] !== JWE_ENC) notAWrappedDek(`its content encryption is not ${JWE_ENC}`);
  if (typeof h['kid'] !== 'string' || !ROOT_KEY_NAME.test(h['kid'])) notAWrappedDek('its kid is not a root key name');
  const encryptedKey = decode(ekB64, 'encrypted key');
  const iv = decode(ivB64, 'IV');
  const ciphertext = decode(ctB64, 'ciphertext');
  const tag = decode(tagB64, 'tag');
  if (encryptedKey.length !== WRAPPED_CEK_BYTES)
    notAWrappedDek(`its encrypted key is ${encryptedKey.length} bytes, not ${WRAPPED_CEK_BYTES}`);
  if (iv.length !== GCM_IV_BYTES) notAWrappedDek(`its IV is ${iv.length} bytes, not ${GCM_IV_BYTES}`);
  if (tag.length !== GCM_TAG_BYTES) notAWrappedDek(`its tag is ${tag.length} bytes, not ${GCM_TAG_BYTES}`);
  if (ciphertext.length < 1 || ciphertext.length > DEK_MAX_BYTES)
    notAWrappedDek(`its ciphertext is ${ciphertext.length} bytes, not 1 to ${DEK_MAX_BYTES}`);
  return { protectedB64, kid: h['kid'], encryptedKey, iv, ciphertext, tag };
}

/** Opens a parsed wrapped DEK with its root key. The DEK is a secret: the caller zeroes it. */
export function unwrapDekUnderRootKey(rootKey: Uint8Array, w: ParsedWrappedDek): Buffer {
  const doesNotOpen = (): CeremonyError =>
    new CeremonyError(
      'EmulatorState',
      `The wrapped DEK does not open under root key ${w.kid} of this instance: it was altered, or it was wrapped under another root key or instance that used the same name; use the original file on the instance that wrapped it (or one holding its keystore).`,
    );
  let cek: Buffer | undefined;
  try {
    try {
      // RFC 3394 §2.2.3: the integrity check of the unwrap fails for any other key or any altered byte.
      const kw = createDecipheriv(AES_256_KW, rootKey, AES_KW_DEFAULT_IV);
      cek = Buffer.concat([kw.update(w.encryptedKey), kw.final()]);
    } catch {
      throw doesNotOpen();
    }
    if (cek.length !== CEK_BYTES) throw doesNotOpen();
    const gcm = createDecipheriv('aes-256-gcm', cek, w.iv);
    gcm.setAAD(Buffer.from(w.protectedB64, 'ascii'));
    gcm.setAuthTag(w.tag);
    const dek = gcm.update(w.ciphertext);
    try {
      gcm.final();
    } catch {
      zeroize(dek);
      throw doesNotOpen();
    }
    return dek;
  } finally {
    zeroize(cek);
  }
}

// Wrap and unwrap only read the state: saveInstance replaces the file
// atomically, so a reader sees the old or the new state, and they take no
// lock that a concurrent ingest would then find busy.

/** Wraps a DEK (1 byte to 64 KiB) under a root key; returns the JWE compact serialization. */
export function wrapDek(dir: string, rootName: string, dek: Uint8Array): string {
  checkRootKeyName(rootName);
  if (dek.length === 0 || dek.length > DEK_MAX_BYTES) {
    throw new CeremonyError(
      'InvalidArgument',
      `The DEK is ${dek.length} bytes; the KMS wraps data keys of 1 byte to 64 KiB (${DEK_MAX_BYTES} bytes). Wrap the key that encrypts the data, not the data itself.`,
    );
  }
  const s = loadInstance(dir);
  const serving = servingUnits(s);
  const { keystore, record } = findRootKey(s.keystore, rootName, 'wrap');
  return withMasterKey(serving.unit, keystoreRegister(serving, keystore), (masterKey) => {
    const rootKey = unsealRootKey(masterKey, record);
    try {
      return wrapDekUnderRootKey(rootKey, rootName, dek);
    } finally {
      zeroize(rootKey);
    }
  });
}

/** Unwraps a DEK that wrapDek (or any JOSE library, with the same root key) wrapped. The DEK is a secret: the caller zeroes it. */
export function unwrapDek(dir: string, jwe: string): Buffer {
  const w = parseWrappedDek(jwe);
  const s = loadInstance(dir);
  const serving = servingUnits(s);
  const { keystore, record } = findRootKey(s.keystore, w.kid, 'unwrap');
  return withMasterKey(serving.unit, keystoreRegister(serving, keystore), (masterKey) => {
    const rootKey = unsealRootKey(masterKey, record);
    try {
      return unwrapDekUnderRootKey(rootKey, w);
    } finally {
      zeroize(rootKey);
    }
  });
}

// ---------------------------------------------------------------------------
// The keystore file: root keys moving to a recovered instance

/**
 * The keystore file. The root keys stay sealed under the master key (AES-256-GCM,
 * AAD = the name), so the file opens only on an instance that holds that key:
 * it carries no secret anyone without the master key can use. Written 0600
 * all the same, like every file the tool writes that holds key material.
 */
export interface KeystoreFile {
  format: typeof KEYSTORE_FORMAT;
  masterKeyVerificationPattern: string;
  /** For people: which master key the file needs. */
  masterKeyKcv: string;
  rootKeys: RootKeyRecord[];
}

/** Strict parsing of a keystore file: exact fields, types and sizes. */
export function parseKeystoreFile(text: string, path: string): KeystoreFile {
  const c: ShapeChecker = new ShapeChecker((field, why) => {
    throw new CeremonyError(
      'InvalidArgument',
      `${path} is not a keystore file this tool reads: ${field} ${why}. Use the file "kms export-keystore" wrote.`,
      { path, field },
    );
  });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CeremonyError(
      'InvalidArgument',
      `${path} is not a keystore file this tool reads: it is not valid JSON (cut short or altered). Use the file "kms export-keystore" wrote.`,
      { path, field: '' },
    );
  }
  const o = c.object(raw, 'the file', ['format', 'masterKeyVerificationPattern', 'masterKeyKcv', 'rootKeys']);
  if (o['format'] !== KEYSTORE_FORMAT) c.refuse('format', `is not ${KEYSTORE_FORMAT}`);
  return {
    format: KEYSTORE_FORMAT,
    masterKeyVerificationPattern: c.hex64(o['masterKeyVerificationPattern'], 'masterKeyVerificationPattern'),
    masterKeyKcv: c.string(o['masterKeyKcv'], 'masterKeyKcv', {
      re: /^[0-9A-F]{6}$/,
      what: 'a KCV (6 uppercase hex digits)',
    }),
    rootKeys: checkRootKeys(c, o['rootKeys'], 'rootKeys'),
  };
}

export interface KeystoreExport {
  rootKeys: string[];
  masterKeyKcv: string;
}

/** Writes the instance's root keys, sealed under its current master key, to a new file (never replacing one). */
export function exportKeystore(dir: string, outPath: string): KeystoreExport {
  const s = loadInstance(dir);
  const serving = servingUnits(s);
  if (s.keystore === null || s.keystore.rootKeys.length === 0) {
    throw new CeremonyError(
      'EmulatorState',
      'This instance has no root keys to export (none created yet, or it was zeroized); nothing was written.',
    );
  }
  // A keystore still under the old register is re-sealed for the file only:
  // the file always needs the current key, the one a recovery brings back.
  const keystore = withCurrentKeystore(s, serving, (k) => k);
  const file: KeystoreFile = {
    format: KEYSTORE_FORMAT,
    masterKeyVerificationPattern: keystore.masterKeyVerificationPattern,
    masterKeyKcv: serving.current.kcv,
    rootKeys: keystore.rootKeys,
  };
  writeFileExclusive(outPath, JSON.stringify(file, null, 2) + '\n', 0o600);
  return { rootKeys: keystore.rootKeys.map((r) => r.name), masterKeyKcv: serving.current.kcv };
}

export interface KeystoreImport {
  rootKeys: string[];
  masterKeyKcv: string;
  /** The file was sealed under the units' old key and was re-sealed under the current one. */
  resealed: boolean;
}

/**
 * Adds the root keys of a keystore file to the instance. The file must be
 * sealed under the master key the units hold as current (or as old, after
 * a rotation: then it is re-sealed under the current one); every root key
 * must open, and none may share a name with one already here. All or
 * nothing.
 */
export function importKeystore(dir: string, inPath: string): KeystoreImport {
  const file = parseKeystoreFile(readFileOrFail(inPath, 'The keystore file').toString('utf8'), inPath);
  return withInstanceLock(dir, () => {
    const s = loadInstance(dir);
    const serving = servingUnits(s);
    const { unit, current } = serving;
    const old = unit.oldMasterKey;
    const source = sameHex(file.masterKeyVerificationPattern, current.verificationPattern)
      ? current
      : old !== null && sameHex(file.masterKeyVerificationPattern, old.verificationPattern)
        ? old
        : null;
    if (source === null) {
      throw new CeremonyError(
        'EmulatorState',
        `The keystore file ${inPath} needs the master key with KCV ${file.masterKeyKcv}, but the units of this instance hold KCV ${current.kcv} as current${old ? ` and KCV ${old.kcv} as old` : ' (and no old key)'}; nothing was imported, recover the master key with KCV ${file.masterKeyKcv} onto this instance first.`,
        { needs: file.masterKeyKcv, holds: current.kcv },
      );
    }
    if (source.kcv !== file.masterKeyKcv) {
      throw new CeremonyError(
        'InvalidArgument',
        `The keystore file ${inPath} names KCV ${file.masterKeyKcv} but the verification pattern of KCV ${source.kcv}: it was altered; use the file "kms export-keystore" wrote.`,
      );
    }
    const here = new Set(s.keystore?.rootKeys.map((r) => r.name) ?? []);
    const clashes = file.rootKeys.filter((r) => here.has(r.name)).map((r) => r.name);
    if (clashes.length > 0) {
      throw new CeremonyError(
        'InvalidArgument',
        `This instance already has ${clashes.length === 1 ? 'a root key' : 'root keys'} named ${clashes.join(', ')}; nothing was imported (was this keystore imported before?).`,
      );
    }
    const fromFile: KeystoreState = {
      masterKeyVerificationPattern: file.masterKeyVerificationPattern,
      rootKeys: file.rootKeys,
    };
    s.keystore = withCurrentKeystore(s, serving, (keystore, masterKey) => {
      const opened = (k: Uint8Array): KeystoreState => {
        try {
          // Re-sealing opens every root key: one that does not open is refused here, before anything is saved.
          return resealKeystore(fromFile, k, masterKey, current.verificationPattern);
        } catch (e) {
          if (e instanceof CeremonyError && e.code === 'EmulatorState') {
            throw new CeremonyError(
              'InvalidArgument',
              `A root key in the keystore file ${inPath} does not open under the master key the file names: the file was altered; nothing was imported, use the file "kms export-keystore" wrote.`,
            );
          }
          throw e;
        }
      };
      const imported = source === current ? opened(masterKey) : withMasterKey(unit, source, opened);
      return {
        masterKeyVerificationPattern: current.verificationPattern,
        rootKeys: [...keystore.rootKeys, ...imported.rootKeys],
      };
    });
    saveInstance(dir, s);
    return { rootKeys: file.rootKeys.map((r) => r.name), masterKeyKcv: current.kcv, resealed: source !== current };
  });
}

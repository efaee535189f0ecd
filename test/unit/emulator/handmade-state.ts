import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spkiFingerprint } from '../../../src/core/bundle/transport.js';
import { b64url, sha256 } from '../../../src/core/encoding.js';
import { keyCheckValue, verificationPattern } from '../../../src/core/masterkey/masterkey.js';
import { newSealingKey, sealMasterKey } from '../../../src/emulator/keystore.js';
import {
  createInstanceFile,
  STATE_FORMAT,
  type InstanceState,
  type MasterKeyRegister,
  type UnitState,
} from '../../../src/emulator/state.js';

// Instance states built by hand, for the modules that only read and write
// the state (audit, kms, schema): no dependency on the protocol code in
// instance.ts, and no RSA-4096 key generation per test.

// One RSA transport key pair shared by every handmade unit: the schema
// checks its shape, and nothing here encrypts to it.
const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const TRANSPORT = {
  publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  fingerprint: spkiFingerprint(pair.publicKey),
};

/** A master-key register of `unit` holding `key`, sealed under the unit's sealing key. */
export function register(unit: UnitState, key: Uint8Array, keyName = 'MK'): MasterKeyRegister {
  const vp = verificationPattern(key);
  return {
    kcv: keyCheckValue(key),
    verificationPattern: vp,
    keyName,
    ceremonyId: randomUUID(),
    transcriptHash: 'cd'.repeat(32),
    sealed: sealMasterKey(unit, key, vp),
    committed: true,
  };
}

export function fakeAdmin(name: string): UnitState['admins'][number] {
  return { name, thumbprint: b64url(sha256(name)), certificate: randomBytes(300).toString('base64') };
}

/** A cleared unit: no admins, no key. */
export function clearedUnit(): UnitState {
  return {
    id: randomUUID(),
    state: 'cleared',
    maintenance: false,
    transport: { ...TRANSPORT },
    sealingKey: newSealingKey(),
    admins: [],
    signatureThreshold: 0,
    revocationThreshold: 0,
    newMasterKey: null,
    currentMasterKey: null,
    oldMasterKey: null,
    users: [],
    lastSequence: 0,
    appliedBundles: [],
    audit: [],
  };
}

/** A kms-initialized unit holding `masterKey` as current, with three admins (2 of 3). */
export function initializedUnit(masterKey: Uint8Array): UnitState {
  const u = clearedUnit();
  u.state = 'kms-initialized';
  u.admins = [fakeAdmin('Alice'), fakeAdmin('Bob'), fakeAdmin('Carol')];
  u.signatureThreshold = 2;
  u.revocationThreshold = 2;
  u.currentMasterKey = register(u, masterKey);
  u.users = ['kmsCryptoUser'];
  u.lastSequence = 1;
  return u;
}

export function instance(units: UnitState[], rehearsal = false): InstanceState {
  return {
    format: STATE_FORMAT,
    instanceId: randomUUID(),
    created: '2025-01-02T03:04:05.000Z',
    rehearsal,
    limits: { profile: 'kp-dedicated', keyNameMaxLength: 8, maxAdmins: 8 },
    units,
    keystore: null,
  };
}

/** Writes the state to a fresh state directory and returns the directory. */
export function stateDir(s: InstanceState): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'kc-emu-hand-')), 'state');
  createInstanceFile(dir, s);
  return dir;
}

export function tempFile(name: string): string {
  return join(mkdtempSync(join(tmpdir(), 'kc-emu-file-')), name);
}

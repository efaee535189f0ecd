import { createCipheriv, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { CeremonyError, type CeremonyErrorCode } from '../../../src/core/errors.js';
import { generateMasterKey, keyCheckValue, verificationPattern } from '../../../src/core/masterkey/masterkey.js';
import {
  createRootKey,
  DEK_MAX_BYTES,
  exportKeystore,
  importKeystore,
  KEYSTORE_FORMAT,
  parseKeystoreFile,
  parseWrappedDek,
  resealKeystore,
  unwrapDek,
  wrapDek,
} from '../../../src/emulator/kms.js';
import { unsealBytes } from '../../../src/emulator/keystore.js';
import { loadInstance, saveInstance, type InstanceState } from '../../../src/emulator/state.js';
import { clearedUnit, initializedUnit, instance, register, stateDir, tempFile } from './handmade-state.js';

const NOW = new Date('2025-04-01T09:00:00.000Z');

/** A kms-initialized instance of `units` units holding `masterKey`, on disk. */
function kmsInstance(masterKey: Uint8Array, units = 2): { dir: string; s: InstanceState } {
  const s = instance(Array.from({ length: units }, () => initializedUnit(masterKey)));
  return { dir: stateDir(s), s };
}

function edit(dir: string, change: (s: InstanceState) => void): void {
  const s = loadInstance(dir);
  change(s);
  saveInstance(dir, s);
}

/** The raw root key, as a JOSE library holding it would have it (test only). */
function rootKeyOf(dir: string, masterKey: Uint8Array, name: string): Buffer {
  const record = loadInstance(dir).keystore!.rootKeys.find((r) => r.name === name)!;
  return unsealBytes(masterKey, record.sealed, name, 'root key');
}

function refused(f: () => unknown, code: CeremonyErrorCode, pattern: RegExp | string): CeremonyError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CeremonyError);
    expect((e as CeremonyError).code).toBe(code);
    if (typeof pattern === 'string') expect((e as CeremonyError).message).toContain(pattern);
    else expect((e as CeremonyError).message).toMatch(pattern);
    return e as CeremonyError;
  }
  throw new Error('expected a refusal');
}

/** Rotation as the rotate operation leaves the registers: current moves to old, the new key becomes current. */
function rotateRegisters(s: InstanceState, newKey: Uint8Array): void {
  for (const u of s.units) {
    u.oldMasterKey = u.currentMasterKey;
    u.currentMasterKey = register(u, newKey);
  }
}

const b64part = (jwe: string, i: number): Buffer => Buffer.from(jwe.split('.')[i]!, 'base64url');
const withPart = (jwe: string, i: number, bytes: Uint8Array): string =>
  jwe
    .split('.')
    .map((p, j) => (j === i ? Buffer.from(bytes).toString('base64url') : p))
    .join('.');

describe('AES key wrap in Node (the A256KW primitive)', () => {
  it('is RFC 3394 with its default IV: §4.6 "Wrap 256 bits of Key Data with a 256-bit KEK"', () => {
    const kek = Buffer.from('000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F', 'hex');
    const keyData = Buffer.from('00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F', 'hex');
    const c = createCipheriv('id-aes256-wrap', kek, Buffer.from('A6A6A6A6A6A6A6A6', 'hex'));
    expect(
      Buffer.concat([c.update(keyData), c.final()])
        .toString('hex')
        .toUpperCase(),
    ).toBe('28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21');
  });
});

describe('createRootKey', () => {
  it('seals 32 random bytes under the current master key, AAD = the name, and starts the keystore', () => {
    const mk = generateMasterKey();
    const { dir, s } = kmsInstance(mk);
    expect(createRootKey(dir, 'volumes-2025', NOW)).toEqual({
      name: 'volumes-2025',
      created: NOW.toISOString(),
      masterKeyKcv: keyCheckValue(mk),
    });
    const after = loadInstance(dir);
    expect(after.keystore!.masterKeyVerificationPattern).toBe(s.units[0]!.currentMasterKey!.verificationPattern);
    expect(after.keystore!.rootKeys.map((r) => [r.name, r.created])).toEqual([['volumes-2025', NOW.toISOString()]]);
    expect(rootKeyOf(dir, mk, 'volumes-2025')).toHaveLength(32);
    // Bound to its name: the same seal under another name does not open.
    expect(() => unsealBytes(mk, after.keystore!.rootKeys[0]!.sealed, 'other', 'root key')).toThrow(CeremonyError);
    createRootKey(dir, 'b', NOW);
    expect(rootKeyOf(dir, mk, 'b').equals(rootKeyOf(dir, mk, 'volumes-2025'))).toBe(false);
  });

  it('refuses a name outside the rule, and a name taken', () => {
    const { dir } = kmsInstance(generateMasterKey());
    for (const bad of ['', 'a'.repeat(65), 'root key', 'ключ', 'a/b', 'x\n']) {
      refused(
        () => createRootKey(dir, bad, NOW),
        'InvalidArgument',
        'use 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" and "-"',
      );
    }
    createRootKey(dir, 'a'.repeat(64), NOW);
    createRootKey(dir, 'r.1_-', NOW);
    refused(
      () => createRootKey(dir, 'r.1_-', NOW),
      'InvalidArgument',
      'This instance already has a root key named r.1_-; choose another name.',
    );
  });
});

describe('wrapDek and unwrapDek', () => {
  it('wraps as a compact JWE (A256KW, A256GCM, kid = the root key) that jose opens with the raw root key', async () => {
    const mk = generateMasterKey();
    const { dir } = kmsInstance(mk);
    createRootKey(dir, 'vol', NOW);
    const dek = randomBytes(32);
    const jwe = wrapDek(dir, 'vol', dek);
    expect(jwe.split('.')).toHaveLength(5);
    expect(decodeProtectedHeader(jwe)).toEqual({ alg: 'A256KW', enc: 'A256GCM', kid: 'vol' });
    expect(b64part(jwe, 1)).toHaveLength(40);
    expect(b64part(jwe, 2)).toHaveLength(12);
    const { plaintext, protectedHeader } = await compactDecrypt(jwe, new Uint8Array(rootKeyOf(dir, mk, 'vol')));
    expect(Buffer.from(plaintext).equals(dek)).toBe(true);
    expect(protectedHeader.kid).toBe('vol');
    expect(unwrapDek(dir, jwe).equals(dek)).toBe(true);
    // A fresh content key each time.
    expect(wrapDek(dir, 'vol', dek)).not.toBe(jwe);
  });

  it('unwraps what jose wrapped with the same root key', async () => {
    const mk = generateMasterKey();
    const { dir } = kmsInstance(mk);
    createRootKey(dir, 'vol', NOW);
    const dek = randomBytes(48);
    const jwe = await new CompactEncrypt(dek)
      .setProtectedHeader({ alg: 'A256KW', enc: 'A256GCM', kid: 'vol' })
      .encrypt(new Uint8Array(rootKeyOf(dir, mk, 'vol')));
    expect(unwrapDek(dir, jwe).equals(dek)).toBe(true);
  });

  it('takes DEKs of 1 byte to 64 KiB and refuses more in words', () => {
    const { dir } = kmsInstance(generateMasterKey());
    createRootKey(dir, 'vol', NOW);
    const big = randomBytes(DEK_MAX_BYTES);
    expect(unwrapDek(dir, wrapDek(dir, 'vol', big)).equals(big)).toBe(true);
    expect(unwrapDek(dir, wrapDek(dir, 'vol', Buffer.from([7])))).toEqual(Buffer.from([7]));
    refused(
      () => wrapDek(dir, 'vol', randomBytes(DEK_MAX_BYTES + 1)),
      'InvalidArgument',
      'The DEK is 65537 bytes; the KMS wraps data keys of 1 byte to 64 KiB (65536 bytes). Wrap the key that encrypts the data, not the data itself.',
    );
    refused(() => wrapDek(dir, 'vol', Buffer.alloc(0)), 'InvalidArgument', 'The DEK is 0 bytes');
  });

  it('names the root keys there are when the one asked for is not', () => {
    const { dir } = kmsInstance(generateMasterKey());
    refused(
      () => wrapDek(dir, 'vol', randomBytes(32)),
      'EmulatorState',
      'This instance has no root keys (none created yet, or it was zeroized); create one with "crypto-unit-emulator kms create-root-key".',
    );
    createRootKey(dir, 'a', NOW);
    createRootKey(dir, 'b', NOW);
    refused(
      () => wrapDek(dir, 'vol', randomBytes(32)),
      'EmulatorState',
      'This instance has no root key named vol (it has a, b); create it, or import the keystore that holds it.',
    );
  });

  it('says a JWE that does not open was altered or wrapped under another root key or instance', () => {
    const { dir } = kmsInstance(generateMasterKey());
    createRootKey(dir, 'vol', NOW);
    createRootKey(dir, 'other', NOW);
    const jwe = wrapDek(dir, 'vol', randomBytes(32));
    const notOpen =
      'The wrapped DEK does not open under root key vol of this instance: it was altered, or it was wrapped under another root key or instance';
    for (const part of [1, 2, 3, 4]) {
      const bytes = b64part(jwe, part);
      bytes[bytes.length - 1]! ^= 0x01;
      refused(() => unwrapDek(dir, withPart(jwe, part, bytes)), 'EmulatorState', notOpen);
    }
    // The protected header is the AAD: a re-encoded header with the same fields does not open.
    const reordered = Buffer.from(JSON.stringify({ kid: 'vol', enc: 'A256GCM', alg: 'A256KW' }));
    refused(() => unwrapDek(dir, withPart(jwe, 0, reordered)), 'EmulatorState', notOpen);
    // Aimed at another root key of the same instance.
    const toOther = withPart(jwe, 0, Buffer.from(JSON.stringify({ alg: 'A256KW', enc: 'A256GCM', kid: 'other' })));
    refused(() => unwrapDek(dir, toOther), 'EmulatorState', 'does not open under root key other');
    // Another instance with a root key of the same name.
    const { dir: elsewhere } = kmsInstance(generateMasterKey());
    createRootKey(elsewhere, 'vol', NOW);
    refused(() => unwrapDek(elsewhere, jwe), 'EmulatorState', notOpen);
    // Another instance without it.
    const { dir: third } = kmsInstance(generateMasterKey());
    createRootKey(third, 'x', NOW);
    refused(
      () => unwrapDek(third, jwe),
      'EmulatorState',
      "This instance has no root key named vol: the DEK was wrapped by another instance, or that instance's keystore was not imported here.",
    );
  });

  it('parses strictly', () => {
    const { dir } = kmsInstance(generateMasterKey());
    createRootKey(dir, 'vol', NOW);
    const jwe = wrapDek(dir, 'vol', randomBytes(32));
    const header = (h: object): string => withPart(jwe, 0, Buffer.from(JSON.stringify(h)));
    const cases: Array<[string, string]> = [
      ['', 'it has 1 dot-separated parts, not the 5 of a compact JWE'],
      [jwe.split('.').slice(0, 4).join('.'), 'it has 4 dot-separated parts'],
      [`${jwe}.`, 'it has 6 dot-separated parts'],
      [`${jwe}\n`, 'its tag is not base64url'],
      [withPart(jwe, 0, Buffer.from('not json')), 'its header is not JSON'],
      [withPart(jwe, 0, Buffer.from('[1]')), 'its header is not a JSON object'],
      [
        header({ alg: 'A256KW', enc: 'A256GCM', kid: 'vol', zip: 'DEF' }),
        'its header has the fields alg,enc,kid,zip, not exactly alg, enc and kid',
      ],
      [header({ alg: 'A256KW', enc: 'A256GCM' }), 'its header has the fields alg,enc'],
      [header({ alg: 'dir', enc: 'A256GCM', kid: 'vol' }), 'its key management algorithm is not A256KW'],
      [header({ alg: 'A256KW', enc: 'A128CBC-HS256', kid: 'vol' }), 'its content encryption is not A256GCM'],
      [header({ alg: 'A256KW', enc: 'A256GCM', kid: '../vol' }), 'its kid is not a root key name'],
      [withPart(jwe, 1, randomBytes(48)), 'its encrypted key is 48 bytes, not 40'],
      [withPart(jwe, 2, randomBytes(16)), 'its IV is 16 bytes, not 12'],
      [withPart(jwe, 3, Buffer.alloc(0)), 'its ciphertext is 0 bytes, not 1 to 65536'],
      [withPart(jwe, 4, randomBytes(8)), 'its tag is 8 bytes, not 16'],
      [jwe.replace(/^([^.]*)/, '$1='), 'its header is not base64url'],
      ['x'.repeat(200_000), 'it is longer than a JWE around a DEK of 65536 bytes'],
    ];
    for (const [text, why] of cases) {
      refused(() => unwrapDek(dir, text), 'InvalidArgument', `This is not a wrapped DEK this KMS made (${why}`);
    }
    // Non-canonical base64url (a set trailing bit) is refused, not silently read as the same bytes.
    const iv = jwe.split('.')[2]!;
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const nonCanonical = jwe
      .split('.')
      .map((p, i) => (i === 3 ? p.slice(0, -1) + last[(last.indexOf(p.at(-1)!) + 1) % 64] : p))
      .join('.');
    expect(iv).toHaveLength(16);
    expect(() => parseWrappedDek(nonCanonical)).toThrow(/its ciphertext is not base64url/);
  });
});

describe('which key serves', () => {
  it('every unit not in maintenance; a unit in maintenance is left out, all in maintenance is refused', () => {
    const mk = generateMasterKey();
    const { dir, s } = kmsInstance(mk, 3);
    createRootKey(dir, 'vol', NOW);
    const jwe = wrapDek(dir, 'vol', Buffer.from('dek'));
    edit(dir, (x) => {
      x.units[2]!.maintenance = true;
      x.units[2]!.currentMasterKey = register(x.units[2]!, generateMasterKey());
    });
    expect(unwrapDek(dir, jwe).toString()).toBe('dek');
    edit(dir, (x) => x.units.forEach((u) => (u.maintenance = true)));
    refused(
      () => unwrapDek(dir, jwe),
      'EmulatorState',
      `All 3 units of instance ${s.instanceId} are in maintenance, so none can serve the KMS; take one out with "crypto-unit-emulator maintenance --off".`,
    );
  });

  it('units with different keys: "mismatched master key material", naming the units', () => {
    const mk = generateMasterKey();
    const { dir, s } = kmsInstance(mk, 3);
    createRootKey(dir, 'vol', NOW);
    const other = generateMasterKey();
    edit(dir, (x) => (x.units[1]!.currentMasterKey = register(x.units[1]!, other)));
    const [a, b, c] = s.units.map((u) => u.id);
    const e = refused(
      () => wrapDek(dir, 'vol', randomBytes(32)),
      'EmulatorState',
      `mismatched master key material: units ${a}, ${b}, ${c}`,
    );
    expect(e.message).toContain(`KCV ${keyCheckValue(mk)} on ${a}, ${c}; KCV ${keyCheckValue(other)} on ${b}`);
    expect(e.message).toContain('put the odd one in maintenance');
    // Taking the odd unit out lets the others serve.
    edit(dir, (x) => (x.units[1]!.maintenance = true));
    expect(wrapDek(dir, 'vol', randomBytes(32))).toMatch(/^ey/);
  });

  it('a unit not yet kms-initialized is named; cleared units hold nothing to serve', () => {
    const mk = generateMasterKey();
    const s = instance([initializedUnit(mk), clearedUnit()]);
    s.units[1]!.state = 'claimed';
    s.units[1]!.admins = s.units[0]!.admins;
    s.units[1]!.signatureThreshold = 2;
    s.units[1]!.revocationThreshold = 2;
    const dir = stateDir(s);
    refused(
      () => createRootKey(dir, 'vol', NOW),
      'EmulatorState',
      `Unit ${s.units[1]!.id} (claimed) is not kms-initialized, so the KMS cannot serve; finish the ceremony on it (ingest its bundle), or put a failed unit in maintenance.`,
    );
    const cleared = stateDir(instance([clearedUnit(), clearedUnit()]));
    refused(
      () => createRootKey(cleared, 'vol', NOW),
      'EmulatorState',
      'hold no master key (they are cleared: never initialized, or zeroized), so the KMS has nothing to serve',
    );
  });

  it('refuses a master-key register that does not hold the key its pattern names', () => {
    const mk = generateMasterKey();
    const { dir } = kmsInstance(mk);
    edit(dir, (x) => {
      // Sealed by the same unit, under the pattern of mk, but another key inside.
      const u = x.units[0]!;
      const wrong = register(u, generateMasterKey());
      u.currentMasterKey = { ...u.currentMasterKey!, sealed: wrong.sealed };
    });
    // The seal's AAD names the pattern: the swapped seal does not even open.
    refused(
      () => createRootKey(dir, 'vol', NOW),
      'EmulatorState',
      /master key register of unit .* (does not open|does not hold)/,
    );
  });
});

describe('rotation, recovery and zeroize: a DEK wrapped before unwraps after, until zeroize', () => {
  it('after a rotation the old register serves the keystore; after resealKeystore the current one does', () => {
    const k1 = generateMasterKey();
    const k2 = generateMasterKey();
    const { dir } = kmsInstance(k1);
    createRootKey(dir, 'vol', NOW);
    const dek = randomBytes(32);
    const before = wrapDek(dir, 'vol', dek);
    const rootBytes = rootKeyOf(dir, k1, 'vol');

    edit(dir, (s) => rotateRegisters(s, k2));
    expect(unwrapDek(dir, before).equals(dek)).toBe(true);
    const during = wrapDek(dir, 'vol', dek);

    // What the rotate operation does with the keystore.
    edit(dir, (s) => (s.keystore = resealKeystore(s.keystore!, k1, k2, verificationPattern(k2))));
    expect(loadInstance(dir).keystore!.masterKeyVerificationPattern).toBe(verificationPattern(k2));
    expect(rootKeyOf(dir, k2, 'vol').equals(rootBytes)).toBe(true);
    expect(unwrapDek(dir, before).equals(dek)).toBe(true);
    expect(unwrapDek(dir, during).equals(dek)).toBe(true);
  });

  it('creating a root key after a rotation moves the keystore to the current key', () => {
    const k1 = generateMasterKey();
    const k2 = generateMasterKey();
    const { dir } = kmsInstance(k1);
    createRootKey(dir, 'vol', NOW);
    const before = wrapDek(dir, 'vol', Buffer.from('dek'));
    edit(dir, (s) => rotateRegisters(s, k2));
    createRootKey(dir, 'next', NOW);
    expect(loadInstance(dir).keystore!.masterKeyVerificationPattern).toBe(verificationPattern(k2));
    expect(unwrapDek(dir, before).toString()).toBe('dek');
    // A second rotation drops k1 from the registers: the keystore no longer needs it.
    edit(dir, (s) => rotateRegisters(s, generateMasterKey()));
    expect(unwrapDek(dir, before).toString()).toBe('dek');
  });

  it('a keystore under a key no unit holds any more: nothing opens, and it says so', () => {
    const k1 = generateMasterKey();
    const { dir } = kmsInstance(k1);
    createRootKey(dir, 'vol', NOW);
    const jwe = wrapDek(dir, 'vol', Buffer.from('dek'));
    edit(dir, (s) => rotateRegisters(s, generateMasterKey()));
    edit(dir, (s) => rotateRegisters(s, generateMasterKey()));
    refused(
      () => unwrapDek(dir, jwe),
      'EmulatorState',
      /sealed under a master key these units no longer hold \(not their current key, KCV [0-9A-F]{6}, nor their old one, KCV [0-9A-F]{6}\), so no root key opens/,
    );
    refused(() => createRootKey(dir, 'new', NOW), 'EmulatorState', 'no longer hold');
  });

  it('a recovered instance (new units, same key) unwraps after importing the keystore', () => {
    const mk = generateMasterKey();
    const { dir: original } = kmsInstance(mk);
    createRootKey(original, 'vol', NOW);
    createRootKey(original, 'backup', NOW);
    const dek = randomBytes(32);
    const jwe = wrapDek(original, 'vol', dek);
    const file = tempFile('keystore.json');
    expect(exportKeystore(original, file)).toEqual({ rootKeys: ['vol', 'backup'], masterKeyKcv: keyCheckValue(mk) });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.keys(written)).toEqual(['format', 'masterKeyVerificationPattern', 'masterKeyKcv', 'rootKeys']);
    expect(written.format).toBe(KEYSTORE_FORMAT);
    expect(written.masterKeyVerificationPattern).toBe(verificationPattern(mk));
    refused(() => exportKeystore(original, file), 'OutputExists', 'already exists; nothing was overwritten');

    const { dir: recovered } = kmsInstance(mk, 3);
    refused(
      () => unwrapDek(recovered, jwe),
      'EmulatorState',
      'Nothing can be unwrapped: this instance has no root keys',
    );
    expect(importKeystore(recovered, file)).toEqual({
      rootKeys: ['vol', 'backup'],
      masterKeyKcv: keyCheckValue(mk),
      resealed: false,
    });
    expect(unwrapDek(recovered, jwe).equals(dek)).toBe(true);
    refused(
      () => importKeystore(recovered, file),
      'InvalidArgument',
      'This instance already has root keys named vol, backup; nothing was imported (was this keystore imported before?).',
    );
  });

  it('import refuses a keystore for another master key, saying which KCV it needs and which the units hold', () => {
    const mk = generateMasterKey();
    const { dir } = kmsInstance(mk);
    createRootKey(dir, 'vol', NOW);
    const file = tempFile('keystore.json');
    exportKeystore(dir, file);
    const other = generateMasterKey();
    const { dir: elsewhere } = kmsInstance(other);
    const e = refused(
      () => importKeystore(elsewhere, file),
      'EmulatorState',
      `The keystore file ${file} needs the master key with KCV ${keyCheckValue(mk)}, but the units of this instance hold KCV ${keyCheckValue(other)} as current (and no old key); nothing was imported, recover the master key with KCV ${keyCheckValue(mk)} onto this instance first.`,
    );
    expect(e.details).toEqual({ needs: keyCheckValue(mk), holds: keyCheckValue(other) });
    expect(loadInstance(elsewhere).keystore).toBeNull();
  });

  it('import of a keystore under the old key re-seals it under the current one, and export always uses the current key', () => {
    const k1 = generateMasterKey();
    const k2 = generateMasterKey();
    const { dir } = kmsInstance(k1);
    createRootKey(dir, 'vol', NOW);
    const jwe = wrapDek(dir, 'vol', Buffer.from('dek'));
    const underK1 = tempFile('k1.json');
    exportKeystore(dir, underK1);
    // The original rotates without re-sealing: its export is re-sealed under k2 for the file.
    edit(dir, (s) => rotateRegisters(s, k2));
    const underK2 = tempFile('k2.json');
    expect(exportKeystore(dir, underK2).masterKeyKcv).toBe(keyCheckValue(k2));
    expect(JSON.parse(readFileSync(underK2, 'utf8')).masterKeyVerificationPattern).toBe(verificationPattern(k2));
    expect(loadInstance(dir).keystore!.masterKeyVerificationPattern).toBe(verificationPattern(k1)); // export changes nothing

    // A recovered instance that already rotated to k2 (k1 in its old register) takes the k1 file.
    const { dir: recovered, s } = kmsInstance(k1);
    edit(recovered, (x) => rotateRegisters(x, k2));
    expect(importKeystore(recovered, underK1)).toEqual({
      rootKeys: ['vol'],
      masterKeyKcv: keyCheckValue(k2),
      resealed: true,
    });
    expect(loadInstance(recovered).keystore!.masterKeyVerificationPattern).toBe(verificationPattern(k2));
    expect(unwrapDek(recovered, jwe).toString()).toBe('dek');
    expect(s.units).toHaveLength(2);

    const { dir: third } = kmsInstance(k2);
    importKeystore(third, underK2);
    expect(unwrapDek(third, jwe).toString()).toBe('dek');
  });

  it('after zeroize nothing unwraps', () => {
    const mk = generateMasterKey();
    const { dir } = kmsInstance(mk);
    createRootKey(dir, 'vol', NOW);
    const jwe = wrapDek(dir, 'vol', Buffer.from('dek'));
    const file = tempFile('keystore.json');
    exportKeystore(dir, file);
    // What zeroize leaves: cleared units and no keystore.
    edit(dir, (s) => {
      s.units = s.units.map((u) => ({ ...clearedUnit(), id: u.id, audit: u.audit }));
      s.keystore = null;
    });
    refused(
      () => unwrapDek(dir, jwe),
      'EmulatorState',
      'hold no master key (they are cleared: never initialized, or zeroized)',
    );
    refused(() => importKeystore(dir, file), 'EmulatorState', 'hold no master key');
    refused(() => exportKeystore(dir, tempFile('again.json')), 'EmulatorState', 'hold no master key');
  });
});

describe('the keystore file is parsed strictly', () => {
  function exported(): { file: string; text: string; mk: Buffer } {
    const mk = generateMasterKey();
    const { dir } = kmsInstance(mk);
    createRootKey(dir, 'vol', NOW);
    const file = tempFile('keystore.json');
    exportKeystore(dir, file);
    return { file, text: readFileSync(file, 'utf8'), mk };
  }

  it('refuses edits naming the field, and imports nothing', () => {
    const { text } = exported();
    // The edits reach into any member of the file as JSON, whatever its type.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const change = (f: (j: any) => void): string => {
      const j = JSON.parse(text);
      f(j);
      return JSON.stringify(j);
    };
    const cases: Array<[string, string]> = [
      ['{', 'it is not valid JSON'],
      ['[]', 'the file is a list, not an object'],
      [change((j) => (j.extra = 1)), 'the file has a field extra that does not belong there'],
      [change((j) => delete j.masterKeyKcv), 'the file has no field masterKeyKcv'],
      [change((j) => (j.format = 'keyceremony-keystore/2')), 'format is not keyceremony-keystore/1'],
      [change((j) => (j.masterKeyKcv = 'abcdef')), 'masterKeyKcv is not a KCV'],
      [change((j) => (j.rootKeys[0].name = 'a b')), 'rootKeys[0].name is not a root key name'],
      [change((j) => j.rootKeys.push(j.rootKeys[0])), 'rootKeys[1].name repeats the root key name vol'],
      [change((j) => (j.rootKeys[0].sealed = 5)), 'rootKeys[0].sealed is 5, not a string'],
      [change((j) => (j.rootKeys = {})), 'rootKeys is an object, not a list'],
    ];
    for (const [t, why] of cases)
      refused(
        () => parseKeystoreFile(t, 'ks.json'),
        'InvalidArgument',
        `ks.json is not a keystore file this tool reads: ${why}`,
      );
  });

  it('refuses a root key that does not open, and a KCV that does not fit the pattern', () => {
    const { file, text, mk } = exported();
    const { dir } = kmsInstance(mk);
    const j = JSON.parse(text);
    const sealed = Buffer.from(j.rootKeys[0].sealed, 'base64url');
    sealed[20]! ^= 1;
    const altered = tempFile('altered.json');
    writeFileSync(
      altered,
      JSON.stringify({ ...j, rootKeys: [{ ...j.rootKeys[0], sealed: sealed.toString('base64url') }] }),
    );
    refused(
      () => importKeystore(dir, altered),
      'InvalidArgument',
      `A root key in the keystore file ${altered} does not open under the master key the file names: the file was altered`,
    );
    const renamed = tempFile('renamed.json');
    writeFileSync(renamed, JSON.stringify({ ...j, rootKeys: [{ ...j.rootKeys[0], name: 'other' }] }));
    refused(() => importKeystore(dir, renamed), 'InvalidArgument', 'does not open');
    const kcv = tempFile('kcv.json');
    writeFileSync(kcv, JSON.stringify({ ...j, masterKeyKcv: '000000' }));
    refused(() => importKeystore(dir, kcv), 'InvalidArgument', 'names KCV 000000 but the verification pattern of KCV');
    expect(loadInstance(dir).keystore).toBeNull();
    importKeystore(dir, file);
    expect(loadInstance(dir).keystore!.rootKeys.map((r) => r.name)).toEqual(['vol']);
    refused(() => importKeystore(dir, tempFile('missing.json')), 'FileNotFound', 'does not exist');
  });
});

describe('resealKeystore', () => {
  it('is pure, keeps names and creation times, and needs the key the keystore is under', () => {
    const k1 = generateMasterKey();
    const k2 = generateMasterKey();
    const { dir } = kmsInstance(k1);
    createRootKey(dir, 'a', NOW);
    createRootKey(dir, 'b', new Date('2025-05-01T00:00:00.000Z'));
    const ks = loadInstance(dir).keystore!;
    const copy = structuredClone(ks);
    const moved = resealKeystore(ks, k1, k2, verificationPattern(k2));
    expect(ks).toEqual(copy);
    expect(moved.masterKeyVerificationPattern).toBe(verificationPattern(k2));
    expect(moved.rootKeys.map((r) => [r.name, r.created])).toEqual(ks.rootKeys.map((r) => [r.name, r.created]));
    for (const [i, r] of moved.rootKeys.entries()) {
      expect(unsealBytes(k2, r.sealed, r.name, 'x').equals(unsealBytes(k1, ks.rootKeys[i]!.sealed, r.name, 'x'))).toBe(
        true,
      );
    }
    refused(
      () => resealKeystore(ks, k2, k1, verificationPattern(k1)),
      'EmulatorState',
      'The KMS keystore is not sealed under the master key given to re-seal it',
    );
    refused(
      () => resealKeystore(ks, k1, k2, verificationPattern(k1)),
      'InvalidArgument',
      'does not match its verification pattern',
    );
  });
});

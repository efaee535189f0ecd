import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isCeremonyError } from '../../../src/core/errors.js';
import {
  checkKeyName,
  combineShares,
  generateMasterKey,
  keyCheckValue,
  splitMasterKey,
  verificationPattern,
} from '../../../src/core/masterkey/masterkey.js';

describe('master key', () => {
  it('is 32 fresh random bytes', () => {
    const a = generateMasterKey();
    const b = generateMasterKey();
    expect(a).toHaveLength(32);
    expect(a.equals(b)).toBe(false);
  });

  it('KCV is the first 3 bytes of AES-256-ECB of a zero block, as OpenSSL computes it', () => {
    const key = generateMasterKey();
    const openssl = execFileSync('openssl', ['enc', '-aes-256-ecb', '-K', key.toString('hex'), '-nopad'], {
      input: Buffer.alloc(16),
    });
    expect(keyCheckValue(key)).toBe(openssl.subarray(0, 3).toString('hex').toUpperCase());
    // AES-256, all-zero key and block: DC95C078A2408989AD48A21492842087.
    expect(keyCheckValue(Buffer.alloc(32))).toBe('DC95C0');
  });

  it('verification pattern is HMAC-SHA-256 over the fixed label, different per key', () => {
    const key = Buffer.alloc(32, 7);
    const openssl = execFileSync(
      'openssl',
      ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${key.toString('hex')}`, '-r'],
      {
        input: 'KeyCeremony master-key verification pattern v1',
      },
    );
    expect(verificationPattern(key)).toBe(openssl.toString().split(' ')[0]);
    expect(verificationPattern(generateMasterKey())).not.toBe(verificationPattern(key));
  });

  it('rejects keys of the wrong size', () => {
    expect(() => keyCheckValue(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});

describe('the key name', () => {
  it('is 1 to 128 printable characters, with no space at either end', () => {
    for (const ok of ['MK', 'Production master key 2026', 'ä'.repeat(128)])
      expect(() => checkKeyName(ok)).not.toThrow();
    for (const bad of ['', 'x'.repeat(129), 'a\nb', 'a\u007fb', 'tab\there'])
      expect(() => checkKeyName(bad)).toThrow(/1 to 128 printable characters/);
    for (const bad of [' MK', 'MK ']) expect(() => checkKeyName(bad)).toThrow(/must not begin or end with a space/);
  });
});

describe('K-of-N split and combine', () => {
  it('any K of N shares rebuild the key; K-1 do not', async () => {
    const key = generateMasterKey();
    const shares = await splitMasterKey(key, 3, 5);
    expect(shares).toHaveLength(5);
    for (const s of shares) expect(s).toHaveLength(33);
    for (const subset of [
      [0, 1, 2],
      [0, 2, 4],
      [4, 3, 1],
      [1, 2, 3, 4],
    ]) {
      const rebuilt = await combineShares(subset.map((i) => shares[i]!));
      expect(rebuilt.equals(key)).toBe(true);
    }
    const two = await combineShares([shares[0]!, shares[1]!]);
    expect(two.equals(key)).toBe(false);
  });

  it('accepts the extremes 2-of-2 and 255-of-255', async () => {
    const key = generateMasterKey();
    expect((await combineShares(await splitMasterKey(key, 2, 2))).equals(key)).toBe(true);
    const many = await splitMasterKey(key, 255, 255);
    expect((await combineShares(many)).equals(key)).toBe(true);
  });

  it.each([
    [1, 3, /threshold K must be a whole number from 2/],
    [4, 3, /threshold K must be a whole number from 2 to the number of shares \(3\)/],
    [2, 1, /number of shares N must be a whole number from 2 to 255/],
    [2, 256, /number of shares N must be a whole number from 2 to 255/],
    [2.5, 3, /threshold K/],
  ])('refuses K=%s N=%s', async (k, n, msg) => {
    await expect(splitMasterKey(generateMasterKey(), k, n)).rejects.toThrow(msg);
  });

  it('refuses two copies of the same share', async () => {
    const shares = await splitMasterKey(generateMasterKey(), 2, 3);
    const err = await combineShares([shares[0]!, Buffer.from(shares[0]!)]).catch((e: unknown) => e);
    expect(isCeremonyError(err, 'DuplicateShare')).toBe(true);
  });
});

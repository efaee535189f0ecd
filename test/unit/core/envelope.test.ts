import { createECDH, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isCeremonyError, type CeremonyErrorCode } from '../../../src/core/errors.js';
import {
  KEYSHARE_FORMAT,
  openShareWithPassphrase,
  parseEnvelope,
  sealShareToCardKey,
  sealShareWithPassphrase,
  serializeEnvelope,
  shareCommitment,
  type KeyshareHeader,
} from '../../../src/core/shares/envelope.js';

const FAST = { logN: 15, r: 8, p: 1 }; // the lowest cost a reader accepts; keeps tests quick
const pass = (s: string): Buffer => Buffer.from(s, 'utf8');

function header(over: Partial<KeyshareHeader> = {}): KeyshareHeader {
  return {
    format: KEYSHARE_FORMAT,
    ceremonyId: randomUUID(),
    keyName: 'MK-2026',
    shareIndex: 2,
    threshold: 3,
    shares: 5,
    kcv: 'A1B2C3',
    custodian: 'Dora',
    created: '2026-11-22T10:00:00.000Z',
    ...over,
  };
}

const share = Buffer.from(Array.from({ length: 33 }, (_, i) => i + 1));

async function expectCode(p: Promise<unknown> | (() => unknown), code: CeremonyErrorCode, msg?: RegExp): Promise<void> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(isCeremonyError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
  if (msg) expect((err as Error).message).toMatch(msg);
}

describe('keyshare envelope with a passphrase', () => {
  it('seals and opens; the header stays readable and the share does not appear', async () => {
    const env = await sealShareWithPassphrase(header(), share, pass('correct horse'), FAST);
    const text = serializeEnvelope(env);
    expect(text).toContain('"custodian": "Dora"');
    expect(text).not.toContain(share.toString('base64url'));
    const opened = await openShareWithPassphrase(parseEnvelope(text, 'f'), pass('correct horse'), 'f');
    expect(opened.equals(share)).toBe(true);
    expect(env.protection.kdf).toMatchObject({ name: 'scrypt', logN: 15, r: 8, p: 1 });
  });

  it('records the default scrypt cost (N=2^17, r=8, p=1) in the file', async () => {
    const env = await sealShareWithPassphrase(header(), share, pass('correct horse'));
    expect(env.protection.kdf).toMatchObject({ logN: 17, r: 8, p: 1 });
  });

  it('says "wrong passphrase" for a wrong passphrase', async () => {
    const env = await sealShareWithPassphrase(header(), share, pass('correct horse'), FAST);
    await expectCode(
      openShareWithPassphrase(env, pass('wrong horse'), 'share file x'),
      'WrongPassphrase',
      /Wrong passphrase for share file x/,
    );
  });

  it('detects a changed header field (associated data) with the right passphrase', async () => {
    const env = await sealShareWithPassphrase(header(), share, pass('correct horse'), FAST);
    const altered = { ...env, header: { ...env.header, shareIndex: 3 } };
    await expectCode(openShareWithPassphrase(altered, pass('correct horse'), 'f'), 'ShareAltered', /altered/);
  });

  it('detects a flipped ciphertext bit', async () => {
    const env = await sealShareWithPassphrase(header(), share, pass('correct horse'), FAST);
    const ct = Buffer.from(env.ciphertext, 'base64url');
    ct[0] = ct[0]! ^ 1;
    await expectCode(
      openShareWithPassphrase({ ...env, ciphertext: ct.toString('base64url') }, pass('correct horse'), 'f'),
      'ShareAltered',
    );
  });

  it('reports a truncated file as truncated or corrupted', async () => {
    const text = serializeEnvelope(await sealShareWithPassphrase(header(), share, pass('correct horse'), FAST));
    await expectCode(
      () => parseEnvelope(text.slice(0, text.length / 2), 'share file f'),
      'ShareCorrupted',
      /truncated or corrupted/,
    );
  });

  it('refuses scrypt parameters outside the accepted bounds (no downgrade, no memory bomb)', async () => {
    const env = await sealShareWithPassphrase(header(), share, pass('correct horse'), FAST);
    for (const logN of [10, 24]) {
      // Without its digest, as a file of an earlier version: the bounds themselves are checked.
      const { digest: _digest, ...legacy } = env;
      const text = JSON.stringify({
        ...legacy,
        protection: { ...env.protection, kdf: { ...env.protection.kdf, logN } },
      });
      await expectCode(() => parseEnvelope(text, 'f'), 'ShareCorrupted', /logN outside 15..20/);
    }
  });

  it('damage anywhere in a share file reads as damage, never as a wrong passphrase (every byte flipped)', async () => {
    const text = serializeEnvelope(await sealShareWithPassphrase(header(), share, pass('correct horse'), FAST));
    const outcomes = new Map<string, number>();
    for (let i = 0; i < text.length; i++) {
      const bytes = Buffer.from(text, 'utf8');
      bytes[i] = bytes[i]! ^ 0x01;
      let outcome = 'opened';
      try {
        const opened = await openShareWithPassphrase(
          parseEnvelope(bytes.toString('utf8'), 'f'),
          pass('correct horse'),
          'f',
        );
        if (!opened.equals(share)) outcome = 'OPENED WRONG';
      } catch (e) {
        outcome = isCeremonyError(e) ? e.code : `crash: ${String(e)}`;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    expect([...outcomes.keys()].filter((k) => !['ShareCorrupted', 'ShareAltered', 'opened'].includes(k))).toEqual([]);
    expect(outcomes.get('ShareCorrupted')).toBeGreaterThan(text.length / 2);
  }, 120_000);

  it('a file written before share files carried a digest is still read', async () => {
    const { digest: _digest, ...legacy } = await sealShareWithPassphrase(header(), share, pass('correct horse'), FAST);
    const opened = await openShareWithPassphrase(
      parseEnvelope(JSON.stringify(legacy), 'f'),
      pass('correct horse'),
      'f',
    );
    expect(opened.equals(share)).toBe(true);
  });

  it('a card share whose card serial is not a 4-byte serial (2^53 and above included) is damage, not a crash', () => {
    const point = createECDH('prime256v1').generateKeys();
    const env = sealShareToCardKey(header(), share, { serial: 12345678, slot: 0x82, recipientPoint: point });
    expect(() => parseEnvelope(serializeEnvelope(env), 'f')).not.toThrow();
    for (const serial of [2 ** 53, 2 ** 53 + 2, 2 ** 32, -1, 1.5]) {
      // Without a digest, so that the protection block's own check is what speaks.
      const { digest: _digest, ...members } = env;
      const text = JSON.stringify({ ...members, protection: { ...env.protection, cardSerial: serial } });
      expect(() => parseEnvelope(text, 'card share'), String(serial)).toThrow(
        /card share is damaged: the card protection block is invalid/,
      );
    }
  });

  it('a rehearsal share says so in its header, which authenticates the mark: it cannot be removed or set false', async () => {
    const env = await sealShareWithPassphrase(header({ rehearsal: true }), share, pass('correct horse'), FAST);
    const parsed = parseEnvelope(serializeEnvelope(env), 'f');
    expect(parsed.header.rehearsal).toBe(true);
    expect((await openShareWithPassphrase(parsed, pass('correct horse'), 'f')).equals(share)).toBe(true);
    const { rehearsal: _mark, ...unmarked } = env.header;
    await expectCode(
      openShareWithPassphrase({ ...env, header: unmarked }, pass('correct horse'), 'f'),
      'ShareAltered',
      /altered/,
    );
    // Without the file's digest (a file from before digests), so that the header itself is what is judged.
    const { digest: _digest, ...undigested } = JSON.parse(serializeEnvelope(env)) as Record<string, unknown>;
    const asFalse = JSON.stringify({ ...undigested, header: { ...env.header, rehearsal: false } });
    await expectCode(() => parseEnvelope(asFalse, 'f'), 'ShareCorrupted', /rehearsal is missing or invalid/);
  });

  it('refuses unknown fields', async () => {
    const env = await sealShareWithPassphrase(header(), share, pass('correct horse'), FAST);
    await expectCode(
      () => parseEnvelope(JSON.stringify({ ...env, extra: 1 }), 'f'),
      'ShareCorrupted',
      /unexpected or missing fields/,
    );
  });

  it.each([
    ['five', 'PassphraseTooShort', /has 4 characters and needs at least 6/],
    ['x'.repeat(256), 'PassphraseTooLong', /has 256 characters and may have at most 255/],
  ] as const)('refuses passphrase %#', async (p, code, msg) => {
    await expectCode(sealShareWithPassphrase(header(), share, pass(p), FAST), code, msg);
  });

  it('counts characters, not bytes: six accented characters are enough', async () => {
    const env = await sealShareWithPassphrase(header(), share, pass('éééééé'), FAST);
    expect((await openShareWithPassphrase(env, pass('éééééé'), 'f')).equals(share)).toBe(true);
  });

  it('commitment binds header and share', () => {
    const h = header();
    const c = shareCommitment(h, share);
    expect(c).toMatch(/^[0-9a-f]{64}$/);
    expect(shareCommitment({ ...h, shareIndex: 1 }, share)).not.toBe(c);
    const other = Buffer.from(share);
    other[0] = other[0]! ^ 1;
    expect(shareCommitment(h, other)).not.toBe(c);
  });
});

import { createHash, diffieHellman, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ALG,
  DEFAULT_MANAGEMENT_KEY,
  KEY_REF,
  OBJECT,
  PIN_POLICY,
  PivSession,
  SLOT,
  certificateObjectFor,
} from '../../../src/core/cards/piv.js';
import { isCeremonyError } from '../../../src/core/errors.js';
import { VirtualPivCard } from '../../../src/virtual-card/card.js';
import { InProcessTransport } from '../../../src/virtual-card/transport.js';

const ascii = (s: string): Buffer => Buffer.from(s, 'ascii');
const READER = 'Virtual PIV reader 0';

async function session(
  card = new VirtualPivCard(),
): Promise<{ s: PivSession; t: InProcessTransport; card: VirtualPivCard; apdus: () => number }> {
  const t = new InProcessTransport();
  t.insert(READER, card);
  let n = 0;
  const s = new PivSession(await t.connect('reader 0'), { onExchange: () => n++ });
  await s.select();
  return { s, t, card, apdus: () => n };
}

async function caught(p: Promise<unknown>): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

/** EMSA-PKCS1-v1_5 encoding of a SHA-256 digest for RSA-2048 (RFC 8017 §9.2). */
function pkcs1(data: Buffer): Buffer {
  const digestInfo = Buffer.concat([
    Buffer.from('3031300d060960864801650304020105000420', 'hex'),
    createHash('sha256').update(data).digest(),
  ]);
  return Buffer.concat([
    Buffer.from([0x00, 0x01]),
    Buffer.alloc(256 - 3 - digestInfo.length, 0xff),
    Buffer.from([0x00]),
    digestInfo,
  ]);
}

describe('PIV client against the virtual card (in-process)', () => {
  it('reads version and serial, and PIN metadata shows the defaults', async () => {
    const { s, card } = await session();
    expect(await s.version()).toMatch(/^5\.\d+\.\d+$/);
    expect(await s.serial()).toBe(card.serial);
    const pin = await s.referenceMetadata(KEY_REF.PIN);
    expect(pin).toMatchObject({ isDefault: true, triesLeft: 3 });
  });

  it('wrong PIN reports tries left, then blocks; the PUK unblocks it', async () => {
    const { s } = await session();
    const e1 = await caught(s.verifyPin(ascii('000000')));
    expect(e1.message).toBe('Wrong PIN: 2 tries left before it is blocked.');
    expect(e1.details?.['retriesLeft']).toBe(2);
    await caught(s.verifyPin(ascii('000000')));
    const e3 = await caught(s.verifyPin(ascii('000000')));
    expect(isCeremonyError(e3, 'PinBlocked')).toBe(true);
    expect(e3.message).toMatch(/Unblock it with the PUK/);
    expect(isCeremonyError(await caught(s.verifyPin(ascii('123456'))), 'PinBlocked')).toBe(true);
    await s.unblockPin(ascii('12345678'), ascii('654321'));
    await s.verifyPin(ascii('654321'));
    expect(await s.pinTriesLeft()).toMatchObject({ verified: true });
  });

  it('authenticates with the default 3DES management key and refuses a wrong one', async () => {
    const { s } = await session();
    await s.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY, ALG.TDES);
    const wrong = Buffer.from(DEFAULT_MANAGEMENT_KEY);
    wrong[0] = wrong[0]! ^ 0xff;
    expect(isCeremonyError(await caught(s.authenticateManagementKey(wrong, ALG.TDES)), 'ManagementKeyRejected')).toBe(
      true,
    );
  });

  it('changes to an AES-192 management key; the old one is then refused', async () => {
    const { s, t, card } = await session();
    await s.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY, ALG.TDES);
    const aes = Buffer.alloc(24, 0x42);
    await s.setManagementKey(aes, ALG.AES192);
    t.remove(READER);
    t.insert(READER, card);
    const s2 = new PivSession(await t.connect(READER));
    await s2.select();
    expect(
      isCeremonyError(
        await caught(s2.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY, ALG.TDES)),
        'ManagementKeyRejected',
      ),
    ).toBe(true);
    await s2.authenticateManagementKey(aes, ALG.AES192);
  });

  it('generates RSA-2048 in 9C; signing needs the PIN right before every use (PIN-always)', async () => {
    const { s } = await session();
    await s.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY);
    const pub = await s.generateKey(SLOT.SIGNATURE, ALG.RSA2048, { pin: PIN_POLICY.ALWAYS });
    expect(pub.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const data = Buffer.from('bundle signing input');
    expect(isCeremonyError(await caught(s.rsaPrivate(SLOT.SIGNATURE, pkcs1(data))), 'SecurityStatusNotSatisfied')).toBe(
      true,
    );
    await s.verifyPin(ascii('123456'));
    const sig = await s.rsaPrivate(SLOT.SIGNATURE, pkcs1(data));
    expect(verify('sha256', data, pub, sig)).toBe(true);
    expect(isCeremonyError(await caught(s.rsaPrivate(SLOT.SIGNATURE, pkcs1(data))), 'SecurityStatusNotSatisfied')).toBe(
      true,
    );
  });

  it('generates P-256 in retired slot 82; the card ECDH equals software ECDH', async () => {
    const { s } = await session();
    await s.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY);
    const cardPub = await s.generateKey(0x82, ALG.ECCP256, { pin: PIN_POLICY.ONCE });
    const eph = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = eph.publicKey.export({ format: 'jwk' });
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
    await s.verifyPin(ascii('123456'));
    const shared = await s.ecdh(0x82, point);
    expect(shared.equals(diffieHellman({ privateKey: eph.privateKey, publicKey: cardPub }))).toBe(true);
    const meta = await s.slotMetadata(0x82);
    expect(meta).toMatchObject({ algorithm: ALG.ECCP256, generated: true });
    expect(await s.slotMetadata(0x83)).toBeNull();
  });

  it('PUT DATA needs the management key; a 3 KB object goes out and comes back in one extended APDU each', async () => {
    const { s, apdus } = await session();
    expect(s.channel.extendedLength).toBe(true); // the YubiKey 5 ATR announces extended Lc/Le
    const big = Buffer.alloc(3000, 0x5a);
    const tag = certificateObjectFor(0x82);
    expect(isCeremonyError(await caught(s.putData(tag, big, 'Writing')), 'SecurityStatusNotSatisfied')).toBe(true);
    await s.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY);
    let before = apdus();
    await s.putData(tag, big, 'Writing');
    expect(apdus() - before).toBe(1);
    before = apdus();
    expect((await s.getData(tag, 'Reading')).equals(big)).toBe(true);
    expect(apdus() - before).toBe(1);
    expect(
      isCeremonyError(
        await caught(s.getData(certificateObjectFor(0x95), 'Reading the slot 95 object')),
        'CardObjectNotFound',
      ),
    ).toBe(true);
  });

  it('on a card whose ATR does not offer extended length, a 3 KB object goes chained and comes back with GET RESPONSE', async () => {
    // The YubiKey 5 ATR with card capabilities 73 C0 21 80: chaining, no extended Lc/Le.
    const atr = Buffer.from('3bfd1300008131fe158073c0218057597562694b657900', 'hex');
    const { s, apdus } = await session(new VirtualPivCard({ atr }));
    expect(s.channel.extendedLength).toBe(false);
    await s.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY);
    const big = Buffer.alloc(3000, 0x5a);
    const tag = certificateObjectFor(0x82);
    let before = apdus();
    await s.putData(tag, big, 'Writing');
    expect(apdus() - before).toBe(12); // 3009 bytes in 255-byte blocks
    before = apdus();
    expect((await s.getData(tag, 'Reading')).equals(big)).toBe(true);
    expect(apdus() - before).toBe(12); // 3004 bytes: 256, then 11 GET RESPONSE
  });

  it('a pulled card fails the next APDU with CardRemoved', async () => {
    const { s, t } = await session();
    t.remove(READER);
    const e = await caught(s.version());
    expect(isCeremonyError(e, 'CardRemoved')).toBe(true);
  });

  it('a fresh card has no CHUID, as a factory YubiKey 5 (issue 9): CardObjectNotFound', async () => {
    const { s } = await session();
    expect(isCeremonyError(await caught(s.getData(OBJECT.CHUID, 'Reading the CHUID')), 'CardObjectNotFound')).toBe(
      true,
    );
  });
});

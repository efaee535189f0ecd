import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALG, DEFAULT_MANAGEMENT_KEY, KEY_REF, OBJECT, certificateObjectFor } from '../../../src/core/cards/piv.js';
import { parseTlvs } from '../../../src/core/cards/tlv.js';
import { flattenedVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { signGeneralJws } from '../../../src/core/bundle/jws.js';
import {
  cardRs256Signer,
  cardStatus,
  describeSlotContent,
  generateAdminIdentityOnCard,
  inspectSlot,
  keyHistoryWith,
  readKeyHistory,
  listCardShares,
  assertPrepared,
  prepareCard,
  readShareFromCard,
  unlockManagementKey,
  withCard,
  writeShareToCard,
} from '../../../src/core/cards/roles.js';
import { b64url } from '../../../src/core/encoding.js';
import { isCeremonyError, type CeremonyError } from '../../../src/core/errors.js';
import { KEYSHARE_FORMAT, type KeyshareHeader } from '../../../src/core/shares/envelope.js';
import { VirtualPivCard } from '../../../src/virtual-card/card.js';
import { InProcessTransport } from '../../../src/virtual-card/transport.js';

const R = 'Virtual PIV reader 0';
const a = (s: string): Buffer => Buffer.from(s, 'ascii');
const PIN = a('246813');

function rig(): { t: InProcessTransport; card: VirtualPivCard } {
  const t = new InProcessTransport();
  const card = new VirtualPivCard();
  t.insert(R, card);
  return { t, card };
}

async function prepared(): Promise<{ t: InProcessTransport; card: VirtualPivCard }> {
  const r = rig();
  await withCard(r.t, R, (s) => prepareCard(s, { pin: a('123456'), newPin: PIN, newPuk: a('97531864') }));
  return r;
}

function header(ceremonyId = randomUUID(), shareIndex = 2): KeyshareHeader {
  return {
    format: KEYSHARE_FORMAT,
    ceremonyId,
    keyName: 'MK',
    shareIndex,
    threshold: 2,
    shares: 3,
    kcv: 'ABCDEF',
    custodian: 'Dora',
    created: new Date().toISOString(),
  };
}
const share = Buffer.from(Array.from({ length: 33 }, (_, i) => 200 - i));

async function rejects(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('card preparation', () => {
  it('replaces PIN, PUK and management key; the key is kept PIN-protected', async () => {
    const { t } = rig();
    const before = await withCard(t, R, cardStatus);
    expect(before).toMatchObject({
      pinIsDefault: true,
      pukIsDefault: true,
      managementKeyIsDefault: true,
      managementKeyPinProtected: false,
    });
    await withCard(t, R, (s) => prepareCard(s, { pin: a('123456'), newPin: PIN, newPuk: a('97531864') }));
    const after = await withCard(t, R, cardStatus);
    expect(after).toMatchObject({
      pinIsDefault: false,
      pukIsDefault: false,
      managementKeyIsDefault: false,
      managementKeyPinProtected: true,
      pinTriesLeft: 3,
    });
  });

  it('refuses a default or trivial new PIN', async () => {
    const { t } = rig();
    const e = await rejects(
      withCard(t, R, (s) => prepareCard(s, { pin: a('123456'), newPin: a('123456'), newPuk: a('97531864') })),
    );
    expect(e.message).toMatch(/new PIN is a default/);
    const e2 = await rejects(
      withCard(t, R, (s) => prepareCard(s, { pin: a('123456'), newPin: a('111111'), newPuk: a('97531864') })),
    );
    expect(e2.message).toMatch(/repeats one character/);
  });

  it('reports a wrong current PIN with the tries left', async () => {
    const { t } = rig();
    const e = await rejects(
      withCard(t, R, (s) => prepareCard(s, { pin: a('654321'), newPin: PIN, newPuk: a('97531864') })),
    );
    expect(e.message).toBe('Wrong PIN: 2 tries left before it is blocked.');
  });
});

describe('a card whose management key is not the factory one', () => {
  async function customKeyCard(): Promise<{ t: InProcessTransport; key: Buffer }> {
    const { t } = rig();
    const key = Buffer.alloc(32, 0x7e);
    await withCard(t, R, async (s) => {
      await s.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY, ALG.TDES);
      await s.setManagementKey(key, ALG.AES256);
    });
    return { t, key };
  }

  it('is not prepared without its key, and nothing changes', async () => {
    const { t } = await customKeyCard();
    const e = await rejects(
      withCard(t, R, (s) => prepareCard(s, { pin: a('123456'), newPin: PIN, newPuk: a('97531864') })),
    );
    expect(isCeremonyError(e, 'ManagementKeyRejected')).toBe(true);
    expect(e.message).toMatch(/not the factory one and is not kept PIN-protected\. Give the current management key/);
    expect(await withCard(t, R, cardStatus)).toMatchObject({ pinIsDefault: true, pukIsDefault: true });
  });

  it('refuses a wrong key before touching PIN or PUK', async () => {
    const { t } = await customKeyCard();
    const e = await rejects(
      withCard(t, R, (s) =>
        prepareCard(s, { pin: a('123456'), newPin: PIN, newPuk: a('97531864'), managementKey: Buffer.alloc(32, 1) }),
      ),
    );
    expect(isCeremonyError(e, 'ManagementKeyRejected')).toBe(true);
    expect(await withCard(t, R, cardStatus)).toMatchObject({ pinIsDefault: true, pukIsDefault: true });
  });

  it('is prepared with its key, then holds shares like any prepared card', async () => {
    const { t, key } = await customKeyCard();
    await withCard(t, R, (s) =>
      prepareCard(s, { pin: a('123456'), newPin: PIN, newPuk: a('97531864'), managementKey: key }),
    );
    expect(await withCard(t, R, cardStatus)).toMatchObject({ managementKeyPinProtected: true });
    await withCard(t, R, (s) => writeShareToCard(s, header(), share, PIN));
  });

  it('a prepared card is not prepared twice', async () => {
    const { t } = await prepared();
    const e = await rejects(
      withCard(t, R, (s) => prepareCard(s, { pin: PIN, newPin: a('135792'), newPuk: a('86420864') })),
    );
    expect(e.message).toMatch(/already prepared/);
  });
});

describe('custodian card', () => {
  it('refuses to store a share behind factory defaults', async () => {
    const { t } = rig();
    const e = await rejects(withCard(t, R, (s) => writeShareToCard(s, header(), share, a('123456'))));
    expect(isCeremonyError(e, 'CardDefaultCredentials')).toBe(true);
    expect(e.message).toMatch(/still has the factory PIN, PUK, management key; prepare it first/);
  });

  it('seals a share to a P-256 key in a retired slot and reads it back with the PIN', async () => {
    const { t } = await prepared();
    const h = header();
    const { slot } = await withCard(t, R, (s) => writeShareToCard(s, h, share, PIN));
    expect(slot).toBe(0x82);
    const [found] = await withCard(t, R, listCardShares);
    expect(found!.envelope.header).toEqual(h);
    const back = await withCard(t, R, (s) => readShareFromCard(s, found!.envelope, PIN));
    expect(back.equals(share)).toBe(true);
    // The slot's certificate is ordinary X.509 that OpenSSL verifies.
    const obj = await withCard(t, R, (s) => s.getData(certificateObjectFor(0x82), 'read'));
    const dir = mkdtempSync(join(tmpdir(), 'kc-share-cert-'));
    writeFileSync(join(dir, 'c.der'), parseTlvs(obj).find((x) => x.tag === 0x70)!.value);
    execFileSync('openssl', ['x509', '-inform', 'der', '-in', join(dir, 'c.der'), '-out', join(dir, 'c.pem')]);
    expect(
      execFileSync('openssl', ['verify', '-CAfile', join(dir, 'c.pem'), '-partial_chain', join(dir, 'c.pem')], {
        encoding: 'utf8',
      }),
    ).toMatch(/OK/);
    const status = await withCard(t, R, cardStatus);
    expect(status.shares).toEqual([expect.objectContaining({ slot: '82', ceremonyId: h.ceremonyId, shareIndex: 2 })]);
  });

  it('a wrong PIN on read says how many tries are left and reveals nothing', async () => {
    const { t } = await prepared();
    await withCard(t, R, (s) => writeShareToCard(s, header(), share, PIN));
    const [found] = await withCard(t, R, listCardShares);
    const e = await rejects(withCard(t, R, (s) => readShareFromCard(s, found!.envelope, a('000000'))));
    expect(e.message).toBe('Wrong PIN: 2 tries left before it is blocked.');
  });

  it('the share does not open on another card', async () => {
    const { t } = await prepared();
    await withCard(t, R, (s) => writeShareToCard(s, header(), share, PIN));
    const [found] = await withCard(t, R, listCardShares);
    const other = await prepared();
    await withCard(other.t, R, (s) => writeShareToCard(s, header(), share, PIN));
    const e = await rejects(withCard(other.t, R, (s) => readShareFromCard(s, found!.envelope, PIN)));
    expect(isCeremonyError(e, 'ShareAltered')).toBe(true);
  });

  it('a card pulled in the middle of writing a new share keeps the share it already held', async () => {
    // Pull the card after every possible number of APDUs of a second write. Each attempt gets a
    // card of its own: a write pulled after its key was generated leaves that key in its slot,
    // and a slot with a key is never taken again (issue 9), so one card would run out of slots.
    for (let pullAfter = 1; pullAfter < 60; pullAfter++) {
      const { t, card } = await prepared();
      const first = header();
      await withCard(t, R, (s) => writeShareToCard(s, first, share, PIN));
      let n = 0;
      const e = await rejects(
        withCard(t, R, (s) => writeShareToCard(s, header(), share, PIN), {
          onExchange: () => {
            if (++n === pullAfter) t.remove(R);
          },
        }).then(() => {
          throw new Error('finished');
        }),
      );
      t.insert(R, card);
      if (e.message === 'finished') break;
      expect(isCeremonyError(e, 'CardRemoved'), `after ${pullAfter} APDUs: ${e.message}`).toBe(true);
      const shares = await withCard(t, R, listCardShares);
      const kept = shares.find((x) => x.envelope.header.ceremonyId === first.ceremonyId)!;
      expect((await withCard(t, R, (s) => readShareFromCard(s, kept.envelope, PIN))).equals(share)).toBe(true);
    }
  });
});

describe('admin card', () => {
  it('generates RSA-2048 in 9C, certifies it on the card, and signs bundles that jose verifies', async () => {
    const { t } = await prepared();
    const cert = await withCard(t, R, (s) => generateAdminIdentityOnCard(s, 'Alice Admin', PIN));
    expect(cert.name).toBe('Alice Admin');
    const status = await withCard(t, R, cardStatus);
    expect(status.adminCertificate).toEqual({ state: 'present', name: 'Alice Admin', thumbprint: cert.thumbprint });
    const jwsPayload = b64url(Buffer.from('payload to sign'));
    const entry = await withCard(t, R, (s) =>
      signGeneralJws({ payload: jwsPayload, signatures: [] }, cert, cardRs256Signer(s, PIN)),
    );
    await flattenedVerify(
      { payload: jwsPayload, protected: entry.protected, signature: entry.signature },
      cert.publicKey,
    );
  });
});

describe("a card is its owner's property (issue 9)", () => {
  /** A key the owner put in `slot` with another tool (no certificate), as ykman piv keys generate would. */
  async function ownersKey(
    t: InProcessTransport,
    slot: number,
    alg: typeof ALG.RSA2048 | typeof ALG.ECCP256,
  ): Promise<string> {
    return withCard(t, R, async (s) => {
      await unlockManagementKey(s, PIN);
      const pub = await s.generateKey(slot, alg);
      return pub.export({ format: 'der', type: 'spki' }).toString('hex');
    });
  }
  const spki = async (t: InProcessTransport, slot: number): Promise<string | undefined> =>
    withCard(t, R, async (s) =>
      (await s.slotMetadata(slot))?.publicKey?.export({ format: 'der', type: 'spki' }).toString('hex'),
    );

  it('an occupied 9C is described and refused before the PIN is tried; only the agreed content is replaced', async () => {
    const { t } = await prepared();
    const before = await ownersKey(t, 0x9c, ALG.RSA2048);
    const e = await rejects(withCard(t, R, (s) => generateAdminIdentityOnCard(s, 'Alice Admin', a('000000'))));
    expect(isCeremonyError(e, 'CardSlotOccupied')).toBe(true);
    expect(e.message).toMatch(
      /^On card \d+, slot 9C holds an RSA-2048 key generated on the card, without a certificate\. Nothing was changed: to replace it, its owner must agree, or use another card\.$/,
    );
    expect((e as CeremonyError).details['remedy']).toBe('owner-consent-to-replace'); // the CLI and the app each say how
    expect(await spki(t, 0x9c)).toBe(before);
    expect((await withCard(t, R, (s) => s.pinTriesLeft())).triesLeft).toBe(3); // the wrong PIN was never tried
    const content = (await withCard(t, R, (s) => inspectSlot(s, 0x9c)))!;
    expect(describeSlotContent(content)).toBe(
      'slot 9C holds an RSA-2048 key generated on the card, without a certificate',
    );
    // Consent to one content does not cover another: the owner changed the slot since.
    await ownersKey(t, 0x9c, ALG.RSA2048);
    const e2 = await rejects(
      withCard(t, R, (s) => generateAdminIdentityOnCard(s, 'Alice Admin', PIN, { replace: content })),
    );
    expect(e2.message).toMatch(/which is not what was agreed to replace/);
    const now = (await withCard(t, R, (s) => inspectSlot(s, 0x9c)))!;
    const cert = await withCard(t, R, (s) => generateAdminIdentityOnCard(s, 'Alice Admin', PIN, { replace: now }));
    expect((await withCard(t, R, cardStatus)).adminCertificate).toMatchObject({
      state: 'present',
      thumbprint: cert.thumbprint,
    });
    const described = describeSlotContent((await withCard(t, R, (s) => inspectSlot(s, 0x9c)))!);
    expect(described).toBe(
      'slot 9C holds an RSA-2048 key generated on the card, with a certificate for "CN=Alice Admin"',
    );
  });

  it('a share never takes a retired slot holding a key without a certificate, and says so when none is free', async () => {
    const { t } = await prepared();
    const owners = await ownersKey(t, 0x82, ALG.ECCP256);
    const { slot } = await withCard(t, R, (s) => writeShareToCard(s, header(), share, PIN));
    expect(slot).toBe(0x83);
    expect(await spki(t, 0x82)).toBe(owners);
    for (let n = 0x84; n <= 0x95; n++) await ownersKey(t, n, ALG.ECCP256);
    const e = await rejects(withCard(t, R, (s) => writeShareToCard(s, header(), share, a('000000'))));
    expect(isCeremonyError(e, 'CardSlotOccupied')).toBe(true);
    expect(e.message).toMatch(
      /^Every retired key slot \(82 to 95\) of card \d+ holds a key or a certificate, and none is overwritten; use another card\.$/,
    );
    expect((await withCard(t, R, (s) => s.pinTriesLeft())).triesLeft).toBe(3);
  });
});

describe('every card fact is checked before any key exists and before any PIN or PUK is tried (issue 9)', () => {
  const OWNER_KEY = Buffer.alloc(24, 0x5a);
  /** A card its owner set up with other tools: own PIN and PUK, own AES-192 management key, not PIN-protected. */
  async function ownersCard(): Promise<InProcessTransport> {
    const { t } = rig();
    await withCard(t, R, async (s) => {
      await s.changeReference(KEY_REF.PIN, a('123456'), PIN);
      await s.changeReference(KEY_REF.PUK, a('12345678'), a('97531864'));
      await s.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY, ALG.TDES);
      await s.setManagementKey(OWNER_KEY, ALG.AES192);
    });
    return t;
  }
  const tries = (t: InProcessTransport, ref: number): Promise<number> =>
    withCard(t, R, async (s) => (await s.referenceMetadata(ref)).triesLeft);

  it('a changed management key that is not PIN-protected is not "prepared": refused before the PIN is tried', async () => {
    const t = await ownersCard();
    const e = await rejects(withCard(t, R, (s) => writeShareToCard(s, header(), share, a('000000'))));
    expect(isCeremonyError(e, 'ManagementKeyRejected')).toBe(true);
    expect(e.message).toMatch(
      /^Card \d+ has a changed management key that is not kept PIN-protected on it; prepare it first with its management key\. Nothing was written\.$/,
    );
    expect((e as CeremonyError).details['remedy']).toBe('prepare-with-management-key');
    expect(await tries(t, KEY_REF.PIN)).toBe(3);
    expect(await withCard(t, R, (s) => s.slotMetadata(0x82))).toBeNull();
  });

  it("card prepare protects the owner's management key, keeping their PIN and PUK, with no PUK try", async () => {
    const t = await ownersCard();
    const r = await withCard(t, R, (s) => prepareCard(s, { pin: PIN, managementKey: OWNER_KEY }));
    expect(r).toMatchObject({
      pin: 'kept',
      puk: 'kept',
      managementKey: { action: 'protected', algorithm: ALG.AES192 },
    });
    expect(await tries(t, KEY_REF.PUK)).toBe(3);
    await withCard(t, R, assertPrepared);
    await withCard(t, R, (s) => s.authenticateManagementKey(OWNER_KEY, ALG.AES192)); // still the owner's key
    await withCard(t, R, (s) => writeShareToCard(s, header(), share, PIN));
  });

  it('a PUK that is not the factory one is never guessed: refused before any PIN or PUK try', async () => {
    const { t } = rig();
    await withCard(t, R, (s) => s.changeReference(KEY_REF.PUK, a('12345678'), a('97531864')));
    const e = await rejects(
      withCard(t, R, (s) => prepareCard(s, { pin: a('123456'), newPin: PIN, newPuk: a('86420864') })),
    );
    expect(e.message).toBe(
      "This card's PUK is not the factory one (its metadata says so), so it is kept: leave out the new PUK, or give the current PUK to change it.",
    );
    expect([await tries(t, KEY_REF.PUK), await tries(t, KEY_REF.PIN)]).toEqual([3, 3]);
    // Without a new PUK the owner's PUK is kept and the card is prepared.
    const r = await withCard(t, R, (s) => prepareCard(s, { pin: a('123456'), newPin: PIN }));
    expect(r).toMatchObject({ pin: 'changed', puk: 'kept', managementKey: { action: 'replaced' } });
    expect(await tries(t, KEY_REF.PUK)).toBe(3);
    await withCard(t, R, (s) => s.changeReference(KEY_REF.PUK, a('97531864'), a('86420864'))); // the owner's PUK still works
  });
});

describe('the key history object 5FC10C, kept by the host (SP 800-73-4 Part 1 §3.3.2; issue 9)', () => {
  const history = (t: InProcessTransport): ReturnType<typeof readKeyHistory> => withCard(t, R, readKeyHistory);
  async function exchanges(t: InProcessTransport): Promise<{ n: number; shares: number }> {
    let n = 0;
    const shares = await withCard(t, R, listCardShares, { onExchange: () => void n++ });
    return { n, shares: shares.length };
  }

  it('announces each share slot; one read of it replaces the 20-slot probe, which stays the fallback', async () => {
    const { t } = await prepared();
    // A factory YubiKey has none; card prepare writes one announcing the certificates the card holds (none here).
    expect(await history(t)).toEqual({ onCardCerts: 0, offCardCerts: 0, offCardCertUrl: null });
    // The host writes it (PUT DATA, INS DB, 5C 03 5FC10C): the virtual card writing it too must not hide that a YubiKey does not.
    const puts: string[] = [];
    const trace = {
      onExchange: (c: Uint8Array) =>
        void (
          c[1] === 0xdb && puts.push(Buffer.from(c).toString('hex').includes('5c035fc10c') ? '5c035fc10c' : 'other')
        ),
    };
    await withCard(t, R, (s) => writeShareToCard(s, header(), share, PIN), trace);
    expect(puts).toContain('5c035fc10c');
    expect(await history(t)).toEqual({ onCardCerts: 1, offCardCerts: 0, offCardCertUrl: null });
    await withCard(t, R, (s) => writeShareToCard(s, header(), share, PIN));
    expect(await history(t)).toEqual({ onCardCerts: 2, offCardCerts: 0, offCardCertUrl: null });
    const withHistory = await exchanges(t);
    expect(withHistory.shares).toBe(2);
    // Without the object (a card written before issue 9), all 20 certificate objects are probed.
    await withCard(t, R, async (s) => {
      await unlockManagementKey(s, PIN);
      await s.putData(OBJECT.KEY_HISTORY, Buffer.alloc(0), 'delete'); // PUT DATA with an empty 53 deletes the object
    });
    expect(await history(t)).toBeNull();
    const probed = await exchanges(t);
    expect(probed.shares).toBe(2);
    expect(probed.n).toBeGreaterThanOrEqual(withHistory.n + 18);
    // The next write counts what the probe found.
    await withCard(t, R, (s) => writeShareToCard(s, header(), share, PIN));
    expect(await history(t)).toEqual({ onCardCerts: 3, offCardCerts: 0, offCardCertUrl: null });
  });

  it('card prepare announces the certificates a card already holds, and keeps a key history it finds', async () => {
    const r = rig();
    await withCard(r.t, R, async (s) => {
      await s.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY);
      await s.putData(certificateObjectFor(0x85), Buffer.from('7003010203', 'hex'), 'another tool');
    });
    await withCard(r.t, R, (s) => prepareCard(s, { pin: a('123456'), newPin: PIN, newPuk: a('97531864') }));
    expect(await history(r.t)).toEqual({ onCardCerts: 4, offCardCerts: 0, offCardCertUrl: null });
    const { slot } = await withCard(r.t, R, (s) => writeShareToCard(s, header(), share, PIN));
    expect(slot).toBe(0x82);
    expect(await history(r.t)).toEqual({ onCardCerts: 4, offCardCerts: 0, offCardCertUrl: null });

    const kept = rig();
    await withCard(kept.t, R, async (s) => {
      await s.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY);
      await s.putData(OBJECT.KEY_HISTORY, Buffer.from('c10102c20100fe00', 'hex'), 'another tool');
    });
    await withCard(kept.t, R, (s) => prepareCard(s, { pin: a('123456'), newPin: PIN, newPuk: a('97531864') }));
    expect(await history(kept.t)).toEqual({ onCardCerts: 2, offCardCerts: 0, offCardCertUrl: null });
  });

  it('covers a share written after a slot the owner uses without a certificate', async () => {
    const { t } = await prepared();
    await withCard(t, R, async (s) => {
      await unlockManagementKey(s, PIN);
      await s.generateKey(0x82, ALG.ECCP256);
    });
    const { slot } = await withCard(t, R, (s) => writeShareToCard(s, header(), share, PIN));
    expect(slot).toBe(0x83);
    expect(await history(t)).toEqual({ onCardCerts: 2, offCardCerts: 0, offCardCertUrl: null });
    expect((await withCard(t, R, listCardShares)).map((x) => x.slot)).toEqual([0x83]);
  });

  it('keyHistoryWith keeps what another tool announced', () => {
    expect(keyHistoryWith(null, 0x82, [])).toEqual({ onCardCerts: 1, offCardCerts: 0, offCardCertUrl: null });
    expect(keyHistoryWith(null, 0x82, [0x85])).toMatchObject({ onCardCerts: 4 });
    const url = Buffer.from('http://example.invalid/certs');
    expect(keyHistoryWith({ onCardCerts: 1, offCardCerts: 3, offCardCertUrl: url }, 0x83, [0x82])).toEqual({
      onCardCerts: 2,
      offCardCerts: 2,
      offCardCertUrl: url,
    });
    expect(keyHistoryWith({ onCardCerts: 5, offCardCerts: 0, offCardCertUrl: null }, 0x83, [])).toMatchObject({
      onCardCerts: 5,
      offCardCerts: 0,
    });
  });
});

// APDU economy (issue 9): a real YubiKey takes 5-20 ms per APDU, so the card
// operations a ceremony repeats per custodian are counted here, on the
// in-process virtual card, against the goals. A change that adds
// APDUs to one of them fails this test; `npm run bench` shows the same counts.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cardStatus, withCard } from '../../../src/core/cards/roles.js';
import {
  cardLocation,
  cardShareHints,
  CardShareDestination,
  CardShareSource,
} from '../../../src/core/ceremony/card-media.js';
import { KEYSHARE_FORMAT, type KeyshareHeader } from '../../../src/core/shares/envelope.js';
import type { VirtualPivCard } from '../../../src/virtual-card/card.js';
import { InProcessTransport } from '../../../src/virtual-card/transport.js';
import { preparedCard } from '../../support/cards.js';

const PIN = '246813';
const pin = async (): Promise<Buffer> => Buffer.from(PIN, 'ascii');
const R = 'Virtual PIV reader 0';

function header(shareIndex = 1): KeyshareHeader {
  return {
    format: KEYSHARE_FORMAT,
    ceremonyId: randomUUID(),
    keyName: 'MK',
    shareIndex,
    threshold: 2,
    shares: 3,
    kcv: 'ABCDEF',
    custodian: 'Dora',
    created: new Date().toISOString(),
  };
}

const SHARE = Buffer.alloc(33, 7);

interface Counted {
  total: number;
  counts: Record<string, number>;
}

/** The APDUs of the three operations on one card: a share written (precheck, write, read back), read, and `card status`. */
async function countOperations(
  t: InProcessTransport,
  card: VirtualPivCard,
  shares: number,
): Promise<Record<string, Counted>> {
  const counted = async (op: () => Promise<void>): Promise<Counted> => {
    card.resetApduCounts();
    await op();
    return { total: card.apduTotal(), counts: card.apduCounts() };
  };
  const h = header(shares + 1);
  const write = await counted(async () => {
    // As `mk generate` does: precheck before the master key exists, write, read back.
    const dest = new CardShareDestination(t, 'reader 0', pin);
    await dest.precheck();
    await dest.write(h, SHARE);
    expect((await dest.readBack()).equals(SHARE)).toBe(true);
    dest.dispose();
  });
  const read = await counted(async () => {
    // As `share verify` and recovery do: the header first, then the share opened with the PIN.
    const src = new CardShareSource(t, 'reader 0', pin, h.ceremonyId);
    expect((await src.header()).shareIndex).toBe(shares + 1);
    expect((await src.open()).equals(SHARE)).toBe(true);
  });
  const status = await counted(async () => {
    const st = await withCard(t, 'reader 0', cardStatus);
    expect(st.shares).toHaveLength(shares + 1);
  });
  return { write, read, status };
}

describe('APDU economy (issue 9): counted on the virtual card (a YubiKey 5 ATR: extended length)', () => {
  it('on a prepared card: share write <= 25, share read <= 8, card status <= 16', async () => {
    const t = new InProcessTransport([R]);
    const card = await preparedCard(PIN);
    t.insert(R, card);
    const c = await countOperations(t, card, 0);
    expect(c.write!.total, JSON.stringify(c.write)).toBeLessThanOrEqual(25);
    expect(c.read!.total, JSON.stringify(c.read)).toBeLessThanOrEqual(8);
    expect(c.status!.total, JSON.stringify(c.status)).toBeLessThanOrEqual(16);
  });

  it('on a card that already holds a share: each share held costs one certificate read more, never a scan', async () => {
    const t = new InProcessTransport([R]);
    const card = await preparedCard(PIN);
    t.insert(R, card);
    await countOperations(t, card, 0);
    const c = await countOperations(t, card, 1);
    // The second share: its slot is the next one (one more GET METADATA in precheck and write), and
    // the write reads the first share's certificate (one card holds one share of a ceremony).
    expect(c.write!.total, JSON.stringify(c.write)).toBeLessThanOrEqual(27);
    expect(c.read!.total, JSON.stringify(c.read)).toBeLessThanOrEqual(8);
    expect(c.status!.total, JSON.stringify(c.status)).toBeLessThanOrEqual(16);
  });

  it('a share read where the record names the slot costs the same on a card holding 5 shares as on one holding 1', async () => {
    const t = new InProcessTransport([R]);
    const card = await preparedCard(PIN);
    t.insert(R, card);
    const written: Array<{ header: KeyshareHeader; location: string }> = [];
    for (let i = 0; i < 5; i++) {
      const h = header(1); // five ceremonies, one share of each
      const dest = new CardShareDestination(t, R, pin);
      await dest.precheck();
      await dest.write(h, SHARE);
      dest.dispose();
      written.push({ header: h, location: dest.location });
    }
    expect(written[4]!.location).toBe(cardLocation(card.serial, 0x86)); // what the record keeps
    const readCount = async (wanted: ConstructorParameters<typeof CardShareSource>[3]): Promise<number> => {
      card.resetApduCounts();
      const src = new CardShareSource(t, R, pin, wanted);
      expect((await src.open()).equals(SHARE)).toBe(true);
      return card.apduTotal();
    };
    const hintsFor = (i: number) =>
      cardShareHints([{ ceremonyId: written[i]!.header.ceremonyId, locations: [written[i]!.location] }]);
    const byHint = await readCount(hintsFor(4));
    const byScan = await readCount(written[4]!.header.ceremonyId);
    expect(byHint).toBeLessThanOrEqual(7); // SELECT, GET SERIAL, one GET DATA; then SELECT, GET SERIAL, VERIFY, ECDH
    expect(byScan).toBeGreaterThan(byHint); // without the record every share on the card is read
    expect(await readCount(hintsFor(0))).toBe(byHint);
    // A record whose slot no longer holds that share (the card was reused) falls back to the scan, and still finds it.
    const moved = cardShareHints([{ ceremonyId: written[2]!.header.ceremonyId, locations: [written[0]!.location] }]);
    expect(await readCount(moved)).toBe(byScan + 2); // the serial and the named slot, then the scan
  });
});

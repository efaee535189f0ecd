import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CardShareDestination, CardShareSource } from '../../../src/core/ceremony/card-media.js';
import { FileShareDestination, FileShareSource } from '../../../src/core/ceremony/media.js';
import { generateMasterKeyCeremony, recoverMasterKey } from '../../../src/core/ceremony/operations.js';
import { isCeremonyError } from '../../../src/core/errors.js';
import { keyCheckValue } from '../../../src/core/masterkey/masterkey.js';
import { VirtualPivCard } from '../../../src/virtual-card/card.js';
import { InProcessTransport } from '../../../src/virtual-card/transport.js';
import { preparedCard } from '../../support/cards.js';
import { withCard } from '../../../src/core/cards/roles.js';
import { ALG, DEFAULT_MANAGEMENT_KEY } from '../../../src/core/cards/piv.js';

const a = (s: string): Buffer => Buffer.from(s, 'ascii');
const PIN = '246813';
const pin = async (): Promise<Buffer> => a(PIN);
const FAST = { logN: 15, r: 8, p: 1 };
const R0 = 'Virtual PIV reader 0';
const R1 = 'Virtual PIV reader 1';

describe('shares on cards in a ceremony', () => {
  it('2-of-3 over two cards and a file: written, read back, and any two rebuild the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-card-media-'));
    const t = new InProcessTransport();
    const [c0, c1] = [await preparedCard(PIN), await preparedCard(PIN)];
    t.insert(R0, c0);
    t.insert(R1, c1);
    const record = join(dir, 'record.jsonl');
    const r = await generateMasterKeyCeremony({
      keyName: 'MK',
      threshold: 2,
      recordPath: record,
      custodians: [
        { custodian: 'Dora', destination: new CardShareDestination(t, 'reader 0', pin) },
        { custodian: 'Erik', destination: new CardShareDestination(t, 'reader 1', pin) },
        {
          custodian: 'Fatima',
          destination: new FileShareDestination(join(dir, 'fatima.share'), async () => a('fatima passphrase'), FAST),
        },
      ],
    });
    expect(r.shares.map((s) => s.shareIndex)).toEqual([1, 2, 3]);
    const cards = await recoverMasterKey(record, [
      new CardShareSource(t, 'reader 1', pin, r.ceremonyId),
      new CardShareSource(t, 'reader 0', pin, r.ceremonyId),
    ]);
    expect(keyCheckValue(cards.key)).toBe(r.kcv);
    const mixed = await recoverMasterKey(record, [
      new FileShareSource(join(dir, 'fatima.share'), async () => a('fatima passphrase')),
      new CardShareSource(t, 'reader 0', pin),
    ]);
    expect(keyCheckValue(mixed.key)).toBe(r.kcv);
  });

  it('a card with factory defaults is refused before the key exists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-card-media-'));
    const t = new InProcessTransport();
    t.insert(R0, await preparedCard(PIN));
    t.insert(R1, new VirtualPivCard());
    const e = await generateMasterKeyCeremony({
      keyName: 'MK',
      threshold: 2,
      recordPath: join(dir, 'r.jsonl'),
      custodians: [
        { custodian: 'A', destination: new CardShareDestination(t, 'reader 0', pin) },
        { custodian: 'B', destination: new CardShareDestination(t, 'reader 1', async () => a('123456')) },
      ],
    }).catch((x: unknown) => x);
    expect(isCeremonyError(e, 'CardDefaultCredentials')).toBe(true);
    expect(existsSync(join(dir, 'r.jsonl'))).toBe(false);
  });

  it('the wrong card put in after the check is refused, and says which card is wanted', async () => {
    const t = new InProcessTransport();
    const [good, other] = [await preparedCard(PIN), await preparedCard(PIN)];
    t.insert(R0, good);
    const dest = new CardShareDestination(t, 'reader 0', pin);
    await dest.precheck();
    t.remove(R0);
    t.insert(R0, other);
    const e = await dest
      .write(
        {
          format: 'keyceremony-keyshare/1',
          ceremonyId: '6d036dcf-057e-429f-9143-b22cfceded2a',
          keyName: 'MK',
          shareIndex: 1,
          threshold: 2,
          shares: 2,
          kcv: 'ABCDEF',
          custodian: 'A',
          created: new Date().toISOString(),
        },
        Buffer.alloc(33, 1),
      )
      .catch((x: unknown) => x);
    expect(isCeremonyError(e, 'WrongCard')).toBe(true);
    expect((e as Error).message).toContain(`Insert card ${good.serial}`);
  });

  it('a wrong PIN at the check says how many tries are left', async () => {
    const t = new InProcessTransport();
    t.insert(R0, await preparedCard(PIN));
    const e = await new CardShareDestination(t, 'reader 0', async () => a('000000'))
      .precheck()
      .catch((x: unknown) => x);
    expect((e as Error).message).toBe('Wrong PIN: 2 tries left before it is blocked.');
  });

  it('a card whose changed management key is not PIN-protected is refused before the key exists (issue 9)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-card-media-'));
    const t = new InProcessTransport();
    t.insert(R0, await preparedCard(PIN));
    const owners = new VirtualPivCard();
    t.insert(R1, owners);
    await withCard(t, 'reader 1', async (s) => {
      await s.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY, ALG.TDES);
      await s.setManagementKey(Buffer.alloc(24, 0x5a), ALG.AES192);
    });
    const e = await generateMasterKeyCeremony({
      keyName: 'MK',
      threshold: 2,
      recordPath: join(dir, 'r.jsonl'),
      custodians: [
        { custodian: 'A', destination: new CardShareDestination(t, 'reader 0', pin) },
        { custodian: 'B', destination: new CardShareDestination(t, 'reader 1', async () => a('123456')) },
      ],
    }).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/has a changed management key that is not kept PIN-protected on it/);
    expect(existsSync(join(dir, 'r.jsonl'))).toBe(false);
  });
});

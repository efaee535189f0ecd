// Re-share with one lost card (issue 11, ceremony 2, "Done when"): real
// virtual PIV cards on pcscd + vpcd. A 2-of-3 key made by the command line's
// own ceremony, Alice's and Bob's shares on cards and Carol's in a file; Bob's
// card is lost. Through the UI: Alice brings her card share and Carol her
// file, the new set (Alice on the same card, Carol in a new file, Dave on a
// factory-fresh card he prepares there) is issued, and the record retires the
// old set; Bob's card, found again, is refused. On the way, each bad input
// once: a share of another key, K-1 shares, one person taking two shares of
// the new set, a retired share. Screenshots and axe on every screen.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createPcscTransport } from '../../src/core/cards/pcsc.js';
import type { CardTransport } from '../../src/core/cards/transport.js';
import { CardShareDestination, CardShareSource } from '../../src/core/ceremony/card-media.js';
import { FileShareDestination, FileShareSource } from '../../src/core/ceremony/media.js';
import {
  cardShareHintsOf,
  generateMasterKeyCeremony,
  loadCeremony,
  verifyShareAgainstRecord,
} from '../../src/core/ceremony/operations.js';
import { readTranscript } from '../../src/core/ceremony/transcript.js';
import { preparedCard } from '../support/cards.js';
import { completedReshareTypes, reshareEntries } from '../support/reshare-record.js';
import { pcscStackUnavailableReason, startPcscStack, vpcdReaderName, type PcscStack } from '../support/pcsc-stack.js';
import { expect, test } from './fixtures.js';
import { ResharePage } from './pages/reshare.js';

const SCRYPT = { logN: 15, r: 8, p: 1 };
const PORT_A = 35963;
const PORT_B = 35964;
const READER_A = vpcdReaderName(PORT_A);
const READER_B = vpcdReaderName(PORT_B);
const PIN = { alice: '246813', bob: '135792', dave: '864213' };
const pass = (name: string): string => `${name} keeps a long passphrase on paper 7`;

test.describe('re-share with cards', () => {
  const unavailable = pcscStackUnavailableReason();
  test.skip(unavailable !== undefined, `the PC/SC stack is not installed: ${unavailable ?? ''}`);

  let stack: PcscStack | undefined;
  let transport: CardTransport | undefined;
  test.afterEach(async () => {
    await transport?.close();
    transport = undefined;
    await stack?.stop();
    stack = undefined;
  });

  test('one lost card: Alice’s card and Carol’s file in, new shares to cards and a file, the old set retired', async ({
    app,
    bridge,
    workDir,
    shot,
    axe,
  }) => {
    test.setTimeout(300_000);
    const cardsDir = join(workDir, 'cards');
    mkdirSync(cardsDir);
    const cardFile = (name: string): string => join(cardsDir, `${name}.card.json`);
    await preparedCard(PIN.alice, { stateFile: cardFile('alice') });
    await preparedCard(PIN.bob, { stateFile: cardFile('bob') });
    stack = await startPcscStack([
      { stateFile: cardFile('alice'), port: PORT_A },
      { stateFile: cardFile('bob'), port: PORT_B },
    ]);
    const aliceSerial = stack.cards[0]!.serial;
    transport = await createPcscTransport();
    const t = transport;
    const pinOf = (pin: string) => async (): Promise<Buffer> => Buffer.from(pin);

    // The key's life so far, written by the command line's own ceremony: 2 of 3, two cards and a file.
    const record = join(workDir, 'MK-CARDS.jsonl');
    const shareFile = (name: string): string => join(workDir, `${name}.keyshare`);
    const generated = await generateMasterKeyCeremony({
      ceremonyName: 'Key generation',
      keyName: 'MK-CARDS',
      threshold: 2,
      custodians: [
        { custodian: 'Alice', destination: new CardShareDestination(t, READER_A, pinOf(PIN.alice)) },
        { custodian: 'Bob', destination: new CardShareDestination(t, READER_B, pinOf(PIN.bob)) },
        {
          custodian: 'Carol',
          destination: new FileShareDestination(shareFile('Carol'), async () => Buffer.from(pass('Carol')), SCRYPT),
        },
      ],
      recordPath: record,
      actor: 'Olga',
    });
    // Another key, whose share someone brings by mistake.
    await generateMasterKeyCeremony({
      keyName: 'MK-OTHER',
      threshold: 2,
      custodians: ['Zoe', 'Yann'].map((n) => ({
        custodian: n,
        destination: new FileShareDestination(shareFile(`other-${n}`), async () => Buffer.from(pass(n)), SCRYPT),
      })),
      recordPath: join(workDir, 'MK-OTHER.jsonl'),
      actor: 'Olga',
    });

    // Bob's card is lost. Dave's card, factory-fresh, takes its reader.
    await stack.cards.find((c) => c.port === PORT_B)!.remove();
    const daveSerial = (await stack.insertCard(cardFile('dave'), PORT_B)).serial;

    const page = new ResharePage(app, { answer: (k, p) => bridge.dialogs.answer(k, p), shot, axe });
    await page.fromStartScreen();
    await page.check('reshare-cards-record');
    await page.openRecord(record, generated.kcv);
    await page.check('reshare-cards-shares-in');

    // A share of another key is refused, naming it.
    await page.tryBringFile(shareFile('other-Zoe'), pass('Zoe'));
    await page.expectRefused(/belongs to another ceremony \(.*, key "MK-OTHER"\)/);
    await page.check('reshare-cards-other-key');

    // Alice brings her card share: with K-1 shares in, there is no way on.
    await page.bringCard(READER_A, PIN.alice, 1, 2);
    await page.expectCannotGoOn(1, 2);
    await page.check('reshare-cards-k-minus-1');
    await page.bringFile(shareFile('Carol'), pass('Carol'), 2, 2);
    await page.check('reshare-cards-shares-brought');

    // One person, two shares of the new set: refused by the roster rule.
    await page.toNewCustodians();
    await page.nameNewSet('Rita', 2, [
      { name: 'Alice', medium: 'card' },
      { name: 'Carol', medium: 'file' },
      { name: 'Carol', medium: 'card' },
    ]);
    await app.getByRole('button', { name: 'Continue: issue the new shares', exact: true }).click();
    await page.expectRefused(/Two shares would go to Carol: one person holds at most one share of a key\./);
    await page.check('reshare-cards-one-person-two-shares');
    await page.nameNewSet('Rita', 2, [
      { name: 'Alice', medium: 'card' },
      { name: 'Carol', medium: 'file' },
      { name: 'Dave', medium: 'card' },
    ]);
    await page.check('reshare-cards-new-custodians');
    await page.toNewShares();
    await page.check('reshare-cards-new-shares');

    // Alice's new share goes on the same card (a free slot; her current share stays), Carol's in a new file,
    // Dave's on his card, which he prepares first.
    await page.newShareCard('Alice', 1, 3, READER_A, PIN.alice);
    await page.newShareFile('Carol', 2, 3, join(workDir, 'new-Carol.keyshare'), pass('new Carol'));
    await page.expectTurnOf('Dave', 3, 3);
    await page.prepareFactoryFreshCard(READER_B, PIN.dave, '97531864');
    await page.newShareCard('Dave', 3, 3, READER_B, PIN.dave);
    await expect(app.getByText(`Share 3: Dave, smart card — ready (card ${daveSerial} in reader`)).toBeVisible();
    await page.check('reshare-cards-ready');
    await page.issue();
    await expect(app.getByText(/The record’s current set is now 2 of 3/)).toBeVisible();
    await expect(app.getByText(/The old set \(2 of 3, ceremony .*\) is retired/)).toBeVisible();
    await expect(app.getByText(new RegExp(`Share 1: Alice \\(card ${aliceSerial} slot `))).toBeVisible();
    await expect(app.getByText(new RegExp(`Share 3: Dave \\(card ${daveSerial} slot `))).toBeVisible();
    await page.check('reshare-cards-done');
    expect(bridge.dialogs.pending(), 'every scripted dialog was used').toBe(0);

    // The record: the re-share by Rita retired the old set; the current set is the new one.
    const reshare = reshareEntries(record);
    expect(reshare.map((e) => e.type)).toEqual(completedReshareTypes(3));
    expect(reshare.every((e) => e.actor === 'Rita')).toBe(true);
    // Dave's card, prepared in the re-share wizard, is in the key's record from the moment it was prepared, by its owner.
    const prepared = readTranscript(record).filter((e) => e.type === 'card-prepared');
    expect(prepared).toEqual([
      expect.objectContaining({
        actor: `the owner of card ${daveSerial}`,
        data: expect.objectContaining({ serial: String(daveSerial), pin: 'changed', puk: 'changed' }),
      }),
    ]);
    expect(prepared[0]!.seq).toBeLessThan(reshare[0]!.seq);
    const { summary } = loadCeremony(record);
    expect(summary.shareSets).toHaveLength(2);
    const [old, current] = summary.shareSets;
    expect(current!.ceremonyId).not.toBe(old!.ceremonyId);
    expect([...current!.issued.values()].map((i) => i.custodian)).toEqual(['Alice', 'Carol', 'Dave']);
    // The new card shares verify; Alice's card holds both her retired share and the new one.
    const hints = cardShareHintsOf(summary);
    for (const [reader, pin, custodian] of [
      [READER_A, PIN.alice, 'Alice'],
      [READER_B, PIN.dave, 'Dave'],
    ] as const) {
      const v = await verifyShareAgainstRecord(record, new CardShareSource(t, reader, pinOf(pin), hints));
      expect(v.issued.custodian).toBe(custodian);
      expect(v.header.ceremonyId).toBe(current!.ceremonyId);
    }
    const newCarol = await verifyShareAgainstRecord(
      record,
      new FileShareSource(join(workDir, 'new-Carol.keyshare'), async () => Buffer.from(pass('new Carol'))),
    );
    expect(newCarol.issued.custodian).toBe('Carol');

    // Bob's card turns up again: its share is retired, refused by the command line's check…
    await stack.cards
      .find((c) => c.port === PORT_B && c.process.exitCode === null && c.process.signalCode === null)!
      .remove();
    await stack.insertCard(cardFile('bob'), PORT_B);
    await expect(
      verifyShareAgainstRecord(record, new CardShareSource(t, READER_B, pinOf(PIN.bob), hints)),
    ).rejects.toMatchObject({ code: 'ShareRetired' });
    // …and through the UI, in a later re-share.
    await app.getByRole('button', { name: 'Back to the start screen', exact: true }).click();
    await page.fromStartScreen();
    await page.openRecord(record, generated.kcv);
    await page.tryBringCard(READER_B, PIN.bob);
    await page.expectRefused(/which the re-share .* retired: it can no longer be used/);
    await page.check('reshare-cards-retired-share');
  });
});

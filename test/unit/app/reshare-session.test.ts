// The app's re-share (issue 11, ceremony 2) through the handlers main
// registers: a key's record written by the real writers (file shares), the
// current shares brought one custodian at a time, the new set named and each
// new share's file chosen, then the CLI's reshareMasterKey run; the record
// retires the old set, and an old share is refused afterwards.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { withCard } from '../../../src/core/cards/roles.js';
import type { CardTransport } from '../../../src/core/cards/transport.js';
import { CardShareDestination, CardShareSource } from '../../../src/core/ceremony/card-media.js';
import { FileShareDestination, FileShareSource } from '../../../src/core/ceremony/media.js';
import {
  cardShareHintsOf,
  generateMasterKeyCeremony,
  loadCeremony,
  verifyShareAgainstRecord,
} from '../../../src/core/ceremony/operations.js';
import { CeremonySession } from '../../../src/core/ceremony/session.js';
import { readTranscript } from '../../../src/core/ceremony/transcript.js';
import { createHandlers, type Handlers } from '../../../src/main/handlers.js';
import type { IpcResult } from '../../../src/shared/ipc.js';
import { VirtualPivCard } from '../../../src/virtual-card/card.js';
import { InProcessTransport } from '../../../src/virtual-card/transport.js';
import { preparedCard } from '../../support/cards.js';
import { ScriptedDialogs } from '../../support/dialogs.js';
import { completedReshareTypes, reshareEntries } from '../../support/reshare-record.js';

const SCRYPT = { logN: 15, r: 8, p: 1 };
const pass = (name: string): string => `${name} keeps a long passphrase on paper 7`;

function value<T>(r: IpcResult<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
function error<T>(r: IpcResult<T>): { code: string; message: string } {
  if (r.ok) throw new Error('expected a failure');
  return r.error;
}
const fileSecret = (name: string) => ({ medium: 'file' as const, passphrase: pass(name) });

/** The handlers main registers, over a session with these dialogs and cards. */
function handlersOf(dialogs: ScriptedDialogs, openCardTransport: () => Promise<CardTransport>): Handlers {
  const session = new CeremonySession({
    dialogs,
    openCardTransport,
    renderPdf: async () => new Uint8Array(),
    printHtml: async () => true,
    workDir: mkdtempSync(join(tmpdir(), 'kc-reshare-app-work-')),
    scryptCost: SCRYPT,
  });
  return createHandlers({
    session,
    appInfo: () => ({ name: 'x', version: '0', networkInterfacesUp: [] }),
    reportBug: (c, e) => {
      throw new Error(`bug in ${c}: ${String(e)}`);
    },
  });
}

describe('the app\u2019s re-share (issue 11, ceremony 2)', () => {
  let dir: string;
  let record: string;
  let kcv: string;
  const shareFile = (name: string): string => join(dir, `${name}.keyshare`);
  let dialogs: ScriptedDialogs;
  let h: Handlers;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kc-reshare-app-'));
    record = join(dir, 'MK.jsonl');
    const r = await generateMasterKeyCeremony({
      keyName: 'MK-APP',
      threshold: 2,
      custodians: ['Alice', 'Bob', 'Carol'].map((n) => ({
        custodian: n,
        destination: new FileShareDestination(shareFile(n), async () => Buffer.from(pass(n)), SCRYPT),
      })),
      recordPath: record,
      actor: 'Olga',
    });
    kcv = r.kcv;
    dialogs = new ScriptedDialogs();
    h = handlersOf(dialogs, async () => {
      throw new Error('no card is touched by a re-share to files');
    });
  });

  async function bring(name: string): Promise<IpcResult<unknown>> {
    dialogs.answer('openFile', shareFile(name));
    return h['reshare:bring-share']([{ secret: fileSecret(name) }]);
  }

  async function reshareWithoutBob(): Promise<void> {
    dialogs.answer('openFile', record);
    value(await h['reshare:open-record']([]));
    value(await bring('Alice'));
    value(await bring('Carol'));
    value(
      await h['reshare:plan']([
        {
          operator: 'Rita',
          threshold: 2,
          custodians: ['Alice', 'Carol', 'Dave'].map((name) => ({ name, medium: 'file' })),
        },
      ]),
    );
    for (const [i, n] of ['Alice', 'Carol', 'Dave'].entries()) {
      dialogs.answer('saveFile', join(dir, `new-${n}.keyshare`));
      value(await h['reshare:set-new-share']([{ shareIndex: i + 1, secret: fileSecret(`new ${n}`) }]));
    }
  }

  it('replaces Bob (share not brought): K current shares in, a new set out, the old set retired in the record', async () => {
    dialogs.answer('openFile', record);
    const opened = value(await h['reshare:open-record']([]));
    expect(opened).toMatchObject({
      phase: 'shares-in',
      record: { fileName: 'MK.jsonl', keyName: 'MK-APP', kcv, threshold: 2, shares: 3 },
      brought: [],
    });
    expect(opened.record?.holders.map((x) => x.custodian)).toEqual(['Alice', 'Bob', 'Carol']);
    await reshareWithoutBob();
    const before = value(await h['reshare:state']([]));
    expect(before.newSet?.custodians.map((c) => c.destination)).toEqual([
      'share file new-Alice.keyshare',
      'share file new-Carol.keyshare',
      'share file new-Dave.keyshare',
    ]);
    expect(before.brought).toEqual([
      { shareIndex: 1, custodian: 'Alice' },
      { shareIndex: 3, custodian: 'Carol' },
    ]);

    const done = value(await h['reshare:issue']([]));
    expect(done.phase).toBe('done');
    expect(done.done).toMatchObject({
      kcv,
      sharesUsed: [1, 3],
      retired: { threshold: 2, shares: 3 },
      current: { threshold: 2, shares: 3 },
    });
    expect(done.done?.current.ceremonyId).toBe(done.done?.ceremonyId);
    expect(done.done?.issued.map((s) => s.custodian)).toEqual(['Alice', 'Carol', 'Dave']);

    const reshare = reshareEntries(record);
    expect(reshare.map((e) => e.type)).toEqual(completedReshareTypes(3));
    expect(reshare.every((e) => e.actor === 'Rita')).toBe(true);

    // Bob's old share, never brought, is retired: refused, naming the re-share.
    await expect(
      verifyShareAgainstRecord(record, new FileShareSource(shareFile('Bob'), async () => Buffer.from(pass('Bob')))),
    ).rejects.toMatchObject({ code: 'ShareRetired' });
    const dave = await verifyShareAgainstRecord(
      record,
      new FileShareSource(join(dir, 'new-Dave.keyshare'), async () => Buffer.from(pass('new Dave'))),
    );
    expect(dave.issued.custodian).toBe('Dave');
  });

  it('refuses K-1 shares: the new set is not named until K are in', async () => {
    dialogs.answer('openFile', record);
    value(await h['reshare:open-record']([]));
    value(await bring('Alice'));
    const e = error(
      await h['reshare:plan']([
        {
          operator: 'Rita',
          threshold: 2,
          custodians: [
            { name: 'Alice', medium: 'file' },
            { name: 'Dave', medium: 'file' },
          ],
        },
      ]),
    );
    expect(e.code).toBe('ThresholdNotMet');
    expect(e.message).toBe('2 different shares are needed to rebuild key "MK-APP"; 1 was brought.');
  });

  it('refuses a retired share in a later re-share, naming the re-share that retired it', async () => {
    await reshareWithoutBob();
    value(await h['reshare:issue']([]));
    dialogs.answer('openFile', record);
    value(await h['reshare:open-record']([]));
    const e = error(await bring('Bob'));
    expect(e.code).toBe('ShareRetired');
    expect(e.message).toContain('which the re-share');
    expect(value(await h['reshare:state']([])).brought).toEqual([]);
  });

  it('refuses the same share twice, a wrong passphrase, and two new shares for one person', async () => {
    dialogs.answer('openFile', record);
    value(await h['reshare:open-record']([]));
    value(await bring('Alice'));
    expect(error(await bring('Alice')).code).toBe('DuplicateShare');
    dialogs.answer('openFile', shareFile('Carol'));
    expect(error(await h['reshare:bring-share']([{ secret: fileSecret('not Carol') }])).code).not.toBe('internal');
    value(await bring('Carol'));
    const e = error(
      await h['reshare:plan']([
        {
          operator: 'Rita',
          threshold: 2,
          custodians: [
            { name: 'Dave', medium: 'file' },
            { name: 'Dave', medium: 'file' },
          ],
        },
      ]),
    );
    expect(e).toMatchObject({
      code: 'InvalidArgument',
      message: 'Two shares would go to Dave: one person holds at most one share of a key.',
    });
  });

  it('issues nothing until every new custodian chose their medium, and cancel forgets it all', async () => {
    dialogs.answer('openFile', record);
    value(await h['reshare:open-record']([]));
    value(await bring('Alice'));
    value(await bring('Bob'));
    value(
      await h['reshare:plan']([
        {
          operator: 'Rita',
          threshold: 2,
          custodians: [
            { name: 'Dave', medium: 'file' },
            { name: 'Erin', medium: 'file' },
          ],
        },
      ]),
    );
    const e = error(await h['reshare:issue']([]));
    expect(e.code).toBe('WrongStep');
    expect(e.message).toContain('still to do: Dave, Erin');
    expect(value(await h['reshare:cancel']([])).phase).toBe('idle');
    expect(readTranscript(record).some((x) => x.data['kind'] === 'reshare')).toBe(false);
    expect(existsSync(join(dir, 'new-Dave.keyshare'))).toBe(false);
  });

  it('parses its requests strictly', async () => {
    expect(error(await h['reshare:plan']([{ operator: 'R', threshold: 2, custodians: [], x: 1 }])).code).toBe(
      'invalid-request',
    );
    expect(error(await h['reshare:plan']([{ operator: 'R', threshold: 2, custodians: [] }])).code).toBe(
      'invalid-request',
    );
    expect(
      error(await h['reshare:plan']([{ operator: 'R', threshold: 2, custodians: [{ name: 'A', medium: 'usb' }] }]))
        .code,
    ).toBe('invalid-request');
    expect(error(await h['reshare:set-new-share']([{ shareIndex: 0, secret: fileSecret('x') }])).code).toBe(
      'invalid-request',
    );
    expect(error(await h['reshare:issue'](['extra'])).code).toBe('invalid-request');
  });
});

// Cards (issue 11, "re-share with one lost card"): in-process virtual cards
// behind the same handlers. Alice's and Bob's shares are on cards, Carol's in
// a file; Bob's card is lost.
describe('the app\u2019s re-share with cards', () => {
  const R0 = 'Virtual PIV reader 0';
  const R1 = 'Virtual PIV reader 1';
  const PIN = '246813';
  let dir: string;
  let record: string;
  let transport: InProcessTransport;
  let cards: Record<'alice' | 'bob' | 'dave' | 'erin', VirtualPivCard>;
  let dialogs: ScriptedDialogs;
  let h: Handlers;
  const card = (reader: string, pin = PIN) => ({ medium: 'card' as const, reader, pin });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kc-reshare-cards-'));
    record = join(dir, 'MK.jsonl');
    transport = new InProcessTransport([R0, R1]);
    cards = {
      alice: await preparedCard(PIN),
      bob: await preparedCard(PIN),
      dave: await preparedCard(PIN),
      erin: await preparedCard(PIN),
    };
    transport.insert(R0, cards.alice);
    transport.insert(R1, cards.bob);
    await generateMasterKeyCeremony({
      keyName: 'MK-CARDS',
      threshold: 2,
      custodians: [
        { custodian: 'Alice', destination: new CardShareDestination(transport, R0, async () => Buffer.from(PIN)) },
        { custodian: 'Bob', destination: new CardShareDestination(transport, R1, async () => Buffer.from(PIN)) },
        {
          custodian: 'Carol',
          destination: new FileShareDestination(
            join(dir, 'Carol.keyshare'),
            async () => Buffer.from(pass('Carol')),
            SCRYPT,
          ),
        },
      ],
      recordPath: record,
      actor: 'Olga',
    });
    // Bob's card is lost; Dave's takes its reader.
    transport.remove(R1);
    transport.insert(R1, cards.dave);
    dialogs = new ScriptedDialogs();
    h = handlersOf(dialogs, async () => transport);
  });

  async function toNewSet(): Promise<void> {
    dialogs.answer('openFile', record);
    value(await h['reshare:open-record']([]));
    await bringAndPlan();
  }

  /** Alice brings her card share and Carol her file; Rita names the new set: Alice (card), Carol (file), Dave (card). */
  async function bringAndPlan(): Promise<void> {
    value(await h['reshare:bring-share']([{ secret: card(R0) }]));
    dialogs.answer('openFile', join(dir, 'Carol.keyshare'));
    value(await h['reshare:bring-share']([{ secret: fileSecret('Carol') }]));
    value(
      await h['reshare:plan']([
        {
          operator: 'Rita',
          threshold: 2,
          custodians: [
            { name: 'Alice', medium: 'card' },
            { name: 'Carol', medium: 'file' },
            { name: 'Dave', medium: 'card' },
          ],
        },
      ]),
    );
  }

  it('brings Alice\u2019s card share, issues new shares to her card, a file and Dave\u2019s card; Bob\u2019s card is refused later', async () => {
    await toNewSet();
    // The new share's card is checked when chosen: a wrong PIN is refused at once, with the tries left.
    expect(error(await h['reshare:set-new-share']([{ shareIndex: 1, secret: card(R0, '000000') }])).code).toBe(
      'WrongPin',
    );
    value(await h['reshare:set-new-share']([{ shareIndex: 1, secret: card(R0) }]));
    // One card, one share: Dave cannot take Alice's card (nor its reader).
    expect(error(await h['reshare:set-new-share']([{ shareIndex: 3, secret: card(R0) }])).message).toMatch(
      /already receives Alice’s new share: one card holds one share of a key/,
    );
    dialogs.answer('saveFile', join(dir, 'new-Carol.keyshare'));
    value(await h['reshare:set-new-share']([{ shareIndex: 2, secret: fileSecret('new Carol') }]));
    const ready = value(await h['reshare:set-new-share']([{ shareIndex: 3, secret: card(R1) }]));
    expect(ready.newSet?.custodians.map((c) => c.destination)).toEqual([
      `card ${cards.alice.serial} in reader "${R0}"`,
      'share file new-Carol.keyshare',
      `card ${cards.dave.serial} in reader "${R1}"`,
    ]);

    const done = value(await h['reshare:issue']([]));
    expect(done.done).toMatchObject({ sharesUsed: [1, 3], current: { threshold: 2, shares: 3 } });
    expect(done.done?.issued.map((s) => s.location)).toEqual([
      expect.stringMatching(new RegExp(`^card ${cards.alice.serial} slot `)),
      'new-Carol.keyshare',
      expect.stringMatching(new RegExp(`^card ${cards.dave.serial} slot `)),
    ]);
    const { summary } = loadCeremony(record);
    const dave = await verifyShareAgainstRecord(
      record,
      new CardShareSource(transport, R1, async () => Buffer.from(PIN), cardShareHintsOf(summary)),
    );
    expect(dave.issued.custodian).toBe('Dave');

    // Bob's card turns up: its share is retired, in a later re-share too.
    transport.remove(R1);
    transport.insert(R1, cards.bob);
    dialogs.answer('openFile', record);
    value(await h['reshare:open-record']([]));
    const e = error(await h['reshare:bring-share']([{ secret: card(R1) }]));
    expect(e.code).toBe('ShareRetired');
  });

  it('refuses a factory-fresh card for a new share when it is chosen, then takes it once prepared in the app', async () => {
    await toNewSet();
    transport.remove(R1);
    const fresh = new VirtualPivCard();
    transport.insert(R1, fresh);
    dialogs.answer('saveFile', join(dir, 'new-Carol.keyshare'));
    value(await h['reshare:set-new-share']([{ shareIndex: 2, secret: fileSecret('new Carol') }]));
    const e = error(await h['reshare:set-new-share']([{ shareIndex: 3, secret: card(R1, '123456') }]));
    expect(e.code).toBe('CardDefaultCredentials');
    expect(e.message).toContain('prepare it first');
    // Its owner prepares it (the card care panel's call), and the card is taken.
    value(await h['cards:prepare']([{ reader: R1, pin: '123456', newPin: PIN, newPuk: '97531864' }]));
    const v = value(await h['reshare:set-new-share']([{ shareIndex: 3, secret: card(R1) }]));
    expect(v.newSet?.custodians[2]?.destination).toBe(`card ${fresh.serial} in reader "${R1}"`);
    // The reader list is true after the preparation and the check (no reinsertion): prepared, 3 PIN tries.
    const listed = value(await h['cards:list']([])).readers.find((r) => r.name === R1);
    expect(listed?.card).toMatchObject({ serial: fresh.serial, prepared: true, pinTriesLeft: 3 });
    // The preparation is recorded in the re-share, as the key ceremony records it (card-prepared).
    value(await h['reshare:set-new-share']([{ shareIndex: 1, secret: card(R0) }]));
    value(await h['reshare:issue']([]));
    const reshare = readTranscript(record).filter((x) => x.seq > 0);
    const opened = reshare.findLastIndex((x) => x.type === 'ceremony-opened');
    const prepared = reshare.slice(opened).filter((x) => x.type === 'card-prepared');
    expect(prepared.map((x) => x.data)).toEqual([
      expect.objectContaining({ serial: String(fresh.serial), pin: 'changed', puk: 'changed' }),
    ]);
  });

  it('records a card prepared in the re-share wizard in the key\u2019s record at once, and keeps it when the issue is refused', async () => {
    const fresh = new VirtualPivCard();
    transport.remove(R1);
    transport.insert(R1, fresh);
    dialogs.answer('openFile', record);
    value(await h['reshare:open-record']([]));
    const before = readTranscript(record).length;
    // Dave prepares his factory-fresh card before any current share is brought (the card care panel, in the wizard).
    value(
      await h['cards:prepare']([{ reader: R1, pin: '123456', newPin: PIN, newPuk: '97531864', wizard: 'reshare' }]),
    );
    const prepared = (): ReturnType<typeof readTranscript> =>
      readTranscript(record).filter((x) => x.type === 'card-prepared' && x.data['serial'] === String(fresh.serial));
    expect(readTranscript(record)).toHaveLength(before + 1);
    expect(prepared()).toEqual([
      expect.objectContaining({
        actor: `the owner of card ${fresh.serial}`,
        data: expect.objectContaining({ pin: 'changed', puk: 'changed', managementKey: 'replaced' }),
      }),
    ]);
    // Between the record's ceremonies: the record still reads, and the key is as it was.
    expect(loadCeremony(record).summary.shareSets).toHaveLength(1);

    // The re-share then fails its pre-checks (another card put in the chosen reader): the preparation stays recorded.
    const chooseNewShares = async (carolFile: string): Promise<void> => {
      value(await h['reshare:set-new-share']([{ shareIndex: 1, secret: card(R0) }]));
      dialogs.answer('saveFile', join(dir, carolFile));
      value(await h['reshare:set-new-share']([{ shareIndex: 2, secret: fileSecret('new Carol') }]));
      value(await h['reshare:set-new-share']([{ shareIndex: 3, secret: card(R1) }]));
    };
    await bringAndPlan();
    await chooseNewShares('new-Carol.keyshare');
    transport.remove(R1);
    transport.insert(R1, cards.erin);
    expect(error(await h['reshare:issue']([])).code).toBe('WrongCard');
    expect(value(await h['reshare:state']([])).phase).toBe('shares-in');
    expect(readTranscript(record).some((x) => x.data['kind'] === 'reshare')).toBe(false);
    expect(prepared()).toHaveLength(1);

    // Run again with Dave's card back: completed, and the card recorded once, before the re-share that used it.
    transport.remove(R1);
    transport.insert(R1, fresh);
    await bringAndPlan();
    await chooseNewShares('new-Carol-2.keyshare');
    expect(value(await h['reshare:issue']([])).phase).toBe('done');
    expect(reshareEntries(record).map((e) => e.type)).toEqual(completedReshareTypes(3));
    expect(prepared()).toHaveLength(1);
  });

  it('records a PIN unblocked in the re-share wizard in the key\u2019s record; none before a record is open', async () => {
    /** Dave's PIN mistyped until it is blocked. */
    const blockPin = async (): Promise<void> => {
      for (let i = 0; i < 3; i++)
        await withCard(transport, R1, (s) => s.verifyPin(Buffer.from('000000'))).catch(() => undefined);
    };
    await blockPin();
    // No record loaded yet: unblocked, and nothing written anywhere.
    const unblock = { reader: R1, puk: '97531864', newPin: PIN, wizard: 'reshare' };
    const lengthBefore = readTranscript(record).length;
    value(await h['cards:unblock']([unblock]));
    expect(readTranscript(record)).toHaveLength(lengthBefore);
    await blockPin();
    dialogs.answer('openFile', record);
    value(await h['reshare:open-record']([]));
    value(await h['cards:unblock']([unblock]));
    expect(readTranscript(record).at(-1)).toMatchObject({
      type: 'card-pin-unblocked',
      actor: `the owner of card ${cards.dave.serial}`,
      data: { serial: String(cards.dave.serial) },
    });
  });

  it('writes only to the card chosen: another card put in its reader since is refused before anything is written', async () => {
    await toNewSet();
    value(await h['reshare:set-new-share']([{ shareIndex: 1, secret: card(R0) }]));
    dialogs.answer('saveFile', join(dir, 'new-Carol.keyshare'));
    value(await h['reshare:set-new-share']([{ shareIndex: 2, secret: fileSecret('new Carol') }]));
    value(await h['reshare:set-new-share']([{ shareIndex: 3, secret: card(R1) }]));
    transport.remove(R1);
    transport.insert(R1, cards.erin);
    const e = error(await h['reshare:issue']([]));
    expect(e.code).toBe('WrongCard');
    expect(e.message).toContain(`not card ${cards.dave.serial} that was chosen for this share`);
    expect(readTranscript(record).some((x) => x.data['kind'] === 'reshare')).toBe(false);
    expect(existsSync(join(dir, 'new-Carol.keyshare'))).toBe(false);
  });
});

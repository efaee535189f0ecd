// The wizard's back end without a window: the ceremony session driven call by
// call through the same handlers main registers, with in-process virtual
// cards and scripted dialogs, ending in a bundle the emulator ingests.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KEY_REF } from '../../../src/core/cards/piv.js';
import { withCard } from '../../../src/core/cards/roles.js';
import { preparedCard } from '../../support/cards.js';
import { ScriptedDialogs } from '../../support/dialogs.js';
import { CeremonySession } from '../../../src/core/ceremony/session.js';
import { readTranscript } from '../../../src/core/ceremony/transcript.js';
import { summarize } from '../../../src/core/ceremony/record.js';
import { exportTransportFiles, ingestBundle, initInstance, instanceStatus } from '../../../src/emulator/instance.js';
import { createHandlers, type Handlers } from '../../../src/main/handlers.js';
import type { CeremonySetup, CeremonyView, IpcResult, SecretInput } from '../../../src/shared/ipc.js';
import { VirtualPivCard } from '../../../src/virtual-card/card.js';
import { InProcessTransport } from '../../../src/virtual-card/transport.js';

const a = (s: string): Buffer => Buffer.from(s, 'ascii');
const R0 = 'Virtual PIV reader 0';
const R1 = 'Virtual PIV reader 1';
const PIN = '246813';

function value<T>(r: IpcResult<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
function error<T>(r: IpcResult<T>): { code: string; message: string; details?: Record<string, unknown> } {
  if (r.ok) throw new Error('expected a failure');
  return r.error;
}

const setup: CeremonySetup = {
  ceremonyName: 'Production MK 2026',
  keyName: 'prod-mk',
  threshold: 2,
  // Two numbers apart, so that each is seen reaching the claim where it belongs.
  signatureThreshold: 2,
  revocationThreshold: 1,
  operator: 'Olivia',
  admins: [
    { name: 'Alice', medium: 'card' },
    { name: 'Bob', medium: 'file' },
  ],
  custodians: [
    { name: 'Dora', medium: 'card' },
    { name: 'Erik', medium: 'file' },
    { name: 'Fatima', medium: 'file' },
  ],
  witnesses: ['Wendy'],
  reasons: {},
};

/** The key material the initial ceremony holds in its current phase (a private field: only for checking that it is wiped). */
function keyMaterial(session: CeremonySession): { key: Buffer; shares: readonly Buffer[] } {
  const held = (session.initial as unknown as { state: { secrets?: { key: Buffer; shares: readonly Buffer[] } } }).state
    .secrets;
  if (held === undefined) throw new Error('the session holds no key in this phase');
  return held;
}

const card = (reader: string, pin = PIN): SecretInput => ({ medium: 'card', reader, pin });
const file = (passphrase: string): SecretInput => ({ medium: 'file', passphrase });

describe('the ceremony session behind the wizard', () => {
  let dir: string;
  let dialogs: ScriptedDialogs;
  let transport: InProcessTransport;
  let session: CeremonySession;
  let h: Handlers;
  let unitsDir: string;
  let template: string;

  beforeAll(() => {
    template = join(mkdtempSync(join(tmpdir(), 'kc-session-units-')), 'instance');
    initInstance(template, 2); // 4096-bit transport keys: once for the file
  }, 60_000);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kc-session-'));
    dialogs = new ScriptedDialogs();
    transport = new InProcessTransport();
    session = new CeremonySession({
      dialogs,
      openCardTransport: async () => transport,
      renderPdf: async (html) => Buffer.from(`%PDF-1.4 fake ${html.length}`),
      printHtml: async () => true,
      workDir: dir,
      scryptCost: { logN: 15, r: 8, p: 1 },
    });
    h = createHandlers({
      session,
      appInfo: () => ({ name: 'x', version: '0', networkInterfacesUp: [] }),
      reportBug: (c, e) => {
        throw new Error(`bug in ${c}: ${String(e)}`);
      },
    });
    unitsDir = join(dir, 'emulator');
    cpSync(template, unitsDir, { recursive: true });
    mkdirSync(join(dir, 'transport'));
    exportTransportFiles(unitsDir, join(dir, 'transport'));
  }, 60_000);

  async function throughUnits(roster: CeremonySetup = setup): Promise<CeremonyView> {
    value(await h['ceremony:start']([roster]));
    for (const f of readdirSync(join(dir, 'transport')).sort()) {
      dialogs.answer('openFile', join(dir, 'transport', f));
      value(await h['units:add-transport']([]));
    }
    const v = value(await h['ceremony:state']([]));
    expect(v.step).toBe('units'); // loaded, not yet confirmed
    for (const u of v.units) value(await h['units:confirm']([{ unitId: u.unitId }]));
    return value(await h['ceremony:state']([]));
  }

  /** Alice on the card in reader 0, Bob in bob.identity.pem. */
  async function throughAdmins(): Promise<CeremonyView> {
    await throughUnits();
    value(await h['admins:create-identity']([{ adminIndex: 0, secret: card('reader 0') }]));
    dialogs.answer('saveFile', join(dir, 'bob.identity.pem'));
    return value(await h['admins:create-identity']([{ adminIndex: 1, secret: file('bob passphrase') }]));
  }

  it('runs a whole ceremony one call at a time and the units end kms-initialized with the KCV shown', async () => {
    const [alice, dora] = [await preparedCard(PIN), await preparedCard(PIN)];
    transport.insert(R0, alice);
    transport.insert(R1, dora);

    let v = await throughUnits();
    expect(v.step).toBe('admins');
    expect(v.units[0]!.fingerprintGroups).toHaveLength(16);
    expect(v.units[0]!.fingerprintWords).toHaveLength(32);

    value(await h['admins:create-identity']([{ adminIndex: 0, secret: card('reader 0') }]));
    dialogs.answer('saveFile', join(dir, 'bob.identity.pem'));
    v = value(await h['admins:create-identity']([{ adminIndex: 1, secret: file('bob passphrase') }]));
    expect(v.admins.map((x) => x.identity?.location)).toEqual([`card ${alice.serial}`, 'bob.identity.pem']);
    expect(v.step).toBe('master-key');

    v = value(await h['master-key:generate']([]));
    const kcv = v.masterKey!.kcv;
    expect(kcv).toMatch(/^[0-9A-F]{6}$/i);
    expect(v.step).toBe('shares');

    // Dora's card: a wrong PIN says how many tries are left and writes nothing.
    const wrong = error(await h['shares:write']([{ shareIndex: 1, secret: card('reader 1', '000000') }]));
    expect(wrong.code).toBe('WrongPin');
    expect(wrong.details?.['retriesLeft']).toBe(2);
    value(await h['shares:write']([{ shareIndex: 1, secret: card('reader 1') }]));
    // Confirming before proving is refused.
    expect(error(await h['shares:confirm']([{ shareIndex: 1 }])).code).toBe('WrongStep');
    // Reading Alice's card (no share) back as Dora's is refused.
    expect(error(await h['shares:verify']([{ shareIndex: 1, secret: card('reader 0') }])).code).toBe(
      'CardObjectNotFound',
    );
    value(await h['shares:verify']([{ shareIndex: 1, secret: card('reader 1') }]));
    value(await h['shares:confirm']([{ shareIndex: 1 }]));

    for (const [i, name] of [
      [2, 'erik'],
      [3, 'fatima'],
    ] as const) {
      dialogs.answer('saveFile', join(dir, `${name}.keyshare`));
      value(await h['shares:write']([{ shareIndex: i, secret: file(`${name} passphrase`) }]));
      expect(error(await h['shares:verify']([{ shareIndex: i, secret: file('not the passphrase') }])).code).toBe(
        'WrongPassphrase',
      );
      value(await h['shares:verify']([{ shareIndex: i, secret: file(`${name} passphrase`) }]));
      v = value(await h['shares:confirm']([{ shareIndex: i }]));
    }
    expect(v.step).toBe('bundle');

    v = value(await h['bundle:build']([]));
    expect(v.bundle!.required).toBe(2); // a claim: every admin it installs signs
    // The set-up's own revocation threshold, not the signature threshold (issue 11).
    expect(v.bundle!.summary.thresholds).toEqual({ signatureThreshold: 2, revocationThreshold: 1 });
    expect(error(await h['bundle:save']([])).code).toBe('TooFewSignatures');
    value(await h['bundle:sign']([{ adminIndex: 0, secret: card('reader 0') }]));
    expect(error(await h['bundle:sign']([{ adminIndex: 1, secret: file('wrong passphrase') }])).code).toBe(
      'WrongPassphrase',
    );
    v = value(await h['bundle:sign']([{ adminIndex: 1, secret: file('bob passphrase') }]));
    expect(v.bundle!.signatures.map((s) => s.name)).toEqual(['Alice', 'Bob']);
    const media = join(dir, 'usb');
    dialogs.answer('chooseFolder', media);
    // The folder does not exist: a clear error, and the bundle can be saved again.
    expect(error(await h['bundle:save']([])).code).toBe('OutputUnwritable');
    mkdirSync(media);
    dialogs.answer('chooseFolder', media);
    v = value(await h['bundle:save']([]));
    expect(v.step).toBe('close');
    const bundleText = readFileSync(v.bundle!.saved!.path, 'utf8');

    const results = ingestBundle(unitsDir, bundleText);
    expect(results.every((r) => r.ok)).toBe(true);
    const status = instanceStatus(unitsDir);
    expect(status.units.map((u) => [u.state, u.masterKeyKcv])).toEqual([
      ['kms-initialized', kcv],
      ['kms-initialized', kcv],
    ]);

    expect(error(await h['record:save']([])).code).toBe('WrongStep');
    const held = keyMaterial(session);
    v = value(await h['ceremony:close']([]));
    expect(v.masterKey).toEqual({ kcv, present: false });
    // Leaving the phases that hold the key zeroed it and its shares.
    expect([held.key, ...held.shares].every((b) => b.every((x) => x === 0))).toBe(true);
    const out = join(dir, 'record-out');
    mkdirSync(out);
    dialogs.answer('chooseFolder', out);
    v = value(await h['record:save']([]));
    expect(v.closed!.recordSavedTo).toBe(out);
    const saved = readdirSync(out).sort();
    expect(saved.map((f) => f.replace(/^.*\./, ''))).toEqual(['html', 'jsonl', 'pdf']);
    const entries = readTranscript(
      join(
        out,
        saved.find((f) => f.endsWith('.jsonl'))!,
      ),
    );
    expect(summarize(entries).kcv).toBe(kcv);
    // The opening holds the thresholds, the witnesses and the reasons (none needed here).
    expect(entries[0]!.data).toMatchObject({
      signatureThreshold: 2,
      revocationThreshold: 1,
      witnesses: ['Wendy'],
      reasons: {},
    });
    expect(entries.map((e) => e.type)).toContain('master-key-wiped');
    const html = readFileSync(
      join(
        out,
        saved.find((f) => f.endsWith('.html'))!,
      ),
      'utf8',
    );
    for (const name of ['Olivia', 'Alice', 'Bob', 'Dora', 'Erik', 'Fatima', 'Wendy']) expect(html).toContain(name);
    // No secret ever reached the record.
    const text = readFileSync(
      join(
        out,
        saved.find((f) => f.endsWith('.jsonl'))!,
      ),
      'utf8',
    );
    for (const secret of [PIN, 'bob passphrase', 'erik passphrase', 'fatima passphrase'])
      expect(text).not.toContain(secret);

    // The share check mode: Erik's file against the saved record.
    dialogs.answer(
      'openFile',
      join(
        out,
        saved.find((f) => f.endsWith('.jsonl'))!,
      ),
    );
    const rec = value(await h['check:open-record']([]));
    expect(rec).toMatchObject({ kcv, threshold: 2, shares: 3, custodians: ['Dora', 'Erik', 'Fatima'] });
    dialogs.answer('openFile', join(dir, 'erik.keyshare'));
    expect(value(await h['check:share']([{ secret: file('erik passphrase') }]))).toEqual({
      shareIndex: 2,
      custodian: 'Erik',
      kcv,
      matches: true,
    });
    expect(value(await h['check:share']([{ secret: card('reader 1') }]))).toMatchObject({
      shareIndex: 1,
      custodian: 'Dora',
    });
  }, 120_000);

  it('a card pulled in the middle of a share write leaves nothing and the write can be retried', async () => {
    const [alice, dora] = [await preparedCard(PIN), await preparedCard(PIN)];
    transport.insert(R0, alice);
    await throughAdmins();
    value(await h['master-key:generate']([]));
    // Pull Dora's card out before the 12th APDU of the write.
    const connect = transport.connect.bind(transport);
    let count = 0;
    let pullBefore = 12;
    transport.connect = async (reader) => {
      const c = await connect(reader);
      return {
        reader: c.reader,
        atr: c.atr,
        disconnect: () => c.disconnect(),
        transmit: (apdu) => {
          if (c.reader === R1 && ++count === pullBefore) transport.remove(R1);
          return c.transmit(apdu);
        },
      };
    };
    transport.insert(R1, dora);
    const pulled = error(await h['shares:write']([{ shareIndex: 1, secret: card('reader 1') }]));
    expect(pulled.code).toBe('CardRemoved');
    const v = value(await h['ceremony:state']([]));
    expect(v.shares[0]).toMatchObject({ written: false, verified: false });
    pullBefore = 0;
    transport.insert(R1, dora);
    value(await h['shares:write']([{ shareIndex: 1, secret: card('reader 1') }]));
    value(await h['shares:verify']([{ shareIndex: 1, secret: card('reader 1') }]));
  }, 120_000);

  it('validates every request and refuses steps out of order', async () => {
    expect(error(await h['ceremony:start']([{ ...setup, threshold: 4 }])).code).toBe('InvalidArgument');
    expect(error(await h['ceremony:start']([{ ...setup, extra: 1 }])).code).toBe('invalid-request');
    expect(error(await h['ceremony:start']([])).code).toBe('invalid-request');
    expect(error(await h['ceremony:start']([{ ...setup, custodians: [{ name: 'A', medium: 'floppy' }] }])).code).toBe(
      'invalid-request',
    );
    expect(
      error(
        await h['ceremony:start']([
          {
            ...setup,
            admins: [
              { name: 'Al', medium: 'card' },
              { name: 'al', medium: 'file' },
            ],
          },
        ]),
      ).message,
    ).toMatch(/both called/);
    expect(error(await h['ceremony:state'](['x'])).code).toBe('invalid-request');
    expect(error(await h['master-key:generate']([])).code).toBe('WrongStep');
    value(await h['ceremony:start']([setup]));
    expect(error(await h['master-key:generate']([])).code).toBe('WrongStep');
    expect(
      error(
        await h['shares:write']([{ shareIndex: 1, secret: { medium: 'card', reader: 'x', pin: '123456', more: 1 } }]),
      ).code,
    ).toBe('invalid-request');
    dialogs.answer('openFile', null);
    expect(error(await h['units:add-transport']([])).code).toBe('Canceled');
    dialogs.answer('openFile', join(dir, 'missing.json'));
    expect(error(await h['units:add-transport']([])).code).toBe('FileNotFound');
  });

  it('refuses a set-up that breaks separation of duties, naming the person, before anything is created (issue 11)', async () => {
    const refusal = async (roster: CeremonySetup): Promise<string> => {
      const e = error(await h['ceremony:start']([roster]));
      expect(e.code).toBe('InvalidArgument');
      return e.message;
    };
    const aliceAlsoCustodian = {
      ...setup,
      custodians: [{ name: ' alice ', medium: 'file' as const }, ...setup.custodians.slice(1)],
    };
    expect(await refusal(aliceAlsoCustodian)).toMatch(/^"alice" is both a custodian and an admin/);
    expect(await refusal({ ...setup, signatureThreshold: 1 })).toMatch(/signature threshold of 1/);
    expect(await refusal({ ...setup, witnesses: ['Dora'] })).toMatch(/"Dora" is also a custodian, so does not count/);
    expect(await refusal({ ...setup, revocationThreshold: 3 })).toMatch(/revocation threshold 3 .* lock-out/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl'))).toEqual([]);

    // With the reasons, the same set-up starts, and its opening records them.
    const custodianIsAdmin = 'Alice is the only person cleared for both in this region.';
    const signatureThresholdOne = 'A single admin signs while the second is abroad.';
    value(
      await h['ceremony:start']([
        { ...aliceAlsoCustodian, signatureThreshold: 1, reasons: { custodianIsAdmin, signatureThresholdOne } },
      ]),
    );
    const record = readdirSync(dir).find((f) => f.endsWith('.jsonl'))!;
    const opened = readTranscript(join(dir, record))[0]!;
    expect(opened.data).toMatchObject({
      custodians: ['alice', 'Erik', 'Fatima'],
      witnesses: ['Wendy'],
      signatureThreshold: 1,
      revocationThreshold: 1,
      reasons: { custodianIsAdmin, signatureThresholdOne },
    });
  });

  it('abandoning after the key exists wipes it and records the abort', async () => {
    transport.insert(R0, await preparedCard(PIN));
    await throughAdmins();
    value(await h['master-key:generate']([]));
    const { key, shares } = keyMaterial(session);
    const v = value(await h['ceremony:abandon']([]));
    expect(v.step).toBe('setup');
    expect(key.every((b) => b === 0)).toBe(true);
    expect(shares.every((s) => s.every((b) => b === 0))).toBe(true);
    const record = readdirSync(dir).find((f) => f.endsWith('.jsonl'))!;
    const entries = readTranscript(join(dir, record));
    expect(entries.slice(-2).map((e) => e.type)).toEqual(['master-key-wiped', 'ceremony-closed']);
    expect(entries.at(-1)!.data).toEqual({
      outcome: 'aborted',
      code: 'Abandoned',
      reason: 'the operator abandoned the ceremony',
      entries: entries.length,
    });
    expect(existsSync(join(dir, record))).toBe(true);
  }, 60_000);

  it('quitting the app mid-ceremony records the abandon and wipes the key', async () => {
    transport.insert(R0, await preparedCard(PIN));
    await throughAdmins();
    value(await h['master-key:generate']([]));
    const { key } = keyMaterial(session);
    expect(session.inProgress()).toBe(true);
    session.dispose();
    expect(session.inProgress()).toBe(false);
    expect(key.every((b) => b === 0)).toBe(true);
    const record = readdirSync(dir).find((f) => f.endsWith('.jsonl'))!;
    const entries = readTranscript(join(dir, record));
    expect(entries.slice(-2).map((e) => e.type)).toEqual(['master-key-wiped', 'ceremony-closed']);
    expect(entries.at(-1)!.data).toMatchObject({
      outcome: 'aborted',
      code: 'Abandoned',
      reason: 'the application was closed',
    });
  }, 60_000);

  it('preparing a card whose PUK its owner already set keeps that PUK (no try spent, no guess) and records what was done', async () => {
    transport.insert(R0, new VirtualPivCard());
    await withCard(transport, R0, (s) => s.changeReference(KEY_REF.PUK, a('12345678'), a('11223344')));
    value(await h['ceremony:start']([setup]));
    const cards = value(await h['cards:prepare']([{ reader: R0, pin: '123456', newPin: PIN, newPuk: '86420864' }]));
    expect(cards.readers[0]!.card).toMatchObject({ prepared: true, pinTriesLeft: 3 });
    // The owner's PUK still works: changing it to itself needs it.
    await withCard(transport, R0, (s) => s.changeReference(KEY_REF.PUK, a('11223344'), a('11223344')));
    const entries = readTranscript(
      join(
        dir,
        readdirSync(dir).find((f) => f.endsWith('.jsonl'))!,
      ),
    );
    expect(entries.find((e) => e.type === 'card-prepared')!.data).toMatchObject({
      pin: 'changed',
      puk: 'kept',
      managementKey: 'replaced',
    });
  });

  it('prepares a factory card and unblocks a blocked PIN with the PUK, from the app', async () => {
    transport.insert(R0, new VirtualPivCard());
    let cards = value(await h['cards:list']([]));
    expect(cards.readers[0]).toMatchObject({ name: R0, present: true, card: { prepared: false, pinTriesLeft: 3 } });
    // A new PIN that is still a default is refused, and nothing changes.
    expect(
      error(await h['cards:prepare']([{ reader: R0, pin: '123456', newPin: '123456', newPuk: '86420864' }])).code,
    ).toBe('InvalidArgument');
    cards = value(await h['cards:prepare']([{ reader: R0, pin: '123456', newPin: PIN, newPuk: '86420864' }]));
    expect(cards.readers[0]!.card).toMatchObject({ prepared: true, pinTriesLeft: 3 });
    expect(
      error(await h['cards:prepare']([{ reader: R0, pin: PIN, newPin: '975310', newPuk: '86420864' }])).message,
    ).toMatch(/already prepared/);

    // Three wrong PINs block the PIN (during a ceremony, so the unblock is recorded).
    value(await h['ceremony:start']([setup]));
    for (let i = 0; i < 3; i++) await withCard(transport, R0, (s) => s.verifyPin(a('000000'))).catch(() => undefined);
    cards = value(await h['cards:list']([]));
    expect(cards.readers[0]!.card).toMatchObject({ pinTriesLeft: 0 });
    expect(error(await h['cards:unblock']([{ reader: R0, puk: '11111111', newPin: '975310' }])).code).toBe('WrongPuk');
    cards = value(await h['cards:unblock']([{ reader: R0, puk: '86420864', newPin: '975310' }]));
    expect(cards.readers[0]!.card).toMatchObject({ pinTriesLeft: 3 });
    const entries = readTranscript(
      join(
        dir,
        readdirSync(dir).find((f) => f.endsWith('.jsonl'))!,
      ),
    );
    expect(entries.map((e) => e.type)).toContain('card-pin-unblocked');
  }, 60_000);

  it("an admin card that already holds that admin's identity is reused after a PIN check; another admin's card is refused", async () => {
    transport.insert(R0, await preparedCard(PIN));
    await throughUnits();
    const first = value(await h['admins:create-identity']([{ adminIndex: 0, secret: card('reader 0') }])).admins[0]!
      .identity!;
    value(await h['ceremony:abandon']([]));
    await throughUnits();
    expect(error(await h['admins:create-identity']([{ adminIndex: 0, secret: card('reader 0', '000000') }])).code).toBe(
      'WrongPin',
    );
    const again = value(await h['admins:create-identity']([{ adminIndex: 0, secret: card('reader 0') }])).admins[0]!
      .identity!;
    expect(again.thumbprint).toBe(first.thumbprint);
    value(await h['ceremony:abandon']([]));
    await throughUnits({
      ...setup,
      admins: [
        { name: 'Bob', medium: 'card' },
        { name: 'Alice', medium: 'file' },
      ],
    });
    expect(error(await h['admins:create-identity']([{ adminIndex: 0, secret: card('reader 0') }])).message).toMatch(
      /already holds the identity of Alice/,
    );
  }, 60_000);

  it('an admin brings an identity file from an earlier ceremony; its passphrase and name must be right', async () => {
    transport.insert(R0, await preparedCard(PIN));
    await throughUnits();
    value(await h['admins:create-identity']([{ adminIndex: 0, secret: card('reader 0') }]));
    dialogs.answer('saveFile', join(dir, 'bob.identity.pem'));
    const bob = value(await h['admins:create-identity']([{ adminIndex: 1, secret: file('bob passphrase') }])).admins[1]!
      .identity!;
    value(await h['ceremony:abandon']([]));
    await throughUnits();
    value(await h['admins:create-identity']([{ adminIndex: 0, secret: card('reader 0') }]));
    dialogs.answer('openFile', join(dir, 'bob.identity.pem'));
    expect(error(await h['admins:use-identity-file']([{ adminIndex: 1, passphrase: 'not bob passphrase' }])).code).toBe(
      'WrongPassphrase',
    );
    dialogs.answer('openFile', join(dir, 'bob.identity.pem'));
    const v = value(await h['admins:use-identity-file']([{ adminIndex: 1, passphrase: 'bob passphrase' }]));
    expect(v.admins[1]!.identity!.thumbprint).toBe(bob.thumbprint);
    expect(v.step).toBe('master-key');
    // Someone else's identity file is refused.
    value(await h['ceremony:abandon']([]));
    await throughUnits({
      ...setup,
      admins: [
        { name: 'Alice', medium: 'card' },
        { name: 'Carl', medium: 'file' },
      ],
    });
    dialogs.answer('openFile', join(dir, 'bob.identity.pem'));
    expect(
      error(await h['admins:use-identity-file']([{ adminIndex: 1, passphrase: 'bob passphrase' }])).message,
    ).toMatch(/identity of Bob, not of Carl/);
  }, 60_000);

  /** Every share written and read back (issued), none yet confirmed by its custodian. */
  async function throughSharesIssued(): Promise<void> {
    transport.insert(R0, await preparedCard(PIN));
    transport.insert(R1, await preparedCard(PIN));
    await throughAdmins();
    value(await h['master-key:generate']([]));
    value(await h['shares:write']([{ shareIndex: 1, secret: card('reader 1') }]));
    value(await h['shares:verify']([{ shareIndex: 1, secret: card('reader 1') }]));
    for (const [i, name] of [
      [2, 'erik'],
      [3, 'fatima'],
    ] as const) {
      dialogs.answer('saveFile', join(dir, `${name}.keyshare`));
      value(await h['shares:write']([{ shareIndex: i, secret: file(`${name} passphrase`) }]));
      value(await h['shares:verify']([{ shareIndex: i, secret: file(`${name} passphrase`) }]));
    }
  }

  /** The application started again after a crash (the old process died without dispose()). */
  function restart(): { next: CeremonySession; hn: Handlers } {
    const next = new CeremonySession({
      dialogs,
      openCardTransport: async () => transport,
      renderPdf: async () => Buffer.from('%PDF-1.4 fake'),
      printHtml: async () => true,
      workDir: dir,
    });
    const hn = createHandlers({
      session: next,
      appInfo: () => ({ name: 'x', version: '0', networkInterfacesUp: [] }),
      reportBug: (c, e) => {
        throw new Error(`bug in ${c}: ${String(e)}`);
      },
    });
    return { next, hn };
  }

  it('at start-up, the record of a ceremony cut off by a crash before every share was issued is closed as aborted, once', async () => {
    transport.insert(R0, await preparedCard(PIN));
    await throughAdmins();
    value(await h['master-key:generate']([]));
    const crashed = join(
      dir,
      readdirSync(dir).find((f) => f.endsWith('.jsonl'))!,
    );
    const { next, hn } = restart();
    expect(next.closeInterruptedRecords()).toMatchObject([
      { path: crashed, keyName: 'prod-mk', outcome: 'aborted', savedTo: null },
    ]);
    const entries = readTranscript(crashed);
    expect(entries.slice(-2).map((e) => e.type)).toEqual(['master-key-wiped', 'ceremony-closed']);
    expect(entries.at(-1)!.data).toEqual({
      outcome: 'aborted',
      code: 'Interrupted',
      reason: 'the application stopped before the ceremony was closed',
      entries: entries.length,
    });
    expect(() => summarize(entries)).toThrow(/aborted/);
    expect(next.closeInterruptedRecords()).toEqual([]); // once only
    expect(value(await hn['record:list-interrupted']([]))).toMatchObject([{ path: crashed, outcome: 'aborted' }]);
  }, 60_000);

  it('a crash after every share was issued leaves the shares valid, and the record can be saved from the start screen', async () => {
    await throughSharesIssued();
    const crashed = join(
      dir,
      readdirSync(dir).find((f) => f.endsWith('.jsonl'))!,
    );
    const { next, hn } = restart();
    expect(value(await hn['record:list-interrupted']([]))).toEqual([]);
    next.closeInterruptedRecords();
    const entries = readTranscript(crashed);
    expect(entries.slice(-2).map((e) => [e.type, e.actor])).toEqual([
      ['master-key-wiped', 'Key Ceremony'],
      ['ceremony-closed', 'Key Ceremony'],
    ]);
    expect(entries.at(-1)!.data).toMatchObject({
      outcome: 'completed',
      entries: entries.length,
      note: expect.stringMatching(/every share had been issued and read back/),
    });
    expect(summarize(entries).issued.size).toBe(3);

    // A custodian's share checks against the record.
    dialogs.answer('openFile', crashed);
    value(await hn['check:open-record']([]));
    dialogs.answer('openFile', join(dir, 'erik.keyshare'));
    expect(value(await hn['check:share']([{ secret: file('erik passphrase') }]))).toMatchObject({
      shareIndex: 2,
      custodian: 'Erik',
      matches: true,
    });

    // The start screen lists it and saves its record as the last step would.
    const listed = value(await hn['record:list-interrupted']([]));
    expect(listed).toEqual([
      {
        ceremonyId: entries[0]!.data['ceremonyId'],
        ceremonyName: 'Production MK 2026',
        keyName: 'prod-mk',
        path: crashed,
        outcome: 'completed',
        savedTo: null,
      },
    ]);
    expect(error(await hn['record:save-interrupted']([{ ceremonyId: 'not-a-ceremony' }])).code).toBe('InvalidArgument');
    dialogs.answer('chooseFolder', null);
    expect(error(await hn['record:save-interrupted']([{ ceremonyId: listed[0]!.ceremonyId }])).code).toBe('Canceled');
    const out = join(dir, 'record-out');
    mkdirSync(out);
    dialogs.answer('chooseFolder', out);
    const after = value(await hn['record:save-interrupted']([{ ceremonyId: listed[0]!.ceremonyId }]));
    expect(after[0]!.savedTo).toBe(out);
    const saved = readdirSync(out).sort();
    expect(saved.map((f) => f.replace(/^.*\./, ''))).toEqual(['html', 'jsonl', 'pdf']);
    expect(readFileSync(join(out, saved[1]!), 'utf8')).toBe(readFileSync(crashed, 'utf8'));
    const html = readFileSync(join(out, saved[0]!), 'utf8');
    expect(html).toContain('Completed. Closed when Key Ceremony next started');
    for (const name of ['Olivia', 'Alice', 'Bob', 'Dora', 'Erik', 'Fatima', 'Wendy']) expect(html).toContain(name);
    // Saving again into the same folder overwrites nothing.
    dialogs.answer('chooseFolder', out);
    expect(error(await hn['record:save-interrupted']([{ ceremonyId: listed[0]!.ceremonyId }])).code).toBe(
      'OutputExists',
    );
  }, 120_000);
});

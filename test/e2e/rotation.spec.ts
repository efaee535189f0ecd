// Rotation in the app (issue 11, ceremony 4): a key initialized on emulated
// units by the command line's own core functions (2 of 3 on files, admins
// Alice, Bob and Frank, signature threshold 2) is rotated through the UI: the
// units confirmed, the new key's custodians named (one person twice is
// refused), Gina's new share written to a virtual card on pcscd + vpcd
// (factory-fresh, prepared in the app: the new record says so) and Hank's and
// Ivy's to files, the new record saved; K-1 new shares refused for the bundle,
// then Gina's card and Hank's file build it; Alice signs with her identity
// file and Bob with his card (slot 9C), it is saved and the emulator ingests it (new key current, old key old);
// the units' status is opened and the old record ends with key-retired,
// after which an old share is refused. Screenshots and axe at each step.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileShareSource } from '../../src/core/ceremony/media.js';
import { verifyShareAgainstRecord } from '../../src/core/ceremony/operations.js';
import { hexGroups } from '../../src/core/ceremony/fingerprint.js';
import { headHash, readTranscript } from '../../src/core/ceremony/transcript.js';
import { ingestBundle, instanceStatus } from '../../src/emulator/instance.js';
import { adminCard } from '../support/cards.js';
import { keyOnUnits } from '../support/key-on-units.js';
import { pcscStackPerTest, startPcscStack, vpcdReaderName, VPCD_BASE_PORT } from '../support/pcsc-stack.js';
import { expect, test } from './fixtures.js';
import { button, prepareFactoryFreshCardIn, ReaderPicker, SecretForm } from './pages/parts.js';
import { PapersPart, printedText } from './pages/papers.js';

const OLD_PASS = 'the old key keeps a long passphrase 9';
/** What `crypto-unit-emulator status --json` writes. */
const saveStatus = (unitsDir: string, path: string): string => {
  writeFileSync(path, JSON.stringify(instanceStatus(unitsDir), null, 2) + '\n');
  return path;
};
const pass = (name: string): string => `${name} keeps a long passphrase on paper 7`;
const GINA_PIN = '357913';
const BOB_PIN = '468024';

test.describe('rotation in the app', () => {
  const pcsc = pcscStackPerTest(test);

  test('a key is rotated: new key and shares (card and files), rotate bundle signed and ingested, old key retired', async ({
    app,
    bridge,
    workDir,
    shot,
    axe,
  }) => {
    test.setTimeout(240_000);
    const cards = join(workDir, 'cards');
    mkdirSync(cards);
    // Bob's admin identity is on his card (generated there, as the app's Admins step does).
    const bobCard = await adminCard('Bob', BOB_PIN, join(cards, 'bob.card.json'));
    const key = await keyOnUnits({
      dir: workDir,
      name: 'old',
      keyName: 'MK-OLD',
      admins: ['Alice', 'Bob', 'Frank'],
      signatureThreshold: 2,
      revocationThreshold: 2,
      passphrase: OLD_PASS,
      cards: [bobCard],
    });
    // Gina's card, factory-fresh, and Bob's, each in a vpcd reader.
    const stack = await startPcscStack([
      { stateFile: join(cards, 'gina.card.json'), port: VPCD_BASE_PORT },
      { stateFile: bobCard.stateFile, port: VPCD_BASE_PORT + 1 },
    ]);
    pcsc.stack = stack;
    const reader = vpcdReaderName(VPCD_BASE_PORT);
    const bobReader = vpcdReaderName(VPCD_BASE_PORT + 1);
    const ginaSerial = stack.cards[0]!.serial;
    const usb = join(workDir, 'usb');
    mkdirSync(usb);
    const answer = (kind: 'openFile' | 'saveFile' | 'chooseFolder', path: string): void =>
      bridge.dialogs.answer(kind, path);
    const secret = new SecretForm(app);
    const check = async (name: string): Promise<void> => {
      await shot(name);
      await axe(name);
    };
    const refused = async (text: RegExp): Promise<void> => {
      await expect(app.getByRole('alert').filter({ hasText: text })).toBeVisible();
    };

    await button(app, 'Rotate the master key').click();
    await expect(app.getByRole('heading', { name: 'Rotate the master key', level: 2 })).toBeVisible();
    await check('rotation-start');

    // 1. The current key's record.
    answer('openFile', key.record);
    await button(app, 'Open the current key’s record…').click();
    await expect(app.getByRole('heading', { name: '2. Target units' })).toBeVisible();
    await expect(app.getByText(key.kcv).first()).toBeVisible();

    // 2. The units, each confirmed against its display.
    for (const t of key.transports) {
      answer('openFile', t);
      await button(app, 'Load a unit’s transport file…').click();
      await app.getByRole('button', { name: /matches the unit’s display$/ }).click();
    }
    await expect(app.getByText('Confirmed: matches the unit’s display.')).toHaveCount(2);
    await check('rotation-units');
    await button(app, 'Continue to the new key').click();

    // 3. The new key: one person taking two shares is refused, then the roster is set right.
    await expect(app.getByRole('heading', { name: '3. The new key' })).toBeVisible();
    await app.getByLabel('New key name', { exact: true }).fill('MK-NEW');
    await app.getByLabel('Operator', { exact: true }).fill('Olga');
    await app.getByLabel('Shares needed to rebuild the new key (K)').fill('2');
    const roster = ['Gina', 'Hank', 'Gina'];
    for (const [i, n] of roster.entries()) await app.getByLabel(`New custodian ${i + 1} name`).fill(n);
    await check('rotation-new-key');
    await button(app, 'Continue: the new custodians’ shares').click();
    await refused(/Two shares would go to Gina: one person holds at most one share/);
    await check('rotation-two-shares-refused');
    await app.getByLabel('New custodian 3 name').fill('Ivy');
    await app.getByLabel('New custodian 1 medium').selectOption('card');
    await button(app, 'Continue: the new custodians’ shares').click();

    // 4. Each new custodian's medium: Gina's card, Hank's and Ivy's files.
    await expect(app.getByRole('heading', { name: '4. The new custodians of “MK-NEW”' })).toBeVisible();
    await expect(app.getByRole('heading', { name: 'Pass the keyboard to Gina: new share 1 of 3' })).toBeVisible();
    // Before any new share is written: the ceremony script, the operator already named, a witness added.
    const papers = new PapersPart(app, { answer, printed: bridge.printed, shot, axe });
    await expect(app.getByTestId('ceremony-script').getByLabel('Operator', { exact: true })).toHaveValue('Olga');
    await papers.names('Olga', ['Wendy']);
    const script = printedText(await papers.printScript('rotation-script'));
    expect(script).toContain('Ceremony script — Rotation ceremony');
    for (const name of ['MK-NEW', 'Olga', 'Wendy', 'Gina', 'Hank', 'Ivy', 'Alice', 'Bob', 'Frank'])
      expect(script).toContain(name);
    for (const t of key.transports) {
      const fp = (JSON.parse(readFileSync(t, 'utf8')) as { fingerprint: string }).fingerprint;
      expect(script).toContain(hexGroups(Buffer.from(fp, 'hex')).join(' '));
    }
    expect(script).toContain('Initials');

    // Gina prepares her factory-fresh card first (new PIN and PUK), in the card-care panel of her turn.
    await new ReaderPicker(app).choose(reader);
    await expect(app.getByRole('group', { name: /still has its factory PIN/ })).toBeVisible();
    await check('rotation-card-prepare');
    await prepareFactoryFreshCardIn(app, GINA_PIN, '97531975');
    await secret.cardPin(reader, GINA_PIN);
    await check('rotation-card-custodian');
    await button(app, 'Check and use this card').click();
    const newShare = (n: string): string => join(usb, `mk-new-${n.toLowerCase()}.keyshare`);
    for (const [i, n] of [
      [2, 'Hank'],
      [3, 'Ivy'],
    ] as const) {
      await expect(app.getByRole('heading', { name: `Pass the keyboard to ${n}: new share ${i} of 3` })).toBeVisible();
      await secret.newPassphrase(pass(`new ${n}`));
      answer('saveFile', newShare(n));
      await button(app, 'Choose where to save the share…').click();
    }
    await expect(app.getByText(/Share 3: Ivy, file — ready/)).toBeVisible();
    await check('rotation-custodians-ready');
    const newRecord = join(usb, 'MK-NEW.jsonl');
    answer('saveFile', newRecord);
    await button(app, 'Save the new key’s record and generate the key…').click();

    // 5. New shares for the bundle: K-1 is refused, then Gina's card and Hank's file.
    await expect(app.getByRole('heading', { name: '5. New shares for the rotate bundle' })).toBeVisible({
      timeout: 60_000,
    });
    const newKcv = readTranscript(newRecord).find((e) => e.type === 'master-key-generated')!.data['kcv'] as string;
    await expect(app.getByText(`is generated: KCV ${newKcv}`, { exact: false })).toBeVisible();
    await check('rotation-new-key-generated');
    const presentFile = async (n: string): Promise<void> => {
      await app.getByLabel('In a share file (passphrase)').check();
      await secret.enterPassphrase(pass(`new ${n}`));
      answer('openFile', newShare(n));
      await button(app, 'Present this share').click();
    };
    await presentFile('Hank');
    await expect(app.getByText(/1 of 2 new shares presented/)).toBeVisible();
    await button(app, 'Build the rotate bundle').click();
    await refused(/2 different shares are needed to rebuild key "MK-NEW"; 1 was given/);
    // The presented share was zeroed with the refusal: the screen says so, and it is presented again.
    await expect(app.getByText(/^0 of 2 new shares presented$/)).toBeVisible();
    await check('rotation-k-minus-1-refused');
    await app.getByLabel('On a smart card (PIN)').check();
    await secret.cardPin(reader, GINA_PIN);
    await button(app, 'Present this share').click();
    await expect(app.getByText(/1 of 2 new shares presented: share 1 \(Gina\)/)).toBeVisible({ timeout: 30_000 });
    await presentFile('Hank');
    await expect(app.getByText(/2 of 2 new shares presented/)).toBeVisible();
    await check('rotation-shares-presented');
    await button(app, 'Build the rotate bundle').click();

    // 6. The units' current admins sign.
    await expect(app.getByRole('heading', { name: '6. The units’ admins sign the bundle' })).toBeVisible();
    await expect(app.getByText('0 of 2')).toBeVisible();
    await check('rotation-signing');
    await secret.enterPassphrase(OLD_PASS);
    answer('openFile', key.identities['Alice']!);
    await button(app, 'Open my identity file and sign…').click();
    await expect(app.getByText('1 of 2 (Alice)')).toBeVisible();
    // Bob signs with his card: slot 9C, reader and PIN (he has no identity file).
    expect(key.identities['Bob']).toBeUndefined();
    await app.getByLabel('On a smart card (PIN)').check();
    await secret.cardPin(bobReader, BOB_PIN);
    await check('rotation-signing-card');
    await button(app, 'Sign with my card').click();
    await expect(app.getByText('2 of 2 (Alice, Bob)')).toBeVisible({ timeout: 30_000 });
    const out = join(workDir, 'out');
    mkdirSync(out);
    answer('chooseFolder', out);
    await button(app, 'Save the bundle…').click();
    await expect(app.getByRole('heading', { name: '7. The units’ report' })).toBeVisible();
    await check('rotation-saved');

    // The emulator ingests the saved bundle: the new key current, the old one kept as old.
    const [bundle] = readdirSync(out);
    expect(bundle).toMatch(/^bundle-rotate-/);
    const results = ingestBundle(key.unitsDir, readFileSync(join(out, bundle!), 'utf8'));
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    const status = instanceStatus(key.unitsDir);
    expect(status.units).toHaveLength(2);
    for (const u of status.units) {
      expect(u.masterKeyKcv?.toUpperCase()).toBe(newKcv.toUpperCase());
      expect(u.oldMasterKeyKcv?.toUpperCase()).toBe(key.kcv.toUpperCase());
    }

    // 7. The units' status file: the old record retires the old key.
    answer('openFile', saveStatus(key.unitsDir, join(usb, 'status-after-rotation.json')));
    await button(app, 'Open the units’ status file…').click();
    await expect(app.getByRole('heading', { name: 'The key is rotated' })).toBeVisible();
    await expect(app.getByText(`(KCV ${newKcv}) as current`, { exact: false })).toBeVisible();
    await expect(app.getByText(`(KCV ${key.kcv}) as old`, { exact: false })).toBeVisible();
    await expect(app.getByText(/its shares are now refused/)).toBeVisible();
    await check('rotation-done');
    expect(bridge.dialogs.pending(), 'every scripted dialog was used').toBe(0);

    // After it: the new key's record's report, its head hash, the witness named before to sign it.
    const report = printedText(await papers.printReport('rotation-report'));
    expect(report).toContain(hexGroups(Buffer.from(headHash(readTranscript(newRecord)), 'hex')).join(' '));
    expect(report).toContain('Wendy');

    // The old record ends with key-retired; an old share is refused, naming the rotation.
    expect(readTranscript(key.record).at(-1)!.type).toBe('key-retired');
    const carol = new FileShareSource(key.shares[0]!, async () => Buffer.from(OLD_PASS));
    await expect(verifyShareAgainstRecord(key.record, carol)).rejects.toMatchObject({
      code: 'ShareRetired',
      message: expect.stringMatching(/rotation to key "MK-NEW"/),
    });
    // The new record holds the new key, the units' confirmations, the rotate bundle and both signatures.
    const newEntries = readTranscript(newRecord);
    const types = newEntries.map((e) => e.type);
    expect(types.filter((t) => t === 'share-issued')).toHaveLength(3);
    // Gina's card, prepared in the app during the rotation, is recorded as the key ceremony records it.
    expect(newEntries.filter((e) => e.type === 'card-prepared').map((e) => e.data)).toEqual([
      expect.objectContaining({ serial: String(ginaSerial), pin: 'changed', puk: 'changed' }),
    ]);
    expect(types.indexOf('card-prepared')).toBeLessThan(types.indexOf('share-issued'));
    expect(types.filter((t) => t === 'unit-confirmed')).toHaveLength(2);
    expect(types.slice(-3)).toEqual(['bundle-created', 'bundle-signed', 'bundle-signed']);
  });
});

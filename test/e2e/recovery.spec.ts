// Recovery onto new units in the app (issue 11, ceremony 1), from the key's
// record, with a share on a real card: a key generated 2 of 3 into files
// (Alice, Bob, Carol) and re-shared to Carol (file), Dave (a virtual PIV card
// on pcscd + vpcd) and Erin (file), the old set retired; a new production
// emulator instance; two admins' identity files. Through the UI, each bad
// input once: a paper head the record does not hold, a retired share, a share
// of another key, one person's share brought twice, K-1 shares, a wrong PIN.
// Then Carol's file and Dave's card rebuild the key, the bundle is built,
// signed by both admins and saved; the emulator ingests it and reports the
// key's KCV on both units. Screenshots and axe at each step.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CardShareDestination } from '../../src/core/ceremony/card-media.js';
import { hexGroups } from '../../src/core/ceremony/fingerprint.js';
import { laterSetupFile } from '../../src/core/ceremony/later-papers.js';
import { serializeSetupFile } from '../../src/core/ceremony/setup-file.js';
import { FileShareDestination, FileShareSource } from '../../src/core/ceremony/media.js';
import { generateMasterKeyCeremony } from '../../src/core/ceremony/operations.js';
import { reshareMasterKey } from '../../src/core/ceremony/reshare.js';
import { headHash, readTranscript } from '../../src/core/ceremony/transcript.js';
import { InProcessTransport } from '../../src/virtual-card/transport.js';
import { preparedCard } from '../support/cards.js';
import { pcscStackUnavailableReason, startPcscStack, vpcdReaderName, type PcscStack } from '../support/pcsc-stack.js';
import { expect, test } from './fixtures.js';
import { expectUnitsHoldKey, setUpRecoveryRig } from './recovery-rig.js';
import { PapersPart, printedText } from './pages/papers.js';
import { RecoveryPage } from './pages/recovery.js';

const PASS = 'recovery correct horse battery';
const DAVE_PIN = '246813';
const PORT = 35963;
const SCRYPT = { logN: 15, r: 8, p: 1 };

test.describe('recovery from the key\u2019s record', () => {
  const unavailable = pcscStackUnavailableReason();
  test.skip(unavailable !== undefined, `the PC/SC stack is not installed: ${unavailable ?? ''}`);

  let stack: PcscStack | undefined;
  test.afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  test('a key is recovered onto new units from a file and a card, every bad input refused on the way', async ({
    app,
    bridge,
    workDir,
    shot,
    axe,
  }) => {
    test.setTimeout(240_000);
    const media = join(workDir, 'media');
    mkdirSync(media);
    const file = (name: string): FileShareDestination =>
      new FileShareDestination(join(media, `${name}.keyshare`), async () => Buffer.from(PASS), SCRYPT);
    const shareFile = (name: string): string => join(media, `${name}.keyshare`);

    // The key's life so far: generated 2 of 3 into files, then re-shared (Bob left): Dave's share on his card.
    const record = join(media, 'MKRECOV.jsonl');
    const generated = await generateMasterKeyCeremony({
      keyName: 'MKRECOV',
      threshold: 2,
      custodians: ['Alice', 'Bob', 'Carol'].map((n) => ({ custodian: n, destination: file(`old-${n}`) })),
      recordPath: record,
      actor: 'Olga',
    });
    const daveCard = join(workDir, 'dave.card.json');
    const reader = 'Virtual PIV reader 0';
    const cards = new InProcessTransport();
    cards.insert(reader, await preparedCard(DAVE_PIN, { stateFile: daveCard }));
    await reshareMasterKey({
      recordPath: record,
      sources: ['Alice', 'Bob'].map((n) => new FileShareSource(shareFile(`old-${n}`), async () => Buffer.from(PASS))),
      threshold: 2,
      custodians: [
        { custodian: 'Carol', destination: file('Carol') },
        { custodian: 'Dave', destination: new CardShareDestination(cards, reader, async () => Buffer.from(DAVE_PIN)) },
        { custodian: 'Erin', destination: file('Erin') },
      ],
      ceremonyName: 'Bob left',
      actor: 'Rita',
    });
    cards.remove(reader);
    const head = headHash(readTranscript(record));
    // Another key, whose share a custodian brings by mistake.
    const otherRecord = join(media, 'MKOTHER.jsonl');
    await generateMasterKeyCeremony({
      keyName: 'MKOTHER',
      threshold: 2,
      custodians: ['Frank', 'Gina'].map((n) => ({ custodian: n, destination: file(n) })),
      recordPath: otherRecord,
      actor: 'Olga',
    });
    // Dave's card in a reader on pcscd + vpcd.
    stack = await startPcscStack([{ stateFile: daveCard, port: PORT }]);
    // New units: a production emulator instance, its transport files exported.
    const rig = await setUpRecoveryRig(workDir, media, PASS);
    const page = new RecoveryPage(app, { answer: (k, p) => bridge.dialogs.answer(k, p), shot, axe });

    await page.fromStartScreen();
    await page.check('recovery-start');

    // 1. A paper head the record does not hold (the other key's) is refused; then the right one, in groups.
    await page.openRecord(record, headHash(readTranscript(otherRecord)));
    await page.expectRefused(/does not hold the head hash .* printed on the paper report/);
    await page.check('recovery-head-refused');
    await page.openRecord(record, hexGroups(Buffer.from(head, 'hex')).join(' '));
    await expect(app.getByText('— the record holds it')).toBeVisible();

    // 2. The units, each confirmed against its display; 3. the admins, 2 of 2.
    await page.unitsConfirmed(rig.transports, 'recovery-units');
    await page.admins(rig.admins, 2, 'recovery-admins');
    await page.check('recovery-shares');

    // Before the first share: the ceremony script. The plan saved for sign-off gives the names back; a plan of
    // another kind of ceremony is refused.
    const papers = new PapersPart(app, {
      answer: (k, p) => bridge.dialogs.answer(k, p),
      printed: bridge.printed,
      shot,
      axe,
    });
    await papers.names('Olga', []);
    await papers.printScriptRefused(/A production ceremony needs at least one witness who holds no share and no admin/);
    await papers.names('Olga', ['Wendy']);
    const plan = join(media, 'SETUP-recovery.json');
    await papers.savePlan(plan);
    await papers.names('', []);
    const rotationPlan = join(media, 'SETUP-rotation.json');
    writeFileSync(
      rotationPlan,
      serializeSetupFile(
        laterSetupFile(
          {
            kind: 'rotation',
            rehearsal: false,
            keyName: 'MKRECOV',
            threshold: 2,
            holders: [],
            custodians: [
              { name: 'Carol', medium: 'file' },
              { name: 'Erin', medium: 'file' },
            ],
            admins: [{ name: 'Alice Admin' }],
            units: [{ id: 'unit-1' }],
          },
          { operator: 'Olga', witnesses: ['Wendy'] },
        ),
      ),
    );
    await papers.openPlan(rotationPlan);
    await page.expectRefused(/This plan is for a rotation ceremony, not a recovery ceremony/);
    await papers.openPlan(plan);
    await expect(app.getByTestId('ceremony-script-plan')).toContainText(
      'The names come from the plan SETUP-recovery.json',
    );
    await expect(app.getByLabel('Witnesses', { exact: true })).toHaveValue('Wendy');
    const script = printedText(await papers.printScript('recovery-script'));
    expect(script).toContain('Ceremony script — Recovery ceremony');
    for (const name of ['Olga', 'Wendy', 'Carol', 'Dave', 'Erin']) expect(script).toContain(name);
    for (const t of rig.transports) {
      const fp = (JSON.parse(readFileSync(t, 'utf8')) as { fingerprint: string }).fingerprint;
      expect(script).toContain(hexGroups(Buffer.from(fp, 'hex')).join(' '));
    }
    expect(script).toContain('Initials');
    expect(script).toContain('K custodians present their shares');

    // 4. The shares, with every mistake a custodian can make.
    await page.giveFile(shareFile('old-Bob'), PASS);
    await page.expectRefused(/the re-share "Bob left" .* retired: it can no longer be used/);
    await page.check('recovery-share-retired');
    await page.giveFile(shareFile('Frank'), PASS);
    await page.expectRefused(/belongs to another ceremony .*key "MKOTHER"/);
    await page.check('recovery-share-other-key');
    await page.giveFile(shareFile('Carol'), PASS);
    await page.expectGiven(1, 2);
    await page.giveFile(shareFile('Carol'), PASS);
    await page.expectRefused(/is share 1 again: two copies of the same share count once/);
    await page.check('recovery-share-twice');
    await page.build();
    await page.expectRefused(/2 different shares are needed to rebuild key "MKRECOV"; 1 was given/);
    await page.expectGiven(1, 2);
    await page.check('recovery-k-minus-1');
    await page.giveCard(vpcdReaderName(PORT), '999999');
    await page.expectRefused(/Wrong PIN: 2 tries left/);
    await page.check('recovery-wrong-pin');
    await page.giveCard(vpcdReaderName(PORT), DAVE_PIN);
    await page.expectGiven(2, 2);
    await expect(app.getByText(/share 1 \(Carol\), share 2 \(Dave\)/)).toBeVisible();
    await page.check('recovery-shares-in');
    await page.build();

    // 5. Both admins sign; the bundle is saved.
    const out = join(workDir, 'out');
    mkdirSync(out);
    await page.signAndSave(rig.admins, PASS, out);
    await page.check('recovery-done');
    expect(bridge.dialogs.pending(), 'every scripted dialog was used').toBe(0);

    // After it: the record's report, its head hash, and the witness named before the ceremony to sign it.
    const report = printedText(await papers.printReport('recovery-report'));
    expect(report).toContain(hexGroups(Buffer.from(headHash(readTranscript(record)), 'hex')).join(' '));
    expect(report).toContain('Wendy');

    // The record holds the recovery, closed as completed, and both signatures; no refusal wrote to it.
    const types = readTranscript(record).map((e) => e.type);
    expect(types.filter((t) => t === 'ceremony-opened')).toHaveLength(3);
    expect(types.slice(-6)).toEqual([
      'ceremony-opened',
      'bundle-created',
      'master-key-wiped',
      'ceremony-closed',
      'bundle-signed',
      'bundle-signed',
    ]);

    // The units ingest the saved bundle and report the key.
    expectUnitsHoldKey(workDir, rig, out, generated.kcv);
  });
});

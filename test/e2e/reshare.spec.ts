// Re-share in the app (issue 11, ceremony 2; "re-share (with one lost
// card)"): a key made by the command line's own ceremony (2 of 3, file
// shares) loses Bob's share — he does not bring it; Alice and Carol bring
// theirs, the new set (2 of 3: Alice, Carol, Dave) is issued through the UI,
// and the record retires the old set, so Bob's old share is refused.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hexGroups } from '../../src/core/ceremony/fingerprint.js';
import { parseSetupFile } from '../../src/core/ceremony/setup-file.js';
import { headHash, readTranscript } from '../../src/core/ceremony/transcript.js';
import { FileShareDestination, FileShareSource } from '../../src/core/ceremony/media.js';
import { generateMasterKeyCeremony, verifyShareAgainstRecord } from '../../src/core/ceremony/operations.js';
import { completedReshareTypes, reshareEntries } from '../support/reshare-record.js';
import { expect, test } from './fixtures.js';
import { PapersPart, printedText } from './pages/papers.js';
import { ResharePage } from './pages/reshare.js';

const pass = (name: string): string => `${name} keeps a long passphrase on paper 7`;

test('a lost share replaced: K current shares in, a new set out through the UI, the old set retired', async ({
  app,
  bridge,
  workDir,
  shot,
  axe,
}) => {
  const record = join(workDir, 'MK-RESHARE.jsonl');
  const shareFile = (name: string): string => join(workDir, `${name}.keyshare`);
  const generated = await generateMasterKeyCeremony({
    ceremonyName: 'Key generation',
    keyName: 'MK-RESHARE',
    threshold: 2,
    custodians: ['Alice', 'Bob', 'Carol'].map((n) => ({
      custodian: n,
      destination: new FileShareDestination(shareFile(n), async () => Buffer.from(pass(n)), {
        logN: 15,
        r: 8,
        p: 1,
      }),
    })),
    recordPath: record,
    actor: 'Olga',
  });
  const page = new ResharePage(app, { answer: (k, p) => bridge.dialogs.answer(k, p), shot, axe });

  await page.fromStartScreen();
  await page.check('reshare-record');
  await page.openRecord(record, generated.kcv);
  await page.check('reshare-shares-in');

  // Bob lost his share: Alice and Carol bring theirs. Alice's twice counts once.
  await page.bringFile(shareFile('Alice'), pass('Alice'), 1, 2);
  bridge.dialogs.answer('openFile', shareFile('Alice'));
  await app.getByLabel('Passphrase', { exact: true }).fill(pass('Alice'));
  await app.getByRole('button', { name: 'Bring this share', exact: true }).click();
  await page.expectRefused(/is share 1 again/);
  await page.check('reshare-share-refused');
  await page.bringFile(shareFile('Carol'), pass('Carol'), 2, 2);
  await page.check('reshare-shares-brought');

  await page.toNewCustodians();
  await page.nameNewSet('Rita', 2, ['Alice', 'Carol', 'Dave']);
  await page.check('reshare-new-custodians');
  await page.toNewShares();
  await page.check('reshare-new-shares');

  // Before any new share is written: the ceremony script (the operator already named), saved as a plan too.
  const papers = new PapersPart(app, {
    answer: (k, p) => bridge.dialogs.answer(k, p),
    printed: bridge.printed,
    shot,
    axe,
  });
  await expect(app.getByTestId('ceremony-script').getByLabel('Operator', { exact: true })).toHaveValue('Rita');
  await papers.names('Rita', ['Wendy']);
  await papers.savePlan(join(workDir, 'SETUP-reshare.json'));
  expect(parseSetupFile(readFileSync(join(workDir, 'SETUP-reshare.json'), 'utf8'))).toMatchObject({
    kind: 'reshare',
    keyName: 'MK-RESHARE',
    operator: 'Rita',
    threshold: 2,
    holders: [
      { name: 'Alice', medium: 'file' },
      { name: 'Carol', medium: 'file' },
    ],
    custodians: [
      { name: 'Alice', medium: 'file' },
      { name: 'Carol', medium: 'file' },
      { name: 'Dave', medium: 'file' },
    ],
    witnesses: [{ name: 'Wendy' }],
  });
  const script = printedText(await papers.printScript('reshare-script'));
  expect(script).toContain('Ceremony script — Re-share ceremony');
  for (const name of ['Rita', 'Wendy', 'Alice', 'Carol', 'Dave']) expect(script).toContain(name);
  expect(script).toContain('Initials');
  expect(script).toContain('Old shares retired in the record');
  for (const [i, n] of ['Alice', 'Carol', 'Dave'].entries())
    await page.newShareFile(n, i + 1, 3, join(workDir, `new-${n}.keyshare`), pass(`new ${n}`));
  await page.check('reshare-ready');
  await page.issue();
  await expect(app.getByText(/The record’s current set is now 2 of 3/)).toBeVisible();
  await expect(app.getByText(/The old set \(2 of 3, ceremony .*\) is retired/)).toBeVisible();
  await page.check('reshare-done');

  // After it: the record's report, its head hash, the witness named before to sign it.
  const report = printedText(await papers.printReport('reshare-report'));
  expect(report).toContain(hexGroups(Buffer.from(headHash(readTranscript(record)), 'hex')).join(' '));
  expect(report).toContain('Wendy');

  // The record: the re-share by Rita, the old set retired; Bob's old share refused, Dave's new one accepted.
  const reshare = reshareEntries(record);
  expect(reshare.map((e) => e.type)).toEqual(completedReshareTypes(3));
  expect(reshare.every((e) => e.actor === 'Rita')).toBe(true);
  await expect(
    verifyShareAgainstRecord(record, new FileShareSource(shareFile('Bob'), async () => Buffer.from(pass('Bob')))),
  ).rejects.toMatchObject({ code: 'ShareRetired' });
  const dave = await verifyShareAgainstRecord(
    record,
    new FileShareSource(join(workDir, 'new-Dave.keyshare'), async () => Buffer.from(pass('new Dave'))),
  );
  expect(dave.issued.custodian).toBe('Dave');
});

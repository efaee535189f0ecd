// The record check on the start screen (issue 11, ceremony 6: "open a record
// (and its bundles), verify chain, closing and head, show the ceremony's
// history"): a key's record written by the real writers (key generation, a
// failed re-share, a re-share) is checked as `transcript verify` checks it;
// its head matches the one typed from the report and not another; a cut
// record is refused with the command line's sentence.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hexGroups } from '../../src/core/ceremony/fingerprint.js';
import { incompleteRecordError } from '../../src/core/ceremony/report.js';
import { writeBundleRecord, writeCutRecord, writeLifeRecord } from '../support/life-record.js';
import { expect, test } from './fixtures.js';
import { CheckRecordPage } from './pages/check-record.js';

test('a key’s record is checked: head hash compared with the report, the whole history shown; a cut record is refused', async ({
  app,
  bridge,
  workDir,
  shot,
  axe,
}) => {
  const life = await writeLifeRecord(join(workDir, 'MK-LIFE.jsonl'));
  const entries = readFileSync(life.path, 'utf8').split('\n').length - 1;
  const groups = hexGroups(Buffer.from(life.head, 'hex'));
  const page = new CheckRecordPage(app, { answer: (k, p) => bridge.dialogs.answer(k, p), shot, axe });

  await page.fromStartScreen();
  await page.open(life.path);
  await page.expectIntact(entries);
  await page.expectHead(groups.join(' '));

  const rows = await page.ceremonies();
  expect(rows.map((r) => [r[0], r[1]])).toEqual([
    ['1', 'Key generation'],
    ['2', 'Re-share ceremony'],
    ['3', 'Re-share ceremony'],
  ]);
  expect(rows[0]!.join(' | ')).toContain('Olga');
  expect(rows[1]!.at(-1)).toMatch(/^Aborted \[InvalidArgument\]: .*pulled out/);
  expect(rows[2]!.join(' | ')).toContain('Bob lost his card');
  expect(rows[2]!.at(-1)).toBe('Completed');
  expect(await page.shareStatus('Bob')).toMatch(/^Retired by ceremony 3/);
  expect(await page.shareStatus('Frank')).toBe('Current');
  expect(await page.shareStatus('void-x')).toMatch(/^Void: /);
  await expect(app.getByText(/3 of 4: any 3 of the shares marked “current” rebuild the key/)).toBeVisible();

  // The head typed from the report, in groups as printed: it matches.
  await page.typeHead(groups.join(' '));
  await page.expectHeadMatches();
  await shot('record-check-matches');
  await axe('record-check');

  // A head from another report (an earlier entry's hash: the record before its re-shares) does not.
  const earlier = JSON.parse(readFileSync(life.path, 'utf8').split('\n')[0]!).hash as string;
  await page.typeHead(earlier);
  await page.expectHeadMismatch();
  await shot('record-check-mismatch');
  await axe('record-check-mismatch');

  // The report, as `transcript report` prints it, to the print dialog.
  await page.printReport();
  expect(bridge.printed.at(-1)).toContain('Bob lost his card');

  // A record cut before its last closing is refused with the sentence `transcript verify` gives.
  const cut = join(workDir, 'MK-LIFE-cut.jsonl');
  writeCutRecord(life.path, cut);
  await page.open(cut);
  await page.expectRefused(incompleteRecordError().message);
  await shot('record-check-cut');
  await axe('record-check-cut');
});

test('a bundle beside the record is checked against it: what it does, its signatures, where the record holds it; an altered one is refused', async ({
  app,
  bridge,
  workDir,
  shot,
  axe,
}) => {
  const { path, bundlePath } = await writeBundleRecord(workDir);
  const page = new CheckRecordPage(app, { answer: (k, p) => bridge.dialogs.answer(k, p), shot, axe });
  await page.fromStartScreen();
  await page.open(path);
  await page.checkBundle(bundlePath);
  const facts = await page.bundleFacts();
  expect(facts['Operation']).toBe('initialize');
  expect(facts['Signatures']).toBe('Alice (valid)');
  expect(facts['Still to sign']).toBe('Nobody: every admin the claim installs has signed.');
  expect(facts['Signed, says the record']).toBe('Alice');
  expect(facts['In the record']).toMatch(/^Line \d+ \(/);
  await shot('record-check-bundle');
  await axe('record-check-bundle');

  // One character of its signature changed: refused with the words of `bundle verify`.
  const text = readFileSync(bundlePath, 'utf8');
  const sig = (JSON.parse(text) as { signatures: Array<{ signature: string }> }).signatures[0]!.signature;
  const altered = join(workDir, 'MK-B-bundle-altered.json');
  writeFileSync(altered, text.replace(sig, (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)));
  await page.checkBundle(altered);
  await expect(app.getByRole('alert')).toContainText('it was altered after signing. Do not use it.');
  await expect(app.getByTestId('record-check-bundle')).toHaveCount(0);
  await shot('record-check-bundle-altered');
  await axe('record-check-bundle-altered');
});

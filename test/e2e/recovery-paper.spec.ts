// Recovery when the key's record is lost (issue 11, ceremony 1; `mk recover
// --new-record`): a key generated 2 of 3 into share files, its record gone,
// its signed paper report at hand. Through the UI: the paper's values typed
// in with a KCV that is not the key's — refused at the first share, nothing
// written; then the right values, the units confirmed on screen, two shares,
// the key rebuilt and checked against the paper, and only then the new record
// written (key-recovered-from-paper); the bundle signed and saved, and the
// emulator's units report the key's KCV. Before the first share the ceremony
// script is printed and its plan saved (operator and witness named; the
// custodians, whom only the lost record named, "named as their shares come
// in"); after it, the new record's report. Screenshots and axe at each step.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hexGroups } from '../../src/core/ceremony/fingerprint.js';
import { FileShareDestination } from '../../src/core/ceremony/media.js';
import { generateMasterKeyCeremony } from '../../src/core/ceremony/operations.js';
import { headHash, readTranscript } from '../../src/core/ceremony/transcript.js';
import { expect, test } from './fixtures.js';
import { expectUnitsHoldKey, setUpRecoveryRig } from './recovery-rig.js';
import { PapersPart, printedText } from './pages/papers.js';
import { RecoveryPage } from './pages/recovery.js';

const PASS = 'paper recovery correct horse battery';

test('a key whose record is lost is recovered from its paper report: a wrong KCV refused, the new record written only when the key matches', async ({
  app,
  bridge,
  workDir,
  shot,
  axe,
}) => {
  test.setTimeout(240_000);
  const media = join(workDir, 'media');
  mkdirSync(media);
  const shareFile = (name: string): string => join(media, `${name}.keyshare`);
  // The key's life so far; then its record is lost: only the values of its paper report remain.
  const lost = join(workDir, 'lost', 'MKPAPER.jsonl');
  mkdirSync(join(workDir, 'lost'));
  const generated = await generateMasterKeyCeremony({
    keyName: 'MKPAPER',
    threshold: 2,
    custodians: ['Carol', 'Dave', 'Erin'].map((custodian) => ({
      custodian,
      destination: new FileShareDestination(shareFile(custodian), async () => Buffer.from(PASS), {
        logN: 15,
        r: 8,
        p: 1,
      }),
    })),
    recordPath: lost,
    actor: 'Olga',
  });
  const groups = (hex: string): string => hexGroups(Buffer.from(hex, 'hex')).join(' ');
  const paper = {
    keyName: 'MKPAPER',
    kcv: generated.kcv,
    verificationPattern: groups(generated.verificationPattern),
    headHash: groups(headHash(readTranscript(lost))),
  };
  const rig = await setUpRecoveryRig(workDir, media, PASS);
  const newRecord = join(media, 'MKPAPER-recovered.jsonl');
  const page = new RecoveryPage(app, { answer: (k, p) => bridge.dialogs.answer(k, p), shot, axe });

  // A KCV typed wrong: the first share, of the real key, is refused; nothing is written.
  const wrongKcv = generated.kcv === 'ABC123' ? 'ABC124' : 'ABC123';
  await page.fromStartScreen();
  await page.startFromPaper({ ...paper, kcv: wrongKcv }, newRecord);
  await page.check('recovery-paper-units');
  await page.unitsConfirmed(rig.transports, 'recovery-paper-units-confirmed');
  await page.admins(rig.admins, 2, 'recovery-paper-admins');
  await expect(app.getByText('Known from the first share given')).toBeVisible();
  await page.check('recovery-paper-shares');
  await page.giveFile(shareFile('Carol'), PASS);
  await page.expectRefused(new RegExp(`The paper report's KCV is ${wrongKcv}, but .* with KCV ${generated.kcv}`));
  await page.check('recovery-paper-kcv-refused');
  expect(existsSync(newRecord)).toBe(false);
  await page.stop();

  // The right values: the units confirmed on screen, two shares, the key checked against the paper.
  await page.fromStartScreen();
  await page.startFromPaper(paper, newRecord);
  await page.unitsConfirmed(rig.transports, 'recovery-paper-units-again');
  await page.admins(rig.admins, 2, 'recovery-paper-admins-again');

  // Before the first share: the script, with the custodians named as their shares come in (none invented), and
  // its plan saved for sign-off.
  const papers = new PapersPart(app, {
    answer: (k, p) => bridge.dialogs.answer(k, p),
    printed: bridge.printed,
    shot,
    axe,
  });
  await expect(app.getByText(/the script names the custodians only as “named as their shares come in”/)).toBeVisible();
  await papers.names('Olga', ['Wendy']);
  const plan = join(media, 'SETUP-paper-recovery.json');
  await papers.savePlan(plan);
  const saved = readFileSync(plan, 'utf8');
  expect(JSON.parse(saved)).toMatchObject({ kind: 'recovery', keyName: 'MKPAPER', operator: 'Olga' });
  expect(saved).not.toContain('"holders"');
  expect(saved).not.toContain('"threshold"');
  const script = printedText(await papers.printScript('recovery-paper-script'));
  expect(script).toContain('Ceremony script — Recovery ceremony');
  expect(script).toContain('Custodians bringing shares: named as their shares come in');
  expect(script).toContain('K as the shares themselves say');
  for (const name of ['Olga', 'Wendy', 'Alice', 'Bob']) expect(script).toContain(name);
  for (const name of ['Carol', 'Dave', 'Erin']) expect(script).not.toContain(name);
  for (const t of rig.transports) {
    const fp = (JSON.parse(readFileSync(t, 'utf8')) as { fingerprint: string }).fingerprint;
    expect(script).toContain(hexGroups(Buffer.from(fp, 'hex')).join(' '));
  }
  expect(script).toContain('Initials');

  await page.giveFile(shareFile('Erin'), PASS);
  await page.expectGiven(1, 2);
  await page.giveFile(shareFile('Carol'), PASS);
  await page.expectGiven(2, 2);
  await page.check('recovery-paper-shares-in');
  expect(existsSync(newRecord), 'no record before the key matches the paper').toBe(false);
  await page.build();
  const out = join(workDir, 'out');
  mkdirSync(out);
  await page.signAndSave(rig.admins, PASS, out);
  await expect(
    app.getByText(/The new record MKPAPER-recovered.jsonl holds the recovery from the paper report/),
  ).toBeVisible();
  await page.check('recovery-paper-done');
  expect(bridge.dialogs.pending(), 'every scripted dialog was used').toBe(0);

  // After it: the new record's report, its head hash, the witness named before, and the custodians who came.
  const report = printedText(await papers.printReport('recovery-paper-report'));
  expect(report).toContain(hexGroups(Buffer.from(headHash(readTranscript(newRecord)), 'hex')).join(' '));
  for (const name of ['Wendy', 'Carol', 'Erin']) expect(report).toContain(name);

  // The new record: the recovery from the paper (what it said, the units, the shares presented), then the bundle.
  const entries = readTranscript(newRecord);
  const types = entries.map((e) => e.type);
  expect(types.filter((t) => t === 'unit-confirmed')).toHaveLength(2);
  expect(types.indexOf('key-recovered-from-paper')).toBeLessThan(types.indexOf('bundle-created'));
  expect(types.slice(-3)).toEqual(['ceremony-closed', 'bundle-signed', 'bundle-signed']);
  expect(entries[0]!.data['lostRecord']).toMatchObject({ headHash: headHash(readTranscript(lost)) });

  // The units ingest the saved bundle and report the key.
  expectUnitsHoldKey(workDir, rig, out, generated.kcv);
});

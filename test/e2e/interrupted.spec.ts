// A ceremony cut off by a crash (issue 8): at the next start it is closed,
// completed when every share had been issued and read back, aborted
// otherwise, and the start screen says which and saves its record.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ENTRY } from '../../src/core/ceremony/record.js';
import { appendTranscript, createTranscript } from '../../src/core/ceremony/transcript.js';
import { test, expect } from './fixtures.js';

/** The record the desktop app leaves when it dies with `issued` of the two shares issued. */
function crashedRecord(folder: string, keyName: string, issued: number): void {
  const ceremonyId = randomUUID();
  const path = join(folder, `ceremony-${ceremonyId}.jsonl`);
  const custodians = ['Cat', 'Dan'];
  createTranscript(path, {
    type: ENTRY.opened,
    actor: 'Olga',
    data: {
      ceremonyId,
      ceremonyName: `Ceremony for ${keyName}`,
      keyName,
      threshold: 2,
      shares: 2,
      custodians,
      admins: ['Ann'],
      witnesses: ['Wim'],
      operator: 'Olga',
    },
  });
  appendTranscript(path, {
    type: ENTRY.masterKeyGenerated,
    actor: 'Olga',
    data: { kcv: 'A1B2C3', verificationPattern: 'ab'.repeat(32), algorithm: 'AES-256' },
  });
  for (let i = 1; i <= issued; i++) {
    const data = {
      shareIndex: i,
      custodian: custodians[i - 1]!,
      medium: 'file',
      location: `share-${i}.keyshare`,
      commitment: `${i}`.repeat(64),
      verifiedReadBack: true,
    };
    appendTranscript(path, { type: ENTRY.shareIssued, actor: custodians[i - 1]!, data });
  }
}

test('the start screen lists the ceremonies a crash cut off and saves their records', async ({
  app,
  bridge,
  workDir,
  axe,
  shot,
}) => {
  const records = join(workDir, 'app-records');
  crashedRecord(records, 'mk-whole', 2);
  crashedRecord(records, 'mk-half', 1);
  bridge.session.closeInterruptedRecords(); // what main does when it starts again
  await app.reload();

  await expect(app.getByRole('heading', { name: 'Ceremonies were interrupted' })).toBeVisible();
  const whole = app.getByRole('listitem').filter({ hasText: 'mk-whole' });
  const half = app.getByRole('listitem').filter({ hasText: 'mk-half' });
  await expect(whole).toContainText('its shares are complete and valid');
  await expect(half).toContainText('its shares do not form a usable set');
  await axe('start screen with interrupted ceremonies');
  await shot('interrupted-ceremonies');

  const out = join(workDir, 'saved');
  mkdirSync(out);
  bridge.dialogs.answer('chooseFolder', out);
  await whole.getByRole('button', { name: 'Save its record…' }).click();
  await expect(whole.getByText('Its record, printable report and PDF were saved to')).toContainText(out);
  expect(
    readdirSync(out)
      .map((f) => f.replace(/^.*\./, ''))
      .sort(),
  ).toEqual(['html', 'jsonl', 'pdf']);
  await expect(whole.getByRole('button', { name: 'Save its record again…' })).toBeEnabled();
});

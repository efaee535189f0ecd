// Recovery onto new units in the app (issue 11, ceremony 1): a key's record
// written by the real writers (file shares), a new production emulator
// instance, and two admins' identity files. Through the UI: the record
// opened with the paper report's head, both units confirmed, the admins'
// certificates and thresholds, two of three shares, the bundle built,
// signed by both admins and saved; the emulator then ingests it and reports
// the key's KCV on both units. Screenshots and axe at each step.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileShareDestination } from '../../src/core/ceremony/media.js';
import { generateMasterKeyCeremony } from '../../src/core/ceremony/operations.js';
import { headHash, readTranscript } from '../../src/core/ceremony/transcript.js';
import { generateFileIdentity } from '../../src/core/identity/identity.js';
import { hexGroups } from '../../src/core/ceremony/fingerprint.js';
import { emu, ok } from '../support/cli.js';
import { expect, test } from './fixtures.js';

const PASS = 'recovery correct horse battery';

test('a key is recovered onto new units: record and paper head, units, admins, K shares, signed bundle, ingested', async ({
  app,
  bridge,
  workDir,
  shot,
  axe,
}) => {
  test.setTimeout(120_000);
  const media = join(workDir, 'media');
  mkdirSync(media);
  // The key's life so far: generated 2 of 3 into share files.
  const record = join(media, 'MKRECOV.jsonl');
  const custodians = ['Carol', 'Dave', 'Erin'];
  const shares = custodians.map((n) => join(media, `${n.toLowerCase()}.keyshare`));
  const generated = await generateMasterKeyCeremony({
    keyName: 'MKRECOV',
    threshold: 2,
    custodians: custodians.map((custodian, i) => ({
      custodian,
      destination: new FileShareDestination(shares[i]!, async () => Buffer.from(PASS), { logN: 15, r: 8, p: 1 }),
    })),
    recordPath: record,
    actor: 'Olga',
  });
  const head = headHash(readTranscript(record));
  // New units: a production emulator instance, its transport files exported.
  const unitsDir = join(workDir, 'units');
  const transportDir = join(workDir, 'transport');
  ok(emu(workDir, 'init', '--state', unitsDir, '--units', '2'));
  ok(emu(workDir, 'transport', '--state', unitsDir, '--out-dir', transportDir));
  const transports = readdirSync(transportDir).map((f) => join(transportDir, f));
  expect(transports).toHaveLength(2);
  // The admins of the new units, with identity files.
  const admins = await Promise.all(
    ['Alice', 'Bob'].map(async (name) => {
      const path = join(media, `${name.toLowerCase()}.identity.pem`);
      writeFileSync(path, (await generateFileIdentity(name, Buffer.from(PASS))).text);
      return path;
    }),
  );
  const answer = (kind: 'openFile' | 'chooseFolder', path: string): void => bridge.dialogs.answer(kind, path);

  await app.getByRole('button', { name: 'Recover a key onto new units' }).click();
  await expect(app.getByRole('heading', { name: 'Recover a key onto new units' })).toBeVisible();
  await shot('recovery-start');
  await axe('recovery-start');

  // 1. The record, with the paper report's head as printed (in groups).
  await app.getByLabel(/Head hash printed on the paper report/).fill(hexGroups(Buffer.from(head, 'hex')).join(' '));
  answer('openFile', record);
  await app.getByRole('button', { name: 'Open the key’s record…' }).click();
  await expect(app.getByText('— the record holds it')).toBeVisible();

  // 2. The units, each confirmed against its display.
  for (const t of transports) {
    answer('openFile', t);
    await app.getByRole('button', { name: 'Load a unit’s transport file…' }).click();
    await app.getByRole('button', { name: /matches the unit’s display$/ }).click();
  }
  await expect(app.getByText('Confirmed: matches the unit’s display.')).toHaveCount(2);
  await shot('recovery-units');
  await axe('recovery-units');
  await app.getByRole('button', { name: 'Continue to the admins' }).click();

  // 3. The admins' certificates (their identity files) and the thresholds.
  for (const a of admins) {
    answer('openFile', a);
    await app.getByRole('button', { name: 'Add an admin’s certificate…' }).click();
  }
  await expect(app.getByRole('button', { name: 'Remove Bob' })).toBeVisible();
  await app.getByLabel('Signature threshold').fill('2');
  await shot('recovery-admins');
  await axe('recovery-admins');
  await app.getByRole('button', { name: 'Continue to the shares' }).click();

  // 4. Two custodians, one at a time.
  for (const i of [2, 0]) {
    await app.getByLabel('Passphrase of your share file').fill(PASS);
    answer('openFile', shares[i]!);
    await app.getByRole('button', { name: 'Open my share file…' }).click();
  }
  await expect(app.getByText(/2 of 2 shares given/)).toBeVisible();
  await shot('recovery-shares');
  await axe('recovery-shares');
  await app.getByRole('button', { name: 'Rebuild the key and build the bundle' }).click();

  // 5. Both admins read the summary, then sign with their identity files.
  await expect(app.getByRole('heading', { name: '5. The admins sign the bundle' })).toBeVisible();
  await expect(app.getByText('0 of 2')).toBeVisible();
  await shot('recovery-signing');
  await axe('recovery-signing');
  for (const a of admins) {
    await app.getByLabel('Passphrase of your identity file').fill(PASS);
    answer('openFile', a);
    await app.getByRole('button', { name: 'Open my identity file and sign…' }).click();
  }
  await expect(app.getByText('2 of 2 (Alice, Bob)')).toBeVisible();
  const out = join(workDir, 'out');
  mkdirSync(out);
  answer('chooseFolder', out);
  await app.getByRole('button', { name: 'Save the bundle…' }).click();
  await expect(app.getByRole('heading', { name: 'The recover bundle is saved' })).toBeVisible();
  await shot('recovery-done');
  await axe('recovery-done');
  expect(bridge.dialogs.pending(), 'every scripted dialog was used').toBe(0);

  // The record holds the recovery, closed as completed, and both signatures.
  const types = readTranscript(record).map((e) => e.type);
  expect(types.slice(-6)).toEqual([
    'ceremony-opened',
    'bundle-created',
    'master-key-wiped',
    'ceremony-closed',
    'bundle-signed',
    'bundle-signed',
  ]);

  // The units ingest the saved bundle and report the key.
  const [bundle] = readdirSync(out);
  const ingest = emu(workDir, 'ingest', '--state', unitsDir, join(out, bundle!));
  expect(ingest.code, ingest.stderr).toBe(0);
  const status = JSON.parse(ok(emu(workDir, 'status', '--state', unitsDir, '--json'))) as {
    units: Array<{ state: string; masterKeyKcv: string | null }>;
  };
  expect(status.units).toHaveLength(2);
  for (const u of status.units) expect(u.masterKeyKcv?.toUpperCase()).toBe(generated.kcv.toUpperCase());
});

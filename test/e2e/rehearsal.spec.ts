// Issue 11, "Rehearsal mode", through the real renderer in Debian's Chromium
// and the test-only bridge: the whole ceremony rehearsed on the app's own
// in-process virtual cards (factory-fresh, prepared in the wizard) and
// in-process rehearsal units, with no card service at all (pcscd "absent":
// a real card is never asked for). The REHEARSAL banner is on every screen;
// every file saved is named REHEARSAL-…; the record opens with mode
// "rehearsal" and every entry says rehearsal; the units take the rehearsal
// bundle, and the emulator reports them kms-initialized in rehearsal mode.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect as baseExpect } from '@playwright/test';
import { parseBundle } from '../../src/core/bundle/bundle.js';
import { readTranscript } from '../../src/core/ceremony/transcript.js';
import { expect, test } from './fixtures.js';
import { expectEveryEntryRehearsal, rehearsalInstanceStatus, rehearseInitialCeremony } from './rehearsal-flow.js';

test.use({ cardService: 'absent' });

test('a whole ceremony rehearsed on virtual cards and rehearsal units, marked REHEARSAL everywhere', async ({
  app,
  bridge,
  workDir,
  shot,
  axe,
}) => {
  test.setTimeout(300_000);
  const { env, mediaDir, recordDir, kcv } = await rehearseInitialCeremony({ app, bridge, workDir, shot, axe });
  expect(bridge.dialogs.pending(), 'every scripted dialog was used').toBe(0);

  // No real card was asked for: the card service is absent, and no call failed for it.
  baseExpect(bridge.calls.filter((c) => c.code === 'NoPcscd')).toEqual([]);

  // Every file the rehearsal saved is named REHEARSAL-…
  const savedFiles = readdirSync(mediaDir).filter((f) => f !== 'record');
  expect(savedFiles.sort()).toEqual([
    'REHEARSAL-bob.identity.pem',
    'REHEARSAL-bundle-prodmk26-1.json',
    'REHEARSAL-frank.keyshare',
    'REHEARSAL-grace.keyshare',
    'REHEARSAL-heidi.keyshare',
  ]);
  const recordFiles = readdirSync(recordDir);
  expect(recordFiles).toHaveLength(3);
  for (const f of recordFiles) expect(f).toMatch(/^REHEARSAL-ceremony-/);

  // The record opens with mode "rehearsal", and every entry says rehearsal.
  const entries = readTranscript(await env.recordFile(recordDir));
  expect(entries[0]!.data['mode']).toBe('rehearsal');
  expectEveryEntryRehearsal(await env.recordFile(recordDir));
  // The printed report is marked.
  expect(bridge.printed).toHaveLength(1);
  expect(bridge.printed[0]).toContain('REHEARSAL');

  // The bundle is a rehearsal bundle.
  const bundleText = readFileSync(join(mediaDir, 'REHEARSAL-bundle-prodmk26-1.json'), 'utf8');
  expect(parseBundle(bundleText).payload.rehearsal).toBe(true);

  // The emulator instance the rehearsal created: rehearsal mode, both units kms-initialized with the KCV shown.
  const status = rehearsalInstanceStatus(workDir);
  expect(status.rehearsal).toBe(true);
  expect(status.units.map((u) => [u.state, u.masterKeyKcv?.toUpperCase()])).toEqual([
    ['kms-initialized', kcv],
    ['kms-initialized', kcv],
  ]);
});

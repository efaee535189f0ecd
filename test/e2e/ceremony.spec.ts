// Issue 4's ceremony through the real renderer in Debian's Chromium, the
// test-only bridge to the real core, and virtual PIV cards on pcscd + vpcd:
// 3 admins (one on a card), 3-of-5 shares (two cards, three files), 2 units.
// The mistakes a person can make are made on the way (one unconfirmed
// fingerprint, a wrong PIN, a card pulled mid-write, a wrong passphrase),
// and the emulator must end with both units kms-initialized under the KCV
// the wizard showed. Every step's screenshot is kept as a test artifact.
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { emu, ok } from '../support/cli.js';
import { pcscStackUnavailableReason, type PcscStack } from '../support/pcsc-stack.js';
import { PINS, ROSTER, runCeremony, setUpCeremonyRig } from './ceremony-flow.js';
import { expect, test } from './fixtures.js';

test.describe('the ceremony wizard', () => {
  const unavailable = pcscStackUnavailableReason();
  test.skip(unavailable !== undefined, `the PC/SC stack is not installed: ${unavailable ?? ''}`);

  let stack: PcscStack | undefined;
  test.afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  test('a full ceremony, mistakes included, ends with both units kms-initialized under the KCV shown', async ({
    app,
    bridge,
    workDir,
    shot,
    axe,
  }) => {
    const rig = await setUpCeremonyRig(workDir, { doraFactoryFresh: true });
    stack = rig.stack;
    const unitsDir = rig.unitsDir;

    const result = await runCeremony({
      page: app,
      answer: async (kind, path) => bridge.dialogs.answer(kind, path),
      shot,
      axe,
      ...rig.env,
      mistakes: true,
    });
    expect(bridge.dialogs.pending(), 'every scripted dialog was used').toBe(0);
    // What went to the printer is the report with everyone's signature line.
    expect(bridge.printed).toHaveLength(1);
    for (const person of [ROSTER.operator, ...ROSTER.custodians.map((c) => c.name), ...ROSTER.witnesses])
      expect(bridge.printed[0]).toContain(person);
    expect(bridge.printed[0]).toContain(result.kcv);

    // The bundle on the "removable media" is the one whose hash the UI showed.
    const bundleText = readFileSync(result.bundlePath);
    expect(createHash('sha256').update(bundleText).digest('hex')).toBe(result.bundleSha256);

    // The emulator ingests it: both units end kms-initialized with that KCV.
    const ingest = emu(workDir, 'ingest', '--state', unitsDir, result.bundlePath);
    expect(ingest.code, ingest.stderr).toBe(0);
    const status = JSON.parse(ok(emu(workDir, 'status', '--state', unitsDir, '--json'))) as {
      units: Array<{ id: string; state: string; masterKeyKcv: string | null; adminThumbprints: string[] }>;
    };
    expect(status.units).toHaveLength(2);
    for (const u of status.units) {
      expect(u.state).toBe('kms-initialized');
      expect(u.masterKeyKcv?.toUpperCase()).toBe(result.kcv);
      expect(u.adminThumbprints).toHaveLength(ROSTER.admins.length);
    }

    // The record, its HTML and PDF were saved; the mistakes left no secret in them.
    const saved = readdirSync(result.recordDir).sort();
    expect(saved.map((f) => f.slice(f.lastIndexOf('.')))).toEqual(['.html', '.jsonl', '.pdf']);
    expect(readFileSync(join(result.recordDir, saved[2]!)).subarray(0, 5).toString()).toBe('%PDF-');
    const record = readFileSync(join(result.recordDir, saved[1]!), 'utf8');
    const html = readFileSync(join(result.recordDir, saved[0]!), 'utf8');
    for (const secret of [...Object.values(PINS), 'correct horse battery']) {
      expect(record).not.toContain(secret);
      expect(html).not.toContain(secret);
    }
    for (const person of [
      ROSTER.operator,
      ...ROSTER.admins.map((a) => a.name),
      ...ROSTER.custodians.map((c) => c.name),
      ...ROSTER.witnesses,
    ]) {
      expect(html).toContain(person);
    }
  });
});

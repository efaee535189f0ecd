// Hostile cards through pcscd + vpcd, driven through the built CLI (issue 9,
// "Never hang, never crash"): each scenario answers one APDU wrongly on
// purpose; the CLI must end within its deadline with exit 1 and one plain
// sentence, never exit 70 and never a stack trace.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectCleanFailure, KEYCEREMONY, workdir, type RunResult } from '../support/cli.js';
import { insertHostileCard, type HostileCard } from '../support/hostile-card.js';
import { pcscStackUnavailableReason, startPcscStack, VPCD_BASE_PORT, type PcscStack } from '../support/pcsc-stack.js';

const unavailable = pcscStackUnavailableReason();
const PORT = VPCD_BASE_PORT;

/** Runs the built CLI; the spawn's own timeout (well above every card deadline) keeps a hang from hanging the suite. */
function kc(cwd: string, ...args: string[]): RunResult & { ms: number } {
  const start = Date.now();
  const r = spawnSync(process.execPath, [KEYCEREMONY, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - start };
}

describe.skipIf(!!unavailable)('hostile cards through pcscd and the CLI', () => {
  let stack: PcscStack;
  let dir: string;
  let card: HostileCard | undefined;

  beforeAll(async () => {
    stack = await startPcscStack([]);
    dir = workdir('kc-hostile-');
  }, 60_000);
  afterEach(async () => {
    await card?.remove();
    card = undefined;
  }, 30_000);
  afterAll(async () => {
    await stack?.stop();
  }, 30_000);

  const insert = async (scenario: string): Promise<string> => {
    card = await insertHostileCard(scenario, join(dir, `${scenario}.json`), PORT);
    return card.readerName;
  };

  // scenario, what `card status` must say
  it.each([
    ['silent-serial', /did not answer within 5 seconds while reading the card serial/],
    ['get-response-forever', /malformed answer while reading the card serial \(0 of 16 bytes with more announced/],
    ['wrong-le-loop', /malformed answer while reading the card serial \(6C04 again/],
    ['empty-serial', /a serial number of 0 bytes instead of 4/],
    ['huge-answer', /card/],
    ['truncated-tlv', /malformed metadata for the PIN \(tag 6 claims 2 bytes, 1 are left\)/],
    ['overlong-tlv', /claims 65535 bytes/],
    ['lying-metadata', /metadata for the PIN \(9 tries left of 3\)/],
    [
      'random-status-words',
      /the card answered [0-9A-F]{4}|does not know the command|not found on the card|requires the PIN/,
    ],
  ])(
    'card status on a card with %s ends with one sentence, exit 1',
    async (scenario, message) => {
      const reader = await insert(scenario);
      const r = kc(dir, 'card', 'status', '--reader', reader);
      expect(r.code, r.stderr).toBe(1);
      expectCleanFailure(r, message);
      expect(r.stderr).toContain(reader.startsWith('Virtual') ? '' : reader);
      expect(r.ms).toBeLessThan(20_000);
    },
    60_000,
  );

  it('card list on a card that never answers names the reader and the deadline, and finishes', async () => {
    const reader = await insert('silent-serial');
    const r = kc(dir, 'card', 'list');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`${reader}: card present \\(The card in reader "${reader}" did not answer within 5 seconds`),
    );
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.ms).toBeLessThan(20_000);
  }, 60_000);

  it('card status shows an unreadable 9C certificate as unreadable, not as none', async () => {
    const reader = await insert('unreadable-9c');
    const r = kc(dir, 'card', 'status', '--reader', reader);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Admin identity \(slot 9C\): UNREADABLE \(/);
    expect(r.stdout).not.toMatch(/Admin identity \(slot 9C\): none/);
  }, 60_000);
});

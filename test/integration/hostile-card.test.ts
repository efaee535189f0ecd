// Hostile cards through pcscd + vpcd, driven through the built CLI (issue 9,
// "Never hang, never crash"): each scenario answers one APDU wrongly on
// purpose; the CLI must end within its deadline with exit 1 and one plain
// sentence, never exit 70 and never a stack trace.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectCleanFailure, KEYCEREMONY, ok, passFile, workdir, type RunResult } from '../support/cli.js';
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

  const insert = async (
    scenario: string,
    stateFile = join(dir, `${scenario}.json`),
    serial?: number,
  ): Promise<string> => {
    card = await insertHostileCard(scenario, stateFile, PORT, { serial });
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
  // `share verify` over a card holding a real share: the share is written
  // through the CLI to honest cards first, then the hostile card wraps that
  // card's state for the failing run (issue 9: foreign share certificates,
  // lying serials, silence after the PIN, a share certificate that is not DER).
  describe('share verify', () => {
    const stateA = (): string => join(dir, 'share-a.json');
    const stateB = (): string => join(dir, 'share-b.json');
    const serialOf = (file: string): number => (JSON.parse(readFileSync(file, 'utf8')) as { serial: number }).serial;
    let serialA = 0;
    let serialB = 0;

    beforeAll(async () => {
      passFile(dir, 'default.pin', '123456');
      passFile(dir, 'a.pin', '246813');
      passFile(dir, 'b.pin', '135792');
      passFile(dir, 'a.puk', '86420864');
      passFile(dir, 'b.puk', '97531975');
      for (const c of ['c3', 'c4', 'c5']) passFile(dir, `${c}.pass`, `custodian ${c} secret`);
      const a = await insertHostileCard('honest', stateA(), PORT);
      const b = await insertHostileCard('honest', stateB(), PORT + 1);
      try {
        for (const [x, n] of [
          [a, 'a'],
          [b, 'b'],
        ] as const) {
          ok(
            kc(
              dir,
              'card',
              'prepare',
              '--reader',
              x.readerName,
              '--pin-file',
              'default.pin',
              '--new-pin-file',
              `${n}.pin`,
              '--new-puk-file',
              `${n}.puk`,
            ),
          );
        }
        ok(
          kc(
            dir,
            'mk',
            'generate',
            '--key-name',
            'HOSTILE',
            '--threshold',
            '2',
            '--share',
            `piv:${a.readerName}=a.pin`,
            '--share',
            `piv:${b.readerName}=b.pin`,
            '--share',
            'c3.share=c3.pass',
            '--record',
            'record.jsonl',
          ),
        );
        ok(
          kc(
            dir,
            'mk',
            'generate',
            '--key-name',
            'OTHER',
            '--threshold',
            '2',
            '--share',
            'c4.share=c4.pass',
            '--share',
            'c5.share=c5.pass',
            '--record',
            'other.jsonl',
          ),
        );
        expect(
          ok(kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', `piv:${a.readerName}=a.pin`)),
        ).toMatch(/share 1 of 3/);
      } finally {
        await a.remove();
        await b.remove();
      }
      serialA = serialOf(stateA());
      serialB = serialOf(stateB());
      // Card A with card B's share certificate copied into its slot 82: a share whose key is not on this card.
      const foreign = JSON.parse(readFileSync(stateA(), 'utf8')) as { objects: Record<string, string> };
      foreign.objects['5fc10d'] = (
        JSON.parse(readFileSync(stateB(), 'utf8')) as { objects: Record<string, string> }
      ).objects['5fc10d']!;
      writeFileSync(join(dir, 'share-foreign.json'), JSON.stringify(foreign));
    }, 120_000);

    const verify = (reader: string, record = 'record.jsonl'): RunResult & { ms: number } =>
      kc(dir, 'share', 'verify', '--record', record, '--share', `piv:${reader}=a.pin`);

    const expectRefusal = (r: RunResult & { ms: number }, message: RegExp): void => {
      expect(r.code, r.stderr).toBe(1);
      expectCleanFailure(r, message);
      expect(r.ms).toBeLessThan(20_000);
    };

    it("refuses a foreign share certificate: another card's share copied onto this card", async () => {
      const reader = await insert('honest', join(dir, 'share-foreign.json'));
      expectRefusal(
        verify(reader),
        new RegExp(`is card ${serialA}, not card ${serialB} that holds this share\\. Insert card ${serialB}\\.`),
      );
    }, 60_000);

    it("refuses a foreign share certificate whose recipient key is not the slot's key, even when the serial matches", async () => {
      const reader = await insert('lying-serial', join(dir, 'share-foreign.json'), serialB);
      expectRefusal(
        verify(reader),
        new RegExp(
          `the share on card ${serialB} does not open with this card's key: it was altered, or it belongs to another card\\.`,
        ),
      );
    }, 60_000);

    it('refuses a card whose share is of another ceremony', async () => {
      const reader = await insert('honest', stateA());
      expectRefusal(
        verify(reader, 'other.jsonl'),
        /holds no share of this ceremony \(it holds shares of HOSTILE\)\. Is it the right card\?/,
      );
    }, 60_000);

    it('refuses a card that lies about its serial', async () => {
      const reader = await insert('lying-serial', stateA());
      expectRefusal(
        verify(reader),
        new RegExp(`is card ${serialA + 1}, not card ${serialA} that holds this share\\. Insert card ${serialA}\\.`),
      );
    }, 60_000);

    // The host reads the serial once per connection (APDU economy), so share verify asks once and
    // meets the true serial; a share write asks in its precheck and again in its write connection,
    // and there a serial that changed is named before anything is written to the card.
    it('refuses a card whose serial changes between two GET SERIALs', async () => {
      const reader = await insert('changing-serial', stateA());
      const r = kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        'CHANGING',
        '--threshold',
        '2',
        '--share',
        `piv:${reader}=a.pin`,
        '--share',
        'c4b.share=c4.pass',
        '--record',
        'changing.jsonl',
      );
      expectRefusal(
        r,
        new RegExp(
          `is card ${serialA + 1}, not card ${serialA} that was checked for this share\\. Insert card ${serialA}\\.`,
        ),
      );
    }, 60_000);

    it('ends with the deadline sentence when the card goes silent after the PIN', async () => {
      const reader = await insert('silent-after-pin', stateA());
      expectRefusal(
        verify(reader),
        /did not answer within 5 seconds while deriving the share key with the key in slot 82, so the operation was stopped and the card released/,
      );
    }, 60_000);

    it('says the share data is damaged when the share certificate is not DER', async () => {
      const reader = await insert('garbage-share-certificate', stateA());
      expectRefusal(
        verify(reader),
        /The certificate in retired slot 82 of the card is not a certificate \(not DER\): the card's share data is damaged\./,
      );
    }, 60_000);
  });
});

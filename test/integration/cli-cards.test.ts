// Issue 3 through the real stack: pcscd + vpcd + two virtual PIV cards in
// two readers, driven by the keyceremony CLI as a user would. Admins on
// cards, a mix of card and file shares, and the card failures a person can
// cause, each failing with one plain sentence and losing nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emu, expectCleanFailure, exportAndConfirmUnits, kc, KEYCEREMONY, ok, passFile } from '../support/cli.js';
import {
  pcscStackUnavailableReason,
  startPcscStack,
  vpcdReaderName,
  type PcscStack,
  type VirtualCardProcess,
} from '../support/pcsc-stack.js';

// CI sets KEYCEREMONY_REQUIRE_PCSC=1: there a missing stack fails instead of skipping.
const unavailable = pcscStackUnavailableReason();
if (unavailable) console.warn(`Skipping the card CLI tests: ${unavailable}.`);

const PORT_A = 35963;
const PORT_B = 35964;
const A = vpcdReaderName(PORT_A); // "Virtual PCD 00 00"
const B = vpcdReaderName(PORT_B);
const dir = mkdtempSync(join(tmpdir(), 'kc-cards-'));
let stack: PcscStack;
let cardA: VirtualCardProcess;
let cardB: VirtualCardProcess;
let kcv = '';

const stateOf = (name: string): string => join(dir, `${name}.card.json`);

async function swap(port: number, state: string, env?: Record<string, string>): Promise<VirtualCardProcess> {
  const old = stack.cards.find((c) => c.port === port && c.process.exitCode === null && c.process.signalCode === null);
  if (old) await old.remove();
  return stack.insertCard(state, port, env);
}

describe.skipIf(!!unavailable)('keyceremony with smart cards through pcscd', () => {
  beforeAll(async () => {
    stack = await startPcscStack([
      { stateFile: stateOf('a'), port: PORT_A },
      { stateFile: stateOf('b'), port: PORT_B },
    ]);
    [cardA, cardB] = stack.cards as [VirtualCardProcess, VirtualCardProcess];
    passFile(dir, 'default.pin', '123456');
    passFile(dir, 'a.pin', '246813');
    passFile(dir, 'b.pin', '135792');
    passFile(dir, 'a.puk', '86420864');
    passFile(dir, 'b.puk', '97531975');
    passFile(dir, 'wrong.pin', '000000');
    for (const c of ['c3', 'c4', 'c5']) passFile(dir, `${c}.pass`, `custodian ${c} secret`);
    passFile(dir, 'carol.pass', 'carol passphrase');
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('lists both readers with their cards', () => {
    const out = ok(kc(dir, 'card', 'list'));
    expect(out).toContain(`${A}: PIV card, serial ${cardA.serial}`);
    expect(out).toContain(`${B}: PIV card, serial ${cardB.serial}`);
  });

  it('refuses to store a share behind a factory PIN and management key, before anything is written', () => {
    expectCleanFailure(
      kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        'X',
        '--threshold',
        '2',
        '--share',
        `piv:${A}=default.pin`,
        '--share',
        'x.share=c3.pass',
        '--record',
        'x.jsonl',
      ),
      /still has the factory PIN, PUK, management key; prepare it first/,
    );
    expect(existsSync(join(dir, 'x.jsonl'))).toBe(false);
    expect(existsSync(join(dir, 'x.share'))).toBe(false);
  });

  it('prepares both cards: new PIN and PUK, a random PIN-protected management key', () => {
    ok(
      kc(
        dir,
        'card',
        'prepare',
        '--reader',
        A,
        '--pin-file',
        'default.pin',
        '--new-pin-file',
        'a.pin',
        '--new-puk-file',
        'a.puk',
      ),
    );
    ok(
      kc(
        dir,
        'card',
        'prepare',
        '--reader',
        '00 01',
        '--pin-file',
        'default.pin',
        '--new-pin-file',
        'b.pin',
        '--new-puk-file',
        'b.puk',
      ),
    );
    const st = ok(kc(dir, 'card', 'status', '--reader', A));
    expect(st).toContain('Management key: random, PIN-protected on the card');
    expect(st).toContain('Prepared.');
    expectCleanFailure(
      kc(
        dir,
        'card',
        'prepare',
        '--reader',
        A,
        '--pin-file',
        'a.pin',
        '--new-pin-file',
        'a.pin',
        '--new-puk-file',
        'a.puk',
      ),
      /This card is already prepared/,
    );
  });

  it('runs the rehearsal with admins on cards and a mix of card and file shares', () => {
    ok(kc(dir, 'identity', 'generate', '--name', 'alice', '--card', A, '--pin-file', 'a.pin', '--out', 'alice.crt'));
    ok(kc(dir, 'identity', 'generate', '--name', 'bob', '--card', B, '--pin-file', 'b.pin', '--out', 'bob.crt'));
    ok(kc(dir, 'identity', 'generate', '--name', 'carol', '--out', 'carol.id', '--passphrase-file', 'carol.pass'));
    ok(kc(dir, 'identity', 'cert', 'carol.id', '--out', 'carol.crt'));
    const mk = ok(
      kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        'MKcards',
        '--threshold',
        '3',
        '--share',
        `piv:${A}=a.pin`,
        '--share',
        `piv:${B}=b.pin`,
        '--share',
        'c3.share=c3.pass',
        '--share',
        'c4.share=c4.pass',
        '--share',
        'c5.share=c5.pass',
        '--record',
        'record.jsonl',
      ),
    );
    kcv = /^KCV ([0-9A-F]{6})$/m.exec(mk)![1]!;
    expect(mk).toMatch(
      new RegExp(`Share 1 for card ${A}: card ${cardA.serial} slot 82 \\(written, read back and checked\\)`),
    );
    ok(emu(dir, 'init', '--state', 'emu', '--units', '2'));
    exportAndConfirmUnits(dir, 'emu', 'transport', 'record.jsonl');
    const transports = readdirSync(join(dir, 'transport')).flatMap((f) => ['--transport', join('transport', f)]);
    ok(
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'initialize',
        '--record',
        'record.jsonl',
        '--share',
        `piv:${A}=a.pin`,
        '--share',
        `piv:${B}=b.pin`,
        '--share',
        'c4.share=c4.pass',
        ...transports,
        '--admin',
        'alice.crt',
        '--admin',
        'bob.crt',
        '--admin',
        'carol.crt',
        '--signature-threshold',
        '2',
        '--out',
        'bundle.json',
      ),
    );
    ok(kc(dir, 'bundle', 'sign', 'bundle.json', '--record', 'record.jsonl', '--card', A, '--pin-file', 'a.pin'));
    ok(kc(dir, 'bundle', 'sign', 'bundle.json', '--record', 'record.jsonl', '--card', B, '--pin-file', 'b.pin'));
    ok(
      kc(
        dir,
        'bundle',
        'sign',
        'bundle.json',
        '--record',
        'record.jsonl',
        '--identity',
        'carol.id',
        '--passphrase-file',
        'carol.pass',
      ),
    );
    expect(ok(kc(dir, 'bundle', 'verify', 'bundle.json'))).toContain('Every admin the claim installs has signed.');
    ok(emu(dir, 'ingest', '--state', 'emu', 'bundle.json'));
    const status = JSON.parse(ok(emu(dir, 'status', '--state', 'emu', '--json'))) as {
      units: Array<{ state: string; masterKeyKcv: string }>;
    };
    expect(status.units.map((u) => [u.state, u.masterKeyKcv])).toEqual([
      ['kms-initialized', kcv],
      ['kms-initialized', kcv],
    ]);
    expect(ok(kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', `piv:${B}=b.pin`))).toMatch(
      /share 2 of 5 .* issued to card/s,
    );
  });

  it('a wrong PIN says how many tries are left; a blocked PIN is unblocked with the PUK', () => {
    expectCleanFailure(
      kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', `piv:${A}=wrong.pin`),
      /Wrong PIN: 2 tries left before it is blocked/,
    );
    expectCleanFailure(
      kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', `piv:${A}=wrong.pin`),
      /Wrong PIN: 1 try left/,
    );
    expectCleanFailure(
      kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', `piv:${A}=wrong.pin`),
      /the PIN is now blocked. Unblock it with the PUK/,
    );
    expectCleanFailure(
      kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', `piv:${A}=a.pin`),
      /The PIN is blocked. Unblock it with the PUK/,
    );
    passFile(dir, 'a2.pin', '975310');
    ok(kc(dir, 'card', 'unblock', '--reader', A, '--puk-file', 'a.puk', '--new-pin-file', 'a2.pin'));
    expect(ok(kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', `piv:${A}=a2.pin`))).toMatch(
      /share 1 of 5/,
    );
  });

  it('a card pulled between two APDUs of a write loses nothing it held', async () => {
    // Card B is pulled instead of answering its 2nd PUT DATA: the second block of the chained certificate write.
    cardB = await swap(PORT_B, stateOf('b'), { KEYCEREMONY_VIRTUAL_CARD_PULL_BEFORE: 'db:2' });
    const r = kc(
      dir,
      'mk',
      'generate',
      '--key-name',
      'MK-2',
      '--threshold',
      '2',
      '--share',
      'd1.share=c3.pass',
      '--share',
      `piv:${B}=b.pin`,
      '--record',
      'second.jsonl',
    );
    expectCleanFailure(r, /removed|stopped answering in the middle of an operation/i);
    cardB = await swap(PORT_B, stateOf('b'));
    expect(ok(kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', `piv:${B}=b.pin`))).toMatch(
      /share 2 of 5/,
    );
    expect(readFileSync(join(dir, 'second.jsonl'), 'utf8').trimEnd().split('\n').at(-1)).toMatch(
      /"outcome":"aborted".*"type":"ceremony-closed"/,
    );
  });

  it('the wrong card in the reader is named as such', async () => {
    cardA = await swap(PORT_A, stateOf('fresh'));
    passFile(dir, 'fresh.puk', '11223344');
    ok(
      kc(
        dir,
        'card',
        'prepare',
        '--reader',
        A,
        '--pin-file',
        'default.pin',
        '--new-pin-file',
        'a.pin',
        '--new-puk-file',
        'fresh.puk',
      ),
    );
    expectCleanFailure(
      kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', `piv:${A}=a.pin`),
      /holds no keyshare\. Is it the right card\?/,
    );
    expectCleanFailure(
      kc(dir, 'bundle', 'sign', 'bundle.json', '--record', 'record.jsonl', '--card', A, '--pin-file', 'a.pin'),
      /slot 9C/,
    );
    cardA = await swap(PORT_A, stateOf('a'));
  });

  it('no matching reader, and no pcscd', () => {
    expectCleanFailure(
      kc(dir, 'card', 'status', '--reader', 'YubiKey'),
      /No card reader matches "YubiKey" \(readers: "Virtual PCD 00 00", "Virtual PCD 00 01"\)/,
    );
    const r = kc(dir, 'card', 'list');
    expect(r.code).toBe(0);
    const noService = spawnWithEnv(['card', 'list'], { PCSCLITE_CSOCK_NAME: join(dir, 'no-such-pcscd.sock') });
    expectCleanFailure(noService, /pcscd\) is not running/);
  });
});

function spawnWithEnv(args: string[], env: Record<string, string>): ReturnType<typeof kc> {
  const r = spawnSync(process.execPath, [KEYCEREMONY, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

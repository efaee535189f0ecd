// Issue 9, "Never destroy", through the real stack (pcscd + vpcd + the
// virtual PIV card) and independent tools: a key the owner put on their card
// with yubico-piv-tool is never overwritten by keyceremony, each refusal is
// one plain sentence, and what is replaced with the owner's consent is
// recorded.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCleanFailure, kc, ok, passFile } from '../support/cli.js';
import {
  listReaders,
  pcscStackUnavailableReason,
  startPcscStack,
  toolAvailable,
  vpcdReaderName,
  type PcscStack,
  type VirtualCardProcess,
} from '../support/pcsc-stack.js';

const execFileAsync = promisify(execFile);
const unavailable = pcscStackUnavailableReason();
const hasYkpiv = !unavailable && toolAvailable('yubico-piv-tool');
if (unavailable) console.warn(`Skipping the card owner tests: ${unavailable}.`);
else if (!hasYkpiv) console.warn('Skipping the card owner tests: yubico-piv-tool is not installed.');

const PORT_A = 35963;
const A = vpcdReaderName(PORT_A);
const dir = mkdtempSync(join(tmpdir(), 'kc-owner-'));
const stateOf = (name: string): string => join(dir, `${name}.card.json`);

async function tool(bin: string, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await execFileAsync(bin, args, { timeout: 60_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, out: (x.stdout ?? '') + (x.stderr ?? '') };
  }
}

/** Tries left of the PIN and PUK, as the card process keeps them. */
function triesLeft(card: VirtualCardProcess): { pin: number; puk: number } {
  const st = JSON.parse(readFileSync(card.stateFile, 'utf8')) as {
    pin: { retriesRemaining: number };
    puk: { retriesRemaining: number };
  };
  return { pin: st.pin.retriesRemaining, puk: st.puk.retriesRemaining };
}

/** The key a slot holds, as the card process keeps it in its state file (written after every change). */
function slotState(card: VirtualCardProcess, slot: string): unknown {
  return (JSON.parse(readFileSync(card.stateFile, 'utf8')) as { slots: Record<string, unknown> }).slots[slot];
}

describe.skipIf(!hasYkpiv)('keyceremony leaves what the owner put on their card', () => {
  let stack: PcscStack;
  let card: VirtualCardProcess;

  async function fresh(name: string): Promise<VirtualCardProcess> {
    const old = stack.cards.find(
      (c) => c.port === PORT_A && c.process.exitCode === null && c.process.signalCode === null,
    );
    if (old) await old.remove();
    card = await stack.insertCard(stateOf(name), PORT_A);
    return card;
  }

  beforeAll(async () => {
    stack = await startPcscStack([{ stateFile: stateOf('first'), port: PORT_A }]);
    card = stack.cards[0]!;
    passFile(dir, 'default.pin', '123456');
    passFile(dir, 'a.pin', '246813');
    passFile(dir, 'a.puk', '86420864');
    passFile(dir, 'f.pass', 'file custodian secret');
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('9C and retired slot 82 holding keys made with yubico-piv-tool: refused, skipped, replaced only on consent and recorded', async () => {
    await fresh('owner');
    // The owner's own keys, made the way an owner would (factory management key), no certificates.
    expect((await tool('yubico-piv-tool', '-r', A, '-a', 'generate', '-s', '9c', '-A', 'RSA2048')).out).toContain(
      'Successfully generated a new private key.',
    );
    expect((await tool('yubico-piv-tool', '-r', A, '-a', 'generate', '-s', '82', '-A', 'ECCP256')).out).toContain(
      'Successfully generated a new private key.',
    );
    const owners82 = slotState(card, '82');
    const owners9c = slotState(card, '9c');
    expect(owners82).toBeDefined();
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

    // 9C holds a key: refused before the PIN is asked (no PIN file, no terminal: a prompt would fail differently).
    expectCleanFailure(
      kc(dir, 'identity', 'generate', '--name', 'alice', '--card', A, '--out', 'alice.crt'),
      new RegExp(
        `^keyceremony: On card ${card.serial}, slot 9C holds an RSA-2048 key generated on the card, without a certificate\\. Nothing was changed: to replace it, its owner must agree, or use another card\\. Option, with the owner's agreement: --replace-slot 9C\\.\\n$`,
      ),
    );
    expect(slotState(card, '9c')).toEqual(owners9c);

    // A share goes to the first free retired slot; 82, a key without a certificate, is left alone.
    const mk = ok(
      kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        'MK',
        '--threshold',
        '2',
        '--share',
        `piv:${A}=a.pin`,
        '--share',
        'f.share=f.pass',
        '--record',
        'record.jsonl',
      ),
    );
    expect(mk).toMatch(new RegExp(`card ${card.serial} slot 83 \\(written, read back and checked\\)`));
    expect(slotState(card, '82')).toEqual(owners82);
    expect(ok(kc(dir, 'share', 'verify', '--record', 'record.jsonl', '--share', `piv:${A}=a.pin`))).toMatch(
      /share 1 of 2/,
    );
    // OpenSC finds the share's key through the key history object the host wrote (a YubiKey never writes it).
    const idx = String((await listReaders()).find((r) => r.name.includes(A))!.index);
    const keys = await tool('pkcs15-tool', '-r', idx, '--list-keys');
    expect(keys.out).toContain('Private EC Key [Retired KEY MAN 2]');
    expect(keys.out).toContain('Key ref        : 131 (0x83)');
    const dump = await tool('pkcs15-tool', '-r', idx, '--dump');
    expect(dump.code, dump.out).toBe(0);
    expect(dump.out).toContain('X.509 Certificate [Retired Certificate for Key Management 2]');

    // With the owner's consent 9C is replaced, and the record says what it held.
    const gen = ok(
      kc(
        dir,
        'identity',
        'generate',
        '--name',
        'alice',
        '--card',
        A,
        '--pin-file',
        'a.pin',
        '--out',
        'alice.crt',
        '--replace-slot',
        '9C',
        '--record',
        'record.jsonl',
      ),
    );
    expect(gen).toContain(
      'It replaced: slot 9C holds an RSA-2048 key generated on the card, without a certificate (recorded in record.jsonl).',
    );
    expect(slotState(card, '9c')).not.toEqual(owners9c);
    const last = JSON.parse(readFileSync(join(dir, 'record.jsonl'), 'utf8').trimEnd().split('\n').at(-1)!) as {
      type: string;
      data: Record<string, unknown>;
    };
    expect(last.type).toBe('card-slot-replaced');
    expect(last.data).toMatchObject({
      serial: String(card.serial),
      slot: '9C',
      key: 'RSA-2048, generated on the card',
      certificateSubject: null,
    });
    expect(last.data['replacedBy']).toMatch(/^admin identity of alice /);
    ok(kc(dir, 'transcript', 'verify', 'record.jsonl'));
    // Now 9C holds alice's identity: generating again is refused, naming its certificate.
    expectCleanFailure(
      kc(dir, 'identity', 'generate', '--name', 'bob', '--card', A, '--pin-file', 'a.pin', '--out', 'bob.crt'),
      /slot 9C holds an RSA-2048 key generated on the card, with a certificate for "CN=alice"\. Nothing was changed/,
    );
  });

  it('a card set up with yubico-piv-tool (own PIN, PUK, management key not PIN-protected): not "Prepared", refused before the key exists, no PUK try, protected with its own key', async () => {
    await fresh('keyed');
    const ownerKey = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978';
    writeFileSync(join(dir, 'owner.key'), ownerKey + '\n', { mode: 0o600 });
    passFile(dir, 'new.puk', '11223344');
    expect((await tool('yubico-piv-tool', '-r', A, '-a', 'change-pin', '-P', '123456', '-N', '246813')).code).toBe(0);
    expect((await tool('yubico-piv-tool', '-r', A, '-a', 'change-puk', '-P', '12345678', '-N', '86420864')).code).toBe(
      0,
    );
    expect((await tool('yubico-piv-tool', '-r', A, '-a', 'set-mgm-key', '-n', ownerKey)).code).toBe(0);

    const st = ok(kc(dir, 'card', 'status', '--reader', A));
    expect(st).toContain('Management key: changed (not PIN-protected)');
    expect(st).toContain(
      'Not prepared: it has a changed management key that is not kept PIN-protected on it; run "keyceremony card prepare" with --management-key-file before using it.',
    );
    expect(st).not.toContain('Prepared.');

    // mk generate finds out in its check, before the master key or the record exists, without trying the PIN.
    expectCleanFailure(
      kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        'MK2',
        '--threshold',
        '2',
        '--share',
        `piv:${A}=a.pin`,
        '--share',
        'g.share=f.pass',
        '--record',
        'keyed.jsonl',
      ),
      new RegExp(
        `^keyceremony: Card ${card.serial} has a changed management key that is not kept PIN-protected on it; prepare it first with its management key\\. Nothing was written\\. Command: keyceremony card prepare --reader R --management-key-file F \\(the key in hex; its owner has it\\)\\.\\n$`,
      ),
    );
    expect(existsSync(join(dir, 'keyed.jsonl'))).toBe(false);
    expect(existsSync(join(dir, 'g.share'))).toBe(false);
    expect(triesLeft(card)).toEqual({ pin: 3, puk: 3 });

    // card prepare: without the key, and with a new PUK but not the current one, refused before any PIN or PUK try.
    expectCleanFailure(
      kc(dir, 'card', 'prepare', '--reader', A, '--pin-file', 'a.pin'),
      /This card's management key is not the factory one and is not kept PIN-protected\. Give the current management key so it can be protected, or reset the card\. Command: keyceremony card prepare --reader R --management-key-file F/,
    );
    expectCleanFailure(
      kc(
        dir,
        'card',
        'prepare',
        '--reader',
        A,
        '--pin-file',
        'a.pin',
        '--management-key-file',
        'owner.key',
        '--new-puk-file',
        'new.puk',
      ),
      /This card's PUK is not the factory one \(its metadata says so\), so it is kept: leave out the new PUK, or give the current PUK to change it\. Option: --puk-file F\./,
    );
    expect(triesLeft(card)).toEqual({ pin: 3, puk: 3 });

    // With its key (and no new PIN or PUK asked for): the owner's key is kept, now PIN-protected.
    expect(
      ok(kc(dir, 'card', 'prepare', '--reader', A, '--pin-file', 'a.pin', '--management-key-file', 'owner.key')),
    ).toBe(
      `Card ${card.serial} prepared: its PIN and PUK kept; its own management key is kept, now PIN-protected on the card.\n`,
    );
    expect(triesLeft(card).puk).toBe(3);
    expect(ok(kc(dir, 'card', 'status', '--reader', A))).toContain('Prepared.');
    // The owner's tools still work with the owner's key.
    expect(
      (await tool('yubico-piv-tool', '-r', A, '-k' + ownerKey, '-a', 'generate', '-s', '95', '-A', 'ECCP256')).out,
    ).toContain('Successfully generated a new private key.');
    ok(
      kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        'MK2',
        '--threshold',
        '2',
        '--share',
        `piv:${A}=a.pin`,
        '--share',
        'g.share=f.pass',
        '--record',
        'keyed.jsonl',
      ),
    );
  });
});

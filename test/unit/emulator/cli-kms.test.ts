import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../../src/cli/common.js';
import { CeremonyError } from '../../../src/core/errors.js';
import { generateMasterKey } from '../../../src/core/masterkey/masterkey.js';
import { appendAudit } from '../../../src/emulator/audit.js';
import { audit, AUDIT_USAGE, kms, KMS_USAGE } from '../../../src/emulator/cli-kms.js';
import { loadInstance, saveInstance } from '../../../src/emulator/state.js';
import { initializedUnit, instance, stateDir, tempFile } from './handmade-state.js';

// The commands as cli.ts runs them (runCli turns a UsageError into exit 2
// and a CeremonyError into exit 1); stdout is captured.

let stdout: string[];
beforeEach(() => {
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});
const printed = (): string => stdout.join('');

function kmsDir(): string {
  const mk = generateMasterKey();
  const s = instance([initializedUnit(mk), initializedUnit(mk)]);
  for (const [i, u] of s.units.entries()) {
    appendAudit(
      u,
      {
        bundleId: 'b-1',
        operation: 'initialize',
        payloadHash: 'ab'.repeat(32),
        signers: ['A'.repeat(43)],
        result: 'applied',
        code: null,
        reason: `initialize applied on unit ${i}`,
      },
      new Date('2025-01-01T00:00:00Z'),
    );
  }
  return stateDir(s);
}

describe('crypto-unit-emulator audit', () => {
  it('prints the log and "audit chain intact"; the unit may be named by a prefix', async () => {
    const dir = kmsDir();
    const id = loadInstance(dir).units[1]!.id;
    await audit(['--state', dir, '--unit', id.slice(0, 8)]);
    expect(printed()).toContain(`Audit log of unit ${id} (1 entry)`);
    expect(printed()).toContain('initialize applied on unit 1');
    expect(printed().trimEnd().endsWith('audit chain intact')).toBe(true);
  });

  it('--json prints the entries and the verdict', async () => {
    const dir = kmsDir();
    const s = loadInstance(dir);
    await audit(['--state', dir, '--unit', s.units[0]!.id, '--json']);
    const j = JSON.parse(printed());
    expect(j).toEqual({
      instanceId: s.instanceId,
      unitId: s.units[0]!.id,
      chain: 'intact',
      entries: s.units[0]!.audit,
    });
  });

  it('a broken chain: the log is still shown, then the refusal (exit 1)', async () => {
    const dir = kmsDir();
    const s = loadInstance(dir);
    s.units[0]!.audit[0]!.result = 'rejected';
    saveInstance(dir, s);
    await expect(audit(['--state', dir, '--unit', s.units[0]!.id])).rejects.toThrow(
      /The audit log of unit .* is broken at entry 1: its content does not match its hash/,
    );
    expect(printed()).toContain('#1');
    expect(printed()).not.toContain('audit chain intact');
    stdout = [];
    await expect(audit(['--state', dir, '--unit', s.units[0]!.id, '--json'])).rejects.toBeInstanceOf(CeremonyError);
    expect(JSON.parse(printed()).chain).toBe('broken');
  });

  it('usage: help, missing flags, unknown unit', async () => {
    await audit(['--help']);
    expect(printed()).toBe(`${AUDIT_USAGE}\n`);
    const dir = kmsDir();
    await expect(audit(['--state', dir])).rejects.toThrow(new UsageError('--unit is required'));
    await expect(audit(['--state', dir, '--unit', 'nope'])).rejects.toThrow(/No single unit nope/);
  });
});

describe('crypto-unit-emulator kms', () => {
  it('create-root-key, wrap, unwrap: the DEK goes to a new 0600 file and never to stdout', async () => {
    const dir = kmsDir();
    await kms(['create-root-key', '--state', dir, '--name', 'payments']);
    expect(printed()).toMatch(/^Root key payments created, sealed under the master key with KCV [0-9A-F]{6}\.\n$/);

    const dek = randomBytes(32);
    const dekFile = tempFile('dek.bin');
    writeFileSync(dekFile, dek);
    const wrapped = tempFile('dek.jwe');
    await kms(['wrap', '--state', dir, '--root', 'payments', '--in', dekFile, '--out', wrapped]);
    expect(readFileSync(wrapped, 'utf8')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(printed()).toContain(
      `DEK of 32 bytes wrapped under root key payments (JWE, A256KW with A256GCM): ${wrapped}`,
    );

    const back = tempFile('dek-back.bin');
    await kms(['unwrap', '--state', dir, '--in', wrapped, '--out', back]);
    expect(readFileSync(back).equals(dek)).toBe(true);
    expect(statSync(back).mode & 0o777).toBe(0o600);
    expect(printed()).toContain(`DEK of 32 bytes unwrapped with root key payments into ${back} (mode 0600)`);
    for (const enc of ['hex', 'base64', 'base64url', 'latin1'] as const)
      expect(printed()).not.toContain(dek.toString(enc));

    await expect(kms(['unwrap', '--state', dir, '--in', wrapped, '--out', back])).rejects.toThrow(
      /already exists; nothing was overwritten/,
    );
    await expect(kms(['unwrap', '--state', dir, '--in', wrapped, '--out', '-'])).rejects.toBeInstanceOf(UsageError);
    await expect(
      kms(['unwrap', '--state', dir, '--in', tempFile('missing.jwe'), '--out', tempFile('x')]),
    ).rejects.toThrow(/The wrapped DEK file .* does not exist/);
  });

  it('export-keystore and import-keystore move the root keys to a recovered instance', async () => {
    const mk = generateMasterKey();
    const a = stateDir(instance([initializedUnit(mk), initializedUnit(mk)]));
    const b = stateDir(instance([initializedUnit(mk), initializedUnit(mk)]));
    await kms(['create-root-key', '--state', a, '--name', 'payments']);
    const dekFile = tempFile('dek.bin');
    writeFileSync(dekFile, 'sixteen byte key');
    const wrapped = tempFile('dek.jwe');
    await kms(['wrap', '--state', a, '--root', 'payments', '--in', dekFile, '--out', wrapped]);
    const ks = tempFile('keystore.json');
    await kms(['export-keystore', '--state', a, '--out', ks]);
    expect(printed()).toMatch(
      /1 root key \(payments\) exported to .*keystore\.json, sealed under the master key with KCV [0-9A-F]{6}; the file opens only on an instance holding that key\./,
    );
    expect(statSync(ks).mode & 0o777).toBe(0o600);
    await kms(['import-keystore', '--state', b, '--in', ks]);
    expect(printed()).toMatch(
      /1 root key \(payments\) imported, sealed under the master key with KCV [0-9A-F]{6}\.\n$/,
    );
    const back = tempFile('back.bin');
    await kms(['unwrap', '--state', b, '--in', wrapped, '--out', back]);
    expect(readFileSync(back, 'utf8')).toBe('sixteen byte key');
  });

  it('every subcommand answers -h/--help with its usage; unknown ones are usage errors', async () => {
    await kms([]);
    expect(printed()).toBe(`${KMS_USAGE}\n`);
    for (const sub of ['create-root-key', 'wrap', 'unwrap', 'export-keystore', 'import-keystore']) {
      for (const flag of ['-h', '--help']) {
        stdout = [];
        await kms([sub, flag]);
        expect(printed()).toMatch(new RegExp(`^Usage:\\n  crypto-unit-emulator kms ${sub} --state DIR`));
      }
    }
    stdout = [];
    await kms(['--help']);
    expect(printed()).toBe(`${KMS_USAGE}\n`);
    await expect(kms(['rotate'])).rejects.toThrow(
      new UsageError(
        'unknown kms command "rotate" (one of create-root-key, wrap, unwrap, export-keystore, import-keystore)',
      ),
    );
    await expect(kms(['wrap', '--state', 'x', '--root', 'r', '--in', 'f'])).rejects.toThrow(
      new UsageError('--out is required'),
    );
    await expect(kms(['create-root-key', '--state', 'x', '--name', 'n', '--bogus'])).rejects.toMatchObject({
      code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION',
    });
  });
});

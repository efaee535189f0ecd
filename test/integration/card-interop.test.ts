// Issue 9, "Formats other tools can read": a card after a ceremony (an
// admin identity in 9C and a share in slot 82, both written by the real CLI
// through pcscd + vpcd) read by tools nobody here wrote: Yubico's ykman
// (Debian's yubikey-manager, which parses certificates with Debian's
// python3-cryptography), python3-cryptography itself, OpenSSL, OpenSC's
// pkcs15-tool and yubico-piv-tool. Each tool skips with a message when it
// is missing, unless KEYCEREMONY_REQUIRE_PCSC=1 (CI), where .ci/setup
// installs them all.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYSHARE_EXTENSION_OID } from '../../src/core/cards/share-certificate.js';
import { kc, ok, passFile } from '../support/cli.js';
import {
  listReaders,
  pcscStackUnavailableReason,
  startPcscStack,
  toolAvailable,
  vpcdReaderName,
  type PcscStack,
  type VirtualCardProcess,
} from '../support/pcsc-stack.js';

const unavailable = pcscStackUnavailableReason();
if (unavailable) console.warn(`Skipping the card interoperability tests: ${unavailable}.`);

/** Debian's interpreter, the one ykman runs on, not a pyenv or venv python earlier in PATH. */
const DEBIAN_PYTHON = '/usr/bin/python3';
const REQUIRED = process.env['KEYCEREMONY_REQUIRE_PCSC'] === '1';

function debianPythonCryptography(): boolean {
  const found = spawnSync(DEBIAN_PYTHON, ['-c', 'import cryptography'], { encoding: 'utf8' }).status === 0;
  if (!found && REQUIRED) throw new Error('KEYCEREMONY_REQUIRE_PCSC=1 but python3-cryptography is not installed');
  return found;
}

const has = unavailable
  ? { ykman: false, python: false, openssl: false, ykpiv: false, pkcs15: false }
  : {
      ykman: toolAvailable('ykman'),
      python: debianPythonCryptography(),
      openssl: toolAvailable('openssl'),
      ykpiv: toolAvailable('yubico-piv-tool'),
      pkcs15: toolAvailable('pkcs15-tool'),
    };
const missing = Object.entries({
  ykman: 'yubikey-manager',
  python: 'python3-cryptography',
  openssl: 'openssl',
  ykpiv: 'yubico-piv-tool',
  pkcs15: 'opensc',
})
  .filter(([tool]) => !unavailable && !has[tool as keyof typeof has])
  .map(([, pkg]) => pkg);
if (missing.length > 0)
  console.warn(
    `Skipping the card interoperability tests of: ${missing.join(', ')} (apt-get install ${missing.join(' ')}).`,
  );

const PORT = 35963;
const READER = vpcdReaderName(PORT);
const dir = mkdtempSync(join(tmpdir(), 'kc-interop-'));
let stack: PcscStack;
let card: VirtualCardProcess;

interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

function tool(cmd: string, args: string[], input?: string | Buffer): ToolResult {
  const r = spawnSync(cmd, args, {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    ...(input !== undefined ? { input } : {}),
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function succeeded(r: ToolResult): string {
  if (r.code !== 0) throw new Error(`tool failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const ykman = (...args: string[]): ToolResult => tool('ykman', ['--reader', READER, ...args]);

function pemToDer(pem: string): Buffer {
  const m = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error(`no PEM certificate in: ${pem}`);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

/** python3-cryptography's reading of a DER certificate: subject, and each extension's OID. */
function pythonReads(der: Buffer): { subject: string; extensionOids: string[] } {
  const script = [
    'import sys, json',
    'from cryptography import x509',
    'c = x509.load_der_x509_certificate(sys.stdin.buffer.read())',
    'print(json.dumps({"subject": c.subject.rfc4514_string(), "extensionOids": [e.oid.dotted_string for e in c.extensions]}))',
  ].join('\n');
  return JSON.parse(succeeded(tool(DEBIAN_PYTHON, ['-c', script], der))) as {
    subject: string;
    extensionOids: string[];
  };
}

describe.skipIf(!!unavailable)('a card after a ceremony, read by tools nobody here wrote', () => {
  let shareDer: Buffer;
  let adminDer: Buffer;

  beforeAll(async () => {
    stack = await startPcscStack([{ stateFile: join(dir, 'a.card.json'), port: PORT }]);
    card = stack.cards[0]!;
    passFile(dir, 'default.pin', '123456');
    passFile(dir, 'a.pin', '246813');
    passFile(dir, 'a.puk', '86420864');
    passFile(dir, 'c2.pass', 'custodian c2 secret');
    passFile(dir, 'c3.pass', 'custodian c3 secret');
    ok(
      kc(
        dir,
        'card',
        'prepare',
        '--reader',
        READER,
        '--pin-file',
        'default.pin',
        '--new-pin-file',
        'a.pin',
        '--new-puk-file',
        'a.puk',
      ),
    );
    ok(
      kc(dir, 'identity', 'generate', '--name', 'alice', '--card', READER, '--pin-file', 'a.pin', '--out', 'alice.crt'),
    );
    const mk = ok(
      kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        'MKinterop',
        '--threshold',
        '2',
        '--share',
        `piv:${READER}=a.pin`,
        '--share',
        'c2.share=c2.pass',
        '--share',
        'c3.share=c3.pass',
        '--record',
        'record.jsonl',
      ),
    );
    expect(mk).toMatch(new RegExp(`card ${card.serial} slot 82`));
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it.skipIf(!has.ykman)('ykman info reports a YubiKey 5 with PIV enabled', () => {
    const out = succeeded(ykman('info'));
    expect(out).toMatch(/Device type: YubiKey 5/);
    expect(out).toContain(`Serial number: ${card.serial}`);
    expect(out).toMatch(/Firmware version: 5\.\d+\.\d+/);
    expect(out).toMatch(/PIV\s+Enabled/);
  });

  it.skipIf(!has.ykman)('ykman piv info parses every certificate, the share slot included', () => {
    const r = ykman('piv', 'info');
    const out = succeeded(r);
    expect(out + r.stderr).not.toMatch(/Failed to parse/i);
    expect(out).toMatch(/Slot 9C/i);
    expect(out).toMatch(/Slot 82/i);
    expect(out).toContain('CN=alice');
  });

  it.skipIf(!has.ykman)('ykman piv certificates export writes the 9C and slot 82 certificates', () => {
    adminDer = pemToDer(succeeded(ykman('piv', 'certificates', 'export', '9c', '-')));
    shareDer = pemToDer(succeeded(ykman('piv', 'certificates', 'export', '82', '-')));
    expect(new X509Certificate(adminDer).subject).toContain('CN=alice');
    expect(new X509Certificate(shareDer).publicKey.asymmetricKeyType).toBe('ec');
    writeFileSync(join(dir, 'share.der'), shareDer);
    writeFileSync(join(dir, 'admin.der'), adminDer);
  });

  it.skipIf(!has.ykman || !has.python)("Debian's python3-cryptography loads the exported certificates", () => {
    const share = pythonReads(shareDer);
    expect(share.extensionOids).toContain(KEYSHARE_EXTENSION_OID);
    expect(pythonReads(adminDer).subject).toContain('CN=alice');
  });

  it.skipIf(!has.ykman || !has.openssl)('openssl x509 -inform DER -text reads the share certificate', () => {
    const text = succeeded(tool('openssl', ['x509', '-inform', 'DER', '-noout', '-text', '-in', 'share.der']));
    expect(text).toContain(KEYSHARE_EXTENSION_OID);
    expect(text).toContain('ecdsa-with-SHA256');
    expect(
      execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-subject', '-in', 'admin.der'], {
        cwd: dir,
        encoding: 'utf8',
      }),
    ).toContain('alice');
  });

  it.skipIf(!has.pkcs15)('pkcs15-tool --dump succeeds and lists the 9C and retired-slot certificates', async () => {
    const index = (await listReaders()).find((r) => r.name === READER)!.index;
    const out = succeeded(tool('pkcs15-tool', ['--reader', String(index), '--dump']));
    expect(out).toMatch(/X\.509 Certificate for Digital Signature/);
    expect(out).toMatch(/Retired X\.509 Certificate for Key Management 1/);
  });

  it.skipIf(!has.ykpiv)('yubico-piv-tool -a status succeeds and shows both slots', () => {
    const out = succeeded(tool('yubico-piv-tool', ['-r', READER, '-a', 'status']));
    expect(out).toMatch(/Slot 9c/i);
    expect(out).toMatch(/Slot 82/i);
    expect(out).toContain(`Serial Number:\t${card.serial}`);
  });
});

// Issue 9, "A virtual card that behaves like a YubiKey 5": Yubico's own
// ykman attests a key generated on the virtual card through pcscd + vpcd
// (`ykman piv keys attest`), and refuses, as on a YubiKey, for an empty slot
// and an imported key. The chain is the card's virtual one (not Yubico's):
// the attestation verifies with the F9 certificate ykman exports, and the
// F9 certificate with the virtual root kept in the card's state file.
// Skips with a message when the stack or ykman is missing, unless
// KEYCEREMONY_REQUIRE_PCSC=1.
import { spawnSync } from 'node:child_process';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  pcscStackUnavailableReason,
  startPcscStack,
  toolAvailable,
  vpcdReaderName,
  type PcscStack,
} from '../support/pcsc-stack.js';

const unavailable = pcscStackUnavailableReason();
if (unavailable) console.warn(`Skipping the ykman attestation tests: ${unavailable}.`);
const hasYkman = !unavailable && toolAvailable('ykman');
if (!unavailable && !hasYkman)
  console.warn('Skipping the ykman attestation tests: ykman is not installed (apt-get install yubikey-manager).');

const PORT = 35963;
const READER = vpcdReaderName(PORT);
const MGMT = '010203040506070801020304050607080102030405060708';
const dir = mkdtempSync(join(tmpdir(), 'kc-attest-pcsc-'));
let stack: PcscStack | undefined;

function ykman(...args: string[]): { code: number; out: string } {
  const r = spawnSync('ykman', ['--reader', READER, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function succeeded(r: { code: number; out: string }): string {
  if (r.code !== 0) throw new Error(`ykman failed (${r.code}): ${r.out}`);
  return r.out;
}

function pem(text: string): X509Certificate {
  const m = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(text);
  if (!m) throw new Error(`no PEM certificate in: ${text}`);
  return new X509Certificate(m[0]);
}

describe.skipIf(!hasYkman)('ykman attests a key generated on the virtual card', () => {
  const stateFile = join(dir, 'attest.card.json');

  beforeAll(async () => {
    stack = await startPcscStack([{ stateFile, port: PORT }]);
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ykman piv keys attest 9c - answers a certificate of the 9C key, signed by the F9 key', () => {
    const pub = succeeded(
      ykman('piv', 'keys', 'generate', '--management-key', MGMT, '--algorithm', 'ECCP256', '9c', '-'),
    );
    const attested = pem(succeeded(ykman('piv', 'keys', 'attest', '9c', '-')));
    expect(attested.subject).toBe('CN=YubiKey PIV Attestation 9c');
    const slotKey = /-----BEGIN PUBLIC KEY-----[^-]+-----END PUBLIC KEY-----/.exec(pub)![0];
    expect(attested.publicKey.export({ format: 'pem', type: 'spki' }).toString().trim()).toBe(slotKey.trim());

    const f9 = pem(succeeded(ykman('piv', 'certificates', 'export', 'f9', '-')));
    expect(attested.issuer).toBe(f9.subject);
    expect(attested.verify(f9.publicKey)).toBe(true);
    expect(f9.subject).toContain('not Yubico');
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { attestationRoot: string };
    const root = new X509Certificate(Buffer.from(state.attestationRoot, 'base64'));
    expect(root.subject).toContain('not Yubico');
    expect(f9.verify(root.publicKey)).toBe(true);
  });

  it('ykman refuses to attest an empty slot and an imported key', () => {
    const empty = ykman('piv', 'keys', 'attest', '9a', '-');
    expect(empty.code).not.toBe(0);
    expect(empty.out).toMatch(/attestation failed/i);

    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    writeFileSync(join(dir, 'imported.pem'), key.export({ format: 'pem', type: 'pkcs8' }));
    succeeded(ykman('piv', 'keys', 'import', '--management-key', MGMT, '9d', 'imported.pem'));
    const imported = ykman('piv', 'keys', 'attest', '9d', '-');
    expect(imported.code).not.toBe(0);
    expect(imported.out).toMatch(/attestation failed/i);
  });
});

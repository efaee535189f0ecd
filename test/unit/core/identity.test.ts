import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isCeremonyError } from '../../../src/core/errors.js';
import { generateFileIdentity, identityCertificate, unlockFileIdentity } from '../../../src/core/identity/identity.js';

const dir = mkdtempSync(join(tmpdir(), 'kc-identity-'));
const PASS = 'Grüße, Admin 1';
const passFile = join(dir, 'pass');
writeFileSync(passFile, PASS + '\n');
const id = await generateFileIdentity('Alice Admin', Buffer.from(PASS, 'utf8'));
const idFile = join(dir, 'alice.id');
writeFileSync(idFile, id.text);

describe('admin identity in a file', () => {
  it('openssl reads the encrypted PKCS#8 key with the passphrase file (RSA-2048)', () => {
    const text = execFileSync('openssl', ['pkey', '-in', idFile, '-passin', `file:${passFile}`, '-noout', '-text'], {
      encoding: 'utf8',
    });
    expect(text).toMatch(/Private-Key: \(2048 bit/);
  });

  it('the key is PBES2 with PBKDF2-HMAC-SHA256 at 600,000 iterations and AES-256-CBC', () => {
    const asn = execFileSync('openssl', ['asn1parse', '-in', idFile], { encoding: 'utf8' });
    expect(asn).toMatch(/PBES2/);
    expect(asn).toMatch(/hmacWithSHA256/);
    expect(asn).toMatch(/aes-256-cbc/);
    expect(asn).toMatch(/INTEGER\s+:0927C0/); // 600000
  });

  it('openssl refuses the key with a wrong passphrase', () => {
    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, 'not the passphrase\n');
    const r = spawnSync('openssl', ['pkey', '-in', idFile, '-passin', `file:${wrong}`, '-noout'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
  });

  it('openssl reads the certificate: v3, self-signed SHA-256, CN, digitalSignature', () => {
    const text = execFileSync('openssl', ['x509', '-in', idFile, '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toMatch(/Version: 3/);
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(text).toMatch(/Subject: CN = Alice Admin/);
    expect(text).toMatch(/Issuer: CN = Alice Admin/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    const verify = spawnSync('openssl', ['verify', '-CAfile', idFile, '-partial_chain', idFile], { encoding: 'utf8' });
    expect(verify.stdout).toMatch(/OK/);
  });

  it('the thumbprint is the SHA-256 of the DER certificate, as openssl computes it', () => {
    const fp = execFileSync('openssl', ['x509', '-in', idFile, '-noout', '-fingerprint', '-sha256'], {
      encoding: 'utf8',
    });
    expect(fp.split('=')[1]!.trim().replace(/:/g, '').toLowerCase()).toBe(id.certificate.fingerprintHex);
    expect(Buffer.from(id.certificate.thumbprint, 'base64url').toString('hex')).toBe(id.certificate.fingerprintHex);
  });

  it('unlocks with the passphrase and refuses a wrong one with WrongPassphrase', () => {
    const u = unlockFileIdentity(id.text, Buffer.from(PASS, 'utf8'));
    expect(u.certificate.name).toBe('Alice Admin');
    let err: unknown;
    try {
      unlockFileIdentity(id.text, Buffer.from('wrong passphrase'));
    } catch (e) {
      err = e;
    }
    expect(isCeremonyError(err, 'WrongPassphrase')).toBe(true);
  });

  it('refuses a passphrase shorter than 6 characters', async () => {
    await expect(generateFileIdentity('Bob', Buffer.from('12345'))).rejects.toThrow(
      /too short: it has 5 characters and needs at least 6/,
    );
  });

  it('refuses an empty or padded admin name', async () => {
    await expect(generateFileIdentity(' Bob', Buffer.from('123456'))).rejects.toThrow(/admin name/);
  });

  it('reads the certificate without the passphrase', () => {
    expect(identityCertificate(id.text).thumbprint).toBe(id.certificate.thumbprint);
  });

  it('every one-bit flip of the certificate is refused in words (IdentityInvalid), never a crash', async () => {
    const { readAdminCertificate } = await import('../../../src/core/identity/certificate.js');
    const der = id.certificate.der;
    let refused = 0;
    for (let i = 0; i < der.length; i++) {
      const copy = Buffer.from(der);
      copy[i] = copy[i]! ^ 0x01;
      try {
        readAdminCertificate(copy);
      } catch (e) {
        if (!isCeremonyError(e, 'IdentityInvalid')) throw new Error(`byte ${i}: ${String(e)}`);
        refused += 1;
      }
    }
    expect(refused).toBeGreaterThan(der.length / 2);
  });
});

describe('identity files protected less than this tool protects them (issue 10)', () => {
  const certPem = id.certificate.pem;
  const plainKey = join(dir, 'plain.key');
  execFileSync('openssl', ['pkey', '-in', idFile, '-passin', `file:${passFile}`, '-out', plainKey]);
  const reencrypted = (...args: string[]): string =>
    execFileSync('openssl', ['pkcs8', '-topk8', '-in', plainKey, '-passout', `file:${passFile}`, ...args], {
      encoding: 'utf8',
    }) + certPem;
  const unlock = (text: string): unknown => {
    try {
      unlockFileIdentity(text, Buffer.from(PASS, 'utf8'), 'the identity file weak.id');
      return null;
    } catch (e) {
      return e;
    }
  };

  it('refuses an unencrypted key under an ENCRYPTED PRIVATE KEY label, which would open with any passphrase', () => {
    const relabelled =
      execFileSync('openssl', ['pkey', '-in', plainKey], { encoding: 'utf8' }).replace(
        /PRIVATE KEY-----/g,
        'ENCRYPTED PRIVATE KEY-----',
      ) + certPem;
    const e = unlock(relabelled);
    expect(isCeremonyError(e, 'IdentityInvalid')).toBe(true);
    expect((e as Error).message).toMatch(
      /not encrypted, under a label that says it is: it would open with any passphrase/,
    );
  });

  it('refuses more PBKDF2 iterations than any file of this tool has, before deriving anything', () => {
    const e = unlock(reencrypted('-v2', 'aes-256-cbc', '-iter', '2000001'));
    expect(isCeremonyError(e, 'IdentityInvalid')).toBe(true);
    expect((e as Error).message).toMatch(/asks for 2,000,001 PBKDF2 iterations; this tool allows at most 2,000,000/);
  });

  it('refuses PBES1 (3DES with SHA-1)', () => {
    const e = unlock(reencrypted('-v1', 'PBE-SHA1-3DES'));
    expect(isCeremonyError(e, 'IdentityInvalid')).toBe(true);
    expect((e as Error).message).toMatch(/PBES1 or another obsolete scheme/);
  });

  it('refuses PBKDF2 with 1 iteration, naming the openssl command that re-encrypts it; the command works', () => {
    const e = unlock(reencrypted('-v2', 'aes-256-cbc', '-iter', '1'));
    expect(isCeremonyError(e, 'IdentityInvalid')).toBe(true);
    const message = (e as Error).message;
    expect(message).toMatch(/only 1 PBKDF2 iterations; this tool needs at least 100,000/);
    // The hint, run as a person would run it, gives a file this tool opens.
    const hint = /Re-encrypt it first: (openssl .*), then append/.exec(message)![1]!;
    const oldPem = join(dir, 'OLD.pem');
    writeFileSync(oldPem, reencrypted('-v2', 'aes-256-cbc', '-iter', '1'));
    const cmd = hint
      .replace(/OLD\.pem/g, oldPem)
      .replace(/NEW\.pem/g, join(dir, 'NEW.pem'))
      .replace(/PASSFILE/g, passFile);
    execFileSync('sh', ['-c', cmd]);
    const fixed = readFileSync(join(dir, 'NEW.pem'), 'utf8') + certPem;
    expect(unlock(fixed)).toBeNull();
  });
});

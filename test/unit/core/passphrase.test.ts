import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isCeremonyError } from '../../../src/core/errors.js';
import { passphraseHint, readPassphraseFile } from '../../../src/core/passphrase.js';
import { openShareWithPassphrase, sealShareWithPassphrase } from '../../../src/core/shares/envelope.js';

// Passphrase files (issue 10): a file others can read gets a warning; a
// wrong passphrase whose bytes hold something a person may not have meant
// (a byte-order mark, spaces at either end) says so, without quoting it.

const dir = mkdtempSync(join(tmpdir(), 'kc-pass-'));

describe('passphrase files', () => {
  it('warns when group or others can read the file, and not when only its owner can', () => {
    const path = join(dir, 'p.pass');
    writeFileSync(path, 'correct horse\n', { mode: 0o600 });
    const warnings: string[] = [];
    expect(readPassphraseFile(path, (m) => warnings.push(m)).toString()).toBe('correct horse');
    expect(warnings).toEqual([]);
    chmodSync(path, 0o644);
    readPassphraseFile(path, (m) => warnings.push(m));
    expect(warnings).toEqual([
      `the passphrase file ${path} can be read by every user of this machine (mode 644); chmod 600 ${path}, or keep it on removable media.`,
    ]);
    chmodSync(path, 0o640);
    readPassphraseFile(path, (m) => warnings.push(m));
    expect(warnings[1]).toMatch(/can be read by its group \(mode 640\)/);
  });

  it('names a byte-order mark and spaces at either end, and nothing otherwise', () => {
    expect(passphraseHint(Buffer.from('plain passphrase'))).toBe('');
    expect(passphraseHint(Buffer.from('\ufeffsecret', 'utf8'))).toMatch(/starts with a byte-order mark/);
    expect(passphraseHint(Buffer.from('secret  '))).toMatch(/ends with a space or tab/);
    expect(passphraseHint(Buffer.from('\tsecret'))).toMatch(/starts with a space or tab/);
    expect(passphraseHint(Buffer.from('secret '))).not.toContain('secret');
  });

  it('a share file opened with the passphrase plus a trailing space says why it may be wrong', async () => {
    const envelope = await sealShareWithPassphrase(
      {
        format: 'keyceremony-keyshare/1',
        ceremonyId: '3f0c1b8e-2a4d-4c6e-9f10-112233445566',
        keyName: 'MK',
        shareIndex: 1,
        threshold: 2,
        shares: 3,
        kcv: 'ABCDEF',
        custodian: 'dora',
        created: '2026-11-26T08:00:00.000Z',
      },
      Buffer.alloc(33, 7),
      Buffer.from('dora secret'),
      { logN: 15, r: 8, p: 1 },
    );
    try {
      await openShareWithPassphrase(envelope, Buffer.from('dora secret '), 'share file dora.share');
      throw new Error('opened with a wrong passphrase');
    } catch (e) {
      expect(isCeremonyError(e, 'WrongPassphrase')).toBe(true);
      expect((e as Error).message).toMatch(
        /^Wrong passphrase for share file dora\.share\. Note: it ends with a space or tab/,
      );
    }
  });
});

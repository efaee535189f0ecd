// scripts/release-checksums.ts on a fake dist/ folder: what goes into
// SHA256SUMS, that `sha256sum -c` accepts it (and catches a changed
// artifact), and, where gpg is installed, that the detached signature it
// makes verifies with `gpg --verify` and fails on altered checksums.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CHECKSUM_FILE,
  formatChecksums,
  listArtifacts,
  namesWithoutVersion,
  SIGNATURE_FILE,
  writeChecksums,
} from '../../../scripts/release-checksums.js';

const hasCommand = (command: string): boolean => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;

const made: string[] = [];
afterAll(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

/** A dist/ as electron-builder leaves it for --linux, plus things that are not artifacts. */
async function fakeDist(): Promise<string> {
  const dist = await mkdtemp(path.join(tmpdir(), 'kc-dist-'));
  made.push(dist);
  await writeFile(path.join(dist, 'Key Ceremony-0.1.0.AppImage'), 'appimage bytes');
  await writeFile(path.join(dist, 'key-ceremony_0.1.0_amd64.deb'), 'deb bytes');
  await writeFile(path.join(dist, 'Key Ceremony-0.1.0.AppImage.blockmap'), 'blockmap');
  await writeFile(path.join(dist, 'builder-debug.yml'), 'x: 1');
  await writeFile(path.join(dist, 'builder-effective-config.yaml'), 'y: 2');
  await writeFile(path.join(dist, '.DS_Store'), '');
  await mkdir(path.join(dist, 'linux-unpacked'));
  await writeFile(path.join(dist, 'linux-unpacked', 'key-ceremony'), 'binary');
  await symlink(path.join(dist, 'key-ceremony_0.1.0_amd64.deb'), path.join(dist, 'latest.deb'));
  return dist;
}

describe('listArtifacts', () => {
  it('lists the top-level files, sorted, without build records, dotfiles, folders or links', async () => {
    expect(await listArtifacts(await fakeDist())).toEqual([
      'Key Ceremony-0.1.0.AppImage',
      'Key Ceremony-0.1.0.AppImage.blockmap',
      'key-ceremony_0.1.0_amd64.deb',
    ]);
  });

  it('refuses a name sha256sum would have to escape', async () => {
    const dist = await fakeDist();
    await writeFile(path.join(dist, 'evil\nname.deb'), 'x');
    await expect(listArtifacts(dist)).rejects.toThrow(/newline or backslash in an artifact name/);
  });
});

describe('formatChecksums', () => {
  it('writes "<hex>  <name>" lines, as sha256sum does', () => {
    expect(formatChecksums([{ name: 'a b.deb', sha256: 'ab'.repeat(32) }])).toBe(`${'ab'.repeat(32)}  a b.deb\n`);
  });
});

describe('namesWithoutVersion', () => {
  it('points at artifacts left over from another version', () => {
    expect(namesWithoutVersion(['Key Ceremony-0.1.0.AppImage', 'Key Ceremony-0.0.9.AppImage'], '0.1.0')).toEqual([
      'Key Ceremony-0.0.9.AppImage',
    ]);
  });
});

describe('writeChecksums', () => {
  let dist: string;
  beforeEach(async () => {
    dist = await fakeDist();
  });

  it('writes SHA256SUMS that `sha256sum -c` accepts, and nothing else without a key', async () => {
    const lines: string[] = [];
    const result = await writeChecksums(dist, { log: (line) => lines.push(line) });
    expect(result.signatureFile).toBeUndefined();
    expect(result.checksums.map((c) => c.name)).toEqual(await listArtifacts(dist));
    const text = await readFile(path.join(dist, CHECKSUM_FILE), 'utf8');
    expect(text).toContain('  key-ceremony_0.1.0_amd64.deb\n');
    expect(text.split('\n').filter(Boolean)).toHaveLength(3);
    expect(lines.at(-1)).toMatch(/no signature: KEYCEREMONY_RELEASE_GPG_KEY names no GPG key/);
    if (hasCommand('sha256sum')) {
      expect(execFileSync('sha256sum', ['-c', CHECKSUM_FILE], { cwd: dist, encoding: 'utf8' })).toContain(
        'key-ceremony_0.1.0_amd64.deb: OK',
      );
      await writeFile(path.join(dist, 'key-ceremony_0.1.0_amd64.deb'), 'tampered');
      expect(spawnSync('sha256sum', ['-c', CHECKSUM_FILE], { cwd: dist }).status).not.toBe(0);
    }
  });

  it('matches an independent SHA-256', async () => {
    const result = await writeChecksums(dist);
    const deb = result.checksums.find((c) => c.name === 'key-ceremony_0.1.0_amd64.deb');
    const { createHash } = await import('node:crypto');
    expect(deb?.sha256).toBe(createHash('sha256').update('deb bytes').digest('hex'));
  });

  it('removes a signature left from an earlier run and refuses an empty folder', async () => {
    await writeFile(path.join(dist, SIGNATURE_FILE), 'old signature');
    await writeChecksums(dist);
    await expect(readFile(path.join(dist, SIGNATURE_FILE))).rejects.toThrow(/ENOENT/);
    const empty = await mkdtemp(path.join(tmpdir(), 'kc-dist-empty-'));
    made.push(empty);
    await expect(writeChecksums(empty)).rejects.toThrow(/holds no artifact/);
  });

  it.skipIf(!hasCommand('gpg'))('says clearly when the named key cannot sign', async () => {
    const gpgHome = await mkdtemp(path.join(tmpdir(), 'kc-gpg-'));
    made.push(gpgHome);
    try {
      await expect(writeChecksums(dist, { gpgKey: 'no-such-key@keyceremony.invalid', gpgHome })).rejects.toThrow(
        /gpg .*--detach-sign.* failed/,
      );
    } finally {
      spawnSync('gpgconf', ['--homedir', gpgHome, '--kill', 'gpg-agent'], { stdio: 'ignore' });
    }
  });

  it.skipIf(!hasCommand('gpg'))(
    'signs SHA256SUMS with the named key; gpg --verify accepts it and refuses altered checksums',
    async () => {
      const gpgHome = await mkdtemp(path.join(tmpdir(), 'kc-gpg-'));
      made.push(gpgHome);
      const userId = 'Key Ceremony release test <release-test@keyceremony.invalid>';
      execFileSync(
        'gpg',
        [
          '--homedir',
          gpgHome,
          '--batch',
          '--passphrase',
          '',
          '--quick-generate-key',
          userId,
          'ed25519',
          'sign',
          'never',
        ],
        { stdio: 'ignore' },
      );
      try {
        const result = await writeChecksums(dist, { gpgKey: 'release-test@keyceremony.invalid', gpgHome });
        expect(result.signatureFile).toBe(path.join(dist, SIGNATURE_FILE));
        expect(await readFile(path.join(dist, SIGNATURE_FILE), 'utf8')).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
        const verify = spawnSync('gpg', ['--homedir', gpgHome, '--batch', '--verify', SIGNATURE_FILE, CHECKSUM_FILE], {
          cwd: dist,
          encoding: 'utf8',
        });
        expect(verify.status, verify.stderr).toBe(0);
        expect(verify.stderr).toContain('Good signature');

        await writeFile(
          path.join(dist, CHECKSUM_FILE),
          (await readFile(path.join(dist, CHECKSUM_FILE), 'utf8')).replace(/^./, (c) => (c === '0' ? '1' : '0')),
        );
        expect(
          spawnSync('gpg', ['--homedir', gpgHome, '--batch', '--verify', SIGNATURE_FILE, CHECKSUM_FILE], { cwd: dist })
            .status,
        ).not.toBe(0);
      } finally {
        spawnSync('gpgconf', ['--homedir', gpgHome, '--kill', 'gpg-agent'], { stdio: 'ignore' });
      }
    },
    60_000,
  );
});

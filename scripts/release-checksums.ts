// SHA256SUMS for what electron-builder wrote to dist/, and, when a GPG key is
// named in KEYCEREMONY_RELEASE_GPG_KEY, a detached ASCII-armoured signature
// of it (SHA256SUMS.asc). Run after electron-builder: `npm run checksums`
// (or `npm run checksums -- path/to/dist`). README, "Building installers",
// says how the ceremony workstation checks both.
//
// Why a separate signature at all: Electron validates app.asar against the
// hash embedded in the binary on macOS and Windows only; on Linux nothing
// inside the AppImage or .deb checks itself, so the checksum file and its
// signature, checked before installing, are what protect those packages.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHECKSUM_FILE = 'SHA256SUMS';
export const SIGNATURE_FILE = 'SHA256SUMS.asc';
/** The environment variable naming the signing key (fingerprint, key id or user id). */
export const GPG_KEY_VARIABLE = 'KEYCEREMONY_RELEASE_GPG_KEY';

/**
 * Files electron-builder leaves in dist/ that are records of the build, not
 * things anyone installs, and this script's own outputs.
 */
const NOT_ARTIFACTS: ReadonlySet<string> = new Set([
  'builder-debug.yml',
  'builder-effective-config.yaml',
  CHECKSUM_FILE,
  SIGNATURE_FILE,
]);

export interface Checksum {
  readonly name: string;
  /** Lower-case hex, as sha256sum prints it. */
  readonly sha256: string;
}

/**
 * The artifacts in `distDirectory`: its top-level regular files, sorted,
 * except electron-builder's build records and dotfiles. Directories (the
 * unpacked app, linux-unpacked/ and friends) and symbolic links are left
 * out: what is carried to the ceremony workstation is the installers.
 * A name sha256sum would have to escape (newline, carriage return,
 * backslash) is refused rather than written in a form `sha256sum -c` reads
 * differently.
 */
export async function listArtifacts(distDirectory: string): Promise<string[]> {
  const entries = await readdir(distDirectory, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.startsWith('.') || NOT_ARTIFACTS.has(entry.name)) continue;
    if (/[\n\r\\]/.test(entry.name)) {
      throw new Error(
        `${JSON.stringify(entry.name)} in ${distDirectory}: a newline or backslash in an artifact name cannot go in ${CHECKSUM_FILE}. Rename it.`,
      );
    }
    names.push(entry.name);
  }
  return names.sort();
}

/** SHA-256 of a file, streamed (an AppImage is over 100 MB). */
export async function sha256OfFile(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The SHA256SUMS text: one `<hex>  <name>` line per artifact (two spaces:
 * text mode, the format `sha256sum -c` reads), ending with a newline.
 */
export function formatChecksums(checksums: readonly Checksum[]): string {
  return checksums.map(({ sha256, name }) => `${sha256}  ${name}\n`).join('');
}

export interface ChecksumOptions {
  /** The GPG key to sign with; no signature when undefined or empty. */
  readonly gpgKey?: string | undefined;
  /** GPG's home directory; GPG's own default (or GNUPGHOME) when undefined. */
  readonly gpgHome?: string | undefined;
  /** Where progress goes; silent when undefined. */
  readonly log?: ((line: string) => void) | undefined;
}

export interface ChecksumResult {
  readonly checksums: readonly Checksum[];
  readonly checksumFile: string;
  /** Undefined when no key was named. */
  readonly signatureFile: string | undefined;
}

/**
 * Writes `distDirectory`/SHA256SUMS for every artifact and, with a key,
 * SHA256SUMS.asc, then checks that signature with `gpg --verify` before
 * saying it is done. A signature from an earlier run is removed first, so
 * an old signature never sits beside new checksums. Refuses an empty folder.
 */
export async function writeChecksums(distDirectory: string, options: ChecksumOptions = {}): Promise<ChecksumResult> {
  const log = options.log ?? (() => undefined);
  const names = await listArtifacts(distDirectory);
  if (names.length === 0) throw new Error(`${distDirectory} holds no artifact: run electron-builder first.`);

  const checksums: Checksum[] = [];
  for (const name of names) checksums.push({ name, sha256: await sha256OfFile(path.join(distDirectory, name)) });

  const checksumFile = path.join(distDirectory, CHECKSUM_FILE);
  const signatureFile = path.join(distDirectory, SIGNATURE_FILE);
  await rm(signatureFile, { force: true });
  await writeFile(checksumFile, formatChecksums(checksums), { mode: 0o644 });
  for (const { sha256, name } of checksums) log(`${sha256}  ${name}`);
  log(`wrote ${checksumFile} (${checksums.length} artifact${checksums.length === 1 ? '' : 's'})`);

  const key = options.gpgKey ?? '';
  if (key === '') {
    log(`no signature: ${GPG_KEY_VARIABLE} names no GPG key`);
    return { checksums, checksumFile, signatureFile: undefined };
  }
  const home = options.gpgHome === undefined ? [] : ['--homedir', options.gpgHome];
  await runGpg([
    ...home,
    '--batch',
    '--yes',
    '--local-user',
    key,
    '--armor',
    '--detach-sign',
    '--output',
    signatureFile,
    checksumFile,
  ]);
  await runGpg([...home, '--batch', '--verify', signatureFile, checksumFile]);
  log(`wrote ${signatureFile} (signed by ${key}, verified)`);
  return { checksums, checksumFile, signatureFile };
}

function runGpg(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('gpg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', (error) => reject(new Error(`could not run gpg: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `gpg ${args.filter((a) => a.startsWith('--')).join(' ')} failed (exit ${String(code)}):\n${stderr.trim()}`,
          ),
        );
    });
  });
}

/**
 * Artifacts whose names do not carry `version` (electron-builder puts the
 * version in every artifact name it makes) are probably left over from an
 * earlier build.
 */
export function namesWithoutVersion(names: readonly string[], version: string): string[] {
  return names.filter((name) => !name.includes(version));
}

async function main(argv: readonly string[], environment: NodeJS.ProcessEnv): Promise<void> {
  const distDirectory = path.resolve(argv[0] ?? 'dist');
  const packageJson = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  for (const name of namesWithoutVersion(await listArtifacts(distDirectory), packageJson.version)) {
    console.warn(
      `warning: ${name} does not carry version ${packageJson.version}; is it from an earlier build? Build into an empty dist/.`,
    );
  }
  await writeChecksums(distDirectory, { gpgKey: environment[GPG_KEY_VARIABLE], log: (line) => console.log(line) });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2), process.env).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

import { basename, extname } from 'node:path';
import { writeFileExclusive, readFileOrFail } from '../files.js';
import { CeremonyError } from '../errors.js';
import { openShareWithPassphrase, parseEnvelope, serializeEnvelope, type KeyshareEnvelope } from './envelope.js';

/** Writes a sealed share to a new file; refuses to overwrite (OutputExists). */
export function writeShareFile(path: string, envelope: KeyshareEnvelope): void {
  writeFileExclusive(path, serializeEnvelope(envelope), 0o600);
}

export function readShareFile(path: string): KeyshareEnvelope {
  const bytes = readFileOrFail(path, 'Share file');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CeremonyError('ShareCorrupted', `Share file ${path} is corrupted: it is not text.`, { path });
  }
  return parseEnvelope(text, `share file ${path}`);
}

/** Reads and opens a share file; the returned share is a secret the caller zeroes. */
export async function openShareFile(
  path: string,
  passphrase: Uint8Array,
): Promise<{ envelope: KeyshareEnvelope; share: Buffer }> {
  const envelope = readShareFile(path);
  const share = await openShareWithPassphrase(envelope, passphrase, `share file ${path}`);
  return { envelope, share };
}

/** A custodian label from a file name: "shares/alice.share" -> "alice". */
export function custodianFromPath(path: string): string {
  const b = basename(path);
  const e = extname(b);
  return e && e !== b ? b.slice(0, -e.length) : b;
}

import { statSync } from 'node:fs';
import { CeremonyError } from './errors.js';
import { readFileOrFail } from './files.js';

// Passphrase rules follow the Key Protect crypto-unit CLI (seed document):
// 6 to 255 characters. Characters are Unicode code points of the UTF-8 text.
export const PASSPHRASE_MIN_CHARS = 6;
export const PASSPHRASE_MAX_CHARS = 255;

/**
 * Checks a passphrase (UTF-8 bytes) and returns it unchanged. The caller owns
 * the buffer and zeroes it when done. Never log it.
 */
export function checkPassphrase(passphrase: Uint8Array, what = 'The passphrase'): Uint8Array {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(passphrase);
  } catch {
    throw new CeremonyError('InvalidArgument', `${what} is not valid UTF-8 text.`);
  }
  const chars = [...text].length;
  if (chars < PASSPHRASE_MIN_CHARS) {
    throw new CeremonyError(
      'PassphraseTooShort',
      `${what} is too short: it has ${chars} characters and needs at least ${PASSPHRASE_MIN_CHARS}.`,
      { minimum: PASSPHRASE_MIN_CHARS, actual: chars },
    );
  }
  if (chars > PASSPHRASE_MAX_CHARS) {
    throw new CeremonyError(
      'PassphraseTooLong',
      `${what} is too long: it has ${chars} characters and may have at most ${PASSPHRASE_MAX_CHARS}.`,
      { maximum: PASSPHRASE_MAX_CHARS, actual: chars },
    );
  }
  return passphrase;
}

/**
 * Reads a passphrase from the first line of a file, like OpenSSL's
 * `-passin file:F`, so that `openssl pkey -passin file:F` and this tool agree
 * on the same file. The line ending (LF or CRLF) is not part of it.
 */
export function readPassphraseFile(path: string, warn?: (message: string) => void): Buffer {
  const raw = readFileOrFail(path, 'Passphrase file');
  const mode = statSync(path).mode;
  // Like ssh with a private key file: a secret others can read is worth a word, not a refusal.
  if (warn && (mode & 0o077) !== 0) {
    warn(
      `the passphrase file ${path} can be read by ${(mode & 0o007) !== 0 ? 'every user of this machine' : 'its group'} (mode ${(mode & 0o777).toString(8)}); chmod 600 ${path}, or keep it on removable media.`,
    );
  }
  try {
    let end = raw.indexOf(0x0a);
    if (end < 0) end = raw.length;
    if (end > 0 && raw[end - 1] === 0x0d) end -= 1;
    return Buffer.from(raw.subarray(0, end));
  } finally {
    raw.fill(0);
  }
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * After a wrong passphrase: what in the bytes given may not be what the
 * person meant (a byte-order mark an editor put at the start of a file,
 * spaces or tabs at its end). Empty when nothing stands out. Never quotes
 * the passphrase.
 */
export function passphraseHint(passphrase: Uint8Array): string {
  const bytes = Buffer.from(passphrase.buffer, passphrase.byteOffset, passphrase.byteLength);
  const hints: string[] = [];
  if (bytes.subarray(0, 3).equals(BOM))
    hints.push('it starts with a byte-order mark (an invisible character some editors write at the start of a file)');
  const last = bytes[bytes.length - 1];
  if (last === 0x20 || last === 0x09) hints.push('it ends with a space or tab');
  if (bytes[0] === 0x20 || bytes[0] === 0x09) hints.push('it starts with a space or tab');
  return hints.length === 0
    ? ''
    : ` Note: ${hints.join(', and ')}, which count as part of the passphrase; if that was not meant, remove ${hints.length === 1 ? 'it' : 'them'} and try again.`;
}

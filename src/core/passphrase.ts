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
export function readPassphraseFile(path: string): Buffer {
  const raw = readFileOrFail(path, 'Passphrase file');
  try {
    let end = raw.indexOf(0x0a);
    if (end < 0) end = raw.length;
    if (end > 0 && raw[end - 1] === 0x0d) end -= 1;
    return Buffer.from(raw.subarray(0, end));
  } finally {
    raw.fill(0);
  }
}

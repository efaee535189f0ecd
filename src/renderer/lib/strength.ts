// A rough passphrase strength estimate, computed in the renderer so the
// passphrase never has to leave the input to be rated. It counts the
// character classes used and the length, and estimates entropy as
// length × log2(alphabet). It is a hint for the person typing, not a policy:
// the only hard rules are the core's (6 to 255 characters).

export const PASSPHRASE_MIN_LENGTH = 6;
export const PASSPHRASE_MAX_LENGTH = 255;

export type StrengthLevel = 'empty' | 'too-short' | 'weak' | 'fair' | 'strong';

export interface Strength {
  readonly level: StrengthLevel;
  /** The word shown next to the meter. */
  readonly word: string;
  /** 0..100, for the <meter>. */
  readonly score: number;
}

const WORDS: Record<StrengthLevel, string> = {
  empty: 'nothing typed yet',
  'too-short': 'too short',
  weak: 'weak',
  fair: 'fair',
  strong: 'strong',
};

export function ratePassphrase(passphrase: string): Strength {
  const length = [...passphrase].length;
  if (length === 0) return { level: 'empty', word: WORDS.empty, score: 0 };

  let alphabet = 0;
  if (/[a-z]/.test(passphrase)) alphabet += 26;
  if (/[A-Z]/.test(passphrase)) alphabet += 26;
  if (/[0-9]/.test(passphrase)) alphabet += 10;
  if (/[ -/:-@[-`{-~]/.test(passphrase)) alphabet += 33;
  if (/[^\x20-\x7e]/.test(passphrase)) alphabet += 100;
  const bits = length * Math.log2(Math.max(alphabet, 2));
  const score = Math.min(100, Math.round(bits));

  let level: StrengthLevel;
  if (length < PASSPHRASE_MIN_LENGTH) level = 'too-short';
  else if (bits < 45) level = 'weak';
  else if (bits < 70) level = 'fair';
  else level = 'strong';
  return { level, word: WORDS[level], score };
}

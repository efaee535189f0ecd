// What a re-share leaves in its key's record, for the re-share tests (core,
// app session, e2e): the entries from its opening on, and the entry types a
// completed re-share writes, in order.
import { readTranscript, type TranscriptEntry } from '../../src/core/ceremony/transcript.js';

/** The record's entries from the first re-share's opening on. */
export function reshareEntries(recordPath: string): TranscriptEntry[] {
  const entries = readTranscript(recordPath);
  return entries.slice(entries.findIndex((e) => e.data['kind'] === 'reshare'));
}

/**
 * The entry types of a completed re-share that issued `shares` new shares: the
 * old set retired only after all. `cardsPrepared`: new share cards prepared
 * in the app, recorded before the shares.
 */
export function completedReshareTypes(shares: number, cardsPrepared = 0): string[] {
  return [
    'ceremony-opened',
    ...Array<string>(cardsPrepared).fill('card-prepared'),
    ...Array<string>(shares).fill('share-issued'),
    'shares-retired',
    'master-key-wiped',
    'ceremony-closed',
  ];
}

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ceremoniesOf, ENTRY, summarize } from '../../../src/core/ceremony/record.js';
import {
  appendTranscript,
  createTranscript,
  endCeremony,
  parseTranscript,
  readTranscript,
  type TranscriptEntry,
} from '../../../src/core/ceremony/transcript.js';
import { canonicalJson, sha256Hex } from '../../../src/core/encoding.js';
import { CeremonyError } from '../../../src/core/errors.js';

const opening = {
  type: ENTRY.opened,
  actor: 'op',
  data: { ceremonyId: 'c-1', ceremonyName: 'C', keyName: 'K', threshold: 2, shares: 2 },
};

/** A record as the tool writes it: one ceremony, left open unless `close`. */
function record(close = false): string {
  const path = join(mkdtempSync(join(tmpdir(), 'kc-record-')), 'record.jsonl');
  createTranscript(path, opening);
  appendTranscript(path, {
    type: ENTRY.masterKeyGenerated,
    actor: 'op',
    data: { kcv: 'ABCDEF', verificationPattern: 'vp', algorithm: 'AES-256' },
  });
  appendTranscript(path, {
    type: ENTRY.shareIssued,
    actor: 'op',
    data: { shareIndex: 1, custodian: 'a', medium: 'file', location: 'a', commitment: 'c1' },
  });
  if (close) {
    appendTranscript(path, {
      type: ENTRY.shareIssued,
      actor: 'op',
      data: { shareIndex: 2, custodian: 'b', medium: 'file', location: 'b', commitment: 'c2' },
    });
    endCeremony(path, 'op', { wiped: 'zeroed', closing: { outcome: 'completed' } });
  }
  return path;
}

const linesOf = (path: string): string[] => readFileSync(path, 'utf8').trimEnd().split('\n');
const entriesOf = (path: string): TranscriptEntry[] => linesOf(path).map((l) => JSON.parse(l) as TranscriptEntry);

/**
 * What an attacker with write access does after editing entries: recomputes
 * seq, prev and hash from the first entry on, and writes canonical lines.
 */
function rechain(entries: Array<Record<string, unknown>>): string {
  let prev = '0'.repeat(64);
  return entries
    .map((e, i) => {
      const { hash: _old, ...rest } = e;
      const body = { ...rest, seq: i + 1, prev };
      const hash = sha256Hex(canonicalJson(body));
      prev = hash;
      return canonicalJson({ ...body, hash }) + '\n';
    })
    .join('');
}

/** Expects the text refused as TranscriptInvalid (never a plain Error) with a message matching `pattern`. */
function expectRefused(text: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    parseTranscript(text);
  } catch (e) {
    caught = e;
  }
  expect(caught, 'the record was accepted').toBeInstanceOf(CeremonyError);
  expect((caught as CeremonyError).code).toBe('TranscriptInvalid');
  expect((caught as CeremonyError).message).toMatch(pattern);
}

describe('hash-chained transcript', () => {
  it('chains every entry to the one before, each line in canonical JSON', () => {
    const path = record();
    const entries = readTranscript(path);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(entries[1]!.prev).toBe(entries[0]!.hash);
    expect(entries[2]!.prev).toBe(entries[1]!.hash);
    for (const line of linesOf(path)) expect(line).toBe(canonicalJson(JSON.parse(line)));
  });

  it('refuses to create over an existing record', () => {
    const path = record();
    expect(() => createTranscript(path, opening)).toThrow(/already exists/);
  });

  it('names the line of an edited entry', () => {
    const text = readFileSync(record(), 'utf8').replace('"kcv":"ABCDEF"', '"kcv":"000000"');
    expect(() => parseTranscript(text)).toThrow(/altered at line 2/);
  });

  it('detects a removed entry and reordered entries', () => {
    const lines = linesOf(record());
    expect(() => parseTranscript([lines[0], lines[2]].join('\n') + '\n')).toThrow(/broken at line 2/);
    expect(() => parseTranscript([lines[0], lines[2], lines[1]].join('\n') + '\n')).toThrow(/broken at line 2/);
  });

  it('detects a truncated last line', () => {
    const text = readFileSync(record(), 'utf8');
    expect(() => parseTranscript(text.slice(0, -10))).toThrow(/truncated/);
  });

  it('does not append to a broken record', () => {
    const path = record();
    writeFileSync(path, readFileSync(path, 'utf8').replace('"commitment":"c1"', '"commitment":"c9"'));
    expect(() => appendTranscript(path, { type: ENTRY.shareWritten, actor: 'op', data: {} })).toThrow(
      /altered at line 3/,
    );
  });
});

describe('every line is the canonical form the tool writes', () => {
  const form = /not in the form this tool writes at line (\d)/;

  it('refuses CRLF line endings', () => {
    expectRefused(
      readFileSync(record(), 'utf8').replace(/\n/g, '\r\n'),
      /not in the form this tool writes at line 1 \(extra spaces, line endings, key order or duplicate keys\): it was edited/,
    );
  });

  it('refuses extra whitespace', () => {
    const lines = linesOf(record());
    lines[1] = lines[1]!.replace('":', '": ');
    expectRefused(lines.join('\n') + '\n', /not in the form this tool writes at line 2 \(extra spaces/);
    expectRefused(
      linesOf(record())
        .map((l) => ` ${l}`)
        .join('\n') + '\n',
      form,
    );
  });

  it('refuses reordered keys (the same entry, as JSON.stringify writes it)', () => {
    const lines = linesOf(record());
    const e = JSON.parse(lines[1]!) as TranscriptEntry;
    lines[1] = JSON.stringify({
      format: e.format,
      seq: e.seq,
      time: e.time,
      type: e.type,
      actor: e.actor,
      data: e.data,
      prev: e.prev,
      hash: e.hash,
    });
    expectRefused(
      lines.join('\n') + '\n',
      /not in the form this tool writes at line 2 \(extra spaces, line endings, key order/,
    );
  });

  it('refuses duplicate keys, whichever one a reader would keep', () => {
    const lines = linesOf(record());
    lines[2] = lines[2]!.replace('{"actor":"op",', '{"actor":"mallory","actor":"op",');
    expectRefused(lines.join('\n') + '\n', /not in the form this tool writes at line 3 .*duplicate keys/);
  });

  it('refuses a number that is not a whole number, and an integer above 2^53, as TranscriptInvalid', () => {
    const text = readFileSync(record(), 'utf8');
    expectRefused(
      text.replace('"threshold":2', '"threshold":2.5'),
      /not in the form this tool writes at line 1 \(a number that is not a whole number, or too large\)/,
    );
    expectRefused(
      text.replace('"threshold":2', '"threshold":9007199254740993'),
      /at line 1 \(a number that is not a whole number, or too large\)/,
    );
    expectRefused(text.replace('"threshold":2', '"threshold":2.0'), /at line 1 \(extra spaces/);
  });

  it('refuses "data": null even with a recomputed chain', () => {
    const entries = entriesOf(record()) as unknown as Array<Record<string, unknown>>;
    entries[1]!['data'] = null;
    expectRefused(rechain(entries), /at line 2: its data must be an object/);
    entries[1]!['data'] = ['kcv', 'ABCDEF'];
    expectRefused(rechain(entries), /at line 2: its data must be an object/);
  });

  it('refuses an entry type the tool never writes, even with a recomputed chain', () => {
    const entries = entriesOf(record()) as unknown as Array<Record<string, unknown>>;
    entries[2]!['type'] = 'ceremony-aborted';
    expectRefused(rechain(entries), /at line 3: "ceremony-aborted" is not a kind of entry this tool writes/);
  });
});

describe('a record is a sequence of ceremonies', () => {
  it('a closed ceremony counts its entries, opening and closing included', () => {
    const path = record(true);
    const entries = readTranscript(path);
    expect(entries.map((e) => e.type)).toEqual([
      ENTRY.opened,
      ENTRY.masterKeyGenerated,
      ENTRY.shareIssued,
      ENTRY.shareIssued,
      ENTRY.masterKeyWiped,
      ENTRY.closed,
    ]);
    expect(entries.at(-1)!.data).toEqual({ outcome: 'completed', entries: 6 });
    expect(ceremoniesOf(entries)).toMatchObject({ complete: true, ceremonies: [{ outcome: { kind: 'completed' } }] });
    expect(summarize(entries).issued.size).toBe(2);
  });

  it('lines cut off the end in the middle of a ceremony leave it incomplete, and its shares refused', () => {
    const lines = linesOf(record(true));
    for (const cut of [1, 2, 3]) {
      const entries = parseTranscript(lines.slice(0, -cut).join('\n') + '\n');
      const status = ceremoniesOf(entries);
      expect(status.complete).toBe(false);
      expect(status.ceremonies.at(-1)!.outcome).toEqual({ kind: 'open' });
      expect(() => summarize(entries)).toThrow(
        /no closing entry: the ceremony was cut off, or lines were cut from the end of the record; its shares cannot be trusted/,
      );
    }
  });

  it('refuses a second opening inside an open ceremony', () => {
    const entries = entriesOf(record()) as unknown as Array<Record<string, unknown>>;
    entries.push({ ...entries[0]!, data: { ...(entries[0]!['data'] as object), ceremonyId: 'c-2' } });
    expectRefused(
      rechain(entries),
      /at line 4 \(ceremony-opened\): a ceremony opens inside the ceremony opened at line 1, which has no closing entry/,
    );
  });

  it('refuses a closing whose entry count is wrong', () => {
    const entries = entriesOf(record(true)) as unknown as Array<Record<string, unknown>>;
    entries[5]!['data'] = { outcome: 'completed', entries: 5 };
    expectRefused(
      rechain(entries),
      /at line 6 \(ceremony-closed\): the closing entry counts 5 entries, but its ceremony has 6/,
    );
    // Dropping the wipe and re-chaining leaves the count one too many.
    const dropped = entriesOf(record(true)) as unknown as Array<Record<string, unknown>>;
    dropped.splice(4, 1);
    expectRefused(rechain(dropped), /the closing entry counts 6 entries, but its ceremony has 5/);
  });

  it('refuses a closing without a known outcome, and an aborted closing without its reason', () => {
    const entries = entriesOf(record(true)) as unknown as Array<Record<string, unknown>>;
    entries[5]!['data'] = { outcome: 'fine', entries: 6 };
    expectRefused(rechain(entries), /the outcome must be completed or aborted/);
    entries[5]!['data'] = { outcome: 'aborted', entries: 6 };
    expectRefused(rechain(entries), /an aborted closing must say why/);
  });

  it('between ceremonies, only unit confirmations and bundle entries may stand', () => {
    const path = record(true);
    appendTranscript(path, {
      type: ENTRY.bundleCreated,
      actor: 'op',
      data: { bundleId: 'b', payloadHash: 'ab', sequence: 1, targets: ['u'] },
    });
    appendTranscript(path, { type: ENTRY.bundleSigned, actor: 'op', data: { bundleId: 'b' } });
    appendTranscript(path, { type: ENTRY.unitConfirmed, actor: 'op', data: { unitId: 'u' } });
    expect(ceremoniesOf(readTranscript(path)).complete).toBe(true);
    expect(summarize(readTranscript(path)).bundles).toEqual([{ sequence: 1, bundleHash: 'ab', targets: ['u'] }]);
    const before = readFileSync(path, 'utf8');
    // The writer refuses to break the structure, before writing anything.
    expect(() => appendTranscript(path, { type: ENTRY.shareIssued, actor: 'op', data: {} })).toThrow(
      /at line 10 \(share-issued\): it stands outside any ceremony/,
    );
    expect(() => endCeremony(path, 'op', { wiped: null, closing: { outcome: 'completed' } })).toThrow(
      /no open ceremony to close/,
    );
    expect(readFileSync(path, 'utf8')).toBe(before);
    // A reader refuses the same, written by someone else.
    const entries = entriesOf(path) as unknown as Array<Record<string, unknown>>;
    expectRefused(
      rechain([...entries, { ...entries[2]! }]),
      /at line 10 \(share-issued\): it stands outside any ceremony/,
    );
    expectRefused(
      rechain([...entries, { ...entries[5]! }]),
      /at line 10 \(ceremony-closed\): it closes no open ceremony/,
    );
    expectRefused(
      rechain(entries.slice(1)),
      /at line 1 \(master-key-generated\): a record starts with the opening of a ceremony/,
    );
  });

  it('a second ceremony may follow a closed one; the key ceremony is the first', () => {
    const path = record(true);
    appendTranscript(path, { ...opening, data: { ...opening.data, ceremonyId: 'c-2' } });
    endCeremony(path, 'op', { wiped: null, closing: { outcome: 'aborted', code: 'Abandoned', reason: 'test' } });
    const status = ceremoniesOf(readTranscript(path));
    expect(status.ceremonies.map((c) => c.outcome)).toEqual([
      { kind: 'completed' },
      { kind: 'aborted', code: 'Abandoned', reason: 'test' },
    ]);
    expect(status.ceremonies[1]!.entries.at(-1)!.data['entries']).toBe(2);
    expect(summarize(readTranscript(path)).ceremonyId).toBe('c-1');
  });

  it('an aborted key ceremony is refused with its reason', () => {
    const path = record();
    endCeremony(path, 'op', {
      wiped: 'zeroed',
      closing: { outcome: 'aborted', code: 'CardRemoved', reason: 'the card was pulled out' },
    });
    expect(() => summarize(readTranscript(path))).toThrow(
      /The key ceremony in this record was aborted \(the card was pulled out\); its shares do not form a usable set/,
    );
  });

  it('a completed closing over a ceremony that lacks a share is refused', () => {
    const path = record();
    endCeremony(path, 'op', { wiped: 'zeroed', closing: { outcome: 'completed' } });
    expect(() => summarize(readTranscript(path))).toThrow(/lists 1 of its 2 shares as issued/);
  });
});

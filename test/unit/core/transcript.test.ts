import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendTranscript, createTranscript, parseTranscript, readTranscript } from '../../../src/core/ceremony/transcript.js';

function record(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'kc-record-')), 'record.jsonl');
  createTranscript(path, { type: 'ceremony-opened', actor: 'op', data: { ceremonyId: 'x' } });
  appendTranscript(path, { type: 'step', actor: 'op', data: { n: 1 } });
  appendTranscript(path, { type: 'step', actor: 'op', data: { n: 2 } });
  return path;
}

describe('hash-chained transcript', () => {
  it('chains every entry to the one before', () => {
    const entries = readTranscript(record());
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(entries[1]!.prev).toBe(entries[0]!.hash);
    expect(entries[2]!.prev).toBe(entries[1]!.hash);
  });

  it('refuses to create over an existing record', () => {
    const path = record();
    expect(() => createTranscript(path, { type: 'x', actor: 'op', data: {} })).toThrow(/already exists/);
  });

  it('names the line of an edited entry', () => {
    const text = readFileSync(record(), 'utf8').replace('"n":1', '"n":9');
    expect(() => parseTranscript(text)).toThrow(/altered at line 2/);
  });

  it('detects a removed entry and reordered entries', () => {
    const lines = readFileSync(record(), 'utf8').trimEnd().split('\n');
    expect(() => parseTranscript([lines[0], lines[2]].join('\n') + '\n')).toThrow(/broken at line 2/);
    expect(() => parseTranscript([lines[0], lines[2], lines[1]].join('\n') + '\n')).toThrow(/broken at line 2/);
  });

  it('detects a truncated last line', () => {
    const text = readFileSync(record(), 'utf8');
    expect(() => parseTranscript(text.slice(0, -10))).toThrow(/truncated/);
  });

  it('does not append to a broken record', () => {
    const path = record();
    writeFileSync(path, readFileSync(path, 'utf8').replace('"n":2', '"n":3'));
    expect(() => appendTranscript(path, { type: 'step', actor: 'op', data: {} })).toThrow(/altered at line 3/);
  });
});

// `keyceremony transcript verify` against the records an attacker with the
// files would make (issue 8, hole 4): lines cut off the end, a whole record
// rewritten with a recomputed chain, CRLF. The chain and the canonical form
// catch edits; the closing entry catches cuts; only the head hash printed on
// the signed report catches a consistent rewrite.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../src/core/encoding.js';
import { expectCleanFailure, kc, ok, passFile, workdir } from '../support/cli.js';

const dir = workdir('kc-transcript-');
let head = '';
let groupedHead = '';

const lines = (name: string): string[] => readFileSync(join(dir, name), 'utf8').trimEnd().split('\n');
const save = (name: string, ls: string[]): void => writeFileSync(join(dir, name), ls.join('\n') + '\n');

/** The attacker's rewrite: edits entries, then recomputes seq, prev and every hash, in canonical form. */
function rechain(ls: string[], edit: (entries: Array<Record<string, unknown>>) => void): string[] {
  const entries = ls.map((l) => JSON.parse(l) as Record<string, unknown>);
  edit(entries);
  let prev = '0'.repeat(64);
  return entries.map((e, i) => {
    const { hash: _old, ...rest } = e;
    const body = { ...rest, seq: i + 1, prev };
    prev = sha256Hex(canonicalJson(body));
    return canonicalJson({ ...body, hash: prev });
  });
}

beforeAll(() => {
  for (const c of ['c1', 'c2', 'c3']) passFile(dir, `${c}.pass`, `custodian ${c} secret`);
  ok(
    kc(
      dir,
      'mk',
      'generate',
      '--key-name',
      'MK-T',
      '--threshold',
      '2',
      '--share',
      'c1.share=c1.pass',
      '--share',
      'c2.share=c2.pass',
      '--share',
      'c3.share=c3.pass',
      '--record',
      'record.jsonl',
    ),
  );
  const out = ok(kc(dir, 'transcript', 'verify', 'record.jsonl'));
  groupedHead = /^Head hash ([0-9A-F ]+)$/m.exec(out)![1]!;
  head = JSON.parse(lines('record.jsonl').at(-1)!).hash as string;
}, 120_000);

describe('keyceremony transcript verify', () => {
  it('prints each entry, the ceremony and its outcome, and says the record is complete', () => {
    const out = ok(kc(dir, 'transcript', 'verify', 'record.jsonl'));
    expect(out).toMatch(/^ {2}1 \S+ ceremony-opened \(operator\)$/m);
    expect(out).toMatch(/^ {2}7 \S+ ceremony-closed \(operator\)$/m);
    expect(out).toMatch(/^Ceremony 1 \(lines 1-7, key "MK-T", ceremony [0-9a-f-]{36}\): completed$/m);
    expect(out).toContain(`OK: 7 entries, hash chain intact, complete (every ceremony is closed); head ${head}`);
    expect(groupedHead.replace(/ /g, '').toLowerCase()).toBe(head);
  });

  it('--head takes the head hash as printed on the report: groups, either case', () => {
    expect(ok(kc(dir, 'transcript', 'verify', 'record.jsonl', '--head', groupedHead))).toContain(
      'this is the record the signed report describes',
    );
    expect(ok(kc(dir, 'transcript', 'verify', 'record.jsonl', '--head', head.toUpperCase()))).toContain('complete');
    const bad = kc(dir, 'transcript', 'verify', 'record.jsonl', '--head', 'ABCD');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--head must be the 64 hex digits/);
  });

  it('a record rewritten with a recomputed chain passes the chain, and fails --head of the original', () => {
    // Share 3 "was issued" to someone else: every line canonical, every hash right.
    save(
      'rewritten.jsonl',
      rechain(lines('record.jsonl'), (entries) => {
        (entries[4]!['data'] as Record<string, unknown>)['custodian'] = 'mallory';
      }),
    );
    const forged = ok(kc(dir, 'transcript', 'verify', 'rewritten.jsonl'));
    expect(forged).toContain('OK: 7 entries, hash chain intact, complete');
    const r = kc(dir, 'transcript', 'verify', 'rewritten.jsonl', '--head', groupedHead);
    expect(r.code).toBe(1);
    const forgedHead = JSON.parse(lines('rewritten.jsonl').at(-1)!).hash as string;
    expectCleanFailure(r, /this record is not the one the signed report describes \(it was cut or rewritten\)/);
    expect(r.stderr).toContain(groupedHead);
    expect(r.stderr.replace(/ /g, '').toLowerCase()).toContain(forgedHead);
  });

  it('lines cut off the end leave the record INCOMPLETE, and its shares refused', () => {
    save('cut.jsonl', lines('record.jsonl').slice(0, -2));
    const r = kc(dir, 'transcript', 'verify', 'cut.jsonl');
    expectCleanFailure(r, /INCOMPLETE: the last ceremony has no closing entry/);
    expect(r.stdout).toMatch(/^Ceremony 1 \(lines 1-5, key "MK-T", .*\): no closing entry$/m);
    expectCleanFailure(
      kc(dir, 'transcript', 'verify', 'cut.jsonl', '--head', groupedHead),
      /not the one the signed report describes/,
    );
    expectCleanFailure(
      kc(dir, 'share', 'verify', '--record', 'cut.jsonl', '--share', 'c1.share=c1.pass'),
      /the ceremony was cut off, or lines were cut from the end of the record; its shares cannot be trusted/,
    );
  });

  it('refuses a record with CRLF line endings, naming the line', () => {
    writeFileSync(join(dir, 'crlf.jsonl'), readFileSync(join(dir, 'record.jsonl'), 'utf8').replace(/\n/g, '\r\n'));
    expectCleanFailure(
      kc(dir, 'transcript', 'verify', 'crlf.jsonl'),
      /is not in the form this tool writes at line 1 \(extra spaces, line endings, key order or duplicate keys\): it was edited/,
    );
  });
});

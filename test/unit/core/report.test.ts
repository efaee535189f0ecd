import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hexGroups } from '../../../src/core/ceremony/fingerprint.js';
import { FileShareDestination, type ShareDestination } from '../../../src/core/ceremony/media.js';
import { generateMasterKeyCeremony, type GenerateResult } from '../../../src/core/ceremony/operations.js';
import { ENTRY } from '../../../src/core/ceremony/record.js';
import { escapeHtml, renderRecordHtml } from '../../../src/core/ceremony/report.js';
import {
  appendTranscript,
  headHash,
  readTranscript,
  type TranscriptEntry,
} from '../../../src/core/ceremony/transcript.js';
import { CeremonyError } from '../../../src/core/errors.js';
import type { KeyshareHeader } from '../../../src/core/shares/envelope.js';

const FAST = { logN: 15, r: 8, p: 1 }; // the lowest cost a reader accepts; keeps tests quick
const EVIL = '<script>alert(1)</script>';
const GENERATED = new Date('2025-03-04T05:06:07.000Z');

const roster = {
  operator: 'Olga Operator',
  admins: ['Alice Admin', 'Bob "Boss" Admin'],
  custodians: ['Carol', 'Dan & Sons', EVIL],
  witnesses: ['Wendy Witness'],
};

function file(dir: string, name: string, pass: string): FileShareDestination {
  return new FileShareDestination(join(dir, `${name}.share`), async () => Buffer.from(pass, 'ascii'), FAST);
}

/** A medium that is pulled out while the share is being written. */
class PulledOut implements ShareDestination {
  readonly medium = 'file' as const;
  readonly location = 'usb-stick';
  readonly label = 'the USB stick <b>3</b>';
  async precheck(): Promise<void> {}
  async write(_h: KeyshareHeader, _s: Uint8Array): Promise<void> {
    throw new CeremonyError('InvalidArgument', `${this.label} was pulled out`);
  }
  async readBack(): Promise<Buffer> {
    throw new Error('unreachable');
  }
  dispose(): void {}
}

/** Counts the elements of the document that a browser would run or fetch. */
function activeContent(html: string): string[] {
  return [
    ...html.matchAll(/<(script|iframe|object|embed|link|img|base)\b|\bsrc=|\bhref=|url\(|@import|\son[a-z]+=/gi),
  ].map((m) => m[0]);
}

describe('printable ceremony record', () => {
  let dir: string;
  let entries: TranscriptEntry[];
  let result: GenerateResult;
  let html: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kc-report-'));
    const recordPath = join(dir, 'record.jsonl');
    result = await generateMasterKeyCeremony({
      ceremonyName: 'Root <KEK> & co',
      keyName: 'MK-2025',
      threshold: 2,
      recordPath,
      custodians: [
        { custodian: 'Carol', destination: file(dir, 'carol', 'carol passphrase') },
        { custodian: 'Dan & Sons', destination: file(dir, 'dan', 'dan passphrase!!') },
        { custodian: EVIL, destination: file(dir, 'evil', 'evil passphrase!') },
      ],
    });
    // A bundle as createImportBundle records it, and a signature as the desktop app records it.
    appendTranscript(recordPath, {
      type: ENTRY.bundleCreated,
      actor: 'operator',
      data: {
        bundleId: 'b-0001',
        payloadHash: 'ab'.repeat(32),
        sequence: 1,
        targets: ['unit-A', 'unit-B'],
        transportFingerprints: ['01'.repeat(32), 'fe'.repeat(32)],
        sharesUsed: ['1', '3'],
        claim: null,
        kcv: result.kcv,
      },
    });
    appendTranscript(recordPath, {
      type: ENTRY.bundleSigned,
      actor: 'Alice Admin',
      data: { bundleId: 'b-0001', admin: 'Alice Admin' },
    });
    entries = readTranscript(recordPath);
    html = renderRecordHtml(entries, roster, GENERATED);
  });

  it('is a complete HTML5 document with its title', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain('<title>Key ceremony record — Root &lt;KEK&gt; &amp; co</title>');
    expect(html).toContain('<h1>Key ceremony record — Root &lt;KEK&gt; &amp; co</h1>');
    expect(html).toContain(GENERATED.toISOString());
    expect(html).toMatch(/@page \{ size: A4 portrait;/);
    expect(html).toMatch(/\.signature \{[^}]*page-break-inside: avoid/);
  });

  it('loads nothing and runs nothing', () => {
    expect(html).not.toMatch(/<script/i);
    expect(activeContent(html)).toEqual([]);
  });

  it('shows the summary: ids, K of N, KCV, verification pattern, head hash and outcome', () => {
    expect(html).toContain(result.ceremonyId);
    expect(html).toContain('MK-2025');
    expect(html).toContain('2 of 3');
    expect(html).toContain(result.kcv);
    expect(html).toContain(escapeHtml(result.verificationPattern));
    const head = headHash(entries);
    expect(html).toContain(head); // in the signature statement and the footer
    expect(html).toContain(hexGroups(Buffer.from(head, 'hex')).join(' ')); // in the summary, to compare by eye
    expect(html).toContain(`<td>${entries.length}</td>`);
    expect(html).toContain('Completed.');
    expect(html).toContain(entries[0]!.time);
    expect(html).toContain(entries[entries.length - 1]!.time);
  });

  it('lists every share with its commitment and read-back', () => {
    for (const s of result.shares) expect(html).toContain(s.commitment);
    for (const loc of ['carol.share', 'dan.share', 'evil.share']) expect(html).toContain(loc);
    expect(html.match(/<td>Yes<\/td>/g)).toHaveLength(3);
  });

  it('lists bundles, their signatures, and the units with their transport fingerprints', () => {
    expect(html).toContain('b-0001');
    expect(html).toContain('ab'.repeat(32));
    expect(html).toContain('unit-A, unit-B');
    expect(html).toContain('<td>Alice Admin</td>');
    expect(html).toContain(hexGroups(Buffer.from('01'.repeat(32), 'hex')).join(' '));
    expect(html).toContain(hexGroups(Buffer.from('fe'.repeat(32), 'hex')).join(' '));
  });

  it('carries the whole transcript, data as escaped compact JSON', () => {
    for (const e of entries) {
      expect(html).toContain(e.hash.slice(0, 16));
      expect(html).toContain(escapeHtml(JSON.stringify(e.data)));
    }
    expect(html).toContain(ENTRY.masterKeyWiped);
  });

  it('has a signature line for every participant', () => {
    const people: Array<[string, string]> = [
      ['Operator', roster.operator],
      ...roster.admins.map((n): [string, string] => ['Administrator', n]),
      ...roster.custodians.map((n): [string, string] => ['Custodian', n]),
      ...roster.witnesses.map((n): [string, string] => ['Witness', n]),
    ];
    const blocks = html.split('<div class="signature">').slice(1);
    expect(blocks).toHaveLength(people.length);
    for (const [i, [role, name]] of people.entries()) {
      expect(blocks[i]).toContain(`<span class="role">${role}</span>: <span class="name">${escapeHtml(name)}</span>`);
      expect(blocks[i]).toContain('<span class="sig">Signature</span><span class="date">Date</span>');
    }
  });

  it('escapes every string from the record and the roster', () => {
    expect(html).not.toContain(EVIL);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('Dan &amp; Sons');
    expect(html).toContain('Bob &quot;Boss&quot; Admin');
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });

  it('names the record file as the authoritative copy and how to verify it', () => {
    const footer = html.slice(html.indexOf('<footer>'));
    expect(footer).toContain('authoritative copy');
    expect(footer).toContain('<code>keyceremony transcript verify RECORD.jsonl</code>');
  });

  it('renders an aborted ceremony with its reason', async () => {
    const recordPath = join(dir, 'aborted.jsonl');
    await expect(
      generateMasterKeyCeremony({
        keyName: 'MK-aborted',
        threshold: 2,
        recordPath,
        custodians: [
          { custodian: 'Carol', destination: file(dir, 'carol2', 'carol passphrase') },
          { custodian: 'Dan', destination: file(dir, 'dan2', 'dan passphrase!!') },
          { custodian: 'Eve', destination: new PulledOut() },
        ],
      }),
    ).rejects.toThrow(/was pulled out/);
    const aborted = readTranscript(recordPath);
    expect(aborted.at(-1)).toMatchObject({ type: ENTRY.closed, data: { outcome: 'aborted' } });
    const out = renderRecordHtml(
      aborted,
      { operator: 'Olga', admins: [], custodians: ['Carol', 'Dan'], witnesses: [] },
      GENERATED,
    );
    expect(out).toContain('Key ceremony record — MK-aborted');
    expect(out).toContain('Aborted at ');
    expect(out).toContain('the USB stick &lt;b&gt;3&lt;/b&gt; was pulled out');
    expect(out).toContain('[InvalidArgument]');
    expect(out).not.toContain('Completed.');
    expect(out).toContain(headHash(aborted));
    // Eve is in the record though not in the roster: she signs too.
    expect(out).toContain('<span class="role">Custodian</span>: <span class="name">Eve</span>');
    expect(out).not.toMatch(/<script/i);
  });

  it('renders a record cut off before its closing as incomplete, not completed', () => {
    const cut = entries.slice(0, -3); // the bundle entries, and the ceremony's closing
    expect(cut.at(-1)!.type).toBe(ENTRY.masterKeyWiped);
    const out = renderRecordHtml(cut, roster, GENERATED);
    expect(out).toContain('Incomplete: the ceremony has no closing entry');
    expect(out).not.toContain('Completed.');
  });
});

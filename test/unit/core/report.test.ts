import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hexGroups } from '../../../src/core/ceremony/fingerprint.js';
import { FileShareDestination, type ShareDestination } from '../../../src/core/ceremony/media.js';
import { generateMasterKeyCeremony, type GenerateResult } from '../../../src/core/ceremony/operations.js';
import { ENTRY } from '../../../src/core/ceremony/record.js';
import {
  escapeHtml,
  recordReportDocument,
  renderRecordHtml,
  rosterOfRecord,
} from '../../../src/core/ceremony/report.js';
import { reshareMasterKey } from '../../../src/core/ceremony/reshare.js';
import {
  appendTranscript,
  createTranscript,
  endCeremony,
  headHash,
  readTranscript,
  type TranscriptEntry,
} from '../../../src/core/ceremony/transcript.js';
import { CeremonyError } from '../../../src/core/errors.js';
import { documentHtml } from '../../../src/core/document/html.js';
import type { PrintedDocument } from '../../../src/core/document/model.js';
import { documentPdf } from '../../../src/core/document/pdf.js';
import type { KeyshareHeader } from '../../../src/core/shares/envelope.js';
import { MemoryMedium } from '../../support/memory-medium.js';

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

/** The text of one page of a PDF, read back by poppler's pdftotext. */
function pdfPages(bytes: Uint8Array, pages: number): string[] {
  const path = join(mkdtempSync(join(tmpdir(), 'kc-report-pdf-')), 'report.pdf');
  writeFileSync(path, bytes);
  return Array.from({ length: pages }, (_, i) => {
    const r = spawnSync('pdftotext', ['-raw', '-f', String(i + 1), '-l', String(i + 1), path, '-'], {
      encoding: 'utf8',
    });
    if (r.error) throw new Error(`pdftotext is needed (Debian poppler-utils): ${r.error.message}`);
    expect(r.stderr).toBe('');
    return r.stdout.replace(/\s+/g, ' ');
  });
}

describe("a key's whole life in one report (issue 11)", () => {
  let entries: TranscriptEntry[];
  let doc: PrintedDocument;
  let html: string;
  const old = ['alice', 'bob', 'carol'].map((n) => new MemoryMedium(n));
  const fresh = ['alice', 'dave', 'erin', 'frank'].map((n) => new MemoryMedium(`${n}-2`));

  beforeAll(async () => {
    const recordPath = join(mkdtempSync(join(tmpdir(), 'kc-report-life-')), 'life.jsonl');
    await generateMasterKeyCeremony({
      ceremonyName: 'Key generation',
      keyName: 'MK-LIFE',
      threshold: 2,
      custodians: old.map((m) => ({ custodian: m.label, destination: m })),
      recordPath,
      actor: 'Olga',
    });
    // A re-share that fails on its third new share: its two shares are void, nothing is retired.
    await expect(
      reshareMasterKey({
        recordPath,
        sources: [old[0]!, old[1]!],
        threshold: 2,
        custodians: ['x', 'y', 'z'].map((n, i) => ({
          custodian: `void-${n}`,
          destination: new MemoryMedium(`void-${n}`, i === 2),
        })),
        ceremonyName: 'Failed re-share',
        actor: 'Rita',
      }),
    ).rejects.toThrow(/pulled out/);
    await reshareMasterKey({
      recordPath,
      sources: [old[2]!, old[0]!],
      threshold: 3,
      custodians: fresh.map((m) => ({ custodian: m.label, destination: m })),
      ceremonyName: 'Bob lost his card',
      actor: 'Rita',
    });
    // A share check, opened and closed by the record's writers.
    appendTranscript(recordPath, {
      type: ENTRY.opened,
      actor: 'Sam',
      data: { ceremonyId: 'c-check', ceremonyName: 'Yearly check', keyName: 'MK-LIFE', kind: 'share-check' },
    });
    endCeremony(recordPath, 'Sam', { wiped: null, closing: { outcome: 'completed' } });
    entries = readTranscript(recordPath);
    doc = recordReportDocument(entries, rosterOfRecord(entries), GENERATED);
    html = documentHtml(doc);
  });

  const section = (heading: string): string => {
    const start = html.indexOf(`<h2>${heading}</h2>`);
    expect(start).toBeGreaterThan(0);
    return html.slice(start, html.indexOf('</section>', start));
  };
  const rowsOf = (table: string): string[] => table.split('<tr>').slice(2);

  it('lists every ceremony in order: kind, name, times, actors, outcome', () => {
    const rows = rowsOf(section('Ceremonies in this record'));
    expect(rows).toHaveLength(4);
    const [gen, failed, reshare, check] = rows;
    expect(gen).toContain('<td>Key generation</td>');
    expect(gen).toContain('<td>Olga</td>');
    expect(gen).toContain('<td>Completed</td>');
    expect(failed).toContain('<td>Re-share ceremony</td>');
    expect(failed).toContain('Failed re-share');
    expect(failed).toContain('<td>Rita</td>');
    expect(failed).toMatch(/Aborted \[InvalidArgument\]: [^<]*pulled out/);
    expect(reshare).toContain('Bob lost his card');
    expect(reshare).toContain('<td>Completed</td>');
    expect(check).toContain('<td>Share check</td>');
    expect(check).toContain('Yearly check');
    expect(check).toContain('<td>Sam</td>');
    const openings = entries.filter((e) => e.type === ENTRY.opened);
    for (const [i, o] of openings.entries()) {
      expect(rows[i]).toContain(o.time);
      expect(rows[i]).toContain(String(o.data['ceremonyId']));
    }
  });

  it('says which ceremony issued each share, which re-share retired the old set, and the current set', () => {
    const shares = section('Shares');
    expect(shares).toContain('Current set: 3 of 4.');
    expect(shares).toContain('issued by ceremony 3, &quot;Bob lost his card&quot; (re-share ceremony)');
    const rows = rowsOf(shares);
    expect(rows).toHaveLength(3 + 2 + 4);
    const retiredLine = entries.find((e) => e.type === ENTRY.sharesRetired)!;
    for (const row of rows.slice(0, 3)) {
      expect(row).toContain('<td>1. Key generation</td>');
      expect(row).toContain(
        `Retired by the re-share ceremony, ceremony 3, &quot;Bob lost his card&quot; (line ${retiredLine.seq}, ${retiredLine.time})`,
      );
    }
    for (const row of rows.slice(3, 5)) {
      expect(row).toContain('<td>2. Failed re-share</td>');
      expect(row).toContain('Void: its ceremony was aborted [InvalidArgument]');
    }
    for (const row of rows.slice(5)) {
      expect(row).toContain('<td>3. Bob lost his card</td>');
      expect(row).toContain('<span class="outcome completed">Current</span>');
    }
    expect(html).toContain('3 of 4 (the current set, issued by ceremony 3, &quot;Bob lost his card&quot;)');
    expect(html).toContain('Outcome of the key generation');
  });

  it('says when the record holds no admin thresholds, and is not a rehearsal', () => {
    expect(html).toContain('not in the record: the bundle that claims the units sets them');
    expect(doc.banner).toBeUndefined();
    expect(html).not.toContain('REHEARSAL');
  });

  it('puts the departures from separation of duties just before the signatures, and a line for everyone', () => {
    const departures = html.indexOf('<h2>Departures from separation of duties</h2>');
    expect(departures).toBeGreaterThan(html.indexOf('<h2>Transcript</h2>'));
    expect(html.indexOf('<h2>Signatures</h2>')).toBeGreaterThan(departures);
    expect(section('Departures from separation of duties')).toContain(
      'No ceremony in this record records a reason to depart from separation of duties.',
    );
    // Whoever opened a later ceremony signs as its operator.
    for (const name of ['Olga', 'Rita', 'Sam'])
      expect(html).toContain(`<span class="role">Operator</span>: <span class="name">${name}</span>`);
    expect(html.match(/<span class="role">Operator<\/span>/g)).toHaveLength(3);
    for (const name of ['alice', 'bob', 'carol', 'alice-2', 'dave-2', 'erin-2', 'frank-2', 'void-x', 'void-y'])
      expect(html).toContain(`<span class="role">Custodian</span>: <span class="name">${name}</span>`);
    const head = headHash(entries);
    expect(html).toContain(head);
    expect(html).toContain(hexGroups(Buffer.from(head, 'hex')).join(' '));
  });
});

describe('the report of a rehearsal that departs from separation of duties (issue 11)', () => {
  let entries: TranscriptEntry[];
  let doc: PrintedDocument;
  const reasons = {
    custodianIsAdmin: 'Only three people are cleared for this key; Carol is one of them & "signs" too',
    signatureThresholdOne: 'A rehearsal with one admin <on purpose>',
  };

  beforeAll(() => {
    const recordPath = join(mkdtempSync(join(tmpdir(), 'kc-report-rehearsal-')), 'rehearsal.jsonl');
    // The opening as the app's session writes it (session.ts), in rehearsal mode.
    createTranscript(recordPath, {
      type: ENTRY.opened,
      actor: 'Olga Operator',
      data: {
        ceremonyId: 'c-rehearsal',
        ceremonyName: 'Dry run',
        keyName: 'MK-DRY',
        mode: 'rehearsal',
        threshold: 2,
        shares: 2,
        custodians: ['Carol', 'Dan'],
        custodianMedia: ['file', 'file'],
        admins: ['carol '],
        adminMedia: ['file'],
        signatureThreshold: 1,
        revocationThreshold: 1,
        witnesses: ['Wendy', 'DAN'],
        reasons,
        operator: 'Olga Operator',
      },
    });
    endCeremony(recordPath, 'Olga Operator', {
      wiped: null,
      closing: { outcome: 'aborted', code: 'Cancelled', reason: 'the rehearsal ended early' },
    });
    entries = readTranscript(recordPath);
    doc = recordReportDocument(entries, rosterOfRecord(entries), GENERATED);
  });

  it('says REHEARSAL in its title, its banner, its summary and the ceremony', () => {
    expect(doc.title).toBe('REHEARSAL — Key ceremony record — Dry run');
    expect(doc.banner).toMatch(/^REHEARSAL — not a production ceremony/);
    const html = documentHtml(doc);
    expect(html).toContain('<title>REHEARSAL — Key ceremony record — Dry run</title>');
    expect(html).toContain('<div class="banner" role="note">REHEARSAL — not a production ceremony');
    // On every printed page, in the page's top margin.
    expect(html).toMatch(/@page \{ @top-center \{ content: "REHEARSAL \\2014 {2}not a production ceremony/);
    expect(html).toContain('<span class="outcome aborted">REHEARSAL: no key or share');
    // The record has no master key: its ceremony is named by its kind.
    expect(html).toContain('<td>Initial key ceremony <span class="outcome aborted">REHEARSAL</span></td>');
  });

  it('prints REHEARSAL at the top of every PDF page', () => {
    const pdf = documentPdf(doc, GENERATED);
    expect(pdf.pages).toBeGreaterThan(1);
    const pages = pdfPages(pdf.bytes, pdf.pages);
    for (const [i, text] of pages.entries()) {
      expect(text.trimStart().startsWith('REHEARSAL — not a production ceremony')).toBe(true);
      expect(text).toContain(`Page ${i + 1} of ${pdf.pages}`);
    }
  });

  it('shows both thresholds, and the reasons word for word before the signature lines', () => {
    const html = documentHtml(doc);
    expect(html).toContain('1: admin signatures any bundle needs (set up for ceremony 1, &quot;Dry run&quot;)');
    expect(html).toContain('1: admin signatures needed to remove an admin or lower a threshold');
    const departures = html.slice(html.indexOf('<h2>Departures from separation of duties</h2>'));
    const signatures = departures.indexOf('<h2>Signatures</h2>');
    expect(signatures).toBeGreaterThan(0);
    const before = departures.slice(0, signatures);
    expect(before).toContain(`<td>${escapeHtml(reasons.custodianIsAdmin)}</td>`);
    expect(before).toContain(`<td>${escapeHtml(reasons.signatureThresholdOne)}</td>`);
    expect(before).toContain('<td>A custodian is also an admin</td>');
    expect(before).toContain('<td>One admin signature suffices (signature threshold 1)</td>');
    // Names compare trimmed and without case, as roster.ts compares them.
    expect(before).toContain('Both a custodian and an admin: &quot;Carol&quot;.');
    expect(before).toMatch(/<td>Wendy<\/td><td>Independent: holds no share and no admin identity<\/td>/);
    expect(before).toMatch(
      /<td>DAN<\/td><td><span class="outcome aborted">Not independent: also a custodian<\/span><\/td>/,
    );
    const text = pdfPages(documentPdf(doc, GENERATED).bytes, documentPdf(doc, GENERATED).pages).join(' ');
    expect(text).toContain(reasons.custodianIsAdmin);
    expect(text.indexOf(reasons.signatureThresholdOne)).toBeLessThan(text.indexOf('Witness: Wendy'));
  });
});

// The PDF writer (src/core/pdf.ts) and the PDF rendering of the document
// model, checked with an independent reader: poppler's pdfinfo and pdftotext
// (Debian poppler-utils, installed by .ci/setup).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentPdf } from '../../../src/core/document/pdf.js';
import { cell, type PrintedDocument } from '../../../src/core/document/model.js';
import { PdfWriter, textWidth, toWinAnsi, unmappable } from '../../../src/core/pdf.js';

const dir = mkdtempSync(join(tmpdir(), 'kc-pdf-'));
let n = 0;

function poppler(tool: 'pdfinfo' | 'pdftotext', bytes: Uint8Array, ...args: string[]): string {
  const path = join(dir, `doc-${++n}.pdf`);
  writeFileSync(path, bytes);
  const r = spawnSync(tool, [...args, path, ...(tool === 'pdftotext' ? ['-'] : [])], { encoding: 'utf8' });
  if (r.error) throw new Error(`${tool} is needed (Debian poppler-utils): ${r.error.message}`);
  // poppler reports every repair it had to make ("Syntax Error", "xref") on stderr: a valid file has none.
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('PDF writer', () => {
  it('writes a PDF 1.4 file whose cross-reference offsets point at its objects', () => {
    const w = new PdfWriter({ title: 'Test — ü', created: new Date('2025-03-04T05:06:07Z') });
    w.addPage().text(40, 800, 'Hello (world) \\ back', 'Helvetica', 12);
    w.addPage().rect(40, 40, 100, 50, { stroke: 0, fill: 0.9 });
    const pdf = latin1(w.toBytes());
    expect(pdf.startsWith('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n')).toBe(true);
    expect(pdf.endsWith('%%EOF\n')).toBe(true);
    const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(pdf)![1]);
    expect(pdf.slice(startxref, startxref + 5)).toBe('xref\n');
    const table = /xref\n0 (\d+)\n((?:\d{10} \d{5} [fn] \n)+)trailer/.exec(pdf.slice(startxref))!;
    const entries = table[2]!.match(/.{20}/gs)!;
    expect(entries).toHaveLength(Number(table[1]));
    expect(entries[0]).toBe('0000000000 65535 f \n');
    for (const [i, e] of entries.entries()) {
      if (i === 0) continue;
      const offset = Number(e.slice(0, 10));
      expect(pdf.slice(offset, offset + `${i} 0 obj`.length)).toBe(`${i} 0 obj`);
    }
    // Each content stream's /Length is its byte count.
    for (const m of pdf.matchAll(/<< \/Length (\d+) >>\nstream\n/g)) {
      const start = m.index + m[0].length;
      expect(pdf.slice(start + Number(m[1]), start + Number(m[1]) + 'endstream'.length)).toBe('endstream');
    }
    expect(pdf).toContain('(Hello \\(world\\) \\\\ back) Tj');
    const info = poppler('pdfinfo', w.toBytes());
    expect(info).toMatch(/^Pages:\s+2$/m);
    expect(info).toMatch(/^PDF version:\s+1\.4$/m);
    expect(info).toMatch(/^Title:\s+Test — ü$/m);
    expect(info).toMatch(/^Page size:\s+595\.28 x 841\.89 pts \(A4\)$/m);
    expect(poppler('pdftotext', w.toBytes())).toContain('Hello (world) \\ back');
  });

  it('is deterministic: the same pages and date give the same bytes', () => {
    const make = () => {
      const w = new PdfWriter({ title: 'T', created: new Date(0) });
      w.addPage().text(10, 10, 'x', 'Courier', 9);
      return latin1(w.toBytes());
    };
    expect(make()).toBe(make());
  });

  it('encodes text in WinAnsi; what it cannot show prints as "?" and is reported', () => {
    expect([...toWinAnsi('A—é€“”\t')]).toEqual([0x41, 0x97, 0xe9, 0x80, 0x93, 0x94, 0x20]);
    expect([...toWinAnsi('Юя☃')]).toEqual([0x3f, 0x3f, 0x3f]);
    expect(unmappable('Zoë — Юрий ☃')).toEqual(['Ю', 'р', 'и', 'й', '☃']);
  });

  it("measures text with the standard fonts' widths (Adobe Core 14 AFM)", () => {
    // Helvetica.afm: A = 667, space = 278; Helvetica-Bold.afm: A = 722; Courier: 600 for every glyph.
    expect(textWidth('A', 'Helvetica', 10)).toBeCloseTo(6.67);
    expect(textWidth('A A', 'Helvetica', 10)).toBeCloseTo(16.12);
    expect(textWidth('A', 'Helvetica-Bold', 10)).toBeCloseTo(7.22);
    expect(textWidth('A', 'Helvetica-Oblique', 10)).toBeCloseTo(6.67);
    expect(textWidth('iW—', 'Courier', 10)).toBeCloseTo(18);
  });
});

describe('document model as PDF', () => {
  const names = Array.from({ length: 120 }, (_, i) => `Custodian number ${i + 1}`);
  const doc: PrintedDocument = {
    title: 'Long document',
    header: [{ kind: 'paragraph', content: [{ text: 'Printed for a test.', style: 'plain' }], look: 'generated' }],
    sections: [
      {
        heading: 'A table over several pages',
        blocks: [
          {
            kind: 'table',
            name: 't',
            columns: [
              { title: 'Name', weight: 30 },
              { title: 'Value', weight: 70 },
            ],
            rows: names.map((nm, i) => [cell(nm), cell('ab'.repeat(40 + i), 'mono')]),
          },
        ],
      },
      { heading: 'Steps', blocks: [{ kind: 'checklist', steps: [{ title: 'Open the bag', actor: 'Witness' }] }] },
      { heading: 'Signatures', blocks: [{ kind: 'signatures', people: [{ role: 'Witness', name: 'Wendy Witness' }] }] },
    ],
    footer: [{ kind: 'paragraph', content: [{ text: 'The end.', style: 'plain' }], look: 'plain' }],
  };

  it('breaks pages, repeats the table header, numbers the pages, and loses no text', () => {
    const r = documentPdf(doc, new Date('2025-01-01T00:00:00Z'));
    expect(r.pages).toBeGreaterThan(3);
    expect(poppler('pdfinfo', r.bytes)).toMatch(new RegExp(`^Pages:\\s+${r.pages}$`, 'm'));
    const text = poppler('pdftotext', r.bytes, '-raw');
    for (const nm of names) expect(text).toMatch(new RegExp(`^${nm} ab`, 'm'));
    // The long mono values are cut where they must be, not lost.
    expect(text.replace(/\s+/g, '')).toContain('ab'.repeat(159));
    // pdftotext starts each page with a form feed; the table runs to the last page.
    expect(text.match(/^\f?Name Value$/gm)?.length).toBe(r.pages);
    for (let p = 1; p <= r.pages; p++) expect(text).toContain(`Page ${p} of ${r.pages}`);
    expect(text).toContain('Open the bag');
    expect(text).toContain('Witness: Wendy Witness');
    expect(text).toContain('The end.');
    expect(r.unmappable).toEqual([]);
  });
});

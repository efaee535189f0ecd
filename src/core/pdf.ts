import { createHash } from 'node:crypto';

// A small PDF 1.4 writer for text documents (issue 11): the CLI prints the
// ceremony script and report without a browser. It knows exactly what those
// documents need and no more: the standard Type 1 fonts every PDF reader
// carries (ISO 32000-1 §9.6.2.2, "Standard Type 1 Fonts"), so nothing is
// embedded; text in WinAnsiEncoding (ISO 32000-1 Annex D.2); lines and
// rectangles; one uncompressed content stream per page; and a
// cross-reference table whose offsets are the byte offsets of the objects
// (§7.5.4). Layout (wrapping, page breaks) is the caller's: textWidth()
// gives the advance widths it needs.
//
// Characters outside WinAnsi (Cyrillic, CJK, most symbols) have no glyph in
// these fonts: they print as "?", and unmappable() says which they were so
// that a caller can warn. The HTML rendering shows them all.

/** A4 portrait, in PDF points (1/72 inch): 210 x 297 mm. */
export const A4 = { width: 595.28, height: 841.89 } as const;

/** The fonts this writer uses: four of the fourteen standard fonts. */
export const PDF_FONTS = ['Helvetica', 'Helvetica-Bold', 'Helvetica-Oblique', 'Courier'] as const;
export type PdfFont = (typeof PDF_FONTS)[number];

// Advance widths in 1/1000 em of the WinAnsi codes 32..255, from Adobe's
// Core 14 AFM files (Helvetica.afm, Helvetica-Bold.afm), as FPDF's core
// font files list them per cp1252 code. Helvetica-Oblique has Helvetica's
// widths; Courier is 600 for every glyph. Codes WinAnsi leaves undefined
// (0x81, 0x8D, 0x8F, 0x90, 0x9D) and 0x7F show as a bullet (350).
const HELVETICA_WIDTHS: readonly number[] = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
  722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556,
  556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334,
  260, 334, 584, 350, 556, 350, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350, 350, 222, 222,
  333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 350, 500, 667, 278, 333, 556, 556, 556, 556, 260, 556, 333, 737,
  370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611, 667,
  667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584,
  778, 722, 722, 722, 722, 667, 667, 611, 556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278,
  278, 556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];

const HELVETICA_BOLD_WIDTHS: readonly number[] = [
  278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833,
  722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611,
  556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389,
  280, 389, 584, 350, 556, 350, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350, 350, 278, 278,
  500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 350, 500, 667, 278, 333, 556, 556, 556, 556, 280, 556, 333, 737,
  370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611, 722,
  722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584,
  778, 722, 722, 722, 722, 667, 667, 611, 556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278,
  278, 611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
];

const COURIER_WIDTH = 600;

/** WinAnsiEncoding's codes 0x80..0x9F, by Unicode code point (ISO 32000-1 Annex D.2). */
const WIN_ANSI_HIGH: ReadonlyMap<number, number> = new Map([
  [0x20ac, 0x80],
  [0x201a, 0x82],
  [0x0192, 0x83],
  [0x201e, 0x84],
  [0x2026, 0x85],
  [0x2020, 0x86],
  [0x2021, 0x87],
  [0x02c6, 0x88],
  [0x2030, 0x89],
  [0x0160, 0x8a],
  [0x2039, 0x8b],
  [0x0152, 0x8c],
  [0x017d, 0x8e],
  [0x2018, 0x91],
  [0x2019, 0x92],
  [0x201c, 0x93],
  [0x201d, 0x94],
  [0x2022, 0x95],
  [0x2013, 0x96],
  [0x2014, 0x97],
  [0x02dc, 0x98],
  [0x2122, 0x99],
  [0x0161, 0x9a],
  [0x203a, 0x9b],
  [0x0153, 0x9c],
  [0x017e, 0x9e],
  [0x0178, 0x9f],
]);

const QUESTION_MARK = 0x3f;

/** The WinAnsi code of one character, or undefined when the standard fonts have no glyph for it. */
function winAnsiCode(codePoint: number): number | undefined {
  if (codePoint >= 0x20 && codePoint <= 0x7e) return codePoint;
  if (codePoint >= 0xa0 && codePoint <= 0xff) return codePoint;
  return WIN_ANSI_HIGH.get(codePoint);
}

/** Text as WinAnsi bytes; a character without a glyph becomes "?", a tab or newline a space. */
export function toWinAnsi(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x09 || cp === 0x0a || cp === 0x0d) out.push(0x20);
    else out.push(winAnsiCode(cp) ?? QUESTION_MARK);
  }
  return Uint8Array.from(out);
}

/** The characters of a text that the standard fonts cannot show (they print as "?"). */
export function unmappable(text: string): string[] {
  const missing = new Set<string>();
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp !== 0x09 && cp !== 0x0a && cp !== 0x0d && winAnsiCode(cp) === undefined) missing.add(ch);
  }
  return [...missing];
}

function glyphWidth(font: PdfFont, code: number): number {
  switch (font) {
    case 'Courier':
      return COURIER_WIDTH;
    case 'Helvetica':
    case 'Helvetica-Oblique':
      return HELVETICA_WIDTHS[code - 32] ?? 0;
    case 'Helvetica-Bold':
      return HELVETICA_BOLD_WIDTHS[code - 32] ?? 0;
  }
}

/** The advance width of a text, in points, as the reader will set it. */
export function textWidth(text: string, font: PdfFont, size: number): number {
  let units = 0;
  for (const code of toWinAnsi(text)) units += glyphWidth(font, code);
  return (units * size) / 1000;
}

/** A number as PDF writes it: at most two decimals, no exponent, no trailing zeros. */
function num(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`pdf: not a finite number: ${n}`);
  const s = n.toFixed(2).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}

/** A PDF literal string (§7.3.4.2) of WinAnsi bytes: (, ) and \ escaped, bytes outside printable ASCII in octal. */
function literal(bytes: Uint8Array): string {
  let s = '(';
  for (const b of bytes) {
    if (b === 0x28 || b === 0x29 || b === 0x5c) s += `\\${String.fromCharCode(b)}`;
    else if (b < 0x20 || b > 0x7e) s += `\\${b.toString(8).padStart(3, '0')}`;
    else s += String.fromCharCode(b);
  }
  return `${s})`;
}

/** A text string for the document information dictionary: UTF-16BE with its byte order mark (§7.9.2.2). */
function textString(text: string): string {
  let hex = 'FEFF';
  for (let i = 0; i < text.length; i++) hex += text.charCodeAt(i).toString(16).padStart(4, '0').toUpperCase();
  return `<${hex}>`;
}

/** A date as PDF writes it (§7.9.4), in UTC. */
function pdfDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `(D:${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z)`;
}

const FONT_RESOURCE: { readonly [F in PdfFont]: string } = {
  Helvetica: 'F1',
  'Helvetica-Bold': 'F2',
  'Helvetica-Oblique': 'F3',
  Courier: 'F4',
};

/** One page's drawing operations, in points from the bottom-left corner. */
export class PdfPage {
  private readonly ops: string[] = [];

  /** Text on one line, its baseline at y; gray 0 is black. */
  text(x: number, y: number, text: string, font: PdfFont, size: number, gray = 0): void {
    if (text === '') return;
    this.ops.push(
      `BT ${num(gray)} g /${FONT_RESOURCE[font]} ${num(size)} Tf ${num(x)} ${num(y)} Td ${literal(toWinAnsi(text))} Tj ET`,
    );
  }

  line(x1: number, y1: number, x2: number, y2: number, width = 0.5, gray = 0): void {
    this.ops.push(`${num(gray)} G ${num(width)} w ${num(x1)} ${num(y1)} m ${num(x2)} ${num(y2)} l S`);
  }

  /** A rectangle from its bottom-left corner: stroked, filled with a gray, or both. */
  rect(x: number, y: number, w: number, h: number, o: { stroke?: number; fill?: number; width?: number } = {}): void {
    const path = `${num(x)} ${num(y)} ${num(w)} ${num(h)} re`;
    if (o.fill !== undefined) this.ops.push(`${num(o.fill)} g ${path} f`);
    if (o.stroke !== undefined) this.ops.push(`${num(o.stroke)} G ${num(o.width ?? 0.5)} w ${path} S`);
  }

  /** The content stream (ASCII only: every string is escaped). */
  content(): string {
    return this.ops.join('\n') + '\n';
  }
}

export interface PdfInfo {
  title: string;
  /** The creation date written into the file; the same date gives the same bytes. */
  created: Date;
}

/** Collects pages and writes the file. */
export class PdfWriter {
  private readonly pages: PdfPage[] = [];

  constructor(private readonly info: PdfInfo) {}

  addPage(): PdfPage {
    const page = new PdfPage();
    this.pages.push(page);
    return page;
  }

  get pageCount(): number {
    return this.pages.length;
  }

  /** The whole file: header, objects, cross-reference table, trailer (ISO 32000-1 §7.5). */
  toBytes(): Uint8Array {
    if (this.pages.length === 0) throw new Error('pdf: a document has at least one page');
    // Object numbers: 1 catalog, 2 page tree, 3 info, 4..7 fonts, then a page and its content per page.
    const fontBase = 4;
    const pageBase = fontBase + PDF_FONTS.length;
    const pageObj = (i: number) => pageBase + 2 * i;
    const objects: string[] = [];
    objects[1] = '<< /Type /Catalog /Pages 2 0 R >>';
    objects[2] = `<< /Type /Pages /Kids [${this.pages.map((_, i) => `${pageObj(i)} 0 R`).join(' ')}] /Count ${this.pages.length} >>`;
    objects[3] = `<< /Title ${textString(this.info.title)} /Producer ${textString('Key Ceremony')} /CreationDate ${pdfDate(this.info.created)} >>`;
    const fonts = PDF_FONTS.map((f, i) => `/${FONT_RESOURCE[f]} ${fontBase + i} 0 R`).join(' ');
    for (const [i, f] of PDF_FONTS.entries()) {
      objects[fontBase + i] = `<< /Type /Font /Subtype /Type1 /BaseFont /${f} /Encoding /WinAnsiEncoding >>`;
    }
    for (const [i, page] of this.pages.entries()) {
      const content = page.content();
      objects[pageObj(i)] =
        `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${num(A4.width)} ${num(A4.height)}] /Resources << /Font << ${fonts} >> >> /Contents ${pageObj(i) + 1} 0 R >>`;
      objects[pageObj(i) + 1] = `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}endstream`;
    }
    // A comment of four bytes above 127 after the header marks the file as binary (§7.5.2).
    const chunks: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
    let offset = chunks[0]!.length;
    const offsets: number[] = [];
    for (let n = 1; n < objects.length; n++) {
      offsets[n] = offset;
      const chunk = Buffer.from(`${n} 0 obj\n${objects[n]}\nendobj\n`, 'latin1');
      chunks.push(chunk);
      offset += chunk.length;
    }
    // Each cross-reference entry is exactly 20 bytes: 10-digit offset, 5-digit generation, type, and a 2-byte end of line.
    const xref = [`xref\n0 ${objects.length}\n`, '0000000000 65535 f \n'];
    for (let n = 1; n < objects.length; n++) xref.push(`${String(offsets[n]).padStart(10, '0')} 00000 n \n`);
    const body = Buffer.concat(chunks);
    const id = createHash('sha256').update(body).digest('hex').slice(0, 32).toUpperCase();
    xref.push(
      `trailer\n<< /Size ${objects.length} /Root 1 0 R /Info 3 0 R /ID [<${id}> <${id}>] >>\nstartxref\n${offset}\n%%EOF\n`,
    );
    return new Uint8Array(Buffer.concat([body, Buffer.from(xref.join(''), 'latin1')]));
  }
}

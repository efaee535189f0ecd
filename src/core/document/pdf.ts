import { missingCase } from '../errors.js';
import { A4, PdfWriter, textWidth, unmappable, type PdfFont, type PdfPage } from '../pdf.js';
import { inlineText, type Block, type Cell, type CellLook, type Inline, type PrintedDocument } from './model.js';

// A printed document laid out on A4 pages with the small PDF writer
// (src/core/pdf.ts): the CLI's rendering of what the app prints from HTML.
// Same text, simpler look: Helvetica and Courier, tables with borders,
// boxes to initial and lines to sign. Rows break across pages; a table's
// header repeats on the next page; a signature block is never split.

const MARGIN = { left: 40, right: 40, top: 46, bottom: 54 } as const;
const CONTENT_WIDTH = A4.width - MARGIN.left - MARGIN.right;
const TOP = A4.height - MARGIN.top;
const BODY = { font: 'Helvetica', size: 9.5 } as const;
const TABLE_SIZE = 8;
const DATA_SIZE = 7;
const PAD = 3;
const LEADING = 1.25;
const HEADER_FILL = 0.92;

interface Run {
  text: string;
  font: PdfFont;
  size: number;
  gray: number;
}
interface Line {
  runs: Array<Run & { x: number }>;
  height: number;
  width: number;
}
interface Base {
  font: PdfFont;
  size: number;
  gray: number;
}

/** The font of a span, from the base font of where it stands. */
function runStyle(span: Exclude<Inline[number], { lineBreak: true }>, base: Base): Base {
  switch (span.style) {
    case 'plain':
    case 'name':
      return base;
    case 'mono':
    case 'code':
      return { font: 'Courier', size: base.size * 0.9, gray: base.gray };
    case 'words':
      return { ...base, font: 'Helvetica-Oblique' };
    case 'none':
      return { ...base, font: 'Helvetica-Oblique', gray: 0.33 };
    case 'verdict':
    case 'alarm':
    case 'role':
      return { ...base, font: 'Helvetica-Bold' };
    default:
      return missingCase(span.style);
  }
}

function cellBase(look: CellLook, size: number): Base {
  switch (look) {
    case 'plain':
      return { font: 'Helvetica', size, gray: 0 };
    case 'mono':
      return { font: 'Courier', size, gray: 0 };
    case 'data':
      return { font: 'Courier', size: DATA_SIZE, gray: 0 };
    case 'none':
      return { font: 'Helvetica-Oblique', size, gray: 0.33 };
    default:
      return missingCase(look);
  }
}

/** Breaks styled text into lines no wider than `width`; a word longer than a line is cut where it must be. */
function layout(content: Inline, width: number, base: Base): Line[] {
  const lines: Line[] = [];
  let line: Line = { runs: [], height: base.size * LEADING, width: 0 };
  const newLine = (): void => {
    lines.push(line);
    line = { runs: [], height: base.size * LEADING, width: 0 };
  };
  const put = (text: string, style: Base): void => {
    const w = textWidth(text, style.font, style.size);
    const last = line.runs.at(-1);
    if (last && last.font === style.font && last.size === style.size && last.gray === style.gray) last.text += text;
    else line.runs.push({ text, ...style, x: line.width });
    line.width += w;
    line.height = Math.max(line.height, style.size * LEADING);
  };
  for (const span of content) {
    if ('lineBreak' in span) {
      newLine();
      continue;
    }
    // Code and mono are the same style in a fixed-width font; a cell's look may already be fixed-width.
    const style = base.font === 'Courier' && span.style === 'plain' ? base : runStyle(span, base);
    for (const piece of span.text.split(/(\s+)/)) {
      if (piece === '') continue;
      if (/^\s+$/.test(piece)) {
        if (line.runs.length > 0) put(' ', style);
        continue;
      }
      let word = piece;
      while (word !== '') {
        const w = textWidth(word, style.font, style.size);
        if (line.width + w <= width) {
          put(word, style);
          break;
        }
        if (line.runs.length > 0 && w <= width) {
          trimTrailingSpace(line);
          newLine();
          continue;
        }
        // Longer than a whole line: as many characters as fit.
        const chars = [...word];
        let n = 0;
        while (
          n < chars.length &&
          line.width + textWidth(chars.slice(0, n + 1).join(''), style.font, style.size) <= width
        )
          n++;
        if (n === 0) {
          if (line.runs.length > 0) {
            trimTrailingSpace(line);
            newLine();
            continue;
          }
          n = 1; // one character wider than the column: it overflows rather than loops
        }
        put(chars.slice(0, n).join(''), style);
        word = chars.slice(n).join('');
        if (word !== '') newLine();
      }
    }
  }
  trimTrailingSpace(line);
  lines.push(line);
  return lines;
}

function trimTrailingSpace(line: Line): void {
  const last = line.runs.at(-1);
  if (last?.text.endsWith(' ')) {
    last.text = last.text.slice(0, -1);
    line.width -= textWidth(' ', last.font, last.size);
  }
}

const linesHeight = (lines: readonly Line[]): number => lines.reduce((h, l) => h + l.height, 0);

class Layout {
  readonly writer: PdfWriter;
  readonly pages: PdfPage[] = [];
  page!: PdfPage;
  y = TOP;

  constructor(
    readonly doc: PrintedDocument,
    created: Date,
  ) {
    this.writer = new PdfWriter({ title: doc.title, created });
    this.newPage();
  }

  newPage(): void {
    this.page = this.writer.addPage();
    this.pages.push(this.page);
    this.y = TOP;
    if (this.doc.banner !== undefined) this.banner(this.doc.banner);
  }

  /** The banner across the top margin, white on black: the first thing drawn on the page. */
  private banner(banner: string): void {
    const size = 11;
    const text = fitText(banner, 'Helvetica-Bold', size, CONTENT_WIDTH - 16);
    const height = size + 9;
    const bottom = TOP + (MARGIN.top - height) / 2;
    this.page.rect(MARGIN.left, bottom, CONTENT_WIDTH, height, { fill: 0 });
    const x = MARGIN.left + (CONTENT_WIDTH - textWidth(text, 'Helvetica-Bold', size)) / 2;
    this.page.text(x, bottom + 6, text, 'Helvetica-Bold', size, 1);
  }

  /** Starts a new page unless `height` fits above the bottom margin. */
  ensure(height: number): void {
    if (this.y - height < MARGIN.bottom && this.y < TOP) this.newPage();
  }

  drawLines(lines: readonly Line[], x: number): void {
    for (const l of lines) {
      const baseline = this.y - l.height * 0.78;
      for (const r of l.runs) this.page.text(x + r.x, baseline, r.text, r.font, r.size, r.gray);
      this.y -= l.height;
    }
  }

  paragraphHeight(content: Inline): number {
    return linesHeight(layout(content, CONTENT_WIDTH, { font: BODY.font, size: BODY.size, gray: 0 }));
  }

  /** Text that flows over pages line by line. */
  flow(content: Inline, base: Base, after = 5): void {
    for (const l of layout(content, CONTENT_WIDTH, base)) {
      this.ensure(l.height);
      this.drawLines([l], MARGIN.left);
    }
    this.y -= after;
  }

  /** A heading, kept on one page with the start of what follows (`lead` points of it). */
  heading(text: string, size: number, rule: boolean, lead = 60): void {
    const lines = layout([{ text, style: 'plain' }], CONTENT_WIDTH, { font: 'Helvetica-Bold', size, gray: 0 });
    this.ensure(linesHeight(lines) + 18 + Math.min(lead, (TOP - MARGIN.bottom) / 2));
    this.y -= rule ? 10 : 0;
    this.drawLines(lines, MARGIN.left);
    if (rule) {
      this.y -= 2;
      this.page.line(MARGIN.left, this.y, MARGIN.left + CONTENT_WIDTH, this.y, 1);
    }
    this.y -= 6;
  }

  /**
   * A bordered table. `header` repeats on every page the table spans; a row
   * that does not fit moves to the next page, and one taller than a page is
   * split between its lines.
   */
  table(
    weights: readonly number[],
    header: readonly string[] | null,
    rows: readonly (readonly Cell[])[],
    o: {
      rowHeader?: boolean;
      minRowHeight?: number;
      decorate?: (x: number[], top: number, height: number) => void;
    } = {},
  ): void {
    const total = weights.reduce((a, b) => a + b, 0);
    const widths = weights.map((w) => (w / total) * CONTENT_WIDTH);
    const xs = widths.map((_, i) => MARGIN.left + widths.slice(0, i).reduce((a, b) => a + b, 0));
    const headerLines = header?.map((h, i) =>
      layout([{ text: h, style: 'plain' }], widths[i]! - 2 * PAD, {
        font: 'Helvetica-Bold',
        size: TABLE_SIZE,
        gray: 0,
      }),
    );
    const headerHeight = headerLines ? Math.max(...headerLines.map(linesHeight)) + 2 * PAD : 0;
    const drawHeader = (): void => {
      if (!headerLines) return;
      this.drawRow(xs, widths, headerLines, headerHeight, HEADER_FILL, () => true);
    };
    const minRow = o.minRowHeight ?? 0;
    const cellLines = (row: readonly Cell[]): Line[][] =>
      row.map((c, i) =>
        layout(
          c.content,
          widths[i]! - 2 * PAD,
          o.rowHeader && i === 0 ? { font: 'Helvetica-Bold', size: TABLE_SIZE, gray: 0 } : cellBase(c.look, TABLE_SIZE),
        ),
      );
    const rowHeight = (cells: readonly Line[][]): number =>
      Math.max(minRow, Math.max(...cells.map(linesHeight)) + 2 * PAD);
    // The header never ends a page alone: it goes with the first row (or as much of it as a page holds).
    const first = rows[0] === undefined ? minRow : rowHeight(cellLines(rows[0]));
    this.ensure(headerHeight + Math.min(first, (TOP - MARGIN.bottom) / 2));
    drawHeader();
    for (const row of rows) {
      let cells = cellLines(row);
      const height = rowHeight(cells);
      if (this.y - height < MARGIN.bottom && height <= TOP - MARGIN.bottom - headerHeight) {
        this.newPage();
        drawHeader();
      }
      // Split a row taller than what is left of a page between its lines.
      while (Math.max(...cells.map(linesHeight)) + 2 * PAD > this.y - MARGIN.bottom) {
        const room = this.y - MARGIN.bottom - 2 * PAD;
        const part = cells.map((ls) => {
          let h = 0;
          let n = 0;
          while (n < ls.length && h + ls[n]!.height <= room) h += ls[n++]!.height;
          return n;
        });
        if (part.every((n) => n === 0)) {
          this.newPage();
          drawHeader();
          continue;
        }
        const partHeight = Math.max(...cells.map((ls, i) => linesHeight(ls.slice(0, part[i]))));
        this.drawRow(
          xs,
          widths,
          cells.map((ls, i) => ls.slice(0, part[i])),
          partHeight + 2 * PAD,
          o.rowHeader ? HEADER_FILL : undefined,
          () => false,
        );
        cells = cells.map((ls, i) => ls.slice(part[i]));
        this.newPage();
        drawHeader();
      }
      const top = this.y;
      const h = rowHeight(cells);
      this.drawRow(xs, widths, cells, h, o.rowHeader ? HEADER_FILL : undefined, () => false);
      o.decorate?.(xs, top, h);
    }
    this.y -= 8;
  }

  private drawRow(
    xs: readonly number[],
    widths: readonly number[],
    cells: readonly (readonly Line[])[],
    height: number,
    firstFill: number | undefined,
    fillAll: () => boolean,
  ): void {
    const top = this.y;
    for (const [i, lines] of cells.entries()) {
      const fill = fillAll() ? HEADER_FILL : i === 0 ? firstFill : undefined;
      if (fill !== undefined) this.page.rect(xs[i]!, top - height, widths[i]!, height, { fill });
      this.page.rect(xs[i]!, top - height, widths[i]!, height, { stroke: 0.35, width: 0.5 });
      this.y = top - PAD;
      this.drawLines(lines, xs[i]! + PAD);
    }
    this.y = top - height;
  }

  signatures(people: readonly { role: string; name: string }[]): void {
    const height = 64;
    for (const p of people) {
      this.ensure(height + 8);
      const top = this.y;
      this.page.rect(MARGIN.left, top - height, CONTENT_WIDTH, height, { stroke: 0.35, width: 0.5 });
      this.y = top - 5;
      const lines = layout(
        [
          { text: p.role, style: 'role' },
          { text: ': ', style: 'plain' },
          { text: p.name, style: 'name' },
        ],
        CONTENT_WIDTH - 16,
        { font: BODY.font, size: BODY.size, gray: 0 },
      );
      this.drawLines(lines.slice(0, 2), MARGIN.left + 8);
      const lineY = top - height + 18;
      const sigEnd = MARGIN.left + 8 + (CONTENT_WIDTH - 16) * 0.7;
      this.page.line(MARGIN.left + 8, lineY, sigEnd, lineY, 0.7);
      this.page.line(sigEnd + 18, lineY, MARGIN.left + CONTENT_WIDTH - 8, lineY, 0.7);
      this.page.text(MARGIN.left + 8, lineY - 10, 'Signature', 'Helvetica', 8);
      this.page.text(sigEnd + 18, lineY - 10, 'Date', 'Helvetica', 8);
      this.y = top - height - 8;
    }
  }

  checklist(steps: readonly { title: string; actor: string }[]): void {
    const rows: Cell[][] = steps.map((s, i) => [
      { content: [{ text: String(i + 1), style: 'plain' }], look: 'plain' },
      {
        content: [{ text: s.title, style: 'plain' }, { lineBreak: true }, { text: s.actor, style: 'none' }],
        look: 'plain',
      },
      { content: [], look: 'plain' },
      { content: [], look: 'plain' },
    ]);
    this.table([5, 71, 12, 12], ['#', 'Step', 'Initials', 'Time'], rows, {
      minRowHeight: 32,
      decorate: (xs, top, h) => {
        // A box to initial, and a line to write the time on.
        this.page.rect(xs[2]! + 6, top - h / 2 - 11, 50, 22, { stroke: 0, width: 0.8 });
        this.page.line(xs[3]! + 6, top - h + 8, xs[3]! + 56, top - h + 8, 0.7);
      },
    });
  }

  block(b: Block): void {
    switch (b.kind) {
      case 'paragraph':
        this.flow(b.content, {
          font: b.look === 'none' ? 'Helvetica-Oblique' : 'Helvetica',
          size: BODY.size,
          gray: b.look === 'plain' ? 0 : 0.25,
        });
        break;
      case 'fields':
        this.table(
          [30, 70],
          null,
          b.rows.map((r) => [
            { content: [{ text: r.label, style: 'plain' }], look: 'plain' },
            { content: r.value, look: 'plain' },
          ]),
          { rowHeader: true },
        );
        break;
      case 'table':
        this.table(
          b.columns.map((c) => c.weight),
          b.columns.map((c) => c.title),
          b.rows,
        );
        break;
      case 'signatures':
        this.signatures(b.people);
        break;
      case 'checklist':
        this.checklist(b.steps);
        break;
      default:
        missingCase(b);
    }
  }

  /** Every page's foot: the title and "page i of n", so a loose page says where it belongs. */
  folios(): void {
    const n = this.pages.length;
    for (const [i, page] of this.pages.entries()) {
      const y = MARGIN.bottom - 24;
      page.line(MARGIN.left, y + 10, MARGIN.left + CONTENT_WIDTH, y + 10, 0.3, 0.4);
      const folio = `Page ${i + 1} of ${n}`;
      const title = this.doc.title.length > 90 ? `${this.doc.title.slice(0, 89)}…` : this.doc.title;
      page.text(MARGIN.left, y, title, 'Helvetica', 7.5, 0.3);
      page.text(MARGIN.left + CONTENT_WIDTH - textWidth(folio, 'Helvetica', 7.5), y, folio, 'Helvetica', 7.5, 0.3);
    }
  }
}

/** Text cut with "…" to fit `width` on one line. */
function fitText(text: string, font: PdfFont, size: number, width: number): string {
  if (textWidth(text, font, size) <= width) return text;
  const chars = [...text];
  while (chars.length > 0 && textWidth(`${chars.join('')}…`, font, size) > width) chars.pop();
  return `${chars.join('')}…`;
}

/** The height of the start of a block that must not be parted from its heading: a table's header and first row. */
function leadHeight(b: Block): number {
  const rowLead = (row: readonly Cell[] | undefined, weights: readonly number[]): number => {
    if (row === undefined) return 0;
    const total = weights.reduce((a, c) => a + c, 0);
    const heights = row.map((c, i) =>
      linesHeight(
        layout(c.content, ((weights[i] ?? 0) / total) * CONTENT_WIDTH - 2 * PAD, cellBase(c.look, TABLE_SIZE)),
      ),
    );
    return Math.max(0, ...heights) + 2 * PAD;
  };
  switch (b.kind) {
    case 'paragraph':
      return 3 * BODY.size * LEADING;
    case 'fields':
      return rowLead(
        b.rows[0] && [
          { content: [], look: 'plain' },
          { content: b.rows[0].value, look: 'plain' },
        ],
        [30, 70],
      );
    case 'table':
      return (
        24 +
        rowLead(
          b.rows[0],
          b.columns.map((c) => c.weight),
        )
      );
    case 'signatures':
      return 72;
    case 'checklist':
      return 60;
    default:
      return missingCase(b);
  }
}

export interface RenderedPdf {
  bytes: Uint8Array;
  pages: number;
  /** Characters the standard fonts cannot show; they print as "?" (the HTML shows them). */
  unmappable: string[];
}

function documentText(doc: PrintedDocument): string {
  const parts: string[] = [doc.title, doc.banner ?? ''];
  const blockText = (b: Block): void => {
    switch (b.kind) {
      case 'paragraph':
        parts.push(inlineText(b.content));
        break;
      case 'fields':
        for (const r of b.rows) parts.push(r.label, inlineText(r.value));
        break;
      case 'table':
        for (const c of b.columns) parts.push(c.title);
        for (const r of b.rows) for (const c of r) parts.push(inlineText(c.content));
        break;
      case 'signatures':
        for (const p of b.people) parts.push(p.role, p.name);
        break;
      case 'checklist':
        for (const s of b.steps) parts.push(s.title, s.actor);
        break;
      default:
        missingCase(b);
    }
  };
  for (const b of doc.header) blockText(b);
  for (const s of doc.sections) {
    parts.push(s.heading);
    s.blocks.forEach(blockText);
  }
  doc.footer.forEach(blockText);
  return parts.join('\n');
}

/** The document as a PDF 1.4 file on A4 pages. `created` is written into the file. */
export function documentPdf(doc: PrintedDocument, created: Date): RenderedPdf {
  const l = new Layout(doc, created);
  l.heading(doc.title, 16, false);
  for (const b of doc.header) l.block(b);
  for (const s of doc.sections) {
    l.heading(s.heading, 12, true, s.blocks[0] === undefined ? 0 : leadHeight(s.blocks[0]));
    for (const b of s.blocks) l.block(b);
  }
  if (doc.footer.length > 0) {
    // The footer stays on one page with its rule.
    l.ensure(doc.footer.reduce((h, b) => h + (b.kind === 'paragraph' ? l.paragraphHeight(b.content) + 5 : 40), 14));
    l.y -= 8;
    l.page.line(MARGIN.left, l.y, MARGIN.left + CONTENT_WIDTH, l.y, 0.8);
    l.y -= 4;
    for (const b of doc.footer) l.block(b);
  }
  l.folios();
  return { bytes: l.writer.toBytes(), pages: l.pages.length, unmappable: unmappable(documentText(doc)) };
}

import { missingCase } from '../errors.js';
import type { Block, Cell, Inline, PrintedDocument, Span } from './model.js';

// A printed document as one self-contained HTML5 page (no script, no
// external resource, a CSP that forbids both): what the app shows, prints
// and turns into PDF with Electron. Every string from the model is escaped.

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&#39;';
    }
  });
}

const esc = escapeHtml;

export const DOCUMENT_CSS = `
@page { size: A4 portrait; margin: 15mm 14mm 18mm 14mm; }
* { box-sizing: border-box; }
html { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; font-size: 9.5pt; color: #000; background: #fff; }
body { margin: 0 auto; max-width: 182mm; line-height: 1.35; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 12pt; margin: 7mm 0 2mm; border-bottom: 0.4mm solid #000; padding-bottom: 1mm; page-break-after: avoid; break-after: avoid; }
p.generated { margin: 0 0 4mm; color: #333; }
table { width: 100%; border-collapse: collapse; margin: 0 0 3mm; }
th, td { border: 0.2mm solid #555; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #eee; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; break-inside: avoid; }
table.summary th { width: 45mm; }
.mono, code { font-family: "DejaVu Sans Mono", "Liberation Mono", "Courier New", monospace; font-size: 8.5pt; word-break: break-all; overflow-wrap: anywhere; }
.words { font-style: italic; }
.transcript td { font-size: 7.5pt; }
.shares th, .shares td, .bundles th, .bundles td, .ceremonies th, .ceremonies td { font-size: 8pt; }
.transcript td.data { font-family: "DejaVu Sans Mono", "Liberation Mono", "Courier New", monospace; word-break: break-all; overflow-wrap: anywhere; }
.outcome.completed { font-weight: bold; }
.outcome.aborted { font-weight: bold; border: 0.5mm solid #000; padding: 1mm 2mm; }
.none { color: #555; font-style: italic; }
.signatures { margin-top: 2mm; }
.signature { page-break-inside: avoid; break-inside: avoid; border: 0.2mm solid #555; padding: 2mm 3mm; margin: 0 0 3mm; }
.signature .role { font-weight: bold; }
.signature .line { display: flex; gap: 6mm; margin-top: 9mm; }
.signature .line span { border-top: 0.3mm solid #000; padding-top: 0.5mm; font-size: 8pt; }
.signature .line .sig { flex: 3; }
.signature .line .date { flex: 1; }
footer { margin-top: 8mm; border-top: 0.3mm solid #000; padding-top: 2mm; font-size: 8.5pt; page-break-inside: avoid; break-inside: avoid; }
@media screen { body { padding: 10mm; } }
`;

/** A CSS string literal holding `text`: every character but letters, digits and spaces as a hex escape. */
function cssString(text: string): string {
  return `"${[...text].map((c) => (/[A-Za-z0-9 ]/.test(c) ? c : `\\${c.codePointAt(0)!.toString(16)} `)).join('')}"`;
}

/**
 * The banner (a rehearsal): at the top of the first page as a box, and on
 * every printed page in the page's top margin (CSS Paged Media margin boxes,
 * which Chromium, and so Electron's printToPDF, draws on each page).
 */
function bannerCss(banner: string): string {
  return `.banner { border: 0.8mm solid #000; font-weight: bold; font-size: 13pt; letter-spacing: 0.08em; text-align: center; padding: 2mm; margin: 0 0 4mm; }
@page { @top-center { content: ${cssString(banner)}; font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; font-weight: bold; font-size: 10.5pt; letter-spacing: 0.02em; white-space: nowrap; } }
`;
}

/** Rules for the ceremony script's checklist; only documents that have one carry them. */
const CHECKLIST_CSS = `table.steps td { height: 11mm; }
table.steps .n { width: 8mm; }
table.steps .initials, table.steps .time { width: 24mm; }
table.steps .actor { color: #333; font-size: 8pt; }
table.steps .box { display: inline-block; width: 16mm; height: 8mm; border: 0.3mm solid #000; }
table.steps .blank { display: inline-block; width: 18mm; margin-top: 5mm; border-bottom: 0.3mm solid #000; }
`;

function spanHtml(s: Span): string {
  if ('lineBreak' in s) return '<br>';
  const t = esc(s.text);
  switch (s.style) {
    case 'plain':
      return t;
    case 'mono':
      return `<span class="mono">${t}</span>`;
    case 'code':
      return `<code>${t}</code>`;
    case 'words':
      return `<span class="words">${t}</span>`;
    case 'none':
      return `<span class="none">${t}</span>`;
    case 'verdict':
      return `<span class="outcome completed">${t}</span>`;
    case 'alarm':
      return `<span class="outcome aborted">${t}</span>`;
    case 'role':
      return `<span class="role">${t}</span>`;
    case 'name':
      return `<span class="name">${t}</span>`;
    default:
      return missingCase(s.style);
  }
}

const inlineHtml = (content: Inline): string => content.map(spanHtml).join('');

function cellHtml(c: Cell): string {
  return c.look === 'plain'
    ? `<td>${inlineHtml(c.content)}</td>`
    : `<td class="${c.look}">${inlineHtml(c.content)}</td>`;
}

function blockHtml(b: Block): string {
  switch (b.kind) {
    case 'paragraph':
      return b.look === 'plain'
        ? `<p>${inlineHtml(b.content)}</p>`
        : `<p class="${b.look}">${inlineHtml(b.content)}</p>`;
    case 'fields': {
      const rows = b.rows.map((r) => `<tr><th scope="row">${esc(r.label)}</th><td>${inlineHtml(r.value)}</td></tr>`);
      return `<table class="${b.name}"><tbody>\n${rows.join('\n')}\n</tbody></table>`;
    }
    case 'table': {
      const head = b.columns.map((c) => `<th>${esc(c.title)}</th>`).join('');
      const rows = b.rows.map((r) => `<tr>${r.map(cellHtml).join('')}</tr>`);
      return `<table class="${b.name}"><thead><tr>${head}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
    }
    case 'signatures': {
      const blocks = b.people.map(
        (p) => `<div class="signature">
<div><span class="role">${esc(p.role)}</span>: <span class="name">${esc(p.name)}</span></div>
<div class="line"><span class="sig">Signature</span><span class="date">Date</span></div>
</div>`,
      );
      return `<div class="signatures">\n${blocks.join('\n')}\n</div>`;
    }
    case 'checklist': {
      const rows = b.steps.map(
        (s, i) =>
          `<tr><td class="n">${i + 1}</td><td>${esc(s.title)}<br><span class="actor">${esc(s.actor)}</span></td><td class="initials"><span class="box"></span></td><td class="time"><span class="blank"></span></td></tr>`,
      );
      return `<table class="steps"><thead><tr><th class="n">#</th><th>Step</th><th class="initials">Initials</th><th class="time">Time</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
    }
    default:
      return missingCase(b);
  }
}

const blocksHtml = (blocks: readonly Block[]): string => blocks.map(blockHtml).join('\n');

/** The document as a complete HTML5 page. */
export function documentHtml(doc: PrintedDocument): string {
  const hasChecklist = doc.sections.some((s) => s.blocks.some((b) => b.kind === 'checklist'));
  const css =
    DOCUMENT_CSS + (hasChecklist ? CHECKLIST_CSS : '') + (doc.banner === undefined ? '' : bannerCss(doc.banner));
  const sections = doc.sections.map(
    (s) => `<section>\n<h2>${esc(s.heading)}</h2>\n${blocksHtml(s.blocks)}\n</section>`,
  );
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.title)}</title>
<style>${css}</style>
</head>
<body>
${doc.banner === undefined ? '' : `<div class="banner" role="note">${esc(doc.banner)}</div>\n`}<header>
<h1>${esc(doc.title)}</h1>
${blocksHtml(doc.header)}
</header>
<main>
${sections.join('\n')}
</main>
<footer>
${blocksHtml(doc.footer)}
</footer>
</body>
</html>
`;
}

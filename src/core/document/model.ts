// A small model of the printed documents (the ceremony report and the
// ceremony script, issue 11): built once from the record or the setup, then
// rendered to HTML (html.ts, what the app prints) and to PDF (pdf.ts, what
// the CLI writes without a browser). The text lives only here, so the two
// renderings cannot say different things.

/** How a run of text looks; one closed list, which both renderers map exhaustively. */
export const SPAN_STYLES = ['plain', 'mono', 'code', 'words', 'none', 'verdict', 'alarm', 'role', 'name'] as const;
export type SpanStyle = (typeof SPAN_STYLES)[number];

export type Span = { readonly text: string; readonly style: SpanStyle } | { readonly lineBreak: true };
export type Inline = readonly Span[];

export const CELL_LOOKS = ['plain', 'mono', 'data', 'none'] as const;
/** A table cell's look: plain text, a fixed-width value, compact data, or nothing ("—"). */
export type CellLook = (typeof CELL_LOOKS)[number];

export interface Cell {
  readonly content: Inline;
  readonly look: CellLook;
}

export interface TableColumn {
  readonly title: string;
  /** Relative width on paper (the PDF's layout; the browser sizes HTML tables itself). */
  readonly weight: number;
}

export type Block =
  | { readonly kind: 'paragraph'; readonly content: Inline; readonly look: 'plain' | 'generated' | 'none' }
  /** Label and value rows (the summary of a report, the roles of a script). */
  | { readonly kind: 'fields'; readonly name: string; readonly rows: readonly { label: string; value: Inline }[] }
  | {
      readonly kind: 'table';
      readonly name: string;
      readonly columns: readonly TableColumn[];
      readonly rows: readonly (readonly Cell[])[];
    }
  /** A signature line per person: role, name, a line to sign and a date. */
  | { readonly kind: 'signatures'; readonly people: readonly { role: string; name: string }[] }
  /** Numbered steps, each with a box to initial and a time to fill in. */
  | { readonly kind: 'checklist'; readonly steps: readonly { title: string; actor: string }[] };

export interface Section {
  readonly heading: string;
  readonly blocks: readonly Block[];
}

export interface PrintedDocument {
  readonly title: string;
  /**
   * A warning that no page may be read without (a rehearsal, issue 11:
   * "REHEARSAL on every ... report page"): printed prominently at the top of
   * every page, in both renderings.
   */
  readonly banner?: string;
  /** Under the title: when and from what it was printed. */
  readonly header: readonly Block[];
  readonly sections: readonly Section[];
  readonly footer: readonly Block[];
}

// Builders, so the documents read as text rather than as object literals.
export const plain = (text: string): Span => ({ text, style: 'plain' });
export const mono = (text: string): Span => ({ text, style: 'mono' });
export const lineBreak: Span = { lineBreak: true };
export const paragraph = (content: Inline | string, look: 'plain' | 'generated' | 'none' = 'plain'): Block => ({
  kind: 'paragraph',
  content: typeof content === 'string' ? [plain(content)] : content,
  look,
});

/** A cell holding text, or "—" when there is none. */
export function cell(text: string | undefined, look: 'plain' | 'mono' | 'data' = 'plain'): Cell {
  if (text === undefined || text === '') return { content: [plain('—')], look: 'none' };
  return { content: [plain(text)], look };
}

/** The text a span list says, without styling (tests, and the PDF's document title). */
export function inlineText(content: Inline): string {
  return content.map((s) => ('lineBreak' in s ? '\n' : s.text)).join('');
}

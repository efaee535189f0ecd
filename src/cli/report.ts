// keyceremony transcript report, keyceremony script (issue 11): the printed
// report of what a record says happened, and the printed script of what a
// setup says will happen. HTML or PDF, chosen by the output's name; both
// from the same document model (src/core/document).
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { documentHtml } from '../core/document/html.js';
import type { PrintedDocument } from '../core/document/model.js';
import { documentPdf } from '../core/document/pdf.js';
import { ceremoniesOf } from '../core/ceremony/record.js';
import { hexGroups, pgpWords } from '../core/ceremony/fingerprint.js';
import { recordReportOf } from '../core/ceremony/record-check.js';
import { ceremonyScriptDocument } from '../core/ceremony/script.js';
import { MAX_SETUP_BYTES, parseSetupFile } from '../core/ceremony/setup-file.js';
import { headHash, readTranscript } from '../core/ceremony/transcript.js';
import { assertOutputFree, readFileOrFail, writeFileExclusive } from '../core/files.js';
import { out, parse, required, UsageError } from './common.js';

const PRINT_FORMATS = { '.html': 'html', '.htm': 'html', '.pdf': 'pdf' } as const;
type PrintFormat = (typeof PRINT_FORMATS)[keyof typeof PRINT_FORMATS];

/** HTML or PDF from the --out name; the file must not exist yet (nothing is overwritten). */
function printTarget(path: string): PrintFormat {
  const ext = extname(path).toLowerCase();
  const format = (PRINT_FORMATS as Record<string, PrintFormat | undefined>)[ext];
  if (format === undefined) throw new UsageError(`--out must name an .html or a .pdf file, not "${path}"`);
  assertOutputFree(path);
  return format;
}

/** Writes the document; printed matter holds no secret, so it is readable by all (0644). */
function writeDocument(doc: PrintedDocument, path: string, format: PrintFormat, now: Date): void {
  if (format === 'html') {
    writeFileExclusive(path, documentHtml(doc), 0o644);
    return;
  }
  const pdf = documentPdf(doc, now);
  writeFileExclusive(path, pdf.bytes, 0o644);
  if (pdf.unmappable.length > 0)
    process.stderr.write(
      `warning: the PDF's standard fonts cannot show ${pdf.unmappable.map((c) => `"${c}"`).join(' ')}; they print as "?". The HTML rendering shows them.\n`,
    );
}

export async function transcriptReport(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    { out: { type: 'string' }, witness: { type: 'string', multiple: true } },
    1,
  );
  const recordPath = required(positionals[0], 'RECORD.jsonl');
  const outPath = required(values.out, '--out');
  const format = printTarget(outPath);
  // The checks of transcript verify: the hash chain as it is read, the
  // sequence of ceremonies, and every ceremony closed.
  const entries = readTranscript(recordPath);
  const witnesses = values.witness ?? [];
  for (const w of witnesses) {
    if (w.trim() === '' || w.length > 64 || /[\u0000-\u001f\u007f]/.test(w))
      throw new UsageError('--witness must be a name of 1 to 64 printable characters');
  }
  const now = new Date();
  writeDocument(recordReportOf(entries, witnesses, now), outPath, format, now);
  const head = Buffer.from(headHash(entries), 'hex');
  const n = ceremoniesOf(entries).ceremonies.length;
  out(`Report of ${n} ceremon${n === 1 ? 'y' : 'ies'} (${entries.length} entries) written to ${outPath}`);
  out(`Head hash ${hexGroups(head).join(' ')}`);
  out(`          ${pgpWords(head).join(' ')}`);
}

export async function scriptCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, { setup: { type: 'string' }, out: { type: 'string' } });
  const setupPath = required(values.setup, '--setup');
  const outPath = required(values.out, '--out');
  const format = printTarget(outPath);
  const bytes = readFileOrFail(setupPath, 'Setup file', MAX_SETUP_BYTES);
  const setup = parseSetupFile(bytes.toString('utf8'));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const now = new Date();
  writeDocument(ceremonyScriptDocument(setup, now, sha256), outPath, format, now);
  out(`Ceremony script (${setup.kind}, ${setup.mode}) of "${setup.ceremonyName}" written to ${outPath}`);
  out(`Setup file SHA-256 ${hexGroups(Buffer.from(sha256, 'hex')).join(' ')}`);
}

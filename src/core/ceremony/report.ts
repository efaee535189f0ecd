import { hexGroups, pgpWords } from './fingerprint.js';
import { ENTRY } from './record.js';
import { headHash, type TranscriptEntry } from './transcript.js';

// The printable ceremony record: one self-contained HTML document (no
// script, no external resources) that the participants print, read and sign.
// It is a rendering of the transcript, never a replacement for it: the JSON
// Lines record stays the authoritative copy.
//
// It reads the entries directly rather than through summarize(), which
// refuses aborted and incomplete records: those must print too.

export interface CeremonyRoster {
  operator: string;
  admins: string[];
  custodians: string[];
  witnesses: string[];
}

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

type Data = TranscriptEntry['data'];

function str(d: Data, k: string): string | undefined {
  const v = d[k];
  return typeof v === 'string' ? v : undefined;
}
function int(d: Data, k: string): number | undefined {
  const v = d[k];
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}
function strs(d: Data, k: string): string[] {
  const v = d[k];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

interface ShareRow {
  shareIndex: number | undefined;
  custodian: string;
  medium: string;
  location: string;
  commitment: string;
  verified: boolean | undefined;
  time: string;
}

interface BundleRow {
  bundleId: string;
  sequence: number | undefined;
  targets: string[];
  payloadHash: string;
  signatures: string[] | undefined;
  time: string;
}

interface ReadRecord {
  opened: boolean;
  ceremonyId: string;
  ceremonyName: string;
  keyName: string;
  threshold: number | undefined;
  shares: number | undefined;
  custodians: string[];
  kcv: string;
  verificationPattern: string;
  issued: ShareRow[];
  bundles: BundleRow[];
  units: Map<string, { fingerprint: string; bundles: string[] }>;
  /** The closing entry of the first ceremony (the one that made the key), if it has one. */
  closing:
    | { outcome: 'completed'; note: string | undefined }
    | { outcome: 'aborted'; reason: string; code: string; time: string }
    | undefined;
}

function readRecord(entries: TranscriptEntry[]): ReadRecord {
  const first = entries[0];
  const opened = first?.type === ENTRY.opened;
  const od: Data = opened ? first.data : {};
  const r: ReadRecord = {
    opened,
    ceremonyId: str(od, 'ceremonyId') ?? '',
    ceremonyName: str(od, 'ceremonyName') ?? str(od, 'keyName') ?? '',
    keyName: str(od, 'keyName') ?? '',
    threshold: int(od, 'threshold'),
    shares: int(od, 'shares'),
    custodians: strs(od, 'custodians'),
    kcv: '',
    verificationPattern: '',
    issued: [],
    bundles: [],
    units: new Map(),
    closing: undefined,
  };
  for (const e of entries.slice(opened ? 1 : 0)) {
    const d = e.data;
    switch (e.type) {
      case ENTRY.masterKeyGenerated:
        r.kcv = str(d, 'kcv') ?? r.kcv;
        r.verificationPattern = str(d, 'verificationPattern') ?? r.verificationPattern;
        break;
      case ENTRY.shareIssued: {
        const v = d['verifiedReadBack'];
        r.issued.push({
          shareIndex: int(d, 'shareIndex'),
          custodian: str(d, 'custodian') ?? '',
          medium: str(d, 'medium') ?? '',
          location: str(d, 'location') ?? '',
          commitment: str(d, 'commitment') ?? '',
          verified: typeof v === 'boolean' ? v : undefined,
          time: e.time,
        });
        break;
      }
      case ENTRY.bundleCreated: {
        const bundleId = str(d, 'bundleId') ?? '';
        const targets = strs(d, 'targets');
        r.bundles.push({
          bundleId,
          sequence: int(d, 'sequence'),
          targets,
          payloadHash: str(d, 'payloadHash') ?? '',
          // Filled by bundle-signed entries; the CLI signs bundle files without recording it.
          signatures: undefined,
          time: e.time,
        });
        // The transports are recorded in the order of the targets they name.
        const fps = strs(d, 'transportFingerprints');
        for (const [i, unit] of targets.entries()) {
          const fingerprint = fps[i];
          if (fingerprint === undefined) continue;
          const u = r.units.get(unit) ?? { fingerprint, bundles: [] };
          if (u.fingerprint !== fingerprint) u.fingerprint = `${u.fingerprint} / ${fingerprint}`;
          u.bundles.push(bundleId);
          r.units.set(unit, u);
        }
        break;
      }
      case ENTRY.closed:
        r.closing ??=
          d['outcome'] === 'completed'
            ? { outcome: 'completed', note: str(d, 'note') }
            : {
                outcome: 'aborted',
                reason: str(d, 'reason') ?? '(no reason recorded)',
                code: str(d, 'code') ?? '',
                time: e.time,
              };
        break;
      case ENTRY.bundleSigned: {
        const b = r.bundles.find((x) => x.bundleId === str(d, 'bundleId'));
        const admin = str(d, 'admin');
        if (b && admin !== undefined) (b.signatures ??= []).push(admin);
        break;
      }
      default:
        break;
    }
  }
  return r;
}

function outcome(r: ReadRecord): { text: string; cls: string } {
  if (r.closing?.outcome === 'aborted') {
    const code = r.closing.code ? ` [${r.closing.code}]` : '';
    return {
      text: `Aborted at ${r.closing.time}: ${r.closing.reason}${code}. Its shares do not form a usable set.`,
      cls: 'aborted',
    };
  }
  if (!r.opened)
    return { text: 'Incomplete: the record does not start with the opening of a ceremony.', cls: 'aborted' };
  if (r.closing === undefined) {
    return {
      text: 'Incomplete: the ceremony has no closing entry (it was cut off, or lines were cut from the end of the record). Its shares cannot be trusted.',
      cls: 'aborted',
    };
  }
  if (!r.kcv) return { text: 'Incomplete: the record has no master key.', cls: 'aborted' };
  if (r.shares !== undefined && r.issued.length < r.shares) {
    return { text: `Incomplete: ${r.issued.length} of ${r.shares} shares were issued.`, cls: 'aborted' };
  }
  // A ceremony closed at the application's next start says so.
  return { text: r.closing.note ? `Completed. ${r.closing.note}` : 'Completed.', cls: 'completed' };
}

const CSS = `
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

function cell(text: string | undefined, cls?: string): string {
  if (text === undefined || text === '') return '<td class="none">—</td>';
  return cls ? `<td class="${cls}">${esc(text)}</td>` : `<td>${esc(text)}</td>`;
}

function row(label: string, valueHtml: string): string {
  return `<tr><th scope="row">${esc(label)}</th><td>${valueHtml}</td></tr>`;
}

function monoOrNone(text: string | undefined): string {
  return text ? `<span class="mono">${esc(text)}</span>` : '<span class="none">—</span>';
}

function hexBytes(hex: string): Uint8Array | undefined {
  return /^(?:[0-9a-fA-F]{2})+$/.test(hex) ? new Uint8Array(Buffer.from(hex, 'hex')) : undefined;
}

/** A hex digest as groups to compare by eye, and as PGP words to read aloud. */
function digestHtml(hex: string): string {
  const bytes = hexBytes(hex);
  if (!bytes) return monoOrNone(hex);
  return `<span class="mono">${esc(hexGroups(bytes).join(' '))}</span><br><span class="words">${esc(pgpWords(bytes).join(' '))}</span>`;
}

function summaryHtml(r: ReadRecord, entries: TranscriptEntry[]): string {
  const o = outcome(r);
  const kOfN = r.threshold !== undefined && r.shares !== undefined ? `${r.threshold} of ${r.shares}` : '';
  const rows = [
    row('Ceremony ID', monoOrNone(r.ceremonyId)),
    row('Ceremony name', r.ceremonyName ? esc(r.ceremonyName) : '<span class="none">—</span>'),
    row('Key name', r.keyName ? esc(r.keyName) : '<span class="none">—</span>'),
    row('Shares needed (K of N)', kOfN ? esc(kOfN) : '<span class="none">—</span>'),
    row('Key check value (KCV)', monoOrNone(r.kcv)),
  ];
  if (r.verificationPattern) rows.push(row('Verification pattern', monoOrNone(r.verificationPattern)));
  const closed = entries[entries.length - 1];
  rows.push(
    row('Opened', esc(entries[0]?.time ?? '')),
    row('Closed (last entry)', esc(closed?.time ?? '')),
    row('Transcript entries', esc(String(entries.length))),
    row('Transcript head hash', entries.length > 0 ? digestHtml(headHash(entries)) : '<span class="none">—</span>'),
    row('Outcome', `<span class="outcome ${o.cls}">${esc(o.text)}</span>`),
  );
  return `<table class="summary"><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

function sharesHtml(r: ReadRecord): string {
  if (r.issued.length === 0) return '<p class="none">No share was issued.</p>';
  const rows = r.issued.map((s) => {
    const verified = s.verified === undefined ? undefined : s.verified ? 'Yes' : 'NO';
    return `<tr>${cell(s.shareIndex === undefined ? undefined : String(s.shareIndex))}${cell(s.custodian)}${cell(s.medium)}${cell(s.location, 'mono')}${cell(s.commitment, 'mono')}${cell(verified)}${cell(s.time)}</tr>`;
  });
  return `<table class="shares"><thead><tr><th>Share</th><th>Custodian</th><th>Medium</th><th>Location</th><th>Commitment</th><th>Verified read-back</th><th>Issued</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

function bundlesHtml(r: ReadRecord): string {
  if (r.bundles.length === 0) return '<p class="none">No import bundle was created.</p>';
  const rows = r.bundles.map((b) => {
    const sigs =
      b.signatures === undefined ? 'not recorded' : b.signatures.length === 0 ? 'none' : b.signatures.join('; ');
    return `<tr>${cell(b.bundleId, 'mono')}${cell(b.sequence === undefined ? undefined : String(b.sequence))}${cell(b.targets.join(', '))}${cell(b.payloadHash, 'mono')}${cell(sigs)}${cell(b.time)}</tr>`;
  });
  return `<table class="bundles"><thead><tr><th>Bundle</th><th>Sequence</th><th>Targets</th><th>Payload hash</th><th>Signatures</th><th>Created</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

function unitsHtml(r: ReadRecord): string {
  if (r.units.size === 0) return '';
  const rows = [...r.units.entries()].map(
    ([unit, u]) =>
      `<tr>${cell(unit, 'mono')}<td>${digestHtml(u.fingerprint)}</td>${cell(u.bundles.join(', '), 'mono')}</tr>`,
  );
  return `<h2>Units and transport key fingerprints</h2>\n<table class="units"><thead><tr><th>Unit</th><th>Transport key fingerprint (SHA-256 of the public key)</th><th>Bundles</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

function transcriptHtml(entries: TranscriptEntry[]): string {
  const rows = entries.map(
    (e) =>
      `<tr>${cell(String(e.seq))}${cell(e.time)}${cell(e.type)}${cell(e.actor)}${cell(JSON.stringify(e.data), 'data')}${cell(e.hash.slice(0, 16), 'mono')}</tr>`,
  );
  return `<table class="transcript"><thead><tr><th>#</th><th>Time</th><th>Step</th><th>Actor</th><th>Data</th><th>Hash (prefix)</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

function signaturesHtml(people: Array<{ role: string; name: string }>, head: string): string {
  const blocks = people.map(
    (p) => `<div class="signature">
<div><span class="role">${esc(p.role)}</span>: <span class="name">${esc(p.name)}</span></div>
<div class="line"><span class="sig">Signature</span><span class="date">Date</span></div>
</div>`,
  );
  return `<p>By signing, each person below confirms that this printout shows the ceremony they took part in or witnessed, whose transcript ends in the head hash <span class="mono">${esc(head)}</span>.</p>
<div class="signatures">
${blocks.join('\n')}
</div>`;
}

function participants(roster: CeremonyRoster, r: ReadRecord): Array<{ role: string; name: string }> {
  // Every custodian the record names signs, even one the roster left out.
  const custodians = [...roster.custodians];
  for (const c of [...r.custodians, ...r.issued.map((s) => s.custodian)]) {
    if (c && !custodians.includes(c)) custodians.push(c);
  }
  return [
    { role: 'Operator', name: roster.operator },
    ...roster.admins.map((name) => ({ role: 'Administrator', name })),
    ...custodians.map((name) => ({ role: 'Custodian', name })),
    ...roster.witnesses.map((name) => ({ role: 'Witness', name })),
  ];
}

/**
 * Renders the ceremony record as a complete, self-contained, printable
 * HTML5 document. Every value from the record or roster is escaped.
 */
export function renderRecordHtml(entries: TranscriptEntry[], roster: CeremonyRoster, generatedAt: Date): string {
  const r = readRecord(entries);
  const name = r.ceremonyName || r.keyName || r.ceremonyId || '(unnamed)';
  const title = `Key ceremony record — ${name}`;
  const head = entries.length > 0 ? headHash(entries) : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<p class="generated">Printed ${esc(generatedAt.toISOString())} from the ceremony record.</p>
</header>
<main>
<section>
<h2>Summary</h2>
${summaryHtml(r, entries)}
</section>
<section>
<h2>Shares</h2>
${sharesHtml(r)}
</section>
<section>
<h2>Import bundles</h2>
${bundlesHtml(r)}
</section>
${unitsHtml(r)}
<section>
<h2>Transcript</h2>
${transcriptHtml(entries)}
</section>
<section>
<h2>Signatures</h2>
${signaturesHtml(participants(roster, r), head)}
</section>
</main>
<footer>
<p>This printout is a rendering of the ceremony record. The record file (JSON Lines, hash-chained) is the authoritative copy: where the two differ, the file prevails. Verify it with <code>keyceremony transcript verify RECORD.jsonl</code> and check that it reports the head hash <span class="mono">${esc(head)}</span>.</p>
</footer>
</body>
</html>
`;
}

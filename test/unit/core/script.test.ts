import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hexGroups, pgpWords } from '../../../src/core/ceremony/fingerprint.js';
import { CEREMONY_KIND, CEREMONY_KINDS, STEP_ACTORS } from '../../../src/core/ceremony/kinds.js';
import { ceremonyScriptDocument } from '../../../src/core/ceremony/script.js';
import { parseSetupFile, SETUP_FORMAT } from '../../../src/core/ceremony/setup-file.js';
import { documentHtml, escapeHtml } from '../../../src/core/document/html.js';
import { documentPdf } from '../../../src/core/document/pdf.js';

const FP = 'fe'.repeat(32);
const PREPARED = new Date('2025-03-04T05:06:07Z');

const setup = parseSetupFile(
  JSON.stringify({
    format: SETUP_FORMAT,
    kind: 'initial',
    mode: 'production',
    ceremonyName: 'Root <KEK> & co',
    keyName: 'MK-2025',
    operator: 'Olga Operator',
    threshold: 2,
    custodians: [
      { name: 'Carol Custodian', medium: 'card', cardSerial: 12345678, bag: 'TE-0001' },
      { name: 'Dan Custodian', medium: 'file', bag: 'TE-0002' },
      { name: 'Alice Admin', medium: 'card' },
    ],
    admins: [{ name: 'Alice Admin', medium: 'card' }, { name: 'Bob Admin' }],
    witnesses: [{ name: 'Wendy Witness' }],
    units: [{ id: 'unit-1', transportFingerprint: FP }, { id: 'unit-2' }],
    signatureThreshold: 2,
    revocationThreshold: 2,
    reasons: { custodianIsAdmin: 'Only three people are cleared for this key' },
  }),
);

describe('ceremony kinds', () => {
  it('describe every kind with a title, a purpose and steps with unique ids and known actors', () => {
    expect(Object.keys(CEREMONY_KIND).sort()).toEqual([...CEREMONY_KINDS].sort());
    for (const kind of CEREMONY_KINDS) {
      const def = CEREMONY_KIND[kind];
      expect(def.title).not.toBe('');
      expect(def.purpose).toMatch(/\.$/);
      const ids = def.steps.map((s) => s.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const s of def.steps) expect(STEP_ACTORS).toContain(s.actor);
      expect(ids[0]).toBe('roll-call');
      expect(ids.at(-1)).toBe('report-signed');
    }
  });
});

describe('ceremony script', () => {
  const doc = ceremonyScriptDocument(setup, PREPARED, 'ab'.repeat(32));

  it('as HTML: roles, materials, fingerprints as hex and words, every step with a box and a time, signatures', () => {
    const html = documentHtml(doc);
    expect(html).toContain('<title>Ceremony script — Initial key ceremony: Root &lt;KEK&gt; &amp; co</title>');
    expect(html).not.toMatch(/<script/i);
    for (const name of [
      'Olga Operator',
      'Carol Custodian',
      'Dan Custodian',
      'Alice Admin',
      'Bob Admin',
      'Wendy Witness',
    ])
      expect(html).toContain(name);
    expect(html).toContain('12345678');
    expect(html).toContain('TE-0001');
    expect(html).toContain(hexGroups(Buffer.from(FP, 'hex')).join(' '));
    expect(html).toContain(pgpWords(Buffer.from(FP, 'hex')).join(' '));
    expect(html).toContain('not known before the day');
    expect(html).toContain('Only three people are cleared for this key');
    const steps = CEREMONY_KIND.initial.steps;
    expect(html.match(/<td class="initials"><span class="box"><\/span><\/td>/g)).toHaveLength(steps.length);
    for (const s of steps) expect(html).toContain(escapeHtml(s.title));
    // Alice is admin and custodian: one signature line each role, not two custodian lines.
    expect(html.match(/<div class="signature">/g)).toHaveLength(1 + 2 + 3 + 1);
  });

  it('as PDF: the same text, read back by pdftotext', () => {
    const pdf = documentPdf(doc, PREPARED);
    const dir = mkdtempSync(join(tmpdir(), 'kc-script-'));
    writeFileSync(join(dir, 'script.pdf'), pdf.bytes);
    const r = spawnSync('pdftotext', ['-raw', join(dir, 'script.pdf'), '-'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const text = r.stdout.replace(/\s+/g, ' ');
    expect(text).toContain('Ceremony script — Initial key ceremony: Root <KEK> & co');
    for (const name of ['Olga Operator', 'Carol Custodian', 'Wendy Witness', 'Bob Admin']) expect(text).toContain(name);
    for (const s of CEREMONY_KIND.initial.steps) expect(text).toContain(s.title);
    expect(text).toContain(hexGroups(Buffer.from(FP, 'hex')).join(' '));
    expect(text).toContain(pgpWords(Buffer.from(FP, 'hex')).join(' '));
    expect(text).toContain(`Page 1 of ${pdf.pages}`);
  });

  it('marks a rehearsal in its title and its mode', () => {
    const rehearsal = ceremonyScriptDocument({ ...setup, mode: 'rehearsal' }, PREPARED);
    expect(rehearsal.title.startsWith('REHEARSAL — ')).toBe(true);
    expect(documentHtml(rehearsal)).toContain('<span class="outcome aborted">REHEARSAL:');
  });

  it('prints a rehearsal banner at the top of every page; a production script has none', () => {
    const rehearsal = ceremonyScriptDocument({ ...setup, mode: 'rehearsal' }, PREPARED);
    const html = documentHtml(rehearsal);
    expect(html).toContain('<div class="banner" role="note">REHEARSAL — virtual cards and units only');
    expect(html).toMatch(/@page \{ @top-center \{ content: "REHEARSAL/);
    const pdf = documentPdf(rehearsal, PREPARED);
    expect(pdf.pages).toBeGreaterThan(1);
    const dir = mkdtempSync(join(tmpdir(), 'kc-script-'));
    writeFileSync(join(dir, 'rehearsal.pdf'), pdf.bytes);
    for (let p = 1; p <= pdf.pages; p++) {
      const r = spawnSync('pdftotext', ['-raw', '-f', String(p), '-l', String(p), join(dir, 'rehearsal.pdf'), '-'], {
        encoding: 'utf8',
      });
      expect(r.stdout.trimStart()).toMatch(/^REHEARSAL — virtual cards and units only/);
    }
    const production = documentHtml(doc);
    expect(production).not.toContain('class="banner"');
    expect(production).not.toContain('@top-center');
  });

  it('prints the steps of each kind, naming who acts', () => {
    const reshare = parseSetupFile(
      JSON.stringify({
        format: SETUP_FORMAT,
        kind: 'reshare',
        mode: 'rehearsal',
        ceremonyName: 'Lost card',
        keyName: 'MK-2025',
        operator: 'Olga',
        threshold: 2,
        holders: [
          { name: 'Carol', medium: 'card', bag: 'TE-7' },
          { name: 'Dan', medium: 'file' },
        ],
        custodians: [
          { name: 'Carol', medium: 'card' },
          { name: 'Erin', medium: 'file' },
        ],
      }),
    );
    const html = documentHtml(ceremonyScriptDocument(reshare, PREPARED));
    for (const s of CEREMONY_KIND.reshare.steps) expect(html).toContain(escapeHtml(s.title));
    expect(html).toContain('Custodians bringing shares: Carol, Dan');
    expect(html).toContain('Custodians: Carol, Erin');
    expect(html).toContain('Smart card holding the share of Carol');
  });
});

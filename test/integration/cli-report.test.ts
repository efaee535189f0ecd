// keyceremony transcript report and keyceremony script (issue 11), run as a
// person would, and their PDFs read back with poppler (pdfinfo, pdftotext).
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hexGroups, pgpWords } from '../../src/core/ceremony/fingerprint.js';
import { closingData, ENTRY } from '../../src/core/ceremony/record.js';
import { CEREMONY_KIND } from '../../src/core/ceremony/kinds.js';
import { appendTranscript, endCeremony } from '../../src/core/ceremony/transcript.js';
import { expectCleanFailure, kc, ok, passFile, workdir } from '../support/cli.js';

const dir = workdir('kc-report-');
let head = '';

function pdf(tool: 'pdfinfo' | 'pdftotext', name: string): string {
  const r = spawnSync(tool, tool === 'pdftotext' ? ['-raw', join(dir, name), '-'] : [join(dir, name)], {
    encoding: 'utf8',
  });
  if (r.error) throw new Error(`${tool} is needed (Debian poppler-utils): ${r.error.message}`);
  expect(r.stderr).toBe('');
  return tool === 'pdftotext' ? r.stdout.replace(/\s+/g, ' ') : r.stdout;
}

const lastHash = (name: string): string =>
  JSON.parse(readFileSync(join(dir, name), 'utf8').trimEnd().split('\n').at(-1)!).hash as string;

beforeAll(() => {
  for (const c of ['carol', 'dan', 'erin']) passFile(dir, `${c}.pass`, `custodian ${c} secret`);
  ok(
    kc(
      dir,
      'mk',
      'generate',
      '--key-name',
      'MK-R',
      '--ceremony-name',
      'Report test',
      '--threshold',
      '2',
      '--share',
      'carol.share=carol.pass',
      '--share',
      'dan.share=dan.pass',
      '--share',
      'erin.share=erin.pass',
      '--record',
      'record.jsonl',
    ),
  );
  // A second ceremony of the same key's life, as a later ceremony appends it.
  copyFileSync(join(dir, 'record.jsonl'), join(dir, 'life.jsonl'));
  const life = join(dir, 'life.jsonl');
  appendTranscript(life, {
    type: ENTRY.opened,
    actor: 'Olga',
    data: {
      ceremonyId: 'c-2',
      ceremonyName: 'Yearly check',
      keyName: 'MK-R',
      kind: 'share-check',
      witnesses: ['Wendy'],
    },
  });
  appendTranscript(life, { type: ENTRY.closed, actor: 'Olga', data: closingData({ outcome: 'completed' }, 2) });
  head = lastHash('record.jsonl');
  // Erin leaves: a re-share of the same key onto three new files retires the first set.
  copyFileSync(join(dir, 'record.jsonl'), join(dir, 'reshared.jsonl'));
  for (const c of ['frank', 'gina', 'hugo']) passFile(dir, `${c}.pass`, `custodian ${c} secret`);
  ok(
    kc(
      dir,
      'mk',
      'reshare',
      '--record',
      'reshared.jsonl',
      '--share',
      'carol.share=carol.pass',
      '--share',
      'dan.share=dan.pass',
      '--threshold',
      '2',
      '--new-share',
      'frank.share=frank.pass',
      '--new-share',
      'gina.share=gina.pass',
      '--new-share',
      'hugo.share=hugo.pass',
      '--ceremony-name',
      'Erin left',
      '--actor',
      'Rita Reshare',
    ),
  );
  // A share check held as a rehearsal (the mode of SETUP.json, recorded in its opening).
  copyFileSync(join(dir, 'record.jsonl'), join(dir, 'rehearsal.jsonl'));
  const rehearsal = join(dir, 'rehearsal.jsonl');
  appendTranscript(rehearsal, {
    type: ENTRY.opened,
    actor: 'Olga',
    data: { ceremonyId: 'c-3', ceremonyName: 'Practice', keyName: 'MK-R', kind: 'share-check', mode: 'rehearsal' },
  });
  endCeremony(rehearsal, 'Olga', { wiped: null, closing: { outcome: 'completed' } });
}, 120_000);

describe('keyceremony transcript report', () => {
  it('writes a PDF with the ceremony, every custodian, and the head hash in hex and in words', () => {
    const out = ok(
      kc(dir, 'transcript', 'report', 'record.jsonl', '--out', 'report.pdf', '--witness', 'Wendy Witness'),
    );
    const bytes = Buffer.from(head, 'hex');
    expect(out).toContain('Report of 1 ceremony (7 entries) written to report.pdf');
    expect(out).toContain(`Head hash ${hexGroups(bytes).join(' ')}`);
    expect(out).toContain(pgpWords(bytes).join(' '));
    expect(pdf('pdfinfo', 'report.pdf')).toMatch(/^Pages:\s+[1-9]\d*$/m);
    const text = pdf('pdftotext', 'report.pdf');
    expect(text).toContain('Key ceremony record — Report test');
    expect(text).toContain(head);
    expect(text).toContain(hexGroups(bytes).join(' '));
    expect(text).toContain(pgpWords(bytes).join(' '));
    for (const who of ['Custodian: carol', 'Custodian: dan', 'Custodian: erin', 'Witness: Wendy Witness'])
      expect(text).toContain(who);
    expect(text).toContain('Completed.');
  });

  it('writes the same report as HTML', () => {
    ok(kc(dir, 'transcript', 'report', 'record.jsonl', '--out', 'report.html'));
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain(head);
    expect(html).toContain(pgpWords(Buffer.from(head, 'hex')).join(' '));
    expect(html).toContain('<span class="role">Custodian</span>: <span class="name">erin</span>');
  });

  it('lists every ceremony of a record that holds several, and everyone their openings name', () => {
    expect(ok(kc(dir, 'transcript', 'report', 'life.jsonl', '--out', 'life.pdf'))).toContain(
      'Report of 2 ceremonies (9 entries)',
    );
    const text = pdf('pdftotext', 'life.pdf');
    expect(text).toContain('Ceremonies in this record');
    expect(text).toContain('Yearly check');
    expect(text).toContain('share-check');
    expect(text).toContain(lastHash('life.jsonl'));
    expect(text).toContain('Witness: Wendy');
  });

  it("tells a re-shared key's life: each ceremony, who acted, which shares are retired, and the current set", () => {
    ok(
      kc(
        dir,
        'transcript',
        'report',
        'reshared.jsonl',
        '--out',
        'reshared.pdf',
        '--witness',
        'Wendy Witness',
        '--witness',
        'dan',
      ),
    );
    const text = pdf('pdftotext', 'reshared.pdf');
    expect(text).toContain('Ceremonies in this record');
    expect(text).toMatch(/1 Key generation Report test/);
    expect(text).toMatch(/2 Re-share ceremony Erin left/);
    expect(text).toContain('Rita Reshare');
    expect(text).toContain('Current set: 2 of 3.');
    expect(text).toContain('issued by ceremony 2, "Erin left" (re-share ceremony)');
    expect(text.match(/Retired by the re-share ceremony, ceremony 2, "Erin left"/g)).toHaveLength(3);
    expect(text.match(/ Current /g)?.length).toBeGreaterThanOrEqual(3);
    // The departures come before the signature lines; dan holds a share, so he is no independent witness.
    const departures = text.indexOf('Departures from separation of duties');
    expect(departures).toBeGreaterThan(0);
    expect(text.indexOf('Operator:')).toBeGreaterThan(departures);
    expect(text).toContain('Wendy Witness Independent: holds no share and no admin identity');
    expect(text).toContain('dan Not independent: also a custodian');
    for (const who of ['carol', 'erin', 'frank', 'gina', 'hugo']) expect(text).toContain(`Custodian: ${who}`);
    expect(text).toContain('Operator: Rita Reshare');
    const h = Buffer.from(lastHash('reshared.jsonl'), 'hex');
    expect(text).toContain(hexGroups(h).join(' '));
    expect(text).toContain(pgpWords(h).join(' '));
    expect(text).not.toContain('REHEARSAL');
  });

  it('prints REHEARSAL on every page of a record that holds a rehearsal', () => {
    ok(kc(dir, 'transcript', 'report', 'rehearsal.jsonl', '--out', 'rehearsal.pdf'));
    const pages = Number(/^Pages:\s+(\d+)$/m.exec(pdf('pdfinfo', 'rehearsal.pdf'))![1]);
    expect(pages).toBeGreaterThan(1);
    for (let p = 1; p <= pages; p++) {
      const r = spawnSync('pdftotext', ['-raw', '-f', String(p), '-l', String(p), join(dir, 'rehearsal.pdf'), '-'], {
        encoding: 'utf8',
      });
      expect(r.stdout.trimStart()).toMatch(/^REHEARSAL — not a production ceremony/);
    }
    expect(pdf('pdftotext', 'rehearsal.pdf')).toContain('REHEARSAL — Key ceremony record — Report test');
    ok(kc(dir, 'transcript', 'report', 'rehearsal.jsonl', '--out', 'rehearsal.html'));
    const html = readFileSync(join(dir, 'rehearsal.html'), 'utf8');
    expect(html).toContain('<title>REHEARSAL — Key ceremony record — Report test</title>');
    expect(html).toContain('<div class="banner" role="note">REHEARSAL');
  });

  it('refuses a record cut before its closing, with the message of transcript verify', () => {
    const lines = readFileSync(join(dir, 'record.jsonl'), 'utf8').trimEnd().split('\n');
    writeFileSync(join(dir, 'cut.jsonl'), lines.slice(0, -1).join('\n') + '\n');
    const r = kc(dir, 'transcript', 'report', 'cut.jsonl', '--out', 'cut.pdf');
    expect(r.code).toBe(1);
    expectCleanFailure(r, /INCOMPLETE: the last ceremony has no closing entry/);
    expect(kc(dir, 'transcript', 'verify', 'cut.jsonl').stderr).toContain(r.stderr.trim());
    expect(spawnSync('test', ['-e', join(dir, 'cut.pdf')]).status).toBe(1);
  });

  it('refuses an altered record', () => {
    const text = readFileSync(join(dir, 'record.jsonl'), 'utf8');
    writeFileSync(join(dir, 'altered.jsonl'), text.replace('"custodian":"dan"', '"custodian":"eve"'));
    const r = kc(dir, 'transcript', 'report', 'altered.jsonl', '--out', 'altered.html');
    expect(r.code).toBe(1);
    expectCleanFailure(r, /ceremony record/);
  });

  it('never overwrites, and says what it wants', () => {
    const again = kc(dir, 'transcript', 'report', 'record.jsonl', '--out', 'report.pdf');
    expect(again.code).toBe(1);
    expectCleanFailure(again, /report\.pdf already exists; nothing was overwritten/);
    const ext = kc(dir, 'transcript', 'report', 'record.jsonl', '--out', 'report.txt');
    expect(ext.code).toBe(2);
    expect(ext.stderr).toContain('--out must name an .html or a .pdf file, not "report.txt"');
    expect(kc(dir, 'transcript', 'report', 'record.jsonl').stderr).toContain('--out is required');
    const help = ok(kc(dir, 'transcript', 'report', '-h'));
    expect(help).toContain('keyceremony transcript report RECORD.jsonl --out REPORT.html|REPORT.pdf');
  });
});

describe('keyceremony script', () => {
  const setup = {
    format: 'keyceremony-setup/1',
    kind: 'recovery',
    mode: 'production',
    ceremonyName: 'Recovery onto new units',
    keyName: 'MK-R',
    operator: 'Olga Operator',
    threshold: 2,
    holders: [
      { name: 'Carol Custodian', medium: 'card', cardSerial: 87654321, bag: 'TE-0101' },
      { name: 'Dan Custodian', medium: 'file', bag: 'TE-0102' },
    ],
    admins: [{ name: 'Alice Admin' }, { name: 'Bob Admin' }],
    witnesses: [{ name: 'Wendy Witness' }],
    units: [{ id: 'unit-9', transportFingerprint: '0f'.repeat(32) }],
  };

  it('prints the script of a setup as PDF: names, materials, fingerprints and every step', () => {
    writeFileSync(join(dir, 'setup.json'), JSON.stringify(setup, null, 2));
    const out = ok(kc(dir, 'script', '--setup', 'setup.json', '--out', 'script.pdf'));
    expect(out).toContain('Ceremony script (recovery, production) of "Recovery onto new units" written to script.pdf');
    expect(pdf('pdfinfo', 'script.pdf')).toMatch(/^Pages:\s+[1-9]\d*$/m);
    const text = pdf('pdftotext', 'script.pdf');
    for (const name of ['Olga Operator', 'Carol Custodian', 'Dan Custodian', 'Alice Admin', 'Wendy Witness'])
      expect(text).toContain(name);
    expect(text).toContain('87654321');
    expect(text).toContain('TE-0102');
    const fp = Buffer.from('0f'.repeat(32), 'hex');
    expect(text).toContain(hexGroups(fp).join(' '));
    expect(text).toContain(pgpWords(fp).join(' '));
    for (const s of CEREMONY_KIND.recovery.steps) expect(text).toContain(s.title);
  });

  it('prints it as HTML too, and refuses a setup that breaks the rules, naming the member', () => {
    ok(kc(dir, 'script', '--setup', 'setup.json', '--out', 'script.html'));
    expect(readFileSync(join(dir, 'script.html'), 'utf8')).toContain('Recovery ceremony');
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...setup, witnesses: [{ name: 'Alice Admin' }] }));
    const bad = kc(dir, 'script', '--setup', 'bad.json', '--out', 'bad.pdf');
    expect(bad.code).toBe(1);
    expectCleanFailure(
      bad,
      /SETUP\.json: A production ceremony needs at least one witness who holds no share and no admin identity: "Alice Admin" is also an admin/,
    );
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ ...setup, witness: [] }));
    expectCleanFailure(kc(dir, 'script', '--setup', 'typo.json', '--out', 'typo.pdf'), /witness is not a member/);
    expectCleanFailure(kc(dir, 'script', '--setup', 'missing.json', '--out', 'm.pdf'), /missing\.json/);
    expect(kc(dir, 'script', '--out', 'x.pdf').code).toBe(2);
    expect(ok(kc(dir, 'script', '--help'))).toContain(
      'keyceremony script --setup SETUP.json --out SCRIPT.html|SCRIPT.pdf',
    );
  });
});

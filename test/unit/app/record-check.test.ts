// The record check (issue 11, ceremony 6) through the handlers main
// registers: a record written by the real writers is checked as
// `keyceremony transcript verify` checks it, its head compared with one typed
// from the report, its history shown as the printed report derives it; a cut
// or altered record is refused with the CLI's sentence.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hexGroups, pgpWords } from '../../../src/core/ceremony/fingerprint.js';
import { incompleteRecordError } from '../../../src/core/ceremony/report.js';
import { CeremonySession } from '../../../src/core/ceremony/session.js';
import { createHandlers, type Handlers } from '../../../src/main/handlers.js';
import type { IpcResult } from '../../../src/shared/ipc.js';
import { ScriptedDialogs } from '../../support/dialogs.js';
import { writeBundleRecord, writeCutRecord, writeLifeRecord, type LifeRecord } from '../../support/life-record.js';

function value<T>(r: IpcResult<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
function error<T>(r: IpcResult<T>): { code: string; message: string } {
  if (r.ok) throw new Error('expected a failure');
  return r.error;
}

describe('the record check (issue 11, ceremony 6)', () => {
  let dir: string;
  let life: LifeRecord;
  let dialogs: ScriptedDialogs;
  let h: Handlers;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kc-record-check-'));
    life = await writeLifeRecord(join(dir, 'life.jsonl'));
  });

  let printed: string[];

  beforeEach(() => {
    dialogs = new ScriptedDialogs();
    printed = [];
    h = handlersWith(dialogs, printed);
  });

  it('shows the head hash and the whole history: ceremonies, shares with their status, the current set', async () => {
    dialogs.answer('openFile', life.path);
    const v = value(await h['record-check:open']([]));
    const head = Buffer.from(life.head, 'hex');
    expect(v).toMatchObject({
      fileName: 'life.jsonl',
      headHash: life.head,
      headGroups: hexGroups(head),
      headWords: pgpWords(head),
      rehearsal: false,
      keyName: 'MK-LIFE',
      kcv: life.kcv,
      currentSet: { threshold: 3, shares: 4, ceremony: 3 },
      end: null,
    });
    expect(v.entries).toBe(readFileSync(life.path, 'utf8').split('\n').length - 1);
    expect(v.ceremonies.map((c) => [c.number, c.kind, c.ceremonyName, c.actors, c.outcome.kind])).toEqual([
      [1, 'Key generation', 'Key generation', ['Olga'], 'completed'],
      [2, 'Re-share ceremony', 'Failed re-share', ['Rita'], 'aborted'],
      [3, 'Re-share ceremony', 'Bob lost his card', ['Rita'], 'completed'],
    ]);
    expect(v.ceremonies[1]!.outcome).toMatchObject({ kind: 'aborted', code: 'InvalidArgument' });
    for (const c of v.ceremonies) expect(c.closed).not.toBeNull();
    const status = (custodian: string, by: number) =>
      v.shares.find((s) => s.custodian === custodian && s.issuedBy === by)!.status;
    expect(status('Bob', 1)).toMatchObject({ kind: 'retired', byCeremony: 3 });
    expect(status('void-x', 2)).toMatchObject({ kind: 'void' });
    expect(status('Frank', 3)).toEqual({ kind: 'current', inCurrentSet: true });
    expect(v.bundles).toEqual([]);
  });

  it('compares a head hash typed from the report with the whole record’s head', async () => {
    expect(error(await h['record-check:compare-head']([{ head: life.head }])).code).toBe('WrongStep');
    dialogs.answer('openFile', life.path);
    value(await h['record-check:open']([]));
    const typed = hexGroups(Buffer.from(life.head, 'hex')).join(' ').toUpperCase();
    expect(value(await h['record-check:compare-head']([{ head: typed }]))).toEqual({
      matches: true,
      typedGroups: hexGroups(Buffer.from(life.head, 'hex')),
    });
    // An earlier entry's hash (the record as it was before the re-shares) is not the head: same rule as --head.
    const earlier = JSON.parse(readFileSync(life.path, 'utf8').split('\n')[2]!).hash as string;
    expect(value(await h['record-check:compare-head']([{ head: earlier }])).matches).toBe(false);
    expect(error(await h['record-check:compare-head']([{ head: 'abcd' }]))).toEqual({
      code: 'InvalidArgument',
      message: 'The head hash must be the 64 hex digits printed on the signed report (spaces allowed).',
      details: {},
    });
  });

  it('refuses a cut record with the sentence `transcript verify` gives, and forgets the record checked before', async () => {
    dialogs.answer('openFile', life.path);
    value(await h['record-check:open']([]));
    const cut = join(dir, 'cut.jsonl');
    writeCutRecord(life.path, cut);
    dialogs.answer('openFile', cut);
    const e = error(await h['record-check:open']([]));
    expect(e).toMatchObject({ code: 'TranscriptInvalid', message: incompleteRecordError().message });
    expect(error(await h['record-check:compare-head']([{ head: life.head }])).code).toBe('WrongStep');
  });

  it('refuses an altered record naming the line, as `transcript verify` does', async () => {
    const lines = readFileSync(life.path, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"Olga"', '"Mallory"');
    const altered = join(dir, 'altered.jsonl');
    writeFileSync(altered, lines.join('\n'));
    dialogs.answer('openFile', altered);
    const e = error(await h['record-check:open']([]));
    expect(e.code).toBe('TranscriptInvalid');
    expect(e.message).toBe(`The ceremony record ${altered} is altered at line 2: the entry does not match its hash.`);
  });

  it('is canceled, changing nothing, when the dialog is closed', async () => {
    dialogs.answer('openFile', null);
    expect(error(await h['record-check:open']([])).code).toBe('Canceled');
  });

  it('prints the opened record’s report: the key’s whole life, its head, the signature lines', async () => {
    expect(error(await h['record-check:print-report']([])).code).toBe('WrongStep');
    dialogs.answer('openFile', life.path);
    value(await h['record-check:open']([]));
    expect(value(await h['record-check:print-report']([]))).toEqual({ printed: true });
    const html = printed.at(-1)!;
    expect(html).toContain('MK-LIFE');
    expect(html).toContain('Bob lost his card');
    expect(html).toContain(hexGroups(Buffer.from(life.head, 'hex')).slice(0, 4).join(' '));
  });
});

describe('the record check opens a bundle of the record (`bundle verify --record`)', () => {
  let dir: string;
  let record: string;
  let bundlePath: string;
  let h: Handlers;
  let dialogs: ScriptedDialogs;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kc-record-check-bundle-'));
    ({ path: record, bundlePath } = await writeBundleRecord(dir));
  });

  beforeEach(() => {
    dialogs = new ScriptedDialogs();
    h = handlersWith(dialogs, []);
  });

  it('shows what the bundle does, who signed it, and where the record holds it', async () => {
    expect(error(await h['record-check:open-bundle']([])).code).toBe('WrongStep');
    dialogs.answer('openFile', record);
    const v = value(await h['record-check:open']([]));
    expect(v.bundles).toHaveLength(1);
    dialogs.answer('openFile', bundlePath);
    const b = value(await h['record-check:open-bundle']([]));
    expect(b).toMatchObject({
      fileName: 'MK-B-bundle-initialize.json',
      payloadHash: v.bundles[0]!.payloadHash,
      rehearsal: false,
      summary: { operation: 'initialize', keyName: 'MK-B' },
      claimAdmins: [{ name: 'Alice', signed: true }],
      signedInRecord: ['Alice'],
    });
    expect(b.signatures.map((x) => [x.name, x.valid])).toEqual([['Alice', true]]);
    expect(b.recordedAt.line).toBeGreaterThan(1);
  });

  it('refuses a bundle altered after signing, and one the record does not hold, with the CLI’s words', async () => {
    dialogs.answer('openFile', record);
    value(await h['record-check:open']([]));
    // One character of the signature changed, the file otherwise byte for byte as written.
    const text = readFileSync(bundlePath, 'utf8');
    const sig = (JSON.parse(text) as { signatures: Array<{ signature: string }> }).signatures[0]!.signature;
    const altered = join(dir, 'altered.json');
    writeFileSync(altered, text.replace(sig, (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)));
    dialogs.answer('openFile', altered);
    const e = error(await h['record-check:open-bundle']([]));
    expect(e.code).toBe('BundleSignatureInvalid');
    expect(e.message).toContain('altered after signing');
    // The same bundle checked against another key's record: not a bundle of that record.
    const other = (await writeLifeRecord(join(dir, 'other.jsonl'))).path;
    dialogs.answer('openFile', other);
    value(await h['record-check:open']([]));
    dialogs.answer('openFile', bundlePath);
    const n = error(await h['record-check:open-bundle']([]));
    expect(n.code).toBe('BundleNotInRecord');
  });
});

function handlersWith(dialogs: ScriptedDialogs, printed: string[]): Handlers {
  const session = new CeremonySession({
    dialogs,
    openCardTransport: async () => {
      throw new Error('no card is touched by a record check');
    },
    renderPdf: async () => new Uint8Array(),
    printHtml: async (html) => {
      printed.push(html);
      return true;
    },
    workDir: mkdtempSync(join(tmpdir(), 'kc-record-check-work-')),
  });
  return createHandlers({
    session,
    appInfo: () => ({ name: 'x', version: '0', networkInterfacesUp: [] }),
    reportBug: (c, e) => {
      throw new Error(`bug in ${c}: ${String(e)}`);
    },
  });
}

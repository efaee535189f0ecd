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
import { writeCutRecord, writeLifeRecord, type LifeRecord } from '../../support/life-record.js';

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

  beforeEach(() => {
    dialogs = new ScriptedDialogs();
    const session = new CeremonySession({
      dialogs,
      openCardTransport: async () => {
        throw new Error('no card is touched by a record check');
      },
      renderPdf: async () => new Uint8Array(),
      printHtml: async () => true,
      workDir: mkdtempSync(join(tmpdir(), 'kc-record-check-work-')),
    });
    h = createHandlers({
      session,
      appInfo: () => ({ name: 'x', version: '0', networkInterfacesUp: [] }),
      reportBug: (c, e) => {
        throw new Error(`bug in ${c}: ${String(e)}`);
      },
    });
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
});

// keyceremony mk reshare (issue 11, ceremony 2) through the built CLI: the
// same key onto a new K'-of-N' set, the old set retired in the same record
// and refused by every later reader (share verify, bundle create, mk reshare),
// with share files and, where pcscd + vpcd run, cards and files mixed.
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emu, expectCleanFailure, exportAndConfirmUnits, kc, ok, passFile, workdir } from '../support/cli.js';
import {
  pcscStackUnavailableReason,
  startPcscStack,
  vpcdReaderName,
  type PcscStack,
  type VirtualCardProcess,
} from '../support/pcsc-stack.js';

/** A share spec as the CLI takes it; a bare name stands for NAME.share=NAME.pass. */
const specOf = (s: string): string => (s.includes('=') ? s : `${s}.share=${s}.pass`);
const kcvOf = (out: string): string => /^KCV ([0-9A-F]{6})$/m.exec(out)![1]!;
const entriesOf = (dir: string, record: string): Array<{ type: string; actor: string }> =>
  readFileSync(join(dir, record), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; actor: string });

const generate = (dir: string, record: string, threshold: number, shares: string[], keyName = 'MK-R'): string =>
  kcvOf(
    ok(
      kc(
        dir,
        'mk',
        'generate',
        '--key-name',
        keyName,
        '--threshold',
        String(threshold),
        ...shares.flatMap((s) => ['--share', specOf(s)]),
        '--record',
        record,
      ),
    ),
  );
const reshare = (dir: string, record: string, from: string[], threshold: number, to: string[], ...more: string[]) =>
  kc(
    dir,
    'mk',
    'reshare',
    '--record',
    record,
    ...from.flatMap((s) => ['--share', specOf(s)]),
    '--threshold',
    String(threshold),
    ...to.flatMap((s) => ['--new-share', specOf(s)]),
    ...more,
  );
const verify = (dir: string, record: string, s: string) =>
  kc(dir, 'share', 'verify', '--record', record, '--share', specOf(s));

describe('keyceremony mk reshare with share files', () => {
  const dir = workdir('kc-reshare-');
  let kcv = '';
  let reshareId = '';

  beforeAll(() => {
    for (const n of ['c1', 'c2', 'c3', 'n1', 'n2', 'n3', 'n4', 'o1', 'o2', 'x1', 'x2'])
      passFile(dir, `${n}.pass`, `custodian ${n} secret`);
    kcv = generate(dir, 'record.jsonl', 2, ['c1', 'c2', 'c3']);
    generate(dir, 'other.jsonl', 2, ['o1', 'o2'], 'OTHER');
  }, 120_000);

  it('answers -h with its usage', () => {
    const out = ok(kc(dir, 'mk', 'reshare', '-h'));
    expect(out).toMatch(
      /^Usage:\n {2}keyceremony mk reshare --record RECORD.jsonl --share PATH=PASSFILE \.\.\. --threshold K/,
    );
    expect(out).toContain('--new-share PATH=PASSFILE|piv:R=PINFILE ... [--ceremony-name NAME] [--actor NAME]');
    expect(kc(dir, 'help').stdout).toContain('keyceremony mk reshare');
  });

  it('refuses bad input with one sentence, exit 1 or 2, and writes nothing', () => {
    const before = readFileSync(join(dir, 'record.jsonl'));
    const refused = [
      [reshare(dir, 'record.jsonl', ['c1', 'c2'], 2, []), 2, /--new-share is required/],
      [
        reshare(dir, 'record.jsonl', ['c1'], 2, ['x1', 'x2']),
        1,
        /2 different shares are needed to rebuild key "MK-R"; 1 was given\./,
      ],
      [
        reshare(dir, 'record.jsonl', ['c1', 'o1'], 2, ['x1', 'x2']),
        1,
        /share file o1\.share belongs to another ceremony \(.*, key "OTHER"\)/,
      ],
      [
        reshare(dir, 'record.jsonl', ['c1', 'c1'], 2, ['x1', 'x2']),
        1,
        /share file c1\.share is share 1 again: two copies of the same share count once\./,
      ],
      [reshare(dir, 'record.jsonl', ['c1', 'c2'], 3, ['x1', 'x2']), 1, /threshold/i],
    ] as const;
    for (const [r, code, pattern] of refused) {
      expectCleanFailure(r, pattern);
      expect(r.code).toBe(code);
    }
    expect(readFileSync(join(dir, 'record.jsonl')).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => /^x\d\.share$/.test(f))).toEqual([]);
  });

  it('re-shares 2 of 3 to 3 of 4 of the same key, in the same record, named for its actor', () => {
    const before = entriesOf(dir, 'record.jsonl').length;
    const out = ok(reshare(dir, 'record.jsonl', ['c3', 'c1'], 3, ['n1', 'n2', 'n3', 'n4'], '--actor', 'Olga Operator'));
    reshareId =
      /^Re-share ([0-9a-f-]{36}): key "MK-R" rebuilt from shares 3, 1 and checked against the record; 3 of 4 new shares$/m.exec(
        out,
      )![1]!;
    expect(out).toContain('Share 4 for n4: n4.share (written, read back and checked)');
    expect(out).toMatch(
      /^Retired: the 3 shares \(2 of 3\) of ceremony [0-9a-f-]{36}; every later ceremony refuses them\./m,
    );
    expect(kcvOf(out)).toBe(kcv);
    const added = entriesOf(dir, 'record.jsonl').slice(before);
    expect(added.map((e) => e.type).join(' ')).toBe(
      'ceremony-opened share-issued share-issued share-issued share-issued shares-retired master-key-wiped ceremony-closed',
    );
    expect(new Set(added.map((e) => e.actor))).toEqual(new Set(['Olga Operator']));
    expect(ok(kc(dir, 'transcript', 'verify', 'record.jsonl'))).toMatch(
      /Ceremony 2 \(lines \d+-\d+, key "MK-R", ceremony [0-9a-f-]{36}\): completed/,
    );
  });

  it('share verify refuses an old share, naming the re-share; a new share verifies', () => {
    const r = verify(dir, 'record.jsonl', 'c2');
    expectCleanFailure(
      r,
      new RegExp(
        `share file c2\\.share is share 2 of ceremony .*, which the re-share "re-share of MK-R" \\(ceremony ${reshareId}, record line \\d+, .*\\) retired: it can no longer be used; use a share of the current set \\(3 of 4`,
      ),
    );
    expect(r.code).toBe(1);
    const out = ok(verify(dir, 'record.jsonl', 'n2'));
    expect(out).toMatch(/^OK: share file n2\.share is share 2 of 4 \(threshold 3\) of key "MK-R"$/m);
    expect(out).toContain(`KCV ${kcv}`);
  });

  it('mk reshare refuses old shares too, and needs 3 of the new ones now', () => {
    expectCleanFailure(
      reshare(dir, 'record.jsonl', ['c1', 'c2'], 2, ['x1', 'x2']),
      new RegExp(`share file c1\\.share is share 1 of ceremony .* \\(ceremony ${reshareId}, record line \\d+`),
    );
    expectCleanFailure(
      reshare(dir, 'record.jsonl', ['n1', 'n4'], 2, ['x1', 'x2']),
      /3 different shares are needed to rebuild key "MK-R"; 2 were given\./,
    );
  });

  it('bundle create refuses old shares naming the re-share, and loads the same key from the new ones', () => {
    passFile(dir, 'admin.pass', 'admin passphrase');
    ok(kc(dir, 'identity', 'generate', '--name', 'ada', '--out', 'ada.id', '--passphrase-file', 'admin.pass'));
    ok(kc(dir, 'identity', 'cert', 'ada.id', '--out', 'ada.crt'));
    ok(emu(dir, 'init', '--state', 'emu', '--units', '2'));
    const transports = exportAndConfirmUnits(dir, 'emu', 'transport', 'record.jsonl').flatMap((t) => [
      '--transport',
      t,
    ]);
    const create = (shares: string[], out: string) =>
      kc(
        dir,
        'bundle',
        'create',
        '--operation',
        'recover',
        '--record',
        'record.jsonl',
        ...shares.flatMap((s) => ['--share', specOf(s)]),
        ...transports,
        '--admin',
        'ada.crt',
        '--signature-threshold',
        '1',
        '--out',
        out,
      );
    expectCleanFailure(
      create(['c1', 'c3'], 'old.json'),
      new RegExp(`c1\\.share is share 1 .* \\(ceremony ${reshareId}, record line`),
    );
    expect(readdirSync(dir)).not.toContain('old.json');
    expect(ok(create(['n3', 'n1', 'n2'], 'new.json'))).toContain(kcv);
  });

  it('a re-share stopped before its closing leaves the old shares valid; the next one closes it as aborted', () => {
    copyFileSync(join(dir, 'other.jsonl'), join(dir, 'stopped.jsonl'));
    ok(reshare(dir, 'stopped.jsonl', ['o1', 'o2'], 2, ['x1', 'x2']));
    // What a kill after the retirement and before the wipe and closing leaves.
    const lines = readFileSync(join(dir, 'stopped.jsonl'), 'utf8').trimEnd().split('\n');
    writeFileSync(join(dir, 'stopped.jsonl'), lines.slice(0, -2).join('\n') + '\n');
    expect(lines.at(-3)).toContain('"type":"shares-retired"');
    ok(verify(dir, 'stopped.jsonl', 'o1'));
    expectCleanFailure(
      verify(dir, 'stopped.jsonl', 'x1'),
      /x1\.share belongs to the re-share .* of key "OTHER", which has no closing entry/,
    );
    const out = ok(reshare(dir, 'stopped.jsonl', ['o2', 'o1'], 2, ['y1.share=x1.pass', 'y2.share=x2.pass']));
    expect(out).toMatch(
      /^The re-share opened at line \d+ was stopped before it ended; it is now closed as aborted and its shares are void \(destroy x1\.share, x2\.share, and any other share it wrote\)\.$/m,
    );
    ok(kc(dir, 'transcript', 'verify', 'stopped.jsonl'));
    ok(verify(dir, 'stopped.jsonl', 'y1.share=x1.pass'));
    expectCleanFailure(verify(dir, 'stopped.jsonl', 'x1'), /which was aborted \(stopped before it ended/);
    expectCleanFailure(verify(dir, 'stopped.jsonl', 'o1'), /retired/);
  });
});

// Cards and files mixed, through pcscd + vpcd (skipped where the stack is not installed).
const unavailable = pcscStackUnavailableReason();
if (unavailable) console.warn(`Skipping the card re-share tests: ${unavailable}.`);
const PORT_A = 35963;
const PORT_B = 35964;
const A = vpcdReaderName(PORT_A);
const B = vpcdReaderName(PORT_B);

describe.skipIf(!!unavailable)('keyceremony mk reshare with cards and files mixed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kc-reshare-cards-'));
  let stack: PcscStack;
  let cardA: VirtualCardProcess;
  let cardB: VirtualCardProcess;

  beforeAll(async () => {
    stack = await startPcscStack([
      { stateFile: join(dir, 'a.card.json'), port: PORT_A },
      { stateFile: join(dir, 'b.card.json'), port: PORT_B },
    ]);
    [cardA, cardB] = stack.cards as [VirtualCardProcess, VirtualCardProcess];
    passFile(dir, 'default.pin', '123456');
    passFile(dir, 'a.pin', '246813');
    passFile(dir, 'b.pin', '135792');
    passFile(dir, 'a.puk', '86420864');
    passFile(dir, 'b.puk', '97531975');
    for (const n of ['f1', 'f2', 'g1', 'g2']) passFile(dir, `${n}.pass`, `custodian ${n} secret`);
    for (const [reader, name] of [
      [A, 'a'],
      [B, 'b'],
    ] as const)
      ok(
        kc(
          dir,
          'card',
          'prepare',
          '--reader',
          reader,
          '--pin-file',
          'default.pin',
          '--new-pin-file',
          `${name}.pin`,
          '--new-puk-file',
          `${name}.puk`,
        ),
      );
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('card A and a file in, card A (again), card B and two files out; the old card share is refused, the new ones verify', () => {
    const kcv = generate(dir, 'record.jsonl', 2, [`piv:${A}=a.pin`, 'f1', 'f2'], 'MK-C');
    // f2's custodian left: A and f1 bring their shares; A takes a new one on the same card.
    const out = ok(
      reshare(dir, 'record.jsonl', [`piv:${A}=a.pin`, 'f1'], 3, [`piv:${A}=a.pin`, `piv:${B}=b.pin`, 'g1', 'g2']),
    );
    expect(out).toMatch(
      new RegExp(`Share 1 for card ${A}: card ${cardA.serial} slot 83 \\(written, read back and checked\\)`),
    );
    expect(out).toMatch(new RegExp(`Share 2 for card ${B}: card ${cardB.serial} slot 82`));
    expect(kcvOf(out)).toBe(kcv);
    // Card A holds a retired share (slot 82) and a current one (slot 83): the current one is read.
    expect(ok(verify(dir, 'record.jsonl', `piv:${A}=a.pin`))).toMatch(/is share 1 of 4 \(threshold 3\)/);
    ok(verify(dir, 'record.jsonl', `piv:${B}=b.pin`));
    expectCleanFailure(verify(dir, 'record.jsonl', 'f2'), /retired/);
    // The new set rebuilds the key: another re-share from three of it, cards and files mixed.
    const again = ok(
      reshare(dir, 'record.jsonl', [`piv:${B}=b.pin`, 'g2', `piv:${A}=a.pin`], 2, [
        'h1.share=f1.pass',
        'h2.share=f2.pass',
      ]),
    );
    expect(kcvOf(again)).toBe(kcv);
  });
});

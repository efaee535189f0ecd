import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  holderOfIssued,
  LaterPapers,
  laterSetupFile,
  namesOfPlan,
  type LaterFacts,
  type LaterKind,
  type PaperNames,
} from '../../../src/core/ceremony/later-papers.js';
import { RecoverySession } from '../../../src/core/ceremony/recovery-session.js';
import { ReshareSession } from '../../../src/core/ceremony/reshare-session.js';
import { RotationSession } from '../../../src/core/ceremony/rotation-session.js';
import { SerialQueue } from '../../../src/core/ceremony/serial-queue.js';
import { serializeSetupFile } from '../../../src/core/ceremony/setup-file.js';
import { UnitsBundleSession } from '../../../src/core/ceremony/units-bundle-session.js';
import { CeremonyError } from '../../../src/core/errors.js';

// The later ceremonies' papers (issue 11): the setup each wizard assembles
// from its session, printed as the script, saved and opened as SETUP.json.

const FP1 = 'ab'.repeat(32);
const FP2 = 'cd'.repeat(32);
const UNITS = [
  { id: 'unit-1', transportFingerprint: FP1 },
  { id: 'unit-2', transportFingerprint: FP2 },
];
const NAMES = { operator: 'Olga Operator', witnesses: ['Wendy Witness'] };

const FACTS: { [K in LaterKind]: LaterFacts } = {
  recovery: {
    kind: 'recovery',
    rehearsal: false,
    keyName: 'MK-2025',
    threshold: 2,
    holders: [
      { name: 'Carol', medium: 'card', cardSerial: 12345678 },
      { name: 'Dan', medium: 'file' },
      { name: 'Erin', medium: 'file' },
    ],
    custodians: [],
    admins: [{ name: 'Alice Admin' }, { name: 'Bob Admin' }],
    units: UNITS,
    thresholds: { signatureThreshold: 2, revocationThreshold: 2 },
  },
  reshare: {
    kind: 'reshare',
    rehearsal: false,
    keyName: 'MK-2025',
    threshold: 2,
    holders: [
      { name: 'Carol', medium: 'card', cardSerial: 12345678 },
      { name: 'Dan', medium: 'file' },
    ],
    custodians: [
      { name: 'Dan', medium: 'file' },
      { name: 'Frank', medium: 'card' },
      { name: 'Gina', medium: 'file' },
    ],
    admins: [],
    units: [],
  },
  'admin-change': {
    kind: 'admin-change',
    rehearsal: false,
    keyName: 'MK-2025',
    holders: [],
    custodians: [],
    admins: [{ name: 'Alice Admin' }, { name: 'Bob Admin' }, { name: 'Hugo Admin' }],
    units: UNITS,
    thresholds: { signatureThreshold: 2, revocationThreshold: 3 },
  },
  rotation: {
    kind: 'rotation',
    rehearsal: false,
    keyName: 'MK-2026',
    threshold: 2,
    holders: [],
    custodians: [
      { name: 'Carol', medium: 'card' },
      { name: 'Dan', medium: 'file' },
    ],
    admins: [{ name: 'Alice Admin' }, { name: 'Bob Admin' }],
    units: UNITS,
  },
  zeroize: {
    kind: 'zeroize',
    rehearsal: true,
    keyName: 'MK-2025',
    holders: [],
    custodians: [],
    admins: [{ name: 'Alice Admin' }, { name: 'Bob Admin' }],
    units: UNITS,
  },
};

describe('laterSetupFile', () => {
  it('assembles the recovery setup: the holders with their media, the admins and thresholds, the units', () => {
    const s = laterSetupFile(FACTS.recovery, NAMES);
    expect(s).toMatchObject({
      kind: 'recovery',
      mode: 'production',
      ceremonyName: 'Recovery ceremony — MK-2025',
      keyName: 'MK-2025',
      operator: 'Olga Operator',
      threshold: 2,
      holders: FACTS.recovery.holders,
      custodians: [],
      admins: FACTS.recovery.admins,
      witnesses: [{ name: 'Wendy Witness' }],
      units: UNITS,
      signatureThreshold: 2,
      revocationThreshold: 2,
    });
  });

  it('assembles a recovery from the paper report: no custodian and no K before the shares come in', () => {
    const s = laterSetupFile({ ...FACTS.recovery, threshold: undefined, holders: [] }, NAMES);
    expect(s).toMatchObject({ kind: 'recovery', holders: [], admins: FACTS.recovery.admins, units: UNITS });
    expect(s.threshold).toBeUndefined();
  });

  it('assembles the re-share setup: who brings the current shares, and the new set K of N', () => {
    const s = laterSetupFile(FACTS.reshare, { ...NAMES, ceremonyName: 'Re-share after Erin left' });
    expect(s).toMatchObject({ kind: 'reshare', ceremonyName: 'Re-share after Erin left', threshold: 2 });
    expect(s.holders.map((h) => h.name)).toEqual(['Carol', 'Dan']);
    expect(s.custodians.map((c) => [c.name, c.medium])).toEqual([
      ['Dan', 'file'],
      ['Frank', 'card'],
      ['Gina', 'file'],
    ]);
    expect(s.units).toEqual([]);
  });

  it('assembles the admin change setup with the thresholds it sets', () => {
    const s = laterSetupFile(FACTS['admin-change'], NAMES);
    expect(s).toMatchObject({ kind: 'admin-change', signatureThreshold: 2, revocationThreshold: 3 });
    expect(s.admins.map((a) => a.name)).toEqual(['Alice Admin', 'Bob Admin', 'Hugo Admin']);
  });

  it('assembles the rotation setup: the new key, its custodians, the signing admins, the units', () => {
    const s = laterSetupFile(FACTS.rotation, NAMES);
    expect(s).toMatchObject({ kind: 'rotation', keyName: 'MK-2026', threshold: 2, units: UNITS });
    expect(s.signatureThreshold).toBeUndefined();
  });

  it('assembles a zeroize setup of a rehearsal, which needs no witness', () => {
    const s = laterSetupFile(FACTS.zeroize, { operator: 'Olga Operator', witnesses: [] });
    expect(s).toMatchObject({ kind: 'zeroize', mode: 'rehearsal', witnesses: [] });
  });

  it('refuses a production ceremony without an independent witness (the roster rule), naming what to do', () => {
    expect(() => laterSetupFile(FACTS.rotation, { operator: 'Olga Operator', witnesses: [] })).toThrow(
      /needs at least one witness who holds no share and no admin identity; add one/,
    );
    expect(() => laterSetupFile(FACTS.rotation, { operator: 'Olga Operator', witnesses: ['Alice Admin'] })).toThrow(
      /"Alice Admin" is also an admin/,
    );
  });

  it('refuses a blank operator name', () => {
    expect(() => laterSetupFile(FACTS.zeroize, { operator: '  ', witnesses: [] })).toThrow(/The operator name must be/);
  });
});

describe('namesOfPlan', () => {
  const plan = (facts: LaterFacts, names: PaperNames = NAMES) => serializeSetupFile(laterSetupFile(facts, names));

  it('gives the names of a plan of the same kind and key', () => {
    expect(namesOfPlan(plan(FACTS.recovery, { ...NAMES, ceremonyName: 'Region B' }), FACTS.recovery)).toEqual({
      ceremonyName: 'Region B',
      operator: 'Olga Operator',
      witnesses: ['Wendy Witness'],
    });
  });

  it('refuses a plan of another kind of ceremony, saying which', () => {
    const e = (() => {
      try {
        namesOfPlan(plan(FACTS.rotation), FACTS.recovery);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(CeremonyError);
    expect((e as CeremonyError).code).toBe('InvalidArgument');
    expect((e as Error).message).toBe(
      'This plan is for a rotation ceremony, not a recovery ceremony: open the plan of this ceremony.',
    );
  });

  it('refuses a plan of another key', () => {
    expect(() => namesOfPlan(plan(FACTS.recovery), { ...FACTS.recovery, keyName: 'MK-OTHER' })).toThrow(
      'This plan is for key "MK-2025", but this ceremony is about key "MK-OTHER": open the plan of this key.',
    );
  });
});

describe('holderOfIssued', () => {
  it('reads the card serial from the location the record gives a card share', () => {
    const base = { shareIndex: 1, custodian: 'Carol', commitment: 'x', issued: 't' };
    expect(holderOfIssued({ ...base, medium: 'card', location: 'card 12345678 slot 82' })).toEqual({
      name: 'Carol',
      medium: 'card',
      cardSerial: 12345678,
    });
    expect(holderOfIssued({ ...base, medium: 'file', location: 'MK-share-1.json' })).toEqual({
      name: 'Carol',
      medium: 'file',
    });
  });
});

describe('LaterPapers', () => {
  function desk(answers: { open?: string; save?: string }) {
    const printed: string[] = [];
    const papers = new LaterPapers(
      {
        dialogs: {
          openFile: async () => answers.open ?? null,
          saveFile: async () => answers.save ?? null,
          chooseFolder: async () => null,
        },
        printHtml: async (html) => {
          printed.push(html);
          return true;
        },
      },
      () => new Date('2026-01-02T03:04:05Z'),
    );
    return { papers, printed };
  }

  it('prints the script with the names, the fingerprints and a box per step', async () => {
    const { papers, printed } = desk({});
    expect(await papers.printScript(FACTS.recovery, NAMES)).toEqual({ printed: true });
    const html = printed[0]!;
    expect(html).toContain('Ceremony script — Recovery ceremony');
    expect(html).toContain('Wendy Witness');
    expect(html).toContain('Olga Operator');
    expect(html).toContain('12345678');
    expect(html).toContain('ABAB ABAB');
  });

  it('prints a paper recovery\u2019s script saying its custodians are named as their shares come in, inventing none', async () => {
    const { papers, printed } = desk({});
    const paper = { ...FACTS.recovery, threshold: undefined, holders: [] };
    expect(await papers.printScript(paper, NAMES)).toEqual({ printed: true });
    const html = printed[0]!;
    expect(html).toContain('Custodians bringing shares: named as their shares come in');
    expect(html).toContain('Any K of the key&#39;s shares (K as the shares themselves say: the record is lost)');
    expect(html).toContain('Smart cards or share files of the custodians bringing shares');
    expect(html).toContain('each signs the report printed from the new record at the end');
    for (const invented of ['Carol', 'Dan', 'Erin']) expect(html).not.toContain(invented);
  });

  it('saves the plan it prints, and opens it again for its names; never over a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'papers-'));
    const path = join(dir, 'SETUP.json');
    const { papers } = desk({ save: path, open: path });
    const saved = await papers.savePlan(FACTS.rotation, NAMES);
    expect(saved.fileName).toBe('SETUP.json');
    expect(readFileSync(path, 'utf8')).toContain('"kind": "rotation"');
    const opened = await papers.openPlan(FACTS.rotation);
    expect(opened.sha256).toBe(saved.sha256);
    expect(opened.names).toMatchObject(NAMES);
    await expect(papers.savePlan(FACTS.rotation, NAMES)).rejects.toThrow(/exists/);
    await expect(papers.openPlan(FACTS.recovery)).rejects.toThrow(/This plan is for a rotation ceremony/);
  });

  it('names a rehearsal’s plan REHEARSAL-, whatever name is typed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'papers-'));
    const { papers } = desk({ save: join(dir, 'SETUP.json') });
    const saved = await papers.savePlan({ ...FACTS.rotation, rehearsal: true }, NAMES);
    expect(saved.fileName).toBe('REHEARSAL-SETUP.json');
    expect(readFileSync(join(dir, 'REHEARSAL-SETUP.json'), 'utf8')).toContain('"mode": "rehearsal"');
  });

  it('refuses a file that is not a plan, naming the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'papers-'));
    const path = join(dir, 'SETUP.json');
    writeFileSync(path, '{"format":"keyceremony-setup/1","kind":"rotation"}');
    await expect(desk({ open: path }).papers.openPlan(FACTS.rotation)).rejects.toThrow(/^SETUP\.json: /);
  });
});

describe('the later sessions as their papers see them', () => {
  it('refuse the script before they know who takes part and the report before they are done (WrongStep)', () => {
    const ports = { queue: new SerialQueue(), now: () => new Date() } as never;
    for (const session of [
      new RecoverySession(ports),
      new ReshareSession(ports),
      new RotationSession(ports),
      new UnitsBundleSession(ports),
    ]) {
      for (const call of [() => session.papersFacts(), () => session.reportRecordPath()]) {
        let code: string | undefined;
        try {
          call();
        } catch (e) {
          code = (e as CeremonyError).code;
        }
        expect(code, session.constructor.name).toBe('WrongStep');
      }
    }
  });
});

// The Set up's plan (issue 11: "The app's Set up can export and import
// SETUP.json, so a ceremony's plan can be reviewed and signed off before the
// day"): written from the form, read back into it, recorded at Start, and
// its script printed — through the same handlers main registers, with
// scripted dialogs.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CeremonySession } from '../../../src/core/ceremony/session.js';
import { serializeSetupFile } from '../../../src/core/ceremony/setup-file.js';
import { planOfForm } from '../../../src/core/ceremony/setup-plan.js';
import { readTranscript } from '../../../src/core/ceremony/transcript.js';
import { exportTransportFiles, initInstance } from '../../../src/emulator/instance.js';
import { createHandlers, type Handlers } from '../../../src/main/handlers.js';
import { rehearsalPorts } from '../../../src/main/rehearsal.js';
import type { CeremonySetup, IpcResult, PlanForm } from '../../../src/shared/ipc.js';
import { ScriptedDialogs } from '../../support/dialogs.js';

function value<T>(r: IpcResult<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
function error<T>(r: IpcResult<T>): { code: string; message: string } {
  if (r.ok) throw new Error('expected a failure');
  return r.error;
}
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

const setup: CeremonySetup = {
  ceremonyName: 'Production MK 2026',
  keyName: 'prod-mk',
  threshold: 2,
  signatureThreshold: 2,
  revocationThreshold: 1,
  operator: 'Olivia',
  admins: [
    { name: 'Alice', medium: 'card' },
    { name: 'Bob', medium: 'file' },
  ],
  custodians: [
    { name: 'Dora', medium: 'card' },
    { name: 'Erik', medium: 'file' },
    { name: 'Fatima', medium: 'file' },
  ],
  witnesses: ['Wendy'],
  reasons: {},
};
const FP = 'ab'.repeat(32);
const form: PlanForm = {
  setup,
  units: [
    { id: 'unit-1', transportFingerprint: FP },
    { id: 'unit-2', transportFingerprint: null },
  ],
};

/** A plan as someone writes it by hand before the day. */
const handWritten = {
  format: 'keyceremony-setup/1',
  kind: 'initial',
  mode: 'production',
  ceremonyName: 'Region B',
  keyName: 'mk-b',
  operator: 'Olga',
  threshold: 2,
  custodians: [
    { name: 'Cat', medium: 'card', cardSerial: 12345678, bag: 'TE-001' },
    { name: 'Dan', medium: 'file' },
  ],
  admins: [{ name: 'Ann', medium: 'file' }, { name: 'Ben' }],
  witnesses: [{ name: 'Wim' }],
  units: [{ id: 'unit-1', transportFingerprint: FP.toUpperCase() }],
  signatureThreshold: 2,
  revocationThreshold: 2,
};

describe('the Set up plan (SETUP.json)', () => {
  let dir: string;
  let dialogs: ScriptedDialogs;
  let printed: string[];
  let session: CeremonySession;
  let h: Handlers;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kc-plan-'));
    dialogs = new ScriptedDialogs();
    printed = [];
    session = new CeremonySession({
      dialogs,
      openCardTransport: async () => {
        throw new Error('no card is touched by a plan');
      },
      renderPdf: async () => Buffer.from('%PDF-1.4'),
      printHtml: async (html) => {
        printed.push(html);
        return true;
      },
      workDir: dir,
    });
    h = createHandlers({
      session,
      appInfo: () => ({ name: 'x', version: '0', networkInterfacesUp: [] }),
      reportBug: (c, e) => {
        throw new Error(`bug in ${c}: ${String(e)}`);
      },
    });
  });

  function writePlan(name: string, plan: unknown): string {
    const path = join(dir, name);
    writeFileSync(path, typeof plan === 'string' ? plan : JSON.stringify(plan, null, 2));
    return path;
  }

  async function open(path: string) {
    dialogs.answer('openFile', path);
    return h['plan:open']([]);
  }

  describe('saving the form as a plan', () => {
    it('writes what serializeSetupFile gives for the checked form, an initial production ceremony, and its SHA-256', async () => {
      const path = join(dir, 'SETUP.json');
      dialogs.answer('saveFile', path);
      // Spaces around names are trimmed by the Set up's check, as Start does.
      const v = value(await h['plan:save']([{ ...form, setup: { ...setup, operator: '  Olivia ' } }]));
      const written = readFileSync(path, 'utf8');
      expect(written).toBe(
        serializeSetupFile(planOfForm(setup, [{ id: 'unit-1', transportFingerprint: FP }, { id: 'unit-2' }])),
      );
      expect(JSON.parse(written)).toMatchObject({ kind: 'initial', mode: 'production', operator: 'Olivia' });
      expect(v.fileName).toBe('SETUP.json');
      expect(v.sha256).toBe(sha256(written));
      expect(v.sha256Groups.join('').toLowerCase()).toBe(v.sha256);
      expect(v.sha256Words).toHaveLength(32);
      expect(dialogs.asked).toEqual([{ kind: 'saveFile', title: 'Save the ceremony plan (SETUP.json)' }]);
      expect(session.inProgress()).toBe(false);
    });

    it('never overwrites a file', async () => {
      const path = writePlan('SETUP.json', 'the approved plan\n');
      dialogs.answer('saveFile', path);
      const e = error(await h['plan:save']([form]));
      expect(e.code).toBe('OutputExists');
      expect(e.message).toBe(`${path} already exists; nothing was overwritten. Choose another name.`);
      expect(readFileSync(path, 'utf8')).toBe('the approved plan\n');
    });

    it('refuses a form that breaks a rule of the Set up, naming the person, before any dialog opens', async () => {
      const e = error(await h['plan:save']([{ ...form, setup: { ...setup, witnesses: ['Dora'] } }]));
      expect(e).toMatchObject({ code: 'InvalidArgument' });
      expect(e.message).toMatch(/^A production ceremony needs at least one witness .*"Dora" is also a custodian/);
      const noUnits = error(await h['plan:save']([{ ...form, units: [] }]));
      expect(noUnits.message).toMatch(/^A plan names the crypto units its bundle goes to/);
      const badFp = error(await h['plan:save']([{ ...form, units: [{ id: 'u', transportFingerprint: 'abc' }] }]));
      expect(badFp.message).toMatch(/^Unit 1's transport key fingerprint must be the 64 hex digits/);
      expect(dialogs.asked).toEqual([]);
      expect(readdirSync(dir)).toEqual([]);
    });

    it('comes back into the form as it was saved', async () => {
      const path = join(dir, 'SETUP.json');
      dialogs.answer('saveFile', path);
      const saved = value(await h['plan:save']([form]));
      const opened = value(await open(path));
      expect(opened.setup).toEqual(setup);
      expect(opened.units).toEqual(form.units);
      expect(opened.sha256).toBe(saved.sha256);
      expect(opened.notes).toEqual([]);
    });
  });

  describe('saving a plan filled from another', () => {
    it('keeps the card serials and bag numbers the form has no field for, and says so', async () => {
      const plan = value(await open(writePlan('region-b.json', handWritten)));
      const path = join(dir, 'SETUP-again.json');
      dialogs.answer('saveFile', path);
      const saved = value(
        await h['plan:save']([{ setup: plan.setup, units: plan.units, fromPlan: { sha256: plan.sha256 } }]),
      );
      const again = JSON.parse(readFileSync(path, 'utf8')) as typeof handWritten;
      expect(again.custodians).toEqual(handWritten.custodians);
      expect(saved.notes).toEqual([
        'Kept from the plan it was filled from, as the form has no field for them: the card serials and bag numbers of "Cat" (card serial 12345678, bag TE-001).',
      ]);
    });

    it('drops them for a custodian who left the form, naming what was dropped; none without the plan', async () => {
      const plan = value(await open(writePlan('region-b.json', handWritten)));
      const custodians = [
        { name: 'Dan', medium: 'file' as const },
        { name: 'Gus', medium: 'card' as const },
      ];
      const path = join(dir, 'SETUP-changed.json');
      dialogs.answer('saveFile', path);
      const saved = value(
        await h['plan:save']([
          { setup: { ...plan.setup, custodians }, units: plan.units, fromPlan: { sha256: plan.sha256 } },
        ]),
      );
      expect(JSON.parse(readFileSync(path, 'utf8')).custodians).toEqual(custodians);
      expect(saved.notes).toEqual([
        expect.stringMatching(
          /^Not kept: the card serials and bag numbers of "Cat" \(card serial 12345678, bag TE-001; no longer a custodian\)\./,
        ),
      ]);
      dialogs.answer('saveFile', join(dir, 'SETUP-bare.json'));
      expect(value(await h['plan:save']([{ setup: plan.setup, units: plan.units }])).notes).toEqual([]);
    });

    it('prints the serials of the plan it came from in the script of a changed form', async () => {
      const plan = value(await open(writePlan('region-b.json', handWritten)));
      const changed = { ...plan.setup, ceremonyName: 'Region B, second try' };
      value(await h['plan:print-script']([{ setup: changed, units: plan.units, fromPlan: { sha256: plan.sha256 } }]));
      expect(printed[0]).toContain('Region B, second try');
      expect(printed[0]).toContain('12345678');
      expect(printed[0]).toContain('TE-001');
    });
  });

  describe('opening a plan', () => {
    it('fills the form: admins without a medium on a card (said in a note), serials and bags noted, the file\u2019s SHA-256', async () => {
      const path = writePlan('region-b.json', handWritten);
      const v = value(await open(path));
      expect(v.setup).toEqual({
        ceremonyName: 'Region B',
        keyName: 'mk-b',
        threshold: 2,
        signatureThreshold: 2,
        revocationThreshold: 2,
        operator: 'Olga',
        admins: [
          { name: 'Ann', medium: 'file' },
          { name: 'Ben', medium: 'card' },
        ],
        custodians: [
          { name: 'Cat', medium: 'card' },
          { name: 'Dan', medium: 'file' },
        ],
        witnesses: ['Wim'],
        reasons: {},
      });
      expect(v.units).toEqual([{ id: 'unit-1', transportFingerprint: FP }]);
      expect(v.fileName).toBe('region-b.json');
      expect(v.sha256).toBe(sha256(readFileSync(path)));
      expect(v.notes).toEqual([
        expect.stringMatching(/^The plan leaves open where "Ben" keeps an admin identity; the form sets a smart card/),
        expect.stringMatching(
          /^The card serials and bag numbers of the plan are not on the form: .* saving the form as a plan \(or printing its script\) keeps them for each custodian who keeps their name and medium\.$/,
        ),
      ]);
      expect(session.inProgress()).toBe(false); // nothing starts until Start
    });

    it('refuses another kind, saying it runs from the command line', async () => {
      const { threshold: _t, custodians: _c, signatureThreshold: _s, revocationThreshold: _r, ...rest } = handWritten;
      const e = error(await open(writePlan('zeroize.json', { ...rest, kind: 'zeroize' })));
      expect(e.code).toBe('InvalidArgument');
      expect(e.message).toMatch(
        /^This plan is for a ceremony of kind "zeroize" \(.*\); the app's Set up runs the initial ceremony only for now\. Run this one with the keyceremony command line until the app has it\.$/,
      );
    });

    it('refuses a rehearsal plan, saying where rehearsals run', async () => {
      const e = error(await open(writePlan('r.json', { ...handWritten, mode: 'rehearsal' })));
      expect(e.message).toMatch(
        /^This plan is a rehearsal \(mode "rehearsal"\); the app runs production ceremonies only/,
      );
    });

    it('refuses a broken file naming the member that is wrong', async () => {
      const broken = { ...handWritten, custodians: [handWritten.custodians[0], { name: 'Dan', medium: 'usb' }] };
      expect(error(await open(writePlan('b1.json', broken))).message).toBe(
        'SETUP.json: custodians[1].medium must be one of "card", "file".',
      );
      expect(error(await open(writePlan('b2.json', { ...handWritten, witness: [] }))).message).toMatch(
        /^SETUP\.json: witness is not a member of keyceremony-setup\/1/,
      );
      expect(error(await open(writePlan('b3.json', '{"format":'))).message).toBe('SETUP.json: the file is not JSON.');
      expect(error(await open(writePlan('b4.bin', Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1')))).code).toBe(
        'InvalidArgument',
      );
      const twoHats = { ...handWritten, witnesses: [{ name: 'Cat' }] };
      expect(error(await open(writePlan('b5.json', twoHats))).message).toMatch(
        /^SETUP\.json: A production ceremony needs at least one witness .*"Cat" is also a custodian/,
      );
    });

    it('refuses a file larger than a plan without reading it', async () => {
      const e = error(await open(writePlan('big.json', ' '.repeat(300 * 1024))));
      expect(e.message).toMatch(/this tool reads at most 262144 bytes of it/);
    });

    it('is for a new ceremony only', async () => {
      value(await h['ceremony:start']([setup]));
      const e = error(await h['plan:open']([]));
      expect(e.code).toBe('WrongStep');
      expect(dialogs.asked).toEqual([]);
    });
  });

  describe('starting from a plan', () => {
    function opening(): Record<string, unknown> {
      const [record] = readdirSync(dir).filter((f) => f.startsWith('ceremony-'));
      return readTranscript(join(dir, record!))[0]!.data;
    }

    it('records the plan\u2019s SHA-256 in the ceremony\u2019s opening', async () => {
      const path = writePlan('region-b.json', handWritten);
      const plan = value(await open(path));
      value(await h['ceremony:start']([{ ...plan.setup, fromPlan: { sha256: plan.sha256 } }]));
      expect(opening()['plan']).toEqual({ sha256: sha256(readFileSync(path)), file: 'region-b.json' });
    });

    it('names the plan the form was just saved as', async () => {
      dialogs.answer('saveFile', join(dir, 'SETUP.json'));
      const saved = value(await h['plan:save']([form]));
      value(await h['ceremony:start']([{ ...setup, fromPlan: { sha256: saved.sha256 } }]));
      expect(opening()['plan']).toEqual({ sha256: sha256(readFileSync(join(dir, 'SETUP.json'))), file: 'SETUP.json' });
    });

    it('records what the form changed before Start', async () => {
      const plan = value(await open(writePlan('region-b.json', handWritten)));
      value(
        await h['ceremony:start']([{ ...plan.setup, witnesses: ['Wim', 'Xena'], fromPlan: { sha256: plan.sha256 } }]),
      );
      expect(opening()['plan']).toEqual({
        sha256: plan.sha256,
        file: 'region-b.json',
        changedBeforeStart: ['witnesses'],
      });
    });

    it('records no plan without one, and refuses a plan it did not open', async () => {
      const e = error(await h['ceremony:start']([{ ...setup, fromPlan: { sha256: 'a'.repeat(64) } }]));
      expect(e.message).toBe('The plan the form names was not opened or saved here; open it again with "Open a plan".');
      expect(session.inProgress()).toBe(false);
      const bad = error(await h['ceremony:start']([{ ...setup, fromPlan: { sha256: 'A'.repeat(64) } }]));
      expect(bad.code).toBe('invalid-request');
      value(await h['ceremony:start']([setup]));
      expect(opening()).not.toHaveProperty('plan');
    });
  });

  describe('printing the ceremony script', () => {
    it('prints the opened plan\u2019s own file with its SHA-256 while the form follows it', async () => {
      const plan = value(await open(writePlan('region-b.json', handWritten)));
      const units = plan.units.map((u) => ({ ...u }));
      expect(
        value(await h['plan:print-script']([{ setup: plan.setup, units, fromPlan: { sha256: plan.sha256 } }])),
      ).toEqual({ printed: true });
      expect(printed[0]).toContain(plan.sha256Groups.join(' '));
      expect(printed[0]).toContain('12345678'); // the card serial the form does not hold
      expect(printed[0]).toContain('Region B');
    });

    it('prints the form without a SHA-256 once it differs from the plan (no file holds it)', async () => {
      const plan = value(await open(writePlan('region-b.json', handWritten)));
      const changed = { ...plan.setup, ceremonyName: 'Region B, second try' };
      value(await h['plan:print-script']([{ setup: changed, units: plan.units, fromPlan: { sha256: plan.sha256 } }]));
      expect(printed[0]).toContain('Region B, second try');
      expect(printed[0]).not.toContain(plan.sha256Groups.join(' '));
      expect(printed[0]).not.toContain('Setup file SHA-256');
      expect(existsSync(join(dir, 'SETUP.json'))).toBe(false);
    });
  });

  describe('the plan\u2019s units on the day', () => {
    let template: string;
    let transports: Array<{ unitId: string; path: string; fingerprint: string }>;

    beforeAll(() => {
      template = join(mkdtempSync(join(tmpdir(), 'kc-plan-units-')), 'instance');
      initInstance(template, 2); // 4096-bit transport keys: once for the file
    }, 60_000);

    beforeEach(() => {
      const unitsDir = join(dir, 'emulator');
      cpSync(template, unitsDir, { recursive: true });
      mkdirSync(join(dir, 'transport'));
      transports = exportTransportFiles(unitsDir, join(dir, 'transport')).sort((a, b) =>
        a.unitId.localeCompare(b.unitId),
      );
    });

    /** Starts from a plan naming `units`, as handWritten (Region B) otherwise. */
    async function startFromPlan(units: ReadonlyArray<{ id: string; transportFingerprint?: string }>) {
      const plan = value(await open(writePlan('region-b.json', { ...handWritten, units })));
      return value(await h['ceremony:start']([{ ...plan.setup, fromPlan: { sha256: plan.sha256 } }]));
    }
    async function load(path: string) {
      dialogs.answer('openFile', path);
      return h['units:add-transport']([]);
    }

    it('asks for the units the plan names, takes their planned keys, and goes on once each is confirmed', async () => {
      const [u1, u2] = transports;
      const started = await startFromPlan([
        { id: u1!.unitId, transportFingerprint: u1!.fingerprint },
        { id: u2!.unitId }, // fingerprint not known before the day: any key, still confirmed against the display
      ]);
      expect(started.unitsMissing).toEqual([u1!.unitId, u2!.unitId]);
      value(await load(u1!.path));
      expect(value(await h['ceremony:state']([])).unitsMissing).toEqual([u2!.unitId]);
      value(await load(u2!.path));
      for (const u of [u1!, u2!]) value(await h['units:confirm']([{ unitId: u.unitId }]));
      expect(value(await h['ceremony:state']([])).step).toBe('admins');
    });

    it('refuses a transport key other than the plan\u2019s, naming the unit and both keys; the other units stay', async () => {
      const [u1, u2] = transports;
      const planned = 'ab'.repeat(32);
      await startFromPlan([
        { id: u1!.unitId, transportFingerprint: u1!.fingerprint },
        { id: u2!.unitId, transportFingerprint: planned },
      ]);
      value(await load(u1!.path));
      value(await h['units:confirm']([{ unitId: u1!.unitId }]));
      const e = error(await load(u2!.path));
      expect(e.code).toBe('TransportFingerprintMismatch');
      expect(e.message).toContain(`Unit ${u2!.unitId}: unit-${u2!.unitId}.transport.json holds transport key`);
      expect(e.message).toContain(`but the plan this ceremony was set up from gives ${'ABAB '.repeat(15)}ABAB for it`);
      const v = value(await h['ceremony:state']([]));
      expect(v.units.map((u) => [u.unitId, u.confirmed])).toEqual([[u1!.unitId, true]]);
      expect(v.step).toBe('units');
      expect(v.unitsMissing).toEqual([u2!.unitId]);
      // Nothing recorded of the refusal: the record holds the opening and the one confirmation.
      const [record] = readdirSync(dir).filter((f) => f.startsWith('ceremony-'));
      expect(readTranscript(join(dir, record!)).map((x) => x.type)).toEqual(['ceremony-opened', 'unit-confirmed']);
    });

    it('refuses a unit the plan does not name, and an instance with more units than the plan', async () => {
      const [u1, u2] = transports;
      await startFromPlan([{ id: u1!.unitId, transportFingerprint: u1!.fingerprint }]);
      const e = error(await load(u2!.path));
      expect(e.code).toBe('InvalidArgument');
      expect(e.message).toMatch(
        new RegExp(
          `^unit-${u2!.unitId}\\.transport\\.json is the transport file of unit ${u2!.unitId} \\(transport key .*\\), which the plan this ceremony was set up from does not name: its units are ${u1!.unitId}\\. `,
        ),
      );
      const inst = error(await load(u1!.path));
      expect(inst.message).toMatch(/^The units of instance .* the plan does not name /);
      expect(value(await h['ceremony:state']([])).units).toEqual([]);
    });

    it('does not bind a rehearsal: its units are rehearsal units, which the plan does not name', async () => {
      const rehearsing = createHandlers({
        session: new CeremonySession({
          dialogs,
          openCardTransport: async () => {
            throw new Error('a rehearsal never opens the real card transport');
          },
          renderPdf: async () => Buffer.from('%PDF-1.4'),
          printHtml: async () => true,
          workDir: dir,
          rehearsal: rehearsalPorts(),
        }),
        appInfo: () => ({ name: 'x', version: '0', networkInterfacesUp: [] }),
        reportBug: (c, e) => {
          throw new Error(`bug in ${c}: ${String(e)}`);
        },
      });
      dialogs.answer('openFile', writePlan('region-b.json', { ...handWritten, units: [{ id: 'hsm-a' }] }));
      const plan = value(await rehearsing['plan:open']([]));
      const v = value(
        await rehearsing['ceremony:start']([{ ...plan.setup, fromPlan: { sha256: plan.sha256 }, mode: 'rehearsal' }]),
      );
      expect(v.unitsMissing).toEqual([]);
      const units = value(await rehearsing['units:use-rehearsal']([])).units;
      expect(units.length).toBeGreaterThan(0);
    }, 60_000);
  });
});

// The ceremony's plan on the Set up step (issue 11: "The app's Set up can
// export and import SETUP.json, so a ceremony's plan can be reviewed and
// signed off before the day"): a plan written before the day fills the form
// and shows its SHA-256 (as the printed script does), its script prints, the
// form saves as a plan (never over a file), and the ceremony started from
// the plan names it in the record.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hexGroups } from '../../src/core/ceremony/fingerprint.js';
import { parseSetupFile } from '../../src/core/ceremony/setup-file.js';
import { readTranscript } from '../../src/core/ceremony/transcript.js';
import { exportTransportFiles, initInstance } from '../../src/emulator/instance.js';
import { expect, test } from './fixtures.js';
import { alertSays } from './pages/parts.js';
import { SetupPage, type SetupRoster } from './pages/setup.js';
import { StartPage } from './pages/start.js';
import { UnitsPage } from './pages/units.js';

const FINGERPRINT = '3b'.repeat(32);

/** The plan as it was reviewed and signed off: one admin's medium left open, a card serial and a bag number. */
const PLAN = {
  format: 'keyceremony-setup/1',
  kind: 'initial',
  mode: 'production',
  ceremonyName: 'Region North 2026',
  keyName: 'mk-north-26',
  operator: 'Olga Operator',
  threshold: 2,
  custodians: [
    { name: 'Cat Custodian', medium: 'card', cardSerial: 31337, bag: 'TE-0042' },
    { name: 'Dan Custodian', medium: 'file' },
    { name: 'Eve Custodian', medium: 'file' },
  ],
  admins: [{ name: 'Ann Admin', medium: 'file' }, { name: 'Ben Admin' }],
  witnesses: [{ name: 'Wim Witness' }],
  units: [{ id: 'unit-1', transportFingerprint: FINGERPRINT }, { id: 'unit-2' }],
  signatureThreshold: 2,
  revocationThreshold: 1,
};

const FILLED: SetupRoster = {
  ceremonyName: PLAN.ceremonyName,
  keyName: PLAN.keyName,
  operator: PLAN.operator,
  admins: [
    { name: 'Ann Admin', medium: 'file' },
    { name: 'Ben Admin', medium: 'card' }, // left open by the plan: the form sets a card, and says so
  ],
  custodians: [
    { name: 'Cat Custodian', medium: 'card' },
    { name: 'Dan Custodian', medium: 'file' },
    { name: 'Eve Custodian', medium: 'file' },
  ],
  witnesses: ['Wim Witness'],
};

const groupsOf = (hex: string): string => hexGroups(Buffer.from(hex, 'hex')).join(' ');

test('a plan (SETUP.json) fills the Set up with its SHA-256, prints its script, saves as a plan, and is named in the record', async ({
  app,
  bridge,
  workDir,
  shot,
  axe,
}) => {
  const plans = join(workDir, 'plans');
  mkdirSync(plans);
  const planFile = join(plans, 'SETUP-region-north.json');
  writeFileSync(planFile, `${JSON.stringify(PLAN, null, 2)}\n`);
  const planSha = createHash('sha256').update(readFileSync(planFile)).digest('hex');
  const answer = async (kind: 'openFile' | 'saveFile' | 'chooseFolder', path: string) =>
    bridge.dialogs.answer(kind, path);

  await new StartPage(app, { shot, axe }).startNewCeremony();
  const setup = new SetupPage(app, { shot, axe });
  await setup.expectCurrent();

  // The plan fills the form; nothing starts.
  await setup.openPlan(answer, planFile);
  await setup.expectPlan('SETUP-region-north.json', groupsOf(planSha));
  await setup.expectFilled(FILLED, { sharesNeeded: 2, signatures: 2, revocations: 1 });
  await expect(setup.field('Unit 1 id')).toHaveValue('unit-1');
  await expect(setup.field('Unit 1 transport key fingerprint (optional)')).toHaveValue(FINGERPRINT);
  await expect(app.getByTestId('setup-plan')).toContainText('where "Ben Admin" keeps an admin identity');
  await expect(app.getByTestId('setup-plan')).toContainText('card serials and bag numbers');
  expect(bridge.session.inProgress()).toBe(false);
  await shot('setup-plan-opened');
  await axe('setup-plan-opened');

  // Its script prints from the plan's own file, with the SHA-256 the room checks.
  await setup.printScript();
  await expect.poll(() => bridge.printed.length).toBe(1);
  expect(bridge.printed[0]).toContain(groupsOf(planSha));
  expect(bridge.printed[0]).toContain('TE-0042');

  // A change shows, and the form saves as a new plan; never over an existing file.
  await setup.field('Witness 1 name').fill('Wanda Witness');
  await expect(app.getByTestId('setup-plan-changed')).toContainText('the witnesses changed');
  const savedFile = join(plans, 'SETUP-region-north-2.json');
  await setup.savePlan(answer, savedFile);
  const saved = readFileSync(savedFile);
  await setup.expectPlan('SETUP-region-north-2.json', groupsOf(createHash('sha256').update(saved).digest('hex')));
  // What the form has no field for (Cat's card serial and bag) is kept from the plan it was filled from, and said.
  await expect(app.getByTestId('setup-plan')).toContainText(
    'Kept from the plan it was filled from, as the form has no field for them: the card serials and bag numbers of "Cat Custodian" (card serial 31337, bag TE-0042).',
  );
  expect(parseSetupFile(saved.toString('utf8'))).toMatchObject({
    kind: 'initial',
    mode: 'production',
    ceremonyName: PLAN.ceremonyName,
    custodians: PLAN.custodians,
    admins: [
      { name: 'Ann Admin', medium: 'file' },
      { name: 'Ben Admin', medium: 'card' },
    ],
    witnesses: [{ name: 'Wanda Witness' }],
    units: PLAN.units,
  });
  await setup.savePlan(answer, planFile);
  await alertSays(app, /already exists; nothing was overwritten/);
  expect(readFileSync(planFile, 'utf8')).toBe(`${JSON.stringify(PLAN, null, 2)}\n`);
  await shot('setup-plan-saved');
  await axe('setup-plan-saved');

  // The approved plan again, and the ceremony starts from it: the record names it.
  await setup.openPlan(answer, planFile);
  await setup.expectPlan('SETUP-region-north.json', groupsOf(planSha));
  await setup.expectFilled(FILLED, { sharesNeeded: 2, signatures: 2, revocations: 1 });
  await setup.startCeremony(FILLED);
  const [record] = readdirSync(join(workDir, 'app-records')).filter((f) => f.endsWith('.jsonl'));
  expect(readTranscript(join(workDir, 'app-records', record!))[0]!.data).toMatchObject({
    ceremonyName: PLAN.ceremonyName,
    adminMedia: ['file', 'card'],
    witnesses: ['Wim Witness'],
    plan: { sha256: planSha, file: 'SETUP-region-north.json' },
  });

  // On the Units step, the plan's units only: a unit the plan does not name is refused before it is confirmed.
  const unitsDir = join(workDir, 'units');
  initInstance(unitsDir, 2);
  mkdirSync(join(workDir, 'transport'));
  const [stranger] = exportTransportFiles(unitsDir, join(workDir, 'transport'));
  const units = new UnitsPage(app, { answer, shot, axe });
  await units.expectCurrent();
  await expect(app.locator('#units-status')).toHaveText(
    'The plan this ceremony was set up from names 2 units: load the transport file of unit-1, unit-2 to continue.',
  );
  await answer('openFile', stranger!.path);
  await app.getByRole('button', { name: 'Load transport file…' }).click();
  await alertSays(
    app,
    new RegExp(
      `is the transport file of unit ${stranger!.unitId} \\(transport key [0-9A-F ]{79}\\), which the plan this ceremony was set up from does not name: its units are unit-1, unit-2\\.`,
    ),
  );
  await expect(units.confirmations).toHaveCount(0);
  expect(bridge.session.initial.snapshot().units).toEqual([]);
  await shot('setup-plan-unit-refused');
  await axe('setup-plan-unit-refused');
  expect(bridge.dialogs.pending()).toBe(0);
});

test('a plan of another kind is refused, saying it runs from the command line', async ({
  app,
  bridge,
  workDir,
  shot,
  axe,
}) => {
  const file = join(workDir, 'SETUP-zeroize.json');
  const { threshold: _k, custodians: _c, signatureThreshold: _s, revocationThreshold: _r, ...rest } = PLAN;
  writeFileSync(file, JSON.stringify({ ...rest, kind: 'zeroize' }));
  await new StartPage(app, { shot, axe }).startNewCeremony();
  const setup = new SetupPage(app, { shot, axe });
  await setup.openPlan(async (kind, path) => bridge.dialogs.answer(kind, path), file);
  await alertSays(app, /kind "zeroize".*Run this one with the keyceremony command line until the app has it\./);
  await expect(setup.field('Ceremony name')).toHaveValue('');
  await expect(app.getByTestId('setup-plan')).toHaveCount(0);
  await shot('setup-plan-refused');
  await axe('setup-plan-refused');
});

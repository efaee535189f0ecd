// Separation of duties on the Set up step (issue 11, "Two-person integrity"):
// a custodian who is also an admin is refused, by name, until the set-up says
// why; the reason then goes into the ceremony record's opening.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readTranscript } from '../../src/core/ceremony/transcript.js';
import { expect, test } from './fixtures.js';
import { REASON_LABEL, SetupPage, type SetupRoster } from './pages/setup.js';
import { StartPage } from './pages/start.js';

const TWO_HATS: SetupRoster = {
  ceremonyName: 'Two hats',
  keyName: 'mk-two-hats',
  operator: 'Olga',
  admins: [
    { name: 'Ann Admin', medium: 'file' },
    { name: 'Ben Admin', medium: 'file' },
  ],
  custodians: [
    { name: 'Cat Custodian', medium: 'file' },
    { name: 'ann admin', medium: 'file' },
    { name: 'Eve Custodian', medium: 'file' },
  ],
  witnesses: ['Wim Witness'],
};

test('the set-up refuses a custodian who is also an admin without a reason, naming the person, and records the reason', async ({
  app,
  bridge,
  workDir,
  shot,
  axe,
}) => {
  await new StartPage(app, { shot, axe }).startNewCeremony();
  const setup = new SetupPage(app, { shot, axe });
  await setup.expectCurrent();
  await setup.describe(TWO_HATS, { sharesNeeded: 2, signatures: 2, revocations: 2 });

  await setup.expectRefused(
    REASON_LABEL.custodianIsAdmin,
    /“ann admin” is both a custodian and an admin: say why, or choose another person\.$/,
  );
  expect(bridge.session.inProgress()).toBe(false);
  expect(readdirSync(join(workDir, 'app-records'))).toEqual([]);
  await shot('setup-custodian-is-admin-refused');
  await axe('setup-custodian-is-admin-refused');

  const reason = 'Only three people are cleared for this region.';
  await setup.giveReason('custodianIsAdmin', reason);
  await setup.startCeremony(TWO_HATS);
  const [record] = readdirSync(join(workDir, 'app-records')).filter((f) => f.endsWith('.jsonl'));
  expect(readTranscript(join(workDir, 'app-records', record!))[0]!.data).toMatchObject({
    custodians: ['Cat Custodian', 'ann admin', 'Eve Custodian'],
    witnesses: ['Wim Witness'],
    revocationThreshold: 2,
    reasons: { custodianIsAdmin: reason },
  });
});

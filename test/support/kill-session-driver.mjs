// Drives the desktop app's CeremonySession through a whole ceremony with
// file media only (two admins with identity files, three file shares), as
// the wizard would, for the kill harness (test/integration/kill-session.test.ts),
// which runs it with KEYCEREMONY_TEST_KILL_AT set so it dies at one durable
// write. Plain JavaScript against the built core (npm run build:node), so
// each of the many runs starts fast.
//
//   node kill-session-driver.mjs WORKDIR
//
// WORKDIR holds transport/*.json, alice.identity.pem and bob.identity.pem
// (passphrases "<name> identity passphrase"); the session's record, the
// shares (shares/) and the bundle (out/) are written there.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CeremonySession } from '../../build/core/ceremony/session.js';

const dir = process.argv[2];
const answers = [];
const take = async (kind) => {
  const next = answers.shift();
  if (!next || next.kind !== kind) throw new Error(`unexpected ${kind} dialog`);
  return next.path;
};
const dialogs = {
  openFile: () => take('openFile'),
  saveFile: () => take('saveFile'),
  chooseFolder: () => take('chooseFolder'),
};
const answer = (kind, path) => answers.push({ kind, path });

const session = new CeremonySession({
  dialogs,
  openCardTransport: async () => {
    throw new Error('no cards in this test');
  },
  renderPdf: async (html) => Buffer.from(`%PDF-1.4 test ${html.length}`),
  printHtml: async () => true,
  workDir: dir,
  // As the session tests do: the app itself never sets it.
  scryptCost: { logN: 15, r: 8, p: 1 },
});

const step = (name) => process.stdout.write(`${name}\n`);
const file = (passphrase) => ({ medium: 'file', passphrase });
const sharePass = (i) => `share ${i} passphrase, session kill test`;

mkdirSync(join(dir, 'shares'), { recursive: true });
mkdirSync(join(dir, 'out'), { recursive: true });
await session.initial.start({
  ceremonyName: 'Kill test',
  keyName: 'MK-SESS',
  threshold: 2,
  signatureThreshold: 2,
  revocationThreshold: 2,
  operator: 'Olivia',
  admins: [
    { name: 'alice', medium: 'file' },
    { name: 'bob', medium: 'file' },
  ],
  custodians: [
    { name: 'Dora', medium: 'file' },
    { name: 'Erik', medium: 'file' },
    { name: 'Fatima', medium: 'file' },
  ],
  witnesses: ['Wendy'],
  reasons: {},
});
step('start');
for (const f of readdirSync(join(dir, 'transport')).sort()) {
  answer('openFile', join(dir, 'transport', f));
  await session.initial.addTransport();
}
for (const u of session.initial.snapshot().units) await session.initial.confirmUnit(u.unitId);
step('units');
for (const [i, name] of ['alice', 'bob'].entries()) {
  answer('openFile', join(dir, `${name}.identity.pem`));
  await session.initial.useIdentityFile(i, `${name} identity passphrase`);
}
step('admins');
await session.initial.generateMasterKey();
step('master-key');
for (const i of [1, 2, 3]) {
  answer('saveFile', join(dir, 'shares', `share-${i}.keyshare`));
  await session.initial.writeShare(i, file(sharePass(i)));
  await session.initial.verifyShare(i, file(sharePass(i)));
  await session.initial.confirmShare(i);
  step(`share ${i}`);
}
await session.initial.buildBundle();
for (const [i, name] of ['alice', 'bob'].entries())
  await session.initial.signBundle(i, file(`${name} identity passphrase`));
answer('chooseFolder', join(dir, 'out'));
await session.initial.saveBundle();
step('bundle');
await session.initial.close();
step('close');

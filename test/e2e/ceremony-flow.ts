// The full ceremony, as the people in the room perform it through the
// wizard: 3 admins (one on a smart card), a 3-of-5 master key on two cards
// and three files, 2 crypto units. Shared by the Chromium spec (test bridge)
// and the Electron spec, which differ only in how a file dialog is answered
// and how cards are swapped. Each step's screen is a page object in ./pages
// (what is on it, and what a person does there); this file is the script.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { preparedCard } from '../support/cards.js';
import { emu, kc, ok } from '../support/cli.js';
import { startPcscStack, vpcdReaderName, type PcscStack } from '../support/pcsc-stack.js';
import { AdminsPage } from './pages/admins.js';
import { BundlePage } from './pages/bundle.js';
import { passphraseOf, ROSTER, type FlowEnv } from './pages/ceremony-env.js';
import { CheckSharePage } from './pages/check-share.js';
import { ClosePage } from './pages/close.js';
import { MasterKeyPage } from './pages/master-key.js';
import { SetupPage } from './pages/setup.js';
import { SharesPage } from './pages/shares.js';
import { StartPage } from './pages/start.js';
import { UnitsPage } from './pages/units.js';

export { passphraseOf, ROSTER, type DialogKind, type FlowEnv } from './pages/ceremony-env.js';

export interface FlowResult {
  kcv: string;
  bundleSha256: string;
  bundlePath: string;
  recordDir: string;
}

export async function runCeremony(env: FlowEnv): Promise<FlowResult> {
  const { page } = env;
  const start = new StartPage(page, env);
  await start.startNewCeremony();

  const setup = new SetupPage(page, env);
  await setup.expectCurrent();
  await setup.describe(ROSTER, { sharesNeeded: 3, signatures: 2, revocations: 3 });
  await setup.startCeremony(ROSTER);

  const units = new UnitsPage(page, env);
  await units.expectCurrent();
  await units.loadAndConfirm(env.transportFiles, { mistakes: env.mistakes });
  await units.continue();

  const admins = new AdminsPage(page, env);
  await admins.expectCurrent();
  await admins.identifyAll(ROSTER.admins);
  await admins.continue();

  const masterKey = new MasterKeyPage(page, env);
  await masterKey.expectCurrent();
  const kcv = await masterKey.generate();
  await masterKey.continue();

  const shares = new SharesPage(page, env);
  await shares.expectCurrent();
  await shares.handOutAll(ROSTER.custodians);
  await shares.continue();

  const bundle = new BundlePage(page, env);
  await bundle.expectCurrent();
  await bundle.build();
  await bundle.signAsEveryAdmin(ROSTER);
  const bundleSha256 = await bundle.saveTo(env.mediaDir);
  await bundle.continue();

  const close = new ClosePage(page, env);
  await close.expectCurrent();
  const recordDir = join(env.mediaDir, 'record');
  await close.wipeSaveAndPrint(recordDir);

  // Back to the start screen, and custodians check their shares against the saved record.
  await close.startOver();
  await start.checkAShare();
  const check = new CheckSharePage(page, env);
  await check.openRecord(await env.recordFile(recordDir), kcv);
  const grace = { name: 'Grace Custodian', file: join(env.mediaDir, 'grace.keyshare') };
  await check.chooseFileShare();
  if (env.mistakes) await check.checkFileWithWrongPassphrase(grace.file, 'not the passphrase');
  await check.checkFile(grace.file, passphraseOf(grace.name));
  await check.expectFileShareMatches(4, ROSTER.custodians.length, grace.name);
  await check.checkAnother();
  await check.chooseCardShare();
  await check.checkCard(env.readers.custodian, env.pins.erin);
  await check.expectCardShareMatches(2, ROSTER.custodians.length, 'Erin Custodian');

  return {
    kcv: kcv.toUpperCase(),
    bundleSha256,
    bundlePath: join(env.mediaDir, `bundle-${ROSTER.keyName}-1.json`),
    recordDir,
  };
}

export const PINS = { alice: '246813', dora: '135792', erin: '864213' };
const PORT_ADMIN = 35963;
const PORT_CUSTODIAN = 35964;

/** Everything a ceremony run needs around the app: the emulated units, the cards in their readers, the media. */
export interface CeremonyRig {
  stack: PcscStack;
  /** The emulator's state (crypto-unit-emulator --state). */
  unitsDir: string;
  /** The part of FlowEnv that does not depend on how the app is driven. */
  env: Pick<
    FlowEnv,
    'transportFiles' | 'mediaDir' | 'carolIdentityFile' | 'recordFile' | 'readers' | 'pins' | 'insertErinCard'
  >;
}

/**
 * Two emulated units with their transport files, Carol's identity file from
 * "an earlier ceremony", prepared cards for Alice and Erin (and Dora's, unless
 * it is to arrive factory-fresh), and pcscd with Alice's card in the admin
 * reader and Dora's in the custodian reader.
 */
export async function setUpCeremonyRig(workDir: string, o: { doraFactoryFresh: boolean }): Promise<CeremonyRig> {
  const cardsDir = join(workDir, 'cards');
  const mediaDir = join(workDir, 'usb');
  const unitsDir = join(workDir, 'units');
  const transportDir = join(workDir, 'transport');
  for (const d of [cardsDir, mediaDir, join(mediaDir, 'record')]) mkdirSync(d, { recursive: true });
  const card = (name: string): string => join(cardsDir, `${name}.card.json`);
  for (const [name, pin] of Object.entries(PINS)) {
    if (name !== 'dora' || !o.doraFactoryFresh) await preparedCard(pin, { stateFile: card(name) }, '97531975');
  }
  ok(emu(workDir, 'init', '--state', unitsDir, '--units', '2'));
  ok(emu(workDir, 'transport', '--state', unitsDir, '--out-dir', transportDir));
  const transports = readdirSync(transportDir)
    .sort()
    .map((f) => join(transportDir, f));
  if (transports.length !== 2) throw new Error(`expected 2 transport files, found ${transports.length}`);
  const stack = await startPcscStack([
    { stateFile: card('alice'), port: PORT_ADMIN },
    { stateFile: card('dora'), port: PORT_CUSTODIAN },
  ]);
  return {
    stack,
    unitsDir,
    env: {
      transportFiles: transports as [string, string],
      mediaDir,
      carolIdentityFile: carolIdentity(workDir),
      recordFile: async (folder) =>
        join(
          folder,
          readdirSync(folder).find((f) => f.endsWith('.jsonl'))!,
        ),
      readers: { admin: vpcdReaderName(PORT_ADMIN), custodian: vpcdReaderName(PORT_CUSTODIAN) },
      pins: PINS,
      insertErinCard: async (pullDuringWrite) => {
        const inReader = stack.cards.find(
          (c) => c.port === PORT_CUSTODIAN && c.process.exitCode === null && c.process.signalCode === null,
        );
        if (inReader) await inReader.remove();
        // Pulled out before the first PUT DATA: after the card generated the
        // share's key, before the share certificate is stored.
        await stack.insertCard(
          card('erin'),
          PORT_CUSTODIAN,
          pullDuringWrite ? { KEYCEREMONY_VIRTUAL_CARD_PULL_BEFORE: 'DB:1' } : {},
        );
      },
    },
  };
}

/** Carol's identity file from "an earlier ceremony", made with the CLI. */
export function carolIdentity(dir: string): string {
  const home = join(dir, 'carol-home');
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'carol.pass'), passphraseOf('Carol Admin') + '\n', { mode: 0o600 });
  ok(
    kc(
      home,
      'identity',
      'generate',
      '--name',
      'Carol Admin',
      '--out',
      'carol.identity.pem',
      '--passphrase-file',
      'carol.pass',
    ),
  );
  return join(home, 'carol.identity.pem');
}

// What both recovery specs (from the record, from the paper report) need
// around the app: new units (a production emulator instance and its transport
// files), the admins' identity files, and the emulator's end state checked.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateFileIdentity } from '../../src/core/identity/identity.js';
import { emu, ok } from '../support/cli.js';
import { expect } from './fixtures.js';

export interface RecoveryRig {
  /** The emulator's state (crypto-unit-emulator --state). */
  unitsDir: string;
  transports: string[];
  /** Alice's and Bob's identity files, protected by `passphrase`. */
  admins: string[];
}

export async function setUpRecoveryRig(workDir: string, media: string, passphrase: string): Promise<RecoveryRig> {
  const unitsDir = join(workDir, 'units');
  const transportDir = join(workDir, 'transport');
  ok(emu(workDir, 'init', '--state', unitsDir, '--units', '2'));
  ok(emu(workDir, 'transport', '--state', unitsDir, '--out-dir', transportDir));
  const transports = readdirSync(transportDir).map((f) => join(transportDir, f));
  expect(transports).toHaveLength(2);
  const admins = await Promise.all(
    ['Alice', 'Bob'].map(async (name) => {
      const path = join(media, `${name.toLowerCase()}.identity.pem`);
      writeFileSync(path, (await generateFileIdentity(name, Buffer.from(passphrase))).text);
      return path;
    }),
  );
  return { unitsDir, transports, admins };
}

/** The units ingest the one bundle saved in `out` and both report the key under `kcv`. */
export function expectUnitsHoldKey(workDir: string, rig: RecoveryRig, out: string, kcv: string): void {
  const [bundle] = readdirSync(out);
  const ingest = emu(workDir, 'ingest', '--state', rig.unitsDir, join(out, bundle!));
  expect(ingest.code, ingest.stderr).toBe(0);
  const status = JSON.parse(ok(emu(workDir, 'status', '--state', rig.unitsDir, '--json'))) as {
    units: Array<{ masterKeyKcv: string | null }>;
  };
  expect(status.units).toHaveLength(2);
  for (const u of status.units) expect(u.masterKeyKcv?.toUpperCase()).toBe(kcv.toUpperCase());
}

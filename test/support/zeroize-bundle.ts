// A key's zeroize bundle built, signed and saved by the zeroize wizard's
// session (UnitsBundleSession, identity files), which is then dropped as if
// the app were closed: for the tests of what is recorded later, once the
// units have ingested it (issue 11, `units report`).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UnitsBundleSession } from '../../src/core/ceremony/units-bundle-session.js';
import { ScriptedDialogs } from './dialogs.js';
import type { KeyOnUnits } from './key-on-units.js';

/** The saved bundle's path; `signers` are admins of `key` (by name), all with `passphrase`. */
export async function zeroizeBundleSaved(a: {
  key: KeyOnUnits;
  keyName: string;
  dir: string;
  signers: readonly string[];
  passphrase: string;
}): Promise<string> {
  const dialogs = new ScriptedDialogs();
  const work = join(a.dir, 'zeroize-work');
  mkdirSync(work);
  const s = new UnitsBundleSession({ dialogs, workDir: work });
  dialogs.answer('openFile', a.key.record);
  await s.openRecord('zeroize');
  for (const t of a.key.transports) {
    dialogs.answer('openFile', t);
    const st = await s.addTransport();
    await s.confirmUnit(st.units.at(-1)!.unitId);
  }
  await s.unitsDone();
  await s.buildZeroize(a.keyName);
  for (const n of a.signers) {
    dialogs.answer('openFile', a.key.identities[n]!);
    await s.sign({ medium: 'file', passphrase: a.passphrase });
  }
  const out = join(a.dir, 'usb');
  mkdirSync(out);
  dialogs.answer('chooseFolder', out);
  return (await s.saveBundle()).bundle!.saved!.path;
}

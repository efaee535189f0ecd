// Killed at any moment, nothing lost (issue 10): the desktop app's session.
// A child process drives CeremonySession through a whole ceremony with file
// media (test/support/kill-session-driver.mjs) and is SIGKILLed at every
// durable write (the test-only hook of src/core/files.ts), which covers every
// step, since each step writes to the record. Then, as the app does when it
// starts again, a new session on the same folder runs closeInterruptedRecords:
// the record is closed as completed when every share had been issued (and
// those shares rebuild the recorded key), as aborted otherwise, or left alone
// when it was already closed; every record then verifies and is complete, no
// file is half-written, and the master key is on disk in no form.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileShareSource } from '../../src/core/ceremony/media.js';
import { recoverMasterKey } from '../../src/core/ceremony/operations.js';
import { ceremoniesOf, summarize } from '../../src/core/ceremony/record.js';
import { CeremonySession } from '../../src/core/ceremony/session.js';
import { parseTranscript, readTranscript } from '../../src/core/ceremony/transcript.js';
import { parseBundle } from '../../src/core/bundle/bundle.js';
import { readShareFile } from '../../src/core/shares/file-store.js';
import { zeroize } from '../../src/core/secrets.js';
import { emu, kc, ok, passFile, ROOT, workdir } from '../support/cli.js';
import {
  atEveryWrite,
  changedFiles,
  filesHolding,
  holdsKeyOf,
  partialTarget,
  pointName,
  snapshot,
  type KilledRun,
} from '../support/kill.js';

const DRIVER = join(ROOT, 'test/support/kill-session-driver.mjs');
const sharePass = (i: number): string => `share ${i} passphrase, session kill test`;

function restartedSession(dir: string): CeremonySession {
  const refuse = async (): Promise<never> => {
    throw new Error('no dialog is expected at start-up');
  };
  return new CeremonySession({
    dialogs: { openFile: refuse, saveFile: refuse, chooseFolder: refuse },
    openCardTransport: refuse,
    renderPdf: refuse,
    printHtml: refuse,
    workDir: dir,
  });
}

const recordName = (files: Iterable<string>): string | undefined =>
  [...files].find((f) => /^ceremony-[0-9a-f-]{36}\.jsonl$/.test(f));

/** Every changed file is whole: records verify, shares and bundles parse; temporary files likewise, and only those are .partial. */
function checkWhole(k: KilledRun, before: Map<string, Buffer>): void {
  const where = pointName(k.point);
  const now = snapshot(k.dir);
  for (const name of changedFiles(before, now)) {
    const real = partialTarget(name) ?? name;
    const text = now.get(name)!.toString('utf8');
    if (/^ceremony-.*\.jsonl$/.test(real)) parseTranscript(text, `${where}: ${name}`);
    else if (real.startsWith('shares/'))
      expect(() => readShareFile(join(k.dir, name)), `${where}: ${name}`).not.toThrow();
    else if (real.startsWith('out/')) expect(() => parseBundle(text), `${where}: ${name}`).not.toThrow();
    // The bundle is built and signed in the work folder, as bundle create and bundle sign do (issue 11, one engine).
    else if (/^(REHEARSAL-)?bundle-[0-9a-f-]{36}\.json$/.test(real))
      expect(() => parseBundle(text), `${where}: ${name}`).not.toThrow();
    else throw new Error(`${where}: ${name} changed`);
  }
}

let template = '';

beforeAll(() => {
  template = workdir('kc-kill-session-');
  ok(emu(template, 'init', '--state', 'units', '--units', '2'));
  ok(emu(template, 'transport', '--state', 'units', '--out-dir', 'transport'));
  for (const name of ['alice', 'bob']) {
    passFile(template, `${name}.pass`, `${name} identity passphrase`);
    ok(
      kc(
        template,
        'identity',
        'generate',
        '--name',
        name,
        '--out',
        `${name}.identity.pem`,
        '--passphrase-file',
        `${name}.pass`,
      ),
    );
  }
}, 120_000);

describe('the desktop session killed at any moment (issue 10)', () => {
  it('at start-up the record of a killed session is closed as the rules say, and nothing secret is on disk', async () => {
    const before = snapshot(template);
    const { killed, completed } = await atEveryWrite(template, DRIVER, ['.']);
    expect(readFileSync(join(completed, recordName(readdirSync(completed))!), 'utf8')).toMatch(/"outcome":"completed"/);
    // start, 2 units, 2 admins, the key, 3 x (share file, written, issued, accepted), the bundle's work file and
    // bundle-created, 2 x (the signature in the file, bundle-signed), the saved file, bundle-saved, wipe, closing.
    expect(killed.at(-1)!.point.n).toBe(28);
    const outcomes = new Set<string>();
    for (const k of killed) {
      const where = `${pointName(k.point)}, after step ${k.result.stdout.trim().split('\n').at(-1) || '(none)'}`;
      checkWhole(k, before);
      const name = recordName(readdirSync(k.dir));
      const closed = restartedSession(k.dir).closeInterruptedRecords();
      if (name === undefined) {
        expect(closed, where).toEqual([]);
        outcomes.add('no record');
        continue;
      }
      const path = join(k.dir, name);
      const wasOpen =
        !ceremoniesOf(parseTranscript(snapshot(k.dir).get(name)!.toString('utf8'))).complete || closed.length > 0;
      const entries = readTranscript(path);
      expect(ceremoniesOf(entries).complete, `${where}: the record is still open`).toBe(true);
      const opened = entries.filter((e) => e.type === 'ceremony-closed');
      expect(opened, where).toHaveLength(1);
      const issued = new Set(entries.filter((e) => e.type === 'share-issued').map((e) => e.data['shareIndex']));
      const keyEntry = entries.find((e) => e.type === 'master-key-generated');
      if (!wasOpen) {
        expect(closed, where).toEqual([]);
        outcomes.add('closed by the session itself');
      } else if (issued.size === 3) {
        expect(closed, where).toMatchObject([{ path, outcome: 'completed' }]);
        // Its shares are valid: two rebuild the recorded key.
        const sources = [1, 3].map(
          (i) =>
            new FileShareSource(join(k.dir, 'shares', `share-${i}.keyshare`), async () => Buffer.from(sharePass(i))),
        );
        const { key, summary } = await recoverMasterKey(path, sources);
        try {
          expect(summary.kcv, where).toBe(keyEntry!.data['kcv']);
          expect(filesHolding(snapshot(k.dir), [key]), `${where}: the key on disk`).toEqual([]);
        } finally {
          zeroize(key);
        }
        outcomes.add('completed');
      } else {
        expect(closed, where).toMatchObject([{ path, outcome: 'aborted' }]);
        expect(entries.at(-1)!.data, where).toMatchObject({ outcome: 'aborted', code: 'Interrupted' });
        expect(() => summarize(entries), where).toThrow(/aborted/);
        outcomes.add('aborted');
      }
      // Its shares are refused unless the ceremony closed as completed; the CLI says why.
      if (keyEntry) {
        for (const f of changedFiles(before, snapshot(k.dir))) {
          expect(
            holdsKeyOf(
              readFileSync(join(k.dir, f)),
              String(keyEntry.data['kcv']),
              String(keyEntry.data['verificationPattern']),
            ),
            `${where}: ${f} holds the master key`,
          ).toBe(false);
        }
      }
      // Started once more, nothing is left to close.
      expect(restartedSession(k.dir).closeInterruptedRecords(), where).toEqual([]);
    }
    expect(outcomes).toEqual(new Set(['no record', 'aborted', 'completed', 'closed by the session itself']));
  });
});

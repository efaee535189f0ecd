// Rehearsal mode in the app (issue 11): the session, driven through the same
// handlers main registers, runs a whole ceremony on the rehearsal's virtual
// cards and in-process rehearsal units (src/main/rehearsal.ts), never the
// real card transport; the opening says mode "rehearsal", every entry says
// rehearsal, the bundle is a rehearsal bundle, every saved file is named
// REHEARSAL-…, and a production transport file is refused.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseBundle } from '../../../src/core/bundle/bundle.js';
import { CeremonySession } from '../../../src/core/ceremony/session.js';
import { readTranscript } from '../../../src/core/ceremony/transcript.js';
import { exportTransportFiles, ingestBundle, initInstance } from '../../../src/emulator/instance.js';
import { createHandlers, type Handlers } from '../../../src/main/handlers.js';
import { REHEARSAL_READERS, rehearsalPorts } from '../../../src/main/rehearsal.js';
import type { CeremonySetup, IpcResult, SecretInput } from '../../../src/shared/ipc.js';
import { ScriptedDialogs } from '../../support/dialogs.js';

const PIN = '246813';
const [R1, R2] = [REHEARSAL_READERS[0]!, REHEARSAL_READERS[1]!];

function value<T>(r: IpcResult<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
function error<T>(r: IpcResult<T>): { code: string; message: string; details?: Record<string, unknown> } {
  if (r.ok) throw new Error('expected a failure');
  return r.error;
}

/** No witness: a rehearsal needs no independent witness (roster.ts). */
const setup: CeremonySetup = {
  ceremonyName: 'Dry run 2026',
  keyName: 'dry-mk',
  threshold: 2,
  signatureThreshold: 2,
  revocationThreshold: 2,
  operator: 'Olivia',
  admins: [
    { name: 'Alice', medium: 'card' },
    { name: 'Bob', medium: 'file' },
  ],
  custodians: [
    { name: 'Dora', medium: 'card' },
    { name: 'Erik', medium: 'file' },
  ],
  witnesses: [],
  reasons: {},
};

const card = (reader: string, pin = PIN): SecretInput => ({ medium: 'card', reader, pin });
const file = (passphrase: string): SecretInput => ({ medium: 'file', passphrase });

/** Scripted dialogs that also keep the name each save dialog proposed. */
class NamingDialogs extends ScriptedDialogs {
  readonly proposed: string[] = [];
  override async saveFile(o: { title: string; defaultName: string }): Promise<string | null> {
    this.proposed.push(o.defaultName);
    return super.saveFile(o);
  }
}

describe('a rehearsal in the app (issue 11)', () => {
  let dir: string;
  let dialogs: NamingDialogs;
  let h: Handlers;
  let realCardsOpened: number;
  let productionTransports: string;
  let template: string;

  beforeAll(() => {
    // A production instance: its transport files must be refused in a rehearsal.
    template = join(mkdtempSync(join(tmpdir(), 'kc-rehearsal-prod-')), 'instance');
    initInstance(template, 2);
  }, 60_000);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kc-rehearsal-'));
    dialogs = new NamingDialogs();
    realCardsOpened = 0;
    const session = new CeremonySession({
      dialogs,
      openCardTransport: async () => {
        realCardsOpened++;
        throw new Error('a rehearsal must never open the real card transport');
      },
      renderPdf: async (html) => Buffer.from(`%PDF-1.4 fake ${html.length}`),
      printHtml: async () => true,
      workDir: dir,
      scryptCost: { logN: 15, r: 8, p: 1 },
      rehearsal: rehearsalPorts(),
    });
    h = createHandlers({
      session,
      appInfo: () => ({ name: 'x', version: '0', networkInterfacesUp: [] }),
      reportBug: (c, e) => {
        throw new Error(`bug in ${c}: ${String(e)}`);
      },
    });
    const prod = join(dir, 'production-instance');
    cpSync(template, prod, { recursive: true });
    productionTransports = join(dir, 'production-transport');
    mkdirSync(productionTransports);
    exportTransportFiles(prod, productionTransports);
  });

  it('takes the mode strictly at Start', async () => {
    for (const mode of ['REHEARSAL', 'test', true, null]) {
      const r = error(await h['ceremony:start']([{ ...setup, mode }]));
      expect(r.code).toBe('invalid-request');
      expect(r.message).toBe('mode must be "production" or "rehearsal".');
    }
    expect(value(await h['ceremony:state']([])).mode).toBe('production');
  });

  it('refuses a production transport file, naming the mode, and a production ceremony refuses rehearsal units', async () => {
    const v = value(await h['ceremony:start']([{ ...setup, mode: 'rehearsal' }]));
    expect(v.mode).toBe('rehearsal');
    const f = readdirSync(productionTransports)[0]!;
    dialogs.answer('openFile', join(productionTransports, f));
    const refused = error(await h['units:add-transport']([]));
    expect(refused.code).toBe('RehearsalMismatch');
    expect(refused.message).toContain('a production unit: a rehearsal never targets production units');
    expect(value(await h['ceremony:state']([])).units).toEqual([]);

    value(await h['ceremony:abandon']([]));
    // Production needs its independent witness; with one, rehearsal units are refused.
    expect(error(await h['ceremony:start']([setup])).code).toBe('InvalidArgument');
    const p = value(await h['ceremony:start']([{ ...setup, witnesses: ['Wendy'] }]));
    expect(p.mode).toBe('production');
    expect(error(await h['units:use-rehearsal']([])).code).toBe('WrongStep');
    expect(error(await h['rehearsal:load-bundle']([])).code).toBe('WrongStep');
  }, 60_000);

  it('runs a whole rehearsal on virtual cards and rehearsal units, everything marked', async () => {
    let v = value(await h['ceremony:start']([{ ...setup, mode: 'rehearsal' }]));
    expect(v.mode).toBe('rehearsal');

    // The rehearsal's readers hold factory-fresh virtual cards.
    const cards = value(await h['cards:list']([]));
    expect(cards.readers.map((r) => r.name)).toEqual(REHEARSAL_READERS);
    expect(cards.readers.every((r) => r.card?.prepared === false)).toBe(true);
    for (const r of [R1, R2])
      value(await h['cards:prepare']([{ reader: r, pin: '123456', newPin: PIN, newPuk: '13572468' }]));

    v = value(await h['units:use-rehearsal']([]));
    expect(v.rehearsalUnits!.displays).toHaveLength(2);
    expect(v.units.map((u) => u.fingerprintGroups)).toEqual(v.rehearsalUnits!.displays.map((d) => d.fingerprintGroups));
    expect(v.step).toBe('units'); // loaded; the operator still confirms each
    expect(error(await h['units:use-rehearsal']([])).code).toBe('WrongStep');
    for (const u of v.units) v = value(await h['units:confirm']([{ unitId: u.unitId }]));
    expect(v.step).toBe('admins');

    value(await h['admins:create-identity']([{ adminIndex: 0, secret: card(R1) }]));
    // Bob types a name of his own: it is prefixed all the same.
    dialogs.answer('saveFile', join(dir, 'bob.identity.pem'));
    v = value(await h['admins:create-identity']([{ adminIndex: 1, secret: file('bob passphrase') }]));
    expect(v.admins[1]!.identity!.location).toBe('REHEARSAL-bob.identity.pem');

    v = value(await h['master-key:generate']([]));
    const kcv = v.masterKey!.kcv;
    value(await h['shares:write']([{ shareIndex: 1, secret: card(R2) }]));
    value(await h['shares:verify']([{ shareIndex: 1, secret: card(R2) }]));
    value(await h['shares:confirm']([{ shareIndex: 1 }]));
    dialogs.answer('saveFile', join(dir, 'erik.keyshare'));
    value(await h['shares:write']([{ shareIndex: 2, secret: file('erik passphrase') }]));
    value(await h['shares:verify']([{ shareIndex: 2, secret: file('erik passphrase') }]));
    v = value(await h['shares:confirm']([{ shareIndex: 2 }]));
    expect(v.shares[1]!.location).toBe('REHEARSAL-erik.keyshare');
    expect(dialogs.proposed).toEqual(['REHEARSAL-Bob.identity.pem', 'REHEARSAL-dry-mk-share-2-Erik.keyshare']);

    value(await h['bundle:build']([]));
    value(await h['bundle:sign']([{ adminIndex: 0, secret: card(R1) }]));
    value(await h['bundle:sign']([{ adminIndex: 1, secret: file('bob passphrase') }]));
    const media = join(dir, 'usb');
    mkdirSync(media);
    dialogs.answer('chooseFolder', media);
    v = value(await h['bundle:save']([]));
    const bundlePath = v.bundle!.saved!.path;
    expect(basename(bundlePath)).toBe('REHEARSAL-bundle-dry-mk-1.json');
    const bundleText = readFileSync(bundlePath, 'utf8');
    expect(parseBundle(bundleText).payload.rehearsal).toBe(true);
    // Marked so that units not in rehearsal mode refuse it.
    const refusedByProduction = ingestBundle(join(dir, 'production-instance'), bundleText);
    expect(refusedByProduction.map((r) => r.code)).toEqual(['RehearsalMismatch', 'RehearsalMismatch']);

    v = value(await h['rehearsal:load-bundle']([]));
    expect(v.rehearsalUnits!.loaded!.results.every((r) => r.ok)).toBe(true);
    expect(v.rehearsalUnits!.loaded!.units.map((u) => [u.state, u.kcv, u.rehearsal])).toEqual([
      ['kms-initialized', kcv, true],
      ['kms-initialized', kcv, true],
    ]);

    value(await h['ceremony:close']([]));
    const out = join(dir, 'record-out');
    mkdirSync(out);
    dialogs.answer('chooseFolder', out);
    value(await h['record:save']([]));
    const saved = readdirSync(out).sort();
    expect(saved).toHaveLength(3);
    expect(saved.every((f) => f.startsWith('REHEARSAL-ceremony-dry-mk-'))).toBe(true);

    const entries = readTranscript(
      join(
        out,
        saved.find((f) => f.endsWith('.jsonl'))!,
      ),
    );
    expect(entries[0]!.data['mode']).toBe('rehearsal');
    // Every entry of the rehearsal says so, the wipe and the closing included.
    expect(entries.filter((e) => e.data['rehearsal'] !== true).map((e) => e.type)).toEqual([]);
    expect(entries.at(-1)!.type).toBe('ceremony-closed');
    const html = readFileSync(
      join(
        out,
        saved.find((f) => f.endsWith('.html'))!,
      ),
      'utf8',
    );
    expect(html).toContain('REHEARSAL');

    // No real card was ever asked for.
    expect(realCardsOpened).toBe(0);
  }, 180_000);
});

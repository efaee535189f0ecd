// Issue 9 in the desktop app's back end: an admin card whose slot 9C already
// holds a key is refused with what it holds; it is replaced only after its
// owner types their own name, and the ceremony record says what was replaced.
import { cpSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALG } from '../../../src/core/cards/piv.js';
import { unlockManagementKey, withCard } from '../../../src/core/cards/roles.js';
import { CeremonySession } from '../../../src/core/ceremony/session.js';
import { readTranscript } from '../../../src/core/ceremony/transcript.js';
import { exportTransportFiles, initInstance } from '../../../src/emulator/instance.js';
import { createHandlers, type Handlers } from '../../../src/main/handlers.js';
import type { CeremonySetup, IpcResult, SecretInput } from '../../../src/shared/ipc.js';
import { InProcessTransport } from '../../../src/virtual-card/transport.js';
import { preparedCard } from '../../support/cards.js';
import { ScriptedDialogs } from '../../support/dialogs.js';

const R0 = 'Virtual PIV reader 0';
const PIN = '246813';
const card = (reader: string, pin = PIN): SecretInput => ({ medium: 'card', reader, pin });

function value<T>(r: IpcResult<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
function error<T>(r: IpcResult<T>): { code: string; message: string } {
  if (r.ok) throw new Error('expected a failure');
  return r.error;
}

const setup: CeremonySetup = {
  ceremonyName: 'Slot test',
  keyName: 'mk',
  threshold: 2,
  signatureThreshold: 1,
  revocationThreshold: 1,
  operator: 'Olivia',
  admins: [{ name: 'Alice', medium: 'card' }],
  custodians: [
    { name: 'Erik', medium: 'file' },
    { name: 'Fatima', medium: 'file' },
  ],
  witnesses: ['Wendy'],
  reasons: { signatureThresholdOne: 'One admin is enough to test a card slot.' },
};

describe('an admin card whose slot 9C is not empty', () => {
  let dir: string;
  let transport: InProcessTransport;
  let h: Handlers;
  let template: string;

  beforeAll(() => {
    template = join(mkdtempSync(join(tmpdir(), 'kc-slot-units-')), 'instance');
    initInstance(template, 2);
  }, 60_000);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kc-slot-'));
    const dialogs = new ScriptedDialogs();
    transport = new InProcessTransport();
    const session = new CeremonySession({
      dialogs,
      openCardTransport: async () => transport,
      renderPdf: async (html) => Buffer.from(`%PDF-1.4 fake ${html.length}`),
      printHtml: async () => true,
      workDir: dir,
      scryptCost: { logN: 15, r: 8, p: 1 },
    });
    h = createHandlers({
      session,
      appInfo: () => ({ name: 'x', version: '0', networkInterfacesUp: [] }),
      reportBug: (c, e) => {
        throw new Error(`bug in ${c}: ${String(e)}`);
      },
    });
    const unitsDir = join(dir, 'emulator');
    cpSync(template, unitsDir, { recursive: true });
    mkdirSync(join(dir, 'transport'));
    exportTransportFiles(unitsDir, join(dir, 'transport'));
    value(await h['ceremony:start']([setup]));
    for (const f of readdirSync(join(dir, 'transport')).sort()) {
      dialogs.answer('openFile', join(dir, 'transport', f));
      value(await h['units:add-transport']([]));
    }
    for (const u of value(await h['ceremony:state']([])).units) value(await h['units:confirm']([{ unitId: u.unitId }]));
  }, 60_000);

  it('is refused naming what it holds, and replaced only when its owner types their name; the record says what was replaced', async () => {
    transport.insert(R0, await preparedCard(PIN));
    await withCard(transport, R0, async (s) => {
      await unlockManagementKey(s, Buffer.from(PIN));
      await s.generateKey(0x9c, ALG.RSA2048); // the owner's own key, as ykman would leave it
    });
    const e = error(await h['admins:create-identity']([{ adminIndex: 0, secret: card('reader 0') }]));
    expect(e.code).toBe('CardSlotOccupied');
    expect(e.message).toMatch(
      /^On card \d+, slot 9C holds an RSA-2048 key generated on the card, without a certificate\. Nothing was changed: Alice must agree to replace it, or use another card\.$/,
    );
    const wrongName = error(
      await h['admins:create-identity']([
        { adminIndex: 0, secret: card('reader 0'), replaceSlot: { ownerName: 'Bob' } },
      ]),
    );
    expect(wrongName.message).toMatch(/type the name Alice exactly/);
    const v = value(
      await h['admins:create-identity']([
        { adminIndex: 0, secret: card('reader 0'), replaceSlot: { ownerName: 'Alice' } },
      ]),
    );
    expect(v.admins[0]!.identity).toBeTruthy();
    const entries = readTranscript(
      join(
        dir,
        readdirSync(dir).find((f) => f.endsWith('.jsonl'))!,
      ),
    );
    const replaced = entries.find((x) => x.type === 'card-slot-replaced')!;
    expect(replaced.actor).toBe('Alice');
    expect(replaced.data).toMatchObject({
      slot: '9C',
      key: 'RSA-2048, generated on the card',
      certificateSubject: null,
    });
    expect(String(replaced.data['replacedBy'])).toMatch(/^admin identity of Alice /);
  }, 60_000);

  it('a request with an unexpected field in replaceSlot is refused at the boundary', async () => {
    const r = await h['admins:create-identity']([
      { adminIndex: 0, secret: card('reader 0'), replaceSlot: { ownerName: 'Alice', extra: 1 } } as never,
    ]);
    expect(r.ok).toBe(false);
  });
});

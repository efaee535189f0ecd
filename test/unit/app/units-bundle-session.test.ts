// Admin change and zeroize in the app (issue 11, ceremonies 3 and 5): the
// UnitsBundleSession on a key in service on emulated units (made by the
// CLI's core functions), and the shared steps of bundle-steps.ts. The bad
// input of the issue, in the engine: a lock-out, a rehearsal record on
// production units, a signer who may not sign, too few signatures, a
// mistyped key name, a status that does not show the key gone; and a
// share of a destroyed key refused.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateAdminIdentityOnCard } from '../../../src/core/cards/roles.js';
import { unitAdminsOfRecord } from '../../../src/core/ceremony/bundle-steps.js';
import { CardDesk } from '../../../src/core/ceremony/card-desk.js';
import { SerialQueue } from '../../../src/core/ceremony/serial-queue.js';
import { rehearsalCardTransport } from '../../../src/main/rehearsal.js';
import { FileShareSource } from '../../../src/core/ceremony/media.js';
import { verifyShareAgainstRecord } from '../../../src/core/ceremony/operations.js';
import { readTranscript } from '../../../src/core/ceremony/transcript.js';
import { UnitsBundleSession, type UnitsBundleOperation } from '../../../src/core/ceremony/units-bundle-session.js';
import { generateFileIdentity } from '../../../src/core/identity/identity.js';
import { exportTransportFiles, ingestBundle, instanceStatus } from '../../../src/emulator/instance.js';
import { ScriptedDialogs } from '../../support/dialogs.js';
import { keyOnUnits, type KeyOnUnits } from '../../support/key-on-units.js';
import { refusal } from '../../support/refusal.js';

const PASS = 'units bundle correct horse battery';
const tmp = (): string => mkdtempSync(join(tmpdir(), 'kc-units-bundle-'));

let identities: Record<string, string>;
let daveFile: string;

beforeAll(async () => {
  const dir = tmp();
  identities = {};
  for (const n of ['Alice', 'Bob', 'Carol', 'Dave']) {
    const p = join(dir, `${n}.pem`);
    writeFileSync(p, (await generateFileIdentity(n, Buffer.from(PASS))).text);
    identities[n] = p;
  }
  daveFile = identities['Dave']!;
});

async function key(rehearsal = false): Promise<{ dir: string; key: KeyOnUnits }> {
  const dir = tmp();
  const k = await keyOnUnits({
    dir,
    name: rehearsal ? 'rehearsal' : 'prod',
    keyName: rehearsal ? 'MKREH' : 'MKUB',
    admins: ['Alice', 'Bob', 'Carol'],
    signatureThreshold: 2,
    revocationThreshold: 2,
    passphrase: PASS,
    rehearsal,
    identities,
  });
  return { dir, key: k };
}

/** A session at its change step: the record opened, both units loaded and confirmed. */
async function atChange(
  k: KeyOnUnits,
  dir: string,
  op: UnitsBundleOperation,
  transports = k.transports,
): Promise<{ s: UnitsBundleSession; dialogs: ScriptedDialogs }> {
  const dialogs = new ScriptedDialogs();
  const work = join(dir, `work-${Math.random().toString(16).slice(2)}`);
  mkdirSync(work);
  const s = new UnitsBundleSession({ dialogs, workDir: work });
  dialogs.answer('openFile', k.record);
  await s.openRecord(op);
  for (const t of transports) {
    dialogs.answer('openFile', t);
    const st = await s.addTransport();
    await s.confirmUnit(st.units.at(-1)!.unitId);
  }
  await s.unitsDone();
  return { s, dialogs };
}

async function signAs(s: UnitsBundleSession, dialogs: ScriptedDialogs, name: string): Promise<void> {
  dialogs.answer('openFile', identities[name]!);
  await s.sign({ medium: 'file', passphrase: PASS });
}

/** An admin change that adds the admin of `certificateFile`, signed by Alice and Bob, saved and ingested; the units' new transport files. */
async function addAdminOnUnits(k: KeyOnUnits, dir: string, certificateFile: string): Promise<string[]> {
  const { s, dialogs } = await atChange(k, dir, 'admin-change');
  dialogs.answer('openFile', certificateFile);
  await s.addAdmin();
  await s.buildAdminChange({ signatureThreshold: 2, revocationThreshold: 2 });
  await signAs(s, dialogs, 'Alice');
  await signAs(s, dialogs, 'Bob');
  const out = join(dir, 'out-added');
  mkdirSync(out);
  dialogs.answer('chooseFolder', out);
  const saved = (await s.saveBundle()).bundle!.saved!.path;
  expect(ingestBundle(k.unitsDir, readFileSync(saved, 'utf8')).every((r) => r.ok)).toBe(true);
  const after = join(dir, 'transport-after');
  mkdirSync(after);
  return exportTransportFiles(k.unitsDir, after).map((t) => t.path);
}

describe('the units\u2019 admins, as the record knows them', () => {
  it('follows the claim, then an admin change, and forgets them after a zeroize', () => {
    const created = (seq: number, operation: string, data: Record<string, unknown>) => ({
      seq,
      time: '',
      type: 'bundle-created' as const,
      actor: 'operator',
      data: { operation, sequence: seq, adminsRemoved: [], adminsInstalled: [], thresholds: null, ...data },
      prev: '',
      hash: '',
    });
    const A = 'a'.repeat(43);
    const B = 'b'.repeat(43);
    const C = 'c'.repeat(43);
    const entries = [
      created(1, 'initialize', {
        adminsInstalled: [`Alice Smith ${A}`, `Bob ${B}`],
        thresholds: { signatureThreshold: 2, revocationThreshold: 1 },
      }),
      created(2, 'admin-change', {
        adminsInstalled: [`Carol ${C}`],
        adminsRemoved: [A],
        thresholds: { signatureThreshold: 1, revocationThreshold: 2 },
      }),
      created(3, 'zeroize', {}),
    ] as unknown as Parameters<typeof unitAdminsOfRecord>[0];
    expect(unitAdminsOfRecord(entries.slice(0, 1))).toEqual({
      admins: [
        { name: 'Alice Smith', thumbprint: A },
        { name: 'Bob', thumbprint: B },
      ],
      signatureThreshold: 2,
      revocationThreshold: 1,
    });
    expect(unitAdminsOfRecord(entries.slice(0, 2))?.admins.map((a) => a.name)).toEqual(['Bob', 'Carol']);
    // Only what the units applied counts: their last sequence, from their transport files.
    expect(unitAdminsOfRecord(entries.slice(0, 2), 1)?.admins.map((a) => a.name)).toEqual(['Alice Smith', 'Bob']);
    expect(unitAdminsOfRecord(entries)).toBeNull();
  });
});

describe('admin change', () => {
  it('refuses a lock-out before anything is written, then builds, is signed by current admins only, and is ingested', async () => {
    const { dir, key: k } = await key();
    const { s, dialogs } = await atChange(k, dir, 'admin-change');
    expect(s.snapshot().current?.admins.map((a) => a.name)).toEqual(['Alice', 'Bob', 'Carol']);
    dialogs.answer('openFile', daveFile);
    await s.addAdmin();
    dialogs.answer('openFile', identities['Bob']!);
    expect((await refusal(s.addAdmin())).message).toMatch(/Bob is already an admin/);
    const alice = s.snapshot().current!.admins.find((a) => a.name === 'Alice')!.thumbprint;
    await s.setRemoved(alice, true);
    const before = readFileSync(k.record, 'utf8');
    const lockout = await refusal(s.buildAdminChange({ signatureThreshold: 4, revocationThreshold: 2 }));
    expect([lockout.code, lockout.message]).toEqual(['InvalidArgument', expect.stringMatching(/lock-out/)]);
    expect(readFileSync(k.record, 'utf8')).toBe(before);
    expect(s.snapshot().step).toBe('change');

    const st = await s.buildAdminChange({ signatureThreshold: 2, revocationThreshold: 2 });
    expect(st.bundle?.required).toBe(2); // a removal: max(signature, revocation) of the current admins
    // Dave is being added: he may not sign it.
    dialogs.answer('openFile', daveFile);
    const notAdmin = await refusal(s.sign({ medium: 'file', passphrase: PASS }));
    expect([notAdmin.code, notAdmin.message]).toEqual([
      'IdentityInvalid',
      expect.stringMatching(/Dave, who is not a current admin of the units/),
    ]);
    await signAs(s, dialogs, 'Bob');
    const few = await refusal(s.saveBundle());
    expect(few.code).toBe('TooFewSignatures');
    expect(dialogs.asked.some((d) => d.kind === 'chooseFolder')).toBe(false); // refused before the folder was asked
    await signAs(s, dialogs, 'Carol');
    const out = join(dir, 'out');
    mkdirSync(out);
    dialogs.answer('chooseFolder', out);
    const done = await s.saveBundle();
    expect(done.step).toBe('done');
    const saved = done.bundle!.saved!.path;
    expect(saved).toMatch(/bundle-admin-change-2-[0-9a-f]{8}\.json$/);
    const results = ingestBundle(k.unitsDir, readFileSync(saved, 'utf8'));
    expect(results.every((r) => r.ok)).toBe(true);
    for (const u of instanceStatus(k.unitsDir).units) {
      expect([...u.adminNames].sort()).toEqual(['Bob', 'Carol', 'Dave']);
      expect([u.signatureThreshold, u.revocationThreshold]).toEqual([2, 2]);
    }
    const signed = readTranscript(k.record).filter((e) => e.type === 'bundle-signed');
    expect(signed.map((e) => e.actor).slice(-2)).toEqual(['Bob', 'Carol']);
  });

  it('refuses units whose admins are not the record\u2019s (changed outside it)', async () => {
    const { dir, key: k } = await key();
    const older = join(dir, 'older-record.jsonl');
    copyFileSync(k.record, older);
    const transports = await addAdminOnUnits(k, dir, daveFile);
    // The units now have Dave; a copy of the record from before the change does not know it.
    const e = await refusal(atChange({ ...k, record: older }, dir, 'admin-change', transports));
    expect(e.code).toBe('UnitState');
    expect(e.message).toMatch(/Alice, Bob, Carol, Dave .* but older-record\.jsonl says Alice, Bob, Carol/);
  });
});

describe('zeroize', () => {
  it('refuses a rehearsal record on production units before anything is built', async () => {
    const prod = await key(false);
    const reh = await key(true);
    const e = await refusal(atChange(reh.key, reh.dir, 'zeroize', prod.key.transports));
    expect(e.code).toBe('RehearsalMismatch');
    expect(readTranscript(reh.key.record).filter((x) => x.type === 'bundle-created')).toHaveLength(1);
  });

  it('asks the key\u2019s name, is signed, ingested, and records key-destroyed from the units\u2019 status', async () => {
    const { dir, key: k } = await key();
    const { s, dialogs } = await atChange(k, dir, 'zeroize');
    const typo = await refusal(s.buildZeroize('mkub'));
    expect(typo.message).toMatch(/Type the key\u2019s name, MKUB, exactly/);
    await s.buildZeroize('MKUB');
    await signAs(s, dialogs, 'Alice');
    await signAs(s, dialogs, 'Carol');
    const out = join(dir, 'out');
    mkdirSync(out);
    dialogs.answer('chooseFolder', out);
    const saved = await s.saveBundle();
    expect(saved.step).toBe('saved');
    // A status before the ingest: the units still hold the key; refused, nothing written.
    const early = join(dir, 'status-early.json');
    writeFileSync(early, JSON.stringify(instanceStatus(k.unitsDir)));
    dialogs.answer('openFile', early);
    await s.addStatus();
    const notYet = await refusal(s.recordDestroyed());
    expect(notYet.code).toBe('UnitState');
    expect(readTranscript(k.record).at(-1)?.type).toBe('bundle-signed');

    expect(ingestBundle(k.unitsDir, readFileSync(saved.bundle!.saved!.path, 'utf8')).every((r) => r.ok)).toBe(true);
    expect(s.snapshot().statuses).toEqual([]); // the refused status was dropped
    const status = join(dir, 'status.json');
    writeFileSync(status, JSON.stringify(instanceStatus(k.unitsDir)));
    dialogs.answer('openFile', status);
    await s.addStatus();
    const done = await s.recordDestroyed();
    expect(done.destroyed?.keyName).toBe('MKUB');
    expect(done.destroyed?.instances[0]?.units).toHaveLength(2);
    expect(readTranscript(k.record).at(-1)?.type).toBe('key-destroyed');
    const share = await refusal(
      verifyShareAgainstRecord(k.record, new FileShareSource(k.shares[1]!, async () => Buffer.from(PASS))),
    );
    expect(share.code).toBe('ShareRetired');
  });
});

describe('signing with a card', () => {
  it('a current admin whose identity is on a card (slot 9C) signs with its PIN', async () => {
    const { dir, key: k } = await key();
    const transport = rehearsalCardTransport(['Reader 1']);
    const cards = new CardDesk(async () => transport, new SerialQueue());
    const pin = '246810';
    await cards.prepare('Reader 1', Buffer.from('123456'), Buffer.from(pin), Buffer.from('97531864'));
    const dana = await cards.onCard('Reader 1', (s) => generateAdminIdentityOnCard(s, 'Dana', Buffer.from(pin)));
    const danaCert = join(dir, 'dana.cert.pem');
    writeFileSync(danaCert, dana.pem);
    // Dana joins (signed by Alice and Bob, identity files); then the zeroize: Dana signs with her card and PIN, Bob with his file.
    const transports = await addAdminOnUnits(k, dir, danaCert);
    const dialogs = new ScriptedDialogs();
    const work = join(dir, 'work-cards');
    mkdirSync(work);
    const z = new UnitsBundleSession({ dialogs, workDir: work, cardsFor: () => cards });
    dialogs.answer('openFile', k.record);
    await z.openRecord('zeroize');
    for (const t of transports) {
      dialogs.answer('openFile', t);
      const st = await z.addTransport();
      await z.confirmUnit(st.units.at(-1)!.unitId);
    }
    expect((await z.unitsDone()).current?.admins.map((a) => a.name)).toEqual(['Alice', 'Bob', 'Carol', 'Dana']);
    await z.buildZeroize('MKUB');
    const wrong = await refusal(z.sign({ medium: 'card', reader: 'Reader 1', pin: '135791' }));
    expect(wrong.code).toBe('WrongPin');
    await z.sign({ medium: 'card', reader: 'Reader 1', pin });
    await signAs(z, dialogs, 'Bob');
    const out2 = join(dir, 'out2');
    mkdirSync(out2);
    dialogs.answer('chooseFolder', out2);
    const zeroize = (await z.saveBundle()).bundle!;
    expect(zeroize.signedBy).toEqual(['Dana', 'Bob']);
    expect(ingestBundle(k.unitsDir, readFileSync(zeroize.saved!.path, 'utf8')).every((r) => r.ok)).toBe(true);
    expect(instanceStatus(k.unitsDir).units.every((u) => u.masterKeyKcv === null)).toBe(true);
  });
});

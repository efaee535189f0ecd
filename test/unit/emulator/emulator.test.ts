import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildBundle,
  parseBundle,
  serializeBundle,
  wrapMasterKeyForUnit,
  type BundlePayload,
  type BundleSpec,
  type KeyIdentity,
} from '../../../src/core/bundle/bundle.js';
import type { LoadNewCommand } from '../../../src/core/bundle/protocol.js';
import { parseTransportFile, type TransportKey } from '../../../src/core/bundle/transport.js';
import { encryptCompactJwe } from '../../../src/core/bundle/jwe.js';
import { b64url } from '../../../src/core/encoding.js';
import { generateMasterKey, keyCheckValue, verificationPattern } from '../../../src/core/masterkey/masterkey.js';
import { verifyAudit } from '../../../src/emulator/audit.js';
import {
  ingestBundle,
  initInstance,
  instanceStatus,
  setMaintenance,
  transportFileFor,
  zeroizeUnitLocally,
  type UnitResult,
  type UnitStatus,
} from '../../../src/emulator/instance.js';
import { createRootKey, exportKeystore, importKeystore, unwrapDek, wrapDek } from '../../../src/emulator/kms.js';
import { loadInstance, statePath, type AuditEntry, type UnitState } from '../../../src/emulator/state.js';
import { makeAdmin, reissueBundle, type TestAdmin } from '../../support/fixtures.js';

// The units' life (issue 8; docs/unit-protocol.md): every operation of the
// unit protocol and every refusal of the state machine, on real instances
// from initInstance. Bundles come from buildBundle and are signed with
// signGeneralJws (reissueBundle), so a stranger's or a duplicate signature
// is as easy to make as an admin's; attacks edit the payload first.

let alice: TestAdmin;
let bob: TestAdmin;
let carol: TestAdmin;
let dave: TestAdmin;
let mallory: TestAdmin;
/** Alice, Bob, Carol: the admins the usual claim installs. */
let admins: TestAdmin[];
/** Eight admins: Alice, Bob, Carol and five more, a unit's maximum. */
let eight: TestAdmin[];

const key1 = generateMasterKey();
const key2 = generateMasterKey();
const key3 = generateMasterKey();
const CEREMONY = '0f3e3c52-7d4e-4f4e-9a5e-2b9d1c3a4b5c';
const RECORD_ENTRY = 'cd'.repeat(32);

interface Inst {
  dir: string;
  transports: TransportKey[];
  units: string[];
  /** The instance's mode (issue 11): its bundles are made in it unless a test says otherwise. */
  rehearsal: boolean;
}

// RSA-4096 transport keys take seconds to generate: tests start from copies
// of one freshly initialised 2-unit instance (same instance and unit ids,
// separate state). One distinct 3-unit instance serves the tests that need
// another instance.
let template: string;
let other: Inst;
/** A 2-unit instance made in rehearsal mode (issue 11). */
let rehearsalTemplate: string;

function open(dir: string): Inst {
  const s = loadInstance(dir);
  return {
    dir,
    transports: s.units.map((u) => parseTransportFile(JSON.stringify(transportFileFor(s, u)), 't')),
    units: s.units.map((u) => u.id),
    rehearsal: s.rehearsal,
  };
}

function newInstance(from = template): Inst {
  const dir = join(mkdtempSync(join(tmpdir(), 'kc-emu-')), 'state');
  cpSync(from, dir, { recursive: true });
  return open(dir);
}

beforeAll(async () => {
  const people = await Promise.all(
    ['Alice', 'Bob', 'Carol', 'Dave', 'Mallory', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan'].map(makeAdmin),
  );
  [alice, bob, carol, dave, mallory] = people as [TestAdmin, TestAdmin, TestAdmin, TestAdmin, TestAdmin];
  admins = [alice, bob, carol];
  eight = [alice, bob, carol, ...people.slice(5)];
  template = join(mkdtempSync(join(tmpdir(), 'kc-emu-template-')), 'state');
  initInstance(template, 2);
  const otherDir = join(mkdtempSync(join(tmpdir(), 'kc-emu-other-')), 'state');
  initInstance(otherDir, 3);
  other = open(otherDir);
  rehearsalTemplate = join(mkdtempSync(join(tmpdir(), 'kc-emu-rehearsal-')), 'state');
  initInstance(rehearsalTemplate, 2, { rehearsal: true });
});

// ---------------------------------------------------------------------------
// Bundles

const identity = (k: Buffer): KeyIdentity => ({ kcv: keyCheckValue(k), verificationPattern: verificationPattern(k) });
const claimOf = (list: TestAdmin[] = admins, signatureThreshold = 2, revocationThreshold = 3) => ({
  admins: list.map((a) => a.cert),
  signatureThreshold,
  revocationThreshold,
});
const initialize = (masterKey = key1, claim = claimOf()): BundleSpec => ({ operation: 'initialize', masterKey, claim });
const recover = (masterKey: Buffer, claim: ReturnType<typeof claimOf> | null): BundleSpec => ({
  operation: 'recover',
  masterKey,
  claim,
});
const rotate = (to: Buffer, from: Buffer): BundleSpec => ({
  operation: 'rotate',
  masterKey: to,
  currentVerificationPattern: verificationPattern(from),
});
const adminChange = (o: {
  add?: TestAdmin[];
  remove?: TestAdmin[];
  sig?: number;
  rev?: number;
  under?: Buffer;
}): BundleSpec => ({
  operation: 'admin-change',
  current: identity(o.under ?? key1),
  add: (o.add ?? []).map((a) => a.cert),
  remove: (o.remove ?? []).map((a) => a.cert.thumbprint),
  thresholds: { signatureThreshold: o.sig ?? 2, revocationThreshold: o.rev ?? 3 },
});
const zeroize = (under = key1): BundleSpec => ({ operation: 'zeroize', current: identity(under) });

interface Opts {
  sequence: number;
  keyName?: string;
  /**
   * Made in this mode, whatever the instance's: a bundle of the other mode,
   * as one made for another instance's units would be (issue 11).
   */
  rehearsal?: boolean;
  /** Edit the payload before signing: what an attacker with the file does. */
  edit?: (p: BundlePayload) => void;
}

/** A bundle for `inst`'s units, signed by `signers` (anyone, duplicates kept). */
async function make(inst: Inst, spec: BundleSpec, signers: readonly TestAdmin[], o: Opts): Promise<string> {
  const rehearsal = o.rehearsal ?? inst.rehearsal;
  const { jws } = buildBundle({
    ...spec,
    // buildBundle refuses transports of the other mode: they are relabelled, as the units' own files would say.
    transports: inst.transports.map((t) => ({ ...t, file: { ...t.file, rehearsal } })),
    rehearsal,
    sequence: o.sequence,
    ceremonyId: CEREMONY,
    keyName: o.keyName ?? 'MK',
    transcriptHash: RECORD_ENTRY,
  });
  return reissueBundle(jws, signers, o.edit);
}

/** A signed bundle whose payload is changed afterwards, its signatures kept. */
function tamperKeepingSignatures(text: string, edit: (p: BundlePayload) => void): string {
  const b = JSON.parse(text) as { payload: string; signatures: Array<{ protected: string; signature: string }> };
  const p = JSON.parse(Buffer.from(b.payload, 'base64url').toString('utf8')) as BundlePayload;
  edit(p);
  return serializeBundle({ payload: b64url(Buffer.from(JSON.stringify(p), 'utf8')), signatures: b.signatures });
}

const loadOf = (p: BundlePayload): LoadNewCommand =>
  p.commands.find((c): c is LoadNewCommand => c.command === 'load-new')!;
const payloadOf = (text: string): BundlePayload => parseBundle(text).payload;
const payloadHashOf = (text: string): string => parseBundle(text).payloadHash;

// ---------------------------------------------------------------------------
// Looking at the units

const statuses = (dir: string): UnitStatus[] => instanceStatus(dir).units;
const unitState = (dir: string, id: string): UnitState => loadInstance(dir).units.find((u) => u.id === id)!;
const auditOf = (dir: string, id: string): AuditEntry[] => unitState(dir, id).audit;

interface Snapshot {
  units: UnitStatus[];
  auditLengths: Map<string, number>;
}
function snapshot(inst: Inst): Snapshot {
  const s = loadInstance(inst.dir);
  return { units: statuses(inst.dir), auditLengths: new Map(s.units.map((u) => [u.id, u.audit.length])) };
}

/**
 * A refusal by every unit offered (all of the instance's by default): each
 * result names the code and the reason, no unit's status changed, and each
 * unit's log gained exactly one 'rejected' entry with the code.
 */
function expectRefused(
  inst: Inst,
  before: Snapshot,
  results: UnitResult[],
  code: string,
  reason: RegExp,
  offered: string[] = inst.units,
): void {
  expect(results.map((r) => r.unitId)).toEqual(offered);
  for (const r of results) {
    expect(r).toMatchObject({ ok: false, alreadyApplied: false, code });
    expect(r.message).toMatch(/^rejected: /);
    expect(r.message).toMatch(reason);
  }
  expect(statuses(inst.dir)).toEqual(before.units);
  for (const id of offered) {
    const log = auditOf(inst.dir, id);
    expect(log).toHaveLength(before.auditLengths.get(id)! + 1);
    expect(log.at(-1)).toMatchObject({ result: 'rejected', code });
  }
}

function expectAllOk(results: UnitResult[], state = 'kms-initialized'): void {
  expect(results.length).toBeGreaterThan(0);
  for (const r of results) expect(r).toMatchObject({ ok: true, alreadyApplied: false, state });
}

/** No master key, in any encoding, anywhere in the state file. */
function expectNoKeyBytes(dir: string, ...keys: Buffer[]): void {
  const text = readFileSync(statePath(dir), 'utf8');
  for (const k of keys) {
    for (const enc of [
      k.toString('hex'),
      k.toString('hex').toUpperCase(),
      k.toString('base64'),
      k.toString('base64url'),
      k.toString('base64').slice(0, 40),
    ]) {
      expect(text).not.toContain(enc);
    }
  }
}

/** An instance initialized with key1 for Alice, Bob and Carol (signature threshold 2, revocation 3) at sequence 1. */
async function initialized(
  claim = claimOf(),
  signers: TestAdmin[] = claim.admins.map((c) => [...eight, dave].find((a) => a.cert.thumbprint === c.thumbprint)!),
): Promise<Inst & { init: string }> {
  const inst = newInstance();
  const init = await make(inst, initialize(key1, claim), signers, { sequence: 1 });
  expectAllOk(ingestBundle(inst.dir, init));
  return { ...inst, init };
}

// ---------------------------------------------------------------------------

describe('initialize', () => {
  it('takes cleared units to kms-initialized: the claimed admins, both thresholds, the key in the current register, an applied audit entry', async () => {
    const inst = newInstance();
    expect(statuses(inst.dir)).toEqual(
      inst.units.map((id) =>
        expect.objectContaining({
          id,
          state: 'cleared',
          adminThumbprints: [],
          signatureThreshold: 0,
          revocationThreshold: 0,
          masterKeyKcv: null,
          lastSequence: 0,
        }),
      ),
    );
    const text = await make(inst, initialize(), admins, { sequence: 1 });
    const results = ingestBundle(inst.dir, text);
    expect(results.map((r) => r.unitId)).toEqual(inst.units);
    expectAllOk(results);
    expect(results[0]!.message).toBe(
      `accepted: initialize; state kms-initialized, master key KCV ${keyCheckValue(key1)}`,
    );
    const status = instanceStatus(inst.dir);
    expect(status.mismatches).toEqual([]);
    for (const u of status.units) {
      expect(u).toMatchObject({
        state: 'kms-initialized',
        adminNames: ['Alice', 'Bob', 'Carol'],
        adminThumbprints: admins.map((a) => a.cert.thumbprint),
        signatureThreshold: 2,
        revocationThreshold: 3,
        masterKeyKcv: keyCheckValue(key1),
        masterKeyVerificationPattern: verificationPattern(key1),
        newMasterKeyKcv: null,
        oldMasterKeyKcv: null,
        masterKeyTranscriptHash: RECORD_ENTRY,
        lastSequence: 1,
      });
      const raw = unitState(inst.dir, u.id);
      expect(raw.users).toEqual(['kmsCryptoUser']);
      expect(raw.currentMasterKey).toMatchObject({ keyName: 'MK', ceremonyId: CEREMONY, committed: true });
      expect(raw.appliedBundles).toEqual([
        expect.objectContaining({
          bundleId: payloadOf(text).bundleId,
          payloadHash: payloadHashOf(text),
          sequence: 1,
          operation: 'initialize',
          transcriptHash: RECORD_ENTRY,
        }),
      ]);
      expect(raw.audit).toEqual([
        expect.objectContaining({
          seq: 1,
          bundleId: payloadOf(text).bundleId,
          operation: 'initialize',
          payloadHash: payloadHashOf(text),
          signers: admins.map((a) => a.cert.thumbprint),
          result: 'applied',
          code: null,
        }),
      ]);
      verifyAudit(raw);
    }
    expectNoKeyBytes(inst.dir, key1);
  });

  it('initializes every unit of a 3-unit instance', async () => {
    const before = snapshot(other);
    const results = ingestBundle(other.dir, await make(other, initialize(key2), admins, { sequence: 1 }));
    expect(results).toHaveLength(3);
    expectAllOk(results);
    expect(before.units.map((u) => u.state)).toEqual(['cleared', 'cleared', 'cleared']);
    expect(statuses(other.dir).map((u) => [u.state, u.masterKeyKcv])).toEqual(
      other.units.map(() => ['kms-initialized', keyCheckValue(key2)]),
    );
    expectNoKeyBytes(other.dir, key2);
  });

  it('refuses the hidden-second-claim bundle for the whole instance, before any unit looks at it', async () => {
    const inst = newInstance();
    const before = snapshot(inst);
    const attack = await make(inst, initialize(), admins, {
      sequence: 1,
      edit: (p) =>
        (p.commands as unknown[]).splice(1, 0, {
          command: 'claim',
          admins: [mallory.cert.der.toString('base64')],
          signatureThreshold: 1,
          revocationThreshold: 1,
        }),
    });
    const results = ingestBundle(inst.dir, attack);
    expect(results).toEqual([
      {
        unitId: '*',
        ok: false,
        alreadyApplied: false,
        state: '-',
        code: 'BundleMalformed',
        message: expect.stringMatching(
          /^rejected: The bundle's commands \(claim claim load-new commit activate add-user\) are not the command sequence of the initialize operation/,
        ),
      },
    ]);
    // Nothing changed; each unit logged the offer it could not read.
    expect(statuses(inst.dir)).toEqual(before.units);
    for (const id of inst.units) {
      expect(auditOf(inst.dir, id)).toEqual([
        expect.objectContaining({ result: 'rejected', code: 'BundleMalformed', bundleId: null, operation: null }),
      ]);
    }
  });

  it('refuses a claim not signed by every admin it installs, naming who is missing', async () => {
    const inst = newInstance();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, initialize(), [alice, bob], { sequence: 1 }));
    expectRefused(
      inst,
      before,
      r,
      'TooFewSignatures',
      /too few signatures: 2 valid, a claim must be signed by every admin it installs \(3\); missing: Carol\.$/,
    );
  });

  it('refuses to initialize units that are initialized', async () => {
    const inst = await initialized();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, initialize(key2), admins, { sequence: 2 }));
    expectRefused(
      inst,
      before,
      r,
      'UnitState',
      /initialize claims cleared units, but this unit is kms-initialized; .*to replace a key use rotate/,
    );
  });
});

describe('recover', () => {
  it('onto cleared units with a claim: the key and its admins come back, and the exported root keys unwrap a DEK wrapped before', async () => {
    const source = await initialized();
    createRootKey(source.dir, 'root-1');
    const dek = randomBytes(32);
    const wrapped = wrapDek(source.dir, 'root-1', dek);
    const keystoreFile = join(mkdtempSync(join(tmpdir(), 'kc-keystore-')), 'keystore.json');
    exportKeystore(source.dir, keystoreFile);

    const target = newInstance();
    const text = await make(target, recover(key1, claimOf(admins, 2, 2)), admins, { sequence: 1 });
    const r = ingestBundle(target.dir, text);
    expectAllOk(r);
    for (const u of statuses(target.dir)) {
      expect(u).toMatchObject({
        state: 'kms-initialized',
        masterKeyKcv: keyCheckValue(key1),
        oldMasterKeyKcv: null,
        signatureThreshold: 2,
        revocationThreshold: 2,
        adminNames: ['Alice', 'Bob', 'Carol'],
      });
      expect(auditOf(target.dir, u.id).at(-1)).toMatchObject({ result: 'applied', operation: 'recover' });
    }
    importKeystore(target.dir, keystoreFile);
    expect(unwrapDek(target.dir, wrapped).equals(dek)).toBe(true);
    expectNoKeyBytes(target.dir, key1);
  });

  it('without a claim, is refused on cleared units', async () => {
    const inst = newInstance();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, recover(key1, null), admins, { sequence: 1 }));
    expectRefused(
      inst,
      before,
      r,
      'UnitState',
      /the unit is cleared and the bundle does not claim it; a recovery onto cleared units carries the claim\./,
    );
  });

  it('without a claim, is refused on initialized units: only rotate replaces a current key', async () => {
    const inst = await initialized();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, recover(key2, null), admins, { sequence: 2 }));
    expectRefused(
      inst,
      before,
      r,
      'UnitState',
      new RegExp(
        `needs a unit that holds no master key; this one is kms-initialized with key ${keyCheckValue(key1)}\\. Only rotate replaces a current key\\.`,
      ),
    );
    // Not even the same key is loaded again that way.
    const same = ingestBundle(inst.dir, await make(inst, recover(key1, null), admins, { sequence: 3 }));
    expect(same.map((x) => x.code)).toEqual(['UnitState', 'UnitState']);
  });

  it('with a claim, is refused on initialized units', async () => {
    const inst = await initialized();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, recover(key2, claimOf()), admins, { sequence: 2 }));
    expectRefused(
      inst,
      before,
      r,
      'UnitState',
      /this recover bundle claims the unit, but it is already claimed \(state kms-initialized\)/,
    );
  });

  // No bundle leaves a unit claimed without a key (a claim and its load are
  // applied together or not at all), so the state file is edited to get one:
  // as a real unit would be after a claim whose load failed.
  async function claimedWithoutKey(): Promise<Inst> {
    const inst = await initialized();
    const raw = JSON.parse(readFileSync(statePath(inst.dir), 'utf8')) as { units: Array<Record<string, unknown>> };
    for (const u of raw.units) Object.assign(u, { state: 'claimed', currentMasterKey: null, users: [] });
    writeFileSync(statePath(inst.dir), JSON.stringify(raw, null, 2) + '\n');
    return inst;
  }

  it("without a claim, onto claimed units that hold no key: loads the key under the installed admins' signature threshold", async () => {
    const inst = await claimedWithoutKey();
    const before = snapshot(inst);
    const text = await make(inst, recover(key1, null), [alice, bob], { sequence: 2 });
    expectRefused(
      inst,
      before,
      ingestBundle(inst.dir, await make(inst, recover(key1, null), [alice], { sequence: 2 })),
      'TooFewSignatures',
      /1 valid, the unit requires 2 of its 3 admins/,
    );
    const r = ingestBundle(inst.dir, text);
    expect(r.map((x) => x.ok)).toEqual([true, true]);
    for (const u of statuses(inst.dir)) {
      expect(u).toMatchObject({
        masterKeyKcv: keyCheckValue(key1),
        adminNames: ['Alice', 'Bob', 'Carol'],
        signatureThreshold: 2,
        revocationThreshold: 3,
        lastSequence: 2,
      });
    }
  });

  // Found by this suite: the sequence once lacked add-user and left such units in mk-committed, serving nothing.
  it('a recovery onto claimed units leaves them serving the KMS', async () => {
    const inst = await claimedWithoutKey();
    const r = ingestBundle(inst.dir, await make(inst, recover(key1, null), [alice, bob], { sequence: 2 }));
    expect(r.map((x) => x.state)).toEqual(['kms-initialized', 'kms-initialized']);
    createRootKey(inst.dir, 'root-1');
  });
});

describe('rotate', () => {
  it('moves the current key to the old register and activates the new one; a DEK wrapped before unwraps after', async () => {
    const inst = await initialized();
    createRootKey(inst.dir, 'root-1');
    const dek = randomBytes(48);
    const before = wrapDek(inst.dir, 'root-1', dek);
    const text = await make(inst, rotate(key2, key1), [bob, carol], { sequence: 2 });
    const r = ingestBundle(inst.dir, text);
    expectAllOk(r);
    expect(r[0]!.message).toBe(`accepted: rotate; state kms-initialized, master key KCV ${keyCheckValue(key2)}`);
    for (const u of statuses(inst.dir)) {
      expect(u).toMatchObject({
        state: 'kms-initialized',
        masterKeyKcv: keyCheckValue(key2),
        masterKeyVerificationPattern: verificationPattern(key2),
        oldMasterKeyKcv: keyCheckValue(key1),
        newMasterKeyKcv: null,
        lastSequence: 2,
        adminNames: ['Alice', 'Bob', 'Carol'],
      });
    }
    expect(instanceStatus(inst.dir).mismatches).toEqual([]);
    // The keystore followed the rotation: sealed under the new key, the root key unchanged.
    expect(loadInstance(inst.dir).keystore?.masterKeyVerificationPattern).toBe(verificationPattern(key2));
    expect(unwrapDek(inst.dir, before).equals(dek)).toBe(true);
    const after = wrapDek(inst.dir, 'root-1', dek);
    expect(unwrapDek(inst.dir, after).equals(dek)).toBe(true);

    // A second rotation: key2 becomes old, key1 is gone from the registers; the DEKs still unwrap.
    expectAllOk(ingestBundle(inst.dir, await make(inst, rotate(key3, key2), [alice, bob], { sequence: 3 })));
    expect(statuses(inst.dir).map((u) => [u.masterKeyKcv, u.oldMasterKeyKcv])).toEqual(
      inst.units.map(() => [keyCheckValue(key3), keyCheckValue(key2)]),
    );
    expect(unwrapDek(inst.dir, before).equals(dek)).toBe(true);
    expect(unwrapDek(inst.dir, after).equals(dek)).toBe(true);
    expectNoKeyBytes(inst.dir, key1, key2, key3);
  });

  it("refuses a rotation whose expected current key is not the unit's, loading nothing", async () => {
    const inst = await initialized();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, rotate(key2, key3), [alice, bob], { sequence: 2 }));
    expectRefused(
      inst,
      before,
      r,
      'KcvMismatch',
      new RegExp(
        `the rotation expects current key ${verificationPattern(key3).slice(0, 16)}\u2026, but this unit's current key is ${keyCheckValue(key1)} .*; nothing was loaded\\.`,
      ),
    );
    expect(statuses(inst.dir).every((u) => u.newMasterKeyKcv === null)).toBe(true);
  });

  it('refuses a new key equal to the current key (a bundle buildBundle would not write)', async () => {
    const inst = await initialized();
    const before = snapshot(inst);
    const text = await make(inst, rotate(key2, key1), [alice, bob], {
      sequence: 2,
      edit: (p) => {
        Object.assign(p, identity(key1));
        const keys = loadOf(p).keys;
        for (const t of inst.transports) keys[t.file.unitId] = wrapMasterKeyForUnit(key1, t);
      },
    });
    const r = ingestBundle(inst.dir, text);
    expectRefused(
      inst,
      before,
      r,
      'KcvMismatch',
      new RegExp(
        `the new key ${keyCheckValue(key1)} is the unit's current key; a rotation needs a newly generated key\\.`,
      ),
    );
  });

  it('refuses a new key equal to the old key', async () => {
    const inst = await initialized();
    expectAllOk(ingestBundle(inst.dir, await make(inst, rotate(key2, key1), [alice, bob], { sequence: 2 })));
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, rotate(key1, key2), [alice, bob], { sequence: 3 }));
    expectRefused(
      inst,
      before,
      r,
      'KcvMismatch',
      new RegExp(`the new key ${keyCheckValue(key1)} is the unit's old key; a rotation needs a newly generated key\\.`),
    );
  });

  it('refuses to rotate cleared units', async () => {
    const inst = newInstance();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, rotate(key2, key1), admins, { sequence: 1 }));
    expectRefused(
      inst,
      before,
      r,
      'UnitState',
      /rotate replaces the current key of an initialized unit; this unit is cleared\./,
    );
  });

  it('needs the signature threshold of the installed admins', async () => {
    const inst = await initialized();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, rotate(key2, key1), [carol], { sequence: 2 }));
    expectRefused(
      inst,
      before,
      r,
      'TooFewSignatures',
      /too few signatures: 1 valid, the unit requires 2 of its 3 admins\.$/,
    );
    const unsigned = ingestBundle(inst.dir, await make(inst, rotate(key2, key1), [], { sequence: 2 }));
    expect(unsigned.map((x) => x.message)).toEqual(
      inst.units.map(() => expect.stringMatching(/too few signatures: 0 valid/)),
    );
  });
});

describe('admin-change', () => {
  it('adds an admin with the signature threshold, who can then sign', async () => {
    const inst = await initialized();
    const change = adminChange({ add: [dave], sig: 3, rev: 3 });
    const before = snapshot(inst);
    expectRefused(
      inst,
      before,
      ingestBundle(inst.dir, await make(inst, change, [alice], { sequence: 2 })),
      'TooFewSignatures',
      /1 valid, the unit requires 2 of its 3 admins/,
    );
    expectAllOk(ingestBundle(inst.dir, await make(inst, change, [alice, bob], { sequence: 2 })));
    for (const u of statuses(inst.dir)) {
      expect(u).toMatchObject({
        adminNames: ['Alice', 'Bob', 'Carol', 'Dave'],
        signatureThreshold: 3,
        revocationThreshold: 3,
        masterKeyKcv: keyCheckValue(key1),
        lastSequence: 2,
        state: 'kms-initialized',
      });
    }
    // Dave counts now; the new signature threshold (3) applies.
    const rot = rotate(key2, key1);
    expect(ingestBundle(inst.dir, await make(inst, rot, [dave, alice], { sequence: 3 })).map((x) => x.message)).toEqual(
      inst.units.map(() => expect.stringMatching(/2 valid, the unit requires 3 of its 4 admins/)),
    );
    expectAllOk(ingestBundle(inst.dir, await make(inst, rot, [dave, alice, carol], { sequence: 3 })));
  });

  it('removes an admin only with the revocation threshold when it is the higher, and the removed admin no longer counts', async () => {
    const inst = await initialized(); // signature 2, revocation 3
    const change = adminChange({ remove: [carol], sig: 2, rev: 2 });
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, change, [alice, bob], { sequence: 2 }));
    expectRefused(
      inst,
      before,
      r,
      'TooFewSignatures',
      /too few signatures: 2 valid, removing an admin needs the revocation threshold \(3\) and the signature threshold \(2\) of the unit's 3 admins\.$/,
    );
    expectAllOk(ingestBundle(inst.dir, await make(inst, change, [alice, bob, carol], { sequence: 2 })));
    for (const u of statuses(inst.dir))
      expect(u).toMatchObject({ adminNames: ['Alice', 'Bob'], signatureThreshold: 2, revocationThreshold: 2 });
    const after = snapshot(inst);
    const r2 = ingestBundle(inst.dir, await make(inst, rotate(key2, key1), [alice, carol], { sequence: 3 }));
    expectRefused(
      inst,
      after,
      r2,
      'UnknownSigner',
      new RegExp(
        `signature 2 is by an unknown signer \\(certificate thumbprint ${carol.cert.thumbprint}\\), not an admin of this unit\\.`,
      ),
    );
  });

  it('removes an admin only with the signature threshold when it is the higher', async () => {
    const inst = await initialized(claimOf(admins, 3, 1));
    const change = adminChange({ remove: [carol], sig: 2, rev: 1 });
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, change, [alice, bob], { sequence: 2 }));
    expectRefused(
      inst,
      before,
      r,
      'TooFewSignatures',
      /2 valid, removing an admin needs the revocation threshold \(1\) and the signature threshold \(3\)/,
    );
    expectAllOk(ingestBundle(inst.dir, await make(inst, change, admins, { sequence: 2 })));
    expect(statuses(inst.dir).map((u) => u.adminNames)).toEqual(inst.units.map(() => ['Alice', 'Bob']));
  });

  it('refuses a change that leaves fewer admins than a threshold (lock-out)', async () => {
    const inst = await initialized();
    const before = snapshot(inst);
    const r = ingestBundle(
      inst.dir,
      await make(inst, adminChange({ remove: [bob, carol], sig: 2, rev: 2 }), admins, { sequence: 2 }),
    );
    expectRefused(
      inst,
      before,
      r,
      'UnitState',
      /refused, it would lock the unit out: The change: the signature threshold 2 is above the 1 admin there would be/,
    );
    const r2 = ingestBundle(inst.dir, await make(inst, adminChange({ sig: 4, rev: 3 }), admins, { sequence: 2 }));
    expect(r2.map((x) => x.message)).toEqual(
      inst.units.map(() =>
        expect.stringMatching(/would lock the unit out: .*signature threshold 4 is above the 3 admins/),
      ),
    );
    expect(statuses(inst.dir)).toEqual(before.units);
  });

  it('refuses removing someone who is not an admin', async () => {
    const inst = await initialized();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, adminChange({ remove: [mallory] }), admins, { sequence: 2 }));
    expectRefused(
      inst,
      before,
      r,
      'UnitState',
      new RegExp(`the bundle removes admin ${mallory.cert.thumbprint}, who is not an admin of this unit\\.`),
    );
  });

  it('refuses adding an existing admin', async () => {
    const inst = await initialized();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, adminChange({ add: [bob] }), [alice, bob], { sequence: 2 }));
    expectRefused(
      inst,
      before,
      r,
      'UnitState',
      new RegExp(`Bob \\(${bob.cert.thumbprint}\\) is already an admin of this unit\\.`),
    );
  });

  it('refuses a change that changes nothing', async () => {
    const inst = await initialized();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, adminChange({ sig: 2, rev: 3 }), [alice, bob], { sequence: 2 }));
    expectRefused(inst, before, r, 'UnitState', /the admin change changes nothing on this unit\./);
    // The thresholds alone are a change.
    expectAllOk(
      ingestBundle(inst.dir, await make(inst, adminChange({ sig: 1, rev: 2 }), [alice, bob], { sequence: 2 })),
    );
    expect(statuses(inst.dir).map((u) => [u.signatureThreshold, u.revocationThreshold])).toEqual(
      inst.units.map(() => [1, 2]),
    );
  });

  it('refuses a ninth admin', async () => {
    const inst = await initialized(claimOf(eight, 2, 2));
    expect(statuses(inst.dir)[0]!.adminNames).toHaveLength(8);
    const before = snapshot(inst);
    const r = ingestBundle(
      inst.dir,
      await make(inst, adminChange({ add: [dave], sig: 2, rev: 2 }), [alice, bob], { sequence: 2 }),
    );
    expectRefused(inst, before, r, 'UnitState', /the unit would have 9 admins; it takes at most 8 \(kp-dedicated\)\./);
  });

  it("refuses a change that acts under another key than the units' current one, and on cleared units", async () => {
    const inst = await initialized();
    const before = snapshot(inst);
    const r = ingestBundle(
      inst.dir,
      await make(inst, adminChange({ add: [dave], under: key2 }), [alice, bob], { sequence: 2 }),
    );
    expectRefused(
      inst,
      before,
      r,
      'KcvMismatch',
      new RegExp(
        `the bundle acts under master key ${keyCheckValue(key2)} .*but this unit's current key is ${keyCheckValue(key1)}`,
      ),
    );
    const cleared = newInstance();
    const b2 = snapshot(cleared);
    const c = ingestBundle(
      cleared.dir,
      await make(cleared, adminChange({ add: [dave] }), [alice, bob], { sequence: 1 }),
    );
    expectRefused(cleared, b2, c, 'UnitState', /the unit is cleared: there is nothing to change\./);
  });
});

describe('zeroize', () => {
  it('needs the signature threshold, then leaves every unit cleared with nothing; old bundles stay spent and nothing unwraps', async () => {
    const inst = await initialized();
    createRootKey(inst.dir, 'root-1');
    const dek = randomBytes(32);
    const wrapped = wrapDek(inst.dir, 'root-1', dek);
    const text = await make(inst, zeroize(), [alice, bob], { sequence: 2 });
    const before = snapshot(inst);
    expectRefused(
      inst,
      before,
      ingestBundle(inst.dir, await make(inst, zeroize(), [alice], { sequence: 2 })),
      'TooFewSignatures',
      /1 valid, the unit requires 2 of its 3 admins/,
    );

    const r = ingestBundle(inst.dir, text);
    expectAllOk(r, 'cleared');
    const s = loadInstance(inst.dir);
    for (const u of s.units) {
      expect(u).toMatchObject({
        state: 'cleared',
        admins: [],
        signatureThreshold: 0,
        revocationThreshold: 0,
        newMasterKey: null,
        currentMasterKey: null,
        oldMasterKey: null,
        users: [],
        lastSequence: 2,
      });
      expect(u.sealingKey).not.toBe(unitState(template, u.id).sealingKey);
      expect(u.audit.at(-1)).toMatchObject({ result: 'applied', operation: 'zeroize' });
      verifyAudit(u);
    }
    expect(s.keystore).toBeNull();
    expect(() => unwrapDek(inst.dir, wrapped)).toThrow(/hold no master key/);
    expect(() => wrapDek(inst.dir, 'root-1', dek)).toThrow(/hold no master key/);

    // lastSequence survives: a new initialize at an old sequence number is a replay...
    const zeroized = snapshot(inst);
    const replay = ingestBundle(inst.dir, await make(inst, initialize(), admins, { sequence: 2 }));
    expectRefused(
      inst,
      zeroized,
      replay,
      'Replay',
      /replayed or out-of-date bundle: sequence 2 is not above the last accepted 2\./,
    );
    // ...and the old initialize bundle itself changes nothing.
    ingestBundle(inst.dir, inst.init);
    expect(statuses(inst.dir)).toEqual(zeroized.units);
    // The units can be initialized again, above the last sequence.
    expectAllOk(ingestBundle(inst.dir, await make(inst, initialize(key2), admins, { sequence: 3 })));
    expect(statuses(inst.dir).map((u) => u.masterKeyKcv)).toEqual(inst.units.map(() => keyCheckValue(key2)));
    // The root keys are gone with the key that sealed them.
    expect(() => unwrapDek(inst.dir, wrapped)).toThrow(/no root keys/);
  });

  // After zeroize the old initialize bundle is a replay, not "already applied": its effect is gone.
  it('refuses the old initialize bundle as a replay after zeroize', async () => {
    const inst = await initialized();
    expectAllOk(ingestBundle(inst.dir, await make(inst, zeroize(), [alice, bob], { sequence: 2 })), 'cleared');
    const r = ingestBundle(inst.dir, inst.init);
    expect(r.map((x) => [x.ok, x.code])).toEqual(inst.units.map(() => [false, 'Replay']));
  });

  it('refuses to zeroize cleared units, and a zeroize under another key', async () => {
    const cleared = newInstance();
    const before = snapshot(cleared);
    expectRefused(
      cleared,
      before,
      ingestBundle(cleared.dir, await make(cleared, zeroize(), admins, { sequence: 1 })),
      'UnitState',
      /the unit is cleared: there is nothing to zeroize\./,
    );
    const inst = await initialized();
    const b2 = snapshot(inst);
    expectRefused(
      inst,
      b2,
      ingestBundle(inst.dir, await make(inst, zeroize(key2), admins, { sequence: 2 })),
      'KcvMismatch',
      /the bundle acts under master key/,
    );
  });

  it('zeroizeUnitLocally clears one unit, logs it, and the instance reports the mismatch', async () => {
    const inst = await initialized();
    const [u1, u2] = inst.units as [string, string];
    createRootKey(inst.dir, 'root-1');
    const dek = randomBytes(16);
    const wrapped = wrapDek(inst.dir, 'root-1', dek);
    const other2 = statuses(inst.dir).find((u) => u.id === u2)!;
    const u = zeroizeUnitLocally(inst.dir, u1);
    expect(u).toMatchObject({
      id: u1,
      state: 'cleared',
      admins: [],
      currentMasterKey: null,
      oldMasterKey: null,
      newMasterKey: null,
      users: [],
      signatureThreshold: 0,
      revocationThreshold: 0,
    });
    expect(auditOf(inst.dir, u1).at(-1)).toMatchObject({
      result: 'local',
      code: 'zeroize',
      bundleId: null,
      operation: null,
      payloadHash: null,
      signers: [],
    });
    verifyAudit(unitState(inst.dir, u1));
    expect(statuses(inst.dir).find((x) => x.id === u2)).toEqual(other2);
    const mismatches = instanceStatus(inst.dir).mismatches;
    expect(mismatches.map((m) => m.split(':')[0])).toEqual([
      'mismatched master key material',
      'mismatched admins',
      'mismatched thresholds',
    ]);
    for (const m of mismatches) {
      expect(m).toContain(`unit ${u1} `);
      expect(m).toContain(`unit ${u2} `);
    }
    // The other unit still holds the key, so the keystore stays; with the cleared unit out of service it serves.
    expect(loadInstance(inst.dir).keystore).not.toBeNull();
    setMaintenance(inst.dir, u1, true);
    expect(unwrapDek(inst.dir, wrapped).equals(dek)).toBe(true);
    zeroizeUnitLocally(inst.dir, u2);
    expect(loadInstance(inst.dir).keystore).toBeNull();
  });

  it('after a local zeroize, the bundle that initialized the unit is a replay, not "already applied"', async () => {
    const inst = await initialized();
    const [u1] = inst.units as [string, string];
    zeroizeUnitLocally(inst.dir, u1);
    const r = ingestBundle(inst.dir, inst.init, [u1]);
    expect(r).toMatchObject([{ unitId: u1, ok: false, code: 'Replay' }]);
    expect(r[0]!.message).toMatch(/was applied before, but the unit was zeroized since \(locally, /);
  });
});

describe('replays and the same bundle again', () => {
  it('reports a bundle the units applied before as already applied, ok, and changes nothing', async () => {
    const inst = await initialized();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, inst.init);
    expect(r).toEqual(
      inst.units.map((unitId) => ({
        unitId,
        ok: true,
        alreadyApplied: true,
        state: 'kms-initialized',
        message: 'already applied (sequence 1); nothing changed',
      })),
    );
    expect(statuses(inst.dir)).toEqual(before.units);
    for (const id of inst.units) {
      expect(auditOf(inst.dir, id)).toHaveLength(before.auditLengths.get(id)! + 1);
      expect(auditOf(inst.dir, id).at(-1)).toMatchObject({
        result: 'already-applied',
        code: null,
        payloadHash: payloadHashOf(inst.init),
      });
    }
  });

  it('refuses a different bundle that reuses an applied bundle id', async () => {
    const inst = await initialized();
    const before = snapshot(inst);
    const id = payloadOf(inst.init).bundleId;
    const r = ingestBundle(
      inst.dir,
      await make(inst, rotate(key2, key1), [alice, bob], { sequence: 2, edit: (p) => (p.bundleId = id) }),
    );
    expectRefused(
      inst,
      before,
      r,
      'Replay',
      new RegExp(`a different bundle with the same id ${id} was applied before: this one was altered and re-issued\\.`),
    );
    // Also the same id with the applied bundle's own content, altered: another payload hash.
    const altered = await make(inst, initialize(), admins, { sequence: 1, edit: (p) => (p.bundleId = id) });
    expect(ingestBundle(inst.dir, altered).map((x) => x.code)).toEqual(['Replay', 'Replay']);
  });

  it('refuses a sequence number not above the last accepted one', async () => {
    const inst = await initialized();
    expectAllOk(ingestBundle(inst.dir, await make(inst, rotate(key2, key1), [alice, bob], { sequence: 5 })));
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, rotate(key3, key2), [alice, bob], { sequence: 3 }));
    expectRefused(inst, before, r, 'Replay', /sequence 3 is not above the last accepted 5\./);
    const same = ingestBundle(inst.dir, await make(inst, rotate(key3, key2), [alice, bob], { sequence: 5 }));
    expect(same.map((x) => x.code)).toEqual(['Replay', 'Replay']);
  });
});

describe("signatures, checked against the unit's own admins", () => {
  it('refuses an unknown signer, by its thumbprint', async () => {
    const inst = newInstance();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, initialize(), [alice, mallory, bob], { sequence: 1 }));
    expectRefused(
      inst,
      before,
      r,
      'UnknownSigner',
      new RegExp(`signature 2 is by an unknown signer \\(certificate thumbprint ${mallory.cert.thumbprint}\\)`),
    );
    const init = await initialized();
    const b2 = snapshot(init);
    expectRefused(
      init,
      b2,
      ingestBundle(init.dir, await make(init, rotate(key2, key1), [alice, mallory], { sequence: 2 })),
      'UnknownSigner',
      /signature 2 is by an unknown signer/,
    );
  });

  it('refuses a bundle altered after signing, naming the signature that fails', async () => {
    const inst = newInstance();
    const good = await make(inst, initialize(), admins, { sequence: 1 });
    const before = snapshot(inst);
    const r = ingestBundle(
      inst.dir,
      tamperKeepingSignatures(good, (p) => (p.sequence = 9)),
    );
    expectRefused(
      inst,
      before,
      r,
      'BundleSignatureInvalid',
      /the signature of Alice does not verify: the bundle was altered after signing\./,
    );
    // One signature swapped for the same admin's signature of another bundle.
    const otherBundle = JSON.parse(await make(inst, initialize(key2), admins, { sequence: 1 })) as {
      signatures: unknown[];
    };
    const mixed = JSON.parse(good) as { payload: string; signatures: unknown[] };
    mixed.signatures[1] = otherBundle.signatures[1];
    expect(ingestBundle(inst.dir, JSON.stringify(mixed, null, 2) + '\n').map((x) => x.message)).toEqual(
      inst.units.map(() => expect.stringMatching(/the signature of Bob does not verify/)),
    );
  });

  it('counts an admin once: the same admin twice is refused', async () => {
    const inst = await initialized();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, rotate(key2, key1), [alice, alice], { sequence: 2 }));
    expectRefused(inst, before, r, 'BundleMalformed', /Alice signed the bundle twice; a signature counts once\./);
  });

  it('refuses more signatures than there are admins who may sign', async () => {
    const inst = await initialized();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, rotate(key2, key1), [alice, bob, carol, dave], { sequence: 2 }));
    expectRefused(
      inst,
      before,
      r,
      'BundleMalformed',
      /the bundle carries 4 signatures, more than the 3 admins who may sign it\./,
    );
    const claim = newInstance();
    const c = ingestBundle(
      claim.dir,
      await make(claim, initialize(key1, claimOf([alice, bob], 1, 1)), admins, { sequence: 1 }),
    );
    expect(c.map((x) => x.message)).toEqual(
      claim.units.map(() => expect.stringMatching(/carries 3 signatures, more than the 2 admins/)),
    );
  });
});

// Issue 11: a rehearsal bundle never reaches a production unit, nor a
// production bundle a rehearsal unit. Check B1 (docs/unit-protocol.md §8):
// after maintenance, before everything else the unit looks at.
describe('rehearsal mode', () => {
  /** The state file with the units' audit logs left out: what a refusal must leave exactly as it was. */
  const withoutAudit = (dir: string): string =>
    JSON.stringify({ ...loadInstance(dir), units: loadInstance(dir).units.map((u) => ({ ...u, audit: [] })) });

  it('an instance is made in production mode unless asked, says so in its status and transport files, and keeps it', () => {
    const production = newInstance();
    const rehearsal = newInstance(rehearsalTemplate);
    expect([loadInstance(production.dir).rehearsal, loadInstance(rehearsal.dir).rehearsal]).toEqual([false, true]);
    expect([instanceStatus(production.dir).rehearsal, instanceStatus(rehearsal.dir).rehearsal]).toEqual([false, true]);
    expect(production.transports.map((t) => t.file.rehearsal)).toEqual([false, false]);
    expect(rehearsal.transports.map((t) => t.file.rehearsal)).toEqual([true, true]);
  });

  it('a rehearsal bundle offered to a production unit is refused by every unit, before its signatures are looked at; nothing but the audit log changes', async () => {
    const inst = newInstance();
    const text = await make(inst, initialize(), admins, { sequence: 1, rehearsal: true });
    const before = snapshot(inst);
    const file = withoutAudit(inst.dir);
    expectRefused(
      inst,
      before,
      ingestBundle(inst.dir, text),
      'RehearsalMismatch',
      /^rejected: this is a production unit and the bundle is a rehearsal bundle; a unit accepts bundles of its own mode only, so nothing made in a rehearsal reaches a production unit\. \(This is what the bundle says; its signatures are not checked yet/,
    );
    expect(withoutAudit(inst.dir)).toBe(file);
    for (const id of inst.units)
      expect(auditOf(inst.dir, id).at(-1)).toMatchObject({
        result: 'rejected',
        code: 'RehearsalMismatch',
        bundleId: payloadOf(text).bundleId,
        payloadHash: payloadHashOf(text),
      });
    // Aimed at one unit, the same.
    const again = snapshot(inst);
    expectRefused(inst, again, ingestBundle(inst.dir, text, [inst.units[1]!]), 'RehearsalMismatch', /production unit/, [
      inst.units[1]!,
    ]);
  });

  it('a production bundle offered to a rehearsal unit is refused; a rehearsal bundle is applied', async () => {
    const inst = newInstance(rehearsalTemplate);
    const production = await make(inst, initialize(), admins, { sequence: 1, rehearsal: false });
    const before = snapshot(inst);
    const file = withoutAudit(inst.dir);
    expectRefused(
      inst,
      before,
      ingestBundle(inst.dir, production),
      'RehearsalMismatch',
      /^rejected: this is a rehearsal unit and the bundle is a production bundle; a unit accepts bundles of its own mode only\. /,
    );
    expect(withoutAudit(inst.dir)).toBe(file);
    expectAllOk(ingestBundle(inst.dir, await make(inst, initialize(), admins, { sequence: 1 })));
    expect(statuses(inst.dir).map((u) => u.masterKeyKcv)).toEqual([keyCheckValue(key1), keyCheckValue(key1)]);
  });

  it('the mode cannot be flipped: a rehearsal bundle relabelled as production reaches the signatures, which fail', async () => {
    const inst = newInstance();
    const text = await make(inst, initialize(), admins, { sequence: 1, rehearsal: true });
    const flipped = tamperKeepingSignatures(text, (p) => (p.rehearsal = false));
    const before = snapshot(inst);
    expectRefused(inst, before, ingestBundle(inst.dir, flipped), 'BundleSignatureInvalid', /does not verify/);
    // And stripped, it is no bundle at all.
    const stripped = tamperKeepingSignatures(text, (p) => delete (p as Partial<BundlePayload>).rehearsal);
    expect(ingestBundle(inst.dir, stripped)).toMatchObject([
      {
        unitId: '*',
        ok: false,
        code: 'BundleMalformed',
        message: expect.stringMatching(/unexpected or missing fields/),
      },
    ]);
    expect(statuses(inst.dir)).toEqual(before.units);
  });

  it('comes before the instance check and before "already applied", after maintenance', async () => {
    const inst = newInstance();
    // A rehearsal bundle of another instance: the mode is what is wrong first.
    const forOther = await make(other, initialize(), admins, { sequence: 1, rehearsal: true });
    const before = snapshot(inst);
    expectRefused(inst, before, ingestBundle(inst.dir, forOther), 'RehearsalMismatch', /production unit/);
    // A bundle a rehearsal instance applied is never "already applied" on an instance of the other mode.
    const rehearsal = newInstance(rehearsalTemplate);
    const applied = await make(rehearsal, initialize(), admins, { sequence: 1 });
    expectAllOk(ingestBundle(rehearsal.dir, applied));
    const s = loadInstance(rehearsal.dir);
    writeFileSync(statePath(rehearsal.dir), JSON.stringify({ ...s, rehearsal: false }, null, 2) + '\n');
    const r = ingestBundle(rehearsal.dir, applied);
    expect(r.map((x) => [x.ok, x.alreadyApplied, x.code])).toEqual([
      [false, false, 'RehearsalMismatch'],
      [false, false, 'RehearsalMismatch'],
    ]);
    // A unit in maintenance is not offered the bundle at all.
    setMaintenance(inst.dir, inst.units[0]!, true);
    expect(ingestBundle(inst.dir, forOther).map((x) => x.code)).toEqual(['UnitInMaintenance', 'RehearsalMismatch']);
  });
});

describe('addressing: one instance, every unit', () => {
  it('refuses a bundle for another instance, also when aimed at one unit', async () => {
    const inst = newInstance();
    const forOther = await make(other, initialize(), admins, { sequence: 1 });
    const before = snapshot(inst);
    const id = loadInstance(other.dir).instanceId;
    const r = ingestBundle(inst.dir, forOther);
    expectRefused(inst, before, r, 'WrongTarget', new RegExp(`the bundle is for service instance ${id}, not this one`));
    const again = snapshot(inst);
    const aimed = ingestBundle(inst.dir, forOther, [inst.units[0]!]);
    expectRefused(inst, again, aimed, 'WrongTarget', /service instance/, [inst.units[0]!]);
    expect(() => ingestBundle(inst.dir, forOther, ['no-such-unit'])).toThrow(
      /No single unit no-such-unit in this instance/,
    );
  });

  it('refuses a bundle whose targets are not every unit of the instance', async () => {
    const inst = newInstance();
    const [u1, u2] = inst.units as [string, string];
    const before = snapshot(inst);
    const one = await make(inst, initialize(), admins, {
      sequence: 1,
      edit: (p) => {
        p.targets = [u1];
        delete loadOf(p).keys[u2];
      },
    });
    expectRefused(
      inst,
      before,
      ingestBundle(inst.dir, one),
      'WrongTarget',
      new RegExp(
        `the bundle targets units ${u1}, not exactly this instance's units ${u1}, ${u2}; a bundle goes to every unit of its instance\\.`,
      ),
    );
    // A third target with the master key wrapped to the attacker's own key.
    const attacker = other.transports[0]!;
    const more = await make(inst, initialize(), admins, {
      sequence: 1,
      edit: (p) => {
        p.targets.push(attacker.file.unitId);
        loadOf(p).keys[attacker.file.unitId] = wrapMasterKeyForUnit(key1, attacker);
      },
    });
    const b2 = snapshot(inst);
    expectRefused(inst, b2, ingestBundle(inst.dir, more), 'WrongTarget', /a bundle goes to every unit of its instance/);
  });

  it("refuses a key wrapped for another unit's transport key", async () => {
    const inst = newInstance();
    const [u1, u2] = inst.units as [string, string];
    const before = snapshot(inst);
    const swapped = await make(inst, initialize(), admins, {
      sequence: 1,
      edit: (p) => {
        const keys = loadOf(p).keys;
        [keys[u1], keys[u2]] = [keys[u2]!, keys[u1]!];
      },
    });
    const r = ingestBundle(inst.dir, swapped);
    const fp = new Map(inst.transports.map((t) => [t.file.unitId, t.file.fingerprint]));
    expectRefused(
      inst,
      before,
      r,
      'WrongTarget',
      /the master key was wrapped for transport key [0-9a-f]{64}, not this unit's [0-9a-f]{64}\./,
    );
    expect(r[0]!.message).toContain(`wrapped for transport key ${fp.get(u2)}, not this unit's ${fp.get(u1)}`);
    // The master key wrapped to the attacker's key under the units' own kid: it does not unwrap.
    const attacker = other.transports[0]!.key;
    const forged = await make(inst, initialize(), admins, {
      sequence: 1,
      edit: (p) => {
        for (const t of inst.transports)
          loadOf(p).keys[t.file.unitId] = encryptCompactJwe(key1, attacker, {
            alg: 'RSA-OAEP-256',
            enc: 'A256GCM',
            kid: t.file.fingerprint,
          });
      },
    });
    const b2 = snapshot(inst);
    expectRefused(
      inst,
      b2,
      ingestBundle(inst.dir, forged),
      'BundleMalformed',
      /The wrapped master key cannot be unwrapped with this unit's transport key\./,
    );
  });

  it('refuses a key check value or verification pattern that does not match the wrapped key, loading nothing', async () => {
    const inst = newInstance();
    const before = snapshot(inst);
    const kcv = await make(inst, initialize(), admins, {
      sequence: 1,
      edit: (p) => (p.kcv = keyCheckValue(key1) === '000000' ? '000001' : '000000'),
    });
    expectRefused(
      inst,
      before,
      ingestBundle(inst.dir, kcv),
      'KcvMismatch',
      new RegExp(
        `the unwrapped master key's check value is ${keyCheckValue(key1)}, but the bundle says 00000[01]; nothing was loaded\\.`,
      ),
    );
    const b2 = snapshot(inst);
    const vp = await make(inst, initialize(), admins, {
      sequence: 1,
      edit: (p) => (p.verificationPattern = verificationPattern(key2)),
    });
    expectRefused(
      inst,
      b2,
      ingestBundle(inst.dir, vp),
      'KcvMismatch',
      /verification pattern differs from the bundle's \(the KCV [0-9A-F]{6} matches, the full pattern does not\); nothing was loaded\./,
    );
  });

  it("refuses a key name longer than the instance's limit, and takes one at the limit", async () => {
    expect(loadInstance(template).limits).toEqual({ profile: 'kp-dedicated', keyNameMaxLength: 8, maxAdmins: 8 });
    const inst = newInstance();
    const before = snapshot(inst);
    const r = ingestBundle(inst.dir, await make(inst, initialize(), admins, { sequence: 1, keyName: 'NINECHARS' }));
    expectRefused(
      inst,
      before,
      r,
      'InvalidArgument',
      /the key name "NINECHARS" is longer than the 8 characters this unit takes \(kp-dedicated\)\./,
    );
    expectAllOk(ingestBundle(inst.dir, await make(inst, initialize(), admins, { sequence: 1, keyName: 'EIGHTCHR' })));
  });
});

describe('maintenance, retries and mismatches', () => {
  it('skips a unit in maintenance, reports the mismatch by unit, and a retry aimed at it completes the instance', async () => {
    const inst = newInstance();
    const [u1, u2] = inst.units as [string, string];
    setMaintenance(inst.dir, u2, true);
    const text = await make(inst, initialize(), admins, { sequence: 1 });
    const r = ingestBundle(inst.dir, text);
    expect(r).toEqual([
      expect.objectContaining({ unitId: u1, ok: true, state: 'kms-initialized' }),
      expect.objectContaining({
        unitId: u2,
        ok: false,
        code: 'UnitInMaintenance',
        message: expect.stringMatching(/in maintenance; retry when it is back, aiming at this unit only \(--unit\)/),
      }),
    ]);
    // A unit in maintenance does not see the bundle: nothing in its log.
    expect(auditOf(inst.dir, u2)).toEqual([]);
    const status = instanceStatus(inst.dir);
    expect(status.units.find((u) => u.id === u2)!.state).toBe('maintenance');
    expect(status.mismatches).toHaveLength(3);
    const [material, adminsLine, thresholds] = status.mismatches as [string, string, string];
    expect(material).toMatch(
      new RegExp(
        `^mismatched master key material: unit ${u1} ${keyCheckValue(key1)} \\(new none, old none\\), unit ${u2} none \\(new none, old none\\)$`,
      ),
    );
    expect(adminsLine).toMatch(
      new RegExp(`^mismatched admins: unit ${u1} \\[Alice.*Bob.*Carol.*\\], unit ${u2} \\[\\]$`),
    );
    expect(thresholds).toBe(
      `mismatched thresholds: unit ${u1} signature 2, revocation 3, unit ${u2} signature 0, revocation 0`,
    );

    // The whole bundle again: u1 has it already, u2 is still away.
    expect(ingestBundle(inst.dir, text).map((x) => [x.unitId, x.ok, x.alreadyApplied, x.code])).toEqual([
      [u1, true, true, undefined],
      [u2, false, false, 'UnitInMaintenance'],
    ]);
    setMaintenance(inst.dir, u2, false);
    expect(ingestBundle(inst.dir, text, [u2])).toEqual([
      expect.objectContaining({ unitId: u2, ok: true, alreadyApplied: false, state: 'kms-initialized' }),
    ]);
    expect(instanceStatus(inst.dir).mismatches).toEqual([]);
    expect(statuses(inst.dir).map((u) => [u.state, u.masterKeyKcv, u.lastSequence])).toEqual([
      ['kms-initialized', keyCheckValue(key1), 1],
      ['kms-initialized', keyCheckValue(key1), 1],
    ]);
    expect(ingestBundle(inst.dir, text).map((x) => x.alreadyApplied)).toEqual([true, true]);
  });

  // Only the units a retry names were offered the bundle, so only they log it.
  it('a damaged bundle aimed at one unit is logged by that unit only', async () => {
    const inst = newInstance();
    const [u1, u2] = inst.units as [string, string];
    const text = await make(inst, initialize(), admins, { sequence: 1 });
    expect(ingestBundle(inst.dir, text.slice(0, -20), [u2])).toMatchObject([
      { unitId: '*', ok: false, code: 'BundleMalformed' },
    ]);
    expect(auditOf(inst.dir, u2)).toHaveLength(1);
    expect(auditOf(inst.dir, u1)).toEqual([]);
  });

  it('a rotation that reached one unit: the KMS serves from it alone, refuses the mismatched pair, and the retry brings the pair together', async () => {
    const inst = await initialized();
    const [u1, u2] = inst.units as [string, string];
    createRootKey(inst.dir, 'root-1');
    const dek = randomBytes(32);
    const wrapped = wrapDek(inst.dir, 'root-1', dek);
    setMaintenance(inst.dir, u2, true);
    const text = await make(inst, rotate(key2, key1), [alice, bob], { sequence: 2 });
    expect(ingestBundle(inst.dir, text).map((x) => [x.unitId, x.ok])).toEqual([
      [u1, true],
      [u2, false],
    ]);
    const m = instanceStatus(inst.dir).mismatches;
    expect(m).toHaveLength(1);
    expect(m[0]).toMatch(
      new RegExp(
        `^mismatched master key material: unit ${u1} ${keyCheckValue(key2)} \\(new none, old ${keyCheckValue(key1)}\\), unit ${u2} ${keyCheckValue(key1)} \\(new none, old none\\)$`,
      ),
    );
    expect(unwrapDek(inst.dir, wrapped).equals(dek)).toBe(true);
    setMaintenance(inst.dir, u2, false);
    expect(() => unwrapDek(inst.dir, wrapped)).toThrow(/mismatched master key material/);
    expect(ingestBundle(inst.dir, text, [u2])).toEqual([expect.objectContaining({ unitId: u2, ok: true })]);
    expect(instanceStatus(inst.dir).mismatches).toEqual([]);
    expect(unwrapDek(inst.dir, wrapped).equals(dek)).toBe(true);
  });
});

describe('the audit log', () => {
  it('holds every offer on each unit with its result and code, as a valid hash chain', async () => {
    const inst = await initialized();
    const offers = [
      await make(inst, rotate(key2, key1), [alice], { sequence: 2 }), // too few
      inst.init, // already applied
      await make(inst, rotate(key2, key1), [alice, mallory], { sequence: 2 }), // unknown signer
      await make(inst, rotate(key2, key1), [alice, bob], { sequence: 2 }), // applied
      await make(inst, adminChange({ add: [dave], under: key1 }), [alice, bob], { sequence: 3 }), // under the old key
      await make(inst, zeroize(key2), [alice, bob], { sequence: 3 }), // applied
    ];
    for (const o of offers) ingestBundle(inst.dir, o);
    const s = loadInstance(inst.dir);
    for (const u of s.units) {
      verifyAudit(u);
      expect(u.audit.map((e) => [e.seq, e.operation, e.result, e.code])).toEqual([
        [1, 'initialize', 'applied', null],
        [2, 'rotate', 'rejected', 'TooFewSignatures'],
        [3, 'initialize', 'already-applied', null],
        [4, 'rotate', 'rejected', 'UnknownSigner'],
        [5, 'rotate', 'applied', null],
        [6, 'admin-change', 'rejected', 'KcvMismatch'],
        [7, 'zeroize', 'applied', null],
      ]);
      expect(u.audit.map((e) => e.payloadHash)).toEqual([inst.init, ...offers].map(payloadHashOf));
      expect(u.audit.map((e) => e.bundleId)).toEqual([inst.init, ...offers].map((t) => payloadOf(t).bundleId));
      expect(u.audit[3]!.signers).toEqual([alice.cert.thumbprint, mallory.cert.thumbprint]);
      expect(u.audit[1]!.reason).toMatch(/too few signatures: 1 valid/);
      // The chain means something: one altered entry breaks it at that entry.
      const altered = structuredClone(u);
      altered.audit[1]!.code = null;
      expect(() => verifyAudit(altered)).toThrow(/broken at entry 2/);
    }
  });
});

import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, parseBundle, serializeBundle, type BundlePayload } from '../../../src/core/bundle/bundle.js';
import { parseTransportFile, type TransportKey } from '../../../src/core/bundle/transport.js';
import { b64url } from '../../../src/core/encoding.js';
import { generateMasterKey, keyCheckValue } from '../../../src/core/masterkey/masterkey.js';
import { ingestBundle, initInstance, instanceStatus, setMaintenance, transportFileFor } from '../../../src/emulator/instance.js';
import { loadInstance, statePath } from '../../../src/emulator/state.js';
import { makeAdmin, type TestAdmin } from '../../support/fixtures.js';

let admins: TestAdmin[];
let stranger: TestAdmin;
const key = generateMasterKey();
const CEREMONY = '0f3e3c52-7d4e-4f4e-9a5e-2b9d1c3a4b5c';

beforeAll(async () => {
  const all = await Promise.all(['Mallory', 'Alice', 'Bob', 'Carol'].map(makeAdmin));
  stranger = all[0]!;
  admins = all.slice(1);
});

// RSA-4096 transport keys take seconds to generate: tests start from copies
// of one freshly initialised instance unless they need a distinct one.
let template: string | undefined;

function newInstance(units = 2, distinct = false): { dir: string; transports: TransportKey[] } {
  const dir = join(mkdtempSync(join(tmpdir(), 'kc-emu-')), 'state');
  if (units === 2 && !distinct) {
    if (!template) {
      template = join(mkdtempSync(join(tmpdir(), 'kc-emu-template-')), 'state');
      initInstance(template, 2);
    }
    cpSync(template, dir, { recursive: true });
  } else {
    initInstance(dir, units);
  }
  const s = loadInstance(dir);
  return { dir, transports: s.units.map((u) => parseTransportFile(JSON.stringify(transportFileFor(s, u)), 't')) };
}

async function bundle(
  transports: TransportKey[],
  signers: TestAdmin[],
  opts: { sequence: number; claim?: boolean; tamper?: (p: BundlePayload) => void },
): Promise<string> {
  const { jws, payload } = buildBundle({
    masterKey: key,
    transports,
    sequence: opts.sequence,
    ceremonyId: CEREMONY,
    keyName: 'MK',
    transcriptHash: 'cd'.repeat(32),
    ...(opts.claim ? { claim: { admins: admins.map((a) => a.cert), signatureThreshold: 2 } } : {}),
  });
  if (opts.tamper) {
    // Re-issue the payload as the tamperer wants it; the signers then sign that.
    opts.tamper(payload);
    jws.payload = b64url(Buffer.from(JSON.stringify(payload)));
  }
  let b = parseBundle(serializeBundle(jws));
  for (const s of signers) {
    // Signing bypasses addBundleSignature's claim check so a stranger can sign.
    const { signGeneralJws } = await import('../../../src/core/bundle/jws.js');
    const entry = await signGeneralJws(b.jws, s.cert, s.sign);
    b = parseBundle(serializeBundle({ payload: b.jws.payload, signatures: [...b.jws.signatures, entry] }));
  }
  return serializeBundle(b.jws);
}

const stateBytes = (dir: string): string => readFileSync(statePath(dir), 'utf8');

describe('crypto-unit emulator', () => {
  it('walks cleared -> kms-initialized with a claim signed by every admin, on every unit', async () => {
    const { dir, transports } = newInstance(3);
    expect(instanceStatus(dir).units.map((u) => u.state)).toEqual(['cleared', 'cleared', 'cleared']);
    const results = ingestBundle(dir, await bundle(transports, admins, { sequence: 1, claim: true }));
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    for (const u of instanceStatus(dir).units) {
      expect(u).toMatchObject({ state: 'kms-initialized', masterKeyKcv: keyCheckValue(key), signatureThreshold: 2, lastSequence: 1 });
      expect(u.adminThumbprints).toEqual(admins.map((a) => a.cert.thumbprint));
    }
    expect(stateBytes(dir)).not.toContain(key.toString('hex'));
    expect(stateBytes(dir)).not.toContain(key.toString('base64'));
  });

  it('refuses a claim not signed by every admin it installs, naming who is missing, and changes nothing', async () => {
    const { dir, transports } = newInstance();
    const before = stateBytes(dir);
    const r = ingestBundle(dir, await bundle(transports, admins.slice(0, 2), { sequence: 1, claim: true }));
    expect(r.every((x) => !x.ok && x.code === 'TooFewSignatures')).toBe(true);
    expect(r[0]!.message).toMatch(/2 valid, a claim must be signed by every admin it installs \(3\); missing: Carol/);
    expect(stateBytes(dir)).toBe(before);
  });

  it('refuses a bundle signed by a stranger', async () => {
    const { dir, transports } = newInstance();
    const before = stateBytes(dir);
    const r = ingestBundle(dir, await bundle(transports, [...admins, stranger], { sequence: 1, claim: true }));
    expect(r.every((x) => x.code === 'UnknownSigner')).toBe(true);
    expect(r[0]!.message).toContain(stranger.cert.thumbprint);
    expect(stateBytes(dir)).toBe(before);
  });

  it('after the claim, accepts the signature threshold of installed admins and refuses fewer', async () => {
    const { dir, transports } = newInstance();
    ingestBundle(dir, await bundle(transports, admins, { sequence: 1, claim: true }));
    const before = stateBytes(dir);
    const one = ingestBundle(dir, await bundle(transports, [admins[2]!], { sequence: 2 }));
    expect(one.every((x) => x.code === 'TooFewSignatures')).toBe(true);
    expect(one[0]!.message).toMatch(/1 valid, the unit requires 2 of its 3 admins/);
    expect(stateBytes(dir)).toBe(before);
    const two = ingestBundle(dir, await bundle(transports, [admins[2]!, admins[0]!], { sequence: 2 }));
    expect(two.every((x) => x.ok)).toBe(true);
    expect(instanceStatus(dir).units.every((u) => u.state === 'kms-initialized' && u.lastSequence === 2)).toBe(true);
  });

  it('refuses a replay, and an older sequence number', async () => {
    const { dir, transports } = newInstance();
    const first = await bundle(transports, admins, { sequence: 1, claim: true });
    ingestBundle(dir, first);
    ingestBundle(dir, await bundle(transports, admins.slice(0, 2), { sequence: 5 }));
    const before = stateBytes(dir);
    const again = ingestBundle(dir, first);
    expect(again.every((x) => x.code === 'Replay')).toBe(true);
    const older = ingestBundle(dir, await bundle(transports, admins.slice(0, 2), { sequence: 3 }));
    expect(older[0]!.message).toMatch(/sequence 3 is not above the last accepted 5/);
    expect(stateBytes(dir)).toBe(before);
  });

  it('refuses a bundle for another instance\'s units, and aiming it at a unit it does not name', async () => {
    const a = newInstance();
    const b = newInstance(2, true);
    const forB = await bundle(b.transports, admins, { sequence: 1, claim: true });
    const before = stateBytes(a.dir);
    const r = ingestBundle(a.dir, forB);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ ok: false, code: 'WrongTarget' });
    const aimed = ingestBundle(a.dir, forB, a.transports[0]!.file.unitId);
    expect(aimed[0]!.message).toMatch(/not addressed to this unit|service instance/);
    expect(stateBytes(a.dir)).toBe(before);
  });

  it('refuses a KCV that does not match the wrapped key, loading nothing', async () => {
    const { dir, transports } = newInstance();
    const before = stateBytes(dir);
    const r = ingestBundle(dir, await bundle(transports, admins, { sequence: 1, claim: true, tamper: (p) => (p.kcv = '000000') }));
    expect(r.every((x) => x.code === 'KcvMismatch')).toBe(true);
    expect(r[0]!.message).toMatch(/does not match the bundle's 000000/);
    expect(stateBytes(dir)).toBe(before);
  });

  it('refuses a tampered bundle, naming the signature that fails', async () => {
    const { dir, transports } = newInstance();
    const good = await bundle(transports, admins, { sequence: 1, claim: true });
    const parsed = JSON.parse(good) as { payload: string; signatures: unknown[] };
    const payload = JSON.parse(Buffer.from(parsed.payload, 'base64url').toString()) as BundlePayload;
    payload.sequence = 9;
    parsed.payload = b64url(Buffer.from(JSON.stringify(payload)));
    const r = ingestBundle(dir, JSON.stringify(parsed, null, 2) + '\n');
    expect(r.every((x) => x.code === 'BundleSignatureInvalid')).toBe(true);
    expect(r[0]!.message).toMatch(/signature of Alice does not verify/);
  });

  it('reports per unit: a unit in maintenance fails, the other succeeds; a retry aimed at it completes', async () => {
    const { dir, transports } = newInstance();
    const [u1, u2] = transports.map((t) => t.file.unitId) as [string, string];
    setMaintenance(dir, u2, true);
    const text = await bundle(transports, admins, { sequence: 1, claim: true });
    const r = ingestBundle(dir, text);
    expect(r.find((x) => x.unitId === u1)).toMatchObject({ ok: true, state: 'kms-initialized' });
    expect(r.find((x) => x.unitId === u2)).toMatchObject({ ok: false, code: 'UnitInMaintenance' });
    expect(instanceStatus(dir).units.find((u) => u.id === u2)!.state).toBe('maintenance');
    // The whole bundle again would be a replay for u1; aimed at u2 it completes the instance.
    setMaintenance(dir, u2, false);
    expect(ingestBundle(dir, text, u2)).toMatchObject([{ unitId: u2, ok: true }]);
    expect(instanceStatus(dir).units.map((u) => [u.state, u.masterKeyKcv])).toEqual([
      ['kms-initialized', keyCheckValue(key)],
      ['kms-initialized', keyCheckValue(key)],
    ]);
  });

  it('refuses master-key commands for a cleared unit without a claim', async () => {
    const { dir, transports } = newInstance();
    const r = ingestBundle(dir, await bundle(transports, admins, { sequence: 1 }));
    expect(r.every((x) => x.code === 'UnitState')).toBe(true);
  });
});

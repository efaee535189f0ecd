// The end of a key's life in the engine (issue 11, ceremonies 4 and 5): the
// units' status parsed strictly, the checks of units report against records
// whose bundle entries are written here by hand (the CLI test drives real
// bundles and units), and the record's own checks of the entries it writes.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  keyEndWords,
  MAX_STATUS_BYTES,
  parseUnitsStatus,
  REPORTED_UNIT_STATES,
  reportUnits,
  type InstanceStatusReport,
  type UnitStatusReport,
} from '../../../src/core/ceremony/lifecycle.js';
import {
  generateMasterKeyCeremony,
  loadCeremony,
  verifyShareAgainstRecord,
} from '../../../src/core/ceremony/operations.js';
import { ENTRY, summarize } from '../../../src/core/ceremony/record.js';
import { appendTranscript, readTranscript } from '../../../src/core/ceremony/transcript.js';
import { canonicalJson, sha256Hex } from '../../../src/core/encoding.js';
import { initInstance, instanceStatus } from '../../../src/emulator/instance.js';
import { UNIT_STATES } from '../../../src/emulator/state.js';
import { MemoryMedium } from '../../support/memory-medium.js';

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
const hex = (seed: string): string => sha256Hex(new TextEncoder().encode(seed));

describe('the units status file', () => {
  // One emulated instance (its RSA transport keys take a few seconds), read afresh by each test.
  let made: string | undefined;
  const emulated = (): InstanceStatusReport => {
    if (made === undefined) {
      const dir = mkdtempSync(join(tmpdir(), 'kc-lifecycle-emu-'));
      initInstance(dir, 2);
      made = JSON.stringify(instanceStatus(dir));
    }
    return JSON.parse(made) as InstanceStatusReport;
  };

  it('reads what the emulator exports, member for member', () => {
    const s = emulated();
    expect(parseUnitsStatus(enc(s), 'The status s.json')).toEqual(s);
  }, 30_000);

  it("knows every state the emulator's units report", () => {
    expect([...REPORTED_UNIT_STATES]).toEqual([...UNIT_STATES, 'maintenance']);
  });

  it('refuses anything else, naming the member and never echoing the file', () => {
    const s = emulated();
    const refused = (v: unknown, why: RegExp): void =>
      expect(() => parseUnitsStatus(enc(v), 'The status s.json')).toThrow(why);
    refused({ ...s, extra: 1 }, /the status does not have exactly the members instanceId, rehearsal/);
    refused({ ...s, units: [{ ...s.units[0]!, secret: 'x' }] }, /unit 1 does not have exactly the members/);
    refused({ ...s, units: [{ ...s.units[0]!, masterKeyKcv: 'abcdef' }] }, /unit 1: masterKeyKcv is malformed/);
    refused(
      { ...s, units: [{ ...s.units[0]!, masterKeyKcv: 'ABCDEF' }] },
      /unit 1: masterKeyKcv and masterKeyVerificationPattern are not both present or both null/,
    );
    refused({ ...s, units: [{ ...s.units[0]!, state: 'ready' }] }, /unit 1: state is not one of cleared/);
    refused({ ...s, units: [s.units[0], s.units[0]] }, /a unit is listed twice/);
    refused({ ...s, units: [] }, /it lists no unit/);
    refused({ ...s, units: [{ ...s.units[0]!, lastSequence: -1 }] }, /unit 1: lastSequence is not a whole number/);
    expect(() => parseUnitsStatus(new Uint8Array([0xff, 0xfe]), 'The status s.json')).toThrow(/not UTF-8 JSON/);
    expect(() => parseUnitsStatus(new Uint8Array(MAX_STATUS_BYTES + 1), 'The status s.json')).toThrow(
      /more than 262144/,
    );
  });
});

/** A key's record with one bundle-created entry per given bundle (only the members units report reads). */
async function recordWith(
  keyName: string,
  bundles: Array<Record<string, unknown>>,
): Promise<{ path: string; kcv: string; vp: string; shares: MemoryMedium[] }> {
  const path = join(mkdtempSync(join(tmpdir(), 'kc-lifecycle-')), 'record.jsonl');
  const shares = ['a', 'b'].map((n) => new MemoryMedium(n));
  const r = await generateMasterKeyCeremony({
    keyName,
    threshold: 2,
    custodians: shares.map((m) => ({ custodian: m.label, destination: m })),
    recordPath: path,
  });
  for (const b of bundles)
    appendTranscript(path, { type: ENTRY.bundleCreated, actor: 'operator', data: { kcv: r.kcv, ...b } as never });
  return { path, kcv: r.kcv, vp: r.verificationPattern, shares };
}

function unit(id: string, over: Partial<UnitStatusReport>): UnitStatusReport {
  return {
    id,
    state: 'kms-initialized',
    maintenance: false,
    adminThumbprints: [],
    adminNames: [],
    signatureThreshold: 1,
    revocationThreshold: 1,
    masterKeyKcv: null,
    masterKeyVerificationPattern: null,
    newMasterKeyKcv: null,
    newMasterKeyVerificationPattern: null,
    oldMasterKeyKcv: null,
    oldMasterKeyVerificationPattern: null,
    masterKeyTranscriptHash: null,
    lastSequence: 0,
    transportFingerprint: hex(id),
    ...over,
  };
}

const status = (instanceId: string, units: UnitStatusReport[]) => ({
  label: `The status of ${instanceId}`,
  status: {
    instanceId,
    rehearsal: false,
    limits: { profile: 'kp-dedicated', keyNameMaxLength: 8, maxAdmins: 8 },
    units,
    mismatches: [],
    rootKeys: 0,
  },
});

const loaded = (instanceId: string, sequence: number, operation = 'initialize') => ({
  operation,
  instanceId,
  sequence,
  payloadHash: hex(`bundle ${instanceId} ${sequence}`),
  targets: ['u1', 'u2'],
  transcriptHash: hex(`entry ${instanceId} ${sequence}`),
});

describe('units report after a rotation', () => {
  async function rotated() {
    const old = await recordWith('MK1', [loaded('i1', 1)]);
    const rotate = { ...loaded('i1', 2, 'rotate'), replacesVerificationPattern: old.vp };
    const fresh = await recordWith('MK2', [rotate]);
    const holding = (over: Partial<UnitStatusReport> = {}) =>
      ['u1', 'u2'].map((id) =>
        unit(id, {
          masterKeyKcv: fresh.kcv,
          masterKeyVerificationPattern: fresh.vp,
          oldMasterKeyKcv: old.kcv,
          oldMasterKeyVerificationPattern: old.vp,
          masterKeyTranscriptHash: rotate.transcriptHash,
          lastSequence: 2,
          ...over,
        }),
      );
    return { old, fresh, rotate, holding };
  }

  it('retires the old key; its shares are refused naming the rotation, the new key is untouched', async () => {
    const { old, fresh, rotate, holding } = await rotated();
    const r = reportUnits({ recordPath: old.path, newRecordPath: fresh.path, statuses: [status('i1', holding())] });
    expect(r.entry.type).toBe('key-retired');
    expect(r.end).toMatchObject({
      kind: 'retired',
      rotation: { keyName: 'MK2', kcv: fresh.kcv },
      instances: [{ instanceId: 'i1', bundleHash: rotate.payloadHash, bundleSequence: 2 }],
    });
    expect(loadCeremony(old.path).summary.end?.kind).toBe('retired');
    await expect(verifyShareAgainstRecord(old.path, old.shares[0]!)).rejects.toMatchObject({
      code: 'ShareRetired',
      details: { end: 'rotation' },
    });
    await expect(verifyShareAgainstRecord(fresh.path, fresh.shares[0]!)).resolves.toBeDefined();
  });

  it('accepts the old key gone from the old register, once the rotate bundle names it', async () => {
    const { old, fresh, holding } = await rotated();
    const gone = holding({ oldMasterKeyKcv: null, oldMasterKeyVerificationPattern: null });
    expect(
      reportUnits({ recordPath: old.path, newRecordPath: fresh.path, statuses: [status('i1', gone)] }).end.kind,
    ).toBe('retired');
  });

  it('refuses a rotation that replaced another key, a unit loaded by another bundle, and writes nothing', async () => {
    const { old, fresh, holding } = await rotated();
    const before = readFileSync(old.path, 'utf8');
    const other = holding({ oldMasterKeyKcv: 'ABCDEF', oldMasterKeyVerificationPattern: hex('another key') });
    expect(() =>
      reportUnits({ recordPath: old.path, newRecordPath: fresh.path, statuses: [status('i1', other)] }),
    ).toThrow(/Unit u1 of instance i1 holds key ABCDEF as its old key, not key "MK1"/);
    const elsewhere = holding({ masterKeyTranscriptHash: hex('elsewhere') });
    expect(() =>
      reportUnits({ recordPath: old.path, newRecordPath: fresh.path, statuses: [status('i1', elsewhere)] }),
    ).toThrow(/which is no rotate bundle of .* for this instance/);
    expect(readFileSync(old.path, 'utf8')).toBe(before);
  });
});

describe('units report after zeroize', () => {
  const cleared = (lastSequence: number) =>
    ['u1', 'u2'].map((id) =>
      unit(id, { state: 'cleared', signatureThreshold: 0, revocationThreshold: 0, lastSequence }),
    );

  it('needs every instance the record loaded its key onto, then records the key destroyed', async () => {
    const r = await recordWith('MK', [loaded('i1', 1), loaded('i2', 2, 'recover'), loaded('i1', 3, 'zeroize')]);
    expect(() => reportUnits({ recordPath: r.path, statuses: [status('i1', cleared(3))] })).toThrow(
      /also loaded key "MK" onto instance i2: give that instance's status too/,
    );
    expect(() =>
      reportUnits({ recordPath: r.path, statuses: [status('i1', cleared(3)), status('i2', cleared(2))] }),
    ).toThrow(/holds no zeroize bundle for instance i2/);
    appendTranscript(r.path, {
      type: ENTRY.bundleCreated,
      actor: 'operator',
      data: { kcv: r.kcv, ...loaded('i2', 4, 'zeroize') },
    });
    expect(() =>
      reportUnits({ recordPath: r.path, statuses: [status('i1', cleared(3)), status('i2', cleared(2))] }),
    ).toThrow(/Unit u1 of instance i2 is cleared, but its last sequence is 2: it has not applied the zeroize bundle/);
    const done = reportUnits({ recordPath: r.path, statuses: [status('i1', cleared(3)), status('i2', cleared(4))] });
    expect(done.end).toMatchObject({ kind: 'destroyed', instances: [{ instanceId: 'i1' }, { instanceId: 'i2' }] });
    await expect(verifyShareAgainstRecord(r.path, r.shares[1]!)).rejects.toMatchObject({
      code: 'ShareRetired',
      details: { end: 'destruction' },
    });
    expect(() =>
      reportUnits({ recordPath: r.path, statuses: [status('i1', cleared(3)), status('i2', cleared(4))] }),
    ).toThrow(/already records the end of key "MK": it was destroyed/);
  });
});

describe('units report: an instance that never held the key', () => {
  const cleared = (lastSequence: number) =>
    ['u1', 'u2'].map((id) =>
      unit(id, { state: 'cleared', signatureThreshold: 0, revocationThreshold: 0, lastSequence }),
    );

  it('records a recovery bundle that was never ingested as an instance that never held the key', async () => {
    // The key went onto i1; a recovery onto the new instance i2 was built (sequence 5) but never ingested.
    const r = await recordWith('MK', [loaded('i1', 1), loaded('i2', 5, 'recover'), loaded('i1', 3, 'zeroize')]);
    const done = reportUnits({ recordPath: r.path, statuses: [status('i1', cleared(3)), status('i2', cleared(0))] });
    expect(done.end).toMatchObject({
      kind: 'destroyed',
      instances: [
        { instanceId: 'i1', bundleSequence: 3 },
        { instanceId: 'i2', bundleSequence: 5, neverLoaded: true },
      ],
    });
    expect(done.end.instances[0]!.neverLoaded).toBeUndefined();
    // Read back by the record's own strict reader, and told in words.
    const end = loadCeremony(r.path).summary.end!;
    expect(end.instances.map((i) => i.neverLoaded ?? false)).toEqual([false, true]);
    expect(keyEndWords(end)).toMatch(
      /the units of instance i1 reported it zeroized \(record line \d+, .*; instance i2 never held it\)/,
    );
  });

  it('does not take a unit that applied the bundle, or holds the key, for one that never held it', async () => {
    const r = await recordWith('MK', [loaded('i1', 1), loaded('i2', 5, 'recover'), loaded('i1', 3, 'zeroize')]);
    // A unit past the recover bundle's sequence applied it: without a zeroize bundle for i2, refused.
    const past = [unit('u1', { state: 'cleared', lastSequence: 0 }), unit('u2', { state: 'cleared', lastSequence: 5 })];
    expect(() => reportUnits({ recordPath: r.path, statuses: [status('i1', cleared(3)), status('i2', past)] })).toThrow(
      /holds no zeroize bundle for instance i2/,
    );
    const holding = cleared(0).map((u) => ({ ...u, oldMasterKeyKcv: r.kcv, oldMasterKeyVerificationPattern: r.vp }));
    expect(() =>
      reportUnits({ recordPath: r.path, statuses: [status('i1', cleared(3)), status('i2', holding)] }),
    ).toThrow(/holds no zeroize bundle for instance i2/);
  });

  it('refuses when no instance ever held the key: there is no end for units to report', async () => {
    const r = await recordWith('MK', [loaded('i1', 4, 'recover')]);
    const before = readFileSync(r.path, 'utf8');
    expect(() => reportUnits({ recordPath: r.path, statuses: [status('i1', cleared(1))] })).toThrow(
      /never applied a bundle of .* that loads key "MK": the key never reached them/,
    );
    expect(readFileSync(r.path, 'utf8')).toBe(before);
  });
});

describe('the record checks the entries that end a key', () => {
  async function destroyed() {
    const r = await recordWith('MK', [loaded('i1', 1), loaded('i1', 2, 'zeroize')]);
    const cleared = ['u1', 'u2'].map((id) =>
      unit(id, { state: 'cleared', signatureThreshold: 0, revocationThreshold: 0, lastSequence: 2 }),
    );
    reportUnits({ recordPath: r.path, statuses: [status('i1', cleared)] });
    return r;
  }

  /** Rewrites the last entry's data and re-chains it, as someone with the file could. */
  function rewriteLast(path: string, edit: (data: Record<string, unknown>) => void): void {
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    const e = JSON.parse(lines.at(-1)!) as Record<string, unknown> & { data: Record<string, unknown> };
    edit(e.data);
    const { hash: _hash, ...body } = e;
    e['hash'] = sha256Hex(new TextEncoder().encode(canonicalJson(body)));
    lines[lines.length - 1] = canonicalJson(e);
    writeFileSync(path, lines.join('\n') + '\n');
  }

  it('summarizes a destroyed key', async () => {
    const r = await destroyed();
    expect(summarize(readTranscript(r.path)).end).toMatchObject({ kind: 'destroyed', line: 9 });
  });

  it('refuses an entry whose data was changed: a member more, or another key', async () => {
    const r = await destroyed();
    const original = readFileSync(r.path, 'utf8');
    rewriteLast(r.path, (d) => (d['note'] = 'x'));
    expect(() => summarize(readTranscript(r.path))).toThrow(/its data does not have exactly the members/);
    writeFileSync(r.path, original);
    rewriteLast(r.path, (d) => (d['kcv'] = '000000'));
    expect(() => summarize(readTranscript(r.path))).toThrow(/it destroys another key than the record's/);
  });

  it('refuses a second end', async () => {
    const r = await destroyed();
    const last = readTranscript(r.path).at(-1)!;
    appendTranscript(r.path, { type: ENTRY.keyDestroyed, actor: 'operator', data: last.data });
    expect(() => summarize(readTranscript(r.path))).toThrow(/the key's end is already recorded at line 9/);
  });
});

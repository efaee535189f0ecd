import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../../src/core/encoding.js';
import { CeremonyError } from '../../../src/core/errors.js';
import {
  AUDIT_GENESIS,
  AUDIT_REASON_MAX,
  AUDIT_SIGNERS_MAX,
  appendAudit,
  auditEntryHash,
  formatAudit,
  verifyAudit,
  type AuditInput,
} from '../../../src/emulator/audit.js';
import { findUnit } from '../../../src/emulator/state.js';
import { loadInstance, saveInstance, type UnitState } from '../../../src/emulator/state.js';
import { clearedUnit, instance, stateDir } from './handmade-state.js';

const T0 = new Date('2025-03-01T10:00:00.000Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);

const applied: AuditInput = {
  bundleId: '6f1c0a52-0d4e-4f4e-9a5e-2b9d1c3a4b5c',
  operation: 'initialize',
  payloadHash: 'ab'.repeat(32),
  signers: ['A'.repeat(43), 'B'.repeat(43)],
  result: 'applied',
  code: null,
  reason: 'state kms-initialized, master key KCV 0A1B2C',
};
const rejected: AuditInput = {
  bundleId: '7f1c0a52-0d4e-4f4e-9a5e-2b9d1c3a4b5c',
  operation: 'rotate',
  payloadHash: 'cd'.repeat(32),
  signers: ['A'.repeat(43)],
  result: 'rejected',
  code: 'TooFewSignatures',
  reason: 'the bundle carries 1 valid signature; 2 are needed',
};
const local: AuditInput = {
  bundleId: null,
  operation: null,
  payloadHash: null,
  signers: [],
  result: 'local',
  code: 'maintenance-on',
  reason: 'put in maintenance',
};

function unitWithLog(): UnitState {
  const u = clearedUnit();
  appendAudit(u, applied, at(0));
  appendAudit(u, rejected, at(1));
  appendAudit(u, local, at(2));
  return u;
}

function refusal(u: UnitState): CeremonyError {
  try {
    verifyAudit(u);
  } catch (e) {
    expect(e).toBeInstanceOf(CeremonyError);
    expect((e as CeremonyError).code).toBe('EmulatorState');
    return e as CeremonyError;
  }
  throw new Error('verifyAudit accepted the log');
}

describe('appendAudit', () => {
  it('numbers entries from 1 and chains each to the one before, from 64 zeros', () => {
    const u = unitWithLog();
    expect(u.audit.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(u.audit[0]!.prev).toBe(AUDIT_GENESIS);
    expect(AUDIT_GENESIS).toBe('0'.repeat(64));
    expect(u.audit[1]!.prev).toBe(u.audit[0]!.hash);
    expect(u.audit[2]!.prev).toBe(u.audit[1]!.hash);
    expect(u.audit[1]!.time).toBe('2025-03-01T10:01:00.000Z');
  });

  it('hashes the canonical JSON of the entry without its hash', () => {
    const u = clearedUnit();
    const e = appendAudit(u, rejected, T0);
    const { hash, ...rest } = e;
    expect(hash).toBe(sha256Hex(canonicalJson(rest)));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rest).toEqual({ ...rejected, seq: 1, time: T0.toISOString(), prev: AUDIT_GENESIS });
  });

  it('caps what a hostile bundle can put in the log', () => {
    const u = clearedUnit();
    const signers = Array.from({ length: 500 }, (_, i) => `${i}`.padStart(43, 'x'));
    const e = appendAudit(
      u,
      {
        ...rejected,
        bundleId: 'b'.repeat(100_000),
        signers: [...signers.slice(0, 20), 'y'.repeat(100_000)],
        reason: 'r'.repeat(1_000_000),
      },
      T0,
    );
    expect([...e.reason].length).toBe(AUDIT_REASON_MAX);
    expect(e.reason.startsWith('(the bundle carried 21 signatures; the first 8 are logged) rrr')).toBe(true);
    expect(e.reason.endsWith('…')).toBe(true);
    expect(e.signers).toEqual(signers.slice(0, AUDIT_SIGNERS_MAX));
    expect(e.bundleId!.length).toBe(64);
    expect(JSON.stringify(e).length).toBeLessThan(2000);
    verifyAudit(u);
  });

  it('caps by characters and never splits a surrogate pair', () => {
    const u = clearedUnit();
    const e = appendAudit(u, { ...local, reason: '🔑'.repeat(AUDIT_REASON_MAX + 1) }, T0);
    expect([...e.reason]).toEqual([...'🔑'.repeat(AUDIT_REASON_MAX - 1), '…']);
    const exact = appendAudit(u, { ...local, reason: '🔑'.repeat(AUDIT_REASON_MAX) }, T0);
    expect(exact.reason).toBe('🔑'.repeat(AUDIT_REASON_MAX));
  });

  it('does not change what it was given', () => {
    const input = { ...rejected, signers: Array.from({ length: 12 }, (_, i) => `s${i}`) };
    appendAudit(clearedUnit(), input, T0);
    expect(input.signers).toHaveLength(12);
  });
});

describe('verifyAudit', () => {
  it('accepts an empty log and an intact one, also after a save and a load through the schema', () => {
    verifyAudit(clearedUnit());
    const s = instance([unitWithLog(), clearedUnit()]);
    const dir = stateDir(s);
    const loaded = loadInstance(dir);
    verifyAudit(loaded.units[0]!);
    appendAudit(loaded.units[0]!, local, at(3));
    saveInstance(dir, loaded);
    verifyAudit(loadInstance(dir).units[0]!);
    expect(loadInstance(dir).units[0]!.audit).toHaveLength(4);
  });

  it('names the unit and the entry that was altered', () => {
    const u = unitWithLog();
    u.audit[1]!.result = 'applied';
    const e = refusal(u);
    expect(e.message).toContain(`unit ${u.id}`);
    expect(e.message).toContain('entry 2');
    expect(e.message).toContain('was altered');
    expect(e.details).toMatchObject({ unitId: u.id, entry: 2 });
  });

  it('finds an altered signer list, code and time as well', () => {
    for (const edit of [
      (u: UnitState) => u.audit[2]!.signers.push('x'),
      (u: UnitState) => (u.audit[2]!.code = null),
      (u: UnitState) => (u.audit[2]!.time = T0.toISOString()),
    ]) {
      const u = unitWithLog();
      edit(u);
      expect(refusal(u).message).toContain('entry 3: its content does not match its hash');
    }
  });

  it('finds an entry removed from the middle (wrong sequence number)', () => {
    const u = unitWithLog();
    u.audit.splice(1, 1);
    const e = refusal(u);
    expect(e.message).toContain('entry 2: its sequence number is 3, not 2');
  });

  it('finds an entry removed and the rest renumbered (broken chain)', () => {
    const u = unitWithLog();
    u.audit.splice(1, 1);
    u.audit[1]!.seq = 2;
    expect(refusal(u).message).toContain('entry 2: it does not follow the entry before it');
  });

  it('finds an entry rewritten with its own hash recomputed: the next one no longer follows', () => {
    const u = unitWithLog();
    const { hash: _, ...body } = u.audit[1]!;
    const forged = { ...body, result: 'applied' as const, code: null, reason: 'nothing to see' };
    u.audit[1] = { ...forged, hash: auditEntryHash(forged) };
    expect(refusal(u).message).toContain('entry 3: it does not follow the entry before it');
  });

  it('finds entries swapped', () => {
    const u = unitWithLog();
    [u.audit[1], u.audit[2]] = [u.audit[2]!, u.audit[1]!];
    expect(refusal(u).message).toContain('entry 2');
  });
});

describe('formatAudit', () => {
  it('shows each entry for people, with the escape sequences of a hostile reason defused', () => {
    const u = unitWithLog();
    appendAudit(u, { ...rejected, reason: 'bad\u001b[2J\u001b[Hbundle\r\nnext' }, at(3));
    const text = formatAudit(u).join('\n');
    expect(text).toContain(`Audit log of unit ${u.id} (4 entries)`);
    expect(text).toContain('#1  2025-03-01T10:00:00.000Z  applied');
    expect(text).toContain('#2  2025-03-01T10:01:00.000Z  REJECTED (TooFewSignatures)');
    expect(text).toContain('operation rotate');
    expect(text).toContain(`payload SHA-256 ${'cd'.repeat(32)}`);
    expect(text).toContain(`signatures by ${'A'.repeat(43)}, ${'B'.repeat(43)}`);
    expect(text).toContain('#3  2025-03-01T10:02:00.000Z  local action (maintenance-on)');
    expect(text).toContain('bad\\u{1b}[2J\\u{1b}[Hbundle\\u{d}\\u{a}next');
    expect(text).not.toContain('\u001b');
    expect(text).toContain(`entry hash ${u.audit[0]!.hash}`);
  });
});

describe('findUnit', () => {
  it('takes a full id or a unique prefix, and names the units otherwise', () => {
    const a = clearedUnit();
    const b = clearedUnit();
    a.id = 'aaaa1111-0000-4000-8000-000000000000';
    b.id = 'aaab2222-0000-4000-8000-000000000000';
    const s = instance([a, b]);
    expect(findUnit(s, a.id)).toBe(a);
    expect(findUnit(s, 'aaab')).toBe(b);
    expect(() => findUnit(s, 'aaa')).toThrow(/No single unit aaa in this instance \(units: aaaa1111.*, aaab2222/);
    expect(() => findUnit(s, 'zz')).toThrow(CeremonyError);
  });
});

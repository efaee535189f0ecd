// The plan (SETUP.json, issue 11) against the day: a transport file loaded
// must be a unit the plan names, with the key the plan gives for it.
import { describe, expect, it } from 'vitest';
import type { TransportKey } from '../../../src/core/bundle/transport.js';
import { isCeremonyError } from '../../../src/core/errors.js';
import { checkTransportOfPlan, plannedUnitsMissing } from '../../../src/core/ceremony/setup-plan.js';

const FP1 = 'ab'.repeat(32);
const FP2 = 'cd'.repeat(32);
const OTHER = 'ef'.repeat(32);

const transport = (unitId: string, fingerprint: string, units = ['u1', 'u2']): TransportKey =>
  ({ file: { instanceId: 'inst-1', unitId, units, fingerprint } }) as unknown as TransportKey;

function refusal(f: () => void): { code: string; message: string; details: Record<string, unknown> } {
  try {
    f();
  } catch (e) {
    if (isCeremonyError(e)) return { code: e.code, message: e.message, details: { ...e.details } };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('checkTransportOfPlan', () => {
  const planned = [{ id: 'u1', transportFingerprint: FP1 }, { id: 'u2' }];

  it('takes a unit the plan names with the key it gives, and any key where the plan gives none', () => {
    expect(() => checkTransportOfPlan(planned, transport('u1', FP1), 'unit-u1.json')).not.toThrow();
    expect(() => checkTransportOfPlan(planned, transport('u2', OTHER), 'unit-u2.json')).not.toThrow();
  });

  it('checks nothing without planned units', () => {
    expect(() => checkTransportOfPlan([], transport('u9', OTHER, ['u9']), 'u9.json')).not.toThrow();
  });

  it('refuses another key for a planned unit, naming the unit and both fingerprints', () => {
    const e = refusal(() => checkTransportOfPlan(planned, transport('u1', OTHER), 'unit-u1.json'));
    expect(e.code).toBe('TransportFingerprintMismatch');
    expect(e.message).toMatch(
      /^Unit u1: unit-u1\.json holds transport key EFEF EFEF .*, but the plan this ceremony was set up from gives ABAB ABAB .* for it\. .*Nothing was recorded\.$/,
    );
    expect(e.details).toEqual({ unitId: 'u1', file: OTHER, planned: FP1 });
  });

  it('refuses a unit the plan does not name, naming it, its key and the plan\u2019s units', () => {
    const e = refusal(() => checkTransportOfPlan(planned, transport('u3', FP2, ['u1', 'u2', 'u3']), 'unit-u3.json'));
    expect(e.code).toBe('InvalidArgument');
    expect(e.message).toMatch(
      /^unit-u3\.json is the transport file of unit u3 \(transport key CDCD CDCD .*\), which the plan this ceremony was set up from does not name: its units are u1, u2\. /,
    );
    expect(e.details).toEqual({ unitId: 'u3', file: FP2, planned: null });
  });

  it('refuses an instance whose units are not the plan\u2019s: the bundle goes to every unit of it', () => {
    const more = refusal(() => checkTransportOfPlan(planned, transport('u1', FP1, ['u1', 'u2', 'u3']), 'a.json'));
    expect(more.message).toMatch(
      /^The units of instance inst-1 are u1, u2, u3, but the plan this ceremony was set up from names u1, u2\. .*the plan does not name u3\. /,
    );
    const fewer = refusal(() => checkTransportOfPlan(planned, transport('u1', FP1, ['u1']), 'a.json'));
    expect(fewer.message).toMatch(/the instance has no unit u2\. /);
  });

  it('lists the planned units not loaded yet, in the plan\u2019s order', () => {
    expect(plannedUnitsMissing(planned, [])).toEqual(['u1', 'u2']);
    expect(plannedUnitsMissing(planned, ['u2'])).toEqual(['u1']);
    expect(plannedUnitsMissing([], ['u2'])).toEqual([]);
  });
});

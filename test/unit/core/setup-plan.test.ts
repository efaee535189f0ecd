// The plan (SETUP.json, issue 11) against the day: a transport file loaded
// must be a unit the plan names, with the key the plan gives for it; and
// re-saving a plan from the Set up form keeps what the form has no field for
// (card serials, bag numbers).
import { describe, expect, it } from 'vitest';
import type { TransportKey } from '../../../src/core/bundle/transport.js';
import { isCeremonyError } from '../../../src/core/errors.js';
import type { CeremonySetup } from '../../../src/core/ceremony/roster.js';
import { parseSetupFile, serializeSetupFile, type CeremonySetupFile } from '../../../src/core/ceremony/setup-file.js';
import {
  carriedFromPlan,
  checkTransportOfPlan,
  formOfPlan,
  planOfForm,
  plannedUnitsMissing,
} from '../../../src/core/ceremony/setup-plan.js';

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

describe('re-saving an opened plan (planOfForm with the plan it came from)', () => {
  // One admin with a signature threshold of 1 (its reason given); four custodians, three with papers.
  const bare = planOfForm(
    {
      ceremonyName: 'Region B',
      keyName: 'mk-b',
      threshold: 2,
      signatureThreshold: 1,
      revocationThreshold: 1,
      operator: 'Olga',
      admins: [{ name: 'Ann', medium: 'file' }],
      custodians: ['Cat', 'Dan', 'Eve', 'Fay'].map((name) => ({ name, medium: 'file' as const })),
      witnesses: ['Wim'],
      reasons: { signatureThresholdOne: 'one admin only in region B' },
    },
    [{ id: 'unit-1', transportFingerprint: FP1 }],
  );
  const opened: CeremonySetupFile = parseSetupFile(
    serializeSetupFile({
      ...bare,
      custodians: [
        { name: 'Cat', medium: 'card', cardSerial: 12345678, bag: 'TE-001' },
        { name: 'Dan', medium: 'file', bag: 'TE-002' },
        { name: 'Eve', medium: 'card', cardSerial: 87654321 },
        { name: 'Fay', medium: 'file' },
      ],
    }),
  );
  const { setup, units } = formOfPlan(opened);

  it('keeps every card serial and bag number of an unchanged form: the same file comes back', () => {
    const plan = planOfForm(setup, units, opened);
    expect(plan.custodians).toEqual(opened.custodians);
    expect(serializeSetupFile(plan)).toBe(serializeSetupFile(opened));
    expect(carriedFromPlan(opened, plan)).toEqual([
      'Kept from the plan it was filled from, as the form has no field for them: the card serials and bag numbers of "Cat" (card serial 12345678, bag TE-001), "Dan" (bag TE-002) and "Eve" (card serial 87654321).',
    ]);
  });

  it('keeps them by name and medium: a custodian gone or on another medium loses them, and the notes say so', () => {
    const changed: CeremonySetup = {
      ...setup,
      custodians: [
        { name: 'Fay', medium: 'file' },
        { name: 'Dan', medium: 'file' },
        { name: 'Eve', medium: 'file' }, // a card serial only stays with a card
        { name: 'Gus', medium: 'card' },
      ],
    };
    const plan = planOfForm(changed, units, opened);
    expect(plan.custodians).toEqual([
      { name: 'Fay', medium: 'file' },
      { name: 'Dan', medium: 'file', bag: 'TE-002' },
      { name: 'Eve', medium: 'file' },
      { name: 'Gus', medium: 'card' },
    ]);
    expect(carriedFromPlan(opened, plan)).toEqual([
      'Kept from the plan it was filled from, as the form has no field for them: the card serials and bag numbers of "Dan" (bag TE-002).',
      'Not kept: the card serials and bag numbers of "Cat" (card serial 12345678, bag TE-001; no longer a custodian) and "Eve" (card serial 87654321; now on a file, not a card). Add them to the plan by hand if they still hold.',
    ]);
    expect(() => serializeSetupFile(plan)).not.toThrow();
  });

  it('keeps nothing without the plan it came from, and says nothing when the plan had none', () => {
    expect(planOfForm(setup, units).custodians.every((c) => c.cardSerial === undefined && c.bag === undefined)).toBe(
      true,
    );
    expect(carriedFromPlan(bare, planOfForm(setup, units, bare))).toEqual([]);
  });
});

// The Set up's roster rules (src/core/ceremony/roster.ts), each refusal
// tested by its message: separation of duties (issue 11, "Two-person
// integrity") and the admins' two thresholds.
import { describe, expect, it } from 'vitest';
import { checkSetup, type CeremonySetup } from '../../../src/core/ceremony/roster.js';
import { CeremonyError } from '../../../src/core/errors.js';

const setup: CeremonySetup = {
  ceremonyName: 'Production MK 2026',
  keyName: 'prod-mk',
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
    { name: 'Fatima', medium: 'file' },
  ],
  witnesses: ['Wendy'],
  reasons: {},
};

/** The message of checkSetup's refusal, which must be InvalidArgument. */
function refusal(s: CeremonySetup, mode?: 'production' | 'rehearsal'): string {
  try {
    checkSetup(s, mode);
  } catch (e) {
    expect(e).toBeInstanceOf(CeremonyError);
    expect((e as CeremonyError).code).toBe('InvalidArgument');
    return (e as Error).message;
  }
  throw new Error('the set-up was accepted');
}

const custodians = (...names: string[]): CeremonySetup['custodians'] => names.map((name) => ({ name, medium: 'file' }));

describe('the Set up roster', () => {
  it('accepts a set-up that keeps duties apart, trimmed, with no reasons', () => {
    const checked = checkSetup({ ...setup, witnesses: [' Wendy '], operator: ' Olivia ' });
    expect(checked).toEqual({ ...setup, witnesses: ['Wendy'] });
  });

  describe('one person holds at most one share', () => {
    it('refuses two custodians of one name, without case and spaces, naming them', () => {
      expect(refusal({ ...setup, custodians: custodians('Dora', 'Erik', ' dora ') })).toBe(
        'Two custodians are both called "dora"; give each person a distinct name.',
      );
    });
  });

  describe('a custodian who is also an admin', () => {
    const aliceHoldsAShare = { ...setup, custodians: custodians('Dora', ' ALICE ', 'Fatima') };

    it('is refused without a reason, naming the person', () => {
      expect(refusal(aliceHoldsAShare)).toBe(
        '"ALICE" is both a custodian and an admin of this ceremony: one person holds a share or an admin identity, not both, unless the set-up gives the reason (which is recorded).',
      );
    });

    it('names every such person', () => {
      expect(refusal({ ...setup, custodians: custodians('Alice', 'Bob', 'Dora') })).toMatch(
        /^"Alice" and "Bob" are both a custodian and an admin/,
      );
    });

    it('is refused with a blank reason (a reason of spaces is none)', () => {
      expect(refusal({ ...aliceHoldsAShare, reasons: { custodianIsAdmin: '   ' } })).toMatch(/^"ALICE" is both/);
    });

    it('is accepted with a reason, which comes back trimmed', () => {
      const checked = checkSetup({ ...aliceHoldsAShare, reasons: { custodianIsAdmin: ' Two people only. ' } });
      expect(checked.reasons).toEqual({ custodianIsAdmin: 'Two people only.' });
    });

    it('refuses the reason when no custodian is an admin', () => {
      expect(refusal({ ...setup, reasons: { custodianIsAdmin: 'Just in case.' } })).toBe(
        'A reason for a custodian who is also an admin is given, but no custodian is an admin; leave it out.',
      );
    });

    it('refuses a reason that is not one line of printable text or is too long', () => {
      expect(refusal({ ...aliceHoldsAShare, reasons: { custodianIsAdmin: 'one\ntwo' } })).toBe(
        'The reason a custodian is also an admin must be at most 1000 printable characters on one line.',
      );
      expect(refusal({ ...aliceHoldsAShare, reasons: { custodianIsAdmin: 'x'.repeat(1001) } })).toMatch(
        /at most 1000 printable characters/,
      );
    });
  });

  describe('a signature threshold of 1', () => {
    it('is refused without a reason', () => {
      expect(refusal({ ...setup, signatureThreshold: 1 })).toBe(
        'A signature threshold of 1 lets one admin alone sign for the units: the set-up must give the reason (which is recorded), or raise the threshold.',
      );
    });

    it('is accepted with a reason', () => {
      const reasons = { signatureThresholdOne: 'Only one admin can be on site.' };
      expect(checkSetup({ ...setup, signatureThreshold: 1, reasons }).reasons).toEqual(reasons);
    });

    it('refuses the reason when the threshold is not 1', () => {
      expect(refusal({ ...setup, reasons: { signatureThresholdOne: 'Just in case.' } })).toBe(
        'A reason for a signature threshold of 1 is given, but the signature threshold is 2; leave it out.',
      );
    });

    it('needs no reason for a revocation threshold of 1', () => {
      expect(checkSetup({ ...setup, revocationThreshold: 1 }).revocationThreshold).toBe(1);
    });
  });

  describe('an independent witness in a production ceremony', () => {
    it('is required', () => {
      expect(refusal({ ...setup, witnesses: [] })).toBe(
        'A production ceremony needs at least one witness who holds no share and no admin identity; add one.',
      );
    });

    it('is not a custodian or an admin, and the refusal says who does not count and why', () => {
      expect(refusal({ ...setup, witnesses: ['dora'] })).toBe(
        'A production ceremony needs at least one witness who holds no share and no admin identity: "dora" is also a custodian, so does not count; add a witness who is neither.',
      );
      expect(refusal({ ...setup, witnesses: [' BOB', 'Erik'] })).toBe(
        'A production ceremony needs at least one witness who holds no share and no admin identity: "BOB" is also an admin, "Erik" is also a custodian, so none of them counts; add a witness who is neither.',
      );
      const both = { ...setup, custodians: custodians('Alice', 'Erik'), reasons: { custodianIsAdmin: 'Two people.' } };
      expect(refusal({ ...both, witnesses: ['Alice'] })).toMatch(/"Alice" is also a custodian and an admin/);
    });

    it('may sit beside witnesses who hold a share', () => {
      expect(checkSetup({ ...setup, witnesses: ['Dora', 'Wendy'] }).witnesses).toEqual(['Dora', 'Wendy']);
    });

    it('is not asked of a rehearsal', () => {
      expect(checkSetup({ ...setup, witnesses: [] }, 'rehearsal').witnesses).toEqual([]);
      // The other rules hold in a rehearsal too.
      expect(refusal({ ...setup, witnesses: [], signatureThreshold: 1 }, 'rehearsal')).toMatch(
        /^A signature threshold of 1/,
      );
    });
  });

  describe('the revocation threshold', () => {
    it('is checked on its own, and a lock-out is refused', () => {
      expect(refusal({ ...setup, revocationThreshold: 3 })).toBe(
        'The ceremony: the revocation threshold 3 is above the 2 admins there would be, so no quorum could ever sign again: that is a lock-out, refused. Lower the threshold or keep more admins.',
      );
      expect(refusal({ ...setup, revocationThreshold: 0 })).toBe(
        'The ceremony: the revocation threshold must be a whole number from 1 to 2; got 0.',
      );
    });

    it('is kept apart from the signature threshold', () => {
      expect(checkSetup({ ...setup, revocationThreshold: 1 })).toMatchObject({
        signatureThreshold: 2,
        revocationThreshold: 1,
      });
    });
  });
});

import { describe, expect, it } from 'vitest';
import { CEREMONY_KINDS } from '../../../src/core/ceremony/kinds.js';
import {
  holdersComeIn,
  parseSetupFile,
  serializeSetupFile,
  SETUP_FORMAT,
} from '../../../src/core/ceremony/setup-file.js';
import { CeremonyError } from '../../../src/core/errors.js';

const FP = '0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20';

function initial(): Record<string, unknown> {
  return {
    format: SETUP_FORMAT,
    kind: 'initial',
    mode: 'production',
    ceremonyName: 'Root KEK 2025',
    keyName: 'MK-2025',
    operator: 'Olga',
    threshold: 2,
    custodians: [
      { name: 'Carol', medium: 'card', cardSerial: 12345678, bag: 'TE-0001' },
      { name: 'Dan', medium: 'file' },
    ],
    admins: [{ name: 'Alice', medium: 'card' }, { name: 'Bob' }],
    witnesses: [{ name: 'Wendy' }],
    units: [{ id: 'unit-1', transportFingerprint: FP.toUpperCase() }, { id: 'unit-2' }],
    signatureThreshold: 2,
    revocationThreshold: 2,
  };
}

const text = (o: unknown): string => JSON.stringify(o);

/** The message of the refusal, which must be an InvalidArgument. */
function refusal(o: unknown): string {
  try {
    parseSetupFile(typeof o === 'string' ? o : text(o));
  } catch (e) {
    expect(e).toBeInstanceOf(CeremonyError);
    expect((e as CeremonyError).code).toBe('InvalidArgument');
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

function edit(f: (o: Record<string, unknown>) => void): Record<string, unknown> {
  const o = initial();
  f(o);
  return o;
}

describe('SETUP.json', () => {
  it('parses an initial ceremony, lowercasing fingerprints, and serializes it back to the same setup', () => {
    const s = parseSetupFile(text(initial()));
    expect(s).toMatchObject({
      kind: 'initial',
      mode: 'production',
      threshold: 2,
      signatureThreshold: 2,
      revocationThreshold: 2,
      holders: [],
      reasons: {},
    });
    expect(s.custodians[0]).toEqual({ name: 'Carol', medium: 'card', cardSerial: 12345678, bag: 'TE-0001' });
    expect(s.units[0]!.transportFingerprint).toBe(FP);
    expect(s.admins[1]).toEqual({ name: 'Bob' });
    const out = serializeSetupFile(s);
    expect(out.endsWith('}\n')).toBe(true);
    expect(parseSetupFile(out)).toEqual(s);
    expect(serializeSetupFile(parseSetupFile(out))).toBe(out);
  });

  it('parses a setup of every kind', () => {
    const people = {
      witnesses: [{ name: 'Wendy' }],
      operator: 'Olga',
      ceremonyName: 'C',
      keyName: 'MK',
      mode: 'production',
    };
    const holders = [
      { name: 'Carol', medium: 'card' },
      { name: 'Dan', medium: 'file' },
    ];
    const custodians = [
      { name: 'Erin', medium: 'card' },
      { name: 'Finn', medium: 'file' },
    ];
    const units = [{ id: 'u1' }];
    const admins = [{ name: 'Alice' }, { name: 'Bob' }];
    const setups: Record<(typeof CEREMONY_KINDS)[number], object> = {
      initial: initial(),
      recovery: { kind: 'recovery', threshold: 2, holders, units, admins },
      reshare: { kind: 'reshare', threshold: 2, holders, custodians },
      'admin-change': { kind: 'admin-change', admins, units, signatureThreshold: 2, revocationThreshold: 3 },
      rotation: { kind: 'rotation', threshold: 2, custodians, admins, units },
      zeroize: { kind: 'zeroize', admins, units },
      'share-check': { kind: 'share-check', holders: [holders[0]] },
    };
    for (const kind of CEREMONY_KINDS) {
      const s = parseSetupFile(text({ format: SETUP_FORMAT, ...people, ...setups[kind] }));
      expect(s.kind).toBe(kind);
      expect(parseSetupFile(serializeSetupFile(s))).toEqual(s);
    }
  });

  it('refuses what is not a setup file, naming what is wrong', () => {
    expect(refusal('not json')).toBe('SETUP.json: the file is not JSON.');
    expect(refusal('[]')).toBe('SETUP.json: (top level) must be an object.');
    expect(refusal(edit((o) => (o['format'] = 'keyceremony-setup/2')))).toBe(
      'SETUP.json: format must be "keyceremony-setup/1".',
    );
    expect(refusal(edit((o) => (o['kind'] = 'party')))).toMatch(
      /^SETUP.json: kind must be one of "initial", "recovery"/,
    );
    expect(refusal(edit((o) => (o['mode'] = 'test')))).toBe(
      'SETUP.json: mode must be one of "production", "rehearsal".',
    );
    expect(refusal(' '.repeat(300 * 1024))).toMatch(/larger than 262144 bytes/);
  });

  it('refuses unknown members at every level (a misspelt member is not silently ignored)', () => {
    expect(refusal(edit((o) => (o['reason'] = {})))).toMatch(
      /^SETUP.json: reason is not a member of keyceremony-setup\/1/,
    );
    expect(
      refusal(edit((o) => ((o['custodians'] as object[])[1] = { name: 'Dan', medium: 'file', serial: 1 }))),
    ).toMatch(/^SETUP.json: custodians\[1\]\.serial is not a member/);
    expect(refusal(edit((o) => (o['reasons'] = { custodianIsAdmn: 'x' })))).toMatch(
      /reasons\.custodianIsAdmn is not a member/,
    );
    expect(refusal(edit((o) => (o['units'] = [{ id: 'u', fingerprint: FP }])))).toMatch(
      /units\[0\]\.fingerprint is not a member/,
    );
  });

  it('names the member whose value is wrong', () => {
    expect(refusal(edit((o) => (o['ceremonyName'] = '')))).toBe(
      'SETUP.json: ceremonyName must be 1 to 64 printable characters.',
    );
    expect(refusal(edit((o) => (o['operator'] = 'a\nb')))).toMatch(/^SETUP.json: operator must be 1 to 64 printable/);
    expect(refusal(edit((o) => ((o['custodians'] as Array<Record<string, unknown>>)[0]!['medium'] = 'usb')))).toBe(
      'SETUP.json: custodians[0].medium must be one of "card", "file".',
    );
    expect(refusal(edit((o) => ((o['custodians'] as Array<Record<string, unknown>>)[1]!['cardSerial'] = 5)))).toBe(
      'SETUP.json: custodians[1].cardSerial goes with medium "card", not "file".',
    );
    expect(
      refusal(edit((o) => ((o['custodians'] as Array<Record<string, unknown>>)[0]!['cardSerial'] = 2 ** 32))),
    ).toBe('SETUP.json: custodians[0].cardSerial must be a whole number from 0 to 4294967295.');
    expect(
      refusal(edit((o) => ((o['units'] as Array<Record<string, unknown>>)[1]!['transportFingerprint'] = 'abcd'))),
    ).toMatch(/^SETUP.json: units\[1\]\.transportFingerprint must be the 64 hex digits/);
    expect(refusal(edit((o) => (o['threshold'] = 3)))).toBe(
      'SETUP.json: threshold is 3, but custodians names only 2: K must be at most N.',
    );
    expect(refusal(edit((o) => (o['threshold'] = 1.5)))).toMatch(
      /^SETUP.json: threshold must be a whole number from 2/,
    );
    expect(refusal(edit((o) => (o['signatureThreshold'] = 3)))).toBe(
      'SETUP.json: signatureThreshold is 3, but admins names only 2: nobody could sign (a lock-out).',
    );
    expect(refusal(edit((o) => delete o['revocationThreshold']))).toBe(
      'SETUP.json: revocationThreshold is required for kind "initial".',
    );
    expect(refusal(edit((o) => (o['units'] = [{ id: 'u' }, { id: 'u' }])))).toBe(
      'SETUP.json: units names "u" twice: each unit once.',
    );
    expect(refusal(edit((o) => (o['units'] = [])))).toBe(
      'SETUP.json: units must name at least one unit for kind "initial".',
    );
  });

  it('refuses members the kind does not use, and requires those it needs', () => {
    const zeroize = {
      format: SETUP_FORMAT,
      kind: 'zeroize',
      mode: 'rehearsal',
      ceremonyName: 'Z',
      keyName: 'MK',
      operator: 'O',
      admins: [{ name: 'A' }, { name: 'B' }],
      units: [{ id: 'u' }],
    };
    expect(parseSetupFile(text(zeroize)).kind).toBe('zeroize');
    expect(refusal({ ...zeroize, custodians: [] })).toBe('SETUP.json: custodians does not go with kind "zeroize".');
    expect(refusal({ ...zeroize, threshold: 2 })).toBe('SETUP.json: threshold does not go with kind "zeroize".');
    expect(refusal({ ...zeroize, signatureThreshold: 2, revocationThreshold: 2 })).toBe(
      'SETUP.json: signatureThreshold does not go with kind "zeroize".',
    );
    expect(refusal({ ...zeroize, kind: 'recovery', threshold: 2 })).toBe(
      'SETUP.json: holders is required for kind "recovery".',
    );
    expect(
      refusal({
        ...zeroize,
        kind: 'recovery',
        threshold: 3,
        holders: [
          { name: 'C', medium: 'card' },
          { name: 'D', medium: 'file' },
        ],
      }),
    ).toBe('SETUP.json: holders names 2 custodians, fewer than the threshold 3 the key needs.');
    // A recovery from the paper report names neither (holdersComeIn); one without the other is refused.
    const fromPaper = parseSetupFile(text({ ...zeroize, kind: 'recovery' }));
    expect(fromPaper).toMatchObject({ kind: 'recovery', holders: [] });
    expect(fromPaper.threshold).toBeUndefined();
    expect(holdersComeIn(fromPaper)).toBe(true);
    expect(serializeSetupFile(fromPaper)).not.toContain('holders');
    expect(refusal({ ...zeroize, kind: 'recovery', holders: [{ name: 'C', medium: 'card' }] })).toBe(
      'SETUP.json: threshold must be a whole number from 2 to 255.',
    );
  });

  it('separation of duties: one share per person, reasons where the rules ask for them, an independent witness', () => {
    expect(refusal(edit((o) => ((o['custodians'] as Array<Record<string, unknown>>)[1]!['name'] = 'carol')))).toBe(
      'SETUP.json: custodians names "carol" twice: one person holds at most one share of a key.',
    );
    expect(
      refusal(
        edit(
          (o) =>
            ((o['custodians'] as Array<Record<string, unknown>>)[1] = {
              name: 'Dan',
              medium: 'card',
              cardSerial: 12345678,
            }),
        ),
      ),
    ).toBe('SETUP.json: the card serials names "12345678" twice: one card holds one share.');
    const adminCustodian = edit((o) => ((o['custodians'] as Array<Record<string, unknown>>)[1]!['name'] = 'Alice'));
    expect(refusal(adminCustodian)).toBe(
      'SETUP.json: "Alice" is both a custodian and an admin of this ceremony: one person holds a share or an admin identity, not both, unless the set-up gives the reason (which is recorded).',
    );
    const withReason = parseSetupFile(text({ ...adminCustodian, reasons: { custodianIsAdmin: 'Two-person team' } }));
    expect(withReason.reasons).toEqual({ custodianIsAdmin: 'Two-person team' });
    expect(refusal(edit((o) => (o['reasons'] = { custodianIsAdmin: 'just because' })))).toBe(
      'SETUP.json: A reason for a custodian who is also an admin is given, but no custodian is an admin; leave it out.',
    );
    const one = edit((o) => (o['signatureThreshold'] = 1));
    expect(refusal(one)).toMatch(
      /^SETUP.json: A signature threshold of 1 lets one admin alone sign for the units: the set-up must give the reason/,
    );
    expect(parseSetupFile(text({ ...one, reasons: { signatureThresholdOne: 'Lab unit' } })).signatureThreshold).toBe(1);
    // The same rules, in the same words, as the app's Set up (roster.ts checkSeparationOfDuties).
    // A production ceremony needs a witness who holds no share and is no admin; a rehearsal does not.
    expect(refusal(edit((o) => (o['witnesses'] = [])))).toBe(
      'SETUP.json: A production ceremony needs at least one witness who holds no share and no admin identity; add one.',
    );
    expect(refusal(edit((o) => (o['witnesses'] = [{ name: 'Bob' }])))).toMatch(
      /at least one witness who holds no share/,
    );
    expect(parseSetupFile(text(edit((o) => ((o['witnesses'] = []), (o['mode'] = 'rehearsal'))))).witnesses).toEqual([]);
  });
});

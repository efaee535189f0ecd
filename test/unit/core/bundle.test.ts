import { createPrivateKey } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactDecrypt, flattenedVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  addBundleSignature,
  buildBundle,
  checkEmbeddedSignatures,
  parseBundle,
  serializeBundle,
} from '../../../src/core/bundle/bundle.js';
import { CeremonyError } from '../../../src/core/errors.js';
import { bundleModeFor } from '../../../src/core/ceremony/bundle-record.js';
import type { TranscriptEntry } from '../../../src/core/ceremony/transcript.js';
import { verifyJwsSignature } from '../../../src/core/bundle/jws.js';
import { parseTransportFile, type TransportKey } from '../../../src/core/bundle/transport.js';
import { generateMasterKey, keyCheckValue, verificationPattern } from '../../../src/core/masterkey/masterkey.js';
import { initInstance, transportFileFor } from '../../../src/emulator/instance.js';
import { makeAdmin, type TestAdmin } from '../../support/fixtures.js';

let admins: TestAdmin[];
let transports: TransportKey[];
let unitKeys: Map<string, string>;
const masterKey = generateMasterKey();
let signedText: string;

beforeAll(async () => {
  admins = await Promise.all(['Alice', 'Bob', 'Carol'].map(makeAdmin));
  const s = initInstance(join(mkdtempSync(join(tmpdir(), 'kc-bundle-')), 'emu'), 2);
  transports = s.units.map((u) => parseTransportFile(JSON.stringify(transportFileFor(s, u)), 't'));
  unitKeys = new Map(s.units.map((u) => [u.id, u.transport.privateKey]));
  const { jws } = buildBundle({
    masterKey,
    transports,
    rehearsal: false,
    sequence: 1,
    ceremonyId: '7c1f1c4e-8c1a-4a8e-9a55-1b0f1e2d3c4b',
    keyName: 'MK',
    transcriptHash: 'ab'.repeat(32),
    operation: 'initialize',
    claim: { admins: admins.map((a) => a.cert), signatureThreshold: 2, revocationThreshold: 2 },
  });
  let b = parseBundle(serializeBundle(jws));
  for (const a of admins) b = parseBundle(serializeBundle(await addBundleSignature(b, a.cert, a.sign)));
  signedText = serializeBundle(b.jws);
});

describe('import bundle as standard JOSE', () => {
  it('is a General JSON JWS whose every signature an off-the-shelf library (jose) verifies', async () => {
    const b = JSON.parse(signedText) as {
      payload: string;
      signatures: Array<{ protected: string; signature: string }>;
    };
    expect(b.signatures).toHaveLength(3);
    for (const [i, s] of b.signatures.entries()) {
      const r = await flattenedVerify(
        { payload: b.payload, protected: s.protected, signature: s.signature },
        admins[i]!.cert.publicKey,
      );
      expect(r.protectedHeader).toMatchObject({ alg: 'RS256', 'x5t#S256': admins[i]!.cert.thumbprint });
    }
  });

  it("a signature does not verify under another admin's key", async () => {
    const b = JSON.parse(signedText) as {
      payload: string;
      signatures: Array<{ protected: string; signature: string }>;
    };
    const s = b.signatures[0]!;
    await expect(
      flattenedVerify(
        { payload: b.payload, protected: s.protected, signature: s.signature },
        admins[1]!.cert.publicKey,
      ),
    ).rejects.toThrow();
  });

  it('carries the master key only as one JWE per unit that jose decrypts with the unit key', async () => {
    const payload = parseBundle(signedText).payload;
    expect(payload.kcv).toBe(keyCheckValue(masterKey));
    expect(signedText).not.toContain(masterKey.toString('base64url'));
    expect(signedText).not.toContain(masterKey.toString('hex'));
    const load = payload.commands.find((c) => c.command === 'load-new');
    if (load?.command !== 'load-new') throw new Error('no load command');
    expect(Object.keys(load.keys).sort()).toEqual([...unitKeys.keys()].sort());
    for (const [unitId, jwe] of Object.entries(load.keys)) {
      const { plaintext, protectedHeader } = await compactDecrypt(jwe, createPrivateKey(unitKeys.get(unitId)!));
      const transport = transports.find((t) => t.file.unitId === unitId)!;
      expect(protectedHeader).toEqual({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: transport.file.fingerprint });
      expect(Buffer.from(plaintext).equals(masterKey)).toBe(true);
    }
  });

  it('lists the commands of an initialize in order', () => {
    const b = parseBundle(signedText);
    expect(b.payload).toMatchObject({
      format: 'keyceremony-bundle/3',
      rehearsal: false,
      operation: 'initialize',
      targets: [...unitKeys.keys()],
      sequence: 1,
    });
    expect(b.payload.commands.map((c) => c.command)).toEqual(['claim', 'load-new', 'commit', 'activate', 'add-user']);
  });

  it('refuses a second signature by the same admin and a signer the claim does not install', async () => {
    const b = parseBundle(signedText);
    await expect(addBundleSignature(b, admins[0]!.cert, admins[0]!.sign)).rejects.toThrow(/Alice has already signed/);
    const stranger = await makeAdmin('Mallory');
    await expect(addBundleSignature(b, stranger.cert, stranger.sign)).rejects.toThrow(
      /Mallory is not one of the admins this bundle installs/,
    );
  });
});

describe('one flipped byte anywhere', () => {
  it('is caught for every byte position of a signed bundle', () => {
    const bytes = Buffer.from(signedText, 'utf8');
    let caughtByParse = 0;
    let caughtBySignature = 0;
    for (let i = 0; i < bytes.length; i++) {
      const copy = Buffer.from(bytes);
      copy[i] = copy[i]! ^ 0x01;
      let b;
      try {
        b = parseBundle(copy.toString('utf8'));
      } catch (e) {
        // Whatever part the flip hit, the person is told the file was altered.
        if (
          !(e instanceof CeremonyError) ||
          e.code !== 'BundleMalformed' ||
          !/damaged|altered|modified/.test(e.message)
        ) {
          throw new Error(`a flip at byte ${i} gave ${String(e)}`);
        }
        caughtByParse++;
        continue;
      }
      // What a unit does: look the signer up among known admins, verify with that key.
      const valid = b.signatures.every((s) => {
        const admin = admins.find((a) => a.cert.thumbprint === s.thumbprint);
        return admin !== undefined && verifyJwsSignature(b.jws.payload, s.entry, s.header, admin.cert.publicKey);
      });
      if (valid)
        throw new Error(
          `a flip at byte ${i} (${JSON.stringify(signedText.slice(Math.max(0, i - 20), i + 20))}) went unnoticed`,
        );
      caughtBySignature++;
    }
    expect(caughtByParse + caughtBySignature).toBe(bytes.length);
    expect(caughtBySignature).toBeGreaterThan(0);
  });

  it('a bundle of another format version is named as such, not as damage', () => {
    const b = JSON.parse(signedText) as { payload: string; signatures: unknown[] };
    const payload = JSON.parse(Buffer.from(b.payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    // keyceremony-bundle/2 had no rehearsal mode: no unit may guess one (issue 11).
    for (const format of ['keyceremony-bundle/1', 'keyceremony-bundle/2', 'keyceremony-bundle/4']) {
      const text = serializeBundle({
        ...b,
        payload: Buffer.from(JSON.stringify({ ...payload, format })).toString('base64url'),
      } as never);
      expect(() => parseBundle(text)).toThrow(
        new RegExp(
          `^The bundle payload has format ${format.replace('/', '\\/')}; this tool reads keyceremony-bundle\\/3\\.$`,
        ),
      );
    }
    // Anything else in that field is damage, and said so.
    const text = serializeBundle({
      ...b,
      payload: Buffer.from(JSON.stringify({ ...payload, format: 'keyceremony-bundle/3 ' })).toString('base64url'),
    } as never);
    expect(() => parseBundle(text)).toThrow(/damaged or was altered/);
  });

  it('each signature also verifies against the certificate it carries', () => {
    expect(checkEmbeddedSignatures(parseBundle(signedText)).map((c) => [c.name, c.valid])).toEqual([
      ['Alice', true],
      ['Bob', true],
      ['Carol', true],
    ]);
  });

  it('whitespace changes outside the signed content are refused too', () => {
    expect(() => parseBundle(signedText.replace('\n  "signatures"', '\n\t"signatures"'))).toThrow(/modified/);
    expect(() => parseBundle(signedText + '\n')).toThrow(/modified/);
  });
});

// Issue 11: a rehearsal bundle can never reach a production unit. The mode
// is a required member of the signed payload, so it can be neither stripped
// nor flipped without the signatures failing.
describe('the rehearsal mode in the signed payload', () => {
  const signedParts = (): { b: { payload: string; signatures: unknown[] }; payload: Record<string, unknown> } => {
    const b = JSON.parse(signedText) as { payload: string; signatures: unknown[] };
    return { b, payload: JSON.parse(Buffer.from(b.payload, 'base64url').toString('utf8')) as Record<string, unknown> };
  };
  const withPayload = (b: { payload: string; signatures: unknown[] }, p: Record<string, unknown>): string =>
    serializeBundle({ ...b, payload: Buffer.from(JSON.stringify(p)).toString('base64url') } as never);
  const asRehearsal = (t: TransportKey): TransportKey => ({ ...t, file: { ...t.file, rehearsal: true } });

  it('is written right after the format, false for a production bundle and true for a rehearsal one', () => {
    expect(Buffer.from(JSON.parse(signedText).payload, 'base64url').toString('utf8')).toMatch(
      /^\{"format":"keyceremony-bundle\/3","rehearsal":false,"bundleId":/,
    );
    const { jws, payload } = buildBundle({
      transports: transports.map(asRehearsal),
      rehearsal: true,
      sequence: 1,
      ceremonyId: '7c1f1c4e-8c1a-4a8e-9a55-1b0f1e2d3c4b',
      keyName: 'MK',
      transcriptHash: 'ab'.repeat(32),
      operation: 'zeroize',
      current: { kcv: keyCheckValue(masterKey), verificationPattern: verificationPattern(masterKey) },
    });
    expect(payload.rehearsal).toBe(true);
    expect(parseBundle(serializeBundle(jws)).payload.rehearsal).toBe(true);
  });

  it('cannot be removed: a payload without it is refused (with its signatures or re-signed)', () => {
    const { b, payload } = signedParts();
    const { rehearsal: _rehearsal, ...stripped } = payload;
    expect(() => parseBundle(withPayload(b, stripped))).toThrow(
      /The bundle payload has unexpected or missing fields.*damaged or was altered/,
    );
  });

  it('must be true or false, nothing else', () => {
    const { b, payload } = signedParts();
    for (const v of ['true', 'false', 1, 0, null, [], {}]) {
      expect(() => parseBundle(withPayload(b, { ...payload, rehearsal: v }))).toThrow(
        /The bundle payload's rehearsal mode is not true or false\./,
      );
    }
  });

  it('cannot be flipped: the flipped bundle parses, and no signature verifies any more', () => {
    const { b, payload } = signedParts();
    const flipped = parseBundle(withPayload(b, { ...payload, rehearsal: true }));
    expect(flipped.payload.rehearsal).toBe(true);
    expect(checkEmbeddedSignatures(flipped).map((c) => c.valid)).toEqual([false, false, false]);
    for (const s of flipped.signatures) {
      const admin = admins.find((a) => a.cert.thumbprint === s.thumbprint)!;
      expect(verifyJwsSignature(flipped.jws.payload, s.entry, s.header, admin.cert.publicKey)).toBe(false);
    }
  });

  it("buildBundle refuses a bundle whose mode is not every unit's, naming the unit and both modes, before anyone signs", () => {
    const args = {
      sequence: 1,
      ceremonyId: '7c1f1c4e-8c1a-4a8e-9a55-1b0f1e2d3c4b',
      keyName: 'MK',
      transcriptHash: 'ab'.repeat(32),
      operation: 'zeroize',
      current: { kcv: keyCheckValue(masterKey), verificationPattern: verificationPattern(masterKey) },
    } as const;
    const refusal = (f: () => unknown): CeremonyError => {
      try {
        f();
      } catch (e) {
        if (e instanceof CeremonyError) return e;
        throw e;
      }
      throw new Error('accepted');
    };
    const toProduction = refusal(() => buildBundle({ ...args, transports, rehearsal: true }));
    expect(toProduction.code).toBe('RehearsalMismatch');
    expect(toProduction.message).toMatch(
      new RegExp(
        `^Unit ${transports[0]!.file.unitId} is a production unit \\(as its transport file says\\), but this bundle would be a rehearsal bundle; the unit would refuse it\\.`,
      ),
    );
    const toRehearsal = refusal(() =>
      buildBundle({ ...args, transports: transports.map(asRehearsal), rehearsal: false }),
    );
    expect(toRehearsal.code).toBe('RehearsalMismatch');
    expect(toRehearsal.message).toMatch(/is a rehearsal unit .* but this bundle would be a production bundle/);
    expect(() =>
      buildBundle({ ...args, transports: [transports[0]!, asRehearsal(transports[1]!)], rehearsal: false }),
    ).toThrow(/disagree about its units, limits or mode \(rehearsal or production\)/);
  });
});

describe("bundle create's mode: --rehearsal, or what the record says (issue 11)", () => {
  let seq = 0;
  const entry = (type: string, data: Record<string, unknown>): TranscriptEntry =>
    ({ seq: ++seq, type, data, time: '', actor: 'operator', prev: '', hash: '' }) as unknown as TranscriptEntry;
  const record = (...entries: TranscriptEntry[]) => [{ label: 'The record R.jsonl', entries }];
  const opened = (mode?: string) => entry('ceremony-opened', mode === undefined ? {} : { mode });
  const created = (rehearsal?: boolean) => entry('bundle-created', rehearsal === undefined ? {} : { rehearsal });

  it('a record that says nothing: the option decides', () => {
    expect(bundleModeFor(record(opened(), created()), false)).toBe(false);
    expect(bundleModeFor(record(opened(), created()), true)).toBe(true);
  });

  it('a record opened as a rehearsal, or whose first bundle was one, makes a rehearsal bundle without the option', () => {
    expect(bundleModeFor(record(opened('rehearsal')), false)).toBe(true);
    expect(bundleModeFor(record(opened('production'), created(true)), false)).toBe(true);
    expect(
      bundleModeFor([...record(opened()), { label: 'The current record C.jsonl', entries: [created(true)] }], false),
    ).toBe(true);
  });

  it('a record whose key went to production units refuses --rehearsal, naming the record and the entry', () => {
    const e = (() => {
      try {
        bundleModeFor(record(opened(), created(false), created(true)), true);
      } catch (x) {
        return x as CeremonyError;
      }
      throw new Error('accepted');
    })();
    expect(e.code).toBe('RehearsalMismatch');
    expect(e.message).toMatch(
      /^The record R\.jsonl holds a production key \(entry \d+, bundle-created\), but this bundle would be a rehearsal bundle: a record is one key’s life in one mode/,
    );
    // And a rotation between a production and a rehearsal record is refused whichever way.
    expect(() =>
      bundleModeFor(
        [...record(created(true)), { label: 'The current record C.jsonl', entries: [created(false)] }],
        false,
      ),
    ).toThrow(/The current record C\.jsonl holds a production key/);
  });
});

describe('buildBundle refuses what no unit would take, before anyone signs', () => {
  const base = {
    rehearsal: false,
    sequence: 1,
    ceremonyId: '7c1f1c4e-8c1a-4a8e-9a55-1b0f1e2d3c4b',
    keyName: 'MK',
    transcriptHash: 'ab'.repeat(32),
  };
  const claim = (): {
    admins: (typeof admins)[number]['cert'][];
    signatureThreshold: number;
    revocationThreshold: number;
  } => ({
    admins: admins.map((a) => a.cert),
    signatureThreshold: 2,
    revocationThreshold: 2,
  });

  it('a bundle for some units of the instance only, naming the missing one', () => {
    expect(() =>
      buildBundle({ ...base, transports: [transports[0]!], operation: 'initialize', masterKey, claim: claim() }),
    ).toThrow(
      new RegExp(
        `goes to every unit of the instance.*the transport key file of unit ${transports[1]!.file.unitId} is missing`,
      ),
    );
  });

  it('a unit given twice, and transports of two instances', () => {
    expect(() =>
      buildBundle({
        ...base,
        transports: [transports[0]!, transports[0]!, transports[1]!],
        operation: 'zeroize',
        current: { kcv: 'ABCDEF', verificationPattern: 'ab'.repeat(32) },
      }),
    ).toThrow(/The same unit is given twice/);
    const foreign = { ...transports[1]!, file: { ...transports[1]!.file, instanceId: 'other-instance' } };
    expect(() =>
      buildBundle({
        ...base,
        transports: [transports[0]!, foreign],
        operation: 'initialize',
        masterKey,
        claim: claim(),
      }),
    ).toThrow(/come from different service instances/);
  });

  it('a rotation to the current key', () => {
    expect(() =>
      buildBundle({
        ...base,
        transports,
        operation: 'rotate',
        masterKey,
        currentVerificationPattern: verificationPattern(masterKey),
      }),
    ).toThrow(/The new master key is the current one/);
  });

  it('a claim naming one admin twice, or with a threshold above its admins, or 0', () => {
    const twice = { ...claim(), admins: [admins[0]!.cert, admins[1]!.cert, admins[0]!.cert] };
    expect(() => buildBundle({ ...base, transports, operation: 'initialize', masterKey, claim: twice })).toThrow(
      /The same admin certificate is given twice/,
    );
    expect(() =>
      buildBundle({
        ...base,
        transports,
        operation: 'initialize',
        masterKey,
        claim: { ...claim(), revocationThreshold: 4 },
      }),
    ).toThrow(/revocation threshold 4 is above the 3 admins there would be.*lock-out/);
    expect(() =>
      buildBundle({
        ...base,
        transports,
        operation: 'initialize',
        masterKey,
        claim: { ...claim(), signatureThreshold: 0 },
      }),
    ).toThrow(/got 0/);
  });

  it('a sequence number below 1', () => {
    expect(() =>
      buildBundle({ ...base, sequence: 0, transports, operation: 'initialize', masterKey, claim: claim() }),
    ).toThrow(/sequence number must be a positive integer/);
  });

  it('a bundle that claims nothing may be signed by anyone once: the units decide whose signature counts', async () => {
    const { jws } = buildBundle({
      ...base,
      transports,
      operation: 'zeroize',
      current: { kcv: keyCheckValue(masterKey), verificationPattern: verificationPattern(masterKey) },
    });
    const stranger = await makeAdmin('Mallory');
    const b = parseBundle(
      serializeBundle(await addBundleSignature(parseBundle(serializeBundle(jws)), stranger.cert, stranger.sign)),
    );
    expect(b.signatures.map((s) => s.thumbprint)).toEqual([stranger.cert.thumbprint]);
    await expect(addBundleSignature(b, stranger.cert, stranger.sign)).rejects.toThrow(/Mallory has already signed/);
  });
});

// Crashes `npm run fuzz` found (test/fuzz): inputs nested so deeply that
// JSON.stringify, which recurses, exhausts the stack. JSON.parse reads them;
// each parser must refuse them with a CeremonyError, never a RangeError.
describe('found by the fuzzer: nesting deep enough to exhaust the stack', () => {
  const deep = (inner: string, depth = 100_000): string => '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
  const refusal = (f: () => unknown): unknown => {
    try {
      f();
    } catch (e) {
      return e instanceof CeremonyError ? e.code : e;
    }
    return 'accepted';
  };

  it('a payload with a member nested 100,000 deep (npm run fuzz -- --seed 1 --target bundle --index 125)', () => {
    const jws = JSON.parse(signedText) as { payload: string; signatures: unknown[] };
    const payload = Buffer.from(jws.payload, 'base64url')
      .toString('utf8')
      .replace(/"instanceId":"[^"]*"/, `"instanceId":${deep('"x"')}`);
    const text = serializeBundle({ ...jws, payload: Buffer.from(payload, 'utf8').toString('base64url') } as Parameters<
      typeof serializeBundle
    >[0]);
    expect(refusal(() => parseBundle(text))).toBe('BundleMalformed');
  });

  it('a signature whose protected header nests 100,000 deep (npm run fuzz -- --seed 1 --target bundle --index 192)', () => {
    const jws = JSON.parse(signedText) as {
      payload: string;
      signatures: Array<{ protected: string; signature: string }>;
    };
    jws.signatures[0]!.protected = Buffer.from(`{"alg":"RS256","x5c":${deep('[]')},"x5t#S256":"x"}`, 'utf8').toString(
      'base64url',
    );
    expect(refusal(() => parseBundle(serializeBundle(jws)))).toBe('BundleMalformed');
  });

  it('a transport file whose format nests 100,000 deep (npm run fuzz -- --seed 1 --target transport --index 73)', () => {
    expect(refusal(() => parseTransportFile(`{"format":${deep('1')}}`, 'The transport file'))).toBe('TransportInvalid');
    expect(
      refusal(() =>
        parseTransportFile(`{"format":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 'The transport file'),
      ),
    ).toBe('TransportInvalid');
  });
});

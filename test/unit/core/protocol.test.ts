import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flattenedVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildBundle,
  bundleSummaryLines,
  parseBundle,
  serializeBundle,
  summarizeBundle,
  wrapMasterKeyForUnit,
  type BundlePayload,
  type BundleSpec,
} from '../../../src/core/bundle/bundle.js';
import type { GeneralJws } from '../../../src/core/bundle/jws.js';
import {
  COMMAND_SEQUENCES,
  OPERATIONS,
  type BundleCommand,
  type LoadNewCommand,
  type Operation,
} from '../../../src/core/bundle/protocol.js';
import { parseTransportFile, type TransportKey } from '../../../src/core/bundle/transport.js';
import { CeremonyError } from '../../../src/core/errors.js';
import { generateMasterKey, keyCheckValue, verificationPattern } from '../../../src/core/masterkey/masterkey.js';
import { initInstance, transportFileFor } from '../../../src/emulator/instance.js';
import { makeAdmin, reissueBundle, type TestAdmin } from '../../support/fixtures.js';

// The unit protocol's structural rules (issue 8, hole 2; protocol.ts): a
// bundle carries one operation from a closed set with its fixed command
// sequence, and the parser refuses anything else before any signature is
// looked at. Each attack is built the way an attacker with the file would
// build it: a real bundle from buildBundle, its payload decoded, edited,
// re-encoded, and signed by every real admin, so every signature is valid.

let alice: TestAdmin;
let bob: TestAdmin;
let carol: TestAdmin;
let dave: TestAdmin;
let mallory: TestAdmin;
/** Alice, Bob, Carol: the admins the real claim installs. */
let admins: TestAdmin[];
/** Nine admins (the three above and six more): one more than a unit takes. */
let nine: TestAdmin[];
let transports: TransportKey[];
let instanceId: string;
let unitIds: string[];

const key1 = generateMasterKey();
const key2 = generateMasterKey();
const current = { kcv: keyCheckValue(key1), verificationPattern: verificationPattern(key1) };
const CEREMONY = '5a0b7d1e-2c3f-4a5b-8c6d-7e8f9a0b1c2d';
const RECORD_ENTRY = 'ef'.repeat(32);

/** The unsigned bundles buildBundle writes, one per operation (and both kinds of recover). */
const built: Record<string, { jws: GeneralJws; payload: BundlePayload }> = {};

function build(spec: BundleSpec, sequence = 1, rehearsal = false): { jws: GeneralJws; payload: BundlePayload } {
  return buildBundle({
    ...spec,
    transports: rehearsal ? transports.map((t) => ({ ...t, file: { ...t.file, rehearsal: true } })) : transports,
    rehearsal,
    sequence,
    ceremonyId: CEREMONY,
    keyName: 'MK',
    transcriptHash: RECORD_ENTRY,
  });
}

const b64 = (a: TestAdmin): string => a.cert.der.toString('base64');
const sha256 = (b64urlText: string): string =>
  createHash('sha256').update(Buffer.from(b64urlText, 'base64url')).digest('hex');

beforeAll(async () => {
  const people = await Promise.all(
    ['Alice', 'Bob', 'Carol', 'Dave', 'Mallory', 'Erin', 'Frank', 'Grace', 'Heidi'].map(makeAdmin),
  );
  [alice, bob, carol, dave, mallory] = people as [TestAdmin, TestAdmin, TestAdmin, TestAdmin, TestAdmin];
  admins = [alice, bob, carol];
  nine = people;
  const s = initInstance(join(mkdtempSync(join(tmpdir(), 'kc-protocol-')), 'emu'), 2);
  instanceId = s.instanceId;
  unitIds = s.units.map((u) => u.id);
  transports = s.units.map((u) => parseTransportFile(JSON.stringify(transportFileFor(s, u)), 't'));
  const claim = { admins: admins.map((a) => a.cert), signatureThreshold: 2, revocationThreshold: 3 };
  built['initialize'] = build({ operation: 'initialize', masterKey: key1, claim });
  built['recover'] = build({ operation: 'recover', masterKey: key1, claim });
  built['recover-claimed'] = build({ operation: 'recover', masterKey: key1, claim: null });
  built['rotate'] = build(
    { operation: 'rotate', masterKey: key2, currentVerificationPattern: current.verificationPattern },
    2,
  );
  built['admin-change'] = build(
    {
      operation: 'admin-change',
      current,
      add: [dave.cert],
      remove: [carol.cert.thumbprint],
      thresholds: { signatureThreshold: 2, revocationThreshold: 2 },
    },
    3,
  );
  built['zeroize'] = build({ operation: 'zeroize', current }, 4);
});

const bundle = (name: string): GeneralJws => built[name]!.jws;

/** The refusal parseBundle gives; fails the test when it accepts. */
function refusal(text: string): CeremonyError {
  try {
    parseBundle(text);
  } catch (e) {
    expect(e).toBeInstanceOf(CeremonyError);
    expect((e as CeremonyError).code).toBe('BundleMalformed');
    return e as CeremonyError;
  }
  throw new Error('parseBundle accepted the bundle');
}

/** An edit of the payload's commands, typed loosely: an attacker writes whatever JSON they like. */
const commandsOf = (p: BundlePayload): Array<Record<string, unknown>> =>
  p.commands as unknown as Array<Record<string, unknown>>;
const loadOf = (p: BundlePayload): LoadNewCommand =>
  p.commands.find((c): c is LoadNewCommand => c.command === 'load-new')!;

describe('the control: a re-issued bundle', () => {
  it("parses when only re-signed, so every refusal below is the edit's doing", async () => {
    for (const name of Object.keys(built)) {
      const b = parseBundle(await reissueBundle(bundle(name), admins));
      expect(b.signatures.map((s) => s.thumbprint)).toEqual(admins.map((a) => a.cert.thumbprint));
    }
    // An edit that breaks no rule (another key name) parses too.
    expect(
      parseBundle(await reissueBundle(bundle('initialize'), admins, (p) => (p.keyName = 'OTHER'))).payload.keyName,
    ).toBe('OTHER');
  });
});

describe('a hidden second claim (hole 2)', () => {
  const secondClaim = (): Record<string, unknown> => ({
    command: 'claim',
    admins: [b64(mallory)],
    signatureThreshold: 1,
    revocationThreshold: 1,
  });

  it('after the real claim, signed by every real admin, is refused before any signature is looked at', async () => {
    const text = await reissueBundle(bundle('initialize'), admins, (p) => commandsOf(p).splice(1, 0, secondClaim()));
    // The attack is otherwise perfect: every signature verifies with an off-the-shelf JOSE library.
    const raw = JSON.parse(text) as { payload: string; signatures: Array<{ protected: string; signature: string }> };
    for (const [i, s] of raw.signatures.entries()) {
      await flattenedVerify(
        { payload: raw.payload, protected: s.protected, signature: s.signature },
        admins[i]!.cert.publicKey,
      );
    }
    const e = refusal(text);
    expect(e.message).toMatch(
      /^The bundle's commands \(claim claim load-new commit activate add-user\) are not the command sequence of the initialize operation \(claim load-new commit activate add-user\)\./,
    );
  });

  it.each([
    ['initialize', 'at the end', (c: Array<Record<string, unknown>>, x: Record<string, unknown>) => c.push(x)],
    [
      'recover',
      'after the real one',
      (c: Array<Record<string, unknown>>, x: Record<string, unknown>) => c.splice(1, 0, x),
    ],
    ['recover-claimed', 'at the end', (c: Array<Record<string, unknown>>, x: Record<string, unknown>) => c.push(x)],
    ['rotate', 'before the load', (c: Array<Record<string, unknown>>, x: Record<string, unknown>) => c.unshift(x)],
    [
      'admin-change',
      'before the thresholds',
      (c: Array<Record<string, unknown>>, x: Record<string, unknown>) => c.splice(c.length - 1, 0, x),
    ],
    ['zeroize', 'after the zeroize', (c: Array<Record<string, unknown>>, x: Record<string, unknown>) => c.push(x)],
  ])('in a %s bundle (%s) is refused', async (name, _where, insert) => {
    const op = built[name]!.payload.operation;
    const e = refusal(await reissueBundle(bundle(name), admins, (p) => insert(commandsOf(p), secondClaim())));
    expect(e.message).toContain(`are not the command sequence of the ${op} operation`);
  });

  it("replacing the real claim by the attacker's is a valid-looking bundle that names the attacker as the only admin", async () => {
    // Not a structural fault: the summary every signer is shown names Mallory alone.
    const text = await reissueBundle(bundle('initialize'), [], (p) => {
      commandsOf(p)[0] = secondClaim();
    });
    const s = summarizeBundle(parseBundle(text));
    expect(s.adminsInstalled).toEqual([{ name: 'Mallory', thumbprint: mallory.cert.thumbprint }]);
    expect(s.thresholds).toEqual({ signatureThreshold: 1, revocationThreshold: 1 });
    expect(bundleSummaryLines(s)).toContain(`Admin installed: Mallory (${mallory.cert.thumbprint})`);
  });
});

describe('the command sequence of each operation', () => {
  it('refuses a lone add-user', async () => {
    const e = refusal(
      await reissueBundle(
        bundle('initialize'),
        admins,
        (p) => (p.commands = [{ command: 'add-user', type: 'kmsCryptoUser' }]),
      ),
    );
    expect(e.message).toMatch(/commands \(add-user\) are not the command sequence of the initialize operation/);
  });

  it('refuses a load without a commit', async () => {
    const rotate = refusal(
      await reissueBundle(
        bundle('rotate'),
        admins,
        (p) => (p.commands = p.commands.filter((c) => c.command !== 'commit')),
      ),
    );
    expect(rotate.message).toMatch(
      /commands \(load-new activate\) are not the command sequence of the rotate operation \(load-new commit activate\)/,
    );
    const init = refusal(
      await reissueBundle(
        bundle('initialize'),
        admins,
        (p) => (p.commands = p.commands.filter((c) => c.command !== 'commit' && c.command !== 'activate')),
      ),
    );
    expect(init.message).toMatch(
      /commands \(claim load-new add-user\) are not the command sequence of the initialize operation/,
    );
  });

  it('refuses a commit and activate with no load', async () => {
    const e = refusal(
      await reissueBundle(
        bundle('rotate'),
        admins,
        (p) => (p.commands = p.commands.filter((c) => c.command !== 'load-new')),
      ),
    );
    expect(e.message).toMatch(/commands \(commit activate\) are not the command sequence of the rotate operation/);
  });

  it('refuses the commands of another operation', async () => {
    // A rotate labelled zeroize, a zeroize labelled rotate, an initialize labelled recover-onto-claimed-units' rotate.
    const asZeroize = refusal(await reissueBundle(bundle('rotate'), admins, (p) => (p.operation = 'zeroize')));
    expect(asZeroize.message).toMatch(
      /commands \(load-new commit activate\) are not the command sequence of the zeroize operation \(zeroize\)/,
    );
    const asRotate = refusal(await reissueBundle(bundle('zeroize'), admins, (p) => (p.operation = 'rotate')));
    expect(asRotate.message).toMatch(/commands \(zeroize\) are not the command sequence of the rotate operation/);
    const initAsRotate = refusal(await reissueBundle(bundle('initialize'), admins, (p) => (p.operation = 'rotate')));
    expect(initAsRotate.message).toMatch(
      /commands \(claim load-new commit activate add-user\) are not the command sequence of the rotate operation/,
    );
    const changeAsZeroize = refusal(
      await reissueBundle(bundle('admin-change'), admins, (p) => (p.operation = 'zeroize')),
    );
    expect(changeAsZeroize.message).toMatch(
      /commands \(remove-admin add-admin set-thresholds\) are not the command sequence of the zeroize operation/,
    );
    // The zeroize command smuggled after an admin change.
    const smuggled = refusal(
      await reissueBundle(bundle('admin-change'), admins, (p) => commandsOf(p).push({ command: 'zeroize' })),
    );
    expect(smuggled.message).toMatch(/are not the command sequence of the admin-change operation/);
    // add-admin before remove-admin is not the admin-change sequence either.
    const reordered = refusal(
      await reissueBundle(
        bundle('admin-change'),
        admins,
        (p) => (p.commands = [p.commands[1]!, p.commands[0]!, p.commands[2]!]),
      ),
    );
    expect(reordered.message).toMatch(
      /commands \(add-admin remove-admin set-thresholds\) are not the command sequence of the admin-change operation/,
    );
  });

  it('refuses an unknown operation and an unknown command', async () => {
    const op = refusal(
      await reissueBundle(
        bundle('zeroize'),
        admins,
        (p) => ((p as { operation: string }).operation = 'export-master-key'),
      ),
    );
    expect(op.message).toMatch(
      /^The bundle's operation "export-master-key" is not one of initialize, recover, rotate, admin-change, zeroize\./,
    );
    const cmd = refusal(
      await reissueBundle(bundle('zeroize'), admins, (p) => commandsOf(p).unshift({ command: 'export-master-key' })),
    );
    expect(cmd.message).toMatch(/^Bundle command 1 is unknown \("export-master-key"\)/);
    const none = refusal(await reissueBundle(bundle('zeroize'), admins, (p) => (p.commands = [])));
    expect(none.message).toMatch(/^The bundle has no commands\./);
  });

  it('refuses a command with an extra field (a claim with an "extraAdmins" list)', async () => {
    const e = refusal(
      await reissueBundle(bundle('initialize'), admins, (p) => (commandsOf(p)[0]!['extraAdmins'] = [b64(mallory)])),
    );
    expect(e.message).toMatch(/^Bundle command 1 has unexpected or missing fields/);
  });

  it('the table is the protocol: each operation and nothing else', () => {
    expect([...OPERATIONS]).toEqual(['initialize', 'recover', 'rotate', 'admin-change', 'zeroize']);
    const seq = (op: Operation, names: string): boolean => COMMAND_SEQUENCES[op].test(names);
    expect(seq('recover', 'claim load-new commit activate add-user')).toBe(true);
    expect(seq('recover', 'load-new commit activate add-user')).toBe(true);
    expect(seq('recover', 'load-new commit activate')).toBe(false);
    expect(seq('recover', 'claim load-new commit activate')).toBe(false);
    expect(seq('admin-change', 'remove-admin remove-admin add-admin set-thresholds')).toBe(true);
    expect(seq('admin-change', 'set-thresholds')).toBe(true);
    expect(seq('admin-change', 'remove-admin add-admin')).toBe(false);
    expect(seq('admin-change', 'set-thresholds set-thresholds')).toBe(false);
  });
});

describe('targets and wrapped keys', () => {
  it('refuses a target named twice', async () => {
    const e = refusal(await reissueBundle(bundle('initialize'), admins, (p) => p.targets.push(p.targets[0]!)));
    expect(e.message).toMatch(/^The bundle names a target unit twice\./);
    const noLoad = refusal(
      await reissueBundle(bundle('zeroize'), admins, (p) => (p.targets = [p.targets[0]!, p.targets[0]!])),
    );
    expect(noLoad.message).toMatch(/names a target unit twice/);
  });

  it('refuses a wrapped key for a unit that is not a target', async () => {
    const [u1, u2] = unitIds as [string, string];
    const e = refusal(
      await reissueBundle(bundle('initialize'), admins, (p) => {
        const keys = loadOf(p).keys;
        keys['unit-x'] = keys[u2]!;
        delete keys[u2];
      }),
    );
    expect(e.message).toContain(
      `The bundle's wrapped keys are for units ${[u1, 'unit-x'].sort().join(', ')}, not exactly its targets ${u1}, ${u2}.`,
    );
  });

  it('refuses a target without a wrapped key', async () => {
    const [u1, u2] = unitIds as [string, string];
    const e = refusal(await reissueBundle(bundle('rotate'), admins, (p) => delete loadOf(p).keys[u2]));
    expect(e.message).toContain(`wrapped keys are for units ${u1}, not exactly its targets ${u1}, ${u2}`);
    const none = refusal(await reissueBundle(bundle('rotate'), admins, (p) => (loadOf(p).keys = {})));
    expect(none.message).toContain('wrapped keys are for units none, not exactly its targets');
  });

  it('refuses an extra wrapped key (the master key wrapped to a key the attacker holds)', async () => {
    const [u1, u2] = unitIds as [string, string];
    const e = refusal(
      await reissueBundle(bundle('initialize'), admins, (p) => {
        loadOf(p).keys['attacker'] = wrapMasterKeyForUnit(key1, transports[0]!);
      }),
    );
    expect(e.message).toContain(
      `wrapped keys are for units ${['attacker', u1, u2].sort().join(', ')}, not exactly its targets`,
    );
    // A target list grown to match passes the parser, which cannot know the instance's units;
    // every unit refuses it (its instance's units are exactly u1, u2: see emulator.test.ts).
    const grown = await reissueBundle(bundle('initialize'), admins, (p) => {
      loadOf(p).keys['attacker'] = wrapMasterKeyForUnit(key1, transports[0]!);
      p.targets.push('attacker');
    });
    expect(parseBundle(grown).payload.targets).toEqual([u1, u2, 'attacker']);
  });

  it('refuses a rotate that does not name the key it replaces, and an initialize or recover that does', async () => {
    const rotate = refusal(
      await reissueBundle(bundle('rotate'), admins, (p) => delete loadOf(p).expectedCurrentVerificationPattern),
    );
    expect(rotate.message).toMatch(/^A rotate bundle must name the current key it replaces\./);
    const init = refusal(
      await reissueBundle(
        bundle('initialize'),
        admins,
        (p) => (loadOf(p).expectedCurrentVerificationPattern = current.verificationPattern),
      ),
    );
    expect(init.message).toMatch(/^A initialize bundle must not name a current key to replace\./);
    const recover = refusal(
      await reissueBundle(
        bundle('recover-claimed'),
        admins,
        (p) => (loadOf(p).expectedCurrentVerificationPattern = current.verificationPattern),
      ),
    );
    expect(recover.message).toMatch(/^A recover bundle must not name a current key to replace\./);
    const invalid = refusal(
      await reissueBundle(
        bundle('rotate'),
        admins,
        (p) => (loadOf(p).expectedCurrentVerificationPattern = current.verificationPattern.toUpperCase()),
      ),
    );
    expect(invalid.message).toMatch(/names its current key with an invalid verification pattern/);
  });
});

describe('admins and thresholds', () => {
  const claimOf = (p: BundlePayload): Record<string, unknown> => commandsOf(p)[0]!;

  it('refuses an admin change that adds and removes the same admin', async () => {
    const e = refusal(
      await reissueBundle(bundle('admin-change'), admins, (p) => {
        p.commands = [
          { command: 'remove-admin', thumbprint: dave.cert.thumbprint },
          { command: 'add-admin', certificate: b64(dave) },
          p.commands.at(-1)!,
        ];
      }),
    );
    expect(e.message).toMatch(/^The bundle both adds and removes Dave\./);
  });

  it('refuses an admin change that removes one admin twice, or adds one twice, or removes by a malformed thumbprint', async () => {
    const twice = refusal(
      await reissueBundle(bundle('admin-change'), admins, (p) =>
        p.commands.unshift({ command: 'remove-admin', thumbprint: carol.cert.thumbprint }),
      ),
    );
    expect(twice.message).toMatch(/^The bundle removes the same admin twice\./);
    const addTwice = refusal(
      await reissueBundle(bundle('admin-change'), admins, (p) =>
        p.commands.splice(1, 0, { command: 'add-admin', certificate: b64(dave) }),
      ),
    );
    expect(addTwice.message).toMatch(/^The admin change names the admin Dave \(.*\) twice\./);
    const bad = refusal(
      await reissueBundle(
        bundle('admin-change'),
        admins,
        (p) => (commandsOf(p)[0]!['thumbprint'] = 'not-a-thumbprint'),
      ),
    );
    expect(bad.message).toMatch(/removes an admin by an invalid thumbprint/);
  });

  it('refuses a claim that names one admin twice', async () => {
    const e = refusal(
      await reissueBundle(
        bundle('initialize'),
        admins,
        (p) => (claimOf(p)['admins'] = [b64(alice), b64(bob), b64(alice)]),
      ),
    );
    expect(e.message).toMatch(/^The claim names the admin Alice \(.*\) twice\./);
    expect(e.message).toContain(alice.cert.thumbprint);
  });

  it('refuses a claim whose certificate is damaged', async () => {
    const e = refusal(
      await reissueBundle(
        bundle('initialize'),
        admins,
        (p) => (claimOf(p)['admins'] = [b64(alice), Buffer.from('not a certificate').toString('base64')]),
      ),
    );
    expect(e.message).toMatch(/^The claim: admin certificate 2 is damaged/);
  });

  it.each([
    ['signatureThreshold', 0, /the signature threshold must be a whole number from 1 to 3; got 0\./],
    ['revocationThreshold', 0, /the revocation threshold must be a whole number from 1 to 3; got 0\./],
    ['signatureThreshold', 9, /the signature threshold must be a whole number from 1 to 3; got 9\./],
    [
      'revocationThreshold',
      4,
      /the revocation threshold 4 is above the 3 admins there would be, so no quorum could ever sign again: that is a lock-out, refused\./,
    ],
  ] as const)('refuses a claim with %s %i', async (field, value, re) => {
    const e = refusal(await reissueBundle(bundle('initialize'), admins, (p) => (claimOf(p)[field] = value)));
    expect(e.message).toMatch(/^The claim: /);
    expect(e.message).toMatch(re);
  });

  it('refuses a claim of nine admins (a unit takes at most 8), and a claim of none', async () => {
    const e = refusal(await reissueBundle(bundle('initialize'), admins, (p) => (claimOf(p)['admins'] = nine.map(b64))));
    expect(e.message).toMatch(/^The claim would have 9 admins; a unit takes at most 8/);
    const none = refusal(await reissueBundle(bundle('initialize'), admins, (p) => (claimOf(p)['admins'] = [])));
    expect(none.message).toMatch(/^The claim would leave no admin, so nobody could sign for the units again/);
  });

  it.each([
    ['signatureThreshold', 0, /the signature threshold must be a whole number from 1 to 8; got 0\./],
    ['revocationThreshold', 9, /the revocation threshold must be a whole number from 1 to 8; got 9\./],
    ['signatureThreshold', 2.5, /has no valid signatureThreshold/],
  ] as const)('refuses an admin change setting %s to %s', async (field, value, re) => {
    const e = refusal(
      await reissueBundle(bundle('admin-change'), admins, (p) => (commandsOf(p).at(-1)![field] = value)),
    );
    expect(e.message).toMatch(re);
  });

  it('leaves thresholds above the admin count after an admin change to the unit, which alone knows its admins', async () => {
    // 2 admins remain after the change below on units of 3, but the parser cannot know the units' admins.
    const text = await reissueBundle(bundle('admin-change'), admins, (p) => {
      const set = commandsOf(p).at(-1)!;
      set['signatureThreshold'] = 8;
      set['revocationThreshold'] = 8;
    });
    expect(parseBundle(text).plan).toMatchObject({
      operation: 'admin-change',
      thresholds: { signatureThreshold: 8, revocationThreshold: 8 },
    });
  });
});

describe('signatures', () => {
  it('refuses more than 8 signatures before checking any, and takes 8', async () => {
    const nineSigs = await reissueBundle(bundle('rotate'), nine);
    const e = refusal(nineSigs);
    expect(e.message).toMatch(/^The bundle carries 9 signatures; no unit has more than 8 admins\./);
    expect(parseBundle(await reissueBundle(bundle('rotate'), nine.slice(0, 8))).signatures).toHaveLength(8);
  });
});

describe('every operation buildBundle writes', () => {
  const expected: Record<string, { operation: Operation; commands: string[] }> = {
    initialize: { operation: 'initialize', commands: ['claim', 'load-new', 'commit', 'activate', 'add-user'] },
    recover: { operation: 'recover', commands: ['claim', 'load-new', 'commit', 'activate', 'add-user'] },
    'recover-claimed': { operation: 'recover', commands: ['load-new', 'commit', 'activate', 'add-user'] },
    rotate: { operation: 'rotate', commands: ['load-new', 'commit', 'activate'] },
    'admin-change': { operation: 'admin-change', commands: ['remove-admin', 'add-admin', 'set-thresholds'] },
    zeroize: { operation: 'zeroize', commands: ['zeroize'] },
  };

  it.each(Object.keys(expected))('%s parses back with its plan', (name) => {
    const { jws, payload } = built[name]!;
    const b = parseBundle(serializeBundle(jws));
    expect(b.payload).toEqual(payload);
    expect(b.plan.operation).toBe(expected[name]!.operation);
    expect(b.payload.commands.map((c: BundleCommand) => c.command)).toEqual(expected[name]!.commands);
    expect(b.payload.targets).toEqual(unitIds);
    expect(b.payload.instanceId).toBe(instanceId);
    expect(b.payloadHash).toBe(sha256(jws.payload));
    const load = b.payload.commands.find((c): c is LoadNewCommand => c.command === 'load-new');
    if (load) expect(Object.keys(load.keys).sort()).toEqual([...unitIds].sort());
  });

  it('the plans carry what each operation does', () => {
    const plan = (name: string) => parseBundle(serializeBundle(bundle(name))).plan;
    expect(plan('initialize')).toMatchObject({
      operation: 'initialize',
      claim: { signatureThreshold: 2, revocationThreshold: 3 },
    });
    expect(plan('recover-claimed')).toMatchObject({ operation: 'recover', claim: null });
    expect(plan('rotate')).toMatchObject({
      operation: 'rotate',
      expectedCurrentVerificationPattern: current.verificationPattern,
    });
    expect(plan('admin-change')).toMatchObject({
      operation: 'admin-change',
      remove: [carol.cert.thumbprint],
      thresholds: { signatureThreshold: 2, revocationThreshold: 2 },
    });
    const change = plan('admin-change');
    if (change.operation !== 'admin-change') throw new Error('not an admin change');
    expect(change.add.map((a) => a.name)).toEqual(['Dave']);
    expect(plan('zeroize')).toEqual({ operation: 'zeroize' });
  });
});

describe('what a signer is shown (hole 3)', () => {
  const summary = (name: string) => summarizeBundle(parseBundle(serializeBundle(bundle(name))));

  it('an initialize: operation, instance, targets, KCV, admins installed, thresholds, payload SHA-256', () => {
    const s = summary('initialize');
    const [u1, u2] = unitIds as [string, string];
    expect(s).toMatchObject({
      operation: 'initialize',
      instanceId,
      targets: unitIds,
      kcv: keyCheckValue(key1),
      keyName: 'MK',
      adminsInstalled: admins.map((a) => ({ name: a.cert.name, thumbprint: a.cert.thumbprint })),
      adminsRemoved: [],
      thresholds: { signatureThreshold: 2, revocationThreshold: 3 },
      payloadHash: sha256(bundle('initialize').payload),
      transcriptHash: RECORD_ENTRY,
    });
    const lines = bundleSummaryLines(s);
    expect(lines).toEqual(
      expect.arrayContaining([
        'Operation: initialize',
        'Mode: production (units in rehearsal mode refuse it)',
        `Instance: ${instanceId}`,
        `Targets (2): ${u1}, ${u2}`,
        `Master key: "MK", KCV ${keyCheckValue(key1)}`,
        `Admin installed: Alice (${alice.cert.thumbprint})`,
        `Admin installed: Bob (${bob.cert.thumbprint})`,
        `Admin installed: Carol (${carol.cert.thumbprint})`,
        'Thresholds: signature 2, revocation 3',
        `Payload SHA-256: ${sha256(bundle('initialize').payload)}`,
      ]),
    );
    expect(lines[1]).toMatch(
      /Initialize 2 units: claim them for 3 admins, load, commit and activate master key "MK" \(KCV [0-9A-F]{6}\), add the kmsCryptoUser\./,
    );
  });

  it('a rehearsal bundle says so before anything else about the units (issue 11)', () => {
    const s = summarizeBundle(parseBundle(serializeBundle(build({ operation: 'zeroize', current }, 4, true).jws)));
    expect(s.rehearsal).toBe(true);
    expect(bundleSummaryLines(s)[2]).toBe(
      'Mode: REHEARSAL (only units in rehearsal mode accept it; production units refuse it)',
    );
    expect(summary('zeroize').rehearsal).toBe(false);
  });

  it('the payload SHA-256 is the same before and after signing', async () => {
    const signed = parseBundle(await reissueBundle(bundle('initialize'), admins));
    expect(summarizeBundle(signed).payloadHash).toBe(summary('initialize').payloadHash);
  });

  it('a recover onto claimed units installs nobody and sets no thresholds', () => {
    const s = summary('recover-claimed');
    expect(s).toMatchObject({
      operation: 'recover',
      adminsInstalled: [],
      adminsRemoved: [],
      thresholds: null,
      kcv: keyCheckValue(key1),
    });
    const lines = bundleSummaryLines(s);
    expect(lines.some((l) => l.startsWith('Admin') || l.startsWith('Thresholds'))).toBe(false);
    expect(lines).toContain(`Payload SHA-256: ${sha256(bundle('recover-claimed').payload)}`);
  });

  it('a rotate: the new KCV and the key it replaces', () => {
    const s = summary('rotate');
    expect(s).toMatchObject({
      operation: 'rotate',
      kcv: keyCheckValue(key2),
      verificationPattern: verificationPattern(key2),
      replacesVerificationPattern: current.verificationPattern,
      thresholds: null,
    });
    expect(bundleSummaryLines(s)).toEqual(
      expect.arrayContaining([
        'Operation: rotate',
        `Master key: "MK", KCV ${keyCheckValue(key2)}`,
        `Replaces the current key with verification pattern ${current.verificationPattern}`,
        `Payload SHA-256: ${sha256(bundle('rotate').payload)}`,
      ]),
    );
  });

  it('an admin change: admins added and removed, the new thresholds, the key it acts under', () => {
    const s = summary('admin-change');
    expect(s).toMatchObject({
      operation: 'admin-change',
      kcv: current.kcv,
      adminsInstalled: [{ name: 'Dave', thumbprint: dave.cert.thumbprint }],
      adminsRemoved: [carol.cert.thumbprint],
      thresholds: { signatureThreshold: 2, revocationThreshold: 2 },
      signers: 'the revocation and signature thresholds of the units\u2019 admins',
    });
    expect(bundleSummaryLines(s)).toEqual(
      expect.arrayContaining([
        'Operation: admin-change',
        `Admin installed: Dave (${dave.cert.thumbprint})`,
        `Admin removed: ${carol.cert.thumbprint}`,
        'Thresholds: signature 2, revocation 2',
        `Payload SHA-256: ${sha256(bundle('admin-change').payload)}`,
      ]),
    );
  });

  it('a zeroize says so in capitals, with the key it destroys', () => {
    const s = summary('zeroize');
    expect(s).toMatchObject({
      operation: 'zeroize',
      kcv: current.kcv,
      adminsInstalled: [],
      adminsRemoved: [],
      thresholds: null,
    });
    const lines = bundleSummaryLines(s);
    expect(lines[0]).toBe('Operation: zeroize');
    expect(lines[1]).toMatch(/ZEROIZE 2 units holding master key "MK" \(KCV [0-9A-F]{6}\)/);
    expect(lines).toContain(`Payload SHA-256: ${sha256(bundle('zeroize').payload)}`);
  });
});

describe('one reading of a bundle for every reader', () => {
  it('refuses a payload with a duplicate member or insignificant spaces, which JSON parsers read differently', () => {
    const text = Buffer.from(built['initialize']!.jws.payload, 'base64url').toString('utf8');
    expect(text).toContain('"keyName":"MK"');
    const duplicate = text.replace('"keyName":"MK"', '"keyName":"MK","keyName":"EVIL"');
    const spaced = text.replace('"keyName":"MK"', '"keyName": "MK"');
    for (const t of [duplicate, spaced]) {
      expect(() =>
        parseBundle(serializeBundle({ payload: Buffer.from(t, 'utf8').toString('base64url'), signatures: [] })),
      ).toThrow(/not in the compact form this tool writes/);
    }
  });
});

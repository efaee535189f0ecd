import { readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CeremonyError } from '../../../src/core/errors.js';
import { generateMasterKey } from '../../../src/core/masterkey/masterkey.js';
import { appendAudit } from '../../../src/emulator/audit.js';
import { parseInstanceState } from '../../../src/emulator/schema.js';
import { loadInstance, statePath, type InstanceState } from '../../../src/emulator/state.js';
import { clearedUnit, fakeAdmin, initializedUnit, instance, register, stateDir } from './handmade-state.js';

const PATH = '/media/usb/state/instance.json';
const masterKey = generateMasterKey();

function goodState(): InstanceState {
  const a = initializedUnit(masterKey);
  const b = initializedUnit(masterKey);
  appendAudit(
    a,
    {
      bundleId: 'b1',
      operation: 'initialize',
      payloadHash: 'ab'.repeat(32),
      signers: ['x'.repeat(43)],
      result: 'applied',
      code: null,
      reason: 'ok',
    },
    new Date(),
  );
  a.appliedBundles.push({
    bundleId: '6f1c0a52-0d4e-4f4e-9a5e-2b9d1c3a4b5c',
    payloadHash: 'ab'.repeat(32),
    sequence: 1,
    operation: 'initialize',
    transcriptHash: 'cd'.repeat(32),
    signers: ['x'.repeat(43)],
  });
  const s = instance([a, b]);
  s.keystore = {
    masterKeyVerificationPattern: a.currentMasterKey!.verificationPattern,
    rootKeys: [{ name: 'root-1', created: '2025-01-02T03:04:05.000Z', sealed: a.currentMasterKey!.sealed }],
  };
  return s;
}

/** The state as the tool writes it, edited by `edit` on its parsed JSON. */
// The edits reach into any member of the state as JSON, whatever its type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function edited(edit: (j: any) => void): string {
  const j = JSON.parse(JSON.stringify(goodState()));
  edit(j);
  return JSON.stringify(j, null, 2);
}

function refusal(text: string): CeremonyError {
  try {
    parseInstanceState(text, PATH);
  } catch (e) {
    expect(e).toBeInstanceOf(CeremonyError);
    expect((e as CeremonyError).code).toBe('EmulatorState');
    const m = (e as CeremonyError).message;
    expect(m).toContain(PATH);
    // Never a secret in a message: no PEM, no sealing key.
    expect(m).not.toMatch(/BEGIN|PRIVATE/);
    return e as CeremonyError;
  }
  throw new Error('the damaged state was accepted');
}

const damaged = (text: string, field: string, why: RegExp | string): void => {
  const m = refusal(text).message;
  expect(m).toContain(`${PATH} is damaged or was edited: ${field} `);
  if (typeof why === 'string') expect(m).toContain(why);
  else expect(m).toMatch(why);
};

describe('parseInstanceState: a good state', () => {
  it('returns exactly what was written', () => {
    const s = goodState();
    expect(parseInstanceState(JSON.stringify(s, null, 2), PATH)).toEqual(s);
  });

  it('takes a cleared unit beside an initialized one, 3 units, and no keystore', () => {
    const s = instance([clearedUnit(), initializedUnit(masterKey), clearedUnit()]);
    expect(parseInstanceState(JSON.stringify(s), PATH)).toEqual(s);
  });

  it('is what loadInstance uses', () => {
    const s = goodState();
    const dir = stateDir(s);
    expect(loadInstance(dir)).toEqual(s);
    writeFileSync(
      statePath(dir),
      readFileSync(statePath(dir), 'utf8').replace('"signatureThreshold": 2', '"signatureThreshold": 0'),
    );
    expect(() => loadInstance(dir)).toThrow(
      `${statePath(dir)} is damaged or was edited: units[0].signatureThreshold is 0`,
    );
  });
});

describe('parseInstanceState: a corrupted or edited file is refused in words', () => {
  it('not JSON, empty, truncated: without quoting the text (it holds private keys)', () => {
    const text = JSON.stringify(goodState(), null, 2);
    expect(refusal('this is not json').message).toContain(
      `${PATH} is damaged or was edited: it is not valid JSON (cut short or altered)`,
    );
    expect(refusal('').message).toContain('it is not valid JSON (it is empty)');
    for (const cut of [1, 100, text.indexOf('PRIVATE KEY') + 40, text.length - 1]) {
      const m = refusal(text.slice(0, cut)).message;
      expect(m).toContain('it is not valid JSON');
      if (cut > 20) expect(m).not.toContain(text.slice(cut - 20, cut));
    }
  });

  it('not an object', () => {
    damaged('null', 'the file', 'holds null, not an object');
    damaged('[1,2]', 'the file', 'holds a list');
    damaged('"keyceremony-emulator/2"', 'the file', 'holds a string');
  });

  it('another format', () => {
    expect(refusal(edited((j) => (j.format = 'keyceremony-emulator/1'))).message).toContain(
      'is in the format keyceremony-emulator/1, which this version does not read (it reads keyceremony-emulator/2)',
    );
    damaged(
      edited((j) => (j.format = 'something-else')),
      'format',
      'is not keyceremony-emulator/2',
    );
    damaged(
      edited((j) => delete j.format),
      'format',
      'is not keyceremony-emulator/2',
    );
  });

  it('threshold 0 on a claimed unit', () => {
    damaged(
      edited((j) => {
        j.units[1].state = 'claimed';
        j.units[1].signatureThreshold = 0;
      }),
      'units[1].signatureThreshold',
      'is 0, not a whole number from 1 to 3 (a claimed unit needs at least 1, and at most its 3 admins)',
    );
    damaged(
      edited((j) => (j.units[0].revocationThreshold = 0)),
      'units[0].revocationThreshold',
      'is 0',
    );
  });

  it('a threshold above the number of admins, or above 8', () => {
    damaged(
      edited((j) => (j.units[0].signatureThreshold = 4)),
      'units[0].signatureThreshold',
      'is 4, not a whole number from 1 to 3',
    );
    const nine = Array.from({ length: 9 }, (_, i) => fakeAdmin(`admin ${i}`));
    damaged(
      edited((j) => (j.units[0].admins = nine)),
      'units[0].admins',
      'has 9 entries, not 0 to 8',
    );
    damaged(
      edited((j) => (j.limits.maxAdmins = 2)),
      'units[0].admins',
      'has 3 entries, not 0 to 2',
    );
  });

  it('a cleared unit with admins, thresholds or a key', () => {
    damaged(
      edited((j) => (j.units[0].state = 'cleared')),
      'units[0].admins',
      'lists 3 admins, but a cleared unit has none',
    );
    damaged(
      edited((j) => {
        j.units[0].state = 'cleared';
        j.units[0].admins = [];
      }),
      'units[0].signatureThreshold',
      'is 2, not a whole number from 0 to 0 (a cleared unit has no thresholds)',
    );
    damaged(
      edited((j) => {
        Object.assign(j.units[0], { state: 'cleared', admins: [], signatureThreshold: 0, revocationThreshold: 0 });
      }),
      'units[0].currentMasterKey',
      'holds a key, but a cleared unit holds none',
    );
    damaged(
      edited((j) => (j.units[0].admins = [])),
      'units[0].admins',
      'is empty, but a kms-initialized unit has 1 to 8 admins',
    );
  });

  it('a field removed, anywhere', () => {
    damaged(
      edited((j) => delete j.keystore),
      'the file',
      'has no field keystore',
    );
    damaged(
      edited((j) => delete j.units[1].audit),
      'units[1]',
      'has no field audit',
    );
    damaged(
      edited((j) => delete j.units[0].currentMasterKey.sealed),
      'units[0].currentMasterKey',
      'has no field sealed',
    );
    damaged(
      edited((j) => delete j.units[0].audit[0].prev),
      'units[0].audit[0]',
      'has no field prev',
    );
    damaged(
      edited((j) => delete j.keystore.rootKeys[0].created),
      'keystore.rootKeys[0]',
      'has no field created',
    );
    damaged(
      edited((j) => delete j.limits.profile),
      'limits',
      'has no field profile',
    );
  });

  it('an extra field, anywhere, named safely', () => {
    damaged(
      edited((j) => (j.comment = 'hi')),
      'the file',
      'has a field comment that does not belong there',
    );
    damaged(
      edited((j) => (j.units[0].masterKey = 'aa')),
      'units[0]',
      'has a field masterKey that does not belong there',
    );
    damaged(
      edited((j) => (j.units[1].transport.passphrase = 'x')),
      'units[1].transport',
      'has a field passphrase',
    );
    damaged(
      edited((j) => (j.keystore.rootKeys[0].plain = 'x')),
      'keystore.rootKeys[0]',
      'has a field plain',
    );
    damaged(
      edited((j) => (j.units[0].admins[0]['\u001b[2J' + 'x'.repeat(100)] = 1)),
      'units[0].admins[0]',
      /has a field "\\u001b\[2Jx{36}…" that/,
    );
    // JSON.parse makes "__proto__" an own field: refused like any other.
    damaged(
      edited((j) => Object.defineProperty(j, '__proto__', { value: { polluted: true }, enumerable: true })),
      'the file',
      'has a field "__proto__"',
    );
  });

  it('a string where a number goes, and other wrong types', () => {
    damaged(
      edited((j) => (j.units[0].lastSequence = '1')),
      'units[0].lastSequence',
      'is a string, not a whole number from 0 to',
    );
    damaged(
      edited((j) => (j.units[0].signatureThreshold = '2')),
      'units[0].signatureThreshold',
      'is a string, not a whole number from 1 to 3',
    );
    damaged(
      edited((j) => (j.units[0].lastSequence = 1.5)),
      'units[0].lastSequence',
      'is a number that is not a whole number',
    );
    damaged(
      edited((j) => (j.units[0].maintenance = 'false')),
      'units[0].maintenance',
      'is a string, not true or false',
    );
    damaged(
      edited((j) => (j.units = {})),
      'units',
      'is an object, not a list',
    );
    damaged(
      edited((j) => (j.units[0].currentMasterKey = 'none')),
      'units[0].currentMasterKey',
      'is a string, not an object',
    );
    damaged(
      edited((j) => (j.units[0].audit[0].seq = null)),
      'units[0].audit[0].seq',
      'is null',
    );
  });

  it('the mode (issue 11): required, true or false, nothing else', () => {
    expect(parseInstanceState(JSON.stringify(instance([clearedUnit(), clearedUnit()], true)), PATH).rehearsal).toBe(
      true,
    );
    expect(parseInstanceState(JSON.stringify(goodState()), PATH).rehearsal).toBe(false);
    // A state file from before the mode existed is taken for neither mode.
    damaged(
      edited((j) => delete j.rehearsal),
      'the file',
      'has no field rehearsal',
    );
    for (const [v, kind] of [
      ['true', 'a string'],
      [1, '1'],
      [0, '0'],
      [null, 'null'],
      [[], 'a list'],
      [{}, 'an object'],
    ] as const) {
      damaged(
        edited((j) => (j.rehearsal = v)),
        'rehearsal',
        `is ${kind}, not true or false`,
      );
    }
  });

  it('closed lists: unit states, users, operations, audit results', () => {
    damaged(
      edited((j) => (j.units[0].state = 'initialized')),
      'units[0].state',
      'is not one of cleared, claimed, mk-loaded, mk-committed, kms-initialized',
    );
    damaged(
      edited((j) => (j.units[0].users = ['root'])),
      'units[0].users[0]',
      'is not one of kmsCryptoUser',
    );
    damaged(
      edited((j) => (j.units[0].users = ['kmsCryptoUser', 'kmsCryptoUser'])),
      'units[0].users',
      'has 2 entries',
    );
    damaged(
      edited((j) => (j.units[0].appliedBundles[0].operation = 'claim')),
      'units[0].appliedBundles[0].operation',
      'is not one of initialize, recover',
    );
    damaged(
      edited((j) => (j.units[0].audit[0].result = 'ok')),
      'units[0].audit[0].result',
      'is not one of applied, already-applied, rejected, local',
    );
  });

  it('2 or 3 units, with distinct ids', () => {
    damaged(
      edited((j) => j.units.pop()),
      'units',
      'has 1 entries, not 2 to 3',
    );
    damaged(
      edited((j) => j.units.push(j.units[0], j.units[1])),
      'units',
      'has 4 entries, not 2 to 3',
    );
    damaged(
      edited((j) => (j.units[1].id = j.units[0].id)),
      'units[1].id',
      'repeats the id of another unit',
    );
    damaged(
      edited((j) => (j.units[1].id = 'a/b')),
      'units[1].id',
      'is not a unit id',
    );
  });

  it('registers: KCV, verification pattern, sealed key', () => {
    damaged(
      // Lowercase hex: a fixed value, since lowercasing the random KCV changes nothing when it has no letter (1 in 17).
      edited((j) => (j.units[0].currentMasterKey.kcv = 'abc123')),
      'units[0].currentMasterKey.kcv',
      'is not a KCV (6 uppercase hex digits)',
    );
    damaged(
      edited((j) => (j.units[0].currentMasterKey.kcv = 'ABCDEFA')),
      'units[0].currentMasterKey.kcv',
      'is not a KCV',
    );
    damaged(
      edited((j) => (j.units[1].currentMasterKey.verificationPattern = 'AB'.repeat(32))),
      'units[1].currentMasterKey.verificationPattern',
      'is not 64 lowercase hex digits',
    );
    damaged(
      edited((j) => (j.units[1].currentMasterKey.verificationPattern = 'ab'.repeat(31))),
      'units[1].currentMasterKey.verificationPattern',
      'is not 64 lowercase hex digits',
    );
    damaged(
      edited((j) => (j.units[0].currentMasterKey.sealed = j.units[0].currentMasterKey.sealed.slice(0, 40))),
      'units[0].currentMasterKey.sealed',
      'holds 30 bytes, not 60',
    );
    damaged(
      edited((j) => (j.units[0].currentMasterKey.sealed += '=')),
      'units[0].currentMasterKey.sealed',
      'is not base64url',
    );
    damaged(
      edited((j) => (j.units[0].currentMasterKey.keyName = ' MK')),
      'units[0].currentMasterKey.keyName',
      'is not a key name',
    );
    damaged(
      edited((j) => (j.units[0].currentMasterKey.committed = 1)),
      'units[0].currentMasterKey.committed',
      'is 1, not true or false',
    );
  });

  it('the unit secrets: sealing key and transport keys, never quoted', () => {
    const s = goodState();
    damaged(
      edited((j) => (j.units[0].sealingKey = j.units[0].sealingKey.slice(0, 40))),
      'units[0].sealingKey',
      'holds 30 bytes, not 32',
    );
    const m = refusal(edited((j) => (j.units[0].sealingKey = j.units[0].sealingKey + 'A'))).message;
    expect(m).not.toContain(s.units[0]!.sealingKey);
    damaged(
      edited(
        (j) =>
          (j.units[0].transport.privateKey = j.units[0].transport.privateKey
            .replace(/[A-Za-z]{10}\n/, 'AAAAAAAAAA\n')
            .slice(0, 500)),
      ),
      'units[0].transport.privateKey',
      'is not a PEM private key',
    );
    damaged(
      edited((j) => (j.units[0].transport.fingerprint = 'ab'.repeat(32))),
      'units[0].transport.fingerprint',
      'is not the SHA-256 of the public key',
    );
    const other = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    damaged(
      edited((j) => (j.units[0].transport.privateKey = other)),
      'units[0].transport.privateKey',
      'does not belong to the public key',
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    damaged(
      edited((j) => (j.units[0].transport.publicKey = ec)),
      'units[0].transport.publicKey',
      'is not an RSA key',
    );
  });

  it('the keystore shape', () => {
    damaged(
      edited((j) => (j.keystore = [])),
      'keystore',
      'is a list, not an object',
    );
    damaged(
      edited((j) => (j.keystore.masterKeyVerificationPattern = 'x')),
      'keystore.masterKeyVerificationPattern',
      'is not 64 lowercase hex digits',
    );
    damaged(
      edited((j) => j.keystore.rootKeys.push(j.keystore.rootKeys[0])),
      'keystore.rootKeys[1].name',
      'repeats the root key name root-1',
    );
    damaged(
      edited((j) => (j.keystore.rootKeys[0].name = 'root key')),
      'keystore.rootKeys[0].name',
      'is not a root key name',
    );
    damaged(
      edited((j) => (j.keystore.rootKeys[0].created = 'yesterday')),
      'keystore.rootKeys[0].created',
      'is not a time',
    );
    damaged(
      edited((j) => (j.keystore.rootKeys[0].created = '2025-02-30T00:00:00Z')),
      'keystore.rootKeys[0].created',
      'is not a time',
    );
  });

  it('audit entries within the caps appendAudit keeps', () => {
    damaged(
      edited((j) => (j.units[0].audit[0].signers = Array(9).fill('x'))),
      'units[0].audit[0].signers',
      'has 9 entries, not 0 to 8',
    );
    damaged(
      edited((j) => (j.units[0].audit[0].reason = 'r'.repeat(1001))),
      'units[0].audit[0].reason',
      'is longer than 1000 characters',
    );
    damaged(
      edited((j) => (j.units[0].audit[0].hash = 'zz')),
      'units[0].audit[0].hash',
      'is not 64 lowercase hex digits',
    );
  });

  it('names the first field that fails, in the order the file is written', () => {
    damaged(
      edited((j) => {
        j.units[0].lastSequence = -1;
        j.units[1].state = 'x';
        j.keystore = 1;
      }),
      'units[0].lastSequence',
      'is -1',
    );
    damaged(
      edited((j) => {
        j.instanceId = '';
        j.units = [];
      }),
      'instanceId',
      'is not an instance id',
    );
  });
});

describe('register helper (fixture sanity)', () => {
  it('seals under the unit that holds it', () => {
    const u = initializedUnit(masterKey);
    expect(register(u, masterKey).verificationPattern).toBe(u.currentMasterKey!.verificationPattern);
  });
});

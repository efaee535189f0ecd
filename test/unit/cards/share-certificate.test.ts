// The share certificate (issue 9, "Formats other tools can read"): written
// under an OID every mainstream X.509 parser accepts, still read under the
// first 2.25 OID, and an extension under either OID that is not exactly the
// DER we write is a typed ShareCorrupted error, never a crash.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import {
  buildShareCertificate,
  envelopeFromCertificate,
  KEYSHARE_EXTENSION_OID,
  LEGACY_KEYSHARE_EXTENSION_OID,
} from '../../../src/core/cards/share-certificate.js';
import { CeremonyError, isCeremonyError } from '../../../src/core/errors.js';
import { ecdsaSignDigest } from '../../../src/virtual-card/card-crypto.js';
import { ALG } from '../../../src/virtual-card/state.js';

const asn1 = forge.asn1;
const REQUIRED = process.env['KEYCEREMONY_REQUIRE_PCSC'] === '1';
const dir = mkdtempSync(join(tmpdir(), 'kc-sharecert-'));
const ENVELOPE = JSON.stringify({ format: 'test', note: 'größe ✓' });

/** ECDSA P-256 over a digest as it is, as the card signs (the virtual card's own helper). */
function cardSigner(privateKey: KeyObject): (digest: Buffer) => Promise<Buffer> {
  return async (digest) => Buffer.from(ecdsaSignDigest(ALG.ECCP256, privateKey, digest));
}

/**
 * Builds a share certificate; `mutate` may change the extension list (the
 * keyshare Extension is its last node, forge ASN.1), after which the TBS is
 * signed again with the same key, so only the extension is wrong.
 */
async function certificate(mutate?: (exts: forge.asn1.Asn1[]) => void): Promise<Buffer> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cert = await buildShareCertificate('Custodian Dora', publicKey, ENVELOPE, cardSigner(privateKey));
  if (!mutate) return cert;
  const root = asn1.fromDer(cert.toString('binary'));
  const [tbs, sigAlg] = root.value as forge.asn1.Asn1[];
  const ctx3 = (tbs!.value as forge.asn1.Asn1[]).find(
    (n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 3,
  )!;
  mutate((ctx3.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[]);
  const tbsDer = Buffer.from(asn1.toDer(tbs!).getBytes(), 'binary');
  const signature = await cardSigner(privateKey)(createHash('sha256').update(tbsDer).digest());
  const out = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs!,
    sigAlg!,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + signature.toString('binary')),
  ]);
  return Buffer.from(asn1.toDer(out).getBytes(), 'binary');
}

/** DER contents of an OID with arcs of any size (X.690 §8.19), written independently of the code under test. */
function oidBytes(oid: string): string {
  const arcs = oid.split('.').map(BigInt);
  const subs = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  let out = '';
  for (const sub of subs) {
    const groups: number[] = [];
    let v = sub;
    do {
      groups.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    out += String.fromCharCode(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return out;
}

const extParts = (ext: forge.asn1.Asn1): forge.asn1.Asn1[] => ext.value as forge.asn1.Asn1[];
/** Mutates the keyshare extension, the last of the list. */
const onKeyshare = (change: (ext: forge.asn1.Asn1) => void) => (exts: forge.asn1.Asn1[]) =>
  change(exts[exts.length - 1]!);
const setExtnValue = (raw: string) =>
  onKeyshare((ext) => {
    extParts(ext)[1]!.value = raw;
  });

function expectCorrupted(run: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a ShareCorrupted error').toBeInstanceOf(CeremonyError);
  expect(isCeremonyError(caught, 'ShareCorrupted')).toBe(true);
  expect((caught as Error).message).toMatch(message);
}

describe('share certificate OID', () => {
  it('every arc of the new OID fits the RFC 5280 bound of 2^28 - 1', () => {
    for (const arc of KEYSHARE_EXTENSION_OID.split('.')) expect(Number(arc)).toBeLessThan(2 ** 28);
    // The same UUID as the legacy 2.25 OID, in Microsoft's GUID-based arc (groups 4,4,4,4,4,6,6 hex digits).
    const uuidHex = BigInt(LEGACY_KEYSHARE_EXTENSION_OID.slice('2.25.'.length)).toString(16).padStart(32, '0');
    const groups = [4, 4, 4, 4, 4, 6, 6].reduce<{ at: number; arcs: number[] }>(
      (acc, n) => ({ at: acc.at + n, arcs: [...acc.arcs, parseInt(uuidHex.slice(acc.at, acc.at + n), 16)] }),
      { at: 0, arcs: [] },
    ).arcs;
    expect(KEYSHARE_EXTENSION_OID).toBe(`1.2.840.113556.1.8000.2554.${groups.join('.')}`);
  });

  it('writes the new OID and reads the envelope back', async () => {
    const cert = await certificate();
    expect(cert.includes(Buffer.from(oidBytes(KEYSHARE_EXTENSION_OID), 'binary'))).toBe(true);
    expect(cert.includes(Buffer.from(oidBytes(LEGACY_KEYSHARE_EXTENSION_OID), 'binary'))).toBe(false);
    expect(envelopeFromCertificate(cert)?.json).toBe(ENVELOPE);
  });

  it('still reads shares written under the legacy 2.25 OID', async () => {
    const cert = await certificate(
      onKeyshare((ext) => {
        extParts(ext)[0]!.value = oidBytes(LEGACY_KEYSHARE_EXTENSION_OID);
      }),
    );
    expect(cert.includes(Buffer.from(oidBytes(LEGACY_KEYSHARE_EXTENSION_OID), 'binary'))).toBe(true);
    expect(envelopeFromCertificate(cert)?.json).toBe(ENVELOPE);
  });

  it('a certificate with an unrelated private extension carries no share', async () => {
    const cert = await certificate(
      onKeyshare((ext) => {
        extParts(ext)[0]!.value = oidBytes('1.2.840.113556.1.8000.2554.1.2.3.4.5.6.7');
      }),
    );
    expect(envelopeFromCertificate(cert)).toBeNull();
  });

  it('an altered certificate is ShareAltered', async () => {
    const cert = await certificate();
    const i = cert.indexOf(Buffer.from('Custodian Dora'));
    cert[i] = 'c'.charCodeAt(0);
    expect(() => envelopeFromCertificate(cert)).toThrow(expect.objectContaining({ code: 'ShareAltered' }));
  });
});

describe('a keyshare extension that is not the expected DER is ShareCorrupted, not a crash', () => {
  const cases: Array<[string, (exts: forge.asn1.Asn1[]) => void, RegExp]> = [
    ['an empty extension value', setExtnValue(''), /envelope is truncated/],
    ['a PrintableString instead of UTF8String', setExtnValue('\x13\x02{}'), /not one DER UTF8String/],
    ['a truncated UTF8String', setExtnValue('\x0c\x10{}'), /envelope is truncated/],
    ['trailing bytes after the UTF8String', setExtnValue('\x0c\x02{}\x00'), /not one DER UTF8String/],
    ['an indefinite length', setExtnValue('\x0c\x80{}\x00\x00'), /indefinite length/],
    ['a length not in its shortest form', setExtnValue('\x0c\x81\x02{}'), /shortest form/],
    ['invalid UTF-8', setExtnValue('\x0c\x02\xff\xfe'), /not valid UTF-8/],
    [
      'a critical flag',
      onKeyshare((ext) => {
        extParts(ext).splice(1, 0, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BOOLEAN, false, '\xff'));
      }),
      /critical/,
    ],
  ];
  // (An Extension that is not SEQUENCE { OID, [BOOLEAN], OCTET STRING } at all is refused by
  // Node's X.509 parser first: such a certificate is not ours and carries no share.)
  for (const [what, mutate, message] of cases) {
    it(what, async () => {
      const cert = await certificate(mutate);
      expectCorrupted(() => envelopeFromCertificate(cert), message);
    });
  }

  it('two keyshare extensions (RFC 5280 §4.2 allows one)', async () => {
    const cert = await certificate((exts) => {
      const legacy = asn1.fromDer(asn1.toDer(exts[exts.length - 1]!));
      extParts(legacy)[0]!.value = oidBytes(LEGACY_KEYSHARE_EXTENSION_OID);
      exts.push(legacy);
    });
    expectCorrupted(() => envelopeFromCertificate(cert), /more than one keyshare extension/);
  });
});

// --------------------------------------------------------------- other parsers

/** Debian's python3 (ykman's interpreter), not a pyenv or venv one earlier in PATH. */
const DEBIAN_PYTHON = '/usr/bin/python3';

function debianPythonCryptography(): string | undefined {
  const r = spawnSync(DEBIAN_PYTHON, ['-c', 'import cryptography; print(cryptography.__version__)'], {
    encoding: 'utf8',
  });
  if (r.status === 0) return r.stdout.trim();
  if (REQUIRED)
    throw new Error(
      'KEYCEREMONY_REQUIRE_PCSC=1 but python3-cryptography is not installed (apt-get install python3-cryptography)',
    );
  return undefined;
}
const pyVersion = debianPythonCryptography();
if (!pyVersion)
  console.warn(
    "Skipping the python3-cryptography test: Debian's python3-cryptography is not installed (apt-get install python3-cryptography).",
  );

describe('other X.509 parsers read the share certificate', () => {
  it('openssl x509 -inform DER -text shows the extension under the new OID', async () => {
    const file = join(dir, 'share.der');
    writeFileSync(file, await certificate());
    const text = execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-text', '-in', file], {
      encoding: 'utf8',
    });
    expect(text).toContain(KEYSHARE_EXTENSION_OID);
    expect(text).toContain('Custodian Dora');
  });

  it.skipIf(!pyVersion)('python3-cryptography (Debian) loads it and finds the extension', async () => {
    const file = join(dir, 'share-py.der');
    writeFileSync(file, await certificate());
    const script = [
      'import sys',
      'from cryptography import x509',
      'c = x509.load_der_x509_certificate(open(sys.argv[1], "rb").read())',
      'e = c.extensions.get_extension_for_oid(x509.ObjectIdentifier(sys.argv[2]))',
      'print(c.subject.rfc4514_string(), e.critical, e.value.value.hex(), sep="|")',
    ].join('\n');
    const out = execFileSync(DEBIAN_PYTHON, ['-c', script, file, KEYSHARE_EXTENSION_OID], { encoding: 'utf8' });
    const [subject, critical, valueHex] = out.trim().split('|');
    expect(subject).toBe('CN=Custodian Dora');
    expect(critical).toBe('False');
    expect(Buffer.from(valueHex!, 'hex').subarray(2).toString('utf8')).toBe(ENVELOPE);
  });
});

import { randomUUID } from 'node:crypto';
import { b64url, exactMembers, fromB64url, parseCompactJson, sha256Hex } from '../encoding.js';
import { CeremonyError, missingCase } from '../errors.js';
import { readAdminCertificate, type AdminCertificateInfo, type Rs256Signer } from '../identity/certificate.js';
import { checkKeyName, keyCheckValue, verificationPattern } from '../masterkey/masterkey.js';
import { encryptCompactJwe } from './jwe.js';
import {
  parseProtectedHeader,
  signGeneralJws,
  verifyJwsSignature,
  type GeneralJws,
  type JwsProtectedHeader,
  type JwsSignatureEntry,
} from './jws.js';
import {
  checkThresholds,
  isOperation,
  MAX_ADMINS,
  OPERATIONS,
  planOf,
  type AddUserCommand,
  type BundleCommand,
  type ClaimCommand,
  type CommandName,
  type LoadNewCommand,
  type NamedAdmin,
  type Operation,
  type OperationPlan,
  type Thresholds,
} from './protocol.js';
import { checkTransportModes, checkTransportSet, type TransportKey } from './transport.js';

// The import bundle (DESIGN.md, "Formats"; docs/unit-protocol.md): a General
// JSON JWS whose payload addresses every unit of one service instance and
// carries exactly one operation of the unit protocol (protocol.ts) with its
// fixed command sequence. The master key appears only as one JWE per unit.
//
// Version 3 (issue 11) added `rehearsal`, inside the signed payload so that
// it can be neither stripped nor flipped without breaking every signature:
// a unit refuses a bundle whose mode is not its own. A version 2 bundle says
// nothing about its mode, so no unit may guess one: it is refused, naming
// its version.

export const BUNDLE_FORMAT = 'keyceremony-bundle/3';

export interface BundlePayload {
  format: typeof BUNDLE_FORMAT;
  /** Made in a rehearsal: only units in rehearsal mode accept it; production units accept only `false`. */
  rehearsal: boolean;
  bundleId: string;
  operation: Operation;
  instanceId: string;
  targets: string[];
  sequence: number;
  ceremonyId: string;
  keyName: string;
  /** The key the bundle loads (initialize, recover, rotate) or the units' current key it acts under (admin-change, zeroize). */
  kcv: string;
  verificationPattern: string;
  /** Hash of the ceremony-record entry the bundle was built at: an entry of that record. */
  transcriptHash: string;
  created: string;
  commands: BundleCommand[];
}

/** What the bundle does, by operation: the inputs buildBundle needs beyond the addressing. */
export type BundleSpec =
  | { operation: 'initialize'; masterKey: Uint8Array; claim: ClaimSpec }
  | { operation: 'recover'; masterKey: Uint8Array; claim: ClaimSpec | null }
  | { operation: 'rotate'; masterKey: Uint8Array; currentVerificationPattern: string }
  | {
      operation: 'admin-change';
      current: KeyIdentity;
      add: AdminCertificateInfo[];
      remove: string[];
      thresholds: Thresholds;
    }
  | { operation: 'zeroize'; current: KeyIdentity };

export interface ClaimSpec extends Thresholds {
  admins: AdminCertificateInfo[];
}

export interface KeyIdentity {
  kcv: string;
  verificationPattern: string;
}

export type BuildBundleArgs = BundleSpec & {
  /** Every unit of the instance, each confirmed against its display. */
  transports: TransportKey[];
  /** A rehearsal bundle: every unit must be in rehearsal mode (and a production bundle, in production mode). */
  rehearsal: boolean;
  sequence: number;
  ceremonyId: string;
  keyName: string;
  transcriptHash: string;
  now?: Date;
};

/** Wraps the master key for one unit: JWE RSA-OAEP-256 + A256GCM under its transport key. */
export function wrapMasterKeyForUnit(masterKey: Uint8Array, transport: TransportKey): string {
  return encryptCompactJwe(masterKey, transport.key, {
    alg: 'RSA-OAEP-256',
    enc: 'A256GCM',
    kid: transport.file.fingerprint,
  });
}

function claimCommand(c: ClaimSpec): ClaimCommand {
  checkThresholds(c, c.admins.length, 'The claim');
  if (new Set(c.admins.map((a) => a.thumbprint)).size !== c.admins.length) {
    throw new CeremonyError('InvalidArgument', 'The same admin certificate is given twice (--admin).');
  }
  return {
    command: 'claim',
    admins: c.admins.map((a) => a.der.toString('base64')),
    signatureThreshold: c.signatureThreshold,
    revocationThreshold: c.revocationThreshold,
  };
}

function loadCommand(masterKey: Uint8Array, transports: TransportKey[], expected?: string): LoadNewCommand {
  const keys: Record<string, string> = {};
  for (const t of transports) keys[t.file.unitId] = wrapMasterKeyForUnit(masterKey, t);
  return expected === undefined
    ? { command: 'load-new', keys }
    : { command: 'load-new', keys, expectedCurrentVerificationPattern: expected };
}

function commandsFor(a: BuildBundleArgs): { commands: BundleCommand[]; key: KeyIdentity } {
  const loaded = (k: Uint8Array): KeyIdentity => ({
    kcv: keyCheckValue(k),
    verificationPattern: verificationPattern(k),
  });
  const activate: BundleCommand[] = [{ command: 'commit' }, { command: 'activate' }];
  const addUser: AddUserCommand = { command: 'add-user', type: 'kmsCryptoUser' };
  switch (a.operation) {
    case 'initialize':
      return {
        commands: [claimCommand(a.claim), loadCommand(a.masterKey, a.transports), ...activate, addUser],
        key: loaded(a.masterKey),
      };
    case 'recover':
      return {
        commands: [
          ...(a.claim ? [claimCommand(a.claim)] : []),
          loadCommand(a.masterKey, a.transports),
          ...activate,
          addUser,
        ],
        key: loaded(a.masterKey),
      };
    case 'rotate': {
      const key = loaded(a.masterKey);
      if (key.verificationPattern === a.currentVerificationPattern) {
        throw new CeremonyError(
          'InvalidArgument',
          'The new master key is the current one: a rotation needs a newly generated key.',
        );
      }
      return { commands: [loadCommand(a.masterKey, a.transports, a.currentVerificationPattern), ...activate], key };
    }
    case 'admin-change': {
      if (a.add.length === 0 && a.remove.length === 0 && a.thresholds === undefined)
        throw new CeremonyError('InvalidArgument', 'An admin change adds or removes an admin or sets thresholds.');
      return {
        commands: [
          ...a.remove.map((thumbprint): BundleCommand => ({ command: 'remove-admin', thumbprint })),
          ...a.add.map((c): BundleCommand => ({ command: 'add-admin', certificate: c.der.toString('base64') })),
          {
            command: 'set-thresholds',
            signatureThreshold: a.thresholds.signatureThreshold,
            revocationThreshold: a.thresholds.revocationThreshold,
          },
        ],
        key: a.current,
      };
    }
    case 'zeroize':
      return { commands: [{ command: 'zeroize' }], key: a.current };
    default:
      return missingCase(a);
  }
}

/**
 * Builds an unsigned bundle. The transports must be every unit of one
 * instance (checkTransportSet); the result is parsed back with the same
 * rules a unit applies, so a bundle this tool writes always passes them.
 */
export function buildBundle(a: BuildBundleArgs): { jws: GeneralJws; payload: BundlePayload } {
  const instanceId = checkTransportSet(a.transports);
  checkTransportModes(a.transports, a.rehearsal);
  if (!Number.isSafeInteger(a.sequence) || a.sequence < 1)
    throw new CeremonyError('InvalidArgument', 'The sequence number must be a positive integer.');
  const { commands, key } = commandsFor(a);
  const payload: BundlePayload = {
    format: BUNDLE_FORMAT,
    rehearsal: a.rehearsal,
    bundleId: randomUUID(),
    operation: a.operation,
    instanceId,
    targets: a.transports.map((t) => t.file.unitId),
    sequence: a.sequence,
    ceremonyId: a.ceremonyId,
    keyName: a.keyName,
    kcv: key.kcv,
    verificationPattern: key.verificationPattern,
    transcriptHash: a.transcriptHash,
    created: (a.now ?? new Date()).toISOString(),
    commands,
  };
  const jws: GeneralJws = { payload: b64url(Buffer.from(JSON.stringify(payload), 'utf8')), signatures: [] };
  parseBundle(serializeBundle(jws)); // the unit's structural rules, before anyone signs
  return { jws, payload };
}

export function serializeBundle(jws: GeneralJws): string {
  return JSON.stringify(jws, null, 2) + '\n';
}

/** SHA-256 of the payload bytes: names a bundle independently of how many have signed it. */
export function payloadHash(jws: GeneralJws): string {
  return sha256Hex(fromB64url(jws.payload, 'The bundle payload'));
}

export interface ParsedSignature {
  entry: JwsSignatureEntry;
  header: JwsProtectedHeader;
  thumbprint: string;
}

export interface ParsedBundle {
  jws: GeneralJws;
  payload: BundlePayload;
  /** What the bundle does, its command sequence checked. */
  plan: OperationPlan;
  signatures: ParsedSignature[];
  payloadHash: string;
}

function fail(message: string, details: CeremonyError['details'] = {}): never {
  throw new CeremonyError('BundleMalformed', message, details);
}

/** For refusals whose sentence already tells a person the file was altered or damaged. */
const SAYS_ALTERED = { damageNamed: true } as const;

function exact(o: unknown, keys: string[], what: string): Record<string, unknown> {
  const m = exactMembers(o, keys);
  if ('notObject' in m) fail(`${what} is not a JSON object.`);
  if ('has' in m) fail(`${what} has unexpected or missing fields (${m.has}).`);
  return m.members;
}

const HEX64 = /^[0-9a-f]{64}$/;
const KCV = /^[0-9A-F]{6}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ID = /^[A-Za-z0-9._-]{1,64}$/;

function int(o: Record<string, unknown>, k: string, what: string): number {
  if (!Number.isSafeInteger(o[k])) fail(`${what} has no valid ${k}.`);
  return o[k] as number;
}

function stringList(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.some((a) => typeof a !== 'string')) fail(`${what} is not a list of texts.`);
  return v as string[];
}

function parseCommand(c: unknown, i: number): BundleCommand {
  const what = `Bundle command ${i + 1}`;
  const name = (c as { command?: unknown } | null)?.command;
  switch (name as CommandName) {
    case 'claim': {
      const o = exact(c, ['command', 'admins', 'signatureThreshold', 'revocationThreshold'], what);
      return {
        command: 'claim',
        admins: stringList(o['admins'], `${what} (claim)`),
        signatureThreshold: int(o, 'signatureThreshold', what),
        revocationThreshold: int(o, 'revocationThreshold', what),
      };
    }
    case 'load-new': {
      const expected = (c as Record<string, unknown>)['expectedCurrentVerificationPattern'];
      const o = exact(
        c,
        ['command', 'keys', ...(expected === undefined ? [] : ['expectedCurrentVerificationPattern'])],
        what,
      );
      const keys = exact(o['keys'], Object.keys((o['keys'] as object) ?? {}), `${what} keys`);
      if (Object.entries(keys).some(([k, v]) => !ID.test(k) || typeof v !== 'string'))
        fail(`${what} (load-new) has an invalid key entry.`);
      if (expected !== undefined && typeof expected !== 'string')
        fail(`${what} (load-new) names its current key wrongly.`);
      return expected === undefined
        ? { command: 'load-new', keys: keys as Record<string, string> }
        : {
            command: 'load-new',
            keys: keys as Record<string, string>,
            expectedCurrentVerificationPattern: expected as string,
          };
    }
    case 'commit':
    case 'activate':
    case 'zeroize':
      exact(c, ['command'], what);
      return { command: name as 'commit' | 'activate' | 'zeroize' };
    case 'add-user': {
      const o = exact(c, ['command', 'type'], what);
      if (o['type'] !== 'kmsCryptoUser') fail(`${what} adds a user of an unknown type.`);
      return { command: 'add-user', type: 'kmsCryptoUser' };
    }
    case 'remove-admin': {
      const o = exact(c, ['command', 'thumbprint'], what);
      if (typeof o['thumbprint'] !== 'string') fail(`${what} (remove-admin) names no admin.`);
      return { command: 'remove-admin', thumbprint: o['thumbprint'] };
    }
    case 'add-admin': {
      const o = exact(c, ['command', 'certificate'], what);
      if (typeof o['certificate'] !== 'string') fail(`${what} (add-admin) has no certificate.`);
      return { command: 'add-admin', certificate: o['certificate'] };
    }
    case 'set-thresholds': {
      const o = exact(c, ['command', 'signatureThreshold', 'revocationThreshold'], what);
      return {
        command: 'set-thresholds',
        signatureThreshold: int(o, 'signatureThreshold', what),
        revocationThreshold: int(o, 'revocationThreshold', what),
      };
    }
    default:
      return fail(`${what} is unknown (${JSON.stringify(name)?.slice(0, 40)}).`);
  }
}

const DAMAGED = 'The bundle file is damaged or was altered after it was written; use the original file.';

/**
 * Parses a bundle file strictly: exactly the expected members, canonical
 * base64url everywhere, a well-formed payload. Any flipped byte either
 * fails here or changes signed bytes (and then fails verification).
 */
export function parseBundle(text: string): ParsedBundle {
  try {
    return parseBundleStrict(text);
  } catch (e) {
    // Whatever detail failed, a person needs to hear what it means: this
    // file is not the bundle that was written. A bundle from another
    // version of the tool is the one exception and says so itself.
    if (
      e instanceof CeremonyError &&
      e.code === 'BundleMalformed' &&
      e.details['format'] === undefined &&
      e.details['damageNamed'] !== true
    ) {
      throw new CeremonyError('BundleMalformed', `${e.message} ${DAMAGED}`, e.details);
    }
    throw e;
  }
}

function parseBundleStrict(text: string): ParsedBundle {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    fail('The bundle is not valid JSON: it is damaged or truncated.', SAYS_ALTERED);
  }
  const top = exact(raw, ['payload', 'signatures'], 'The bundle');
  if (typeof top['payload'] !== 'string') fail('The bundle has no payload.');
  if (!Array.isArray(top['signatures'])) fail('The bundle has no signature list.');
  if (top['signatures'].length > MAX_ADMINS)
    fail(`The bundle carries ${top['signatures'].length} signatures; no unit has more than ${MAX_ADMINS} admins.`);
  const payloadBytes = fromB64url(top['payload'], 'The bundle payload');
  // One reading only: no insignificant whitespace and no duplicate members
  // (which parsers resolve differently), so every unit sees what was signed.
  const read = parseCompactJson(payloadBytes);
  if ('fault' in read) {
    fail(
      read.fault === 'not-json'
        ? 'The bundle payload is not valid JSON.'
        : read.fault === 'too-deep'
          ? 'The bundle payload is nested too deeply to be one this tool wrote.'
          : 'The bundle payload is not in the compact form this tool writes (spaces or duplicate members).',
    );
  }
  const p = read.value;
  const format = (p as { format?: unknown } | null)?.format;
  if (format !== BUNDLE_FORMAT) {
    // Only a well-formed other version is reported as such; anything else is damage.
    const otherVersion = typeof format === 'string' && /^keyceremony-bundle\/[0-9]+$/.test(format);
    throw new CeremonyError(
      'BundleMalformed',
      `The bundle payload has format ${String(format).slice(0, 40)}; this tool reads ${BUNDLE_FORMAT}.`,
      otherVersion ? { format } : {},
    );
  }
  const o = exact(
    p,
    [
      'format',
      'rehearsal',
      'bundleId',
      'operation',
      'instanceId',
      'targets',
      'sequence',
      'ceremonyId',
      'keyName',
      'kcv',
      'verificationPattern',
      'transcriptHash',
      'created',
      'commands',
    ],
    'The bundle payload',
  );
  // Required, and nothing but a boolean: a bundle that does not say its mode is no bundle of either mode.
  if (typeof o['rehearsal'] !== 'boolean') fail("The bundle payload's rehearsal mode is not true or false.");
  for (const k of ['bundleId', 'instanceId', 'ceremonyId']) {
    if (typeof o[k] !== 'string' || !ID.test(o[k])) fail(`The bundle payload's ${k} is missing or invalid.`);
  }
  if (typeof o['keyName'] !== 'string') fail('The bundle payload has no key name.');
  try {
    checkKeyName(o['keyName']);
  } catch (e) {
    fail(`The bundle's key name is invalid: ${(e as Error).message}`);
  }
  if (typeof o['created'] !== 'string' || !ISO_TIME.test(o['created']))
    fail("The bundle payload's creation time is invalid.");
  if (!isOperation(o['operation']))
    fail(
      `The bundle's operation ${JSON.stringify(o['operation'])?.slice(0, 40)} is not one of ${OPERATIONS.join(', ')}.`,
    );
  const targets = stringList(o['targets'], "The bundle's target list");
  if (targets.length === 0 || targets.some((t) => !ID.test(t))) fail('The bundle names no valid target units.');
  if (!Number.isSafeInteger(o['sequence']) || (o['sequence'] as number) < 1)
    fail('The bundle sequence number is invalid.');
  if (typeof o['kcv'] !== 'string' || !KCV.test(o['kcv'])) fail('The bundle key check value is invalid.');
  if (typeof o['verificationPattern'] !== 'string' || !HEX64.test(o['verificationPattern']))
    fail('The bundle verification pattern is invalid.');
  if (typeof o['transcriptHash'] !== 'string' || !HEX64.test(o['transcriptHash']))
    fail('The bundle transcript hash is invalid.');
  if (!Array.isArray(o['commands']) || o['commands'].length === 0) fail('The bundle has no commands.');
  const commands = o['commands'].map(parseCommand);
  const payload = { ...o, commands } as unknown as BundlePayload;
  // The operation's command sequence is checked before any signature is looked at.
  const plan = planOf(payload.operation, commands, targets);
  const signatures = (top['signatures'] as unknown[]).map((s, i) => {
    const entry = exact(s, ['protected', 'signature'], `Signature ${i + 1}`) as unknown as JwsSignatureEntry;
    if (typeof entry.protected !== 'string' || typeof entry.signature !== 'string')
      fail(`Signature ${i + 1} is malformed.`);
    fromB64url(entry.signature, `Signature ${i + 1}`);
    const header = parseProtectedHeader(entry.protected, `Signature ${i + 1}`);
    return { entry, header, thumbprint: header['x5t#S256'] };
  });
  // Rebuilt member by member, so that the comparison below also fixes the order of each signature's members.
  const jws: GeneralJws = {
    payload: top['payload'] as string,
    signatures: signatures.map((s) => ({ protected: s.entry.protected, signature: s.entry.signature })),
  };
  // The file must be exactly the canonical serialisation of its content:
  // then no byte of it can change unnoticed, not even whitespace outside
  // the signed parts, and duplicate JSON members cannot hide.
  if (text !== serializeBundle(jws)) {
    fail('The bundle file has been modified: it is not byte for byte the form this tool writes.', SAYS_ALTERED);
  }
  return { jws, payload, plan, signatures, payloadHash: sha256Hex(payloadBytes) };
}

/** The certificate a signature carries in x5c, checked against its thumbprint. */
export function embeddedSigner(sig: ParsedSignature, what: string): AdminCertificateInfo {
  const der = Buffer.from(sig.header.x5c[0]!, 'base64');
  if (der.toString('base64') !== sig.header.x5c[0]) fail(`${what} carries a certificate that is not canonical base64.`);
  let cert: AdminCertificateInfo;
  try {
    cert = readAdminCertificate(der, 'its certificate');
  } catch (e) {
    fail(
      `${what} carries a damaged certificate (${(e as Error).message.replace(/\.$/, '')}): the bundle was altered.`,
      SAYS_ALTERED,
    );
  }
  if (cert.thumbprint !== sig.thumbprint) fail(`${what}: its certificate does not match its thumbprint.`);
  return cert;
}

export interface SignatureCheck {
  index: number;
  thumbprint: string;
  name: string;
  valid: boolean;
}

/**
 * Checks every signature against the certificate it carries. This proves
 * the bundle is intact and who signed it; whether those signers are the
 * units' admins is for each unit to decide.
 */
export function checkEmbeddedSignatures(b: ParsedBundle): SignatureCheck[] {
  return b.signatures.map((s, i) => {
    const cert = embeddedSigner(s, `Signature ${i + 1}`);
    return {
      index: i + 1,
      thumbprint: s.thumbprint,
      name: cert.name,
      valid: verifyJwsSignature(b.jws.payload, s.entry, s.header, cert.publicKey),
    };
  });
}

/** The admins a bundle installs by a claim, or null when it claims nothing. */
export function claimedAdmins(plan: OperationPlan): NamedAdmin[] | null {
  return (plan.operation === 'initialize' || plan.operation === 'recover') && plan.claim ? plan.claim.admins : null;
}

/** Adds one admin's signature; refuses a second signature by the same admin. */
export async function addBundleSignature(
  b: ParsedBundle,
  signer: AdminCertificateInfo,
  sign: Rs256Signer,
): Promise<GeneralJws> {
  if (b.signatures.some((s) => s.thumbprint === signer.thumbprint)) {
    throw new CeremonyError('BundleAlreadySigned', `${signer.name} has already signed this bundle.`, {
      thumbprint: signer.thumbprint,
    });
  }
  const claimed = claimedAdmins(b.plan);
  if (claimed && !claimed.some((a) => a.thumbprint === signer.thumbprint)) {
    throw new CeremonyError(
      'UnknownSigner',
      `${signer.name} is not one of the admins this bundle installs, so their signature would be refused.`,
      { thumbprint: signer.thumbprint },
    );
  }
  const entry = await signGeneralJws(b.jws, signer, sign);
  return { payload: b.jws.payload, signatures: [...b.jws.signatures, entry] };
}

/**
 * What a person is asked to sign, in words: the one summary that `bundle
 * sign`, `bundle verify` and the app's signing turn show, built from the
 * checked plan so that nothing the units would do is left out.
 */
export interface BundleSummary {
  operation: Operation;
  /** A rehearsal bundle: only units in rehearsal mode accept it. */
  rehearsal: boolean;
  /** One sentence: what the units will do. */
  action: string;
  instanceId: string;
  targets: string[];
  sequence: number;
  keyName: string;
  kcv: string;
  verificationPattern: string;
  /** rotate: the verification pattern of the key it replaces. */
  replacesVerificationPattern: string | null;
  adminsInstalled: Array<{ name: string; thumbprint: string }>;
  adminsRemoved: string[];
  thresholds: Thresholds | null;
  /** Who must sign, in words. */
  signers: string;
  ceremonyId: string;
  transcriptHash: string;
  payloadHash: string;
}

export function summarizeBundle(b: ParsedBundle): BundleSummary {
  const p = b.payload;
  const plan = b.plan;
  const key = `master key "${p.keyName}" (KCV ${p.kcv})`;
  const units = `${p.targets.length} unit${p.targets.length === 1 ? '' : 's'}`;
  const base = {
    operation: p.operation,
    rehearsal: p.rehearsal,
    instanceId: p.instanceId,
    targets: p.targets,
    sequence: p.sequence,
    keyName: p.keyName,
    kcv: p.kcv,
    verificationPattern: p.verificationPattern,
    ceremonyId: p.ceremonyId,
    transcriptHash: p.transcriptHash,
    payloadHash: b.payloadHash,
    replacesVerificationPattern: null,
    adminsRemoved: [],
    adminsInstalled: [],
    thresholds: null,
  };
  const admins = (list: NamedAdmin[]): Array<{ name: string; thumbprint: string }> =>
    list.map((a) => ({ name: a.name, thumbprint: a.thumbprint }));
  switch (plan.operation) {
    case 'initialize':
    case 'recover':
      if (plan.claim) {
        return {
          ...base,
          action: `${plan.operation === 'initialize' ? 'Initialize' : 'Recover onto'} ${units}: claim them for ${plan.claim.admins.length} admins, load, commit and activate ${key}, add the kmsCryptoUser.`,
          adminsInstalled: admins(plan.claim.admins),
          thresholds: {
            signatureThreshold: plan.claim.signatureThreshold,
            revocationThreshold: plan.claim.revocationThreshold,
          },
          signers: `every admin the claim installs (${plan.claim.admins.length})`,
        };
      }
      return {
        ...base,
        action: `Recover onto ${units} already claimed and holding no key: load, commit and activate ${key}, add the kmsCryptoUser.`,
        signers: 'the signature threshold of the units\u2019 admins',
      };
    case 'rotate':
      return {
        ...base,
        action: `Rotate ${units} to new ${key}, replacing the current key ${plan.expectedCurrentVerificationPattern.slice(0, 16)}\u2026 (which becomes the old key).`,
        replacesVerificationPattern: plan.expectedCurrentVerificationPattern,
        signers: 'the signature threshold of the units\u2019 admins',
      };
    case 'admin-change':
      return {
        ...base,
        action: `Change the admins of ${units} holding ${key}: remove ${plan.remove.length}, add ${plan.add.length}, then signature threshold ${plan.thresholds.signatureThreshold} and revocation threshold ${plan.thresholds.revocationThreshold}.`,
        adminsInstalled: admins(plan.add),
        adminsRemoved: plan.remove,
        thresholds: plan.thresholds,
        signers:
          plan.remove.length > 0
            ? 'the revocation and signature thresholds of the units\u2019 admins'
            : 'the signature threshold of the units\u2019 admins',
      };
    case 'zeroize':
      return {
        ...base,
        action: `ZEROIZE ${units} holding ${key}: every key, admin and user is destroyed; the units return to cleared.`,
        signers: 'the signature threshold of the units\u2019 admins',
      };
    default:
      return missingCase(plan);
  }
}

/** The summary as the lines a terminal or a printed page shows. */
export function bundleSummaryLines(s: BundleSummary): string[] {
  const lines = [
    `Operation: ${s.operation}`,
    `  ${s.action}`,
    s.rehearsal
      ? 'Mode: REHEARSAL (only units in rehearsal mode accept it; production units refuse it)'
      : 'Mode: production (units in rehearsal mode refuse it)',
    `Instance: ${s.instanceId}`,
    `Targets (${s.targets.length}): ${s.targets.join(', ')}`,
    `Master key: "${s.keyName}", KCV ${s.kcv}`,
  ];
  if (s.replacesVerificationPattern)
    lines.push(`Replaces the current key with verification pattern ${s.replacesVerificationPattern}`);
  for (const a of s.adminsInstalled) lines.push(`Admin installed: ${a.name} (${a.thumbprint})`);
  for (const t of s.adminsRemoved) lines.push(`Admin removed: ${t}`);
  if (s.thresholds)
    lines.push(
      `Thresholds: signature ${s.thresholds.signatureThreshold}, revocation ${s.thresholds.revocationThreshold}`,
    );
  lines.push(
    `Sequence: ${s.sequence}; signed by: ${s.signers}`,
    `Ceremony ${s.ceremonyId}; record entry ${s.transcriptHash}`,
    `Payload SHA-256: ${s.payloadHash}`,
  );
  return lines;
}

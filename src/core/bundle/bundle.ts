import { randomUUID } from 'node:crypto';
import { b64url, fromB64url, sha256Hex } from '../encoding.js';
import { CeremonyError } from '../errors.js';
import { readAdminCertificate, type AdminCertificateInfo, type Rs256Signer } from '../identity/certificate.js';
import { keyCheckValue, verificationPattern } from '../masterkey/masterkey.js';
import { encryptCompactJwe } from './jwe.js';
import {
  parseProtectedHeader,
  signGeneralJws,
  verifyJwsSignature,
  type GeneralJws,
  type JwsProtectedHeader,
  type JwsSignatureEntry,
} from './jws.js';
import type { TransportKey } from './transport.js';

// The import bundle (DESIGN.md, "Formats"; issue 2): a General JSON JWS
// whose payload addresses a set of crypto units and carries the commands
// of the Key Protect initialization (seed document): claim the units with
// the admin certificates, load and commit the master key, add the
// kmsCryptoUser. The master key appears only as one JWE per unit.

export const BUNDLE_FORMAT = 'keyceremony-bundle/1';

export interface ClaimCommand {
  command: 'claim';
  /** Admin certificates, base64 DER. */
  admins: string[];
  signatureThreshold: number;
}
export interface LoadMasterKeyCommand {
  command: 'load-master-key';
  /** unit id -> compact JWE of the 32-byte master key under that unit's transport key. */
  keys: Record<string, string>;
}
export interface CommitMasterKeyCommand {
  command: 'commit-master-key';
}
export interface AddUserCommand {
  command: 'add-user';
  type: 'kmsCryptoUser';
}
export type BundleCommand = ClaimCommand | LoadMasterKeyCommand | CommitMasterKeyCommand | AddUserCommand;

export interface BundlePayload {
  format: typeof BUNDLE_FORMAT;
  bundleId: string;
  instanceId: string;
  targets: string[];
  sequence: number;
  ceremonyId: string;
  keyName: string;
  kcv: string;
  verificationPattern: string;
  transcriptHash: string;
  created: string;
  commands: BundleCommand[];
}

export const MAX_ADMINS = 20;

export interface BuildBundleArgs {
  /** The master key: key material, only read here; the caller zeroes it. */
  masterKey: Uint8Array;
  transports: TransportKey[];
  sequence: number;
  ceremonyId: string;
  keyName: string;
  transcriptHash: string;
  /** Present for a bundle that claims cleared units. */
  claim?: { admins: AdminCertificateInfo[]; signatureThreshold: number };
  now?: Date;
}

/** Wraps the master key for one unit: JWE RSA-OAEP-256 + A256GCM under its transport key. */
export function wrapMasterKeyForUnit(masterKey: Uint8Array, transport: TransportKey): string {
  return encryptCompactJwe(masterKey, transport.key, { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: transport.file.fingerprint });
}

export function checkSignatureThreshold(threshold: number, admins: number): void {
  if (admins < 1 || admins > MAX_ADMINS) {
    throw new CeremonyError('InvalidArgument', `A claim installs 1 to ${MAX_ADMINS} admins; got ${admins}.`);
  }
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > admins) {
    throw new CeremonyError('InvalidArgument', `The signature threshold must be a whole number from 1 to the number of admins (${admins}); got ${threshold}.`);
  }
}

export function buildBundle(a: BuildBundleArgs): { jws: GeneralJws; payload: BundlePayload } {
  if (a.transports.length === 0) throw new CeremonyError('InvalidArgument', 'A bundle needs at least one target unit (--transport).');
  const instanceIds = new Set(a.transports.map((t) => t.file.instanceId));
  if (instanceIds.size !== 1) throw new CeremonyError('InvalidArgument', 'The transport files come from different service instances.');
  const targets = a.transports.map((t) => t.file.unitId);
  if (new Set(targets).size !== targets.length) throw new CeremonyError('InvalidArgument', 'The same unit is given twice (--transport).');
  if (!Number.isSafeInteger(a.sequence) || a.sequence < 1) throw new CeremonyError('InvalidArgument', 'The sequence number must be a positive integer.');
  const commands: BundleCommand[] = [];
  if (a.claim) {
    checkSignatureThreshold(a.claim.signatureThreshold, a.claim.admins.length);
    const thumbs = new Set(a.claim.admins.map((c) => c.thumbprint));
    if (thumbs.size !== a.claim.admins.length) throw new CeremonyError('InvalidArgument', 'The same admin certificate is given twice (--admin).');
    commands.push({ command: 'claim', admins: a.claim.admins.map((c) => c.der.toString('base64')), signatureThreshold: a.claim.signatureThreshold });
  }
  const keys: Record<string, string> = {};
  for (const t of a.transports) keys[t.file.unitId] = wrapMasterKeyForUnit(a.masterKey, t);
  commands.push({ command: 'load-master-key', keys }, { command: 'commit-master-key' }, { command: 'add-user', type: 'kmsCryptoUser' });
  const payload: BundlePayload = {
    format: BUNDLE_FORMAT,
    bundleId: randomUUID(),
    instanceId: [...instanceIds][0]!,
    targets,
    sequence: a.sequence,
    ceremonyId: a.ceremonyId,
    keyName: a.keyName,
    kcv: keyCheckValue(a.masterKey),
    verificationPattern: verificationPattern(a.masterKey),
    transcriptHash: a.transcriptHash,
    created: (a.now ?? new Date()).toISOString(),
    commands,
  };
  return { jws: { payload: b64url(Buffer.from(JSON.stringify(payload), 'utf8')), signatures: [] }, payload };
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
  signatures: ParsedSignature[];
  payloadHash: string;
}

function fail(message: string): never {
  throw new CeremonyError('BundleMalformed', message);
}

function exact(o: unknown, keys: string[], what: string): Record<string, unknown> {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) fail(`${what} is not a JSON object.`);
  const got = Object.keys(o).sort().join(',');
  if (got !== [...keys].sort().join(',')) fail(`${what} has unexpected or missing fields (${got}).`);
  return o as Record<string, unknown>;
}

const HEX64 = /^[0-9a-f]{64}$/;

function parseCommand(c: unknown, i: number): BundleCommand {
  const what = `Bundle command ${i + 1}`;
  const name = (c as { command?: unknown })?.command;
  switch (name) {
    case 'claim': {
      const o = exact(c, ['command', 'admins', 'signatureThreshold'], what);
      if (!Array.isArray(o['admins']) || o['admins'].some((a) => typeof a !== 'string')) fail(`${what} (claim) has no admin list.`);
      if (!Number.isInteger(o['signatureThreshold'])) fail(`${what} (claim) has no signature threshold.`);
      return o as unknown as ClaimCommand;
    }
    case 'load-master-key': {
      const o = exact(c, ['command', 'keys'], what);
      const keys = exact(o['keys'], Object.keys((o['keys'] as object) ?? {}), `${what} keys`);
      if (Object.values(keys).some((v) => typeof v !== 'string')) fail(`${what} (load-master-key) has an invalid key entry.`);
      return o as unknown as LoadMasterKeyCommand;
    }
    case 'commit-master-key':
      return exact(c, ['command'], what) as unknown as CommitMasterKeyCommand;
    case 'add-user': {
      const o = exact(c, ['command', 'type'], what);
      if (o['type'] !== 'kmsCryptoUser') fail(`${what} adds a user of an unknown type.`);
      return o as unknown as AddUserCommand;
    }
    default:
      return fail(`${what} is unknown (${JSON.stringify(name)}).`);
  }
}

const ALTERED = /damaged|altered|modified/;
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
    if (e instanceof CeremonyError && e.code === 'BundleMalformed' && e.details['format'] === undefined && !ALTERED.test(e.message)) {
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
    fail('The bundle is not valid JSON: it is damaged or truncated.');
  }
  const top = exact(raw, ['payload', 'signatures'], 'The bundle');
  if (typeof top['payload'] !== 'string') fail('The bundle has no payload.');
  if (!Array.isArray(top['signatures'])) fail('The bundle has no signature list.');
  const payloadBytes = fromB64url(top['payload'], 'The bundle payload');
  let p: unknown;
  try {
    p = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payloadBytes));
  } catch {
    fail('The bundle payload is not valid JSON.');
  }
  const o = exact(
    p,
    ['format', 'bundleId', 'instanceId', 'targets', 'sequence', 'ceremonyId', 'keyName', 'kcv', 'verificationPattern', 'transcriptHash', 'created', 'commands'],
    'The bundle payload',
  );
  if (o['format'] !== BUNDLE_FORMAT) {
    const format = String(o['format']);
    // Only a well-formed other version is reported as such; anything else is damage.
    const otherVersion = /^keyceremony-bundle\/[0-9]+$/.test(format);
    throw new CeremonyError('BundleMalformed', `The bundle payload has format ${format}; this tool reads ${BUNDLE_FORMAT}.`, otherVersion ? { format } : {});
  }
  for (const k of ['bundleId', 'instanceId', 'ceremonyId', 'keyName', 'kcv', 'created']) {
    if (typeof o[k] !== 'string') fail(`The bundle payload's ${k} is missing.`);
  }
  if (!Array.isArray(o['targets']) || o['targets'].length === 0 || o['targets'].some((t) => typeof t !== 'string')) fail('The bundle names no target units.');
  if (!Number.isSafeInteger(o['sequence']) || (o['sequence'] as number) < 1) fail('The bundle sequence number is invalid.');
  if (typeof o['verificationPattern'] !== 'string' || !HEX64.test(o['verificationPattern'])) fail('The bundle verification pattern is invalid.');
  if (typeof o['transcriptHash'] !== 'string' || !HEX64.test(o['transcriptHash'])) fail('The bundle transcript hash is invalid.');
  if (!Array.isArray(o['commands']) || o['commands'].length === 0) fail('The bundle has no commands.');
  const commands = o['commands'].map(parseCommand);
  const payload = { ...o, commands } as unknown as BundlePayload;
  const signatures = (top['signatures'] as unknown[]).map((s, i) => {
    const entry = exact(s, ['protected', 'signature'], `Signature ${i + 1}`) as unknown as JwsSignatureEntry;
    if (typeof entry.protected !== 'string' || typeof entry.signature !== 'string') fail(`Signature ${i + 1} is malformed.`);
    fromB64url(entry.signature, `Signature ${i + 1}`);
    const header = parseProtectedHeader(entry.protected, `Signature ${i + 1}`);
    return { entry, header, thumbprint: header['x5t#S256'] };
  });
  const jws: GeneralJws = { payload: top['payload'] as string, signatures: signatures.map((s) => s.entry) };
  // The file must be exactly the canonical serialisation of its content:
  // then no byte of it can change unnoticed, not even whitespace outside
  // the signed parts, and duplicate JSON members cannot hide.
  if (text !== serializeBundle(jws)) {
    fail('The bundle file has been modified: it is not byte for byte the form this tool writes.');
  }
  return { jws, payload, signatures, payloadHash: sha256Hex(payloadBytes) };
}

export function claimOf(payload: BundlePayload): ClaimCommand | undefined {
  return payload.commands.find((c): c is ClaimCommand => c.command === 'claim');
}

/** The certificate a signature carries in x5c, checked against its thumbprint. */
export function embeddedSigner(sig: ParsedSignature, what: string): AdminCertificateInfo {
  const der = Buffer.from(sig.header.x5c[0]!, 'base64');
  if (der.toString('base64') !== sig.header.x5c[0]) fail(`${what} carries a certificate that is not canonical base64.`);
  let cert: AdminCertificateInfo;
  try {
    cert = readAdminCertificate(der, 'its certificate');
  } catch (e) {
    fail(`${what} carries a damaged certificate (${(e as Error).message.replace(/\.$/, '')}): the bundle was altered.`);
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
    return { index: i + 1, thumbprint: s.thumbprint, name: cert.name, valid: verifyJwsSignature(b.jws.payload, s.entry, s.header, cert.publicKey) };
  });
}

/** Adds one admin's signature; refuses a second signature by the same admin. */
export async function addBundleSignature(b: ParsedBundle, signer: AdminCertificateInfo, sign: Rs256Signer): Promise<GeneralJws> {
  if (b.signatures.some((s) => s.thumbprint === signer.thumbprint)) {
    throw new CeremonyError('BundleAlreadySigned', `${signer.name} has already signed this bundle.`, { thumbprint: signer.thumbprint });
  }
  const claim = claimOf(b.payload);
  if (claim) {
    const admins = claim.admins.map((a) => readAdminCertificate(Buffer.from(a, 'base64')).thumbprint);
    if (!admins.includes(signer.thumbprint)) {
      throw new CeremonyError('UnknownSigner', `${signer.name} is not one of the admins this bundle installs, so their signature would be refused.`, { thumbprint: signer.thumbprint });
    }
  }
  const entry = await signGeneralJws(b.jws, signer, sign);
  return { payload: b.jws.payload, signatures: [...b.jws.signatures, entry] };
}

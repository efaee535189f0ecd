// The fuzz targets: for each parser of untrusted input, how a case is made
// from the seed corpus (generate) and what it runs (run). A target's run
// resolves when the input is accepted and throws when it is refused; the
// engine (engine.ts) judges what was thrown: a CeremonyError is a refusal,
// anything else a finding. Targets with an oracle of their own (the IPC
// requests) throw a Finding when it is violated.
import {
  checkEmbeddedSignatures,
  bundleSummaryLines,
  parseBundle,
  summarizeBundle,
} from '../../src/core/bundle/bundle.js';
import { parseTransportFile } from '../../src/core/bundle/transport.js';
import { PivSession } from '../../src/core/cards/piv.js';
import type { CardConnection } from '../../src/core/cards/transport.js';
import type { CeremonySession } from '../../src/core/ceremony/session.js';
import { ceremoniesOf, summarize } from '../../src/core/ceremony/record.js';
import { parseTranscript } from '../../src/core/ceremony/transcript.js';
import { b64url, canonicalJson, findPemBlock, sha256Hex, toPem } from '../../src/core/encoding.js';
import { identityCertificate, unlockFileIdentity } from '../../src/core/identity/identity.js';
import { checkPkcs8Protection } from '../../src/core/identity/pkcs8.js';
import {
  envelopeDigest,
  openShareWithPassphrase,
  parseEnvelope,
  type KeyshareEnvelope,
} from '../../src/core/shares/envelope.js';
import { parseKeystoreFile, parseWrappedDek } from '../../src/emulator/kms.js';
import { parseInstanceState } from '../../src/emulator/schema.js';
import { CeremonyError } from '../../src/core/errors.js';
import type { RecoverySession } from '../../src/core/ceremony/recovery-session.js';
import type { UnitsBundleSession } from '../../src/core/ceremony/units-bundle-session.js';
import type { UnitsReportSession } from '../../src/core/ceremony/units-report-session.js';
import type { RotationSession } from '../../src/core/ceremony/rotation-session.js';
import { createHandlers } from '../../src/main/handlers.js';
import { IpcChannel } from '../../src/shared/ipc.js';
import type { Corpus, CardScript } from './corpus.js';
import { mutateBytes, mutateJson, mutateText, Raw, writeJson } from './mutate.js';
import type { Rng } from './prng.js';

/** An oracle of the target's own was violated (not a refusal). */
export class Finding extends Error {
  override readonly name = 'Finding';
}

/** What a case ran: `accepted`, or refused with `code` without throwing (IPC answers). */
export type RunResult = { accepted: true; note?: string } | { accepted: false; code: string };

export interface Target<I = unknown> {
  readonly name: string;
  readonly description: string;
  /** Share of the default case budget. */
  readonly weight: number;
  generate(rng: Rng): I;
  run(input: I, rng: Rng): Promise<RunResult>;
  /** The input as bytes for test-results/fuzz/. */
  save(input: I): string;
}

/** Caps on the expensive steps per run (scrypt ~50-100 ms, PBKDF2 ~50-300 ms), shared across cases. */
export interface Budget {
  shareOpens: number;
  identityUnlocks: number;
}

const ACCEPTED: RunResult = { accepted: true };

function jsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Byte mutations (30%), or structure-aware JSON mutations written the way the seed is written (pretty, 2 spaces). */
function mutateJsonFile(rng: Rng, seeds: readonly string[], byteShare = 0.3): string {
  const seed = rng.pick(seeds);
  if (rng.chance(byteShare)) return mutateText(rng, seed, seeds);
  return writeJson(mutateJson(rng, JSON.parse(seed), 2), 2) + '\n';
}

// ---------------------------------------------------------------------------
// Bundles

function bundleTarget(c: Corpus): Target<string> {
  const seeds = Object.values(c.bundles);
  const file = (o: unknown): string => writeJson(o, 2) + '\n';
  type Jws = { payload: string; signatures: Array<{ protected: string; signature: string }> };
  return {
    name: 'bundle',
    description: 'parseBundle + checkEmbeddedSignatures + summarizeBundle',
    weight: 16,
    generate(rng) {
      const seed = rng.pick(seeds);
      const jws = JSON.parse(seed) as Jws;
      const r = rng.int(100);
      if (r < 25) return mutateText(rng, seed, seeds);
      if (r < 35) return file(mutateJson(rng, jws, 2));
      if (r < 65) {
        // the payload: decoded, mutated as JSON, written compact, encoded again
        const p = JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as unknown;
        return file({ ...jws, payload: b64url(Buffer.from(writeJson(mutateJson(rng, p, undefined)), 'utf8')) });
      }
      if (r < 70) {
        const p = Buffer.from(jws.payload, 'base64url');
        return file({
          ...jws,
          payload: b64url(
            mutateBytes(
              rng,
              p,
              seeds.map((s) => Buffer.from((JSON.parse(s) as Jws).payload, 'base64url')),
            ),
          ),
        });
      }
      if (jws.signatures.length === 0) return mutateText(rng, seed, seeds);
      const i = rng.int(jws.signatures.length);
      const sig = jws.signatures[i]!;
      const header = JSON.parse(Buffer.from(sig.protected, 'base64url').toString('utf8')) as { x5c: string[] };
      if (r < 80) {
        sig.protected = b64url(Buffer.from(writeJson(mutateJson(rng, header, undefined)), 'utf8'));
      } else if (r < 92) {
        // the certificate a signature carries: its DER mutated (a damaged certificate inside a well-formed bundle)
        header.x5c[0] = mutateBytes(rng, Buffer.from(header.x5c[0]!, 'base64')).toString('base64');
        sig.protected = b64url(Buffer.from(JSON.stringify(header), 'utf8'));
      } else if (r < 96) {
        sig.signature = b64url(mutateBytes(rng, Buffer.from(sig.signature, 'base64url')));
      } else {
        // signatures repeated, or taken from another bundle
        const other = JSON.parse(rng.pick(seeds)) as Jws;
        if (rng.chance(0.5) && other.signatures.length > 0) jws.signatures.push(rng.pick(other.signatures));
        else jws.signatures.push(...Array.from({ length: rng.size(12) }, () => sig));
      }
      return file(jws);
    },
    async run(text) {
      const b = parseBundle(text);
      checkEmbeddedSignatures(b);
      bundleSummaryLines(summarizeBundle(b));
      return ACCEPTED;
    },
    save: (t) => t,
  };
}

// ---------------------------------------------------------------------------
// Share files

function shareTarget(c: Corpus, budget: Budget): Target<string> {
  const seeds = [...c.shares, ...c.cardShares];
  const passphrase = Buffer.from(c.passphrase, 'utf8');
  return {
    name: 'share',
    description: 'parseEnvelope + openShareWithPassphrase (right passphrase)',
    weight: 12,
    generate(rng) {
      const seed = rng.pick(seeds);
      const r = rng.int(100);
      if (r < 30) return mutateText(rng, seed, seeds);
      const mutated = mutateJson(rng, JSON.parse(seed), 2);
      if (
        r < 80 &&
        mutated !== null &&
        typeof mutated === 'object' &&
        !Array.isArray(mutated) &&
        !(mutated instanceof Raw)
      ) {
        // the digest recomputed over the mutated content: a forged file, not a damaged one
        const parsed = jsonOrNull(writeJson(mutated, 2));
        try {
          if (parsed !== null && typeof parsed === 'object')
            Object.defineProperty(mutated, 'digest', {
              value: envelopeDigest(parsed as KeyshareEnvelope),
              enumerable: true,
              writable: true,
              configurable: true,
            });
        } catch {
          // canonical JSON cannot hold it: the old digest stays
        }
        if (r >= 70) delete (mutated as Record<string, unknown>)['digest']; // a file from before the digest
      }
      return writeJson(mutated, 2) + '\n';
    },
    async run(text, rng) {
      const e = parseEnvelope(text, 'The share file');
      // Opening costs a scrypt: only some of the mutants that parse, and a few per run.
      if (e.protection.scheme === 'scrypt-a256gcm' && rng.chance(0.25) && budget.shareOpens > 0) {
        budget.shareOpens--;
        const share = await openShareWithPassphrase(e, passphrase, 'The share file');
        return { accepted: true, note: share.length === 33 ? 'opened' : 'opened?' };
      }
      return ACCEPTED;
    },
    save: (t) => t,
  };
}

// ---------------------------------------------------------------------------
// Identity files

function identityTarget(c: Corpus, budget: Budget): Target<string> {
  const seeds = c.identities;
  const passphrase = Buffer.from(c.passphrase, 'utf8');
  const blocks = (text: string): string[] =>
    text.match(/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----\n?/g) ?? [];
  const seedKeyBlocks = new Set(seeds.map((s) => findPemBlock(s, 'ENCRYPTED PRIVATE KEY')));
  return {
    name: 'identity',
    description: 'identityCertificate + unlockFileIdentity (right passphrase)',
    weight: 10,
    generate(rng) {
      const seed = rng.pick(seeds);
      const r = rng.int(100);
      if (r < 35) return mutateText(rng, seed, seeds);
      const parts = blocks(seed);
      if (r < 85) {
        // one block's DER mutated, armoured again
        const i = r < 65 ? parts.length - 1 : 0; // the certificate (last), or the key (first)
        const label = /-----BEGIN ([A-Z ]+)-----/.exec(parts[i]!)![1]!;
        const der = Buffer.from(parts[i]!.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
        parts[i] = toPem(label, mutateBytes(rng, der));
        return parts.join('');
      }
      // the PEM structure: blocks swapped, repeated, dropped, taken from the other file, relabelled, CRLF
      const other = blocks(rng.pick(seeds));
      switch (rng.int(6)) {
        case 0:
          return parts.reverse().join('');
        case 1:
          return [...parts, ...parts].join('');
        case 2:
          return parts.slice(rng.int(parts.length), rng.int(parts.length) + 1).join('');
        case 3:
          return [parts[0]!, rng.pick(other)].join('');
        case 4:
          return parts
            .map((p) =>
              p.replace(
                /ENCRYPTED PRIVATE KEY|CERTIFICATE/g,
                rng.pick(['PRIVATE KEY', 'CERTIFICATE', 'ENCRYPTED PRIVATE KEY', 'X509 CRL']),
              ),
            )
            .join('');
        default:
          return parts.join('').replace(/\n/g, '\r\n');
      }
    },
    async run(text, rng) {
      identityCertificate(text);
      const key = findPemBlock(text, 'ENCRYPTED PRIVATE KEY');
      if (key === null) return ACCEPTED;
      // Unlocking costs a PBKDF2: only when the key block still parses (mostly the seed's own), a few per run.
      checkPkcs8Protection(key, 'the identity file');
      if (budget.identityUnlocks > 0 && rng.chance(seedKeyBlocks.has(key) ? 0.1 : 0.5)) {
        budget.identityUnlocks--;
        unlockFileIdentity(text, passphrase);
        return { accepted: true, note: 'unlocked' };
      }
      return ACCEPTED;
    },
    save: (t) => t,
  };
}

// ---------------------------------------------------------------------------
// Ceremony records

/** Recomputes seq, prev and hash from line `from` on, as someone who can write the file would. */
function rechain(lines: string[], from = 0): string[] {
  const out: string[] = [];
  let prev = '0'.repeat(64);
  for (const [i, line] of lines.entries()) {
    const e = jsonOrNull(line);
    if (i < from || e === null || typeof e !== 'object' || Array.isArray(e)) {
      out.push(line);
      prev = (e as { hash?: string } | null)?.hash ?? prev;
      continue;
    }
    const body: Record<string, unknown> = { ...(e as Record<string, unknown>), seq: i + 1, prev };
    delete body['hash'];
    try {
      const hash = sha256Hex(canonicalJson(body));
      out.push(canonicalJson({ ...body, hash }));
      prev = hash;
    } catch {
      out.push(line); // canonical JSON cannot hold it (a fraction, a huge number)
    }
  }
  return out;
}

function recordTarget(c: Corpus): Target<string> {
  const seeds = c.records;
  return {
    name: 'record',
    description: 'parseTranscript + ceremoniesOf + summarize',
    weight: 14,
    generate(rng) {
      const seed = rng.pick(seeds);
      const r = rng.int(100);
      if (r < 20) return mutateText(rng, seed, seeds);
      const lines = seed.trimEnd().split('\n');
      const i = rng.int(lines.length);
      if (r < 75) {
        // one entry mutated as JSON, then (mostly) the chain recomputed over it
        lines[i] = writeJson(mutateJson(rng, JSON.parse(lines[i]!), undefined));
        return (rng.chance(0.85) ? rechain(lines, i) : lines).join('\n') + '\n';
      }
      // lines removed, repeated, swapped, or an entry of another kind; then the chain recomputed
      const j = rng.int(lines.length);
      switch (rng.int(5)) {
        case 0:
          lines.splice(i, rng.size(3));
          break;
        case 1:
          lines.splice(i, 0, ...Array.from({ length: rng.size(rng.chance(0.1) ? 5000 : 3) }, () => lines[j]!));
          break;
        case 2:
          [lines[i], lines[j]] = [lines[j]!, lines[i]!];
          break;
        case 3: {
          const e = JSON.parse(lines[i]!) as Record<string, unknown>;
          e['type'] = rng.pick([
            'ceremony-opened',
            'ceremony-closed',
            'unit-confirmed',
            'unit-removed',
            'bundle-created',
            'bundle-signed',
            'share-issued',
            'master-key-generated',
            'master-key-wiped',
            'card-slot-replaced',
            'admin-identity',
          ]);
          lines[i] = JSON.stringify(e);
          break;
        }
        default:
          lines.splice(i, 0, ...seeds.flatMap((s) => s.trimEnd().split('\n')).slice(j));
      }
      return rechain(lines).join('\n') + (rng.chance(0.95) ? '\n' : '');
    },
    async run(text) {
      const entries = parseTranscript(text);
      ceremoniesOf(entries);
      summarize(entries);
      return ACCEPTED;
    },
    save: (t) => t,
  };
}

// ---------------------------------------------------------------------------
// Emulator state, transport files, keystore files, wrapped data keys

function jsonFileTarget(
  name: string,
  description: string,
  weight: number,
  seeds: readonly string[],
  parse: (text: string) => unknown,
): Target<string> {
  return {
    name,
    description,
    weight,
    generate: (rng) => mutateJsonFile(rng, seeds),
    async run(text) {
      parse(text);
      return ACCEPTED;
    },
    save: (t) => t,
  };
}

function wrappedDekTarget(c: Corpus): Target<string> {
  const seeds = c.wrappedDeks;
  return {
    name: 'wrapped-dek',
    description: 'parseWrappedDek (src/emulator/kms.ts)',
    weight: 5,
    generate(rng) {
      const seed = rng.pick(seeds);
      const r = rng.int(100);
      if (r < 40) return mutateText(rng, seed, seeds);
      const parts = seed.split('.');
      if (r < 70) {
        const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown;
        parts[0] = b64url(Buffer.from(writeJson(mutateJson(rng, header, undefined)), 'utf8'));
      } else if (r < 90) {
        const i = rng.int(parts.length);
        parts[i] = rng.chance(0.5)
          ? b64url(rng.bytes(rng.size(rng.chance(0.1) ? 100_000 : 80)))
          : b64url(mutateBytes(rng, Buffer.from(parts[i]!, 'base64url')));
      } else if (rng.chance(0.5)) {
        parts.splice(rng.int(parts.length + 1), 0, ...Array.from({ length: rng.size(5) }, () => rng.pick(parts)));
      } else parts.splice(rng.int(parts.length), 1);
      return parts.join('.');
    },
    async run(text) {
      parseWrappedDek(text);
      return ACCEPTED;
    },
    save: (t) => t,
  };
}

// ---------------------------------------------------------------------------
// IPC requests (src/main/handlers.ts)

type Spec = (v: unknown) => boolean;
const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
const S = {
  text:
    (max = 256): Spec =>
    (v) =>
      typeof v === 'string' && v.length <= max,
  int:
    (min: number, max: number): Spec =>
    (v) =>
      typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max,
  obj:
    (fields: Record<string, Spec>): Spec =>
    (v) =>
      isPlain(v) &&
      Object.keys(v).length === Object.keys(fields).length &&
      Object.entries(fields).every(([k, f]) => Object.hasOwn(v, k) && f(v[k])),
  /** `fields` required, `optional` absent or undefined or valid, none other. */
  objWith:
    (fields: Record<string, Spec>, optional: Record<string, Spec>): Spec =>
    (v) =>
      isPlain(v) &&
      Object.entries(fields).every(([k, f]) => Object.hasOwn(v, k) && f(v[k])) &&
      Object.entries(v).every(
        ([k, x]) => Object.hasOwn(fields, k) || (Object.hasOwn(optional, k) && (x === undefined || optional[k]!(x))),
      ),
  /** Members all optional (absent or undefined), none other. */
  partial:
    (fields: Record<string, Spec>): Spec =>
    (v) =>
      isPlain(v) && Object.entries(v).every(([k, x]) => Object.hasOwn(fields, k) && (x === undefined || fields[k]!(x))),
  list:
    (max: number, item: Spec): Spec =>
    (v) => {
      if (!Array.isArray(v) || v.length > max) return false;
      for (let i = 0; i < v.length; i++) if (!(i in v) || !item(v[i])) return false;
      return true;
    },
  medium: ((v) => v === 'card' || v === 'file') as Spec,
};
const secret: Spec = (v) =>
  S.obj({ medium: (m) => m === 'file', passphrase: S.text(1024) })(v) ||
  S.obj({ medium: (m) => m === 'card', reader: S.text(), pin: S.text(16) })(v);
/** A later ceremony's wizard (LATER_WIZARDS). */
const wizard: Spec = (v) => v === 'recovery' || v === 'reshare' || v === 'units-bundle' || v === 'rotation';
const participant = S.obj({ name: S.text(), medium: S.medium });

const setupFields: Record<string, Spec> = {
  ceremonyName: S.text(),
  keyName: S.text(),
  threshold: S.int(1, 255),
  signatureThreshold: S.int(1, 255),
  revocationThreshold: S.int(1, 255),
  operator: S.text(),
  admins: S.list(255, participant),
  custodians: S.list(255, participant),
  witnesses: S.list(255, S.text()),
  reasons: S.partial({ custodianIsAdmin: S.text(1000), signatureThresholdOne: S.text(1000) }),
};
const planRef = S.obj({ sha256: (v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) });
const planUnit = S.obj({ id: S.text(), transportFingerprint: (v) => v === null || S.text()(v) });
const planFields: Record<string, Spec> = { setup: S.obj(setupFields), units: S.list(64, planUnit) };
const papersScript = S.objWith(
  {
    wizard: wizard,
    names: S.objWith({ operator: S.text(), witnesses: S.list(16, S.text()) }, { ceremonyName: S.text() }),
  },
  { thresholds: S.obj({ signatureThreshold: S.int(1, 255), revocationThreshold: S.int(1, 255) }) },
);
const PAPERS_EXAMPLE = { wizard: 'rotation', names: { operator: 'Olga', witnesses: ['Wanda'] } };

const PLAN_EXAMPLE = {
  setup: {
    ceremonyName: 'Root key 2026',
    keyName: 'MK',
    threshold: 2,
    signatureThreshold: 2,
    revocationThreshold: 2,
    operator: 'Olivia',
    admins: [
      { name: 'Alice', medium: 'card' },
      { name: 'Bob', medium: 'file' },
    ],
    custodians: [
      { name: 'Carol', medium: 'file' },
      { name: 'Dave', medium: 'card' },
    ],
    witnesses: ['Wendy'],
    reasons: {},
  },
  units: [{ id: 'u1', transportFingerprint: null }],
};

/** The contract, as an independent reading of src/shared/ipc.ts: null for calls that take no argument. */
const IPC_SPECS: { readonly [C in IpcChannel]: { spec: Spec | null; example?: unknown } } = {
  [IpcChannel.appGetInfo]: { spec: null },
  [IpcChannel.ceremonyState]: { spec: null },
  [IpcChannel.ceremonyAbandon]: { spec: null },
  [IpcChannel.unitsAddTransport]: { spec: null },
  [IpcChannel.unitsUseRehearsal]: { spec: null },
  [IpcChannel.rehearsalLoadBundle]: { spec: null },
  [IpcChannel.cardsList]: { spec: null },
  [IpcChannel.cardsListForWizard]: {
    spec: S.obj({ wizard }),
    example: { wizard: 'rotation' },
  },
  [IpcChannel.masterKeyGenerate]: { spec: null },
  [IpcChannel.bundleBuild]: { spec: null },
  [IpcChannel.bundleSave]: { spec: null },
  [IpcChannel.ceremonyClose]: { spec: null },
  [IpcChannel.recordSave]: { spec: null },
  [IpcChannel.recordPrint]: { spec: null },
  [IpcChannel.recordListInterrupted]: { spec: null },
  [IpcChannel.checkOpenRecord]: { spec: null },
  [IpcChannel.recordCheckOpen]: { spec: null },
  [IpcChannel.recordCheckOpenBundle]: { spec: null },
  [IpcChannel.recordCheckPrintReport]: { spec: null },
  [IpcChannel.unitsBundleState]: { spec: null },
  [IpcChannel.unitsBundleAddTransport]: { spec: null },
  [IpcChannel.unitsBundleUseRehearsalUnits]: { spec: null },
  [IpcChannel.unitsBundleLoadRehearsalUnits]: { spec: null },
  [IpcChannel.unitsBundleUnitsDone]: { spec: null },
  [IpcChannel.unitsBundleAddAdmin]: { spec: null },
  [IpcChannel.unitsBundleSaveBundle]: { spec: null },
  [IpcChannel.unitsBundleAddStatus]: { spec: null },
  [IpcChannel.unitsBundleRecordDestroyed]: { spec: null },
  [IpcChannel.unitsBundleAbandon]: { spec: null },
  [IpcChannel.unitsReportState]: { spec: null },
  [IpcChannel.unitsReportOpenRecord]: { spec: null },
  [IpcChannel.unitsReportOpenNewRecord]: { spec: null },
  [IpcChannel.unitsReportDropNewRecord]: { spec: null },
  [IpcChannel.unitsReportAddStatus]: { spec: null },
  [IpcChannel.unitsReportAddRehearsalStatus]: { spec: null },
  [IpcChannel.unitsReportRecord]: { spec: null },
  [IpcChannel.unitsReportAbandon]: { spec: null },
  [IpcChannel.unitsBundleOpenRecord]: {
    spec: S.obj({ operation: (v) => v === 'admin-change' || v === 'zeroize' }),
    example: { operation: 'zeroize' },
  },
  [IpcChannel.unitsBundleConfirmUnit]: { spec: S.obj({ unitId: S.text() }), example: { unitId: 'u1' } },
  [IpcChannel.unitsBundleDropAddedAdmin]: { spec: S.obj({ index: S.int(0, 255) }), example: { index: 0 } },
  [IpcChannel.unitsBundleSetRemoved]: {
    spec: S.obj({ thumbprint: S.text(64), removed: (v) => typeof v === 'boolean' }),
    example: { thumbprint: 'x'.repeat(43), removed: true },
  },
  [IpcChannel.unitsBundleBuildAdminChange]: {
    spec: S.obj({ signatureThreshold: S.int(1, 255), revocationThreshold: S.int(1, 255) }),
    example: { signatureThreshold: 2, revocationThreshold: 2 },
  },
  [IpcChannel.unitsBundleBuildZeroize]: { spec: S.obj({ keyName: S.text() }), example: { keyName: 'MK' } },
  [IpcChannel.unitsBundleSign]: { spec: S.obj({ secret }), example: { secret: { medium: 'file', passphrase: 'p' } } },
  [IpcChannel.recoveryState]: { spec: null },
  [IpcChannel.recoveryAddTransport]: { spec: null },
  [IpcChannel.recoveryUseRehearsalUnits]: { spec: null },
  [IpcChannel.recoveryLoadRehearsalUnits]: { spec: null },
  [IpcChannel.recoveryUnitsDone]: { spec: null },
  [IpcChannel.recoveryAddAdmin]: { spec: null },
  [IpcChannel.recoveryBuildBundle]: { spec: null },
  [IpcChannel.recoverySaveBundle]: { spec: null },
  [IpcChannel.recoveryAbandon]: { spec: null },
  [IpcChannel.recoveryOpenRecord]: {
    spec: S.obj({ paperHead: (v) => v === null || S.text()(v) }),
    example: { paperHead: '1a2b 3c4d '.repeat(8) },
  },
  [IpcChannel.recoveryConfirmUnit]: { spec: S.obj({ unitId: S.text() }), example: { unitId: 'u1' } },
  [IpcChannel.recoveryRemoveAdmin]: { spec: S.obj({ adminIndex: S.int(0, 255) }), example: { adminIndex: 0 } },
  [IpcChannel.recoverySetThresholds]: {
    spec: S.obj({ signatureThreshold: S.int(1, 255), revocationThreshold: S.int(1, 255) }),
    example: { signatureThreshold: 2, revocationThreshold: 2 },
  },
  [IpcChannel.recoveryGiveShare]: {
    spec: S.obj({ secret }),
    example: { secret: { medium: 'card', reader: 'Yubico YubiKey 00 00', pin: '123456' } },
  },
  [IpcChannel.recoveryConfirmUnitOnScreen]: { spec: S.obj({ unitId: S.text() }), example: { unitId: 'u1' } },
  [IpcChannel.recoveryStartFromPaper]: {
    spec: S.obj({ keyName: S.text(), kcv: S.text(), verificationPattern: S.text(), headHash: S.text() }),
    example: { keyName: 'MK', kcv: 'ABC123', verificationPattern: '00'.repeat(32), headHash: '1a2b 3c4d '.repeat(8) },
  },
  [IpcChannel.recoverySign]: { spec: S.obj({ secret }), example: { secret: { medium: 'file', passphrase: 'p' } } },
  [IpcChannel.recordCheckCompareHead]: {
    spec: S.obj({ head: S.text() }),
    example: { head: '1a2b 3c4d '.repeat(8) },
  },
  [IpcChannel.ceremonyStart]: {
    spec: S.objWith(setupFields, {
      fromPlan: planRef,
      mode: ((v) => v === 'production' || v === 'rehearsal') as Spec,
    }),
    example: {
      ceremonyName: 'Root key 2026',
      keyName: 'MK',
      threshold: 2,
      signatureThreshold: 1,
      revocationThreshold: 2,
      operator: 'Olivia',
      admins: [
        { name: 'Alice', medium: 'card' },
        { name: 'Bob', medium: 'file' },
      ],
      custodians: [
        { name: 'Carol', medium: 'file' },
        { name: 'Dave', medium: 'card' },
        { name: 'Erin', medium: 'file' },
      ],
      witnesses: ['Wendy'],
      reasons: { signatureThresholdOne: 'Only one admin can travel' },
    },
  },
  [IpcChannel.planOpen]: { spec: null },
  [IpcChannel.papersPrintScript]: { spec: papersScript, example: PAPERS_EXAMPLE },
  [IpcChannel.papersSavePlan]: {
    spec: papersScript,
    example: {
      ...PAPERS_EXAMPLE,
      wizard: 'units-bundle',
      thresholds: { signatureThreshold: 2, revocationThreshold: 2 },
    },
  },
  [IpcChannel.papersOpenPlan]: { spec: S.obj({ wizard: wizard }), example: { wizard: 'reshare' } },
  [IpcChannel.papersPrintReport]: {
    spec: S.obj({ wizard: wizard, witnesses: S.list(16, S.text()) }),
    example: { wizard: 'recovery', witnesses: ['Wanda'] },
  },
  [IpcChannel.planSave]: { spec: S.obj(planFields), example: PLAN_EXAMPLE },
  [IpcChannel.planPrintScript]: {
    spec: S.objWith(planFields, { fromPlan: planRef }),
    example: { ...PLAN_EXAMPLE, fromPlan: { sha256: 'ab'.repeat(32) } },
  },
  [IpcChannel.unitsConfirm]: { spec: S.obj({ unitId: S.text() }), example: { unitId: 'u1' } },
  [IpcChannel.unitsRemove]: { spec: S.obj({ unitId: S.text() }), example: { unitId: 'u2' } },
  [IpcChannel.cardsPrepare]: {
    spec: S.objWith({ reader: S.text(), pin: S.text(16), newPin: S.text(16), newPuk: S.text(16) }, { wizard }),
    example: { reader: 'Yubico YubiKey 00 00', pin: '123456', newPin: '246810', newPuk: '13572468' },
  },
  [IpcChannel.cardsUnblock]: {
    spec: S.objWith({ reader: S.text(), puk: S.text(16), newPin: S.text(16) }, { wizard }),
    example: { reader: 'r', puk: '13572468', newPin: '111111' },
  },
  [IpcChannel.adminsCreateIdentity]: {
    spec: S.obj({ adminIndex: S.int(0, 255), secret }),
    example: { adminIndex: 0, secret: { medium: 'card', reader: 'r', pin: '123456' } },
  },
  [IpcChannel.adminsUseIdentityFile]: {
    spec: S.obj({ adminIndex: S.int(0, 255), passphrase: S.text(1024) }),
    example: { adminIndex: 1, passphrase: 'correct horse' },
  },
  [IpcChannel.sharesWrite]: {
    spec: S.obj({ shareIndex: S.int(1, 255), secret }),
    example: { shareIndex: 1, secret: { medium: 'file', passphrase: 'a long passphrase' } },
  },
  [IpcChannel.sharesVerify]: {
    spec: S.obj({ shareIndex: S.int(1, 255), secret }),
    example: { shareIndex: 3, secret: { medium: 'card', reader: 'r', pin: '123456' } },
  },
  [IpcChannel.sharesConfirm]: { spec: S.obj({ shareIndex: S.int(1, 255) }), example: { shareIndex: 2 } },
  [IpcChannel.bundleSign]: {
    spec: S.obj({ adminIndex: S.int(0, 255), secret }),
    example: { adminIndex: 1, secret: { medium: 'file', passphrase: 'pass phrase' } },
  },
  [IpcChannel.recordSaveInterrupted]: {
    spec: S.obj({ ceremonyId: S.text() }),
    example: { ceremonyId: '7c1f1c4e-8c1a-4a8e-9a55-1b0f1e2d3c4b' },
  },
  [IpcChannel.checkShare]: {
    spec: S.obj({ secret }),
    example: { secret: { medium: 'file', passphrase: 'x'.repeat(1024) } },
  },
  [IpcChannel.reshareState]: { spec: null },
  [IpcChannel.reshareOpenRecord]: { spec: null },
  [IpcChannel.reshareIssue]: { spec: null },
  [IpcChannel.reshareCancel]: { spec: null },
  [IpcChannel.reshareBringShare]: {
    spec: S.obj({ secret }),
    example: { secret: { medium: 'card', reader: 'Yubico YubiKey 00 00', pin: '123456' } },
  },
  [IpcChannel.resharePlan]: {
    spec: (v) =>
      S.obj({ operator: S.text(), threshold: S.int(1, 255), custodians: S.list(255, participant) })(v) &&
      (v as { custodians: unknown[] }).custodians.length > 0,
    example: {
      operator: 'Rita',
      threshold: 2,
      custodians: [
        { name: 'Alice', medium: 'file' },
        { name: 'Dave', medium: 'card' },
        { name: 'Erin', medium: 'file' },
      ],
    },
  },
  [IpcChannel.reshareSetNewShare]: {
    spec: S.obj({ shareIndex: S.int(1, 255), secret }),
    example: { shareIndex: 2, secret: { medium: 'file', passphrase: 'a long passphrase' } },
  },
  [IpcChannel.rotationState]: { spec: null },
  [IpcChannel.rotationOpenRecord]: { spec: null },
  [IpcChannel.rotationAddTransport]: { spec: null },
  [IpcChannel.rotationUseRehearsalUnits]: { spec: null },
  [IpcChannel.rotationLoadRehearsalUnits]: { spec: null },
  [IpcChannel.rotationUnitsDone]: { spec: null },
  [IpcChannel.rotationReplan]: { spec: null },
  [IpcChannel.rotationGenerate]: { spec: null },
  [IpcChannel.rotationBuildBundle]: { spec: null },
  [IpcChannel.rotationSaveBundle]: { spec: null },
  [IpcChannel.rotationReportUnits]: { spec: null },
  [IpcChannel.rotationCancel]: { spec: null },
  [IpcChannel.rotationConfirmUnit]: { spec: S.obj({ unitId: S.text() }), example: { unitId: 'u1' } },
  [IpcChannel.rotationPlan]: {
    spec: (v) =>
      S.obj({ keyName: S.text(), operator: S.text(), threshold: S.int(1, 255), custodians: S.list(255, participant) })(
        v,
      ) && (v as { custodians: unknown[] }).custodians.length > 0,
    example: {
      keyName: 'MK2',
      operator: 'Rita',
      threshold: 2,
      custodians: [
        { name: 'Alice', medium: 'file' },
        { name: 'Dave', medium: 'card' },
      ],
    },
  },
  [IpcChannel.rotationSetNewShare]: {
    spec: S.obj({ shareIndex: S.int(1, 255), secret }),
    example: { shareIndex: 1, secret: { medium: 'card', reader: 'Yubico YubiKey 00 00', pin: '123456' } },
  },
  [IpcChannel.rotationPresentShare]: {
    spec: S.obj({ secret }),
    example: { secret: { medium: 'file', passphrase: 'a long passphrase' } },
  },
  [IpcChannel.rotationSign]: { spec: S.obj({ secret }), example: { secret: { medium: 'file', passphrase: 'p' } } },
};

/** A random value of any type structured clone carries (what ipcRenderer.invoke can send). */
function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 3 ? 12 : 16)) {
    case 0:
      return null;
    case 1:
      return undefined;
    case 2:
      return rng.chance(0.5);
    case 3:
      return rng.pick([0, -0, 1, -1, 0.5, 255, 256, 1e21, NaN, Infinity, -Infinity, 2 ** 53, Number.MIN_VALUE]);
    case 4:
      return rng.pick([0n, 1n, -1n, 2n ** 70n]);
    case 5:
      return rng.pick([
        '',
        'card',
        'file',
        'u1',
        '123456',
        '__proto__',
        '\u0000',
        'x'.repeat(rng.pick([16, 17, 256, 257, 1024, 1025, 100_000])),
      ]);
    case 6:
      return new Date(rng.int(2 ** 40));
    case 7:
      return rng.bytes(rng.size(64));
    case 8:
      return /x/;
    case 9:
      return rng.range(-300, 300);
    case 10:
      return 'x'.repeat(rng.size(300));
    case 11:
      return rng.pick(['card', 'file', 'usb']);
    case 12: {
      const a: unknown[] = Array.from({ length: rng.size(6) }, () => randomValue(rng, depth + 1));
      if (rng.chance(0.2)) a.length += rng.size(3); // holes
      return a;
    }
    case 13:
      return new Map([[randomValue(rng, depth + 1), randomValue(rng, depth + 1)]]);
    case 14:
      return new Set([randomValue(rng, depth + 1)]);
    default: {
      const o: Record<string, unknown> = {};
      const keys = [
        'medium',
        'passphrase',
        'reader',
        'pin',
        'shareIndex',
        'adminIndex',
        'secret',
        'unitId',
        'name',
        'ceremonyId',
        '__proto__',
        'constructor',
        'x',
      ];
      for (let k = rng.int(5); k > 0; k--)
        Object.defineProperty(o, rng.pick(keys), {
          value: randomValue(rng, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return o;
    }
  }
}

/** Replaces one value somewhere inside `v` by a random value of any type. */
function replaceSomewhere(rng: Rng, v: unknown, depth = 0): unknown {
  if (depth > 6 || v === null || typeof v !== 'object' || rng.chance(0.25)) return randomValue(rng);
  if (Array.isArray(v)) {
    const c = [...v];
    if (c.length === 0) return [randomValue(rng)];
    const i = rng.int(c.length);
    c[i] = replaceSomewhere(rng, c[i], depth + 1);
    return c;
  }
  const c: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  const keys = Object.keys(c);
  if (keys.length === 0) return randomValue(rng);
  const k = rng.pick(keys);
  Object.defineProperty(c, k, {
    value: replaceSomewhere(rng, c[k], depth + 1),
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return c;
}

interface IpcCase {
  channel: string;
  args: unknown[];
}

function ipcTarget(): Target<IpcCase> {
  let reached: { name: string } | null = null;
  // The stub session records that a request reached it and answers with a refusal of its own, so
  // the oracle needs no sample of every domain type the handlers map to a view (src/main/views.ts).
  const REACHED = 'fuzz: the request reached the session';
  const session: CeremonySession = new Proxy({} as CeremonySession, {
    get: (_t, name) => {
      // The re-share's session (issue 11, ceremony 2) is reached as session.reshare: the same stub.
      if (name === 'reshare') return session;
      // So is the record check (issue 11, ceremony 6), as session.recordCheck.
      if (name === 'recordCheck') return session;
      // So is the initial ceremony (its own session, initial-session.ts), as session.initial.
      if (name === 'initial') return session;
      return () => {
        reached = { name: String(name) };
        if (name === 'interruptedRecords' || name === 'saveInterruptedRecord') return [];
        throw new CeremonyError('Canceled', REACHED);
      };
    },
  });
  let bug: unknown = null;
  const handlers = createHandlers({
    session,
    // The recovery wizard's session (issue 11, ceremony 1): the same stub.
    recovery: session as unknown as RecoverySession,
    // So are the admin change's and the zeroize's (issue 11, ceremonies 3 and 5).
    unitsBundle: session as unknown as UnitsBundleSession,
    unitsReport: session as unknown as UnitsReportSession,
    rotation: session as unknown as RotationSession,
    appInfo: () => ({ name: 'fuzz', version: '0', networkInterfacesUp: [] }),
    reportBug: (_channel, e) => {
      bug = e;
    },
  }) as unknown as Record<
    string,
    (args: readonly unknown[]) => Promise<{ ok: boolean; error?: { code: string; message: string } }>
  >;
  const channels = Object.values(IpcChannel) as string[];
  return {
    name: 'ipc',
    description: 'createHandlers: request validation (src/main/handlers.ts)',
    weight: 12,
    generate(rng) {
      const channel = rng.pick(channels);
      const { example } = IPC_SPECS[channel as IpcChannel];
      const r = rng.int(100);
      let args: unknown[];
      if (example === undefined || r < 15)
        args = rng.chance(0.3) ? [] : Array.from({ length: rng.int(3) }, () => randomValue(rng));
      else if (r < 20) args = [example];
      else if (r < 60) {
        // JSON-level mutations of a valid request (numbers at and past the bounds, strings too long, members added or removed)
        const m = jsonOrNull(writeJson(mutateJson(rng, example, undefined)));
        args = [m];
      } else if (r < 90) args = [replaceSomewhere(rng, example)];
      else args = rng.chance(0.5) ? [example, randomValue(rng)] : [[example]];
      return { channel, args };
    },
    async run(c) {
      reached = null;
      bug = null;
      let cloned: unknown[];
      try {
        cloned = structuredClone(c.args); // what crosses from the renderer
      } catch {
        return { accepted: false, code: 'not-cloneable' };
      }
      const { spec } = IPC_SPECS[c.channel as IpcChannel];
      const valid = spec === null ? cloned.length === 0 : cloned.length === 1 && spec(cloned[0]);
      let r;
      try {
        r = await handlers[c.channel]!(cloned);
      } catch (e) {
        throw new Finding(`the handler threw instead of answering: ${String(e)}`);
      }
      if (bug !== null) throw new Finding(`the handler reported a bug: ${String((bug as Error)?.stack ?? bug)}`);
      if (r.ok) {
        if (!valid)
          throw new Finding(
            `an invalid request reached the session (${(reached as { name: string } | null)?.name ?? '?'})`,
          );
        return ACCEPTED;
      }
      if (reached !== null && r.error!.code === 'Canceled' && r.error!.message === REACHED) {
        if (!valid) throw new Finding(`an invalid request reached the session (${(reached as { name: string }).name})`);
        return ACCEPTED;
      }
      if (reached !== null)
        throw new Finding(
          `the request reached session.${(reached as { name: string }).name} and was still refused (${r.error!.code})`,
        );
      if (valid) throw new Finding(`a valid request was refused: ${r.error!.code} ${r.error!.message}`);
      if (r.error!.code !== 'invalid-request') throw new Finding(`refused as ${r.error!.code}, not invalid-request`);
      return { accepted: false, code: 'invalid-request' };
    },
    save: (c) => JSON.stringify({ channel: c.channel, args: inspectable(c.args) }, null, 2),
  };
}

/** JSON for a finding file: the values JSON cannot write are spelled out. */
function inspectable(v: unknown): unknown {
  if (typeof v === 'bigint') return { $bigint: v.toString() };
  if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) };
  if (v === undefined) return { $undefined: true };
  if (v instanceof Date) return { $date: v.getTime() };
  if (v instanceof Map) return { $map: [...v].map(([k, x]) => [inspectable(k), inspectable(x)]) };
  if (v instanceof Set) return { $set: [...v].map(inspectable) };
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('hex') };
  if (v instanceof RegExp) return { $regexp: String(v) };
  if (Array.isArray(v))
    return Array.from({ length: v.length }, (_, i) => (i in v ? inspectable(v[i]) : { $hole: true }));
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, inspectable(x)]));
  return v;
}

// ---------------------------------------------------------------------------
// Card answers (src/core/cards/piv.ts over a fake connection)

const INTERESTING_SW = [
  0x9000, 0x6100, 0x6101, 0x61ff, 0x6c00, 0x6c01, 0x6cff, 0x63c0, 0x63c3, 0x63cf, 0x6983, 0x6982, 0x6a82, 0x6a88,
  0x6a80, 0x6a86, 0x6d00, 0x6e00, 0x6700, 0x6581, 0x6f00, 0x0000, 0xffff,
];

function scriptedConnection(responses: readonly Buffer[]): CardConnection {
  let i = 0;
  return {
    reader: 'Fuzzed reader',
    atr: Buffer.from('3b00', 'hex'),
    async transmit() {
      return i < responses.length ? responses[i++]! : Buffer.from([0x6f, 0x00]);
    },
    async disconnect() {},
  };
}

interface CardCase {
  op: CardScript['op'];
  arg: number;
  responses: string[];
}

function withSw(data: Buffer, sw: number): Buffer {
  return Buffer.concat([data, Buffer.from([sw >> 8, sw & 0xff])]);
}

function cardTarget(c: Corpus): Target<CardCase> {
  const scripts = c.cards;
  return {
    name: 'card',
    description: 'PivSession answers: serial, version, metadata, getData, PIN counter',
    weight: 12,
    generate(rng) {
      const s = rng.pick(scripts);
      const responses: Buffer[] = s.exchanges.map((x) => Buffer.from(x.r, 'hex'));
      const i = rng.int(responses.length);
      const resp = responses[i]!;
      const data = resp.subarray(0, Math.max(0, resp.length - 2));
      const sw = resp.length >= 2 ? resp.readUInt16BE(resp.length - 2) : 0x9000;
      const all = Buffer.concat(responses.map((r) => r.subarray(0, Math.max(0, r.length - 2))));
      const r = rng.int(100);
      if (r < 25) responses[i] = mutateBytes(rng, resp, responses);
      else if (r < 50)
        responses[i] = withSw(mutateBytes(rng, data, responses), sw); // data (TLVs) only
      else if (r < 70) {
        let w = rng.pick(INTERESTING_SW);
        if ((w & 0xff) === 0 && rng.chance(0.5)) w |= rng.int(256);
        responses[i] = withSw(data, w);
      } else if (r < 82) {
        // the whole answer again as a 61xx chain of random chunks (the announced sizes right or wrong)
        const chunks: Buffer[] = [];
        let off = 0;
        while (off < all.length || chunks.length === 0) {
          const n = rng.chance(0.7) ? 256 : rng.int(300);
          const piece = all.subarray(off, off + n);
          off += n;
          const left = all.length - off;
          const announced = rng.chance(0.8) ? (left >= 256 ? 0 : left) : rng.int(256);
          chunks.push(withSw(piece, left > 0 ? 0x6100 | announced : sw === 0x9000 || rng.chance(0.5) ? 0x9000 : sw));
        }
        responses.splice(0, responses.length, ...chunks);
      } else if (r < 88)
        responses[i] = withSw(Buffer.concat([data, rng.bytes(rng.size(rng.chance(0.1) ? 70_000 : 300))]), sw);
      else if (r < 94)
        responses.splice(
          i,
          0,
          ...Array.from({ length: rng.size(rng.chance(0.1) ? 300 : 4) }, () =>
            withSw(rng.bytes(rng.int(257)), rng.pick(INTERESTING_SW)),
          ),
        );
      else responses[i] = rng.bytes(rng.int(4));
      return { op: s.op, arg: s.arg, responses: responses.map((x) => x.toString('hex')) };
    },
    async run(k) {
      const piv = new PivSession(scriptedConnection(k.responses.map((x) => Buffer.from(x, 'hex'))));
      switch (k.op) {
        case 'select':
          await piv.select();
          break;
        case 'serial':
          await piv.serial();
          break;
        case 'version':
          await piv.version();
          break;
        case 'referenceMetadata':
          await piv.referenceMetadata(k.arg);
          break;
        case 'slotMetadata':
          await piv.slotMetadata(k.arg);
          break;
        case 'getData':
          await piv.getData(k.arg, 'Reading a data object');
          break;
        case 'pinTriesLeft':
          await piv.pinTriesLeft();
          break;
      }
      return ACCEPTED;
    },
    save: (k) => JSON.stringify(k, null, 1),
  };
}

// ---------------------------------------------------------------------------

export function makeTargets(c: Corpus, budget: Budget): Target[] {
  return [
    bundleTarget(c),
    shareTarget(c, budget),
    identityTarget(c, budget),
    recordTarget(c),
    jsonFileTarget('state', 'parseInstanceState (src/emulator/schema.ts)', 9, c.states, (t) =>
      parseInstanceState(t, 'state.json'),
    ),
    jsonFileTarget('transport', 'parseTransportFile (src/core/bundle/transport.ts)', 6, c.transports, (t) =>
      parseTransportFile(t, 'The transport file'),
    ),
    jsonFileTarget('keystore', 'parseKeystoreFile (src/emulator/kms.ts)', 4, c.keystores, (t) =>
      parseKeystoreFile(t, 'keystore.json'),
    ),
    wrappedDekTarget(c),
    ipcTarget(),
    cardTarget(c),
  ] as Target[];
}

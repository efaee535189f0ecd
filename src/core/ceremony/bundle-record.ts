import { summarizeBundle, type BundleSummary, type ParsedBundle } from '../bundle/bundle.js';
import { modeName, type TransportKey } from '../bundle/transport.js';
import { groupHex } from '../encoding.js';
import { CeremonyError } from '../errors.js';
import { ENTRY, recordMode } from './record.js';
import type { TranscriptData, TranscriptEntry } from './transcript.js';

// The trust chain between the record and the bundles (DESIGN.md, "Trust
// chain"; issue 8, holes 1 and 3): a unit's transport key is wrapped to
// only once the operator confirmed its fingerprint against the unit's own
// display into the record, and a bundle is signed only when the record holds
// it (its payload hash in a bundle-created entry). One place for the CLI and
// the desktop app.

/** A fingerprint as a person types it from a unit's display: hex, in groups, spaces allowed. */
export function parseTypedFingerprint(text: string): string {
  const hex = text.replace(/[\s:]+/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new CeremonyError(
      'InvalidArgument',
      `"${text.slice(0, 100)}" is not a SHA-256 fingerprint: type the 64 hex digits the unit displays (groups and spaces are fine).`,
    );
  }
  return hex;
}

/** The data of a unit-confirmed entry: this transport key is the one the unit displays. */
export function unitConfirmedData(t: TransportKey): TranscriptData {
  return {
    instanceId: t.file.instanceId,
    unitId: t.file.unitId,
    fingerprint: t.file.fingerprint,
    confirmation: 'matches the unit display',
  };
}

/** Checks what the operator read off the unit's display against the transport file; throws naming both. */
export function checkDisplayedFingerprint(t: TransportKey, typed: string): void {
  const displayed = parseTypedFingerprint(typed);
  if (displayed !== t.file.fingerprint) {
    throw new CeremonyError(
      'TransportFingerprintMismatch',
      `Unit ${t.file.unitId}: the transport file's key has fingerprint ${groupHex(t.file.fingerprint)}, but the unit displays ${groupHex(displayed)}. ` +
        'The file is not this unit\u2019s key: do not use it; export the transport key from the unit again and compare once more. Nothing was recorded.',
      { unitId: t.file.unitId, file: t.file.fingerprint, displayed },
    );
  }
}

/**
 * Every transport must carry the key confirmed for its unit in the record
 * (the latest confirmation of that unit counts). Throws naming the unit and
 * both fingerprints when one differs: a forged transport file.
 */
export function checkTransportsConfirmed(
  entries: readonly TranscriptEntry[],
  transports: readonly TransportKey[],
): void {
  for (const t of transports) {
    // The latest word on the unit counts: a confirmation, or its removal (the app's "remove"), which voids it.
    const latest = entries
      .filter(
        (e) =>
          (e.type === ENTRY.unitConfirmed &&
            e.data['instanceId'] === t.file.instanceId &&
            e.data['unitId'] === t.file.unitId) ||
          (e.type === ENTRY.unitRemoved && e.data['unitId'] === t.file.unitId),
      )
      .at(-1);
    if (!latest || latest.type === ENTRY.unitRemoved) {
      throw new CeremonyError(
        'TransportUnconfirmed',
        `The transport key of unit ${t.file.unitId} has not been confirmed against the unit's own display in this record; nothing is wrapped to an unconfirmed key. ` +
          `Read the fingerprint off the unit and run: keyceremony units confirm --record RECORD --transport FILE --fingerprint HEX`,
        { unitId: t.file.unitId },
      );
    }
    const confirmed = String(latest.data['fingerprint']);
    if (confirmed !== t.file.fingerprint) {
      throw new CeremonyError(
        'TransportFingerprintMismatch',
        `Unit ${t.file.unitId}: the transport file holds key ${groupHex(t.file.fingerprint)}, but the record confirmed ${groupHex(confirmed)} against the unit's display (entry ${latest.seq}, ${latest.time}). ` +
          'The file was replaced or forged: do not use it. Nothing was written.',
        { unitId: t.file.unitId, file: t.file.fingerprint, confirmed },
      );
    }
  }
}

/**
 * The data of a bundle-created entry: what the signers will compare against;
 * a rotate bundle's also names the key it replaces (its verification pattern).
 */
export function bundleCreatedData(a: {
  bundle: ParsedBundle;
  transports: readonly TransportKey[];
  sharesUsed: readonly number[];
}): TranscriptData {
  const s = summarizeBundle(a.bundle);
  return {
    bundleId: a.bundle.payload.bundleId,
    payloadHash: a.bundle.payloadHash,
    operation: s.operation,
    rehearsal: s.rehearsal,
    instanceId: s.instanceId,
    sequence: s.sequence,
    targets: s.targets,
    transportFingerprints: a.transports.map((t) => t.file.fingerprint),
    sharesUsed: a.sharesUsed.map(String),
    kcv: s.kcv,
    adminsInstalled: s.adminsInstalled.map((x) => `${x.name} ${x.thumbprint}`),
    adminsRemoved: s.adminsRemoved,
    thresholds: s.thresholds
      ? { signatureThreshold: s.thresholds.signatureThreshold, revocationThreshold: s.thresholds.revocationThreshold }
      : null,
    transcriptHash: s.transcriptHash,
    // A rotation names the key it replaces (issue 11): units report checks the old record against it.
    ...(s.replacesVerificationPattern !== null ? { replacesVerificationPattern: s.replacesVerificationPattern } : {}),
  };
}

export { recordMode } from './record.js';

/**
 * The mode of a bundle built on these records: rehearsal when asked
 * (--rehearsal) or when a record says its key lives in a rehearsal;
 * refused when asked for a rehearsal on a record whose key went to
 * production units.
 */
export function bundleModeFor(
  records: ReadonlyArray<{ label: string; entries: readonly TranscriptEntry[] }>,
  askedRehearsal: boolean,
): boolean {
  const said = records.map((r) => ({ ...r, mode: recordMode(r.entries) }));
  const rehearsal = askedRehearsal || said.some((r) => r.mode?.rehearsal === true);
  const other = said.find((r) => r.mode !== null && r.mode.rehearsal !== rehearsal);
  if (other) {
    throw new CeremonyError(
      'RehearsalMismatch',
      `${other.label} holds a ${modeName(other.mode!.rehearsal)} key (entry ${other.mode!.entry.seq}, ${other.mode!.entry.type}), but this bundle would be a ${modeName(rehearsal)} bundle: ` +
        'a record is one key\u2019s life in one mode, and a production key is never wrapped to rehearsal units, nor a rehearsal key to production units. Nothing was written.',
      { recordMode: modeName(other.mode!.rehearsal), bundleMode: modeName(rehearsal) },
    );
  }
  return rehearsal;
}

/** The data of a bundle-signed entry: who signed which payload, and how many have. */
export function bundleSignedData(bundle: ParsedBundle, signer: { name: string; thumbprint: string }): TranscriptData {
  return {
    bundleId: bundle.payload.bundleId,
    payloadHash: bundle.payloadHash,
    admin: signer.name,
    thumbprint: signer.thumbprint,
    signatures: bundle.signatures.length,
  };
}

/** How a signer vouches that the bundle is the one the ceremony built. */
export type SigningApproval =
  { recordEntries: readonly TranscriptEntry[]; recordLabel: string } | { payloadSha256: string };

/**
 * Refuses a bundle the record does not hold: its payload hash must be in a
 * bundle-created entry of the record (or equal the hash the signer read off
 * the printed record), and the record entry it names must be in the record.
 * Returns the summary to show before any PIN or passphrase is asked.
 */
export function approveForSigning(bundle: ParsedBundle, approval: SigningApproval): BundleSummary {
  const summary = summarizeBundle(bundle);
  if ('payloadSha256' in approval) {
    const typed = approval.payloadSha256.replace(/\s+/g, '').toLowerCase();
    if (typed !== bundle.payloadHash) {
      throw new CeremonyError(
        'BundleNotInRecord',
        `This bundle's payload SHA-256 is ${bundle.payloadHash}, not the ${typed} you were given from the record: it is not the bundle the ceremony built (or the hash was mistyped). Do not sign it.`,
        { payloadHash: bundle.payloadHash },
      );
    }
    return summary;
  }
  checkBundleInRecord(bundle, approval.recordEntries, approval.recordLabel);
  return summary;
}

/** The bundle is one the record created, and names an entry of that record. */
export function checkBundleInRecord(
  bundle: ParsedBundle,
  entries: readonly TranscriptEntry[],
  label: string,
): TranscriptEntry {
  const created = entries.find((e) => e.type === ENTRY.bundleCreated && e.data['payloadHash'] === bundle.payloadHash);
  if (!created) {
    // Built on this record's last entry and unsigned: most likely a bundle create stopped before it recorded the bundle (issue 10).
    const unrecorded =
      bundle.signatures.length === 0 &&
      entries.length > 0 &&
      entries[entries.length - 1]!.hash === bundle.payload.transcriptHash;
    throw new CeremonyError(
      'BundleNotInRecord',
      unrecorded
        ? `${label} holds no bundle-created entry for payload SHA-256 ${bundle.payloadHash}: the bundle create that wrote it was stopped before it recorded it (or it was edited); do not sign or load it, run the same bundle create again, which replaces it.`
        : `${label} holds no bundle-created entry for payload SHA-256 ${bundle.payloadHash}: this is not a bundle the ceremony built, or it was edited after it was built. Do not sign or load it.`,
      { payloadHash: bundle.payloadHash },
    );
  }
  if (!entries.some((e) => e.hash === bundle.payload.transcriptHash)) {
    throw new CeremonyError(
      'BundleNotInRecord',
      `The bundle names record entry ${bundle.payload.transcriptHash}, which is not an entry of ${label}: the record was rewritten, or the bundle belongs to another record.`,
      { transcriptHash: bundle.payload.transcriptHash },
    );
  }
  return created;
}

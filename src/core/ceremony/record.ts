import type { ParsedBundle } from '../bundle/bundle.js';
import type { TransportKey } from '../bundle/transport.js';
import { CeremonyError } from '../errors.js';
import type { AdminCertificateInfo } from '../identity/certificate.js';
import type { TranscriptData, TranscriptEntry } from './transcript.js';

// What a ceremony record says, read back from its transcript entries.

export interface IssuedShare {
  shareIndex: number;
  custodian: string;
  medium: string;
  location: string;
  commitment: string;
  issued: string;
}

export interface CeremonySummary {
  ceremonyId: string;
  ceremonyName: string;
  keyName: string;
  threshold: number;
  shares: number;
  kcv: string;
  verificationPattern: string;
  issued: Map<number, IssuedShare>;
  bundles: Array<{ sequence: number; bundleHash: string; targets: string[] }>;
}

export const ENTRY = {
  opened: 'ceremony-opened',
  masterKeyGenerated: 'master-key-generated',
  shareIssued: 'share-issued',
  masterKeyWiped: 'master-key-wiped',
  bundleCreated: 'bundle-created',
  /** An admin's signature added to a bundle (the desktop app). */
  bundleSigned: 'bundle-signed',
  aborted: 'ceremony-aborted',
  /** The desktop app's last entry: key wiped, ceremony complete. */
  closed: 'ceremony-closed',
} as const;

// What the entries that summarize() reads carry, written in one place for the
// CLI and the desktop app alike.

/** The data of a share-issued entry: the share was written, read back and found identical. */
export function shareIssuedData(a: { shareIndex: number; custodian: string; medium: string; location: string; commitment: string }): TranscriptData {
  return { shareIndex: a.shareIndex, custodian: a.custodian, medium: a.medium, location: a.location, commitment: a.commitment, verifiedReadBack: true };
}

/** The data of a bundle-created entry. */
export function bundleCreatedData(a: {
  bundle: ParsedBundle;
  transports: readonly TransportKey[];
  /** Shares the key was rebuilt from (a recovery), or none when it was still in memory. */
  sharesUsed: readonly number[];
  claim: { admins: readonly AdminCertificateInfo[]; signatureThreshold: number } | undefined;
  kcv: string;
}): TranscriptData {
  return {
    bundleId: a.bundle.payload.bundleId,
    payloadHash: a.bundle.payloadHash,
    sequence: a.bundle.payload.sequence,
    targets: a.bundle.payload.targets,
    transportFingerprints: a.transports.map((t) => t.file.fingerprint),
    sharesUsed: a.sharesUsed.map(String),
    claim: a.claim ? { admins: a.claim.admins.map((c) => `${c.name} ${c.thumbprint}`), signatureThreshold: a.claim.signatureThreshold } : null,
    kcv: a.kcv,
  };
}

function str(e: TranscriptEntry, k: string): string {
  const v = e.data[k];
  if (typeof v !== 'string') throw new CeremonyError('TranscriptInvalid', `Record entry ${e.seq} (${e.type}) lacks ${k}.`);
  return v;
}
function int(e: TranscriptEntry, k: string): number {
  const v = e.data[k];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new CeremonyError('TranscriptInvalid', `Record entry ${e.seq} (${e.type}) lacks ${k}.`);
  return v;
}

export function summarize(entries: TranscriptEntry[]): CeremonySummary {
  const first = entries[0]!;
  if (first.type !== ENTRY.opened) {
    throw new CeremonyError('TranscriptInvalid', 'The ceremony record does not start with the opening of a ceremony.');
  }
  const s: CeremonySummary = {
    ceremonyId: str(first, 'ceremonyId'),
    ceremonyName: str(first, 'ceremonyName'),
    keyName: str(first, 'keyName'),
    threshold: int(first, 'threshold'),
    shares: int(first, 'shares'),
    kcv: '',
    verificationPattern: '',
    issued: new Map(),
    bundles: [],
  };
  for (const e of entries.slice(1)) {
    switch (e.type) {
      case ENTRY.masterKeyGenerated:
        s.kcv = str(e, 'kcv');
        s.verificationPattern = str(e, 'verificationPattern');
        break;
      case ENTRY.shareIssued: {
        const idx = int(e, 'shareIndex');
        s.issued.set(idx, {
          shareIndex: idx,
          custodian: str(e, 'custodian'),
          medium: str(e, 'medium'),
          location: str(e, 'location'),
          commitment: str(e, 'commitment'),
          issued: e.time,
        });
        break;
      }
      case ENTRY.bundleCreated:
        s.bundles.push({
          sequence: int(e, 'sequence'),
          bundleHash: str(e, 'payloadHash'),
          targets: (e.data['targets'] as string[]) ?? [],
        });
        break;
      default:
        break; // other steps (wipes, notes) carry no state
    }
  }
  if (!s.kcv) throw new CeremonyError('TranscriptInvalid', 'The ceremony record has no master key yet.');
  const aborted = entries.find((e) => e.type === ENTRY.aborted);
  if (aborted) {
    throw new CeremonyError('TranscriptInvalid', `The ceremony in this record was aborted (${String(aborted.data['reason'])}); its shares do not form a usable set.`);
  }
  return s;
}

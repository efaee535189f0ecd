// What the renderer is shown (the views of src/shared/ipc.ts), made from
// what core returns. Core answers with domain data (CeremonyState,
// CardsSnapshot, ...); the presentation lives here: fingerprints as hex
// groups and PGP words, the bundle summary as signers read it. A screen
// change never means editing core (issue 11, "One engine").
//
// handlers.ts calls these for every channel, so Electron's IPC
// registration (ipc.ts) and the end-to-end test bridge (test/e2e/bridge)
// answer with the same views.
import type { BundleSummary } from '../core/bundle/bundle.js';
import type { CardsSnapshot } from '../core/ceremony/card-desk.js';
import { fingerprintFromB64url, hexGroups, pgpWords } from '../core/ceremony/fingerprint.js';
import type {
  BundleSnapshot,
  CeremonyState,
  InterruptedRecord,
  OpenedPlan,
  RecordForCheck,
  SavedPlan,
  ShareChecked,
} from '../core/ceremony/session.js';
import type { SetupUnit } from '../core/ceremony/setup-file.js';
import type {
  BundleView,
  CardsView,
  CeremonyView,
  InterruptedRecordView,
  PlanFileView,
  PlanOpenedView,
  PlanUnit,
  RecordView,
  ShareCheckView,
} from '../shared/ipc.js';

/** A base64url certificate thumbprint (x5t#S256) as hex groups, for comparing by eye. */
function thumbprintGroups(thumbprint: string): string[] {
  return hexGroups(fingerprintFromB64url(thumbprint));
}

export function ceremonyView(s: CeremonyState): CeremonyView {
  return {
    ceremonyId: s.ceremonyId,
    setup: s.setup,
    step: s.step,
    units: s.units.map((u) => {
      const fingerprint = Buffer.from(u.fingerprint, 'hex');
      return {
        unitId: u.unitId,
        fileName: u.fileName,
        fingerprintGroups: hexGroups(fingerprint),
        fingerprintWords: pgpWords(fingerprint),
        confirmed: u.confirmed,
      };
    }),
    unitsMissing: s.unitsMissing,
    admins: s.admins.map((a) => ({
      name: a.name,
      medium: a.medium,
      identity: a.identity && {
        thumbprint: a.identity.thumbprint,
        fingerprintGroups: thumbprintGroups(a.identity.thumbprint),
        location: a.identity.location,
        cardSerial: a.identity.cardSerial,
      },
    })),
    masterKey: s.masterKey,
    shares: s.shares.map((x) => ({
      index: x.index,
      custodian: x.custodian,
      medium: x.medium,
      location: x.location,
      cardSerial: x.cardSerial,
      written: x.written,
      verified: x.verified,
      confirmed: x.confirmed,
    })),
    bundle: s.bundle && bundleView(s.bundle),
    closed: s.closed,
  };
}

function bundleView(b: BundleSnapshot): BundleView {
  return {
    bundleId: b.bundleId,
    sequence: b.sequence,
    targets: b.targets,
    payloadHash: b.payloadHash,
    summary: bundleSummaryView(b.summary),
    signatures: b.signatures,
    required: b.required,
    saved: b.saved,
  };
}

/** What the signers are shown of what the bundle makes the units do. */
function bundleSummaryView(s: BundleSummary): BundleView['summary'] {
  return {
    operation: s.operation,
    action: s.action,
    instanceId: s.instanceId,
    keyName: s.keyName,
    kcv: s.kcv,
    adminsInstalled: s.adminsInstalled.map((a) => ({
      name: a.name,
      fingerprintGroups: thumbprintGroups(a.thumbprint),
    })),
    adminsRemoved: s.adminsRemoved,
    thresholds: s.thresholds,
  };
}

export function cardsView(c: CardsSnapshot): CardsView {
  return {
    serviceAvailable: c.serviceAvailable,
    problem: c.problem,
    readers: c.readers.map((r) => ({
      name: r.name,
      present: r.present,
      card: r.card && {
        serial: r.card.serial,
        prepared: r.card.prepared,
        pinTriesLeft: r.card.pinTriesLeft,
        adminName: r.card.adminName,
      },
      problem: r.problem,
    })),
  };
}

export function recordView(r: RecordForCheck): RecordView {
  return {
    ceremonyId: r.ceremonyId,
    ceremonyName: r.ceremonyName,
    keyName: r.keyName,
    kcv: r.kcv,
    threshold: r.threshold,
    shares: r.shares,
    custodians: r.custodians,
    fileName: r.fileName,
  };
}

/** A share check that returns at all found the share to be the one the record committed to. */
export function shareCheckView(r: ShareChecked): ShareCheckView {
  return { shareIndex: r.shareIndex, custodian: r.custodian, kcv: r.kcv, matches: true };
}

export function interruptedView(r: InterruptedRecord): InterruptedRecordView {
  return {
    ceremonyId: r.ceremonyId,
    ceremonyName: r.ceremonyName,
    keyName: r.keyName,
    path: r.path,
    outcome: r.outcome,
    savedTo: r.savedTo,
  };
}

/** A plan file, with its SHA-256 laid out as the printed ceremony script shows it (hex groups and words). */
export function planFileView(p: SavedPlan): PlanFileView {
  const digest = Buffer.from(p.sha256, 'hex');
  return { fileName: p.fileName, sha256: p.sha256, sha256Groups: hexGroups(digest), sha256Words: pgpWords(digest) };
}

export function planOpenedView(p: OpenedPlan): PlanOpenedView {
  return {
    ...planFileView(p),
    setup: p.setup,
    units: p.units.map(planUnitView),
    notes: p.notes,
  };
}

function planUnitView(u: SetupUnit): PlanUnit {
  return { id: u.id, transportFingerprint: u.transportFingerprint ?? null };
}

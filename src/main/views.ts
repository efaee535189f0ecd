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
import type { RecoveryState } from '../core/ceremony/recovery-session.js';
import type { RotationState } from '../core/ceremony/rotation-session.js';
import type { RecoveryView, RotationView, UnitView } from '../shared/ipc.js';
import type { UnitsBundleState } from '../core/ceremony/units-bundle-session.js';
import type { UnitAdmins } from '../core/ceremony/bundle-steps.js';
import type { UnitAdminsView, UnitsBundleView, UnitsReportView } from '../shared/ipc.js';
import type { UnitsReportState } from '../core/ceremony/units-report-session.js';
import { fingerprintFromB64url, hexGroups, pgpWords } from '../core/ceremony/fingerprint.js';
import type {
  BundleSnapshot,
  CeremonyState,
  InterruptedRecord,
  OpenedPlan,
  RecordForCheck,
  RehearsalUnitsSnapshot,
  SavedPlan,
  PlanSaved,
  ShareChecked,
} from '../core/ceremony/session.js';
import type { CeremonyRow, ShareRow } from '../core/ceremony/report.js';
import type { BundleChecked, HeadComparison, RecordVerified } from '../core/ceremony/record-check.js';
import type { ReshareSnapshot } from '../core/ceremony/reshare-session.js';
import { missingCase } from '../core/errors.js';
import type { SetupUnit } from '../core/ceremony/setup-file.js';
import type { LaterPlanOpened } from '../core/ceremony/later-papers.js';
import type {
  BundleView,
  CardsView,
  CeremonyView,
  InterruptedRecordView,
  PlanFileView,
  PlanSavedView,
  PapersPlanOpenedView,
  PlanOpenedView,
  PlanUnit,
  HeadComparisonView,
  BundleCheckedView,
  RecordCeremonyView,
  RecordCheckView,
  RecordShareView,
  RecordView,
  ReshareView,
  RehearsalUnitsView,
  ShareCheckView,
} from '../shared/ipc.js';

/** A base64url certificate thumbprint (x5t#S256) as hex groups, for comparing by eye. */
function thumbprintGroups(thumbprint: string): string[] {
  return hexGroups(fingerprintFromB64url(thumbprint));
}

export function ceremonyView(s: CeremonyState): CeremonyView {
  return {
    ceremonyId: s.ceremonyId,
    mode: s.mode,
    rehearsalUnits: s.rehearsalUnits && rehearsalUnitsView(s.rehearsalUnits),
    setup: s.setup,
    step: s.step,
    units: s.units.map(unitView),
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

/** A unit's transport key as the operator compares it with the unit's display. */
function unitView(u: { unitId: string; fileName: string; fingerprint: string; confirmed: boolean }): UnitView {
  const fingerprint = Buffer.from(u.fingerprint, 'hex');
  return {
    unitId: u.unitId,
    fileName: u.fileName,
    fingerprintGroups: hexGroups(fingerprint),
    fingerprintWords: pgpWords(fingerprint),
    confirmed: u.confirmed,
  };
}

/** The recovery wizard (issue 11, ceremony 1): fingerprints as hex groups and PGP words, the bundle as signers read it. */
export function recoveryView(r: RecoveryState): RecoveryView {
  const b = r.bundle;
  return {
    step: r.step,
    record: r.record && {
      fileName: r.record.fileName,
      from: r.record.from,
      keyName: r.record.keyName,
      kcv: r.record.kcv,
      threshold: r.record.threshold,
      shares: r.record.shares,
      paperHeadGroups:
        r.record.paperHead === null ? null : hexGroups(Buffer.from(r.record.paperHead.replace(/[\s:]+/g, ''), 'hex')),
      rehearsal: r.record.rehearsal,
    },
    units: r.units.map(unitView),
    unitsMissing: [...r.unitsMissing],
    admins: r.admins.map((a) => ({
      name: a.name,
      fingerprintGroups: thumbprintGroups(a.thumbprint),
      fileName: a.fileName,
    })),
    thresholds: r.thresholds && { ...r.thresholds },
    sharesIn: r.sharesIn.map((x) => ({ ...x })),
    bundle: b && {
      bundleId: b.bundleId,
      sequence: b.sequence,
      targets: [...b.targets],
      payloadHash: b.payloadHash,
      summary: bundleSummaryView(b.summary),
      signedBy: [...b.signedBy],
      required: b.required,
      saved: b.saved && { ...b.saved },
    },
    rehearsalUnits: r.rehearsalUnits && rehearsalUnitsView(r.rehearsalUnits),
  };
}

function unitAdminsView(a: UnitAdmins): UnitAdminsView {
  return {
    admins: a.admins.map((x) => ({
      name: x.name,
      thumbprint: x.thumbprint,
      fingerprintGroups: thumbprintGroups(x.thumbprint),
    })),
    signatureThreshold: a.signatureThreshold,
    revocationThreshold: a.revocationThreshold,
  };
}

/** The units' report recorded apart from the wizard that built the bundle (issue 11). */
export function unitsReportView(r: UnitsReportState): UnitsReportView {
  const rec = r.recorded;
  return {
    step: r.step,
    record: r.record && { ...r.record },
    newRecord: r.newRecord && { ...r.newRecord },
    statuses: [...r.statuses],
    recorded: rec && {
      kind: rec.kind,
      keyName: rec.keyName,
      kcv: rec.kcv,
      line: rec.line,
      newKey: rec.newKey && { ...rec.newKey },
      instances: rec.instances.map((i) => ({
        instanceId: i.instanceId,
        units: [...i.units],
        neverLoaded: i.neverLoaded,
      })),
    },
  };
}

/** The admin-change and zeroize wizard (issue 11, ceremonies 3 and 5). */
export function unitsBundleView(r: UnitsBundleState): UnitsBundleView {
  const b = r.bundle;
  return {
    step: r.step,
    operation: r.operation,
    record: r.record && {
      fileName: r.record.fileName,
      keyName: r.record.keyName,
      kcv: r.record.kcv,
      rehearsal: r.record.rehearsal,
      admins: r.record.admins && unitAdminsView(r.record.admins),
    },
    units: r.units.map(unitView),
    unitsMissing: [...r.unitsMissing],
    rehearsalUnits: r.rehearsalUnits && rehearsalUnitsView(r.rehearsalUnits),
    current: r.current && unitAdminsView(r.current),
    change: r.change && {
      add: r.change.add.map((a) => ({
        name: a.name,
        thumbprint: a.thumbprint,
        fingerprintGroups: thumbprintGroups(a.thumbprint),
        fileName: a.fileName,
      })),
      remove: [...r.change.remove],
    },
    bundle: b && {
      bundleId: b.bundleId,
      sequence: b.sequence,
      targets: [...b.targets],
      payloadHash: b.payloadHash,
      summary: bundleSummaryView(b.summary),
      signedBy: [...b.signedBy],
      required: b.required,
      saved: b.saved && { ...b.saved },
    },
    statuses: [...r.statuses],
    destroyed: r.destroyed && {
      keyName: r.destroyed.keyName,
      kcv: r.destroyed.kcv,
      instances: r.destroyed.instances.map((i) => ({ instanceId: i.instanceId, units: [...i.units] })),
      line: r.destroyed.line,
    },
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

export function planSavedView(p: PlanSaved): PlanSavedView {
  return { ...planFileView(p), notes: p.notes };
}

export function papersPlanOpenedView(p: LaterPlanOpened): PapersPlanOpenedView {
  return { ...planFileView(p), names: p.names };
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

// ---------------------------------------------------------------------------
// The record check (issue 11, ceremony 6)

/** A record the check found sound, and its history as the printed report derives it. */
export function recordCheckView(r: RecordVerified): RecordCheckView {
  const h = r.history;
  const head = Buffer.from(r.head, 'hex');
  return {
    fileName: r.fileName,
    entries: r.entries,
    headHash: r.head,
    headGroups: hexGroups(head),
    headWords: pgpWords(head),
    rehearsal: h.rehearsal,
    keyName: h.keyName,
    kcv: h.kcv,
    ceremonies: h.ceremonies.map(recordCeremonyView),
    shares: h.issued.map((s) => recordShareView(s, h.current?.ceremony)),
    currentSet: h.current
      ? { threshold: h.current.threshold, shares: h.current.shares, ceremony: h.current.ceremony.number }
      : null,
    thresholds: h.thresholds
      ? { signature: h.thresholds.signature, revocation: h.thresholds.revocation, source: h.thresholds.source }
      : null,
    bundles: h.bundles.map((b) => ({
      bundleId: b.bundleId,
      operation: b.operation,
      sequence: b.sequence ?? null,
      targets: b.targets,
      payloadHash: b.payloadHash,
      signatures: b.signatures ?? null,
      rehearsal: b.rehearsal,
      time: b.time,
    })),
    end: h.end ?? null,
  };
}

function recordCeremonyView(c: CeremonyRow): RecordCeremonyView {
  const last = c.entries.at(-1) ?? c.opening;
  return {
    number: c.number,
    kind: c.kind,
    ceremonyName: c.ceremonyName,
    ceremonyId: c.ceremonyId,
    firstLine: c.opening.seq,
    lastLine: last.seq,
    opened: c.opening.time,
    closed: c.outcome.kind === 'open' ? null : last.time,
    actors: c.actors,
    outcome: c.outcome,
    rehearsal: c.rehearsal,
  };
}

function recordShareView(s: ShareRow, currentSet: CeremonyRow | undefined): RecordShareView {
  const base = {
    shareIndex: s.shareIndex ?? null,
    custodian: s.custodian,
    medium: s.medium,
    issuedBy: s.ceremony?.number ?? null,
  };
  switch (s.status.kind) {
    case 'current':
      return {
        ...base,
        status: { kind: 'current', inCurrentSet: s.ceremony !== undefined && s.ceremony === currentSet },
      };
    case 'retired':
      return {
        ...base,
        status: { kind: 'retired', byCeremony: s.status.by?.number ?? null, line: s.status.line, time: s.status.time },
      };
    case 'void':
      return { ...base, status: { kind: 'void', why: s.status.why } };
    default:
      return missingCase(s.status);
  }
}

export function headComparisonView(c: HeadComparison): HeadComparisonView {
  return { matches: c.matches, typedGroups: hexGroups(Buffer.from(c.typed, 'hex')) };
}

/** A bundle file checked against the opened record: what it does, who signed it, where the record holds it. */
export function bundleCheckedView(b: BundleChecked): BundleCheckedView {
  return {
    fileName: b.fileName,
    payloadHash: b.summary.payloadHash,
    sequence: b.summary.sequence,
    targets: b.summary.targets,
    rehearsal: b.summary.rehearsal,
    signers: b.summary.signers,
    summary: bundleSummaryView(b.summary),
    signatures: b.signatures.map((x) => ({
      name: x.name,
      fingerprintGroups: thumbprintGroups(x.thumbprint),
      valid: x.valid,
    })),
    claimAdmins: b.claimAdmins && b.claimAdmins.map((a) => ({ name: a.name, signed: a.signed })),
    recordedAt: b.recordedAt,
    signedInRecord: [...b.signedInRecord],
  };
}

// ---------------------------------------------------------------------------
// A rehearsal's units (issue 11, "Rehearsal mode")

/** What each rehearsal unit "displays" (the fingerprint the emulator reports), as hex groups and words. */
function rehearsalUnitsView(r: RehearsalUnitsSnapshot): RehearsalUnitsView {
  return {
    instanceId: r.instanceId,
    displays: r.displays.map((d) => {
      const fingerprint = Buffer.from(d.fingerprint, 'hex');
      return { unitId: d.unitId, fingerprintGroups: hexGroups(fingerprint), fingerprintWords: pgpWords(fingerprint) };
    }),
    loaded: r.loaded && {
      results: r.loaded.results.map((x) => ({ unitId: x.unitId, ok: x.ok, message: x.message })),
      units: r.loaded.units.map((u) => ({ unitId: u.unitId, state: u.state, kcv: u.kcv, rehearsal: u.rehearsal })),
    },
  };
}

/** The re-share wizard (issue 11, ceremony 2): what core holds, without a secret. */
export function reshareView(r: ReshareSnapshot): ReshareView {
  const done = r.done;
  return {
    phase: r.phase,
    record: r.record === null ? null : { ...r.record, holders: r.record.holders.map((h) => ({ ...h })) },
    brought: r.brought.map((b) => ({ ...b })),
    newSet: r.newSet === null ? null : { ...r.newSet, custodians: r.newSet.custodians.map((c) => ({ ...c })) },
    done:
      done === null
        ? null
        : {
            ceremonyId: done.result.ceremonyId,
            kcv: done.result.kcv,
            sharesUsed: [...done.result.sharesUsed],
            retired: { ...done.result.retired },
            issued: done.result.shares.map((s) => ({
              shareIndex: s.shareIndex,
              custodian: s.custodian,
              label: s.label,
              location: done.locations.find((l) => l.shareIndex === s.shareIndex)?.location ?? s.label,
            })),
            current: { ...done.current },
          },
  };
}

/** The rotation wizard (issue 11, ceremony 4): what core holds, without a secret; fingerprints as people compare them. */
export function rotationView(r: RotationState): RotationView {
  const b = r.bundle;
  return {
    step: r.step,
    current: r.current && { ...r.current },
    units: r.units.map(unitView),
    unitsMissing: [...r.unitsMissing],
    admins: r.admins.map((a) => ({ name: a.name, fingerprintGroups: thumbprintGroups(a.thumbprint) })),
    plan: r.plan && { ...r.plan, custodians: r.plan.custodians.map((c) => ({ ...c })) },
    newKey: r.newKey && {
      fileName: r.newKey.fileName,
      keyName: r.newKey.keyName,
      kcv: r.newKey.kcv,
      threshold: r.newKey.threshold,
      issued: r.newKey.issued.map((x) => ({ ...x })),
    },
    sharesIn: r.sharesIn.map((x) => ({ ...x })),
    bundle: b && {
      bundleId: b.bundleId,
      sequence: b.sequence,
      targets: [...b.targets],
      payloadHash: b.payloadHash,
      summary: bundleSummaryView(b.summary),
      signedBy: [...b.signedBy],
      required: b.required,
      saved: b.saved && { ...b.saved },
    },
    rehearsalUnits: r.rehearsalUnits && rehearsalUnitsView(r.rehearsalUnits),
    report: r.report && {
      statusFile: r.report.statusFile,
      entrySeq: r.report.entrySeq,
      units: r.report.instances.flatMap((i) => i.units.map((u) => ({ instanceId: i.instanceId, ...u }))),
    },
  };
}

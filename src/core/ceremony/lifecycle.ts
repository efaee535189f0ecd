import { MAX_ADMINS } from '../bundle/protocol.js';
import { modeName } from '../bundle/transport.js';
import { exactMembers } from '../encoding.js';
import { CeremonyError, missingCase } from '../errors.js';
import { readFileOrFail } from '../files.js';
import { recordMode } from './bundle-record.js';
import {
  ENTRY,
  keyDestroyedData,
  keyRetiredData,
  summarize,
  type CeremonySummary,
  type KeyEnd,
  type ReportedInstance,
  type ReportedUnit,
} from './record.js';
import { appendTranscript, headHash, readTranscript, type TranscriptEntry } from './transcript.js';

// The end of a key's life (issue 11, ceremonies 4 and 5): what the units
// say happened to a record's key, checked against the record and written
// into it once. After a rotation, every unit reports the new key (of the
// rotation's own record) current: the old key's shares are retired. After
// zeroize, every unit of every instance the record loaded its key onto
// reports no key: the key is destroyed. Either way every later use of the
// record's shares is refused, naming what ended the key (operations.ts).
//
// What the units say comes from their public status, as the reference unit
// exports it (`crypto-unit-emulator status --state DIR --json`,
// docs/unit-protocol.md §13); a real unit's agent exports the same members.

// ---------------------------------------------------------------------------
// The units' status file, parsed strictly

/**
 * A unit's state as its status names it: the unit states of
 * src/emulator/state.ts (UNIT_STATES), or `maintenance` while in
 * maintenance (its registers are still reported). Core does not import the
 * emulator; test/unit/core/lifecycle.test.ts checks the two lists agree.
 */
export const REPORTED_UNIT_STATES = [
  'cleared',
  'claimed',
  'mk-loaded',
  'mk-committed',
  'kms-initialized',
  'maintenance',
] as const;
export type ReportedUnitState = (typeof REPORTED_UNIT_STATES)[number];

/** One unit of `status --json` (docs/unit-protocol.md §13): exactly these members. */
export interface UnitStatusReport {
  id: string;
  state: ReportedUnitState;
  maintenance: boolean;
  adminThumbprints: string[];
  adminNames: string[];
  signatureThreshold: number;
  revocationThreshold: number;
  masterKeyKcv: string | null;
  masterKeyVerificationPattern: string | null;
  newMasterKeyKcv: string | null;
  newMasterKeyVerificationPattern: string | null;
  oldMasterKeyKcv: string | null;
  oldMasterKeyVerificationPattern: string | null;
  masterKeyTranscriptHash: string | null;
  lastSequence: number;
  transportFingerprint: string;
}

/** An instance's `status --json`: exactly these members. */
export interface InstanceStatusReport {
  instanceId: string;
  rehearsal: boolean;
  limits: { profile: string; keyNameMaxLength: number; maxAdmins: number };
  units: UnitStatusReport[];
  mismatches: string[];
  rootKeys: number;
}

/** A status of 16 units with 8 admins each is about 20 KB; anything much larger is not a status. */
export const MAX_STATUS_BYTES = 256 * 1024;
/** The transport file's bound on an instance's units (transport.ts). */
const MAX_UNITS = 16;
const ID = /^[A-Za-z0-9._-]{1,64}$/;
const KCV = /^[0-9A-F]{6}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;
const TEXT_MAX = 4096;

const UNIT_KEYS = [
  'id',
  'state',
  'maintenance',
  'adminThumbprints',
  'adminNames',
  'signatureThreshold',
  'revocationThreshold',
  'masterKeyKcv',
  'masterKeyVerificationPattern',
  'newMasterKeyKcv',
  'newMasterKeyVerificationPattern',
  'oldMasterKeyKcv',
  'oldMasterKeyVerificationPattern',
  'masterKeyTranscriptHash',
  'lastSequence',
  'transportFingerprint',
] as const;
const INSTANCE_KEYS = ['instanceId', 'rehearsal', 'limits', 'units', 'mismatches', 'rootKeys'] as const;

/**
 * Reads a units' status as `crypto-unit-emulator status --json` writes it:
 * at most MAX_STATUS_BYTES of UTF-8 JSON, every object with exactly its
 * members, every value its type and range; a register's KCV and
 * verification pattern both present or both null. Refused naming the
 * member, never echoing the file.
 */
export function parseUnitsStatus(bytes: Uint8Array, what: string): InstanceStatusReport {
  const refuse = (why: string): never => {
    throw new CeremonyError(
      'InvalidArgument',
      `${what} is not a units' status this tool reads (${why}). Export it again: crypto-unit-emulator status --state DIR --json > FILE.`,
    );
  };
  if (bytes.length > MAX_STATUS_BYTES) refuse(`it has ${bytes.length} bytes, more than ${MAX_STATUS_BYTES}`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    refuse('it is not UTF-8 JSON');
  }
  const exact = (o: unknown, keys: readonly string[], part: string): Record<string, unknown> => {
    const m = exactMembers(o, keys);
    if ('notObject' in m) return refuse(`${part} is not an object`);
    if ('has' in m) return refuse(`${part} does not have exactly the members ${keys.join(', ')}`);
    return m.members;
  };
  const text = (v: unknown, part: string, re?: RegExp): string =>
    typeof v === 'string' && (re ? re.test(v) : v.length <= TEXT_MAX) ? v : refuse(`${part} is malformed`);
  const orNull = (v: unknown, part: string, re: RegExp): string | null => (v === null ? null : text(v, part, re));
  const whole = (v: unknown, part: string, max: number): number =>
    Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max
      ? (v as number)
      : refuse(`${part} is not a whole number from 0 to ${max}`);
  const flag = (v: unknown, part: string): boolean =>
    typeof v === 'boolean' ? v : refuse(`${part} is not true or false`);
  const list = (v: unknown, part: string, max: number): unknown[] =>
    Array.isArray(v) && v.length <= max ? v : refuse(`${part} is not a list of at most ${max}`);

  const s = exact(raw, INSTANCE_KEYS, 'the status');
  const l = exact(s['limits'], ['profile', 'keyNameMaxLength', 'maxAdmins'], 'limits');
  const units = list(s['units'], 'units', MAX_UNITS).map((x, i): UnitStatusReport => {
    const part = `unit ${i + 1}`;
    const u = exact(x, UNIT_KEYS, part);
    const state = u['state'];
    if (typeof state !== 'string' || !(REPORTED_UNIT_STATES as readonly string[]).includes(state))
      refuse(`${part}: state is not one of ${REPORTED_UNIT_STATES.join(', ')}`);
    const register = (kcvKey: string, vpKey: string): [string | null, string | null] => {
      const kcv = orNull(u[kcvKey], `${part}: ${kcvKey}`, KCV);
      const vp = orNull(u[vpKey], `${part}: ${vpKey}`, HEX64);
      if ((kcv === null) !== (vp === null)) refuse(`${part}: ${kcvKey} and ${vpKey} are not both present or both null`);
      return [kcv, vp];
    };
    const [kcv, vp] = register('masterKeyKcv', 'masterKeyVerificationPattern');
    const [newKcv, newVp] = register('newMasterKeyKcv', 'newMasterKeyVerificationPattern');
    const [oldKcv, oldVp] = register('oldMasterKeyKcv', 'oldMasterKeyVerificationPattern');
    const thumbprints = list(u['adminThumbprints'], `${part}: adminThumbprints`, MAX_ADMINS).map((t) =>
      text(t, `${part}: an admin thumbprint`, THUMBPRINT),
    );
    const names = list(u['adminNames'], `${part}: adminNames`, MAX_ADMINS).map((n) =>
      text(n, `${part}: an admin name`),
    );
    if (names.length !== thumbprints.length) refuse(`${part}: adminNames and adminThumbprints differ in length`);
    return {
      id: text(u['id'], `${part}: id`, ID),
      state: state as ReportedUnitState,
      maintenance: flag(u['maintenance'], `${part}: maintenance`),
      adminThumbprints: thumbprints,
      adminNames: names,
      signatureThreshold: whole(u['signatureThreshold'], `${part}: signatureThreshold`, MAX_ADMINS),
      revocationThreshold: whole(u['revocationThreshold'], `${part}: revocationThreshold`, MAX_ADMINS),
      masterKeyKcv: kcv,
      masterKeyVerificationPattern: vp,
      newMasterKeyKcv: newKcv,
      newMasterKeyVerificationPattern: newVp,
      oldMasterKeyKcv: oldKcv,
      oldMasterKeyVerificationPattern: oldVp,
      masterKeyTranscriptHash: orNull(u['masterKeyTranscriptHash'], `${part}: masterKeyTranscriptHash`, HEX64),
      lastSequence: whole(u['lastSequence'], `${part}: lastSequence`, Number.MAX_SAFE_INTEGER),
      transportFingerprint: text(u['transportFingerprint'], `${part}: transportFingerprint`, HEX64),
    };
  });
  if (units.length === 0) refuse('it lists no unit');
  if (new Set(units.map((u) => u.id)).size !== units.length) refuse('a unit is listed twice');
  return {
    instanceId: text(s['instanceId'], 'instanceId', ID),
    rehearsal: flag(s['rehearsal'], 'rehearsal'),
    limits: {
      profile: text(l['profile'], 'limits: profile'),
      keyNameMaxLength: whole(l['keyNameMaxLength'], 'limits: keyNameMaxLength', 1024),
      maxAdmins: whole(l['maxAdmins'], 'limits: maxAdmins', MAX_ADMINS),
    },
    units,
    mismatches: list(s['mismatches'], 'mismatches', 64).map((m) => text(m, 'a mismatch')),
    rootKeys: whole(s['rootKeys'], 'rootKeys', Number.MAX_SAFE_INTEGER),
  };
}

/** A status file as given on the command line: its path names it in every refusal. */
export interface GivenStatus {
  label: string;
  status: InstanceStatusReport;
}

export function readUnitsStatus(path: string): GivenStatus {
  const label = `The status ${path}`;
  return { label, status: parseUnitsStatus(readFileOrFail(path, 'Status file', MAX_STATUS_BYTES), label) };
}

// ---------------------------------------------------------------------------
// The end of a key, in words, and the refusals that name it

/** What ended the key, as a clause: "the rotation to key "MK2" (KCV …) retired it (record line 12, …)". */
export function keyEndWords(end: KeyEnd): string {
  const never = end.instances.filter((i) => i.neverLoaded).map((i) => i.instanceId);
  const where = `record line ${end.line}, ${end.time}${never.length > 0 ? `; instance ${never.join(', ')} never held it` : ''}`;
  const instances = end.instances
    .filter((i) => !i.neverLoaded)
    .map((i) => i.instanceId)
    .join(', ');
  switch (end.kind) {
    case 'retired':
      return `the rotation to key "${end.rotation.keyName}" (KCV ${end.rotation.kcv}, ceremony ${end.rotation.ceremonyId}) retired it when the units of instance ${instances} reported the new key current (${where})`;
    case 'destroyed':
      return `it was destroyed: the units of instance ${instances} reported it zeroized (${where})`;
    default:
      return missingCase(end);
  }
}

/** A share of a record whose key ended: ShareRetired, naming the rotation or the destruction. */
export function shareOfEndedKeyError(
  label: string,
  shareIndex: number,
  s: CeremonySummary,
  end: KeyEnd,
): CeremonyError {
  const remedy =
    end.kind === 'retired'
      ? `it can no longer be used; the units hold key "${end.rotation.keyName}", whose shares its own record lists.`
      : 'it can no longer be used; destroy it.';
  return new CeremonyError(
    'ShareRetired',
    `${label} is share ${shareIndex} of key "${s.keyName}" (KCV ${s.kcv}), and ${keyEndWords(end)}: ${remedy}`,
    {
      end: end.kind === 'retired' ? 'rotation' : 'destruction',
      line: end.line,
      ...(end.kind === 'retired' ? { retiredBy: end.rotation.ceremonyId } : {}),
      shareIndex,
    },
  );
}

/**
 * A record whose key ended builds no bundle (bundle create of any
 * operation, the current record of a rotation): its key is on no unit.
 */
export function refuseEndedKey(s: CeremonySummary, recordLabel: string): void {
  if (!s.end) return;
  throw new CeremonyError(
    'InvalidArgument',
    `${recordLabel} holds key "${s.keyName}" (KCV ${s.kcv}), and ${keyEndWords(s.end)}: no bundle is built for it any more${s.end.kind === 'retired' ? `; use the record of key "${s.end.rotation.keyName}"` : ''}. Nothing was written.`,
    { end: s.end.kind === 'retired' ? 'rotation' : 'destruction', line: s.end.line },
  );
}

// ---------------------------------------------------------------------------
// units report: check what the units say against the record, then record it

export interface UnitsReportArgs {
  /** The record whose key the units report on. */
  recordPath: string;
  /** One status per instance the record loaded its key onto. */
  statuses: GivenStatus[];
  /** The rotation's record (the new key's, whose rotate bundle replaced this record's key); absent for a zeroize. */
  newRecordPath?: string;
  actor?: string;
  now?: () => Date;
}

export interface UnitsReportResult {
  entry: TranscriptEntry;
  end: KeyEnd;
  summary: CeremonySummary;
}

/** What the units' statuses showed, before it is recorded. */
type KeyEndDraft =
  | { kind: 'retired'; rotation: Extract<KeyEnd, { kind: 'retired' }>['rotation']; instances: ReportedInstance[] }
  | { kind: 'destroyed'; instances: ReportedInstance[] };

/** A bundle-created entry of a record, as the checks below read it. */
interface RecordedBundle {
  entry: TranscriptEntry;
  operation: string;
  instanceId: string;
  sequence: number;
  payloadHash: string;
  targets: string[];
  kcv: string;
  transcriptHash: string;
  replacesVerificationPattern: string | null;
}

function recordedBundles(entries: readonly TranscriptEntry[]): RecordedBundle[] {
  return entries
    .filter((e) => e.type === ENTRY.bundleCreated)
    .map((e) => {
      const d = e.data;
      const s = (k: string): string => (typeof d[k] === 'string' ? d[k] : '');
      return {
        entry: e,
        operation: s('operation'),
        instanceId: s('instanceId'),
        sequence: typeof d['sequence'] === 'number' ? d['sequence'] : 0,
        payloadHash: s('payloadHash'),
        targets: Array.isArray(d['targets']) ? (d['targets'] as string[]) : [],
        kcv: s('kcv'),
        transcriptHash: s('transcriptHash'),
        replacesVerificationPattern: s('replacesVerificationPattern') || null,
      };
    });
}

/** The operations that put a record's key on units. */
const LOADING_OPERATIONS = ['initialize', 'recover', 'rotate'];

function refusal(message: string, details: Record<string, string | number | boolean | null> = {}): CeremonyError {
  return new CeremonyError('UnitState', `${message} Nothing was written.`, details);
}

function unitShown(u: UnitStatusReport): string {
  return `state ${u.state}, current key ${u.masterKeyKcv ?? 'none'} (new ${u.newMasterKeyKcv ?? 'none'}, old ${u.oldMasterKeyKcv ?? 'none'}), last sequence ${u.lastSequence}`;
}

function reportedUnit(u: UnitStatusReport): ReportedUnit {
  return {
    unitId: u.id,
    state: u.state,
    currentKcv: u.masterKeyKcv,
    oldKcv: u.oldMasterKeyKcv,
    newKcv: u.newMasterKeyKcv,
    lastSequence: u.lastSequence,
    transportFingerprint: u.transportFingerprint,
  };
}

/** The status lists exactly the bundle's targets: every unit of the instance, none missing, none extra. */
function checkUnitsAreTargets(g: GivenStatus, b: RecordedBundle, bundleWords: string): void {
  const ids = g.status.units.map((u) => u.id);
  const missing = b.targets.find((t) => !ids.includes(t));
  if (missing !== undefined)
    throw refusal(
      `${g.label} does not list unit ${missing}, a target of ${bundleWords}: every unit of instance ${g.status.instanceId} must report.`,
      { unitId: missing },
    );
  const extra = ids.find((id) => !b.targets.includes(id));
  if (extra !== undefined)
    throw refusal(
      `${g.label} lists unit ${extra}, which ${bundleWords} did not address: it is not a unit the record knows for instance ${g.status.instanceId}.`,
      { unitId: extra },
    );
}

/**
 * `units report`: checks what the units' statuses say against the record
 * (and, after a rotation, the rotation's record) and, only if every unit of
 * every instance the record loaded its key onto says what the record
 * expects, appends key-retired or key-destroyed. Anything else is refused
 * naming the unit and what it reports; nothing is written.
 */
export function reportUnits(a: UnitsReportArgs): UnitsReportResult {
  const now = a.now ?? (() => new Date());
  const entries = readTranscript(a.recordPath);
  const s = summarize(entries);
  if (s.end)
    throw new CeremonyError(
      'InvalidArgument',
      `${a.recordPath} already records the end of key "${s.keyName}": ${keyEndWords(s.end)}. Nothing was written.`,
      { line: s.end.line },
    );
  if (a.statuses.length === 0) throw new CeremonyError('InvalidArgument', 'Give the status of the units (--status).');
  const bundles = recordedBundles(entries);
  // Where the record put its key: the instances of its initialize, recover and rotate bundles.
  const loadedOnto = [
    ...new Set(bundles.filter((b) => LOADING_OPERATIONS.includes(b.operation)).map((b) => b.instanceId)),
  ];
  if (loadedOnto.length === 0)
    throw refusal(
      `${a.recordPath} holds no initialize, recover or rotate bundle: its key "${s.keyName}" was never loaded onto units, so there is nothing for units to report.`,
    );
  const mode = recordMode(entries);
  const seen = new Set<string>();
  for (const g of a.statuses) {
    const id = g.status.instanceId;
    if (seen.has(id))
      throw new CeremonyError(
        'InvalidArgument',
        `${g.label} is of instance ${id} again: give one status per instance.`,
      );
    seen.add(id);
    if (!loadedOnto.includes(id))
      throw refusal(
        `${g.label} is of instance ${id}, onto which ${a.recordPath} never loaded its key (it loaded it onto instance ${loadedOnto.join(', ')}).`,
        { instanceId: id },
      );
    if (mode && mode.rehearsal !== g.status.rehearsal)
      throw new CeremonyError(
        'RehearsalMismatch',
        `${g.label} is of a ${modeName(g.status.rehearsal)} instance, but ${a.recordPath} holds a ${modeName(mode.rehearsal)} key. Nothing was written.`,
      );
  }
  const unreported = loadedOnto.find((id) => !seen.has(id));
  if (unreported !== undefined)
    throw refusal(
      `${a.recordPath} also loaded key "${s.keyName}" onto instance ${unreported}: give that instance's status too (--status), so that the record says where the key went everywhere it was.`,
      { instanceId: unreported },
    );
  // An instance a loading bundle was built for but never applied to (a recovery never ingested) never held the key.
  const never = new Map(
    a.statuses.flatMap((g) => {
      const n = neverLoadedInstance(g, s, bundles);
      return n ? [[g, n] as const] : [];
    }),
  );
  const reached = a.statuses.filter((g) => !never.has(g));
  if (reached.length === 0)
    throw refusal(
      `The units of instance ${a.statuses.map((g) => g.status.instanceId).join(', ')} never applied a bundle of ${a.recordPath} that loads key "${s.keyName}": the key never reached them, so they cannot report its end.`,
    );
  const ended: KeyEndDraft =
    a.newRecordPath !== undefined
      ? rotationEnd(a.recordPath, s, a.newRecordPath, reached)
      : destructionEnd(a.recordPath, s, bundles, reached);
  const byInstance = new Map(ended.instances.map((i) => [i.instanceId, i]));
  const draft: KeyEndDraft = {
    ...ended,
    instances: a.statuses.map((g) => never.get(g) ?? byInstance.get(g.status.instanceId)!),
  };
  const entry =
    draft.kind === 'retired'
      ? appendTranscript(
          a.recordPath,
          {
            type: ENTRY.keyRetired,
            actor: a.actor ?? 'operator',
            data: keyRetiredData(draft),
          },
          now(),
        )
      : appendTranscript(
          a.recordPath,
          {
            type: ENTRY.keyDestroyed,
            actor: a.actor ?? 'operator',
            data: keyDestroyedData({
              kcv: s.kcv,
              verificationPattern: s.verificationPattern,
              instances: draft.instances,
            }),
          },
          now(),
        );
  const recorded = summarize(readTranscript(a.recordPath));
  return { entry, end: recorded.end!, summary: recorded };
}

/**
 * The instance as one that never held the key, if its status shows it: the
 * record built bundles that load the key onto it, but every unit's last
 * applied sequence is below the first of them (a unit applies sequences in
 * increasing order only, so it never applied any), no register of any unit
 * holds the key, and the units are the bundle's targets. Null otherwise.
 */
function neverLoadedInstance(
  g: GivenStatus,
  s: CeremonySummary,
  bundles: readonly RecordedBundle[],
): ReportedInstance | null {
  const id = g.status.instanceId;
  const loading = bundles.filter((b) => LOADING_OPERATIONS.includes(b.operation) && b.instanceId === id);
  const first = Math.min(...loading.map((b) => b.sequence));
  const holds = (u: UnitStatusReport): boolean =>
    [u.masterKeyVerificationPattern, u.newMasterKeyVerificationPattern, u.oldMasterKeyVerificationPattern].includes(
      s.verificationPattern,
    );
  if (loading.length === 0 || g.status.units.some((u) => u.lastSequence >= first || holds(u))) return null;
  const b = loading.at(-1)!;
  checkUnitsAreTargets(g, b, `the ${b.operation} bundle (sequence ${b.sequence})`);
  return {
    instanceId: id,
    bundleHash: b.payloadHash,
    bundleSequence: b.sequence,
    units: g.status.units.map(reportedUnit),
    neverLoaded: true,
  };
}

/** What the record expects after a rotation; throws naming the first unit that says otherwise. */
function rotationEnd(
  recordPath: string,
  s: CeremonySummary,
  newRecordPath: string,
  statuses: readonly GivenStatus[],
): KeyEndDraft {
  const newEntries = readTranscript(newRecordPath);
  const n = summarize(newEntries);
  if (n.ceremonyId === s.ceremonyId)
    throw new CeremonyError(
      'InvalidArgument',
      `${newRecordPath} is the record of the same key as ${recordPath}: --new-record names the record of the key a rotation loaded.`,
    );
  const rotations = recordedBundles(newEntries).filter((b) => b.operation === 'rotate');
  const newKey = `key "${n.keyName}" (KCV ${n.kcv}) of ${newRecordPath}`;
  const instances = statuses.map((g): ReportedInstance => {
    const instanceId = g.status.instanceId;
    const mine = rotations.filter((b) => b.instanceId === instanceId);
    if (mine.length === 0)
      throw refusal(
        `${newRecordPath} holds no rotate bundle for instance ${instanceId}: no rotation of these units to its key was built there.`,
        {
          instanceId,
        },
      );
    let bundle: RecordedBundle | undefined;
    for (const u of g.status.units) {
      const unit = `Unit ${u.id} of instance ${instanceId}`;
      if (u.masterKeyVerificationPattern !== n.verificationPattern)
        throw refusal(
          u.masterKeyVerificationPattern === s.verificationPattern
            ? `${unit} still holds key "${s.keyName}" (KCV ${s.kcv}) of ${recordPath} current (${unitShown(u)}): ingest the rotate bundle on it (crypto-unit-emulator ingest --unit ${u.id}), then export the status again.`
            : `${unit} does not hold the new ${newKey} current: it reports ${unitShown(u)}.`,
          { unitId: u.id },
        );
      if (u.oldMasterKeyVerificationPattern !== null && u.oldMasterKeyVerificationPattern !== s.verificationPattern)
        throw refusal(
          `${unit} holds key ${u.oldMasterKeyKcv} as its old key, not key "${s.keyName}" (KCV ${s.kcv}) of ${recordPath}: it was not this key that the rotation replaced there (${unitShown(u)}).`,
          { unitId: u.id },
        );
      const by = mine.find((b) => b.transcriptHash === u.masterKeyTranscriptHash);
      if (!by)
        throw refusal(
          `${unit} holds the new ${newKey} current, but loaded by record entry ${u.masterKeyTranscriptHash ?? '(none)'}, which is no rotate bundle of ${newRecordPath} for this instance (${unitShown(u)}).`,
          { unitId: u.id },
        );
      if (bundle && bundle !== by)
        throw refusal(
          `The units of instance ${instanceId} were rotated by different bundles; export the status again once they agree.`,
        );
      bundle = by;
    }
    const b = bundle!;
    // The rotation replaced this record's key: the rotate bundle says so (replacesVerificationPattern),
    // or, in a record written before it did, every unit still holds it as its old key.
    const replaced = b.replacesVerificationPattern;
    if (
      replaced !== null
        ? replaced !== s.verificationPattern
        : g.status.units.some((u) => u.oldMasterKeyVerificationPattern !== s.verificationPattern)
    )
      throw refusal(
        `The rotate bundle of ${newRecordPath} (sequence ${b.sequence}, payload SHA-256 ${b.payloadHash}) replaced another key than key "${s.keyName}" (KCV ${s.kcv}) of ${recordPath}.`,
      );
    checkUnitsAreTargets(g, b, `the rotate bundle (sequence ${b.sequence})`);
    return {
      instanceId,
      bundleHash: b.payloadHash,
      bundleSequence: b.sequence,
      units: g.status.units.map(reportedUnit),
    };
  });
  return {
    kind: 'retired',
    rotation: {
      ceremonyId: n.ceremonyId,
      keyName: n.keyName,
      kcv: n.kcv,
      verificationPattern: n.verificationPattern,
      recordHead: headHash(newEntries),
    },
    instances,
  };
}

/** What the record expects after zeroize; throws naming the first unit that says otherwise. */
function destructionEnd(
  recordPath: string,
  s: CeremonySummary,
  bundles: readonly RecordedBundle[],
  statuses: readonly GivenStatus[],
): KeyEndDraft {
  const instances = statuses.map((g): ReportedInstance => {
    const instanceId = g.status.instanceId;
    const zeroizes = bundles.filter((b) => b.operation === 'zeroize' && b.instanceId === instanceId);
    const withKey = g.status.units.find((u) => u.masterKeyKcv !== null);
    const b = zeroizes.at(-1);
    if (!b)
      throw refusal(
        withKey
          ? `Unit ${withKey.id} of instance ${instanceId} holds key ${withKey.masterKeyKcv} current (${unitShown(withKey)}), and ${recordPath} holds no zeroize bundle for that instance. If a rotation replaced key "${s.keyName}" there, give the rotation's record (--new-record).`
          : `${recordPath} holds no zeroize bundle for instance ${instanceId}: build one (bundle create --operation zeroize), have it signed and ingested, then report.`,
        { instanceId },
      );
    for (const u of g.status.units) {
      const unit = `Unit ${u.id} of instance ${instanceId}`;
      const holds = [u.masterKeyKcv, u.newMasterKeyKcv, u.oldMasterKeyKcv].some((k) => k !== null);
      if (u.state !== 'cleared' || holds || u.adminThumbprints.length > 0)
        throw refusal(
          `${unit} is not zeroized: it reports ${unitShown(u)}, ${u.adminThumbprints.length} admins. Ingest the zeroize bundle (sequence ${b.sequence}) on it${u.state === 'maintenance' ? ' once it is out of maintenance' : ''}, then export the status again.`,
          { unitId: u.id },
        );
      if (u.lastSequence < b.sequence)
        throw refusal(
          `${unit} is cleared, but its last sequence is ${u.lastSequence}: it has not applied the zeroize bundle of ${recordPath} (sequence ${b.sequence}); it was cleared some other way. Ingest that bundle on it, then export the status again.`,
          { unitId: u.id },
        );
    }
    checkUnitsAreTargets(g, b, `the zeroize bundle (sequence ${b.sequence})`);
    return {
      instanceId,
      bundleHash: b.payloadHash,
      bundleSequence: b.sequence,
      units: g.status.units.map(reportedUnit),
    };
  });
  return { kind: 'destroyed', instances };
}

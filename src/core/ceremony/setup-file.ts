import { MAX_ADMINS, MAX_THRESHOLD } from '../bundle/protocol.js';
import { CeremonyError } from '../errors.js';
import { checkKeyName, MAX_SHARES } from '../masterkey/masterkey.js';
import { checkSeparationOfDuties, NAME_MAX, REASON_MAX } from './roster.js';
import { CEREMONY_KIND, CEREMONY_KINDS, isCeremonyKind, type CeremonyKind, type Need } from './kinds.js';

// SETUP.json (issue 11): a ceremony's plan, written before the day so that it
// can be reviewed and signed off, printed as the ceremony script, and later
// imported by the app's Set up. Parsed strictly: a fixed format string, a
// closed set of members at every level (an unknown member is refused, not
// ignored, since a misspelt "reasons" must not silently drop a reason),
// bounded sizes, and an error that names the member that is wrong.
//
// The separation-of-duties rules (issue 11, "Two-person integrity") are
// checked here too, so a plan that breaks them is refused before the day:
// one person holds at most one share; a custodian who is also an admin, or a
// signature threshold of 1, needs a written reason; a production ceremony
// needs a witness who holds no share and no admin identity.

export const SETUP_FORMAT = 'keyceremony-setup/1';
/** A setup file is a page of JSON; anything larger is not one. */
export const MAX_SETUP_BYTES = 256 * 1024;
export const SETUP_NAME_MAX = NAME_MAX;
export const MAX_WITNESSES = 16;
export const MAX_UNITS = 16;
export const BAG_NUMBER_MAX = 32;
const MAX_CARD_SERIAL = 0xffff_ffff; // a PIV card serial is 4 bytes (YubiKey GET SERIAL)

export const MEDIA = ['card', 'file'] as const;
export type SetupMedium = (typeof MEDIA)[number];
export const SETUP_MODES = ['production', 'rehearsal'] as const;
export type SetupMode = (typeof SETUP_MODES)[number];

/** Reasons the separation-of-duties rules ask for, one closed list. */
export const SETUP_REASONS = ['custodianIsAdmin', 'signatureThresholdOne'] as const;
export type SetupReason = (typeof SETUP_REASONS)[number];

export interface SetupCustodian {
  readonly name: string;
  readonly medium: SetupMedium;
  /** The card's serial, when known before the day. */
  readonly cardSerial?: number;
  /** The tamper-evident bag the card or file travels in. */
  readonly bag?: string;
}

export interface SetupAdmin {
  readonly name: string;
  /** Where the admin's signing key lives, when decided. */
  readonly medium?: SetupMedium;
}

export interface SetupUnit {
  readonly id: string;
  /** SHA-256 of the unit's transport public key, 64 lowercase hex digits, when known before the day. */
  readonly transportFingerprint?: string;
}

export interface CeremonySetupFile {
  readonly format: typeof SETUP_FORMAT;
  readonly kind: CeremonyKind;
  readonly mode: SetupMode;
  readonly ceremonyName: string;
  readonly keyName: string;
  readonly operator: string;
  /**
   * K of the shares issued (initial, reshare, rotation), or of the current key
   * (recovery; absent from a recovery from the paper report: holdersComeIn).
   */
  readonly threshold?: number;
  /** Custodians who receive a new share. */
  readonly custodians: readonly SetupCustodian[];
  /** Custodians who bring a share of the current key; none known before the day when holdersComeIn. */
  readonly holders: readonly SetupCustodian[];
  readonly admins: readonly SetupAdmin[];
  readonly witnesses: readonly { readonly name: string }[];
  readonly units: readonly SetupUnit[];
  readonly signatureThreshold?: number;
  readonly revocationThreshold?: number;
  readonly reasons: { readonly [R in SetupReason]?: string };
}

const TOP_MEMBERS = [
  'format',
  'kind',
  'mode',
  'ceremonyName',
  'keyName',
  'operator',
  'threshold',
  'custodians',
  'holders',
  'admins',
  'witnesses',
  'units',
  'signatureThreshold',
  'revocationThreshold',
  'reasons',
] as const;

function invalid(message: string): never {
  throw new CeremonyError('InvalidArgument', `SETUP.json: ${message}`);
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function object(v: unknown, path: string, members: readonly string[]): Json {
  if (!isObject(v)) invalid(`${path} must be an object.`);
  for (const k of Object.keys(v)) {
    if (!members.includes(k))
      invalid(
        `${path === '(top level)' ? '' : `${path}.`}${k} is not a member of ${SETUP_FORMAT} (it has ${members.join(', ')}).`,
      );
  }
  return v;
}

function text(v: unknown, path: string, max: number): string {
  if (typeof v !== 'string') invalid(`${path} must be a string.`);
  if (v.length === 0 || v.length > max || /[\u0000-\u001f\u007f]/.test(v))
    invalid(`${path} must be 1 to ${max} printable characters.`);
  if (v.trim() !== v) invalid(`${path} must not begin or end with a space.`);
  return v;
}

function name(v: unknown, path: string): string {
  return text(v, path, SETUP_NAME_MAX);
}

function whole(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    invalid(`${path} must be a whole number from ${min} to ${max}.`);
  return v;
}

function oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
    invalid(`${path} must be one of ${values.map((x) => `"${x}"`).join(', ')}.`);
  return v as T;
}

function list(v: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(v)) invalid(`${path} must be a list.`);
  if (v.length > max) invalid(`${path} holds ${v.length} entries; at most ${max}.`);
  return v;
}

function custodian(v: unknown, path: string): SetupCustodian {
  const o = object(v, path, ['name', 'medium', 'cardSerial', 'bag']);
  const medium = oneOf(o['medium'], `${path}.medium`, MEDIA);
  if (o['cardSerial'] !== undefined && medium !== 'card')
    invalid(`${path}.cardSerial goes with medium "card", not "${medium}".`);
  return {
    name: name(o['name'], `${path}.name`),
    medium,
    ...(o['cardSerial'] !== undefined
      ? { cardSerial: whole(o['cardSerial'], `${path}.cardSerial`, 0, MAX_CARD_SERIAL) }
      : {}),
    ...(o['bag'] !== undefined ? { bag: text(o['bag'], `${path}.bag`, BAG_NUMBER_MAX) } : {}),
  };
}

function admin(v: unknown, path: string): SetupAdmin {
  const o = object(v, path, ['name', 'medium']);
  return {
    name: name(o['name'], `${path}.name`),
    ...(o['medium'] !== undefined ? { medium: oneOf(o['medium'], `${path}.medium`, MEDIA) } : {}),
  };
}

function unit(v: unknown, path: string): SetupUnit {
  const o = object(v, path, ['id', 'transportFingerprint']);
  const id = o['id'];
  // The unit id as transport files carry it (src/core/bundle/transport.ts).
  if (typeof id !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(id))
    invalid(`${path}.id must be 1 to 64 letters, digits, ".", "_" or "-".`);
  const fp = o['transportFingerprint'];
  if (fp !== undefined && (typeof fp !== 'string' || !/^[0-9a-fA-F]{64}$/.test(fp)))
    invalid(`${path}.transportFingerprint must be the 64 hex digits of the SHA-256 of the unit's transport key.`);
  return { id, ...(typeof fp === 'string' ? { transportFingerprint: fp.toLowerCase() } : {}) };
}

/**
 * A recovery from the paper report (issue 11, ceremony 1: the key's record
 * lost) knows neither K nor who holds the shares until the shares come in:
 * its setup leaves out both `holders` and `threshold`, and its script says
 * the custodians are named as their shares come in, never inventing names.
 */
export function holdersComeIn(setup: Pick<CeremonySetupFile, 'kind' | 'threshold' | 'holders'>): boolean {
  return setup.kind === 'recovery' && setup.threshold === undefined && setup.holders.length === 0;
}

/** A member the kind needs, allows, or refuses. */
function needed(o: Json, member: string, need: Need, kind: CeremonyKind): boolean {
  const present = o[member] !== undefined;
  if (need === 'required' && !present) invalid(`${member} is required for kind "${kind}".`);
  if (need === 'none' && present) invalid(`${member} does not go with kind "${kind}".`);
  return present;
}

function distinct(names: readonly string[], what: string, rule: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    const k = n.toLocaleLowerCase();
    if (seen.has(k)) invalid(`${what} names "${n}" twice: ${rule}`);
    seen.add(k);
  }
}

/** Parses and checks a SETUP.json text; throws InvalidArgument naming the member that is wrong. */
export function parseSetupFile(content: string): CeremonySetupFile {
  if (content.length > MAX_SETUP_BYTES)
    invalid(`the file is larger than ${MAX_SETUP_BYTES} bytes; it is not a setup file.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    invalid('the file is not JSON.');
  }
  const o = object(parsed, '(top level)', TOP_MEMBERS);
  if (o['format'] !== SETUP_FORMAT) invalid(`format must be "${SETUP_FORMAT}".`);
  if (!isCeremonyKind(o['kind'])) invalid(`kind must be one of ${CEREMONY_KINDS.map((k) => `"${k}"`).join(', ')}.`);
  const kind = o['kind'];
  const def = CEREMONY_KIND[kind];
  const mode = oneOf(o['mode'], 'mode', SETUP_MODES);
  const ceremonyName = name(o['ceremonyName'], 'ceremonyName');
  const keyName = text(o['keyName'], 'keyName', SETUP_NAME_MAX);
  try {
    checkKeyName(keyName);
  } catch (e) {
    invalid(`keyName: ${(e as Error).message}`);
  }
  const operator = name(o['operator'], 'operator');

  const custodians = needed(o, 'custodians', def.issuesShares ? 'required' : 'none', kind)
    ? list(o['custodians'], 'custodians', MAX_SHARES).map((c, i) => custodian(c, `custodians[${i}]`))
    : [];
  // A recovery from the paper report names neither its holders nor K (holdersComeIn).
  const comeIn = kind === 'recovery' && o['holders'] === undefined && o['threshold'] === undefined;
  const holders = needed(o, 'holders', comeIn ? 'optional' : def.holders, kind)
    ? list(o['holders'], 'holders', MAX_SHARES).map((c, i) => custodian(c, `holders[${i}]`))
    : [];
  const admins = needed(o, 'admins', def.admins, kind)
    ? list(o['admins'], 'admins', MAX_ADMINS).map((a, i) => admin(a, `admins[${i}]`))
    : [];
  const witnesses = list(o['witnesses'] ?? [], 'witnesses', MAX_WITNESSES).map((w, i) => ({
    name: name(object(w, `witnesses[${i}]`, ['name'])['name'], `witnesses[${i}].name`),
  }));
  const units = needed(o, 'units', def.units, kind)
    ? list(o['units'], 'units', MAX_UNITS).map((u, i) => unit(u, `units[${i}]`))
    : [];
  if (def.units === 'required' && units.length === 0) invalid(`units must name at least one unit for kind "${kind}".`);
  if (def.admins === 'required' && admins.length === 0)
    invalid(`admins must name at least one admin for kind "${kind}".`);
  distinct(
    units.map((u) => u.id),
    'units',
    'each unit once.',
  );
  const onePerPerson = 'one person holds at most one share of a key.';
  distinct(
    custodians.map((c) => c.name),
    'custodians',
    onePerPerson,
  );
  distinct(
    holders.map((c) => c.name),
    'holders',
    onePerPerson,
  );
  distinct(
    admins.map((a) => a.name),
    'admins',
    'give each admin a distinct name.',
  );
  distinct(
    witnesses.map((w) => w.name),
    'witnesses',
    'give each witness a distinct name.',
  );
  const serials = [...custodians, ...holders].flatMap((c) =>
    c.cardSerial === undefined ? [] : [String(c.cardSerial)],
  );
  distinct(serials, 'the card serials', 'one card holds one share.');

  // K: of the new split, or of the key being recovered.
  let threshold: number | undefined;
  if (def.issuesShares) {
    threshold = whole(o['threshold'], 'threshold', 2, MAX_SHARES);
    if (custodians.length < 2) invalid('custodians must name at least 2 custodians (one share each).');
    if (threshold > custodians.length)
      invalid(`threshold is ${threshold}, but custodians names only ${custodians.length}: K must be at most N.`);
  } else if (kind === 'recovery' && !comeIn) {
    threshold = whole(o['threshold'], 'threshold', 2, MAX_SHARES);
    if (holders.length < threshold)
      invalid(`holders names ${holders.length} custodians, fewer than the threshold ${threshold} the key needs.`);
  } else if (o['threshold'] !== undefined) {
    invalid(`threshold does not go with kind "${kind}".`);
  }
  if (def.holders === 'required' && holders.length === 0 && !comeIn)
    invalid(`holders must name at least one custodian for kind "${kind}".`);
  if (kind === 'reshare' && holders.length < 2)
    invalid('holders must name the at least 2 custodians who bring the current shares (K of them rebuild the key).');

  // Admin thresholds: both or neither, and within the admins who take part when the units are claimed.
  const hasSig = needed(o, 'signatureThreshold', def.adminThresholds, kind);
  const hasRev = needed(o, 'revocationThreshold', def.adminThresholds, kind);
  if (hasSig !== hasRev) invalid('signatureThreshold and revocationThreshold go together.');
  let signatureThreshold: number | undefined;
  let revocationThreshold: number | undefined;
  if (hasSig) {
    signatureThreshold = whole(o['signatureThreshold'], 'signatureThreshold', 1, MAX_THRESHOLD);
    revocationThreshold = whole(o['revocationThreshold'], 'revocationThreshold', 1, MAX_THRESHOLD);
    // An admin change names the admins taking part, not the set after the change; the bundle checks that one.
    if (kind !== 'admin-change') {
      for (const [member, t] of [
        ['signatureThreshold', signatureThreshold],
        ['revocationThreshold', revocationThreshold],
      ] as const) {
        if (t > admins.length)
          invalid(`${member} is ${t}, but admins names only ${admins.length}: nobody could sign (a lock-out).`);
      }
    }
  }

  const reasonsObject = object(o['reasons'] ?? {}, 'reasons', SETUP_REASONS);
  const reasons: { [R in SetupReason]?: string } = {};
  for (const r of SETUP_REASONS) {
    if (reasonsObject[r] !== undefined) reasons[r] = text(reasonsObject[r], `reasons.${r}`, REASON_MAX);
  }

  // Separation of duties (issue 11): the rules of the app's Set up (roster.ts), said as SETUP.json's.
  try {
    checkSeparationOfDuties(
      {
        admins: admins.map((a) => a.name),
        custodians: [...custodians, ...holders].map((c) => c.name),
        witnesses: witnesses.map((w) => w.name),
      },
      signatureThreshold,
      reasons,
      mode,
    );
  } catch (e) {
    if (e instanceof CeremonyError) invalid(e.message);
    throw e;
  }

  return {
    format: SETUP_FORMAT,
    kind,
    mode,
    ceremonyName,
    keyName,
    operator,
    ...(threshold !== undefined ? { threshold } : {}),
    custodians,
    holders,
    admins,
    witnesses,
    units,
    ...(signatureThreshold !== undefined ? { signatureThreshold, revocationThreshold: revocationThreshold! } : {}),
    reasons,
  };
}

/**
 * The setup as SETUP.json text: members in a fixed order, members a kind does
 * not use left out, two-space indent, a final newline. Checked by parsing it
 * back, so an adapter can never write a file the parser refuses.
 */
export function serializeSetupFile(setup: CeremonySetupFile): string {
  const def = CEREMONY_KIND[setup.kind];
  const people = (cs: readonly SetupCustodian[]) =>
    cs.map((c) => ({
      name: c.name,
      medium: c.medium,
      ...(c.cardSerial !== undefined ? { cardSerial: c.cardSerial } : {}),
      ...(c.bag !== undefined ? { bag: c.bag } : {}),
    }));
  const out: Json = {
    format: SETUP_FORMAT,
    kind: setup.kind,
    mode: setup.mode,
    ceremonyName: setup.ceremonyName,
    keyName: setup.keyName,
    operator: setup.operator,
  };
  if (setup.threshold !== undefined) out['threshold'] = setup.threshold;
  if (def.issuesShares) out['custodians'] = people(setup.custodians);
  if (def.holders !== 'none' && (setup.holders.length > 0 || (def.holders === 'required' && !holdersComeIn(setup))))
    out['holders'] = people(setup.holders);
  if (def.admins !== 'none')
    out['admins'] = setup.admins.map((a) => ({
      name: a.name,
      ...(a.medium !== undefined ? { medium: a.medium } : {}),
    }));
  out['witnesses'] = setup.witnesses.map((w) => ({ name: w.name }));
  if (def.units !== 'none')
    out['units'] = setup.units.map((u) => ({
      id: u.id,
      ...(u.transportFingerprint !== undefined ? { transportFingerprint: u.transportFingerprint } : {}),
    }));
  if (setup.signatureThreshold !== undefined) out['signatureThreshold'] = setup.signatureThreshold;
  if (setup.revocationThreshold !== undefined) out['revocationThreshold'] = setup.revocationThreshold;
  const reasons = SETUP_REASONS.filter((r) => setup.reasons[r] !== undefined);
  if (reasons.length > 0) out['reasons'] = Object.fromEntries(reasons.map((r) => [r, setup.reasons[r]]));
  const textOut = `${JSON.stringify(out, null, 2)}\n`;
  parseSetupFile(textOut);
  return textOut;
}

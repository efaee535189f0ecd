import type { TransportKey } from '../bundle/transport.js';
import { groupHex } from '../encoding.js';
import { CeremonyError } from '../errors.js';
import { CEREMONY_KIND } from './kinds.js';
import { checkSetup, type CeremonySetup, type RosterMedium } from './roster.js';
import {
  SETUP_FORMAT,
  SETUP_REASONS,
  MAX_UNITS,
  type CeremonySetupFile,
  type SetupCustodian,
  type SetupUnit,
} from './setup-file.js';

// The app's Set up and SETUP.json (issue 11: "The app's Set up can export and
// import SETUP.json, so a ceremony's plan can be reviewed and signed off
// before the day"). The form holds an initial production ceremony's set-up
// (roster.ts) and, for the plan only, the crypto units its bundle goes to;
// SETUP.json holds any kind (setup-file.ts). These functions map one to the
// other, checked by the same rules both ways: the form by checkSetup, the
// file by parseSetupFile / serializeSetupFile.

/** The medium a plan's admin gets on the form when the plan leaves it open (SETUP.json's admins[].medium is optional). */
export const DEFAULT_ADMIN_MEDIUM: RosterMedium = 'card';

const UNIT_ID = /^[A-Za-z0-9._-]{1,64}$/;

function invalid(message: string, details?: Record<string, string>): never {
  throw new CeremonyError('InvalidArgument', message, details);
}

/**
 * The plan's crypto units, as the form typed them: ids as the units show
 * them, transport key fingerprints (hex; spaces between groups allowed)
 * when known before the day. Returns them as SETUP.json holds them.
 */
export function checkPlanUnits(units: readonly SetupUnit[]): SetupUnit[] {
  if (units.length === 0)
    invalid(
      'A plan names the crypto units its bundle goes to: add at least one unit (its id, and its transport key fingerprint if known).',
    );
  if (units.length > MAX_UNITS) invalid(`A plan names at most ${MAX_UNITS} units; this one has ${units.length}.`);
  const seen = new Set<string>();
  return units.map((u, i) => {
    const id = u.id.trim();
    if (!UNIT_ID.test(id)) invalid(`Unit ${i + 1}'s id must be 1 to 64 letters, digits, ".", "_" or "-".`);
    if (seen.has(id)) invalid(`Two units are both "${id}"; name each unit once.`);
    seen.add(id);
    if (u.transportFingerprint === undefined) return { id };
    const fp = u.transportFingerprint.replace(/\s+/g, '').toLowerCase();
    if (fp === '') return { id };
    if (!/^[0-9a-f]{64}$/.test(fp))
      invalid(
        `Unit ${i + 1}'s transport key fingerprint must be the 64 hex digits of the SHA-256 of its transport key; leave it empty if it is not known yet.`,
      );
    return { id, transportFingerprint: fp };
  });
}

/**
 * The form's values as a SETUP.json plan: an initial ceremony in production
 * (the only kind and mode the app's Set up runs), checked with the Set up's
 * rules (checkSetup) first. `from` is the plan the form was filled from: what
 * of it the form has no field for (a custodian's card serial and bag number)
 * is kept for each custodian still on the form with the same name and
 * medium, so that re-saving an approved plan drops nothing its reviewers
 * wrote (carriedFromPlan says what was kept and what was not).
 */
export function planOfForm(
  form: CeremonySetup,
  units: readonly SetupUnit[],
  from?: CeremonySetupFile,
): CeremonySetupFile {
  const setup = checkSetup(form, 'production');
  return {
    format: SETUP_FORMAT,
    kind: 'initial',
    mode: 'production',
    ceremonyName: setup.ceremonyName,
    keyName: setup.keyName,
    operator: setup.operator,
    threshold: setup.threshold,
    custodians: setup.custodians.map((c) => ({
      name: c.name,
      medium: c.medium,
      ...paperOf(from?.custodians.find((p) => p.name === c.name && p.medium === c.medium)),
    })),
    holders: [],
    admins: setup.admins.map((a) => ({ name: a.name, medium: a.medium })),
    witnesses: setup.witnesses.map((name) => ({ name })),
    units: checkPlanUnits(units),
    signatureThreshold: setup.signatureThreshold,
    revocationThreshold: setup.revocationThreshold,
    reasons: { ...setup.reasons },
  };
}

/** What a plan says of a custodian that the Set up form has no field for. */
function paperOf(c: SetupCustodian | undefined): Pick<SetupCustodian, 'cardSerial' | 'bag'> {
  if (c === undefined) return {};
  return {
    // A card serial only goes with a card (parseSetupFile refuses it on a file).
    ...(c.cardSerial !== undefined && c.medium === 'card' ? { cardSerial: c.cardSerial } : {}),
    ...(c.bag !== undefined ? { bag: c.bag } : {}),
  };
}

function paperWords(c: Pick<SetupCustodian, 'cardSerial' | 'bag'>): string {
  return [
    ...(c.cardSerial !== undefined ? [`card serial ${c.cardSerial}`] : []),
    ...(c.bag !== undefined ? [`bag ${c.bag}`] : []),
  ].join(', ');
}

/**
 * Plain sentences for the person who saved `plan` (planOfForm) from a form
 * filled from `from`: the card serials and bag numbers kept, and those
 * dropped because their custodian left the form or changed medium. Empty
 * when the opened plan had none.
 */
export function carriedFromPlan(from: CeremonySetupFile, plan: CeremonySetupFile): string[] {
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const p of from.custodians) {
    const words = paperWords(p);
    if (words === '') continue;
    const now = plan.custodians.find((c) => c.name === p.name);
    if (now !== undefined && now.medium === p.medium) kept.push(`"${p.name}" (${words})`);
    else
      dropped.push(
        `"${p.name}" (${words}; ${now === undefined ? 'no longer a custodian' : `now on a ${now.medium}, not a ${p.medium}`})`,
      );
  }
  const notes: string[] = [];
  if (kept.length > 0)
    notes.push(
      `Kept from the plan it was filled from, as the form has no field for them: the card serials and bag numbers of ${quoted(kept, false)}.`,
    );
  if (dropped.length > 0)
    notes.push(
      `Not kept: the card serials and bag numbers of ${quoted(dropped, false)}. Add them to the plan by hand if they still hold.`,
    );
  return notes;
}

/** A plan as the form shows it, and what of the plan the form does not hold. */
export interface FormOfPlan {
  readonly setup: CeremonySetup;
  readonly units: readonly SetupUnit[];
  /** Plain sentences: what the form set that the plan left open, and what it does not keep. */
  readonly notes: readonly string[];
}

function quoted(names: readonly string[], quote = true): string {
  const q = quote ? names.map((n) => `"${n}"`) : [...names];
  return q.length === 1 ? q[0]! : `${q.slice(0, -1).join(', ')} and ${q.at(-1)!}`;
}

/**
 * A parsed SETUP.json as the Set up form's values. Only an initial ceremony
 * in production: the app runs no other kind, nor rehearsals, yet; those run
 * from the command line. The result is checked with the Set up's rules, so a
 * plan the app cannot start is refused when it is opened, not on the day.
 */
export function formOfPlan(plan: CeremonySetupFile): FormOfPlan {
  if (plan.kind !== 'initial')
    invalid(
      `This plan is for a ceremony of kind "${plan.kind}" (${CEREMONY_KIND[plan.kind].title.toLowerCase()}); the app's Set up runs the initial ceremony only for now. Run this one with the keyceremony command line until the app has it.`,
      { member: 'kind' },
    );
  if (plan.mode !== 'production')
    invalid(
      `This plan is a rehearsal (mode "${plan.mode}"); the app runs production ceremonies only for now. Rehearse with the keyceremony command line (npm run rehearsal) until the app has rehearsals.`,
      { member: 'mode' },
    );
  // An initial plan always has these (setup-file.ts: issuesShares and adminThresholds are required).
  if (plan.threshold === undefined || plan.signatureThreshold === undefined || plan.revocationThreshold === undefined)
    invalid('The plan lacks its thresholds.');
  const openMedium = plan.admins.filter((a) => a.medium === undefined).map((a) => a.name);
  const notes: string[] = [];
  if (openMedium.length > 0)
    notes.push(
      `The plan leaves open where ${quoted(openMedium)} ${openMedium.length === 1 ? 'keeps an' : 'keep their'} admin identity; the form sets a smart card (the signing key cannot be copied off it). Choose a file instead if that was the plan.`,
    );
  if ([...plan.custodians].some((c) => c.cardSerial !== undefined || c.bag !== undefined))
    notes.push(
      'The card serials and bag numbers of the plan are not on the form: they stay in the plan file and its printed script, and saving the form as a plan (or printing its script) keeps them for each custodian who keeps their name and medium.',
    );
  const form: CeremonySetup = {
    ceremonyName: plan.ceremonyName,
    keyName: plan.keyName,
    threshold: plan.threshold,
    signatureThreshold: plan.signatureThreshold,
    revocationThreshold: plan.revocationThreshold,
    operator: plan.operator,
    admins: plan.admins.map((a) => ({ name: a.name, medium: a.medium ?? DEFAULT_ADMIN_MEDIUM })),
    custodians: plan.custodians.map((c) => ({ name: c.name, medium: c.medium })),
    witnesses: plan.witnesses.map((w) => w.name),
    reasons: { ...plan.reasons },
  };
  let setup: CeremonySetup;
  try {
    setup = checkSetup(form, 'production');
  } catch (e) {
    if (e instanceof CeremonyError)
      throw new CeremonyError('InvalidArgument', `The app's Set up cannot take this plan: ${e.message}`, e.details);
    throw e;
  }
  return { setup, units: plan.units, notes };
}

/** The members of SETUP.json in which a set-up differs from the plan's, in the file's order; empty when it follows the plan. */
export function planDifferences(
  started: CeremonySetup,
  plan: CeremonySetup,
  units?: { readonly form: readonly SetupUnit[]; readonly plan: readonly SetupUnit[] },
): string[] {
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const reasons = (s: CeremonySetup) => SETUP_REASONS.map((r) => s.reasons[r] ?? null);
  const members: Array<[string, unknown, unknown]> = [
    ['ceremonyName', started.ceremonyName, plan.ceremonyName],
    ['keyName', started.keyName, plan.keyName],
    ['operator', started.operator, plan.operator],
    ['threshold', started.threshold, plan.threshold],
    ['custodians', started.custodians, plan.custodians],
    ['admins', started.admins, plan.admins],
    ['witnesses', started.witnesses, plan.witnesses],
    ...(units ? ([['units', units.form, units.plan]] as Array<[string, unknown, unknown]>) : []),
    ['signatureThreshold', started.signatureThreshold, plan.signatureThreshold],
    ['revocationThreshold', started.revocationThreshold, plan.revocationThreshold],
    ['reasons', reasons(started), reasons(plan)],
  ];
  return members.filter(([, a, b]) => !same(a, b)).map(([m]) => m);
}

/**
 * A transport file loaded on the day against the units of the plan the
 * ceremony was started from (SETUP.json `units`, signed off before the day:
 * the reviewers' statement of which units receive the key). With no units
 * planned there is nothing to check. Otherwise the file's unit must be one
 * the plan names, its transport key the fingerprint the plan gives for that
 * unit (when the plan gives one), and its instance's units exactly the
 * plan's: a bundle goes to every unit of the instance (docs/unit-protocol.md
 * §3), so a plan names all of them, no fewer and no more. Refused before the
 * unit is added or confirmed; nothing is recorded (as with a fingerprint
 * that does not match the unit's display, bundle-record.ts).
 */
export function checkTransportOfPlan(planned: readonly SetupUnit[], t: TransportKey, fileName: string): void {
  if (planned.length === 0) return;
  const { unitId, fingerprint, instanceId } = t.file;
  const ids = planned.map((u) => u.id);
  const unit = planned.find((u) => u.id === unitId);
  if (unit === undefined)
    throw new CeremonyError(
      'InvalidArgument',
      `${fileName} is the transport file of unit ${unitId} (transport key ${groupHex(fingerprint)}), which the plan this ceremony was set up from does not name: its units are ${ids.join(', ')}. ` +
        'Load the transport file of a unit the plan names; a unit the reviewers did not sign off never receives the key. Nothing was recorded.',
      { unitId, file: fingerprint, planned: null },
    );
  if (unit.transportFingerprint !== undefined && unit.transportFingerprint !== fingerprint)
    throw new CeremonyError(
      'TransportFingerprintMismatch',
      `Unit ${unitId}: ${fileName} holds transport key ${groupHex(fingerprint)}, but the plan this ceremony was set up from gives ${groupHex(unit.transportFingerprint)} for it. ` +
        'The file is not the key the plan was signed off for: do not use it. Export the transport key from the unit again and compare it with the unit\u2019s display and the printed script. Nothing was recorded.',
      { unitId, file: fingerprint, planned: unit.transportFingerprint },
    );
  const extra = t.file.units.filter((u) => !ids.includes(u));
  const absent = ids.filter((u) => !t.file.units.includes(u));
  if (extra.length > 0 || absent.length > 0)
    throw new CeremonyError(
      'InvalidArgument',
      `The units of instance ${instanceId} are ${t.file.units.join(', ')}, but the plan this ceremony was set up from names ${ids.join(', ')}. ` +
        'The bundle goes to every unit of the instance, so the plan must name each of them: ' +
        `${absent.length > 0 ? `the instance has no unit ${absent.join(', ')}` : `the plan does not name ${extra.join(', ')}`}. ` +
        'Use the instance the plan names, or set up the ceremony from a plan of this instance. Nothing was recorded.',
      { unitId, instanceId },
    );
}

/** The units the plan names whose transport file is not loaded yet, in the plan's order. */
export function plannedUnitsMissing(planned: readonly SetupUnit[], loaded: readonly string[]): string[] {
  return planned.map((u) => u.id).filter((id) => !loaded.includes(id));
}

import { checkThresholds, MAX_ADMINS } from '../bundle/protocol.js';
import { CeremonyError } from '../errors.js';
import { checkAdminName } from '../identity/certificate.js';
import { checkKeyName, checkThreshold, MAX_SHARES } from '../masterkey/masterkey.js';

// The ceremony's roster and numbers, as the Set up step enters them: checked
// here once, before anything is created. This is the domain's shape; the
// IPC contract (src/shared/ipc.ts) keeps its own, structurally identical one,
// and main passes one for the other.

export type RosterMedium = 'card' | 'file';

export interface RosterParticipant {
  readonly name: string;
  readonly medium: RosterMedium;
}

/**
 * Why the set-up departs from separation of duties (issue 11, "Two-person
 * integrity"), in the set-up's own words; recorded in the ceremony-opened
 * entry. The member names are SETUP.json's (src/core/ceremony/setup-file.ts).
 */
export interface SetupReasons {
  /** Why a custodian is also an admin of the same ceremony. */
  readonly custodianIsAdmin?: string;
  /** Why one admin's signature is enough. */
  readonly signatureThresholdOne?: string;
}

export interface CeremonySetup {
  readonly ceremonyName: string;
  readonly keyName: string;
  /** Shares needed to recover the master key (K). */
  readonly threshold: number;
  /** Admin signatures each later bundle needs (the claim's threshold). */
  readonly signatureThreshold: number;
  /** Admin signatures needed to remove an admin or lower a threshold (the claim's revocation threshold). */
  readonly revocationThreshold: number;
  /** The person running the ceremony at the keyboard between handoffs. */
  readonly operator: string;
  readonly admins: readonly RosterParticipant[];
  /** One share per custodian: N = custodians.length. */
  readonly custodians: readonly RosterParticipant[];
  readonly witnesses: readonly string[];
  readonly reasons: SetupReasons;
}

/** A production ceremony is held to every rule; a rehearsal (no real key) needs no independent witness. */
export type RosterMode = 'production' | 'rehearsal';

/** A person's or a ceremony's name, here and in SETUP.json. */
export const NAME_MAX = 64;
/** A reason is a sentence or a short paragraph, here and in SETUP.json. */
export const REASON_MAX = 1000;

function invalid(message: string, details?: Record<string, string>): never {
  throw new CeremonyError('InvalidArgument', message, details);
}

/** A person's name as the record holds it: trimmed, 1 to 64 printable characters. */
export function cleanName(value: string, what: string): string {
  const name = value.trim();
  if (name.length === 0 || name.length > NAME_MAX || /[\u0000-\u001f\u007f]/.test(name)) {
    invalid(`${what} must be 1 to ${NAME_MAX} printable characters.`);
  }
  return name;
}

/** Names compare as people do: trimmed (cleanName) and without case. */
export const personKey = (name: string): string => name.toLocaleLowerCase();

function distinct(names: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    const k = personKey(n);
    if (seen.has(k)) invalid(`Two ${what} are both called "${n}"; give each person a distinct name.`);
    seen.add(k);
  }
}

/** A reason as given: trimmed; blank counts as none. */
function cleanReason(value: string | undefined, what: string): string | undefined {
  if (value === undefined) return undefined;
  const reason = value.trim();
  if (reason.length === 0) return undefined;
  if (reason.length > REASON_MAX || /[\u0000-\u001f\u007f]/.test(reason))
    invalid(`${what} must be at most ${REASON_MAX} printable characters on one line.`);
  return reason;
}

/**
 * Separation of duties (issue 11, "Two-person integrity", the CSA's seed),
 * for the app's Set up and for SETUP.json alike:
 * one person holds at most one share (checked with the names); a custodian
 * is not an admin of the same ceremony, nor does one admin sign alone,
 * unless the set-up says why; a production ceremony has a witness who holds
 * no share and no admin identity. Each refusal is one sentence naming the
 * person.
 */
export function checkSeparationOfDuties(
  roster: { admins: readonly string[]; custodians: readonly string[]; witnesses: readonly string[] },
  /** The claim's signature threshold; undefined for a ceremony that sets none. */
  signatureThreshold: number | undefined,
  reasons: SetupReasons,
  mode: RosterMode,
): void {
  const admins = new Set(roster.admins.map(personKey));
  const custodians = new Set(roster.custodians.map(personKey));
  const both = roster.custodians.filter((c) => admins.has(personKey(c)));
  if (both.length > 0 && reasons.custodianIsAdmin === undefined) {
    invalid(
      `${quoteList(both)} ${both.length === 1 ? 'is' : 'are'} both a custodian and an admin of this ceremony: one person holds a share or an admin identity, not both, unless the set-up gives the reason (which is recorded).`,
      { person: both[0]! },
    );
  }
  if (both.length === 0 && reasons.custodianIsAdmin !== undefined)
    invalid('A reason for a custodian who is also an admin is given, but no custodian is an admin; leave it out.');
  if (signatureThreshold === 1 && reasons.signatureThresholdOne === undefined) {
    invalid(
      'A signature threshold of 1 lets one admin alone sign for the units: the set-up must give the reason (which is recorded), or raise the threshold.',
    );
  }
  if (signatureThreshold !== 1 && reasons.signatureThresholdOne !== undefined)
    invalid(
      `A reason for a signature threshold of 1 is given, but ${signatureThreshold === undefined ? 'this ceremony sets no signature threshold' : `the signature threshold is ${signatureThreshold}`}; leave it out.`,
    );
  if (
    mode === 'production' &&
    !roster.witnesses.some((w) => !admins.has(personKey(w)) && !custodians.has(personKey(w)))
  ) {
    const need = 'A production ceremony needs at least one witness who holds no share and no admin identity';
    if (roster.witnesses.length === 0) invalid(`${need}; add one.`);
    const roles = roster.witnesses.map(
      (w) =>
        `"${w}" is also ${[
          custodians.has(personKey(w)) ? 'a custodian' : '',
          admins.has(personKey(w)) ? 'an admin' : '',
        ]
          .filter((r) => r !== '')
          .join(' and ')}`,
    );
    const count = roles.length === 1 ? 'so does not count' : 'so none of them counts';
    invalid(`${need}: ${roles.join(', ')}, ${count}; add a witness who is neither.`, {
      person: roster.witnesses[0]!,
    });
  }
}

function quoteList(names: readonly string[]): string {
  const q = names.map((n) => `"${n}"`);
  return q.length === 1 ? q[0]! : `${q.slice(0, -1).join(', ')} and ${q.at(-1)!}`;
}

/** Checks the roster and numbers (for a production ceremony unless told otherwise); returns it trimmed. */
export function checkSetup(s: CeremonySetup, mode: RosterMode = 'production'): CeremonySetup {
  const ceremonyName = cleanName(s.ceremonyName, 'The ceremony name');
  const keyName = s.keyName.trim();
  checkKeyName(keyName);
  const operator = cleanName(s.operator, 'The operator name');
  const admins = s.admins.map((a, i) => ({
    name: checkAdminName(cleanName(a.name, `Admin ${i + 1}'s name`)),
    medium: a.medium,
  }));
  const custodians = s.custodians.map((c, i) => ({
    name: cleanName(c.name, `Custodian ${i + 1}'s name`),
    medium: c.medium,
  }));
  const witnesses = s.witnesses.map((w, i) => cleanName(w, `Witness ${i + 1}'s name`));
  if (admins.length < 1 || admins.length > MAX_ADMINS)
    invalid(`A ceremony has 1 to ${MAX_ADMINS} admins; this one has ${admins.length}.`);
  if (custodians.length < 2 || custodians.length > MAX_SHARES) {
    invalid(`A ceremony has 2 to ${MAX_SHARES} custodians (one share each); this one has ${custodians.length}.`);
  }
  distinct(
    admins.map((a) => a.name),
    'admins',
  );
  // One person holds at most one share of a key (issue 11).
  distinct(
    custodians.map((c) => c.name),
    'custodians',
  );
  distinct(witnesses, 'witnesses');
  checkThreshold(s.threshold, custodians.length);
  // The claim's two thresholds (docs/unit-protocol.md): within the admins, so that no set-up locks the units out.
  checkThresholds(
    { signatureThreshold: s.signatureThreshold, revocationThreshold: s.revocationThreshold },
    admins.length,
    'The ceremony',
  );
  const custodianIsAdmin = cleanReason(s.reasons.custodianIsAdmin, 'The reason a custodian is also an admin');
  const signatureThresholdOne = cleanReason(
    s.reasons.signatureThresholdOne,
    'The reason for a signature threshold of 1',
  );
  const reasons: SetupReasons = {
    ...(custodianIsAdmin !== undefined ? { custodianIsAdmin } : {}),
    ...(signatureThresholdOne !== undefined ? { signatureThresholdOne } : {}),
  };
  checkSeparationOfDuties(
    { admins: admins.map((a) => a.name), custodians: custodians.map((c) => c.name), witnesses },
    s.signatureThreshold,
    reasons,
    mode,
  );
  return {
    ceremonyName,
    keyName,
    threshold: s.threshold,
    signatureThreshold: s.signatureThreshold,
    revocationThreshold: s.revocationThreshold,
    operator,
    admins,
    custodians,
    witnesses,
    reasons,
  };
}

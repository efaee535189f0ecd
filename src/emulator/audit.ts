import { canonicalJson, sha256Hex } from '../core/encoding.js';
import { CeremonyError, missingCase } from '../core/errors.js';
import type { AuditEntry, UnitState } from './state.js';

// A unit's audit log (issue 8, "The units' life"; DESIGN.md, "The
// crypto-unit emulator"): every bundle the unit was offered, applied or
// not, and every local action, one entry each. The entries form a hash
// chain (each names the hash of the one before), so an entry altered,
// removed or inserted in the middle breaks the chain at that point.
//
// What a chain alone cannot show: a log rewritten from some entry on with
// every later hash recomputed, or cut off at its end. Only a head hash
// kept elsewhere catches that (as `transcript verify --head` does for the
// ceremony record); the unit keeps none today.

export const AUDIT_RESULTS = [
  'applied',
  'already-applied',
  'rejected',
  'local',
] as const satisfies readonly AuditEntry['result'][];
export type AuditResult = (typeof AUDIT_RESULTS)[number];

/**
 * Caps on what a bundle can put in the log. The bundle id, its operation,
 * its signers' thumbprints and the refusal's wording all come from a file
 * anyone could have written; a hostile bundle must not be able to bloat
 * every unit's state by being offered once.
 */
export const AUDIT_REASON_MAX = 500;
/** IBM's units take at most 8 admins, so no honest bundle carries more signatures. */
export const AUDIT_SIGNERS_MAX = 8;
/** A thumbprint is 43 characters (base64url SHA-256); the cap leaves room for hex forms. */
export const AUDIT_SIGNER_MAX = 64;
/** Bundle ids are UUIDs, operations and codes short words; 64 characters is plenty. */
export const AUDIT_FIELD_MAX = 64;

/** The `prev` of the first entry: no entry before it. */
export const AUDIT_GENESIS = '0'.repeat(64);

export type AuditInput = Pick<
  AuditEntry,
  'bundleId' | 'operation' | 'payloadHash' | 'signers' | 'result' | 'code' | 'reason'
>;

const ELLIPSIS = '…';

/** Cuts text to at most `max` characters (code points, so no surrogate pair is split). */
function capText(text: string, max: number): string {
  // Never more than max + 1 code points are looked at, however long the text.
  const chars = Array.from(text.length > max * 2 + 2 ? text.slice(0, max * 2 + 2) : text);
  return chars.length <= max ? chars.join('') : chars.slice(0, max - 1).join('') + ELLIPSIS;
}

const capNullable = (text: string | null, max: number): string | null => (text === null ? null : capText(text, max));

/** The hash of an entry: SHA-256 of the canonical JSON of every field but `hash`. */
export function auditEntryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { seq, time, bundleId, operation, payloadHash, signers, result, code, reason, prev } = entry;
  return sha256Hex(canonicalJson({ seq, time, bundleId, operation, payloadHash, signers, result, code, reason, prev }));
}

/**
 * Appends one entry to the unit's log (mutates `unit.audit`) and returns it.
 * Whatever came from the bundle is capped first (see AUDIT_REASON_MAX); when
 * a bundle carried more signatures than are logged, the reason says how many.
 */
export function appendAudit(unit: UnitState, e: AuditInput, now: Date): AuditEntry {
  const last = unit.audit[unit.audit.length - 1];
  let reason = e.reason;
  if (e.signers.length > AUDIT_SIGNERS_MAX) {
    // Said first, so the reason's cap cannot cut it off.
    reason = `(the bundle carried ${e.signers.length} signatures; the first ${AUDIT_SIGNERS_MAX} are logged) ${reason}`;
  }
  const body: Omit<AuditEntry, 'hash'> = {
    seq: unit.audit.length + 1,
    time: now.toISOString(),
    bundleId: capNullable(e.bundleId, AUDIT_FIELD_MAX),
    operation: capNullable(e.operation, AUDIT_FIELD_MAX),
    payloadHash: capNullable(e.payloadHash, AUDIT_FIELD_MAX),
    signers: e.signers.slice(0, AUDIT_SIGNERS_MAX).map((s) => capText(s, AUDIT_SIGNER_MAX)),
    result: e.result,
    code: capNullable(e.code, AUDIT_FIELD_MAX),
    reason: capText(reason, AUDIT_REASON_MAX),
    prev: last ? last.hash : AUDIT_GENESIS,
  };
  const entry: AuditEntry = { ...body, hash: auditEntryHash(body) };
  unit.audit.push(entry);
  return entry;
}

function brokenAudit(unit: UnitState, position: number, why: string): never {
  throw new CeremonyError(
    'EmulatorState',
    `The audit log of unit ${unit.id} is broken at entry ${position}: ${why}. Keep this state directory as evidence and use the units from a trusted copy of it.`,
    { unitId: unit.id, entry: position },
  );
}

/**
 * Checks the whole chain: sequence numbers 1, 2, 3..., each `prev` the hash
 * of the entry before (64 zeros for the first), each `hash` the hash of its
 * own content. Throws EmulatorState naming the unit and the first entry
 * that fails.
 */
export function verifyAudit(unit: UnitState): void {
  let prev = AUDIT_GENESIS;
  unit.audit.forEach((entry, i) => {
    const position = i + 1;
    if (entry.seq !== position)
      brokenAudit(
        unit,
        position,
        `its sequence number is ${entry.seq}, not ${position} (an entry was removed, inserted or renumbered)`,
      );
    if (entry.prev !== prev)
      brokenAudit(
        unit,
        position,
        'it does not follow the entry before it (the chain was cut, or an entry was removed or inserted)',
      );
    if (entry.hash !== auditEntryHash(entry))
      brokenAudit(unit, position, 'its content does not match its hash (the entry was altered)');
    prev = entry.hash;
  });
}

/**
 * Text that came from a bundle, made safe for a terminal: control
 * characters (an escape sequence could rewrite what the screen shows)
 * appear as \u{..} escapes.
 */
function printable(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`,
  );
}

function resultWords(result: AuditResult): string {
  switch (result) {
    case 'applied':
      return 'applied';
    case 'already-applied':
      return 'already applied (nothing changed)';
    case 'rejected':
      return 'REJECTED';
    case 'local':
      return 'local action';
    default:
      return missingCase(result);
  }
}

/** The log for people, one block per entry, oldest first. */
export function formatAudit(unit: UnitState): string[] {
  const lines = [
    `Audit log of unit ${unit.id} (${unit.audit.length} ${unit.audit.length === 1 ? 'entry' : 'entries'})`,
  ];
  for (const e of unit.audit) {
    lines.push(
      '',
      `#${e.seq}  ${printable(e.time)}  ${resultWords(e.result)}${e.code === null ? '' : ` (${printable(e.code)})`}`,
    );
    if (e.bundleId !== null || e.operation !== null) {
      lines.push(
        `    bundle ${e.bundleId === null ? '-' : printable(e.bundleId)}  operation ${e.operation === null ? '-' : printable(e.operation)}`,
      );
    }
    if (e.payloadHash !== null) lines.push(`    payload SHA-256 ${printable(e.payloadHash)}`);
    if (e.signers.length > 0) lines.push(`    signatures by ${e.signers.map(printable).join(', ')}`);
    if (e.reason !== '') lines.push(`    ${printable(e.reason)}`);
    lines.push(`    entry hash ${printable(e.hash)}`);
  }
  return lines;
}

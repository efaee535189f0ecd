import type { CeremonySetup } from '../../shared/ipc.js';
import { checkThresholds, MAX_ADMINS } from '../bundle/protocol.js';
import { CeremonyError } from '../errors.js';
import { checkAdminName } from '../identity/certificate.js';
import { checkKeyName, checkThreshold, MAX_SHARES } from '../masterkey/masterkey.js';

// The ceremony's roster and numbers, as the Set up step enters them: checked
// here once, before anything is created.

const NAME_MAX = 64;

function invalid(message: string): never {
  throw new CeremonyError('InvalidArgument', message);
}

function cleanName(value: string, what: string): string {
  const name = value.trim();
  if (name.length === 0 || name.length > NAME_MAX || /[\u0000-\u001f\u007f]/.test(name)) {
    invalid(`${what} must be 1 to ${NAME_MAX} printable characters.`);
  }
  return name;
}

function distinct(names: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    const k = n.toLocaleLowerCase();
    if (seen.has(k)) invalid(`Two ${what} are both called "${n}"; give each person a distinct name.`);
    seen.add(k);
  }
}

/** Checks the roster and numbers; returns it trimmed. */
export function checkSetup(s: CeremonySetup): CeremonySetup {
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
  distinct(
    custodians.map((c) => c.name),
    'custodians',
  );
  distinct(witnesses, 'witnesses');
  checkThreshold(s.threshold, custodians.length);
  // The app's claim uses the signature threshold for revocations too (issue 11 gives it its own field).
  checkThresholds(
    { signatureThreshold: s.signatureThreshold, revocationThreshold: s.signatureThreshold },
    admins.length,
    'The ceremony',
  );
  return {
    ceremonyName,
    keyName,
    threshold: s.threshold,
    signatureThreshold: s.signatureThreshold,
    operator,
    admins,
    custodians,
    witnesses,
  };
}

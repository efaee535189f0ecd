import { CeremonyError } from '../errors.js';
import { checkAdminName, readAdminCertificate, type AdminCertificateInfo } from '../identity/certificate.js';

// The unit protocol (docs/unit-protocol.md; issue 8): what a bundle may
// command. A bundle carries exactly one operation from a closed set, and
// each operation has a fixed command sequence. The parser checks the
// sequence before any signature is looked at, and a unit checks it again
// before it changes anything, so no bundle can smuggle a second claim, a
// load without a commit, or a command its signers did not see summarised.

export const OPERATIONS = ['initialize', 'recover', 'rotate', 'admin-change', 'zeroize'] as const;
export type Operation = (typeof OPERATIONS)[number];

export const COMMANDS = [
  'claim',
  'load-new',
  'commit',
  'activate',
  'add-user',
  'remove-admin',
  'add-admin',
  'set-thresholds',
  'zeroize',
] as const;
export type CommandName = (typeof COMMANDS)[number];

/**
 * The command sequence of each operation, as a pattern over the command
 * names joined by single spaces. This table is the protocol: the docs quote
 * it, the parser and the units enforce it.
 */
export const COMMAND_SEQUENCES: Readonly<Record<Operation, RegExp>> = {
  initialize: /^claim load-new commit activate add-user$/,
  // Onto cleared units (claimed by the bundle's admins), or onto claimed units
  // that hold no key. Both end with add-user: a unit without a key cannot have
  // the kmsCryptoUser yet, and without it the units would not serve the KMS.
  recover: /^(claim )?load-new commit activate add-user$/,
  rotate: /^load-new commit activate$/,
  'admin-change': /^(remove-admin )*(add-admin )*set-thresholds$/,
  zeroize: /^zeroize$/,
};

/** IBM Key Protect Dedicated's limits on a crypto unit's administrators (seed 001). */
export const MAX_ADMINS = 8;
export const MAX_THRESHOLD = 8;
/** An RSA-2048 self-signed admin certificate is about 1,100 base64 characters; a unit stores nothing larger than this. */
export const MAX_CERTIFICATE_BASE64 = 16_384;

export interface Thresholds {
  /** Signatures needed for any signed command. */
  signatureThreshold: number;
  /** Signatures needed for a command that removes an admin. */
  revocationThreshold: number;
}

export interface ClaimCommand extends Thresholds {
  command: 'claim';
  /** Admin certificates, base64 DER. */
  admins: string[];
}
export interface LoadNewCommand {
  command: 'load-new';
  /** unit id -> compact JWE of the 32-byte master key under that unit's transport key. */
  keys: Record<string, string>;
  /** rotate only: the verification pattern of the key the unit must hold as current. */
  expectedCurrentVerificationPattern?: string;
}
export interface CommitCommand {
  command: 'commit';
}
export interface ActivateCommand {
  command: 'activate';
}
export interface AddUserCommand {
  command: 'add-user';
  type: 'kmsCryptoUser';
}
export interface RemoveAdminCommand {
  command: 'remove-admin';
  /** x5t#S256 of the admin's certificate. */
  thumbprint: string;
}
export interface AddAdminCommand {
  command: 'add-admin';
  /** base64 DER certificate. */
  certificate: string;
}
export interface SetThresholdsCommand extends Thresholds {
  command: 'set-thresholds';
}
export interface ZeroizeCommand {
  command: 'zeroize';
}
export type BundleCommand =
  | ClaimCommand
  | LoadNewCommand
  | CommitCommand
  | ActivateCommand
  | AddUserCommand
  | RemoveAdminCommand
  | AddAdminCommand
  | SetThresholdsCommand
  | ZeroizeCommand;

/** An admin a bundle names, read from its certificate. */
export interface NamedAdmin {
  name: string;
  thumbprint: string;
  /** base64 DER */
  certificate: string;
  info: AdminCertificateInfo;
}

/**
 * What a bundle does, read from its command list once the sequence has been
 * checked: the one shape every consumer (signature rule, summary, unit)
 * works from, so none of them can look at "the first claim" only.
 */
export type OperationPlan =
  | { operation: 'initialize'; claim: ClaimPlan; load: LoadNewCommand }
  | { operation: 'recover'; claim: ClaimPlan | null; load: LoadNewCommand }
  | { operation: 'rotate'; load: LoadNewCommand; expectedCurrentVerificationPattern: string }
  | { operation: 'admin-change'; remove: string[]; add: NamedAdmin[]; thresholds: Thresholds }
  | { operation: 'zeroize' };

export interface ClaimPlan extends Thresholds {
  admins: NamedAdmin[];
}

const HEX64 = /^[0-9a-f]{64}$/;
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

function malformed(message: string, details: CeremonyError['details'] = {}): never {
  throw new CeremonyError('BundleMalformed', message, details);
}

export function isOperation(v: unknown): v is Operation {
  return typeof v === 'string' && (OPERATIONS as readonly string[]).includes(v);
}

/** Thresholds for `admins` admins: whole numbers from 1 to min(admins, 8). */
export function checkThresholds(t: Thresholds, admins: number, what: string): void {
  if (admins < 1)
    throw new CeremonyError(
      'InvalidArgument',
      `${what} would leave no admin, so nobody could sign for the units again: that is a lock-out, refused.`,
    );
  if (admins > MAX_ADMINS)
    throw new CeremonyError(
      'InvalidArgument',
      `${what} would have ${admins} admins; a unit takes at most ${MAX_ADMINS} (the crypto units' limit).`,
    );
  for (const [k, label] of [
    ['signatureThreshold', 'signature threshold'],
    ['revocationThreshold', 'revocation threshold'],
  ] as const) {
    const v = t[k];
    if (Number.isSafeInteger(v) && v > admins && v <= MAX_THRESHOLD) {
      throw new CeremonyError(
        'InvalidArgument',
        `${what}: the ${label} ${v} is above the ${admins} admin${admins === 1 ? '' : 's'} there would be, so no quorum could ever sign again: that is a lock-out, refused. Lower the threshold or keep more admins.`,
        { threshold: label },
      );
    }
    if (!Number.isSafeInteger(v) || v < 1 || v > MAX_THRESHOLD) {
      throw new CeremonyError(
        'InvalidArgument',
        `${what}: the ${label} must be a whole number from 1 to ${Math.min(admins, MAX_THRESHOLD)}; got ${v}.`,
        { threshold: label },
      );
    }
  }
}

function readNamedAdmin(der: string, what: string): NamedAdmin {
  if (der.length > MAX_CERTIFICATE_BASE64)
    malformed(`${what} is larger than any admin certificate (${der.length} base64 characters).`);
  const bytes = Buffer.from(der, 'base64');
  if (bytes.toString('base64') !== der) malformed(`${what} is not canonical base64.`);
  let info: AdminCertificateInfo;
  try {
    info = readAdminCertificate(bytes, what);
  } catch (e) {
    // The sentence names the damage itself (bundle.ts SAYS_ALTERED).
    malformed(`${what} is damaged or was altered (${(e as Error).message.replace(/\.$/, '')}).`, { damageNamed: true });
  }
  try {
    checkAdminName(info.name);
  } catch (e) {
    malformed(
      `${what} names its admin in a way no admin identity of this tool does (${(e as Error).message.replace(/\.$/, '')}).`,
    );
  }
  return { name: info.name, thumbprint: info.thumbprint, certificate: der, info };
}

function namedAdmins(ders: string[], what: string): NamedAdmin[] {
  const admins = ders.map((d, i) => readNamedAdmin(d, `${what}: admin certificate ${i + 1}`));
  const seen = new Set<string>();
  for (const a of admins) {
    if (seen.has(a.thumbprint)) malformed(`${what} names the admin ${a.name} (${a.thumbprint}) twice.`);
    seen.add(a.thumbprint);
  }
  return admins;
}

function thresholdsOf(c: Thresholds, admins: number | null, what: string): Thresholds {
  try {
    checkThresholds(c, admins ?? MAX_ADMINS, what);
  } catch (e) {
    malformed((e as Error).message);
  }
  return { signatureThreshold: c.signatureThreshold, revocationThreshold: c.revocationThreshold };
}

/**
 * Checks that the commands are exactly the operation's sequence and that
 * they agree with the targets; returns what the bundle does. Throws
 * BundleMalformed naming the rule that fails. Needs no signature and no
 * unit: the parser runs it on every bundle, each unit runs it again.
 */
export function planOf(
  operation: Operation,
  commands: readonly BundleCommand[],
  targets: readonly string[],
): OperationPlan {
  const names = commands.map((c) => c.command).join(' ');
  if (!COMMAND_SEQUENCES[operation].test(names)) {
    malformed(
      `The bundle's commands (${names}) are not the command sequence of the ${operation} operation (${COMMAND_SEQUENCES[operation].source.replace(/^\^|\$$/g, '')}).`,
    );
  }
  if (new Set(targets).size !== targets.length) malformed('The bundle names a target unit twice.');
  const load = commands.find((c): c is LoadNewCommand => c.command === 'load-new');
  if (load) {
    const keyUnits = Object.keys(load.keys).sort();
    if (keyUnits.join(',') !== [...targets].sort().join(',')) {
      malformed(
        `The bundle's wrapped keys are for units ${keyUnits.join(', ') || 'none'}, not exactly its targets ${targets.join(', ')}.`,
      );
    }
    const wantsExpected = operation === 'rotate';
    if (wantsExpected !== (load.expectedCurrentVerificationPattern !== undefined)) {
      malformed(
        wantsExpected
          ? 'A rotate bundle must name the current key it replaces.'
          : `A ${operation} bundle must not name a current key to replace.`,
      );
    }
    if (wantsExpected && !HEX64.test(load.expectedCurrentVerificationPattern!))
      malformed('The rotate bundle names its current key with an invalid verification pattern.');
  }
  const claimCommand = commands.find((c): c is ClaimCommand => c.command === 'claim');
  const claim: ClaimPlan | null = claimCommand
    ? (() => {
        const admins = namedAdmins(claimCommand.admins, 'The claim');
        return { admins, ...thresholdsOf(claimCommand, admins.length, 'The claim') };
      })()
    : null;
  switch (operation) {
    case 'initialize':
      return { operation, claim: claim!, load: load! };
    case 'recover':
      return { operation, claim, load: load! };
    case 'rotate':
      return { operation, load: load!, expectedCurrentVerificationPattern: load!.expectedCurrentVerificationPattern! };
    case 'admin-change': {
      const remove = commands
        .filter((c): c is RemoveAdminCommand => c.command === 'remove-admin')
        .map((c) => c.thumbprint);
      for (const t of remove)
        if (!THUMBPRINT.test(t))
          malformed(`The bundle removes an admin by an invalid thumbprint (${JSON.stringify(t).slice(0, 60)}).`);
      if (new Set(remove).size !== remove.length) malformed('The bundle removes the same admin twice.');
      const add = namedAdmins(
        commands.filter((c): c is AddAdminCommand => c.command === 'add-admin').map((c) => c.certificate),
        'The admin change',
      );
      const both = add.find((a) => remove.includes(a.thumbprint));
      if (both) malformed(`The bundle both adds and removes ${both.name}.`);
      const set = commands.at(-1) as SetThresholdsCommand;
      return { operation, remove, add, thresholds: thresholdsOf(set, null, 'The admin change') };
    }
    case 'zeroize':
      return { operation };
  }
}

/** The signature rule of a plan for a unit whose admins and thresholds are given. */
export function requiredSignatures(
  plan: OperationPlan,
  unit: Thresholds & { admins: number },
): { required: number; rule: string } {
  if ((plan.operation === 'initialize' || plan.operation === 'recover') && plan.claim) {
    return {
      required: plan.claim.admins.length,
      rule: `a claim must be signed by every admin it installs (${plan.claim.admins.length})`,
    };
  }
  if (plan.operation === 'admin-change' && plan.remove.length > 0) {
    const required = Math.max(unit.signatureThreshold, unit.revocationThreshold);
    return {
      required,
      rule: `removing an admin needs the revocation threshold (${unit.revocationThreshold}) and the signature threshold (${unit.signatureThreshold}) of the unit's ${unit.admins} admins`,
    };
  }
  return {
    required: unit.signatureThreshold,
    rule: `the unit requires ${unit.signatureThreshold} of its ${unit.admins} admins`,
  };
}

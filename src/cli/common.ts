import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CardRemedy } from '../shared/card-remedies.js';
import { CeremonyError, isCeremonyError } from '../core/errors.js';
import { checkPassphrase, readPassphraseFile } from '../core/passphrase.js';
import { zeroize } from '../core/secrets.js';
import type { SecretProvider } from '../core/ceremony/media.js';
import { cleanName } from '../core/ceremony/roster.js';
import type { ClaimSpec } from '../core/bundle/bundle.js';
import type { Thresholds } from '../core/bundle/protocol.js';
import { readFileOrFail } from '../core/files.js';
import { readAdminCertificate } from '../core/identity/certificate.js';

/** A mistake in how the command was called: exit code 2 and a usage hint. */
export class UsageError extends Error {}

export const EXIT = { ok: 0, failed: 1, usage: 2, mismatch: 3, bug: 70 } as const;

/** A finding that is not an error of the command, with its own exit status (e.g. units that differ: 3). */
export class ExitWith extends Error {
  constructor(
    readonly status: (typeof EXIT)[keyof typeof EXIT],
    message: string,
  ) {
    super(message);
  }
}

/**
 * How to do, on the command line, what a card refusal asks for (its
 * `remedy`, src/core/cards/roles.ts): the core's sentence says what, this
 * says with which command or option.
 */
export const CLI_REMEDY: Record<CardRemedy, string> = {
  prepare: 'Command: keyceremony card prepare --reader R.',
  'prepare-with-management-key':
    'Command: keyceremony card prepare --reader R --management-key-file F (the key in hex; its owner has it).',
  'owner-consent-to-replace': "Option, with the owner's agreement: --replace-slot 9C.",
  'new-pin': 'Option: --new-pin-file F (or leave it out to be asked).',
  'new-puk': 'Option: --new-puk-file F (or leave it out to be asked).',
  'current-puk': 'Option: --puk-file F.',
};

/**
 * Runs a CLI entry point: success exits 0; an expected error prints one plain
 * sentence on stderr and exits 1 (2 for usage). Anything else is a bug: one
 * sentence too, with the stack only when KEYCEREMONY_DEBUG=1. Never prints
 * a secret: errors are built without them.
 */
export async function runCli(program: string, main: (argv: string[]) => Promise<void>): Promise<void> {
  // `keyceremony … | head`: a reader that stops reading is not an error of ours.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
      throw e;
    });
  }
  try {
    await main(process.argv.slice(2));
    process.exitCode = EXIT.ok;
  } catch (e) {
    if (e instanceof ExitWith) {
      process.stderr.write(`${program}: ${e.message}\n`);
      process.exitCode = e.status;
    } else if (e instanceof UsageError) {
      process.stderr.write(`${program}: ${e.message}\nRun "${program} --help" for usage.\n`);
      process.exitCode = EXIT.usage;
    } else if (isCeremonyError(e)) {
      const remedy = e.details['remedy'];
      const how = typeof remedy === 'string' && remedy in CLI_REMEDY ? ` ${CLI_REMEDY[remedy as CardRemedy]}` : '';
      process.stderr.write(`${program}: ${e.message}${how}\n`);
      process.exitCode = EXIT.failed;
    } else if (
      (e as { code?: string })?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      (e as { code?: string })?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ||
      (e as { code?: string })?.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
    ) {
      // Node's own hint for a value that begins with a dash (a base64url thumbprint may) is kept.
      const lines = (e as Error).message.split('\n');
      const dash = lines.find((l) => l.includes('starting with a dash'));
      process.stderr.write(
        `${program}: ${lines[0]}${dash ? ` ${dash.trim()}` : ''}\nRun "${program} --help" for usage.\n`,
      );
      process.exitCode = EXIT.usage;
    } else {
      const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
      process.stderr.write(`${program}: unexpected error: ${msg}. This is a bug; nothing secret was written.\n`);
      if (process.env['KEYCEREMONY_DEBUG'] === '1' && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      process.exitCode = EXIT.bug;
    }
  }
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, positionals = 0) {
  const r = parseArgs({ args: argv, options, allowPositionals: positionals > 0, strict: true });
  if (r.positionals.length > positionals) throw new UsageError(`unexpected argument ${r.positionals[positionals]}`);
  return r;
}

export function required<T>(v: T | undefined, name: string): T {
  if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) throw new UsageError(`${name} is required`);
  return v;
}

/**
 * `--actor NAME`: the person the record names for the entries a command
 * writes (issue 11, "Two-person integrity"), checked as the Set up checks a
 * person's name. Undefined without the option: the entries keep "operator".
 */
export function actorOption(v: string | undefined): { actor?: string } {
  if (v === undefined) return {};
  try {
    return { actor: cleanName(v, '--actor') };
  } catch (e) {
    if (isCeremonyError(e)) throw new UsageError(e.message);
    throw e;
  }
}

export function integer(v: string | undefined, name: string): number {
  const s = required(v, name);
  if (!/^\d+$/.test(s)) throw new UsageError(`${name} must be a whole number, not "${s}"`);
  return Number(s);
}

/**
 * Reads a secret from the terminal without echo, byte by byte, so it can be
 * zeroed. Only when stdin is a terminal: scripts must use files.
 */
export async function promptSecret(question: string): Promise<Buffer> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    throw new CeremonyError(
      'InvalidArgument',
      `${question.replace(/:\s*$/, '')} is needed and no file was given; pass it as a file, since this is not an interactive terminal.`,
    );
  }
  const buf = Buffer.alloc(1024);
  let len = 0;
  // Echo goes off before the question shows: whatever is typed once it is
  // visible never reaches the screen.
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.resume();
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        try {
          for (const byte of chunk) {
            if (byte === 0x03) {
              stdin.off('data', onData);
              reject(new CeremonyError('InvalidArgument', 'Cancelled.'));
              return;
            }
            if (byte === 0x0d || byte === 0x0a) {
              stdin.off('data', onData);
              resolve(Buffer.from(buf.subarray(0, len)));
              return;
            }
            if (byte === 0x7f || byte === 0x08) {
              if (len > 0) len -= 1;
              continue;
            }
            if (len < buf.length) buf[len++] = byte;
          }
        } finally {
          chunk.fill(0); // the typed bytes, Enter included
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    buf.fill(0);
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

/** A passphrase from a file, or from the terminal (asked twice when it is new). */
export function passphraseProvider(file: string | undefined, what: string, isNew: boolean): SecretProvider {
  return async () => {
    if (file) return readPassphraseFile(file, (m) => process.stderr.write(`warning: ${m}\n`));
    const first = await promptSecret(`${what}: `);
    if (!isNew) return first;
    checkPassphrase(first, what);
    const again = await promptSecret(`${what} again: `);
    try {
      if (!first.equals(again)) {
        zeroize(first);
        throw new CeremonyError('InvalidArgument', `The two entries of ${what.toLowerCase()} differ.`);
      }
    } finally {
      zeroize(again);
    }
    return first;
  };
}

/** Splits "PATH=SECRETFILE" at its last "="; the secret file is optional (then prompt). */
export function splitSpec(spec: string, option: string): { target: string; secretFile: string | undefined } {
  const i = spec.lastIndexOf('=');
  if (i === 0) throw new UsageError(`${option} "${spec}" has no path before "="`);
  if (i < 0) return { target: spec, secretFile: undefined };
  const target = spec.slice(0, i);
  const secretFile = spec.slice(i + 1);
  if (!secretFile) throw new UsageError(`${option} "${spec}" has no passphrase file after "="`);
  return { target, secretFile };
}

/**
 * The usage of one command: its lines of the program's usage text (the line
 * that starts with "  <program> <command>" and the lines indented under it).
 */
export function usageOf(usage: string, program: string, command: string): string {
  const lines = usage.split('\n');
  const picked: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (line.startsWith(`  ${program} `))
      inside = line.startsWith(`  ${program} ${command} `) || line === `  ${program} ${command}`;
    else if (!/^\s{3,}\S/.test(line)) inside = false;
    if (inside) picked.push(line);
  }
  return picked.length > 0 ? `Usage:\n${picked.join('\n')}` : usage;
}

/** True when the arguments ask for help: -h or --help anywhere. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('-h') || argv.includes('--help');
}

export function out(line = ''): void {
  process.stdout.write(line + '\n');
}

export function thresholdsFrom(
  values: { 'signature-threshold'?: string | undefined; 'revocation-threshold'?: string | undefined },
  revocationDefaultsToSignature: boolean,
): Thresholds {
  const signatureThreshold = integer(values['signature-threshold'], '--signature-threshold');
  const revocationThreshold =
    values['revocation-threshold'] === undefined && revocationDefaultsToSignature
      ? signatureThreshold
      : integer(values['revocation-threshold'], '--revocation-threshold');
  return { signatureThreshold, revocationThreshold };
}

export function adminCertificates(paths: string[]): ReturnType<typeof readAdminCertificate>[] {
  return paths.map((p) =>
    readAdminCertificate(readFileOrFail(p, 'Admin certificate').toString('utf8'), `The admin certificate ${p}`),
  );
}

/**
 * The claim of a recovery (bundle create --operation recover, mk recover):
 * --admin and --signature-threshold to claim cleared units, neither for
 * claimed units that hold no key.
 */
export function recoveryClaim(values: {
  admin?: string[] | undefined;
  'signature-threshold'?: string | undefined;
  'revocation-threshold'?: string | undefined;
}): ClaimSpec | null {
  const admins = values.admin ?? [];
  if (admins.length > 0 !== (values['signature-threshold'] !== undefined)) {
    throw new UsageError(
      '--admin and --signature-threshold go together: both to claim cleared units, neither for claimed units',
    );
  }
  return admins.length > 0 ? { admins: adminCertificates(admins), ...thresholdsFrom(values, true) } : null;
}

// The `audit` and `kms` commands of crypto-unit-emulator (issue 8, "The
// units' life"). Kept beside cli.ts rather than in it so they can be tested
// on their own; cli.ts lists them in its COMMANDS table.
import { CeremonyError, isCeremonyError } from '../core/errors.js';
import { readFileOrFail, writeFileExclusive } from '../core/files.js';
import { zeroize } from '../core/secrets.js';
import { out, parse, required, UsageError } from '../cli/common.js';
import { formatAudit, verifyAudit } from './audit.js';
import { createRootKey, exportKeystore, importKeystore, parseWrappedDek, unwrapDek, wrapDek } from './kms.js';
import { findUnit, loadInstance } from './state.js';

export const AUDIT_USAGE = `Usage:
  crypto-unit-emulator audit --state DIR --unit ID [--json]
Prints the unit's audit log (every bundle it was offered, and its local
actions) and checks its hash chain; exits 1 if the chain is broken.
ID may be a unique prefix of the unit's id.`;

const KMS_USAGES = {
  'create-root-key': `  crypto-unit-emulator kms create-root-key --state DIR --name NAME
    Creates a root key (32 random bytes sealed under the master key).
    NAME: 1 to 64 characters of A-Z a-z 0-9 . _ -`,
  wrap: `  crypto-unit-emulator kms wrap --state DIR --root NAME --in DEK --out WRAPPED.jwe
    Wraps the data key in file DEK (1 byte to 64 KiB) under the root key, as a
    JWE (A256KW, A256GCM, kid = NAME) that any JOSE library opens with the root key.`,
  unwrap: `  crypto-unit-emulator kms unwrap --state DIR --in WRAPPED.jwe --out DEK
    Unwraps a wrapped DEK into the new file DEK (mode 0600): a secret, never printed.`,
  'export-keystore': `  crypto-unit-emulator kms export-keystore --state DIR --out KEYSTORE.json
    Writes the root keys, still sealed under the master key, for an instance
    recovered with the same key.`,
  'import-keystore': `  crypto-unit-emulator kms import-keystore --state DIR --in KEYSTORE.json
    Adds the root keys of an exported keystore; the units must hold its master
    key (as current, or as old after a rotation).`,
} as const;
type KmsSubcommand = keyof typeof KMS_USAGES;

export const KMS_USAGE = `Usage:\n${Object.values(KMS_USAGES).join('\n')}`;

const wantsHelp = (argv: string[]): boolean => argv.includes('-h') || argv.includes('--help');

/** `crypto-unit-emulator audit --state DIR --unit ID [--json]` */
export async function audit(argv: string[]): Promise<void> {
  if (wantsHelp(argv)) {
    out(AUDIT_USAGE);
    return;
  }
  const { values } = parse(argv, { state: { type: 'string' }, unit: { type: 'string' }, json: { type: 'boolean' } });
  const s = loadInstance(required(values.state, '--state'));
  const unit = findUnit(s, required(values.unit, '--unit'));
  let broken: CeremonyError | null = null;
  try {
    verifyAudit(unit);
  } catch (e) {
    if (!isCeremonyError(e)) throw e;
    broken = e;
  }
  // The log is shown even when its chain is broken: it is the evidence.
  if (values.json) {
    out(
      JSON.stringify(
        { instanceId: s.instanceId, unitId: unit.id, chain: broken ? 'broken' : 'intact', entries: unit.audit },
        null,
        2,
      ),
    );
  } else {
    for (const line of formatAudit(unit)) out(line);
    out();
    if (!broken) out('audit chain intact');
  }
  if (broken) throw broken;
}

async function createRootKeyCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, { state: { type: 'string' }, name: { type: 'string' } });
  const dir = required(values.state, '--state');
  const r = createRootKey(dir, required(values.name, '--name'));
  out(`Root key ${r.name} created, sealed under the master key with KCV ${r.masterKeyKcv}.`);
}

async function wrapCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    state: { type: 'string' },
    root: { type: 'string' },
    in: { type: 'string' },
    out: { type: 'string' },
  });
  const dir = required(values.state, '--state');
  const root = required(values.root, '--root');
  const inPath = required(values.in, '--in');
  const outPath = required(values.out, '--out');
  const dek = readFileOrFail(inPath, 'The DEK file'); // a secret: zeroed below, never printed
  let jwe: string;
  let bytes: number;
  try {
    bytes = dek.length;
    jwe = wrapDek(dir, root, dek);
  } finally {
    zeroize(dek);
  }
  writeFileExclusive(outPath, `${jwe}\n`, 0o600);
  out(`DEK of ${bytes} bytes wrapped under root key ${root} (JWE, A256KW with A256GCM): ${outPath}`);
}

async function unwrapCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, { state: { type: 'string' }, in: { type: 'string' }, out: { type: 'string' } });
  const dir = required(values.state, '--state');
  const inPath = required(values.in, '--in');
  const outPath = required(values.out, '--out');
  // The DEK is a secret: it goes to a new 0600 file, never to the terminal.
  if (outPath === '-' || outPath === '/dev/stdout' || outPath === '/dev/stderr')
    throw new UsageError('--out must name a new file: the unwrapped DEK is a secret and is never printed');
  // The file kms wrap writes ends in one newline; anything else is the JWE's own business.
  const jwe = readFileOrFail(inPath, 'The wrapped DEK file')
    .toString('utf8')
    .replace(/\r?\n$/, '');
  const { kid } = parseWrappedDek(jwe);
  const dek = unwrapDek(dir, jwe);
  try {
    writeFileExclusive(outPath, dek, 0o600);
    out(
      `DEK of ${dek.length} bytes unwrapped with root key ${kid} into ${outPath} (mode 0600). It is a secret: delete it when done.`,
    );
  } finally {
    zeroize(dek);
  }
}

async function exportKeystoreCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, { state: { type: 'string' }, out: { type: 'string' } });
  const outPath = required(values.out, '--out');
  const r = exportKeystore(required(values.state, '--state'), outPath);
  out(
    `${r.rootKeys.length} root ${r.rootKeys.length === 1 ? 'key' : 'keys'} (${r.rootKeys.join(', ')}) exported to ${outPath}, sealed under the master key with KCV ${r.masterKeyKcv}; the file opens only on an instance holding that key.`,
  );
}

async function importKeystoreCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, { state: { type: 'string' }, in: { type: 'string' } });
  const r = importKeystore(required(values.state, '--state'), required(values.in, '--in'));
  out(
    `${r.rootKeys.length} root ${r.rootKeys.length === 1 ? 'key' : 'keys'} (${r.rootKeys.join(', ')}) imported, sealed under the master key with KCV ${r.masterKeyKcv}${r.resealed ? " (re-sealed from the units' old key)" : ''}.`,
  );
}

const KMS_COMMANDS: Readonly<Record<KmsSubcommand, (argv: string[]) => Promise<void>>> = {
  'create-root-key': createRootKeyCommand,
  wrap: wrapCommand,
  unwrap: unwrapCommand,
  'export-keystore': exportKeystoreCommand,
  'import-keystore': importKeystoreCommand,
};

const isKmsSubcommand = (v: string): v is KmsSubcommand => Object.hasOwn(KMS_COMMANDS, v);

/** `crypto-unit-emulator kms create-root-key|wrap|unwrap|export-keystore|import-keystore ...` */
export async function kms(argv: string[]): Promise<void> {
  const sub = argv[0];
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    out(KMS_USAGE);
    return;
  }
  if (!isKmsSubcommand(sub))
    throw new UsageError(`unknown kms command "${sub}" (one of ${Object.keys(KMS_COMMANDS).join(', ')})`);
  const rest = argv.slice(1);
  if (wantsHelp(rest)) {
    out(`Usage:\n${KMS_USAGES[sub]}`);
    return;
  }
  await KMS_COMMANDS[sub](rest);
}

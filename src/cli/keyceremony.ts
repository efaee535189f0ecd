#!/usr/bin/env node
// keyceremony: headless master-key ceremonies on top of src/core (issue 2).
// The command surface is fixed: tests and users script against it.
import { readTransportFile } from '../core/bundle/transport.js';
import { groupHex } from '../core/encoding.js';
import { CeremonyError, missingCase } from '../core/errors.js';
import { generateMasterKeyCeremony, verifyShareAgainstRecord } from '../core/ceremony/operations.js';
import {
  confirmUnit,
  createBundle,
  prepareSigning,
  signingApproval,
  signPreparedBundle,
  verifyBundleFile,
  type BundleRequest,
} from '../core/ceremony/bundles.js';
import { bundleSummaryLines } from '../core/bundle/bundle.js';
import { isOperation, OPERATIONS } from '../core/bundle/protocol.js';
import { checkAgainstLimits, checkTransportModes, checkTransportSet } from '../core/bundle/transport.js';
import { ceremoniesOf, type CeremonyOutcome } from '../core/ceremony/record.js';
import { typedHeadHash } from '../core/ceremony/record-check.js';
import { headHash, readTranscript } from '../core/ceremony/transcript.js';
import { writeFileExclusive, readFileOrFail } from '../core/files.js';
import { identityCertificate } from '../core/identity/identity.js';
import { fileIdentitySigner, writeFileIdentity } from '../core/ceremony/signers.js';
import { zeroize } from '../core/secrets.js';
import {
  actorOption,
  adminCertificates,
  integer,
  out,
  parse,
  passphraseProvider,
  recoveryClaim,
  required,
  runCli,
  thresholdsFrom,
  usageOf,
  UsageError,
  wantsHelp,
} from './common.js';
import {
  bundleSignWithCard,
  cardList,
  cardPrepare,
  cardStatusCommand,
  cardUnblock,
  closeCardTransport,
  identityGenerateOnCard,
} from './cards.js';
import { printIssuedShares, shareDestinations, shareSources } from './shares.js';
import { mkReshare } from './reshare.js';
import { unitsReport } from './units-report.js';
import { mkRecover } from './recover.js';
import { scriptCommand, transcriptReport } from './report.js';
import { incompleteRecordError } from '../core/ceremony/report.js';

const USAGE = `Usage:
  keyceremony identity generate --name NAME --out FILE [--passphrase-file F]
  keyceremony identity generate --name NAME --card R [--pin-file F] --out CERT.pem
                          [--replace-slot 9C [--record RECORD.jsonl]]
  keyceremony identity cert FILE --out CERT.pem
  keyceremony mk generate --key-name NAME --threshold K --share PATH=PASSFILE ... --record RECORD.jsonl
                          [--transport T.json ...] [--ceremony-name NAME] [--actor NAME] [--rehearsal]
  keyceremony mk reshare --record RECORD.jsonl --share PATH=PASSFILE ... --threshold K
                          --new-share PATH=PASSFILE|piv:R=PINFILE ... [--ceremony-name NAME] [--actor NAME]
  keyceremony mk recover --record RECORD.jsonl --share PATH=PASSFILE|piv:R=PINFILE ... --transport T.json ...
                          --out BUNDLE.json [--admin CERT.pem ... --signature-threshold S [--revocation-threshold V]]
                          [--head HEX] [--rehearsal] [--ceremony-name NAME] [--actor NAME]
  keyceremony mk recover --new-record NEW.jsonl --key-name NAME --kcv HEX --verification-pattern HEX --head HEX
                          --fingerprint UNIT=HEX ... --share ... --transport T.json ... --out BUNDLE.json [...]
                          (the record is lost: the values of its signed paper report; the fingerprints off the units)
  keyceremony share verify --record RECORD.jsonl --share PATH=PASSFILE
  keyceremony units confirm --record RECORD.jsonl --transport T.json --fingerprint HEX [--actor NAME]
  keyceremony units report --record RECORD.jsonl --status STATUS.json ... [--new-record NEW.jsonl] [--actor NAME]
                          (after a rotation, --new-record is the new key's record: the key is retired;
                          after zeroize, without it: the key is destroyed. One status per instance.)
  keyceremony bundle create --operation OP --record RECORD.jsonl --transport T.json ... --out BUNDLE.json [--rehearsal]
                          [--actor NAME]
      initialize    --share ... --admin CERT.pem ... --signature-threshold S [--revocation-threshold V]
      recover       --share ... [--admin CERT.pem ... --signature-threshold S [--revocation-threshold V]]
      rotate        --share ... (of the new key in --record) --current-record CURRENT.jsonl
      admin-change  [--add CERT.pem ...] [--remove THUMBPRINT ...] --signature-threshold S --revocation-threshold V
      zeroize       (no more options)
  keyceremony bundle sign BUNDLE.json (--record RECORD.jsonl | --payload-sha256 HEX)
                          (--identity FILE [--passphrase-file F] | --card R [--pin-file F])
  keyceremony bundle verify BUNDLE.json [--record RECORD.jsonl]
  keyceremony transcript verify RECORD.jsonl [--head HEX]
  keyceremony transcript report RECORD.jsonl --out REPORT.html|REPORT.pdf [--witness NAME ...]
  keyceremony script --setup SETUP.json --out SCRIPT.html|SCRIPT.pdf
  keyceremony card list
  keyceremony card status --reader R
  keyceremony card prepare --reader R [--pin-file F] [--new-pin-file F] [--new-puk-file F] [--puk-file F]
                          [--management-key-file F]
  keyceremony card unblock --reader R [--puk-file F] [--new-pin-file F]

Passphrases come from files (first line, like openssl -passin file:F) or, when
a file is left out, from a prompt on the terminal. Never from the command line.
A share is PATH=PASSFILE (or PATH alone to be prompted), or piv:R=PINFILE for
a card in the reader whose name contains R. Passphrases are 6 to 255
characters; PINs 6 to 8. The custodian of a share file is named after the file
(shares/alice.share -> alice).

Every transport key is confirmed once against its unit's own display into the
record (units confirm) before a bundle wraps anything to it. A bundle goes to
every unit of the instance: give one --transport per unit. bundle sign shows
what the bundle does before it asks for a PIN or passphrase, and signs only a
bundle the record created (--record) or whose payload hash you read off the
printed record (--payload-sha256).

--actor NAME names the person at the keyboard in the record entries a command
writes (otherwise "operator"); bundle sign and identity generate name the
admin whose identity it is.`;

async function identityGenerate(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    name: { type: 'string' },
    out: { type: 'string' },
    'passphrase-file': { type: 'string' },
    card: { type: 'string' },
    'pin-file': { type: 'string' },
    'replace-slot': { type: 'string' },
    record: { type: 'string' },
  });
  const name = required(values.name, '--name');
  const outPath = required(values.out, '--out');
  if (values.record !== undefined && values['replace-slot'] === undefined)
    throw new UsageError('--record goes with --replace-slot: it records what was replaced');
  if (values.card !== undefined) {
    if (values['passphrase-file'])
      throw new UsageError('--passphrase-file is for identity files; a card takes --pin-file');
    await identityGenerateOnCard(name, values.card, values['pin-file'], outPath, {
      ...(values['replace-slot'] !== undefined ? { replaceSlot: values['replace-slot'] } : {}),
      ...(values.record !== undefined ? { recordPath: values.record } : {}),
    });
    return;
  }
  if (values['pin-file']) throw new UsageError('--pin-file goes with --card');
  if (values['replace-slot'] !== undefined) throw new UsageError('--replace-slot goes with --card');
  const pass = await passphraseProvider(values['passphrase-file'], `Passphrase for the identity of ${name}`, true)();
  try {
    const certificate = await writeFileIdentity(outPath, name, pass);
    out(`Identity of ${certificate.name} written to ${outPath}`);
    out(`Certificate SHA-256 ${groupHex(certificate.fingerprintHex)}`);
    out(`Thumbprint ${certificate.thumbprint}`);
  } finally {
    zeroize(pass);
  }
}

async function identityCert(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { out: { type: 'string' } }, 1);
  const file = required(positionals[0], 'the identity FILE');
  const outPath = required(values.out, '--out');
  const cert = identityCertificate(readFileOrFail(file, 'Identity file').toString('utf8'), `The identity file ${file}`);
  writeFileExclusive(outPath, cert.pem, 0o644);
  out(`Certificate of ${cert.name} written to ${outPath}`);
  out(`Thumbprint ${cert.thumbprint}`);
}

async function mkGenerate(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    'key-name': { type: 'string' },
    'ceremony-name': { type: 'string' },
    threshold: { type: 'string' },
    share: { type: 'string', multiple: true },
    record: { type: 'string' },
    transport: { type: 'string', multiple: true },
    actor: { type: 'string' },
    rehearsal: { type: 'boolean' },
  });
  const keyName = required(values['key-name'], '--key-name');
  const rehearsal = values.rehearsal === true;
  const threshold = integer(values.threshold, '--threshold');
  const specs = required(values.share, '--share');
  const recordPath = required(values.record, '--record');
  // The target units' limits, checked before any key exists.
  const transports = (values.transport ?? []).map(readTransportFile);
  if (transports.length > 0) {
    checkTransportSet(transports);
    // A rehearsal key is for rehearsal units only, a production key for production units only: said before it exists.
    checkTransportModes(transports, rehearsal);
    checkAgainstLimits(transports[0]!.file.limits, { keyName });
  }
  const custodians = await shareDestinations(specs, '--share');
  const r = await generateMasterKeyCeremony({
    keyName,
    // The record opens as a rehearsal's (every entry marked), and its shares say so inside.
    ...(rehearsal ? { mode: 'rehearsal' as const } : {}),
    ...(values['ceremony-name'] ? { ceremonyName: values['ceremony-name'] } : {}),
    threshold,
    custodians,
    recordPath,
    ...actorOption(values.actor),
  });
  if (rehearsal) out('REHEARSAL: this key and its shares are for rehearsal units only.');
  out(`Ceremony ${r.ceremonyId}: key "${keyName}", ${threshold} of ${custodians.length} shares`);
  printIssuedShares(custodians, r.shares);
  out(`Record ${recordPath}`);
  out(`KCV ${r.kcv}`);
  if (transports.length === 0)
    out("No --transport was given: the key name was not checked against the target units' limits.");
}

async function shareVerify(argv: string[]): Promise<void> {
  const { values } = parse(argv, { record: { type: 'string' }, share: { type: 'string' } });
  const recordPath = required(values.record, '--record');
  const [source] = await shareSources([required(values.share, '--share')], recordPath);
  const v = await verifyShareAgainstRecord(recordPath, source!);
  out(
    `OK: ${source!.label} is share ${v.header.shareIndex} of ${v.header.shares} (threshold ${v.header.threshold}) of key "${v.header.keyName}"`,
  );
  out(
    `It opens with its passphrase and is the share issued to ${v.issued.custodian} on ${v.issued.issued} (ceremony ${v.summary.ceremonyId}).`,
  );
  out(`KCV ${v.header.kcv}`);
}

async function unitsConfirm(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    record: { type: 'string' },
    transport: { type: 'string' },
    fingerprint: { type: 'string' },
    actor: { type: 'string' },
  });
  const recordPath = required(values.record, '--record');
  const t = readTransportFile(required(values.transport, '--transport'));
  const e = confirmUnit(recordPath, t, required(values.fingerprint, '--fingerprint'), actorOption(values.actor).actor);
  out(`Unit ${t.file.unitId} of instance ${t.file.instanceId}: transport key ${groupHex(t.file.fingerprint)}`);
  out(`matches the unit's display; recorded as entry ${e.seq} of ${recordPath}.`);
}

/** Refuses options that belong to other operations, so nothing given is silently ignored. */
function onlyFor(operation: string, values: Record<string, unknown>, allowed: string[]): void {
  const extra = Object.keys(values).filter((k) => values[k] !== undefined && !allowed.includes(k));
  if (extra.length > 0) throw new UsageError(`--${extra[0]} does not go with --operation ${operation}`);
}

async function bundleCreate(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    operation: { type: 'string' },
    record: { type: 'string' },
    share: { type: 'string', multiple: true },
    transport: { type: 'string', multiple: true },
    admin: { type: 'string', multiple: true },
    'signature-threshold': { type: 'string' },
    'revocation-threshold': { type: 'string' },
    'current-record': { type: 'string' },
    add: { type: 'string', multiple: true },
    remove: { type: 'string', multiple: true },
    out: { type: 'string' },
    rehearsal: { type: 'boolean' },
    actor: { type: 'string' },
  });
  const operation = required(values.operation, '--operation');
  if (!isOperation(operation))
    throw new UsageError(`--operation must be one of ${OPERATIONS.join(', ')}, not "${operation}"`);
  const recordPath = required(values.record, '--record');
  const outPath = required(values.out, '--out');
  const common = ['operation', 'record', 'transport', 'out', 'rehearsal', 'actor'];
  const transports = required(values.transport, '--transport').map(readTransportFile);
  const shares = async () => shareSources(required(values.share, '--share'), recordPath);
  let request: BundleRequest;
  switch (operation) {
    case 'initialize':
      onlyFor(operation, values, [...common, 'share', 'admin', 'signature-threshold', 'revocation-threshold']);
      request = {
        operation,
        sources: await shares(),
        claim: { admins: adminCertificates(required(values.admin, '--admin')), ...thresholdsFrom(values, true) },
      };
      break;
    case 'recover':
      onlyFor(operation, values, [...common, 'share', 'admin', 'signature-threshold', 'revocation-threshold']);
      request = { operation, sources: await shares(), claim: recoveryClaim(values) };
      break;
    case 'rotate':
      onlyFor(operation, values, [...common, 'share', 'current-record']);
      request = {
        operation,
        sources: await shares(),
        currentRecordPath: required(values['current-record'], '--current-record'),
      };
      break;
    case 'admin-change':
      onlyFor(operation, values, [...common, 'add', 'remove', 'signature-threshold', 'revocation-threshold']);
      request = {
        operation,
        add: adminCertificates(values.add ?? []),
        remove: values.remove ?? [],
        thresholds: thresholdsFrom(values, false),
      };
      break;
    case 'zeroize':
      onlyFor(operation, values, common);
      request = { operation };
      break;
  }
  const { summary, replacedUnrecorded } = await createBundle({
    recordPath,
    transports,
    request,
    outPath,
    rehearsal: values.rehearsal === true,
    ...actorOption(values.actor),
  });
  if (replacedUnrecorded)
    out(
      `${outPath} held the unrecorded bundle of a bundle create that was stopped before it finished; it was replaced.`,
    );
  out(`Bundle ${outPath} created (written for its owner only):`);
  for (const line of bundleSummaryLines(summary)) out(`  ${line}`);
  for (const t of transports)
    out(`  unit ${t.file.unitId}: transport key ${groupHex(t.file.fingerprint)} (confirmed in the record)`);
  out(`Each signer runs: keyceremony bundle sign ${outPath} --record ${recordPath} ...`);
}

async function bundleSign(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    {
      identity: { type: 'string' },
      'passphrase-file': { type: 'string' },
      card: { type: 'string' },
      'pin-file': { type: 'string' },
      record: { type: 'string' },
      'payload-sha256': { type: 'string' },
    },
    1,
  );
  const bundlePath = required(positionals[0], 'BUNDLE.json');
  if ((values.record === undefined) === (values['payload-sha256'] === undefined)) {
    throw new UsageError(
      'give --record RECORD (the record that created the bundle) or --payload-sha256 HEX (read from the printed record): nobody signs a bundle blind',
    );
  }
  if ((values.card === undefined) === (values.identity === undefined))
    throw new UsageError('give either --identity or --card');
  if (values.card !== undefined && values['passphrase-file'])
    throw new UsageError('--passphrase-file goes with --identity');
  if (values.identity !== undefined && values['pin-file']) throw new UsageError('--pin-file goes with --card');
  // What is signed is shown, and checked against the record, before any secret is asked.
  const turn = prepareSigning(
    bundlePath,
    signingApproval({ recordPath: values.record, payloadSha256: values['payload-sha256'] }),
  );
  out(`You are asked to sign ${bundlePath}:`);
  for (const line of bundleSummaryLines(turn.summary)) out(`  ${line}`);
  out(
    values.record
      ? `It is the bundle created in ${values.record}.`
      : 'Its payload SHA-256 matches the one you gave from the record.',
  );
  const record = values.record ? { path: values.record } : undefined;
  let r: { name: string; thumbprint: string; signatures: number; required: number | null; resumed?: true };
  if (values.card !== undefined) {
    r = await bundleSignWithCard(bundlePath, turn, values.card, values['pin-file'], record);
  } else {
    const idPath = values.identity!;
    const text = readFileOrFail(idPath, 'Identity file').toString('utf8');
    const pass = await passphraseProvider(values['passphrase-file'], `Passphrase for identity ${idPath}`, false)();
    let signer;
    try {
      signer = fileIdentitySigner(text, pass, `the identity file ${idPath}`);
    } finally {
      zeroize(pass);
    }
    const signed = await signPreparedBundle(bundlePath, turn, signer.certificate, signer.sign, record);
    r = { name: signer.certificate.name, thumbprint: signer.certificate.thumbprint, ...signed };
  }
  out(
    r.resumed
      ? `Signed by ${r.name} (${r.thumbprint}) before: the bundle sign that added it was stopped before it recorded it; the record now holds it.`
      : `Signed by ${r.name} (${r.thumbprint}).`,
  );
  out(
    r.required === null
      ? `${r.signatures} signature(s); each unit accepts it once its threshold is met.`
      : `${r.signatures} of the ${r.required} signatures the claim needs.`,
  );
}

async function bundleVerify(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { record: { type: 'string' } }, 1);
  const path = required(positionals[0], 'BUNDLE.json');
  const r = verifyBundleFile(path, values.record);
  out(`Bundle ${path}:`);
  for (const line of bundleSummaryLines(r.summary)) out(`  ${line}`);
  for (const s of r.signatures)
    out(`Signature ${s.index}: ${s.name} (${s.thumbprint}) ${s.valid ? 'valid' : 'INVALID'}`);
  if (r.signatures.length === 0) out('No signatures yet.');
  if (r.claimAdmins) {
    const missing = r.claimAdmins.filter((a) => !a.signed);
    out(
      missing.length === 0
        ? 'Every admin the claim installs has signed.'
        : `Still to sign (the claim needs every admin): ${missing.map((a) => a.name).join(', ')}`,
    );
  }
  if (r.recordEntry)
    out(`The record holds it: entry ${r.recordEntry.seq} (${r.recordEntry.time}), and the entry it names.`);
  if (!r.allValid) {
    throw new CeremonyError(
      'BundleSignatureInvalid',
      'The bundle has an invalid signature: it was altered after signing. Do not use it.',
    );
  }
}

async function transcriptVerify(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { head: { type: 'string' } }, 1);
  const path = required(positionals[0], 'RECORD.jsonl');
  const expectedHead = values.head === undefined ? undefined : headHashArgument(values.head);
  const entries = readTranscript(path);
  for (const e of entries) out(`${String(e.seq).padStart(3)} ${e.time} ${e.type} (${e.actor})`);
  const { ceremonies, complete } = ceremoniesOf(entries);
  for (const [i, c] of ceremonies.entries()) {
    const opening = c.entries[0]!;
    const lines = `lines ${opening.seq}-${c.entries.at(-1)!.seq}`;
    out(
      `Ceremony ${i + 1} (${lines}, key "${String(opening.data['keyName'])}", ceremony ${String(opening.data['ceremonyId'])}): ${outcomeText(c.outcome)}`,
    );
  }
  const head = headHash(entries);
  out(`Head hash ${groupHex(head)}`);
  if (expectedHead !== undefined) {
    if (expectedHead !== head) {
      throw new CeremonyError(
        'TranscriptInvalid',
        `The record's head hash is ${groupHex(head)}, not ${groupHex(expectedHead)}: this record is not the one the signed report describes (it was cut or rewritten). Use the original record.`,
      );
    }
    out('The head hash matches the one given: this is the record the signed report describes.');
  }
  if (!complete) {
    throw incompleteRecordError();
  }
  out(`OK: ${entries.length} entries, hash chain intact, complete (every ceremony is closed); head ${head}`);
}

/** --head as printed on the report: 64 hex digits, in groups or not, either case. */
function headHashArgument(text: string): string {
  const hex = typedHeadHash(text);
  if (hex === undefined)
    throw new UsageError(
      '--head must be the 64 hex digits of the head hash printed on the signed report (spaces allowed)',
    );
  return hex;
}

function outcomeText(o: CeremonyOutcome): string {
  switch (o.kind) {
    case 'completed':
      return 'completed';
    case 'aborted':
      return `aborted [${o.code}]: ${o.reason}`;
    case 'open':
      return 'no closing entry';
    default:
      return missingCase(o);
  }
}

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  'identity generate': identityGenerate,
  'identity cert': identityCert,
  'mk generate': mkGenerate,
  'mk reshare': mkReshare,
  'mk recover': mkRecover,
  'share verify': shareVerify,
  'units confirm': unitsConfirm,
  'units report': unitsReport,
  'bundle create': bundleCreate,
  'bundle sign': bundleSign,
  'bundle verify': bundleVerify,
  'transcript verify': transcriptVerify,
  'transcript report': transcriptReport,
  'card list': cardList,
  'card status': cardStatusCommand,
  'card prepare': cardPrepare,
  'card unblock': cardUnblock,
};

await runCli('keyceremony', async (argv) => {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    out(USAGE);
    return;
  }
  // `script` is the one command of one word.
  const name = argv[0] === 'script' ? 'script' : `${argv[0]} ${argv[1] ?? ''}`;
  const cmd = name === 'script' ? scriptCommand : COMMANDS[name];
  if (!cmd) throw new UsageError(`unknown command "${argv.slice(0, 2).join(' ')}"`);
  if (wantsHelp(argv)) {
    out(usageOf(USAGE, 'keyceremony', name));
    return;
  }
  try {
    await cmd(argv.slice(name.split(' ').length));
  } finally {
    await closeCardTransport();
  }
});

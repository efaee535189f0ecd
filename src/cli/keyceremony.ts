#!/usr/bin/env node
// keyceremony: headless master-key ceremonies on top of src/core (issue 2).
// The command surface is fixed: tests and users script against it.
import { readTransportFile } from '../core/bundle/transport.js';
import { groupHex } from '../core/encoding.js';
import { CeremonyError, missingCase } from '../core/errors.js';
import { FileShareDestination, FileShareSource, type ShareSource } from '../core/ceremony/media.js';
import {
  createImportBundle,
  generateMasterKeyCeremony,
  signBundleFile,
  verifyBundleFile,
  verifyShareAgainstRecord,
} from '../core/ceremony/operations.js';
import { ceremoniesOf, type CeremonyOutcome } from '../core/ceremony/record.js';
import { headHash, readTranscript } from '../core/ceremony/transcript.js';
import { writeFileExclusive, readFileOrFail } from '../core/files.js';
import { readAdminCertificate } from '../core/identity/certificate.js';
import { fileKeySigner, generateFileIdentity, identityCertificate, unlockFileIdentity } from '../core/identity/identity.js';
import { custodianFromPath } from '../core/shares/file-store.js';
import { zeroize } from '../core/secrets.js';
import { integer, out, parse, passphraseProvider, required, runCli, splitSpec, UsageError } from './common.js';
import {
  bundleSignWithCard,
  cardDestination,
  cardList,
  cardPrepare,
  cardSource,
  cardStatusCommand,
  cardUnblock,
  closeCardTransport,
  identityGenerateOnCard,
  parseCardSpec,
} from './cards.js';
import { loadCeremony } from '../core/ceremony/operations.js';

const USAGE = `Usage:
  keyceremony identity generate --name NAME --out FILE [--passphrase-file F]
  keyceremony identity generate --name NAME --card R [--pin-file F] --out CERT.pem
  keyceremony identity cert FILE --out CERT.pem
  keyceremony mk generate --key-name NAME --threshold K --share PATH=PASSFILE ... --record RECORD.jsonl
                          [--ceremony-name NAME]
  keyceremony share verify --record RECORD.jsonl --share PATH=PASSFILE
  keyceremony bundle create --record RECORD.jsonl --share PATH=PASSFILE ... --transport T.json ...
                            [--admin CERT.pem ... --signature-threshold S] --out BUNDLE.json
  keyceremony bundle sign BUNDLE.json --identity FILE [--passphrase-file F]
  keyceremony bundle sign BUNDLE.json --card R [--pin-file F]
  keyceremony bundle verify BUNDLE.json
  keyceremony transcript verify RECORD.jsonl [--head HEX]
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
(shares/alice.share -> alice).`;

async function shareSources(specs: string[], recordPath: string): Promise<ShareSource[]> {
  const anyCard = specs.some((s) => parseCardSpec(s));
  const ceremonyId = anyCard ? loadCeremony(recordPath).summary.ceremonyId : undefined;
  const sources: ShareSource[] = [];
  for (const spec of specs) {
    const card = parseCardSpec(spec);
    if (card) {
      sources.push(await cardSource(card.reader, card.pinFile, ceremonyId));
      continue;
    }
    const { target, secretFile } = splitSpec(spec, '--share');
    sources.push(new FileShareSource(target, passphraseProvider(secretFile, `Passphrase for share file ${target}`, false)));
  }
  return sources;
}

async function identityGenerate(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    name: { type: 'string' },
    out: { type: 'string' },
    'passphrase-file': { type: 'string' },
    card: { type: 'string' },
    'pin-file': { type: 'string' },
  });
  const name = required(values.name, '--name');
  const outPath = required(values.out, '--out');
  if (values.card !== undefined) {
    if (values['passphrase-file']) throw new UsageError('--passphrase-file is for identity files; a card takes --pin-file');
    await identityGenerateOnCard(name, values.card, values['pin-file'], outPath);
    return;
  }
  if (values['pin-file']) throw new UsageError('--pin-file goes with --card');
  const pass = await passphraseProvider(values['passphrase-file'], `Passphrase for the identity of ${name}`, true)();
  try {
    const id = await generateFileIdentity(name, pass);
    writeFileExclusive(outPath, id.text, 0o600);
    out(`Identity of ${id.certificate.name} written to ${outPath}`);
    out(`Certificate SHA-256 ${groupHex(id.certificate.fingerprintHex)}`);
    out(`Thumbprint ${id.certificate.thumbprint}`);
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
  });
  const keyName = required(values['key-name'], '--key-name');
  const threshold = integer(values.threshold, '--threshold');
  const specs = required(values.share, '--share');
  const recordPath = required(values.record, '--record');
  const custodians = [];
  for (const spec of specs) {
    const card = parseCardSpec(spec);
    if (card) {
      custodians.push({ custodian: `card ${card.reader}`, destination: await cardDestination(card.reader, card.pinFile) });
      continue;
    }
    const { target, secretFile } = splitSpec(spec, '--share');
    custodians.push({
      custodian: custodianFromPath(target),
      destination: new FileShareDestination(target, passphraseProvider(secretFile, `New passphrase for share file ${target}`, true)),
    });
  }
  const r = await generateMasterKeyCeremony({
    keyName,
    ...(values['ceremony-name'] ? { ceremonyName: values['ceremony-name'] } : {}),
    threshold,
    custodians,
    recordPath,
  });
  out(`Ceremony ${r.ceremonyId}: key "${keyName}", ${threshold} of ${custodians.length} shares`);
  for (const [i, s] of r.shares.entries()) {
    out(`Share ${s.shareIndex} for ${custodians[i]!.custodian}: ${custodians[i]!.destination.location} (written, read back and checked)`);
  }
  out(`Record ${recordPath}`);
  out(`KCV ${r.kcv}`);
}

async function shareVerify(argv: string[]): Promise<void> {
  const { values } = parse(argv, { record: { type: 'string' }, share: { type: 'string' } });
  const recordPath = required(values.record, '--record');
  const [source] = await shareSources([required(values.share, '--share')], recordPath);
  const v = await verifyShareAgainstRecord(recordPath, source!);
  out(`OK: ${source!.label} is share ${v.header.shareIndex} of ${v.header.shares} (threshold ${v.header.threshold}) of key "${v.header.keyName}"`);
  out(`It opens with its passphrase and is the share issued to ${v.issued.custodian} on ${v.issued.issued} (ceremony ${v.summary.ceremonyId}).`);
  out(`KCV ${v.header.kcv}`);
}

async function bundleCreate(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    record: { type: 'string' },
    share: { type: 'string', multiple: true },
    transport: { type: 'string', multiple: true },
    admin: { type: 'string', multiple: true },
    'signature-threshold': { type: 'string' },
    out: { type: 'string' },
  });
  const recordPath = required(values.record, '--record');
  const outPath = required(values.out, '--out');
  const transports = required(values.transport, '--transport').map(readTransportFile);
  const adminPaths = values.admin ?? [];
  if ((adminPaths.length > 0) !== (values['signature-threshold'] !== undefined)) {
    throw new UsageError('--admin and --signature-threshold go together: both to claim cleared units, neither for units already claimed');
  }
  const claim =
    adminPaths.length > 0
      ? {
          admins: adminPaths.map((p) => readAdminCertificate(readFileOrFail(p, 'Admin certificate').toString('utf8'), `The admin certificate ${p}`)),
          signatureThreshold: integer(values['signature-threshold'], '--signature-threshold'),
        }
      : undefined;
  const { bundle, kcv } = await createImportBundle({
    recordPath,
    sources: await shareSources(required(values.share, '--share'), recordPath),
    transports,
    ...(claim ? { claim } : {}),
    outPath,
  });
  out(`Bundle ${outPath} created (sequence ${bundle.payload.sequence}) for ${bundle.payload.targets.length} units:`);
  for (const t of transports) out(`  unit ${t.file.unitId}  transport key ${groupHex(t.file.fingerprint)}`);
  out(claim ? `It claims the units for ${claim.admins.length} admins (signature threshold ${claim.signatureThreshold}) and must be signed by all of them.` : 'It needs signatures from the threshold of the units\' admins.');
  out(`Payload SHA-256 ${bundle.payloadHash}`);
  out(`KCV ${kcv}`);
}

async function bundleSign(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    { identity: { type: 'string' }, 'passphrase-file': { type: 'string' }, card: { type: 'string' }, 'pin-file': { type: 'string' } },
    1,
  );
  const bundlePath = required(positionals[0], 'BUNDLE.json');
  if (values.card !== undefined) {
    if (values.identity) throw new UsageError('give either --identity or --card');
    await bundleSignWithCard(bundlePath, values.card, values['pin-file']);
    return;
  }
  const idPath = required(values.identity, '--identity');
  const text = readFileOrFail(idPath, 'Identity file').toString('utf8');
  const pass = await passphraseProvider(values['passphrase-file'], `Passphrase for identity ${idPath}`, false)();
  let id;
  try {
    id = unlockFileIdentity(text, pass, `the identity file ${idPath}`);
  } finally {
    zeroize(pass);
  }
  const r = await signBundleFile(bundlePath, id.certificate, fileKeySigner(id.privateKey));
  out(`Signed by ${id.certificate.name} (${id.certificate.thumbprint}).`);
  out(
    r.required === null
      ? `${r.signatures} signature(s); each unit accepts it once its signature threshold is met.`
      : `${r.signatures} of the ${r.required} signatures the claim needs.`,
  );
}

async function bundleVerify(argv: string[]): Promise<void> {
  const { positionals } = parse(argv, {}, 1);
  const path = required(positionals[0], 'BUNDLE.json');
  const r = verifyBundleFile(path);
  const p = r.bundle.payload;
  out(`Bundle ${path}: key "${p.keyName}", KCV ${p.kcv}, sequence ${p.sequence}, ceremony ${p.ceremonyId}`);
  out(`Targets: ${p.targets.join(', ')} (instance ${p.instanceId})`);
  out(`Commands: ${p.commands.map((c) => c.command).join(', ')}`);
  out(`Payload SHA-256 ${r.bundle.payloadHash}; transcript hash ${p.transcriptHash}`);
  for (const s of r.signatures) out(`Signature ${s.index}: ${s.name} (${s.thumbprint}) ${s.valid ? 'valid' : 'INVALID'}`);
  if (r.signatures.length === 0) out('No signatures yet.');
  if (r.claimAdmins) {
    const missing = r.claimAdmins.filter((a) => !a.signed);
    out(missing.length === 0 ? 'Every admin the claim installs has signed.' : `Still to sign (the claim needs every admin): ${missing.map((a) => a.name).join(', ')}`);
  }
  if (!r.allValid) {
    throw new CeremonyError('BundleSignatureInvalid', 'The bundle has an invalid signature: it was altered after signing. Do not use it.');
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
    out(`Ceremony ${i + 1} (${lines}, key "${String(opening.data['keyName'])}", ceremony ${String(opening.data['ceremonyId'])}): ${outcomeText(c.outcome)}`);
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
    throw new CeremonyError('TranscriptInvalid', 'INCOMPLETE: the last ceremony has no closing entry (it is still running, was cut off, or lines were cut from the end of the record).');
  }
  out(`OK: ${entries.length} entries, hash chain intact, complete (every ceremony is closed); head ${head}`);
}

/** --head as printed on the report: 64 hex digits, in groups or not, either case. */
function headHashArgument(text: string): string {
  const hex = text.replace(/\s+/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new UsageError('--head must be the 64 hex digits of the head hash printed on the signed report (spaces allowed)');
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
  'share verify': shareVerify,
  'bundle create': bundleCreate,
  'bundle sign': bundleSign,
  'bundle verify': bundleVerify,
  'transcript verify': transcriptVerify,
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
  const cmd = COMMANDS[`${argv[0]} ${argv[1] ?? ''}`];
  if (!cmd) throw new UsageError(`unknown command "${argv.slice(0, 2).join(' ')}"`);
  if (argv.includes('--help')) {
    out(USAGE);
    return;
  }
  try {
    await cmd(argv.slice(2));
  } finally {
    await closeCardTransport();
  }
});

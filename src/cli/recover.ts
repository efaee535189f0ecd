// keyceremony mk recover (issue 11, ceremony 1): the recovery ceremony onto
// new or cleared units, from the key's record or, when it is lost, from its
// signed paper report.
import { bundleSummaryLines } from '../core/bundle/bundle.js';
import { readTransportFile } from '../core/bundle/transport.js';
import { recoverFromPaper, recoverFromRecord, type RecoveryResult } from '../core/ceremony/recovery.js';
import { groupHex } from '../core/encoding.js';
import { actorOption, out, parse, recoveryClaim, required, UsageError } from './common.js';
import { shareSources } from './shares.js';

/** Options of the lost-record case only (--head goes with both: with --record, the record must hold it). */
const PAPER_OPTIONS = ['new-record', 'key-name', 'kcv', 'verification-pattern', 'fingerprint'] as const;

export async function mkRecover(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    record: { type: 'string' },
    'new-record': { type: 'string' },
    'key-name': { type: 'string' },
    kcv: { type: 'string' },
    'verification-pattern': { type: 'string' },
    head: { type: 'string' },
    fingerprint: { type: 'string', multiple: true },
    share: { type: 'string', multiple: true },
    transport: { type: 'string', multiple: true },
    admin: { type: 'string', multiple: true },
    'signature-threshold': { type: 'string' },
    'revocation-threshold': { type: 'string' },
    out: { type: 'string' },
    rehearsal: { type: 'boolean' },
    'ceremony-name': { type: 'string' },
    actor: { type: 'string' },
  });
  const fromPaper = values['new-record'] !== undefined;
  if (fromPaper === (values.record !== undefined))
    throw new UsageError(
      'give --record RECORD (the key\u2019s record) or, when it is lost, --new-record NEW with the values of its paper report',
    );
  if (!fromPaper) {
    const paperOnly = PAPER_OPTIONS.find((o) => values[o] !== undefined);
    if (paperOnly)
      throw new UsageError(
        `--${paperOnly} goes with --new-record (a lost record); with --record, units are confirmed with units confirm`,
      );
  }
  const specs = required(values.share, '--share');
  const transports = required(values.transport, '--transport').map(readTransportFile);
  const outPath = required(values.out, '--out');
  const claim = recoveryClaim(values);
  const common = {
    transports,
    claim,
    outPath,
    rehearsal: values.rehearsal === true,
    ...(values['ceremony-name'] !== undefined
      ? { ceremonyName: required(values['ceremony-name'], '--ceremony-name') }
      : {}),
    ...actorOption(values.actor),
  };
  let r: RecoveryResult;
  if (fromPaper) {
    const paper = {
      keyName: required(values['key-name'], '--key-name'),
      kcv: required(values.kcv, '--kcv'),
      verificationPattern: required(values['verification-pattern'], '--verification-pattern'),
      headHash: required(values.head, '--head'),
    };
    const displayed = displayedFingerprints(required(values.fingerprint, '--fingerprint'));
    r = await recoverFromPaper({
      ...common,
      newRecordPath: values['new-record']!,
      paper,
      displayed,
      sources: await shareSources(specs, undefined),
    });
  } else {
    const recordPath = values.record!;
    r = await recoverFromRecord({
      ...common,
      recordPath,
      ...(values.head !== undefined ? { paperHead: values.head } : {}),
      sources: await shareSources(specs, recordPath),
    });
  }
  if (r.closedStopped)
    out(
      `The recovery opened at line ${r.closedStopped.line} was stopped before it ended; it is now closed as aborted.`,
    );
  out(
    `Recovery ${r.ceremonyId}: key "${r.keyName}" rebuilt from shares ${r.sharesUsed.join(', ')} and checked (KCV and verification pattern${fromPaper ? ' of the paper report' : ' of the record'}); the key was wiped from memory.`,
  );
  if (fromPaper)
    out(
      `New record ${r.recordPath}: the key's record from now on (key ceremony ${r.keyCeremonyId}); it knows shares ${r.sharesUsed.join(', ')} only.`,
    );
  out(`Bundle ${outPath} created (written for its owner only):`);
  for (const line of bundleSummaryLines(r.created.summary)) out(`  ${line}`);
  for (const t of transports)
    out(`  unit ${t.file.unitId}: transport key ${groupHex(t.file.fingerprint)} (confirmed in the record)`);
  out(`Record ${r.recordPath}`);
  out(`KCV ${r.kcv}`);
  out(
    r.signatures.by === 'claim'
      ? `Next: every one of the ${r.signatures.needed} admins the claim installs signs it (payload SHA-256 ${r.created.bundle.payloadHash}):`
      : `Next: ${r.signatures.needed} admin(s) of the units sign it (their signature threshold; payload SHA-256 ${r.created.bundle.payloadHash}):`,
  );
  out(`  keyceremony bundle sign ${outPath} --record ${r.recordPath} ...`);
}

/** --fingerprint UNIT=HEX, as read off each unit's display; one per unit. */
function displayedFingerprints(specs: string[]): Map<string, string> {
  const displayed = new Map<string, string>();
  for (const spec of specs) {
    const i = spec.indexOf('=');
    if (i <= 0 || i === spec.length - 1)
      throw new UsageError(
        `--fingerprint "${spec.slice(0, 100)}" must be UNIT=HEX: the unit id and the fingerprint it displays`,
      );
    const unit = spec.slice(0, i);
    if (displayed.has(unit)) throw new UsageError(`--fingerprint names unit ${unit} twice`);
    displayed.set(unit, spec.slice(i + 1));
  }
  return displayed;
}

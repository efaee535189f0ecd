#!/usr/bin/env node
// crypto-unit-emulator: a local stand-in for the crypto units of one
// service instance (DESIGN.md, "The crypto-unit emulator").
import { mkdirSync } from 'node:fs';
import { groupHex } from '../core/encoding.js';
import { CeremonyError } from '../core/errors.js';
import { readFileOrFail } from '../core/files.js';
import { EXIT, ExitWith, out, parse, required, runCli, usageOf, UsageError, wantsHelp } from '../cli/common.js';
import {
  exportTransportFiles,
  ingestBundle,
  initInstance,
  instanceStatus,
  setMaintenance,
  zeroizeUnitLocally,
} from './instance.js';
// audit and kms (issue 8, "The units' life"): their commands live in cli-kms.ts.
import { audit, kms } from './cli-kms.js';

const USAGE = `Usage:
  crypto-unit-emulator init --state DIR --units 2|3 [--rehearsal]
  crypto-unit-emulator transport --state DIR --out-dir DIR
  crypto-unit-emulator ingest --state DIR BUNDLE.json [--unit ID]...
  crypto-unit-emulator status --state DIR [--json]
  crypto-unit-emulator maintenance --state DIR --unit ID --on|--off
  crypto-unit-emulator zeroize --state DIR --unit ID   (local, for a unit taken out of service)
  crypto-unit-emulator audit --state DIR --unit ID [--json]
  crypto-unit-emulator kms create-root-key --state DIR --name NAME
  crypto-unit-emulator kms wrap --state DIR --root NAME --in DEK --out WRAPPED.jwe
  crypto-unit-emulator kms unwrap --state DIR --in WRAPPED.jwe --out DEK
  crypto-unit-emulator kms export-keystore --state DIR --out KEYSTORE.json
  crypto-unit-emulator kms import-keystore --state DIR --in KEYSTORE.json

A bundle goes to every unit of the instance; --unit (repeatable) retries only
the named units after a partial failure. status exits 3 when the units differ.
An instance made with --rehearsal accepts only rehearsal bundles (bundle create
--rehearsal); one made without it, only production bundles.`;

async function init(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    state: { type: 'string' },
    units: { type: 'string' },
    rehearsal: { type: 'boolean' },
  });
  const dir = required(values.state, '--state');
  const units = required(values.units, '--units');
  if (units !== '2' && units !== '3') throw new UsageError('--units must be 2 or 3');
  const s = initInstance(dir, Number(units), { rehearsal: values.rehearsal === true });
  out(
    s.rehearsal
      ? `REHEARSAL instance ${s.instanceId} with ${s.units.length} cleared crypto units in ${dir}: its units accept rehearsal bundles only`
      : `Instance ${s.instanceId} with ${s.units.length} cleared crypto units in ${dir} (production: its units refuse rehearsal bundles)`,
  );
  for (const u of s.units) out(`  unit ${u.id}  transport key SHA-256 ${groupHex(u.transport.fingerprint)}`);
}

async function transport(argv: string[]): Promise<void> {
  const { values } = parse(argv, { state: { type: 'string' }, 'out-dir': { type: 'string' } });
  const dir = required(values.state, '--state');
  const outDir = required(values['out-dir'], '--out-dir');
  mkdirSync(outDir, { recursive: true });
  for (const f of exportTransportFiles(dir, outDir)) {
    out(`unit ${f.unitId}: ${f.path}`);
    out(`  transport key SHA-256 ${groupHex(f.fingerprint)}`);
  }
}

async function ingest(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    { state: { type: 'string' }, unit: { type: 'string', multiple: true } },
    1,
  );
  const dir = required(values.state, '--state');
  const path = required(positionals[0], 'BUNDLE.json');
  const text = readFileOrFail(path, 'Bundle').toString('utf8');
  const results = ingestBundle(dir, text, values.unit ?? []);
  for (const r of results)
    out(`unit ${r.unitId}: ${r.ok ? (r.alreadyApplied ? 'OK (already applied)' : 'OK') : 'FAILED'} ${r.message}`);
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    const ids = failed.map((r) => r.unitId).filter((id) => id !== '*');
    throw new CeremonyError(
      'EmulatorState',
      failed.length === results.length
        ? `The bundle was rejected: ${failed[0]!.message.replace(/^rejected: /, '')}`
        : `The bundle was applied to ${results.length - failed.length} of ${results.length} units; retry with ${ids.map((id) => `--unit ${id}`).join(' ')} once the cause is fixed.`,
    );
  }
}

async function status(argv: string[]): Promise<void> {
  const { values } = parse(argv, { state: { type: 'string' }, json: { type: 'boolean' } });
  const s = instanceStatus(required(values.state, '--state'));
  if (values.json) out(JSON.stringify(s, null, 2));
  else {
    out(
      `${s.rehearsal ? 'REHEARSAL instance' : 'Instance'} ${s.instanceId} (${s.rehearsal ? 'rehearsal' : 'production'} mode; profile ${s.limits.profile}; ${s.rootKeys} KMS root key${s.rootKeys === 1 ? '' : 's'})`,
    );
    for (const u of s.units) {
      out(
        `unit ${u.id}  ${u.state.padEnd(15)} KCV ${u.masterKeyKcv ?? '-'} (old ${u.oldMasterKeyKcv ?? '-'})  admins ${u.adminNames.length} ` +
          `(signature ${u.signatureThreshold}, revocation ${u.revocationThreshold})  last sequence ${u.lastSequence}`,
      );
    }
  }
  if (s.mismatches.length > 0) {
    throw new ExitWith(
      EXIT.mismatch,
      `the units of instance ${s.instanceId} differ:\n  ${s.mismatches.join('\n  ')}\nIngest the missing bundle on the units that lack it (ingest --unit ID).`,
    );
  }
}

async function zeroizeLocal(argv: string[]): Promise<void> {
  const { values } = parse(argv, { state: { type: 'string' }, unit: { type: 'string' } });
  const u = zeroizeUnitLocally(required(values.state, '--state'), required(values.unit, '--unit'));
  out(`unit ${u.id}: zeroized locally; state ${u.state}, no key, no admin left`);
}

async function maintenance(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    state: { type: 'string' },
    unit: { type: 'string' },
    on: { type: 'boolean' },
    off: { type: 'boolean' },
  });
  if (Boolean(values.on) === Boolean(values.off)) throw new UsageError('give exactly one of --on and --off');
  const u = setMaintenance(required(values.state, '--state'), required(values.unit, '--unit'), Boolean(values.on));
  out(`unit ${u.id}: maintenance ${u.maintenance ? 'on' : 'off'}`);
}

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  init,
  transport,
  ingest,
  status,
  maintenance,
  zeroize: zeroizeLocal,
  audit,
  kms,
};

await runCli('crypto-unit-emulator', async (argv) => {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    out(USAGE);
    return;
  }
  const cmd = COMMANDS[argv[0]!];
  if (!cmd) throw new UsageError(`unknown command "${argv[0]}"`);
  // kms and audit answer -h themselves, per subcommand.
  if (cmd !== kms && cmd !== audit && wantsHelp(argv)) {
    out(usageOf(USAGE, 'crypto-unit-emulator', argv[0]!));
    return;
  }
  await cmd(argv.slice(1));
});

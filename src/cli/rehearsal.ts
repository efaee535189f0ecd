#!/usr/bin/env node
// A full headless rehearsal ceremony (issue 2, "Done when"), run through the
// real CLIs exactly as an operator would type them, in a fresh workspace:
// 3 admins with signature threshold 2, a 3-of-5 master key on passphrase
// files, an emulated instance of 2 crypto units, a claim bundle signed by
// all 3 admins, then a second bundle accepted with 2 signatures.
//
//   npm run rehearsal [-- --workspace DIR]
//
// The passphrase files it writes are rehearsal data: random, in the
// workspace, readable only by you. A real ceremony uses a prompt or
// removable media instead.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = fileURLToPath(new URL('.', import.meta.url));
const BINS: Record<string, string> = {
  keyceremony: join(here, 'keyceremony.js'),
  'crypto-unit-emulator': join(here, '../emulator/cli.js'),
};

const { values } = parseArgs({ options: { workspace: { type: 'string' } } });
const ws = values.workspace ? resolve(values.workspace) : mkdtempSync(join(tmpdir(), 'keyceremony-rehearsal-'));
mkdirSync(ws, { recursive: true });

function step(title: string): void {
  process.stdout.write(`\n== ${title}\n`);
}

function sh(bin: string, ...args: string[]): string {
  return run(true, bin, ...args);
}

function run(show: boolean, bin: string, ...args: string[]): string {
  if (show) process.stdout.write(`$ ${bin} ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [BINS[bin]!, ...args], { cwd: ws, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (show) process.stdout.write(r.stdout.replace(/^/gm, '  ').replace(/  $/, ''));
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    throw new Error(`rehearsal stopped: "${bin} ${args[0]} ${args[1] ?? ''}" failed`);
  }
  return r.stdout;
}

function secretFile(name: string): string {
  writeFileSync(join(ws, name), randomBytes(15).toString('base64url') + '\n', { mode: 0o600 });
  return name;
}

const admins = ['alice', 'bob', 'carol'];
const custodians = ['dora', 'erik', 'fatima', 'gus', 'hana'];
const share = (c: string): string => `shares/${c}.share=secrets/${c}.pass`;

try {
  process.stdout.write(`Rehearsal workspace: ${ws}\n`);
  mkdirSync(join(ws, 'secrets'), { mode: 0o700 });
  mkdirSync(join(ws, 'shares'));
  mkdirSync(join(ws, 'admins'));

  step('1. Admin identities (RSA-2048, encrypted PKCS#8 + X.509)');
  for (const a of admins) {
    secretFile(`secrets/${a}.pass`);
    sh('keyceremony', 'identity', 'generate', '--name', a, '--out', `admins/${a}.id`, '--passphrase-file', `secrets/${a}.pass`);
    sh('keyceremony', 'identity', 'cert', `admins/${a}.id`, '--out', `admins/${a}.crt`);
  }

  step('2. Master key, split 3-of-5 onto passphrase-protected files');
  for (const c of custodians) secretFile(`secrets/${c}.pass`);
  const mk = sh('keyceremony', 'mk', 'generate', '--key-name', 'rehearsal-mk', '--threshold', '3', ...custodians.flatMap((c) => ['--share', share(c)]), '--record', 'record.jsonl');
  const kcv = /^KCV ([0-9A-F]{6})$/m.exec(mk)?.[1];

  step('3. Crypto units: an instance of 2, and their transport keys');
  sh('crypto-unit-emulator', 'init', '--state', 'units', '--units', '2');
  sh('crypto-unit-emulator', 'transport', '--state', 'units', '--out-dir', 'transport');
  const transports = readdirSync(join(ws, 'transport')).flatMap((f) => ['--transport', `transport/${f}`]);

  step('4. Import bundle claiming the units: built from 3 shares, signed by all 3 admins');
  sh('keyceremony', 'bundle', 'create', '--record', 'record.jsonl', '--share', share('dora'), '--share', share('fatima'), '--share', share('hana'),
    ...transports, ...admins.flatMap((a) => ['--admin', `admins/${a}.crt`]), '--signature-threshold', '2', '--out', 'bundle-1.json');
  for (const a of admins) sh('keyceremony', 'bundle', 'sign', 'bundle-1.json', '--identity', `admins/${a}.id`, '--passphrase-file', `secrets/${a}.pass`);
  sh('keyceremony', 'bundle', 'verify', 'bundle-1.json');
  sh('crypto-unit-emulator', 'ingest', '--state', 'units', 'bundle-1.json');

  step('5. A second bundle for the same units needs 2 admin signatures');
  sh('keyceremony', 'bundle', 'create', '--record', 'record.jsonl', '--share', share('erik'), '--share', share('gus'), '--share', share('hana'), ...transports, '--out', 'bundle-2.json');
  sh('keyceremony', 'bundle', 'sign', 'bundle-2.json', '--identity', 'admins/bob.id', '--passphrase-file', 'secrets/bob.pass');
  sh('keyceremony', 'bundle', 'sign', 'bundle-2.json', '--identity', 'admins/carol.id', '--passphrase-file', 'secrets/carol.pass');
  sh('crypto-unit-emulator', 'ingest', '--state', 'units', 'bundle-2.json');

  step('6. Checks: a custodian checks a share; the record; the units');
  sh('keyceremony', 'share', 'verify', '--record', 'record.jsonl', '--share', share('gus'));
  sh('keyceremony', 'transcript', 'verify', 'record.jsonl');
  sh('crypto-unit-emulator', 'status', '--state', 'units');
  const status = JSON.parse(run(false, 'crypto-unit-emulator', 'status', '--state', 'units', '--json')) as {
    units: Array<{ id: string; state: string; masterKeyKcv: string | null }>;
  };
  const good = status.units.every((u) => u.state === 'kms-initialized' && u.masterKeyKcv === kcv);
  process.stdout.write(
    good
      ? `\nRehearsal complete: ${status.units.length} units kms-initialized with master key KCV ${kcv}, as generated.\n`
      : `\nRehearsal FAILED: units ${status.units.map((u) => `${u.id} ${u.state} ${u.masterKeyKcv}`).join('; ')}; expected KCV ${kcv}.\n`,
  );
  process.exitCode = good ? 0 : 1;
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 1;
}

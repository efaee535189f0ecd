// A master key living on emulated crypto units, as the command line leaves
// it after `mk generate`, `units confirm`, `bundle create --operation
// initialize`, `bundle sign` by the admins and `ingest` (src/cli/rehearsal.ts,
// steps 1-5), made with the CLI's core functions and the in-process emulator:
// the starting point of a rotation (issue 11, ceremony 4).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTransportFile } from '../../src/core/bundle/transport.js';
import { confirmUnit, createBundle, prepareSigning, signPreparedBundle } from '../../src/core/ceremony/bundles.js';
import { FileShareDestination, FileShareSource } from '../../src/core/ceremony/media.js';
import { generateMasterKeyCeremony } from '../../src/core/ceremony/operations.js';
import { readTranscript } from '../../src/core/ceremony/transcript.js';
import {
  fileKeySigner,
  generateFileIdentity,
  identityCertificate,
  unlockFileIdentity,
} from '../../src/core/identity/identity.js';
import { exportTransportFiles, ingestBundle, initInstance, instanceStatus } from '../../src/emulator/instance.js';

export const SCRYPT = { logN: 15, r: 8, p: 1 };

export interface KeyOnUnits {
  /** The key's record (its generation, the units' confirmations, the initialize bundle and its signatures). */
  record: string;
  kcv: string;
  /** The emulator's state (crypto-unit-emulator --state). */
  unitsDir: string;
  /** The custodians' share files, by name. */
  shareFiles: Record<string, string>;
  /** The admins' identity files, by name. */
  identityFiles: Record<string, string>;
  /** The units' transport files, exported afresh (after the initialize bundle: they carry the units' admins). */
  transports(): string[];
  /** What `crypto-unit-emulator status --json` writes, into `path`. */
  saveStatus(path: string): string;
}

/**
 * A key "name", K of the custodians on passphrase files (`pass(name)`),
 * initialized on a production instance of 2 units claimed by the admins
 * (identity files, signature and revocation threshold 2), both signing.
 */
export async function keyOnUnits(
  dir: string,
  o: { keyName: string; threshold: number; custodians: string[]; admins: string[]; pass: (name: string) => string },
): Promise<KeyOnUnits> {
  const unitsDir = join(dir, 'units');
  const transportDir = join(dir, 'transport');
  const media = join(dir, 'old-media');
  mkdirSync(media, { recursive: true });
  mkdirSync(transportDir, { recursive: true });
  initInstance(unitsDir, 2);
  const exported = (): string[] => exportTransportFiles(unitsDir, transportDir).map((t) => t.path);
  const transports = exported().map(readTransportFile);

  const record = join(media, `${o.keyName}.jsonl`);
  const shareFiles = Object.fromEntries(o.custodians.map((n) => [n, join(media, `${n.toLowerCase()}.keyshare`)]));
  const generated = await generateMasterKeyCeremony({
    keyName: o.keyName,
    threshold: o.threshold,
    custodians: o.custodians.map((n) => ({
      custodian: n,
      destination: new FileShareDestination(shareFiles[n]!, async () => Buffer.from(o.pass(n)), SCRYPT),
    })),
    recordPath: record,
    actor: 'Olga',
  });
  for (const t of transports) confirmUnit(record, t, t.file.fingerprint, 'Olga');

  const identityFiles: Record<string, string> = {};
  for (const n of o.admins) {
    identityFiles[n] = join(media, `${n.toLowerCase()}.identity.pem`);
    writeFileSync(identityFiles[n], (await generateFileIdentity(n, Buffer.from(o.pass(n)))).text);
  }
  const text = (n: string): string => readFileSync(identityFiles[n]!, 'utf8');
  const bundlePath = join(media, 'bundle-initialize.json');
  await createBundle({
    recordPath: record,
    transports,
    request: {
      operation: 'initialize',
      sources: o.custodians
        .slice(0, o.threshold)
        .map((n) => new FileShareSource(shareFiles[n]!, async () => Buffer.from(o.pass(n)))),
      claim: {
        admins: o.admins.map((n) => identityCertificate(text(n))),
        signatureThreshold: 2,
        revocationThreshold: 2,
      },
    },
    outPath: bundlePath,
    actor: 'Olga',
  });
  for (const n of o.admins) {
    const approval = { recordEntries: readTranscript(record), recordLabel: 'The record' };
    const unlocked = unlockFileIdentity(text(n), Buffer.from(o.pass(n)));
    await signPreparedBundle(
      bundlePath,
      prepareSigning(bundlePath, approval),
      unlocked.certificate,
      fileKeySigner(unlocked.privateKey),
      { path: record },
    );
  }
  const results = ingestBundle(unitsDir, readFileSync(bundlePath, 'utf8'));
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) throw new Error(`initialize refused: ${JSON.stringify(failed)}`);
  return {
    record,
    kcv: generated.kcv,
    unitsDir,
    shareFiles,
    identityFiles,
    transports: exported,
    saveStatus: (path) => {
      writeFileSync(path, JSON.stringify(instanceStatus(unitsDir), null, 2) + '\n');
      return path;
    },
  };
}

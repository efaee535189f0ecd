// A key's record with more than one ceremony, written by the real writers
// (the CLI's core functions): the key generation (2 of 3), a re-share that
// failed on its third new share (its shares void), and a completed re-share
// (3 of 4) that retired the first set. For the record check's tests.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTransportFile } from '../../src/core/bundle/transport.js';
import { unitConfirmedData } from '../../src/core/ceremony/bundle-record.js';
import { createBundle, prepareSigning, signPreparedBundle } from '../../src/core/ceremony/bundles.js';
import { generateMasterKeyCeremony } from '../../src/core/ceremony/operations.js';
import { ENTRY } from '../../src/core/ceremony/record.js';
import { reshareMasterKey } from '../../src/core/ceremony/reshare.js';
import { appendTranscript, headHash, readTranscript } from '../../src/core/ceremony/transcript.js';
import { fileKeySigner, generateFileIdentity, unlockFileIdentity } from '../../src/core/identity/identity.js';
import { initInstance, transportFileFor } from '../../src/emulator/instance.js';
import { MemoryMedium } from './memory-medium.js';

export interface LifeRecord {
  path: string;
  head: string;
  kcv: string;
}

export async function writeLifeRecord(recordPath: string): Promise<LifeRecord> {
  const old = ['Alice', 'Bob', 'Carol'].map((n) => new MemoryMedium(n));
  const fresh = ['Alice', 'Dave', 'Erin', 'Frank'].map((n) => new MemoryMedium(n));
  const generated = await generateMasterKeyCeremony({
    ceremonyName: 'Key generation',
    keyName: 'MK-LIFE',
    threshold: 2,
    custodians: old.map((m) => ({ custodian: m.label, destination: m })),
    recordPath,
    actor: 'Olga',
  });
  await reshareMasterKey({
    recordPath,
    sources: [old[0]!, old[1]!],
    threshold: 2,
    custodians: ['x', 'y', 'z'].map((n, i) => ({
      custodian: `void-${n}`,
      destination: new MemoryMedium(`void-${n}`, i === 2),
    })),
    ceremonyName: 'Failed re-share',
    actor: 'Rita',
  }).catch(() => undefined);
  await reshareMasterKey({
    recordPath,
    sources: [old[2]!, old[0]!],
    threshold: 3,
    custodians: fresh.map((m) => ({ custodian: m.label, destination: m })),
    ceremonyName: 'Bob lost his card',
    actor: 'Rita',
  });
  return { path: recordPath, head: headHash(readTranscript(recordPath)), kcv: generated.kcv };
}

/** The record without its last line (its closing entry): a cut record. */
export function writeCutRecord(from: string, to: string): void {
  const lines = readFileSync(from, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  writeFileSync(
    to,
    lines
      .slice(0, -1)
      .map((l) => `${l}\n`)
      .join(''),
  );
}

export interface BundleRecord {
  /** The key's record: key generation (2 of 2), two units confirmed, the initialize bundle created and signed. */
  path: string;
  /** The bundle file, signed by Alice, the one admin its claim installs. */
  bundlePath: string;
}

/** A record that holds a signed initialize bundle, written by the CLI's own functions, in `dir`. */
export async function writeBundleRecord(dir: string): Promise<BundleRecord> {
  const path = join(dir, 'MK-B.jsonl');
  const shares = ['Carol', 'Dave'].map((n) => new MemoryMedium(n));
  await generateMasterKeyCeremony({
    keyName: 'MK-B',
    threshold: 2,
    custodians: shares.map((m) => ({ custodian: m.label, destination: m })),
    recordPath: path,
    actor: 'Olga',
  });
  const units = initInstance(join(dir, 'MK-B-units'), 2);
  const transports = units.units.map((u) => {
    const p = join(dir, `MK-B-transport-${u.id}.json`);
    writeFileSync(p, JSON.stringify(transportFileFor(units, u)));
    const t = readTransportFile(p);
    appendTranscript(path, { type: ENTRY.unitConfirmed, actor: 'Olga', data: unitConfirmedData(t) });
    return t;
  });
  const pass = Buffer.from('Alice’s passphrase');
  const alice = await generateFileIdentity('Alice', pass);
  const bundlePath = join(dir, 'MK-B-bundle-initialize.json');
  await createBundle({
    recordPath: path,
    transports,
    request: {
      operation: 'initialize',
      sources: shares,
      claim: { admins: [alice.certificate], signatureThreshold: 1, revocationThreshold: 1 },
    },
    outPath: bundlePath,
    actor: 'Olga',
  });
  const turn = prepareSigning(bundlePath, { recordEntries: readTranscript(path), recordLabel: 'The record' });
  const unlocked = unlockFileIdentity(alice.text, pass, 'Alice’s identity');
  await signPreparedBundle(bundlePath, turn, alice.certificate, fileKeySigner(unlocked.privateKey), { path });
  return { path, bundlePath };
}

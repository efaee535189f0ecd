// A key's record with more than one ceremony, written by the real writers
// (the CLI's core functions): the key generation (2 of 3), a re-share that
// failed on its third new share (its shares void), and a completed re-share
// (3 of 4) that retired the first set. For the record check's tests.
import { readFileSync, writeFileSync } from 'node:fs';
import { generateMasterKeyCeremony } from '../../src/core/ceremony/operations.js';
import { reshareMasterKey } from '../../src/core/ceremony/reshare.js';
import { headHash, readTranscript } from '../../src/core/ceremony/transcript.js';
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

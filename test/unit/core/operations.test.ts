import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  generateMasterKeyCeremony,
  recoverMasterKey,
  verifyShareAgainstRecord,
} from '../../../src/core/ceremony/operations.js';
import { readTranscript } from '../../../src/core/ceremony/transcript.js';
import { keyCheckValue } from '../../../src/core/masterkey/masterkey.js';
import { MemoryMedium } from '../../support/memory-medium.js';

const recordPath = (): string => join(mkdtempSync(join(tmpdir(), 'kc-ops-')), 'record.jsonl');

describe('ceremony operations', () => {
  it('generate, then any K shares rebuild the key with the recorded KCV', async () => {
    const media = ['a', 'b', 'c', 'd'].map((n) => new MemoryMedium(n));
    const path = recordPath();
    const r = await generateMasterKeyCeremony({
      keyName: 'K',
      threshold: 3,
      custodians: media.map((m) => ({ custodian: m.label, destination: m })),
      recordPath: path,
    });
    expect(media.every((m) => m.disposed)).toBe(true);
    const { key, used } = await recoverMasterKey(path, [media[3]!, media[0]!, media[2]!]);
    expect(keyCheckValue(key)).toBe(r.kcv);
    expect(used).toEqual([4, 1, 3]);
    const v = await verifyShareAgainstRecord(path, media[1]!);
    expect(v.issued.custodian).toBe('b');
  });

  it('a share whose bytes differ from the issued one is refused by its commitment', async () => {
    const media = ['a', 'b', 'c'].map((n) => new MemoryMedium(n));
    const path = recordPath();
    await generateMasterKeyCeremony({
      keyName: 'K',
      threshold: 2,
      custodians: media.map((m) => ({ custodian: m.label, destination: m })),
      recordPath: path,
    });
    media[1]!.stored!.share[0] = media[1]!.stored!.share[0]! ^ 1;
    await expect(verifyShareAgainstRecord(path, media[1]!)).rejects.toThrow(/not the share 2 that was issued/);
    await expect(recoverMasterKey(path, [media[0]!, media[1]!])).rejects.toThrow(/not the share 2 that was issued/);
  });

  it('a failed write aborts the ceremony in the record, and the record then refuses to be used', async () => {
    const media = [new MemoryMedium('a'), new MemoryMedium('b'), new MemoryMedium('c', true)];
    const path = recordPath();
    await expect(
      generateMasterKeyCeremony({
        keyName: 'K',
        threshold: 2,
        custodians: media.map((m) => ({ custodian: m.label, destination: m })),
        recordPath: path,
      }),
    ).rejects.toThrow(
      /^c was pulled out The ceremony was aborted, and its record says so\. 2 shares had been written before this \(a, b\): they belong to the aborted ceremony and will be refused; destroy them, then start again\.$/,
    );
    const entries = readTranscript(path);
    expect(entries.map((e) => e.type)).toEqual([
      'ceremony-opened',
      'master-key-generated',
      'share-issued',
      'share-issued',
      'master-key-wiped',
      'ceremony-closed',
    ]);
    expect(entries.at(-1)!.data).toEqual({
      outcome: 'aborted',
      code: 'InvalidArgument',
      reason: 'c was pulled out',
      entries: 6,
    });
    await expect(recoverMasterKey(path, [media[0]!, media[1]!])).rejects.toThrow(/was aborted \(c was pulled out\)/);
  });

  it('a completed ceremony ends with the wipe and its closing, counting its entries', async () => {
    const media = ['a', 'b'].map((n) => new MemoryMedium(n));
    const path = recordPath();
    await generateMasterKeyCeremony({
      keyName: 'K',
      threshold: 2,
      custodians: media.map((m) => ({ custodian: m.label, destination: m })),
      recordPath: path,
    });
    const entries = readTranscript(path);
    expect(entries.slice(-2).map((e) => [e.type, e.data])).toEqual([
      ['master-key-wiped', { note: 'master key and shares zeroed in memory' }],
      ['ceremony-closed', { outcome: 'completed', entries: 6 }],
    ]);
  });

  it('cutting the last lines off an aborted record does not make its shares usable again (issue 8)', async () => {
    // Share 3's medium fails; shares 1 and 2 were issued and meet the threshold.
    const media = [new MemoryMedium('a'), new MemoryMedium('b'), new MemoryMedium('c', true)];
    const path = recordPath();
    await expect(
      generateMasterKeyCeremony({
        keyName: 'K',
        threshold: 2,
        custodians: media.map((m) => ({ custodian: m.label, destination: m })),
        recordPath: path,
      }),
    ).rejects.toThrow(/c was pulled out/);
    // The attacker cuts the closing and the wipe: what is left is a valid chain.
    for (const cut of [1, 2]) {
      const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
      const cutPath = recordPath();
      writeFileSync(cutPath, lines.slice(0, -cut).join('\n') + '\n');
      expect(readTranscript(cutPath)).toHaveLength(6 - cut);
      const refused =
        /has no closing entry: the ceremony was cut off, or lines were cut from the end of the record; its shares cannot be trusted/;
      await expect(verifyShareAgainstRecord(cutPath, media[0]!)).rejects.toThrow(refused);
      await expect(recoverMasterKey(cutPath, [media[0]!, media[1]!])).rejects.toThrow(refused);
      await expect(recoverMasterKey(cutPath, [media[0]!, media[1]!])).rejects.toMatchObject({
        code: 'TranscriptInvalid',
      });
    }
  });
});

// Re-share (issue 11, ceremony 2) in the engine: the same key, a new set of
// shares, the old set retired by the record, and every refusal of a share
// that must not count.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ShareSource } from '../../../src/core/ceremony/media.js';
import {
  generateMasterKeyCeremony,
  loadCeremony,
  recoverMasterKey,
  verifyShareAgainstRecord,
} from '../../../src/core/ceremony/operations.js';
import { reshareMasterKey, type ReshareArgs } from '../../../src/core/ceremony/reshare.js';
import { readTranscript } from '../../../src/core/ceremony/transcript.js';
import { keyCheckValue } from '../../../src/core/masterkey/masterkey.js';
import { MemoryMedium } from '../../support/memory-medium.js';
import { completedReshareTypes, reshareEntries } from '../../support/reshare-record.js';

const custodiansOf = (shares: MemoryMedium[]): ReshareArgs['custodians'] =>
  shares.map((m) => ({ custodian: m.label, destination: m }));

async function keyWithShares(
  names: string[],
  threshold: number,
): Promise<{ path: string; kcv: string; old: MemoryMedium[] }> {
  const path = join(mkdtempSync(join(tmpdir(), 'kc-reshare-')), 'record.jsonl');
  const old = names.map((n) => new MemoryMedium(n));
  const r = await generateMasterKeyCeremony({
    keyName: 'MK',
    threshold,
    custodians: custodiansOf(old),
    recordPath: path,
  });
  return { path, kcv: r.kcv, old };
}

describe('re-share', () => {
  it('2 of 3 becomes 3 of 4 of the same key; the old set is retired and named when offered', async () => {
    const { path, kcv, old } = await keyWithShares(['alice', 'bob', 'carol'], 2);
    const fresh = ['alice2', 'dave', 'erin', 'frank'].map((n) => new MemoryMedium(n));
    const r = await reshareMasterKey({
      recordPath: path,
      sources: [old[2]!, old[0]!],
      threshold: 3,
      custodians: custodiansOf(fresh),
      actor: 'witnessed operator',
    });
    expect(r.kcv).toBe(kcv);
    expect(r.sharesUsed).toEqual([3, 1]);
    expect(r.retired).toMatchObject({ threshold: 2, shares: 3 });
    expect(fresh.map((m) => m.stored!.header.ceremonyId)).toEqual(Array(4).fill(r.ceremonyId));

    const entries = readTranscript(path);
    const reshare = reshareEntries(path);
    expect(reshare.map((e) => e.type)).toEqual(completedReshareTypes(4));
    expect(reshare.every((e) => e.actor === 'witnessed operator')).toBe(true);
    const firstCeremony = entries[0]!.data['ceremonyId'];
    expect(reshare[0]!.data).toMatchObject({ kind: 'reshare', keyName: 'MK', keyCeremonyId: firstCeremony });
    const initialIssued = entries.filter((e) => e.type === 'share-issued').slice(0, 3);
    expect(reshare[5]!.data).toEqual({
      reshareCeremonyId: r.ceremonyId,
      retiredCeremonyId: firstCeremony,
      commitments: initialIssued.map((e) => e.data['commitment']),
      sharesUsed: ['3', '1'],
    });

    // Any 3 new shares rebuild the same key; the summary names the current set.
    const { key } = await recoverMasterKey(path, [fresh[3]!, fresh[1]!, fresh[0]!]);
    expect(keyCheckValue(key)).toBe(kcv);
    const { summary } = loadCeremony(path);
    expect(summary).toMatchObject({ ceremonyId: firstCeremony, threshold: 3, shares: 4, kcv });
    expect(summary.shareSets.map((s) => s.retiredBy?.ceremonyId ?? null)).toEqual([r.ceremonyId, null]);
    expect((await verifyShareAgainstRecord(path, fresh[2]!)).issued.custodian).toBe('erin');

    // Every old share is refused, naming the re-share, whoever offers it and however many.
    const retired = new RegExp(
      `alice is share 1 of ceremony ${String(firstCeremony)}, which the re-share "re-share of MK" \\(ceremony ${r.ceremonyId}, record line \\d+, .*\\) retired: it can no longer be used; use a share of the current set \\(3 of 4`,
    );
    await expect(verifyShareAgainstRecord(path, old[0]!)).rejects.toThrow(retired);
    await expect(verifyShareAgainstRecord(path, old[0]!)).rejects.toMatchObject({
      code: 'ShareRetired',
      details: { retiredBy: r.ceremonyId },
    });
    await expect(recoverMasterKey(path, [old[0]!, old[1]!, old[2]!])).rejects.toThrow(/retired/);
    await expect(recoverMasterKey(path, [fresh[0]!, fresh[1]!, old[1]!])).rejects.toThrow(/bob is share 2 .* retired/);
    await expect(
      reshareMasterKey({
        recordPath: path,
        sources: [old[0]!, old[1]!],
        threshold: 2,
        custodians: custodiansOf([new MemoryMedium('x'), new MemoryMedium('y')]),
      }),
    ).rejects.toThrow(/alice is share 1 .* retired/);
  });

  it('a second re-share retires the first one, and each retired set names the re-share that retired it', async () => {
    const { path, kcv, old } = await keyWithShares(['a', 'b', 'c'], 2);
    const second = ['d', 'e'].map((n) => new MemoryMedium(n));
    const third = ['f', 'g', 'h'].map((n) => new MemoryMedium(n));
    const r1 = await reshareMasterKey({
      recordPath: path,
      sources: [old[0]!, old[1]!],
      threshold: 2,
      custodians: custodiansOf(second),
    });
    const r2 = await reshareMasterKey({
      recordPath: path,
      sources: second,
      threshold: 2,
      custodians: custodiansOf(third),
      ceremonyName: 'custodian e left',
    });
    await expect(verifyShareAgainstRecord(path, old[2]!)).rejects.toThrow(`(ceremony ${r1.ceremonyId}, record line`);
    await expect(verifyShareAgainstRecord(path, second[1]!)).rejects.toThrow(
      `the re-share "custodian e left" (ceremony ${r2.ceremonyId}`,
    );
    const { key } = await recoverMasterKey(path, [third[2]!, third[0]!]);
    expect(keyCheckValue(key)).toBe(kcv);
  });

  it('refuses K-1 shares (saying how many are needed), a share of another key, the same share twice', async () => {
    const { path, old } = await keyWithShares(['alice', 'bob', 'carol'], 3);
    const other = await keyWithShares(['dave', 'erin'], 2);
    const reshare = (sources: ShareSource[]) =>
      reshareMasterKey({
        recordPath: path,
        sources,
        threshold: 2,
        custodians: custodiansOf([new MemoryMedium('x'), new MemoryMedium('y')]),
      });
    await expect(reshare([old[0]!, old[1]!])).rejects.toMatchObject({
      code: 'ThresholdNotMet',
      message: '3 different shares are needed to rebuild key "MK"; 2 were given.',
    });
    await expect(reshare([old[0]!, other.old[0]!, old[1]!])).rejects.toMatchObject({
      code: 'ShareFromOtherCeremony',
      message: expect.stringMatching(/^dave belongs to another ceremony/) as unknown,
    });
    await expect(reshare([old[0]!, old[1]!, old[0]!])).rejects.toMatchObject({
      code: 'DuplicateShare',
      message: 'alice is share 1 again: two copies of the same share count once.',
    });
    // Nothing was written: the record holds the key ceremony alone.
    expect(readTranscript(path).map((e) => e.type)).not.toContain('shares-retired');
    expect(readTranscript(path).filter((e) => e.type === 'ceremony-opened')).toHaveLength(1);
  });

  it('refuses a new set that gives one person two shares, before any share is read', async () => {
    const { path, old } = await keyWithShares(['alice', 'bob'], 2);
    await expect(
      reshareMasterKey({
        recordPath: path,
        sources: old,
        threshold: 2,
        custodians: [
          { custodian: 'dave', destination: new MemoryMedium('dave.share') },
          { custodian: 'dave', destination: new MemoryMedium('dave-2.share') },
        ],
      }),
    ).rejects.toThrow('Two shares would go to dave: one person holds at most one share of a key.');
  });

  it('a re-share that fails before every new share is issued retires nothing; its shares are void', async () => {
    const { path, kcv, old } = await keyWithShares(['alice', 'bob', 'carol'], 2);
    const fresh = [new MemoryMedium('dave'), new MemoryMedium('erin'), new MemoryMedium('frank', true)];
    await expect(
      reshareMasterKey({
        recordPath: path,
        sources: [old[0]!, old[1]!],
        threshold: 2,
        custodians: custodiansOf(fresh),
      }),
    ).rejects.toThrow(
      /^frank was pulled out The ceremony was aborted, and its record says so\. 2 shares had been written/,
    );
    const types = readTranscript(path).map((e) => e.type);
    expect(types).not.toContain('shares-retired');
    expect(types.slice(-2)).toEqual(['master-key-wiped', 'ceremony-closed']);
    // The old set is still the current one.
    expect((await verifyShareAgainstRecord(path, old[2]!)).issued.custodian).toBe('carol');
    expect(keyCheckValue((await recoverMasterKey(path, [old[2]!, old[1]!])).key)).toBe(kcv);
    await expect(verifyShareAgainstRecord(path, fresh[0]!)).rejects.toThrow(
      /dave belongs to the re-share .* of key "MK", which was aborted \(frank was pulled out\): its shares never were a usable set/,
    );
  });

  it('a re-share stopped after its retirement but before its closing retires nothing, and the next one closes it', async () => {
    const { path, kcv, old } = await keyWithShares(['alice', 'bob', 'carol'], 2);
    const fresh = ['dave', 'erin'].map((n) => new MemoryMedium(n));
    await reshareMasterKey({
      recordPath: path,
      sources: [old[0]!, old[1]!],
      threshold: 2,
      custodians: custodiansOf(fresh),
    });
    // What a kill between the retirement and the closing leaves: the record without its wipe and closing.
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    writeFileSync(path, lines.slice(0, -2).join('\n') + '\n');
    expect(readTranscript(path).at(-1)!.type).toBe('shares-retired');
    expect((await verifyShareAgainstRecord(path, old[0]!)).issued.custodian).toBe('alice');
    await expect(verifyShareAgainstRecord(path, fresh[0]!)).rejects.toThrow(
      /which has no closing entry \(it was stopped, or is still running\)/,
    );

    const again = ['frank', 'gina'].map((n) => new MemoryMedium(n));
    const r = await reshareMasterKey({
      recordPath: path,
      sources: [old[2]!, old[0]!],
      threshold: 2,
      custodians: custodiansOf(again),
    });
    expect(r.closedStopped).toEqual({ line: expect.any(Number) as unknown, written: ['dave', 'erin'] });
    const closings = readTranscript(path).filter((e) => e.type === 'ceremony-closed');
    expect(closings.map((e) => e.data['outcome'])).toEqual(['completed', 'aborted', 'completed']);
    await expect(verifyShareAgainstRecord(path, fresh[1]!)).rejects.toThrow(
      /which was aborted \(stopped before it ended/,
    );
    await expect(verifyShareAgainstRecord(path, old[1]!)).rejects.toThrow(`(ceremony ${r.ceremonyId}, record line`);
    expect(keyCheckValue((await recoverMasterKey(path, again)).key)).toBe(kcv);
  });
});

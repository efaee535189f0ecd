import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ShareDestination, ShareSource } from '../../../src/core/ceremony/media.js';
import { generateMasterKeyCeremony, recoverMasterKey, verifyShareAgainstRecord } from '../../../src/core/ceremony/operations.js';
import { CeremonyError } from '../../../src/core/errors.js';
import { keyCheckValue } from '../../../src/core/masterkey/masterkey.js';
import type { KeyshareHeader } from '../../../src/core/shares/envelope.js';

/** A medium in memory: what was written, and a way to fail or to tamper. */
class MemoryMedium implements ShareDestination, ShareSource {
  readonly medium = 'file' as const;
  stored: { header: KeyshareHeader; share: Buffer } | undefined;
  disposed = false;
  constructor(readonly label: string, private readonly failWrite = false) {}
  get location(): string {
    return this.label;
  }
  async precheck(): Promise<void> {}
  async write(header: KeyshareHeader, share: Uint8Array): Promise<void> {
    if (this.failWrite) throw new CeremonyError('InvalidArgument', `${this.label} was pulled out`);
    this.stored = { header, share: Buffer.from(share) };
  }
  async readBack(): Promise<Buffer> {
    return Buffer.from(this.stored!.share);
  }
  dispose(): void {
    this.disposed = true;
  }
  async header(): Promise<KeyshareHeader> {
    return this.stored!.header;
  }
  async open(): Promise<Buffer> {
    return Buffer.from(this.stored!.share);
  }
}

const recordPath = (): string => join(mkdtempSync(join(tmpdir(), 'kc-ops-')), 'record.jsonl');

describe('ceremony operations', () => {
  it('generate, then any K shares rebuild the key with the recorded KCV', async () => {
    const media = ['a', 'b', 'c', 'd'].map((n) => new MemoryMedium(n));
    const path = recordPath();
    const r = await generateMasterKeyCeremony({ keyName: 'K', threshold: 3, custodians: media.map((m) => ({ custodian: m.label, destination: m })), recordPath: path });
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
    await generateMasterKeyCeremony({ keyName: 'K', threshold: 2, custodians: media.map((m) => ({ custodian: m.label, destination: m })), recordPath: path });
    media[1]!.stored!.share[0] = media[1]!.stored!.share[0]! ^ 1;
    await expect(verifyShareAgainstRecord(path, media[1]!)).rejects.toThrow(/not the share 2 that was issued/);
    await expect(recoverMasterKey(path, [media[0]!, media[1]!])).rejects.toThrow(/not the share 2 that was issued/);
  });

  it('a failed write aborts the ceremony in the record, and the record then refuses to be used', async () => {
    const media = [new MemoryMedium('a'), new MemoryMedium('b'), new MemoryMedium('c', true)];
    const path = recordPath();
    await expect(
      generateMasterKeyCeremony({ keyName: 'K', threshold: 2, custodians: media.map((m) => ({ custodian: m.label, destination: m })), recordPath: path }),
    ).rejects.toThrow(/c was pulled out/);
    const types = readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types).toEqual(['ceremony-opened', 'master-key-generated', 'share-issued', 'share-issued', 'ceremony-aborted', 'master-key-wiped']);
    await expect(recoverMasterKey(path, [media[0]!, media[1]!])).rejects.toThrow(/was aborted \(c was pulled out\)/);
  });
});

import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isCeremonyError } from '../../../src/core/errors.js';
import { MAX_INPUT_BYTES, readFileOrFail } from '../../../src/core/files.js';
import { parseEnvelope, sealShareWithPassphrase, serializeEnvelope } from '../../../src/core/shares/envelope.js';

// Inputs that would make the tool do unbounded work are refused before the
// work (issue 10, "Denial of service").

const dir = mkdtempSync(join(tmpdir(), 'kc-limits-'));

describe('bounded work', () => {
  it('a share file asking scrypt for more than 1 GiB is refused before any key derivation', async () => {
    const envelope = await sealShareWithPassphrase(
      {
        format: 'keyceremony-keyshare/1',
        ceremonyId: '3f0c1b8e-2a4d-4c6e-9f10-112233445566',
        keyName: 'MK',
        shareIndex: 1,
        threshold: 2,
        shares: 3,
        kcv: 'ABCDEF',
        custodian: 'dora',
        created: '2026-11-26T08:00:00.000Z',
      },
      Buffer.alloc(33, 7),
      Buffer.from('dora secret'),
      { logN: 15, r: 8, p: 1 },
    );
    // Without its digest (a file of an earlier version, or one whose digest was recomputed): the bound itself speaks.
    const { digest: _digest, ...members } = envelope;
    const greedy = serializeEnvelope(members).replace('"logN": 15', '"logN": 20').replace('"r": 8', '"r": 16');
    expect(greedy).toContain('"logN": 20');
    let error: unknown;
    try {
      parseEnvelope(greedy, 'share file greedy.share');
    } catch (e) {
      error = e;
    }
    expect(isCeremonyError(error, 'ShareCorrupted')).toBe(true);
    expect((error as Error).message).toBe(
      'share file greedy.share asks for 2048 MiB of scrypt memory; this tool allows at most 1024 MiB. The file is damaged or was not written by this tool.',
    );
    // 1 GiB itself is allowed (logN 20, r 8).
    expect(() => parseEnvelope(serializeEnvelope(members).replace('"logN": 15', '"logN": 20'), 'x')).not.toThrow();
  });

  it('a file larger than any input of this tool is refused unread', () => {
    const path = join(dir, 'huge.json');
    writeFileSync(path, '{}');
    truncateSync(path, MAX_INPUT_BYTES + 1);
    let error: unknown;
    try {
      readFileOrFail(path, 'Bundle');
    } catch (e) {
      error = e;
    }
    expect(isCeremonyError(error, 'InvalidArgument')).toBe(true);
    expect((error as Error).message).toMatch(
      /^Bundle .*huge\.json is 16777217 bytes; this tool reads at most 16777216 bytes of it\./,
    );
  });
});

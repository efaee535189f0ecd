// A seeded fuzz of card answers (issue 9, "Never crash"): random and mutated
// response APDUs fed to the PIV client through an in-process CardConnection.
// Whatever the card says, only CeremonyErrors come out: never a TypeError,
// RangeError or plain Error (which the CLI reports as a bug, exit 70).
import { describe, expect, it } from 'vitest';
import { KEY_REF, PivSession } from '../../../src/core/cards/piv.js';
import { cardStatus } from '../../../src/core/cards/roles.js';
import type { CardConnection } from '../../../src/core/cards/transport.js';
import { CeremonyError } from '../../../src/core/errors.js';

/** mulberry32: small, seeded, the same sequence on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Plausible answers to mutate: the shapes PIV answers have (SP 800-73-4; Yubico GET METADATA). */
const SEEDS = [
  '9000',
  '0102039000', // version
  '0001e2409000', // serial
  '01010f05010106020303' + '9000', // PIN metadata
  '0101110202010103010104434186410400' + '9000',
  '5308700401020304' + '9000', // data object
  '53820100' + '00'.repeat(252) + '6110',
  '6110',
  '6c04',
  '6a82',
  '63c2',
];

function answer(next: () => number): Uint8Array {
  const pick = Math.floor(next() * 4);
  if (pick === 0) {
    // random bytes, 0..300 long
    return Uint8Array.from({ length: Math.floor(next() * 300) }, () => Math.floor(next() * 256));
  }
  const seed = Buffer.from(SEEDS[Math.floor(next() * SEEDS.length)]!, 'hex');
  const b = Uint8Array.from(seed);
  const mutations = Math.floor(next() * 4);
  for (let i = 0; i < mutations && b.length > 0; i++) b[Math.floor(next() * b.length)] = Math.floor(next() * 256);
  if (pick === 1) return b.subarray(0, Math.floor(next() * (b.length + 1))); // truncated
  return b;
}

function fuzzCard(seed: number): CardConnection {
  const next = prng(seed);
  return {
    reader: 'fuzz',
    atr: new Uint8Array(),
    async transmit() {
      return answer(next);
    },
    async disconnect() {},
  };
}

const OPERATIONS: Array<[string, (s: PivSession) => Promise<unknown>]> = [
  ['serial', (s) => s.serial()],
  ['version', (s) => s.version()],
  ['getData', (s) => s.getData(0x5fc10a, 'Reading the admin certificate')],
  ['PIN metadata', (s) => s.referenceMetadata(KEY_REF.PIN)],
  ['management key metadata', (s) => s.referenceMetadata(KEY_REF.MANAGEMENT)],
  ['slot metadata', (s) => s.slotMetadata(0x82)],
  ['PIN tries', (s) => s.pinTriesLeft()],
  ['card status', (s) => cardStatus(s)],
];

describe('seeded fuzz of card answers', () => {
  it.each(OPERATIONS)(
    '%s: 300 random answers give a result or a CeremonyError, nothing else',
    async (_name, op) => {
      for (let seed = 1; seed <= 300; seed++) {
        const s = new PivSession(fuzzCard(seed * 7919));
        try {
          await op(s);
        } catch (e) {
          if (!(e instanceof CeremonyError))
            throw new Error(`seed ${seed * 7919}: ${(e as Error)?.name}: ${(e as Error)?.message}`);
          expect(e.message).toMatch(/\.$/);
        }
      }
    },
    60_000,
  );
});

import { describe, expect, it } from 'vitest';
import {
  PGP_EVEN_WORDS,
  PGP_ODD_WORDS,
  fingerprintFromB64url,
  hexGroups,
  pgpWords,
} from '../../../src/core/ceremony/fingerprint.js';
import { CeremonyError } from '../../../src/core/errors.js';

const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

describe('hexGroups', () => {
  it('groups 32 bytes into 16 groups of 4 uppercase hex digits', () => {
    const bytes = new Uint8Array(32).map((_, i) => i * 8 + 0xa);
    const g = hexGroups(bytes);
    expect(g).toHaveLength(16);
    expect(g.every((x) => /^[0-9A-F]{4}$/.test(x))).toBe(true);
    expect(g.join('')).toBe(Buffer.from(bytes).toString('hex').toUpperCase());
    expect(g[0]).toBe('0A12');
  });

  it('honours the group size and keeps a short last group', () => {
    expect(hexGroups(hex('deadbeef01'), 1)).toEqual(['DE', 'AD', 'BE', 'EF', '01']);
    expect(hexGroups(hex('deadbeef01'), 2)).toEqual(['DEAD', 'BEEF', '01']);
    expect(hexGroups(hex('deadbeef01'), 4)).toEqual(['DEADBEEF', '01']);
    expect(hexGroups(new Uint8Array(0))).toEqual([]);
  });

  it('refuses a group size that is not a positive integer', () => {
    expect(() => hexGroups(hex('00'), 0)).toThrow(RangeError);
    expect(() => hexGroups(hex('00'), 1.5)).toThrow(RangeError);
  });
});

describe('PGP word list', () => {
  it('has two lists of 256 distinct words, disjoint from each other', () => {
    expect(PGP_EVEN_WORDS).toHaveLength(256);
    expect(PGP_ODD_WORDS).toHaveLength(256);
    const even = new Set(PGP_EVEN_WORDS.map((w) => w.toLowerCase()));
    const odd = new Set(PGP_ODD_WORDS.map((w) => w.toLowerCase()));
    expect(even.size).toBe(256);
    expect(odd.size).toBe(256);
    expect([...even].filter((w) => odd.has(w))).toEqual([]);
    expect([...PGP_EVEN_WORDS, ...PGP_ODD_WORDS].every((w) => /^[A-Za-z]+$/.test(w))).toBe(true);
  });

  it('starts and ends where the published lists do', () => {
    expect(PGP_EVEN_WORDS.slice(0, 4)).toEqual(['aardvark', 'absurd', 'accrue', 'acme']);
    expect(PGP_ODD_WORDS.slice(0, 4)).toEqual(['adroitness', 'adviser', 'aftermath', 'aggregate']);
    expect(PGP_EVEN_WORDS.slice(-2)).toEqual(['woodlark', 'Zulu']);
    expect(PGP_ODD_WORDS.slice(-2)).toEqual(['yesteryear', 'Yucatan']);
  });

  it('encodes the Wikipedia example', () => {
    expect(pgpWords(hex('E582 94F2 E9A2 2748 6E8B 061B 31CC 528F D7FA 3F19')).join(' ')).toBe(
      'topmost Istanbul Pluto vagabond treadmill Pacific brackish dictator goldfish Medusa ' +
        'afflict bravado chatter revolver Dupont midsummer stopwatch whimsical cowbell bottomless',
    );
  });

  it('encodes the examples of other implementations (Encode::Wordlist::PGP, pgp-words)', () => {
    expect(pgpWords(hex('4155 9711 308F 2A21 B9D5 072D 6219 58AF CB50 B5F9')).join(' ')).toBe(
      'cranky equipment preshrunk Babylon chairlift midsummer brickyard Camelot sentence specialist ' +
        'ahead clergyman flagpole bottomless endorse pharmacy spheroid embezzle scorecard Waterloo',
    );
    expect(pgpWords(hex('d1c2 25e4 26c6 33dd 94d1 a7e8 c3f4 08aa 9b34 2488')).join(' ')).toBe(
      'stairway repellent bombast tradition bookshelf responsive chisel tambourine Pluto scavenger ' +
        'repay typewriter snowcap Virginia aimless pedigree puppy confidence bluebird maritime',
    );
    expect(pgpWords(hex('EA5B 81C5 6498 8C73 EE90 DEE9 BAF1 E072 33CD E511')).join(' ')).toBe(
      'Trojan exodus minnow resistor flytrap narrative offload hurricane tycoon millionaire ' +
        'tactics ultimate shadow vacancy tapeworm holiness chisel sandalwood topmost Babylon',
    );
  });

  it('uses the even list at even offsets and the odd list at odd offsets', () => {
    expect(pgpWords(hex('000000'))).toEqual(['aardvark', 'adroitness', 'aardvark']);
    expect(pgpWords(hex('ffff'))).toEqual(['Zulu', 'Yucatan']);
    expect(pgpWords(new Uint8Array(0))).toEqual([]);
    const all = new Uint8Array(256).map((_, i) => i);
    expect(pgpWords(all).filter((_, i) => i % 2 === 0)).toEqual(PGP_EVEN_WORDS.filter((_, i) => i % 2 === 0));
    expect(pgpWords(all).filter((_, i) => i % 2 === 1)).toEqual(PGP_ODD_WORDS.filter((_, i) => i % 2 === 1));
  });
});

describe('fingerprintFromB64url', () => {
  it('decodes strict base64url', () => {
    const bytes = hex('E58294F2E9A227486E8B061B31CC528FD7FA3F19');
    expect(fingerprintFromB64url(Buffer.from(bytes).toString('base64url'))).toEqual(bytes);
  });

  it('refuses padding, foreign characters and non-canonical encodings', () => {
    for (const bad of ['AAE=', 'AA+B', 'AB', 'A']) {
      expect(() => fingerprintFromB64url(bad)).toThrow(CeremonyError);
    }
  });
});

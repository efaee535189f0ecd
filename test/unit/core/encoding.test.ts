import { describe, expect, it } from 'vitest';
import { b64url, canonicalJson, fromB64url, groupHex } from '../../../src/core/encoding.js';

describe('strict base64url', () => {
  it('round-trips bytes without padding (RFC 7515 §2)', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0x00, 0x01]);
    expect(b64url(bytes)).toBe('-_8AAQ');
    expect(fromB64url('-_8AAQ', 'x')).toEqual(bytes);
  });

  it('rejects padding, standard-alphabet characters and impossible lengths', () => {
    expect(() => fromB64url('-_8AAQ==', 'x')).toThrow(/not valid base64url/);
    expect(() => fromB64url('+/8AAQ', 'x')).toThrow(/not valid base64url/);
    expect(() => fromB64url('abcde', 'x')).toThrow(/not valid base64url/);
    expect(() => fromB64url(42, 'x')).toThrow(/not valid base64url/);
  });

  it('rejects non-canonical encodings that decode to the same bytes', () => {
    // "AQ" is 0x01; "AR" sets unused trailing bits and Node would decode it to 0x01 too.
    expect(Buffer.from('AR', 'base64url')).toEqual(Buffer.from([1]));
    expect(() => fromB64url('AR', 'The field')).toThrow(/The field is not canonical base64url/);
  });
});

describe('canonical JSON', () => {
  it('sorts keys at every level and omits undefined, like RFC 8785 for this subset', () => {
    expect(canonicalJson({ b: 1, a: { d: [true, null], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[true,null]},"b":1}',
    );
  });
  it('refuses numbers that are not safe integers', () => {
    expect(() => canonicalJson({ x: 1.5 })).toThrow(/safe integer/);
  });
});

it('groups hex for reading aloud', () => {
  expect(groupHex('a1b2c3d4e5')).toBe('A1B2 C3D4 E5');
});

import { CeremonyError } from '../errors.js';

// BER-TLV as PIV uses it (SP 800-73-4 Part 2 §3.1 and Part 1 Appendix A):
// one- or two-byte tags, definite lengths in short or long form (81 xx,
// 82 xx xx).

export function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n <= 0xff) return Buffer.from([0x81, n]);
  if (n <= 0xffff) return Buffer.from([0x82, n >> 8, n & 0xff]);
  throw new CeremonyError('CardError', `A TLV length of ${n} is too large for a card.`);
}

export function tlv(tag: number, value: Uint8Array): Buffer {
  const t = tag > 0xffff ? [tag >> 16, (tag >> 8) & 0xff, tag & 0xff] : tag > 0xff ? [tag >> 8, tag & 0xff] : [tag];
  return Buffer.concat([Buffer.from(t), encodeLength(value.length), value]);
}

export interface Tlv {
  tag: number;
  value: Buffer;
}

/** Parses a sequence of TLVs at one level. */
export function parseTlvs(buf: Uint8Array, what = 'card data'): Tlv[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Tlv[] = [];
  let i = 0;
  const bad = (): never => {
    throw new CeremonyError('CardError', `The card returned malformed ${what}.`);
  };
  while (i < b.length) {
    let tag = b[i++]!;
    if ((tag & 0x1f) === 0x1f) {
      // multi-byte tag: continue while b8 is set
      do {
        if (i >= b.length) bad();
        tag = (tag << 8) | b[i]!;
      } while (b[i++]! & 0x80);
    }
    if (i >= b.length) bad();
    let len = b[i++]!;
    if (len === 0x81) {
      if (i >= b.length) bad();
      len = b[i++]!;
    } else if (len === 0x82) {
      if (i + 1 >= b.length) bad();
      len = (b[i]! << 8) | b[i + 1]!;
      i += 2;
    } else if (len > 0x82) bad();
    if (i + len > b.length) bad();
    out.push({ tag, value: b.subarray(i, i + len) });
    i += len;
  }
  return out;
}

export function findTlv(tlvs: Tlv[], tag: number, what: string): Buffer {
  const t = tlvs.find((x) => x.tag === tag);
  if (!t) throw new CeremonyError('CardError', `The card's answer lacks ${what} (tag ${tag.toString(16).toUpperCase()}).`);
  return t.value;
}

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

/** BER length octets (ISO/IEC 7816-4 §5.2.2.2): short form below 80; 81 xx and 82 xx xx long forms. 80 (indefinite) is not allowed. */
const LENGTH_INDEFINITE = 0x80;
const LENGTH_ONE_BYTE = 0x81;
const LENGTH_TWO_BYTES = 0x82;
/** Tag number continues in the next byte when the low five bits of the first are all set, and while b8 is set (§5.2.2.1). */
const TAG_NUMBER_MASK = 0x1f;
const TAG_MORE = 0x80;
/** PIV tags are at most three bytes (5FC1xx); a longer one is garbage. */
const MAX_TAG_BYTES = 3;

/**
 * Parses a sequence of TLVs at one level, strictly: every length must fit in
 * what is left, nothing may trail, and a malformed sequence is a CardError
 * naming `what`, never a RangeError.
 */
export function parseTlvs(buf: Uint8Array, what = 'card data'): Tlv[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Tlv[] = [];
  let i = 0;
  const bad = (problem: string): never => {
    throw new CeremonyError(
      'CardError',
      `The card returned malformed ${what} (${problem}); it may not be a PIV card or it may be faulty, so take it out and use another card.`,
      {
        problem,
      },
    );
  };
  while (i < b.length) {
    const start = i;
    let tag = b[i++]!;
    if ((tag & TAG_NUMBER_MASK) === TAG_NUMBER_MASK) {
      // multi-byte tag: continue while b8 is set
      do {
        if (i >= b.length) bad(`a tag cut off at byte ${i}`);
        if (i - start >= MAX_TAG_BYTES) bad(`a tag longer than ${MAX_TAG_BYTES} bytes at byte ${start}`);
        tag = (tag << 8) | b[i]!;
      } while (b[i++]! & TAG_MORE);
    }
    if (i >= b.length) bad(`no length after tag ${tag.toString(16).toUpperCase()}`);
    let len = b[i++]!;
    if (len === LENGTH_ONE_BYTE) {
      if (i >= b.length) bad('a length cut off');
      len = b[i++]!;
    } else if (len === LENGTH_TWO_BYTES) {
      if (i + 1 >= b.length) bad('a length cut off');
      len = (b[i]! << 8) | b[i + 1]!;
      i += 2;
    } else if (len >= LENGTH_INDEFINITE) bad(`length byte ${len.toString(16).toUpperCase()}`);
    if (i + len > b.length) bad(`tag ${tag.toString(16).toUpperCase()} claims ${len} bytes, ${b.length - i} are left`);
    out.push({ tag, value: b.subarray(i, i + len) });
    i += len;
  }
  return out;
}

export function findTlv(tlvs: Tlv[], tag: number, what: string): Buffer {
  const t = tlvs.find((x) => x.tag === tag);
  if (!t)
    throw new CeremonyError('CardError', `The card's answer lacks ${what} (tag ${tag.toString(16).toUpperCase()}).`);
  return t.value;
}

/**
 * BER-TLV helpers for the virtual PIV card (ISO/IEC 7816-4 section 5.2,
 * SP 800-73-4 Part 1 section 3 "PIV data model" and Part 2 section 3.3
 * "Data types and their representation").
 *
 * PIV uses tags of one to three bytes and definite lengths of at most three
 * bytes (0x82 LL LL), which is all a card with 3 KB objects ever needs.
 */

export class TlvError extends Error {}

/** Encodes a BER length (short form below 0x80, 0x81 LL, 0x82 LL LL). */
export function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  if (length <= 0xff) return Uint8Array.of(0x81, length);
  if (length <= 0xffff) return Uint8Array.of(0x82, length >> 8, length & 0xff);
  throw new TlvError(`length ${length} is too large for a PIV object`);
}

/** Tag as an unsigned integer (0x53, 0x7F49, 0x5FC105...) to its bytes. */
export function tagBytes(tag: number): Uint8Array {
  if (tag <= 0xff) return Uint8Array.of(tag);
  if (tag <= 0xffff) return Uint8Array.of(tag >> 8, tag & 0xff);
  return Uint8Array.of((tag >> 16) & 0xff, (tag >> 8) & 0xff, tag & 0xff);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function tlv(tag: number, value: Uint8Array): Uint8Array {
  return concat(tagBytes(tag), encodeLength(value.length), value);
}

export interface Tlv {
  tag: number;
  value: Uint8Array;
  /** Offset just past this TLV in the parsed buffer. */
  end: number;
}

/** Reads one TLV at `offset`; throws TlvError on truncated or malformed input. */
export function readTlv(buf: Uint8Array, offset = 0): Tlv {
  let p = offset;
  if (p >= buf.length) throw new TlvError('truncated TLV: no tag');
  let tag = buf[p++]!;
  if ((tag & 0x1f) === 0x1f) {
    // Multi-byte tag: subsequent bytes while bit 8 is set (ISO 7816-4 5.2.2.1).
    let b: number;
    do {
      if (p >= buf.length) throw new TlvError('truncated TLV tag');
      b = buf[p++]!;
      tag = (tag << 8) | b;
    } while (b & 0x80 && p - offset < 3);
  }
  if (p >= buf.length) throw new TlvError('truncated TLV: no length');
  let len = buf[p++]!;
  if (len === 0x81) {
    if (p + 1 > buf.length) throw new TlvError('truncated TLV length');
    len = buf[p++]!;
  } else if (len === 0x82) {
    if (p + 2 > buf.length) throw new TlvError('truncated TLV length');
    len = (buf[p]! << 8) | buf[p + 1]!;
    p += 2;
  } else if (len > 0x82) {
    throw new TlvError('unsupported TLV length form');
  }
  if (p + len > buf.length) throw new TlvError('TLV value runs past the end of the data');
  return { tag: tag >>> 0, value: buf.subarray(p, p + len), end: p + len };
}

/** Parses a flat sequence of TLVs. */
export function parseTlvs(buf: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let off = 0;
  while (off < buf.length) {
    const t = readTlv(buf, off);
    out.push(t);
    off = t.end;
  }
  return out;
}

/** Parses a flat TLV list into a map; later duplicates are ignored. */
export function tlvMap(buf: Uint8Array): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  for (const t of parseTlvs(buf)) if (!m.has(t.tag)) m.set(t.tag, t.value);
  return m;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(s: string): Uint8Array {
  const clean = s.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new TlvError(`not a hex string: ${s}`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

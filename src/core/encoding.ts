import { createHash } from 'node:crypto';
import { CeremonyError, type CeremonyErrorCode } from './errors.js';

/** base64url without padding (RFC 7515 §2, RFC 4648 §5). */
export function b64url(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64url');
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Strict base64url decoding: rejects padding, foreign characters and
 * non-canonical encodings (unused trailing bits set). Node's decoder silently
 * ignores all of those, which would let a flipped byte in a signed document
 * decode to the same bytes and go unnoticed.
 */
export function fromB64url(text: unknown, what: string, code: CeremonyErrorCode = 'BundleMalformed'): Buffer {
  if (typeof text !== 'string' || !B64URL.test(text) || text.length % 4 === 1) {
    throw new CeremonyError(code, `${what} is not valid base64url.`);
  }
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) {
    throw new CeremonyError(code, `${what} is not canonical base64url.`);
  }
  return bytes;
}

export function sha256(...parts: Array<Uint8Array | string>): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

export function sha256Hex(...parts: Array<Uint8Array | string>): string {
  return sha256(...parts).toString('hex');
}

/** "a1b2c3d4e5..." -> "A1B2 C3D4 E5.." for people comparing fingerprints aloud. */
export function groupHex(hex: string, groupSize = 4): string {
  const up = hex.toUpperCase();
  const groups: string[] = [];
  for (let i = 0; i < up.length; i += groupSize) groups.push(up.slice(i, i + groupSize));
  return groups.join(' ');
}

/**
 * A parsed JSON object whose members are exactly `keys` (in any order), or
 * what is wrong: not an object, or the members it has instead. The strict
 * parsers of every format build their refusals on it.
 */
export function exactMembers(
  o: unknown,
  keys: readonly string[],
): { members: Record<string, unknown> } | { notObject: true } | { has: string } {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return { notObject: true };
  const has = Object.keys(o).sort().join(',');
  return has === [...keys].sort().join(',') ? { members: o as Record<string, unknown> } : { has };
}

/** Why a text is not compact JSON: not UTF-8 JSON at all, nested too deep to re-serialise, or not in compact form. */
export type CompactJsonFault = 'not-json' | 'too-deep' | 'not-compact';

/**
 * Reads UTF-8 JSON that must be exactly its compact serialisation: no
 * insignificant whitespace, and no duplicate members (JSON.parse keeps the
 * last of them, so re-serialising differs). Signed JSON read this way has one
 * reading for every parser, whichever duplicate it would have kept. Never
 * throws: JSON.stringify recurses, so a value nested thousands deep is
 * reported as too deep instead of exhausting the stack (found by npm run fuzz).
 */
export function parseCompactJson(bytes: Uint8Array): { value: unknown; text: string } | { fault: CompactJsonFault } {
  let text: string;
  let value: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    value = JSON.parse(text);
  } catch {
    return { fault: 'not-json' };
  }
  let compact: string;
  try {
    compact = JSON.stringify(value);
  } catch {
    return { fault: 'too-deep' };
  }
  return compact === text ? { value, text } : { fault: 'not-compact' };
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * Canonical JSON in the manner of RFC 8785 (JCS) for the subset this project
 * uses: strings, safe integers, booleans, null, arrays and objects with keys
 * sorted by UTF-16 code units. Floats are refused so no number formatting
 * question can arise. Used for associated data and hash inputs.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`canonicalJson: ${value} is not a safe integer`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new Error(`canonicalJson: unsupported type ${typeof value}`);
}

/** Wraps DER in PEM armour with 64-column lines (RFC 7468 §2). */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Finds the first PEM block with the given label in a text holding several. */
export function findPemBlock(text: string, label: string): string | null {
  const re = new RegExp(`-----BEGIN ${label}-----\\r?\\n[A-Za-z0-9+/=\\r\\n]+-----END ${label}-----\\r?\\n?`);
  const m = re.exec(text);
  return m ? m[0] : null;
}

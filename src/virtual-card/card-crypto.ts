/**
 * Cryptographic primitives of the virtual card, on Node's built-in crypto only.
 *
 * - Management key: single-block ECB encryption/decryption with 3DES or AES
 *   (SP 800-73-4 Part 2 section 3.2.4 and Appendix A.1, "witness" and
 *   "challenge" authentication of the card application administration key).
 * - RSA: the raw private-key operation m^d mod n (SP 800-73-4 Part 2 section
 *   3.2.4: the host formats/pads the data, the card does the modular
 *   exponentiation).
 * - ECDSA on a digest supplied by the host, returning a DER
 *   ECDSA-Sig-Value as YubiKeys do. Node cannot sign a pre-computed digest
 *   with an EC key, so the scalar multiplication k*G is delegated to ECDH
 *   (the public key of private key k is k*G) and the rest is modular
 *   arithmetic over the group order (FIPS 186-4 section 6.4).
 * - ECDH (SP 800-56A Cofactor DH; PIV returns the x-coordinate of the shared point).
 */
import {
  KeyObject,
  constants,
  createCipheriv,
  createDecipheriv,
  createECDH,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  randomBytes,
} from 'node:crypto';
import { ALG } from './state.js';
import { concat, tlv } from './tlv.js';

export interface CurveInfo {
  alg: number;
  nodeCurve: string; // for createECDH
  jwkCrv: 'P-256' | 'P-384';
  size: number; // bytes of a coordinate / scalar
  order: bigint;
}

export const CURVES: Record<number, CurveInfo> = {
  [ALG.ECCP256]: {
    alg: ALG.ECCP256,
    nodeCurve: 'prime256v1',
    jwkCrv: 'P-256',
    size: 32,
    order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  },
  [ALG.ECCP384]: {
    alg: ALG.ECCP384,
    nodeCurve: 'secp384r1',
    jwkCrv: 'P-384',
    size: 48,
    order: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
};

export const RSA_BITS: Record<number, number> = { [ALG.RSA1024]: 1024, [ALG.RSA2048]: 2048 };

export function isRsa(alg: number): boolean {
  return alg in RSA_BITS;
}

export function isEc(alg: number): boolean {
  return alg in CURVES;
}

// ---------------------------------------------------------------- management key

const MGMT_CIPHERS: Record<number, { cipher: string; keyLen: number; block: number }> = {
  [ALG.TDES]: { cipher: 'des-ede3', keyLen: 24, block: 8 },
  [ALG.AES128]: { cipher: 'aes-128-ecb', keyLen: 16, block: 16 },
  [ALG.AES192]: { cipher: 'aes-192-ecb', keyLen: 24, block: 16 },
  [ALG.AES256]: { cipher: 'aes-256-ecb', keyLen: 32, block: 16 },
};

export function mgmtKeyInfo(alg: number): { keyLen: number; block: number } | undefined {
  const c = MGMT_CIPHERS[alg];
  return c ? { keyLen: c.keyLen, block: c.block } : undefined;
}

export function mgmtEncrypt(alg: number, key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = MGMT_CIPHERS[alg]!;
  const cipher = createCipheriv(c.cipher, key, null).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([cipher.update(block), cipher.final()]));
}

export function mgmtDecrypt(alg: number, key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = MGMT_CIPHERS[alg]!;
  const decipher = createDecipheriv(c.cipher, key, null).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([decipher.update(block), decipher.final()]));
}

// ---------------------------------------------------------------- bigint helpers

function bytesToBigInt(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex'));
}

function bigIntToBytes(n: bigint, len?: number): Uint8Array {
  let h = n.toString(16);
  if (h.length % 2) h = '0' + h;
  const raw = new Uint8Array(Buffer.from(h, 'hex'));
  if (len === undefined || raw.length === len) return raw;
  if (raw.length > len) throw new Error('integer too large');
  const out = new Uint8Array(len);
  out.set(raw, len - raw.length);
  return out;
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new Error('not invertible');
  return mod(oldS, m);
}

function b64u(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}

function fromB64u(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64url'));
}

// ---------------------------------------------------------------- keys

export function generatePrivateKey(alg: number): KeyObject {
  if (isRsa(alg)) {
    return generateKeyPairSync('rsa', { modulusLength: RSA_BITS[alg]!, publicExponent: 65537 }).privateKey;
  }
  const curve = CURVES[alg];
  if (!curve) throw new Error(`unsupported algorithm ${alg}`);
  return generateKeyPairSync('ec', { namedCurve: curve.jwkCrv }).privateKey;
}

export function exportPkcs8(key: KeyObject): string {
  return key.export({ format: 'der', type: 'pkcs8' }).toString('base64');
}

export function importPkcs8(b64: string): KeyObject {
  return createPrivateKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'pkcs8' });
}

/**
 * The public key as the TLVs inside template 7F49 (SP 800-73-4 Part 2
 * section 3.3.2, Table 10): 81 modulus + 82 public exponent for RSA,
 * 86 uncompressed point for ECC.
 */
export function publicKeyTlvs(alg: number, key: KeyObject): Uint8Array {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  if (isRsa(alg)) return concat(tlv(0x81, fromB64u(jwk.n!)), tlv(0x82, fromB64u(jwk.e!)));
  return tlv(0x86, concat(Uint8Array.of(0x04), fromB64u(jwk.x!), fromB64u(jwk.y!)));
}

/** Checks that a stored key matches the algorithm it is filed under. */
export function keyMatchesAlgorithm(alg: number, key: KeyObject): boolean {
  const d = key.asymmetricKeyDetails;
  if (isRsa(alg)) return key.asymmetricKeyType === 'rsa' && d?.modulusLength === RSA_BITS[alg];
  const curve = CURVES[alg];
  return !!curve && key.asymmetricKeyType === 'ec' && d?.namedCurve === curve.nodeCurve;
}

/**
 * Yubico IMPORT ASYMMETRIC KEY data: RSA as CRT components 01 p, 02 q,
 * 03 dp, 04 dq, 05 qInv (public exponent 65537); ECC as 06 private scalar.
 */
export function importPrivateKey(alg: number, parts: Map<number, Uint8Array>): KeyObject {
  if (isRsa(alg)) {
    const [p, q, dp, dq, qi] = [1, 2, 3, 4, 5].map((t) => parts.get(t));
    if (!p || !q || !dp || !dq || !qi) throw new Error('missing RSA component');
    const P = bytesToBigInt(p);
    const Q = bytesToBigInt(q);
    const n = P * Q;
    const e = 65537n;
    const d = modInverse(e, (P - 1n) * (Q - 1n));
    const bits = RSA_BITS[alg]!;
    if (n.toString(2).length !== bits) throw new Error('RSA modulus has the wrong size');
    return createPrivateKey({
      key: {
        kty: 'RSA',
        n: b64u(bigIntToBytes(n)),
        e: b64u(bigIntToBytes(e)),
        d: b64u(bigIntToBytes(d)),
        p: b64u(bigIntToBytes(P)),
        q: b64u(bigIntToBytes(Q)),
        dp: b64u(bigIntToBytes(bytesToBigInt(dp))),
        dq: b64u(bigIntToBytes(bytesToBigInt(dq))),
        qi: b64u(bigIntToBytes(bytesToBigInt(qi))),
      },
      format: 'jwk',
    });
  }
  const curve = CURVES[alg];
  const scalar = parts.get(6);
  if (!curve || !scalar) throw new Error('missing ECC private scalar');
  const dInt = bytesToBigInt(scalar);
  if (dInt <= 0n || dInt >= curve.order) throw new Error('ECC private scalar out of range');
  const dBytes = bigIntToBytes(dInt, curve.size);
  const ecdh = createECDH(curve.nodeCurve);
  ecdh.setPrivateKey(dBytes);
  const pub = new Uint8Array(ecdh.getPublicKey());
  return createPrivateKey({
    key: {
      kty: 'EC',
      crv: curve.jwkCrv,
      d: b64u(dBytes),
      x: b64u(pub.subarray(1, 1 + curve.size)),
      y: b64u(pub.subarray(1 + curve.size)),
    },
    format: 'jwk',
  });
}

// ---------------------------------------------------------------- operations

/** Raw RSA private-key operation; input must be exactly the modulus length and smaller than the modulus. */
export function rsaRaw(key: KeyObject, input: Uint8Array): Uint8Array {
  return new Uint8Array(privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, input));
}

function derInteger(n: bigint): Uint8Array {
  let b = bigIntToBytes(n);
  if (b[0]! & 0x80) b = concat(Uint8Array.of(0), b);
  return tlv(0x02, b);
}

/** ECDSA signature of a host-computed digest, DER-encoded (FIPS 186-4 section 6.4). */
export function ecdsaSignDigest(alg: number, key: KeyObject, digest: Uint8Array): Uint8Array {
  const curve = CURVES[alg]!;
  const d = bytesToBigInt(fromB64u(key.export({ format: 'jwk' }).d!));
  // Leftmost bits of the digest, as many as the order has (the orders here are byte-aligned).
  const z = bytesToBigInt(digest.length > curve.size ? digest.subarray(0, curve.size) : digest);
  const ecdh = createECDH(curve.nodeCurve);
  for (;;) {
    const k = (bytesToBigInt(new Uint8Array(randomBytes(curve.size + 8))) % (curve.order - 1n)) + 1n;
    ecdh.setPrivateKey(bigIntToBytes(k, curve.size));
    const point = new Uint8Array(ecdh.getPublicKey());
    const r = bytesToBigInt(point.subarray(1, 1 + curve.size)) % curve.order;
    if (r === 0n) continue;
    const s = mod(modInverse(k, curve.order) * (z + r * d), curve.order);
    if (s === 0n) continue;
    return tlv(0x30, concat(derInteger(r), derInteger(s)));
  }
}

/** ECDH with the peer's uncompressed point; returns the x-coordinate of the shared point. */
export function ecdhSharedSecret(alg: number, key: KeyObject, peerPoint: Uint8Array): Uint8Array {
  const curve = CURVES[alg]!;
  if (peerPoint.length !== 1 + 2 * curve.size || peerPoint[0] !== 0x04)
    throw new Error('peer point is not uncompressed');
  const ecdh = createECDH(curve.nodeCurve);
  ecdh.setPrivateKey(fromB64u(key.export({ format: 'jwk' }).d!));
  return new Uint8Array(ecdh.computeSecret(peerPoint));
}

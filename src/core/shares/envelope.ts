import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  hkdfSync,
  randomBytes,
  scrypt as scryptCb,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';
import { b64url, canonicalJson, exactMembers, fromB64url, sha256 } from '../encoding.js';
import { CeremonyError } from '../errors.js';
import { MASTER_KEY_BYTES, SHARE_BYTES } from '../masterkey/masterkey.js';
import { checkPassphrase, passphraseHint } from '../passphrase.js';
import { zeroize } from '../secrets.js';

// The keyshare envelope (DESIGN.md, "Formats"): a readable header and the
// share sealed with AES-256-GCM, the header (and the protection parameters)
// as associated data, so changing any field of either breaks the seal.

export const KEYSHARE_FORMAT = 'keyceremony-keyshare/1';

export interface KeyshareHeader {
  format: typeof KEYSHARE_FORMAT;
  ceremonyId: string;
  keyName: string;
  /** 1..shares: which of the N shares this is (not the Shamir x coordinate). */
  shareIndex: number;
  threshold: number;
  shares: number;
  /** Key check value of the master key (KCV), for people to compare. */
  kcv: string;
  custodian: string;
  /** ISO 8601 UTC. */
  created: string;
  /**
   * Present, and true, only in a share of a key that lives in a rehearsal
   * (issue 11): authenticated with the share like every header member, so
   * it cannot be removed; a production record or ceremony refuses it.
   */
  rehearsal?: true;
}

export interface ScryptProtection {
  scheme: 'scrypt-a256gcm';
  /** scrypt (RFC 7914) parameters; N = 2^logN. */
  kdf: { name: 'scrypt'; salt: string; logN: number; r: number; p: number };
  /**
   * 16 bytes that tell a wrong passphrase from a damaged file: the second
   * half of the scrypt output, hashed. It gives an attacker nothing the GCM
   * tag does not (both cost one scrypt per guess), and lets the tool say
   * "wrong passphrase" only when that is what happened.
   */
  check: string;
  iv: string;
}

/**
 * A share sealed to a PIV card (DESIGN.md, "Smart cards"; the
 * age-plugin-yubikey pattern): ephemeral-static ECDH on P-256 between a
 * fresh software key and the card's key in a retired slot, HKDF-SHA256 of
 * the shared X coordinate (RFC 5869), AES-256-GCM. Only the card, after its
 * PIN, can redo the ECDH.
 */
export interface PivEcdhProtection {
  scheme: 'piv-ecdh-p256-a256gcm';
  cardSerial: number;
  /** Retired key slot, hex ("82".."95"). */
  slot: string;
  /** The card key's uncompressed point, base64url. */
  recipient: string;
  /** The ephemeral public point, base64url. */
  epk: string;
  salt: string;
  iv: string;
}

export type KeyshareProtection = ScryptProtection | PivEcdhProtection;

export interface KeyshareEnvelope {
  header: KeyshareHeader;
  protection: KeyshareProtection;
  ciphertext: string;
  tag: string;
  /**
   * Share files only: base64url SHA-256 of the canonical JSON of the four
   * members above. Unkeyed, so it proves nothing against an attacker (the GCM
   * tag does that); it tells a file damaged since it was written from a wrong
   * passphrase before any scrypt runs (issue 10). Files written before it
   * existed have none and are still read.
   */
  digest?: string;
}

/** The digest a share file carries (see KeyshareEnvelope.digest). */
export function envelopeDigest(e: Pick<KeyshareEnvelope, 'header' | 'protection' | 'ciphertext' | 'tag'>): string {
  return b64url(
    sha256(canonicalJson({ header: e.header, protection: e.protection, ciphertext: e.ciphertext, tag: e.tag })),
  );
}

/** Default cost: N = 2^17, r = 8 (128 MiB, OWASP's first scrypt choice), p = 1. */
export const SCRYPT_DEFAULTS = { logN: 17, r: 8, p: 1 } as const;
// Bounds accepted when reading, so a hostile file cannot demand gigabytes or
// be downgraded to a trivially cheap KDF.
const SCRYPT_BOUNDS = { logN: [15, 20], r: [8, 16], p: [1, 4] } as const;
/** The most memory a share file may make scrypt use (issue 10): 1 GiB; this tool writes 128 MiB. */
export const SCRYPT_MAX_MEMORY = 2 ** 30;

function scrypt(
  passphrase: Uint8Array,
  salt: Uint8Array,
  len: number,
  o: { logN: number; r: number; p: number },
): Promise<Buffer> {
  const N = 2 ** o.logN;
  const opts: ScryptOptions = { N, r: o.r, p: o.p, maxmem: 256 * o.r * N + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scryptCb(passphrase, salt, len, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

function associatedData(header: KeyshareHeader, protection: KeyshareProtection): Buffer {
  return Buffer.from(canonicalJson({ header, protection }), 'utf8');
}

const CHECK_LABEL = 'KeyCeremony keyshare passphrase check v1';

function passphraseCheck(checkKey: Uint8Array): string {
  return b64url(sha256(CHECK_LABEL, checkKey).subarray(0, 16));
}

/** Seals one share under a passphrase. The caller zeroes share and passphrase. */
export async function sealShareWithPassphrase(
  header: KeyshareHeader,
  share: Uint8Array,
  passphrase: Uint8Array,
  cost: { logN: number; r: number; p: number } = SCRYPT_DEFAULTS,
): Promise<KeyshareEnvelope & { protection: ScryptProtection }> {
  checkHeader(header);
  checkPassphrase(passphrase, `The passphrase for share ${header.shareIndex}`);
  if (share.length !== SHARE_BYTES) throw new CeremonyError('InvalidArgument', `A share is ${SHARE_BYTES} bytes.`);
  // Never write a file that the reader would refuse.
  for (const [k, [lo, hi]] of Object.entries(SCRYPT_BOUNDS)) {
    const v = cost[k as keyof typeof cost];
    if (!Number.isInteger(v) || v < lo || v > hi)
      throw new CeremonyError('InvalidArgument', `scrypt ${k} must be ${lo} to ${hi}; got ${v}.`);
  }
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const derived = await scrypt(passphrase, salt, 64, cost);
  try {
    const protection: ScryptProtection = {
      scheme: 'scrypt-a256gcm',
      kdf: { name: 'scrypt', salt: b64url(salt), ...cost },
      check: passphraseCheck(derived.subarray(32)),
      iv: b64url(iv),
    };
    const cipher = createCipheriv('aes-256-gcm', derived.subarray(0, 32), iv);
    cipher.setAAD(associatedData(header, protection));
    const ciphertext = Buffer.concat([cipher.update(share), cipher.final()]);
    const sealed = { header, protection, ciphertext: b64url(ciphertext), tag: b64url(cipher.getAuthTag()) };
    return { ...sealed, digest: envelopeDigest(sealed) };
  } finally {
    zeroize(derived);
  }
}

/** Opens a passphrase-sealed share. Returns the 33-byte share: a secret the caller zeroes. */
export async function openShareWithPassphrase(
  envelope: KeyshareEnvelope,
  passphrase: Uint8Array,
  what: string,
): Promise<Buffer> {
  const { header, protection } = envelope;
  if (protection.scheme !== 'scrypt-a256gcm') {
    throw new CeremonyError('InvalidArgument', `${what} is sealed to a smart card, not to a passphrase.`);
  }
  const { kdf } = protection;
  const salt = fromB64url(kdf.salt, `${what}: the salt`, 'ShareCorrupted');
  const iv = fromB64url(protection.iv, `${what}: the IV`, 'ShareCorrupted');
  const ciphertext = fromB64url(envelope.ciphertext, `${what}: the ciphertext`, 'ShareCorrupted');
  const tag = fromB64url(envelope.tag, `${what}: the tag`, 'ShareCorrupted');
  if (iv.length !== 12 || tag.length !== 16 || ciphertext.length !== SHARE_BYTES || salt.length < 16) {
    throw new CeremonyError('ShareCorrupted', `${what} is damaged: a field has the wrong length.`);
  }
  const derived = await scrypt(passphrase, salt, 64, kdf);
  let share: Buffer | undefined;
  try {
    const expectedCheck = Buffer.from(passphraseCheck(derived.subarray(32)));
    const givenCheck = Buffer.from(protection.check);
    if (expectedCheck.length !== givenCheck.length || !timingSafeEqual(expectedCheck, givenCheck)) {
      throw new CeremonyError('WrongPassphrase', `Wrong passphrase for ${what}.${passphraseHint(passphrase)}`);
    }
    const decipher = createDecipheriv('aes-256-gcm', derived.subarray(0, 32), iv);
    decipher.setAAD(associatedData(header, protection));
    decipher.setAuthTag(tag);
    share = decipher.update(ciphertext);
    try {
      decipher.final();
    } catch {
      zeroize(share);
      throw new CeremonyError(
        'ShareAltered',
        `${what} has been altered: the passphrase is right but the header or the sealed share does not authenticate.`,
      );
    }
    return share;
  } finally {
    zeroize(derived);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KCV = /^[0-9A-F]{6}$/;

export function checkHeader(h: KeyshareHeader, what = 'The share header'): void {
  const bad = (field: string): never => {
    throw new CeremonyError('ShareCorrupted', `${what} is damaged: ${field} is missing or invalid.`);
  };
  if (h.format !== KEYSHARE_FORMAT) bad('format');
  if (typeof h.ceremonyId !== 'string' || !UUID.test(h.ceremonyId)) bad('ceremonyId');
  if (typeof h.keyName !== 'string' || h.keyName.length === 0) bad('keyName');
  if (!Number.isInteger(h.shares) || h.shares < 2 || h.shares > 255) bad('shares');
  if (!Number.isInteger(h.threshold) || h.threshold < 2 || h.threshold > h.shares) bad('threshold');
  if (!Number.isInteger(h.shareIndex) || h.shareIndex < 1 || h.shareIndex > h.shares) bad('shareIndex');
  if (typeof h.kcv !== 'string' || !KCV.test(h.kcv)) bad('kcv');
  if (typeof h.custodian !== 'string') bad('custodian');
  if (typeof h.created !== 'string' || Number.isNaN(Date.parse(h.created))) bad('created');
  if ('rehearsal' in h && h.rehearsal !== true) bad('rehearsal');
}

function exactKeys(o: unknown, keys: string[], what: string): Record<string, unknown> {
  const m = exactMembers(o, keys);
  if ('notObject' in m) throw new CeremonyError('ShareCorrupted', `${what} is damaged: expected an object.`);
  if ('has' in m) throw new CeremonyError('ShareCorrupted', `${what} is damaged: unexpected or missing fields.`);
  return m.members;
}

/** Parses a keyshare file's text strictly. */
export function parseEnvelope(text: string, what: string): KeyshareEnvelope {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CeremonyError('ShareCorrupted', `${what} is truncated or corrupted: it is not a complete keyshare file.`);
  }
  const hasDigest = typeof raw === 'object' && raw !== null && 'digest' in raw;
  const top = exactKeys(raw, ['header', 'protection', 'ciphertext', 'tag', ...(hasDigest ? ['digest'] : [])], what);
  // First, before anything is interpreted: damage is named as damage, never as a wrong passphrase.
  let digestMatches = true;
  try {
    digestMatches = !hasDigest || top['digest'] === envelopeDigest(raw as KeyshareEnvelope);
  } catch {
    digestMatches = false; // a member canonical JSON cannot hold (a fraction, a huge number)
  }
  if (!digestMatches) {
    throw new CeremonyError(
      'ShareCorrupted',
      `${what} is damaged: its contents no longer match the digest written with it (a byte changed since it was written). This is not a wrong passphrase; use another copy of the share, or another custodian's share.`,
    );
  }
  const marked = typeof top['header'] === 'object' && top['header'] !== null && 'rehearsal' in top['header'];
  const header = exactKeys(
    top['header'],
    [
      'format',
      'ceremonyId',
      'keyName',
      'shareIndex',
      'threshold',
      'shares',
      'kcv',
      'custodian',
      'created',
      ...(marked ? ['rehearsal'] : []),
    ],
    `${what} (header)`,
  ) as unknown as KeyshareHeader;
  if (header.format !== KEYSHARE_FORMAT) {
    throw new CeremonyError('ShareCorrupted', `${what} is not a keyshare of a format this tool reads.`);
  }
  checkHeader(header, `${what} (header)`);
  const scheme = (top['protection'] as { scheme?: unknown } | null)?.scheme;
  if (scheme === 'piv-ecdh-p256-a256gcm') {
    const p = exactKeys(
      top['protection'],
      ['scheme', 'cardSerial', 'slot', 'recipient', 'epk', 'salt', 'iv'],
      `${what} (protection)`,
    );
    if (
      // A card serial is 4 bytes (Yubico GET SERIAL): anything else, 2^53 and above included, is damage.
      !Number.isSafeInteger(p['cardSerial']) ||
      (p['cardSerial'] as number) < 0 ||
      (p['cardSerial'] as number) > 0xffffffff ||
      typeof p['slot'] !== 'string' ||
      !/^(8[2-9a-f]|9[0-5])$/.test(p['slot'])
    ) {
      throw new CeremonyError('ShareCorrupted', `${what} is damaged: the card protection block is invalid.`);
    }
    for (const k of ['recipient', 'epk', 'salt', 'iv']) fromB64url(p[k], `${what}: ${k}`, 'ShareCorrupted');
    if (typeof top['ciphertext'] !== 'string' || typeof top['tag'] !== 'string') {
      throw new CeremonyError('ShareCorrupted', `${what} is damaged: the sealed share is missing.`);
    }
    return raw as KeyshareEnvelope;
  }
  const protection = exactKeys(top['protection'], ['scheme', 'kdf', 'check', 'iv'], `${what} (protection)`);
  if (protection['scheme'] !== 'scrypt-a256gcm') {
    throw new CeremonyError('ShareCorrupted', `${what} uses an unknown protection scheme.`);
  }
  const kdf = exactKeys(protection['kdf'], ['name', 'salt', 'logN', 'r', 'p'], `${what} (kdf)`);
  for (const [k, [lo, hi]] of Object.entries(SCRYPT_BOUNDS)) {
    const v = kdf[k];
    if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi) {
      throw new CeremonyError('ShareCorrupted', `${what} has scrypt parameter ${k} outside ${lo}..${hi}.`);
    }
  }
  // scrypt needs 128·r·N bytes (RFC 7914 §2): refuse a file that would demand more than 1 GiB before any work.
  const memory = 128 * (kdf['r'] as number) * 2 ** (kdf['logN'] as number);
  if (memory > SCRYPT_MAX_MEMORY) {
    throw new CeremonyError(
      'ShareCorrupted',
      `${what} asks for ${memory / 2 ** 20} MiB of scrypt memory; this tool allows at most ${SCRYPT_MAX_MEMORY / 2 ** 20} MiB. The file is damaged or was not written by this tool.`,
    );
  }
  if (kdf['name'] !== 'scrypt' || typeof protection['check'] !== 'string' || typeof protection['iv'] !== 'string') {
    throw new CeremonyError('ShareCorrupted', `${what} is damaged: the protection block is invalid.`);
  }
  if (typeof top['ciphertext'] !== 'string' || typeof top['tag'] !== 'string') {
    throw new CeremonyError('ShareCorrupted', `${what} is damaged: the sealed share is missing.`);
  }
  return raw as KeyshareEnvelope;
}

export function serializeEnvelope(e: KeyshareEnvelope): string {
  return JSON.stringify(e, null, 2) + '\n';
}

const PIV_HKDF_INFO = 'KeyCeremony keyshare PIV ECDH P-256 v1';

function pivKey(shared: Uint8Array, p: { salt: string; recipient: string; epk: string }): Buffer {
  const info = Buffer.concat([Buffer.from(PIV_HKDF_INFO), Buffer.from(p.recipient), Buffer.from(p.epk)]);
  return Buffer.from(hkdfSync('sha256', shared, fromB64url(p.salt, 'salt', 'ShareCorrupted'), info, 32));
}

/**
 * Seals a share to a card's P-256 key. `recipientPoint` is the card key's
 * uncompressed point; no card access is needed to seal.
 */
export function sealShareToCardKey(
  header: KeyshareHeader,
  share: Uint8Array,
  card: { serial: number; slot: number; recipientPoint: Uint8Array },
): KeyshareEnvelope {
  checkHeader(header);
  if (share.length !== SHARE_BYTES) throw new CeremonyError('InvalidArgument', `A share is ${SHARE_BYTES} bytes.`);
  const eph = createECDH('prime256v1');
  const epk = eph.generateKeys();
  let shared: Buffer | undefined;
  let key: Buffer | undefined;
  try {
    shared = eph.computeSecret(card.recipientPoint);
    const protection: PivEcdhProtection = {
      scheme: 'piv-ecdh-p256-a256gcm',
      cardSerial: card.serial,
      slot: card.slot.toString(16),
      recipient: b64url(card.recipientPoint),
      epk: b64url(epk),
      salt: b64url(randomBytes(32)),
      iv: b64url(randomBytes(12)),
    };
    key = pivKey(shared, protection);
    const cipher = createCipheriv('aes-256-gcm', key, fromB64url(protection.iv, 'iv'));
    cipher.setAAD(associatedData(header, protection));
    const ciphertext = Buffer.concat([cipher.update(share), cipher.final()]);
    const sealed = { header, protection, ciphertext: b64url(ciphertext), tag: b64url(cipher.getAuthTag()) };
    return { ...sealed, digest: envelopeDigest(sealed) };
  } finally {
    zeroize(shared, key);
    // The ephemeral private key goes out of scope here; Node offers no way to zero an ECDH object.
  }
}

/**
 * Opens a card-sealed share. `cardEcdh` asks the card (after its PIN) for
 * the shared secret with the ephemeral point. The share is a secret the
 * caller zeroes.
 */
export async function openShareWithCard(
  envelope: KeyshareEnvelope,
  cardEcdh: (epk: Buffer) => Promise<Buffer>,
  what: string,
): Promise<Buffer> {
  const { header, protection } = envelope;
  if (protection.scheme !== 'piv-ecdh-p256-a256gcm') {
    throw new CeremonyError('InvalidArgument', `${what} is protected by a passphrase, not by a card.`);
  }
  const iv = fromB64url(protection.iv, `${what}: the IV`, 'ShareCorrupted');
  const ciphertext = fromB64url(envelope.ciphertext, `${what}: the ciphertext`, 'ShareCorrupted');
  const tag = fromB64url(envelope.tag, `${what}: the tag`, 'ShareCorrupted');
  if (iv.length !== 12 || tag.length !== 16 || ciphertext.length !== SHARE_BYTES) {
    throw new CeremonyError('ShareCorrupted', `${what} is damaged: a field has the wrong length.`);
  }
  const shared = await cardEcdh(fromB64url(protection.epk, `${what}: the ephemeral key`, 'ShareCorrupted'));
  const key = pivKey(shared, protection);
  try {
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAAD(associatedData(header, protection));
    d.setAuthTag(tag);
    const share = d.update(ciphertext);
    try {
      d.final();
    } catch {
      zeroize(share);
      throw new CeremonyError(
        'ShareAltered',
        `${what} does not open with this card's key: it was altered, or it belongs to another card.`,
      );
    }
    return share;
  } finally {
    zeroize(shared, key);
  }
}

const COMMITMENT_LABEL = 'KeyCeremony share commitment v1\u0000';

/**
 * Hash commitment to one issued share, kept in the ceremony record: SHA-256
 * over a label, the canonical header and the share. A share that later opens
 * to the same commitment is provably the one issued. Shares are 256-bit
 * uniformly random values, so the hash reveals nothing useful about them.
 */
export function shareCommitment(header: KeyshareHeader, share: Uint8Array): string {
  return sha256(COMMITMENT_LABEL, canonicalJson(header), share).toString('hex');
}

export { MASTER_KEY_BYTES };

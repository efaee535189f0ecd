import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import type { CardRemedy } from '../../shared/card-remedies.js';
import { CeremonyError, type CeremonyErrorCode } from '../errors.js';
import {
  buildSelfSignedCertificate,
  readAdminCertificate,
  type AdminCertificateInfo,
  type Rs256Signer,
} from '../identity/certificate.js';
import { zeroize } from '../secrets.js';
import {
  checkHeader,
  openShareWithCard,
  parseEnvelope,
  sealShareToCardKey,
  type KeyshareEnvelope,
  type KeyshareHeader,
} from '../shares/envelope.js';
import { CardStatusError, type ApduTrace } from './apdu.js';
import {
  ALG,
  DEFAULT_MANAGEMENT_KEY,
  DEFAULT_PIN,
  DEFAULT_PUK,
  KEY_REF,
  OBJECT,
  PIN_POLICY,
  PivSession,
  RETIRED_SLOTS,
  SLOT,
  TOUCH_POLICY,
  certificateObjectFor,
  type ManagementKeyAlg,
  type SlotMetadata,
} from './piv.js';
import { buildShareCertificate, certificateObject, envelopeFromCertificate } from './share-certificate.js';
import { findTlv, parseTlvs, tlv } from './tlv.js';
import type { CardTransport } from './transport.js';

// What the ceremony does with cards: prepare them, put an admin identity
// on one, seal a share to one and read it back (issue 3, "Card roles").

/** Opens an exclusive session with the card in the matching reader for one operation, always released. */
export async function withCard<T>(
  transport: CardTransport,
  reader: string,
  op: (s: PivSession) => Promise<T>,
  trace?: ApduTrace,
): Promise<T> {
  const conn = await transport.connect(reader);
  try {
    const s = new PivSession(conn, trace);
    await s.select();
    return await op(s);
  } finally {
    await conn.disconnect().catch(() => undefined);
  }
}

export interface CardStatus {
  serial: number;
  version: string;
  pinTriesLeft: number;
  pinIsDefault: boolean;
  pukIsDefault: boolean;
  managementKeyIsDefault: boolean;
  managementKeyPinProtected: boolean;
  /** Slot 9C's certificate: none (no object), present, or there but unreadable (never shown as none). */
  adminCertificate:
    | { state: 'none' }
    | { state: 'present'; name: string; thumbprint: string }
    | { state: 'unreadable'; problem: string };
  shares: Array<{
    slot: string;
    ceremonyId: string;
    keyName: string;
    shareIndex: number;
    shares: number;
    custodian: string;
  }>;
}

async function adminFlags(s: PivSession): Promise<number> {
  try {
    const data = await s.getData(OBJECT.YUBICO_ADMIN_DATA, 'Reading the admin data');
    const inner = parseTlvs(findTlv(parseTlvs(data), ADMIN_DATA.TEMPLATE, 'admin data'));
    return inner.find((t) => t.tag === ADMIN_DATA.FLAGS_1)?.value[0] ?? 0;
  } catch (e) {
    if (e instanceof CardStatusError && e.code === 'CardObjectNotFound') return 0;
    throw e;
  }
}

const FLAG_MGM_KEY_PROTECTED = 0x02; // ykman's ADMIN DATA flags-1 bit: management key stored PIN-protected

/** Yubico's PIV admin data object 5FFF00 (yubikit piv.py TAG_ADMIN, TAG_ADMIN_FLAGS_1). */
const ADMIN_DATA = { TEMPLATE: 0x80, FLAGS_1: 0x81 } as const;

/**
 * Errors that say the card or the reader is gone, not that one object on it
 * is bad: the status cannot go on without the card (issue 9, "Never hang").
 */
const CARD_GONE: ReadonlySet<CeremonyErrorCode> = new Set([
  'CardTimeout',
  'CardRemoved',
  'CardBusy',
  'NoCard',
  'NoReader',
  'NoPcscd',
]);

/** Slot 9C's certificate as the status shows it; a certificate that is there but unreadable says so. */
async function adminCertificateStatus(s: PivSession): Promise<CardStatus['adminCertificate']> {
  try {
    const c = await readAdminCertificateFromCard(s);
    return { state: 'present', name: c.name, thumbprint: c.thumbprint };
  } catch (e) {
    if (e instanceof CardStatusError && e.code === 'CardObjectNotFound') return { state: 'none' };
    if (!(e instanceof CeremonyError) || CARD_GONE.has(e.code)) throw e;
    return { state: 'unreadable', problem: e.message };
  }
}

export async function cardStatus(s: PivSession): Promise<CardStatus> {
  const pin = await s.referenceMetadata(KEY_REF.PIN);
  const puk = await s.referenceMetadata(KEY_REF.PUK);
  const mgm = await s.referenceMetadata(KEY_REF.MANAGEMENT);
  const adminCertificate = await adminCertificateStatus(s);
  const shares = (await listCardShares(s)).map(({ slot, envelope: { header: h } }) => ({
    slot: slot.toString(16).toUpperCase(),
    ceremonyId: h.ceremonyId,
    keyName: h.keyName,
    shareIndex: h.shareIndex,
    shares: h.shares,
    custodian: h.custodian,
  }));
  return {
    serial: await s.serial(),
    version: await s.version(),
    pinTriesLeft: pin.triesLeft,
    pinIsDefault: pin.isDefault,
    pukIsDefault: puk.isDefault,
    managementKeyIsDefault: mgm.isDefault,
    managementKeyPinProtected: ((await adminFlags(s)) & FLAG_MGM_KEY_PROTECTED) !== 0,
    adminCertificate,
    shares,
  };
}

// ---------------------------------------------------------------------------
// What a key slot holds (issue 9, "Never destroy"). A card is its owner's
// property: a slot is free only when GET METADATA says it holds no key and
// its certificate object is absent; anything else is described to the owner
// and never overwritten without their consent.

/** Slot key algorithms as GET METADATA tag 01 names them (Yubico PIV extensions; SP 800-78-4 Table 6-2). */
const KEY_ALGORITHM_NAMES: ReadonlyMap<number, string> = new Map([
  [0x06, 'RSA-1024'],
  [ALG.RSA2048, 'RSA-2048'],
  [0x05, 'RSA-3072'],
  [0x16, 'RSA-4096'],
  [ALG.ECCP256, 'ECC P-256'],
  [ALG.ECCP384, 'ECC P-384'],
  [0xe0, 'Ed25519'],
  [0xe1, 'X25519'],
]);

/** What a key slot holds: the key GET METADATA reports and the certificate object, either possibly absent. */
export interface SlotContent {
  slot: number;
  /** null: GET METADATA says the slot holds no key (6A88 on a YubiKey). */
  key: {
    algorithm: string;
    origin: 'generated on the card' | 'imported' | 'of unknown origin';
    publicKeySha256: string | null;
  } | null;
  /** null: no certificate object. subject null: an object that is not a readable X.509 certificate. */
  certificate: { subject: string | null; sha256: string } | null;
}

export function slotName(slot: number): string {
  return slot.toString(16).toUpperCase();
}

function keyOf(meta: SlotMetadata): NonNullable<SlotContent['key']> {
  return {
    algorithm:
      KEY_ALGORITHM_NAMES.get(meta.algorithm) ??
      `algorithm ${meta.algorithm.toString(16).toUpperCase().padStart(2, '0')}`,
    // GET METADATA tag 03: 1 generated on the YubiKey, 2 imported (Yubico PIV extensions).
    origin: meta.generated === undefined ? 'of unknown origin' : meta.generated ? 'generated on the card' : 'imported',
    publicKeySha256: meta.publicKey
      ? createHash('sha256')
          .update(meta.publicKey.export({ format: 'der', type: 'spki' }))
          .digest('hex')
      : null,
  };
}

/** The certificate in a certificate object's content (tag 70, SP 800-73-4 Part 1 Appendix A), described. */
function certificateOf(object: Buffer): NonNullable<SlotContent['certificate']> {
  const sha256 = createHash('sha256').update(object).digest('hex');
  try {
    const der = parseTlvs(object).find((t) => t.tag === 0x70)?.value;
    return { subject: der ? new X509Certificate(der).subject.replace(/\n/g, ', ') : null, sha256 };
  } catch {
    return { subject: null, sha256 };
  }
}

/** The content of a certificate object, or null when the card has none (6A82). */
async function readCertificateObject(s: PivSession, slot: number): Promise<Buffer | null> {
  try {
    return await s.getData(certificateObjectFor(slot), `Reading the certificate of slot ${slotName(slot)}`);
  } catch (e) {
    if (e instanceof CardStatusError && e.code === 'CardObjectNotFound') return null;
    throw e;
  }
}

/** What `slot` holds, or null when it is free (no key, no certificate). Needs neither PIN nor management key. */
export async function inspectSlot(s: PivSession, slot: number): Promise<SlotContent | null> {
  // slotMetadata answers null for 6A88 (a YubiKey's empty slot) and for 6A82.
  const meta = await s.slotMetadata(slot);
  const object = await readCertificateObject(s, slot);
  if (!meta && !object) return null;
  return { slot, key: meta ? keyOf(meta) : null, certificate: object ? certificateOf(object) : null };
}

/** One phrase for a person: "slot 9C holds an RSA-2048 key generated on the card, with a certificate for CN=alice". */
export function describeSlotContent(c: SlotContent): string {
  const cert = !c.certificate
    ? 'without a certificate'
    : c.certificate.subject === null
      ? 'with a certificate object that is not a readable certificate'
      : `with a certificate for "${c.certificate.subject}"`;
  if (!c.key) return `slot ${slotName(c.slot)} holds no key but a certificate object (${cert.replace(/^with /, '')})`;
  const article = /^(RSA|ECC|Ed|X)/.test(c.key.algorithm) ? 'an' : 'a'; // "an RSA-2048", "an ECC P-256"
  return `slot ${slotName(c.slot)} holds ${article} ${c.key.algorithm} key ${c.key.origin}, ${cert}`;
}

function sameContent(a: SlotContent, b: SlotContent): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The data of a card-slot-replaced record entry: what the owner consented to replace. */
export function slotReplacedData(serial: number, c: SlotContent, replacedBy: string): Record<string, string | null> {
  return {
    serial: String(serial),
    slot: slotName(c.slot),
    key: c.key ? `${c.key.algorithm}, ${c.key.origin}` : null,
    publicKeySha256: c.key?.publicKeySha256 ?? null,
    certificateSubject: c.certificate?.subject ?? null,
    certificateObjectSha256: c.certificate?.sha256 ?? null,
    replacedBy,
  };
}

/**
 * The card facts every operation needs before any key exists and before any
 * PIN or PUK is tried, all read without a secret: GET METADATA of the PIN
 * (80), PUK (81) and management key (9B) (Yubico PIV extensions, firmware
 * 5.3+: tag 05 "default value"), and ykman's ADMIN DATA flag that the
 * management key is kept PIN-protected on the card.
 */
export interface CardPreparation {
  pinIsDefault: boolean;
  pukIsDefault: boolean;
  managementKeyIsDefault: boolean;
  managementKeyPinProtected: boolean;
  /** The management key's algorithm (GET METADATA tag 01; 3DES when the card does not say). */
  managementKeyAlgorithm: ManagementKeyAlg;
}

export async function readPreparation(s: PivSession): Promise<CardPreparation> {
  const pin = await s.referenceMetadata(KEY_REF.PIN);
  const puk = await s.referenceMetadata(KEY_REF.PUK);
  const mgm = await s.referenceMetadata(KEY_REF.MANAGEMENT);
  return {
    pinIsDefault: pin.isDefault,
    pukIsDefault: puk.isDefault,
    managementKeyIsDefault: mgm.isDefault,
    managementKeyPinProtected: ((await adminFlags(s)) & FLAG_MGM_KEY_PROTECTED) !== 0,
    managementKeyAlgorithm: (mgm.algorithm ?? ALG.TDES) as ManagementKeyAlg,
  };
}

/** The four facts that say whether a card is prepared (a CardStatus carries them too). */
type PreparationFacts = Pick<
  CardPreparation,
  'pinIsDefault' | 'pukIsDefault' | 'managementKeyIsDefault' | 'managementKeyPinProtected'
>;

/**
 * What a card lacks to be used by the ceremony, as phrases for one sentence
 * ("still has the factory PIN, PUK", "keeps its changed management key
 * without PIN protection"); empty when it is prepared. `card status` shows
 * exactly this (issue 9); a CardStatus carries the same four facts.
 */
export function preparationGaps(p: PreparationFacts): string[] {
  const defaults = [
    p.pinIsDefault && 'PIN',
    p.pukIsDefault && 'PUK',
    p.managementKeyIsDefault && 'management key',
  ].filter((x): x is string => !!x);
  const gaps = defaults.length > 0 ? [`still has the factory ${defaults.join(', ')}`] : [];
  // A management key someone changed (ykman, yubico-piv-tool) but did not store PIN-protected:
  // every operation would need that key, which only its owner knows.
  if (!p.managementKeyIsDefault && !p.managementKeyPinProtected)
    gaps.push('has a changed management key that is not kept PIN-protected on it');
  return gaps;
}

/** The details of a refusal that asks the person to do `r` (src/shared/card-remedies.ts). */
const remedy = (r: CardRemedy): { remedy: CardRemedy } => ({ remedy: r });

/** What `card prepare` needs to be told for this card. */
function prepareRemedy(p: PreparationFacts): CardRemedy {
  return !p.managementKeyIsDefault && !p.managementKeyPinProtected ? 'prepare-with-management-key' : 'prepare';
}

/** Refuses a card that is not prepared (factory PIN, PUK or management key; a management key not PIN-protected): read before any PIN is tried. */
export async function assertPrepared(s: PivSession): Promise<CardPreparation> {
  const p = await readPreparation(s);
  const gaps = preparationGaps(p);
  if (gaps.length > 0) {
    const r = prepareRemedy(p);
    throw new CeremonyError(
      p.pinIsDefault || p.pukIsDefault || p.managementKeyIsDefault ? 'CardDefaultCredentials' : 'ManagementKeyRejected',
      `Card ${await s.serial()} ${gaps.join(' and ')}; prepare it first${r === 'prepare' ? '' : ' with its management key'}. Nothing was written.`,
      remedy(r),
    );
  }
  return p;
}

function isWeakPin(pin: Uint8Array): boolean {
  const t = Buffer.from(pin).toString('ascii');
  return t === DEFAULT_PIN || t === DEFAULT_PUK || /^(.)\1+$/.test(t);
}

/** What `prepareCard` did: each of PIN, PUK and management key changed, kept, or (the key) kept and protected. */
export interface Preparation {
  serial: number;
  pin: 'changed' | 'kept';
  puk: 'changed' | 'kept';
  /** replaced: a random key, PIN-protected; protected: the owner's key, now kept PIN-protected; kept: it already was. */
  managementKey: { action: 'replaced' | 'protected' | 'kept'; algorithm: ManagementKeyAlg };
}

/**
 * Refuses, from the card's facts alone and before any secret is asked or
 * tried, a preparation that cannot succeed: a card already prepared; a
 * factory PIN or PUK without a new one; a new PUK for a PUK that is not the
 * factory one without the current PUK (a guess would spend a PUK try); a
 * changed, unprotected management key without that key. The CLI calls it
 * before prompting.
 */
export function checkPreparationArguments(
  p: CardPreparation,
  given: { newPin: boolean; newPuk: boolean; puk: boolean; managementKey: boolean },
): void {
  if (preparationGaps(p).length === 0) {
    throw new CeremonyError(
      'InvalidArgument',
      'This card is already prepared (its management key is kept PIN-protected on it). Reset it before preparing it again.',
    );
  }
  if (!p.managementKeyIsDefault && !p.managementKeyPinProtected && !given.managementKey) {
    throw new CeremonyError(
      'ManagementKeyRejected',
      "This card's management key is not the factory one and is not kept PIN-protected. Give the current management key so it can be protected, or reset the card.",
      remedy('prepare-with-management-key'),
    );
  }
  if (p.pinIsDefault && !given.newPin)
    throw new CeremonyError(
      'InvalidArgument',
      'This card still has the factory PIN; give a new PIN.',
      remedy('new-pin'),
    );
  if (p.pukIsDefault && !given.newPuk)
    throw new CeremonyError(
      'InvalidArgument',
      'This card still has the factory PUK; give a new PUK.',
      remedy('new-puk'),
    );
  if (!p.pukIsDefault && given.newPuk && !given.puk) {
    throw new CeremonyError(
      'InvalidArgument',
      "This card's PUK is not the factory one (its metadata says so), so it is kept: leave out the new PUK, or give the current PUK to change it.",
      remedy('current-puk'),
    );
  }
}

/**
 * Card preparation (the YubiKey convention, as `ykman piv access
 * change-management-key --protect` does it): a PIN and PUK of the owner's
 * own, and a management key kept on the card in the PIN-protected "printed
 * information" object, so a person only ever needs the PIN.
 *
 * Only what the card lacks is changed: a factory PIN or PUK is replaced
 * (newPin, newPuk); a PIN or PUK the owner already set is kept unless a new
 * one is given (a new PUK then needs the current one: GET METADATA says the
 * PUK is not the factory one, so no PUK try is spent guessing it); a factory
 * management key is replaced by a random one; a changed one is kept and
 * protected when its owner gives it. Every fact is read and every argument
 * checked before the first PIN or PUK try.
 */
export async function prepareCard(
  s: PivSession,
  a: { pin: Uint8Array; newPin?: Uint8Array; newPuk?: Uint8Array; puk?: Uint8Array; managementKey?: Uint8Array },
): Promise<Preparation> {
  const p = await readPreparation(s);
  checkPreparationArguments(p, {
    newPin: !!a.newPin,
    newPuk: !!a.newPuk,
    puk: !!a.puk,
    managementKey: !!a.managementKey,
  });
  if (a.newPin && isWeakPin(a.newPin))
    throw new CeremonyError('InvalidArgument', 'The new PIN is a default or repeats one character; choose another.');
  if (a.newPuk && isWeakPin(a.newPuk))
    throw new CeremonyError('InvalidArgument', 'The new PUK is a default or repeats one character; choose another.');
  if (a.newPin && a.newPuk && Buffer.from(a.newPin).equals(Buffer.from(a.newPuk)))
    throw new CeremonyError('InvalidArgument', 'The new PIN and PUK must differ.');
  const currentAlg = p.managementKeyAlgorithm;
  const action: Preparation['managementKey']['action'] = p.managementKeyPinProtected
    ? 'kept'
    : p.managementKeyIsDefault
      ? 'replaced'
      : 'protected';
  const managementKey = action === 'replaced' ? DEFAULT_MANAGEMENT_KEY : a.managementKey;
  // Check the management key before any PIN or PUK try, so a wrong key leaves PIN and PUK as they were.
  if (action !== 'kept') await s.authenticateManagementKey(managementKey!, currentAlg);
  await s.verifyPin(a.pin);
  if (a.newPuk)
    await s.changeReference(KEY_REF.PUK, p.pukIsDefault ? Buffer.from(DEFAULT_PUK, 'ascii') : a.puk!, a.newPuk);
  if (a.newPin) {
    await s.changeReference(KEY_REF.PIN, a.pin, a.newPin);
    await s.verifyPin(a.newPin);
  }
  let algorithm = currentAlg;
  if (action === 'replaced') {
    await s.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY, currentAlg);
    // AES-192 where the firmware has AES management keys (YubiKey 5.4+), else 3DES.
    const [major = 0, minor = 0] = (await s.version()).split('.').map(Number);
    algorithm = major > 5 || (major === 5 && minor >= 4) ? ALG.AES192 : ALG.TDES;
    const key = randomBytes(24);
    try {
      await s.setManagementKey(key, algorithm);
      await s.authenticateManagementKey(key, algorithm);
      await protectManagementKey(s, key);
    } finally {
      zeroize(key);
    }
  } else if (action === 'protected') {
    await s.authenticateManagementKey(managementKey!, currentAlg);
    await protectManagementKey(s, managementKey!);
  }
  // With the management key at hand, a card without a key history object gets one that
  // announces the certificates it already holds: its retired slots are probed here once, and
  // every later share write and listing reads the object instead (issue 9, APDU economy).
  if (action !== 'kept') await establishKeyHistory(s);
  return {
    serial: await s.serial(),
    pin: a.newPin ? 'changed' : 'kept',
    puk: a.newPuk ? 'changed' : 'kept',
    managementKey: { action, algorithm },
  };
}

/**
 * Keeps the management key on the card behind the PIN, as ykman does:
 * printed-information object 88 { 89 key }, and bit 0x02 of flags-1 in the
 * ADMIN DATA object 80 { 81 flags } (other flags and fields kept). Needs the
 * PIN verified and the management key authenticated.
 */
async function protectManagementKey(s: PivSession, key: Uint8Array): Promise<void> {
  await s.putData(OBJECT.PRINTED, tlv(0x88, tlv(0x89, key)), 'Storing the PIN-protected management key');
  let fields: Array<{ tag: number; value: Buffer }> = [];
  try {
    fields = parseTlvs(
      findTlv(
        parseTlvs(await s.getData(OBJECT.YUBICO_ADMIN_DATA, 'Reading the admin data')),
        ADMIN_DATA.TEMPLATE,
        'admin data',
      ),
    );
  } catch (e) {
    if (!(e instanceof CeremonyError)) throw e; // absent or unreadable: written afresh
  }
  const flags = (fields.find((t) => t.tag === ADMIN_DATA.FLAGS_1)?.value[0] ?? 0) | FLAG_MGM_KEY_PROTECTED;
  const kept = fields.filter((t) => t.tag !== ADMIN_DATA.FLAGS_1).map((t) => tlv(t.tag, t.value));
  await s.putData(
    OBJECT.YUBICO_ADMIN_DATA,
    tlv(ADMIN_DATA.TEMPLATE, Buffer.concat([tlv(ADMIN_DATA.FLAGS_1, Buffer.from([flags])), ...kept])),
    'Writing the admin data',
  );
}

/**
 * What unlocking the management key needs, read without a secret for a card
 * whose preparation was checked in an earlier connection: its algorithm
 * (GET METADATA 9B). Whether the key is kept PIN-protected is then learnt
 * from the protected object itself, read after the PIN.
 */
async function managementKeyFacts(s: PivSession): Promise<ManagementKeyFacts> {
  const mgm = await s.referenceMetadata(KEY_REF.MANAGEMENT);
  return {
    managementKeyPinProtected: true,
    managementKeyAlgorithm: (mgm.algorithm ?? ALG.TDES) as ManagementKeyAlg,
  };
}

type ManagementKeyFacts = Pick<CardPreparation, 'managementKeyPinProtected' | 'managementKeyAlgorithm'>;

/** Verifies the PIN, reads the PIN-protected management key, and authenticates with it. */
export async function unlockManagementKey(s: PivSession, pin: Uint8Array, known?: ManagementKeyFacts): Promise<void> {
  await s.verifyPin(pin);
  // What assertPrepared already read is not read again (a YubiKey takes 5-20 ms per APDU).
  const isProtected = known ? known.managementKeyPinProtected : ((await adminFlags(s)) & FLAG_MGM_KEY_PROTECTED) !== 0;
  if (!isProtected) {
    throw new CeremonyError(
      'CardDefaultCredentials',
      'This card has no PIN-protected management key; prepare it first.',
      remedy('prepare'),
    );
  }
  let printed: Buffer;
  try {
    printed = await s.getData(OBJECT.PRINTED, 'Reading the PIN-protected management key');
  } catch (e) {
    if (e instanceof CardStatusError && e.code === 'CardObjectNotFound') {
      throw new CeremonyError(
        'CardDefaultCredentials',
        'This card has no PIN-protected management key; prepare it first.',
        remedy('prepare'),
      );
    }
    throw e;
  }
  const key = Buffer.from(
    findTlv(parseTlvs(findTlv(parseTlvs(printed), 0x88, 'protected data')), 0x89, 'the management key'),
  );
  try {
    const alg = (
      known ? known.managementKeyAlgorithm : ((await s.referenceMetadata(KEY_REF.MANAGEMENT)).algorithm ?? ALG.TDES)
    ) as ManagementKeyAlg;
    await s.authenticateManagementKey(key, alg);
  } finally {
    zeroize(key);
    zeroize(printed);
  }
}

const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex'); // RFC 8017 §9.2 note 1

/** EMSA-PKCS1-v1_5 for SHA-256 and a 2048-bit modulus (RFC 8017 §9.2), for the card's raw RSA. */
export function pkcs1v15Sha256(data: Uint8Array): Buffer {
  const t = Buffer.concat([SHA256_DIGEST_INFO, createHash('sha256').update(data).digest()]);
  return Buffer.concat([Buffer.from([0x00, 0x01]), Buffer.alloc(256 - t.length - 3, 0xff), Buffer.from([0x00]), t]);
}

/** RS256 with the admin key in slot 9C: the PIN is verified right before each signature (PIN-always). */
export function cardRs256Signer(s: PivSession, pin: Uint8Array): Rs256Signer {
  return async (data) => {
    await s.verifyPin(pin);
    return s.rsaPrivate(SLOT.SIGNATURE, pkcs1v15Sha256(data));
  };
}

/** The refusal of a 9C that holds something, before its owner agreed to replace it (issue 9, "Never destroy"). */
export function signatureSlotOccupied(serial: number, present: SlotContent): CeremonyError {
  return new CeremonyError(
    'CardSlotOccupied',
    `On card ${serial}, ${describeSlotContent(present)}. Nothing was changed: to replace it, its owner must agree, or use another card.`,
    { serial, slot: slotName(SLOT.SIGNATURE), ...remedy('owner-consent-to-replace') },
  );
}

/**
 * Admin card: RSA-2048 generated in 9C (PIN-always), self-signed certificate
 * signed on the card, stored in 9C's object. A 9C that holds anything is
 * refused (naming what it holds) before the PIN is tried, unless `replace`
 * is exactly what the owner was shown and agreed to replace.
 */
export async function generateAdminIdentityOnCard(
  s: PivSession,
  name: string,
  pin: Uint8Array,
  options: { replace?: SlotContent } = {},
): Promise<AdminCertificateInfo> {
  const prepared = await assertPrepared(s);
  const present = await inspectSlot(s, SLOT.SIGNATURE);
  if (present && !(options.replace && sameContent(present, options.replace))) {
    const serial = await s.serial();
    if (!options.replace) throw signatureSlotOccupied(serial, present);
    throw new CeremonyError(
      'CardSlotOccupied',
      `On card ${serial}, ${describeSlotContent(present)}, which is not what was agreed to replace; look at the card again. Nothing was changed.`,
      { serial, slot: slotName(SLOT.SIGNATURE) },
    );
  }
  await unlockManagementKey(s, pin, prepared);
  const publicKey = await s.generateKey(SLOT.SIGNATURE, ALG.RSA2048, {
    pin: PIN_POLICY.ALWAYS,
    touch: TOUCH_POLICY.NEVER,
  });
  const pem = await buildSelfSignedCertificate(name, publicKey, cardRs256Signer(s, pin));
  const cert = readAdminCertificate(pem);
  await unlockManagementKey(s, pin, prepared);
  await s.putData(certificateObjectFor(SLOT.SIGNATURE), certificateObject(cert.der), 'Storing the admin certificate');
  const back = await readAdminCertificateFromCard(s);
  if (back.thumbprint !== cert.thumbprint)
    throw new CeremonyError('CardError', 'The certificate read back from the card differs from the one written.');
  return cert;
}

export async function readAdminCertificateFromCard(s: PivSession): Promise<AdminCertificateInfo> {
  const obj = await s.getData(certificateObjectFor(SLOT.SIGNATURE), 'Reading the admin certificate (slot 9C)');
  return readAdminCertificate(findTlv(parseTlvs(obj), 0x70, 'the certificate'), 'The certificate in slot 9C');
}

// ---------------------------------------------------------------------------
// The key history object (SP 800-73-4 Part 1 §3.3.2, Table 19; Part 1
// Appendix A, object 5FC10C): how many retired key slots are in use, counted
// from slot 82 (retired key management 1) upward: first keysWithOnCardCerts
// (C1) keys whose certificates are on the card, then keysWithOffCardCerts
// (C2) keys whose certificates are at offCardCertURL (F3). Readers such as
// OpenSC look only at the retired slots it announces. A YubiKey never writes
// it itself, so the host keeps it whenever it puts a key in a retired slot
// (issue 9); one read of it then replaces probing all 20 certificate objects.

/** Key history object tags (SP 800-73-4 Part 1 Table 19). */
const KEY_HISTORY_TAG = {
  ON_CARD_CERTS: 0xc1,
  OFF_CARD_CERTS: 0xc2,
  OFF_CARD_CERT_URL: 0xf3,
  ERROR_DETECTION_CODE: 0xfe,
} as const;

export interface KeyHistory {
  /** keysWithOnCardCerts: retired slots 82.. whose certificates are on the card. */
  onCardCerts: number;
  /** keysWithOffCardCerts: the retired slots after those, whose certificates are elsewhere. */
  offCardCerts: number;
  /** offCardCertURL, kept as the card holds it. */
  offCardCertUrl: Buffer | null;
}

/** The key history object, or null when the card has none or one this reader cannot trust (then the slots are probed). */
export async function readKeyHistory(s: PivSession): Promise<KeyHistory | null> {
  let content: Buffer;
  try {
    content = await s.getData(OBJECT.KEY_HISTORY, 'Reading the key history object');
  } catch (e) {
    if (e instanceof CardStatusError && e.code === 'CardObjectNotFound') return null;
    throw e;
  }
  try {
    const t = parseTlvs(content, 'the key history object');
    const count = (tag: number): number => {
      const v = findTlv(t, tag, 'the key history object');
      if (v.length !== 1 || v[0]! > RETIRED_SLOTS.length) throw new CeremonyError('CardError', 'bad count');
      return v[0]!;
    };
    const onCardCerts = count(KEY_HISTORY_TAG.ON_CARD_CERTS);
    const offCardCerts = count(KEY_HISTORY_TAG.OFF_CARD_CERTS);
    if (onCardCerts + offCardCerts > RETIRED_SLOTS.length) return null;
    return {
      onCardCerts,
      offCardCerts,
      offCardCertUrl: t.find((x) => x.tag === KEY_HISTORY_TAG.OFF_CARD_CERT_URL)?.value ?? null,
    };
  } catch (e) {
    if (e instanceof CeremonyError) return null; // malformed: not trusted, the 20 slots are probed instead
    throw e;
  }
}

function keyHistoryContent(h: KeyHistory): Buffer {
  return Buffer.concat([
    tlv(KEY_HISTORY_TAG.ON_CARD_CERTS, Buffer.from([h.onCardCerts])),
    tlv(KEY_HISTORY_TAG.OFF_CARD_CERTS, Buffer.from([h.offCardCerts])),
    ...(h.offCardCertUrl ? [tlv(KEY_HISTORY_TAG.OFF_CARD_CERT_URL, h.offCardCertUrl)] : []),
    tlv(KEY_HISTORY_TAG.ERROR_DETECTION_CODE, Buffer.alloc(0)),
  ]);
}

/**
 * The key history after a key with an on-card certificate goes into `slot`:
 * C1 grows to cover it (certificate objects inside C1 that are absent are
 * simply not found by readers); the slots C1 + C2 covered stay covered.
 */
export function keyHistoryWith(
  before: KeyHistory | null,
  slot: number,
  certificateSlots: Iterable<number>,
): KeyHistory {
  const cover = (n: number): number => n - RETIRED_SLOTS[0]! + 1;
  const highestCert = Math.max(0, ...[...certificateSlots].map(cover));
  const onCardCerts = Math.max(before?.onCardCerts ?? 0, highestCert, cover(slot));
  const covered = (before?.onCardCerts ?? 0) + (before?.offCardCerts ?? 0);
  return {
    onCardCerts,
    offCardCerts: Math.max(0, covered - onCardCerts),
    offCardCertUrl: before?.offCardCertUrl ?? null,
  };
}

/**
 * Writes a key history object on a card that has none, announcing every
 * retired certificate object the card holds (all 20 probed). A card that has
 * one, well formed or not, keeps it. Needs the management key.
 */
async function establishKeyHistory(s: PivSession): Promise<void> {
  try {
    await s.getData(OBJECT.KEY_HISTORY, 'Reading the key history object');
    return;
  } catch (e) {
    if (!(e instanceof CardStatusError && e.code === 'CardObjectNotFound')) throw e;
  }
  const found: number[] = [];
  for (const slot of RETIRED_SLOTS) if (await readCertificateObject(s, slot)) found.push(slot);
  const cover = (slot: number): number => slot - RETIRED_SLOTS[0]! + 1;
  const history: KeyHistory = { onCardCerts: Math.max(0, ...found.map(cover)), offCardCerts: 0, offCardCertUrl: null };
  await s.putData(OBJECT.KEY_HISTORY, keyHistoryContent(history), 'Writing the key history object');
}

/**
 * The retired certificate objects: with a key history object, only the
 * C1 slots it announces (one read of it, then one per announced slot); without
 * one, all 20 are probed. `probed` says which slots were looked at.
 */
interface RetiredCertificates {
  history: KeyHistory | null;
  objects: Map<number, Buffer>;
  probed: ReadonlySet<number>;
}

async function readRetiredCertificates(s: PivSession): Promise<RetiredCertificates> {
  const history = await readKeyHistory(s);
  const slots = history ? RETIRED_SLOTS.slice(0, history.onCardCerts) : RETIRED_SLOTS;
  const objects = new Map<number, Buffer>();
  for (const slot of slots) {
    const obj = await readCertificateObject(s, slot);
    if (obj) objects.set(slot, obj);
  }
  return { history, objects, probed: new Set(slots) };
}

/** True if `der` parses as an X.509 certificate. */
function isCertificate(der: Uint8Array): boolean {
  try {
    new X509Certificate(Buffer.from(der));
    return true;
  } catch {
    return false;
  }
}

/**
 * The shares in the retired certificate objects. With `damagedIsError` (a
 * share being read), a card with no share but a retired certificate that is
 * not a certificate at all (not DER) is damaged, not empty: that is said,
 * never "holds no keyshare" (issue 9). Writes and listings pass such an
 * object by, as they pass any certificate of the owner's.
 */
function sharesIn(
  retired: RetiredCertificates,
  damagedIsError = false,
): Array<{ slot: number; envelope: KeyshareEnvelope }> {
  const found: Array<{ slot: number; envelope: KeyshareEnvelope }> = [];
  const damaged: number[] = [];
  for (const [slot, obj] of retired.objects) {
    const cert = parseTlvs(obj).find((t) => t.tag === 0x70)?.value;
    const env = cert ? envelopeFromCertificate(cert) : null;
    if (env)
      found.push({ slot, envelope: parseEnvelope(env.json, `the share in slot ${slot.toString(16).toUpperCase()}`) });
    else if (cert && !isCertificate(cert)) damaged.push(slot);
  }
  if (damagedIsError && found.length === 0 && damaged.length > 0) {
    throw new CeremonyError(
      'ShareCorrupted',
      `The certificate in retired slot ${damaged.map(slotName).join(', ')} of the card is not a certificate (not DER): the card's share data is damaged.`,
    );
  }
  return found;
}

/** Keyshares on the card: retired slots whose certificate carries an envelope (found through the key history object where the card has one). */
export async function listCardShares(
  s: PivSession,
  options: { damagedIsError?: boolean } = {},
): Promise<Array<{ slot: number; envelope: KeyshareEnvelope }>> {
  return sharesIn(await readRetiredCertificates(s), options.damagedIsError);
}

/**
 * The first retired slot that is free: GET METADATA says it holds no key and
 * it has no certificate object. A retired slot with a key is never taken,
 * certificate or not (a key the owner generated with ykman has none).
 * `known`: certificate objects already read, so they are not read again.
 */
export async function freeRetiredSlot(s: PivSession, known?: RetiredCertificates): Promise<number> {
  for (const slot of RETIRED_SLOTS) {
    if (known?.objects.has(slot)) continue;
    // slotMetadata answers null for 6A88 (a YubiKey's empty slot) and for 6A82.
    if (await s.slotMetadata(slot)) continue;
    if (known?.probed.has(slot) || !(await readCertificateObject(s, slot))) return slot;
  }
  throw new CeremonyError(
    'CardSlotOccupied',
    `Every retired key slot (82 to 95) of card ${await s.serial()} holds a key or a certificate, and none is overwritten; use another card.`,
  );
}

/**
 * Custodian card: a fresh P-256 key in a free retired slot, the share sealed
 * to it, and the envelope stored in that slot's certificate. Existing shares
 * on the card are never touched, so a card pulled mid-write keeps them.
 */
export interface ShareWriteOptions {
  /**
   * The caller refused an unprepared card, in an earlier connection to this
   * same card (serial compared), before the master key existed
   * (CardShareDestination.precheck). Then only the management key's
   * algorithm is read again; the PIN-protected key itself is read after the
   * PIN as always, and its absence refuses the write.
   */
  prechecked?: boolean;
  /**
   * Reads the share back in this connection, right after writing it: the
   * certificate object as stored, its envelope opened with the card's key
   * (the PIN is verified in this connection already). Secret: the caller
   * zeroes `back`.
   */
  readBack?: boolean;
}

export async function writeShareToCard(
  s: PivSession,
  header: KeyshareHeader,
  share: Uint8Array,
  pin: Uint8Array,
  options: ShareWriteOptions = {},
): Promise<{ slot: number; serial: number; back?: Buffer }> {
  checkHeader(header);
  const prepared = options.prechecked ? await managementKeyFacts(s) : await assertPrepared(s);
  const serial = await s.serial();
  const retired = await readRetiredCertificates(s);
  const existing = sharesIn(retired).find((x) => x.envelope.header.ceremonyId === header.ceremonyId);
  if (existing) {
    throw new CeremonyError(
      'InvalidArgument',
      `Card ${serial} already holds share ${existing.envelope.header.shareIndex} of this ceremony; one card holds one share of a key.`,
    );
  }
  // The slot is chosen before the PIN is tried: a card with no free slot is refused having spent nothing.
  const slot = await freeRetiredSlot(s, retired);
  await unlockManagementKey(s, pin, prepared);
  const publicKey = await s.generateKey(slot, ALG.ECCP256, { pin: PIN_POLICY.ONCE, touch: TOUCH_POLICY.NEVER });
  // The key history announces the slot before its certificate is written: a card pulled in
  // between holds an announced slot without a certificate, which readers skip (SP 800-73-4
  // Part 1 §3.3.2), never a share that listings cannot find.
  const history = keyHistoryWith(retired.history, slot, retired.objects.keys());
  if (
    !retired.history ||
    history.onCardCerts !== retired.history.onCardCerts ||
    history.offCardCerts !== retired.history.offCardCerts
  ) {
    await s.putData(OBJECT.KEY_HISTORY, keyHistoryContent(history), 'Updating the key history object');
  }
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const envelope = sealShareToCardKey(header, share, { serial, slot, recipientPoint: point });
  const cert = await buildShareCertificate(
    `Key Ceremony share ${header.shareIndex}/${header.shares} ${header.keyName}`.slice(0, 64),
    publicKey,
    JSON.stringify(envelope),
    (digest) => s.ecdsaSign(slot, digest),
  );
  await s.putData(certificateObjectFor(slot), certificateObject(cert), 'Storing the share');
  if (!options.readBack) return { slot, serial };
  const stored = await readShareInSlot(s, slot);
  if (!stored || JSON.stringify(stored) !== JSON.stringify(envelope)) {
    throw new CeremonyError(
      'ShareMismatch',
      `The share read back from slot ${slotName(slot)} of card ${serial} differs from the one written.`,
    );
  }
  const back = await openShareWithCard(
    stored,
    (epk) => s.ecdh(slot, epk),
    `the share on card ${serial} slot ${slotName(slot)}`,
  );
  return { slot, serial, back };
}

/**
 * The share in one retired slot, read from its certificate object alone
 * (when a record names the slot): null when the object is absent or carries
 * no share.
 */
export async function readShareInSlot(s: PivSession, slot: number): Promise<KeyshareEnvelope | null> {
  if (!RETIRED_SLOTS.includes(slot)) return null;
  const obj = await readCertificateObject(s, slot);
  const cert = obj ? parseTlvs(obj).find((t) => t.tag === 0x70)?.value : undefined;
  const env = cert ? envelopeFromCertificate(cert) : null;
  return env ? parseEnvelope(env.json, `the share in slot ${slotName(slot)}`) : null;
}

/** Reads the share of a ceremony from the card and opens it with the card's ECDH (after the PIN). Secret: caller zeroes. */
export async function readShareFromCard(s: PivSession, envelope: KeyshareEnvelope, pin: Uint8Array): Promise<Buffer> {
  if (envelope.protection.scheme !== 'piv-ecdh-p256-a256gcm')
    throw new CeremonyError('InvalidArgument', 'Not a card share.');
  const slot = parseInt(envelope.protection.slot, 16);
  await s.verifyPin(pin);
  return openShareWithCard(envelope, (epk) => s.ecdh(slot, epk), `the share on card ${envelope.protection.cardSerial}`);
}

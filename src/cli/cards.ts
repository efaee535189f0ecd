// Card commands and card share specs for the keyceremony CLI (issue 3).
import { signPreparedBundle, type SigningTurn } from '../core/ceremony/bundles.js';
import { CardShareDestination, CardShareSource, type CardShareHints } from '../core/ceremony/card-media.js';
import type { SecretProvider, ShareDestination, ShareSource } from '../core/ceremony/media.js';
import {
  cardStatus,
  describeSlotContent,
  generateAdminIdentityOnCard,
  checkPreparationArguments,
  inspectSlot,
  preparationGaps,
  prepareCard,
  readPreparation,
  slotName,
  signatureSlotOccupied,
  withCard,
} from '../core/cards/roles.js';
import { ALG, SLOT } from '../core/cards/piv.js';
import { ENTRY } from '../core/ceremony/record.js';
import { cardIdentitySigner, identitySlotReplacedData } from '../core/ceremony/signers.js';
import { appendTranscript, readTranscript } from '../core/ceremony/transcript.js';
import type { CardTransport } from '../core/cards/transport.js';
import { groupHex } from '../core/encoding.js';
import { writeFileExclusive, assertOutputFree } from '../core/files.js';
import { zeroize } from '../core/secrets.js';
import { CeremonyError } from '../core/errors.js';
import { readPassphraseFile } from '../core/passphrase.js';
import { out, passphraseProvider, parse, required } from './common.js';

let transport: CardTransport | undefined;

/** The PC/SC transport, loaded only when a command touches a card. */
export async function cardTransport(): Promise<CardTransport> {
  if (!transport) {
    const { createPcscTransport } = await import('../core/cards/pcsc.js');
    transport = await createPcscTransport();
  }
  return transport;
}

export async function closeCardTransport(): Promise<void> {
  await transport?.close();
  transport = undefined;
}

export function pinProvider(file: string | undefined, what: string): SecretProvider {
  return passphraseProvider(file, what, false);
}

export const CARD_PREFIX = 'piv:';

/** "piv:R=PINFILE" or "piv:R" (PIN prompted). */
export function parseCardSpec(spec: string): { reader: string; pinFile: string | undefined } | null {
  if (!spec.startsWith(CARD_PREFIX)) return null;
  const rest = spec.slice(CARD_PREFIX.length);
  const i = rest.lastIndexOf('=');
  return i < 0 ? { reader: rest, pinFile: undefined } : { reader: rest.slice(0, i), pinFile: rest.slice(i + 1) };
}

export async function cardDestination(reader: string, pinFile: string | undefined): Promise<ShareDestination> {
  return new CardShareDestination(
    await cardTransport(),
    reader,
    pinProvider(pinFile, `PIN of the card in reader "${reader}"`),
  );
}

export async function cardSource(
  reader: string,
  pinFile: string | undefined,
  wanted?: CardShareHints,
): Promise<ShareSource> {
  return new CardShareSource(
    await cardTransport(),
    reader,
    pinProvider(pinFile, `PIN of the card in reader "${reader}"`),
    wanted,
  );
}

export async function cardList(argv: string[]): Promise<void> {
  parse(argv, {});
  const t = await cardTransport();
  const readers = await t.listReaders();
  if (readers.length === 0) out('No card readers.');
  for (const r of readers) {
    if (!r.present) {
      out(`${r.name}: no card`);
      continue;
    }
    try {
      const info = await withCard(t, r.name, async (s) => ({ serial: await s.serial(), version: await s.version() }));
      out(`${r.name}: PIV card, serial ${info.serial}, version ${info.version}`);
    } catch (e) {
      out(`${r.name}: card present (${(e as Error).message})`);
    }
  }
}

export async function cardStatusCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, { reader: { type: 'string' } });
  const reader = required(values.reader, '--reader');
  const st = await withCard(await cardTransport(), reader, cardStatus);
  out(`Card ${st.serial}, PIV version ${st.version}`);
  out(`PIN: ${st.pinIsDefault ? 'FACTORY DEFAULT' : 'set'}, ${st.pinTriesLeft} tries left`);
  out(`PUK: ${st.pukIsDefault ? 'FACTORY DEFAULT' : 'set'}`);
  out(
    `Management key: ${st.managementKeyIsDefault ? 'FACTORY DEFAULT' : st.managementKeyPinProtected ? 'random, PIN-protected on the card' : 'changed (not PIN-protected)'}`,
  );
  const gaps = preparationGaps(st);
  const needsKey = !st.managementKeyIsDefault && !st.managementKeyPinProtected;
  out(
    gaps.length > 0
      ? `Not prepared: it ${gaps.join(' and ')}; run "keyceremony card prepare"${needsKey ? ' with --management-key-file' : ''} before using it.`
      : 'Prepared.',
  );
  const admin = st.adminCertificate;
  out(
    `Admin identity (slot 9C): ${admin.state === 'present' ? `${admin.name} ${admin.thumbprint}` : admin.state === 'unreadable' ? `UNREADABLE (${admin.problem.replace(/\.$/, '')})` : 'none'}`,
  );
  if (st.shares.length === 0) out('Keyshares: none');
  for (const sh of st.shares)
    out(
      `Keyshare (slot ${sh.slot}): share ${sh.shareIndex} of ${sh.shares} of key "${sh.keyName}" for ${sh.custodian}, ceremony ${sh.ceremonyId}`,
    );
}

export async function cardPrepare(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    reader: { type: 'string' },
    'pin-file': { type: 'string' },
    'puk-file': { type: 'string' },
    'new-pin-file': { type: 'string' },
    'new-puk-file': { type: 'string' },
    'management-key-file': { type: 'string' },
  });
  const reader = required(values.reader, '--reader');
  const t = await cardTransport();
  // What the card lacks is read first, so nothing is asked that the card does not need and a
  // preparation that cannot succeed is refused before any PIN or PUK is asked or tried.
  const facts = await withCard(t, reader, readPreparation);
  const askNewPin = facts.pinIsDefault || values['new-pin-file'] !== undefined;
  const askNewPuk = facts.pukIsDefault || values['new-puk-file'] !== undefined;
  checkPreparationArguments(facts, {
    newPin: askNewPin,
    newPuk: askNewPuk,
    puk: values['puk-file'] !== undefined,
    managementKey: values['management-key-file'] !== undefined,
  });
  const managementKey = values['management-key-file']
    ? readManagementKeyFile(values['management-key-file'])
    : undefined;
  const pin = await pinProvider(values['pin-file'], 'Current PIN')();
  const newPin = askNewPin ? await passphraseProvider(values['new-pin-file'], 'New PIN', true)() : undefined;
  const newPuk = askNewPuk ? await passphraseProvider(values['new-puk-file'], 'New PUK', true)() : undefined;
  const puk = values['puk-file'] ? await pinProvider(values['puk-file'], 'Current PUK')() : undefined;
  try {
    const r = await withCard(t, reader, (s) =>
      prepareCard(s, {
        pin,
        ...(newPin ? { newPin } : {}),
        ...(newPuk ? { newPuk } : {}),
        ...(puk ? { puk } : {}),
        ...(managementKey ? { managementKey } : {}),
      }),
    );
    const secrets =
      r.pin === 'changed' && r.puk === 'changed'
        ? 'new PIN and PUK set'
        : r.pin === 'changed'
          ? 'new PIN set, its PUK kept'
          : r.puk === 'changed'
            ? 'its PIN kept, new PUK set'
            : 'its PIN and PUK kept';
    const alg =
      r.managementKey.algorithm === ALG.AES192 ? 'AES-192' : r.managementKey.algorithm === ALG.TDES ? '3DES' : 'AES';
    const key =
      r.managementKey.action === 'replaced'
        ? `a random ${alg} management key replaces the factory one and is kept on the card behind the PIN`
        : r.managementKey.action === 'protected'
          ? 'its own management key is kept, now PIN-protected on the card'
          : 'its management key was already PIN-protected on the card';
    out(`Card ${r.serial} prepared: ${secrets}; ${key}.`);
  } finally {
    zeroize(pin, newPin, newPuk, puk, managementKey);
  }
}

/** A management key file: hex on its first line (24 bytes for 3DES or AES-192, 16 or 32 for AES). Secret. */
function readManagementKeyFile(path: string): Buffer {
  const raw = readPassphraseFile(path);
  try {
    const text = raw.toString('ascii').trim();
    if (!/^([0-9a-fA-F]{2}){16,32}$/.test(text) || ![32, 48, 64].includes(text.length)) {
      throw new CeremonyError(
        'InvalidArgument',
        `${path} does not hold a management key: 32, 48 or 64 hex digits on the first line.`,
      );
    }
    return Buffer.from(text, 'hex');
  } finally {
    zeroize(raw);
  }
}

/**
 * `identity generate --card`: an RSA-2048 admin key in slot 9C. A 9C that
 * holds a key or certificate is described and refused before the PIN is
 * asked, unless its owner agrees with `--replace-slot 9C`; then what was
 * replaced is printed and, with `--record`, recorded (card-slot-replaced).
 */
export async function identityGenerateOnCard(
  name: string,
  reader: string,
  pinFile: string | undefined,
  outPath: string,
  options: { replaceSlot?: string; recordPath?: string } = {},
): Promise<void> {
  assertOutputFree(outPath);
  if (options.replaceSlot !== undefined && options.replaceSlot.toUpperCase() !== slotName(SLOT.SIGNATURE)) {
    throw new CeremonyError(
      'InvalidArgument',
      `--replace-slot names the slot the identity goes to: 9C, not "${options.replaceSlot}".`,
    );
  }
  if (options.recordPath !== undefined) readTranscript(options.recordPath); // a broken record is refused before the card is touched
  const t = await cardTransport();
  // What 9C holds is read and refused (or agreed to) before the PIN is asked.
  const { serial, present } = await withCard(t, reader, async (s) => ({
    serial: await s.serial(),
    present: await inspectSlot(s, SLOT.SIGNATURE),
  }));
  if (present && options.replaceSlot === undefined) throw signatureSlotOccupied(serial, present);
  if (present) out(`Replacing what card ${serial} holds: ${describeSlotContent(present)}.`);
  const pin = await pinProvider(pinFile, `PIN of the card in reader "${reader}"`)();
  try {
    const cert = await withCard(t, reader, async (s) => {
      const now = await s.serial();
      if (now !== serial) {
        throw new CeremonyError(
          'WrongCard',
          `The card in reader "${reader}" is card ${now}, not card ${serial} whose slot 9C was checked. Insert card ${serial}.`,
          { expected: serial, actual: now },
        );
      }
      return generateAdminIdentityOnCard(s, name, pin, present ? { replace: present } : {});
    });
    if (present && options.recordPath !== undefined) {
      appendTranscript(options.recordPath, {
        type: ENTRY.cardSlotReplaced,
        actor: name,
        data: identitySlotReplacedData(serial, present, cert),
      });
    }
    writeFileExclusive(outPath, cert.pem, 0o644);
    out(`Admin identity of ${cert.name} generated on the card (RSA-2048, slot 9C, PIN required for every signature).`);
    if (present)
      out(
        `It replaced: ${describeSlotContent(present)}${options.recordPath !== undefined ? ` (recorded in ${options.recordPath})` : ''}.`,
      );
    out(`Certificate written to ${outPath}`);
    out(`Certificate SHA-256 ${groupHex(cert.fingerprintHex)}`);
    out(`Thumbprint ${cert.thumbprint}`);
  } finally {
    zeroize(pin);
  }
}

/** Signs a bundle whose summary was shown and approved (prepareSigning) with the admin key on a card. */
export async function bundleSignWithCard(
  bundlePath: string,
  turn: SigningTurn,
  reader: string,
  pinFile: string | undefined,
  record: { path: string } | undefined,
): Promise<{ name: string; thumbprint: string; signatures: number; required: number | null }> {
  const pin = await pinProvider(pinFile, `PIN of the card in reader "${reader}"`)();
  try {
    return await withCard(await cardTransport(), reader, async (s) => {
      const { certificate: cert, sign } = await cardIdentitySigner(s, pin);
      const signed = await signPreparedBundle(bundlePath, turn, cert, sign, record);
      return { name: cert.name, thumbprint: cert.thumbprint, signatures: signed.signatures, required: signed.required };
    });
  } finally {
    zeroize(pin);
  }
}

export async function cardUnblock(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    reader: { type: 'string' },
    'puk-file': { type: 'string' },
    'new-pin-file': { type: 'string' },
  });
  const reader = required(values.reader, '--reader');
  const puk = await pinProvider(values['puk-file'], 'PUK')();
  const newPin = await passphraseProvider(values['new-pin-file'], 'New PIN', true)();
  try {
    await withCard(await cardTransport(), reader, (s) => s.unblockPin(puk, newPin));
    out('The PIN is unblocked and set to the new PIN; it has its full number of tries again.');
  } finally {
    zeroize(puk, newPin);
  }
}

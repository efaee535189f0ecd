import { createPublicKey, type KeyObject } from 'node:crypto';
import { sha256Hex } from '../encoding.js';
import { CeremonyError } from '../errors.js';
import { readFileOrFail } from '../files.js';

// The transport key file a crypto unit exports (DESIGN.md, "Formats"): the
// unit id, its RSA public key, and the SHA-256 fingerprint of the key's
// SubjectPublicKeyInfo, which the operator compares with the one the unit
// displays before any key is wrapped for it.

export const TRANSPORT_FORMAT = 'keyceremony-transport/1';

export interface TransportKeyFile {
  format: typeof TRANSPORT_FORMAT;
  instanceId: string;
  unitId: string;
  /** SPKI PEM of the unit's RSA transport key. */
  publicKey: string;
  /** Lowercase hex SHA-256 of the SPKI DER. */
  fingerprint: string;
  /** The unit's last accepted bundle sequence when the file was exported. */
  lastSequence: number;
}

export interface TransportKey {
  file: TransportKeyFile;
  key: KeyObject;
}

export function spkiFingerprint(key: KeyObject): string {
  return sha256Hex(key.export({ type: 'spki', format: 'der' }));
}

export function parseTransportFile(text: string, what: string): TransportKey {
  let f: Partial<TransportKeyFile>;
  try {
    f = JSON.parse(text) as Partial<TransportKeyFile>;
  } catch {
    throw new CeremonyError('TransportInvalid', `${what} is not valid JSON.`);
  }
  if (
    f.format !== TRANSPORT_FORMAT ||
    typeof f.instanceId !== 'string' ||
    typeof f.unitId !== 'string' ||
    typeof f.publicKey !== 'string' ||
    typeof f.fingerprint !== 'string' ||
    !Number.isInteger(f.lastSequence)
  ) {
    throw new CeremonyError('TransportInvalid', `${what} is not a transport key file.`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(f.publicKey);
  } catch {
    throw new CeremonyError('TransportInvalid', `${what} holds no readable public key.`);
  }
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 3072) {
    throw new CeremonyError('TransportInvalid', `${what} does not hold an RSA transport key of at least 3072 bits.`);
  }
  const actual = spkiFingerprint(key);
  if (actual !== f.fingerprint.toLowerCase()) {
    throw new CeremonyError(
      'TransportFingerprintMismatch',
      `${what}: the key's fingerprint is ${actual}, not the ${f.fingerprint} the file states. Do not use it; export the transport key from the unit again.`,
      { unitId: f.unitId, stated: f.fingerprint, actual },
    );
  }
  return { file: f as TransportKeyFile, key };
}

export function readTransportFile(path: string): TransportKey {
  return parseTransportFile(readFileOrFail(path, 'Transport key file').toString('utf8'), `Transport key file ${path}`);
}

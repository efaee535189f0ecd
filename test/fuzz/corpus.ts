// The seed corpus: one real file of every kind the fuzzer attacks, made by
// the tool's own code. Key generation (RSA-4096 transport keys, admin keys),
// scrypt and PBKDF2 are slow and random, so the corpus is made once and kept
// in test/fuzz/corpus/seeds.json: then every case is reproducible from
// (seed, target, index) alone, on any machine. `npm run fuzz --
// --refresh-corpus` makes it again (after a format change); the fuzzer
// refuses to start when a seed no longer passes its parser unmutated.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  addBundleSignature,
  buildBundle,
  parseBundle,
  serializeBundle,
  type BundleSpec,
} from '../../src/core/bundle/bundle.js';
import { parseTransportFile, type TransportKey } from '../../src/core/bundle/transport.js';
import {
  ALG,
  certificateObjectFor,
  DEFAULT_MANAGEMENT_KEY,
  KEY_REF,
  OBJECT,
  PivSession,
  SLOT,
} from '../../src/core/cards/piv.js';
import type { CardConnection } from '../../src/core/cards/transport.js';
import { bundleCreatedData, unitConfirmedData } from '../../src/core/ceremony/bundle-record.js';
import type { ShareDestination, ShareSource } from '../../src/core/ceremony/media.js';
import { generateMasterKeyCeremony } from '../../src/core/ceremony/operations.js';
import { ENTRY } from '../../src/core/ceremony/record.js';
import { appendTranscript, headHash, readTranscript } from '../../src/core/ceremony/transcript.js';
import { buildSelfSignedCertificate } from '../../src/core/identity/certificate.js';
import { fileKeySigner, generateFileIdentity } from '../../src/core/identity/identity.js';
import { encryptPrivateKeyPkcs8, MIN_PBKDF2_ITERATIONS } from '../../src/core/identity/pkcs8.js';
import { generateMasterKey, keyCheckValue, verificationPattern } from '../../src/core/masterkey/masterkey.js';
import {
  KEYSHARE_FORMAT,
  sealShareToCardKey,
  sealShareWithPassphrase,
  serializeEnvelope,
  type KeyshareHeader,
} from '../../src/core/shares/envelope.js';
import { initInstance, ingestBundle, transportFileFor } from '../../src/emulator/instance.js';
import { createRootKey, exportKeystore, wrapDek } from '../../src/emulator/kms.js';
import { loadInstance, statePath } from '../../src/emulator/state.js';
import { VirtualPivCard } from '../../src/virtual-card/card.js';
import { InProcessTransport } from '../../src/virtual-card/transport.js';
import { makeAdmin } from '../support/fixtures.js';

export const CORPUS_VERSION = 1;
export const CORPUS_PATH = join(dirname(fileURLToPath(import.meta.url)), 'corpus', 'seeds.json');

/** One recorded card conversation: the operation, and each command with the card's answer (hex). */
export interface CardScript {
  op: 'serial' | 'version' | 'referenceMetadata' | 'slotMetadata' | 'getData' | 'pinTriesLeft' | 'select';
  arg: number;
  exchanges: Array<{ c: string; r: string }>;
}

export interface Corpus {
  version: number;
  /** The passphrase of every share and identity file here (test data). */
  passphrase: string;
  bundles: Record<string, string>;
  shares: string[];
  cardShares: string[];
  identities: string[];
  records: string[];
  states: string[];
  transports: string[];
  keystores: string[];
  wrappedDeks: string[];
  cards: CardScript[];
}

export function loadCorpus(): Corpus | null {
  if (!existsSync(CORPUS_PATH)) return null;
  const c = JSON.parse(readFileSync(CORPUS_PATH, 'utf8')) as Corpus;
  return c.version === CORPUS_VERSION ? c : null;
}

const PASSPHRASE = 'fuzzing seed passphrase';

/** A medium in memory (as test/unit/core/operations.test.ts). */
class MemoryMedium implements ShareDestination, ShareSource {
  readonly medium = 'file' as const;
  stored: { header: KeyshareHeader; share: Buffer } | undefined;
  constructor(readonly label: string) {}
  get location(): string {
    return this.label;
  }
  async precheck(): Promise<void> {}
  async write(header: KeyshareHeader, share: Uint8Array): Promise<void> {
    this.stored = { header, share: Buffer.from(share) };
  }
  async readBack(): Promise<Buffer> {
    return Buffer.from(this.stored!.share);
  }
  dispose(): void {}
  async header(): Promise<KeyshareHeader> {
    return this.stored!.header;
  }
  async open(): Promise<Buffer> {
    return Buffer.from(this.stored!.share);
  }
}

async function cardScripts(): Promise<CardScript[]> {
  const t = new InProcessTransport();
  t.insert('Virtual PIV reader 0', new VirtualPivCard());
  const real = await t.connect('reader 0');
  let log: Array<{ c: string; r: string }> = [];
  const recording: CardConnection = {
    reader: real.reader,
    atr: real.atr,
    async transmit(apdu) {
      const r = await real.transmit(apdu);
      log.push({ c: Buffer.from(apdu).toString('hex'), r: Buffer.from(r).toString('hex') });
      return r;
    },
    disconnect: () => real.disconnect(),
  };
  const s = new PivSession(recording);
  const scripts: CardScript[] = [];
  const record = async (op: CardScript['op'], arg: number, run: () => Promise<unknown>): Promise<void> => {
    log = [];
    await run().catch(() => undefined);
    scripts.push({ op, arg, exchanges: [...log] });
  };
  await record('select', 0, () => s.select());
  await s.authenticateManagementKey(DEFAULT_MANAGEMENT_KEY, ALG.TDES);
  await s.generateKey(SLOT.SIGNATURE, ALG.RSA2048);
  await s.generateKey(SLOT.KEY_MANAGEMENT, ALG.ECCP256);
  await s.putData(
    certificateObjectFor(SLOT.SIGNATURE),
    Buffer.concat([Buffer.from([0x70, 0x82, 0x03, 0xe8]), Buffer.alloc(1000, 0x5a), Buffer.from('710100fe00', 'hex')]),
    'Writing a certificate',
  );
  await s.putData(
    OBJECT.CHUID,
    Buffer.from(
      '3019d4e739da739ced39ce739d836858210842108421c84210c3eb341000112233445566778899aabbccddeeff350832303330303130313e00fe00',
      'hex',
    ),
    'Writing the CHUID',
  );
  await record('serial', 0, () => s.serial());
  await record('version', 0, () => s.version());
  for (const ref of [KEY_REF.PIN, KEY_REF.PUK, KEY_REF.MANAGEMENT])
    await record('referenceMetadata', ref, () => s.referenceMetadata(ref));
  for (const slot of [SLOT.SIGNATURE, SLOT.KEY_MANAGEMENT, SLOT.AUTHENTICATION])
    await record('slotMetadata', slot, () => s.slotMetadata(slot));
  for (const tag of [certificateObjectFor(SLOT.SIGNATURE), OBJECT.CHUID, OBJECT.DISCOVERY])
    await record('getData', tag, () => s.getData(tag, 'Reading a data object'));
  await record('pinTriesLeft', 0, () => s.pinTriesLeft());
  await real.disconnect();
  return scripts;
}

export async function buildCorpus(log: (line: string) => void = () => undefined): Promise<Corpus> {
  const work = mkdtempSync(join(tmpdir(), 'kc-fuzz-corpus-'));
  try {
    const passphrase = Buffer.from(PASSPHRASE, 'utf8');
    log('corpus: record (a 2-of-3 master-key ceremony)');
    const media = ['alice', 'bob', 'carol'].map((n) => new MemoryMedium(n));
    const recordPath = join(work, 'record.jsonl');
    const generated = await generateMasterKeyCeremony({
      keyName: 'MK',
      threshold: 2,
      custodians: media.map((m) => ({ custodian: m.label, destination: m })),
      recordPath,
    });
    const masterKey = generateMasterKey(); // the bundles' key (the ceremony's own is wiped)
    log('corpus: instance of 2 units (RSA-4096 transport keys)');
    const dir = join(work, 'emu');
    const s0 = initInstance(dir, 2);
    const transportTexts = s0.units.map((u) => JSON.stringify(transportFileFor(s0, u), null, 2) + '\n');
    const transports: TransportKey[] = transportTexts.map((t) => parseTransportFile(t, 't'));
    for (const t of transports)
      appendTranscript(recordPath, { type: ENTRY.unitConfirmed, actor: 'operator', data: unitConfirmedData(t) });
    log('corpus: admins and bundles for every operation');
    const admins = await Promise.all(['Alice', 'Bob', 'Carol', 'Dave'].map(makeAdmin));
    const current = { kcv: keyCheckValue(masterKey), verificationPattern: verificationPattern(masterKey) };
    const claim = { admins: admins.slice(0, 3).map((a) => a.cert), signatureThreshold: 2, revocationThreshold: 2 };
    const specs: Record<string, [BundleSpec, number]> = {
      initialize: [{ operation: 'initialize', masterKey, claim }, 1],
      recover: [{ operation: 'recover', masterKey, claim }, 1],
      'recover-claimed': [{ operation: 'recover', masterKey, claim: null }, 1],
      rotate: [
        {
          operation: 'rotate',
          masterKey: generateMasterKey(),
          currentVerificationPattern: current.verificationPattern,
        },
        2,
      ],
      'admin-change': [
        {
          operation: 'admin-change',
          current,
          add: [admins[3]!.cert],
          remove: [admins[2]!.cert.thumbprint],
          thresholds: { signatureThreshold: 2, revocationThreshold: 2 },
        },
        3,
      ],
      zeroize: [{ operation: 'zeroize', current }, 4],
    };
    const bundles: Record<string, string> = {};
    const transcriptHash = headHash(readTranscript(recordPath));
    for (const [name, [spec, sequence]] of Object.entries(specs)) {
      const { jws } = buildBundle({
        ...spec,
        transports,
        rehearsal: false,
        sequence,
        ceremonyId: generated.ceremonyId,
        keyName: 'MK',
        transcriptHash,
      });
      let b = parseBundle(serializeBundle(jws));
      if (name === 'zeroize') bundles['zeroize-unsigned'] = serializeBundle(b.jws);
      for (const a of admins.slice(0, name === 'initialize' || name === 'recover' ? 3 : 2))
        b = parseBundle(serializeBundle(await addBundleSignature(b, a.cert, a.sign)));
      bundles[name] = serializeBundle(b.jws);
      if (name === 'initialize') {
        appendTranscript(recordPath, {
          type: ENTRY.bundleCreated,
          actor: 'operator',
          data: bundleCreatedData({ bundle: b, transports, sharesUsed: [1, 2] }),
        });
      }
    }
    log('corpus: emulator state, an initialize ingested; a KMS root key, a wrapped data key, the keystore file');
    const states = [readFileSync(statePath(dir), 'utf8')];
    ingestBundle(dir, bundles['initialize']!);
    states.push(readFileSync(statePath(dir), 'utf8'));
    createRootKey(dir, 'rk1');
    const wrappedDeks = [
      wrapDek(dir, 'rk1', Buffer.alloc(32, 7)),
      wrapDek(dir, 'rk1', Buffer.from('a data key of another length')),
    ];
    states.push(readFileSync(statePath(dir), 'utf8'));
    loadInstance(dir);
    exportKeystore(dir, join(work, 'keystore.json'));
    const keystores = [readFileSync(join(work, 'keystore.json'), 'utf8')];
    log('corpus: share files (scrypt logN 15, the lowest the reader accepts) and a card-sealed share');
    const header: KeyshareHeader = {
      format: KEYSHARE_FORMAT,
      ceremonyId: generated.ceremonyId,
      keyName: 'MK',
      shareIndex: 1,
      threshold: 2,
      shares: 3,
      kcv: generated.kcv,
      custodian: 'alice',
      created: new Date().toISOString(),
    };
    const share = media[0]!.stored!.share;
    const shares = [
      serializeEnvelope(await sealShareWithPassphrase(header, share, passphrase, { logN: 15, r: 8, p: 1 })),
    ];
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = ec.publicKey.export({ format: 'jwk' });
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
    const cardShares = [
      serializeEnvelope(
        sealShareToCardKey({ ...header, shareIndex: 2, custodian: 'bob' }, media[1]!.stored!.share, {
          serial: 12345678,
          slot: 0x82,
          recipientPoint: point,
        }),
      ),
    ];
    log('corpus: identity files (PBKDF2 600,000 as generated, and 100,000, the least the reader accepts)');
    const id600k = await generateFileIdentity('Alice Admin', passphrase);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const certPem = await buildSelfSignedCertificate('Bob Admin', publicKey, fileKeySigner(privateKey));
    const id100k = encryptPrivateKeyPkcs8(privateKey, passphrase, MIN_PBKDF2_ITERATIONS) + certPem;
    log('corpus: card conversations (the virtual card, in-process)');
    const cards = await cardScripts();
    return {
      version: CORPUS_VERSION,
      passphrase: PASSPHRASE,
      bundles,
      shares,
      cardShares,
      identities: [id100k, id600k.text],
      records: [readFileSync(recordPath, 'utf8')],
      states,
      transports: transportTexts,
      keystores,
      wrappedDeks,
      cards,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function saveCorpus(c: Corpus): void {
  mkdirSync(dirname(CORPUS_PATH), { recursive: true });
  writeFileSync(CORPUS_PATH, JSON.stringify(c, null, 1) + '\n');
}

// A key in service on emulated units, made by the CLI's own core functions
// and the emulator's CLI (as `npm run rehearsal` steps 1-5 do): admin
// identity files (or an admin's card, test/support/cards.ts), a key generated 2 of 3 into share files, an instance of 2
// emulated units (in process) confirmed into the record, the initialize bundle claiming them for
// the admins, signed by every admin and ingested; then the transport files
// exported again (their snapshot now names the admins). For the later
// ceremonies' tests (admin change, zeroize).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTransportFile } from '../../src/core/bundle/transport.js';
import { confirmUnit, createBundle, prepareSigning, signPreparedBundle } from '../../src/core/ceremony/bundles.js';
import { FileShareDestination, FileShareSource } from '../../src/core/ceremony/media.js';
import { generateMasterKeyCeremony } from '../../src/core/ceremony/operations.js';
import { readTranscript } from '../../src/core/ceremony/transcript.js';
import type { Rs256Signer } from '../../src/core/identity/certificate.js';
import { fileKeySigner, generateFileIdentity, unlockFileIdentity } from '../../src/core/identity/identity.js';
import { exportTransportFiles, ingestBundle, initInstance } from '../../src/emulator/instance.js';
import type { AdminCard } from './cards.js';

const SCRYPT = { logN: 15, r: 8, p: 1 };

export interface KeyOnUnits {
  record: string;
  kcv: string;
  shares: string[];
  unitsDir: string;
  /** The transport files exported after the initialize bundle. */
  transports: string[];
  identities: Record<string, string>;
}

export async function keyOnUnits(a: {
  dir: string;
  name: string;
  keyName: string;
  admins: string[];
  signatureThreshold: number;
  revocationThreshold: number;
  passphrase: string;
  rehearsal?: boolean;
  /** Identity files already made (by admin name), reused. */
  identities?: Record<string, string>;
  /** Admins whose identity is on a card (adminCard), not in a file: they claim and sign with it. */
  cards?: readonly AdminCard[];
}): Promise<KeyOnUnits> {
  const base = join(a.dir, a.name);
  mkdirSync(base, { recursive: true });
  const pass = (): Buffer => Buffer.from(a.passphrase);
  const identities: Record<string, string> = { ...a.identities };
  const cardOf = (n: string): AdminCard | undefined => a.cards?.find((c) => c.name === n);
  for (const n of a.admins) {
    if (identities[n] || cardOf(n)) continue;
    const path = join(base, `${n.toLowerCase()}.identity.pem`);
    writeFileSync(path, (await generateFileIdentity(n, pass())).text);
    identities[n] = path;
  }
  const record = join(base, `${a.keyName}.jsonl`);
  const custodians = ['Carol', 'Dave', 'Erin'].map((n) => `${n} ${a.name}`);
  const shares = custodians.map((_, i) => join(base, `share-${i + 1}.keyshare`));
  const generated = await generateMasterKeyCeremony({
    keyName: a.keyName,
    threshold: 2,
    custodians: custodians.map((custodian, i) => ({
      custodian,
      destination: new FileShareDestination(shares[i]!, async () => pass(), SCRYPT),
    })),
    recordPath: record,
    actor: 'Olga',
  });
  const unitsDir = join(base, 'units');
  initInstance(unitsDir, 2, { rehearsal: a.rehearsal === true });
  const exportTransports = (dirName: string): string[] => {
    const out = join(base, dirName);
    mkdirSync(out);
    return exportTransportFiles(unitsDir, out).map((t) => t.path);
  };
  const first = exportTransports('transport-0').map(readTransportFile);
  for (const t of first) confirmUnit(record, t, t.file.fingerprint);
  const bundle = join(base, 'bundle-initialize.json');
  // Each admin's certificate and a way to sign with their key: their identity file, or their card.
  const signers = a.admins.map((n) => {
    const card = cardOf(n);
    if (card) return { certificate: card.certificate, withSigner: card.withSigner };
    const { certificate, privateKey } = unlockFileIdentity(readFileSync(identities[n]!, 'utf8'), pass());
    return {
      certificate,
      withSigner: <T>(op: (sign: Rs256Signer) => Promise<T>): Promise<T> => op(fileKeySigner(privateKey)),
    };
  });
  await createBundle({
    recordPath: record,
    transports: first,
    request: {
      operation: 'initialize',
      sources: shares.slice(0, 2).map((p) => new FileShareSource(p, async () => pass())),
      claim: {
        admins: signers.map((c) => c.certificate),
        signatureThreshold: a.signatureThreshold,
        revocationThreshold: a.revocationThreshold,
      },
    },
    outPath: bundle,
    rehearsal: a.rehearsal === true,
  });
  for (const c of signers) {
    const turn = prepareSigning(bundle, { recordEntries: readTranscript(record), recordLabel: 'The record' });
    await c.withSigner((sign) => signPreparedBundle(bundle, turn, c.certificate, sign, { path: record }));
  }
  const refused = ingestBundle(unitsDir, readFileSync(bundle, 'utf8')).filter((r) => !r.ok);
  if (refused.length > 0) throw new Error(`The units refused the initialize bundle: ${JSON.stringify(refused)}`);
  return { record, kcv: generated.kcv, shares, unitsDir, transports: exportTransports('transport'), identities };
}

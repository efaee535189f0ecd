// npm run bench: the figures in the README's "Benchmarks" section.
// Wall-clock medians on this machine; a benchmark, never a test assertion.
import { execFileSync } from 'node:child_process';
import { generateKeyPair } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import forge from 'node-forge';
import {
  addBundleSignature,
  buildBundle,
  checkEmbeddedSignatures,
  parseBundle,
  serializeBundle,
} from '../../src/core/bundle/bundle.js';
import { parseTransportFile } from '../../src/core/bundle/transport.js';
import { combineShares, generateMasterKey, splitMasterKey } from '../../src/core/masterkey/masterkey.js';
import {
  KEYSHARE_FORMAT,
  openShareWithPassphrase,
  sealShareWithPassphrase,
  type KeyshareHeader,
} from '../../src/core/shares/envelope.js';
import { ingestBundle, initInstance, transportFileFor } from '../../src/emulator/instance.js';
import { loadInstance } from '../../src/emulator/state.js';
import { makeAdmin } from '../support/fixtures.js';

const rows: Array<[string, string]> = [];

async function median(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function report(name: string, ms: number, note = ''): void {
  const shown = ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(1) : ms.toFixed(3);
  rows.push([name, `${shown} ms${note ? `  (${note})` : ''}`]);
  process.stdout.write(`${name.padEnd(58)} ${shown.padStart(9)} ms  ${note}\n`);
}

process.stdout.write(`Key Ceremony benchmarks — Node ${process.version}, ${process.arch}\n\n`);

// RSA-2048 key generation: native OpenSSL versus node-forge's pure-JS generator.
const genKeyPair = promisify(generateKeyPair);
const nativeRuns = 9;
const native = await median(nativeRuns, () => genKeyPair('rsa', { modulusLength: 2048 }));
report(`RSA-2048 key pair, Node crypto (median of ${nativeRuns})`, native);
// forge.options is missing from @types/node-forge. Without this flag forge
// delegates key generation to Node's crypto and the comparison is void.
const forgeOptions = (forge as unknown as { options: { usePureJavaScript: boolean } }).options;
forgeOptions.usePureJavaScript = true;
const forgeRuns = 5;
const pureJs = await median(forgeRuns, () => forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001, workers: -1 }));
report(`RSA-2048 key pair, node-forge pure JS (median of ${forgeRuns})`, pureJs);
forgeOptions.usePureJavaScript = false;
process.stdout.write(`${'  ratio pure JS / native'.padEnd(58)} ${(pureJs / native).toFixed(1).padStart(9)} x\n`);

const pass = Buffer.from('bench passphrase');
const idRuns = 5;
const { generateFileIdentity } = await import('../../src/core/identity/identity.js');
report(
  `Admin identity file (key + certificate + PKCS#8 PBKDF2 600k) (median of ${idRuns})`,
  await median(idRuns, () => generateFileIdentity('Bench', pass)),
);

// Shamir split and combine of a 32-byte key.
const key = generateMasterKey();
const shares = await splitMasterKey(key, 3, 5);
report('Split 32-byte key 3-of-5 (median of 200)', await median(200, () => splitMasterKey(key, 3, 5)));
report('Combine 3 shares (median of 200)', await median(200, () => combineShares(shares.slice(0, 3))));
const many = await splitMasterKey(key, 255, 255);
report('Split 32-byte key 255-of-255 (median of 5)', await median(5, () => splitMasterKey(key, 255, 255)));
report('Combine 255 shares (median of 5)', await median(5, () => combineShares(many)));

// KDF per share file: scrypt N=2^17, r=8, p=1 (128 MiB).
const header = {
  format: KEYSHARE_FORMAT,
  ceremonyId: '00000000-0000-4000-8000-000000000000',
  keyName: 'bench',
  shareIndex: 1,
  threshold: 3,
  shares: 5,
  kcv: 'ABCDEF',
  custodian: 'bench',
  created: new Date().toISOString(),
} as const;
const env = await sealShareWithPassphrase(header, shares[0]!, pass);
report(
  'Seal one share file, scrypt 2^17/8/1 + AES-GCM (median of 5)',
  await median(5, () => sealShareWithPassphrase(header, shares[0]!, pass)),
);
report('Open one share file (median of 5)', await median(5, () => openShareWithPassphrase(env, pass, 'bench')));

// Bundle sign / verify / ingest: 3 admins, 2 units.
const admins = await Promise.all(['A', 'B', 'C'].map(makeAdmin));
const dir = mkdtempSync(join(tmpdir(), 'kc-bench-'));
const t0 = performance.now();
initInstance(join(dir, 'template'), 2);
report('Emulator init, 2 units with RSA-4096 transport keys (1 run)', performance.now() - t0);
const s = loadInstance(join(dir, 'template'));
const transports = s.units.map((u) => parseTransportFile(JSON.stringify(transportFileFor(s, u)), 't'));
const initialize = {
  operation: 'initialize',
  masterKey: key,
  transports,
  rehearsal: false,
  sequence: 1,
  ceremonyId: header.ceremonyId,
  keyName: 'bench',
  transcriptHash: '0'.repeat(64),
  claim: { admins: admins.map((a) => a.cert), signatureThreshold: 2, revocationThreshold: 2 },
} as const;
const { jws } = buildBundle(initialize);
let b = parseBundle(serializeBundle(jws));
report('Bundle build (wrap for 2 units) (median of 20)', await median(20, () => buildBundle(initialize)));
report(
  'Bundle sign, one RS256 signature (median of 20)',
  await median(20, () => addBundleSignature(b, admins[0]!.cert, admins[0]!.sign)),
);
for (const a of admins) b = parseBundle(serializeBundle(await addBundleSignature(b, a.cert, a.sign)));
const text = serializeBundle(b.jws);
report(
  'Bundle verify, parse + 3 signatures (median of 50)',
  await median(50, () => checkEmbeddedSignatures(parseBundle(text))),
);
const { cpSync } = await import('node:fs');
let n = 0;
report(
  'Emulator ingest, 2 units, incl. copying its state (median of 10)',
  await median(10, () => {
    const d = join(dir, `run-${n++}`);
    cpSync(join(dir, 'template'), d, { recursive: true });
    const r = ingestBundle(d, text);
    if (!r.every((x) => x.ok)) throw new Error('ingest failed in benchmark');
  }),
);
// The KMS of an initialized instance: each call unseals the master key from a unit's register.
const { createRootKey, wrapDek, unwrapDek } = await import('../../src/emulator/kms.js');
const kmsDir = join(dir, 'run-0');
createRootKey(kmsDir, 'bench');
const dek = Buffer.alloc(32, 7);
report(
  'KMS wrap a 32-byte data key (JWE A256KW + A256GCM) (median of 20)',
  await median(20, () => wrapDek(kmsDir, 'bench', dek)),
);
const wrappedDek = wrapDek(kmsDir, 'bench', dek);
report('KMS unwrap it (median of 20)', await median(20, () => unwrapDek(kmsDir, wrappedDek).fill(0)));
rmSync(dir, { recursive: true, force: true });

// Smart cards: the virtual PIV card through pcscd + vpcd (real PC/SC), and in-process.
const cardRows = await benchCards();

async function benchCards(): Promise<Array<[string, string]>> {
  const { pcscStackUnavailableReason, startPcscStack, vpcdReaderName } = await import('../support/pcsc-stack.js');
  const { createPcscTransport } = await import('../../src/core/cards/pcsc.js');
  const { InProcessTransport } = await import('../../src/virtual-card/transport.js');
  const { VirtualPivCard } = await import('../../src/virtual-card/card.js');
  const roles = await import('../../src/core/cards/roles.js');
  const { CardShareDestination, CardShareSource, cardShareHints } =
    await import('../../src/core/ceremony/card-media.js');
  const { randomUUID } = await import('node:crypto');
  const out: Array<[string, string]> = [];
  const pin = Buffer.from('246813');
  const hdr = (): KeyshareHeader => ({ ...header, ceremonyId: randomUUID() });
  async function measure(
    label: string,
    transport: import('../../src/core/cards/transport.js').CardTransport,
    reader: string,
  ): Promise<void> {
    await roles.withCard(transport, reader, (s) =>
      roles.prepareCard(s, { pin: Buffer.from('123456'), newPin: pin, newPuk: Buffer.from('86420864') }),
    );
    let apdus = 0;
    const trace = { onExchange: () => apdus++ };
    /** Median time of `runs`; APDUs of the first run (the card then holds no share yet, as at a ceremony). */
    const perOp = async (runs: number, op: () => Promise<unknown>): Promise<{ ms: number; apdus: number }> => {
      let first: number | undefined;
      const ms = await median(runs, async () => {
        apdus = 0;
        await op();
        first ??= apdus;
      });
      return { ms, apdus: first! };
    };
    const pinProvider = async (): Promise<Buffer> => Buffer.from(pin);
    const written: Array<{ header: KeyshareHeader; location: string }> = [];
    // As `mk generate` does: precheck before the master key exists, write, read back.
    const w = await perOp(5, async () => {
      const h = hdr();
      const dest = new CardShareDestination(transport, reader, pinProvider, trace);
      try {
        await dest.precheck();
        await dest.write(h, shares[0]!);
        (await dest.readBack()).fill(0);
      } finally {
        dest.dispose();
      }
      written.push({ header: h, location: dest.location });
    });
    // As `share verify` and recovery do: the share's header, then the share opened with the PIN,
    // from the slot the record names for this card.
    const hints = cardShareHints([{ ceremonyId: written[0]!.header.ceremonyId, locations: [written[0]!.location] }]);
    const r = await perOp(5, async () => {
      const src = new CardShareSource(transport, reader, pinProvider, hints, trace);
      await src.header();
      (await src.open()).fill(0);
    });
    const status = await perOp(5, () => roles.withCard(transport, reader, roles.cardStatus, trace));
    await roles.withCard(transport, reader, (s) => roles.generateAdminIdentityOnCard(s, 'Bench Admin', pin));
    const sig = await perOp(10, () =>
      roles.withCard(transport, reader, (s) => roles.cardRs256Signer(s, pin)(Buffer.from('signing input')), trace),
    );
    for (const [name, m] of [
      ['share write (precheck, key generation, sealing, certificate, read back)', w],
      ['share read (header, then PIN, ECDH, open) from the slot the record names, card holding 5 shares', r],
      ['card status, card holding 5 shares', status],
      ['on-card RS256 signature (PIN + sign)', sig],
    ] as const) {
      report(`Card ${label}: ${name}`, m.ms, `${m.apdus} APDUs`);
      out.push([`Card ${label}: ${name}`, `${m.apdus} APDUs`]);
    }
  }
  const inproc = new InProcessTransport(['bench']);
  inproc.insert('bench', new VirtualPivCard());
  await measure('in-process', inproc, 'bench');
  const reason = pcscStackUnavailableReason();
  if (reason) {
    process.stdout.write(`Card benchmarks through pcscd skipped: ${reason}.\n`);
    return out;
  }
  const stateDir = mkdtempSync(join(tmpdir(), 'kc-bench-card-'));
  const stack = await startPcscStack([{ stateFile: join(stateDir, 'card.json'), port: 35963 }]);
  // A card connection runs in a helper process (src/core/cards/pcsc-process.ts): the first
  // connection of a transport starts one (a Node process loading the PC/SC addon); later ones
  // reuse it, which is what the rows of measure() show.
  const cold = await median(5, async () => {
    const t = await createPcscTransport();
    try {
      await (await t.connect(vpcdReaderName(35963))).disconnect();
    } finally {
      await t.close();
    }
  });
  report('Card via pcscd: first connection, starting the PC/SC helper process (from source, under tsx)', cold);
  const transport = await createPcscTransport();
  try {
    await measure(`via pcscd, loopback quickack ${loopbackQuickack()}`, transport, vpcdReaderName(35963));
  } finally {
    await transport.close();
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  return out;
}

/**
 * Whether the loopback routes acknowledge at once (.ci/loopback-quickack):
 * without it every APDU through vpcd waits ~43 ms for a delayed ACK.
 */
function loopbackQuickack(): 'on' | 'off' | 'unknown' {
  try {
    const routes = execFileSync('ip', ['-4', 'route', 'show', 'table', 'local', 'type', 'local', 'dev', 'lo'], {
      encoding: 'utf8',
    });
    const loopback = routes.split('\n').find((l) => l.startsWith('local 127.0.0.1 ') || l.startsWith('127.0.0.1 '));
    return loopback === undefined ? 'unknown' : / quickack 1\b/.test(loopback) ? 'on' : 'off';
  } catch {
    return 'unknown';
  }
}

process.stdout.write('\nMarkdown for the README:\n\n| operation | median |\n|---|---|\n');
for (const [k, v] of rows) process.stdout.write(`| ${k} | ${v} |\n`);
process.stdout.write(`| RSA-2048: pure JS / native | ${(pureJs / native).toFixed(1)}x |\n`);
void cardRows; // already in rows: report() records every figure

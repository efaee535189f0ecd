// Recovery (issue 11, ceremony 1) in the engine: from the key's record, and
// from the paper report of a lost record; each refusal, and what the record
// says afterwards.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBundle } from '../../../src/core/bundle/bundle.js';
import { parseTransportFile, type TransportKey } from '../../../src/core/bundle/transport.js';
import { confirmUnit } from '../../../src/core/ceremony/bundles.js';
import {
  generateMasterKeyCeremony,
  loadCeremony,
  verifyShareAgainstRecord,
} from '../../../src/core/ceremony/operations.js';
import {
  recoverFromPaper,
  recoverFromRecord,
  type RecoverFromPaperArgs,
  type RecoverFromRecordArgs,
} from '../../../src/core/ceremony/recovery.js';
import { rosterOfRecord } from '../../../src/core/ceremony/report.js';
import { reshareMasterKey } from '../../../src/core/ceremony/reshare.js';
import { headHash, readTranscript } from '../../../src/core/ceremony/transcript.js';
import { CeremonyError } from '../../../src/core/errors.js';
import { initInstance, transportFileFor } from '../../../src/emulator/instance.js';
import { makeAdmin, type TestAdmin } from '../../support/fixtures.js';
import { MemoryMedium } from '../../support/memory-medium.js';
import { refusal } from '../../support/refusal.js';

let admins: TestAdmin[];

beforeAll(async () => {
  admins = await Promise.all(['Alice', 'Bob'].map(makeAdmin));
});

const tmp = (): string => mkdtempSync(join(tmpdir(), 'kc-recovery-'));

function cleanUnits(dir: string, rehearsal = false): TransportKey[] {
  const s = initInstance(join(dir, `emu-${Math.random().toString(36).slice(2)}`), 2, { rehearsal });
  return s.units.map((u) => parseTransportFile(JSON.stringify(transportFileFor(s, u)), 't'));
}

async function keyOnRecord(
  mode: 'production' | 'rehearsal' = 'production',
): Promise<{ dir: string; path: string; kcv: string; vp: string; shares: MemoryMedium[] }> {
  const dir = tmp();
  const path = join(dir, 'record.jsonl');
  const shares = ['c1', 'c2', 'c3'].map((n) => new MemoryMedium(n));
  const r = await generateMasterKeyCeremony({
    keyName: 'MK',
    threshold: 2,
    custodians: shares.map((m) => ({ custodian: m.label, destination: m })),
    recordPath: path,
    ...(mode === 'rehearsal' ? { mode } : {}),
  });
  return { dir, path, kcv: r.kcv, vp: r.verificationPattern, shares };
}

const claim = (signatureThreshold = 2) => ({
  admins: admins.map((a) => a.cert),
  signatureThreshold,
  revocationThreshold: signatureThreshold,
});

/** A share whose owner typed the wrong passphrase. */
class WrongSecret extends MemoryMedium {
  constructor(private readonly of: MemoryMedium) {
    super(of.label);
  }
  override async header() {
    return this.of.header();
  }
  override async open(): Promise<Buffer> {
    throw new CeremonyError('WrongPassphrase', `The passphrase for ${this.label} is wrong.`);
  }
}

describe('recovery from the record', () => {
  async function setUp() {
    const k = await keyOnRecord();
    const transports = cleanUnits(k.dir);
    for (const t of transports) confirmUnit(k.path, t, t.file.fingerprint);
    const args = (over: Partial<RecoverFromRecordArgs> = {}): RecoverFromRecordArgs => ({
      recordPath: k.path,
      sources: [k.shares[2]!, k.shares[0]!],
      transports,
      claim: claim(),
      outPath: join(k.dir, `bundle-${Math.random().toString(36).slice(2)}.json`),
      actor: 'Olga',
      ...over,
    });
    return { ...k, transports, args };
  }

  it('opens a recovery ceremony, builds the recover bundle, wipes the key and closes the ceremony', async () => {
    const { path, kcv, args } = await setUp();
    const a = args();
    const r = await recoverFromRecord(a);
    expect(r).toMatchObject({ keyName: 'MK', kcv, sharesUsed: [3, 1], signatures: { needed: 2, by: 'claim' } });
    const entries = readTranscript(path);
    const recovery = entries.slice(entries.findIndex((e) => e.data['kind'] === 'recovery'));
    expect(recovery.map((e) => e.type)).toEqual([
      'ceremony-opened',
      'bundle-created',
      'master-key-wiped',
      'ceremony-closed',
    ]);
    expect(recovery.every((e) => e.actor === 'Olga')).toBe(true);
    expect(recovery[0]!.data).toMatchObject({
      kind: 'recovery',
      keyName: 'MK',
      keyCeremonyId: entries[0]!.data['ceremonyId'],
    });
    expect(recovery[1]!.data).toMatchObject({ operation: 'recover', sharesUsed: ['3', '1'], kcv });
    expect(recovery[3]!.data).toMatchObject({ outcome: 'completed', entries: 4 });
    const bundle = parseBundle(readFileSync(a.outPath, 'utf8'));
    expect(bundle.payloadHash).toBe(r.created.bundle.payloadHash);
    expect(bundle.payload.transcriptHash).toBe(recovery[0]!.hash);
    // The record still reads as the key's record.
    expect(loadCeremony(path).summary.bundles).toHaveLength(1);
  });

  it('refuses K-1 shares, a lock-out, an unconfirmed unit and an existing output before the ceremony opens', async () => {
    const { path, dir, shares, args } = await setUp();
    const before = readFileSync(path);
    const cases: Array<[Partial<RecoverFromRecordArgs>, RegExp]> = [
      [{ sources: [shares[0]!] }, /^2 different shares are needed to rebuild key "MK"; 1 was given\.$/],
      [{ claim: claim(3) }, /The claim.*threshold/],
      [{ transports: cleanUnits(dir) }, /has not been confirmed against the unit's own display/],
      [{ outPath: path }, /already exists/],
    ];
    for (const [over, message] of cases)
      expect((await refusal(recoverFromRecord(args(over)))).message).toMatch(message);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses a retired share, naming the re-share', async () => {
    const { path, shares, args } = await setUp();
    const fresh = ['n1', 'n2'].map((n) => new MemoryMedium(n));
    await reshareMasterKey({
      recordPath: path,
      sources: [shares[0]!, shares[1]!],
      threshold: 2,
      custodians: fresh.map((m) => ({ custodian: m.label, destination: m })),
      ceremonyName: 'lost card',
    });
    const e = await refusal(recoverFromRecord(args({ sources: [shares[0]!, fresh[0]!] })));
    expect(e.message).toMatch(/c1 is share 1 of ceremony .*, which the re-share "lost card" .* retired/);
  });

  it('a failure once the ceremony is open closes it as aborted with the reason, and writes no bundle', async () => {
    const { path, shares, args } = await setUp();
    const a = args({ sources: [shares[0]!, new WrongSecret(shares[1]!)] });
    const e = await refusal(recoverFromRecord(a));
    expect(e.code).toBe('WrongPassphrase');
    const closing = readTranscript(path).at(-1)!;
    expect(closing.data).toMatchObject({ outcome: 'aborted', code: 'WrongPassphrase', reason: e.message });
    expect(readTranscript(path).at(-2)!.type).toBe('master-key-wiped');
    expect(existsSync(a.outPath)).toBe(false);
    // The next recovery runs.
    await recoverFromRecord(args());
  });
});

describe('recovery from the paper report of a lost record', () => {
  async function setUp(mode: 'production' | 'rehearsal' = 'production') {
    const k = await keyOnRecord(mode);
    const lost = readTranscript(k.path);
    const transports = cleanUnits(k.dir, mode === 'rehearsal');
    const newRecordPath = join(k.dir, 'r2.jsonl');
    const args = (over: Partial<RecoverFromPaperArgs> = {}): RecoverFromPaperArgs => ({
      newRecordPath,
      paper: {
        keyName: 'MK',
        kcv: k.kcv.toLowerCase(),
        verificationPattern: k.vp.toUpperCase().match(/.{4}/g)!.join(' '),
        headHash: headHash(lost),
      },
      displayed: new Map(transports.map((t) => [t.file.unitId, t.file.fingerprint])),
      sources: [k.shares[0]!, k.shares[2]!],
      transports,
      claim: claim(),
      outPath: join(k.dir, 'bundle.json'),
      ...over,
    });
    return { ...k, lost, transports, newRecordPath, args };
  }

  it('begins a new record that later ceremonies use as the key\u2019s record', async () => {
    const { args, newRecordPath, kcv, vp, lost, shares } = await setUp();
    const r = await recoverFromPaper(args());
    expect(r).toMatchObject({
      recordPath: newRecordPath,
      kcv,
      sharesUsed: [1, 3],
      keyCeremonyId: lost[0]!.data['ceremonyId'],
    });
    const entries = readTranscript(newRecordPath);
    expect(entries.map((e) => e.type)).toEqual([
      'ceremony-opened',
      'unit-confirmed',
      'unit-confirmed',
      'key-recovered-from-paper',
      'bundle-created',
      'master-key-wiped',
      'ceremony-closed',
    ]);
    expect(entries[0]!.data).toMatchObject({
      kind: 'recovery',
      keyName: 'MK',
      keyCeremonyId: lost[0]!.data['ceremonyId'],
      threshold: 2,
      shares: 3,
      lostRecord: { headHash: headHash(lost), kcv, verificationPattern: vp },
    });
    const issued = lost.filter((e) => e.type === 'share-issued');
    expect(entries[3]!.data['sharesPresented']).toEqual([
      expect.objectContaining({ shareIndex: 1, custodian: 'c1', commitment: issued[0]!.data['commitment'] }),
      expect.objectContaining({ shareIndex: 3, custodian: 'c3', commitment: issued[2]!.data['commitment'] }),
    ]);
    expect(entries.at(-1)!.data).toMatchObject({ outcome: 'completed' });
    // Its report has a signature line for each custodian who presented a share (the script named none).
    expect(rosterOfRecord(entries).custodians).toEqual(['c1', 'c3']);

    const { summary } = loadCeremony(newRecordPath);
    expect(summary).toMatchObject({
      ceremonyId: lost[0]!.data['ceremonyId'],
      keyName: 'MK',
      kcv,
      verificationPattern: vp,
    });
    expect(summary.bundles).toHaveLength(1);
    await verifyShareAgainstRecord(newRecordPath, shares[2]!);
    const unseen = await refusal(verifyShareAgainstRecord(newRecordPath, shares[1]!));
    expect(unseen.message).toMatch(/share 2, which this record does not know: .* only shares 1, 3 were presented/);
    // A re-share from the new record records a whole new set.
    const fresh = ['n1', 'n2', 'n3'].map((n) => new MemoryMedium(n));
    const re = await reshareMasterKey({
      recordPath: newRecordPath,
      sources: [shares[0]!, shares[2]!],
      threshold: 2,
      custodians: fresh.map((m) => ({ custodian: m.label, destination: m })),
    });
    expect(re.kcv).toBe(kcv);
    expect(loadCeremony(newRecordPath).summary.issued.size).toBe(3);
  });

  it('refuses a rehearsal key’s shares (their header says so) onto production units, writing nothing', async () => {
    const { args, newRecordPath } = await setUp();
    const rehearsed = await keyOnRecord('rehearsal');
    expect(rehearsed.shares.map((m) => m.stored!.header.rehearsal)).toEqual([true, true, true]);
    const production = await keyOnRecord();
    expect(production.shares.map((m) => 'rehearsal' in m.stored!.header)).toEqual([false, false, false]);
    const paper = {
      keyName: 'MK',
      kcv: rehearsed.kcv,
      verificationPattern: rehearsed.vp,
      headHash: headHash(readTranscript(rehearsed.path)),
    };
    const err = await recoverFromPaper(args({ paper, sources: [rehearsed.shares[0]!, rehearsed.shares[1]!] })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CeremonyError);
    expect(err).toMatchObject({ code: 'RehearsalMismatch' });
    expect((err as Error).message).toMatch(/^c1 is a rehearsal share \(its header says so\)/);
    expect(existsSync(newRecordPath)).toBe(false);
  });

  it('recovers a rehearsal key from its paper report onto rehearsal units, into a rehearsal record', async () => {
    const { args, newRecordPath, kcv, shares } = await setUp('rehearsal');
    expect(shares.map((m) => m.stored!.header.rehearsal)).toEqual([true, true, true]);
    const r = await recoverFromPaper(args({ rehearsal: true }));
    expect(r).toMatchObject({ keyName: 'MK', kcv });
    const entries = readTranscript(newRecordPath);
    expect(entries[0]!.data).toMatchObject({ kind: 'recovery', mode: 'rehearsal' });
    expect(entries.filter((e) => e.data['rehearsal'] !== true)).toEqual([]);
    expect(r.created.bundle.payload.rehearsal).toBe(true);
  });

  it('refuses, writing nothing, a typed KCV or pattern that the key does not have, a head that is not a hash, a share of another key, a unit whose display differs', async () => {
    const { args, newRecordPath, kcv, transports } = await setUp();
    const other = await keyOnRecord();
    const u = transports[0]!.file.unitId;
    const cases: Array<[Partial<RecoverFromPaperArgs>, RegExp]> = [
      [
        { paper: { ...args().paper, kcv: '000000' } },
        new RegExp(`^The paper report's KCV is 000000, but c1 is a share of key "MK" with KCV ${kcv}: `),
      ],
      [
        { paper: { ...args().paper, verificationPattern: 'ab'.repeat(32) } },
        new RegExp(
          `^The shares rebuild a key with KCV ${kcv}, but its verification pattern is [0-9a-f]{64}, not (ab){32} of the key of the paper report\\.$`,
        ),
      ],
      [{ paper: { ...args().paper, headHash: '12 34' } }, /^The lost record's head hash must be the 64 hex digits/],
      [{ sources: [args().sources[0]!, other.shares[0]!] }, /c1 belongs to another ceremony/],
      [{ sources: [args().sources[0]!] }, /^2 different shares are needed to rebuild key "MK"; 1 was given\.$/],
      [
        { displayed: new Map([...args().displayed, [u, 'ff'.repeat(32)]]) },
        new RegExp(`^Unit ${u}: the transport file's key has fingerprint .*, but the unit displays`),
      ],
      [{ displayed: new Map([...args().displayed].slice(1)) }, /has not been confirmed against the unit's own display/],
      [{ claim: claim(3) }, /The claim.*threshold/],
    ];
    for (const [over, message] of cases) expect((await refusal(recoverFromPaper(args(over)))).message).toMatch(message);
    expect(existsSync(newRecordPath)).toBe(false);
    expect(existsSync(args().outPath)).toBe(false);
  });
});

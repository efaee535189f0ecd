// `--actor NAME` (issue 11, "Two-person integrity"): the record names the
// person at the keyboard for every entry a CLI command writes, not
// "operator" for all; bundle sign names the admin whose identity signed.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTranscript } from '../../src/core/ceremony/transcript.js';
import { emu, expectCleanFailure, kc, ok, passFile, workdir } from '../support/cli.js';

describe('keyceremony --actor', () => {
  it('names the actor in the entries of mk generate, units confirm and bundle create; bundle sign names the signer', () => {
    const dir = workdir('kc-actor-');
    for (const c of ['c1', 'c2']) passFile(dir, `${c}.pass`, `custodian ${c} secret`);
    passFile(dir, 'ann.pass', 'ann admin passphrase');
    ok(kc(dir, 'identity', 'generate', '--name', 'Ann', '--out', 'ann.pem', '--passphrase-file', 'ann.pass'));
    ok(kc(dir, 'identity', 'cert', 'ann.pem', '--out', 'ann.cert.pem'));
    ok(
      kc(
        dir,
        ...['mk', 'generate', '--key-name', 'MK-A', '--threshold', '2'],
        ...['--share', 'c1.share=c1.pass', '--share', 'c2.share=c2.pass'],
        ...['--record', 'record.jsonl', '--actor', ' Olivia Operator '],
      ),
    );
    ok(emu(dir, 'init', '--state', 'units', '--units', '2'));
    ok(emu(dir, 'transport', '--state', 'units', '--out-dir', 'transport'));
    const status = JSON.parse(ok(emu(dir, 'status', '--state', 'units', '--json'))) as {
      units: Array<{ id: string; transportFingerprint: string }>;
    };
    for (const u of status.units) {
      ok(
        kc(
          dir,
          ...['units', 'confirm', '--record', 'record.jsonl'],
          ...['--transport', join('transport', `unit-${u.id}.transport.json`)],
          ...['--fingerprint', u.transportFingerprint, '--actor', 'Uma Unit-Reader'],
        ),
      );
    }
    const transports = readdirSync(join(dir, 'transport')).flatMap((f) => ['--transport', join('transport', f)]);
    ok(
      kc(
        dir,
        ...['bundle', 'create', '--operation', 'initialize', '--record', 'record.jsonl', ...transports],
        ...['--share', 'c1.share=c1.pass', '--share', 'c2.share=c2.pass'],
        ...['--admin', 'ann.cert.pem', '--signature-threshold', '1', '--out', 'bundle.json'],
        ...['--actor', 'Olivia Operator'],
      ),
    );
    ok(
      kc(
        dir,
        ...['bundle', 'sign', 'bundle.json', '--record', 'record.jsonl'],
        ...['--identity', 'ann.pem', '--passphrase-file', 'ann.pass'],
      ),
    );

    const actors = readTranscript(join(dir, 'record.jsonl')).map((e) => [e.type, e.actor]);
    expect(actors).toEqual([
      ['ceremony-opened', 'Olivia Operator'],
      ['master-key-generated', 'Olivia Operator'],
      ['share-issued', 'Olivia Operator'],
      ['share-issued', 'Olivia Operator'],
      ['master-key-wiped', 'Olivia Operator'],
      ['ceremony-closed', 'Olivia Operator'],
      ['unit-confirmed', 'Uma Unit-Reader'],
      ['unit-confirmed', 'Uma Unit-Reader'],
      ['bundle-created', 'Olivia Operator'],
      ['bundle-signed', 'Ann'],
    ]);
    expect(ok(kc(dir, 'transcript', 'verify', 'record.jsonl'))).toMatch(
      /^ {2}1 \S+ ceremony-opened \(Olivia Operator\)$/m,
    );
  }, 120_000);

  it('refuses a name that is blank, too long or not printable, before anything is written', () => {
    const dir = workdir('kc-actor-bad-');
    for (const c of ['c1', 'c2']) passFile(dir, `${c}.pass`, `custodian ${c} secret`);
    for (const actor of ['  ', 'x'.repeat(65), 'Olivia\u0007']) {
      const r = kc(
        dir,
        ...['mk', 'generate', '--key-name', 'MK-A', '--threshold', '2'],
        ...['--share', 'c1.share=c1.pass', '--share', 'c2.share=c2.pass'],
        ...['--record', 'record.jsonl', '--actor', actor],
      );
      expect(r.code).toBe(2);
      expectCleanFailure(r, /^keyceremony: --actor must be 1 to 64 printable characters\./);
    }
    expect(readdirSync(dir).sort()).toEqual(['c1.pass', 'c2.pass']);
  });

  it('leaves "operator" as the actor without the option', () => {
    const dir = workdir('kc-actor-none-');
    for (const c of ['c1', 'c2']) passFile(dir, `${c}.pass`, `custodian ${c} secret`);
    ok(
      kc(
        dir,
        ...['mk', 'generate', '--key-name', 'MK-A', '--threshold', '2'],
        ...['--share', 'c1.share=c1.pass', '--share', 'c2.share=c2.pass', '--record', 'record.jsonl'],
      ),
    );
    expect(new Set(readTranscript(join(dir, 'record.jsonl')).map((e) => e.actor))).toEqual(new Set(['operator']));
  }, 120_000);
});

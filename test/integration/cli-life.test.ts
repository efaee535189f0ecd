// A master key's whole life through the real CLIs (issue 8, "Done when"):
// initialize 2 units → wrap a DEK → rotate → unwrap → add an admin → remove
// one (revocation threshold) → a lock-out refused → a unit in maintenance
// retried alone → the mismatch reported → recover onto a new instance with
// the keystore → unwrap → zeroize → nothing unwraps, all in rehearsal mode
// (issue 11), and the rehearsal's bundles refused by a production instance.
// The steps are those of
// `npm run rehearsal`, which stops at the first command that does not do what
// it must (a refusal that is not refused included); this test runs it and
// then checks the end state with the tools themselves.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { emu, kc, ok, ROOT, workdir } from '../support/cli.js';

const ws = workdir('kc-life-');
let output = '';
let code = -1;

interface UnitStatus {
  id: string;
  state: string;
  masterKeyKcv: string | null;
  oldMasterKeyKcv: string | null;
  adminNames: string[];
  signatureThreshold: number;
  revocationThreshold: number;
}
const status = (state: string): { rehearsal: boolean; units: UnitStatus[]; mismatches: string[]; rootKeys: number } =>
  JSON.parse(ok(emu(ws, 'status', '--state', state, '--json'))) as {
    rehearsal: boolean;
    units: UnitStatus[];
    mismatches: string[];
    rootKeys: number;
  };

beforeAll(() => {
  const r = spawnSync(process.execPath, [join(ROOT, 'build/cli/rehearsal.js'), '--workspace', ws], {
    encoding: 'utf8',
  });
  output = r.stdout + r.stderr;
  code = r.status ?? -1;
}, 600_000);

describe("a master key's whole life", () => {
  it('runs every step to the end', () => {
    if (code !== 0) throw new Error(`rehearsal failed (${code}):\n${output.slice(-4000)}`);
    expect(output).toMatch(
      /Rehearsal complete: key [0-9A-F]{6} initialized, rotated to [0-9A-F]{6}, recovered onto a new instance/,
    );
  });

  it('rotation kept the old key in the old register, and the DEK wrapped before it unwrapped after it and after the recovery', () => {
    const kcvs = /key ([0-9A-F]{6}) initialized, rotated to ([0-9A-F]{6})/.exec(output)!;
    const recovered = status('units-b');
    expect(recovered.mismatches).toEqual([]);
    for (const u of recovered.units) {
      expect(u).toMatchObject({
        state: 'kms-initialized',
        masterKeyKcv: kcvs[2],
        signatureThreshold: 2,
        revocationThreshold: 2,
      });
      expect(u.adminNames).toEqual(['bob', 'carol', 'dave']);
    }
    expect(recovered.rootKeys).toBe(1);
    const dek = readFileSync(join(ws, 'secrets/dek.bin'));
    expect(readFileSync(join(ws, 'secrets/dek-after-rotation.bin')).equals(dek)).toBe(true);
    expect(readFileSync(join(ws, 'secrets/dek-after-recovery.bin')).equals(dek)).toBe(true);
  });

  it('the refusals were refusals: a lock-out before anyone signed, a unit in maintenance, the mismatch (exit 3)', () => {
    expect(output).toMatch(
      /bundle create --rehearsal --operation admin-change .*--remove=.*--remove=[^\n]*\n\s+! keyceremony: After this change unit .*lock/,
    );
    expect(readdirSync(ws)).not.toContain('bundle-lockout.json');
    expect(output).toMatch(/FAILED rejected: the unit is in maintenance/);
    expect(output).toMatch(/! crypto-unit-emulator: the units of instance .* differ:\n\s+! +mismatched thresholds/);
    expect(output).toMatch(/OK \(already applied\)/);
  });

  it('after zeroize the old units hold nothing and nothing unwraps there; their audit logs hold every offer', () => {
    const old = status('units');
    for (const u of old.units)
      expect(u).toMatchObject({ state: 'cleared', masterKeyKcv: null, oldMasterKeyKcv: null, adminNames: [] });
    expect(old.rootKeys).toBe(0);
    const unwrap = emu(ws, 'kms', 'unwrap', '--state', 'units', '--in', 'dek.jwe', '--out', 'secrets/again.bin');
    expect(unwrap.code).toBe(1);
    const audit = ok(emu(ws, 'audit', '--state', 'units', '--unit', old.units[0]!.id));
    for (const op of ['initialize', 'rotate', 'admin-change', 'zeroize']) expect(audit).toContain(op);
    expect(audit).toMatch(/intact/);
  });

  it('everything ran in rehearsal mode, and the production instance refused the rehearsal bundle and stayed cleared', () => {
    expect([status('units').rehearsal, status('units-b').rehearsal, status('units-prod').rehearsal]).toEqual([
      true,
      true,
      false,
    ]);
    const bundles = readdirSync(ws).filter((f) => /^bundle-\d+-.*\.json$/.test(f));
    expect(bundles).toHaveLength(8);
    for (const f of bundles) {
      const payload = (JSON.parse(readFileSync(join(ws, f), 'utf8')) as { payload: string }).payload;
      expect(Buffer.from(payload, 'base64url').toString('utf8')).toMatch(
        /^\{"format":"keyceremony-bundle\/3","rehearsal":true,/,
      );
    }
    expect(output).toMatch(/Mode: REHEARSAL/);
    // mk generate --rehearsal: each key's record is a rehearsal's from its opening, every entry marked.
    for (const record of ['record.jsonl', 'record2.jsonl']) {
      const entries = readFileSync(join(ws, record), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
      expect(entries[0]!.data['mode']).toBe('rehearsal');
      expect(entries.filter((e) => e.data['rehearsal'] !== true).map((e) => e.type)).toEqual([]);
    }
    expect(output).toMatch(/! keyceremony: Unit \S+ is a production unit \(as its transport file says\)/);
    expect(output).toMatch(/FAILED rejected: this is a production unit and the bundle is a rehearsal bundle/);
    expect(readdirSync(ws)).not.toContain('p1.json');
    const production = status('units-prod');
    for (const u of production.units) expect(u).toMatchObject({ state: 'cleared', masterKeyKcv: null, adminNames: [] });
    const audit = ok(emu(ws, 'audit', '--state', 'units-prod', '--unit', production.units[0]!.id));
    expect(audit).toMatch(/\(1 entry\)\n\n#1 .* REJECTED \(RehearsalMismatch\)\n/);
  });

  it('the end of a key in its record (issue 11): the rotation retired the old key, the paper record closed with its key destroyed; their shares are refused', () => {
    expect(output).toMatch(/Recorded as entry \d+ \(key-retired\) of record\.jsonl\./);
    expect(output).toMatch(
      /share verify --record record\.jsonl [^\n]*\n\s+! keyceremony: [^\n]*retired it when the units of instance/,
    );
    expect(output).toMatch(
      /! keyceremony: record2\.jsonl also loaded key "rehmk2" onto instance \S+: give that instance's status too/,
    );
    expect(output).toMatch(/Recorded as entry \d+ \(key-destroyed\) of record2-paper\.jsonl\./);
    expect(output).toMatch(
      /share verify --record record2-paper\.jsonl [^\n]*\n\s+! keyceremony: [^\n]*it was destroyed/,
    );
    const last = (record: string): { type: string } =>
      JSON.parse(readFileSync(join(ws, record), 'utf8').trim().split('\n').at(-1)!) as { type: string };
    expect([last('record.jsonl').type, last('record2-paper.jsonl').type]).toEqual(['key-retired', 'key-destroyed']);
    ok(kc(ws, 'transcript', 'verify', 'record2-paper.jsonl'));
    for (const u of status('units-c').units) expect(u).toMatchObject({ state: 'cleared', masterKeyKcv: null });
  });

  it('the records verify, and each bundle is held by the record that created it', () => {
    ok(kc(ws, 'transcript', 'verify', 'record.jsonl'));
    ok(kc(ws, 'transcript', 'verify', 'record2.jsonl'));
    expect(ok(kc(ws, 'bundle', 'verify', 'bundle-2-rotate.json', '--record', 'record2.jsonl'))).toMatch(
      /Operation: rotate/,
    );
    expect(kc(ws, 'bundle', 'verify', 'bundle-2-rotate.json', '--record', 'record.jsonl').stderr).toMatch(
      /holds no bundle-created entry/,
    );
  });
});

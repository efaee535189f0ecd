// The one IPC contract: every channel is reachable from exactly one verb of
// the preload's API, has exactly one handler in main, and every handler
// refuses arguments that do not match the contract before touching anything.
import { describe, expect, it } from 'vitest';
import type { CeremonySession } from '../../../src/core/ceremony/session.js';
import type { RecoverySession } from '../../../src/core/ceremony/recovery-session.js';
import type { UnitsBundleSession } from '../../../src/core/ceremony/units-bundle-session.js';
import { createHandlers } from '../../../src/main/handlers.js';
import { API_VERBS, buildApi } from '../../../src/shared/api.js';
import { IpcChannel } from '../../../src/shared/ipc.js';

const channels = Object.values(IpcChannel);
const verbs = Object.values(API_VERBS).flatMap((group) => Object.values(group) as string[]);

/** A session that fails the test if any handler reaches it. */
const untouchable = new Proxy({} as CeremonySession, {
  get: (_t, name) => () => {
    throw new Error(`the handler called session.${String(name)} with an invalid request`);
  },
});
const handlers = createHandlers({
  session: untouchable,
  recovery: untouchable as unknown as RecoverySession,
  unitsBundle: untouchable as unknown as UnitsBundleSession,
  appInfo: () => ({ name: 'x', version: '0', networkInterfacesUp: [] }),
  reportBug: (channel, e) => {
    throw new Error(`bug in ${channel}: ${String(e)}`);
  },
});

describe('the IPC contract', () => {
  it('maps every channel to exactly one API verb', () => {
    expect([...verbs].sort()).toEqual([...channels].sort());
  });

  it('has one handler per channel', () => {
    expect(Object.keys(handlers).sort()).toEqual([...channels].sort());
  });

  it('builds the API that the preload exposes from the verb table', async () => {
    const seen: Array<[string, unknown[]]> = [];
    const api = buildApi(async (channel, ...args) => {
      seen.push([channel, args]);
      return { ok: true, value: null };
    });
    await api.units.confirm({ unitId: 'u1' });
    await api.cards.list();
    expect(seen).toEqual([
      ['units:confirm', [{ unitId: 'u1' }]],
      ['cards:list', []],
    ]);
    expect(Object.isFrozen(api) && Object.isFrozen(api.units)).toBe(true);
  });

  it.each(channels.filter((c) => c !== IpcChannel.appGetInfo))(
    '%s refuses malformed requests without reaching the session',
    async (channel) => {
      const bad: unknown[][] = [
        ['extra', 'arguments'],
        [null],
        [[]],
        [{ unexpected: true }],
        [Object.create({ polluted: true })],
      ];
      for (const args of bad) {
        const r = await handlers[channel](args);
        expect(r.ok, `${channel} accepted ${JSON.stringify(args)}`).toBe(false);
        if (!r.ok) expect(r.error.code).toBe('invalid-request');
      }
    },
  );

  it('takes the recovery\u2019s paper head, thresholds and passphrases strictly (issue 11, ceremony 1)', async () => {
    for (const [channel, bad] of [
      [IpcChannel.recoveryOpenRecord, { paperHead: 12 }],
      [IpcChannel.recoveryOpenRecord, {}],
      [IpcChannel.recoveryOpenRecord, { paperHead: 'x'.repeat(257) }],
      [IpcChannel.recoverySetThresholds, { signatureThreshold: 0, revocationThreshold: 1 }],
      [IpcChannel.recoverySetThresholds, { signatureThreshold: 1.5, revocationThreshold: 1 }],
      [IpcChannel.recoverySetThresholds, { signatureThreshold: 1 }],
      [IpcChannel.recoveryGiveShare, { secret: { medium: 'file', passphrase: 'x'.repeat(1025) } }],
      [IpcChannel.recoveryGiveShare, { passphrase: 'p' }],
      [IpcChannel.recoveryGiveShare, { secret: { medium: 'card', reader: 'r', pin: '1'.repeat(17) } }],
      [IpcChannel.recoveryStartFromPaper, { keyName: 'MK', kcv: 'ABC123', verificationPattern: 'a' }],
      [IpcChannel.recoveryConfirmUnitOnScreen, { unitId: 7 }],
      [IpcChannel.recoverySign, { passphrase: null }],
      [IpcChannel.recoveryRemoveAdmin, { adminIndex: -1 }],
    ] as const) {
      const r = await handlers[channel]([bad]);
      expect(r.ok ? 'accepted' : r.error.code, `${channel} ${JSON.stringify(bad).slice(0, 60)}`).toBe(
        'invalid-request',
      );
    }
    const api = buildApi(async (channel, ...args) => ({ ok: true, value: [channel, args] }));
    expect(await api.recovery.openRecord({ paperHead: null })).toEqual({
      ok: true,
      value: ['recovery:open-record', [{ paperHead: null }]],
    });
  });

  it('takes the admin change\u2019s and the zeroize\u2019s requests strictly (issue 11, ceremonies 3 and 5)', async () => {
    for (const [channel, bad] of [
      [IpcChannel.unitsBundleOpenRecord, { operation: 'rotate' }],
      [IpcChannel.unitsBundleOpenRecord, {}],
      [IpcChannel.unitsBundleSetRemoved, { thumbprint: 'x', removed: 'yes' }],
      [IpcChannel.unitsBundleSetRemoved, { thumbprint: 'x'.repeat(65), removed: true }],
      [IpcChannel.unitsBundleDropAddedAdmin, { index: -1 }],
      [IpcChannel.unitsBundleBuildAdminChange, { signatureThreshold: 0, revocationThreshold: 1 }],
      [IpcChannel.unitsBundleBuildAdminChange, { signatureThreshold: 1 }],
      [IpcChannel.unitsBundleBuildZeroize, { keyName: 7 }],
      [IpcChannel.unitsBundleSign, { passphrase: 'p' }],
      [IpcChannel.unitsBundleSign, { secret: { medium: 'card', reader: 'r', pin: 'x'.repeat(17) } }],
    ] as const) {
      const r = await handlers[channel]([bad]);
      expect(r.ok ? 'accepted' : r.error.code, `${channel} ${JSON.stringify(bad).slice(0, 60)}`).toBe(
        'invalid-request',
      );
    }
  });

  it('takes the later wizards\u2019 papers requests strictly (issue 11: the script before, the report after)', async () => {
    const names = { operator: 'Olga', witnesses: ['Wendy'] };
    for (const [channel, bad] of [
      [IpcChannel.papersPrintScript, { wizard: 'initial', names }],
      [IpcChannel.papersPrintScript, { wizard: 'recovery' }],
      [IpcChannel.papersPrintScript, { wizard: 'recovery', names: { operator: 'Olga' } }],
      [IpcChannel.papersPrintScript, { wizard: 'recovery', names: { ...names, witnesses: 'Wendy' } }],
      [IpcChannel.papersPrintScript, { wizard: 'recovery', names: { ...names, witnesses: Array(17).fill('W') } }],
      [IpcChannel.papersPrintScript, { wizard: 'recovery', names: { ...names, mode: 'rehearsal' } }],
      [
        IpcChannel.papersSavePlan,
        { wizard: 'units-bundle', names, thresholds: { signatureThreshold: 0, revocationThreshold: 1 } },
      ],
      [IpcChannel.papersSavePlan, { wizard: 'units-bundle', names, thresholds: { signatureThreshold: 2 } }],
      [IpcChannel.papersOpenPlan, { wizard: 'share-check' }],
      [IpcChannel.papersOpenPlan, { wizard: 'reshare', path: '/etc/passwd' }],
      [IpcChannel.papersPrintReport, { wizard: 'rotation' }],
      [IpcChannel.papersPrintReport, { wizard: 'rotation', witnesses: [7] }],
    ] as const) {
      const r = await handlers[channel]([bad]);
      expect(r.ok ? 'accepted' : r.error.code, `${channel} ${JSON.stringify(bad).slice(0, 60)}`).toBe(
        'invalid-request',
      );
    }
  });

  it('takes the set-up\u2019s revocation threshold and reasons strictly (issue 11)', async () => {
    const setup = {
      ceremonyName: 'c',
      keyName: 'k',
      threshold: 2,
      signatureThreshold: 1,
      revocationThreshold: 1,
      operator: 'o',
      admins: [{ name: 'a', medium: 'card' }],
      custodians: [
        { name: 'b', medium: 'file' },
        { name: 'c', medium: 'file' },
      ],
      witnesses: ['w'],
      reasons: { signatureThresholdOne: 'One admin only.' },
    };
    for (const bad of [
      { ...setup, revocationThreshold: '1' },
      { ...setup, revocationThreshold: 0 },
      { ...setup, revocationThreshold: undefined },
      { ...setup, reasons: undefined },
      { ...setup, reasons: null },
      { ...setup, reasons: [] },
      { ...setup, reasons: { why: 'because' } },
      { ...setup, reasons: { custodianIsAdmin: 7 } },
      { ...setup, reasons: { signatureThresholdOne: 'x'.repeat(1001) } },
    ]) {
      const r = await handlers[IpcChannel.ceremonyStart]([bad]);
      expect(r.ok ? 'accepted' : r.error.code, JSON.stringify(bad).slice(0, 120)).toBe('invalid-request');
    }
    const { revocationThreshold: _r, ...withoutRevocation } = setup;
    const { reasons: _s, ...withoutReasons } = setup;
    for (const bad of [withoutRevocation, withoutReasons]) {
      const r = await handlers[IpcChannel.ceremonyStart]([bad]);
      expect(r.ok ? 'accepted' : r.error.message).toMatch(
        /^The ceremony set-up lacks (revocationThreshold|reasons)\.$/,
      );
    }
  });

  it('takes a plan’s form and the plan it came from strictly (issue 11)', async () => {
    const setup = {
      ceremonyName: 'c',
      keyName: 'k',
      threshold: 2,
      signatureThreshold: 2,
      revocationThreshold: 2,
      operator: 'o',
      admins: [
        { name: 'a', medium: 'card' },
        { name: 'b', medium: 'card' },
      ],
      custodians: [
        { name: 'c', medium: 'file' },
        { name: 'd', medium: 'file' },
      ],
      witnesses: ['w'],
      reasons: {},
    };
    const units = [{ id: 'u1', transportFingerprint: null }];
    const sha256 = 'a'.repeat(64);
    for (const [channel, bad] of [
      [IpcChannel.planSave, { setup, units, fromPlan: { sha256: 'A'.repeat(64) } }], // the plan the form came from
      [IpcChannel.planSave, { setup }],
      [IpcChannel.planSave, { setup, units: [{ id: 'u1' }] }],
      [IpcChannel.planSave, { setup, units: [{ id: 'u1', transportFingerprint: 7 }] }],
      [IpcChannel.planSave, { setup: { ...setup, reasons: undefined }, units }],
      [IpcChannel.planPrintScript, { setup, units, fromPlan: { sha256: 'A'.repeat(64) } }],
      [IpcChannel.planPrintScript, { setup, units, fromPlan: sha256 }],
      [IpcChannel.ceremonyStart, { ...setup, fromPlan: { sha256, file: 'x' } }],
      [IpcChannel.ceremonyStart, { ...setup, fromPlan: { sha256: sha256.slice(1) } }],
    ] as const) {
      const r = await handlers[channel]([bad]);
      expect(r.ok ? 'accepted' : r.error.code, `${channel} ${JSON.stringify(bad).slice(0, 100)}`).toBe(
        'invalid-request',
      );
    }
  });

  it('refuses a PIN or passphrase of the wrong type or absurd length', async () => {
    const long = 'x'.repeat(5000);
    for (const secret of [
      { medium: 'card', reader: 'r', pin: 123456 },
      { medium: 'file', passphrase: long },
      { medium: 'card', reader: 'r', pin: '1'.repeat(40) },
      { medium: 'usb', pin: '1' },
    ]) {
      const r = await handlers[IpcChannel.sharesWrite]([{ shareIndex: 1, secret }]);
      expect(r.ok ? 'accepted' : r.error.code).toBe('invalid-request');
    }
  });

  it('takes the head hash typed for the record check strictly, and opens the record with no argument (issue 11)', async () => {
    for (const bad of [{ head: 1234 }, { head: null }, { head: 'ab'.repeat(200) }, { head: 'ab', extra: 1 }, {}]) {
      const r = await handlers[IpcChannel.recordCheckCompareHead]([bad]);
      expect(r.ok ? 'accepted' : r.error.code, JSON.stringify(bad).slice(0, 60)).toBe('invalid-request');
    }
    const open = await handlers[IpcChannel.recordCheckOpen](['/etc/passwd']);
    expect(open.ok ? 'accepted' : open.error.code).toBe('invalid-request');
    const api = buildApi(async (channel, ...args) => ({ ok: true, value: [channel, args] }));
    expect(await api.recordCheck.compareHead({ head: 'ab' })).toEqual({
      ok: true,
      value: ['record-check:compare-head', [{ head: 'ab' }]],
    });
    expect(await api.recordCheck.open()).toEqual({ ok: true, value: ['record-check:open', []] });
  });

  it('takes the re-share’s new set and new shares strictly (issue 11, ceremony 2)', async () => {
    const custodians = [{ name: 'Alice', medium: 'file' }];
    for (const bad of [
      { operator: 'o', threshold: 2, custodians: [] },
      { operator: 'o', threshold: 2, custodians: 'Alice' },
      { operator: 'o', threshold: 0, custodians },
      { operator: 'o', threshold: 2.5, custodians },
      { operator: 1, threshold: 2, custodians },
      { operator: 'o', threshold: 2, custodians: [{ name: 'A', medium: 'usb' }] },
      { operator: 'o', threshold: 2, custodians: [{ name: 'A', medium: 'file', extra: 1 }] },
      { operator: 'o', threshold: 2, custodians: Array(256).fill(custodians[0]) },
      { threshold: 2, custodians },
    ]) {
      const r = await handlers[IpcChannel.resharePlan]([bad]);
      expect(r.ok ? 'accepted' : r.error.code, JSON.stringify(bad).slice(0, 80)).toBe('invalid-request');
    }
    for (const bad of [{ shareIndex: 0, secret: { medium: 'file', passphrase: 'p' } }, { shareIndex: 1 }]) {
      const r = await handlers[IpcChannel.reshareSetNewShare]([bad]);
      expect(r.ok ? 'accepted' : r.error.code).toBe('invalid-request');
    }
    const api = buildApi(async (channel, ...args) => ({ ok: true, value: [channel, args] }));
    expect(await api.reshare.plan({ operator: 'o', threshold: 1, custodians: [] })).toEqual({
      ok: true,
      value: ['reshare:plan', [{ operator: 'o', threshold: 1, custodians: [] }]],
    });
    expect(await api.reshare.issue()).toEqual({ ok: true, value: ['reshare:issue', []] });
  });
});

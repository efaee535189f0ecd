// The IPC handlers, without Electron: for each channel of the contract
// (src/shared/ipc.ts), (1) validate the raw arguments, (2) call the ceremony
// session in src/core, (3) answer with an IpcResult holding the view of what
// core returned (views.ts), never a thrown error.
//
// ipc.ts registers these with ipcMain after checking the sender; the
// end-to-end tests serve the very same functions to the renderer through a
// test-only bridge (test/e2e/bridge), which is why this file must not import
// Electron.
import type { CeremonySession } from '../core/ceremony/session.js';
import type { RecoverySession } from '../core/ceremony/recovery-session.js';
import type { RotationSession } from '../core/ceremony/rotation-session.js';
import type { UnitsBundleSession } from '../core/ceremony/units-bundle-session.js';
import type { UnitsReportSession } from '../core/ceremony/units-report-session.js';
import type { CardWizard } from '../core/ceremony/card-desk.js';
import type { LaterPapersSource } from '../core/ceremony/later-papers.js';
import { CeremonyError, missingCase } from '../core/errors.js';
import {
  LATER_WIZARDS,
  IpcChannel,
  type LaterWizard,
  type AppInfo,
  type CeremonyMode,
  type CeremonySetup,
  type IpcContract,
  type IpcError,
  type IpcResponse,
  type Medium,
  type PapersScriptRequest,
  type PlanRef,
  type ResharePlanRequest,
  type RotationPlanRequest,
  type SecretInput,
  type SetupReasons,
} from '../shared/ipc.js';
import type { SetupUnit } from '../core/ceremony/setup-file.js';
import {
  bundleCheckedView,
  cardsView,
  ceremonyView,
  interruptedView,
  planFileView,
  planOpenedView,
  planSavedView,
  papersPlanOpenedView,
  headComparisonView,
  recordCheckView,
  recordView,
  reshareView,
  shareCheckView,
} from './views.js';
import { recoveryView, rotationView } from './views.js';
import { unitsBundleView, unitsReportView } from './views.js';

export interface HandlerContext {
  readonly session: CeremonySession;
  /** The recovery wizard (issue 11, ceremony 1); without it, its channels answer that it is not available. */
  readonly recovery?: RecoverySession;
  /** The rotation wizard (issue 11, ceremony 4); without it, its channels answer that it is not available. */
  readonly rotation?: RotationSession;
  /** The admin-change and zeroize wizard (issue 11, ceremonies 3 and 5); without it, its channels answer that it is not available. */
  readonly unitsBundle?: UnitsBundleSession;
  readonly unitsReport?: UnitsReportSession;
  appInfo(): AppInfo;
  /** Where unexpected failures (bugs) are reported; never gets a secret. */
  reportBug(channel: string, error: unknown): void;
}

/** A request that does not match the contract; its message names what is wrong. */
export class InvalidIpcRequest extends Error {
  override readonly name = 'InvalidIpcRequest';
}

type Parser<C extends IpcChannel> = (args: readonly unknown[]) => IpcContract[C]['request'];
type Call<C extends IpcChannel> = (
  request: IpcContract[C]['request'],
) => Promise<IpcContract[C]['result']> | IpcContract[C]['result'];

export type Handlers = { readonly [C in IpcChannel]: (args: readonly unknown[]) => Promise<IpcResponse<C>> };

export function createHandlers(ctx: HandlerContext): Handlers {
  const s = ctx.session;
  function h<C extends IpcChannel>(
    channel: C,
    parse: Parser<C>,
    call: Call<C>,
  ): (args: readonly unknown[]) => Promise<IpcResponse<C>> {
    return async (args) => {
      try {
        const request = parse(args);
        return { ok: true, value: await call(request) };
      } catch (error) {
        return { ok: false, error: toIpcError(channel, error, ctx) };
      }
    };
  }
  const none = (args: readonly unknown[]): undefined => noArgument(args);
  const recovery = (): RecoverySession => {
    if (!ctx.recovery) throw new CeremonyError('WrongStep', 'Recovery is not available in this window.');
    return ctx.recovery;
  };
  const rotation = (): RotationSession => {
    if (!ctx.rotation) throw new CeremonyError('WrongStep', 'Rotation is not available in this window.');
    return ctx.rotation;
  };
  const secretOnly = (a: readonly unknown[]): { secret: SecretInput } => {
    const o = record(one(a), ['secret']);
    return { secret: parseSecret(o['secret']) };
  };
  const unitsBundle = (): UnitsBundleSession => {
    if (!ctx.unitsBundle)
      throw new CeremonyError('WrongStep', 'Admin change and zeroize are not available in this window.');
    return ctx.unitsBundle;
  };
  /**
   * A later wizard's session (issue 11): its papers (what it holds, through one desk), and as its card care sees it
   * (its record's mode, production before one opens, and its record).
   */
  const laterSession = (wizard: LaterWizard): LaterPapersSource & CardWizard => {
    switch (wizard) {
      case 'recovery':
        return recovery();
      case 'reshare':
        return s.reshare;
      case 'rotation':
        return rotation();
      case 'units-bundle':
        return unitsBundle();
      default:
        return missingCase(wizard);
    }
  };
  const ub = unitsBundleView;
  const unitsReport = (): UnitsReportSession => {
    if (!ctx.unitsReport)
      throw new CeremonyError('WrongStep', 'Recording the units\u2019 report is not available in this window.');
    return ctx.unitsReport;
  };
  const ur = unitsReportView;
  return {
    [IpcChannel.appGetInfo]: h(IpcChannel.appGetInfo, none, () => ctx.appInfo()),
    [IpcChannel.ceremonyState]: h(IpcChannel.ceremonyState, none, () => ceremonyView(s.initial.snapshot())),
    [IpcChannel.ceremonyStart]: h(
      IpcChannel.ceremonyStart,
      (a) => parseStart(one(a)),
      async ({ fromPlan, mode, ...setup }) => ceremonyView(await s.initial.start(setup, fromPlan, mode)),
    ),
    [IpcChannel.planSave]: h(
      IpcChannel.planSave,
      (a) => parsePlanForm(one(a), ['fromPlan']),
      async (r) => planSavedView(await s.savePlan(r.setup, planUnits(r.units), r.fromPlan)),
    ),
    [IpcChannel.planOpen]: h(IpcChannel.planOpen, none, async () => planOpenedView(await s.openPlan())),
    [IpcChannel.planPrintScript]: h(
      IpcChannel.planPrintScript,
      (a) => parsePlanForm(one(a), ['fromPlan']),
      (r) => s.printPlanScript(r.setup, planUnits(r.units), r.fromPlan),
    ),
    [IpcChannel.papersPrintScript]: h(
      IpcChannel.papersPrintScript,
      (a) => parsePapersScript(one(a)),
      (r) => s.papers.printScript(laterSession(r.wizard).papersFacts(r.thresholds), r.names),
    ),
    [IpcChannel.papersSavePlan]: h(
      IpcChannel.papersSavePlan,
      (a) => parsePapersScript(one(a)),
      async (r) => planFileView(await s.papers.savePlan(laterSession(r.wizard).papersFacts(r.thresholds), r.names)),
    ),
    [IpcChannel.papersOpenPlan]: h(
      IpcChannel.papersOpenPlan,
      (a) => ({ wizard: laterWizard(record(one(a), ['wizard'])['wizard']) }),
      async (r) => papersPlanOpenedView(await s.papers.openPlan(laterSession(r.wizard).papersFacts())),
    ),
    [IpcChannel.papersPrintReport]: h(
      IpcChannel.papersPrintReport,
      (a) => {
        const o = record(one(a), ['wizard', 'witnesses']);
        return { wizard: laterWizard(o['wizard']), witnesses: parseNames(o['witnesses'], 'The witnesses') };
      },
      (r) => s.papers.printReport(laterSession(r.wizard).reportRecordPath(), r.witnesses),
    ),
    [IpcChannel.ceremonyAbandon]: h(IpcChannel.ceremonyAbandon, none, async () =>
      ceremonyView(await s.initial.abandon()),
    ),
    [IpcChannel.recoveryState]: h(IpcChannel.recoveryState, none, () => recoveryView(recovery().snapshot())),
    [IpcChannel.recoveryOpenRecord]: h(
      IpcChannel.recoveryOpenRecord,
      (a) => {
        const o = record(one(a), ['paperHead']);
        const head = o['paperHead'];
        return { paperHead: head === null ? null : text(head, 'The paper report\u2019s head hash') };
      },
      async (r) => recoveryView(await recovery().openRecord(r.paperHead)),
    ),
    [IpcChannel.recoveryAddTransport]: h(IpcChannel.recoveryAddTransport, none, async () =>
      recoveryView(await recovery().addTransport()),
    ),
    [IpcChannel.recoveryUseRehearsalUnits]: h(IpcChannel.recoveryUseRehearsalUnits, none, async () =>
      recoveryView(await recovery().useRehearsalUnits()),
    ),
    [IpcChannel.recoveryLoadRehearsalUnits]: h(IpcChannel.recoveryLoadRehearsalUnits, none, async () =>
      recoveryView(await recovery().loadIntoRehearsalUnits()),
    ),
    [IpcChannel.recoveryConfirmUnit]: h(
      IpcChannel.recoveryConfirmUnit,
      (a) => parseUnitId(one(a)),
      async (r) => recoveryView(await recovery().confirmUnit(r.unitId)),
    ),
    [IpcChannel.recoveryUnitsDone]: h(IpcChannel.recoveryUnitsDone, none, async () =>
      recoveryView(await recovery().unitsDone()),
    ),
    [IpcChannel.recoveryAddAdmin]: h(IpcChannel.recoveryAddAdmin, none, async () =>
      recoveryView(await recovery().addAdminCertificate()),
    ),
    [IpcChannel.recoveryRemoveAdmin]: h(
      IpcChannel.recoveryRemoveAdmin,
      (a) => {
        const o = record(one(a), ['adminIndex']);
        return { adminIndex: integer(o['adminIndex'], 'adminIndex', 0, 255) };
      },
      async (r) => recoveryView(await recovery().removeAdmin(r.adminIndex)),
    ),
    [IpcChannel.recoverySetThresholds]: h(
      IpcChannel.recoverySetThresholds,
      (a) => {
        const o = record(one(a), ['signatureThreshold', 'revocationThreshold'], 'The thresholds');
        return {
          signatureThreshold: integer(o['signatureThreshold'], 'signatureThreshold', 1, 255),
          revocationThreshold: integer(o['revocationThreshold'], 'revocationThreshold', 1, 255),
        };
      },
      async (r) => recoveryView(await recovery().setThresholds(r)),
    ),
    [IpcChannel.recoveryGiveShare]: h(
      IpcChannel.recoveryGiveShare,
      (a) => {
        const o = record(one(a), ['secret']);
        return { secret: parseSecret(o['secret']) };
      },
      async (r) => recoveryView(await recovery().presentShare(r.secret)),
    ),
    [IpcChannel.recoveryBuildBundle]: h(IpcChannel.recoveryBuildBundle, none, async () =>
      recoveryView(await recovery().buildBundle()),
    ),
    [IpcChannel.recoverySign]: h(IpcChannel.recoverySign, secretOnly, async (r) =>
      recoveryView(await recovery().sign(r.secret)),
    ),
    [IpcChannel.recoverySaveBundle]: h(IpcChannel.recoverySaveBundle, none, async () =>
      recoveryView(await recovery().saveBundle()),
    ),
    [IpcChannel.recoveryAbandon]: h(IpcChannel.recoveryAbandon, none, async () =>
      recoveryView(await recovery().abandon()),
    ),
    [IpcChannel.unitsBundleState]: h(IpcChannel.unitsBundleState, none, () => ub(unitsBundle().snapshot())),
    [IpcChannel.unitsBundleOpenRecord]: h(
      IpcChannel.unitsBundleOpenRecord,
      (a) => {
        const op = record(one(a), ['operation'])['operation'];
        if (op !== 'admin-change' && op !== 'zeroize')
          throw new InvalidIpcRequest('The operation must be "admin-change" or "zeroize".');
        return { operation: op };
      },
      async (r) => ub(await unitsBundle().openRecord(r.operation)),
    ),
    [IpcChannel.unitsBundleUseRehearsalUnits]: h(IpcChannel.unitsBundleUseRehearsalUnits, none, async () =>
      ub(await unitsBundle().useRehearsalUnits()),
    ),
    [IpcChannel.unitsBundleLoadRehearsalUnits]: h(IpcChannel.unitsBundleLoadRehearsalUnits, none, async () =>
      ub(await unitsBundle().loadIntoRehearsalUnits()),
    ),
    [IpcChannel.unitsBundleAddTransport]: h(IpcChannel.unitsBundleAddTransport, none, async () =>
      ub(await unitsBundle().addTransport()),
    ),
    [IpcChannel.unitsBundleConfirmUnit]: h(
      IpcChannel.unitsBundleConfirmUnit,
      (a) => parseUnitId(one(a)),
      async (r) => ub(await unitsBundle().confirmUnit(r.unitId)),
    ),
    [IpcChannel.unitsBundleUnitsDone]: h(IpcChannel.unitsBundleUnitsDone, none, async () =>
      ub(await unitsBundle().unitsDone()),
    ),
    [IpcChannel.unitsBundleAddAdmin]: h(IpcChannel.unitsBundleAddAdmin, none, async () =>
      ub(await unitsBundle().addAdmin()),
    ),
    [IpcChannel.unitsBundleDropAddedAdmin]: h(
      IpcChannel.unitsBundleDropAddedAdmin,
      (a) => ({ index: integer(record(one(a), ['index'])['index'], 'index', 0, 255) }),
      async (r) => ub(await unitsBundle().dropAddedAdmin(r.index)),
    ),
    [IpcChannel.unitsBundleSetRemoved]: h(
      IpcChannel.unitsBundleSetRemoved,
      (a) => {
        const o = record(one(a), ['thumbprint', 'removed']);
        if (typeof o['removed'] !== 'boolean') throw new InvalidIpcRequest('removed must be true or false.');
        return { thumbprint: text(o['thumbprint'], 'The thumbprint', 64), removed: o['removed'] };
      },
      async (r) => ub(await unitsBundle().setRemoved(r.thumbprint, r.removed)),
    ),
    [IpcChannel.unitsBundleBuildAdminChange]: h(
      IpcChannel.unitsBundleBuildAdminChange,
      (a) => {
        const o = record(one(a), ['signatureThreshold', 'revocationThreshold'], 'The thresholds');
        return {
          signatureThreshold: integer(o['signatureThreshold'], 'signatureThreshold', 1, 255),
          revocationThreshold: integer(o['revocationThreshold'], 'revocationThreshold', 1, 255),
        };
      },
      async (r) => ub(await unitsBundle().buildAdminChange(r)),
    ),
    [IpcChannel.unitsBundleBuildZeroize]: h(
      IpcChannel.unitsBundleBuildZeroize,
      (a) => ({ keyName: text(record(one(a), ['keyName'])['keyName'], 'The key name') }),
      async (r) => ub(await unitsBundle().buildZeroize(r.keyName)),
    ),
    [IpcChannel.unitsBundleSign]: h(
      IpcChannel.unitsBundleSign,
      (a) => ({ secret: parseSecret(record(one(a), ['secret'])['secret']) }),
      async (r) => ub(await unitsBundle().sign(r.secret)),
    ),
    [IpcChannel.unitsBundleSaveBundle]: h(IpcChannel.unitsBundleSaveBundle, none, async () =>
      ub(await unitsBundle().saveBundle()),
    ),
    [IpcChannel.unitsBundleAddStatus]: h(IpcChannel.unitsBundleAddStatus, none, async () =>
      ub(await unitsBundle().addStatus()),
    ),
    [IpcChannel.unitsBundleRecordDestroyed]: h(IpcChannel.unitsBundleRecordDestroyed, none, async () =>
      ub(await unitsBundle().recordDestroyed()),
    ),
    [IpcChannel.unitsBundleAbandon]: h(IpcChannel.unitsBundleAbandon, none, async () =>
      ub(await unitsBundle().abandon()),
    ),
    [IpcChannel.unitsReportState]: h(IpcChannel.unitsReportState, none, () => ur(unitsReport().snapshot())),
    [IpcChannel.unitsReportOpenRecord]: h(IpcChannel.unitsReportOpenRecord, none, async () =>
      ur(await unitsReport().openRecord()),
    ),
    [IpcChannel.unitsReportOpenNewRecord]: h(IpcChannel.unitsReportOpenNewRecord, none, async () =>
      ur(await unitsReport().openNewRecord()),
    ),
    [IpcChannel.unitsReportDropNewRecord]: h(IpcChannel.unitsReportDropNewRecord, none, async () =>
      ur(await unitsReport().dropNewRecord()),
    ),
    [IpcChannel.unitsReportAddStatus]: h(IpcChannel.unitsReportAddStatus, none, async () =>
      ur(await unitsReport().addStatus()),
    ),
    [IpcChannel.unitsReportAddRehearsalStatus]: h(IpcChannel.unitsReportAddRehearsalStatus, none, async () =>
      ur(await unitsReport().addRehearsalStatus()),
    ),
    [IpcChannel.unitsReportRecord]: h(IpcChannel.unitsReportRecord, none, async () => ur(await unitsReport().record())),
    [IpcChannel.unitsReportAbandon]: h(IpcChannel.unitsReportAbandon, none, async () =>
      ur(await unitsReport().abandon()),
    ),
    [IpcChannel.recoveryStartFromPaper]: h(
      IpcChannel.recoveryStartFromPaper,
      (a) => {
        const o = record(one(a), ['keyName', 'kcv', 'verificationPattern', 'headHash']);
        return {
          keyName: text(o['keyName'], 'The key name'),
          kcv: text(o['kcv'], 'The paper report\u2019s KCV'),
          verificationPattern: text(o['verificationPattern'], 'The paper report\u2019s verification pattern'),
          headHash: text(o['headHash'], 'The paper report\u2019s head hash'),
        };
      },
      async (r) => recoveryView(await recovery().startFromPaper(r)),
    ),
    [IpcChannel.recoveryConfirmUnitOnScreen]: h(
      IpcChannel.recoveryConfirmUnitOnScreen,
      (a) => parseUnitId(one(a)),
      async (r) => recoveryView(await recovery().confirmUnitOnScreen(r.unitId)),
    ),
    [IpcChannel.unitsAddTransport]: h(IpcChannel.unitsAddTransport, none, async () =>
      ceremonyView(await s.initial.addTransport()),
    ),
    [IpcChannel.unitsConfirm]: h(
      IpcChannel.unitsConfirm,
      (a) => parseUnitId(one(a)),
      async (r) => ceremonyView(await s.initial.confirmUnit(r.unitId)),
    ),
    [IpcChannel.unitsRemove]: h(
      IpcChannel.unitsRemove,
      (a) => parseUnitId(one(a)),
      async (r) => ceremonyView(await s.initial.removeUnit(r.unitId)),
    ),
    [IpcChannel.unitsUseRehearsal]: h(IpcChannel.unitsUseRehearsal, none, async () =>
      ceremonyView(await s.initial.useRehearsalUnits()),
    ),
    [IpcChannel.rehearsalLoadBundle]: h(IpcChannel.rehearsalLoadBundle, none, async () =>
      ceremonyView(await s.initial.loadBundleIntoRehearsalUnits()),
    ),
    [IpcChannel.cardsList]: h(IpcChannel.cardsList, none, async () => cardsView(await s.listCards())),
    [IpcChannel.cardsListForWizard]: h(
      IpcChannel.cardsListForWizard,
      (a) => ({ wizard: laterWizard(record(one(a), ['wizard'])['wizard']) }),
      async (r) => cardsView(await s.listCards(laterSession(r.wizard).cardMode)),
    ),
    [IpcChannel.cardsPrepare]: h(
      IpcChannel.cardsPrepare,
      (a) => {
        const o = record(one(a), ['reader', 'pin', 'newPin', 'newPuk'], 'The request', ['wizard']);
        return {
          reader: text(o['reader'], 'The reader name'),
          pin: text(o['pin'], 'The PIN', 16),
          newPin: text(o['newPin'], 'The new PIN', 16),
          newPuk: text(o['newPuk'], 'The new PUK', 16),
          wizard: o['wizard'] === undefined ? undefined : laterWizard(o['wizard']),
        };
      },
      async (r) =>
        cardsView(await s.prepareCard(r.reader, r.pin, r.newPin, r.newPuk, r.wizard && laterSession(r.wizard))),
    ),
    [IpcChannel.cardsUnblock]: h(
      IpcChannel.cardsUnblock,
      (a) => {
        const o = record(one(a), ['reader', 'puk', 'newPin'], 'The request', ['wizard']);
        return {
          reader: text(o['reader'], 'The reader name'),
          puk: text(o['puk'], 'The PUK', 16),
          newPin: text(o['newPin'], 'The new PIN', 16),
          wizard: o['wizard'] === undefined ? undefined : laterWizard(o['wizard']),
        };
      },
      async (r) => cardsView(await s.unblockPin(r.reader, r.puk, r.newPin, r.wizard && laterSession(r.wizard))),
    ),
    [IpcChannel.adminsCreateIdentity]: h(
      IpcChannel.adminsCreateIdentity,
      (a) => {
        const o = one(a);
        // replaceSlot: the owner typed their name to agree to replace what slot 9C holds (issue 9).
        if (typeof o === 'object' && o !== null && 'replaceSlot' in o) {
          const { replaceSlot, ...rest } = o as Record<string, unknown>;
          const r = record(replaceSlot, ['ownerName'], 'replaceSlot');
          return {
            ...parseIndexed(rest, 'adminIndex', 0),
            replaceSlot: { ownerName: text(r['ownerName'], 'The owner name') },
          };
        }
        return parseIndexed(o, 'adminIndex', 0);
      },
      async (r) =>
        ceremonyView(
          await s.initial.createIdentity(r.adminIndex, r.secret, 'replaceSlot' in r ? r.replaceSlot : undefined),
        ),
    ),
    [IpcChannel.adminsUseIdentityFile]: h(
      IpcChannel.adminsUseIdentityFile,
      (a) => {
        const o = record(one(a), ['adminIndex', 'passphrase']);
        return {
          adminIndex: integer(o['adminIndex'], 'adminIndex', 0, 255),
          passphrase: text(o['passphrase'], 'The passphrase', MAX_SECRET),
        };
      },
      async (r) => ceremonyView(await s.initial.useIdentityFile(r.adminIndex, r.passphrase)),
    ),
    [IpcChannel.masterKeyGenerate]: h(IpcChannel.masterKeyGenerate, none, async () =>
      ceremonyView(await s.initial.generateMasterKey()),
    ),
    [IpcChannel.sharesWrite]: h(
      IpcChannel.sharesWrite,
      (a) => parseIndexed(one(a), 'shareIndex', 1),
      async (r) => ceremonyView(await s.initial.writeShare(r.shareIndex, r.secret)),
    ),
    [IpcChannel.sharesVerify]: h(
      IpcChannel.sharesVerify,
      (a) => parseIndexed(one(a), 'shareIndex', 1),
      async (r) => ceremonyView(await s.initial.verifyShare(r.shareIndex, r.secret)),
    ),
    [IpcChannel.sharesConfirm]: h(
      IpcChannel.sharesConfirm,
      (a) => {
        const o = record(one(a), ['shareIndex']);
        return { shareIndex: integer(o['shareIndex'], 'shareIndex', 1, 255) };
      },
      async (r) => ceremonyView(await s.initial.confirmShare(r.shareIndex)),
    ),
    [IpcChannel.bundleBuild]: h(IpcChannel.bundleBuild, none, async () => ceremonyView(await s.initial.buildBundle())),
    [IpcChannel.bundleSign]: h(
      IpcChannel.bundleSign,
      (a) => parseIndexed(one(a), 'adminIndex', 0),
      async (r) => ceremonyView(await s.initial.signBundle(r.adminIndex, r.secret)),
    ),
    [IpcChannel.bundleSave]: h(IpcChannel.bundleSave, none, async () => ceremonyView(await s.initial.saveBundle())),
    [IpcChannel.ceremonyClose]: h(IpcChannel.ceremonyClose, none, async () => ceremonyView(await s.initial.close())),
    [IpcChannel.recordSave]: h(IpcChannel.recordSave, none, async () => ceremonyView(await s.initial.saveRecord())),
    [IpcChannel.recordPrint]: h(IpcChannel.recordPrint, none, () => s.initial.printRecord()),
    [IpcChannel.recordListInterrupted]: h(IpcChannel.recordListInterrupted, none, () =>
      s.interruptedRecords().map(interruptedView),
    ),
    [IpcChannel.recordSaveInterrupted]: h(
      IpcChannel.recordSaveInterrupted,
      (a) => {
        const o = record(one(a), ['ceremonyId']);
        return { ceremonyId: text(o['ceremonyId'], 'The ceremony id') };
      },
      async (r) => (await s.saveInterruptedRecord(r.ceremonyId)).map(interruptedView),
    ),
    [IpcChannel.checkOpenRecord]: h(IpcChannel.checkOpenRecord, none, async () =>
      recordView(await s.openRecordForCheck()),
    ),
    [IpcChannel.checkShare]: h(
      IpcChannel.checkShare,
      (a) => {
        const o = record(one(a), ['secret']);
        return { secret: parseSecret(o['secret']) };
      },
      async (r) => shareCheckView(await s.checkShare(r.secret)),
    ),
    [IpcChannel.recordCheckOpen]: h(IpcChannel.recordCheckOpen, none, async () =>
      recordCheckView(await s.recordCheck.open()),
    ),
    [IpcChannel.recordCheckOpenBundle]: h(IpcChannel.recordCheckOpenBundle, none, async () =>
      bundleCheckedView(await s.recordCheck.openBundle()),
    ),
    [IpcChannel.recordCheckPrintReport]: h(IpcChannel.recordCheckPrintReport, none, () => s.recordCheck.printReport()),
    [IpcChannel.recordCheckCompareHead]: h(
      IpcChannel.recordCheckCompareHead,
      (a) => {
        const o = record(one(a), ['head']);
        // 64 hex digits, grouped by spaces as the report prints them, fit well within the bound.
        return { head: text(o['head'], 'The head hash', MAX_TEXT) };
      },
      (r) => headComparisonView(s.recordCheck.compareHead(r.head)),
    ),
    [IpcChannel.reshareState]: h(IpcChannel.reshareState, none, () => reshareView(s.reshare.snapshot())),
    [IpcChannel.reshareOpenRecord]: h(IpcChannel.reshareOpenRecord, none, async () =>
      reshareView(await s.reshare.openRecord()),
    ),
    [IpcChannel.reshareBringShare]: h(
      IpcChannel.reshareBringShare,
      (a) => {
        const o = record(one(a), ['secret']);
        return { secret: parseSecret(o['secret']) };
      },
      async (r) => reshareView(await s.reshare.bringShare(r.secret)),
    ),
    [IpcChannel.resharePlan]: h(
      IpcChannel.resharePlan,
      (a) => parseResharePlan(one(a)),
      async (r) => reshareView(await s.reshare.planNewSet(r)),
    ),
    [IpcChannel.reshareSetNewShare]: h(
      IpcChannel.reshareSetNewShare,
      (a) => parseIndexed(one(a), 'shareIndex', 1),
      async (r) => reshareView(await s.reshare.setNewShare(r.shareIndex, r.secret)),
    ),
    [IpcChannel.reshareIssue]: h(IpcChannel.reshareIssue, none, async () => reshareView(await s.reshare.issue())),
    [IpcChannel.reshareCancel]: h(IpcChannel.reshareCancel, none, () => reshareView(s.reshare.cancel())),
    [IpcChannel.rotationState]: h(IpcChannel.rotationState, none, () => rotationView(rotation().snapshot())),
    [IpcChannel.rotationOpenRecord]: h(IpcChannel.rotationOpenRecord, none, async () =>
      rotationView(await rotation().openRecord()),
    ),
    [IpcChannel.rotationAddTransport]: h(IpcChannel.rotationAddTransport, none, async () =>
      rotationView(await rotation().addTransport()),
    ),
    [IpcChannel.rotationUseRehearsalUnits]: h(IpcChannel.rotationUseRehearsalUnits, none, async () =>
      rotationView(await rotation().useRehearsalUnits()),
    ),
    [IpcChannel.rotationLoadRehearsalUnits]: h(IpcChannel.rotationLoadRehearsalUnits, none, async () =>
      rotationView(await rotation().loadIntoRehearsalUnits()),
    ),
    [IpcChannel.rotationConfirmUnit]: h(
      IpcChannel.rotationConfirmUnit,
      (a) => parseUnitId(one(a)),
      async (r) => rotationView(await rotation().confirmUnit(r.unitId)),
    ),
    [IpcChannel.rotationUnitsDone]: h(IpcChannel.rotationUnitsDone, none, async () =>
      rotationView(await rotation().unitsDone()),
    ),
    [IpcChannel.rotationPlan]: h(
      IpcChannel.rotationPlan,
      (a) => parseRotationPlan(one(a)),
      async (r) => rotationView(await rotation().planNewKey(r)),
    ),
    [IpcChannel.rotationReplan]: h(IpcChannel.rotationReplan, none, async () =>
      rotationView(await rotation().replan()),
    ),
    [IpcChannel.rotationSetNewShare]: h(
      IpcChannel.rotationSetNewShare,
      (a) => parseIndexed(one(a), 'shareIndex', 1),
      async (r) => rotationView(await rotation().setNewShare(r.shareIndex, r.secret)),
    ),
    [IpcChannel.rotationGenerate]: h(IpcChannel.rotationGenerate, none, async () =>
      rotationView(await rotation().generate()),
    ),
    [IpcChannel.rotationPresentShare]: h(IpcChannel.rotationPresentShare, secretOnly, async (r) =>
      rotationView(await rotation().presentShare(r.secret)),
    ),
    [IpcChannel.rotationBuildBundle]: h(IpcChannel.rotationBuildBundle, none, async () =>
      rotationView(await rotation().buildBundle()),
    ),
    [IpcChannel.rotationSign]: h(IpcChannel.rotationSign, secretOnly, async (r) =>
      rotationView(await rotation().sign(r.secret)),
    ),
    [IpcChannel.rotationSaveBundle]: h(IpcChannel.rotationSaveBundle, none, async () =>
      rotationView(await rotation().saveBundle()),
    ),
    [IpcChannel.rotationReportUnits]: h(IpcChannel.rotationReportUnits, none, async () =>
      rotationView(await rotation().reportUnits()),
    ),
    [IpcChannel.rotationCancel]: h(IpcChannel.rotationCancel, none, async () =>
      rotationView(await rotation().cancel()),
    ),
  };
}

function toIpcError(channel: string, error: unknown, ctx: HandlerContext): IpcError {
  if (error instanceof InvalidIpcRequest) return { code: 'invalid-request', message: error.message };
  if (error instanceof CeremonyError) {
    // Core messages are plain sentences that never hold a secret.
    return { code: error.code, message: error.message, details: { ...error.details } };
  }
  ctx.reportBug(channel, error);
  return {
    code: 'internal',
    message:
      'Something failed unexpectedly inside Key Ceremony (a bug); nothing was lost, and the details were written to its error output.',
  };
}

// ---------------------------------------------------------------------------
// Validation. Everything from the renderer is untrusted: exact shapes only.

const MAX_TEXT = 256;
const MAX_SECRET = 1024;
/** The longest reason the set-up may give (SETUP.json's limit, src/core/ceremony/roster.ts REASON_MAX). */
const MAX_REASON = 1000;
/** More units than a plan may name (SETUP.json's limit is 16) are refused by core, by the member; this only bounds the request. */
const MAX_PLAN_UNITS = 64;
/** A script's witnesses (SETUP.json's limit, src/core/ceremony/setup-file.ts MAX_WITNESSES). */
const MAX_WITNESSES = 16;

function noArgument(args: readonly unknown[]): undefined {
  if (args.length !== 0) throw new InvalidIpcRequest(`This call takes no argument, but received ${args.length}.`);
  return undefined;
}

function one(args: readonly unknown[]): unknown {
  if (args.length !== 1) throw new InvalidIpcRequest(`This call takes one argument, but received ${args.length}.`);
  return args[0];
}

/** A plain object with exactly `keys`, and `optional` ones if present; nothing else. */
function record(
  value: unknown,
  keys: readonly string[],
  what = 'The request',
  optional: readonly string[] = [],
): Record<string, unknown> {
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.getPrototypeOf(value) !== Object.prototype
  ) {
    throw new InvalidIpcRequest(`${what} must be a plain object.`);
  }
  const o = value as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !keys.includes(k) && !optional.includes(k));
  if (extra.length > 0) throw new InvalidIpcRequest(`${what} has unexpected fields: ${extra.join(', ')}.`);
  const missing = keys.filter((k) => !(k in o));
  if (missing.length > 0) throw new InvalidIpcRequest(`${what} lacks ${missing.join(', ')}.`);
  return o;
}

function text(value: unknown, what: string, max = MAX_TEXT): string {
  if (typeof value !== 'string') throw new InvalidIpcRequest(`${what} must be text.`);
  if (value.length > max) throw new InvalidIpcRequest(`${what} is longer than ${max} characters.`);
  return value;
}

function integer(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidIpcRequest(`${what} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

function list<T>(value: unknown, what: string, max: number, item: (v: unknown, i: number) => T): T[] {
  if (!Array.isArray(value)) throw new InvalidIpcRequest(`${what} must be a list.`);
  if (value.length > max) throw new InvalidIpcRequest(`${what} has more than ${max} entries.`);
  return value.map(item);
}

function medium(value: unknown, what: string): Medium {
  if (value !== 'card' && value !== 'file') throw new InvalidIpcRequest(`${what} must be "card" or "file".`);
  return value;
}

const SETUP_KEYS = [
  'ceremonyName',
  'keyName',
  'threshold',
  'signatureThreshold',
  'revocationThreshold',
  'operator',
  'admins',
  'custodians',
  'witnesses',
  'reasons',
] as const;

function laterWizard(value: unknown): LaterWizard {
  if (!(LATER_WIZARDS as readonly unknown[]).includes(value))
    throw new InvalidIpcRequest(`wizard must be one of ${LATER_WIZARDS.map((w) => `"${w}"`).join(', ')}.`);
  return value as LaterWizard;
}

function parseNames(value: unknown, what: string): string[] {
  return list(value, what, MAX_WITNESSES, (v, i) => text(v, `${what}: name ${i + 1}`));
}

/** A later wizard's script or plan: the wizard, the names typed, and (an admin change) the thresholds typed. */
function parsePapersScript(value: unknown): PapersScriptRequest {
  const o = record(value, ['wizard', 'names'], 'The request', ['thresholds']);
  const n = record(o['names'], ['operator', 'witnesses'], 'The names', ['ceremonyName']);
  const t =
    o['thresholds'] === undefined
      ? undefined
      : record(o['thresholds'], ['signatureThreshold', 'revocationThreshold'], 'The thresholds');
  return {
    wizard: laterWizard(o['wizard']),
    names: {
      operator: text(n['operator'], 'The operator name'),
      witnesses: parseNames(n['witnesses'], 'The witnesses'),
      ...(n['ceremonyName'] !== undefined ? { ceremonyName: text(n['ceremonyName'], 'The ceremony name') } : {}),
    },
    ...(t !== undefined
      ? {
          thresholds: {
            signatureThreshold: integer(t['signatureThreshold'], 'The signature threshold', 1, 255),
            revocationThreshold: integer(t['revocationThreshold'], 'The revocation threshold', 1, 255),
          },
        }
      : {}),
  };
}

/** Start's request: the set-up, and the plan it was filled from, if any. */
function parseStart(value: unknown): CeremonySetup & { fromPlan?: PlanRef; mode?: CeremonyMode } {
  const o = record(value, SETUP_KEYS, 'The ceremony set-up', ['fromPlan', 'mode']);
  const { fromPlan, mode, ...setup } = o;
  return {
    ...parseSetup(setup),
    ...(fromPlan !== undefined ? { fromPlan: parsePlanRef(fromPlan) } : {}),
    ...(mode !== undefined ? { mode: parseMode(mode) } : {}),
  };
}

/** A ceremony's mode (issue 11): exactly "production" or "rehearsal". */
function parseMode(value: unknown): CeremonyMode {
  if (value !== 'production' && value !== 'rehearsal')
    throw new InvalidIpcRequest('mode must be "production" or "rehearsal".');
  return value;
}

/** A plan names a file by its SHA-256: 64 lowercase hex digits. */
function parsePlanRef(value: unknown): PlanRef {
  const o = record(value, ['sha256'], 'fromPlan');
  const sha256 = text(o['sha256'], 'fromPlan.sha256', 64);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new InvalidIpcRequest('fromPlan.sha256 must be 64 lowercase hex digits.');
  return { sha256 };
}

/** The plan's form: the set-up and the units; `optional` members as the channel allows. */
function parsePlanForm(
  value: unknown,
  optional: readonly 'fromPlan'[],
): { setup: CeremonySetup; units: { id: string; transportFingerprint: string | null }[]; fromPlan?: PlanRef } {
  const o = record(value, ['setup', 'units'], 'The plan', optional);
  return {
    setup: parseSetup(o['setup']),
    units: list(o['units'], 'The units', MAX_PLAN_UNITS, (v, i) => {
      const u = record(v, ['id', 'transportFingerprint'], `Unit ${i + 1}`);
      const fp = u['transportFingerprint'];
      return {
        id: text(u['id'], `Unit ${i + 1}'s id`),
        transportFingerprint: fp === null ? null : text(fp, `Unit ${i + 1}'s transport key fingerprint`),
      };
    }),
    ...(o['fromPlan'] !== undefined ? { fromPlan: parsePlanRef(o['fromPlan']) } : {}),
  };
}

/** The units as core takes them: a fingerprint not yet known is left out. */
function planUnits(units: readonly { id: string; transportFingerprint: string | null }[]): SetupUnit[] {
  return units.map((u) => ({
    id: u.id,
    ...(u.transportFingerprint !== null ? { transportFingerprint: u.transportFingerprint } : {}),
  }));
}

function parseSetup(value: unknown): CeremonySetup {
  const o = record(value, SETUP_KEYS, 'The ceremony set-up');
  const participant = (role: string) => (v: unknown, i: number) => {
    const p = record(v, ['name', 'medium'], `${role} ${i + 1}`);
    return {
      name: text(p['name'], `${role} ${i + 1}'s name`),
      medium: medium(p['medium'], `${role} ${i + 1}'s medium`),
    };
  };
  return {
    ceremonyName: text(o['ceremonyName'], 'The ceremony name'),
    keyName: text(o['keyName'], 'The key name'),
    threshold: integer(o['threshold'], 'The threshold', 1, 255),
    signatureThreshold: integer(o['signatureThreshold'], 'The signature threshold', 1, 255),
    revocationThreshold: integer(o['revocationThreshold'], 'The revocation threshold', 1, 255),
    operator: text(o['operator'], 'The operator name'),
    admins: list(o['admins'], 'The admins', 255, participant('Admin')),
    custodians: list(o['custodians'], 'The custodians', 255, participant('Custodian')),
    witnesses: list(o['witnesses'], 'The witnesses', 255, (v, i) => text(v, `Witness ${i + 1}'s name`)),
    reasons: parseReasons(o['reasons']),
  };
}

/** Separation-of-duties reasons (issue 11): a plain object holding only the reasons that apply. */
function parseReasons(value: unknown): SetupReasons {
  const o = record(value, [], 'The set-up\u2019s reasons', ['custodianIsAdmin', 'signatureThresholdOne']);
  const reason = (key: keyof SetupReasons, what: string): string | undefined =>
    o[key] === undefined ? undefined : text(o[key], what, MAX_REASON);
  const custodianIsAdmin = reason('custodianIsAdmin', 'The reason a custodian is also an admin');
  const signatureThresholdOne = reason('signatureThresholdOne', 'The reason for a signature threshold of 1');
  return {
    ...(custodianIsAdmin !== undefined ? { custodianIsAdmin } : {}),
    ...(signatureThresholdOne !== undefined ? { signatureThresholdOne } : {}),
  };
}

function parseUnitId(value: unknown): { unitId: string } {
  const o = record(value, ['unitId']);
  return { unitId: text(o['unitId'], 'The unit id') };
}

function parseSecret(value: unknown): SecretInput {
  if (typeof value !== 'object' || value === null) throw new InvalidIpcRequest('The secret must be an object.');
  const m = medium((value as { medium?: unknown }).medium, 'The secret\u2019s medium');
  if (m === 'file') {
    const o = record(value, ['medium', 'passphrase'], 'The secret');
    return { medium: 'file', passphrase: text(o['passphrase'], 'The passphrase', MAX_SECRET) };
  }
  const o = record(value, ['medium', 'reader', 'pin'], 'The secret');
  return { medium: 'card', reader: text(o['reader'], 'The reader name'), pin: text(o['pin'], 'The PIN', 16) };
}

function parseIndexed<K extends 'adminIndex' | 'shareIndex'>(
  value: unknown,
  key: K,
  min: number,
): { [P in K]: number } & { secret: SecretInput } {
  const o = record(value, [key, 'secret']);
  return { [key]: integer(o[key], key, min, 255), secret: parseSecret(o['secret']) } as { [P in K]: number } & {
    secret: SecretInput;
  };
}

/** The new set of a re-share: at most 255 custodians (Shamir over GF(256)); names and K' checked by core. */
function parseResharePlan(value: unknown): ResharePlanRequest {
  const o = record(value, ['operator', 'threshold', 'custodians'], 'The new set');
  const list = o['custodians'];
  if (!Array.isArray(list) || list.length === 0 || list.length > 255)
    throw new InvalidIpcRequest('The new custodians must be a list of 1 to 255.');
  return {
    operator: text(o['operator'], 'The operator'),
    threshold: integer(o['threshold'], 'threshold', 1, 255),
    custodians: list.map((v: unknown, i) => {
      const c = record(v, ['name', 'medium'], `New custodian ${i + 1}`);
      return {
        name: text(c['name'], `New custodian ${i + 1}\u2019s name`),
        medium: medium(c['medium'], `New custodian ${i + 1}\u2019s medium`),
      };
    }),
  };
}

/** The new key of a rotation: its name and operator, K and at most 255 custodians; checked further by core. */
function parseRotationPlan(value: unknown): RotationPlanRequest {
  const o = record(value, ['keyName', 'operator', 'threshold', 'custodians'], 'The new key');
  const set = parseResharePlan({ operator: o['operator'], threshold: o['threshold'], custodians: o['custodians'] });
  return { keyName: text(o['keyName'], 'The new key\u2019s name'), ...set };
}

// The API the preload script exposes to the renderer as `window.keyCeremony`.
//
// Verbs only: the renderer never receives `ipcRenderer` or any Electron object
// (Electron security checklist, "Do not expose Electron APIs to untrusted web
// content"). Each verb maps to one channel of the contract in ./ipc.ts, and
// API_VERBS is the one table of that mapping: the preload builds the API from
// it, and so does the test-only bridge, so the two cannot differ.
import { IpcChannel, type IpcContract, type IpcResult } from './ipc.js';

/** The global name under which the preload exposes the API. */
export const KEY_CEREMONY_API_NAME = 'keyCeremony';

/** group → verb → channel. */
export const API_VERBS = {
  app: { getInfo: IpcChannel.appGetInfo },
  ceremony: {
    state: IpcChannel.ceremonyState,
    start: IpcChannel.ceremonyStart,
    abandon: IpcChannel.ceremonyAbandon,
    close: IpcChannel.ceremonyClose,
    saveRecord: IpcChannel.recordSave,
    printRecord: IpcChannel.recordPrint,
  },
  recovery: {
    state: IpcChannel.recoveryState,
    openRecord: IpcChannel.recoveryOpenRecord,
    addTransport: IpcChannel.recoveryAddTransport,
    useRehearsalUnits: IpcChannel.recoveryUseRehearsalUnits,
    loadRehearsalUnits: IpcChannel.recoveryLoadRehearsalUnits,
    confirmUnit: IpcChannel.recoveryConfirmUnit,
    unitsDone: IpcChannel.recoveryUnitsDone,
    addAdmin: IpcChannel.recoveryAddAdmin,
    removeAdmin: IpcChannel.recoveryRemoveAdmin,
    setThresholds: IpcChannel.recoverySetThresholds,
    giveShare: IpcChannel.recoveryGiveShare,
    buildBundle: IpcChannel.recoveryBuildBundle,
    sign: IpcChannel.recoverySign,
    saveBundle: IpcChannel.recoverySaveBundle,
    abandon: IpcChannel.recoveryAbandon,
    startFromPaper: IpcChannel.recoveryStartFromPaper,
    confirmUnitOnScreen: IpcChannel.recoveryConfirmUnitOnScreen,
  },
  unitsBundle: {
    state: IpcChannel.unitsBundleState,
    openRecord: IpcChannel.unitsBundleOpenRecord,
    addTransport: IpcChannel.unitsBundleAddTransport,
    useRehearsalUnits: IpcChannel.unitsBundleUseRehearsalUnits,
    loadRehearsalUnits: IpcChannel.unitsBundleLoadRehearsalUnits,
    confirmUnit: IpcChannel.unitsBundleConfirmUnit,
    unitsDone: IpcChannel.unitsBundleUnitsDone,
    addAdmin: IpcChannel.unitsBundleAddAdmin,
    dropAddedAdmin: IpcChannel.unitsBundleDropAddedAdmin,
    setRemoved: IpcChannel.unitsBundleSetRemoved,
    buildAdminChange: IpcChannel.unitsBundleBuildAdminChange,
    buildZeroize: IpcChannel.unitsBundleBuildZeroize,
    sign: IpcChannel.unitsBundleSign,
    saveBundle: IpcChannel.unitsBundleSaveBundle,
    addStatus: IpcChannel.unitsBundleAddStatus,
    recordDestroyed: IpcChannel.unitsBundleRecordDestroyed,
    abandon: IpcChannel.unitsBundleAbandon,
  },
  unitsReport: {
    state: IpcChannel.unitsReportState,
    openRecord: IpcChannel.unitsReportOpenRecord,
    openNewRecord: IpcChannel.unitsReportOpenNewRecord,
    dropNewRecord: IpcChannel.unitsReportDropNewRecord,
    addStatus: IpcChannel.unitsReportAddStatus,
    addRehearsalStatus: IpcChannel.unitsReportAddRehearsalStatus,
    record: IpcChannel.unitsReportRecord,
    abandon: IpcChannel.unitsReportAbandon,
  },
  plan: {
    save: IpcChannel.planSave,
    open: IpcChannel.planOpen,
    printScript: IpcChannel.planPrintScript,
  },
  papers: {
    printScript: IpcChannel.papersPrintScript,
    savePlan: IpcChannel.papersSavePlan,
    openPlan: IpcChannel.papersOpenPlan,
    printReport: IpcChannel.papersPrintReport,
  },
  units: {
    addTransport: IpcChannel.unitsAddTransport,
    confirm: IpcChannel.unitsConfirm,
    remove: IpcChannel.unitsRemove,
    useRehearsal: IpcChannel.unitsUseRehearsal,
  },
  rehearsal: { loadBundle: IpcChannel.rehearsalLoadBundle },
  cards: {
    list: IpcChannel.cardsList,
    listForWizard: IpcChannel.cardsListForWizard,
    prepare: IpcChannel.cardsPrepare,
    unblock: IpcChannel.cardsUnblock,
  },
  admins: { createIdentity: IpcChannel.adminsCreateIdentity, useIdentityFile: IpcChannel.adminsUseIdentityFile },
  masterKey: { generate: IpcChannel.masterKeyGenerate },
  shares: {
    write: IpcChannel.sharesWrite,
    verify: IpcChannel.sharesVerify,
    confirm: IpcChannel.sharesConfirm,
  },
  bundle: {
    build: IpcChannel.bundleBuild,
    sign: IpcChannel.bundleSign,
    save: IpcChannel.bundleSave,
  },
  check: {
    openRecord: IpcChannel.checkOpenRecord,
    share: IpcChannel.checkShare,
  },
  recordCheck: {
    open: IpcChannel.recordCheckOpen,
    compareHead: IpcChannel.recordCheckCompareHead,
    openBundle: IpcChannel.recordCheckOpenBundle,
    printReport: IpcChannel.recordCheckPrintReport,
  },
  reshare: {
    state: IpcChannel.reshareState,
    openRecord: IpcChannel.reshareOpenRecord,
    bringShare: IpcChannel.reshareBringShare,
    plan: IpcChannel.resharePlan,
    setNewShare: IpcChannel.reshareSetNewShare,
    issue: IpcChannel.reshareIssue,
    cancel: IpcChannel.reshareCancel,
  },
  rotation: {
    state: IpcChannel.rotationState,
    openRecord: IpcChannel.rotationOpenRecord,
    addTransport: IpcChannel.rotationAddTransport,
    useRehearsalUnits: IpcChannel.rotationUseRehearsalUnits,
    loadRehearsalUnits: IpcChannel.rotationLoadRehearsalUnits,
    confirmUnit: IpcChannel.rotationConfirmUnit,
    unitsDone: IpcChannel.rotationUnitsDone,
    plan: IpcChannel.rotationPlan,
    replan: IpcChannel.rotationReplan,
    setNewShare: IpcChannel.rotationSetNewShare,
    generate: IpcChannel.rotationGenerate,
    presentShare: IpcChannel.rotationPresentShare,
    buildBundle: IpcChannel.rotationBuildBundle,
    sign: IpcChannel.rotationSign,
    saveBundle: IpcChannel.rotationSaveBundle,
    reportUnits: IpcChannel.rotationReportUnits,
    cancel: IpcChannel.rotationCancel,
  },
  interrupted: {
    list: IpcChannel.recordListInterrupted,
    saveRecord: IpcChannel.recordSaveInterrupted,
  },
} as const;

type Verb<C extends keyof IpcContract> = IpcContract[C]['request'] extends undefined
  ? () => Promise<IpcResult<IpcContract[C]['result']>>
  : (request: IpcContract[C]['request']) => Promise<IpcResult<IpcContract[C]['result']>>;

export type KeyCeremonyApi = {
  readonly [G in keyof typeof API_VERBS]: {
    readonly [V in keyof (typeof API_VERBS)[G]]: (typeof API_VERBS)[G][V] extends keyof IpcContract
      ? Verb<(typeof API_VERBS)[G][V]>
      : never;
  };
};

/** Builds the API object from one `invoke(channel, ...args)` function. */
export function buildApi(invoke: (channel: string, ...args: unknown[]) => Promise<unknown>): KeyCeremonyApi {
  const api: Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>> = {};
  for (const [group, verbs] of Object.entries(API_VERBS)) {
    const table: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
    for (const [verb, channel] of Object.entries(verbs)) {
      table[verb] = (...args: unknown[]) => invoke(channel, ...args);
    }
    api[group] = Object.freeze(table);
  }
  return Object.freeze(api) as unknown as KeyCeremonyApi;
}

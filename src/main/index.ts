// Electron main process: start-up and lifecycle only. Windows live in
// window.ts, security rules in hardening.ts, IPC in ipc.ts; the ceremony
// logic itself lives in src/core (ceremony/session.ts, the desk, and each ceremony's session), reached through the
// handlers in handlers.ts that ipc.ts registers.
//
// No auto-update and no telemetry, by design (DESIGN.md, "Air gap").
import { app, BrowserWindow, dialog, session } from 'electron';
import { mkdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { createPcscTransport } from '../core/cards/pcsc.js';
import { CeremonySession } from '../core/ceremony/session.js';
import { RecoverySession } from '../core/ceremony/recovery-session.js';
import { RotationSession } from '../core/ceremony/rotation-session.js';
import { UnitsBundleSession } from '../core/ceremony/units-bundle-session.js';
import { UnitsReportSession } from '../core/ceremony/units-report-session.js';
import { createHandlers } from './handlers.js';
import { utilityPcscWorker } from './pcsc-helper.js';
import { hardenSession, hardenWebContents } from './hardening.js';
import { registerIpcHandlers } from './ipc.js';
import { rehearsalPorts } from './rehearsal.js';
import { listNetworkInterfacesUp } from './network.js';
import { electronDialogs, printHtml, renderPdf } from './ports.js';
import { registerAppScheme, serveRendererOverAppScheme } from './protocol-handler.js';
import { resolveRendererSource } from './renderer-source.js';
import { createMainWindow, installApplicationMenu } from './window.js';

// One name in development and in a packaged build, so dialogs and the
// profile directory are the same in both.
app.setName('Key Ceremony');

// #4 "Enable process sandboxing", for every renderer the app will ever
// create, not only the ones whose webPreferences remember to ask for it.
// Must be called before the app is ready.
app.enableSandbox();

// The renderer is served on keyceremony://app, not file:// (app-protocol.ts).
// A scheme's privileges can only be registered before the app is ready.
registerAppScheme();

// Devtools, the View menu and the dev server exist only in development.
const isDevelopment = !app.isPackaged;
const rendererSource = resolveRendererSource(app.isPackaged, process.env);

// Two instances would compete for the same smart cards and removable media
// in the middle of a ceremony; the second one hands over to the first.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const [window] = BrowserWindow.getAllWindows();
    if (window === undefined) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });

  // Every WebContents gets the same navigation and window-opening rules,
  // including any created later by code that forgets to ask.
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));

  // The ceremony ends with its window, on macOS too.
  app.on('window-all-closed', () => app.quit());

  app
    .whenReady()
    .then(() => {
      hardenSession(session.defaultSession, rendererSource, { devToolsAllowed: isDevelopment });
      if (rendererSource.kind === 'bundled-files') serveRendererOverAppScheme(rendererSource.directory);
      // The live ceremony record (never a secret) is kept in the profile
      // until the operator saves it to removable media on the last step.
      const workDir = join(app.getPath('userData'), 'ceremonies');
      mkdirSync(workDir, { recursive: true, mode: 0o700 });
      // Assigned once, below, after the session that needs it for its dialogs exists.
      // eslint-disable-next-line prefer-const
      let mainWindow: BrowserWindow | undefined;
      const ceremony = new CeremonySession({
        dialogs: electronDialogs(() => mainWindow),
        openCardTransport: () => createPcscTransport(utilityPcscWorker),
        renderPdf,
        printHtml,
        workDir,
        // A rehearsal (issue 11): virtual cards and an in-process emulator instance, never real ones.
        rehearsal: rehearsalPorts(),
      });
      // A ceremony cut off by a crash or power loss is closed (completed if
      // every share was issued, else aborted); the start screen lists it.
      for (const r of ceremony.closeInterruptedRecords())
        console.warn(`[main] closed an interrupted ceremony as ${r.outcome}: ${r.path}`);
      // The master key and its shares are zeroed when the app quits.
      app.on('will-quit', () => ceremony.dispose());
      // The later ceremonies (issue 11) use the session's own cards (by the record's mode: PC/SC, or a rehearsal's
      // virtual cards) and queue: one PC/SC connection, one card operation at a time across every wizard; and
      // a rehearsal's units in the same work folder.
      const later = ceremony.laterCeremonyPorts;
      // Recovery onto new units (ceremony 1): its shares are zeroed when the app quits.
      const recovery = new RecoverySession({
        dialogs: electronDialogs(() => mainWindow),
        ...later,
        workDir,
      });
      app.on('will-quit', () => recovery.dispose());
      // Rotation (ceremony 4): its held secrets are zeroed when the app quits.
      const rotation = new RotationSession({
        dialogs: electronDialogs(() => mainWindow),
        ...later,
        workDir,
      });
      app.on('will-quit', () => rotation.dispose());
      const handlers = createHandlers({
        session: ceremony,
        recovery,
        rotation,
        // Admin change and zeroize (issue 11, ceremonies 3 and 5): they hold no secret between calls.
        unitsBundle: new UnitsBundleSession({
          dialogs: electronDialogs(() => mainWindow),
          cardsFor: later.cardsFor,
          ...(later.rehearsal ? { rehearsal: later.rehearsal } : {}),
          workDir,
        }),
        // The units' report after a rotation or a zeroize ingested elsewhere: records only, no secret.
        unitsReport: new UnitsReportSession({
          dialogs: electronDialogs(() => mainWindow),
          ...(later.rehearsal ? { rehearsal: later.rehearsal } : {}),
          workDir,
        }),
        appInfo: () => ({
          name: app.getName(),
          version: app.getVersion(),
          networkInterfacesUp: listNetworkInterfacesUp(networkInterfaces()),
        }),
        reportBug: (channel, error) => console.error(`[ipc] ${channel} failed`, error),
      });
      registerIpcHandlers(rendererSource, handlers);
      installApplicationMenu({ devToolsAllowed: isDevelopment });
      mainWindow = createMainWindow(rendererSource, { devToolsAllowed: isDevelopment });
      // Closing the window in the middle of a ceremony abandons it: ask first.
      mainWindow.on('close', (event) => {
        if (!ceremony.inProgress() || mainWindow === undefined) return;
        const choice = dialog.showMessageBoxSync(mainWindow, {
          type: 'warning',
          title: 'Abandon the ceremony?',
          message: 'A ceremony is in progress. Closing Key Ceremony abandons it.',
          detail:
            'The master key and its shares are wiped from memory and the record says the ceremony was abandoned. Shares already issued in it cannot be used.',
          buttons: ['Keep the ceremony open', 'Abandon and close'],
          defaultId: 0,
          cancelId: 0,
          noLink: true,
        });
        if (choice !== 1) event.preventDefault();
      });
    })
    .catch((error: unknown) => {
      console.error('[main] start-up failed', error);
      app.exit(1);
    });
}

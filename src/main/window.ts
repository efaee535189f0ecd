// The one application window, and the application menu.
import { BrowserWindow, Menu, type MenuItemConstructorOptions } from 'electron';
import { fileURLToPath } from 'node:url';
import type { RendererSource } from './renderer-source.js';

export interface MainWindowOptions {
  /** True only when the app is not packaged (see index.ts). */
  readonly devToolsAllowed: boolean;
}

export function createMainWindow(source: RendererSource, options: MainWindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    title: 'Key Ceremony',
    width: 1200,
    height: 860,
    minWidth: 800,
    minHeight: 600,
    show: false,
    backgroundColor: '#ffffff',
    webPreferences: {
      // CommonJS on purpose: a sandboxed preload cannot be an ES module.
      preload: fileURLToPath(new URL('../preload/index.cjs', import.meta.url)),
      // #4 "Enable process sandboxing".
      sandbox: true,
      // #3 "Enable context isolation".
      contextIsolation: true,
      // #2 "Do not enable Node.js integration for remote content" — nor for
      // local content: the renderer reaches main only through the preload.
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      // #6 "Do not disable webSecurity"; #8 "Do not enable
      // allowRunningInsecureContent"; #9 "Do not enable experimental
      // features". These are the defaults, spelled out so a change shows up
      // in review.
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      // #12: no <webview> at all.
      webviewTag: false,
      navigateOnDragDrop: false,
      // The spell checker would download dictionaries (see hardening.ts).
      spellcheck: false,
      // Devtools in development only; a packaged build has none.
      devTools: options.devToolsAllowed,
    },
  });

  window.once('ready-to-show', () => window.show());

  // keyceremony://app/index.html in a build (never file://: see
  // app-protocol.ts), the dev server in development.
  const load = window.loadURL(source.url);
  load.catch((error: unknown) => console.error('[window] the renderer failed to load', error));

  return window;
}

/**
 * A minimal menu. Electron's default menu has a Help menu whose items open
 * electronjs.org in the system browser, which an air-gapped app must not
 * offer. The Edit menu stays so copy and paste shortcuts work on macOS; the
 * View menu (reload, devtools) exists in development only.
 */
export function installApplicationMenu(options: MainWindowOptions): void {
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { role: 'editMenu' },
    ...(options.devToolsAllowed ? [{ role: 'viewMenu' as const }] : []),
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

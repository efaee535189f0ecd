// The Electron implementations of the ceremony session's ports: native file
// dialogs attached to the main window, and the printable record rendered to
// PDF or sent to the system print dialog from a hidden, script-less window.
import { BrowserWindow, dialog, session } from 'electron';
import type { FileDialogs } from '../core/ceremony/session.js';

export function electronDialogs(window: () => BrowserWindow | undefined): FileDialogs {
  return {
    async openFile({ title, filters }) {
      const w = window();
      const options = { title, filters, properties: ['openFile' as const] };
      const r = w ? await dialog.showOpenDialog(w, options) : await dialog.showOpenDialog(options);
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
    async saveFile({ title, defaultName, filters }) {
      const w = window();
      // No overwrite prompt: the app never replaces a file, and says so if the name is taken.
      const options = { title, defaultPath: defaultName, filters, properties: ['createDirectory' as const] };
      const r = w ? await dialog.showSaveDialog(w, options) : await dialog.showSaveDialog(options);
      return r.canceled ? null : (r.filePath ?? null);
    },
    async chooseFolder({ title }) {
      const w = window();
      const options = { title, properties: ['openDirectory' as const, 'createDirectory' as const] };
      const r = w ? await dialog.showOpenDialog(w, options) : await dialog.showOpenDialog(options);
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
  };
}

/** A hidden, script-less window holding one HTML document, in a session that loads nothing else. */
async function reportWindow(html: string): Promise<BrowserWindow> {
  const partition = session.fromPartition('keyceremony-report');
  partition.webRequest.onBeforeRequest((details, callback) =>
    callback({ cancel: !details.url.startsWith('data:text/html') }),
  );
  partition.setPermissionRequestHandler((_w, _p, callback) => callback(false));
  const win = new BrowserWindow({
    show: false,
    webPreferences: {
      session: partition,
      javascript: false,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      devTools: false,
    },
  });
  await win.loadURL(`data:text/html;charset=utf-8,${encodeURIComponent(html)}`);
  return win;
}

/** Prints a self-contained HTML document through the system print dialog. */
export async function printHtml(html: string): Promise<boolean> {
  const win = await reportWindow(html);
  try {
    return await new Promise<boolean>((resolve, reject) => {
      win.webContents.print({ silent: false, printBackground: true }, (success, failureReason) => {
        if (success || failureReason === 'Print job canceled' || failureReason === 'cancelled') resolve(success);
        else reject(new Error(`printing failed: ${failureReason}`));
      });
    });
  } finally {
    win.destroy();
  }
}

/**
 * Prints a self-contained HTML document to PDF. The document is loaded from a
 * data: URL into a hidden window with JavaScript off, in a separate in-memory
 * session that refuses every request but that one document: the record is
 * data, and nothing in it may run or fetch.
 */
export async function renderPdf(html: string): Promise<Uint8Array> {
  const win = await reportWindow(html);
  try {
    return await win.webContents.printToPDF({ pageSize: 'A4', printBackground: true });
  } finally {
    win.destroy();
  }
}

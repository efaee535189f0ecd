// IPC registration: the Electron side of src/main/handlers.ts. For every
// channel of the contract it (1) checks the sender and then (2) hands the raw
// arguments to the handler, which validates them, calls the core and answers
// with an IpcResult, never a thrown error (error classes do not survive IPC).
import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { IpcChannel, type IpcError } from '../shared/ipc.js';
import type { Handlers } from './handlers.js';
import { isAppUrl, type RendererSource } from './renderer-source.js';

export function registerIpcHandlers(source: RendererSource, handlers: Handlers): void {
  for (const channel of Object.values(IpcChannel)) {
    const handler = handlers[channel];
    ipcMain.handle(channel, async (event, ...args: unknown[]) => {
      // Electron security checklist #17, "Validate the sender of all IPC
      // messages": only the app's own top-level page may call. An iframe or a
      // page the window was somehow navigated to is refused.
      if (!isTrustedSender(source, event)) {
        console.warn(`[ipc] refused ${channel} from an untrusted sender: ${event.senderFrame?.url ?? '(frame gone)'}`);
        const error: IpcError = {
          code: 'untrusted-sender',
          message: `${channel} may only be called by the Key Ceremony window.`,
        };
        return { ok: false, error };
      }
      return handler(args);
    });
  }
}

function isTrustedSender(source: RendererSource, event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  // senderFrame is null when the frame navigated away or was destroyed
  // before the message was handled.
  if (frame === null) return false;
  return frame.parent === null && isAppUrl(source, frame.url);
}

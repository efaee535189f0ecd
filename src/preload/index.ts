// The preload script: the one narrow door between the renderer and main.
//
// It runs sandboxed (no Node, only Electron's small preload `require`), so it
// is bundled to CommonJS with its imports inlined (see electron.vite.config.ts).
// It exposes verbs, never `ipcRenderer` itself (Electron security checklist,
// "Do not expose Electron APIs to untrusted web content"): a page holding
// ipcRenderer could invoke any channel with any argument.
import { contextBridge, ipcRenderer } from 'electron';
import { KEY_CEREMONY_API_NAME, type KeyCeremonyApi } from '../shared/api.js';
import { IpcChannel, type IpcRequest, type IpcResponse } from '../shared/ipc.js';

/** Typed wrapper so a channel and its request and result cannot be mismatched. */
function invoke<C extends IpcChannel>(
  channel: C,
  ...request: IpcRequest<C> extends undefined ? [] : [IpcRequest<C>]
): Promise<IpcResponse<C>> {
  return ipcRenderer.invoke(channel, ...request) as Promise<IpcResponse<C>>;
}

const api: KeyCeremonyApi = {
  app: {
    getInfo: () => invoke(IpcChannel.appGetInfo),
  },
};

contextBridge.exposeInMainWorld(KEY_CEREMONY_API_NAME, api);

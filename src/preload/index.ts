// The preload script: the one narrow door between the renderer and main.
//
// It runs sandboxed (no Node, only Electron's small preload `require`), so it
// is bundled to CommonJS with its imports inlined (see electron.vite.config.ts).
// It exposes verbs, never `ipcRenderer` itself (Electron security checklist,
// "Do not expose Electron APIs to untrusted web content"): a page holding
// ipcRenderer could invoke any channel with any argument. The verbs come from
// the one table in src/shared/api.ts.
import { contextBridge, ipcRenderer } from 'electron';
import { buildApi, KEY_CEREMONY_API_NAME } from '../shared/api.js';

contextBridge.exposeInMainWorld(
  KEY_CEREMONY_API_NAME,
  buildApi((channel, ...args) => ipcRenderer.invoke(channel, ...args)),
);

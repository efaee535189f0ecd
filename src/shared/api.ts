// The API the preload script exposes to the renderer as `window.keyCeremony`.
//
// Verbs only: the renderer never receives `ipcRenderer` or any Electron object
// (Electron security checklist, "Do not expose Electron APIs to untrusted web
// content"). Each verb maps to one channel of the contract in ./ipc.ts.
import type { AppInfo, IpcResult } from './ipc.js';

/** The global name under which the preload exposes the API. */
export const KEY_CEREMONY_API_NAME = 'keyCeremony';

export interface KeyCeremonyApi {
  readonly app: {
    /** Name, version and the network interfaces that are up. */
    getInfo(): Promise<IpcResult<AppInfo>>;
  };
}

// What the preload script (src/preload/index.ts) puts on the page. The
// renderer sees only this typed API: no Node, no Electron.
import type { KeyCeremonyApi } from '../shared/api.js';

declare global {
  interface Window {
    readonly keyCeremony: KeyCeremonyApi;
  }
}

export {};

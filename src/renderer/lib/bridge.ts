// The one way the renderer talks to main: through window.keyCeremony, whose
// verbs answer with an IpcResult and never throw. A rejection therefore means
// the bridge itself is broken (the preload did not load, or main has no
// handler for the channel); it is reported like any internal error so the
// screen can say so instead of crashing.
import type { IpcResult } from '../../shared/ipc.js';

export async function safeCall<T>(invoke: () => Promise<IpcResult<T>>): Promise<IpcResult<T>> {
  try {
    return await invoke();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      error: { code: 'internal', message: `The window could not reach the Key Ceremony main process (${detail}).` },
    };
  }
}

/** The typed API the preload exposes. */
export function api(): Window['keyCeremony'] {
  return window.keyCeremony;
}

// The one IPC contract between main, preload and the renderer.
//
// Every channel, its request and its result are declared here and nowhere
// else, so main (which handles), preload (which forwards) and the renderer
// (which calls) cannot drift apart. This file is pure TypeScript: no Node,
// Electron, React or DOM, because all three processes compile it.
//
// Nothing that crosses these channels is ever a secret: the renderer gets
// metadata (names, fingerprints, KCVs, progress), never key material, PINs
// or passphrases after use (DESIGN.md, "Rules of the house").

/** Facts about the running application, shown in the window header. */
export interface AppInfo {
  readonly name: string;
  readonly version: string;
  /**
   * Names of the non-loopback network interfaces that are up (have an
   * address). Empty on a properly air-gapped workstation; anything else makes
   * the renderer show the network warning.
   */
  readonly networkInterfacesUp: readonly string[];
}

/**
 * Why a call failed, in a form a person or the renderer can act on.
 * - `untrusted-sender`: the call did not come from the app's own page
 *   (Electron security checklist #17, "Validate the sender of all IPC
 *   messages"); a bug or an attack, never a user mistake.
 * - `invalid-request`: the argument did not match the contract.
 * - `internal`: an unexpected failure in main (a bug).
 */
export type IpcErrorCode = 'untrusted-sender' | 'invalid-request' | 'internal';

export interface IpcError {
  readonly code: IpcErrorCode;
  readonly message: string;
}

/**
 * Results cross the process boundary as data, because Error subclasses do not
 * survive structured cloning: a typed error thrown in main would reach the
 * renderer as a plain Error with its class and fields lost.
 */
export type IpcResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: IpcError };

/** Channel names. Use these constants, never string literals. */
export const IpcChannel = {
  appGetInfo: 'app:get-info',
} as const;
export type IpcChannel = (typeof IpcChannel)[keyof typeof IpcChannel];

/**
 * For each channel: what the renderer sends and what main answers.
 * `request: undefined` means the call takes no argument, and main rejects one
 * that carries any.
 */
export interface IpcContract {
  [IpcChannel.appGetInfo]: { request: undefined; result: AppInfo };
}

export type IpcRequest<C extends IpcChannel> = IpcContract[C]['request'];
export type IpcResponse<C extends IpcChannel> = IpcResult<IpcContract[C]['result']>;

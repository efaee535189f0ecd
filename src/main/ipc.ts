// IPC handlers: the thin adapter between the renderer's requests and the
// application. Each handler (1) checks the sender, (2) validates the request
// against the contract in src/shared/ipc.ts, (3) calls into the application
// and (4) answers with an IpcResult, never a thrown error, because error
// classes do not survive IPC.
//
// Domain logic belongs in src/core; handlers here stay a few lines each.
import { app, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { networkInterfaces } from 'node:os';
import {
  IpcChannel,
  type IpcContract,
  type IpcError,
  type IpcErrorCode,
  type IpcRequest,
  type IpcResponse,
} from '../shared/ipc.js';
import { listNetworkInterfacesUp } from './network.js';
import { isAppUrl, type RendererSource } from './renderer-source.js';

export function registerIpcHandlers(source: RendererSource): void {
  handle(source, IpcChannel.appGetInfo, parseNoArgument, () => ({
    name: app.getName(),
    version: app.getVersion(),
    networkInterfacesUp: listNetworkInterfacesUp(networkInterfaces()),
  }));
}

/** A request that does not match the contract; its message names what is wrong. */
class InvalidIpcRequest extends Error {
  override readonly name = 'InvalidIpcRequest';
}

/** Turns the raw arguments into a request, or throws InvalidIpcRequest. */
type RequestParser<C extends IpcChannel> = (args: readonly unknown[], channel: C) => IpcRequest<C>;
type Handler<C extends IpcChannel> = (
  request: IpcRequest<C>,
) => IpcContract[C]['result'] | Promise<IpcContract[C]['result']>;

function handle<C extends IpcChannel>(
  source: RendererSource,
  channel: C,
  parseRequest: RequestParser<C>,
  handler: Handler<C>,
): void {
  ipcMain.handle(channel, async (event, ...args: unknown[]): Promise<IpcResponse<C>> => {
    // Electron security checklist #17, "Validate the sender of all IPC
    // messages": only the app's own top-level page may call. An iframe or a
    // page the window was somehow navigated to is refused.
    if (!isTrustedSender(source, event)) {
      console.warn(`[ipc] refused ${channel} from an untrusted sender: ${event.senderFrame?.url ?? '(frame gone)'}`);
      return failure('untrusted-sender', `${channel} may only be called by the Key Ceremony window.`);
    }

    try {
      const request = parseRequest(args, channel);
      return { ok: true, value: await handler(request) };
    } catch (error) {
      if (error instanceof InvalidIpcRequest) return failure('invalid-request', error.message);
      // A bug, not something the person at the keyboard can fix. Log it here
      // (handlers must never put secrets in error messages) and send the
      // renderer a plain description instead of the stack.
      console.error(`[ipc] ${channel} failed`, error);
      return failure('internal', `${channel} failed unexpectedly (a bug in Key Ceremony); the details were written to the application's error output.`);
    }
  });
}

function isTrustedSender(source: RendererSource, event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  // senderFrame is null when the frame navigated away or was destroyed
  // before the message was handled.
  if (frame === null) return false;
  return frame.parent === null && isAppUrl(source, frame.url);
}

/** For channels whose request is `undefined`: the renderer must send nothing. */
function parseNoArgument(args: readonly unknown[], channel: IpcChannel): undefined {
  if (args.length !== 0) {
    throw new InvalidIpcRequest(`${channel} takes no argument, but received ${args.length}.`);
  }
  return undefined;
}

function failure(code: IpcErrorCode, message: string): { ok: false; error: IpcError } {
  return { ok: false, error: { code, message } };
}

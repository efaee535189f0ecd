// The Electron side of app-protocol.ts: registers keyceremony:// as a
// privileged scheme (before the app is ready) and serves the built renderer
// folder through it (once it is). Every decision is made in app-protocol.ts.
import { protocol } from 'electron';
import { answerAppRequest, APP_SCHEME, APP_SCHEME_PRIVILEGES } from './app-protocol.js';

/**
 * Must run before the app's `ready` event, and only once
 * (`protocol.registerSchemesAsPrivileged`). Not bypassCSP: see
 * APP_SCHEME_PRIVILEGES.
 */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { ...APP_SCHEME_PRIVILEGES } }]);
}

/**
 * Serves `rendererDirectory` (out/renderer, inside app.asar once packaged)
 * on keyceremony://app for the default session, the only session the app
 * uses. Refusals carry no body and are logged with their reason (a URL
 * holds no secret).
 */
export function serveRendererOverAppScheme(rendererDirectory: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    // Electron adds initiatorOrigin to the fetch Request it hands over
    // (electron.d.ts, Protocol.handle); it is not a standard Request field.
    const { initiatorOrigin } = request as Request & { initiatorOrigin?: string };
    const answer = await answerAppRequest(rendererDirectory, {
      method: request.method,
      url: request.url,
      initiatorOrigin,
    });
    if (answer.refusal !== undefined) {
      console.warn(`[protocol] refused ${request.method} ${request.url} (${answer.status}): ${answer.refusal}`);
    }
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  });
}

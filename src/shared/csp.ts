// The renderer's Content-Security-Policy, in one place (Electron security
// checklist #7, "Define a Content-Security-Policy").
//
// It is delivered twice: main sends it as a response header (its
// keyceremony:// protocol handler with every file, src/main/app-protocol.ts,
// and session.webRequest.onHeadersReceived), and
// src/renderer/index.html carries it in a <meta> tag as well, so the page is
// covered however it is loaded (the test bridge serves it over http).
// test/unit/layers.test.ts checks the two agree.
//
// Pure TypeScript with no imports: main and electron.vite.config.ts use it.

/**
 * The production policy: the app's own bundled files and nothing else. No
 * inline script, no eval, no plugins, no <base>, no framing, no form posts.
 */
export const RENDERER_CSP =
  "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/**
 * The same policy as a <meta> tag can carry it, word for word what
 * src/renderer/index.html holds. `frame-ancestors` is ignored, with a console
 * warning, when delivered in a <meta> element (CSP Level 3, §6.4.2), so the
 * tag leaves it out. Deliberate departure from "the same policy in both
 * places"; nothing could frame the page anyway, since the app loads no other
 * page and refuses every sub-frame navigation (hardening.ts).
 */
export const RENDERER_CSP_META =
  "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

/**
 * The policy while `electron-vite dev` serves the renderer. Vite's client and
 * the React Fast Refresh preamble need inline script and inline style, and
 * hot reload needs a WebSocket to the dev server. Only ever used when the app
 * is not packaged and the dev server URL is set.
 */
export function developmentRendererCsp(devServerUrl: string): string {
  const devServer = new URL(devServerUrl);
  const webSocketOrigin = `${devServer.protocol === 'https:' ? 'wss:' : 'ws:'}//${devServer.host}`;
  return [
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    `connect-src 'self' ${webSocketOrigin}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

// Session- and page-level hardening, following the Electron security
// checklist (docs/tutorial/security.md). The item each rule implements is
// named beside it.
//
// The air gap (DESIGN.md, "Air gap") is enforced here too: every request that
// is not for the app's own bundled files is cancelled, so even a compromised
// renderer cannot reach the network.
import type { Session, WebContents } from 'electron';
import { developmentRendererCsp, RENDERER_CSP } from '../shared/csp.js';
import { isAppUrl, type RendererSource } from './renderer-source.js';

export interface HardeningOptions {
  /** True only when the app is not packaged (see index.ts). */
  readonly devToolsAllowed: boolean;
}

export function hardenSession(session: Session, source: RendererSource, options: HardeningOptions): void {
  // #5 "Handle session permission requests from remote content": the app
  // needs no web permission (camera, notifications, clipboard-read, HID,
  // serial, USB, …), so every request and every check is refused.
  session.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);

  // The spell checker downloads Hunspell dictionaries from a Google CDN on
  // Windows and Linux; an air-gapped app must not even try.
  session.setSpellCheckerEnabled(false);

  // Air gap, and #1 "Only load secure content": allow the app's own files on
  // keyceremony://app (or the dev server in development) and nothing else;
  // file:// included, so the page cannot read a local file either.
  session.webRequest.onBeforeRequest((details, callback) => {
    const allowed = isAllowedRequest(source, details.url, options);
    if (!allowed) {
      console.warn(`[hardening] cancelled a request that is not for the app's own files: ${details.url}`);
    }
    callback({ cancel: !allowed });
  });

  // #7 "Define a Content-Security-Policy". The keyceremony:// handler puts
  // the policy on every file it serves (app-protocol.ts); this covers the
  // dev server, and any response that would otherwise lack it. index.html
  // carries it in a <meta> tag as well. Any policy the response already had
  // is replaced, not merged.
  const policy = source.kind === 'dev-server' ? developmentRendererCsp(source.url) : RENDERER_CSP;
  session.webRequest.onHeadersReceived((details, callback) => {
    const responseHeaders = Object.fromEntries(
      Object.entries(details.responseHeaders ?? {}).filter(
        ([name]) => name.toLowerCase() !== 'content-security-policy',
      ),
    );
    responseHeaders['Content-Security-Policy'] = [policy];
    callback({ responseHeaders });
  });
}

function isAllowedRequest(source: RendererSource, rawUrl: string, options: HardeningOptions): boolean {
  if (isAppUrl(source, rawUrl)) return true;
  // The DevTools front end is served from devtools:// through the same
  // session; it exists only when devtools are allowed at all.
  if (options.devToolsAllowed && rawUrl.startsWith('devtools://')) return true;
  // Vite's hot-reload WebSocket goes to the dev server's host and port.
  if (source.kind === 'dev-server') {
    const devServer = new URL(source.url);
    try {
      const url = new URL(rawUrl);
      return (url.protocol === 'ws:' || url.protocol === 'wss:') && url.host === devServer.host;
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * Applied to every WebContents the app ever creates (see index.ts), so a
 * future window or view cannot forget a rule.
 */
export function hardenWebContents(contents: WebContents): void {
  // #14 "Disable or limit creation of new windows": the app never opens one
  // from the page, and never hands a URL to the system browser either
  // (#15 "Do not use shell.openExternal with untrusted content").
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));

  // #13 "Disable or limit navigation": the page is a single-page app and
  // never navigates; any navigation is a bug or an attack, so none is
  // allowed, not even to another page of keyceremony://app (the strictest
  // form of "only the app's origin"). The window's own load by main
  // (loadURL in window.ts) does not raise these events.
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-frame-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());

  // #12 "Verify WebView options before creation": the app uses no <webview>
  // (webviewTag is off), so refuse any attempt outright.
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

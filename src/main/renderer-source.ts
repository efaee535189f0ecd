// Where the renderer comes from, and the one predicate that decides whether a
// URL belongs to the app. Request filtering and IPC sender checks both use
// `isAppUrl`, so "the app's own page" means the same thing everywhere.
// (Navigation needs no predicate: hardening.ts refuses every navigation.)
import { fileURLToPath } from 'node:url';
import { APP_ENTRY_URL, isAppSchemeUrl } from './app-protocol.js';

export type RendererSource =
  /**
   * Production and `electron-vite preview`: the files built into
   * out/renderer, served on keyceremony://app by protocol-handler.ts.
   */
  | { readonly kind: 'bundled-files'; readonly directory: string; readonly url: string }
  /** `electron-vite dev` only: the Vite dev server on localhost. */
  | { readonly kind: 'dev-server'; readonly url: string };

/**
 * The dev server is honoured only when the app is not packaged: a packaged
 * build must never be talked into loading a page from wherever an environment
 * variable points (Electron security checklist #1, "Only load secure content").
 */
export function resolveRendererSource(
  isPackaged: boolean,
  environment: Readonly<Record<string, string | undefined>>,
): RendererSource {
  const devServerUrl = environment['ELECTRON_RENDERER_URL'];
  if (!isPackaged && devServerUrl !== undefined && devServerUrl !== '') {
    return { kind: 'dev-server', url: devServerUrl };
  }
  // out/main/index.js -> out/renderer/ (inside app.asar once packaged).
  const directory = fileURLToPath(new URL('../renderer/', import.meta.url));
  return { kind: 'bundled-files', directory, url: APP_ENTRY_URL };
}

/**
 * True when `rawUrl` is one of the app's own pages or files: on
 * keyceremony://app (never file://, where any local file would qualify), or
 * on the dev server's origin in development.
 */
export function isAppUrl(source: RendererSource, rawUrl: string): boolean {
  switch (source.kind) {
    case 'bundled-files':
      return isAppSchemeUrl(rawUrl);
    case 'dev-server': {
      const url = parseUrl(rawUrl);
      return url !== undefined && url.origin === new URL(source.url).origin;
    }
    default:
      return assertNever(source);
  }
}

function parseUrl(rawUrl: string): URL | undefined {
  try {
    return new URL(rawUrl);
  } catch {
    return undefined;
  }
}

function assertNever(value: never): never {
  throw new Error(`Unexpected renderer source: ${JSON.stringify(value)}`);
}

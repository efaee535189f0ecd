// Where the renderer comes from, and the one predicate that decides whether a
// URL belongs to the app. Navigation, request filtering and IPC sender checks
// all use `isAppUrl`, so "the app's own page" means the same thing everywhere.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type RendererSource =
  /** Production and `electron-vite preview`: the files built into out/renderer. */
  | { readonly kind: 'bundled-files'; readonly directory: string; readonly entry: string }
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
  return { kind: 'bundled-files', directory, entry: path.join(directory, 'index.html') };
}

/** True when `rawUrl` is one of the app's own pages or bundled files. */
export function isAppUrl(source: RendererSource, rawUrl: string): boolean {
  const url = parseUrl(rawUrl);
  if (url === undefined) return false;
  switch (source.kind) {
    case 'bundled-files':
      return url.protocol === 'file:' && isFileUnder(source.directory, url);
    case 'dev-server':
      return url.origin === new URL(source.url).origin;
    default:
      return assertNever(source);
  }
}

function isFileUnder(directory: string, url: URL): boolean {
  let filePath: string;
  try {
    // Decodes percent-escapes and rejects file URLs with a remote host.
    filePath = fileURLToPath(url);
  } catch {
    return false;
  }
  // path.relative also normalises `..` segments, so file:///…/renderer/../x
  // is correctly seen as outside the directory.
  const relative = path.relative(directory, filePath);
  return (
    relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative)
  );
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

// The app's own URL scheme, keyceremony://app/…, and the rules that decide
// which file a request for it gets. No Electron import: protocol-handler.ts
// hands Electron's requests to `answerAppRequest`, and the unit tests
// (test/unit/app/app-protocol.test.ts) call the same functions on real files.
//
// Why not file:// (Electron security checklist #18, "Avoid usage of the
// file:// protocol and prefer usage of custom protocols"): on a file:// page
// the CSP's 'self' matches every local file, and file:// pages get extra
// privileges (the GrantFileProtocolExtraPrivileges fuse, switched off in
// electron-builder.yml). On keyceremony://app, 'self' is that origin alone,
// and it serves the built renderer folder and nothing else.
import { realpath, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { RENDERER_CSP } from '../shared/csp.js';

export const APP_SCHEME = 'keyceremony';
export const APP_HOST = 'app';
/** The app's origin: what the CSP's 'self' means in a packaged build. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** Where the window is loaded from (out/renderer/index.html). */
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * The privileges `protocol.registerSchemesAsPrivileged` gives the scheme,
 * with Electron's `Privileges` field names (a structural copy, so this file
 * needs no Electron import; index.ts passes it on as it is).
 *
 * - standard: an origin of its own, relative URLs (./assets/…) resolved like
 *   http, and web storage. Without it the scheme behaves like file://.
 * - secure: a secure context, as https would be.
 * - supportFetchAPI: module scripts (Vite emits `<script type="module"
 *   crossorigin>`) and fetch() load through the Fetch machinery; same-origin
 *   only, since corsEnabled stays off.
 * Left off on purpose: bypassCSP (the CSP is the point), corsEnabled (no
 *   other origin may read these files), allowServiceWorkers, stream,
 *   codeCache, allowExtensions.
 */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  bypassCSP: false,
  corsEnabled: false,
  allowServiceWorkers: false,
  stream: false,
  codeCache: false,
  allowExtensions: false,
} as const;

/**
 * The content types the renderer build can produce. A closed list: a file
 * of any other type is not served (404), so a stray file in the folder is
 * never guessed at. test/unit/app/app-protocol.test.ts checks that every
 * file of the current build (out/renderer) has one.
 */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** The Content-Type for a file name, or undefined when it is not on the list. */
export function contentTypeFor(fileName: string): string | undefined {
  const extension = path.extname(fileName).toLowerCase();
  return Object.hasOwn(CONTENT_TYPES, extension) ? CONTENT_TYPES[extension] : undefined;
}

/**
 * True when `rawUrl` is on the app's origin, keyceremony://app, exactly: no
 * user name, password or port. Which file it names is the protocol
 * handler's business; this answers "is it the app's own page".
 */
export function isAppSchemeUrl(rawUrl: string): boolean {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return false;
  }
  // Compared part by part: Node gives a non-special scheme an opaque
  // origin ("null"), so url.origin cannot be compared. `host` includes any
  // port, so keyceremony://app:1/ is refused too.
  return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST && url.username === '' && url.password === '';
}

export type AppPathResolution =
  { readonly ok: true; readonly filePath: string } | { readonly ok: false; readonly reason: string };

/**
 * Maps a keyceremony://app URL to a path inside `rootDirectory`, by the
 * URL's path alone (the query and fragment are ignored), without touching
 * the disk. Refused, with the reason:
 * - another scheme or host, a user name, password or port;
 * - an encoded separator (%2F, %5C) or NUL (%00) anywhere in the path, so
 *   nothing decodes into a separator after the URL parser has removed dot
 *   segments;
 * - a segment that decodes to "." or "..", holds a backslash, NUL or ":"
 *   (a drive letter or an NTFS stream on Windows), or is empty ("//", or a
 *   directory: only files are served);
 * - a result outside `rootDirectory`, checked once more on the joined path.
 * Symbolic links are the disk's business: see `locateAppFile`.
 */
export function resolveAppRequestPath(rootDirectory: string, rawUrl: string): AppPathResolution {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  if (!isAppSchemeUrl(rawUrl)) return { ok: false, reason: `not on ${APP_ORIGIN}` };

  // The WHATWG parser has already removed "..", "%2e%2e" and "." segments
  // (they cannot climb above the root of the URL's path); what is left in
  // `pathname` is still percent-encoded.
  const encodedPath = url.pathname;
  if (/%(2f|5c|00)/i.test(encodedPath)) return { ok: false, reason: 'an encoded separator or NUL in the path' };
  if (!encodedPath.startsWith('/')) return { ok: false, reason: 'no path' };

  const segments: string[] = [];
  for (const encoded of encodedPath.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(encoded);
    } catch {
      return { ok: false, reason: 'a malformed percent-escape in the path' };
    }
    if (segment === '') return { ok: false, reason: 'an empty path segment (a directory, or "//")' };
    if (segment === '.' || segment === '..') return { ok: false, reason: 'a dot segment in the path' };
    if (/[\\/\0:]/.test(segment)) return { ok: false, reason: 'a separator, NUL or ":" inside a path segment' };
    segments.push(segment);
  }

  const root = path.resolve(rootDirectory);
  const filePath = path.join(root, ...segments);
  if (!isStrictlyInside(root, filePath)) return { ok: false, reason: 'outside the renderer folder' };
  return { ok: true, filePath };
}

export type AppFileLocation =
  | { readonly ok: true; readonly filePath: string; readonly contentType: string }
  | { readonly ok: false; readonly reason: string };

/**
 * `resolveAppRequestPath`, then the disk: the file must exist, be a regular
 * file once every symbolic link is followed, and still be inside the real
 * path of `rootDirectory` (a link from the folder to /etc/passwd is
 * refused), and have a content type on the list.
 *
 * In a packaged app the folder is inside app.asar; Electron's fs wrapper
 * answers realpath and stat for paths inside an archive
 * (lib/node/asar-fs-wrapper.ts), so the same checks hold there.
 */
export async function locateAppFile(rootDirectory: string, rawUrl: string): Promise<AppFileLocation> {
  const resolved = resolveAppRequestPath(rootDirectory, rawUrl);
  if (!resolved.ok) return resolved;
  let realRoot: string;
  let realFile: string;
  try {
    realRoot = await realpath(rootDirectory);
    realFile = await realpath(resolved.filePath);
  } catch {
    return { ok: false, reason: 'no such file' };
  }
  if (!isStrictlyInside(realRoot, realFile))
    return { ok: false, reason: 'a link that leads outside the renderer folder' };
  try {
    if (!(await stat(realFile)).isFile()) return { ok: false, reason: 'not a regular file' };
  } catch {
    return { ok: false, reason: 'no such file' };
  }
  // The type is decided by the name that was asked for, and the name the
  // link leads to must agree, so a link cannot turn a .txt into a script.
  const contentType = contentTypeFor(resolved.filePath);
  if (contentType === undefined || contentTypeFor(realFile) !== contentType) {
    return { ok: false, reason: 'not a type the app serves' };
  }
  return { ok: true, filePath: realFile, contentType };
}

/** A request as `answerAppRequest` needs it (the fields of a fetch Request it reads). */
export interface AppRequest {
  readonly method: string;
  readonly url: string;
  /**
   * Set by Electron to the origin of the web content that made the request
   * (not controlled by the page, unlike the referrer); absent when the
   * browser started the request itself, as for the window's first load.
   */
  readonly initiatorOrigin?: string | undefined;
}

export interface AppResponse {
  readonly status: 200 | 403 | 404 | 405;
  readonly headers: Readonly<Record<string, string>>;
  /** Undefined for HEAD and for refusals. */
  readonly body: Uint8Array | undefined;
  /** Why a request was refused, for the log; undefined when served. */
  readonly refusal: string | undefined;
}

/**
 * The whole answer to one request for keyceremony://app/…: the file with its
 * content type and the CSP as a header (the policy `frame-ancestors` can
 * only be delivered this way), or a refusal with nothing in it.
 */
export async function answerAppRequest(rootDirectory: string, request: AppRequest): Promise<AppResponse> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return refusal(405, `method ${request.method}`, { Allow: 'GET, HEAD' });
  }
  // Only the app's own page, or the browser itself, may load the app's
  // files. No other origin exists in this app; this keeps it so.
  if (request.initiatorOrigin !== undefined && request.initiatorOrigin !== APP_ORIGIN) {
    return refusal(403, `requested by ${request.initiatorOrigin}`);
  }
  const location = await locateAppFile(rootDirectory, request.url);
  if (!location.ok) return refusal(404, location.reason);
  let body: Uint8Array;
  try {
    body = await readFile(location.filePath);
  } catch {
    return refusal(404, 'the file could not be read');
  }
  return {
    status: 200,
    headers: {
      ...COMMON_HEADERS,
      'Content-Type': location.contentType,
      'Content-Length': String(body.byteLength),
      'Content-Security-Policy': RENDERER_CSP,
    },
    body: request.method === 'HEAD' ? undefined : body,
    refusal: undefined,
  };
}

const COMMON_HEADERS = {
  // A file is its declared type or nothing: no MIME sniffing.
  'X-Content-Type-Options': 'nosniff',
  // Nothing from the app is written to the HTTP cache in the profile.
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
} as const;

function refusal(status: 403 | 404 | 405, reason: string, extraHeaders: Record<string, string> = {}): AppResponse {
  return {
    status,
    headers: { ...COMMON_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...extraHeaders },
    body: undefined,
    refusal: reason,
  };
}

/** True when `child` is below `parent` (not `parent` itself), both absolute. */
function isStrictlyInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

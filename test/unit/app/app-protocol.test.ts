// The keyceremony://app scheme (src/main/app-protocol.ts): which file a URL
// may name, on a real folder with real symbolic links, and what the answer
// carries. Electron itself is not needed: the handler in
// src/main/protocol-handler.ts only copies `answerAppRequest` into a Response.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answerAppRequest,
  APP_ENTRY_URL,
  APP_ORIGIN,
  APP_SCHEME_PRIVILEGES,
  contentTypeFor,
  isAppSchemeUrl,
  locateAppFile,
  resolveAppRequestPath,
} from '../../../src/main/app-protocol.js';
import { isAppUrl, resolveRendererSource } from '../../../src/main/renderer-source.js';
import { RENDERER_CSP } from '../../../src/shared/csp.js';

const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));

// A renderer folder beside a secret, as out/renderer sits beside out/main:
//   work/secret.js, work/outside/…   (must never be served)
//   work/renderer/index.html, assets/app.js, assets/style.css, notes.xyz
//   work/renderer/assets/leak.js  -> ../../secret.js         (link out)
//   work/renderer/assets/dir-link -> ../../outside           (link out)
//   work/renderer/assets/alias.js -> app.js                  (link in)
//   work/renderer/assets/as-js.js -> ../notes.xyz            (link in, other type)
let work: string;
let root: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'kc-app-protocol-'));
  root = path.join(work, 'renderer');
  await mkdir(path.join(root, 'assets'), { recursive: true });
  await mkdir(path.join(work, 'outside'));
  await writeFile(path.join(work, 'secret.js'), 'secret');
  await writeFile(path.join(work, 'outside', 'other.js'), 'outside');
  await writeFile(path.join(root, 'index.html'), '<!doctype html><title>t</title>');
  await writeFile(path.join(root, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(path.join(root, 'assets', 'style.css'), 'body{}');
  await writeFile(path.join(root, 'assets', 'a b.js'), 'spaced');
  await writeFile(path.join(root, 'notes.xyz'), 'not a known type');
  await symlink(path.join('..', '..', 'secret.js'), path.join(root, 'assets', 'leak.js'));
  await symlink(path.join('..', '..', 'outside'), path.join(root, 'assets', 'dir-link'));
  await symlink('app.js', path.join(root, 'assets', 'alias.js'));
  await symlink(path.join('..', 'notes.xyz'), path.join(root, 'assets', 'as-js.js'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const url = (p: string): string => `${APP_ORIGIN}${p}`;

describe('resolveAppRequestPath (no disk access)', () => {
  it('maps the entry URL and assets into the folder', () => {
    expect(resolveAppRequestPath(root, APP_ENTRY_URL)).toEqual({ ok: true, filePath: path.join(root, 'index.html') });
    expect(resolveAppRequestPath(root, url('/assets/app.js'))).toEqual({
      ok: true,
      filePath: path.join(root, 'assets', 'app.js'),
    });
    expect(resolveAppRequestPath(root, url('/assets/a%20b.js'))).toEqual({
      ok: true,
      filePath: path.join(root, 'assets', 'a b.js'),
    });
  });

  it('ignores the query string and the fragment, whatever they hold', () => {
    for (const suffix of [
      '?v=1',
      '?../../secret.js',
      '?%2e%2e%2f%2e%2e%2fsecret.js',
      '#../../secret.js',
      '?a=/etc/passwd#x',
    ]) {
      expect(resolveAppRequestPath(root, APP_ENTRY_URL + suffix), suffix).toEqual({
        ok: true,
        filePath: path.join(root, 'index.html'),
      });
    }
  });

  it('keeps ".." and "%2e%2e" segments from climbing out (the URL parser removes them at the root)', () => {
    for (const p of [
      '/../secret.js',
      '/../../secret.js',
      '/assets/../../secret.js',
      '/%2e%2e/secret.js',
      '/.%2e/secret.js',
      '/%2E%2E/%2e%2e/secret.js',
    ]) {
      // What is left names a file inside the folder (which does not exist there).
      expect(resolveAppRequestPath(root, url(p)), p).toEqual({ ok: true, filePath: path.join(root, 'secret.js') });
    }
  });

  it('refuses encoded separators and NUL, in either case', () => {
    for (const p of [
      '/..%2fsecret.js',
      '/..%2Fsecret.js',
      '/assets%2f..%2f..%2fsecret.js',
      '/..%5csecret.js',
      '/..%5Csecret.js',
      '/index.html%00.js',
      '/%2e%2e%2f%2e%2e%2fsecret.js',
    ]) {
      const result = resolveAppRequestPath(root, url(p));
      expect(result.ok, p).toBe(false);
      if (!result.ok) expect(result.reason, p).toBe('an encoded separator or NUL in the path');
    }
  });

  it('refuses backslashes, colons and malformed escapes inside a segment', () => {
    // A standard scheme turns "\" into "/" in Chromium; Node's parser keeps
    // it for a non-special scheme, so it must be refused here.
    expect(resolveAppRequestPath(root, url('/..\\..\\secret.js')).ok).toBe(false);
    expect(resolveAppRequestPath(root, url('/C:/secret.js')).ok).toBe(false);
    expect(resolveAppRequestPath(root, url('/index.html::$DATA')).ok).toBe(false);
    expect(resolveAppRequestPath(root, url('/%E0%A4%A.js'))).toEqual({
      ok: false,
      reason: 'a malformed percent-escape in the path',
    });
  });

  it('refuses absolute paths smuggled into the path', () => {
    expect(resolveAppRequestPath(root, url('//etc/passwd')).ok).toBe(false);
    expect(resolveAppRequestPath(root, url('/assets//etc/passwd')).ok).toBe(false);
    // An absolute path of the host as the "URL" is not a URL at all.
    expect(resolveAppRequestPath(root, path.join(work, 'secret.js'))).toEqual({ ok: false, reason: 'not a URL' });
  });

  it('refuses directories, including the bare origin', () => {
    expect(resolveAppRequestPath(root, url('/')).ok).toBe(false);
    expect(resolveAppRequestPath(root, APP_ORIGIN).ok).toBe(false);
    expect(resolveAppRequestPath(root, url('/assets/')).ok).toBe(false);
  });

  it('refuses any other scheme, host, port or credentials', () => {
    for (const other of [
      `file://${path.join(root, 'index.html')}`,
      'https://app/index.html',
      'keyceremony://other/index.html',
      'keyceremony://app:8080/index.html',
      'keyceremony://user@app/index.html',
      'keyceremony://user:pw@app/index.html',
      'keyceremony:index.html',
      'keyceremony:///index.html',
    ]) {
      expect(resolveAppRequestPath(root, other).ok, other).toBe(false);
    }
  });
});

describe('locateAppFile (on disk)', () => {
  it('finds files in the folder, with their type', async () => {
    expect(await locateAppFile(root, APP_ENTRY_URL)).toEqual({
      ok: true,
      filePath: await realpath(path.join(root, 'index.html')),
      contentType: 'text/html; charset=utf-8',
    });
    const css = await locateAppFile(root, url('/assets/style.css'));
    expect(css.ok && css.contentType).toBe('text/css; charset=utf-8');
  });

  it('refuses a file outside the folder reached through a symbolic link', async () => {
    expect(await locateAppFile(root, url('/assets/leak.js'))).toEqual({
      ok: false,
      reason: 'a link that leads outside the renderer folder',
    });
    expect(await locateAppFile(root, url('/assets/dir-link/other.js'))).toEqual({
      ok: false,
      reason: 'a link that leads outside the renderer folder',
    });
  });

  it('follows a link that stays inside the folder, only to a file of the same type', async () => {
    const alias = await locateAppFile(root, url('/assets/alias.js'));
    expect(alias).toEqual({
      ok: true,
      filePath: await realpath(path.join(root, 'assets', 'app.js')),
      contentType: 'text/javascript; charset=utf-8',
    });
    expect(await locateAppFile(root, url('/assets/as-js.js'))).toEqual({
      ok: false,
      reason: 'not a type the app serves',
    });
  });

  it('refuses missing files, directories and unknown types', async () => {
    expect(await locateAppFile(root, url('/secret.js'))).toEqual({ ok: false, reason: 'no such file' });
    expect(await locateAppFile(root, url('/../../secret.js'))).toEqual({ ok: false, reason: 'no such file' });
    expect((await locateAppFile(root, url('/assets'))).ok).toBe(false);
    expect(await locateAppFile(root, url('/notes.xyz'))).toEqual({ ok: false, reason: 'not a type the app serves' });
  });

  it('works when the folder path itself goes through a symbolic link', async () => {
    const linkedRoot = path.join(work, 'linked-renderer');
    await symlink(root, linkedRoot);
    const result = await locateAppFile(linkedRoot, url('/assets/app.js'));
    expect(result.ok).toBe(true);
    expect(await locateAppFile(linkedRoot, url('/assets/leak.js'))).toEqual({
      ok: false,
      reason: 'a link that leads outside the renderer folder',
    });
  });
});

describe('answerAppRequest', () => {
  it('serves a file with its type, nosniff, no-store and the CSP header', async () => {
    const answer = await answerAppRequest(root, { method: 'GET', url: APP_ENTRY_URL });
    expect(answer.status).toBe(200);
    expect(answer.refusal).toBeUndefined();
    expect(Buffer.from(answer.body ?? []).toString('utf8')).toBe('<!doctype html><title>t</title>');
    expect(answer.headers).toMatchObject({
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': RENDERER_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
      'Content-Length': String(answer.body?.byteLength),
    });
  });

  it('answers HEAD without a body', async () => {
    const answer = await answerAppRequest(root, { method: 'HEAD', url: url('/assets/app.js') });
    expect([answer.status, answer.body]).toEqual([200, undefined]);
  });

  it('refuses with 404 and no body: traversal, links out, missing files', async () => {
    for (const p of ['/..%2fsecret.js', '/assets/leak.js', '/nothing.js']) {
      const answer = await answerAppRequest(root, { method: 'GET', url: url(p) });
      expect([answer.status, answer.body], p).toEqual([404, undefined]);
      expect(answer.refusal, p).toBeDefined();
      expect(answer.headers['Content-Security-Policy'], p).toBeUndefined();
    }
  });

  it('refuses other methods (405) and requests made by another origin (403)', async () => {
    expect((await answerAppRequest(root, { method: 'POST', url: APP_ENTRY_URL })).status).toBe(405);
    const fromElsewhere = await answerAppRequest(root, {
      method: 'GET',
      url: APP_ENTRY_URL,
      initiatorOrigin: 'https://example.com',
    });
    expect([fromElsewhere.status, fromElsewhere.body]).toEqual([403, undefined]);
    const fromFile = await answerAppRequest(root, { method: 'GET', url: APP_ENTRY_URL, initiatorOrigin: 'null' });
    expect(fromFile.status).toBe(403);
    const fromApp = await answerAppRequest(root, {
      method: 'GET',
      url: url('/assets/app.js'),
      initiatorOrigin: APP_ORIGIN,
    });
    expect(fromApp.status).toBe(200);
  });
});

describe('the scheme and the app origin', () => {
  it('is registered standard and secure, without bypassCSP or CORS', () => {
    expect(APP_SCHEME_PRIVILEGES).toMatchObject({
      standard: true,
      secure: true,
      bypassCSP: false,
      corsEnabled: false,
      allowServiceWorkers: false,
    });
  });

  it('counts only keyceremony://app as the app in a build: never file://', () => {
    const source = resolveRendererSource(true, { ELECTRON_RENDERER_URL: 'http://localhost:5173/' });
    expect(source.kind).toBe('bundled-files');
    expect(source.url).toBe('keyceremony://app/index.html');
    expect(isAppUrl(source, APP_ENTRY_URL)).toBe(true);
    expect(isAppUrl(source, url('/assets/x.js'))).toBe(true);
    expect(isAppSchemeUrl('keyceremony://app.evil/index.html')).toBe(false);
    expect(isAppUrl(source, `file://${path.join(projectRoot, 'out/renderer/index.html')}`)).toBe(false);
    expect(isAppUrl(source, 'file:///etc/passwd')).toBe(false);
    expect(isAppUrl(source, 'http://localhost:5173/')).toBe(false);
    expect(isAppUrl(source, 'keyceremony://app@evil/index.html')).toBe(false);
  });

  it('has a content type for every file of the current build (out/renderer)', async () => {
    const rendererDirectory = path.join(projectRoot, 'out', 'renderer');
    if (!existsSync(rendererDirectory)) return; // `npm test` builds first; a bare run may not have.
    const entries = await readdir(rendererDirectory, { withFileTypes: true, recursive: true });
    const files = entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(rendererDirectory, path.join(e.parentPath, e.name)));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(contentTypeFor(file), file).toBeDefined();
  });
});

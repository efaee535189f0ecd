// The same ceremony in the real Electron app (out/main, the sandboxed
// preload, real ipcMain handlers, the page served on keyceremony://app by
// src/main/protocol-handler.ts), for machines where the Electron binary
// exists. Where it does not (this project's CI: the binary is downloaded
// from GitHub, which the build machines cannot reach), the spec is skipped
// and says why; nothing here pretends to have run Electron.
import { _electron as electron, type ElectronApplication } from '@playwright/test';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { emu } from '../support/cli.js';
import { pcscStackUnavailableReason, type PcscStack } from '../support/pcsc-stack.js';
import { runCeremony, setUpCeremonyRig, type DialogKind } from './ceremony-flow.js';
import { expect, test } from '@playwright/test';
import { REPO_ROOT } from './fixtures.js';

/**
 * The Electron executable, found the way the `electron` package finds it
 * but without its fallback of downloading one (requiring the package would
 * try to fetch the binary from GitHub).
 */
function electronExecutable(): string | undefined {
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH'];
  const pkg = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const exe = join(override ?? join(pkg, 'dist'), readFileSync(pathFile, 'utf8').trim());
  return existsSync(exe) ? exe : undefined;
}

const executable = electronExecutable();
const pcscProblem = pcscStackUnavailableReason();
const NO_ELECTRON =
  'SKIPPED, NOT RUN: the Electron binary is not installed on this machine (it is downloaded from GitHub, which is unreachable here; ' +
  'ELECTRON_SKIP_BINARY_DOWNLOAD=1). On a connected machine: `npx install-electron`, then `npx playwright test -c test/e2e/playwright.config.ts electron`.';
if (executable === undefined) console.warn(`[electron.spec.ts] ${NO_ELECTRON}`);

test.describe('the Electron app serves its page on keyceremony://app', () => {
  test.skip(executable === undefined, NO_ELECTRON);

  let app: ElectronApplication | undefined;
  test.afterEach(async () => {
    await app?.close();
  });

  test('the window is keyceremony://app/index.html; no file://, no traversal, no other origin', async () => {
    const work = mkdtempSync(join(tmpdir(), 'kc-electron-scheme-'));
    app = await electron.launch({
      executablePath: executable!,
      args: [REPO_ROOT, `--user-data-dir=${join(work, 'profile')}`],
    });
    const page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    expect(page.url()).toBe('keyceremony://app/index.html');
    // The preload's API is there, so the page is the app's own.
    expect(await page.evaluate(() => typeof (window as unknown as { keyCeremony?: unknown }).keyCeremony)).toBe(
      'object',
    );

    const statusOf = (url: string): Promise<number | string> =>
      page.evaluate(async (u) => {
        try {
          return (await fetch(u)).status;
        } catch (error) {
          return `refused: ${String(error)}`;
        }
      }, url);
    // The page's own files load; what is not in out/renderer does not.
    expect(await statusOf('keyceremony://app/index.html')).toBe(200);
    expect(await statusOf('keyceremony://app/package.json')).toBe(404);
    expect(await statusOf('keyceremony://app/..%2f..%2fpackage.json')).toBe(404);
    expect(await statusOf('keyceremony://app/assets/%2e%2e%2f%2e%2e%2fmain%2findex.js')).toBe(404);
    // file:// and any other origin are refused (CSP connect-src 'self',
    // and main's request filter).
    expect(String(await statusOf(`file://${join(REPO_ROOT, 'package.json')}`))).toMatch(/^refused/);
    expect(String(await statusOf('https://example.com/'))).toMatch(/^refused/);
    // The header carries the full policy, frame-ancestors included.
    const csp = await page.evaluate(async () =>
      (await fetch('keyceremony://app/index.html')).headers.get('content-security-policy'),
    );
    expect(csp).toContain("frame-ancestors 'none'");
  });
});

test.describe('the ceremony in the Electron app', () => {
  test.skip(executable === undefined, NO_ELECTRON);
  test.skip(pcscProblem !== undefined, `the PC/SC stack is not installed: ${pcscProblem ?? ''}`);

  let app: ElectronApplication | undefined;
  let stack: PcscStack | undefined;
  test.afterEach(async () => {
    await app?.close();
    await stack?.stop();
  });

  // Playwright reads the fixtures a test uses from its first parameter: this test uses none.
  // eslint-disable-next-line no-empty-pattern
  test('a full ceremony through the real preload and IPC handlers', async ({}, testInfo) => {
    const work = mkdtempSync(join(tmpdir(), 'kc-electron-'));
    const rig = await setUpCeremonyRig(work, { doraFactoryFresh: false });
    stack = rig.stack;

    app = await electron.launch({
      executablePath: executable!,
      args: [REPO_ROOT, `--user-data-dir=${join(work, 'profile')}`],
    });
    const page = await app.firstWindow();
    const electronApp = app;
    let shots = 0;
    const result = await runCeremony({
      page,
      // Native dialogs cannot be clicked by Playwright: replace the next one
      // in main with the answer, as a person choosing that path would.
      answer: async (kind: DialogKind, path: string) => {
        await electronApp.evaluate(
          ({ dialog }, { kind, path }) => {
            const d = dialog as unknown as Record<string, unknown>;
            if (kind === 'saveFile') d['showSaveDialog'] = async () => ({ canceled: false, filePath: path });
            else d['showOpenDialog'] = async () => ({ canceled: false, filePaths: [path] });
          },
          { kind, path },
        );
      },
      shot: async (name) => {
        await page.screenshot({
          path: testInfo.outputPath(`${String(++shots).padStart(2, '0')}-${name}.png`),
          fullPage: true,
        });
      },
      axe: async () => undefined, // the Chromium spec scans every step
      ...rig.env,
      mistakes: false,
    });
    expect(emu(work, 'ingest', '--state', rig.unitsDir, result.bundlePath).code).toBe(0);
    const status = JSON.parse(emu(work, 'status', '--state', rig.unitsDir, '--json').stdout) as {
      units: Array<{ state: string; masterKeyKcv: string }>;
    };
    for (const u of status.units)
      expect([u.state, u.masterKeyKcv.toUpperCase()]).toEqual(['kms-initialized', result.kcv]);
  });
});

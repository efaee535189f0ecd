// Layout that a long step must keep (issue 11, "Also"): the step rail and the
// ceremony's actions stay in the window while a long step scrolls. Full-page
// screenshots draw the rail where the window was when they were taken, which
// made it look as if it sat mid-page; this checks the window itself.
import { test, expect } from './fixtures.js';
import { button } from './pages/parts.js';

test('the step rail stays in the window while the set-up form scrolls to its end', async ({ app }) => {
  await button(app, 'Start a new ceremony').click();
  const rail = app.getByRole('navigation', { name: /steps/i });
  await expect(rail).toBeVisible();
  // Five custodians and three admins make the form taller than the window, as at a real ceremony.
  for (let i = 0; i < 3; i++) await button(app, 'Add custodian').click();
  for (let i = 0; i < 2; i++) await button(app, 'Add admin').click();
  const start = button(app, 'Start the ceremony');
  await start.scrollIntoViewIfNeeded();
  const scrolled = await app.evaluate(() => window.scrollY || document.scrollingElement?.scrollTop || 0);
  expect(scrolled).toBeGreaterThan(200); // the form really scrolled
  const viewport = app.viewportSize()!;
  for (const item of [rail, button(app, 'Back to the start screen')]) {
    const box = (await item.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
  }
  await expect(start).toBeInViewport();
});

// Reports and visitor details in a real browser (issue 6 items 5 and 6): chats happen
// (two answered, one missed, one active); the visitor corrects their name and email
// from the widget's "Your details" and the operator's visitor panel shows the new
// values; the admin opens Reports, picks a range, sees the charts with those figures and
// downloads a CSV.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  DEMO_EMAIL, Operator, W, openDemo, scope, screenshot, startChat, visitorSend, waitForBubble, waitForSystem, watch,
} from './lib.mjs';

const today = () => new Date().toISOString().slice(0, 10);

async function signIn(page, server) {
  await page.goto(`${server.url}/console/`);
  await page.getByTestId('login-email').fill(DEMO_EMAIL);
  await page.getByTestId('login-password').fill(server.password);
  await page.getByTestId('login-submit').click();
  await page.waitForFunction(() => window.livehelpConsole?.snapshot().connection === 'online', null, { timeout: 20_000 });
}

const queued = (op) => new Set(op.frames.flatMap((f) => (f.type === 'conversation' ? [f.conversation.id] : [])));

test('reports: chats happen, the visitor corrects their details and the panel shows them, the admin reads Reports and downloads a CSV', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const op = await Operator.login(s, server);
  const visitorContext = await s.browser();
  const visitor = visitorContext.pages()[0];
  const vw = watch(visitor);
  await openDemo(visitor, server);

  // Two answered chats, then one nobody answers (the visitor leaves: missed).
  for (const [index, text] of ['Where is my order?', 'And the invoice?'].entries()) {
    const before = queued(op);
    if (index === 0) await startChat(visitor, 'Ann Smiht');
    else await visitor.getByTestId('lh-new-chat').click();
    const conversation = await op.acceptNext({ after: before });
    await waitForSystem(visitor, 'operator_joined');
    await visitorSend(visitor, text);
    await waitForBubble(visitor, text, { author: 'visitor' });
    await op.say(conversation.id, 'Happy to help!');
    await waitForBubble(visitor, 'Happy to help!', { author: 'operator' });
    await op.end(conversation.id);
    await visitor.getByTestId('lh-new-chat').waitFor({ state: 'visible' });
  }
  const beforeMissed = queued(op);
  await visitor.getByTestId('lh-new-chat').click();
  await op.waitFor((f) => f.type === 'conversation' && f.conversation.state === 'queued' && !beforeMissed.has(f.conversation.id));
  await W.end(visitor).click();
  await visitor.getByTestId('lh-new-chat').waitFor({ state: 'visible' });

  // The admin's console: a fourth chat, accepted there; the panel shows what was given.
  const consoleContext = await s.browser({ viewport: { width: 1400, height: 1000 } });
  const admin = consoleContext.pages()[0];
  const cw = watch(admin);
  await signIn(admin, server);
  await visitor.getByTestId('lh-new-chat').click();
  const item = admin.locator('[data-testid=queue-item]').first();
  await item.waitFor({ state: 'visible', timeout: 20_000 });
  await item.getByTestId('accept').click();
  await waitForSystem(visitor, 'operator_joined');
  const panel = admin.getByTestId('visitor-panel');
  await panel.getByTestId('visitor-details-name').filter({ hasText: 'Ann Smiht' }).waitFor({ timeout: 20_000 });
  assert.equal(await panel.getByTestId('visitor-details-email').textContent(), 'not given');

  // The visitor corrects their details in the widget.
  await visitor.getByTestId('lh-me-open').click();
  await visitor.getByTestId('lh-me').waitFor({ state: 'visible' });
  assert.equal(await visitor.getByTestId('lh-me-name').inputValue(), 'Ann Smiht');
  // A deliberately bad email: Chromium logs the 422 answer as a failed resource load.
  vw.allow.push(/status of 422/);
  await visitor.getByTestId('lh-me-email').fill('not an email');
  await visitor.getByTestId('lh-me-save').click();
  await visitor.getByTestId('lh-me-note').filter({ hasText: 'name@example.com' }).waitFor();
  await visitor.getByTestId('lh-me-name').fill('Ann <b>Smith</b>');
  await visitor.getByTestId('lh-me-email').fill('Ann.Smith@Example.com');
  await visitor.getByTestId('lh-me-save').click();
  await visitor.getByTestId('lh-me-note').filter({ hasText: 'Saved.' }).waitFor();
  await screenshot(visitor, 'visitor-details-widget');
  await visitor.getByTestId('lh-me-open').click();
  await W.input(visitor).waitFor({ state: 'visible' });

  // The operator's panel shows the new values (as text: the tags stay literal).
  await panel.getByTestId('visitor-details-name').filter({ hasText: 'Ann <b>Smith</b>' }).waitFor({ timeout: 20_000 });
  await panel.getByTestId('visitor-details-email').filter({ hasText: 'ann.smith@example.com' }).waitFor({ timeout: 20_000 });
  assert.equal(await panel.getByTestId('visitor-details-name').locator('b').count(), 0);

  // Reports: pick today, see the figures and the charts, download a CSV.
  await admin.getByTestId('nav-reports').click();
  await admin.getByTestId('reports-view').waitFor({ state: 'visible' });
  await admin.getByTestId('report-from').fill(today());
  await admin.getByTestId('report-to').fill(today());
  await admin.getByTestId('report-show').click();
  await admin.getByTestId('report-total-conversations').filter({ hasText: /^4$/ }).waitFor({ timeout: 20_000 });
  assert.equal(await admin.getByTestId('report-total-missed').textContent(), '1');
  for (const chart of ['chart-days', 'chart-hours', 'chart-operators']) {
    await admin.getByTestId(chart).waitFor({ state: 'visible' });
  }
  assert.equal(await admin.getByTestId('chart-days').locator('rect.chart-main').count(), 1);
  assert.equal(await admin.getByTestId('chart-hours').locator('rect.chart-main').count(), 24);
  const times = await admin.getByTestId('report-times-table').textContent();
  assert.match(times, /Time to first response2/, times);
  assert.match(times, /Conversation length3/, times);
  const [download] = await Promise.all([
    admin.waitForEvent('download'),
    admin.getByTestId('report-csv-days').click(),
  ]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.equal(csv, `"day","conversations","missed","offline_requests"\r\n"${today()}","4","1","0"\r\n`);
  // A bad range gets the server's own message (Chromium logs the 400 answer).
  cw.allow.push(/status of 400/);
  await admin.getByTestId('report-from').fill('2026-02-02');
  await admin.getByTestId('report-to').fill('2026-02-01');
  await admin.getByTestId('report-show').click();
  await admin.getByTestId('report-status').filter({ hasText: 'to must not be before from' }).waitFor();
  await admin.getByTestId('report-from').fill(today());
  await admin.getByTestId('report-to').fill(today());
  await admin.getByTestId('report-show').click();
  await admin.getByTestId('report-total-conversations').filter({ hasText: /^4$/ }).waitFor();
  await admin.getByTestId('report-body').evaluate((node) => node.scrollIntoView());
  await screenshot(admin, 'reports');

  vw.assertClean('widget');
  cw.assertClean('console');
});

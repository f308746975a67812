// Operator tools in a real browser (issue 10, item 7): the operator creates a canned
// response on its page, types `/ref` in a chat, expands it with Tab (the visitor's name
// filled in) and sends it; the visitor's widget receives the expanded text. The operator
// adds an internal note and a tag; the tag shows in the chat header; the note never shows
// in the widget; History filtered by the tag shows the chat (and another tag does not).
// Run with tests/e2e/run.sh.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDemo, scope, screenshot, startChat, waitForBubble, watch, widgetMessages } from './lib.mjs';

const pane = (p, id) => p.locator(`[data-testid=conversation][data-conversation-id="${id}"]`);

test('console tools: /refund expands with the visitor name and reaches the widget; note and tag; History filtered by tag', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const operatorContext = await s.browser({ viewport: { width: 1360, height: 840 } });
  const page = operatorContext.pages()[0];
  // The deliberate shortcut clash answers 409, which Chromium logs as a failed load.
  const w = watch(page, { allow: [/the server responded with a status of 409/] });
  const visitorContext = await s.browser();
  const visitor = visitorContext.pages()[0];
  const vw = watch(visitor);

  await page.goto(`${server.url}/console`);
  await page.getByTestId('login-email').fill('demo@example.test');
  await page.getByTestId('login-password').fill(server.password);
  await page.getByTestId('login-password').press('Enter');
  await page.waitForFunction(() => window.livehelpConsole?.snapshot().connection === 'online');

  // A team-wide canned response, made on its page (the demo operator is an admin).
  await page.getByTestId('nav-canned').click();
  await page.getByTestId('canned-add').click();
  await page.getByTestId('canned-form-shortcut').fill('refund');
  await page.getByTestId('canned-form-text').fill('Hi {visitor_name}, your refund is on its way. — {operator_name}');
  await page.getByTestId('canned-form-scope').selectOption('tenant');
  await page.getByTestId('canned-form-submit').click();
  await page.locator('[data-testid=canned-row][data-shortcut=refund][data-scope=tenant]').waitFor();
  // A clash is refused next to the field, and nothing is lost from the form.
  await page.getByTestId('canned-add').click();
  await page.getByTestId('canned-form-shortcut').fill('REFUND');
  await page.getByTestId('canned-form-text').fill('duplicate');
  await page.getByTestId('canned-form-scope').selectOption('tenant');
  await page.getByTestId('canned-form-submit').click();
  await page.getByTestId('canned-form-shortcut-error').filter({ hasText: /already used/ }).waitFor();
  assert.equal(await page.getByTestId('canned-form-text').inputValue(), 'duplicate');
  await page.getByTestId('canned-form-cancel').click();
  await screenshot(page, 'console-canned');
  await page.getByTestId('nav-chats').click();

  // A visitor with a name starts a chat; the operator accepts.
  await openDemo(visitor, server);
  await startChat(visitor, 'Ann 🌷');
  const id = await (await page.waitForFunction(() => document.querySelector('[data-testid=queue-item]')?.dataset.conversationId, null, { timeout: 20_000 })).jsonValue();
  await page.locator(`[data-testid=queue-item][data-conversation-id="${id}"] [data-testid=accept]`).click();
  await pane(page, id).locator('[data-testid=system-message][data-event=operator_joined]').waitFor();

  // `/ref` shows the suggestion; Tab expands it with the names filled in; Enter sends.
  const input = pane(page, id).getByTestId('composer-input');
  await input.click();
  await input.pressSequentially('/ref');
  await pane(page, id).locator('[data-testid=canned-suggestion][data-shortcut=refund]').waitFor();
  await screenshot(page, 'console-canned-suggestion');
  await input.press('Tab');
  const expanded = 'Hi Ann 🌷, your refund is on its way. — Dana (demo)';
  assert.equal(await input.inputValue(), expanded);
  assert.equal(await pane(page, id).getByTestId('canned-suggestions').isVisible(), false);
  await input.press('Enter');
  await waitForBubble(visitor, expanded, { author: 'operator' });

  // An internal note and a tag in the side panel; the tag shows in the chat header.
  const tools = page.getByTestId('tools-panel');
  const note = `Wants the refund by Friday ${Date.now()}`;
  await tools.getByTestId('note-input').fill(note);
  await tools.getByTestId('note-add').click();
  await tools.locator('[data-testid=note] [data-testid=note-text]').filter({ hasText: note }).waitFor();
  assert.equal(await tools.locator('[data-testid=note] [data-testid=note-author]').first().textContent(), 'Dana (demo)');
  await tools.getByTestId('tag-input').fill('  VIP ');
  await tools.getByTestId('tag-add').click();
  await tools.locator('[data-testid=tag-chip][data-tag=vip]').waitFor();
  await pane(page, id).locator('[data-testid=conversation-tags] [data-testid=tag-chip][data-tag=vip]').waitFor();
  await screenshot(page, 'console-notes-tags');

  // The visitor sees the canned text but never the note.
  const bubbles = await widgetMessages(visitor);
  assert.ok(bubbles.some((m) => m.text === expanded));
  assert.ok(!bubbles.some((m) => m.text.includes('refund by Friday')));
  assert.ok(!(await visitor.evaluate(() => document.querySelector('livehelp-widget').shadowRoot.textContent)).includes('refund by Friday'));

  // End the chat; History filtered by the tag lists it, another tag does not.
  await pane(page, id).getByTestId('end-chat').click();
  await pane(page, id).getByTestId('end-chat-confirm').click();
  await pane(page, id).getByTestId('ended-notice').waitFor();
  await page.getByTestId('nav-history').click();
  await page.getByTestId('history-tag-input').fill('nope');
  await page.getByTestId('history-tag-apply').click();
  await page.locator('#history-status').filter({ hasText: /nope/ }).waitFor();
  assert.equal(await page.locator('[data-testid=history-item]').count(), 0);
  await page.getByTestId('history-tag-input').fill('VIP');
  await page.getByTestId('history-tag-apply').click();
  const row = page.locator(`[data-testid=history-item][data-conversation-id="${id}"]`);
  await row.waitFor();
  assert.equal(await page.locator('[data-testid=history-item]').count(), 1);
  await row.locator('[data-testid=tag-chip][data-tag=vip]').waitFor();
  // The transcript view shows the note and the tag next to it.
  await row.getByTestId('history-open').click();
  await page.getByTestId('transcript').getByText(expanded).waitFor();
  await tools.locator('[data-testid=note-text]').filter({ hasText: note }).waitFor();
  await tools.locator('[data-testid=tag-chip][data-tag=vip]').waitFor();
  await screenshot(page, 'console-history-tag');

  w.assertClean();
  vw.assertClean();
});

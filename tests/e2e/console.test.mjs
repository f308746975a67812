// The operator console (web/console, served at /console) in a real browser, against the
// real server, with a real visitor in the widget on /demo in a second browser.
// Run with tests/e2e/run.sh. Each test starts its own `livehelp serve --demo`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  NETWORK_NOISE, W, openDemo, scope, screenshot, startChat, visitorSend, waitForBubble,
  waitForSystem, watch, widgetMessages,
} from './lib.mjs';

// Chromium logs every 4xx fetch as a console error: the console's own "am I signed in?"
// check (401 before login) and a deliberately wrong password are expected.
// The console checks its session with /auth/session (always 200), so a normal visit logs
// no error. Only the deliberate wrong-password login in the first test answers 401,
// which Chromium reports as a failed resource load.
const WRONG_PASSWORD_401 = [/Failed to load resource: the server responded with a status of 401/];
const AUTH_NOISE = [];

// ---------------------------------------------------------------------------------------
// The console, seen from a test (the DOM guide is at the top of web/console/console.js).

const C = {
  email: (p) => p.getByTestId('login-email'),
  password: (p) => p.getByTestId('login-password'),
  submit: (p) => p.getByTestId('login-submit'),
  loginError: (p) => p.getByTestId('login-error'),
  queueItem: (p, id) => p.locator(`[data-testid=queue-item][data-conversation-id="${id}"]`),
  tab: (p, id) => p.locator(`[data-testid=chat-tab][data-conversation-id="${id}"]`),
  pane: (p, id) => p.locator(`[data-testid=conversation][data-conversation-id="${id}"]`),
  input: (p, id) => C.pane(p, id).getByTestId('composer-input'),
  visitor: (p, field) => p.getByTestId('visitor-panel').getByTestId(field),
};

async function openConsole(page, server) {
  await page.goto(`${server.url}/console`);
  await C.email(page).waitFor({ state: 'visible' });
}

async function login(page, server) {
  await C.email(page).fill('demo@example.test');
  await C.password(page).fill(server.password);
  await C.password(page).press('Enter');
  await waitConnected(page);
}

function waitConnected(page, timeout = 20_000) {
  return page.waitForFunction(() => window.livehelpConsole?.snapshot().connection === 'online', null, { timeout });
}

/** The visitor starts a chat in the widget; resolves with the queued conversation id. */
async function visitorStarts(visitorPage, consolePage, name) {
  const before = await consolePage.evaluate(() => window.livehelpConsole.snapshot().queue);
  await startChat(visitorPage, name);
  const handle = await consolePage.waitForFunction((before) => {
    const ids = [...document.querySelectorAll('[data-testid=queue-item]')].map((n) => n.dataset.conversationId);
    return ids.find((id) => !before.includes(id));
  }, before, { timeout: 20_000 });
  return handle.jsonValue();
}

async function accept(page, id) {
  await C.queueItem(page, id).getByTestId('accept').click();
  await C.pane(page, id).waitFor({ state: 'visible' });
  await C.pane(page, id).locator('[data-testid=system-message][data-event=operator_joined]').waitFor();
}

async function operatorSend(page, id, text) {
  await C.input(page, id).fill(text);
  await C.input(page, id).press('Enter');
}

/** Waits until the console shows `text` as a stored (not pending) bubble in chat `id`. */
function waitForConsoleBubble(page, id, text, { timeout = 20_000, root = null } = {}) {
  return page.waitForFunction(({ id, text, root }) => {
    const scope = root ? document.querySelector(root) : document.querySelector(`[data-testid=conversation][data-conversation-id="${id}"]`);
    return !!scope && [...scope.querySelectorAll('[data-testid=message]:not(.is-pending)')]
      .some((row) => row.querySelector('[data-testid=message-text]').textContent === text);
  }, { id, text, root }, { timeout });
}

/** Every bubble of a chat in the console: seq, kind, exact text, pending or not. */
function consoleMessages(page, selector) {
  return page.evaluate((selector) => [...document.querySelectorAll(`${selector} [data-testid=message]`)].map((row) => ({
    seq: row.dataset.seq ? Number(row.dataset.seq) : null,
    kind: row.dataset.kind,
    pending: row.classList.contains('is-pending'),
    text: row.querySelector('[data-testid=message-text]').textContent,
  })), selector);
}

const paneSelector = (id) => `[data-testid=conversation][data-conversation-id="${id}"]`;

// ---------------------------------------------------------------------------------------

test('console: login, queue with waiting time, accept, 10+ messages each way (Hebrew, Chinese, emoji), typing, visitor panel, end, history transcript', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const operatorContext = await s.browser({ viewport: { width: 1360, height: 840 } });
  const page = operatorContext.pages()[0];
  const w = watch(page, { allow: WRONG_PASSWORD_401 });
  const visitorContext = await s.browser();
  const visitor = visitorContext.pages()[0];
  const vw = watch(visitor);

  await openConsole(page, server);
  await screenshot(page, 'console-login');
  await C.email(page).fill('demo@example.test');
  await C.password(page).fill('not-the-password');
  await C.submit(page).click();
  await assert.doesNotReject(C.loginError(page).filter({ hasText: /wrong email or password/i }).waitFor());
  await login(page, server);
  assert.equal(await page.getByTestId('me-name').textContent(), 'Dana (demo)');

  await openDemo(visitor, server);
  const id = await visitorStarts(visitor, page, 'Ann 🌷');
  const item = C.queueItem(page, id);
  assert.equal(await item.getByTestId('queue-name').textContent(), 'Ann 🌷');
  const firstWait = await item.getByTestId('queue-wait').textContent();
  assert.match(firstWait, /^Waiting \d+:\d\d$/);
  await page.waitForFunction(({ id, firstWait }) => document.querySelector(`[data-testid=queue-item][data-conversation-id="${id}"] [data-testid=queue-wait]`).textContent !== firstWait, { id, firstWait });
  assert.match(await item.getByTestId('accept').getAttribute('aria-label'), /^Accept chat with Ann 🌷, waiting \d+:\d\d$/);
  await screenshot(page, 'console-queue');

  await accept(page, id);
  await waitForSystem(visitor, 'operator_joined');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'composer-input', 'accepting focuses the message box');

  // Typing, both ways.
  await W.input(visitor).pressSequentially('typing…', { delay: 20 });
  await C.pane(page, id).locator('[data-testid=typing-indicator]:not(.is-idle)').waitFor();
  assert.match(await C.pane(page, id).getByTestId('typing-indicator').textContent(), /Ann 🌷 is typing/);
  await W.input(visitor).fill('');
  await C.input(page, id).pressSequentially('hello', { delay: 20 });
  await visitor.getByTestId('lh-typing').waitFor({ state: 'visible' });
  await C.input(page, id).fill('');

  const visitorLines = ['Hi, I need help with my order', 'שלום, ההזמנה שלי לא הגיעה', '你好，我的订单还没到', 'Order #A-17 👍🏽👨‍👩‍👧',
    'It was a lamp 💡', 'מספר ההזמנה 4411', '谢谢你的帮助', 'Is express shipping possible?', 'ok 👌', 'Great, thanks! 🙏', 'Bye 👋'];
  const operatorLines = ['Hello Ann! Let me check that for you.', 'בוודאי, אני בודקת', '我来帮你查一下', 'Found it: #A-17 📦',
    'The lamp ships today 🚚', 'תודה על הסבלנות', '明天送到', 'Yes, express is possible.', 'Anything else? 🙂', 'You are welcome!', 'Goodbye 👋'];
  const expected = [];
  for (let i = 0; i < visitorLines.length; i++) {
    await visitorSend(visitor, visitorLines[i]);
    expected.push({ kind: 'visitor', text: visitorLines[i] });
    await waitForConsoleBubble(page, id, visitorLines[i]);
    await operatorSend(page, id, operatorLines[i]);
    expected.push({ kind: 'operator', text: operatorLines[i] });
    await waitForBubble(visitor, operatorLines[i], { author: 'operator' });
  }
  // Shift+Enter makes a new line instead of sending.
  await C.input(page, id).fill('line one');
  await C.input(page, id).press('Shift+Enter');
  await C.input(page, id).pressSequentially('line two');
  await C.input(page, id).press('Enter');
  expected.push({ kind: 'operator', text: 'line one\nline two' });
  await waitForBubble(visitor, 'line one\nline two', { author: 'operator' });
  await waitForConsoleBubble(page, id, 'line one\nline two');

  const shown = await consoleMessages(page, paneSelector(id));
  assert.deepEqual(shown.map(({ kind, text }) => ({ kind, text })), expected, 'console shows every message once, in order');
  assert.equal(shown.filter((m) => m.pending).length, 0);
  assert.deepEqual(shown.map((m) => m.seq), [...shown.map((m) => m.seq)].sort((a, b) => a - b));
  const widgetShown = await widgetMessages(visitor);
  assert.deepEqual(widgetShown.map(({ text }) => text), expected.map((m) => m.text), 'the widget matches');
  const attrs = await page.evaluate((sel) => [...document.querySelectorAll(`${sel} [data-testid=message-text]`)]
    .map((b) => [b.getAttribute('dir'), getComputedStyle(b).unicodeBidi, !!b.closest('[data-testid=message]').querySelector('time[datetime]')]), paneSelector(id));
  assert.ok(attrs.every(([dir, bidi]) => dir === 'auto' && bidi === 'isolate'), 'bubbles are dir=auto and isolated');
  assert.ok(await page.locator(`${paneSelector(id)} time[datetime]`).count() >= 10, 'messages carry timestamps');
  assert.equal(await page.getAttribute(`${paneSelector(id)} [data-testid=message-list]`, 'role'), 'log');
  assert.equal(await page.getAttribute(`${paneSelector(id)} [data-testid=message-list]`, 'aria-live'), 'polite');

  // Visitor panel: parsed browser and OS, IP, current page, new visitor.
  await C.visitor(page, 'visitor-browser').filter({ hasText: /Chrom/ }).waitFor();
  assert.equal(await C.visitor(page, 'visitor-name').textContent(), 'Ann 🌷');
  assert.equal(await C.visitor(page, 'visitor-os').textContent(), 'Linux');
  assert.match(await C.visitor(page, 'visitor-ip').textContent(), /^127\.0\.0\.1$|^::1$/);
  assert.equal(await C.visitor(page, 'visitor-returning').getAttribute('data-returning'), 'false');
  await C.visitor(page, 'visitor-page').filter({ hasText: '/demo' }).waitFor();
  await screenshot(page, 'console-chat');

  // End the chat from the console (two steps: End chat, then confirm).
  await C.pane(page, id).getByTestId('end-chat').click();
  await C.pane(page, id).getByTestId('end-chat-confirm').click();
  await C.pane(page, id).getByTestId('ended-notice').waitFor({ state: 'visible' });
  await C.pane(page, id).locator('[data-testid=system-message][data-event=chat_ended]').waitFor();
  await waitForSystem(visitor, 'chat_ended');
  await screenshot(page, 'console-ended');

  // History: the ended conversation is listed; its transcript matches.
  await page.getByTestId('nav-history').click();
  const row = page.locator(`[data-testid=history-item][data-conversation-id="${id}"]`);
  await row.waitFor();
  await screenshot(page, 'console-history');
  await row.getByTestId('history-open').click();
  await waitForConsoleBubble(page, id, 'line one\nline two', { root: '[data-testid=transcript]' });
  const transcript = await consoleMessages(page, '[data-testid=transcript]');
  assert.deepEqual(transcript.map(({ kind, text }) => ({ kind, text })), expected, 'history transcript matches the chat');
  await page.locator('[data-testid=transcript] [data-testid=system-message][data-event=chat_ended]').waitFor();
  await screenshot(page, 'console-transcript');
  w.assertClean('console');
  vw.assertClean('widget');
});

test('br_09_console_renders_xss_in_name_message_and_page_title_literally', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const page = (await s.browser()).pages()[0];
  const w = watch(page, { allow: AUTH_NOISE });
  const visitor = (await s.browser()).pages()[0];
  const vw = watch(visitor);
  await openConsole(page, server);
  await login(page, server);

  const name = `"><img src=x onerror=alert('xss-name')>`;
  const title = '</title><script>alert(2)</script>';
  const messages = ["<script>alert('xss-msg')</script>", "[click](javascript:alert('xss-link'))", '<img src=x onerror=alert(1)>',
    '=HYPERLINK("http://evil.test","x")', '<b>bold?</b> &amp; &lt;'];
  await openDemo(visitor, server);
  await visitor.evaluate((title) => { document.title = title; }, title);
  const id = await visitorStarts(visitor, page, name);
  assert.equal(await C.queueItem(page, id).getByTestId('queue-name').textContent(), name);
  await accept(page, id);
  for (const text of messages) {
    await visitorSend(visitor, text);
    await waitForConsoleBubble(page, id, text);
  }
  await operatorSend(page, id, '<img src=x onerror=alert("op")>');
  await waitForBubble(visitor, '<img src=x onerror=alert("op")>', { author: 'operator' });

  assert.equal(await C.tab(page, id).getByTestId('chat-tab-name').textContent(), name);
  assert.equal(await C.pane(page, id).getByTestId('conversation-name').textContent(), name);
  await C.visitor(page, 'visitor-name').filter({ hasText: name }).waitFor();
  await C.visitor(page, 'visitor-page').filter({ hasText: title }).waitFor();
  const texts = (await consoleMessages(page, paneSelector(id))).map((m) => m.text);
  assert.deepEqual(texts, [...messages, '<img src=x onerror=alert("op")>']);
  // Nothing any visitor typed became an element: no <img>, <script>, <svg>, <b> or link in the app.
  const injected = await page.evaluate(() => document.querySelectorAll('#app img, #app script, #app svg, #app b, #app a[href^="javascript:"]').length);
  assert.equal(injected, 0);
  const csp = (await page.request.get(`${server.url}/console/`)).headers()['content-security-policy'];
  assert.ok(csp && !csp.includes('unsafe-inline'), `CSP without unsafe-inline: ${csp}`);
  await screenshot(page, 'console-br09');

  // The transcript in History renders the same strings literally too.
  await C.pane(page, id).getByTestId('end-chat').click();
  await C.pane(page, id).getByTestId('end-chat-confirm').click();
  await page.getByTestId('nav-history').click();
  await page.locator(`[data-testid=history-item][data-conversation-id="${id}"] [data-testid=history-open]`).click();
  await waitForConsoleBubble(page, id, messages[0], { root: '[data-testid=transcript]' });
  assert.equal(await page.getByTestId('transcript-title').textContent(), name);
  assert.equal(await page.evaluate(() => document.querySelectorAll('#app img, #app script').length), 0);
  await page.waitForTimeout(300); // an onerror handler would have fired by now
  w.assertClean('console');
  vw.assertClean('widget');
});

test('br_13_console_wraps_long_messages_and_isolates_rtl', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const page = (await s.browser({ viewport: { width: 1000, height: 760 } })).pages()[0];
  const w = watch(page, { allow: AUTH_NOISE });
  const visitor = (await s.browser()).pages()[0];
  await openConsole(page, server);
  await login(page, server);
  await openDemo(visitor, server);
  const id = await visitorStarts(visitor, page, 'مرحبا Rami');
  await accept(page, id);
  const inputs = ['A'.repeat(5000), '👍🏽👨‍👩‍👧 ok', 'مرحبا، كيف حالك؟ 123', 'order #A-17 \u200Fتم الشحن', '\u202Egpj.exe', 'e\u0301',
    `https://example.test/${'x'.repeat(400)}`];
  for (const text of inputs) {
    await visitorSend(visitor, text);
    await waitForConsoleBubble(page, id, text);
  }
  const layout = await page.evaluate((sel) => {
    const log = document.querySelector(`${sel} [data-testid=message-list]`);
    const bubbles = [...log.querySelectorAll('[data-testid=message-text]')];
    return {
      log: [log.scrollWidth, log.clientWidth],
      bubbles: bubbles.map((b) => [b.scrollWidth <= b.clientWidth, b.getAttribute('dir'), getComputedStyle(b).unicodeBidi, getComputedStyle(b).direction]),
      page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
    };
  }, paneSelector(id));
  assert.ok(layout.log[0] <= layout.log[1], `message list has no horizontal scroll: ${layout.log}`);
  assert.ok(layout.page[0] <= layout.page[1], `page has no horizontal scroll at 1000px: ${layout.page}`);
  assert.ok(layout.bubbles.every(([fits, dir, bidi]) => fits && dir === 'auto' && bidi === 'isolate'), JSON.stringify(layout.bubbles));
  assert.equal(layout.bubbles[2][3], 'rtl', 'Arabic bubble is right-to-left');
  // The RTL override stays inside its bubble: the author line and the UI around it read normally.
  const header = await C.pane(page, id).locator('.conv-header').textContent();
  assert.ok(header.includes('End chat'));
  // The operator may send long text too; over the limit is refused before sending.
  await operatorSend(page, id, 'B'.repeat(10_001));
  await page.getByTestId('toast').filter({ hasText: /too long/ }).waitFor();
  assert.equal(await C.input(page, id).inputValue(), 'B'.repeat(10_001), 'refused text stays in the box');
  await screenshot(page, 'console-br13-narrow');
  w.assertClean('console');
});

test('console: several chats with unread badges, sound and desktop notification for a new request', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const context = await s.browser();
  await context.grantPermissions(['notifications'], { origin: server.url });
  const page = context.pages()[0];
  const w = watch(page, { allow: AUTH_NOISE });
  const v1 = (await s.browser()).pages()[0];
  const v2 = (await s.browser()).pages()[0];
  await openConsole(page, server);
  await login(page, server);
  assert.equal(await page.getByTestId('notifications-enable').isHidden(), true, 'permission already granted: no button');
  await openDemo(v1, server);
  await openDemo(v2, server);

  // The console tab is in the background when the first request arrives.
  await page.evaluate(() => Object.defineProperty(document, 'hidden', { configurable: true, get: () => true }));
  const id1 = await visitorStarts(v1, page, 'First Fiona');
  await page.waitForFunction((id) => document.body.dataset.lastNotification === id, id1);
  assert.ok(Number(await page.evaluate(() => document.body.dataset.lastChime)) > 0, 'a chime played');
  await page.evaluate(() => { delete document.hidden; });

  await accept(page, id1);
  const id2 = await visitorStarts(v2, page, 'Second Sam');
  await accept(page, id2);
  assert.equal(await C.tab(page, id2).getAttribute('aria-selected'), 'true');
  await visitorSend(v1, 'are you there?');
  await visitorSend(v1, 'hello?');
  await page.waitForFunction((id) => document.querySelector(`[data-testid=chat-tab][data-conversation-id="${id}"] [data-testid=unread-badge]`).textContent === '2', id1);
  assert.equal(await C.tab(page, id1).getByTestId('unread-badge').getAttribute('aria-label'), '2 unread messages');
  assert.match(await page.title(), /^\(2\) /);
  await screenshot(page, 'console-two-chats');
  // Keyboard: arrow keys move between chat tabs and select them; the badge clears.
  await C.tab(page, id2).focus();
  await page.keyboard.press('ArrowUp');
  assert.equal(await C.tab(page, id1).getAttribute('aria-selected'), 'true');
  await C.pane(page, id1).waitFor({ state: 'visible' });
  assert.equal(await C.tab(page, id1).getByTestId('unread-badge').isHidden(), true);
  // Availability: away and back.
  await page.locator('label[for=status-away]').click();
  await page.waitForFunction(() => window.livehelpConsole.snapshot().status === 'away');
  assert.equal(await page.getByTestId('status-away').isChecked(), true);
  await page.getByTestId('status-away').focus();
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction(() => window.livehelpConsole.snapshot().status === 'online');
  w.assertClean('console');
});

test('console: server restart mid-conversation; reconnects, resumes, sends what was typed offline once, in order', async (t) => {
  const s = scope(t);
  let server = await s.server();
  const page = (await s.browser()).pages()[0];
  const w = watch(page, { allow: [...AUTH_NOISE, ...NETWORK_NOISE] });
  const visitor = (await s.browser()).pages()[0];
  const vw = watch(visitor, { allow: NETWORK_NOISE });
  await openConsole(page, server);
  await login(page, server);
  await openDemo(visitor, server);
  const id = await visitorStarts(visitor, page, 'Restart Rosa');
  await accept(page, id);
  const expected = [];
  for (const [who, text] of [['visitor', 'v-before-1'], ['operator', 'o-before-1'], ['visitor', 'v-before-2 שלום']]) {
    if (who === 'visitor') { await visitorSend(visitor, text); await waitForConsoleBubble(page, id, text); }
    else { await operatorSend(page, id, text); await waitForBubble(visitor, text, { author: 'operator' }); }
    expected.push({ kind: who, text });
  }

  await server.stop();
  await page.getByTestId('connection-banner').filter({ hasText: /Reconnecting/ }).waitFor();
  for (const text of ['o-offline-1', 'o-offline-2 你好', 'o-offline-3 🚀']) {
    await operatorSend(page, id, text);
    expected.push({ kind: 'operator', text });
  }
  assert.equal(await page.locator(`${paneSelector(id)} [data-testid=message].is-pending`).count(), 3);
  await page.getByTestId('connection-banner').filter({ hasText: /3 messages will be sent/ }).waitFor();
  await screenshot(page, 'console-offline');

  server = await server.restart();
  await waitConnected(page, 40_000);
  await page.waitForFunction(() => window.livehelpConsole.snapshot().outbox === 0, null, { timeout: 30_000 });
  for (const text of ['o-offline-1', 'o-offline-2 你好', 'o-offline-3 🚀']) {
    await waitForBubble(visitor, text, { author: 'operator', timeout: 40_000 });
    await waitForConsoleBubble(page, id, text);
  }
  await visitorSend(visitor, 'v-after-restart');
  expected.push({ kind: 'visitor', text: 'v-after-restart' });
  await waitForConsoleBubble(page, id, 'v-after-restart', { timeout: 30_000 });
  await operatorSend(page, id, 'o-after-restart');
  expected.push({ kind: 'operator', text: 'o-after-restart' });
  await waitForBubble(visitor, 'o-after-restart', { author: 'operator' });
  await waitForConsoleBubble(page, id, 'o-after-restart');

  const shown = await consoleMessages(page, paneSelector(id));
  assert.deepEqual(shown.map(({ kind, text }) => ({ kind, text })), expected, 'console: every message once, in order');
  const seqs = await page.evaluate((sel) => [...document.querySelectorAll(`${sel} [data-seq]`)].map((n) => Number(n.dataset.seq)), paneSelector(id));
  assert.equal(new Set(seqs).size, seqs.length, 'no seq shown twice');
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  const widget = await widgetMessages(visitor);
  assert.deepEqual(widget.map(({ text }) => text), expected.map((m) => m.text), 'widget: every message once, in order');
  await screenshot(page, 'console-after-restart');
  w.assertClean('console');
  vw.assertClean('widget');
});

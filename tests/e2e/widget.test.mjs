// The visitor widget in a real browser (Debian's chromium), against the real server.
// Run with tests/e2e/run.sh. Each test starts its own `livehelp serve --demo` on a free
// port with a fresh data dir and kills it at the end.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  NETWORK_NOISE, Operator, ROOT, W, openDemo, scope, screenshot, startChat, startServer, visitorSend,
  waitForBubble, waitForSystem, watch, widgetMessages,
} from './lib.mjs';

const TOKEN_KEY = 'livehelp:demo-site-key:visitor';

/** Starts a chat in the widget and has the operator accept it; returns the conversation id. */
async function connectedChat(page, op, name) {
  const before = new Set(op.frames.flatMap((f) => (f.type === 'conversation' ? [f.conversation.id] : [])));
  await startChat(page, name);
  const conversation = await op.acceptNext({ visitorName: name === '' ? null : name, after: before });
  await waitForSystem(page, 'operator_joined');
  return conversation.id;
}

test('widget_size_budget: loader plus widget under 15 KB gzipped', () => {
  const dir = path.join(ROOT, 'web/widget');
  let total = 0;
  for (const file of readdirSync(dir)) {
    const size = gzipSync(readFileSync(path.join(dir, file)), { level: 9 }).length;
    console.log(`# ${file}: ${size} bytes gzipped`);
    total += size;
  }
  console.log(`# web/widget total: ${total} bytes gzipped (budget 15360)`);
  assert.ok(total < 15 * 1024, `widget is ${total} bytes gzipped`);
});

test('widget loads on /demo with exactly one new global and stores nothing before interaction', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const context = await s.browser();
  const page = context.pages()[0];
  const w = watch(page);
  const requests = [];
  const sockets = [];
  page.on('request', (request) => requests.push(request));
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.addInitScript(() => {
    Object.defineProperty(window, '__e2eBaseline', { value: Object.getOwnPropertyNames(window), enumerable: false });
  });
  await openDemo(page, server);
  await page.waitForFunction(() => !!document.querySelector('livehelp-widget')?.shadowRoot.querySelector('[data-testid=lh-privacy-link]'));

  const globals = await page.evaluate(() => Object.getOwnPropertyNames(window)
    .filter((name) => !window.__e2eBaseline.includes(name) && name !== '__e2eBaseline'));
  assert.deepEqual(globals, ['LiveHelp']);
  const api = await page.evaluate(() => ['open', 'close', 'consent', 'reset'].map((m) => typeof window.LiveHelp[m]));
  assert.deepEqual(api, ['function', 'function', 'function', 'function']);
  assert.equal(await page.evaluate(() => document.querySelector('script[src="/widget.js"]').async), true, 'snippet loads async');
  assert.equal(await page.evaluate(() => document.querySelector('livehelp-widget').shadowRoot.mode), 'open');
  // The widget's styles live in its shadow root, not in the page.
  assert.equal(await page.evaluate(() => [...document.styleSheets].every((sheet) => sheet.href?.endsWith('/demo/demo.css'))), true);

  const checkNothingStored = async (when) => {
    const state = await page.evaluate(async () => ({
      cookie: document.cookie, local: localStorage.length, session: sessionStorage.length,
      idb: (await indexedDB.databases()).length,
    }));
    assert.deepEqual(state, { cookie: '', local: 0, session: 0, idb: 0 }, `storage ${when}`);
    assert.deepEqual(await context.cookies(), [], `cookies ${when}`);
    const identifying = requests.filter((r) => /visitor-session|\/ws\//.test(r.url()));
    assert.deepEqual(identifying.map((r) => r.url()), [], `identifying requests ${when}`);
    assert.deepEqual(sockets, [], `websockets ${when}`);
  };
  await checkNothingStored('before any interaction');
  const config = requests.find((r) => r.url().endsWith('/api/v1/sites/demo-site-key/widget-config'));
  assert.ok(config, 'widget-config was fetched');
  const headers = await config.allHeaders();
  assert.equal(headers.authorization, undefined);
  assert.equal(headers.cookie, undefined);

  // Opening and closing the panel sends and stores nothing either: only starting a chat does.
  await W.launcher(page).click();
  await W.panel(page).waitFor({ state: 'visible' });
  await page.keyboard.press('Escape');
  await W.panel(page).waitFor({ state: 'hidden' });
  await checkNothingStored('after opening the panel');
  await screenshot(page, 'demo-page');
  w.assertClean();
});

test('privacy link shown before any details; keyboard-only use; focus, Escape and ARIA', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const op = await Operator.login(s, server);
  const context = await s.browser({ reducedMotion: 'reduce' });
  const page = context.pages()[0];
  const w = watch(page);
  await openDemo(page, server);
  const active = () => page.evaluate(() => document.querySelector('livehelp-widget').shadowRoot.activeElement?.dataset.testid ?? null);

  await W.launcher(page).focus();
  assert.equal(await W.launcher(page).getAttribute('aria-expanded'), 'false');
  await page.keyboard.press('Enter');
  await W.panel(page).waitFor({ state: 'visible' });
  assert.equal(await W.launcher(page).getAttribute('aria-expanded'), 'true');
  assert.equal(await W.panel(page).getAttribute('role'), 'dialog');
  assert.equal(await page.evaluate(() => {
    const root = document.querySelector('livehelp-widget').shadowRoot;
    return root.getElementById(root.querySelector('[role=dialog]').getAttribute('aria-labelledby')).textContent;
  }), 'Demo Company');
  assert.equal(await active(), 'lh-name', 'focus moves into the panel');

  // M19: the tenant's privacy policy link is visible, and comes before the name field.
  const link = W.privacyLink(page);
  assert.equal(await link.isVisible(), true);
  assert.equal(await link.getAttribute('href'), 'https://example.com/privacy');
  assert.equal(await page.evaluate(() => {
    const root = document.querySelector('livehelp-widget').shadowRoot;
    const a = root.querySelector('[data-testid=lh-privacy-link]');
    const name = root.querySelector('[data-testid=lh-name]');
    return !!(a.compareDocumentPosition(name) & Node.DOCUMENT_POSITION_FOLLOWING);
  }), true, 'privacy link precedes the name field');
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('livehelp-widget').shadowRoot
    .querySelector('[role=dialog]')).animationName), 'none', 'prefers-reduced-motion: no animation');
  await screenshot(page, 'widget-intro');

  // Keyboard only: type a name, Tab to "Start chat", Enter; then type and send with Enter.
  await page.keyboard.type('Keyboard Kim');
  await page.keyboard.press('Tab');
  assert.equal(await active(), 'lh-start');
  await page.keyboard.press('Enter');
  await W.input(page).waitFor({ state: 'visible' });
  assert.equal(await active(), 'lh-input', 'focus moves to the message box');
  const conversation = await op.acceptNext({ visitorName: 'Keyboard Kim' });
  await waitForSystem(page, 'operator_joined');
  assert.equal(await W.log(page).getAttribute('role'), 'log');
  assert.equal(await W.log(page).getAttribute('aria-live'), 'polite');
  await page.keyboard.type('typed with the keyboard only');
  await page.keyboard.press('Enter');
  await waitForBubble(page, 'typed with the keyboard only', { author: 'visitor' });
  await op.waitForMessage(conversation.id, 'typed with the keyboard only');

  // Escape closes and gives focus back to the launcher; Enter reopens into the message box.
  await page.keyboard.press('Escape');
  await W.panel(page).waitFor({ state: 'hidden' });
  assert.equal(await active(), 'lh-launcher');
  await page.keyboard.press('Enter');
  await W.panel(page).waitFor({ state: 'visible' });
  assert.equal(await active(), 'lh-input');
  w.assertClean();
});

test('a visitor and an operator hold a conversation: 12 messages each way, Hebrew, Chinese, emoji, typing, end', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const op = await Operator.login(s, server);
  const context = await s.browser();
  const page = context.pages()[0];
  const w = watch(page);
  await openDemo(page, server);
  const conversationId = await connectedChat(page, op, 'דנה 🌷');
  assert.match(await W.status(page).textContent(), /Chatting with/);

  // Typing both ways.
  op.typing(conversationId, true);
  await page.getByTestId('lh-typing').waitFor({ state: 'visible' });
  assert.match(await page.getByTestId('lh-typing').textContent(), /is typing/);
  op.typing(conversationId, false);
  await page.getByTestId('lh-typing').waitFor({ state: 'hidden' });
  const typingFrom = op.frames.length;
  await W.input(page).pressSequentially('hel', { delay: 30 });
  const typing = await op.waitFor((f) => f.type === 'typing' && f.conversation_id === conversationId, { from: typingFrom });
  assert.equal(typing.is_typing, true);
  assert.equal(typing.author.kind, 'visitor');
  await W.input(page).fill('');

  const visitorTexts = [
    'Hello! Do you ship to Canada?', 'שלום, אני מחפשת מתנה ליום הולדת', '你好，我想问一下运费是多少？',
    'Emoji check 👍🏽👨‍👩‍👧 ok 🎉', 'order #A-17 ‏נשלח אתמול', 'Can I pay with PayPal?',
    'The mug in blue, please 🙂', 'מה זמן המשלוח לתל אביב?', '谢谢！那退货政策呢？',
    'Two lines:\nsecond line here', 'Great, thanks a lot!', 'Bye 👋',
  ];
  const operatorTexts = [
    'Hi Dana! Yes, we ship to Canada.', 'בשמחה! איזה סגנון היא אוהבת?', '你好！运费是五美元。',
    '😄👍 Got it', 'אני בודקת את ההזמנה שלך', 'Yes, PayPal works.',
    'Blue mug added to your cart 💙', 'שלושה ימי עסקים', '60天内可以退货。',
    'Noted both lines.', 'You are welcome!', 'Have a lovely day 🌷',
  ];
  for (let i = 0; i < visitorTexts.length; i++) {
    await visitorSend(page, visitorTexts[i]);
    await op.waitForMessage(conversationId, visitorTexts[i]);
    await op.say(conversationId, operatorTexts[i]);
    await waitForBubble(page, operatorTexts[i], { author: 'operator' });
    if (i === 4) await screenshot(page, 'widget-conversation');
  }
  await waitForBubble(page, visitorTexts.at(-1), { author: 'visitor' });

  const expected = visitorTexts.flatMap((v, i) => [{ author: 'visitor', text: v }, { author: 'operator', text: operatorTexts[i] }]);
  const shown = await widgetMessages(page);
  assert.deepEqual(shown.map(({ author, text }) => ({ author, text })), expected);
  assert.ok(shown.every((m) => m.state === 'sent'));
  assert.equal(new Set(shown.map((m) => m.id)).size, shown.length, 'no message shown twice');
  assert.ok(shown.every((m, i) => i === 0 || m.seq > shown[i - 1].seq), 'seq strictly increasing');
  const bubbles = await page.evaluate(() => [...document.querySelector('livehelp-widget').shadowRoot
    .querySelectorAll('[data-testid=lh-message]')].map((row) => ({
      dir: row.querySelector('[data-testid=lh-message-text]').getAttribute('dir'),
      time: row.querySelector('time')?.getAttribute('datetime') ?? null,
      label: row.querySelector('time')?.textContent ?? '',
    })));
  assert.ok(bubbles.every((b) => b.dir === 'auto' && b.time && /\d/.test(b.label)), 'every bubble has dir=auto and a timestamp');
  const hebrewDirection = await page.evaluate((text) => {
    const root = document.querySelector('livehelp-widget').shadowRoot;
    const bubble = [...root.querySelectorAll('[data-testid=lh-message-text]')].find((b) => b.textContent === text);
    return getComputedStyle(bubble).direction;
  }, visitorTexts[1]);
  assert.equal(hebrewDirection, 'rtl');

  // The transcript on the server matches what both sides saw.
  const transcript = await op.transcript(conversationId);
  assert.equal(transcript.conversation.visitor.name, 'דנה 🌷');
  assert.deepEqual(transcript.messages.filter((m) => m.kind !== 'system')
    .map((m) => ({ author: m.kind, text: m.text })), expected);

  // The visitor ends the chat.
  await W.end(page).click();
  await waitForSystem(page, 'chat_ended');
  await op.waitFor((f) => f.type === 'conversation' && f.conversation.id === conversationId && f.conversation.state === 'ended');
  assert.equal(await W.status(page).textContent(), 'Chat ended');
  assert.equal(await page.getByTestId('lh-new-chat').isVisible(), true);
  assert.equal(await W.input(page).isVisible(), false);
  await screenshot(page, 'widget-ended');

  // "Start a new chat" opens a second conversation for the same visitor, with a clean log.
  const ended = new Set([conversationId]);
  await page.getByTestId('lh-new-chat').click();
  const second = await op.acceptNext({ visitorName: 'דנה 🌷', after: ended });
  assert.notEqual(second.id, conversationId);
  await waitForSystem(page, 'operator_joined');
  assert.deepEqual(await widgetMessages(page), []);
  await visitorSend(page, 'one more question');
  await op.waitForMessage(second.id, 'one more question');
  // The operator may end it too.
  await op.end(second.id);
  await waitForSystem(page, 'chat_ended');
  assert.equal(await W.status(page).textContent(), 'Chat ended');
  w.assertClean();
});

test('br_09_xss_name_message_and_page_title_render_literally', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const op = await Operator.login(s, server);
  const context = await s.browser();
  const page = context.pages()[0];
  const w = watch(page);
  await openDemo(page, server);
  const name = `"><img src=x onerror=alert('xss-name')>`;
  const title = '</title><script>alert(2)</script>';
  await page.evaluate((title) => { document.title = title; }, title);
  const conversationId = await connectedChat(page, op, name);

  const payloads = [
    "<script>alert('xss-msg')</script>", '[click](javascript:alert(\'xss-link\'))', '<img src=x onerror=alert(1)>',
    'company=<svg onload=alert(1)>', '=HYPERLINK("http://evil.test","x")',
  ];
  for (const text of payloads) {
    await visitorSend(page, text);
    const received = await op.waitForMessage(conversationId, text);
    assert.equal(received.message.author.name, name, 'the API returns the raw name');
    await op.say(conversationId, `echo ${text}`);
    await waitForBubble(page, `echo ${text}`, { author: 'operator' });
  }
  const shown = await widgetMessages(page);
  assert.deepEqual(shown.map((m) => m.text), payloads.flatMap((p) => [p, `echo ${p}`]));
  const injected = await page.evaluate(() => {
    const root = document.querySelector('livehelp-widget').shadowRoot;
    return root.querySelector('[data-testid=lh-log]').querySelectorAll('img, script, svg, a, b').length
      + document.querySelectorAll('img[src=x], body > script:not([src])').length;
  });
  assert.equal(injected, 0, 'no element was created from typed text');

  const transcript = await op.transcript(conversationId);
  assert.equal(transcript.conversation.visitor.name, name);
  const visitor = await fetch(`${server.url}/api/v1/conversations/${conversationId}/visitor`, { headers: { Cookie: op.cookie } });
  if (visitor.status === 200) {
    const body = await visitor.json();
    assert.equal(body.name, name);
    assert.equal(body.current_page?.title, title, 'the page title is stored raw');
  } else {
    t.diagnostic(`GET /api/v1/conversations/{id}/visitor answered ${visitor.status}: page title not checked`);
  }
  const csp = (await fetch(`${server.url}/demo/`)).headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  await page.waitForTimeout(300); // a late onerror would fire now
  await screenshot(page, 'br09-xss-literal');
  w.assertClean();
});

test('br_13_long_emoji_and_rtl_messages_wrap_and_stay_isolated', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const op = await Operator.login(s, server);
  const context = await s.browser();
  const page = context.pages()[0];
  const w = watch(page);
  await openDemo(page, server);
  const conversationId = await connectedChat(page, op, 'Wrap tester');

  const texts = ['A'.repeat(5000), '👍🏽👨‍👩‍👧 ok', 'مرحبا، كيف حالك؟ 123', 'order #A-17 ‏تم الشحن', '\u202Egpj.exe', 'e\u0301',
    'https://example.com/' + 'very-long-path-segment/'.repeat(20)];
  for (const text of texts) {
    await visitorSend(page, text);
    const received = await op.waitForMessage(conversationId, text);
    assert.equal(received.message.text, text, 'byte-for-byte identical');
  }
  await op.say(conversationId, 'B'.repeat(3000));
  await waitForBubble(page, 'B'.repeat(3000), { author: 'operator' });
  for (const text of texts) await waitForBubble(page, text, { author: 'visitor' });

  const layout = await page.evaluate(() => {
    const root = document.querySelector('livehelp-widget').shadowRoot;
    const log = root.querySelector('[data-testid=lh-log]');
    return {
      log: { scroll: log.scrollWidth, client: log.clientWidth },
      bubbles: [...root.querySelectorAll('[data-testid=lh-message-text]')].map((b) => ({
        text: b.textContent.slice(0, 20), scroll: b.scrollWidth, client: b.clientWidth, dir: b.getAttribute('dir'),
        bidi: getComputedStyle(b).unicodeBidi, direction: getComputedStyle(b).direction,
      })),
    };
  });
  assert.ok(layout.log.scroll <= layout.log.client, `log scrolls sideways: ${JSON.stringify(layout.log)}`);
  for (const b of layout.bubbles) {
    assert.ok(b.scroll <= b.client, `bubble overflows: ${JSON.stringify(b)}`);
    assert.equal(b.dir, 'auto');
    assert.equal(b.bidi, 'isolate');
  }
  assert.equal(layout.bubbles.find((b) => b.text.startsWith('مرحبا')).direction, 'rtl');
  // The RTL override stays inside its bubble: the status line and the input are unaffected.
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('livehelp-widget').shadowRoot
    .querySelector('[data-testid=lh-input]')).direction), 'ltr');

  // Over-length text is refused with a clear message and not sent; NUL is refused by the server.
  await visitorSend(page, 'x'.repeat(10_001));
  await page.getByTestId('lh-note').waitFor({ state: 'visible' });
  assert.match(await page.getByTestId('lh-note').textContent(), /too long.*10001.*10000/i);
  assert.equal((await widgetMessages(page)).some((m) => m.text.length === 10_001), false);
  await W.input(page).fill('');
  await page.evaluate(() => {
    const input = document.querySelector('livehelp-widget').shadowRoot.querySelector('[data-testid=lh-input]');
    input.value = 'nul \u0000 inside';
  });
  await W.send(page).click();
  await page.waitForFunction(() => [...document.querySelector('livehelp-widget').shadowRoot
    .querySelectorAll('[data-testid=lh-message][data-state=failed]')].length === 1);
  await screenshot(page, 'br13-wrap-rtl');
  w.assertClean();
});

test('server restart mid-conversation: the widget reconnects, nothing is lost or doubled, offline messages go in order', async (t) => {
  const s = scope(t);
  let server = await s.server();
  const op = await Operator.login(s, server);
  const context = await s.browser();
  const page = context.pages()[0];
  const w = watch(page, { allow: NETWORK_NOISE });
  await openDemo(page, server);
  const conversationId = await connectedChat(page, op, 'Restart Rosa');
  const sent = [];
  for (const [who, text] of [['visitor', 'before-1'], ['operator', 'op-before-1'], ['visitor', 'before-2'], ['operator', 'op-before-2']]) {
    if (who === 'visitor') { await visitorSend(page, text); await op.waitForMessage(conversationId, text); }
    else { await op.say(conversationId, text); await waitForBubble(page, text, { author: 'operator' }); }
    sent.push({ author: who, text });
  }

  // Graceful stop: the server closes sockets with 1001 "going away".
  await server.stop();
  assert.equal(await op.closed, 1001);
  await page.waitForFunction(() => /reconnecting/i.test(document.querySelector('livehelp-widget').shadowRoot
    .querySelector('[data-testid=lh-status]').textContent));
  for (const text of ['offline-1', 'offline-2 שלום', 'offline-3 你好']) {
    await visitorSend(page, text);
    sent.push({ author: 'visitor', text });
  }
  await page.waitForFunction(() => document.querySelector('livehelp-widget').shadowRoot
    .querySelectorAll('[data-testid=lh-message][data-state=sending]').length === 3);
  await screenshot(page, 'widget-offline-queued');

  server = await startServer(s, { dataDir: server.dataDir, listen: server.address });
  await op.connect(server);
  op.send({ type: 'resume', conversation_id: conversationId, after_seq: op.lastSeq(conversationId) });
  for (const text of ['offline-1', 'offline-2 שלום', 'offline-3 你好']) await op.waitForMessage(conversationId, text, { timeout: 30_000 });
  for (const text of ['offline-1', 'offline-2 שלום', 'offline-3 你好']) await waitForBubble(page, text, { author: 'visitor' });
  await op.say(conversationId, 'op-after-restart');
  sent.push({ author: 'operator', text: 'op-after-restart' });
  await waitForBubble(page, 'op-after-restart', { author: 'operator' });
  await visitorSend(page, 'after-restart');
  sent.push({ author: 'visitor', text: 'after-restart' });
  await op.waitForMessage(conversationId, 'after-restart');
  await waitForBubble(page, 'after-restart', { author: 'visitor' });

  const shown = await widgetMessages(page);
  assert.deepEqual(shown.map(({ author, text }) => ({ author, text })), sent, 'widget: every message once, in order');
  assert.equal(new Set(shown.map((m) => m.id)).size, shown.length);
  const opIds = op.messages(conversationId).map((m) => m.id);
  assert.equal(new Set(opIds).size, opIds.length, 'operator received no message twice');
  const transcript = await op.transcript(conversationId);
  assert.deepEqual(transcript.messages.filter((m) => m.kind !== 'system').map((m) => ({ author: m.kind, text: m.text })), sent);
  assert.match(await W.status(page).textContent(), /Chatting with/);
  w.assertClean();
});

test('returning visitor: after a reload the conversation continues; a stale token is dropped', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const op = await Operator.login(s, server);
  const context = await s.browser();
  const page = context.pages()[0];
  const w = watch(page);
  await openDemo(page, server);
  const conversationId = await connectedChat(page, op, 'Returning Rita');
  await visitorSend(page, 'first visit');
  await op.waitForMessage(conversationId, 'first visit');
  await op.say(conversationId, 'welcome, Rita');
  await waitForBubble(page, 'welcome, Rita');
  const token = await page.evaluate((key) => localStorage.getItem(key), TOKEN_KEY);
  assert.match(token ?? '', /^[0-9a-f]{64}$/, 'token kept in localStorage after interaction');
  assert.deepEqual(await page.evaluate(() => [Object.keys(localStorage), sessionStorage.length, document.cookie]),
    [[TOKEN_KEY], 0, ''], 'nothing else is stored');

  const checks = [];
  page.on('request', (r) => { if (r.url().endsWith('/api/v1/visitor-session')) checks.push(r); });
  // Come back on another page of the site: the widget reports it with a page_view frame.
  await page.goto(`${server.url}/demo/index.html`);
  await W.launcher(page).waitFor({ state: 'visible' });
  await W.launcher(page).click();
  await waitForBubble(page, 'welcome, Rita', { author: 'operator' });
  assert.equal(checks.length, 1, 'the stored token is checked once');
  assert.equal((await checks[0].allHeaders()).authorization, `Bearer ${token}`);
  assert.deepEqual((await widgetMessages(page)).map((m) => m.text), ['first visit', 'welcome, Rita']);
  assert.match(await W.status(page).textContent(), /Chatting with/);
  await visitorSend(page, 'back after reload');
  const received = await op.waitForMessage(conversationId, 'back after reload');
  assert.equal(received.message.conversation_id, conversationId, 'same conversation');
  const session = await (await fetch(`${server.url}/api/v1/visitor-session`, { headers: { Authorization: `Bearer ${token}` } })).json();
  t.diagnostic(`visitor-session after reload: ${JSON.stringify(session)}`);
  assert.equal(session.name, 'Returning Rita');
  assert.equal(typeof session.returning, 'boolean');
  const panel = await (await fetch(`${server.url}/api/v1/conversations/${conversationId}/visitor`, { headers: { Cookie: op.cookie } })).json();
  assert.equal(panel.current_page?.url, `${server.url}/demo/index.html`, 'page_view updated the current page');

  // A token the server does not know is dropped and the visitor starts over.
  w.allow.push(/status of 401/);
  await page.evaluate((key) => localStorage.setItem(key, 'f'.repeat(64)), TOKEN_KEY);
  await page.reload();
  await W.launcher(page).waitFor({ state: 'visible' });
  await page.waitForFunction((key) => localStorage.getItem(key) === null, TOKEN_KEY);
  await W.launcher(page).click();
  await W.name(page).waitFor({ state: 'visible' });
  w.assertClean();
});

test('chat still works with cookies and storage blocked', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const op = await Operator.login(s, server);
  const context = await s.browser();
  const page = context.pages()[0];
  const w = watch(page);
  await page.addInitScript(() => {
    const deny = () => { throw new DOMException('The operation is insecure.', 'SecurityError'); };
    for (const name of ['localStorage', 'sessionStorage', 'indexedDB']) Object.defineProperty(window, name, { get: deny, configurable: true });
    Object.defineProperty(Document.prototype, 'cookie', { get: deny, set: deny, configurable: true });
  });
  await openDemo(page, server);
  assert.equal(await page.evaluate(() => { try { return typeof localStorage.length; } catch (e) { return e.name; } }), 'SecurityError');
  const conversationId = await connectedChat(page, op, 'No Cookies Nora');
  for (let i = 1; i <= 3; i++) {
    await visitorSend(page, `no-storage ${i}`);
    await op.waitForMessage(conversationId, `no-storage ${i}`);
    await op.say(conversationId, `reply ${i}`);
    await waitForBubble(page, `reply ${i}`, { author: 'operator' });
  }
  // The consent banner's Accept and LiveHelp.consent(true) must not throw either.
  await page.getByRole('button', { name: 'Accept' }).click();
  await page.evaluate(() => window.LiveHelp.consent(true));
  await visitorSend(page, 'after consent');
  await op.waitForMessage(conversationId, 'after consent');
  await W.end(page).click();
  await waitForSystem(page, 'chat_ended');
  w.assertClean();
});

test('consent: the banner decides what is stored; unread badge while the panel is closed', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const op = await Operator.login(s, server);
  const context = await s.browser();
  const page = context.pages()[0];
  const w = watch(page);
  await openDemo(page, server);
  const widgetKeys = () => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('livehelp:')));

  // "No thanks" on the host's banner calls LiveHelp.consent(false): the chat works, the
  // widget stores nothing (the host page keeps its own answer, which is its business).
  await page.getByRole('button', { name: 'No thanks' }).click();
  const conversationId = await connectedChat(page, op, 'Declining Dee');
  await visitorSend(page, 'no cookies for me');
  await op.waitForMessage(conversationId, 'no cookies for me');
  assert.deepEqual(await widgetKeys(), []);
  assert.equal(await page.evaluate(() => document.cookie), '');

  // Consent given later: the token is kept from then on; withdrawn: it is removed again.
  await page.evaluate(() => window.LiveHelp.consent(true));
  assert.deepEqual(await widgetKeys(), [TOKEN_KEY]);
  await page.evaluate(() => window.LiveHelp.consent(false));
  assert.deepEqual(await widgetKeys(), []);

  // With the panel closed, an operator message shows a badge on the launcher.
  await page.evaluate(() => window.LiveHelp.close());
  await W.panel(page).waitFor({ state: 'hidden' });
  await op.say(conversationId, 'are you still there?');
  await page.getByTestId('lh-badge').waitFor({ state: 'visible' });
  assert.equal(await page.getByTestId('lh-badge').textContent(), '1');
  assert.match(await W.launcher(page).getAttribute('aria-label'), /\(1\)/);
  await screenshot(page, 'widget-unread-badge');
  await page.evaluate(() => window.LiveHelp.open());
  await W.panel(page).waitFor({ state: 'visible' });
  assert.equal(await page.getByTestId('lh-badge').isVisible(), false);
  await waitForBubble(page, 'are you still there?', { author: 'operator' });
  w.assertClean();
});

test('br_11_visitor_identities_are_not_mixed', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const op = await Operator.login(s, server);

  // A: two visitors in separate browsers give the same name.
  const v1 = (await s.browser()).pages()[0];
  const v2 = (await s.browser()).pages()[0];
  const w1 = watch(v1);
  const w2 = watch(v2);
  const v2Frames = [];
  v2.on('websocket', (ws) => ws.on('framereceived', (f) => v2Frames.push(String(f.payload))));
  await openDemo(v1, server);
  await openDemo(v2, server);
  const c1 = await connectedChat(v1, op, 'Sam Same');
  const c2 = await connectedChat(v2, op, 'Sam Same');
  assert.notEqual(c1, c2);
  await op.say(c1, 'for-V1-only-7f3a');
  await waitForBubble(v1, 'for-V1-only-7f3a');
  await op.say(c2, 'for-V2-only');
  await waitForBubble(v2, 'for-V2-only');
  assert.equal(v2Frames.some((f) => f.includes('for-V1-only-7f3a') || f.includes(c1)), false, 'V2 got nothing of V1');
  assert.deepEqual((await widgetMessages(v2)).map((m) => m.text), ['for-V2-only']);

  // B: one shared browser; the host page switches user with LiveHelp.reset().
  const framesAfterReset = [];
  let reset = false;
  v1.on('websocket', (ws) => ws.on('framereceived', (f) => { if (reset) framesAfterReset.push(String(f.payload)); }));
  await visitorSend(v1, 'A-private-91');
  await op.waitForMessage(c1, 'A-private-91');
  const tokenA = await v1.evaluate((key) => localStorage.getItem(key), TOKEN_KEY);
  assert.ok(tokenA);
  reset = true;
  await v1.evaluate(() => window.LiveHelp.reset());
  assert.equal(await v1.evaluate((key) => localStorage.getItem(key), TOKEN_KEY), null, 'reset forgets the stored token');
  assert.deepEqual(await widgetMessages(v1), [], 'none of A\'s messages remain visible');
  await W.name(v1).waitFor({ state: 'visible' });
  const cB = await connectedChat(v1, op, 'User B');
  assert.notEqual(cB, c1);
  const tokenB = await v1.evaluate((key) => localStorage.getItem(key), TOKEN_KEY);
  assert.ok(tokenB && tokenB !== tokenA, 'the returning-visitor token is replaced');
  await op.say(cB, 'hello-B');
  await waitForBubble(v1, 'hello-B');
  await op.say(c1, 'late reply for A');
  await visitorSend(v1, 'B here');
  await op.waitForMessage(cB, 'B here');
  const texts = (await widgetMessages(v1)).map((m) => m.text);
  assert.deepEqual(texts, ['hello-B', 'B here']);
  assert.equal(framesAfterReset.some((f) => f.includes('A-private-91') || f.includes('late reply for A') || f.includes(c1)), false,
    'B\'s connection carries nothing of A\'s');
  const transcriptB = await op.transcript(cB);
  assert.notEqual(transcriptB.conversation.visitor.id, (await op.transcript(c1)).conversation.visitor.id, 'B is a new visitor');
  w1.assertClean('V1');
  w2.assertClean('V2');
});

test('embedded on another origin, under hostile page CSS: API base from the script src, CORS, isolated styles', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const op = await Operator.login(s, server);
  // A tenant's page on another origin (localhost vs 127.0.0.1), with CSS that would wreck
  // an unisolated widget.
  const html = `<!doctype html><html><head><title>Tenant shop</title><style>
    * { font-family: serif !important; color: red !important; background: yellow !important; }
    div, button, textarea, input { display: inline !important; position: static !important; width: 10px !important; }
    livehelp-widget * { display: none !important; }
  </style></head><body><h1>Another shop</h1>
  <script async src="${server.url}/widget.js" data-site-key="demo-site-key"></script></body></html>`;
  const host = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end(html); });
  await new Promise((resolve) => host.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => host.close(resolve)));
  const pageUrl = `http://localhost:${host.address().port}/`;

  const context = await s.browser();
  const page = context.pages()[0];
  const w = watch(page);
  const apiCalls = [];
  page.on('request', (r) => { if (r.url().includes('/api/v1/')) apiCalls.push(r.url()); });
  await page.goto(pageUrl);
  await W.launcher(page).waitFor({ state: 'visible' });
  const launcher = await page.evaluate(() => {
    const b = document.querySelector('livehelp-widget').shadowRoot.querySelector('[data-testid=lh-launcher]');
    const cs = getComputedStyle(b);
    return { position: cs.position, width: cs.width, color: cs.color, background: cs.backgroundColor };
  });
  assert.deepEqual(launcher, { position: 'fixed', width: '58px', color: 'rgb(255, 255, 255)', background: 'rgb(37, 99, 235)' });
  const conversationId = await connectedChat(page, op, 'Cross Origin Carla');
  await visitorSend(page, 'hello from another origin');
  await op.waitForMessage(conversationId, 'hello from another origin');
  await op.say(conversationId, 'hello back');
  await waitForBubble(page, 'hello back', { author: 'operator' });
  assert.ok(apiCalls.length > 0 && apiCalls.every((u) => u.startsWith(`${server.url}/api/v1/`)), `API calls go to the script's origin: ${apiCalls}`);
  const visitor = await fetch(`${server.url}/api/v1/conversations/${conversationId}/visitor`, { headers: { Cookie: op.cookie } });
  if (visitor.status === 200) assert.equal((await visitor.json()).current_page?.url, pageUrl);
  await screenshot(page, 'widget-cross-origin-hostile-css');
  w.assertClean();
});

test('mobile width: the panel fills the screen and nothing scrolls sideways', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const op = await Operator.login(s, server);
  const context = await s.browser({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = context.pages()[0];
  const w = watch(page);
  await openDemo(page, server);
  await screenshot(page, 'mobile-demo');
  const conversationId = await connectedChat(page, op, 'Mobile Mia');
  await visitorSend(page, 'Hi from my phone 📱 ' + 'x'.repeat(300));
  await op.waitForMessage(conversationId, 'Hi from my phone 📱 ' + 'x'.repeat(300));
  await op.say(conversationId, 'שלום! How can I help? 你好');
  await waitForBubble(page, 'שלום! How can I help? 你好');
  const box = await W.panel(page).boundingBox();
  assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, 390, 844]);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth));
  const log = await page.evaluate(() => {
    const l = document.querySelector('livehelp-widget').shadowRoot.querySelector('[data-testid=lh-log]');
    return l.scrollWidth <= l.clientWidth;
  });
  assert.ok(log);
  await screenshot(page, 'mobile-chat');
  w.assertClean();
});

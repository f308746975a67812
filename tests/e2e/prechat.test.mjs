// Pre-chat form, offline message form and the platform's support page, in a real browser
// against the real server (issue 5 items 1, 5 and 6).
import assert from 'node:assert/strict';
import test from 'node:test';
import { DEMO_EMAIL, Operator, W, openDemo, scope, screenshot, watch } from './lib.mjs';

/** Logs the demo admin in over REST; returns { cookie, csrf }. */
async function adminSession(server) {
  const response = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: DEMO_EMAIL, password: server.password }),
  });
  assert.equal(response.status, 200);
  const body = await response.json();
  return { cookie: response.headers.getSetCookie()[0].split(';')[0], csrf: body.csrf_token };
}

async function call(server, session, method, path, body) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { cookie: session.cookie, 'x-csrf-token': session.csrf, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const inWidget = (page, testid) => page.getByTestId(testid);

async function consoleLogin(page, server) {
  await page.goto(`${server.url}/console`);
  await page.getByTestId('login-email').fill(DEMO_EMAIL);
  await page.getByTestId('login-password').fill(server.password);
  await page.getByTestId('login-password').press('Enter');
  await page.waitForFunction(() => window.livehelpConsole?.snapshot().connection === 'online', null, { timeout: 20_000 });
}

test('pre-chat: age 17 is refused with a readable message, age 18 with consent starts the chat, the operator sees the answers', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const admin = await adminSession(server);
  const { sites } = await call(server, admin, 'GET', '/api/v1/sites');
  await call(server, admin, 'PUT', `/api/v1/sites/${sites[0].id}/forms`, {
    prechat: {
      name: 'optional', email: 'optional', min_age: 18,
      fields: [
        { key: 'age', label: 'Your age', kind: 'number', required: true },
        { key: 'consent', label: 'I agree to the privacy policy', kind: 'checkbox', required: true },
      ],
    },
    business_hours: null,
  });
  const op = await Operator.login(s, server);
  const context = await s.browser();
  const page = context.pages()[0];
  const w = watch(page);
  await openDemo(page, server);
  await W.launcher(page).click();
  await inWidget(page, 'lh-f-age').waitFor({ state: 'visible' });
  // The privacy link is shown above the form.
  const order = await page.evaluate(() => {
    const root = document.querySelector('livehelp-widget').shadowRoot;
    const link = root.querySelector('[data-testid=lh-privacy-link]');
    const age = root.querySelector('[data-testid=lh-f-age]');
    return link.compareDocumentPosition(age) & Node.DOCUMENT_POSITION_FOLLOWING;
  });
  assert.ok(order, 'privacy link before the form');
  // The age field has a label.
  assert.equal(await page.evaluate(() => {
    const root = document.querySelector('livehelp-widget').shadowRoot;
    return root.querySelector('label[for=lh-f-age]')?.textContent.trim();
  }), 'Your age');

  await W.name(page).fill('Zoë');
  await inWidget(page, 'lh-f-email').fill('zoe@example.com');
  await inWidget(page, 'lh-f-age').fill('17');
  await inWidget(page, 'lh-f-consent').check();
  await W.start(page).click();
  const ageError = inWidget(page, 'lh-f-age-error');
  await ageError.waitFor({ state: 'visible' });
  assert.match(await ageError.textContent(), /18 or older/);
  assert.equal(await inWidget(page, 'lh-f-age').getAttribute('aria-invalid'), 'true');
  // Nothing typed is lost, and no chat was opened.
  assert.equal(await W.name(page).inputValue(), 'Zoë');
  assert.equal(await inWidget(page, 'lh-f-email').inputValue(), 'zoe@example.com');
  assert.equal(await W.input(page).isVisible(), false);
  await screenshot(page, 'prechat-refused');

  // Consent unticked is refused too (keyboard only: Space toggles the box).
  await inWidget(page, 'lh-f-age').fill('18');
  await inWidget(page, 'lh-f-consent').focus();
  await page.keyboard.press('Space');
  await W.start(page).click();
  await inWidget(page, 'lh-f-consent-error').waitFor({ state: 'visible' });
  await inWidget(page, 'lh-f-consent').focus();
  await page.keyboard.press('Space');
  await W.start(page).click();
  await W.input(page).waitFor({ state: 'visible' });

  const conversation = await op.acceptNext();
  const response = await fetch(`${server.url}/api/v1/conversations/${conversation.id}/prechat`, { headers: { cookie: op.cookie } });
  const answers = await response.json();
  assert.equal(answers.email, 'zoe@example.com');
  assert.deepEqual(answers.answers.map((a) => [a.key, a.value]), [['age', 18], ['consent', true]]);

  // The operator's console shows the answers in the visitor panel.
  const consoleContext = await s.browser();
  const consolePage = consoleContext.pages()[0];
  await consoleLogin(consolePage, server);
  await consolePage.locator(`[data-testid=chat-tab][data-conversation-id="${conversation.id}"]`).click();
  const panel = consolePage.getByTestId('prechat-answers');
  await panel.waitFor({ state: 'visible', timeout: 20_000 });
  const text = await panel.textContent();
  assert.match(text, /zoe@example\.com/);
  assert.match(text, /Your age/);
  assert.match(text, /18/);
  await screenshot(consolePage, 'prechat-console');
  w.assertClean();
});

test('offline: with no operator online the widget offers the message form, and the ticket shows on the console Tickets page', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const context = await s.browser();
  const page = context.pages()[0];
  // The browser logs the refused request itself (a 422 the page handles).
  const w = watch(page, { allow: [/status of 422/] });
  await openDemo(page, server);
  await W.launcher(page).click();
  const form = inWidget(page, 'lh-offline');
  await form.waitFor({ state: 'visible' });
  assert.equal(await W.start(page).isVisible(), false, 'no chat button while nobody can answer');
  await inWidget(page, 'lh-f--name').fill('Zoë');
  await inWidget(page, 'lh-f--email').fill('zoe-at-example');
  const message = `Where is order 42? ${Date.now()}`;
  await inWidget(page, 'lh-f--message').fill(message);
  await inWidget(page, 'lh-leave').click();
  await inWidget(page, 'lh-f--email-error').waitFor({ state: 'visible' });
  assert.equal(await inWidget(page, 'lh-f--message').inputValue(), message, 'nothing typed is lost');
  await inWidget(page, 'lh-f--email').fill('zoe@example.com');
  await inWidget(page, 'lh-leave').click();
  await inWidget(page, 'lh-offline-done').waitFor({ state: 'visible' });
  await screenshot(page, 'offline-sent');

  // The operator logs into the console and finds it on the Tickets page.
  const consoleContext = await s.browser();
  const consolePage = consoleContext.pages()[0];
  const cw = watch(consolePage);
  await consoleLogin(consolePage, server);
  await consolePage.getByTestId('nav-tickets').click();
  const row = consolePage.getByTestId('ticket-row').filter({ hasText: message });
  await row.waitFor({ state: 'visible', timeout: 20_000 });
  await row.click();
  const detail = consolePage.getByTestId('ticket-detail');
  await detail.waitFor({ state: 'visible' });
  assert.match(await detail.textContent(), /zoe@example\.com/);
  await consolePage.getByTestId('ticket-note-input').fill('Called the courier');
  await consolePage.getByTestId('ticket-note-add').click();
  await consolePage.getByTestId('ticket-note').filter({ hasText: 'Called the courier' }).waitFor();
  await consolePage.getByTestId('ticket-solve').click();
  await consolePage.getByTestId('ticket-status').filter({ hasText: 'solved' }).waitFor();
  await screenshot(consolePage, 'console-tickets');
  w.assertClean();
  cw.assertClean();
});

test('support page: a bad email and URL are refused field by field, nothing typed is lost, a good request is received', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const context = await s.browser();
  const page = context.pages()[0];
  const w = watch(page, { allow: [/status of 422/] });
  await page.goto(`${server.url}/support`);
  await page.getByLabel('Your email').fill('nobody');
  await page.getByLabel('Address of your site').fill('shop.example.com');
  await page.getByLabel('What is wrong?').fill('The widget does not open on Safari.');
  await page.getByRole('button', { name: 'Send request' }).click();
  await page.locator('#email-error').filter({ hasText: /@/ }).waitFor();
  await page.locator('#site_url-error').filter({ hasText: /https?:\/\// }).waitFor();
  assert.equal(await page.getByLabel('What is wrong?').inputValue(), 'The widget does not open on Safari.');
  await page.getByLabel('Your email').fill('owner@shop.example');
  await page.getByLabel('Address of your site').fill('https://shop.example');
  await page.getByRole('button', { name: 'Send request' }).click();
  await page.locator('#status.ok').waitFor();
  await screenshot(page, 'support-page');
  w.assertClean();
});

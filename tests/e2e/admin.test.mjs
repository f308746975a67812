// Accounts, roles and security in the operator console (issue 4): CSRF tokens, the admin
// pages (Operators, Sites, Audit log), My sessions, the password reset page, lock-out
// messages, and read-only monitoring of live chats by a supervisor (M8).
// Real server, real chromium; run with tests/e2e/run.sh. Each test starts its own
// `livehelp serve --demo`, whose demo operator demo@example.test is an `admin`.
//
// Logins and password resets share a per-IP budget of 10 attempts (then one per 6 s), so
// each test keeps well under it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import {
  BIN, DEMO_EMAIL, Operator, openDemo, scope, screenshot, startChat, visitorSend, waitForBubble,
  waitForSystem, watch, widgetMessages,
} from './lib.mjs';

// Chromium reports every 4xx answer to a fetch as a console error. Each test allows only
// the statuses it provokes on purpose.
const status = (code) => new RegExp(`Failed to load resource: the server responded with a status of ${code}`);

const ADMIN_NAV = ['nav-live', 'nav-operators', 'nav-sites', 'nav-audit'];

// ---------------------------------------------------------------------------------------
// Helpers (the DOM guide is at the top of web/console/console.js)

async function openConsole(page, url) {
  await page.goto(url);
  await page.getByTestId('login-email').waitFor({ state: 'visible' });
}

async function signIn(page, email, password) {
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.waitForFunction(() => window.livehelpConsole?.snapshot().connection === 'online', null, { timeout: 20_000 });
}

async function goTo(page, view) {
  if (view === 'sessions') {
    await page.getByTestId('account-button').click();
    await page.getByTestId('nav-sessions').click();
  } else {
    await page.getByTestId(`nav-${view}`).click();
  }
  await page.getByTestId(`${view}-view`).waitFor({ state: 'visible' });
}

/** What the page's own session check says (a GET: no CSRF token needed). */
const pageSession = (page) => page.evaluate(() => fetch('/api/v1/auth/session', { cache: 'no-store' }).then((r) => r.json()));

/** Logs in from Node (no browser): the cookie and the CSRF token. */
async function apiLogin(server, email, password) {
  const response = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
  });
  assert.equal(response.status, 200, `login ${email}: ${await response.clone().text()}`);
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('lh_session=')).split(';')[0];
  const body = await response.json();
  return { cookie, csrf: body.csrf_token, me: body };
}

async function apiCall(server, session, method, path, body) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { Cookie: session.cookie, 'X-CSRF-Token': session.csrf, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function stillSignedIn(server, session) {
  const response = await fetch(`${server.url}/api/v1/auth/session`, { headers: { Cookie: session.cookie } });
  return (await response.json()).authenticated;
}

const operatorRow = (page, email) => page.locator(`[data-testid=operator-row][data-email="${email}"]`);

/** Fills and submits the "Add operator" form (opening it if needed). */
async function addOperator(page, { name, email, role, password }) {
  if (await page.getByTestId('operator-form').isHidden()) await page.getByTestId('operator-add').click();
  await page.getByTestId('operator-form-name').fill(name);
  await page.getByTestId('operator-form-email').fill(email);
  await page.getByTestId('operator-form-role').selectOption(role);
  await page.getByTestId('operator-form-password').fill(password);
  await page.getByTestId('operator-form-submit').click();
}

/** Screenshots after the brief "changed" glow on a row or card has faded. */
async function shot(page, name) {
  await page.waitForFunction(() => !document.querySelector('.is-flash'), null, { timeout: 5_000 });
  await screenshot(page, name);
}

async function assertNoAdminNav(page, { live = false } = {}) {
  for (const id of ADMIN_NAV) {
    const shouldShow = id === 'nav-live' && live;
    assert.equal(await page.getByTestId(id).isVisible(), shouldShow, `${id} ${shouldShow ? 'shown' : 'hidden'}`);
  }
  assert.equal(await page.getByTestId('nav-history').isVisible(), true);
}

// ---------------------------------------------------------------------------------------

test('csrf: the console sends the session token on every POST/PATCH/DELETE; a request without it gets 403 csrf_token_invalid; sign out works', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const page = (await s.browser()).pages()[0];
  const w = watch(page, { allow: [status(403)] }); // the two deliberate token-less requests
  const unsafe = [];
  page.on('request', (request) => {
    if (request.url().includes('/api/') && ['POST', 'PATCH', 'DELETE'].includes(request.method())) {
      unsafe.push({ method: request.method(), path: new URL(request.url()).pathname, csrf: request.headers()['x-csrf-token'] });
    }
  });
  await openConsole(page, server.url + '/console/');
  await signIn(page, DEMO_EMAIL, server.password);
  const { operator } = await pageSession(page);
  assert.match(operator.csrf_token, /\S{20,}/, '/auth/session hands out the token');

  // A request made from the page without the header (or with a wrong one) is refused.
  const bare = await page.evaluate(async () => {
    const plain = await fetch('/api/v1/auth/logout', { method: 'POST' });
    const wrong = await fetch('/api/v1/auth/logout', { method: 'POST', headers: { 'X-CSRF-Token': 'not-the-token' } });
    return [{ status: plain.status, body: await plain.json() }, { status: wrong.status, body: await wrong.json() }];
  });
  for (const answer of bare) {
    assert.equal(answer.status, 403);
    assert.equal(answer.body.code, 'csrf_token_invalid');
  }
  assert.equal((await pageSession(page)).authenticated, true, 'the refused logout changed nothing');
  unsafe.length = 0;

  // The console's own state changes carry it: add a site (POST), edit it (PATCH).
  await goTo(page, 'sites');
  await page.getByTestId('site-add').click();
  await page.getByTestId('site-form-name').fill('CSRF check');
  await page.getByTestId('site-form-submit').click();
  const card = page.locator('[data-testid=site-card]').filter({ hasText: 'CSRF check' });
  await card.waitFor();
  await card.getByTestId('site-edit').click();
  await page.getByTestId('site-form-name').fill('CSRF check, edited');
  await page.getByTestId('site-form-submit').click();
  await page.locator('[data-testid=site-card]').filter({ hasText: 'CSRF check, edited' }).waitFor();

  // Sign out from the account menu: it works (it needs the token too) and ends the session.
  await page.getByTestId('account-button').click();
  await page.getByTestId('logout').click();
  await page.getByTestId('login-form').waitFor({ state: 'visible' });
  assert.equal((await pageSession(page)).authenticated, false, 'signed out for real');

  assert.deepEqual(unsafe.map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/, 'ID')}`),
    ['POST /api/v1/sites', 'PATCH /api/v1/sites/ID', 'POST /api/v1/auth/logout']);
  assert.ok(unsafe.every((r) => r.csrf === operator.csrf_token), `every unsafe request carries the token: ${JSON.stringify(unsafe)}`);
  w.assertClean('console');
});

test('operators: add (weak password and taken email shown at the field), change role, reset link used in a second browser, disabling signs them out; all in the audit log', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const adminContext = await s.browser({ viewport: { width: 1360, height: 840 } });
  await adminContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const admin = adminContext.pages()[0];
  // 422 weak_password and 400 "email taken" are provoked on purpose.
  const aw = watch(admin, { allow: [status(422), status(400)] });
  await openConsole(admin, `${server.url}/console/`);
  await signIn(admin, DEMO_EMAIL, server.password);
  await goTo(admin, 'operators');
  await operatorRow(admin, DEMO_EMAIL).waitFor();
  assert.equal(await operatorRow(admin, DEMO_EMAIL).getByTestId('operator-role-select').isDisabled(), true, 'an admin cannot demote themselves');

  // A common password: refused by the server, shown next to the password field.
  const bea = { name: 'Bea Baker', email: 'bea@example.test', role: 'supervisor', password: 'password1234' };
  await addOperator(admin, bea);
  const passwordError = admin.getByTestId('operator-form-password-error');
  await passwordError.filter({ hasText: /too easy to guess/ }).waitFor();
  assert.equal(await admin.getByTestId('operator-form-password').getAttribute('aria-invalid'), 'true');
  assert.equal(await admin.evaluate(() => document.activeElement.dataset.testid), 'operator-form-password');
  await shot(admin, 'admin-operators-weak-password');

  // An email that already has an account: shown next to the email field.
  await addOperator(admin, { ...bea, email: DEMO_EMAIL, password: 'Bea-Bakes-Bread-2026' });
  await admin.getByTestId('operator-form-email-error').filter({ hasText: 'An account with this email already exists.' }).waitFor();
  assert.equal(await passwordError.textContent(), '', 'the password error went away');

  // Then a good one.
  await addOperator(admin, { ...bea, password: 'Bea-Bakes-Bread-2026' });
  const row = operatorRow(admin, bea.email);
  await row.waitFor();
  assert.equal(await admin.getByTestId('operator-form').isHidden(), true, 'the form closes');
  assert.equal(await row.getByTestId('operator-name').textContent(), 'Bea Baker');
  assert.equal(await row.getByTestId('operator-role-select').inputValue(), 'supervisor');
  assert.equal(await row.getByTestId('operator-account').getAttribute('data-state'), 'active');

  // Change the role to a plain operator.
  await row.getByTestId('operator-role-select').selectOption('operator');
  await admin.locator(`[data-testid=operator-row][data-email="${bea.email}"][data-role=operator]`).waitFor();
  const listed = await admin.evaluate(() => fetch('/api/v1/operators').then((r) => r.json()));
  assert.equal(listed.operators.find((o) => o.email === 'bea@example.test').role, 'operator', 'the server has the new role');

  // A one-time reset link, shown once with a copy button.
  await row.getByTestId('operator-reset-link').click();
  const panel = admin.getByTestId('reset-link-panel');
  await panel.waitFor();
  const link = await panel.getByTestId('reset-link-url').inputValue();
  assert.match(link, new RegExp(`^${server.url.replace(/[.]/g, '\\.')}/console/#reset=[A-Za-z0-9_-]{20,}$`));
  await panel.getByTestId('reset-link-copy').click();
  await panel.getByTestId('reset-link-copy').filter({ hasText: 'Copied' }).waitFor();
  assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), link);
  await shot(admin, 'admin-operators');
  await panel.getByTestId('reset-link-done').click();
  assert.equal(await admin.getByTestId('reset-link-panel').count(), 0, 'the link is not shown again');

  // Bea opens the link in her own browser and chooses a password.
  const beaContext = await s.browser();
  const page = beaContext.pages()[0];
  // 422 (weak), 400 (used link), 401 (login after being disabled), 403 (role check) on purpose.
  const bw = watch(page, { allow: [status(422), status(400), status(401), status(403)] });
  await page.goto(link);
  await page.getByTestId('reset-form').waitFor({ state: 'visible' });
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Choose a new password');
  await page.getByTestId('reset-password').fill('too short');
  await page.getByTestId('reset-confirm').fill('too short');
  await page.getByTestId('reset-submit').click();
  await page.getByTestId('reset-password-error').filter({ hasText: 'Use at least 12 characters.' }).waitFor();
  await page.getByTestId('reset-password').fill('password1234');
  await page.getByTestId('reset-confirm').fill('password1234');
  await page.getByTestId('reset-submit').click();
  await page.getByTestId('reset-password-error').filter({ hasText: /too easy to guess/ }).waitFor();
  await shot(page, 'reset-weak-password');
  const newPassword = 'Bea-Chooses-Her-Own-77';
  await page.getByTestId('reset-password').fill(newPassword);
  await page.getByTestId('reset-confirm').fill(`${newPassword}!`);
  await page.getByTestId('reset-submit').click();
  await page.getByTestId('reset-confirm-error').filter({ hasText: 'The two entries are different.' }).waitFor();
  await page.getByTestId('reset-confirm').fill(newPassword);
  assert.equal(await page.getByTestId('reset-rule-match').getAttribute('data-ok'), 'true');
  await page.getByTestId('reset-submit').click();
  await page.getByTestId('reset-done').filter({ hasText: 'Password changed — log in' }).waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the used token leaves the address bar');
  await shot(page, 'reset-done');
  await page.getByTestId('reset-login').click();
  await signIn(page, bea.email, newPassword);
  assert.equal(await page.getByTestId('me-name').textContent(), 'Bea Baker');
  await assertNoAdminNav(page);
  const refused = await page.evaluate(() => fetch('/api/v1/operators').then(async (r) => ({ status: r.status, body: await r.json() })));
  assert.deepEqual([refused.status, refused.body.code], [403, 'role_required'], 'the server refuses a plain operator anyway');

  // The link worked once: opening it again says so.
  const again = await beaContext.newPage();
  const aw2 = watch(again, { allow: [status(400)] });
  await again.goto(link);
  await again.getByTestId('reset-password').fill('Another-Fine-Passphrase-1');
  await again.getByTestId('reset-confirm').fill('Another-Fine-Passphrase-1');
  await again.getByTestId('reset-submit').click();
  await again.getByTestId('reset-error').filter({ hasText: /invalid, already used or expired/ }).waitFor();
  aw2.assertClean('second reset page');
  await again.close();

  // The admin disables Bea (confirmed in the page, no dialog).
  await row.getByTestId('operator-disable').click();
  await row.getByTestId('operator-disable-confirm').click();
  await admin.locator(`[data-testid=operator-row][data-email="${bea.email}"][data-disabled=true]`).waitFor();
  assert.equal(await operatorRow(admin, bea.email).getByTestId('operator-account').textContent(), 'Disabled');
  assert.equal(await operatorRow(admin, bea.email).getByTestId('operator-enable').isVisible(), true);
  await shot(admin, 'admin-operators-disabled');

  // Bea's open console is signed out on its next request, and she cannot sign in again.
  await page.getByTestId('account-button').click();
  await page.getByTestId('nav-sessions').click();
  await page.getByTestId('login-form').waitFor({ state: 'visible' });
  assert.match(await page.getByTestId('login-error').textContent(), /session has ended/);
  await page.getByTestId('login-email').fill(bea.email);
  await page.getByTestId('login-password').fill(newPassword);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-error').filter({ hasText: 'Wrong email or password.' }).waitFor();

  // The audit log has every step, newest first, with names instead of ids.
  await goTo(admin, 'audit');
  await admin.locator('[data-testid=audit-row][data-action=operator_disabled]').waitFor();
  const entries = await admin.$$eval('[data-testid=audit-row]', (rows) => rows.map((r) => ({
    action: r.dataset.action,
    who: r.querySelector('[data-testid=audit-who]').textContent,
    target: r.querySelector('[data-testid=audit-target]').textContent,
  })));
  const actions = entries.map((e) => e.action);
  for (const action of ['operator_created', 'operator_role_changed', 'password_reset_issued', 'password_reset_used', 'operator_disabled']) {
    assert.ok(actions.includes(action), `${action} in ${actions}`);
  }
  assert.ok(actions.indexOf('operator_disabled') < actions.indexOf('operator_created'), 'newest first');
  const created = entries.find((e) => e.action === 'operator_created');
  assert.equal(created.who, 'Dana (demo)');
  assert.equal(created.target, 'Bea Baker (bea@example.test)');
  assert.equal(entries.find((e) => e.action === 'operator_role_changed').target, 'Bea Baker (bea@example.test) → Operator');
  await shot(admin, 'admin-audit');
  aw.assertClean('admin console');
  bw.assertClean('Bea\'s console');
});

test('sites: add with allowed origins and require TLS, copy the snippet, edit; the server enforces it', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const context = await s.browser({ viewport: { width: 1360, height: 840 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const page = context.pages()[0];
  const w = watch(page);
  await openConsole(page, `${server.url}/console/`);
  await signIn(page, DEMO_EMAIL, server.password);
  await goTo(page, 'sites');
  const demo = page.locator('[data-testid=site-card][data-site-key=demo-site-key]');
  await demo.waitFor();
  assert.equal(await demo.getByTestId('site-snippet').textContent(),
    `<script async src="${server.url}/widget.js" data-site-key="demo-site-key"></script>`);

  await page.getByTestId('site-add').click();
  await page.getByTestId('site-form-name').fill('Lamp shop');
  await page.getByTestId('site-form-origins').fill('shop.example.com');
  await page.getByTestId('site-form-submit').click();
  await page.getByTestId('site-form-origins-error').filter({ hasText: /not an origin like https:\/\/shop\.example\.com/ }).waitFor();
  await page.getByTestId('site-form-origins').fill('https://Shop.Example.com/\nhttp://localhost:8080\n');
  await page.getByTestId('site-form-privacy').fill('https://shop.example.com/privacy');
  await page.getByTestId('site-form').locator('label').filter({ hasText: 'Require TLS' }).click();
  assert.equal(await page.getByTestId('site-form-tls').isChecked(), true);
  await shot(page, 'admin-sites-new');
  await page.getByTestId('site-form-submit').click();

  const card = page.locator('[data-testid=site-card]').filter({ hasText: 'Lamp shop' });
  await card.waitFor();
  const key = await card.getAttribute('data-site-key');
  assert.match(key, /^[A-Za-z0-9_-]{8,}$/);
  assert.equal(await card.getAttribute('data-require-tls'), 'true');
  assert.equal(await card.getByTestId('site-tls').textContent(), 'TLS required');
  assert.equal(await card.getByTestId('site-key').textContent(), key);
  assert.deepEqual(await card.locator('[data-testid=site-origins] li').allTextContents(), ['https://shop.example.com', 'http://localhost:8080']);
  assert.equal(await card.getByTestId('site-privacy').textContent(), 'https://shop.example.com/privacy');
  const snippet = `<script async src="${server.url}/widget.js" data-site-key="${key}"></script>`;
  assert.equal(await card.getByTestId('site-snippet').textContent(), snippet);
  await card.getByTestId('site-snippet-copy').click();
  await card.getByTestId('site-snippet-copy').filter({ hasText: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), snippet);
  await shot(page, 'admin-sites');

  // The server enforces what the page set: plain HTTP is refused for this site.
  const plain = await fetch(`${server.url}/api/v1/sites/${key}/visitor-sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json', Origin: 'https://shop.example.com' }, body: '{}',
  });
  assert.equal(plain.status, 403);
  assert.equal((await plain.json()).code, 'tls_required');

  // Edit: new name, one origin less, TLS off.
  await card.getByTestId('site-edit').click();
  const form = page.locator('[data-testid=site-card].is-editing');
  await form.waitFor();
  assert.equal(await form.getByTestId('site-form-origins').inputValue(), 'https://shop.example.com\nhttp://localhost:8080');
  assert.equal(await form.getByTestId('site-form-tls').isChecked(), true);
  await form.getByTestId('site-form-name').fill('Lamp shop EU');
  await form.getByTestId('site-form-origins').fill('https://shop.example.com');
  await form.locator('label').filter({ hasText: 'Require TLS' }).click();
  await shot(page, 'admin-sites-edit');
  await form.getByTestId('site-form-submit').click();
  const edited = page.locator(`[data-testid=site-card][data-site-key="${key}"]:not(.is-editing)`);
  await edited.filter({ hasText: 'Lamp shop EU' }).waitFor();
  assert.equal(await edited.getAttribute('data-require-tls'), 'false');
  assert.deepEqual(await edited.locator('[data-testid=site-origins] li').allTextContents(), ['https://shop.example.com']);
  const stored = (await page.evaluate(() => fetch('/api/v1/sites').then((r) => r.json()))).sites.find((site) => site.key === key);
  assert.deepEqual({ name: stored.name, origins: stored.allowed_origins, tls: stored.require_tls, privacy: stored.privacy_policy_url },
    { name: 'Lamp shop EU', origins: ['https://shop.example.com'], tls: false, privacy: 'https://shop.example.com/privacy' });
  const allowed = await fetch(`${server.url}/api/v1/sites/${key}/visitor-sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json', Origin: 'https://shop.example.com' }, body: '{}',
  });
  assert.equal(allowed.status, 201, 'TLS no longer required');
  w.assertClean('console');
});

test('my sessions: lists this device and others, ends one, then logs out everywhere', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const page = (await s.browser({ viewport: { width: 1360, height: 840 } })).pages()[0];
  const w = watch(page);
  const phone = await apiLogin(server, DEMO_EMAIL, server.password);
  const laptop = await apiLogin(server, DEMO_EMAIL, server.password);
  await openConsole(page, `${server.url}/console/`);
  await signIn(page, DEMO_EMAIL, server.password);
  await goTo(page, 'sessions');
  const rows = page.getByTestId('session-row');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=session-row]').length === 3);
  const current = page.locator('[data-testid=session-row][data-current=true]');
  assert.equal(await current.count(), 1);
  assert.equal(await current.getByTestId('session-current').textContent(), 'This device');
  assert.match(await current.getByTestId('session-device').textContent(), /Chrome \d+ · Linux/);
  assert.match(await current.getByTestId('session-ip').textContent(), /^127\.0\.0\.1$|^::1$/);
  assert.equal(await current.getByTestId('session-end').count(), 0, 'this device has no End button');
  await shot(page, 'sessions');

  // End the other session that was opened first (rows are newest first).
  const others = page.locator('[data-testid=session-row][data-current=false]');
  await others.last().getByTestId('session-end').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=session-row]').length === 2);
  assert.equal(await stillSignedIn(server, phone), false, 'the ended session is gone');
  assert.equal(await stillSignedIn(server, laptop), true, 'the other one is not');
  assert.equal(await rows.count(), 2);

  await page.getByTestId('sessions-logout-all').click();
  await page.getByTestId('sessions-logout-all-confirm').click();
  await page.getByTestId('login-form').waitFor({ state: 'visible' });
  assert.equal(await page.getByTestId('login-error').textContent(), 'You are signed out on every device.');
  assert.equal(await stillSignedIn(server, laptop), false);
  assert.equal((await pageSession(page)).authenticated, false);
  w.assertClean('console');
});

test('monitoring: a supervisor added on the Operators page watches a live chat read-only, nobody is told, the audit log shows monitor_started; a plain operator sees no admin pages', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const admin = (await s.browser({ viewport: { width: 1360, height: 840 } })).pages()[0];
  const aw = watch(admin);
  await openConsole(admin, `${server.url}/console/`);
  await signIn(admin, DEMO_EMAIL, server.password);
  await goTo(admin, 'operators');
  const sam = { name: 'Sam Super', email: 'sam@example.test', role: 'supervisor', password: 'Sam-Watches-Quietly-9' };
  const otto = { name: 'Otto Plain', email: 'otto@example.test', role: 'operator', password: 'Otto-Answers-Chats-7' };
  await addOperator(admin, sam);
  await operatorRow(admin, sam.email).waitFor();
  await addOperator(admin, otto);
  await operatorRow(admin, otto.email).waitFor();

  // A visitor chats with the demo operator (driven from Node over the real protocol).
  const op = await Operator.login(s, server);
  const visitor = (await s.browser()).pages()[0];
  const vw = watch(visitor);
  await openDemo(visitor, server);
  await startChat(visitor, 'Vera 🌻');
  const conversation = await op.acceptNext({ visitorName: 'Vera 🌻' });
  const id = conversation.id;
  await waitForSystem(visitor, 'operator_joined');
  await visitorSend(visitor, 'Is the lamp in stock?');
  await op.waitForMessage(id, 'Is the lamp in stock?');
  await op.say(id, 'Yes, three left.');
  await waitForBubble(visitor, 'Yes, three left.', { author: 'operator' });

  // The supervisor signs in: Live is there, the admin pages are not.
  const page = (await s.browser({ viewport: { width: 1360, height: 840 } })).pages()[0];
  const sw = watch(page);
  await openConsole(page, `${server.url}/console/`);
  await signIn(page, sam.email, sam.password);
  await assertNoAdminNav(page, { live: true });
  await goTo(page, 'live');
  const item = page.locator(`[data-testid=live-item][data-conversation-id="${id}"]`);
  await item.waitFor();
  assert.equal(await item.getByTestId('live-visitor').textContent(), 'Vera 🌻');
  assert.equal(await item.getByTestId('live-operator').textContent(), 'Dana (demo)');
  await shot(page, 'live-list');

  await item.getByTestId('live-watch').click();
  const monitor = page.getByTestId('monitor');
  await monitor.waitFor({ state: 'visible' });
  assert.equal(await monitor.getByTestId('monitor-badge').textContent(), 'Monitoring (read-only)');
  assert.equal(await monitor.getByTestId('monitor-title').textContent(), 'Vera 🌻');
  const shown = () => page.$$eval('[data-testid=monitor-log] [data-testid=message]', (rows) => rows.map((r) => [r.dataset.kind, r.querySelector('[data-testid=message-text]').textContent]));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=monitor-log] [data-testid=message]').length === 2);
  assert.deepEqual(await shown(), [['visitor', 'Is the lamp in stock?'], ['operator', 'Yes, three left.']]);
  // Nothing reaches the visitor from here until the supervisor joins: no chat composer, and
  // the monitor's own message box stays hidden (its whisper box only reaches operators).
  assert.equal(await page.locator('#live-view [data-testid=composer], #live-view [data-testid=send]').count(), 0, 'no chat composer');
  assert.equal(await page.getByTestId('monitor-composer').isVisible(), false, 'no way to write to the visitor without joining');

  // It updates live, both ways, including typing.
  await visitorSend(visitor, 'Can it ship today?');
  await page.locator('[data-testid=monitor-log] [data-testid=message-text]').filter({ hasText: 'Can it ship today?' }).waitFor();
  op.typing(id, true);
  await page.getByTestId('monitor-typing').filter({ hasText: 'Dana (demo) is typing…' }).waitFor();
  await op.say(id, 'It ships today 🚚');
  await page.locator('[data-testid=monitor-log] [data-testid=message-text]').filter({ hasText: 'It ships today 🚚' }).waitFor();
  assert.deepEqual((await shown()).map(([, text]) => text), ['Is the lamp in stock?', 'Yes, three left.', 'Can it ship today?', 'It ships today 🚚']);
  await page.getByTestId('visitor-panel').getByTestId('visitor-name').filter({ hasText: 'Vera 🌻' }).waitFor();
  await shot(page, 'live-monitor');

  // Nobody in the chat was told: the widget and the operator saw only the chat itself.
  await waitForBubble(visitor, 'It ships today 🚚', { author: 'operator' });
  assert.deepEqual((await widgetMessages(visitor)).map((m) => m.text), ['Is the lamp in stock?', 'Yes, three left.', 'Can it ship today?', 'It ships today 🚚']);
  assert.equal(await visitor.locator('livehelp-widget').evaluate((el) => el.shadowRoot.textContent.includes('Sam')), false);
  assert.ok(!op.frames.some((f) => JSON.stringify(f).includes('Sam Super')), 'the operator got no frame about the supervisor');

  // The chat ends: the monitor says so and the list no longer has it.
  await op.end(id);
  await monitor.getByTestId('monitor-ended').waitFor({ state: 'visible' });
  await monitor.getByTestId('monitor-back').click();
  await page.getByTestId('live-status').filter({ hasText: 'No active chats right now.' }).waitFor();

  // The admin sees who watched what.
  await goTo(admin, 'audit');
  const entry = admin.locator('[data-testid=audit-row][data-action=monitor_started]');
  await entry.waitFor();
  assert.equal(await entry.count(), 1);
  assert.equal(await entry.getByTestId('audit-who').textContent(), 'Sam Super');
  assert.equal(await entry.getByTestId('audit-target').textContent(), `Conversation #${id.replace(/-/g, '').slice(-4)}`);
  assert.equal(await entry.getByTestId('audit-target').getAttribute('title'), `conversation:${id}`);
  assert.equal(await entry.getByTestId('audit-action').textContent(), 'Started monitoring');

  // A plain operator: no Live, no admin pages; the server refuses them anyway.
  const plain = (await s.browser()).pages()[0];
  const pw = watch(plain, { allow: [status(403)] }); // the deliberate role check below
  await openConsole(plain, `${server.url}/console/`);
  await signIn(plain, otto.email, otto.password);
  await assertNoAdminNav(plain);
  assert.equal(await plain.evaluate(() => window.livehelpConsole.snapshot().role), 'operator');
  const refused = await plain.evaluate(() => fetch('/api/v1/audit-log').then(async (r) => [r.status, (await r.json()).code]));
  assert.deepEqual(refused, [403, 'role_required']);
  await shot(plain, 'operator-no-admin-nav');
  aw.assertClean('admin console');
  sw.assertClean('supervisor console');
  pw.assertClean('operator console');
  vw.assertClean('widget');
});

test('login: repeated wrong passwords lock the account with "Too many attempts — try again in 15 minutes"; the admin sees it locked', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const admin = await apiLogin(server, DEMO_EMAIL, server.password);
  const created = await apiCall(server, admin, 'POST', '/api/v1/operators',
    { email: 'lou@example.test', display_name: 'Lou Locked', role: 'operator', password: 'Lou-Forgets-Things-3' });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  const page = (await s.browser()).pages()[0];
  const w = watch(page, { allow: [status(401), status(429)] }); // deliberate wrong logins
  await openConsole(page, `${server.url}/console/`);
  for (let attempt = 1; attempt <= 4; attempt++) {
    await page.getByTestId('login-email').fill('lou@example.test');
    await page.getByTestId('login-password').fill(`wrong-${attempt}`);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').filter({ hasText: 'Wrong email or password.' }).waitFor();
    await page.getByTestId('login-error').evaluate((node) => { node.textContent = ''; });
  }
  await page.getByTestId('login-password').fill('wrong-5');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-error').filter({ hasText: 'Too many attempts — try again in 15 minutes.' }).waitFor();
  // Even the right password waits now.
  await page.getByTestId('login-error').evaluate((node) => { node.textContent = ''; });
  await page.getByTestId('login-password').fill('Lou-Forgets-Things-3');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-error').filter({ hasText: /^Too many attempts — try again in 1[45] minutes\.$/ }).waitFor();
  await shot(page, 'login-rate-limited');

  const adminPage = (await s.browser({ viewport: { width: 1360, height: 840 } })).pages()[0];
  const aw = watch(adminPage);
  await openConsole(adminPage, `${server.url}/console/`);
  await signIn(adminPage, DEMO_EMAIL, server.password);
  await goTo(adminPage, 'operators');
  const account = operatorRow(adminPage, 'lou@example.test').getByTestId('operator-account');
  await account.waitFor();
  assert.equal(await account.getAttribute('data-state'), 'locked');
  assert.match(await account.textContent(), /^Locked until /);
  w.assertClean('login page');
  aw.assertClean('admin console');
});

test('audit log: newest first, paged with Load more (the API\'s next cursor)', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const admin = await apiLogin(server, DEMO_EMAIL, server.password);
  const sites = await apiCall(server, admin, 'GET', '/api/v1/sites');
  const demo = sites.body.sites.find((site) => site.key === 'demo-site-key');
  for (let i = 1; i <= 57; i++) {
    const changed = await apiCall(server, admin, 'PATCH', `/api/v1/sites/${demo.id}`, { name: `demo ${i}` });
    assert.equal(changed.status, 200);
  }
  const page = (await s.browser({ viewport: { width: 1360, height: 840 } })).pages()[0];
  const w = watch(page);
  await openConsole(page, `${server.url}/console/`);
  await signIn(page, DEMO_EMAIL, server.password);
  await goTo(page, 'audit');
  const more = page.getByTestId('audit-more');
  await more.waitFor({ state: 'visible' });
  assert.equal(await page.getByTestId('audit-row').count(), 50, 'one page of 50');
  await more.click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=audit-row]').length === 57);
  await more.waitFor({ state: 'hidden' });
  const rows = await page.$$eval('[data-testid=audit-row]', (nodes) => nodes.map((n) => ({
    action: n.dataset.action, at: n.querySelector('time').getAttribute('datetime'), target: n.querySelector('[data-testid=audit-target]').textContent,
  })));
  assert.ok(rows.every((r) => r.action === 'site_updated'));
  assert.ok(rows.every((r, i) => i === 0 || r.at <= rows[i - 1].at), 'newest first across pages');
  assert.ok(rows.every((r) => r.target === 'demo 57'), 'site ids are shown as the site name');
  w.assertClean('console');
});

test('suspended tenant: an open console is signed out on its next request, and sign-in says "This account is suspended"', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const page = (await s.browser()).pages()[0];
  const w = watch(page, { allow: [status(403)] }); // tenant_suspended answers, on purpose
  await openConsole(page, `${server.url}/console/`);
  await signIn(page, DEMO_EMAIL, server.password);
  const { operator } = await pageSession(page);
  // Platform staff suspend the tenant with the CLI, on the live server's data.
  execFileSync(BIN, ['tenant', 'suspend', operator.tenant_id, '--data-dir', server.dataDir], { stdio: 'pipe' });

  await page.getByTestId('nav-sites').click();
  await page.getByTestId('login-form').waitFor({ state: 'visible' });
  assert.match(await page.getByTestId('login-error').textContent(), /^This account is suspended\./);
  await page.getByTestId('login-password').fill(server.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-error').filter({ hasText: /^This account is suspended\./ }).waitFor();
  assert.equal(await page.getByTestId('login-submit').isEnabled(), true);
  await shot(page, 'login-suspended');
  w.assertClean('console');
});

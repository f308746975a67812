// Routing and supervision in the console (issue 10): a supervisor monitors, whispers,
// joins and takes over a chat between a visitor page and an operator page; an admin sets
// up a department with least_busy routing (and chat limits, a site's default department)
// in the console, and a visitor's chat reaches the online operator by itself; a plain
// operator transfers a chat to a department's queue with a note.
// Real server, real chromium, real widget on /demo; run with tests/e2e/run.sh.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEMO_EMAIL, openDemo, scope, screenshot, startChat, visitorSend, waitForBubble, watch,
} from './lib.mjs';

// ---------------------------------------------------------------------------------------
// Helpers (the DOM guide is at the top of web/console/console.js)

// Chromium reports every 4xx answer to a fetch as a console error; tests allow only the
// statuses they provoke on purpose.
const status = (code) => new RegExp(`Failed to load resource: the server responded with a status of ${code}`);

const SAM = { display_name: 'Sam Super', email: 'sam@example.test', role: 'supervisor', password: 'Sam-Watches-Quietly-9' };
const OTTO = { display_name: 'Otto Plain', email: 'otto@example.test', role: 'operator', password: 'Otto-Answers-Chats-7' };

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

async function createOperator(server, admin, operator) {
  const created = await apiCall(server, admin, 'POST', '/api/v1/operators', operator);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body;
}

/** A browser page signed in to the console as `email`, connected. */
async function consolePage(s, server, email, password, { viewport = { width: 1360, height: 860 }, allow = [] } = {}) {
  const page = (await s.browser({ viewport })).pages()[0];
  const w = watch(page, { allow });
  await page.goto(`${server.url}/console/`);
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.waitForFunction(() => window.livehelpConsole?.snapshot().connection === 'online', null, { timeout: 20_000 });
  return { page, w };
}

async function goTo(page, view) {
  await page.getByTestId(`nav-${view}`).click();
  await page.getByTestId(`${view}-view`).waitFor({ state: 'visible' });
}

const pane = (page, id) => page.locator(`[data-testid=conversation][data-conversation-id="${id}"]`);
const tab = (page, id) => page.locator(`[data-testid=chat-tab][data-conversation-id="${id}"]`);

/** Waits for a new queue entry in the console; resolves with its conversation id. */
async function newQueueEntry(page, before = []) {
  const handle = await page.waitForFunction((before) => [...document.querySelectorAll('[data-testid=queue-item]')]
    .map((n) => n.dataset.conversationId).find((id) => !before.includes(id)), before, { timeout: 20_000 });
  return handle.jsonValue();
}

/** Rows of a console message log: kind, text, whether marked internal. */
const rows = (page, selector) => page.$$eval(`${selector} [data-testid=message]:not(.is-pending)`, (nodes) => nodes.map((row) => ({
  kind: row.dataset.kind,
  text: row.querySelector('[data-testid=message-text]').textContent,
  author: row.querySelector('[data-testid=message-author]').textContent,
  internal: row.querySelector('[data-testid=message-internal]')?.textContent ?? null,
})));

const widgetText = (page) => page.locator('livehelp-widget').evaluate((el) => el.shadowRoot.textContent);

async function shot(page, name) {
  await page.waitForFunction(() => !document.querySelector('.is-flash'), null, { timeout: 5_000 }).catch(() => {});
  await screenshot(page, name);
}

// ---------------------------------------------------------------------------------------

test('a supervisor monitors, whispers and barges into a chat between a visitor page and an operator page', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const admin = await apiLogin(server, DEMO_EMAIL, server.password);
  await createOperator(server, admin, SAM);
  await createOperator(server, admin, OTTO);
  // The tenant shows operators who is monitoring them.
  const settings = await apiCall(server, admin, 'PATCH', '/api/v1/routing-settings', { routing: 'manual', max_chats_per_operator: null, show_monitoring: true });
  assert.equal(settings.status, 200, JSON.stringify(settings.body));

  // The operator page (a plain operator) and the visitor page.
  const { page: op, w: ow } = await consolePage(s, server, OTTO.email, OTTO.password);
  const visitor = (await s.browser()).pages()[0];
  const vw = watch(visitor);
  await openDemo(visitor, server);
  await startChat(visitor, 'Vera 🌻');
  const id = await newQueueEntry(op);
  await op.locator(`[data-testid=queue-item][data-conversation-id="${id}"]`).getByTestId('accept').click();
  await pane(op, id).waitFor({ state: 'visible' });
  await visitorSend(visitor, 'Is the lamp in stock?');
  await pane(op, id).getByTestId('message-text').filter({ hasText: 'Is the lamp in stock?' }).waitFor();
  await pane(op, id).getByTestId('composer-input').fill('Yes, three left.');
  await pane(op, id).getByTestId('composer-input').press('Enter');
  await waitForBubble(visitor, 'Yes, three left.', { author: 'operator' });
  assert.equal(await pane(op, id).getByTestId('monitoring-indicator').isVisible(), false, 'nobody monitors yet');

  // The supervisor's Live page: the open chat with its owner, state and department, and
  // the operators with their load.
  const { page: sup, w: sw } = await consolePage(s, server, SAM.email, SAM.password);
  await goTo(sup, 'live');
  const item = sup.locator(`[data-testid=live-item][data-conversation-id="${id}"]`);
  await item.waitFor();
  assert.equal(await item.getByTestId('live-visitor').textContent(), 'Vera 🌻');
  assert.equal(await item.getByTestId('live-operator').textContent(), 'Otto Plain');
  assert.equal(await item.getByTestId('live-state').textContent(), 'Active');
  assert.equal(await item.getByTestId('live-department').textContent(), 'General');
  assert.match(await item.getByTestId('live-duration').textContent(), /^for \d+:\d\d$/);
  const ottoRow = sup.locator('[data-testid=live-operator-row]').filter({ hasText: 'Otto Plain' });
  assert.equal(await ottoRow.getAttribute('data-connected'), 'true');
  assert.equal(await ottoRow.getByTestId('live-op-status').textContent(), 'Online');
  assert.equal(await ottoRow.getByTestId('live-op-load').textContent(), '1 / no limit');
  await shot(sup, 'routing-live-overview');

  // Monitor: the operator is told (tenant setting), the visitor is not.
  await item.getByTestId('live-watch').click();
  const monitor = sup.getByTestId('monitor');
  await monitor.waitFor({ state: 'visible' });
  await monitor.locator('[data-testid=message-text]', { hasText: 'Yes, three left.' }).waitFor();
  assert.equal(await monitor.getByTestId('monitor-badge').textContent(), 'Monitoring (read-only)');
  assert.equal(await monitor.getByTestId('monitor-composer').isVisible(), false, 'no way to write to the visitor before joining');
  await pane(op, id).getByTestId('monitoring-indicator').filter({ hasText: 'Sam Super is monitoring' }).waitFor();

  // Whisper: the operator sees it marked internal; the visitor never does.
  await monitor.getByTestId('monitor-whisper-input').fill('VIP customer — offer free shipping');
  await monitor.getByTestId('monitor-whisper-send').click();
  await pane(op, id).locator('[data-testid=message][data-kind=whisper]').filter({ hasText: 'VIP customer — offer free shipping' }).waitFor();
  await monitor.locator('[data-testid=message][data-kind=whisper]').filter({ hasText: 'VIP customer — offer free shipping' }).waitFor();
  assert.equal(await monitor.getByTestId('monitor-whisper-input').inputValue(), '', 'the whisper box is cleared once stored');
  // The operator answers with an internal note of their own.
  await pane(op, id).getByTestId('composer-internal').check();
  await pane(op, id).getByTestId('composer-input').fill('Got it, will do');
  await pane(op, id).getByTestId('composer-input').press('Enter');
  await monitor.locator('[data-testid=message][data-kind=whisper]').filter({ hasText: 'Got it, will do' }).waitFor();
  await pane(op, id).getByTestId('composer-internal').uncheck();
  await pane(op, id).getByTestId('composer-input').fill('Good news: shipping is free for you.');
  await pane(op, id).getByTestId('composer-input').press('Enter');
  await waitForBubble(visitor, 'Good news: shipping is free for you.', { author: 'operator' });
  const opRows = await rows(op, `[data-testid=conversation][data-conversation-id="${id}"]`);
  assert.deepEqual(opRows.filter((r) => r.kind === 'whisper'), [
    { kind: 'whisper', text: 'VIP customer — offer free shipping', author: 'Sam Super', internal: 'Internal — visitor can’t see this' },
    { kind: 'whisper', text: 'Got it, will do', author: 'You', internal: 'Internal — visitor can’t see this' },
  ]);
  assert.equal(await pane(op, id).locator('[data-testid=message][data-kind=operator] [data-testid=message-internal]').count(), 0, 'visible messages are not marked internal');
  await shot(op, 'routing-operator-whisper');
  await shot(sup, 'routing-supervisor-whisper');
  // A later visible message has arrived in the widget, so the whispers would have too.
  const seen = await widgetText(visitor);
  assert.ok(seen.includes('Good news: shipping is free for you.'));
  for (const secret of ['VIP customer', 'Got it, will do', 'Sam Super', 'monitoring']) {
    assert.equal(seen.includes(secret), false, `the widget shows nothing of "${secret}"`);
  }

  // Join: the visitor sees the supervisor join and their message; so does the operator.
  await monitor.getByTestId('monitor-join').click();
  await monitor.getByTestId('monitor-composer').waitFor({ state: 'visible' });
  assert.equal(await monitor.getByTestId('monitor-badge').textContent(), 'Joined — the visitor sees your messages');
  await visitor.waitForFunction(() => /Sam Super joined the chat/.test(document.querySelector('livehelp-widget').shadowRoot.textContent), null, { timeout: 20_000 });
  await monitor.getByTestId('monitor-composer-input').fill('Hi Vera, I am Sam, the team lead. Anything else?');
  await monitor.getByTestId('monitor-send').click();
  await waitForBubble(visitor, 'Hi Vera, I am Sam, the team lead. Anything else?', { author: 'operator' });
  await pane(op, id).getByTestId('message-text').filter({ hasText: 'Hi Vera, I am Sam, the team lead. Anything else?' }).waitFor();
  await visitorSend(visitor, 'No, thanks Sam!');
  await monitor.locator('[data-testid=message-text]', { hasText: 'No, thanks Sam!' }).waitFor();
  await shot(visitor, 'routing-visitor-after-join');
  await shot(sup, 'routing-supervisor-joined');

  // Take over: the chat moves to the supervisor's Chats; the operator's tab says where it went.
  await monitor.getByTestId('monitor-take-over').click();
  await monitor.getByTestId('monitor-take-over-confirm').click();
  await pane(sup, id).waitFor({ state: 'visible' });
  await sup.getByTestId('chats-view').waitFor({ state: 'visible' });
  await tab(sup, id).waitFor();
  await pane(sup, id).getByTestId('message-text').filter({ hasText: 'No, thanks Sam!' }).waitFor();
  assert.equal(await pane(sup, id).getByTestId('conversation-state').textContent(), 'Active');
  await pane(op, id).getByTestId('transferred-notice').filter({ hasText: 'This chat is now with Sam Super.' }).waitFor();
  assert.equal(await pane(op, id).getByTestId('composer').isVisible(), false, 'the old owner cannot write any more');
  assert.equal(await pane(op, id).getByTestId('conversation-state').textContent(), 'Transferred');
  assert.equal(await tab(op, id).locator('.tag-ended').textContent(), 'Transferred');
  assert.equal(await pane(op, id).getByTestId('monitoring-indicator').isVisible(), false);
  // The supervisor now writes from Chats like any operator.
  await pane(sup, id).getByTestId('composer-input').fill('I will ship it myself today.');
  await pane(sup, id).getByTestId('composer-input').press('Enter');
  await waitForBubble(visitor, 'I will ship it myself today.', { author: 'operator' });
  await shot(sup, 'routing-supervisor-took-over');
  await shot(op, 'routing-operator-transferred');
  await shot(visitor, 'routing-visitor-after-take-over');
  const finalWidget = await widgetText(visitor);
  for (const secret of ['VIP customer', 'Got it, will do']) assert.equal(finalWidget.includes(secret), false);

  // Every step is in the audit log.
  const audit = await apiCall(server, admin, 'GET', '/api/v1/audit-log?limit=100');
  const actions = audit.body.entries.map((e) => e.action);
  for (const action of ['monitor_started', 'whisper_sent', 'barge_joined', 'barge_took_over']) {
    assert.ok(actions.includes(action), `audit log has ${action}: ${actions.join(', ')}`);
  }
  ow.assertClean('operator console');
  sw.assertClean('supervisor console');
  vw.assertClean('widget');
});

test('an admin sets up a least_busy department, limits and a site default in the console; a visitor chat is assigned to the online operator without Accept; a transfer to another queue', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const adminApi = await apiLogin(server, DEMO_EMAIL, server.password);
  await createOperator(server, adminApi, OTTO);

  // The taken department name below is a deliberate 409, which Chromium logs.
  const { page: admin, w: aw } = await consolePage(s, server, DEMO_EMAIL, server.password, { viewport: { width: 1400, height: 900 }, allow: [status(409)] });
  // The admin is online too; make them away so only Otto is available for automatic routing.
  await admin.locator('label[for=status-away]').click();
  await admin.waitForFunction(() => window.livehelpConsole.snapshot().status === 'away');

  // Routing settings: default limit 3, show monitoring.
  await goTo(admin, 'departments');
  await admin.locator('[data-testid=routing-form][data-loaded=true]').waitFor();
  await admin.getByTestId('routing-max-chats').fill('0');
  await admin.getByTestId('routing-save').click();
  await admin.getByTestId('routing-max-chats-error').filter({ hasText: 'Enter a whole number from 1 to 100' }).waitFor();
  await admin.getByTestId('routing-max-chats').fill('3');
  await admin.getByTestId('routing-general').selectOption('manual');
  await admin.getByTestId('routing-save').click();
  await admin.getByTestId('announcer').filter({ hasText: 'Routing settings saved.' }).waitFor();
  assert.deepEqual((await apiCall(server, adminApi, 'GET', '/api/v1/routing-settings')).body,
    { routing: 'manual', max_chats_per_operator: 3, show_monitoring: false });

  // Two departments: Sales (least busy, Otto) and Support (manual, the admin).
  await admin.getByTestId('department-add').click();
  await admin.getByTestId('department-form-name').fill('Sales');
  await admin.getByTestId('department-form-routing').selectOption('least_busy');
  await admin.locator('[data-testid=department-member]').filter({ hasText: 'Otto Plain' }).locator('input').check();
  await admin.getByTestId('department-form-submit').click();
  const sales = admin.locator('[data-testid=department-row]').filter({ hasText: 'Sales' });
  await sales.waitFor();
  assert.equal(await sales.getByTestId('department-routing').textContent(), 'Least busy');
  assert.equal(await sales.getByTestId('department-members').textContent(), 'Otto Plain');
  // A taken name is shown at the field.
  await admin.getByTestId('department-add').click();
  await admin.getByTestId('department-form-name').fill('Sales');
  await admin.getByTestId('department-form-submit').click();
  await admin.getByTestId('department-form-name-error').filter({ hasText: 'A department with this name already exists.' }).waitFor();
  await admin.getByTestId('department-form-name').fill('Support');
  await admin.locator('[data-testid=department-member]').filter({ hasText: 'Dana (demo)' }).locator('input').check();
  await admin.getByTestId('department-form-submit').click();
  const support = admin.locator('[data-testid=department-row]').filter({ hasText: 'Support' });
  await support.waitFor();
  assert.equal(await support.getByTestId('department-routing').textContent(), 'Manual');
  await shot(admin, 'routing-departments-page');
  const departments = (await apiCall(server, adminApi, 'GET', '/api/v1/departments')).body.departments;
  const salesId = departments.find((d) => d.name === 'Sales').id;
  const supportId = departments.find((d) => d.name === 'Support').id;
  assert.equal(departments.find((d) => d.name === 'Sales').routing, 'least_busy');

  // Operators page: Otto takes at most 1 chat (the default, 3, is the placeholder).
  await goTo(admin, 'operators');
  const ottoRow = admin.locator(`[data-testid=operator-row][data-email="${OTTO.email}"]`);
  await ottoRow.waitFor();
  assert.equal(await ottoRow.getByTestId('operator-max-chats').getAttribute('placeholder'), 'Default (3)');
  await ottoRow.getByTestId('operator-max-chats').fill('1');
  await ottoRow.getByTestId('operator-max-chats').press('Enter');
  await admin.getByTestId('announcer').filter({ hasText: 'Otto Plain now takes at most 1 chat at once.' }).waitFor();
  const ottoNow = (await apiCall(server, adminApi, 'GET', '/api/v1/operators')).body.operators.find((o) => o.email === OTTO.email);
  assert.equal(ottoNow.max_chats, 1);

  // Sites page: the demo site's chats go to Sales by default.
  await goTo(admin, 'sites');
  const card = admin.locator('[data-testid=site-card]').first();
  await card.getByTestId('site-edit').click();
  await admin.getByTestId('site-form-department').selectOption({ label: 'Sales' });
  await admin.getByTestId('site-form-submit').click();
  await admin.locator('[data-testid=site-card]').first().getByTestId('site-department').filter({ hasText: 'Sales' }).waitFor();
  const site = (await apiCall(server, adminApi, 'GET', '/api/v1/sites')).body.sites[0];
  assert.equal(site.default_department_id, salesId);
  await shot(admin, 'routing-site-default-department');

  // Otto is online. A visitor starts a chat: it is assigned to him, no Accept clicked.
  const { page: op, w: ow } = await consolePage(s, server, OTTO.email, OTTO.password);
  const visitor = (await s.browser()).pages()[0];
  const vw = watch(visitor);
  await openDemo(visitor, server);
  await startChat(visitor, 'Ada');
  const assigned = await op.waitForFunction(() => document.querySelector('[data-testid=chat-tab]')?.dataset.conversationId, null, { timeout: 20_000 });
  const id = await assigned.jsonValue();
  await pane(op, id).waitFor({ state: 'visible' });
  assert.equal(await pane(op, id).getByTestId('conversation-department').textContent(), 'Sales');
  assert.equal(await pane(op, id).getByTestId('conversation-name').textContent(), 'Ada');
  await pane(op, id).locator('[data-testid=system-message][data-event=operator_joined]').filter({ hasText: 'You joined the chat' }).waitFor();
  assert.equal(await op.locator('[data-testid=queue-item]').count(), 0, 'nothing waits: the chat never needed Accept');
  await visitor.waitForFunction(() => /Otto Plain joined the chat/.test(document.querySelector('livehelp-widget').shadowRoot.textContent), null, { timeout: 20_000 });
  await visitorSend(visitor, 'Hello Otto');
  await pane(op, id).getByTestId('message-text').filter({ hasText: 'Hello Otto' }).waitFor();
  await shot(op, 'routing-auto-assigned');

  // Otto is at his limit of 1: a second visitor waits in the Sales queue, labelled.
  const visitor2 = (await s.browser()).pages()[0];
  const v2w = watch(visitor2);
  await openDemo(visitor2, server);
  await startChat(visitor2, 'Bea');
  const waiting = await newQueueEntry(op);
  const queued = op.locator(`[data-testid=queue-item][data-conversation-id="${waiting}"]`);
  assert.equal(await queued.getByTestId('queue-department').textContent(), 'Sales');
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // give the router a chance to (wrongly) assign it
  assert.equal(await op.locator('[data-testid=chat-tab]').count(), 1, 'the limit holds');
  // Accepting by hand is refused too, readably.
  await queued.getByTestId('accept').click();
  await op.getByTestId('toast').filter({ hasText: 'You already have as many chats as your limit allows.' }).waitFor();

  // Otto transfers his chat to Support with a note; it waits there for the admin.
  await pane(op, id).getByTestId('transfer-chat').click();
  const target = pane(op, id).getByTestId('transfer-target');
  await target.locator('option', { hasText: 'Support (queue)' }).waitFor({ state: 'attached' });
  assert.match(await pane(op, id).getByTestId('transfer-hint').textContent(), /department’s queue/);
  await pane(op, id).getByTestId('transfer-submit').click();
  await pane(op, id).getByTestId('transfer-error').filter({ hasText: 'Choose who gets the chat.' }).waitFor();
  await target.selectOption(`department:${supportId}`);
  await pane(op, id).getByTestId('transfer-note').fill('Wants to return a lamp');
  await shot(op, 'routing-transfer-panel');
  await pane(op, id).getByTestId('transfer-submit').click();
  await pane(op, id).getByTestId('transferred-notice').filter({ hasText: 'This chat went back to the queue of Support.' }).waitFor();
  assert.equal(await pane(op, id).getByTestId('composer').isVisible(), false);
  // Otto is free again: least_busy hands him Bea's waiting Sales chat.
  await op.locator(`[data-testid=chat-tab][data-conversation-id="${waiting}"]`).waitFor({ timeout: 20_000 });
  await shot(op, 'routing-transferred-to-department');

  // The admin (Support) sees Ada waiting in Support, accepts, and reads the note as internal.
  await admin.locator('label[for=status-online]').click();
  const adaQueued = admin.locator(`[data-testid=queue-item][data-conversation-id="${id}"]`);
  await adaQueued.waitFor();
  assert.equal(await adaQueued.getByTestId('queue-department').textContent(), 'Support');
  await adaQueued.getByTestId('accept').click();
  await pane(admin, id).waitFor({ state: 'visible' });
  const note = pane(admin, id).locator('[data-testid=message][data-kind=whisper]').filter({ hasText: 'Wants to return a lamp' });
  await note.waitFor();
  assert.equal(await note.getByTestId('message-internal').textContent(), 'Internal — visitor can’t see this');
  await pane(admin, id).getByTestId('message-text').filter({ hasText: 'Hello Otto' }).waitFor();
  assert.equal(await pane(admin, id).getByTestId('conversation-department').textContent(), 'Support');
  await shot(admin, 'routing-admin-received-transfer');
  assert.equal((await widgetText(visitor)).includes('Wants to return a lamp'), false, 'the note never reaches the visitor');

  // Otto ends Bea's chat; the admin hands Ada to him by name. While the panel is open Otto
  // goes away: the refusal is readable. Back online, the transfer goes through and Ada's
  // old (transferred) tab on Otto's page comes back to life with the note.
  await tab(op, waiting).click();
  await pane(op, waiting).getByTestId('end-chat').click();
  await pane(op, waiting).getByTestId('end-chat-confirm').click();
  await pane(op, waiting).getByTestId('ended-notice').waitFor({ state: 'visible' });
  const ottoId = ottoNow.id;
  await pane(admin, id).getByTestId('transfer-chat').click();
  const adminTarget = pane(admin, id).getByTestId('transfer-target');
  await adminTarget.locator('option', { hasText: 'Otto Plain — 0/1 chats' }).waitFor({ state: 'attached' });
  assert.equal(await adminTarget.locator('option', { hasText: 'Support (queue)' }).count(), 1, 'departments are offered too');
  await adminTarget.selectOption(`operator:${ottoId}`);
  await pane(admin, id).getByTestId('transfer-note').fill('Returning customer, lamp order #A-17');
  await op.locator('label[for=status-away]').click();
  await op.waitForFunction(() => window.livehelpConsole.snapshot().status === 'away');
  await pane(admin, id).getByTestId('transfer-submit').click();
  await pane(admin, id).getByTestId('transfer-error').filter({ hasText: 'That colleague can’t take the chat now' }).waitFor();
  assert.equal(await pane(admin, id).getByTestId('composer').isVisible(), true, 'a refused transfer changes nothing');
  await shot(admin, 'routing-transfer-refused');
  await op.locator('label[for=status-online]').click();
  await op.waitForFunction(() => window.livehelpConsole.snapshot().status === 'online');
  await pane(admin, id).getByTestId('transfer-submit').click();
  await pane(admin, id).getByTestId('transferred-notice').filter({ hasText: 'This chat is now with Otto Plain.' }).waitFor();
  await pane(op, id).getByTestId('conversation-state').filter({ hasText: 'Active' }).waitFor({ state: 'attached' });
  await tab(op, id).click();
  await pane(op, id).getByTestId('composer').waitFor({ state: 'visible' });
  assert.equal(await pane(op, id).getByTestId('transferred-notice').isVisible(), false);
  await pane(op, id).locator('[data-testid=message][data-kind=whisper]').filter({ hasText: 'Returning customer, lamp order #A-17' }).waitFor();
  await pane(op, id).locator('[data-testid=system-message][data-event=operator_joined]').filter({ hasText: 'You are now chatting with Otto Plain' }).waitFor();
  await pane(op, id).getByTestId('composer-input').fill('Back with me, Ada. Let us sort the return.');
  await pane(op, id).getByTestId('composer-input').press('Enter');
  await waitForBubble(visitor, 'Back with me, Ada. Let us sort the return.', { author: 'operator' });
  await shot(op, 'routing-transfer-received-back');
  assert.equal((await widgetText(visitor)).includes('Returning customer'), false, 'the note never reaches the visitor');

  // The audit log names the new actions in words.
  await goTo(admin, 'audit');
  await admin.locator('[data-testid=audit-row][data-action=department_created]').first().getByTestId('audit-action').filter({ hasText: 'Added a department' }).waitFor();
  const transfers = admin.locator('[data-testid=audit-row][data-action=conversation_transferred]');
  await transfers.first().getByTestId('audit-action').filter({ hasText: 'Transferred a chat' }).waitFor();
  assert.equal(await transfers.count(), 2, 'two transfers went through (the refused one is not one)');

  // The refused accept came over the socket (no fetch error); the only 409 fetch was the taken name.
  aw.assertClean('admin console');
  ow.assertClean('operator console');
  vw.assertClean('widget');
  v2w.assertClean('second widget');
});

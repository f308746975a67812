// Shared helpers for livehelp's browser end-to-end tests: start the real server binary,
// launch Debian's chromium through playwright-core, watch pages for dialogs and console
// errors, drive an operator over the real WebSocket protocol, and clean everything up.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.LIVEHELP_BIN || path.join(ROOT, 'target/debug/livehelp');
export const ARTIFACTS = path.join(ROOT, 'tests/e2e/artifacts');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const DEMO_EMAIL = 'demo@example.test';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A fresh temporary directory, removed by `scope.close()`. */
function tempDir(scope, prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  scope.dirs.push(dir);
  return dir;
}

/**
 * Everything one test starts: servers, browsers, temp dirs, sockets. Call
 * `const s = scope(t)`; it registers `t.after(() => s.close())`, which kills every child
 * process and closes every browser even when the test fails.
 */
export function scope(t) {
  const s = {
    servers: [], browsers: [], dirs: [], sockets: [], watchers: [],
    server: (opts) => startServer(s, opts),
    browser: (opts) => launchBrowser(s, opts),
    async close() {
      for (const ws of s.sockets) ws.terminate();
      await Promise.allSettled(s.browsers.map((b) => b.close()));
      await Promise.allSettled(s.servers.map((srv) => srv.stop()));
      for (const dir of s.dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
  t.after(() => s.close());
  return s;
}

/**
 * Starts `livehelp serve --demo` and resolves once its JSON log says "livehelp is ready"
 * (read from stderr, never polled). `listen` defaults to a free port; pass the old
 * `address` with the old `dataDir` to restart "the same" server.
 */
export async function startServer(s, { dataDir, listen = '127.0.0.1:0' } = {}) {
  dataDir ??= tempDir(s, 'livehelp-e2e-data-');
  const child = spawn(BIN, ['serve', '--demo', '--listen', listen, '--log-format', 'json', '--data-dir', dataDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info' },
  });
  const log = [];
  let exited = null;
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); }));
  const lines = readline.createInterface({ input: child.stderr });
  const address = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`livehelp not ready after 60 s:\n${log.join('\n')}`)), 60_000);
    lines.on('line', (line) => {
      log.push(line);
      let entry;
      try { entry = JSON.parse(line); } catch { return; }
      if (entry.fields?.message === 'livehelp is ready') { clearTimeout(timer); resolve(entry.fields.address); }
    });
    exit.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`livehelp exited (${code ?? signal}) before it was ready:\n${log.join('\n')}`)); });
  });
  const server = {
    address, dataDir, child, log,
    url: `http://${address}`,
    get password() { return readFileSync(path.join(dataDir, 'demo-login.txt'), 'utf8').trim(); },
    /** SIGTERM (graceful: sockets closed with 1001), SIGKILL after 15 s. */
    async stop() {
      if (exited) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 15_000);
      const result = await exit;
      clearTimeout(timer);
      return result;
    },
    /** Starts the same server again: same data dir, same address. */
    restart: async () => { await server.stop(); return startServer(s, { dataDir, listen: address }); },
  };
  s.servers.push(server);
  return server;
}

/** Debian's chromium in a fresh persistent profile (Playwright refuses --user-data-dir in args). */
export async function launchBrowser(s, { viewport = { width: 1280, height: 800 }, ...rest } = {}) {
  const profile = tempDir(s, 'livehelp-e2e-profile-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport, ...rest,
  });
  s.browsers.push(context);
  return context;
}

/**
 * Fails the test on any dialog (alert/confirm/prompt), page error or console error,
 * except console errors matching one of `allow` (e.g. the browser's own "WebSocket
 * connection failed" lines while the server is deliberately down).
 */
export function watch(page, { allow = [] } = {}) {
  const problems = [];
  const w = {
    problems, allow,
    assertClean(what = 'page') { assert.deepEqual(problems, [], `${what}: dialogs or console errors`); },
  };
  page.on('dialog', (dialog) => { problems.push(`dialog ${dialog.type()}: ${dialog.message()}`); dialog.dismiss().catch(() => {}); });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (!w.allow.some((re) => re.test(text))) problems.push(`console error: ${text}`);
  });
  return w;
}

/** The browser's own console lines while a server is down or a stored token is gone. */
export const NETWORK_NOISE = [
  /WebSocket connection to .* failed/,
  /Failed to load resource: net::ERR_CONNECTION_REFUSED/,
  /Failed to load resource: net::ERR_CONNECTION_RESET/,
];

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

// ---------------------------------------------------------------------------------------
// The widget, seen from a test. Playwright's locators pierce the open shadow root.

export const W = {
  launcher: (page) => page.getByTestId('lh-launcher'),
  panel: (page) => page.getByTestId('lh-panel'),
  name: (page) => page.getByTestId('lh-name'),
  start: (page) => page.getByTestId('lh-start'),
  input: (page) => page.getByTestId('lh-input'),
  send: (page) => page.getByTestId('lh-send'),
  end: (page) => page.getByTestId('lh-end'),
  status: (page) => page.getByTestId('lh-status'),
  log: (page) => page.getByTestId('lh-log'),
  privacyLink: (page) => page.getByTestId('lh-privacy-link'),
};

/** Opens /demo and waits until the widget is on the page with its site's configuration. */
export async function openDemo(page, server) {
  await page.goto(`${server.url}/demo`);
  await W.launcher(page).waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.querySelector('livehelp-widget')?.shadowRoot
    .querySelector('[data-testid=lh-privacy-link]'));
}

/** Launcher → name (optional) → Start chat; resolves when the chat view is shown. */
export async function startChat(page, name) {
  if (!(await W.panel(page).isVisible())) await W.launcher(page).click();
  await W.start(page).waitFor({ state: 'visible' });
  if (name != null) await W.name(page).fill(name);
  await W.start(page).click();
  await W.input(page).waitFor({ state: 'visible' });
}

export async function visitorSend(page, text) {
  await W.input(page).fill(text);
  await W.input(page).press('Enter');
}

/** Every message bubble in the widget: author, exact text, state, id, seq. */
export function widgetMessages(page) {
  return page.evaluate(() => {
    const root = document.querySelector('livehelp-widget').shadowRoot;
    return [...root.querySelectorAll('[data-testid=lh-message]')].map((row) => ({
      author: row.dataset.author, state: row.dataset.state, id: row.dataset.id || null,
      seq: row.dataset.seq ? Number(row.dataset.seq) : null,
      text: row.querySelector('[data-testid=lh-message-text]').textContent,
    }));
  });
}

/** Waits until a bubble with exactly `text` (by `author`, if given) is in the widget, acked. */
export async function waitForBubble(page, text, { author, sent = true, timeout = 20_000 } = {}) {
  await page.waitForFunction(({ text, author, sent }) => {
    const root = document.querySelector('livehelp-widget')?.shadowRoot;
    if (!root) return false;
    return [...root.querySelectorAll('[data-testid=lh-message]')].some((row) =>
      row.querySelector('[data-testid=lh-message-text]').textContent === text
      && (!author || row.dataset.author === author) && (!sent || row.dataset.state === 'sent'));
  }, { text, author, sent }, { timeout });
}

export async function waitForSystem(page, event, { timeout = 20_000 } = {}) {
  await page.waitForFunction((event) => !!document.querySelector('livehelp-widget')?.shadowRoot
    .querySelector(`[data-testid=lh-system][data-event=${event}]`), event, { timeout });
}

// ---------------------------------------------------------------------------------------
// An operator driven over the real protocol from Node (cookie login + WebSocket).

export class Operator {
  constructor(server, socketScope) {
    this.server = server;
    this.scope = socketScope;
    this.frames = [];
    this.waiters = [];
    this.ws = null;
    this.cookie = null;
  }

  static async login(s, server, { email = DEMO_EMAIL, password = server.password } = {}) {
    const op = new Operator(server, s);
    const response = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
    });
    assert.equal(response.status, 200, `operator login: ${await response.clone().text()}`);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('lh_session='));
    assert.ok(cookie, 'login sets lh_session');
    op.cookie = cookie.split(';')[0];
    op.me = await response.json();
    await op.connect();
    return op;
  }

  /** (Re)connects; the server URL may have changed after a restart (same address). */
  async connect(server = this.server) {
    this.server = server;
    const from = this.frames.length;
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/v1/ws/operator`, {
      headers: { Cookie: this.cookie, Origin: server.url },
    });
    this.ws = ws;
    this.scope.sockets.push(ws);
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data));
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => !w.check(frame));
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    this.hello = await this.waitFor((f) => f.type === 'hello', { from });
  }

  send(frame) { this.ws.send(JSON.stringify(frame)); }

  /**
   * The first frame matching `pred`, among frames already received after index `from`
   * (default: all), or the next one to arrive. `fresh: true` only looks at new frames.
   */
  waitFor(pred, { timeout = 20_000, from = 0, fresh = false } = {}) {
    if (!fresh) {
      const found = this.frames.slice(from).find(pred);
      if (found) return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`operator: no matching frame within ${timeout} ms; last frames:\n${
        this.frames.slice(-8).map((f) => JSON.stringify(f)).join('\n')}`)), timeout);
      this.waiters.push({ check: (f) => { if (!pred(f)) return false; clearTimeout(timer); resolve(f); return true; } });
    });
  }

  /** Waits for a queued conversation (e.g. the newest visitor's chat) and accepts it. */
  async acceptNext({ visitorName, after } = {}) {
    const seen = new Set(after ?? []);
    const queued = (c) => c && c.state === 'queued' && !seen.has(c.id) && (visitorName === undefined || c.visitor?.name === visitorName);
    const frame = await this.waitFor((f) => (f.type === 'conversation' && queued(f.conversation))
      || (f.type === 'queue' && f.conversations.some(queued)));
    const conversation = frame.type === 'queue' ? frame.conversations.find(queued) : frame.conversation;
    await this.accept(conversation.id);
    return conversation;
  }

  async accept(conversationId) {
    const id = randomUUID();
    this.send({ type: 'accept', client_msg_id: id, conversation_id: conversationId });
    await this.ack(id);
  }

  async say(conversationId, text) {
    const id = randomUUID();
    this.send({ type: 'send_message', client_msg_id: id, conversation_id: conversationId, text });
    return this.ack(id);
  }

  async end(conversationId) {
    const id = randomUUID();
    this.send({ type: 'end_chat', client_msg_id: id, conversation_id: conversationId });
    return this.ack(id);
  }

  typing(conversationId, isTyping) { this.send({ type: 'typing', conversation_id: conversationId, is_typing: isTyping }); }

  async ack(clientMsgId) {
    const frame = await this.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.client_msg_id === clientMsgId);
    assert.equal(frame.type, 'ack', `operator frame not acked: ${JSON.stringify(frame)}`);
    return frame;
  }

  /** Messages of a conversation as received, in arrival order (duplicates included). */
  messages(conversationId) {
    return this.frames.filter((f) => f.type === 'message' && f.message.conversation_id === conversationId).map((f) => f.message);
  }

  lastSeq(conversationId) { return Math.max(0, ...this.messages(conversationId).map((m) => m.seq)); }

  waitForMessage(conversationId, text, opts) {
    return this.waitFor((f) => f.type === 'message' && f.message.conversation_id === conversationId && f.message.text === text, opts);
  }

  async transcript(conversationId) {
    const response = await fetch(`${this.server.url}/api/v1/conversations/${conversationId}/transcript`, { headers: { Cookie: this.cookie } });
    assert.equal(response.status, 200);
    return response.json();
  }
}

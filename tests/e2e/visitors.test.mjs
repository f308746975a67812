// Visitor tracking in a real browser (issue 6): a visitor who never touches the widget
// walks through 5 pages of the demo shop; every view is counted in the anonymous tally
// (sent with sendBeacon), nothing is stored in the browser, and a visitor who then starts
// a chat leaves a page trail the operator can read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Operator, openDemo, scope, startChat, watch } from './lib.mjs';

const PAGES = ['/demo/', '/demo/mugs.html', '/demo/bags.html', '/demo/lamps.html', '/demo/shipping.html'];

function today() {
  return new Date().toISOString().slice(0, 10);
}

async function tallies(server, op) {
  const response = await fetch(`${server.url}/api/v1/page-views?from=${today()}&to=${today()}`, { headers: { Cookie: op.cookie } });
  assert.equal(response.status, 200);
  return (await response.json()).tallies;
}

async function waitForTotal(server, op, total) {
  const until = Date.now() + 20_000;
  let rows = [];
  while (Date.now() < until) {
    rows = await tallies(server, op);
    if (rows.reduce((sum, row) => sum + row.views, 0) >= total) return rows;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`tally never reached ${total}: ${JSON.stringify(rows)}`);
}

test('five anonymous page views are tallied per page, with nothing stored in the browser', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const op = await Operator.login(s, server);
  const browser = await s.browser();
  const page = await browser.newPage();
  const watcher = watch(page);
  for (const path of PAGES) {
    await page.goto(`${server.url}${path}?utm_source=mail&token=s3cret#top`);
    await page.getByTestId('lh-launcher').waitFor({ state: 'visible' });
  }
  // The last page's view leaves with the page (pagehide → sendBeacon).
  await page.goto('about:blank');
  const rows = await waitForTotal(server, op, 5);
  const byUrl = Object.fromEntries(rows.map((row) => [row.url, row.views]));
  for (const path of PAGES) {
    assert.equal(byUrl[`${server.url}${path}`], 1, `${path} counted once: ${JSON.stringify(rows)}`);
  }
  assert.ok(rows.every((row) => !row.url.includes('?') && !row.url.includes('#')), 'no query or fragment counted');

  // Nothing identifying was stored: no storage, no cookie for the shop's origin.
  await page.goto(`${server.url}/demo/`);
  await page.getByTestId('lh-launcher').waitFor({ state: 'visible' });
  const stored = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
  assert.deepEqual(stored, { local: 0, session: 0, cookie: '' });
  watcher.assertClean('anonymous visitor');
});

test('a visitor with a chat leaves a page trail; query strings never reach it', async (t) => {
  const s = scope(t);
  const server = await s.server();
  const op = await Operator.login(s, server);
  const browser = await s.browser();
  const page = await browser.newPage();
  const watcher = watch(page);
  await openDemo(page, server);
  await startChat(page, 'Trail Tester');
  const visitorId = await page.evaluate(async () => {
    const token = localStorage.getItem('livehelp:demo-site-key:visitor');
    const response = await fetch('/api/v1/visitor-session', { headers: { Authorization: `Bearer ${token}` } });
    return (await response.json()).visitor_id;
  });
  assert.ok(visitorId, 'the visitor has an id');
  for (const path of PAGES.slice(1, 3)) {
    await page.goto(`${server.url}${path}?token=s3cret`);
    await page.getByTestId('lh-launcher').waitFor({ state: 'visible' });
  }
  const until = Date.now() + 20_000;
  let pages = [];
  while (Date.now() < until) {
    const response = await fetch(`${server.url}/api/v1/visitors/${visitorId}/page-trail`, { headers: { Cookie: op.cookie } });
    assert.equal(response.status, 200);
    pages = (await response.json()).pages;
    // Both later pages, not just any two entries (the first page of the visit is there
    // already, so "two entries" could be seen before the last page arrived).
    const seen = pages.map((p) => p.url);
    if (seen.includes(`${server.url}/demo/mugs.html`) && seen.includes(`${server.url}/demo/bags.html`)) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const urls = pages.map((p) => p.url);
  assert.ok(urls.includes(`${server.url}/demo/mugs.html`), JSON.stringify(urls));
  assert.ok(urls.includes(`${server.url}/demo/bags.html`), JSON.stringify(urls));
  assert.ok(urls.every((url) => !url.includes('s3cret')));
  watcher.assertClean('chatting visitor');
});

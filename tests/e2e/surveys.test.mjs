// Exit surveys in a real browser (issue 5): the admin designs a survey with one question
// of every type in the console, a visitor answers it in the widget after the chat ends,
// and the console shows the answers under the transcript and the aggregates; "No thanks"
// closes the survey at once and sends nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEMO_EMAIL, Operator, W, openDemo, scope, screenshot, startChat, visitorSend, waitForBubble, waitForSystem, watch,
} from './lib.mjs';

const QUESTIONS = [
  { kind: 'free_text', label: 'Anything else?' },
  { kind: 'email', label: 'Your email' },
  { kind: 'single_choice', label: 'Found us via', options: ['Search', 'Friend'] },
  { kind: 'multiple_choice', label: 'Topics', options: ['Billing', 'Shipping', 'Returns'] },
  { kind: 'rating', label: 'How did we do?', required: true },
  { kind: 'number', label: 'Orders per year' },
  { kind: 'postal_code', label: 'Zip' },
  { kind: 'age', label: 'Age' },
  { kind: 'birth_date', label: 'Birth date' },
  { kind: 'income_band', label: 'Income', options: ['Under 30k', '30k to 60k', 'Over 60k'] },
];

async function signIn(page, server) {
  await page.goto(`${server.url}/console/`);
  await page.getByTestId('login-email').fill(DEMO_EMAIL);
  await page.getByTestId('login-password').fill(server.password);
  await page.getByTestId('login-submit').click();
  await page.waitForFunction(() => window.livehelpConsole?.snapshot().connection === 'online', null, { timeout: 20_000 });
}

/** Chat in the widget until the operator ends it; returns the conversation id. */
async function chatUntilEnded(page, op, first) {
  const before = new Set(op.frames.flatMap((f) => (f.type === 'conversation' ? [f.conversation.id] : [])));
  if (first) await startChat(page, 'Sam');
  else await page.getByTestId('lh-new-chat').click();
  const conversation = await op.acceptNext({ after: before });
  await waitForSystem(page, 'operator_joined');
  await visitorSend(page, 'Where is my order?');
  await waitForBubble(page, 'Where is my order?', { author: 'visitor' });
  await op.end(conversation.id);
  await page.getByTestId('lh-new-chat').waitFor({ state: 'visible' });
  return conversation.id;
}

test('surveys: design every question type in the console, answer in the widget, see answers and aggregates; No thanks sends nothing', async (t) => {
  const s = scope(t);
  const server = await s.server();

  // The admin designs the survey.
  const consoleContext = await s.browser({ viewport: { width: 1360, height: 900 } });
  const admin = consoleContext.pages()[0];
  const cw = watch(admin);
  await signIn(admin, server);
  await admin.getByTestId('nav-surveys').click();
  await admin.getByTestId('surveys-view').waitFor({ state: 'visible' });
  await admin.getByTestId('survey-version').filter({ hasText: 'No survey yet.' }).waitFor();
  for (const [index, question] of QUESTIONS.entries()) {
    await admin.getByTestId('survey-add').click();
    const row = admin.getByTestId('survey-question').nth(index);
    await row.getByTestId('survey-kind').selectOption(question.kind);
    await row.getByTestId('survey-label').fill(question.label);
    if (question.options) await row.getByTestId('survey-options').fill(question.options.join('\n'));
    if (question.required) await row.getByTestId('survey-required').check();
  }
  await admin.getByTestId('survey-save').click();
  await admin.getByTestId('survey-design-status').filter({ hasText: 'Saved as version 1.' }).waitFor();
  assert.equal(await admin.getByTestId('survey-question').count(), QUESTIONS.length);
  await screenshot(admin, 'surveys-designer');

  // A visitor chats; the operator ends the chat; the widget offers the survey.
  const op = await Operator.login(s, server);
  const visitorContext = await s.browser();
  const page = visitorContext.pages()[0];
  const vw = watch(page);
  const posts = [];
  page.on('request', (request) => { if (request.url().includes('/survey-response')) posts.push(request.url()); });
  await openDemo(page, server);
  const first = await chatUntilEnded(page, op, true);
  const survey = page.getByTestId('lh-survey');
  await survey.waitFor({ state: 'visible' });
  const q = (kind) => page.locator(`[data-testid=lh-survey] .sq[data-kind=${kind}]`);
  await q('free_text').locator('textarea').fill('Quick and kind, thanks');
  await q('email').locator('input').fill('sam@example.com');
  await q('single_choice').getByLabel('Friend').check();
  await q('multiple_choice').getByLabel('Billing').check();
  await q('multiple_choice').getByLabel('Returns').check();
  // Keyboard: focus the first rating, then arrow keys move within the radio group.
  await q('rating').getByLabel('1').focus();
  for (let i = 0; i < 4; i += 1) await page.keyboard.press('ArrowRight');
  assert.equal(await q('rating').getByLabel('5').isChecked(), true, 'rating chosen with the keyboard');
  await q('number').locator('input').fill('12');
  await q('postal_code').locator('input').fill('94107');
  await q('age').locator('input').fill('34');
  await q('birth_date').locator('input').fill('1990-04-30');
  await q('income_band').getByLabel('30k to 60k').check();
  await screenshot(page, 'surveys-widget');
  await page.getByTestId('lh-survey-send').click();
  await page.getByTestId('lh-survey-done').filter({ hasText: 'Thank you for your feedback!' }).waitFor();
  assert.equal(posts.length, 1);

  // "No thanks" on the next chat: closes at once, sends nothing.
  await chatUntilEnded(page, op, false);
  await survey.waitFor({ state: 'visible' });
  await page.getByTestId('lh-survey-no').click();
  await survey.waitFor({ state: 'hidden' });
  assert.equal(posts.length, 1, 'No thanks sends nothing');
  vw.assertClean('widget');

  // The console: aggregates, then the answers under the transcript.
  await admin.getByTestId('survey-show').click();
  await admin.getByTestId('survey-responses').filter({ hasText: /^1$/ }).waitFor();
  assert.equal(await admin.getByTestId('survey-refused').textContent(), '0');
  const rating = admin.locator('[data-testid=survey-result][data-kind=rating]');
  assert.equal(await rating.getByTestId('survey-csat').textContent(), 'CSAT: 100% rated 4 or 5');
  assert.equal(await rating.getByTestId('survey-average').textContent(), 'Average: 5.00');
  const topics = admin.locator('[data-testid=survey-result][data-kind=multiple_choice] [data-testid=survey-bar]');
  assert.deepEqual(await topics.allTextContents(), ['Billing1', 'Shipping0', 'Returns1']);
  await screenshot(admin, 'surveys-results');
  const csv = await admin.evaluate(() => fetch(document.querySelector('[data-testid=survey-csv]').href).then((r) => r.text()));
  assert.match(csv, /"Quick and kind, thanks"/);

  await admin.getByTestId('nav-history').click();
  await admin.locator(`[data-testid=history-item][data-conversation-id="${first}"] [data-testid=history-open]`).click();
  const answers = admin.getByTestId('transcript-survey-answer');
  await answers.first().waitFor();
  assert.deepEqual(await answers.allTextContents(), [
    'Quick and kind, thanks', 'sam@example.com', 'Friend', 'Billing\nReturns', '5', '12', '94107', '34', '1990-04-30', '30k to 60k',
  ]);
  await screenshot(admin, 'surveys-transcript');
  cw.assertClean('console');
});

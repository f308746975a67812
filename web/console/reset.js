// The password reset page: /console/#reset=TOKEN (the one-time link an admin issues).
// "Choose a new password" twice, then POST /api/v1/auth/password-reset {token, password};
// 204 means done. The token stays in the fragment (never sent to a server) until it has
// been used, then the address bar is cleaned.

import { t } from './strings.js';
import { api } from './api.js';
import { h, $, charCount } from './dom.js';
import { field, errorText, sentence } from './ui.js';

const MIN = 12;
const MAX = 128;

/** The token of a `#reset=TOKEN` address ('' when empty), or null for other addresses. */
export function resetTokenFromHash(hash = location.hash) {
  const match = /^#reset(?:=(.*))?$/.exec(hash);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1] || '').trim();
  } catch {
    return '';
  }
}

/**
 * Shows the reset page in #reset-view (hiding everything else).
 * `onLogin` is called from the "Log in" button after success.
 */
export function showResetPage(token, { onLogin }) {
  const view = $('#reset-view');
  document.body.classList.remove('is-booting');
  $('#boot').hidden = true;
  $('#app').hidden = true;
  $('#login-view').hidden = true;
  view.hidden = false;
  view.textContent = '';
  document.title = `${t('reset_heading')} · ${t('app_title')}`;

  const password = field({
    label: t('reset_password'), name: 'new-password', type: 'password', testid: 'reset-password',
    attrs: { autocomplete: 'new-password', maxlength: String(MAX * 2), required: '' },
  });
  const confirm = field({
    label: t('reset_confirm'), name: 'confirm-password', type: 'password', testid: 'reset-confirm',
    attrs: { autocomplete: 'new-password', maxlength: String(MAX * 2), required: '' },
  });
  const ruleLength = h('li', { class: 'rule', text: t('reset_rule_length'), data: { ok: 'false', testid: 'reset-rule-length' } });
  const ruleMatch = h('li', { class: 'rule', text: t('reset_rule_match'), data: { ok: 'false', testid: 'reset-rule-match' } });
  const rules = h('ul', { class: 'rules', attrs: { 'aria-label': t('reset_intro') } }, ruleLength, ruleMatch);
  const error = h('p', { class: 'form-error', attrs: { role: 'alert' }, data: { testid: 'reset-error' } });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', text: t('reset_submit'), data: { testid: 'reset-submit' } });
  const form = h('form', { class: 'login-form', attrs: { novalidate: '' }, data: { testid: 'reset-form' } },
    password.node, confirm.node, rules, error, submit);
  const loginBtn = h('button', { type: 'button', class: 'btn btn-primary btn-block', text: t('reset_login'), data: { testid: 'reset-login' } });
  const done = h('div', { class: 'reset-done', hidden: true, data: { testid: 'reset-done' }, attrs: { role: 'status' } },
    h('span', { class: 'done-mark', attrs: { 'aria-hidden': 'true' } }),
    h('h2', { class: 'done-title', text: t('reset_done_title') }),
    h('p', { class: 'login-intro', text: t('reset_done_body') }),
    loginBtn);
  const heading = h('h1', { class: 'login-title', text: t('reset_heading') });
  const intro = h('p', { class: 'login-intro', text: t('reset_intro') });
  view.append(h('div', { class: 'login-card' },
    h('div', { class: 'brand brand-lg', attrs: { 'aria-hidden': 'true' } },
      h('span', { class: 'brand-mark' }), h('span', { class: 'brand-name', text: t('brand') })),
    heading, intro, form, done));

  const updateRules = () => {
    const length = charCount(password.input.value);
    ruleLength.dataset.ok = String(length >= MIN && length <= MAX);
    ruleMatch.dataset.ok = String(length > 0 && password.input.value === confirm.input.value);
  };
  password.input.addEventListener('input', updateRules);
  confirm.input.addEventListener('input', updateRules);

  if (!token) {
    error.textContent = t('reset_missing');
    for (const node of [password.input, confirm.input, submit]) node.disabled = true;
    return;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    password.clear();
    confirm.clear();
    error.textContent = '';
    const value = password.input.value;
    const length = charCount(value);
    if (length < MIN || length > MAX) {
      password.setError(length < MIN ? t('reset_too_short') : t('reset_too_long'));
      password.input.focus();
      return;
    }
    if (value !== confirm.input.value) {
      confirm.setError(t('reset_mismatch'));
      confirm.input.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = t('reset_submitting');
    try {
      await api('/api/v1/auth/password-reset', { method: 'POST', body: { token, password: value }, auth: false });
    } catch (failure) {
      submit.disabled = false;
      submit.textContent = t('reset_submit');
      if (failure.code === 'weak_password') {
        password.setError(sentence(failure.message));
        password.input.select();
        password.input.focus();
      } else if (failure.code === 'invalid_request' && /link/i.test(failure.message)) {
        error.textContent = t('reset_invalid');
      } else {
        error.textContent = errorText(failure);
      }
      return;
    }
    // Used: forget the token, also in the address bar and the history entry.
    history.replaceState(null, '', location.pathname);
    form.hidden = true;
    heading.hidden = true;
    intro.hidden = true;
    done.hidden = false;
    loginBtn.focus();
  });
  loginBtn.addEventListener('click', () => {
    view.hidden = true;
    onLogin();
  });
  password.input.focus();
}

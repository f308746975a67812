// Building blocks for the console's pages (admin pages, sessions, live list): page
// heads, tables, form fields with an error slot, a copy button, an in-page confirm,
// toasts, and friendly texts for API errors. Everything goes through h() (textContent).

import { t } from './strings.js';
import { h, $ } from './dom.js';

let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;

// ---------------------------------------------------------------------------------------
// Toasts

export function toast(message, { kind = '' } = {}) {
  const box = $('#toasts');
  const item = h('div', { class: `toast${kind ? ` toast-${kind}` : ''}`, attrs: { role: 'status' }, data: { testid: 'toast' } },
    h('span', { class: 'toast-text', text: message }),
    h('button', {
      type: 'button', class: 'toast-close', text: '×',
      attrs: { 'aria-label': t('toast_dismiss') },
      on: { click: () => item.remove() },
    }));
  box.append(item);
  setTimeout(() => item.remove(), 7_000);
}

/**
 * Success feedback that does not cover the page: screen readers hear `message` (a polite
 * live region), and `node` (the row or card that changed) glows briefly.
 */
export function announce(message, node) {
  let region = document.getElementById('announcer');
  if (!region) {
    region = h('div', { id: 'announcer', class: 'sr-only', attrs: { role: 'status', 'aria-live': 'polite' }, data: { testid: 'announcer' } });
    document.body.append(region);
  }
  region.textContent = '';
  // A fresh text node per message, so the same message twice is announced twice.
  setTimeout(() => { region.textContent = message; }, 30);
  if (node) {
    node.classList.remove('is-flash');
    void node.offsetWidth; // restart the animation
    node.classList.add('is-flash');
    setTimeout(() => node.classList.remove('is-flash'), 2_200);
  }
}

// ---------------------------------------------------------------------------------------
// Errors

/** A sentence for an ApiError (or anything thrown), for people, not developers. */
export function errorText(error) {
  if (!error) return '';
  switch (error.code) {
    case 'network':
      return t('err_network');
    case 'rate_limited':
      return retryText(error.retryAfter);
    case 'role_required':
      return t('err_role_required');
    case 'csrf_token_invalid':
      return t('err_csrf');
    case 'unauthorized':
      return t('login_expired');
    case 'unavailable':
      return t('err_unavailable');
    case 'tenant_suspended':
      return t('login_suspended');
    case 'internal':
      return t('err_internal');
    default:
      return sentence(error.message) || String(error.code || '');
  }
}

/** Server messages are lower-case fragments ("password must be …"): make them a sentence. */
export function sentence(text) {
  if (!text) return '';
  const trimmed = String(text).trim();
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1) + (/[.!?…]$/.test(trimmed) ? '' : '.');
}

/** "Too many attempts — try again in N minutes" (seconds under a minute). */
export function retryText(seconds) {
  const s = Math.max(1, Math.ceil(Number(seconds) || 60));
  if (s < 60) return t('err_rate_limited_seconds', { count: s });
  return t('err_rate_limited_minutes', { count: Math.ceil(s / 60) });
}

// ---------------------------------------------------------------------------------------
// Page structure

/** Title, intro and actions at the top of a page. */
export function pageHead({ title, intro, actions = [], titleId }) {
  return h('div', { class: 'page-head' },
    h('div', { class: 'page-head-text' },
      h('h1', { class: 'page-title', text: title, id: titleId }),
      intro ? h('p', { class: 'muted', text: intro }) : null),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null);
}

/** A polite status line for "Loading…", "Nothing here yet", or an error (role=alert). */
export function statusLine(testid) {
  const node = h('p', { class: 'page-status', attrs: { role: 'status' }, data: { testid } });
  return {
    node,
    set(text, { error = false } = {}) {
      node.textContent = text || '';
      node.classList.toggle('is-error', !!error);
      node.setAttribute('role', error ? 'alert' : 'status');
    },
  };
}

/** A card with a real <table>; `columns`: [{label, className}]. Rows go into `body`. */
export function dataTable({ columns, label, testid }) {
  const body = h('tbody', { data: { testid } });
  const table = h('table', { class: 'table', attrs: { 'aria-label': label } },
    h('thead', {}, h('tr', {}, columns.map((column) => h('th', { scope: 'col', class: column.className, text: column.label })))),
    body);
  return { node: h('div', { class: 'table-card' }, table), table, body };
}

export const cell = (className, ...children) => h('td', { class: className }, ...children);

/** A button styled by variant: primary, secondary, ghost, danger, danger-outline. */
export function button(label, { variant = 'secondary', size = 'sm', testid, onClick, type = 'button', attrs, className = '' } = {}) {
  return h('button', {
    type, class: `btn btn-${variant}${size ? ` btn-${size}` : ''}${className ? ` ${className}` : ''}`,
    text: label, data: testid ? { testid } : undefined, attrs,
    on: onClick ? { click: onClick } : undefined,
  });
}

// ---------------------------------------------------------------------------------------
// Form fields

/**
 * A labelled field with a hint and an error slot wired to aria-describedby/aria-invalid.
 * kind: input (default), textarea, select (options: [{value, label}]).
 * Returns {node, input, setError(text), clear()}.
 */
export function field({ label, name, kind = 'input', type = 'text', value = '', hint, testid, options = [], attrs = {}, rows }) {
  const id = nextId(`f-${name}`);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  let input;
  if (kind === 'textarea') {
    input = h('textarea', { id, name, rows: rows || 3, value, attrs, data: testid ? { testid } : undefined });
  } else if (kind === 'select') {
    input = h('select', { id, name, attrs, data: testid ? { testid } : undefined },
      options.map((option) => h('option', { value: option.value, text: option.label, selected: option.value === value })));
  } else {
    input = h('input', { id, name, type, value, attrs, data: testid ? { testid } : undefined });
  }
  const error = h('p', { class: 'field-error', id: errorId, attrs: { 'aria-live': 'polite' }, data: testid ? { testid: `${testid}-error` } : undefined });
  const describedBy = [hintId, errorId].filter(Boolean).join(' ');
  input.setAttribute('aria-describedby', describedBy);
  const node = h('div', { class: 'field' },
    h('label', { text: label, attrs: { for: id } }),
    input,
    hint ? h('p', { class: 'field-hint', id: hintId, text: hint }) : null,
    error);
  const api = {
    node, input, error,
    setError(text) {
      error.textContent = text || '';
      if (text) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
      node.classList.toggle('has-error', !!text);
    },
    clear() { api.setError(''); },
  };
  input.addEventListener('input', () => { if (error.textContent) api.clear(); });
  return api;
}

/** An on/off switch (a checkbox with role=switch) with a label and a hint. */
export function switchField({ label, hint, checked = false, testid, name }) {
  const id = nextId(`sw-${name}`);
  const hintId = hint ? `${id}-hint` : null;
  const input = h('input', {
    id, type: 'checkbox', class: 'switch-input', checked,
    attrs: { role: 'switch', 'aria-describedby': hintId }, data: testid ? { testid } : undefined,
  });
  const node = h('div', { class: 'switch-field' },
    input,
    h('label', { class: 'switch-label', attrs: { for: id } },
      h('span', { class: 'switch-track', attrs: { 'aria-hidden': 'true' } }, h('span', { class: 'switch-thumb' })),
      h('span', { class: 'switch-text' },
        h('span', { class: 'switch-title', text: label }),
        hint ? h('span', { class: 'field-hint', id: hintId, text: hint }) : null)));
  return { node, input };
}

// ---------------------------------------------------------------------------------------
// Copy and confirm

/**
 * A "Copy" button for the text of `source` (an input/textarea, or any element). Uses the
 * async clipboard; when that is refused, selects the text so Ctrl+C works.
 */
export function copyButton(source, { testid, label = t('copy') } = {}) {
  const status = h('span', { class: 'sr-only', attrs: { role: 'status' } });
  const btn = h('button', { type: 'button', class: 'btn btn-secondary btn-sm copy-btn', data: testid ? { testid } : undefined },
    h('span', { class: 'icon icon-copy', attrs: { 'aria-hidden': 'true' } }), h('span', { class: 'copy-label', text: label }));
  let timer = null;
  btn.addEventListener('click', async () => {
    const text = 'value' in source ? source.value : source.textContent;
    let copied = false;
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch { /* not allowed here: fall back to selecting */ }
    if (!copied) selectAll(source);
    btn.querySelector('.copy-label').textContent = copied ? t('copied') : t('copy_select');
    btn.classList.toggle('is-done', copied);
    status.textContent = copied ? t('copied') : t('copy_select');
    clearTimeout(timer);
    timer = setTimeout(() => {
      btn.querySelector('.copy-label').textContent = label;
      btn.classList.remove('is-done');
      status.textContent = '';
    }, 2_500);
  });
  return h('span', { class: 'copy-wrap' }, btn, status);
}

function selectAll(source) {
  if (typeof source.select === 'function') {
    source.focus();
    source.select();
    return;
  }
  const range = document.createRange();
  range.selectNodeContents(source);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

/**
 * An action that asks first, in the page: the trigger button is replaced by
 * "question [Cancel] [Confirm]" until one is chosen (Escape cancels). No dialogs.
 * `onConfirm` may return a promise; the buttons are disabled meanwhile.
 */
export function confirmAction({ label, question, confirmLabel, variant = 'danger-outline', confirmVariant = 'danger', testid, onConfirm }) {
  const tone = confirmVariant === 'danger' ? '' : ' confirm-neutral';
  const trigger = button(label, { variant, testid });
  const yes = button(confirmLabel, { variant: confirmVariant, testid: testid ? `${testid}-confirm` : undefined });
  const no = button(t('cancel'), { variant: 'ghost', testid: testid ? `${testid}-cancel` : undefined });
  const box = h('span', { class: `confirm${tone}`, attrs: { role: 'group', 'aria-label': question }, hidden: true },
    h('span', { class: 'confirm-q', text: question }), no, yes);
  const wrap = h('span', { class: 'confirm-wrap' }, trigger, box);
  const close = (refocus) => {
    box.hidden = true;
    trigger.hidden = false;
    if (refocus) trigger.focus();
  };
  trigger.addEventListener('click', () => {
    trigger.hidden = true;
    box.hidden = false;
    yes.focus();
  });
  no.addEventListener('click', () => close(true));
  box.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') { event.stopPropagation(); close(true); }
  });
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    no.disabled = true;
    try {
      await onConfirm();
    } finally {
      yes.disabled = false;
      no.disabled = false;
      if (wrap.isConnected) close(false);
    }
  });
  return { node: wrap, trigger };
}

// ---------------------------------------------------------------------------------------
// Labels

export const roleLabel = (role) => t(`role_${role}`) || role;

export const ROLES = ['operator', 'supervisor', 'admin'];

/** "Chrome 131 · Linux" from a User-Agent, good enough to tell one's own devices apart. */
export function describeUserAgent(ua) {
  if (!ua) return t('sessions_unknown_device');
  const pick = (re) => { const m = ua.match(re); return m ? m[1] : null; };
  let browser = null;
  const edge = pick(/Edg(?:e|A|iOS)?\/(\d+)/);
  const opera = pick(/OPR\/(\d+)/);
  const firefox = pick(/(?:Firefox|FxiOS)\/(\d+)/);
  const chrome = pick(/(?:HeadlessChrome|Chrome|CriOS)\/(\d+)/);
  const safari = /Safari\//.test(ua) ? pick(/Version\/(\d+)/) : null;
  if (edge) browser = `Edge ${edge}`;
  else if (opera) browser = `Opera ${opera}`;
  else if (firefox) browser = `Firefox ${firefox}`;
  else if (chrome) browser = `${/HeadlessChrome/.test(ua) ? 'Headless Chrome' : 'Chrome'} ${chrome}`;
  else if (safari) browser = `Safari ${safari}`;
  let os = null;
  if (/Windows NT/.test(ua)) os = 'Windows';
  else if (/iPhone|iPad|iPod/.test(ua)) os = 'iOS';
  else if (/Mac OS X|Macintosh/.test(ua)) os = 'macOS';
  else if (/Android/.test(ua)) os = 'Android';
  else if (/CrOS/.test(ua)) os = 'ChromeOS';
  else if (/Linux/.test(ua)) os = 'Linux';
  if (!browser && !os) return ua.length > 60 ? `${ua.slice(0, 57)}…` : ua;
  return [browser || t('sessions_unknown_browser'), os].filter(Boolean).join(' · ');
}

// Canned responses (every operator): the list the message box expands from, the
// suggestion list shown while the box holds `/shortcut`, and the management page. Server:
// GET/POST /api/v1/canned-responses, PATCH/DELETE /api/v1/canned-responses/{id}.
//
// Expansion happens here, in the console: `{visitor_name}` becomes the visitor's name, or
// "there" (strings.js canned_visitor_fallback) when they gave none; `{operator_name}`
// becomes the operator's display name. A personal response shadows a tenant one with the
// same shortcut. Texts go into the textarea's value, never into HTML.
//
// DOM guide for tests (data-testid): composer: canned-suggestions (role=listbox) >
//   canned-suggestion[data-shortcut] (role=option, aria-selected). Page (canned-view):
//   canned-add; canned-form > canned-form-shortcut, canned-form-text, canned-form-scope
//   (select, supervisors and admins only), canned-form-error, canned-form-cancel,
//   canned-form-submit; canned-list > canned-row[data-canned-id][data-shortcut][data-scope]
//   > canned-shortcut, canned-text, canned-edit, canned-delete (+ -confirm); canned-status.

import { t } from './strings.js';
import { api, enc } from './api.js';
import { h } from './dom.js';
import { pageHead, statusLine, button, field, confirmAction, toast, announce, errorText } from './ui.js';

const SHORTCUT_IN_BOX = /^\/([A-Za-z0-9_-]{0,32})$/;
const MAX_SUGGESTIONS = 6;

const cache = { list: [], loadedAt: 0, loading: null };
const listeners = new Set();

/** Loads (or reloads) the operator's canned responses; resolves to the list. */
export function loadCanned(force = false) {
  if (!force && cache.loading) return cache.loading;
  if (!force && Date.now() - cache.loadedAt < 60_000 && cache.loadedAt) return Promise.resolve(cache.list);
  cache.loading = api('/api/v1/canned-responses')
    .then((body) => {
      cache.list = body.canned_responses || [];
      cache.loadedAt = Date.now();
      for (const listener of listeners) listener();
      return cache.list;
    })
    .catch(() => cache.list)
    .finally(() => { cache.loading = null; });
  return cache.loading;
}

/** The responses the box can expand (shadowed tenant ones left out), by shortcut. */
function usable() {
  return cache.list.filter((response) => !response.shadowed);
}

/** Fills the placeholders of a canned text. */
export function expandText(text, { visitorName, operatorName }) {
  const visitor = visitorName && visitorName.trim() ? visitorName.trim() : t('canned_visitor_fallback');
  return text
    .replaceAll('{visitor_name}', visitor)
    .replaceAll('{operator_name}', operatorName || '');
}

/**
 * Adds `/shortcut` expansion to a message box: a suggestion list while the box holds only
 * `/…`, Tab (or a click, or Enter on a highlighted suggestion) expands. Call before the
 * box's own keydown handler is added, so an expansion is not also sent.
 * @param {HTMLTextAreaElement} textarea
 * @param {{context: () => {visitorName: string|null, operatorName: string}}} options
 * @returns {HTMLElement} the suggestion list, to place next to the box
 */
export function attachCannedComposer(textarea, { context }) {
  const listId = `${textarea.id}-canned`;
  const list = h('ul', {
    class: 'canned-suggestions', id: listId,
    attrs: { role: 'listbox', 'aria-label': t('canned_suggestions_label') },
    data: { testid: 'canned-suggestions' }, hidden: true,
  });
  let items = [];
  let active = -1;
  textarea.setAttribute('aria-autocomplete', 'list');
  textarea.setAttribute('aria-controls', listId);

  function matches() {
    const match = SHORTCUT_IN_BOX.exec(textarea.value);
    if (!match) return null;
    const typed = match[1].toLowerCase();
    const found = usable().filter((response) => response.shortcut.startsWith(typed));
    // An exact match first, then the rest by shortcut.
    found.sort((a, b) => Number(b.shortcut === typed) - Number(a.shortcut === typed) || a.shortcut.localeCompare(b.shortcut));
    return found.slice(0, MAX_SUGGESTIONS);
  }

  function render() {
    const found = matches();
    if (found && cache.loadedAt === 0) loadCanned().then(() => { if (document.activeElement === textarea) render(); });
    items = found || [];
    if (active >= items.length) active = items.length - 1;
    list.textContent = '';
    if (!found) {
      close();
      return;
    }
    if (items.length === 0) {
      list.append(h('li', { class: 'canned-empty', text: t('canned_no_match') }));
    }
    items.forEach((response, index) => {
      const option = h('li', {
        id: `${listId}-${index}`, class: 'canned-suggestion',
        attrs: { role: 'option', 'aria-selected': String(index === active) },
        data: { testid: 'canned-suggestion', shortcut: response.shortcut },
        on: {
          mousedown: (event) => event.preventDefault(), // keep the focus in the box
          click: () => expand(response),
        },
      },
      h('span', { class: 'canned-shortcut', text: `/${response.shortcut}` }),
      h('span', { class: 'canned-preview', text: response.text, attrs: { dir: 'auto' } }),
      response.scope === 'personal' ? h('span', { class: 'tag', text: t('canned_scope_personal') }) : null);
      list.append(option);
    });
    list.hidden = false;
    textarea.setAttribute('aria-expanded', 'true');
    if (active >= 0) textarea.setAttribute('aria-activedescendant', `${listId}-${active}`);
    else textarea.removeAttribute('aria-activedescendant');
  }

  function close() {
    list.hidden = true;
    active = -1;
    textarea.setAttribute('aria-expanded', 'false');
    textarea.removeAttribute('aria-activedescendant');
  }

  function expand(response) {
    textarea.value = expandText(response.text, context());
    close();
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
    // Let the box resize and the typing indicator run as if it had been typed.
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
  }

  textarea.addEventListener('input', () => { active = -1; render(); });
  textarea.addEventListener('focus', () => { loadCanned(); });
  textarea.addEventListener('blur', () => close());
  textarea.addEventListener('keydown', (event) => {
    if (list.hidden) {
      if (event.key === 'Tab' && !event.shiftKey && SHORTCUT_IN_BOX.test(textarea.value)) {
        render();
      } else {
        return;
      }
    }
    const stop = () => { event.preventDefault(); event.stopImmediatePropagation(); };
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (!items.length) return;
      stop();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      active = (active + step + items.length) % items.length;
      render();
    } else if (event.key === 'Tab' && !event.shiftKey) {
      if (!items.length) return;
      stop();
      expand(items[Math.max(active, 0)]);
    } else if (event.key === 'Enter' && active >= 0 && items[active]) {
      stop();
      expand(items[active]);
    } else if (event.key === 'Escape') {
      stop();
      close();
    }
  });
  listeners.add(() => { if (!list.hidden) render(); });
  return list;
}

// ---------------------------------------------------------------------------------------
// Management page

/**
 * @param {HTMLElement} root
 * @param {{me: () => object, onRoleRequired: () => void}} ctx
 */
export function createCannedPage(root, ctx) {
  const status = statusLine('canned-status');
  const listNode = h('ul', { class: 'canned-list', data: { testid: 'canned-list' }, attrs: { 'aria-label': t('canned_list_label') } });
  const formSlot = h('div');
  const add = button(t('canned_add'), { variant: 'primary', testid: 'canned-add', onClick: () => openForm(null) });
  root.append(h('div', { class: 'page' },
    pageHead({ title: t('canned_heading'), intro: t('canned_intro'), actions: [add] }),
    formSlot, listNode, status.node));

  const mayManageTenant = () => ['admin', 'supervisor'].includes(ctx.me() && ctx.me().role);

  function render() {
    listNode.textContent = '';
    for (const response of cache.list) listNode.append(row(response));
    status.set(cache.list.length === 0 ? t('canned_empty') : '');
  }

  function row(response) {
    const manageable = response.scope === 'personal' || mayManageTenant();
    const remove = manageable ? confirmAction({
      label: t('canned_delete'), question: t('canned_delete_q', { shortcut: response.shortcut }),
      confirmLabel: t('canned_delete_confirm'), testid: 'canned-delete',
      onConfirm: () => removeResponse(response),
    }) : null;
    return h('li', {
      class: `canned-row${response.shadowed ? ' is-shadowed' : ''}`,
      data: { testid: 'canned-row', cannedId: response.id, shortcut: response.shortcut, scope: response.scope },
    },
    h('div', { class: 'canned-row-head' },
      h('code', { class: 'canned-shortcut', text: `/${response.shortcut}`, data: { testid: 'canned-shortcut' } }),
      h('span', { class: 'tag', text: t(response.scope === 'personal' ? 'canned_scope_personal' : 'canned_scope_tenant') }),
      response.shadowed ? h('span', { class: 'muted small', text: t('canned_shadowed') }) : null,
      h('span', { class: 'canned-row-actions' },
        manageable ? button(t('canned_edit'), { testid: 'canned-edit', onClick: () => openForm(response) }) : null,
        remove ? remove.node : null)),
    h('p', { class: 'canned-text', text: response.text, attrs: { dir: 'auto' }, data: { testid: 'canned-text' } }));
  }

  function openForm(existing) {
    formSlot.textContent = '';
    const shortcut = field({ label: t('canned_form_shortcut'), name: 'shortcut', value: existing ? existing.shortcut : '', hint: t('canned_form_shortcut_hint'), testid: 'canned-form-shortcut', attrs: { maxlength: '33', autocomplete: 'off', spellcheck: 'false' } });
    const text = field({ label: t('canned_form_text'), name: 'text', kind: 'textarea', rows: 4, value: existing ? existing.text : '', hint: t('canned_form_text_hint'), testid: 'canned-form-text' });
    const scope = !existing && mayManageTenant() ? field({
      label: t('canned_form_scope'), name: 'scope', kind: 'select', value: 'personal', testid: 'canned-form-scope',
      options: [{ value: 'personal', label: t('canned_scope_personal') }, { value: 'tenant', label: t('canned_scope_tenant') }],
    }) : null;
    const error = h('p', { class: 'form-error', attrs: { role: 'alert' }, data: { testid: 'canned-form-error' } });
    const submit = button(existing ? t('canned_save') : t('canned_create'), { variant: 'primary', type: 'submit', testid: 'canned-form-submit' });
    const cancel = button(t('canned_cancel'), { variant: 'ghost', testid: 'canned-form-cancel', onClick: () => { formSlot.textContent = ''; add.focus(); } });
    const form = h('form', { class: 'card canned-form', data: { testid: 'canned-form' }, attrs: { novalidate: '' } },
      shortcut.node, text.node, scope ? scope.node : null, error, h('div', { class: 'form-actions' }, cancel, submit));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      shortcut.setError('');
      text.setError('');
      submit.disabled = true;
      const body = { shortcut: shortcut.input.value, text: text.input.value };
      try {
        if (existing) {
          await api(`/api/v1/canned-responses/${enc(existing.id)}`, { method: 'PATCH', body });
        } else {
          if (scope) body.scope = scope.input.value;
          await api('/api/v1/canned-responses', { method: 'POST', body });
        }
        formSlot.textContent = '';
        await loadCanned(true);
        announce(t('canned_saved'));
        add.focus();
      } catch (failure) {
        submit.disabled = false;
        if (failure.code === 'shortcut_invalid') shortcut.setError(t('canned_err_shortcut_invalid'));
        else if (failure.code === 'shortcut_taken') shortcut.setError(t('canned_err_shortcut_taken'));
        else if (failure.code === 'text_empty') text.setError(t('canned_err_text_empty'));
        else if (failure.code === 'text_too_long') text.setError(t('canned_err_text_too_long'));
        else {
          if (failure.code === 'role_required') ctx.onRoleRequired();
          error.textContent = errorText(failure);
        }
      }
    });
    formSlot.append(form);
    shortcut.input.focus();
  }

  async function removeResponse(response) {
    try {
      await api(`/api/v1/canned-responses/${enc(response.id)}`, { method: 'DELETE' });
      await loadCanned(true);
      announce(t('canned_deleted'));
      add.focus();
    } catch (failure) {
      toast(errorText(failure), { kind: 'error' });
    }
  }

  listeners.add(render);
  return {
    show() {
      status.set(t('loading_page'));
      loadCanned(true).then(render);
    },
  };
}

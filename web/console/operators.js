// Operators page (tenant admins): list, add, change role, set a personal chat limit
// ("Max chats"; empty follows the team default from the routing settings), disable/enable,
// and issue a one-time password reset link. Server: GET/POST /api/v1/operators,
// PATCH /api/v1/operators/{id}, POST /api/v1/operators/{id}/password-reset,
// GET /api/v1/routing-settings (the default shown as the placeholder).

import { t } from './strings.js';
import { api, enc } from './api.js';
import { h, avatar, bidi, parseTime, fmtDateTime, fmtShort, charCount } from './dom.js';
import {
  pageHead, statusLine, dataTable, cell, button, field, copyButton, confirmAction, toast,
  announce, errorText, roleLabel, ROLES,
} from './ui.js';

/**
 * @param {HTMLElement} root  the page's <section>
 * @param {{me: () => object, onRoleRequired: (error) => void}} ctx
 */
export function createOperatorsPage(root, ctx) {
  const operators = new Map(); // id → OperatorDto, oldest first
  let loading = false;
  let defaultLimit; // the team's default chat limit (null: none); undefined until read

  const addButton = button(t('operators_add'), { variant: 'primary', testid: 'operator-add', onClick: () => openForm() });
  const form = buildForm();
  const status = statusLine('operators-status');
  const table = dataTable({
    label: t('operators_list_label'),
    testid: 'operators-list',
    columns: [
      { label: t('operators_col_operator'), className: 'col-main' },
      { label: t('operators_col_role'), className: 'col-role' },
      { label: t('operators_col_availability'), className: 'col-availability' },
      { label: t('operators_col_max_chats'), className: 'col-max-chats' },
      { label: t('operators_col_account'), className: 'col-account' },
      { label: t('operators_col_actions'), className: 'col-actions' },
    ],
  });
  root.append(h('div', { class: 'page' },
    pageHead({ title: t('operators_heading'), intro: t('operators_intro'), actions: [addButton] }),
    form.node,
    table.node,
    status.node));

  async function load() {
    if (loading) return;
    loading = true;
    if (operators.size === 0) status.set(t('loading_page'));
    try {
      const [body, settings] = await Promise.all([
        api('/api/v1/operators'),
        api('/api/v1/routing-settings').catch(() => null),
      ]);
      if (settings) defaultLimit = settings.max_chats_per_operator;
      operators.clear();
      for (const operator of body.operators || []) operators.set(operator.id, operator);
      render();
      status.set(operators.size === 0 ? t('operators_empty') : '');
    } catch (error) {
      if (error.code === 'role_required') ctx.onRoleRequired(error);
      status.set(t('operators_error', { message: errorText(error) }), { error: true });
    } finally {
      loading = false;
    }
  }

  function render() {
    const focused = document.activeElement && table.body.contains(document.activeElement) ? focusKey(document.activeElement) : null;
    const openLinks = new Map([...table.body.querySelectorAll('.row-extra')].map((row) => [row.dataset.operatorId, row]));
    table.body.textContent = '';
    for (const operator of operators.values()) {
      table.body.append(renderRow(operator));
      const extra = openLinks.get(operator.id);
      if (extra) table.body.append(extra);
    }
    if (focused) restoreFocus(focused);
  }

  function replaceRow(operator) {
    operators.set(operator.id, operator);
    const old = rowOf(operator.id);
    const focused = old && old.contains(document.activeElement) ? focusKey(document.activeElement) : null;
    const row = renderRow(operator);
    if (old) old.replaceWith(row);
    else table.body.append(row);
    if (focused) restoreFocus(focused);
    return row;
  }

  const rowOf = (id) => table.body.querySelector(`tr[data-operator-id="${CSS.escape(id)}"]:not(.row-extra)`);
  const focusKey = (node) => {
    const row = node.closest('tr');
    return row ? { id: row.dataset.operatorId, testid: node.dataset.testid } : null;
  };
  function restoreFocus({ id, testid }) {
    const row = rowOf(id);
    const target = row && (row.querySelector(`[data-testid="${testid}"]:not([hidden])`) || row.querySelector('button:not([hidden]), select'));
    if (target) target.focus();
  }

  function renderRow(operator) {
    const me = ctx.me();
    const self = me && me.operator_id === operator.id;
    const name = operator.display_name;

    const roleSelect = h('select', {
      class: 'select select-sm',
      attrs: { 'aria-label': t('operators_role_label', { name }), title: self ? t('operators_role_self') : undefined },
      disabled: self,
      data: { testid: 'operator-role-select' },
    }, ROLES.map((role) => h('option', { value: role, text: roleLabel(role), selected: role === operator.role })));
    roleSelect.addEventListener('change', () => changeRole(operator, roleSelect));

    const locked = parseTime(operator.locked_until);
    const isLocked = locked && locked.getTime() > Date.now();
    const accountState = operator.disabled ? 'disabled' : isLocked ? 'locked' : 'active';
    const account = h('span', {
      class: `tag tag-${accountState}`,
      text: operator.disabled ? t('operators_disabled') : isLocked ? t('operators_locked', { time: fmtShort(locked) }) : t('operators_active'),
      attrs: { title: isLocked ? `${t('operators_locked_title')} (${fmtDateTime(locked)})` : undefined },
      data: { testid: 'operator-account', state: accountState },
    });

    const online = operator.status === 'online';
    const availability = operator.disabled
      ? h('span', { class: 'muted', text: '—', data: { testid: 'operator-status' } })
      : h('span', { class: `availability is-${online ? 'online' : 'away'}`, data: { testid: 'operator-status' } },
        h('span', { class: 'dot', attrs: { 'aria-hidden': 'true' } }), online ? t('operators_online') : t('operators_away'));

    const maxChats = maxChatsInput(operator);

    const resetBtn = button(t('operators_reset'), {
      variant: 'secondary', testid: 'operator-reset-link',
      attrs: { 'aria-label': t('operators_reset_label', { name }) },
      onClick: () => issueReset(operator, resetBtn),
    });
    const toggle = operator.disabled
      ? confirmAction({
        label: t('operators_enable'), question: t('operators_enable_q', { name }), confirmLabel: t('operators_enable'),
        variant: 'secondary', confirmVariant: 'primary', testid: 'operator-enable',
        onConfirm: () => setDisabled(operator, false),
      })
      : confirmAction({
        label: t('operators_disable'), question: t('operators_disable_q', { name }), confirmLabel: t('operators_disable'),
        testid: 'operator-disable',
        onConfirm: () => setDisabled(operator, true),
      });
    if (self) toggle.trigger.disabled = true;

    return h('tr', {
      class: operator.disabled ? 'is-disabled' : '',
      data: { testid: 'operator-row', operatorId: operator.id, email: operator.email, role: operator.role, disabled: String(operator.disabled) },
    },
    cell('col-main', h('span', { class: 'person' },
      avatar(name, operator.id, 'sm'),
      h('span', { class: 'person-text' },
        h('span', { class: 'person-name' }, bidi(name, 'person-name-text', 'operator-name'),
          self ? h('span', { class: 'tag tag-you', text: t('you_tag'), attrs: { title: t('operators_self_note') } }) : null),
        h('span', { class: 'person-sub', text: operator.email, attrs: { dir: 'ltr' }, data: { testid: 'operator-email' } })))),
    cell('col-role', roleSelect),
    cell('col-availability', availability),
    cell('col-max-chats', maxChats),
    cell('col-account', account),
    cell('col-actions', h('span', { class: 'row-actions' }, resetBtn, toggle.node)));
  }

  /** "Max chats": saved on change (Enter or leaving the field); empty = the team default. */
  function maxChatsInput(operator) {
    const placeholder = defaultLimit === undefined ? '' : t('operators_max_chats_default', {
      limit: defaultLimit == null ? t('operators_max_chats_no_limit') : defaultLimit,
    });
    const errorId = `max-chats-error-${operator.id}`;
    const input = h('input', {
      class: 'input input-narrow', type: 'number', value: operator.max_chats == null ? '' : String(operator.max_chats),
      placeholder,
      attrs: { min: '1', max: '100', step: '1', inputmode: 'numeric', 'aria-label': t('operators_max_chats_label', { name: operator.display_name }), 'aria-describedby': errorId },
      data: { testid: 'operator-max-chats' },
    });
    const error = h('p', { class: 'field-error', id: errorId, attrs: { 'aria-live': 'polite' }, data: { testid: 'operator-max-chats-error' } });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') { event.preventDefault(); input.blur(); }
      if (event.key === 'Escape') { input.value = operator.max_chats == null ? '' : String(operator.max_chats); error.textContent = ''; input.removeAttribute('aria-invalid'); }
    });
    input.addEventListener('change', () => saveMaxChats(operator, input, error));
    return h('span', { class: 'max-chats' }, input, error);
  }

  async function saveMaxChats(operator, input, error) {
    const raw = input.value.trim();
    const value = raw === '' ? null : Number(raw);
    if (value !== null && !(Number.isInteger(value) && value >= 1 && value <= 100)) {
      error.textContent = t('operators_max_chats_bad');
      input.setAttribute('aria-invalid', 'true');
      return;
    }
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    if (value === (operator.max_chats ?? null)) return;
    input.disabled = true;
    try {
      const updated = await api(`/api/v1/operators/${enc(operator.id)}`, { method: 'PATCH', body: { max_chats: value } });
      const message = updated.max_chats == null
        ? t('operators_max_chats_cleared', { name: updated.display_name })
        : t('operators_max_chats_saved', { name: updated.display_name, count: updated.max_chats });
      announce(message, replaceRow(updated));
    } catch (failure) {
      input.disabled = false;
      if (failure.code === 'role_required') ctx.onRoleRequired(failure);
      error.textContent = errorText(failure);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  }

  async function changeRole(operator, select) {
    const role = select.value;
    if (role === operator.role) return;
    select.disabled = true;
    try {
      const updated = await api(`/api/v1/operators/${enc(operator.id)}`, { method: 'PATCH', body: { role } });
      announce(t('operators_role_changed', { name: updated.display_name, role: t(`role_with_article_${updated.role}`) }), replaceRow(updated));
    } catch (error) {
      select.value = operator.role;
      select.disabled = false;
      if (error.code === 'role_required') ctx.onRoleRequired(error);
      toast(errorText(error), { kind: 'error' });
    }
  }

  async function setDisabled(operator, disabled) {
    try {
      const updated = await api(`/api/v1/operators/${enc(operator.id)}`, { method: 'PATCH', body: { disabled } });
      announce(t(disabled ? 'operators_disabled_done' : 'operators_enabled_done', { name: updated.display_name }), replaceRow(updated));
    } catch (error) {
      if (error.code === 'role_required') ctx.onRoleRequired(error);
      toast(errorText(error), { kind: 'error' });
    }
  }

  async function issueReset(operator, trigger) {
    trigger.disabled = true;
    try {
      const issued = await api(`/api/v1/operators/${enc(operator.id)}/password-reset`, { method: 'POST' });
      showResetLink(operator, issued);
    } catch (error) {
      if (error.code === 'role_required') ctx.onRoleRequired(error);
      toast(errorText(error), { kind: 'error' });
    } finally {
      trigger.disabled = false;
    }
  }

  /** The link appears once, in a row under the operator's, until "Done". */
  function showResetLink(operator, issued) {
    const existing = table.body.querySelector(`tr.row-extra[data-operator-id="${CSS.escape(operator.id)}"]`);
    if (existing) existing.remove();
    const link = `${location.origin}${issued.reset_path}`;
    const expires = parseTime(issued.expires_at);
    const input = h('input', {
      class: 'input input-mono', type: 'text', readOnly: true, value: link,
      attrs: { 'aria-label': t('operators_reset_link_label'), spellcheck: 'false' },
      data: { testid: 'reset-link-url' },
    });
    input.addEventListener('focus', () => input.select());
    const done = button(t('operators_reset_done'), { variant: 'ghost', testid: 'reset-link-done' });
    const row = h('tr', { class: 'row-extra', data: { operatorId: operator.id, testid: 'reset-link-panel' } },
      h('td', { attrs: { colspan: '6' } },
        h('div', { class: 'notice notice-key', attrs: { role: 'region', 'aria-label': t('operators_reset_heading', { name: operator.display_name }) } },
          h('p', { class: 'notice-title', text: t('operators_reset_heading', { name: operator.display_name }) }),
          h('p', { class: 'notice-body', text: t('operators_reset_body', { time: fmtDateTime(expires) }) }),
          h('div', { class: 'copy-row' }, input, copyButton(input, { testid: 'reset-link-copy' }), done))));
    done.addEventListener('click', () => {
      row.remove();
      const btn = rowOf(operator.id)?.querySelector('[data-testid=operator-reset-link]');
      if (btn) btn.focus();
    });
    const anchor = rowOf(operator.id);
    if (anchor) anchor.after(row);
    else table.body.append(row);
    input.focus();
  }

  // ------------------------------------------------------------------ Add form

  function buildForm() {
    const name = field({ label: t('operators_field_name'), name: 'name', hint: t('operators_field_name_hint'), testid: 'operator-form-name', attrs: { autocomplete: 'off', maxlength: '100' } });
    const email = field({ label: t('operators_field_email'), name: 'email', type: 'email', testid: 'operator-form-email', attrs: { autocomplete: 'off', spellcheck: 'false' } });
    const role = field({
      label: t('operators_field_role'), name: 'role', kind: 'select', value: 'operator', hint: t('operators_field_role_hint'),
      testid: 'operator-form-role', options: ROLES.map((r) => ({ value: r, label: roleLabel(r) })),
    });
    const password = field({
      label: t('operators_field_password'), name: 'password', type: 'password', hint: t('operators_field_password_hint'),
      testid: 'operator-form-password', attrs: { autocomplete: 'new-password', maxlength: '128' },
    });
    const formError = h('p', { class: 'form-error', attrs: { role: 'alert' }, data: { testid: 'operator-form-error' } });
    const submit = button(t('operators_submit'), { variant: 'primary', size: '', type: 'submit', testid: 'operator-form-submit' });
    const cancel = button(t('cancel'), { variant: 'ghost', size: '', testid: 'operator-form-cancel' });
    const node = h('form', { class: 'form-card', attrs: { novalidate: '', 'aria-labelledby': 'operator-form-title' }, data: { testid: 'operator-form' }, hidden: true },
      h('h2', { class: 'form-card-title', id: 'operator-form-title', text: t('operators_form_heading') }),
      h('div', { class: 'form-grid' }, name.node, email.node, role.node, password.node),
      formError,
      h('div', { class: 'form-actions' }, cancel, submit));
    const fields = { name, email, role, password };
    cancel.addEventListener('click', () => closeForm(true));
    node.addEventListener('keydown', (event) => { if (event.key === 'Escape') closeForm(true); });
    node.addEventListener('submit', (event) => { event.preventDefault(); submitForm(); });

    async function submitForm() {
      for (const f of Object.values(fields)) f.clear();
      formError.textContent = '';
      const body = {
        display_name: name.input.value.trim(),
        email: email.input.value.trim(),
        role: role.input.value,
        password: password.input.value,
      };
      let firstBad = null;
      const bad = (f, text) => { f.setError(text); firstBad ||= f; };
      if (!body.display_name) bad(name, t('operators_need_name'));
      if (!/^[^\s@]+@[^\s@]+$/.test(body.email)) bad(email, t('operators_need_email'));
      if (charCount(body.password) < 12) bad(password, t('operators_need_password'));
      if (firstBad) { firstBad.input.focus(); return; }
      submit.disabled = true;
      submit.textContent = t('operators_adding');
      try {
        const created = await api('/api/v1/operators', { method: 'POST', body });
        operators.set(created.id, created);
        render();
        status.set('');
        closeForm(false);
        const row = rowOf(created.id);
        announce(t('operators_added', { name: created.display_name }), row);
        row?.querySelector('[data-testid=operator-role-select]')?.focus();
      } catch (error) {
        const target = fieldFor(error);
        if (target) {
          target.setError(target === email && /already exists/i.test(error.message) ? t('operators_email_taken') : errorText(error));
          target.input.focus();
        } else {
          if (error.code === 'role_required') ctx.onRoleRequired(error);
          formError.textContent = errorText(error);
        }
      } finally {
        submit.disabled = false;
        submit.textContent = t('operators_submit');
      }
    }

    function fieldFor(error) {
      if (error.code === 'weak_password') return password;
      if (error.code !== 'invalid_request') return null;
      const text = error.message.toLowerCase();
      if (text.includes('email')) return email;
      if (text.includes('password')) return password;
      if (text.includes('role')) return role;
      if (text.includes('name')) return name;
      return null;
    }

    return {
      node,
      reset() {
        node.reset();
        role.input.value = 'operator';
        for (const f of Object.values(fields)) f.clear();
        formError.textContent = '';
      },
      focus() { name.input.focus(); },
    };
  }

  function openForm() {
    form.reset();
    form.node.hidden = false;
    addButton.hidden = true;
    form.focus();
  }

  function closeForm(refocus) {
    form.node.hidden = true;
    form.reset();
    addButton.hidden = false;
    if (refocus) addButton.focus();
  }

  return {
    show() { load(); },
    operators: () => [...operators.values()],
  };
}

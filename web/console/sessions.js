// My sessions page (every operator): where I am signed in, end another session, or log
// out everywhere. Server: GET /api/v1/auth/sessions, DELETE /api/v1/auth/sessions/{id},
// POST /api/v1/auth/logout-everywhere.

import { t } from './strings.js';
import { api, enc, setCsrfToken } from './api.js';
import { h, parseTime, fmtDateTime, timeEl } from './dom.js';
import { pageHead, statusLine, dataTable, cell, button, confirmAction, toast, announce, errorText, describeUserAgent } from './ui.js';

/**
 * @param {HTMLElement} root
 * @param {{onLoggedOutEverywhere: () => void}} ctx
 */
export function createSessionsPage(root, ctx) {
  let loading = false;
  const logoutAll = confirmAction({
    label: t('sessions_logout_all'),
    question: t('sessions_logout_all_q'),
    confirmLabel: t('sessions_logout_all_confirm'),
    testid: 'sessions-logout-all',
    onConfirm: logoutEverywhere,
  });
  const status = statusLine('sessions-status');
  const table = dataTable({
    label: t('sessions_list_label'),
    testid: 'sessions-list',
    columns: [
      { label: t('sessions_col_device'), className: 'col-main' },
      { label: t('sessions_col_ip'), className: 'col-ip' },
      { label: t('sessions_col_signed_in'), className: 'col-when' },
      { label: t('sessions_col_expires'), className: 'col-when' },
      { label: '', className: 'col-actions' },
    ],
  });
  root.append(h('div', { class: 'page' },
    pageHead({ title: t('sessions_heading'), intro: t('sessions_intro'), actions: [logoutAll.node] }),
    table.node,
    status.node));

  async function load() {
    if (loading) return;
    loading = true;
    if (!table.body.children.length) status.set(t('loading_page'));
    try {
      const body = await api('/api/v1/auth/sessions');
      table.body.textContent = '';
      for (const session of body.sessions || []) table.body.append(renderRow(session));
      status.set(table.body.children.length === 0 ? t('sessions_empty') : '');
    } catch (error) {
      if (error.code !== 'unauthorized') status.set(t('sessions_error', { message: errorText(error) }), { error: true });
    } finally {
      loading = false;
    }
  }

  function renderRow(session) {
    const created = parseTime(session.created_at);
    const expires = parseTime(session.expires_at);
    const device = describeUserAgent(session.user_agent);
    const end = session.current ? null : button(t('sessions_end'), {
      variant: 'danger-outline', testid: 'session-end',
      attrs: { 'aria-label': t('sessions_end_label', { device, time: fmtDateTime(created) }) },
      onClick: () => endSession(session, end),
    });
    return h('tr', { class: session.current ? 'is-current' : '', data: { testid: 'session-row', sessionId: session.id, current: String(session.current) } },
      cell('col-main', h('span', { class: 'device' },
        h('span', { class: `device-icon${session.current ? ' is-current' : ''}`, attrs: { 'aria-hidden': 'true' } }),
        h('span', { class: 'person-text' },
          h('span', { class: 'person-name' },
            h('span', { text: device, attrs: { title: session.user_agent || '' }, data: { testid: 'session-device' } }),
            session.current ? h('span', { class: 'tag tag-current', text: t('sessions_this_device'), data: { testid: 'session-current' } }) : null)))),
      cell('col-ip', h('span', { class: 'mono', text: session.ip || '—', data: { testid: 'session-ip' } })),
      cell('col-when nowrap', timeEl(created, fmtDateTime(created))),
      cell('col-when nowrap muted', timeEl(expires, fmtDateTime(expires))),
      cell('col-actions', end));
  }

  async function endSession(session, trigger) {
    trigger.disabled = true;
    try {
      await api(`/api/v1/auth/sessions/${enc(session.id)}`, { method: 'DELETE' });
      const row = table.body.querySelector(`tr[data-session-id="${CSS.escape(session.id)}"]`);
      const next = row && (row.nextElementSibling || row.previousElementSibling);
      if (row) row.remove();
      announce(t('sessions_ended'));
      const focus = next && (next.querySelector('[data-testid=session-end]') || null);
      (focus || logoutAll.trigger).focus();
    } catch (error) {
      trigger.disabled = false;
      if (error.code !== 'unauthorized') toast(errorText(error), { kind: 'error' });
    }
  }

  async function logoutEverywhere() {
    try {
      await api('/api/v1/auth/logout-everywhere', { method: 'POST' });
    } catch (error) {
      if (error.code !== 'unauthorized') toast(errorText(error), { kind: 'error' });
      return;
    }
    setCsrfToken('');
    ctx.onLoggedOutEverywhere();
  }

  return { show() { load(); } };
}

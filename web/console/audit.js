// Audit log page (tenant admins): who did what, when, newest first, paged with `next`.
// Operator ids are shown as names from GET /api/v1/operators, site ids as site names.
// Server: GET /api/v1/audit-log?limit=&before=. The page also offers the tenant's whole
// data as a livehelp archive: a plain download link to GET /api/v1/tenant/export (admins).

import { t } from './strings.js';
import { api, query } from './api.js';
import { h, avatar, bidi, parseTime, fmtDateTime, timeEl } from './dom.js';
import { shortId } from './messages.js';
import { pageHead, statusLine, dataTable, cell, button, errorText, roleLabel } from './ui.js';

const PAGE = 50;

/**
 * @param {HTMLElement} root
 * @param {{onRoleRequired: (error) => void}} ctx
 */
export function createAuditPage(root, ctx) {
  let cursor = null;
  let loading = false;
  let names = { operators: new Map(), sites: new Map() };

  const refresh = button(t('refresh'), { variant: 'secondary', testid: 'audit-refresh', onClick: () => load(true) });
  const more = button(t('load_more'), { variant: 'secondary', size: '', testid: 'audit-more', onClick: () => load(false) });
  more.hidden = true;
  // The whole tenant as an archive file (docs/operations.md, moving to another deployment).
  const download = h('a', {
    class: 'btn btn-secondary btn-sm',
    text: t('tenant_export'),
    data: { testid: 'tenant-export' },
    attrs: { href: '/api/v1/tenant/export', download: '', title: t('tenant_export_hint') },
  });
  const status = statusLine('audit-status');
  const table = dataTable({
    label: t('audit_list_label'),
    testid: 'audit-list',
    columns: [
      { label: t('audit_col_when'), className: 'col-when' },
      { label: t('audit_col_who'), className: 'col-who' },
      { label: t('audit_col_action'), className: 'col-action' },
      { label: t('audit_col_target'), className: 'col-target' },
    ],
  });
  root.append(h('div', { class: 'page' },
    pageHead({ title: t('audit_heading'), intro: t('audit_intro'), actions: [download, refresh] }),
    table.node,
    status.node,
    h('div', { class: 'page-more' }, more)));

  /** Names for ids; the log still shows (with short ids) if these cannot be loaded. */
  async function loadNames() {
    const [operators, sites] = await Promise.allSettled([api('/api/v1/operators'), api('/api/v1/sites')]);
    names = {
      operators: new Map(operators.status === 'fulfilled' ? operators.value.operators.map((o) => [o.id, o]) : []),
      sites: new Map(sites.status === 'fulfilled' ? sites.value.sites.map((s) => [s.id, s]) : []),
    };
  }

  async function load(reset) {
    if (loading) return;
    loading = true;
    more.hidden = true;
    status.set(t('loading_page'));
    try {
      if (reset) {
        cursor = null;
        await loadNames();
      }
      const body = await api(`/api/v1/audit-log${query({ limit: PAGE, before: cursor })}`);
      if (reset) table.body.textContent = '';
      for (const entry of body.entries || []) table.body.append(renderRow(entry));
      cursor = body.next || null;
      more.hidden = !cursor;
      status.set(table.body.children.length === 0 ? t('audit_empty') : '');
    } catch (error) {
      if (error.code === 'role_required') ctx.onRoleRequired(error);
      status.set(t('audit_error', { message: errorText(error) }), { error: true });
      more.hidden = !cursor;
    } finally {
      loading = false;
    }
  }

  function actorCell(entry) {
    if (entry.actor_kind === 'operator') {
      const operator = names.operators.get(entry.actor_id);
      const name = operator ? operator.display_name : t('audit_actor_unknown', { id: shortId(entry.actor_id) });
      return h('span', { class: 'person person-compact', attrs: { title: operator ? `${operator.email} · ${roleLabel(operator.role)}` : entry.actor_id } },
        avatar(name, entry.actor_id, 'xs'), bidi(name, 'person-name-text', 'audit-who'));
    }
    const label = entry.actor_kind === 'platform_admin' ? t('audit_actor_platform') : t('audit_actor_cli');
    return h('span', { class: 'muted', text: label, data: { testid: 'audit-who' } });
  }

  /** `operator:ID role=supervisor` → "Bea Baker → Supervisor"; the raw text is the tooltip. */
  function targetText(target) {
    const [ref, ...rest] = String(target || '').split(' ');
    const colon = ref.indexOf(':');
    const kind = colon > 0 ? ref.slice(0, colon) : '';
    const id = colon > 0 ? ref.slice(colon + 1) : ref;
    let text;
    if (kind === 'operator') {
      const operator = names.operators.get(id);
      text = operator ? `${operator.display_name} (${operator.email})` : t('audit_target_operator_unknown', { id: shortId(id) });
    } else if (kind === 'site') {
      const site = names.sites.get(id);
      text = site ? site.name : t('audit_target_site_unknown', { id: shortId(id) });
    } else if (kind === 'conversation') {
      text = t('audit_target_conversation', { id: shortId(id) });
    } else if (kind === 'tenant') {
      text = t('audit_target_tenant');
    } else {
      text = target;
    }
    const extras = rest.map((part) => {
      const [key, value] = part.split('=');
      return key === 'role' && value ? `→ ${roleLabel(value)}` : part;
    });
    return [text, ...extras].join(' ');
  }

  function renderRow(entry) {
    const at = parseTime(entry.at);
    const label = t(`audit_action_${entry.action}`);
    const known = label !== `audit_action_${entry.action}`;
    return h('tr', { data: { testid: 'audit-row', action: entry.action, actorId: entry.actor_id || '' } },
      cell('col-when nowrap', timeEl(at, fmtDateTime(at))),
      cell('col-who', actorCell(entry)),
      cell('col-action', h('span', { class: 'action' },
        h('span', { class: 'action-label', text: known ? label : entry.action, data: { testid: 'audit-action' } }),
        known ? h('code', { class: 'action-code', text: entry.action }) : null)),
      cell('col-target', h('span', { class: 'target', text: targetText(entry.target), attrs: { title: entry.target }, data: { testid: 'audit-target' } })));
  }

  return { show() { load(true); } };
}

// Sites page (tenant admins): each site with its key and ready-to-paste widget snippet,
// add a site, edit name / allowed origins / privacy-policy address / require TLS / default
// department, and its pre-chat form and business hours (siteforms.js). Server: GET/POST
// /api/v1/sites, PATCH /api/v1/sites/{id} (the default department is set with a PATCH, also
// right after creating a site), GET /api/v1/departments.

import { t } from './strings.js';
import { api, enc } from './api.js';
import { h, parseTime, fmtDateTime, safeHttpUrl } from './dom.js';
import { pageHead, statusLine, button, field, switchField, copyButton, announce, errorText, toast } from './ui.js';
import { siteFormsEditor } from './siteforms.js';

/** The snippet a tenant pastes into its pages. */
export const snippetFor = (key) => `<script async src="${location.origin}/widget.js" data-site-key="${key}"></script>`;

/** `scheme://host[:port]` as the server accepts it, or null. */
function normalizeOrigin(line) {
  const value = line.trim().replace(/\/+$/, '');
  const match = /^(https?):\/\/([^/?#@\s]+)$/i.exec(value);
  return match ? `${match[1]}://${match[2]}`.toLowerCase() : null;
}

/**
 * @param {HTMLElement} root
 * @param {{onRoleRequired: (error) => void}} ctx
 */
export function createSitesPage(root, ctx) {
  const sites = new Map(); // id → SiteDto
  let departments = []; // DepartmentDto by name, for the default-department choice
  let loading = false;
  let newForm = null;

  const addButton = button(t('sites_add'), { variant: 'primary', testid: 'site-add', onClick: () => openNew() });
  const formSlot = h('div', { class: 'form-slot' });
  const list = h('div', { class: 'site-list', data: { testid: 'sites-list' } });
  const status = statusLine('sites-status');
  root.append(h('div', { class: 'page' },
    pageHead({ title: t('sites_heading'), intro: t('sites_intro'), actions: [addButton] }),
    formSlot,
    list,
    status.node));

  async function load() {
    if (loading) return;
    loading = true;
    if (sites.size === 0) status.set(t('loading_page'));
    try {
      const [body, found] = await Promise.all([api('/api/v1/sites'), api('/api/v1/departments').catch(() => null)]);
      if (found) departments = found.departments || [];
      sites.clear();
      for (const site of body.sites || []) sites.set(site.id, site);
      // Keep a card that is being edited as it is; redraw the others.
      for (const card of [...list.children]) {
        if (!sites.has(card.dataset.siteId)) card.remove();
      }
      for (const site of sites.values()) {
        const card = cardOf(site.id);
        if (card && card.classList.contains('is-editing')) continue;
        const fresh = renderCard(site);
        if (card) card.replaceWith(fresh);
        else list.append(fresh);
      }
      status.set(sites.size === 0 ? t('sites_empty') : '');
    } catch (error) {
      if (error.code === 'role_required') ctx.onRoleRequired(error);
      status.set(t('sites_error', { message: errorText(error) }), { error: true });
    } finally {
      loading = false;
    }
  }

  const cardOf = (id) => list.querySelector(`[data-testid=site-card][data-site-id="${CSS.escape(id)}"]`);

  function renderCard(site) {
    const snippet = h('code', { class: 'snippet-code', text: snippetFor(site.key), data: { testid: 'site-snippet' } });
    const origins = site.allowed_origins.length
      ? h('ul', { class: 'chips', data: { testid: 'site-origins' } }, site.allowed_origins.map((origin) => h('li', { class: 'chip', text: origin, attrs: { dir: 'ltr' } })))
      : h('span', { class: 'muted', text: t('sites_origins_any'), data: { testid: 'site-origins' } });
    const privacyHref = site.privacy_policy_url ? safeHttpUrl(site.privacy_policy_url) : null;
    const privacy = site.privacy_policy_url
      ? (privacyHref
        ? h('a', { href: privacyHref, text: site.privacy_policy_url, class: 'break', attrs: { target: '_blank', rel: 'noopener noreferrer', dir: 'ltr' }, data: { testid: 'site-privacy' } })
        : h('span', { class: 'break', text: site.privacy_policy_url, data: { testid: 'site-privacy' } }))
      : h('span', { class: 'muted', text: t('sites_privacy_none'), data: { testid: 'site-privacy' } });
    const created = parseTime(site.created_at);
    const edit = button(t('sites_edit'), { variant: 'secondary', testid: 'site-edit', onClick: () => openEdit(site.id) });
    return h('article', { class: 'site-card', attrs: { 'aria-label': site.name }, data: { testid: 'site-card', siteId: site.id, siteKey: site.key, requireTls: String(site.require_tls) } },
      h('header', { class: 'site-card-head' },
        h('div', { class: 'site-card-title' },
          h('h2', { class: 'site-name', data: { testid: 'site-name' } }, h('bdi', { text: site.name, attrs: { dir: 'auto' } })),
          h('span', {
            class: `tag ${site.require_tls ? 'tag-secure' : 'tag-plain'}`,
            text: site.require_tls ? t('sites_tls_required') : t('sites_tls_optional'),
            data: { testid: 'site-tls' },
          })),
        edit),
      h('dl', { class: 'site-facts' },
        fact(t('sites_key'), h('code', { class: 'key', text: site.key, data: { testid: 'site-key' } })),
        fact(t('sites_origins'), origins),
        fact(t('sites_privacy'), privacy),
        fact(t('sites_department'), h('span', { text: departmentLabel(site.default_department_id), data: { testid: 'site-department' } })),
        fact(t('sites_created'), h('span', { text: fmtDateTime(created) }))),
      h('div', { class: 'snippet' },
        h('div', { class: 'snippet-head' },
          h('span', { class: 'snippet-label', text: t('sites_snippet') }),
          copyButton(snippet, { testid: 'site-snippet-copy', label: t('sites_snippet_copy') })),
        h('pre', { class: 'snippet-pre', attrs: { tabindex: '0', 'aria-label': t('sites_snippet') } }, snippet),
        site.require_tls && location.protocol === 'http:' ? h('p', { class: 'field-hint', text: t('sites_snippet_plain_http') }) : null),
      siteFormsEditor(site));
  }

  function departmentLabel(id) {
    if (!id) return t('sites_department_general');
    const found = departments.find((department) => department.id === id);
    return found ? found.name : t('sites_department_general');
  }

  const fact = (label, value) => h('div', { class: 'site-fact' }, h('dt', { text: label }), h('dd', {}, value));

  // ------------------------------------------------------------------ Forms

  function siteForm(site, { onDone }) {
    const isNew = !site;
    const name = field({ label: t('sites_field_name'), name: 'site-name', value: site ? site.name : '', hint: t('sites_field_name_hint'), testid: 'site-form-name', attrs: { maxlength: '200', autocomplete: 'off' } });
    const origins = field({
      label: t('sites_field_origins'), name: 'origins', kind: 'textarea', rows: 3,
      value: site ? site.allowed_origins.join('\n') : '', hint: t('sites_field_origins_hint'), testid: 'site-form-origins',
      attrs: { spellcheck: 'false', dir: 'ltr', placeholder: 'https://shop.example.com' },
    });
    const privacy = field({
      label: t('sites_field_privacy'), name: 'privacy', type: 'url', value: site && site.privacy_policy_url ? site.privacy_policy_url : '',
      hint: t('sites_field_privacy_hint'), testid: 'site-form-privacy', attrs: { spellcheck: 'false', dir: 'ltr', placeholder: 'https://shop.example.com/privacy' },
    });
    const department = field({
      label: t('sites_field_department'), name: 'site-department', kind: 'select', hint: t('sites_field_department_hint'),
      value: site && site.default_department_id ? site.default_department_id : '', testid: 'site-form-department',
      options: [{ value: '', label: t('sites_department_general') }, ...departments.map((d) => ({ value: d.id, label: d.name }))],
    });
    const tls = switchField({ label: t('sites_field_tls'), hint: t('sites_field_tls_hint'), checked: !!(site && site.require_tls), testid: 'site-form-tls', name: 'tls' });
    const formError = h('p', { class: 'form-error', attrs: { role: 'alert' }, data: { testid: 'site-form-error' } });
    const submitLabel = isNew ? t('sites_submit_new') : t('sites_submit_edit');
    const submit = button(submitLabel, { variant: 'primary', size: '', type: 'submit', testid: 'site-form-submit' });
    const cancel = button(t('cancel'), { variant: 'ghost', size: '', testid: 'site-form-cancel', onClick: () => onDone(null, true) });
    const titleId = `site-form-title-${site ? site.id : 'new'}`;
    const node = h('form', { class: 'form-card', attrs: { novalidate: '', 'aria-labelledby': titleId }, data: { testid: 'site-form' } },
      h('h2', { class: 'form-card-title', id: titleId, text: isNew ? t('sites_form_heading_new') : t('sites_form_heading_edit', { name: site.name }) }),
      h('div', { class: 'form-grid' }, name.node, privacy.node, h('div', { class: 'span-2' }, origins.node), department.node, h('div', { class: 'span-2' }, tls.node)),
      formError,
      h('div', { class: 'form-actions' }, cancel, submit));
    node.addEventListener('keydown', (event) => { if (event.key === 'Escape') onDone(null, true); });
    node.addEventListener('submit', async (event) => {
      event.preventDefault();
      for (const f of [name, origins, privacy]) f.clear();
      formError.textContent = '';
      const body = {
        name: name.input.value.trim(),
        allowed_origins: [],
        privacy_policy_url: privacy.input.value.trim() || null,
        require_tls: tls.input.checked,
      };
      let firstBad = null;
      const bad = (f, text) => { f.setError(text); firstBad ||= f; };
      if (!body.name) bad(name, t('sites_need_name'));
      for (const line of origins.input.value.split(/\r?\n/)) {
        if (!line.trim()) continue;
        const origin = normalizeOrigin(line);
        if (!origin) { bad(origins, t('sites_bad_origin', { origin: line.trim() })); break; }
        if (!body.allowed_origins.includes(origin)) body.allowed_origins.push(origin);
      }
      if (body.privacy_policy_url && !safeHttpUrl(body.privacy_policy_url)) bad(privacy, t('sites_bad_privacy'));
      if (firstBad) { firstBad.input.focus(); return; }
      submit.disabled = true;
      submit.textContent = t('saving');
      try {
        const chosen = department.input.value || null;
        let saved = isNew
          ? await api('/api/v1/sites', { method: 'POST', body })
          : await api(`/api/v1/sites/${enc(site.id)}`, { method: 'PATCH', body: { ...body, default_department_id: chosen } });
        if (isNew && chosen) {
          // The site exists now whatever happens: a failed follow-up is reported, not retried as a new site.
          try {
            saved = await api(`/api/v1/sites/${enc(saved.id)}`, { method: 'PATCH', body: { default_department_id: chosen } });
          } catch (error) {
            toast(errorText(error), { kind: 'error' });
          }
        }
        onDone(saved, false);
      } catch (error) {
        const text = (error.message || '').toLowerCase();
        const target = error.code !== 'invalid_request' ? null
          : text.includes('origin') ? origins : text.includes('privacy') ? privacy : text.includes('department') ? department : text.includes('name') ? name : null;
        if (target) {
          target.setError(errorText(error));
          target.input.focus();
        } else {
          if (error.code === 'role_required') ctx.onRoleRequired(error);
          formError.textContent = errorText(error);
        }
      } finally {
        submit.disabled = false;
        submit.textContent = submitLabel;
      }
    });
    return { node, focus: () => name.input.focus() };
  }

  function openNew() {
    if (newForm) { newForm.focus(); return; }
    newForm = siteForm(null, {
      onDone(saved, refocus) {
        newForm.node.remove();
        newForm = null;
        addButton.hidden = false;
        if (saved) {
          sites.set(saved.id, saved);
          const card = renderCard(saved);
          list.prepend(card);
          status.set('');
          announce(t('sites_added', { name: saved.name }), card);
          card.querySelector('[data-testid=site-snippet-copy]').focus();
        } else if (refocus) {
          addButton.focus();
        }
      },
    });
    formSlot.append(newForm.node);
    addButton.hidden = true;
    newForm.focus();
  }

  function openEdit(id) {
    const site = sites.get(id);
    const card = cardOf(id);
    if (!site || !card) return;
    const form = siteForm(site, {
      onDone(saved, refocus) {
        const current = saved || sites.get(id);
        if (saved) sites.set(saved.id, saved);
        const fresh = renderCard(current);
        wrapper.replaceWith(fresh);
        if (saved) announce(t('sites_saved', { name: saved.name }), fresh);
        if (saved || refocus) fresh.querySelector('[data-testid=site-edit]').focus();
      },
    });
    const wrapper = h('div', { class: 'site-card is-editing', data: { testid: 'site-card', siteId: site.id, siteKey: site.key } }, form.node);
    card.replaceWith(wrapper);
    form.focus();
  }

  return { show() { load(); } };
}

// A site's pre-chat form and business hours (tenant admins), edited as JSON in the Sites
// page: a disclosure per site that loads GET /api/v1/sites/{id}/forms and saves with PUT.
// The server checks everything and answers `validation_failed` with per-field messages,
// shown under the editor; the text typed stays as it is.

import { t } from './strings.js';
import { api, enc } from './api.js';
import { h } from './dom.js';
import { button, statusLine, errorText } from './ui.js';

let counter = 0;

/** The editor for `site`, closed until the admin opens it. */
export function siteFormsEditor(site) {
  const id = `site-forms-${++counter}`;
  const input = h('textarea', {
    id, class: 'input mono', rows: 14, spellcheck: false,
    attrs: { 'aria-describedby': `${id}-hint` }, data: { testid: 'site-forms-json' },
  });
  const status = statusLine('site-forms-status');
  const save = button(t('forms_save'), {
    variant: 'primary', testid: 'site-forms-save',
    onClick: async () => {
      let body;
      try { body = JSON.parse(input.value); } catch { status.set(t('forms_bad_json'), { error: true }); return; }
      try {
        const saved = await api(`/api/v1/sites/${enc(site.id)}/forms`, { method: 'PUT', body });
        input.value = JSON.stringify(saved, null, 2);
        status.set(t('forms_saved'));
      } catch (error) {
        const fields = error.fields ? Object.entries(error.fields).map(([key, message]) => `${key}: ${message}`).join('; ') : '';
        status.set(fields || errorText(error), { error: true });
      }
    },
  });
  const details = h('details', { class: 'site-forms', data: { testid: 'site-forms' } },
    h('summary', { text: t('forms_edit') }),
    h('label', { for: id, text: t('forms_heading', { site: site.name }) }),
    h('p', { class: 'field-hint', id: `${id}-hint`, text: t('forms_hint') }),
    input, save, status.node);
  details.addEventListener('toggle', async () => {
    if (!details.open || input.value) return;
    try {
      input.value = JSON.stringify(await api(`/api/v1/sites/${enc(site.id)}/forms`), null, 2);
    } catch (error) {
      status.set(errorText(error), { error: true });
    }
  });
  return details;
}

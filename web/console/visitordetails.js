// The "Name and email" section of the visitor panel (M16): what the visitor gave, kept
// fresh while shown (the visitor may correct it from the widget at any time), and a small
// form with which any operator of the tenant corrects it. Server: GET/PATCH
// /api/v1/visitors/{id}/details; a correction is audited with the old values redacted.
// Visitor-typed values are shown through textContent only.

import { t } from './strings.js';
import { api, enc } from './api.js';
import { h, bidi } from './dom.js';
import { button, errorText } from './ui.js';

const REFRESH_MS = 4_000;
/** visitor id → {node, data, at, editing} */
const sections = new Map();

/** The section for `visitorId` (the same node each time, so re-renders keep its state). */
export function visitorDetailsSection(visitorId) {
  let section = sections.get(visitorId);
  if (!section) {
    section = { node: h('div', { class: 'visitor-details', data: { testid: 'visitor-details' } }), data: null, at: 0, editing: false };
    sections.set(visitorId, section);
    paint(visitorId, section);
  }
  if (Date.now() - section.at > REFRESH_MS) load(visitorId, section);
  return section.node;
}

async function load(visitorId, section) {
  if (section.loading) return;
  section.loading = true;
  section.at = Date.now();
  try {
    section.data = await api(`/api/v1/visitors/${enc(visitorId)}/details`);
  } catch {
    // Keep what we had; the panel says nothing more than before.
  } finally {
    section.loading = false;
  }
  if (!section.editing) paint(visitorId, section);
  // Keep it fresh while it is on screen.
  setTimeout(() => {
    if (section.node.isConnected && !section.editing) load(visitorId, section);
  }, REFRESH_MS);
}

function paint(visitorId, section) {
  const data = section.data || {};
  const value = (text, testid) => (text
    ? h('dd', { data: { testid } }, bidi(text))
    : h('dd', { class: 'muted', text: t('visitor_details_none'), data: { testid } }));
  section.node.replaceChildren(
    h('h3', { class: 'panel-section', text: t('visitor_details_heading') }),
    h('dl', { class: 'facts' },
      h('div', { class: 'fact' }, h('dt', { text: t('visitor_details_name') }), value(data.name, 'visitor-details-name')),
      h('div', { class: 'fact' }, h('dt', { text: t('visitor_details_email') }), value(data.email, 'visitor-details-email'))),
    button(t('visitor_details_edit'), { variant: 'ghost', testid: 'visitor-details-edit', onClick: () => edit(visitorId, section) }));
}

function edit(visitorId, section) {
  section.editing = true;
  const data = section.data || {};
  const name = h('input', { type: 'text', value: data.name || '', attrs: { 'aria-label': t('visitor_details_name'), maxlength: 200, dir: 'auto' }, data: { testid: 'visitor-details-name-input' } });
  const email = h('input', { type: 'email', value: data.email || '', attrs: { 'aria-label': t('visitor_details_email') }, data: { testid: 'visitor-details-email-input' } });
  const error = h('p', { class: 'field-error', attrs: { role: 'alert' }, data: { testid: 'visitor-details-error' } });
  const form = h('form', { class: 'visitor-details-form', on: { submit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      section.data = await api(`/api/v1/visitors/${enc(visitorId)}/details`, { method: 'PATCH', body: { name: name.value, email: email.value } });
      section.editing = false;
      section.at = Date.now();
      paint(visitorId, section);
    } catch (failure) {
      const fields = failure && failure.fields;
      error.textContent = fields ? Object.values(fields).join(' ') : errorText(failure);
    }
  } } },
  h('label', { text: t('visitor_details_name') }, name),
  h('label', { text: t('visitor_details_email') }, email),
  error,
  h('div', { class: 'survey-actions' },
    button(t('visitor_details_save'), { variant: 'primary', type: 'submit', testid: 'visitor-details-save' }),
    button(t('visitor_details_cancel'), { variant: 'ghost', onClick: () => { section.editing = false; paint(visitorId, section); } })));
  section.node.replaceChildren(h('h3', { class: 'panel-section', text: t('visitor_details_heading') }), form);
  name.focus();
}

// Tickets page (every operator): offline messages visitors left when nobody could chat
// (B4). Lists open or solved tickets newest first, shows one with its operator notes,
// marks it solved or open again, and adds notes (seen only by operators). Visitor-typed
// text goes in with textContent only.
// Server: GET /api/v1/tickets?status=, GET/PATCH /api/v1/tickets/{id},
// POST /api/v1/tickets/{id}/notes.

import { t } from './strings.js';
import { api, query, enc } from './api.js';
import { h, bidi, parseTime, fmtDateTime } from './dom.js';
import { pageHead, statusLine, dataTable, cell, button, errorText } from './ui.js';

/**
 * @param {HTMLElement} root
 * @param {{onRoleRequired: (error) => void}} _ctx
 */
export function createTicketsPage(root, _ctx) {
  let filter = 'open';
  let current = null;

  const filterSelect = h('select', {
    class: 'input', attrs: { 'aria-label': t('tickets_filter') }, data: { testid: 'tickets-filter' },
    on: { change: () => { filter = filterSelect.value; load(); } },
  }, ['open', 'solved', 'all'].map((value) => h('option', { value, text: t(`tickets_${value}`) })));
  const refresh = button(t('refresh'), { variant: 'secondary', testid: 'tickets-refresh', onClick: () => load() });
  const status = statusLine('tickets-status');
  const table = dataTable({
    label: t('tickets_heading'),
    testid: 'tickets-list',
    columns: [
      { label: t('tickets_col_when'), className: 'col-when' },
      { label: t('tickets_col_from'), className: 'col-who' },
      { label: t('tickets_col_message'), className: 'col-target' },
      { label: t('tickets_col_status'), className: 'col-action' },
    ],
  });
  const detail = h('div', { class: 'ticket-detail', data: { testid: 'ticket-detail' }, hidden: true });
  root.append(h('div', { class: 'page' },
    pageHead({ title: t('tickets_heading'), intro: t('tickets_intro'), actions: [filterSelect, refresh] }),
    table.node, status.node, detail));

  async function load() {
    status.set(t('loading_page'));
    try {
      const params = filter === 'all' ? {} : { status: filter };
      const { tickets } = await api(`/api/v1/tickets${query(params)}`);
      table.body.textContent = '';
      for (const ticket of tickets) table.body.append(row(ticket));
      status.set(tickets.length ? '' : t('tickets_empty'));
    } catch (error) {
      status.set(errorText(error), { error: true });
    }
  }

  function row(ticket) {
    const open = () => show(ticket.id);
    return h('tr', {
      class: 'ticket-row', data: { testid: 'ticket-row', id: ticket.id }, attrs: { tabindex: '0' },
      on: { click: open, keydown: (event) => { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); open(); } } },
    },
    cell('col-when', fmtDateTime(parseTime(ticket.created_at))),
    cell('col-who', bidi(ticket.name || ticket.email)),
    cell('col-target', h('span', { class: 'ticket-snippet', text: ticket.message.slice(0, 120), attrs: { dir: 'auto' } })),
    cell('col-action', t(`tickets_${ticket.status}`)));
  }

  async function show(id) {
    try {
      render(await api(`/api/v1/tickets/${enc(id)}`));
    } catch (error) {
      status.set(errorText(error), { error: true });
    }
  }

  function render({ ticket, notes }) {
    current = ticket;
    detail.hidden = false;
    detail.textContent = '';
    const noteInput = h('textarea', {
      class: 'input', rows: 3, attrs: { 'aria-label': t('tickets_note_label'), maxlength: 5000 }, data: { testid: 'ticket-note-input' },
    });
    const noteStatus = statusLine('ticket-note-status');
    const addNote = button(t('tickets_note_add'), {
      variant: 'secondary', testid: 'ticket-note-add',
      onClick: async () => {
        try {
          render(await api(`/api/v1/tickets/${enc(current.id)}/notes`, { method: 'POST', body: { text: noteInput.value } }));
        } catch (error) {
          noteStatus.set((error.fields && error.fields.text) || errorText(error), { error: true });
        }
      },
    });
    const solved = ticket.status === 'solved';
    const toggle = button(t(solved ? 'tickets_reopen' : 'tickets_solve'), {
      variant: solved ? 'secondary' : 'primary', testid: solved ? 'ticket-reopen' : 'ticket-solve',
      onClick: async () => {
        try {
          render(await api(`/api/v1/tickets/${enc(current.id)}`, { method: 'PATCH', body: { status: solved ? 'open' : 'solved' } }));
          load();
        } catch (error) {
          noteStatus.set(errorText(error), { error: true });
        }
      },
    });
    detail.append(
      h('h2', { class: 'panel-section', text: t('tickets_detail') }),
      h('dl', { class: 'facts' },
        fact(t('tickets_col_from'), ticket.name ? `${ticket.name} <${ticket.email}>` : ticket.email),
        fact(t('tickets_col_when'), fmtDateTime(parseTime(ticket.created_at))),
        fact(t('tickets_col_status'), t(`tickets_${ticket.status}`), 'ticket-status')),
      h('p', { class: 'ticket-message', text: ticket.message, attrs: { dir: 'auto' }, data: { testid: 'ticket-message' } }),
      toggle,
      h('h3', { class: 'panel-section', text: t('tickets_notes') }),
      h('ul', { class: 'ticket-notes' }, notes.map((note) => h('li', { data: { testid: 'ticket-note' } },
        h('span', { class: 'muted', text: `${note.author_name} · ${fmtDateTime(parseTime(note.created_at))}: ` }),
        h('span', { text: note.text, attrs: { dir: 'auto' } })))),
      noteInput, addNote, noteStatus.node);
  }

  function fact(label, value, testid) {
    return h('div', { class: 'fact' }, h('dt', { text: label }), h('dd', { text: value, data: testid ? { testid } : undefined }));
  }

  return { show: () => load() };
}

// Internal notes and tags of a conversation, shown in the side panel next to the chat (and
// next to a History transcript), plus the tag chips of the chat header. Staff only: the
// server never sends these to visitors. Server: GET/POST /api/v1/conversations/{id}/notes,
// GET/POST /api/v1/conversations/{id}/tags, DELETE /api/v1/conversations/{id}/tags/{tag}.
//
// Everyone may read; adding notes and changing tags is for whoever may follow the chat
// (its owner, anyone while it is queued, supervisors and admins): the form is hidden for
// others, and the server refuses them anyway.
//
// DOM guide for tests (data-testid): tools-panel[data-conversation-id] > tags-list >
//   tag-chip[data-tag] > tag-remove; tag-form > tag-input, tag-add; tag-error;
//   notes-list > note[data-note-id] > note-author, note-text, time; note-form >
//   note-input, note-add; note-error. Chat header: conversation-tags > tag-chip[data-tag].

import { t } from './strings.js';
import { api, enc } from './api.js';
import { h, parseTime, fmtDateTime, timeEl } from './dom.js';
import { errorText } from './ui.js';

/**
 * @param {{me: () => object, onTagsChange: (conversationId: string) => void}} ctx
 */
export function createToolsPanel(ctx) {
  const tagsById = new Map(); // conversation id → [tag]
  const node = h('section', { class: 'tools-panel', data: { testid: 'tools-panel' }, attrs: { 'aria-label': t('tools_panel_label') }, hidden: true });
  let current = null; // the conversation shown

  function mayEdit(conv) {
    const me = ctx.me();
    if (!me || !conv) return false;
    return conv.operator_id === me.operator_id || conv.state === 'queued' || me.role === 'supervisor' || me.role === 'admin';
  }

  function setTags(id, tags) {
    tagsById.set(id, tags);
    ctx.onTagsChange(id);
    if (current && current.id === id) renderTags();
  }

  async function loadTags(id) {
    try {
      const body = await api(`/api/v1/conversations/${enc(id)}/tags`);
      setTags(id, body.tags || []);
    } catch { /* the chip row stays as it was */ }
  }

  // -------------------------------------------------------------------------------------
  // Building the panel

  const tagsList = h('ul', { class: 'tag-chips', data: { testid: 'tags-list' }, attrs: { 'aria-label': t('tags_heading') } });
  const tagInput = h('input', { type: 'text', class: 'tools-input', attrs: { maxlength: '60', 'aria-label': t('tag_input_label'), placeholder: t('tag_placeholder'), autocomplete: 'off' }, data: { testid: 'tag-input' } });
  const tagError = h('p', { class: 'field-error', attrs: { 'aria-live': 'polite' }, data: { testid: 'tag-error' } });
  const tagForm = h('form', { class: 'tools-form tools-form-inline', data: { testid: 'tag-form' } },
    tagInput, h('button', { type: 'submit', class: 'btn btn-secondary btn-sm', text: t('tag_add'), data: { testid: 'tag-add' } }));
  const notesList = h('ol', { class: 'notes-list', data: { testid: 'notes-list' }, attrs: { 'aria-label': t('notes_heading') } });
  const notesStatus = h('p', { class: 'panel-note', attrs: { role: 'status' } });
  const noteInput = h('textarea', { class: 'tools-input', rows: 2, attrs: { maxlength: '8000', 'aria-label': t('note_input_label'), placeholder: t('note_placeholder'), dir: 'auto' }, data: { testid: 'note-input' } });
  const noteError = h('p', { class: 'field-error', attrs: { 'aria-live': 'polite' }, data: { testid: 'note-error' } });
  const noteForm = h('form', { class: 'tools-form', data: { testid: 'note-form' } },
    noteInput, h('button', { type: 'submit', class: 'btn btn-secondary btn-sm', text: t('note_add'), data: { testid: 'note-add' } }));
  node.append(
    h('h3', { class: 'panel-section', text: t('tags_heading') }), tagsList, tagForm, tagError,
    h('h3', { class: 'panel-section', text: t('notes_heading') }),
    h('p', { class: 'muted small', text: t('notes_private') }),
    notesList, notesStatus, noteForm, noteError);

  tagForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!current) return;
    const id = current.id;
    const tag = tagInput.value;
    tagError.textContent = '';
    try {
      const body = await api(`/api/v1/conversations/${enc(id)}/tags`, { method: 'POST', body: { tag } });
      tagInput.value = '';
      setTags(id, body.tags || []);
    } catch (failure) {
      tagError.textContent = failure.code === 'tag_invalid' ? t('tag_err_invalid')
        : failure.code === 'too_many_tags' ? t('tag_err_too_many') : errorText(failure);
    }
  });
  noteInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      noteForm.requestSubmit();
    }
  });
  noteForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!current) return;
    const id = current.id;
    const text = noteInput.value;
    noteError.textContent = '';
    if (!text.trim()) {
      noteError.textContent = t('note_err_empty');
      return;
    }
    try {
      const note = await api(`/api/v1/conversations/${enc(id)}/notes`, { method: 'POST', body: { text } });
      noteInput.value = '';
      if (current && current.id === id) {
        notesStatus.textContent = '';
        notesList.append(noteRow(note));
      }
    } catch (failure) {
      noteError.textContent = failure.code === 'text_too_long' ? t('note_err_too_long') : errorText(failure);
    }
  });

  function renderTags() {
    tagsList.textContent = '';
    const editable = mayEdit(current);
    for (const tag of tagsById.get(current.id) || []) {
      tagsList.append(h('li', { class: 'tag-chip', data: { testid: 'tag-chip', tag } },
        h('span', { text: tag, attrs: { dir: 'auto' } }),
        editable ? h('button', {
          type: 'button', class: 'tag-remove', text: '×',
          attrs: { 'aria-label': t('tag_remove_label', { tag }) }, data: { testid: 'tag-remove' },
          on: { click: () => removeTag(current.id, tag) },
        }) : null));
    }
  }

  async function removeTag(id, tag) {
    try {
      const body = await api(`/api/v1/conversations/${enc(id)}/tags/${enc(tag)}`, { method: 'DELETE' });
      setTags(id, body.tags || []);
      tagInput.focus();
    } catch (failure) {
      tagError.textContent = errorText(failure);
    }
  }

  function noteRow(note) {
    const created = parseTime(note.created_at);
    return h('li', { class: 'note', data: { testid: 'note', noteId: note.id } },
      h('div', { class: 'note-meta' },
        h('bdi', { class: 'note-author', text: (note.author && note.author.name) || t('operator_fallback'), data: { testid: 'note-author' } }),
        timeEl(created, fmtDateTime(created))),
      h('p', { class: 'note-text', text: note.text, attrs: { dir: 'auto' }, data: { testid: 'note-text' } }));
  }

  async function loadNotes(id) {
    notesStatus.textContent = t('notes_loading');
    try {
      const body = await api(`/api/v1/conversations/${enc(id)}/notes`);
      if (!current || current.id !== id) return;
      notesList.textContent = '';
      for (const note of body.notes || []) notesList.append(noteRow(note));
      notesStatus.textContent = (body.notes || []).length ? '' : t('notes_empty');
    } catch (failure) {
      if (current && current.id === id) notesStatus.textContent = errorText(failure);
    }
  }

  return {
    node,
    /** Shows the tools of `conv` (null hides them). Same conversation: no reload. */
    show(conv) {
      if (!conv) {
        current = null;
        node.hidden = true;
        return;
      }
      const same = current && current.id === conv.id;
      current = conv;
      node.hidden = false;
      node.dataset.conversationId = conv.id;
      const editable = mayEdit(conv);
      tagForm.hidden = !editable;
      noteForm.hidden = !editable;
      if (same) {
        renderTags();
        return;
      }
      tagError.textContent = '';
      noteError.textContent = '';
      noteInput.value = '';
      tagInput.value = '';
      notesList.textContent = '';
      renderTags();
      loadTags(conv.id);
      loadNotes(conv.id);
    },
    /** The tags known for a conversation (for the chat header). */
    tagsFor: (id) => tagsById.get(id) || [],
    /** Loads a conversation's tags (a chat was opened). */
    loadTags,
    /** Tag chips (read-only) for a header. */
    chips(id) {
      return (tagsById.get(id) || []).map((tag) => h('span', { class: 'tag-chip tag-chip-sm', text: tag, attrs: { dir: 'auto' }, data: { testid: 'tag-chip', tag } }));
    },
  };
}

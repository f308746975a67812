// History (every operator): the tenant's ended conversations, newest first, paged with
// `next`, optionally only those with one tag, and a read-only transcript with a .txt
// download (its notes and tags are in the side panel, notes.js). Server:
// GET /api/v1/conversations?state=ended&tag=, GET /api/v1/conversations/{id}/transcript.
// The markup is in index.html (#history-view).

import { t } from './strings.js';
import { api, query, enc } from './api.js';
import { h, $, bidi, parseTime, fmtClock, fmtDateTime, sameDay, timeEl, fmtElapsed, avatar } from './dom.js';
import { renderMessageRow, dayDivider, visitorName, isAnonymous, shortId } from './messages.js';
import { errorText } from './ui.js';

const HISTORY_PAGE = 25;

/**
 * @param {{me: () => object, onPanelChange: () => void}} ctx
 */
export function createHistory(ctx) {
  const state = { cursor: null, loading: false, loaded: false, stale: false, openId: null, openConv: null, tag: '' };

  // The tag filter, built here and placed in the list's header.
  const tagInput = h('input', { type: 'search', class: 'tools-input', attrs: { 'aria-label': t('history_tag_label'), placeholder: t('history_tag_placeholder'), maxlength: '60' }, data: { testid: 'history-tag-input' } });
  const tagClear = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('history_tag_clear'), data: { testid: 'history-tag-clear' }, hidden: true });
  const tagForm = h('form', { class: 'history-tag-filter', attrs: { role: 'search' }, data: { testid: 'history-tag-filter' } },
    tagInput, h('button', { type: 'submit', class: 'btn btn-secondary btn-sm', text: t('history_tag_apply'), data: { testid: 'history-tag-apply' } }), tagClear);
  tagForm.addEventListener('submit', (event) => {
    event.preventDefault();
    state.tag = tagInput.value.trim().toLowerCase();
    tagClear.hidden = !state.tag;
    loadHistory(true);
  });
  tagClear.addEventListener('click', () => {
    tagInput.value = '';
    state.tag = '';
    tagClear.hidden = true;
    loadHistory(true);
    tagInput.focus();
  });
  $('#history-refresh').before(tagForm);

  async function loadHistory(reset) {
    if (state.loading) return;
    state.loading = true;
    state.stale = false;
    const list = $('#history-list');
    const status = $('#history-status');
    const more = $('#history-more');
    if (reset) {
      state.cursor = null;
      list.textContent = '';
    }
    status.textContent = t('history_loading');
    more.hidden = true;
    const url = `/api/v1/conversations${query({ state: 'ended', tag: state.tag || null, limit: HISTORY_PAGE, before: state.cursor })}`;
    try {
      const body = await api(url);
      const conversations = body.conversations || [];
      for (const conversation of conversations) {
        if (list.querySelector(`[data-conversation-id="${CSS.escape(conversation.id)}"]`)) continue;
        list.append(historyRow(conversation, (body.tags || {})[conversation.id] || []));
      }
      state.cursor = body.next || null;
      state.loaded = true;
      more.hidden = !state.cursor;
      status.textContent = list.children.length === 0 ? t(state.tag ? 'history_empty_tag' : 'history_empty', { tag: state.tag }) : '';
    } catch (error) {
      status.textContent = t('history_error', { message: errorText(error) });
      more.hidden = !state.cursor;
    } finally {
      state.loading = false;
    }
  }

  function tagChips(tags) {
    return h('span', { class: 'history-tags', data: { testid: 'history-tags' } },
      tags.map((tag) => h('span', { class: 'tag-chip tag-chip-sm', text: tag, attrs: { dir: 'auto' }, data: { testid: 'tag-chip', tag } })));
  }

  function historyRow(conversation, tags) {
    const name = visitorName(conversation);
    const created = parseTime(conversation.created_at);
    const dateText = fmtDateTime(created);
    const count = Math.max(0, Number(conversation.last_seq) || 0);
    const reason = conversation.end_reason ? t(`end_reason_${conversation.end_reason}`) : t('end_reason_unknown');
    const open = h('button', {
      type: 'button', class: 'history-open',
      attrs: { 'aria-label': t('history_open_label', { name, date: dateText }) },
      data: { testid: 'history-open' },
      on: { click: () => openTranscript(conversation) },
    }, avatar(name, conversation.visitor && conversation.visitor.id, 'sm'), bidi(name, 'history-name', 'history-name'),
    isAnonymous(conversation) ? h('span', { class: 'anon-tag', text: shortId(conversation.visitor && conversation.visitor.id) }) : null);
    const row = h('div', {
      class: 'history-row', attrs: { role: 'row' },
      data: { conversationId: conversation.id, testid: 'history-item' },
    },
    h('span', { class: 'history-cell-visitor', attrs: { role: 'cell' } }, open, tagChips(tags)),
    h('span', { attrs: { role: 'cell' } }, timeEl(created, dateText)),
    h('span', { class: 'muted', attrs: { role: 'cell' }, text: t('history_messages', { count }) }),
    h('span', { class: 'muted', attrs: { role: 'cell' }, text: reason.startsWith('end_reason_') ? t('end_reason_unknown') : reason }));
    row.addEventListener('click', (event) => {
      if (event.target.closest('button')) return;
      openTranscript(conversation);
    });
    return row;
  }

  async function openTranscript(conversation) {
    state.openId = conversation.id;
    state.openConv = conversation;
    $('#history-list-wrap').hidden = true;
    const wrap = $('#transcript-wrap');
    wrap.hidden = false;
    const name = visitorName(conversation);
    $('#transcript-title').textContent = name;
    $('#transcript-title').setAttribute('dir', 'auto');
    const created = parseTime(conversation.created_at);
    $('#transcript-meta').textContent = fmtDateTime(created);
    $('#transcript-download').href = `/api/v1/conversations/${enc(conversation.id)}/transcript?format=txt`;
    const log = $('#transcript');
    log.setAttribute('aria-label', t('transcript_label', { name }));
    log.setAttribute('role', 'region');
    log.textContent = '';
    log.append(h('p', { class: 'panel-note', text: t('transcript_loading') }));
    ctx.onPanelChange();
    $('#transcript-back').focus();
    try {
      const body = await api(`/api/v1/conversations/${enc(conversation.id)}/transcript`);
      if (state.openId !== conversation.id) return;
      const conv = body.conversation || conversation;
      state.openConv = conv;
      log.textContent = '';
      let previous = null;
      for (const message of body.messages || []) {
        const created2 = parseTime(message.created_at);
        const previousDate = previous ? parseTime(previous.created_at) : null;
        if (created2 && (!previousDate || !sameDay(created2, previousDate))) log.append(dayDivider(created2));
        log.append(renderMessageRow(message, { meId: ctx.me() && ctx.me().operator_id, previous, conv }));
        previous = message;
      }
      appendSurveyAnswers(log, conversation.id);
      const ended = (body.messages || []).find((m) => m.event === 'chat_ended');
      const endTime = ended ? parseTime(ended.created_at) : null;
      if (created && endTime) {
        $('#transcript-meta').textContent = `${fmtDateTime(created)} – ${fmtClock(endTime)} · ${fmtElapsed(endTime - created)}`;
      }
    } catch (error) {
      log.textContent = '';
      log.append(h('p', { class: 'panel-note', attrs: { role: 'alert' }, text: t('transcript_error', { message: errorText(error) }) }));
    }
  }

  /** The visitor's exit survey answers under the transcript, if they gave any. */
  async function appendSurveyAnswers(log, id) {
    let body;
    try {
      body = await api(`/api/v1/conversations/${enc(id)}/survey-answers`);
    } catch {
      return; // the transcript stands on its own
    }
    const response = body && body.response;
    if (!response || state.openId !== id) return;
    log.append(h('section', { class: 'survey-answers', data: { testid: 'transcript-survey' } },
      h('h3', { text: t('transcript_survey_heading', { n: response.survey_version }) }),
      h('dl', {}, response.answers.map((answer) => [
        h('dt', { text: answer.label, attrs: { dir: 'auto' } }),
        h('dd', { text: answer.value, attrs: { dir: 'auto' }, data: { testid: 'transcript-survey-answer', kind: answer.kind } }),
      ]).flat())));
  }

  function closeTranscript() {
    const id = state.openId;
    state.openId = null;
    state.openConv = null;
    $('#transcript-wrap').hidden = true;
    $('#history-list-wrap').hidden = false;
    ctx.onPanelChange();
    const row = id && $(`#history-list [data-conversation-id="${CSS.escape(id)}"] .history-open`);
    (row || $('#history-refresh')).focus();
  }

  $('#history-refresh').addEventListener('click', () => loadHistory(true));
  $('#history-more').addEventListener('click', () => loadHistory(false));
  $('#transcript-back').addEventListener('click', closeTranscript);
  $('#transcript-wrap').addEventListener('keydown', (event) => {
    if (event.key === 'Escape') closeTranscript();
  });

  return {
    /** The view is shown: load (again) if needed, and focus its first control. */
    show({ focus }) {
      if (!state.loaded || state.stale) loadHistory(true);
      if (focus) (state.openId ? $('#transcript-back') : $('#history-refresh')).focus();
    },
    /** A chat ended: the list is out of date the next time it is shown. */
    markStale() {
      if (state.loaded) state.stale = true;
    },
    /** A conversation's tags changed (side panel): update its row. */
    onTagsChange(id, tags) {
      const row = $(`#history-list [data-conversation-id="${CSS.escape(id)}"] .history-tags`);
      if (row) row.replaceWith(tagChips(tags));
    },
    /** The conversation whose transcript is open (for the visitor panel), or null. */
    currentConversation: () => (state.openId ? state.openConv || null : null),
  };
}

// Live conversations (supervisors and admins, M8): every active chat of the tenant, and a
// read-only monitor for one of them. The list comes from
// GET /api/v1/conversations?state=active and stays current with the `conversation`
// frames every operator socket receives. Watching sends `resume` on the console's own
// socket: the server replays the conversation, streams it live and writes
// `monitor_started` to the audit log. Nothing is sent to the visitor or the operator;
// there is no composer here.

import { t } from './strings.js';
import { api, query } from './api.js';
import { h, avatar, bidi, parseTime, fmtDateTime, fmtShort, sameDay, timeEl } from './dom.js';
import { renderMessageRow, dayDivider, visitorName, isAnonymous, shortId } from './messages.js';
import { pageHead, statusLine, dataTable, cell, button, errorText } from './ui.js';

const TYPING_TIMEOUT_MS = 6_000;

/**
 * @param {HTMLElement} root
 * @param {{socket: () => object|null, me: () => object, openOwnChat: (id: string) => boolean,
 *   onPanelChange: () => void, onRoleRequired: (error) => void}} ctx
 */
export function createLivePage(root, ctx) {
  const active = new Map(); // conversation id → ConversationDto, newest first
  let loading = false;
  let loaded = false;
  /** The conversation being watched, or null. */
  let watching = null;

  // ------------------------------------------------------------------ List

  const refresh = button(t('refresh'), { variant: 'secondary', testid: 'live-refresh', onClick: () => load() });
  const status = statusLine('live-status');
  const table = dataTable({
    label: t('live_list_label'),
    testid: 'live-list',
    columns: [
      { label: t('live_col_visitor'), className: 'col-main' },
      { label: t('live_col_operator'), className: 'col-operator' },
      { label: t('live_col_started'), className: 'col-when' },
      { label: '', className: 'col-actions' },
    ],
  });
  const listWrap = h('div', { class: 'page', data: { testid: 'live-list-page' } },
    pageHead({ title: t('live_heading'), intro: t('live_intro'), actions: [refresh] }),
    table.node,
    status.node);

  // ------------------------------------------------------------------ Monitor pane

  const back = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', data: { testid: 'monitor-back' } },
    h('span', { attrs: { 'aria-hidden': 'true' }, text: '←' }), ' ', h('span', { text: t('live_back') }));
  const titleText = h('bdi', { attrs: { dir: 'auto' } });
  const title = h('h1', { class: 'conv-name', data: { testid: 'monitor-title' } }, titleText);
  const avatarSlot = h('span', { class: 'avatar-slot' });
  const badge = h('span', { class: 'monitor-badge', data: { testid: 'monitor-badge' } },
    h('span', { class: 'icon icon-eye', attrs: { 'aria-hidden': 'true' } }), t('live_badge'));
  const withOperator = h('span', { class: 'monitor-with', data: { testid: 'monitor-operator' } });
  const started = h('span', { class: 'conv-started' });
  const log = h('div', {
    class: 'log',
    attrs: { role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0', 'aria-busy': 'true' },
    data: { testid: 'monitor-log' },
  });
  const typing = h('div', { class: 'typing-indicator is-idle', attrs: { role: 'status' }, data: { testid: 'monitor-typing' } },
    h('span', { class: 'typing-dots', attrs: { 'aria-hidden': 'true' } }, h('span'), h('span'), h('span')), h('span', { class: 'typing-text' }));
  const note = h('p', { class: 'monitor-note', data: { testid: 'monitor-note' } });
  const endedNotice = h('p', { class: 'ended-notice', text: t('live_ended'), hidden: true, data: { testid: 'monitor-ended' } });
  const monitorWrap = h('section', { class: 'monitor', hidden: true, data: { testid: 'monitor' } },
    h('header', { class: 'conv-header' },
      back,
      avatarSlot,
      h('div', { class: 'conv-title' }, title, h('p', { class: 'conv-meta' }, badge, withOperator, started))),
    h('div', { class: 'log-wrap' }, log),
    h('div', { class: 'monitor-foot' }, typing, note, endedNotice));

  root.append(listWrap, monitorWrap);
  back.addEventListener('click', () => close());
  monitorWrap.addEventListener('keydown', (event) => { if (event.key === 'Escape') close(); });

  async function load() {
    if (loading) return;
    loading = true;
    if (!loaded) status.set(t('loading_page'));
    try {
      const body = await api(`/api/v1/conversations${query({ state: 'active', limit: 200 })}`);
      active.clear();
      for (const conversation of body.conversations || []) {
        if (conversation.state === 'active') active.set(conversation.id, conversation);
      }
      loaded = true;
      renderList();
    } catch (error) {
      if (error.code === 'role_required') ctx.onRoleRequired(error);
      status.set(t('live_error', { message: errorText(error) }), { error: true });
    } finally {
      loading = false;
    }
  }

  function renderList() {
    if (!loaded) return;
    const focused = document.activeElement && table.body.contains(document.activeElement)
      ? document.activeElement.closest('tr')?.dataset.conversationId : null;
    const sorted = [...active.values()].sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
    table.body.textContent = '';
    for (const conversation of sorted) table.body.append(renderRow(conversation));
    status.set(active.size === 0 ? t('live_empty') : '');
    if (focused) table.body.querySelector(`tr[data-conversation-id="${CSS.escape(focused)}"] button`)?.focus();
  }

  function renderRow(conversation) {
    const name = visitorName(conversation);
    const operator = conversation.operator_name || t('operator_fallback');
    const me = ctx.me();
    const own = me && conversation.operator_id === me.operator_id;
    const created = parseTime(conversation.created_at);
    const watch = button(own ? t('live_open_own') : t('live_watch'), {
      variant: own ? 'secondary' : 'primary', testid: 'live-watch',
      attrs: { 'aria-label': t('live_watch_label', { name, operator }) },
      onClick: () => open(conversation),
    });
    const row = h('tr', { class: 'is-clickable', data: { testid: 'live-item', conversationId: conversation.id } },
      cell('col-main', h('span', { class: 'person' },
        avatar(name, conversation.visitor && conversation.visitor.id, 'sm'),
        h('span', { class: 'person-text' },
          h('span', { class: 'person-name' }, bidi(name, 'person-name-text', 'live-visitor'),
            isAnonymous(conversation) ? h('span', { class: 'anon-tag', text: shortId(conversation.visitor && conversation.visitor.id) }) : null)))),
      cell('col-operator', bidi(operator, '', 'live-operator')),
      cell('col-when nowrap', timeEl(created, fmtShort(created))),
      cell('col-actions', watch));
    row.addEventListener('click', (event) => {
      if (!event.target.closest('button')) open(conversation);
    });
    return row;
  }

  // ------------------------------------------------------------------ Watching

  function open(conversation) {
    const me = ctx.me();
    // One's own chat opens in Chats, with its composer (if it is open there).
    if (me && conversation.operator_id === me.operator_id && ctx.openOwnChat(conversation.id)) return;
    watching = {
      id: conversation.id,
      conv: conversation,
      seqs: new Set(),
      lastSeq: 0,
      lastRendered: null,
      loaded: false,
      ended: conversation.state === 'ended',
      typingTimer: null,
    };
    log.textContent = '';
    log.setAttribute('aria-busy', 'true');
    endedNotice.hidden = !watching.ended;
    note.hidden = watching.ended;
    setTyping(null);
    renderHeader();
    listWrap.hidden = true;
    monitorWrap.hidden = false;
    monitorWrap.dataset.conversationId = conversation.id;
    follow();
    ctx.onPanelChange();
    back.focus();
  }

  function follow() {
    if (!watching) return;
    const socket = ctx.socket();
    const sent = socket && socket.sendVolatile({ type: 'resume', conversation_id: watching.id, after_seq: watching.lastSeq });
    if (!sent && !watching.loaded && !log.querySelector('[data-seq]')) {
      log.textContent = '';
      log.append(h('p', { class: 'panel-note', text: t('live_connecting') }));
    }
  }

  function renderHeader() {
    const conv = watching.conv;
    const name = visitorName(conv);
    titleText.textContent = name;
    avatarSlot.textContent = '';
    avatarSlot.append(avatar(name, conv.visitor && conv.visitor.id));
    withOperator.textContent = t('live_with', { operator: conv.operator_name || t('operator_fallback') });
    const created = parseTime(conv.created_at);
    started.textContent = created ? t('conv_started', { time: fmtShort(created) }) : '';
    started.title = created ? fmtDateTime(created) : '';
    log.setAttribute('aria-label', t('transcript_label', { name }));
    note.textContent = t('live_note', { visitor: name, operator: conv.operator_name || t('operator_fallback') });
  }

  function close() {
    watching = null;
    monitorWrap.hidden = true;
    delete monitorWrap.dataset.conversationId;
    listWrap.hidden = false;
    ctx.onPanelChange();
    load();
    refresh.focus();
  }

  function markEnded() {
    if (!watching || watching.ended) return;
    watching.ended = true;
    watching.conv = { ...watching.conv, state: 'ended' };
    endedNotice.hidden = false;
    note.hidden = true;
    setTyping(null);
  }

  function setTyping(name) {
    if (!watching) return;
    clearTimeout(watching.typingTimer);
    const text = typing.querySelector('.typing-text');
    if (name && !watching.ended) {
      text.textContent = t('live_typing', { name });
      typing.classList.remove('is-idle');
      watching.typingTimer = setTimeout(() => setTyping(null), TYPING_TIMEOUT_MS);
    } else {
      text.textContent = '';
      typing.classList.add('is-idle');
    }
  }

  function insert(message) {
    const me = ctx.me();
    const row = renderMessageRow(message, { meId: me && me.operator_id, previous: watching.lastRendered, conv: watching.conv });
    const inOrder = !watching.lastRendered || message.seq > watching.lastRendered.seq;
    if (!inOrder) {
      const after = [...log.querySelectorAll('[data-seq]')].find((node) => Number(node.dataset.seq) > message.seq);
      log.insertBefore(row, after || null);
      return;
    }
    const placeholder = log.querySelector('.panel-note');
    if (placeholder) placeholder.remove();
    const created = parseTime(message.created_at);
    const previous = watching.lastRendered ? parseTime(watching.lastRendered.created_at) : null;
    if (created && (!previous || !sameDay(created, previous))) log.append(dayDivider(created));
    const stick = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    log.append(row);
    watching.lastRendered = message;
    if (stick || !watching.loaded) log.scrollTop = log.scrollHeight;
  }

  return {
    show() {
      if (!watching) load();
    },
    /** A conversation changed state (every operator socket gets these). */
    onConversation(conversation) {
      if (conversation.state === 'active') active.set(conversation.id, { ...active.get(conversation.id), ...conversation });
      else active.delete(conversation.id);
      if (loaded && !listWrap.hidden) renderList();
      if (watching && conversation.id === watching.id) {
        watching.conv = { ...watching.conv, ...conversation };
        renderHeader();
        if (conversation.state === 'ended') markEnded();
      }
    },
    /** True when the message belongs to the watched conversation (and was shown). */
    onMessage(message) {
      if (!watching || message.conversation_id !== watching.id) return false;
      if (watching.seqs.has(message.seq)) return true;
      watching.seqs.add(message.seq);
      if (message.seq > watching.lastSeq) watching.lastSeq = message.seq;
      insert(message);
      if (message.author && message.kind !== 'system') setTyping(null);
      if (message.kind === 'system' && message.event === 'chat_ended') markEnded();
      return true;
    },
    onResumed(frame) {
      if (!watching || frame.conversation_id !== watching.id) return false;
      watching.loaded = true;
      log.setAttribute('aria-busy', 'false');
      log.scrollTop = log.scrollHeight;
      return true;
    },
    onTyping(frame) {
      if (!watching || frame.conversation_id !== watching.id || !frame.author) return false;
      const name = frame.author.kind === 'visitor' ? visitorName(watching.conv) : frame.author.name || t('operator_fallback');
      setTyping(frame.is_typing ? name : null);
      return true;
    },
    /** An error for a volatile frame: if we are waiting for a replay, it was our resume. */
    onError(frame) {
      if (!watching || watching.loaded) return false;
      if (frame.code === 'role_required') ctx.onRoleRequired(frame);
      log.textContent = '';
      log.append(h('p', { class: 'panel-note is-error', attrs: { role: 'alert' }, data: { testid: 'monitor-error' }, text: t('live_failed', { message: errorText(frame) }) }));
      log.setAttribute('aria-busy', 'false');
      return true;
    },
    /** After a (re)connect: follow the watched conversation again from where we were. */
    onReady() {
      if (watching) {
        watching.loaded = false;
        follow();
      }
    },
    currentConversation: () => (watching ? watching.conv : null),
    isWatching: (id) => !!watching && watching.id === id,
  };
}

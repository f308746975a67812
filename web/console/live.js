// Live (supervisors and admins, M8 and X4): the tenant's open conversations (waiting and
// active, with department, owner, waiting time or duration) and its operators (connected,
// status, load), from GET /api/v1/supervisor/overview. The page re-reads it shortly after
// every `conversation` frame (debounced) and every 10 s while it is shown.
//
// Watching sends `resume` on the console's own socket: the server replays the
// conversation, streams it live and writes `monitor_started` to the audit log; nobody in
// the chat is told (operators are, if the tenant shows monitoring). From the monitor a
// supervisor can whisper (`whisper`: only operators see it), join the chat visibly
// (`barge` join: then a composer sends normal messages the visitor reads) or take it
// over (`barge` take_over: the chat moves to their Chats view). Frames go out through
// ctx.sendReliable, which resolves with the ack or rejects with the error frame.

import { t } from './strings.js';
import { api, serverNow } from './api.js';
import { h, avatar, bidi, parseTime, fmtDateTime, fmtShort, fmtClock, fmtElapsed, sameDay, charCount } from './dom.js';
import { renderMessageRow, dayDivider, visitorName, isAnonymous, shortId } from './messages.js';
import { pageHead, statusLine, dataTable, cell, button, errorText, confirmAction, announce } from './ui.js';

const TYPING_TIMEOUT_MS = 6_000;
const REFRESH_EVERY_MS = 10_000;
const REFRESH_DEBOUNCE_MS = 400;
const MAX_TEXT = 10_000;

/**
 * @param {HTMLElement} root
 * @param {{socket: () => object|null, me: () => object, openOwnChat: (id: string) => boolean,
 *   openWhenOwned: (id: string) => void, sendReliable: (frame: object) => Promise<object>,
 *   onPanelChange: () => void, onRoleRequired: (error) => void}} ctx
 */
export function createLivePage(root, ctx) {
  const open = new Map(); // conversation id → ConversationDto (queued and active)
  let operators = [];
  const departments = new Map();
  let loading = false;
  let again = false;
  let loaded = false;
  let refreshTimer = null;
  /** The conversation being watched, or null. */
  let watching = null;

  // ------------------------------------------------------------------ List

  const refresh = button(t('refresh'), { variant: 'secondary', testid: 'live-refresh', onClick: () => load() });
  const updated = h('p', { class: 'muted small live-updated', data: { testid: 'live-updated' } });
  const status = statusLine('live-status');
  const table = dataTable({
    label: t('live_list_label'),
    testid: 'live-list',
    columns: [
      { label: t('live_col_visitor'), className: 'col-main' },
      { label: t('live_col_state'), className: 'col-state' },
      { label: t('live_col_department'), className: 'col-department' },
      { label: t('live_col_operator'), className: 'col-operator' },
      { label: t('live_col_time'), className: 'col-when' },
      { label: '', className: 'col-actions' },
    ],
  });
  const opsStatus = statusLine('live-operators-status');
  const opsTable = dataTable({
    label: t('live_operators_label'),
    testid: 'live-operators',
    columns: [
      { label: t('live_op_col_name'), className: 'col-main' },
      { label: t('live_op_col_connection'), className: 'col-connection' },
      { label: t('live_op_col_status'), className: 'col-status' },
      { label: t('live_op_col_load'), className: 'col-load' },
    ],
  });
  const listWrap = h('div', { class: 'page', data: { testid: 'live-list-page' } },
    pageHead({ title: t('live_heading'), intro: t('live_intro'), actions: [refresh] }),
    updated,
    table.node,
    status.node,
    h('h2', { class: 'section-heading', text: t('live_operators_heading') }),
    opsTable.node,
    opsStatus.node);

  // ------------------------------------------------------------------ Monitor pane

  const back = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', data: { testid: 'monitor-back' } },
    h('span', { attrs: { 'aria-hidden': 'true' }, text: '←' }), ' ', h('span', { text: t('live_back') }));
  const titleText = h('bdi', { attrs: { dir: 'auto' } });
  const title = h('h1', { class: 'conv-name', data: { testid: 'monitor-title' } }, titleText);
  const avatarSlot = h('span', { class: 'avatar-slot' });
  const badgeText = h('span', { text: t('live_badge') });
  const badge = h('span', { class: 'monitor-badge', data: { testid: 'monitor-badge' } },
    h('span', { class: 'icon icon-eye', attrs: { 'aria-hidden': 'true' } }), badgeText);
  const withOperator = h('span', { class: 'monitor-with', data: { testid: 'monitor-operator' } });
  const deptTag = h('span', { class: 'tag tag-dept', data: { testid: 'monitor-department' }, hidden: true });
  const started = h('span', { class: 'conv-started' });
  const joinBtn = button(t('live_join'), {
    variant: 'secondary', testid: 'monitor-join', attrs: { title: t('live_join_label') }, onClick: () => join(),
  });
  const takeOver = confirmAction({
    label: t('live_take_over'), question: t('live_take_over_q', { operator: t('operator_fallback') }), confirmLabel: t('live_take_over_confirm'),
    variant: 'secondary', confirmVariant: 'primary', testid: 'monitor-take-over',
    onConfirm: () => doTakeOver(),
  });
  const actions = h('div', { class: 'conv-actions monitor-actions' }, joinBtn, takeOver.node);
  const log = h('div', {
    class: 'log',
    attrs: { role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0', 'aria-busy': 'true' },
    data: { testid: 'monitor-log' },
  });
  const typing = h('div', { class: 'typing-indicator is-idle', attrs: { role: 'status' }, data: { testid: 'monitor-typing' } },
    h('span', { class: 'typing-dots', attrs: { 'aria-hidden': 'true' } }, h('span'), h('span'), h('span')), h('span', { class: 'typing-text' }));
  const note = h('p', { class: 'monitor-note', data: { testid: 'monitor-note' } });
  const actionError = h('p', { class: 'form-error', attrs: { role: 'alert' }, data: { testid: 'monitor-action-error' } });
  const endedNotice = h('p', { class: 'ended-notice', text: t('live_ended'), hidden: true, data: { testid: 'monitor-ended' } });

  const whisperBox = textBox({
    testid: 'monitor-whisper', placeholder: t('live_whisper_placeholder'), sendLabel: t('live_whisper_send'),
    className: 'composer is-internal', onSend: (text) => sendText('whisper', text),
  });
  const composerBox = textBox({
    testid: 'monitor-composer', placeholder: t('live_composer_placeholder'), sendLabel: t('live_send'),
    className: 'composer', sendTestid: 'monitor-send', onSend: (text) => sendText('send_message', text),
  });
  const whisperHint = h('p', { class: 'composer-hint', text: t('live_whisper_hint') });

  const monitorWrap = h('section', { class: 'monitor', hidden: true, data: { testid: 'monitor' } },
    h('header', { class: 'conv-header' },
      back,
      avatarSlot,
      h('div', { class: 'conv-title' }, title, h('p', { class: 'conv-meta' }, badge, withOperator, deptTag, started)),
      actions),
    h('div', { class: 'log-wrap' }, log),
    h('div', { class: 'monitor-foot' }, typing, note, actionError, composerBox.node, whisperBox.node, whisperHint, endedNotice));

  root.append(listWrap, monitorWrap);
  back.addEventListener('click', () => close());
  monitorWrap.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !event.target.closest('form, .confirm')) close();
  });

  /** A textarea + send button; Enter sends, Shift+Enter is a new line. */
  function textBox({ testid, placeholder, sendLabel, className, sendTestid, onSend }) {
    const input = h('textarea', {
      class: 'composer-input', rows: 1, placeholder,
      attrs: { 'aria-label': placeholder, dir: 'auto', maxlength: String(MAX_TEXT * 2) },
      data: { testid: `${testid}-input` },
    });
    const send = h('button', { type: 'submit', class: 'btn btn-primary composer-send', text: sendLabel, data: { testid: sendTestid || `${testid}-send` } });
    const node = h('form', { class: className, data: { testid } }, input, send);
    const submit = async () => {
      const text = input.value;
      if (!text.trim() || send.disabled) return;
      if (charCount(text) > MAX_TEXT) {
        actionError.textContent = t('err_text_too_long');
        return;
      }
      send.disabled = true;
      try {
        if (await onSend(text)) input.value = '';
      } finally {
        send.disabled = false;
        input.focus();
      }
    };
    node.addEventListener('submit', (event) => { event.preventDefault(); submit(); });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        submit();
      }
    });
    input.addEventListener('input', () => { actionError.textContent = ''; });
    return { node, input, send };
  }

  // ------------------------------------------------------------------ Loading

  async function load() {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    if (!loaded) status.set(t('loading_page'));
    try {
      const body = await api('/api/v1/supervisor/overview');
      open.clear();
      for (const conversation of body.conversations || []) {
        if (conversation.state === 'active' || conversation.state === 'queued') open.set(conversation.id, conversation);
      }
      operators = body.operators || [];
      departments.clear();
      for (const department of body.departments || []) departments.set(department.id, department);
      loaded = true;
      const now = new Date(serverNow());
      updated.textContent = t('live_updated', { time: fmtClock(now) });
      renderList();
      if (watching) renderHeader();
    } catch (error) {
      if (error.code === 'role_required') ctx.onRoleRequired(error);
      status.set(t('live_error', { message: errorText(error) }), { error: true });
    } finally {
      loading = false;
      if (again) {
        again = false;
        load();
      }
    }
  }

  function loadSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => { if (!root.hidden) load(); }, REFRESH_DEBOUNCE_MS);
  }

  setInterval(() => { if (!root.hidden) load(); }, REFRESH_EVERY_MS);
  setInterval(() => { if (!root.hidden && !listWrap.hidden) tickDurations(); }, 1_000);

  const departmentName = (id) => (id && departments.has(id) ? departments.get(id).name : null);

  // ------------------------------------------------------------------ Rendering

  function renderList() {
    if (!loaded) return;
    const focused = document.activeElement && table.body.contains(document.activeElement)
      ? document.activeElement.closest('tr')?.dataset.conversationId : null;
    // Waiting chats first (longest waiting on top), then active ones, oldest first.
    const sorted = [...open.values()].sort((a, b) => (a.state === b.state ? 0 : a.state === 'queued' ? -1 : 1)
      || Date.parse(a.created_at) - Date.parse(b.created_at));
    table.body.textContent = '';
    for (const conversation of sorted) table.body.append(renderRow(conversation));
    status.set(open.size === 0 ? t('live_empty') : '');
    if (focused) table.body.querySelector(`tr[data-conversation-id="${CSS.escape(focused)}"] button`)?.focus();
    tickDurations();
    renderOperators();
  }

  function renderRow(conversation) {
    const name = visitorName(conversation);
    const queued = conversation.state === 'queued';
    const operator = queued ? null : conversation.operator_name || t('operator_fallback');
    const me = ctx.me();
    const own = me && conversation.operator_id === me.operator_id;
    const department = departmentName(conversation.department_id);
    const watch = button(own ? t('live_open_own') : t('live_watch'), {
      variant: own ? 'secondary' : 'primary', testid: 'live-watch',
      attrs: { 'aria-label': t('live_watch_label', { name, operator: operator || t('live_unassigned') }) },
      onClick: () => openMonitor(conversation),
    });
    const row = h('tr', {
      class: 'is-clickable',
      data: { testid: 'live-item', conversationId: conversation.id, state: conversation.state, departmentId: conversation.department_id || '' },
    },
    cell('col-main', h('span', { class: 'person' },
      avatar(name, conversation.visitor && conversation.visitor.id, 'sm'),
      h('span', { class: 'person-text' },
        h('span', { class: 'person-name' }, bidi(name, 'person-name-text', 'live-visitor'),
          isAnonymous(conversation) ? h('span', { class: 'anon-tag', text: shortId(conversation.visitor && conversation.visitor.id) }) : null)))),
    cell('col-state', h('span', { class: `pill pill-${conversation.state}`, text: t(`live_state_${conversation.state}`), data: { testid: 'live-state' } })),
    cell('col-department', department
      ? h('span', { class: 'tag tag-dept', text: department, data: { testid: 'live-department' } })
      : h('span', { class: 'muted', text: t('live_general_queue'), data: { testid: 'live-department' } })),
    cell('col-operator', operator ? bidi(operator, '', 'live-operator') : h('span', { class: 'muted', text: t('live_unassigned'), data: { testid: 'live-operator' } })),
    cell('col-when nowrap', h('span', { class: 'live-duration', data: { testid: 'live-duration' } })),
    cell('col-actions', watch));
    row.addEventListener('click', (event) => {
      if (!event.target.closest('button')) openMonitor(conversation);
    });
    return row;
  }

  function tickDurations() {
    const now = serverNow();
    for (const node of table.body.querySelectorAll('.live-duration')) {
      const conversation = open.get(node.closest('tr').dataset.conversationId);
      if (!conversation) continue;
      const queued = conversation.state === 'queued';
      const since = Date.parse((!queued && conversation.accepted_at) || conversation.created_at);
      const time = fmtElapsed(now - since);
      node.textContent = t(queued ? 'live_waiting_for' : 'live_duration', { time });
      node.title = fmtDateTime(new Date(since));
    }
  }

  function renderOperators() {
    opsTable.body.textContent = '';
    for (const operator of operators) {
      const full = operator.chat_limit != null && operator.active_chats >= operator.chat_limit;
      const load = operator.chat_limit == null
        ? t('live_op_load_unlimited', { active: operator.active_chats })
        : t('live_op_load', { active: operator.active_chats, limit: operator.chat_limit });
      const online = operator.status === 'online';
      opsTable.body.append(h('tr', {
        data: { testid: 'live-operator-row', operatorId: operator.id, connected: String(operator.connected), status: operator.status },
      },
      cell('col-main', h('span', { class: 'person' },
        avatar(operator.display_name, operator.id, 'sm'),
        h('span', { class: 'person-text' }, bidi(operator.display_name, 'person-name', 'live-op-name')))),
      cell('col-connection', h('span', {
        class: `availability is-${operator.connected ? 'online' : 'offline'}`, data: { testid: 'live-op-connected' },
      }, h('span', { class: 'dot', attrs: { 'aria-hidden': 'true' } }), operator.connected ? t('live_op_connected') : t('live_op_offline'))),
      cell('col-status', h('span', { class: `availability is-${online ? 'online' : 'away'}`, data: { testid: 'live-op-status' } },
        h('span', { class: 'dot', attrs: { 'aria-hidden': 'true' } }), online ? t('live_op_online') : t('live_op_away'))),
      cell('col-load', h('span', { class: 'load', data: { testid: 'live-op-load' } }, load,
        full ? h('span', { class: 'tag tag-full', text: t('live_op_full') }) : null))));
    }
    opsStatus.set(operators.length === 0 ? t('live_operators_empty') : '');
  }

  // ------------------------------------------------------------------ Watching

  function openMonitor(conversation) {
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
      joined: false,
      typingTimer: null,
    };
    log.textContent = '';
    log.setAttribute('aria-busy', 'true');
    endedNotice.hidden = !watching.ended;
    actionError.textContent = '';
    whisperBox.input.value = '';
    composerBox.input.value = '';
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
    if (!watching) return;
    const conv = open.get(watching.id) ? { ...watching.conv, ...open.get(watching.id) } : watching.conv;
    watching.conv = conv;
    const name = visitorName(conv);
    const operator = conv.operator_name || t('operator_fallback');
    titleText.textContent = name;
    avatarSlot.textContent = '';
    avatarSlot.append(avatar(name, conv.visitor && conv.visitor.id));
    withOperator.textContent = conv.state === 'queued' ? t('live_unassigned') : t('live_with', { operator });
    const department = departmentName(conv.department_id);
    deptTag.hidden = !department;
    deptTag.textContent = department || '';
    const created = parseTime(conv.created_at);
    started.textContent = created ? t('conv_started', { time: fmtShort(created) }) : '';
    started.title = created ? fmtDateTime(created) : '';
    log.setAttribute('aria-label', t('transcript_label', { name }));
    whisperBox.input.setAttribute('aria-label', t('live_whisper_label', { operator }));
    composerBox.input.setAttribute('aria-label', t('live_composer_label', { visitor: name }));
    takeOver.node.querySelector('.confirm')?.setAttribute('aria-label', t('live_take_over_q', { operator }));
    const question = takeOver.node.querySelector('.confirm-q');
    if (question) question.textContent = t('live_take_over_q', { operator });
    renderActions();
  }

  /** What the supervisor can do now: whisper and barge on an active chat of someone else. */
  function renderActions() {
    if (!watching) return;
    const me = ctx.me();
    const conv = watching.conv;
    const live = !watching.ended && conv.state === 'active';
    const theirs = !me || conv.operator_id !== me.operator_id;
    actions.hidden = !(live && theirs);
    joinBtn.hidden = watching.joined;
    whisperBox.node.hidden = !live;
    whisperHint.hidden = !live;
    composerBox.node.hidden = !(live && watching.joined);
    badgeText.textContent = watching.joined && live ? t('live_joined_badge') : t('live_badge');
    badge.classList.toggle('is-joined', watching.joined && live);
    const name = visitorName(conv);
    const operator = conv.operator_name || t('operator_fallback');
    note.textContent = watching.joined ? t('live_joined_note', { visitor: name }) : t('live_note', { visitor: name, operator });
    note.hidden = watching.ended;
  }

  function close() {
    leaveMonitor();
    load();
    refresh.focus();
  }

  function leaveMonitor() {
    if (watching) clearTimeout(watching.typingTimer);
    watching = null;
    monitorWrap.hidden = true;
    delete monitorWrap.dataset.conversationId;
    listWrap.hidden = false;
    ctx.onPanelChange();
  }

  function markEnded() {
    if (!watching || watching.ended) return;
    watching.ended = true;
    watching.conv = { ...watching.conv, state: 'ended' };
    endedNotice.hidden = false;
    setTyping(null);
    renderActions();
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

  // ------------------------------------------------------------------ Whisper and barge

  function failed(frame) {
    actionError.textContent = t('live_action_failed', { message: frameErrorText(frame) });
    if (frame && frame.code === 'conversation_ended') markEnded();
  }

  async function sendText(type, text) {
    if (!watching) return false;
    actionError.textContent = '';
    try {
      await ctx.sendReliable({ type, conversation_id: watching.id, text });
      return true;
    } catch (frame) {
      failed(frame);
      return false;
    }
  }

  async function join() {
    if (!watching) return;
    const id = watching.id;
    actionError.textContent = '';
    joinBtn.disabled = true;
    try {
      await ctx.sendReliable({ type: 'barge', conversation_id: id, mode: 'join' });
      if (watching && watching.id === id) {
        watching.joined = true;
        renderActions();
        composerBox.input.focus();
      }
    } catch (frame) {
      failed(frame);
    } finally {
      joinBtn.disabled = false;
    }
  }

  async function doTakeOver() {
    if (!watching) return;
    const id = watching.id;
    const name = visitorName(watching.conv);
    actionError.textContent = '';
    try {
      await ctx.sendReliable({ type: 'barge', conversation_id: id, mode: 'take_over' });
    } catch (frame) {
      failed(frame);
      return;
    }
    announce(t('live_taken_over', { visitor: name }));
    leaveMonitor();
    // The chat is ours now: show it in Chats, now or as soon as its `conversation` frame is here.
    if (!ctx.openOwnChat(id)) ctx.openWhenOwned(id);
  }

  function frameErrorText(frame) {
    switch (frame && frame.code) {
      case 'conversation_ended':
        return t('toast_conversation_ended');
      case 'text_too_long':
      case 'frame_too_large':
        return t('err_text_too_long');
      case 'rate_limited':
        return t('err_rate_limited');
      default:
        return errorText(frame);
    }
  }

  return {
    show() {
      if (!watching) load();
    },
    /** A conversation changed state (every operator socket gets these). */
    onConversation(conversation) {
      if (conversation.state === 'active' || conversation.state === 'queued') open.set(conversation.id, { ...open.get(conversation.id), ...conversation });
      else open.delete(conversation.id);
      if (loaded && !listWrap.hidden) renderList();
      if (watching && conversation.id === watching.id) {
        watching.conv = { ...watching.conv, ...conversation };
        renderHeader();
        if (conversation.state === 'ended') markEnded();
      }
      if (loaded) loadSoon();
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
      // We joined earlier (this page, another tab, before a reload): the composer is ours.
      const me = ctx.me();
      if (message.kind === 'system' && message.event === 'operator_joined' && me && message.author
        && message.author.id === me.operator_id && watching.conv.operator_id !== me.operator_id && !watching.joined) {
        watching.joined = true;
        renderActions();
      }
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

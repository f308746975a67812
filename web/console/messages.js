// Message rows, shared by the chat panes, the History transcript and the Live monitor.
// Visitor and operator text goes in with textContent (through h()), never as HTML.

import { t } from './strings.js';
import { serverNow } from './api.js';
import { h, bidi, parseTime, fmtClock, fmtDay, fmtDateTime, sameDay, timeEl } from './dom.js';

const GROUP_WINDOW_MS = 3 * 60_000;

export const visitorName = (conversation) => (conversation && conversation.visitor && conversation.visitor.name) || t('visitor_anonymous');
export const isAnonymous = (conversation) => !(conversation && conversation.visitor && conversation.visitor.name);
export const shortId = (id) => (id ? `#${String(id).replace(/-/g, '').slice(-4)}` : '');

export function dayDivider(date) {
  const today = new Date(serverNow());
  const yesterday = new Date(today.getTime() - 86_400_000);
  const label = sameDay(date, today) ? t('day_today') : sameDay(date, yesterday) ? t('day_yesterday') : fmtDay(date);
  return h('div', { class: 'day-divider', attrs: { role: 'separator' } }, timeEl(date, label, 'day-label'));
}

export function systemText(message, meId, conv) {
  const author = message.author || {};
  const isMe = author.kind === 'operator' && author.id && author.id === meId;
  switch (message.event) {
    case 'chat_requested':
      return t('sys_chat_requested');
    case 'operator_joined': {
      // Transfers, take-overs and reassignments carry their own wording ("You are now
      // chatting with Sam"): show it as the server wrote it. A plain join is translated.
      const name = author.name || t('operator_fallback');
      if (message.text && message.text !== `${author.name} joined the chat`) return message.text;
      return isMe ? t('sys_operator_joined_you') : t('sys_operator_joined', { name });
    }
    case 'chat_ended':
      if (isMe) return t('sys_chat_ended_you');
      if (author.kind === 'operator') return t('sys_chat_ended_operator', { name: author.name || t('operator_fallback') });
      if (conv && conv.end_reason === 'visitor_abandoned') return t('sys_chat_ended_abandoned');
      if (author.kind === 'visitor') return t('sys_chat_ended_visitor');
      return t('sys_chat_ended');
    default:
      return message.text || '';
  }
}

/** One message row. Visitor text goes in with textContent, inside a dir="auto" bubble. */
export function renderMessageRow(message, { meId, previous, conv }) {
  const created = parseTime(message.created_at);
  if (message.kind === 'system') {
    return h('div', {
      class: `msg-system${message.event === 'chat_ended' ? ' msg-system-end' : ''}`,
      data: { seq: String(message.seq), event: message.event || '', testid: 'system-message' },
    },
    h('span', { class: 'msg-system-text', text: systemText(message, meId, conv), attrs: { dir: 'auto' } }),
    timeEl(created, fmtClock(created), 'msg-system-time'));
  }
  const author = message.author || {};
  const mine = author.kind === 'operator' && author.id === meId;
  const side = author.kind === 'visitor' ? 'visitor' : 'operator';
  const continued = previous && previous.kind === message.kind && previous.author && previous.author.id === author.id
    && created && parseTime(previous.created_at) && created - parseTime(previous.created_at) < GROUP_WINDOW_MS
    && sameDay(created, parseTime(previous.created_at));
  const authorName = mine ? t('you') : author.name || (author.kind === 'visitor' ? visitorName(conv) : t('operator_fallback'));
  const classes = ['msg', `msg-${side}`];
  if (mine) classes.push('msg-mine');
  if (message.kind === 'whisper') classes.push('msg-whisper');
  if (continued) classes.push('msg-cont');
  return h('div', { class: classes.join(' '), data: { seq: String(message.seq), kind: message.kind, testid: 'message' } },
    h('div', { class: 'msg-meta' },
      bidi(authorName, 'msg-author', 'message-author'),
      message.kind === 'whisper' ? h('span', { class: 'tag tag-note', text: t('msg_internal_note'), data: { testid: 'message-internal' } }) : null,
      timeEl(created, fmtClock(created), 'msg-time')),
    h('div', { class: 'bubble', text: message.text, attrs: { dir: 'auto', title: created ? fmtDateTime(created) : undefined }, data: { testid: 'message-text' } }));
}

// Small DOM and formatting helpers. Nothing here ever parses HTML: text goes in through
// textContent only, so whatever a visitor typed is shown literally.

/**
 * Creates an element. `props`: class, text, id, attrs (setAttribute), data (dataset),
 * on (event listeners), hidden. Children: nodes or strings (strings become text nodes).
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'attrs') for (const [name, v] of Object.entries(value)) { if (v !== undefined && v !== null && v !== false) node.setAttribute(name, String(v)); }
    else if (key === 'data') Object.assign(node.dataset, value);
    else if (key === 'on') for (const [name, fn] of Object.entries(value)) node.addEventListener(name, fn);
    else if (key === 'hidden') node.hidden = true;
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/**
 * Text in its own bidi island (names, previews): a <bdi dir="auto"> inside a span, so the
 * text keeps its own direction and cannot reorder the UI around it, while the box still
 * lines up with the interface (an Arabic name is not pushed to the far right of a row).
 */
export function bidi(text, className, testid) {
  return h('span', { class: className, data: testid ? { testid } : undefined }, h('bdi', { text, attrs: { dir: 'auto' } }));
}

const clockFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const shortDayFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

export function parseTime(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export const fmtClock = (date) => (date ? clockFormat.format(date) : '');
export const fmtDay = (date) => (date ? dayFormat.format(date) : '');
export const fmtDateTime = (date) => (date ? dateTimeFormat.format(date) : '');
export const fmtFull = (date) => (date ? fullFormat.format(date) : '');

/** "14:05" today, "3 Dec" another day. */
export function fmtShort(date) {
  if (!date) return '';
  return sameDay(date, new Date()) ? clockFormat.format(date) : shortDayFormat.format(date);
}

export function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** A <time> element with the ISO value, a short label and the full date as tooltip. */
export function timeEl(date, label, className = 'time') {
  return h('time', {
    class: className,
    text: label,
    attrs: { datetime: date ? date.toISOString() : undefined, title: date ? fmtFull(date) : undefined },
  });
}

/** Elapsed time as m:ss or h:mm:ss. */
export function fmtElapsed(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

const segmenter = typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;

function firstGrapheme(word) {
  if (!word) return '';
  if (segmenter) {
    for (const { segment } of segmenter.segment(word)) return segment;
  }
  return Array.from(word)[0] || '';
}

/** Up to two initials (grapheme-safe, so emoji and combining marks survive). */
export function initials(name) {
  const all = String(name || '').trim().split(/\s+/).filter(Boolean);
  // Prefer words that start with a letter or digit ("Dana (demo)" → "D", "דנה 🌷" → "ד").
  const lettered = all.filter((word) => /^[\p{L}\p{N}]/u.test(word));
  const words = lettered.length > 0 ? lettered : all;
  if (words.length === 0) return '?';
  const first = firstGrapheme(words[0]);
  const second = words.length > 1 ? firstGrapheme(words[words.length - 1]) : '';
  return (first + second).toLocaleUpperCase();
}

/** A stable palette index (0..7) for an id. */
export function paletteIndex(id) {
  let hash = 0;
  for (const ch of String(id || '')) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 8;
}

export function avatar(name, id, size = '') {
  return h('span', {
    class: `avatar avatar-c${paletteIndex(id)}${size ? ` avatar-${size}` : ''}`,
    text: initials(name),
    attrs: { 'aria-hidden': 'true' },
  });
}

/** Number of Unicode scalar values, as the server counts text length. */
export const charCount = (text) => {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
};

/** Only http(s) addresses become links; anything else (javascript:, data:) stays text. */
export function safeHttpUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

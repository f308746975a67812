// livehelp operator console. Plain ES modules, no build step, no third-party code.
//
// Safety rule: every string that came from a visitor or the server is put in the page with
// textContent (through dom.js's h()), never as HTML.
//
// Modules: api.js (the one fetch helper: cookie + X-CSRF-Token on POST/PATCH/DELETE,
// ApiError with the server's code), socket.js (operator WebSocket), messages.js (message
// rows), ui.js (page building blocks, toasts, announce()), reset.js (password reset
// page), live.js (Live: supervisor overview, monitor with whisper/join/take over),
// operators.js, sites.js, departments.js (departments + routing settings), audit.js,
// sessions.js (pages), strings.js (every text), dom.js (helpers).
//
// DOM guide for tests (data-testid unless noted):
//   login: login-form, login-email, login-password, login-submit, login-error (also
//     "Too many attempts — try again in N minutes." and "This account is suspended…")
//   password reset (/console/#reset=TOKEN): reset-view > reset-form > reset-password,
//     reset-confirm (each with a <testid>-error), reset-rule-length / reset-rule-match
//     [data-ok], reset-error, reset-submit; reset-done (“Password changed — log in”) >
//     reset-login
//   top bar: nav-chats, nav-history, nav-live (supervisor, admin), nav-operators,
//     nav-sites, nav-departments, nav-audit (admin only; hidden otherwise), notifications-enable,
//     sound-toggle, connection-banner (+ connection-retry); account-button (aria-expanded)
//     > me-name; account-menu (role=menu) > account-role, nav-sessions, logout
//   status: status-toggle (fieldset), radios status-online / status-away (labels
//     label[for=status-online|status-away])
//   queue: queue (ul), queue-count, queue-item[data-conversation-id] > queue-name,
//     queue-department (the department's name; hidden for the general queue),
//     queue-wait, accept (aria-label "Accept chat with NAME, waiting M:SS"; at one's
//     chat limit a toast "You already have as many chats as your limit allows. …")
//   chats: chat-list (role=tablist), chat-tab[data-conversation-id] (role=tab,
//     aria-selected) > chat-tab-name, unread-badge (aria-label "N unread messages")
//   conversation[data-conversation-id] (role=tabpanel) > conversation-name,
//     conversation-state ("Active", "Ended", "Transferred"), conversation-department,
//     monitoring-indicator ("Sam is monitoring", when the tenant shows monitoring),
//     transfer-chat (aria-expanded) > transfer-panel > transfer-target (select: values
//     operator:ID for available colleagues — listed for supervisors/admins only, from the
//     overview — and department:ID), transfer-note, transfer-hint, transfer-error
//     (role=alert: "Choose who gets the chat.", operator_unavailable, …), transfer-cancel,
//     transfer-submit; end-chat, end-chat-confirm, end-chat-cancel, close-chat,
//     message-list (role=log, aria-live=polite), typing-indicator (.is-idle when hidden),
//     composer-internal (checkbox: the box sends a `whisper`, no typing frames), composer,
//     composer-input (textarea#composer-ID), send, ended-notice, transferred-notice
//     ("This chat is now with NAME. …" / "… went back to the queue of DEPT."; the chat
//     is read-only, its tab tagged "Transferred"; it comes back to life if it is ours again).
//     A chat the router assigns (or someone hands us) opens by itself if none is open.
//   messages: message[data-seq][data-kind] (.is-pending until stored) > message-author,
//     message-internal (whispers only: "Internal — visitor can’t see this"),
//     message-text (dir=auto), message-status; system-message[data-seq][data-event]
//     (operator_joined from a transfer/take-over shows the server's "You are now
//     chatting with NAME")
//   visitor panel: visitor-panel > visitor-name, visitor-returning[data-returning],
//     visitor-page, visitor-chat-started, visitor-first-seen, visitor-browser, visitor-os,
//     visitor-device, visitor-ip, visitor-user-agent; visitor-details (visitordetails.js)
//     > visitor-details-name, visitor-details-email, visitor-details-edit
//   history: history-view, history-refresh, history-tag-filter > history-tag-input,
//     history-tag-apply, history-tag-clear; history-list > history-item[data-conversation-id]
//     > history-open, history-name, history-tags > tag-chip[data-tag]; history-more;
//     transcript-back, transcript-title, transcript-download, transcript (same
//     message/system-message rows)
//   operator tools: nav-canned, canned-view (canned.js), composer canned-suggestions;
//     tools-panel in the side panel, conversation-tags in the chat header (notes.js)
//   live (live-view; GET /api/v1/supervisor/overview, re-read after `conversation`
//     frames and every 10 s): live-refresh, live-updated, live-list >
//     live-item[data-conversation-id][data-state][data-department-id] > live-visitor,
//     live-state ("Waiting"/"Active"), live-department ("General" without one),
//     live-operator ("Nobody yet" while waiting), live-duration ("waiting M:SS" /
//     "for M:SS"), live-watch; live-status ("No active chats right now.");
//     live-operators > live-operator-row[data-operator-id][data-connected][data-status] >
//     live-op-name, live-op-connected, live-op-status, live-op-load ("1 / 3", "0 / no limit").
//     monitor[data-conversation-id] > monitor-back, monitor-title, monitor-badge
//     ("Monitoring (read-only)", after joining "Joined — the visitor sees your messages"),
//     monitor-operator, monitor-department, monitor-join, monitor-take-over (+ -confirm,
//     -cancel; then the chat opens in Chats), monitor-log (role=log; same message rows),
//     monitor-typing (.is-idle), monitor-note, monitor-action-error (role=alert),
//     monitor-composer > monitor-composer-input, monitor-send (only after joining: the
//     visitor reads these), monitor-whisper > monitor-whisper-input, monitor-whisper-send
//     (operators only), monitor-ended, monitor-error.
//   operators (operators-view): operator-add; operator-form > operator-form-name,
//     operator-form-email, operator-form-role (select), operator-form-password (each with
//     <testid>-error, aria-invalid), operator-form-error, operator-form-cancel,
//     operator-form-submit; operators-list > operator-row[data-operator-id][data-email]
//     [data-role][data-disabled] > operator-name, operator-email, operator-role-select,
//     operator-status, operator-max-chats (number; empty = the team default, shown as the
//     placeholder "Default (N)"; saved on change/Enter) + operator-max-chats-error,
//     operator-account[data-state=active|disabled|locked],
//     operator-reset-link, operator-disable (+ -confirm, -cancel) or operator-enable (+
//     -confirm, -cancel); reset-link-panel (a row under the operator's) > reset-link-url,
//     reset-link-copy, reset-link-done; operators-status
//   sites (sites-view): site-add; site-form > site-form-name, site-form-origins (one per
//     line), site-form-privacy (each with <testid>-error), site-form-department (select:
//     "" = general queue, else a department id), site-form-tls (checkbox,
//     role=switch; click its label), site-form-error, site-form-cancel, site-form-submit;
//     sites-list > site-card[data-site-id][data-site-key][data-require-tls] (.is-editing
//     while its form is open) > site-name, site-tls, site-edit, site-key, site-origins
//     (li per origin), site-privacy, site-department, site-snippet, site-snippet-copy;
//     sites-status
//   departments (departments-view, admins): routing-form[data-loaded] > routing-general
//     (select manual|least_busy|round_robin), routing-max-chats (empty = no limit) +
//     routing-max-chats-error, routing-show-monitoring (switch), routing-form-error,
//     routing-save; department-add; department-form > department-form-name (+ -error:
//     "A department with this name already exists."), department-form-routing,
//     department-form-members > department-member[data-operator-id] (label > checkbox),
//     department-form-error, department-form-cancel, department-form-submit;
//     departments-list > department-row[data-department-id][data-routing] >
//     department-name, department-routing ("Manual", "Least busy", "Round robin"),
//     department-members, department-edit, department-delete (+ -confirm, -cancel);
//     departments-status
//   audit (audit-view): audit-refresh, audit-list > audit-row[data-action][data-actor-id]
//     > time[datetime], audit-who, audit-action, audit-target (title = raw target);
//     audit-more (Load more, while the API has a next page); audit-status
//   sessions (sessions-view): sessions-logout-all (+ -confirm, -cancel), sessions-list >
//     session-row[data-session-id][data-current] > session-device, session-current
//     ("This device"), session-ip, session-end (other sessions only); sessions-status
//   copy buttons read "Copied" after a successful copy. Confirmations are in the page
//     (no dialogs). Success is announced in announcer (role=status, visually hidden) and
//     the changed row/card glows (.is-flash) for 2 s; errors not tied to a field: toast.
//   toasts: toast. window.livehelpConsole.snapshot() gives view, role, connection, status,
//     queue ids, chats (id, lastSeq, seqs, unread, ended) and the outbox size.

import { t } from './strings.js';
import { OperatorSocket, newClientMsgId } from './socket.js';
import {
  api, checkSession, login as apiLogin, logout as apiLogout, onAuthLost as onApiAuthLost,
  serverNow, setCsrfToken, enc,
} from './api.js';
import {
  h, $, $$, bidi, parseTime, fmtClock, fmtDateTime, fmtShort, sameDay, timeEl,
  fmtElapsed, avatar, charCount, safeHttpUrl,
} from './dom.js';
import { renderMessageRow, dayDivider, systemText, visitorName, isAnonymous, shortId } from './messages.js';
import { toast, announce, errorText as apiErrorText, retryText, roleLabel } from './ui.js';
import { resetTokenFromHash, showResetPage } from './reset.js';
import { createHistory } from './history.js';
import { createLivePage } from './live.js';
import { createOperatorsPage } from './operators.js';
import { createSitesPage } from './sites.js';
import { createAuditPage } from './audit.js';
import { createSurveysPage } from './surveys.js';
import { createReportsPage } from './reports.js';
import { createSessionsPage } from './sessions.js';
import { createDepartmentsPage } from './departments.js';
import { attachCannedComposer, createCannedPage, loadCanned } from './canned.js';
import { createToolsPanel } from './notes.js';
import { createTicketsPage } from './tickets.js';
import { visitorDetailsSection } from './visitordetails.js';

const MAX_TEXT = 10_000;
const TYPING_THROTTLE_MS = 3_000;
const TYPING_IDLE_MS = 4_000;
const VISITOR_TYPING_TIMEOUT_MS = 8_000;
const VISITOR_INFO_REFRESH_MS = 20_000;

/**
 * The views of the center column. `roles`: who sees it (everyone when absent); `wide`:
 * pages that use the visitor panel's room too. The server refuses the rest anyway
 * (`role_required`); hiding is for clarity, not for security.
 */
const VIEWS = {
  chats: {},
  history: {},
  live: { roles: ['supervisor', 'admin'] },
  operators: { roles: ['admin'], wide: true },
  sites: { roles: ['admin'], wide: true },
  departments: { roles: ['admin'], wide: true },
  audit: { roles: ['admin'], wide: true },
  surveys: { roles: ['supervisor', 'admin'], wide: true },
  reports: { roles: ['supervisor', 'admin'], wide: true },
  sessions: { wide: true },
  canned: { wide: true },
  tickets: { wide: true },
};
const PAGE_FACTORIES = {
  live: createLivePage,
  operators: createOperatorsPage,
  sites: createSitesPage,
  departments: createDepartmentsPage,
  audit: createAuditPage,
  surveys: createSurveysPage,
  reports: createReportsPage,
  sessions: createSessionsPage,
  canned: createCannedPage,
  tickets: createTicketsPage,
};

const state = {
  me: null, // {operator_id, tenant_id, display_name, role}
  status: 'online',
  desiredStatus: null,
  connection: 'connecting',
  queue: new Map(), // conversation id → ConversationDto (queued), oldest first
  seenRequests: new Set(),
  queueLoaded: false,
  chats: new Map(), // conversation id → Chat
  selected: null,
  view: 'chats',
  soundOn: true,
  reliable: new Map(), // client_msg_id → {kind, conversationId, text}
  acceptsPending: new Map(), // conversation id → client_msg_id
  visitorInfo: new Map(), // conversation id → {data, at, error}
  departments: new Map(), // department id → DepartmentDto (names for labels, transfer targets)
  departmentsAt: 0,
  openWhenOwned: null, // conversation id to open in Chats once it is ours (after a take-over)
};

/** Page modules (live, operators, sites, audit, sessions), created on first visit. */
const pages = {};
/** The History view (history.js), created by wire(). */
let historyView = null;
/** Notes and tags next to the chat (notes.js), created by wire(). */
let toolsPanel = null;

let socket = null;
let audioCtx = null;

// ---------------------------------------------------------------------------------------
// Boot, login, logout

function applyStrings() {
  document.title = t('app_title');
  for (const node of $$('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of $$('[data-i18n-label]')) node.setAttribute('aria-label', t(node.dataset.i18nLabel));
}

async function boot() {
  applyStrings();
  try {
    state.soundOn = localStorage.getItem('lh_console_sound') !== 'off';
  } catch { /* storage blocked: keep the default */ }
  // /console/#reset=TOKEN: the password reset page, whoever is signed in here.
  const resetToken = resetTokenFromHash();
  if (resetToken !== null) {
    showResetPage(resetToken, { onLogin: () => showLogin('') });
    return;
  }
  let session;
  try {
    session = await checkSession();
  } catch {
    showLogin(t('login_unreachable'));
    return;
  }
  if (session && session.authenticated) {
    startApp(session.operator);
  } else {
    showLogin('');
  }
}

function showLogin(message = '') {
  document.body.classList.remove('is-booting');
  closeAccountMenu(false);
  $('#boot').hidden = true;
  $('#app').hidden = true;
  $('#reset-view').hidden = true;
  $('#login-view').hidden = false;
  document.title = t('app_title');
  const error = $('#login-error');
  error.textContent = message;
  const submit = $('#login-submit');
  submit.disabled = false;
  submit.textContent = t('login_submit');
  $('#login-password').value = '';
  const email = $('#login-email');
  (email.value ? $('#login-password') : email).focus();
}

async function onLoginSubmit(event) {
  event.preventDefault();
  const email = $('#login-email').value.trim();
  const password = $('#login-password').value;
  const error = $('#login-error');
  if (!email || !password) {
    error.textContent = t('login_missing');
    (email ? $('#login-password') : $('#login-email')).focus();
    return;
  }
  const submit = $('#login-submit');
  submit.disabled = true;
  submit.textContent = t('login_submitting');
  error.textContent = '';
  let me;
  try {
    me = await apiLogin(email, password);
  } catch (failure) {
    submit.disabled = false;
    submit.textContent = t('login_submit');
    error.textContent = loginErrorText(failure);
    $('#login-password').select();
    $('#login-password').focus();
    return;
  }
  if (state.me && state.me.operator_id !== me.operator_id) {
    // Another person signed in on this page: start from a clean slate so nothing of
    // the previous operator's chats stays on screen.
    location.reload();
    return;
  }
  startApp(me);
}

function loginErrorText(failure) {
  switch (failure.code) {
    case 'invalid_credentials':
    case 'unauthorized':
      return t('login_failed');
    case 'rate_limited':
      return retryText(failure.retryAfter);
    case 'tenant_suspended':
      return t('login_suspended');
    case 'network':
      return t('login_unreachable');
    default:
      return t('login_error', { message: apiErrorText(failure) || failure.status });
  }
}

async function logout() {
  closeAccountMenu(false);
  if (socket) socket.stop();
  try {
    await apiLogout();
  } catch { /* the page reloads anyway and shows whatever the session really is */ }
  location.reload();
}

function onAuthLost(message = t('login_expired')) {
  if (!$('#login-view').hidden) return; // already asked to sign in
  // Keep unsent frames: if the same operator signs in again they are sent then.
  state.pendingOutbox = socket ? socket.outbox : [];
  if (socket) socket.stop();
  socket = null;
  setCsrfToken('');
  showLogin(message);
}

/** After "Log out everywhere": every session is gone, this one included. */
function signedOutEverywhere() {
  if (socket) socket.stop();
  socket = null;
  state.pendingOutbox = [];
  showLogin(t('login_signed_out_everywhere'));
}

function startApp(me) {
  const resuming = state.me && state.me.operator_id === me.operator_id;
  state.me = me;
  document.body.classList.remove('is-booting');
  $('#boot').hidden = true;
  $('#login-view').hidden = true;
  $('#app').hidden = false;
  if (me.csrf_token) setCsrfToken(me.csrf_token);
  $('#me-name').textContent = me.display_name;
  $('#me-name').setAttribute('title', t('signed_in_as', { name: me.display_name }));
  $('#account-button').setAttribute('aria-label', t('account_menu_label', { name: me.display_name }));
  const meAvatar = avatar(me.display_name, me.operator_id, 'sm');
  $('#me-avatar').replaceWith(Object.assign(meAvatar, { id: 'me-avatar' }));
  applyRole();
  renderStatus();
  renderNotifyControls();
  renderSound();
  if (!resuming) {
    renderQueue();
    renderChatList();
    renderVisitorPanel();
  }
  loadDepartments();
  loadCanned(true);
  socket = new OperatorSocket({ onFrame, onReady, onState, onAuthLost });
  if (resuming) socket.outbox = state.pendingOutbox || [];
  socket.start();
  if (!resuming || !viewAllowed(state.view)) setView('chats', { focus: false });
  else if (pages[state.view]) pages[state.view].show();
}

// ---------------------------------------------------------------------------------------
// Roles and the account menu

const viewAllowed = (view) => !!VIEWS[view] && (!VIEWS[view].roles || VIEWS[view].roles.includes(state.me && state.me.role));

function applyRole() {
  const role = state.me && state.me.role;
  for (const link of $$('#main-nav [data-roles]')) link.hidden = !link.dataset.roles.split(' ').includes(role);
  $('#account-role').textContent = t('account_role', { role: roleLabel(role) });
  document.body.dataset.role = role || '';
}

/** The server said `role_required`: our role changed meanwhile. Re-read it. */
async function refreshRole() {
  let session;
  try {
    session = await checkSession();
  } catch {
    return;
  }
  if (!session || !session.authenticated) {
    onAuthLost();
    return;
  }
  state.me = { ...state.me, ...session.operator };
  applyRole();
  if (!viewAllowed(state.view)) {
    setView('chats', { focus: false });
    toast(t('err_role_required'));
  }
}

function openAccountMenu(focusItem = 'first') {
  const menu = $('#account-menu');
  menu.hidden = false;
  $('#account-button').setAttribute('aria-expanded', 'true');
  const items = $$('.menu-item', menu);
  (focusItem === 'last' ? items[items.length - 1] : items[0]).focus();
}

function closeAccountMenu(refocus) {
  const menu = $('#account-menu');
  if (!menu || menu.hidden) return;
  menu.hidden = true;
  $('#account-button').setAttribute('aria-expanded', 'false');
  if (refocus) $('#account-button').focus();
}

function onAccountMenuKeydown(event) {
  const items = $$('#account-menu .menu-item');
  const index = items.indexOf(document.activeElement);
  let next = null;
  if (event.key === 'ArrowDown') next = items[(index + 1) % items.length];
  else if (event.key === 'ArrowUp') next = items[(index - 1 + items.length) % items.length];
  else if (event.key === 'Home') next = items[0];
  else if (event.key === 'End') next = items[items.length - 1];
  else if (event.key === 'Escape') {
    event.preventDefault();
    closeAccountMenu(true);
    return;
  } else if (event.key === 'Tab') {
    closeAccountMenu(false);
    return;
  }
  if (next) {
    event.preventDefault();
    next.focus();
  }
}

function pageContext() {
  return {
    me: () => state.me,
    socket: () => socket,
    openOwnChat: (id) => {
      if (!state.chats.has(id)) return false;
      setView('chats', { focus: false });
      selectChat(id, { focusComposer: true });
      return true;
    },
    /** Opens the conversation in Chats as soon as it is ours (a take-over's frames may come in any order). */
    openWhenOwned: (id) => { state.openWhenOwned = id; },
    /** Sends a reliable frame; resolves with its `ack`, rejects with its `error` frame. */
    sendReliable: (frame) => sendReliableFrame(frame),
    departments: () => state.departments,
    refreshDepartments: () => loadDepartments({ force: true }),
    onPanelChange: () => renderVisitorPanel(),
    onRoleRequired: () => refreshRole(),
    onLoggedOutEverywhere: () => signedOutEverywhere(),
  };
}

function ensurePage(view) {
  if (!pages[view]) pages[view] = PAGE_FACTORIES[view]($(`#${view}-view`), pageContext());
  return pages[view];
}

// ---------------------------------------------------------------------------------------
// Connection state

function onState({ state: connection, retryAt, pending }) {
  state.connection = connection;
  const banner = $('#conn-banner');
  const text = $('#conn-text');
  clearInterval(onState.timer);
  if (connection === 'online') {
    if (!banner.hidden && banner.dataset.kind === 'lost') {
      banner.dataset.kind = 'restored';
      text.textContent = t('conn_restored');
      $('#conn-pending').textContent = '';
      $('#conn-retry').hidden = true;
      clearTimeout(onState.hideTimer);
      onState.hideTimer = setTimeout(() => { banner.hidden = true; }, 2_500);
    }
  } else if (connection === 'offline' || (connection === 'connecting' && banner.dataset.kind === 'lost')) {
    clearTimeout(onState.hideTimer);
    banner.hidden = false;
    banner.dataset.kind = 'lost';
    $('#conn-retry').hidden = false;
    const tick = () => {
      const seconds = Math.ceil((retryAt - Date.now()) / 1000);
      text.textContent = connection === 'offline' && seconds > 0 ? t('conn_lost', { seconds }) : t('conn_retrying');
    };
    tick();
    if (connection === 'offline') onState.timer = setInterval(tick, 1_000);
    $('#conn-pending').textContent = pending > 0 ? t('conn_pending', { count: pending }) : '';
  }
  document.body.classList.toggle('is-offline', connection !== 'online');
  renderStatus();
  for (const chat of state.chats.values()) refreshPendingLabels(chat);
}

// ---------------------------------------------------------------------------------------
// Frames

function onReady(hello) {
  // Follow every conversation we show, from the last seq we saw (0 = everything).
  for (const conversation of hello.conversations || []) {
    const chat = ensureChat(conversation);
    if (chat.transferred) reviveChat(chat, { resume: false }); // the loop below resumes it
  }
  for (const chat of state.chats.values()) {
    if ((chat.ended && chat.loaded) || chat.transferred) continue;
    chat.loaded = false;
    socket.sendVolatile({ type: 'resume', conversation_id: chat.id, after_seq: chat.lastSeq });
  }
  // After a page load, open the first chat so the operator sees where they left off.
  if (!state.selected && state.view === 'chats') {
    const first = [...state.chats.values()].find((chat) => !chat.ended);
    if (first) selectChat(first.id, { focusComposer: false });
  }
  if (state.desiredStatus && state.desiredStatus !== state.status) {
    socket.sendVolatile({ type: 'set_status', status: state.desiredStatus });
  }
  if (pages.live) pages.live.onReady();
}

function onFrame(frame) {
  switch (frame.type) {
    case 'hello':
      if (frame.status === 'online' || frame.status === 'away') state.status = frame.status;
      if (frame.you && frame.you.name) $('#me-name').textContent = frame.you.name;
      renderStatus();
      break;
    case 'queue':
      onQueue(frame.conversations || []);
      break;
    case 'conversation':
      if (frame.conversation) {
        if (pages.live) pages.live.onConversation(frame.conversation);
        onConversation(frame.conversation);
      }
      break;
    case 'message':
      if (frame.message) onMessage(frame.message);
      break;
    case 'ack':
      onAck(frame);
      break;
    case 'error':
      onError(frame);
      break;
    case 'typing':
      onTyping(frame);
      break;
    case 'resumed': {
      const chat = state.chats.get(frame.conversation_id);
      if (chat) {
        chat.loaded = true;
        chat.everLoaded = true;
        chat.els.pane.classList.remove('is-loading');
        chat.els.log.setAttribute('aria-busy', 'false');
      } else if (pages.live) {
        pages.live.onResumed(frame);
      }
      break;
    }
    case 'monitoring':
      onMonitoring(frame);
      break;
    case 'status':
      if (frame.status === 'online' || frame.status === 'away') {
        state.status = frame.status;
        if (state.desiredStatus === frame.status) state.desiredStatus = null;
        renderStatus();
      }
      break;
    default:
      break;
  }
}

function onQueue(conversations) {
  const initial = !state.queueLoaded;
  state.queueLoaded = true;
  state.queue = new Map();
  for (const conversation of conversations) {
    if (conversation.state !== 'queued') continue;
    state.queue.set(conversation.id, conversation);
    if (!state.seenRequests.has(conversation.id)) {
      state.seenRequests.add(conversation.id);
      if (!initial) announceRequest(conversation);
    }
  }
  renderQueue();
}

function onConversation(conversation) {
  const { id } = conversation;
  if (conversation.state === 'queued') {
    // One of our chats back in a queue: transferred to a department (or requeued).
    const own = state.chats.get(id);
    if (own && !own.ended) {
      updateChatConversation(own, conversation);
      markTransferred(own, { departmentId: conversation.department_id || null });
    }
    const isNew = !state.queue.has(id);
    state.queue.set(id, conversation);
    if (isNew) sortQueue();
    if (!state.seenRequests.has(id)) {
      state.seenRequests.add(id);
      announceRequest(conversation);
    }
    renderQueue();
    return;
  }
  if (state.queue.delete(id)) renderQueue();
  const chat = state.chats.get(id);
  if (conversation.state === 'active' && state.me && conversation.operator_id === state.me.operator_id) {
    if (!chat) {
      // Accepted here (the accept's ack will follow) or in another tab of ours (follow it).
      const created = ensureChat(conversation);
      if (!state.acceptsPending.has(id)) {
        socket.sendVolatile({ type: 'resume', conversation_id: id, after_seq: 0 });
      }
      if (state.acceptsPending.has(id)) selectChat(created.id, { focusComposer: true });
      // Assigned by the router or handed to us: show it if nothing else is open.
      else if (!state.selected && state.view === 'chats') selectChat(created.id, { focusComposer: false });
    } else {
      updateChatConversation(chat, conversation);
      if (chat.transferred) reviveChat(chat);
    }
    if (state.openWhenOwned === id) {
      state.openWhenOwned = null;
      setView('chats', { focus: false });
      selectChat(id, { focusComposer: true });
    }
    return;
  }
  if (chat) {
    updateChatConversation(chat, conversation);
    if (conversation.state === 'ended') markEnded(chat);
    else if (conversation.state === 'active' && !chat.ended) {
      // Someone else owns it now: transferred, taken over or reassigned.
      markTransferred(chat, { operatorName: conversation.operator_name || t('operator_fallback') });
    }
  }
}

function onMonitoring(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat || !frame.supervisor) return;
  if (frame.watching) chat.monitors.set(frame.supervisor.id, frame.supervisor.name || t('operator_fallback'));
  else chat.monitors.delete(frame.supervisor.id);
  renderMonitoring(chat);
}

function renderMonitoring(chat) {
  const names = [...chat.monitors.values()];
  const { monitorTag, monitorText } = chat.els;
  monitorTag.hidden = names.length === 0 || chat.ended;
  monitorText.textContent = names.length ? t('monitoring', { count: names.length, names: listFormat.format(names) }) : '';
}

const listFormat = new Intl.ListFormat('en', { style: 'long', type: 'conjunction' });

/** A reliable frame for a page module (Live's whisper and barge): a promise of the ack. */
function sendReliableFrame(frame) {
  return new Promise((resolve, reject) => {
    if (!socket) {
      reject({ code: 'unavailable' });
      return;
    }
    const clientMsgId = newClientMsgId();
    state.reliable.set(clientMsgId, { kind: 'callback', resolve, reject });
    socket.sendReliable({ ...frame, client_msg_id: clientMsgId });
  });
}

// ---------------------------------------------------------------------------------------
// Departments: names for queue entries and chat headers, targets for transfers

let departmentsLoading = null;

function loadDepartments({ force = false } = {}) {
  if (departmentsLoading && !force) return departmentsLoading;
  const job = api('/api/v1/departments').then((body) => {
    state.departments = new Map((body.departments || []).map((department) => [department.id, department]));
    state.departmentsAt = Date.now();
    renderQueue();
    for (const chat of state.chats.values()) renderChatHeader(chat);
  }).catch(() => { state.departmentsAt = Date.now(); }).finally(() => {
    if (departmentsLoading === job) departmentsLoading = null;
  });
  departmentsLoading = job;
  return job;
}

/** The department's name, or null (general queue, or not known: then re-read, at most every 5 s). */
function departmentName(id) {
  if (!id) return null;
  const department = state.departments.get(id);
  if (!department && Date.now() - state.departmentsAt > 5_000 && !departmentsLoading) loadDepartments();
  return department ? department.name : null;
}

function onAck(frame) {
  const pending = state.reliable.get(frame.client_msg_id);
  if (!pending) return;
  state.reliable.delete(frame.client_msg_id);
  if (pending.kind === 'callback') {
    pending.resolve(frame);
    return;
  }
  if (pending.kind === 'accept') {
    state.acceptsPending.delete(pending.conversationId);
    const queued = state.queue.get(pending.conversationId);
    state.queue.delete(pending.conversationId);
    renderQueue();
    let chat = state.chats.get(pending.conversationId);
    if (!chat) {
      const base = queued || { id: pending.conversationId, visitor: { id: '', name: null }, created_at: new Date().toISOString() };
      chat = ensureChat({ ...base, state: 'active', operator_id: state.me.operator_id });
    } else if (chat.transferred) {
      reviveChat(chat);
    }
    if (state.selected !== chat.id || state.view !== 'chats') {
      setView('chats', { focus: false });
      selectChat(chat.id, { focusComposer: true });
    }
  } else if (pending.kind === 'send') {
    const chat = state.chats.get(pending.conversationId);
    const bubble = chat && chat.pending.get(frame.client_msg_id);
    if (bubble) {
      bubble.dataset.state = 'acked';
      bubble.dataset.seq = String(frame.seq);
      setPendingLabel(bubble, '');
    }
  } else if (pending.kind === 'end') {
    const chat = state.chats.get(pending.conversationId);
    if (chat) markEnded(chat);
  } else if (pending.kind === 'transfer') {
    const chat = state.chats.get(pending.conversationId);
    if (!chat) return;
    closeTransfer(chat, false);
    const { target } = pending;
    const visitor = visitorName(chat.conv);
    if (target.kind === 'operator') {
      markTransferred(chat, { operatorName: target.name });
      announce(t('transfer_done_operator', { visitor, name: target.name }));
    } else {
      markTransferred(chat, { departmentId: target.id });
      announce(t('transfer_done_department', { visitor, name: target.name }));
    }
  }
}

function onError(frame) {
  const pending = frame.client_msg_id ? state.reliable.get(frame.client_msg_id) : null;
  if (!pending) {
    // Errors without a pending frame come from volatile frames (typing, resume,
    // set_status on an older server), or from the Live monitor's resume.
    if (frame.code === 'unauthorized' && socket) onAuthLost();
    else if (pages.live) pages.live.onError(frame);
    return;
  }
  state.reliable.delete(frame.client_msg_id);
  if (pending.kind === 'callback') {
    if (frame.code === 'role_required') refreshRole();
    pending.reject(frame);
    return;
  }
  const chat = state.chats.get(pending.conversationId);
  if (pending.kind === 'accept') {
    state.acceptsPending.delete(pending.conversationId);
    if (frame.code === 'chat_limit_reached') {
      toast(t('toast_chat_limit'));
    } else if (frame.code === 'already_assigned' || frame.code === 'conversation_ended' || frame.code === 'conversation_not_found') {
      state.queue.delete(pending.conversationId);
      toast(frame.code === 'already_assigned' ? t('toast_already_assigned') : t('toast_conversation_ended'));
    } else {
      toast(t('toast_error', { message: errorText(frame) }));
    }
    renderQueue();
  } else if (pending.kind === 'send') {
    const bubble = chat && chat.pending.get(frame.client_msg_id);
    if (bubble) markFailed(chat, bubble, pending, errorText(frame));
    if (chat && frame.code === 'conversation_ended') markEnded(chat);
  } else if (pending.kind === 'end') {
    if (chat) {
      chat.els.endBtn.disabled = false;
      if (frame.code === 'conversation_ended') markEnded(chat);
      else toast(t('toast_error', { message: errorText(frame) }));
    }
  } else if (pending.kind === 'transfer') {
    if (!chat) return;
    chat.els.transferSubmit.disabled = false;
    chat.els.transferSubmit.textContent = t('transfer_submit');
    chat.els.transferError.textContent = errorText(frame);
    if (frame.code === 'conversation_ended') markEnded(chat);
    else chat.els.transferSelect.focus();
  }
}

function errorText(frame) {
  switch (frame.code) {
    case 'text_too_long':
    case 'frame_too_large':
      return t('err_text_too_long');
    case 'text_invalid':
      return t('err_text_invalid');
    case 'rate_limited':
      return t('err_rate_limited');
    case 'unavailable':
      return t('err_unavailable');
    case 'conversation_ended':
      return t('toast_conversation_ended');
    case 'operator_unavailable':
      return t('err_operator_unavailable');
    case 'chat_limit_reached':
      return t('err_chat_limit_reached');
    case 'not_assigned_to_you':
      return t('err_not_assigned_to_you');
    case 'role_required':
      return t('err_role_required');
    default:
      return frame.message || frame.code || '';
  }
}

function onTyping(frame) {
  const chat = state.chats.get(frame.conversation_id);
  if (!chat && pages.live) pages.live.onTyping(frame);
  if (!chat || !frame.author || frame.author.kind !== 'visitor') return;
  setVisitorTyping(chat, !!frame.is_typing);
}

// ---------------------------------------------------------------------------------------
// Queue

function sortQueue() {
  const entries = [...state.queue.values()].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
  state.queue = new Map(entries.map((c) => [c.id, c]));
}

function renderQueue() {
  const list = $('#queue');
  const keep = new Set(state.queue.keys());
  for (const item of $$('.queue-item', list)) {
    if (!keep.has(item.dataset.conversationId)) item.remove();
  }
  let previous = null;
  for (const conversation of state.queue.values()) {
    let item = list.querySelector(`.queue-item[data-conversation-id="${CSS.escape(conversation.id)}"]`);
    if (!item) item = buildQueueItem(conversation);
    const accepting = state.acceptsPending.has(conversation.id);
    const button = item.querySelector('.queue-accept');
    const department = departmentName(conversation.department_id);
    const label = item.querySelector('.queue-department');
    label.hidden = !department;
    label.textContent = department || '';
    label.title = department ? t('queue_department_label', { name: department }) : '';
    button.disabled = accepting;
    button.textContent = accepting ? t('queue_accepting') : t('queue_accept');
    if (previous ? previous.nextSibling !== item : list.firstChild !== item) {
      if (previous) previous.after(item);
      else list.prepend(item);
    }
    previous = item;
  }
  const count = state.queue.size;
  $('#queue-count').textContent = String(count);
  $('#queue-empty').hidden = count > 0;
  list.hidden = count === 0;
  tickWaits();
  updateTitle();
}

function buildQueueItem(conversation) {
  const name = visitorName(conversation);
  const button = h('button', {
    type: 'button',
    class: 'btn btn-primary btn-sm queue-accept',
    text: t('queue_accept'),
    data: { testid: 'accept' },
    on: { click: () => accept(conversation.id) },
  });
  return h('li', { class: 'queue-item', data: { conversationId: conversation.id, testid: 'queue-item' } },
    avatar(name, conversation.visitor && conversation.visitor.id, 'sm'),
    h('span', { class: 'queue-main' },
      h('span', { class: 'queue-name-line' },
        Object.assign(bidi(name, 'queue-name', 'queue-name'), { title: name }),
        isAnonymous(conversation) ? h('span', { class: 'anon-tag', text: shortId(conversation.visitor && conversation.visitor.id) }) : null,
        h('span', { class: 'tag tag-dept queue-department', data: { testid: 'queue-department' }, hidden: true })),
      h('span', { class: 'queue-wait', data: { testid: 'queue-wait' } },
        h('span', { class: 'icon icon-clock', attrs: { 'aria-hidden': 'true' } }),
        h('span', { class: 'queue-wait-text' }))),
    button);
}

function tickWaits() {
  const now = serverNow();
  for (const item of $$('#queue .queue-item')) {
    const conversation = state.queue.get(item.dataset.conversationId);
    if (!conversation) continue;
    const waitedMs = now - Date.parse(conversation.created_at);
    const waited = fmtElapsed(waitedMs);
    item.querySelector('.queue-wait-text').textContent = t('queue_waiting', { time: waited });
    item.dataset.urgency = waitedMs > 180_000 ? 'high' : waitedMs > 60_000 ? 'medium' : 'low';
    const button = item.querySelector('.queue-accept');
    button.setAttribute('aria-label', t('queue_accept_label', { name: visitorName(conversation), time: waited }));
  }
}

function accept(conversationId) {
  if (state.acceptsPending.has(conversationId)) return;
  unlockAudio();
  const clientMsgId = newClientMsgId();
  state.acceptsPending.set(conversationId, clientMsgId);
  state.reliable.set(clientMsgId, { kind: 'accept', conversationId });
  socket.sendReliable({ type: 'accept', client_msg_id: clientMsgId, conversation_id: conversationId });
  renderQueue();
}

// ---------------------------------------------------------------------------------------
// Notifications and sound

function announceRequest(conversation) {
  if (state.soundOn) playChime();
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  if (!document.hidden && document.hasFocus()) return;
  try {
    const notification = new Notification(t('notify_title'), {
      body: t('notify_body', { name: visitorName(conversation) }),
      tag: `livehelp-request-${conversation.id}`,
    });
    document.body.dataset.lastNotification = conversation.id;
    notification.onclick = () => {
      window.focus();
      setView('chats', { focus: false });
      const button = $(`#queue .queue-item[data-conversation-id="${CSS.escape(conversation.id)}"] .queue-accept`);
      if (button) button.focus();
      notification.close();
    };
  } catch { /* some browsers only allow notifications from a service worker */ }
}

function unlockAudio() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  if (!audioCtx) {
    try { audioCtx = new Ctx(); } catch { return; }
  }
  if (audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
}

/** A short two-note chime made with an oscillator: no audio file needed. */
function playChime() {
  unlockAudio();
  if (!audioCtx || audioCtx.state !== 'running') return;
  const start = audioCtx.currentTime + 0.01;
  [[880, 0], [1318.5, 0.14]].forEach(([frequency, offset]) => {
    const osc = audioCtx.createOscillator();
    const gain = audioCtx.createGain();
    osc.type = 'sine';
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.18, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.32);
    osc.connect(gain).connect(audioCtx.destination);
    osc.start(start + offset);
    osc.stop(start + offset + 0.35);
  });
  document.body.dataset.lastChime = String(Date.now());
}

function renderNotifyControls() {
  const button = $('#notify-enable');
  const note = $('#notify-state');
  if (!('Notification' in window)) {
    button.hidden = true;
    note.hidden = true;
    return;
  }
  const permission = Notification.permission;
  button.hidden = permission !== 'default';
  note.hidden = permission !== 'denied';
  note.textContent = permission === 'denied' ? t('notifications_denied') : '';
  button.title = permission === 'granted' ? t('notifications_enabled') : '';
}

async function enableNotifications() {
  unlockAudio();
  try {
    await Notification.requestPermission();
  } catch { /* old callback-style API: ignore */ }
  renderNotifyControls();
  const next = $('#sound-toggle');
  if (document.activeElement === document.body || $('#notify-enable').hidden) next.focus();
}

function renderSound() {
  const button = $('#sound-toggle');
  button.setAttribute('aria-pressed', String(state.soundOn));
  button.title = state.soundOn ? t('sound_on') : t('sound_off');
  button.classList.toggle('is-muted', !state.soundOn);
}

function toggleSound() {
  state.soundOn = !state.soundOn;
  try { localStorage.setItem('lh_console_sound', state.soundOn ? 'on' : 'off'); } catch { /* ignore */ }
  if (state.soundOn) {
    unlockAudio();
    playChime();
  }
  renderSound();
}

// ---------------------------------------------------------------------------------------
// Status

function renderStatus() {
  const status = state.desiredStatus || state.status;
  const radio = $(`#status-${status}`);
  if (radio && !radio.checked) radio.checked = true;
  $('#status-hint').textContent = status === 'online' ? t('status_online_hint') : t('status_away_hint');
  const shown = state.connection === 'online' ? status : 'offline';
  $('#me-status').dataset.status = shown;
  $('#me-status-text').textContent = state.connection === 'online'
    ? t(status === 'online' ? 'status_online' : 'status_away')
    : t('conn_connecting');
}

function onStatusChange(event) {
  const status = event.target.value;
  if (status !== 'online' && status !== 'away') return;
  state.desiredStatus = status;
  if (socket) socket.sendVolatile({ type: 'set_status', status });
  renderStatus();
}

// ---------------------------------------------------------------------------------------
// Chats

/**
 * @typedef {object} Chat
 * @property {string} id
 * @property {object} conv        latest ConversationDto
 * @property {Set<number>} seqs   seqs already shown (dedupe)
 * @property {number} lastSeq
 */

function ensureChat(conversation) {
  let chat = state.chats.get(conversation.id);
  if (chat) {
    updateChatConversation(chat, conversation);
    return chat;
  }
  chat = {
    id: conversation.id,
    conv: conversation,
    seqs: new Set(),
    lastSeq: 0,
    lastMessage: null,
    lastRendered: null,
    unread: 0,
    ended: conversation.state === 'ended',
    loaded: false,
    pending: new Map(), // client_msg_id → bubble row
    typing: { active: false, lastSent: 0, idle: null },
    visitorTyping: null,
    stickBottom: true,
    confirmOpen: false,
    transferred: false,
    monitors: new Map(), // supervisor id → name, while they watch (tenant setting)
    els: {},
  };
  buildChatPane(chat);
  buildChatTab(chat);
  state.chats.set(chat.id, chat);
  renderChatList();
  if (chat.ended) markEnded(chat);
  toolsPanel.loadTags(chat.id);
  return chat;
}

function updateChatConversation(chat, conversation) {
  const nameBefore = visitorName(chat.conv);
  chat.conv = { ...chat.conv, ...conversation };
  const name = visitorName(chat.conv);
  if (name !== nameBefore) {
    chat.els.tabName.firstChild.textContent = name;
    chat.els.titleText.textContent = name;
  }
  renderChatHeader(chat);
}

function buildChatTab(chat) {
  const name = visitorName(chat.conv);
  const tab = h('div', {
    class: 'chat-item',
    id: `tab-${chat.id}`,
    attrs: { role: 'tab', 'aria-selected': 'false', 'aria-controls': `pane-${chat.id}`, tabindex: '-1' },
    data: { conversationId: chat.id, testid: 'chat-tab' },
  });
  const tabName = bidi(name, 'chat-item-name');
  tabName.dataset.testid = 'chat-tab-name';
  const tabTime = h('span', { class: 'chat-item-time' });
  const previewText = h('bdi', { attrs: { dir: 'auto' }, text: t('chat_no_messages') });
  const preview = h('span', { class: 'chat-item-preview' }, previewText);
  const badge = h('span', { class: 'badge', data: { testid: 'unread-badge' }, hidden: true });
  const endedTag = h('span', { class: 'tag tag-ended', text: t('chat_ended_tag'), hidden: true });
  tab.append(
    h('span', { class: 'avatar-wrap' }, avatar(name, chat.conv.visitor && chat.conv.visitor.id), h('span', { class: 'presence', attrs: { 'aria-hidden': 'true' } })),
    h('span', { class: 'chat-item-main' },
      h('span', { class: 'chat-item-top' }, tabName, tabTime),
      h('span', { class: 'chat-item-bottom' }, preview, endedTag, badge)),
  );
  tab.addEventListener('click', () => selectChat(chat.id, { focusComposer: true }));
  tab.addEventListener('keydown', onTabKeydown);
  chat.els.tab = tab;
  chat.els.tabName = tabName;
  chat.els.tabTime = tabTime;
  chat.els.preview = preview;
  chat.els.previewText = previewText;
  chat.els.badge = badge;
  chat.els.endedTag = endedTag;
}

function onTabKeydown(event) {
  const tabs = $$('#chat-list .chat-item');
  const index = tabs.indexOf(event.currentTarget);
  let next = null;
  if (event.key === 'ArrowDown' || event.key === 'ArrowRight') next = tabs[(index + 1) % tabs.length];
  else if (event.key === 'ArrowUp' || event.key === 'ArrowLeft') next = tabs[(index - 1 + tabs.length) % tabs.length];
  else if (event.key === 'Home') next = tabs[0];
  else if (event.key === 'End') next = tabs[tabs.length - 1];
  else if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    selectChat(event.currentTarget.dataset.conversationId, { focusComposer: true });
    return;
  }
  if (next) {
    event.preventDefault();
    selectChat(next.dataset.conversationId, { focusComposer: false });
    next.focus();
  }
}

function renderChatList() {
  const list = $('#chat-list');
  const chats = [...state.chats.values()];
  // Active chats first (in the order they were accepted), ended ones after.
  chats.sort((a, b) => Number(a.ended) - Number(b.ended));
  chats.forEach((chat, index) => {
    if (list.children[index] !== chat.els.tab) list.insertBefore(chat.els.tab, list.children[index] || null);
  });
  for (const tab of [...list.children]) {
    if (!state.chats.has(tab.dataset.conversationId)) tab.remove();
  }
  const selectedTab = state.selected && state.chats.get(state.selected);
  for (const chat of chats) {
    const selected = chat.id === state.selected;
    chat.els.tab.setAttribute('aria-selected', String(selected));
    chat.els.tab.tabIndex = selected || (!selectedTab && chat === chats[0]) ? 0 : -1;
  }
  const active = chats.filter((c) => !c.ended).length;
  $('#chats-count').textContent = String(active);
  $('#chats-empty').hidden = chats.length > 0;
  list.hidden = chats.length === 0;
  updateTitle();
}

function buildChatPane(chat) {
  const name = visitorName(chat.conv);
  const titleText = h('bdi', { text: name, attrs: { dir: 'auto' } });
  const title = h('h1', { class: 'conv-name', data: { testid: 'conversation-name' } }, titleText);
  const statePill = h('span', { class: 'pill', data: { testid: 'conversation-state' } });
  const started = h('span', { class: 'conv-started' });
  const tagsEl = h('span', { class: 'conv-tags', data: { testid: 'conversation-tags' } });
  const endBtn = h('button', {
    type: 'button', class: 'btn btn-danger-outline btn-sm', text: t('conv_end'), data: { testid: 'end-chat' },
    on: { click: () => openEndConfirm(chat) },
  });
  const confirmYes = h('button', {
    type: 'button', class: 'btn btn-danger btn-sm', text: t('conv_end_confirm'), data: { testid: 'end-chat-confirm' },
    on: { click: () => endChat(chat) },
  });
  const confirmNo = h('button', {
    type: 'button', class: 'btn btn-ghost btn-sm', text: t('conv_end_cancel'), data: { testid: 'end-chat-cancel' },
    on: { click: () => closeEndConfirm(chat, true) },
  });
  const confirm = h('div', { class: 'confirm', attrs: { role: 'group', 'aria-label': t('conv_end_confirm_q') }, hidden: true },
    h('span', { class: 'confirm-q', text: t('conv_end_confirm_q') }), confirmNo, confirmYes);
  confirm.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') closeEndConfirm(chat, true);
  });
  const transferBtn = h('button', {
    type: 'button', class: 'btn btn-secondary btn-sm', text: t('transfer'), data: { testid: 'transfer-chat' },
    attrs: { 'aria-label': t('transfer_label', { name }), 'aria-expanded': 'false' },
    on: { click: () => (chat.els.transferPanel.hidden ? openTransfer(chat) : closeTransfer(chat, true)) },
  });
  const closeBtn = h('button', {
    type: 'button', class: 'btn btn-secondary btn-sm', text: t('chat_close'), data: { testid: 'close-chat' },
    attrs: { 'aria-label': t('chat_close_label', { name }) }, hidden: true,
    on: { click: () => closeChat(chat) },
  });

  const log = h('div', {
    class: 'log',
    attrs: { role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': t('conv_log_label', { name }), tabindex: '0', 'aria-busy': 'true' },
    data: { testid: 'message-list' },
  });
  const jump = h('button', { type: 'button', class: 'jump-latest', text: t('conv_jump_latest'), hidden: true, data: { testid: 'jump-latest' } });
  jump.addEventListener('click', () => { scrollToBottom(chat); log.focus(); });
  log.addEventListener('scroll', () => {
    chat.stickBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    if (chat.stickBottom) jump.hidden = true;
  });

  const typingText = h('span', { class: 'typing-text' });
  const typingEl = h('div', { class: 'typing-indicator', attrs: { role: 'status' }, data: { testid: 'typing-indicator' } },
    h('span', { class: 'typing-dots', attrs: { 'aria-hidden': 'true' } }, h('span'), h('span'), h('span')), typingText);
  typingEl.classList.add('is-idle');

  const inputId = `composer-${chat.id}`;
  const textarea = h('textarea', {
    id: inputId, class: 'composer-input', rows: 1,
    placeholder: t('composer_placeholder'),
    attrs: { 'aria-label': t('composer_label', { name }), maxlength: String(MAX_TEXT * 2), dir: 'auto' },
    data: { testid: 'composer-input' },
  });
  const sendBtn = h('button', { type: 'submit', class: 'btn btn-primary composer-send', data: { testid: 'send' } },
    h('span', { class: 'icon icon-send', attrs: { 'aria-hidden': 'true' } }), h('span', { text: t('composer_send') }));
  const composer = h('form', { class: 'composer', data: { testid: 'composer' }, attrs: { 'aria-label': t('composer_label', { name }) } },
    textarea, sendBtn);
  const hint = h('p', { class: 'composer-hint', id: `composer-hint-${chat.id}`, text: t('composer_hint') });
  textarea.setAttribute('aria-describedby', hint.id);
  composer.addEventListener('submit', (event) => { event.preventDefault(); sendFromComposer(chat); });
  // `/shortcut` + Tab expands a canned response; added first so an expansion is not sent.
  const cannedList = attachCannedComposer(textarea, {
    context: () => ({ visitorName: chat.conv.visitor && chat.conv.visitor.name, operatorName: state.me && state.me.display_name }),
  });
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      sendFromComposer(chat);
    }
  });
  textarea.addEventListener('input', () => { autosize(textarea); onComposerInput(chat); });
  textarea.addEventListener('blur', () => stopTyping(chat));
  const endedNotice = h('p', { class: 'ended-notice', text: t('conv_ended_notice'), hidden: true, data: { testid: 'ended-notice' } });
  const transferredNotice = h('p', { class: 'ended-notice transferred-notice', attrs: { role: 'status' }, hidden: true, data: { testid: 'transferred-notice' } });

  // Internal notes: the same box sends a `whisper` that only operators see.
  const internalBox = h('input', { type: 'checkbox', id: `composer-internal-${chat.id}`, data: { testid: 'composer-internal' } });
  const internalRow = h('div', { class: 'composer-mode' },
    h('label', { class: 'composer-internal', attrs: { for: internalBox.id } },
      internalBox, h('span', { class: 'composer-internal-text', text: t('composer_internal') })),
    h('span', { class: 'composer-internal-hint', text: t('composer_internal_hint') }));
  internalBox.addEventListener('change', () => {
    const internal = internalBox.checked;
    if (internal) stopTyping(chat);
    composer.classList.toggle('is-internal', internal);
    textarea.placeholder = internal ? t('composer_internal_placeholder') : t('composer_placeholder');
    textarea.setAttribute('aria-label', internal ? t('composer_internal_label', { name }) : t('composer_label', { name }));
    textarea.focus();
  });

  const deptTag = h('span', { class: 'tag tag-dept', data: { testid: 'conversation-department' }, hidden: true });
  const monitorText = h('span');
  const monitorTag = h('span', {
    class: 'monitoring-indicator', attrs: { role: 'status', title: t('monitoring_title') }, data: { testid: 'monitoring-indicator' }, hidden: true,
  }, h('span', { class: 'icon icon-eye', attrs: { 'aria-hidden': 'true' } }), monitorText);

  const pane = h('section', {
    class: 'conv-pane is-loading',
    id: `pane-${chat.id}`,
    attrs: { role: 'tabpanel', 'aria-labelledby': `tab-${chat.id}` },
    data: { conversationId: chat.id, testid: 'conversation' },
    hidden: true,
  },
  h('header', { class: 'conv-header' },
    avatar(name, chat.conv.visitor && chat.conv.visitor.id),
    h('div', { class: 'conv-title' }, title, h('p', { class: 'conv-meta' }, statePill, deptTag, started, monitorTag, tagsEl)),
    h('div', { class: 'conv-actions' }, transferBtn, endBtn, confirm, closeBtn)),
  buildTransferPanel(chat),
  h('div', { class: 'log-wrap' }, log, jump),
  h('div', { class: 'composer-area' }, typingEl, internalRow, cannedList, composer, hint, endedNotice, transferredNotice));

  Object.assign(chat.els, {
    pane, title, titleText, statePill, started, tagsEl, endBtn, confirm, confirmYes, closeBtn, log, jump, typingEl, typingText,
    textarea, sendBtn, composer, hint, endedNotice, transferredNotice, transferBtn, internalBox, internalRow, deptTag,
    monitorTag, monitorText,
  });
  $('#conv-panes').append(pane);
  renderChatHeader(chat);
}

function renderChatHeader(chat) {
  const conv = chat.conv;
  const stateName = chat.transferred ? 'transferred' : chat.ended ? 'ended' : conv.state || 'active';
  chat.els.statePill.textContent = t(`conv_state_${stateName}`);
  chat.els.statePill.className = `pill pill-${stateName}`;
  const department = departmentName(conv.department_id);
  chat.els.deptTag.hidden = !department;
  chat.els.deptTag.textContent = department || '';
  chat.els.deptTag.title = department ? t('conv_department_label', { name: department }) : '';
  const created = parseTime(conv.created_at);
  chat.els.started.textContent = created ? t('conv_started', { time: fmtShort(created) }) : '';
  if (created) chat.els.started.title = fmtDateTime(created);
  if (toolsPanel) chat.els.tagsEl.replaceChildren(...toolsPanel.chips(chat.id));
}

function selectChat(id, { focusComposer = false } = {}) {
  const chat = state.chats.get(id);
  if (!chat) return;
  const previous = state.selected && state.chats.get(state.selected);
  if (previous && previous !== chat) {
    previous.els.pane.hidden = true;
    closeEndConfirm(previous, false);
  }
  state.selected = id;
  if (state.view !== 'chats') setView('chats', { focus: false });
  chat.els.pane.hidden = false;
  $('#conv-empty').hidden = true;
  if (chat.stickBottom) scrollToBottom(chat);
  markRead(chat);
  renderChatList();
  renderVisitorPanel();
  if (focusComposer) {
    if (!chat.ended) chat.els.textarea.focus();
    else chat.els.closeBtn.focus();
  }
}

function markRead(chat) {
  if (state.view !== 'chats' || state.selected !== chat.id || document.hidden) return;
  if (chat.unread === 0) return;
  chat.unread = 0;
  renderBadge(chat);
}

function renderBadge(chat) {
  const { badge } = chat.els;
  badge.hidden = chat.unread === 0;
  badge.textContent = chat.unread > 99 ? '99+' : String(chat.unread);
  badge.setAttribute('aria-label', t('chat_unread', { count: chat.unread }));
  chat.els.tab.classList.toggle('has-unread', chat.unread > 0);
  updateTitle();
}

function updateTitle() {
  let unread = 0;
  for (const chat of state.chats.values()) unread += chat.unread;
  const waiting = state.queue.size;
  const prefix = unread + waiting > 0 ? `(${unread + waiting}) ` : '';
  document.title = prefix + t('app_title');
  const navBadge = $('#nav-chats-badge');
  navBadge.hidden = unread === 0 || state.view === 'chats';
  navBadge.textContent = String(unread);
}

function scrollToBottom(chat) {
  const { log, jump } = chat.els;
  log.scrollTop = log.scrollHeight;
  chat.stickBottom = true;
  jump.hidden = true;
}

function closeChat(chat) {
  clearTimeout(chat.visitorTyping);
  chat.els.pane.remove();
  chat.els.tab.remove();
  state.chats.delete(chat.id);
  state.visitorInfo.delete(chat.id);
  if (state.selected === chat.id) {
    state.selected = null;
    const next = [...state.chats.values()][0];
    if (next) selectChat(next.id, { focusComposer: false });
    else $('#conv-empty').hidden = false;
  }
  renderChatList();
  renderVisitorPanel();
  const focusTarget = $('#chat-list .chat-item[tabindex="0"]') || $('#queue .queue-accept') || $('#nav-chats');
  if (focusTarget) focusTarget.focus();
}

function openEndConfirm(chat) {
  chat.els.endBtn.hidden = true;
  chat.els.confirm.hidden = false;
  chat.els.confirmYes.focus();
}

function closeEndConfirm(chat, refocus) {
  if (chat.els.confirm.hidden) return;
  chat.els.confirm.hidden = true;
  if (!chat.ended) chat.els.endBtn.hidden = false;
  if (refocus && !chat.ended) chat.els.endBtn.focus();
}

function endChat(chat) {
  if (chat.ended) return;
  const clientMsgId = newClientMsgId();
  state.reliable.set(clientMsgId, { kind: 'end', conversationId: chat.id });
  stopTyping(chat);
  socket.sendReliable({ type: 'end_chat', client_msg_id: clientMsgId, conversation_id: chat.id });
  chat.els.confirm.hidden = true;
  chat.els.endBtn.hidden = false;
  chat.els.endBtn.disabled = true;
}

function markEnded(chat) {
  if (chat.transferred) return; // no longer ours: its later life is someone else's
  const wasEnded = chat.ended;
  chat.ended = true;
  chat.conv = { ...chat.conv, state: 'ended' };
  setVisitorTyping(chat, false);
  closeTransfer(chat, false);
  chat.els.transferBtn.hidden = true;
  chat.els.internalRow.hidden = true;
  chat.monitors.clear();
  renderMonitoring(chat);
  chat.els.endBtn.hidden = true;
  chat.els.confirm.hidden = true;
  chat.els.closeBtn.hidden = false;
  chat.els.composer.hidden = true;
  chat.els.hint.hidden = true;
  chat.els.endedNotice.hidden = false;
  chat.els.endedTag.hidden = false;
  chat.els.tab.classList.add('is-ended');
  chat.els.pane.classList.add('is-ended');
  renderChatHeader(chat);
  if (!wasEnded) {
    renderChatList();
    if (state.selected === chat.id && document.activeElement === chat.els.textarea) chat.els.closeBtn.focus();
    historyView.markStale();
  }
}

/**
 * The chat is someone else's now (transfer, take-over, reassignment) or back in a queue:
 * read-only here, with a notice saying where it went; Close removes it.
 */
function markTransferred(chat, { operatorName = null, departmentId = null } = {}) {
  const department = departmentId ? departmentName(departmentId) : null;
  chat.els.transferredNotice.textContent = operatorName
    ? t('conv_transferred_to', { name: operatorName })
    : department ? t('conv_transferred_queue', { department }) : t('conv_transferred_general');
  if (chat.transferred) return;
  const focused = chat.els.pane.contains(document.activeElement);
  chat.transferred = true;
  chat.ended = true;
  setVisitorTyping(chat, false);
  stopTyping(chat);
  closeTransfer(chat, false);
  chat.monitors.clear();
  renderMonitoring(chat);
  for (const node of [chat.els.endBtn, chat.els.confirm, chat.els.transferBtn, chat.els.composer, chat.els.hint, chat.els.internalRow, chat.els.endedNotice]) node.hidden = true;
  chat.els.closeBtn.hidden = false;
  chat.els.transferredNotice.hidden = false;
  chat.els.endedTag.textContent = t('chat_transferred_tag');
  chat.els.endedTag.hidden = false;
  chat.els.tab.classList.add('is-ended', 'is-transferred');
  chat.els.pane.classList.add('is-ended', 'is-transferred');
  renderChatHeader(chat);
  renderChatList();
  if (focused && state.selected === chat.id) chat.els.closeBtn.focus();
}

/** A transferred chat came back to us (re-accepted from the queue, or handed back). */
function reviveChat(chat, { resume = true } = {}) {
  chat.transferred = false;
  chat.ended = false;
  for (const node of [chat.els.endBtn, chat.els.transferBtn, chat.els.composer, chat.els.hint, chat.els.internalRow]) node.hidden = false;
  chat.els.endBtn.disabled = false;
  for (const node of [chat.els.closeBtn, chat.els.transferredNotice, chat.els.endedNotice, chat.els.endedTag]) node.hidden = true;
  chat.els.endedTag.textContent = t('chat_ended_tag');
  chat.els.tab.classList.remove('is-ended', 'is-transferred');
  chat.els.pane.classList.remove('is-ended', 'is-transferred');
  renderChatHeader(chat);
  renderChatList();
  // A plain operator stopped following it when it left: fetch what was said meanwhile.
  if (resume && socket) socket.sendVolatile({ type: 'resume', conversation_id: chat.id, after_seq: chat.lastSeq });
}

// Transfer: to an available colleague (supervisors and admins can read who is available)
// or to a department's queue (everyone), with an optional note only operators see.

function buildTransferPanel(chat) {
  const select = h('select', { class: 'select', id: `transfer-target-${chat.id}`, data: { testid: 'transfer-target' } });
  const note = h('textarea', {
    class: 'textarea', id: `transfer-note-${chat.id}`, rows: 2,
    attrs: { dir: 'auto', maxlength: String(MAX_TEXT * 2) }, data: { testid: 'transfer-note' },
  });
  const hint = h('p', { class: 'field-hint', data: { testid: 'transfer-hint' } });
  const error = h('p', { class: 'form-error', attrs: { role: 'alert' }, data: { testid: 'transfer-error' } });
  const cancel = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', text: t('cancel'), data: { testid: 'transfer-cancel' }, on: { click: () => closeTransfer(chat, true) } });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-sm', text: t('transfer_submit'), data: { testid: 'transfer-submit' } });
  const panel = h('form', {
    class: 'transfer-panel', hidden: true, id: `transfer-${chat.id}`,
    attrs: { novalidate: '', 'aria-labelledby': `transfer-title-${chat.id}` }, data: { testid: 'transfer-panel' },
  },
  h('h2', { class: 'transfer-title', id: `transfer-title-${chat.id}`, text: t('transfer_heading') }),
  h('div', { class: 'transfer-grid' },
    h('div', { class: 'field' }, h('label', { attrs: { for: select.id }, text: t('transfer_target') }), select, hint),
    h('div', { class: 'field' }, h('label', { attrs: { for: note.id }, text: t('transfer_note') }), note,
      h('p', { class: 'field-hint', text: t('transfer_note_hint') }))),
  error,
  h('div', { class: 'form-actions' }, cancel, submit));
  panel.addEventListener('submit', (event) => { event.preventDefault(); submitTransfer(chat); });
  panel.addEventListener('keydown', (event) => { if (event.key === 'Escape') closeTransfer(chat, true); });
  select.addEventListener('change', () => { error.textContent = ''; });
  Object.assign(chat.els, { transferPanel: panel, transferSelect: select, transferNote: note, transferHint: hint, transferError: error, transferSubmit: submit });
  return panel;
}

async function openTransfer(chat) {
  if (chat.ended) return;
  const { transferPanel, transferSelect, transferError, transferHint, transferBtn, transferSubmit } = chat.els;
  transferPanel.hidden = false;
  transferBtn.setAttribute('aria-expanded', 'true');
  transferError.textContent = '';
  transferHint.textContent = '';
  transferSubmit.disabled = true;
  transferSelect.disabled = true;
  transferSelect.textContent = '';
  transferSelect.append(h('option', { value: '', text: t('loading') }));
  const me = state.me || {};
  const mayReadOverview = me.role === 'supervisor' || me.role === 'admin';
  let operators = [];
  await Promise.all([
    loadDepartments({ force: true }),
    mayReadOverview ? api('/api/v1/supervisor/overview').then((body) => { operators = body.operators || []; }).catch(() => {}) : null,
  ]);
  if (transferPanel.hidden) return;
  const available = operators.filter((operator) => operator.id !== me.operator_id && operator.connected && operator.status === 'online'
    && (operator.chat_limit == null || operator.active_chats < operator.chat_limit));
  const departments = [...state.departments.values()];
  transferSelect.textContent = '';
  transferSelect.append(h('option', { value: '', text: t('transfer_choose') }));
  if (available.length) {
    transferSelect.append(h('optgroup', { attrs: { label: t('transfer_group_operators') } }, available.map((operator) => h('option', {
      value: `operator:${operator.id}`,
      text: t('transfer_operator_option', { name: operator.display_name, load: loadText(operator) }),
      data: { name: operator.display_name },
    }))));
  }
  if (departments.length) {
    transferSelect.append(h('optgroup', { attrs: { label: t('transfer_group_departments') } }, departments.map((department) => h('option', {
      value: `department:${department.id}`,
      text: t('transfer_department_option', { name: department.name }),
      data: { name: department.name },
    }))));
  }
  const nothing = available.length === 0 && departments.length === 0;
  transferHint.textContent = nothing ? t('transfer_none') : mayReadOverview ? '' : t('transfer_departments_only');
  transferSelect.disabled = nothing;
  transferSubmit.disabled = nothing;
  transferSelect.focus();
}

const loadText = (operator) => (operator.chat_limit == null
  ? t('load_unlimited', { active: operator.active_chats })
  : t('load_of', { active: operator.active_chats, limit: operator.chat_limit }));

function closeTransfer(chat, refocus) {
  const { transferPanel, transferBtn, transferNote, transferError, transferSubmit } = chat.els;
  if (!transferPanel || transferPanel.hidden) return;
  transferPanel.hidden = true;
  transferBtn.setAttribute('aria-expanded', 'false');
  transferNote.value = '';
  transferError.textContent = '';
  transferSubmit.disabled = false;
  transferSubmit.textContent = t('transfer_submit');
  if (refocus && !chat.ended) transferBtn.focus();
}

function submitTransfer(chat) {
  if (chat.ended) return;
  const { transferSelect, transferNote, transferError, transferSubmit } = chat.els;
  const value = transferSelect.value;
  if (!value) {
    transferError.textContent = t('transfer_need_target');
    transferSelect.focus();
    return;
  }
  const note = transferNote.value.trim();
  if (charCount(note) > MAX_TEXT) {
    transferError.textContent = t('err_text_too_long');
    transferNote.focus();
    return;
  }
  const [kind, id] = value.split(':');
  const option = transferSelect.selectedOptions[0];
  const clientMsgId = newClientMsgId();
  state.reliable.set(clientMsgId, { kind: 'transfer', conversationId: chat.id, target: { kind, id, name: (option && option.dataset.name) || '' } });
  const frame = { type: 'transfer', client_msg_id: clientMsgId, conversation_id: chat.id };
  if (kind === 'operator') frame.to_operator_id = id;
  else frame.to_department_id = id;
  if (note) frame.note = note;
  transferError.textContent = '';
  transferSubmit.disabled = true;
  transferSubmit.textContent = t('transfer_sending');
  socket.sendReliable(frame);
}

// ---------------------------------------------------------------------------------------
// Messages

function onMessage(message) {
  const chat = state.chats.get(message.conversation_id);
  if (!chat) {
    // Not one of our chats: maybe the conversation the Live view is watching.
    if (pages.live) pages.live.onMessage(message);
    return;
  }
  if (chat.seqs.has(message.seq)) return; // already shown: never twice
  chat.seqs.add(message.seq);
  if (message.seq > chat.lastSeq) chat.lastSeq = message.seq;

  // Our own message coming back: replace the pending bubble.
  const pendingRow = message.client_msg_id ? chat.pending.get(message.client_msg_id) : null;
  if (pendingRow) {
    chat.pending.delete(message.client_msg_id);
    state.reliable.delete(message.client_msg_id);
    pendingRow.remove();
  }

  const row = renderMessageRow(message, { meId: state.me && state.me.operator_id, previous: chat.lastRendered, conv: chat.conv });
  insertRow(chat, row, message);

  if (message.kind === 'visitor') setVisitorTyping(chat, false);
  if (message.kind === 'system' && message.event === 'chat_ended') markEnded(chat);

  if (!chat.lastMessage || message.seq >= chat.lastMessage.seq) {
    chat.lastMessage = message;
    renderPreview(chat);
  }
  const fromVisitor = message.kind === 'visitor';
  const fromColleague = message.kind === 'whisper' && !(message.author && message.author.id === (state.me && state.me.operator_id));
  const visible = state.view === 'chats' && state.selected === chat.id && !document.hidden;
  if ((fromVisitor || fromColleague) && !visible && chat.everLoaded && !chat.transferred) {
    chat.unread += 1;
    renderBadge(chat);
  }
  if (fromVisitor && chat.loaded && chat.id === state.selected) refreshVisitorInfoSoon(chat.id);
}

function insertRow(chat, row, message) {
  const { log } = chat.els;
  // Messages nearly always arrive in seq order: only search for a place when one does not.
  const inOrder = !chat.lastRendered || message.seq > chat.lastRendered.seq;
  const after = inOrder ? null : $$('[data-seq]', log).find((node) => !node.classList.contains('is-pending') && Number(node.dataset.seq) > message.seq);
  if (after) {
    log.insertBefore(row, after);
  } else {
    const created = parseTime(message.created_at);
    const previousDate = chat.lastRendered ? parseTime(chat.lastRendered.created_at) : null;
    if (created && (!previousDate || !sameDay(created, previousDate))) {
      const divider = dayDivider(created);
      const firstPending = log.querySelector('.is-pending');
      log.insertBefore(divider, firstPending);
    }
    const firstPending = log.querySelector('.is-pending');
    log.insertBefore(row, firstPending);
    chat.lastRendered = message;
  }
  afterAppend(chat);
}

function afterAppend(chat) {
  if (chat.els.pane.hidden) return;
  if (chat.stickBottom) scrollToBottom(chat);
  else chat.els.jump.hidden = false;
}

function renderPreview(chat) {
  const message = chat.lastMessage;
  if (chat.visitorTypingShown) return;
  chat.els.preview.classList.remove('is-typing');
  if (!message) {
    chat.els.previewText.textContent = t('chat_no_messages');
    return;
  }
  const text = message.kind === 'system' ? systemText(message, state.me && state.me.operator_id, chat.conv) : message.text;
  const mine = message.author && message.author.kind === 'operator' && message.author.id === (state.me && state.me.operator_id);
  // Previews are one line: collapse whitespace; the element is dir="auto" and isolated.
  const oneLine = text.replace(/\s+/g, ' ').slice(0, 140);
  chat.els.previewText.textContent = mine && message.kind !== 'system' ? `${t('you')}: ${oneLine}` : oneLine;
  const created = parseTime(message.created_at);
  chat.els.tabTime.textContent = fmtShort(created);
}

// Visitor typing

function setVisitorTyping(chat, typing) {
  clearTimeout(chat.visitorTyping);
  chat.visitorTyping = null;
  const { typingEl, typingText, preview, previewText } = chat.els;
  if (typing && !chat.ended) {
    typingText.textContent = t('typing_visitor', { name: visitorName(chat.conv) });
    typingEl.classList.remove('is-idle');
    chat.visitorTypingShown = true;
    previewText.textContent = t('chat_typing_preview');
    preview.classList.add('is-typing');
    chat.visitorTyping = setTimeout(() => setVisitorTyping(chat, false), VISITOR_TYPING_TIMEOUT_MS);
  } else {
    typingEl.classList.add('is-idle');
    typingText.textContent = '';
    if (chat.visitorTypingShown) {
      chat.visitorTypingShown = false;
      renderPreview(chat);
    }
  }
}

// Operator typing (throttled)

function onComposerInput(chat) {
  if (chat.ended || chat.els.internalBox.checked) return; // an internal note is not "typing" for the visitor
  const text = chat.els.textarea.value;
  if (!text.trim()) {
    stopTyping(chat);
    return;
  }
  const now = Date.now();
  const typing = chat.typing;
  if (!typing.active || now - typing.lastSent > TYPING_THROTTLE_MS) {
    if (socket && socket.sendVolatile({ type: 'typing', conversation_id: chat.id, is_typing: true })) {
      typing.active = true;
      typing.lastSent = now;
    }
  }
  clearTimeout(typing.idle);
  typing.idle = setTimeout(() => stopTyping(chat), TYPING_IDLE_MS);
}

function stopTyping(chat) {
  const typing = chat.typing;
  clearTimeout(typing.idle);
  if (!typing.active) return;
  typing.active = false;
  if (socket) socket.sendVolatile({ type: 'typing', conversation_id: chat.id, is_typing: false });
}

function autosize(textarea) {
  textarea.style.height = 'auto';
  textarea.style.height = `${Math.min(textarea.scrollHeight + 2, 180)}px`;
}

// Sending

function sendFromComposer(chat) {
  if (chat.ended) return;
  const { textarea } = chat.els;
  const text = textarea.value;
  if (!text.trim()) return;
  if (charCount(text) > MAX_TEXT) {
    toast(t('err_text_too_long'));
    return;
  }
  unlockAudio();
  stopTyping(chat);
  sendText(chat, text, { internal: chat.els.internalBox.checked });
  textarea.value = '';
  autosize(textarea);
  textarea.focus();
}

function sendText(chat, text, { internal = false } = {}) {
  const clientMsgId = newClientMsgId();
  const pending = { kind: 'send', conversationId: chat.id, text, internal };
  state.reliable.set(clientMsgId, pending);
  const row = pendingRow(chat, clientMsgId, text, internal);
  const last = chat.els.log.lastElementChild;
  if (last && last.classList.contains('msg-mine') && !last.classList.contains('is-failed')) row.classList.add('msg-cont');
  chat.pending.set(clientMsgId, row);
  chat.els.log.append(row);
  scrollToBottom(chat);
  socket.sendReliable({ type: internal ? 'whisper' : 'send_message', client_msg_id: clientMsgId, conversation_id: chat.id, text });
  refreshPendingLabels(chat);
}

function pendingRow(chat, clientMsgId, text, internal = false) {
  const now = new Date(serverNow());
  return h('div', {
    class: `msg msg-operator msg-mine is-pending${internal ? ' msg-whisper' : ''}`,
    data: { clientMsgId, state: 'sending', testid: 'message', kind: internal ? 'whisper' : 'operator' },
  },
  h('div', { class: 'msg-meta' }, bidi(t('you'), 'msg-author', 'message-author'),
    internal ? h('span', { class: 'tag tag-note', text: t('msg_internal_note') }) : null,
    timeEl(now, fmtClock(now), 'msg-time')),
  h('div', { class: 'bubble', text, attrs: { dir: 'auto' }, data: { testid: 'message-text' } }),
  h('div', { class: 'msg-status', data: { testid: 'message-status' } }));
}

function setPendingLabel(row, text) {
  const status = row.querySelector('.msg-status');
  if (status) status.textContent = text;
}

function refreshPendingLabels(chat) {
  for (const row of chat.pending.values()) {
    if (row.dataset.state === 'failed' || row.dataset.state === 'acked') continue;
    const label = state.connection === 'online' ? t('msg_sending') : t('msg_queued');
    row.dataset.state = state.connection === 'online' ? 'sending' : 'queued';
    setPendingLabel(row, label);
  }
}

function markFailed(chat, row, pending, reason) {
  row.dataset.state = 'failed';
  row.classList.add('is-failed');
  const clientMsgId = row.dataset.clientMsgId;
  const status = row.querySelector('.msg-status');
  status.textContent = '';
  status.append(
    h('span', { class: 'msg-error', text: t('msg_failed', { message: reason }), attrs: { role: 'alert' } }),
    h('button', {
      type: 'button', class: 'link-btn', text: t('msg_retry'),
      on: {
        click: () => {
          chat.pending.delete(clientMsgId);
          row.remove();
          if (!chat.ended) sendText(chat, pending.text, { internal: pending.internal });
        },
      },
    }),
    h('button', {
      type: 'button', class: 'link-btn', text: t('msg_dismiss'),
      on: {
        click: () => {
          chat.pending.delete(clientMsgId);
          row.remove();
          if (!chat.ended) chat.els.textarea.focus();
        },
      },
    }),
  );
}

// ---------------------------------------------------------------------------------------
// Visitor panel

function currentPanelConversation() {
  if (state.view === 'chats') {
    const chat = state.selected && state.chats.get(state.selected);
    return chat ? chat.conv : null;
  }
  if (state.view === 'history') return historyView.currentConversation();
  if (state.view === 'live') return pages.live ? pages.live.currentConversation() : null;
  return null;
}

function renderVisitorPanel() {
  const body = $('#visitor-body');
  const conv = currentPanelConversation();
  toolsPanel.show(conv);
  body.textContent = '';
  if (!conv) {
    body.append(h('div', { class: 'panel-empty' },
      h('span', { class: 'panel-empty-icon', attrs: { 'aria-hidden': 'true' } }),
      h('p', { text: t(state.view === 'live' ? 'live_panel_empty' : 'visitor_panel_empty') })));
    return;
  }
  const cached = state.visitorInfo.get(conv.id);
  if (!cached || Date.now() - cached.at > VISITOR_INFO_REFRESH_MS) loadVisitorInfo(conv.id);
  const info = cached && cached.data;
  const name = (info && info.name) || visitorName(conv);
  const returning = info ? h('p', {
    class: `visitor-kind ${info.returning ? 'is-returning' : 'is-new'}`,
    text: info.returning
      ? (typeof info.conversation_count === 'number' ? t('visitor_returning_count', { count: info.conversation_count }) : t('visitor_returning'))
      : t('visitor_new'),
    data: { testid: 'visitor-returning', returning: String(!!info.returning) },
  }) : null;
  body.append(h('div', { class: 'visitor-card' },
    avatar(name, conv.visitor && conv.visitor.id, 'lg'),
    h('div', { class: 'visitor-card-text' },
      h('p', { class: 'visitor-name', data: { testid: 'visitor-name' } }, bidi(name)),
      returning)));

  if (!info) {
    body.append(h('p', {
      class: 'panel-note', attrs: { role: 'status' },
      text: cached && cached.error ? t('visitor_unavailable') : t('visitor_loading'),
    }));
    const created = parseTime(conv.created_at);
    if (created) body.append(factList([[t('visitor_chat_started'), fmtDateTime(created), 'visitor-chat-started']]));
    return;
  }

  if (info.id) body.append(visitorDetailsSection(info.id));
  const page = info.current_page;
  const pageNode = page && (page.url || page.title) ? pageFact(page) : h('span', { class: 'muted', text: t('visitor_page_unknown') });
  body.append(h('h3', { class: 'panel-section', text: t('visitor_section_session') }));
  body.append(factList([
    [t('visitor_current_page'), pageNode, 'visitor-page'],
    [t('visitor_chat_started'), fmtDateTime(parseTime(conv.created_at)), 'visitor-chat-started'],
    [t('visitor_first_seen'), fmtDateTime(parseTime(info.first_seen_at)), 'visitor-first-seen'],
  ]));
  body.append(h('h3', { class: 'panel-section', text: t('visitor_section_technical') }));
  body.append(factList([
    [t('visitor_browser'), info.browser || t('visitor_unknown'), 'visitor-browser'],
    [t('visitor_os'), info.os || t('visitor_unknown'), 'visitor-os'],
    [t('visitor_device'), info.device || t('visitor_unknown'), 'visitor-device'],
    [t('visitor_ip'), info.ip || t('visitor_unknown'), 'visitor-ip'],
  ]));
  const prechat = cached.prechat;
  if (prechat && prechat.answered) {
    // Visitor-typed answers: text only.
    const shown = (value) => (value === true ? t('prechat_yes') : value === false ? t('prechat_no') : String(value));
    body.append(h('h3', { class: 'panel-section', text: t('prechat_section') }));
    body.append(h('div', { data: { testid: 'prechat-answers' } }, factList([
      ...(prechat.name ? [[t('prechat_name'), bidi(prechat.name), 'prechat-name']] : []),
      ...(prechat.email ? [[t('prechat_email'), prechat.email, 'prechat-email']] : []),
      ...prechat.answers.map((answer) => [answer.label || answer.key, bidi(shown(answer.value)), `prechat-${answer.key}`]),
    ])));
  }
  if (info.user_agent) {
    body.append(h('details', { class: 'ua' },
      h('summary', { text: t('visitor_user_agent') }),
      h('code', { class: 'ua-text', text: info.user_agent, data: { testid: 'visitor-user-agent' } })));
  }
}

function pageFact(page) {
  const href = page.url ? safeHttpUrl(page.url) : null;
  const title = page.title || page.url;
  const titleNode = href
    ? h('a', { class: 'page-link', href, text: title, attrs: { target: '_blank', rel: 'noopener noreferrer nofollow', dir: 'auto' } })
    : bidi(title, 'page-title-text');
  return h('span', { class: 'page-fact' }, titleNode, page.url && page.title ? h('span', { class: 'page-url', text: page.url, attrs: { dir: 'ltr' } }) : null);
}

function factList(rows) {
  return h('dl', { class: 'facts' }, rows.map(([label, value, testid]) => h('div', { class: 'fact' },
    h('dt', { text: label }),
    h('dd', { data: { testid } }, value instanceof Node ? value : String(value || t('visitor_unknown'))))));
}

async function loadVisitorInfo(conversationId) {
  const entry = state.visitorInfo.get(conversationId) || { data: null, at: 0 };
  if (entry.loading) return;
  entry.loading = true;
  entry.at = Date.now();
  state.visitorInfo.set(conversationId, entry);
  try {
    entry.data = await api(`/api/v1/conversations/${enc(conversationId)}/visitor`);
    entry.prechat = await api(`/api/v1/conversations/${enc(conversationId)}/prechat`).catch(() => null);
    entry.error = null;
  } catch (error) {
    entry.error = error.status || 'network';
    if (error.code === 'unauthorized') return;
  } finally {
    entry.loading = false;
    entry.at = Date.now();
  }
  const conv = currentPanelConversation();
  if (conv && conv.id === conversationId) renderVisitorPanel();
}

function refreshVisitorInfoSoon(conversationId) {
  const entry = state.visitorInfo.get(conversationId);
  if (entry && Date.now() - entry.at < 5_000) return;
  loadVisitorInfo(conversationId);
}

// ---------------------------------------------------------------------------------------
// Views: chats and history

function setView(view, { focus = true } = {}) {
  if (!viewAllowed(view)) view = 'chats';
  state.view = view;
  for (const link of $$('#main-nav .nav-link')) {
    if (link.dataset.view === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  for (const name of Object.keys(VIEWS)) $(`#${name}-view`).hidden = name !== view;
  $('#workspace').classList.toggle('is-wide', !!VIEWS[view].wide);
  if (view === 'chats') {
    const chat = state.selected && state.chats.get(state.selected);
    $('#conv-empty').hidden = !!chat;
    if (chat) {
      chat.els.pane.hidden = false;
      markRead(chat);
      if (chat.stickBottom) scrollToBottom(chat);
      if (focus) (chat.ended ? chat.els.closeBtn : chat.els.textarea).focus();
    }
  } else if (view === 'history') {
    historyView.show({ focus });
  } else {
    const page = ensurePage(view);
    page.show();
    if (focus) {
      const heading = $(`#${view}-view .page:not([hidden]) .page-title`);
      if (heading) {
        heading.tabIndex = -1;
        heading.focus();
      }
    }
  }
  updateTitle();
  renderVisitorPanel();
}

// ---------------------------------------------------------------------------------------
// Wiring

function wire() {
  onApiAuthLost((error) => onAuthLost(error && error.code === 'tenant_suspended' ? t('login_suspended') : t('login_expired')));
  historyView = createHistory({ me: () => state.me, onPanelChange: () => renderVisitorPanel() });
  toolsPanel = createToolsPanel({
    me: () => state.me,
    onTagsChange: (id) => {
      const chat = state.chats.get(id);
      if (chat) renderChatHeader(chat);
      historyView.onTagsChange(id, toolsPanel.tagsFor(id));
    },
  });
  $('#visitor-panel').append(toolsPanel.node);
  $('#login-form').addEventListener('submit', onLoginSubmit);
  $('#logout').addEventListener('click', logout);
  $('#nav-sessions').addEventListener('click', () => {
    closeAccountMenu(false);
    setView('sessions');
  });
  $('#account-button').addEventListener('click', () => {
    if ($('#account-menu').hidden) openAccountMenu();
    else closeAccountMenu(true);
  });
  $('#account-button').addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      openAccountMenu(event.key === 'ArrowUp' ? 'last' : 'first');
    }
  });
  $('#account-menu').addEventListener('keydown', onAccountMenuKeydown);
  document.addEventListener('pointerdown', (event) => {
    if (!$('#account').contains(event.target)) closeAccountMenu(false);
  });
  // A reset link pasted into a tab that already shows the console: start over with it.
  window.addEventListener('hashchange', () => {
    if (resetTokenFromHash() !== null) location.reload();
  });
  $('#conn-retry').addEventListener('click', () => { if (socket) socket.retryNow(); });
  $('#notify-enable').addEventListener('click', enableNotifications);
  $('#sound-toggle').addEventListener('click', toggleSound);
  for (const radio of $$('input[name="status"]')) radio.addEventListener('change', onStatusChange);
  for (const link of $$('#main-nav .nav-link')) link.addEventListener('click', () => setView(link.dataset.view));
  // Browsers only let a page play sound after a user gesture: unlock on the first one.
  const unlockOnce = () => unlockAudio();
  window.addEventListener('pointerdown', unlockOnce, { once: true, capture: true });
  window.addEventListener('keydown', unlockOnce, { once: true, capture: true });
  document.addEventListener('visibilitychange', () => {
    const chat = state.selected && state.chats.get(state.selected);
    if (chat) markRead(chat);
  });
  window.addEventListener('focus', () => renderNotifyControls());
  setInterval(tickWaits, 1_000);
  // Keep the visitor panel's current page fresh for the open chat.
  setInterval(() => {
    const conv = currentPanelConversation();
    if (conv && conv.state !== 'ended' && state.view === 'chats') {
      const entry = state.visitorInfo.get(conv.id);
      if (!entry || Date.now() - entry.at > VISITOR_INFO_REFRESH_MS) loadVisitorInfo(conv.id);
    }
  }, 5_000);
}

// Exposed read-only for tests and debugging (no secrets in it).
Object.defineProperty(window, 'livehelpConsole', {
  value: Object.freeze({
    snapshot: () => ({
      view: state.view,
      role: state.me ? state.me.role : null,
      connection: state.connection,
      status: state.status,
      queue: [...state.queue.keys()],
      chats: [...state.chats.values()].map((c) => ({ id: c.id, lastSeq: c.lastSeq, seqs: [...c.seqs], unread: c.unread, ended: c.ended })),
      outbox: socket ? socket.outbox.length : 0,
    }),
  }),
});

wire();
boot();

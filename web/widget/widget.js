/*! livehelp visitor widget. Snippet:
 *  <script async src="https://HOST/widget.js" data-site-key="KEY"></script>
 * Defines one global, LiveHelp: open(), close(), consent(bool), reset(), setStrings(obj).
 * Stores nothing in the browser until the visitor interacts or the page calls consent(true). */
(function (w, d) {
  'use strict';
  if (w.LiveHelp) return;
  var script = d.currentScript || d.querySelector('script[data-site-key][src*="widget.js"]');
  if (!script || !w.fetch || !w.WebSocket || !Element.prototype.attachShadow) return;
  var SITE = script.getAttribute('data-site-key') || '';
  var BASE = new URL('.', script.src).href.replace(/\/$/, '');
  var WS = BASE.replace(/^http/, 'ws');
  var KEY = 'livehelp:' + SITE + ':visitor';
  var MAX = 10000;

  // Every string a visitor sees. LiveHelp.setStrings({...}) replaces any of them.
  var T = {
    open: 'Chat with us', close: 'Close chat', title: 'Chat with us',
    tagline: 'We usually reply in a few minutes', hi: 'Hi there! How can we help?',
    privacy: 'Before you share anything: {org} explains how it handles your data in its ',
    privacyLink: 'privacy policy', privacyShort: 'Privacy policy', privacyNone: 'Please do not share sensitive personal details in this chat.',
    name: 'Your name', optional: '(optional)', namePh: 'Any name, or leave it empty',
    start: 'Start chat', welcomeBack: 'Welcome back, {name}!', welcomeBackAnon: 'Welcome back!',
    placeholder: 'Type a message…', send: 'Send', end: 'End chat', newChat: 'Start a new chat',
    log: 'Messages', connecting: 'Connecting…', waiting: 'Waiting for an agent…',
    position: 'You are number {n} in line, about {t}', mins: '{n} min', soon: '1 min', dept: 'Department', deptAny: 'No preference',
    active: 'Chatting with {name}', agent: 'an agent', offline: 'Offline, reconnecting…', ended: 'Chat ended',
    requested: 'Chat requested. An agent will be with you shortly.', joined: '{name} joined the chat',
    endedMsg: 'The chat has ended.', typing: '{name} is typing…', sending: 'Sending…',
    queued: 'Will be sent when the connection is back', sent: 'Sent', failed: 'Not sent: {why}',
    tooLong: 'Message too long: {n} of {max} characters.', unavailable: 'Chat is not available right now.',
    expired: 'Your previous chat session has expired. You can start a new chat.',
    error: 'Something went wrong. Please try again.', powered: 'livehelp',
    svTitle: 'Would you answer a few questions about this chat?', svSend: 'Send answers', svNo: 'No thanks',
    svThanks: 'Thank you for your feedback!',
    email: 'Your email', message: 'Your message', leave: 'Send message', check: 'Please check the marked fields.',
    away: 'Nobody can chat right now. Leave a message and we will answer by email.', thanks: 'Thank you! We will answer by email.',
    me: 'Your details', meSave: 'Save details', meSaved: 'Saved.'
  };

  // ---- state ----
  var token = null, vname = null, conv = null, cstate = null, opName = null;
  var lastSeq = 0, seen = new Set(), pending = new Map(), outbox = [];
  var sock = null, gen = 0, attempts = 0, retryT = 0, helloed = false, everConnected = false, awaitPong = false;
  var cfgDone = false, consentState = null, interacted = false, isOpen = false, unread = 0, cfg = {}, viewShown = null;
  var qpos = null, quiet = false, typingOn = false, typingAt = 0, typingStopT = 0, theirTypingT = 0, pageViewSent = false, starting = false;
  var ui = null, host = null, root = null, ferr = {}, pin = {};

  // ---- helpers ----
  function el(tag, a, kids) {
    var e = d.createElement(tag);
    for (var k in a || {}) {
      var v = a[k];
      if (v == null || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    (kids || []).forEach(function (c) { if (c) e.append(c); });
    return e;
  }
  function icon(dpath) {
    var ns = 'http://www.w3.org/2000/svg', s = d.createElementNS(ns, 'svg'), p = d.createElementNS(ns, 'path');
    s.setAttribute('viewBox', '0 0 24 24'); s.setAttribute('aria-hidden', 'true'); s.setAttribute('focusable', 'false');
    p.setAttribute('d', dpath); s.append(p);
    return s;
  }
  // A string from T with {vars} filled in as isolated text (names may be any script).
  function frag(s, vars) {
    var f = d.createDocumentFragment();
    s.split(/(\{\w+\})/).forEach(function (p) {
      var m = /^\{(\w+)\}$/.exec(p);
      if (m && vars && m[1] in vars) f.append(el('bdi', { text: vars[m[1]] }));
      else if (p) f.append(p);
    });
    return f;
  }
  function str(s, vars) { return s.replace(/\{(\w+)\}/g, function (_, k) { return vars && k in vars ? vars[k] : ''; }); }
  function uuid() {
    var c = w.crypto;
    if (c.randomUUID) return c.randomUUID();
    var b = c.getRandomValues(new Uint8Array(16)), h = '';
    b[6] = b[6] & 15 | 64; b[8] = b[8] & 63 | 128;
    for (var i = 0; i < 16; i++) h += (b[i] + 256).toString(16).slice(1) + (i === 3 || i === 5 || i === 7 || i === 9 ? '-' : '');
    return h;
  }
  function hhmm(iso) {
    var t = iso ? new Date(iso) : new Date();
    return t.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }
  function chars(s) { var n = 0; for (var _ of s) n++; return n; }

  // ---- storage: touched only when allowed; any exception means "no storage" ----
  function allowed() { return consentState === true || (consentState === null && interacted); }
  function ls() { try { return w.localStorage; } catch (e) { return null; } }
  function loadToken() { try { var s = ls(); return s ? s.getItem(KEY) : null; } catch (e) { return null; } }
  function saveToken() {
    try { var s = ls(); if (!s) return; if (token && allowed()) s.setItem(KEY, token); else if (s.getItem(KEY) != null) s.removeItem(KEY); } catch (e) { /* blocked */ }
  }
  function interact() { if (!interacted) { interacted = true; saveToken(); } }

  // ---- REST ----
  function api(method, path, body, bearer) {
    var h = {};
    if (body) h['Content-Type'] = 'application/json';
    if (bearer) h.Authorization = 'Bearer ' + bearer;
    return fetch(BASE + path, { method: method, headers: h, body: body ? JSON.stringify(body) : undefined, credentials: 'omit', cache: 'no-store' })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (r.ok) return j;
          var e = new Error(j.message || 'HTTP ' + r.status); e.status = r.status; e.code = j.code; e.fields = j.fields; throw e;
        });
      });
  }
  function checkToken() {
    return api('GET', '/api/v1/visitor-session', null, token).then(function (r) {
      vname = r.name || null;
      if (r.privacy_policy_url && !cfg.privacy_policy_url) { cfg.privacy_policy_url = r.privacy_policy_url; paintPrivacy(); }
      return true;
    }, function (e) {
      if (e.status === 401) { var had = conv; forget(); paint(); if (had) showNote(T.expired); return false; }
      return true;
    });
  }

  // ---- WebSocket ----
  function online() { return sock && sock.readyState === 1 && helloed; }
  function send(f) { if (sock && sock.readyState === 1) { try { sock.send(JSON.stringify(f)); return true; } catch (e) { /* closing */ } } return false; }
  function connect() {
    if (sock || !token) return;
    clearTimeout(retryT); retryT = 0;
    var g = ++gen, s;
    try { s = new WebSocket(WS + '/api/v1/ws/visitor?token=' + encodeURIComponent(token)); } catch (e) { return retry(); }
    sock = s; helloed = false; awaitPong = false;
    s.onmessage = function (ev) {
      if (g !== gen) return;
      var f; try { f = JSON.parse(ev.data); } catch (e) { return; }
      awaitPong = false;
      handle(f);
    };
    s.onclose = function () {
      if (g !== gen) return;
      sock = null; helloed = false; paintStatus(); paintPending();
      retry();
    };
    s.onerror = function () { /* onclose follows */ };
    paintStatus();
  }
  function retry() {
    if (!token || retryT) return;
    var n = attempts++, delay = Math.min(10000, 400 * Math.pow(2, n)) * (0.5 + Math.random() / 2);
    retryT = setTimeout(function () {
      retryT = 0;
      if (n > 2 && n % 3 === 0) checkToken().then(function (ok) { if (ok) connect(); });
      else connect();
    }, delay);
  }
  function disconnect() { gen++; clearTimeout(retryT); retryT = 0; if (sock) { try { sock.close(1000); } catch (e) { /* ignore */ } } sock = null; helloed = false; }
  setInterval(function () {
    if (!sock || sock.readyState !== 1) return;
    if (awaitPong) { try { sock.close(4000); } catch (e) { /* ignore */ } return; } // dead link: onclose reconnects
    awaitPong = send({ type: 'ping' });
  }, 25000);
  w.addEventListener('online', function () { if (token && !sock) { attempts = 0; connect(); } });
  // GPC / Do-Not-Track: page views are still counted (anonymously) but no trail is kept.
  var nav = w.navigator, DNT = nav.globalPrivacyControl === true || nav.doNotTrack === '1' || w.doNotTrack === '1';
  function pageView() { if (online()) send({ type: 'page_view', url: location.href, title: d.title, referrer: d.referrer || null, dnt: DNT }); }
  w.addEventListener('popstate', pageView);
  w.addEventListener('hashchange', pageView);
  // Anonymous page-view tallies (M7): no cookie, storage or identifier, so sent before any
  // consent. Batched; sendBeacon with a text/plain body (no preflight).
  var views = [], viewT = 0;
  function beacon() {
    clearTimeout(viewT); viewT = 0;
    if (!views.length) return;
    var u = BASE + '/api/v1/sites/' + encodeURIComponent(SITE) + '/page-views', b = JSON.stringify({ views: views.splice(0, 20) });
    if (!(nav.sendBeacon && nav.sendBeacon(u, b))) fetch(u, { method: 'POST', body: b, keepalive: true, credentials: 'omit' }).catch(function () { /* lost: only a count */ });
  }
  function countView() { views.push({ url: location.href, title: d.title, referrer: d.referrer || null }); if (views.length >= 10) beacon(); else if (!viewT) viewT = setTimeout(beacon, 2000); }
  w.addEventListener('popstate', countView);
  w.addEventListener('pagehide', beacon);
  d.addEventListener('visibilitychange', function () { if (d.visibilityState === 'hidden') beacon(); });

  function flush() {
    if (!online()) return;
    for (var i = 0; i < outbox.length; i++) {
      var e = outbox[i];
      if (e.type !== 'start_chat') {
        e.conv = e.conv || conv;
        if (!e.conv) break; // keeps order: wait for the start_chat ack
      }
      if (e.gen === gen) continue;
      var f = { type: e.type, client_msg_id: e.id };
      if (e.conv) f.conversation_id = e.conv;
      if (e.text != null) f.text = e.text;
      if (e.dept) f.department_id = e.dept;
      if (e.pre) f.prechat = e.pre;
      if (send(f)) e.gen = gen;
    }
  }
  function take(id) {
    for (var i = 0; i < outbox.length; i++) if (outbox[i].id === id) return outbox.splice(i, 1)[0];
    return null;
  }

  function handle(f) {
    switch (f.type) {
      case 'hello':
        helloed = true; attempts = 0; everConnected = true;
        if (f.you && f.you.name !== undefined) vname = f.you.name;
        var oc = (f.conversations || [])[0];
        if (!conv && oc) { conv = oc.id; cstate = oc.state; quiet = true; } // history replay: not unread
        if (conv) send({ type: 'resume', conversation_id: conv, after_seq: lastSeq });
        if (!pageViewSent) { pageViewSent = true; pageView(); }
        flush(); paint(); paintPending();
        break;
      case 'ack':
        var e = take(f.client_msg_id);
        if (e && e.type === 'start_chat') { conv = f.conversation_id; if (!cstate || cstate === 'starting') cstate = 'queued'; starting = false; paint(); }
        flush();
        break;
      case 'message': onMessage(f.message || {}); break;
      case 'resumed': if (f.conversation_id === conv) quiet = false; break;
      case 'conversation':
        var c = f.conversation || {};
        if (c.id === conv) { cstate = c.state; if (c.state !== 'queued') qpos = null; paint(); }
        break;
      case 'typing':
        if (f.conversation_id === conv && f.author && f.author.kind !== 'visitor') theirTyping(f.is_typing, f.author.name);
        break;
      case 'queue_position': if (f.conversation_id === conv) { qpos = f; paintStatus(); } break;
      case 'error': onError(f); break;
    }
  }
  function onError(f) {
    var e = f.client_msg_id && take(f.client_msg_id);
    if (!e) {
      if (f.code === 'conversation_not_found' && conv && !f.client_msg_id) { conv = null; cstate = null; clearLog(); paint(); }
      return;
    }
    if (f.code === 'unavailable') { e.gen = -1; outbox.unshift(e); setTimeout(flush, 2000); return; }
    if (e.type === 'start_chat') { starting = false; cstate = null; paint(); showErrs(f.fields); showNote(f.fields ? T.check : f.message || T.error, !!f.fields); return; }
    var row = pending.get(e.id);
    if (row) { pending.delete(e.id); var was = nearBottom(); markRow(row, 'failed', str(T.failed, { why: f.message || f.code })); stick(was); }
    if (f.code === 'conversation_ended' && e.conv === conv) { cstate = 'ended'; paint(); }
  }
  function onMessage(m) {
    if (!m.id || m.conversation_id !== conv) return; // only the current conversation, never anyone else's
    if (seen.has(m.id) || m.seq <= lastSeq) return;
    seen.add(m.id); lastSeq = m.seq;
    var name = m.author && m.author.name;
    if (m.kind === 'system') {
      if (m.event === 'operator_joined') { opName = name || null; if (cstate !== 'ended') cstate = 'active'; }
      if (m.event === 'chat_ended') { cstate = 'ended'; theirTyping(false); }
      addSystem(m.event === 'chat_requested' ? T.requested : m.event === 'operator_joined' ? T.joined : m.event === 'chat_ended' ? T.endedMsg : m.text, { name: name || T.agent }, m.event);
      paint();
      return;
    }
    var mine = m.author && m.author.kind === 'visitor';
    var row = mine && m.client_msg_id && pending.get(m.client_msg_id);
    if (row) {
      pending.delete(m.client_msg_id);
      row.setAttribute('data-id', m.id); row.setAttribute('data-seq', m.seq);
      markRow(row, 'sent', '', m.created_at);
      return;
    }
    if (!mine) { theirTyping(false); if (!isOpen && !quiet) { unread++; paintBadge(); } }
    addBubble(mine ? 'me' : 'op', m.text, name, m.created_at, m);
  }

  // ---- actions ----
  function startChat(name) {
    if (starting) return;
    interact();
    starting = true; showNote('');
    var go = function () {
      clearLog(); conv = null; cstate = 'starting'; opName = null; ui.sv.hidden = true;
      outbox = outbox.filter(function (e) { return e.type === 'start_chat'; });
      if (!outbox.length) outbox.push({ id: uuid(), type: 'start_chat', dept: ui.dept.value || null, pre: answers() });
      paint(); focusFirst();
      connect(); flush();
    };
    if (token) return go();
    var body = { page_url: location.href, page_title: d.title };
    if (name && name.trim()) body.name = name;
    ui.start.disabled = true;
    api('POST', '/api/v1/sites/' + encodeURIComponent(SITE) + '/visitor-sessions', body).then(function (r) {
      ui.start.disabled = false;
      token = r.visitor_token; vname = r.name || null; attempts = 0;
      if (r.privacy_policy_url && !cfg.privacy_policy_url) { cfg.privacy_policy_url = r.privacy_policy_url; paintPrivacy(); }
      saveToken(); go();
    }, function (e) {
      ui.start.disabled = false; starting = false;
      showNote(e.message || T.error, true);
    });
  }
  // Pre-chat answers as typed: the server checks them (BR-14), the widget only shows why.
  // Inputs and their error lines by server field key; the offline form's keys start with '-'.
  function answers() {
    var p = cfg.prechat, a = {};
    if (!p) return null;
    for (var k in pin) if (k[0] !== '-') { var i = pin[k]; a[k] = i.type === 'checkbox' ? i.checked : i.value; }
    return a;
  }
  function showErrs(fs, off) {
    for (var k in ferr) {
      if ((k[0] === '-') !== !!off) continue;
      var m = fs && fs[off ? k.slice(1) : k];
      ferr[k].textContent = m || ''; ferr[k].hidden = !m;
      if (pin[k]) pin[k].setAttribute('aria-invalid', m ? 'true' : 'false');
    }
  }
  // One labelled input with its error line; `key` names it in server errors.
  function field(key, label, input, opt) {
    var id = 'lh-f-' + key; input.id = id; input.setAttribute('data-testid', id); pin[key] = input;
    var er = ferr[key] = el('p', { class: 'nt er', role: 'alert', id: id + '-e', 'data-testid': id + '-error', hidden: true });
    input.setAttribute('aria-describedby', id + '-e');
    var l = el('label', { for: id }, [label + ' ', opt ? el('span', { class: 'op', text: T.optional }) : null]);
    return el('div', { class: 'fd' }, input.type === 'checkbox' ? [el('label', { class: 'cb' }, [input, ' ' + label]), er] : [l, input, er]);
  }
  function buildPre() {
    var p = cfg.prechat, box = ui.pre;
    box.textContent = '';
    for (var k in pin) if (k[0] !== '-' && k !== 'name') { delete pin[k]; delete ferr[k]; }
    if (!p) return;
    if (p.email !== 'hidden') box.append(field('email', T.email, el('input', { type: 'email', autocomplete: 'email' }), p.email !== 'required'));
    (p.fields || []).forEach(function (f) {
      var i = f.kind === 'select' ? el('select', null, [el('option', { value: '', text: '—' })].concat(f.options.map(function (o) { return el('option', { value: o, text: o }); })))
        : el('input', { type: f.kind === 'checkbox' ? 'checkbox' : 'text', inputmode: f.kind === 'number' ? 'numeric' : null, dir: 'auto' });
      box.append(field(f.key, f.label, i, !f.required && !(f.key === 'age' && p.min_age)));
    });
  }
  // "Your details" (M16): the name and email given, to see and correct.
  function details() {
    var f = ui.me;
    if (!f.hidden) { f.hidden = true; ui.body.hidden = false; return; }
    api('GET', '/api/v1/visitor/details', null, token).then(function (r) {
      f[0].value = r.name || ''; f[1].value = r.email || ''; ui.meNote.textContent = '';
      f.hidden = false; ui.body.hidden = true; f[0].focus();
    }, function (e) { showNote(e.message || T.error, true); });
  }
  function saveDetails(ev) {
    ev.preventDefault();
    var f = ui.me, n = ui.meNote;
    api('POST', '/api/v1/visitor/details', { name: f[0].value, email: f[1].value }, token).then(function (r) {
      vname = r.name || null; n.className = 'nt'; n.textContent = T.meSaved;
    }, function (e) {
      n.className = 'nt er'; n.textContent = e.fields ? Object.keys(e.fields).map(function (k) { return e.fields[k]; }).join(' ') : e.message || T.error;
    });
  }
  function leave() {
    var b = { name: pin['-name'].value, email: pin['-email'].value, message: pin['-message'].value };
    interact(); ui.osend.disabled = true; showNote('');
    api('POST', '/api/v1/sites/' + encodeURIComponent(SITE) + '/tickets', b).then(function () {
      ui.osend.disabled = false; ui.off.reset(); showErrs(null, 1); ui.odone.hidden = false; ui.off.hidden = true;
    }, function (e) {
      ui.osend.disabled = false; showErrs(e.fields, 1); showNote(e.fields ? T.check : e.message || T.error, true);
    });
  }
  function sendText(text) {
    if (!conv && cstate !== 'starting') return;
    if (!text.trim()) return;
    var n = chars(text);
    if (n > MAX) { showNote(str(T.tooLong, { n: n, max: MAX }), true); return; }
    showNote('');
    interact(); stopTyping();
    var id = uuid();
    outbox.push({ id: id, type: 'send_message', text: text, conv: conv });
    pending.set(id, addBubble('me', text, null, null, { client_msg_id: id }, 'sending'));
    paintPending(); flush();
  }
  function endChat() {
    if (!conv || cstate === 'ended') return;
    interact(); stopTyping();
    outbox.push({ id: uuid(), type: 'end_chat', conv: conv });
    flush();
  }
  // ---- exit survey: offered once per ended conversation; "No thanks" sends nothing ----
  var svFor = null;
  function offerSurvey() {
    if (svFor === conv || !token) return;
    var c = svFor = conv;
    api('GET', '/api/v1/conversations/' + c + '/survey', null, token).then(function (s) { if (c === conv && cstate === 'ended' && s.questions.length) showSurvey(s); }, function () { /* none offered */ });
  }
  function showSurvey(s) {
    var box = ui.sv, get = {}, errs = {}, btn;
    var f = el('form', { novalidate: true, 'aria-label': T.svTitle, onsubmit: function (e) {
      e.preventDefault();
      var a = {};
      for (var k in get) { a[k] = get[k](); errs[k].hidden = true; }
      btn.disabled = true;
      api('POST', '/api/v1/conversations/' + s.conversation_id + '/survey-response', { conversation_id: s.conversation_id, survey_id: s.survey_id, answers: a }, token).then(function () { done(T.svThanks); }, function (e) {
        btn.disabled = false;
        if (e.code !== 'survey_invalid' || !e.fields) return done(e.message || T.error);
        for (var k in e.fields) if (errs[k]) { errs[k].textContent = e.fields[k]; errs[k].hidden = false; }
      });
    } }, [el('p', { class: 'hi', text: T.svTitle })]);
    s.questions.forEach(function (q, i) {
      var id = 'lh-q' + i, k = q.kind, lab = q.label + (q.required ? ' *' : ''), box2, inp;
      if (q.options.length || k === 'rating') {
        var multi = k === 'multiple_choice', items = (k === 'rating' ? ['1', '2', '3', '4', '5'] : q.options).map(function (o) { return el('input', { type: multi ? 'checkbox' : 'radio', name: id, value: o }); });
        box2 = el('fieldset', null, [el('legend', { text: lab })].concat(items.map(function (x) { return el('label', null, [x, ' ' + x.value]); })));
        get[q.id] = function () {
          var v = items.filter(function (x) { return x.checked; }).map(function (x) { return x.value; });
          return multi ? v : k === 'rating' && v[0] ? +v[0] : v[0] || null;
        };
      } else {
        inp = el(k === 'free_text' ? 'textarea' : 'input', { id: id, dir: 'auto', type: k === 'free_text' ? null : { email: 'email', number: 'number', age: 'number', birth_date: 'date' }[k] || 'text' });
        box2 = el('div', null, [el('label', { for: id, text: lab }), inp]);
        get[q.id] = function () { return inp.value.trim() ? inp.value : null; };
      }
      box2.className = 'sq'; box2.setAttribute('data-kind', k);
      box2.append(errs[q.id] = el('p', { class: 'nt er', role: 'alert', hidden: true }));
      f.append(box2);
    });
    f.append(btn = el('button', { class: 'bt', type: 'submit', 'data-testid': 'lh-survey-send', text: T.svSend }),
      el('button', { class: 'bt sn', type: 'button', 'data-testid': 'lh-survey-no', text: T.svNo, onclick: function () { done(''); } }));
    box.replaceChildren(f); box.hidden = false;
    function done(msg) { box.replaceChildren(el('p', { class: 'nt', role: 'status', 'data-testid': 'lh-survey-done', text: msg })); box.hidden = !msg; ui.newChat.focus(); }
  }
  function stopTyping() { clearTimeout(typingStopT); if (typingOn && conv) send({ type: 'typing', conversation_id: conv, is_typing: false }); typingOn = false; typingAt = 0; }
  function onInput() {
    interact(); autosize();
    if (!conv || cstate === 'ended' || !online()) return;
    if (!ui.input.value) return stopTyping();
    var now = Date.now();
    if (now - typingAt > 3000) { typingAt = now; typingOn = true; send({ type: 'typing', conversation_id: conv, is_typing: true }); }
    clearTimeout(typingStopT); typingStopT = setTimeout(stopTyping, 4000);
  }
  function forget() {
    disconnect();
    token = null; vname = null; conv = null; cstate = null; opName = null; lastSeq = 0; starting = false;
    seen.clear(); pending.clear(); outbox = []; unread = 0; pageViewSent = false; everConnected = false;
    try { var s = ls(); if (s && s.getItem(KEY) != null) s.removeItem(KEY); } catch (e) { /* blocked */ }
    clearLog();
  }

  // ---- UI ----
  var CSS = ':host{all:initial}*{box-sizing:border-box}[hidden]{display:none!important}' +
    '.lh{--a:#2563eb;--fg:#111827;--mu:#6b7280;--bd:#e5e7eb;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Helvetica,Arial,sans-serif;color:var(--fg);-webkit-font-smoothing:antialiased}' +
    'button{font:inherit;cursor:pointer}:focus-visible{outline:2px solid var(--a);outline-offset:2px}' +
    '.ln{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:58px;height:58px;border:0;border-radius:50%;background:var(--a);color:#fff;display:grid;place-items:center;box-shadow:0 8px 24px rgba(17,24,39,.25);transition:transform .15s,filter .15s}' +
    '.ln:hover{transform:translateY(-2px);filter:brightness(.93)}.ln:focus-visible{outline:3px solid var(--a);outline-offset:3px}.ln svg{width:27px;height:27px;fill:currentColor}' +
    '.bd{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#dc2626;color:#fff;font-size:12px;font-weight:700;line-height:18px;border:2px solid #fff}' +
    '.pn{position:fixed;right:20px;bottom:92px;z-index:2147483000;width:380px;max-height:min(620px,calc(100vh - 116px));display:flex;flex-direction:column;background:#fff;border:1px solid var(--bd);border-radius:16px;overflow:hidden;box-shadow:0 16px 48px rgba(17,24,39,.18),0 2px 8px rgba(17,24,39,.08);animation:lhin .18s ease-out;transform-origin:bottom right}' +
    '.pn.ch{height:min(620px,calc(100vh - 116px))}' +
    '@keyframes lhin{from{opacity:0;transform:translateY(10px) scale(.98)}}' +
    '.hd{display:flex;align-items:center;gap:10px;padding:14px 10px 14px 16px;background:var(--a);color:#fff}' +
    '.av{flex:none;width:38px;height:38px;border-radius:50%;background:rgba(255,255,255,.22);display:grid;place-items:center;font-weight:700}' +
    '.tt{flex:1;min-width:0}.tt h2{margin:0;font-size:16px;font-weight:650;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}' +
    '.st{margin:1px 0 0;font-size:13px;line-height:1.3;opacity:.92}' +
    '.st:before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;background:#4ade80;margin-right:6px;vertical-align:1px}.st.off:before{background:#fbbf24}.st.end:before{background:#d1d5db}' +
    '.ib{flex:none;height:34px;min-width:34px;border:0;border-radius:8px;background:transparent;color:#fff;display:grid;place-items:center;padding:0 8px}' +
    '.ib:hover{background:rgba(255,255,255,.16)}.ib:focus-visible{outline-color:#fff}.ib svg{width:20px;height:20px;fill:currentColor}.eb{font-size:12.5px;font-weight:600;height:30px;border:1px solid rgba(255,255,255,.5);white-space:nowrap}' +
    '.by{flex:1;min-height:0;display:flex;flex-direction:column;background:#f8fafc}' +
    '.in{flex:1;overflow:auto;padding:22px 20px;display:flex;flex-direction:column;gap:16px}.hi{margin:0;font-size:19px;font-weight:650}' +
    '.pv{margin:0;padding:12px 14px;background:#fff;border:1px solid var(--bd);border-radius:12px;font-size:14px;color:#374151}' +
    'a{color:var(--a);text-underline-offset:2px}label{display:block;font-size:14px;font-weight:600;margin:0 0 6px}.op{color:var(--mu);font-weight:400}' +
    'input,textarea{font:inherit;color:inherit;width:100%;border:1px solid #d1d5db;border-radius:10px;padding:10px 12px;background:#fff;margin:0}' +
    'input:focus,textarea:focus,select:focus{outline:2px solid var(--a);outline-offset:-1px}select{font:inherit;width:100%;padding:9px;border:1px solid #d1d5db;border-radius:10px}' +
    '.fd{margin-top:10px}.cb{display:flex;gap:8px;align-items:flex-start;font-weight:400}.cb input{width:auto;margin-top:3px}.pf .nt,.fd .nt{margin-top:4px}' +
    '.bt{width:100%;border:0;border-radius:10px;padding:11px 16px;background:var(--a);color:#fff;font-weight:600;margin-top:12px}.bt:hover{filter:brightness(.93)}.bt:disabled{opacity:.6}' +
    '.nt{margin:0;font-size:13px;color:#374151}.nt.er{color:#b91c1c}' +
    '.lg{flex:1;min-height:0;overflow-y:auto;overflow-x:hidden;padding:16px 14px 8px;display:flex;flex-direction:column;gap:4px}' +
    '.rw{display:flex;flex-direction:column;align-items:flex-start;max-width:80%;min-width:0}.rw.me{align-self:flex-end;align-items:flex-end}' +
    '.wh{font-size:12px;color:var(--mu);margin:8px 6px 2px;unicode-bidi:isolate}' +
    '.bu{max-width:100%;padding:9px 13px;border-radius:18px;border-bottom-left-radius:6px;background:#fff;border:1px solid var(--bd);white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:isolate;text-align:start}' +
    '.me .bu{background:var(--a);border-color:var(--a);color:#fff;border-radius:18px;border-bottom-right-radius:6px}' +
    '.sending .bu{opacity:.7}.failed .bu{background:#fef2f2;border-color:#fecaca;color:#991b1b}' +
    '.mt{font-size:11px;color:var(--mu);margin:2px 8px 4px}.failed .mt{color:#b91c1c}' +
    '.sy{align-self:center;max-width:90%;text-align:center;font-size:12.5px;color:var(--mu);background:#eef2f7;border-radius:999px;padding:3px 12px;margin:8px 0;overflow-wrap:anywhere;unicode-bidi:isolate}' +
    '.ty{padding:0 18px 6px;font-size:12.5px;color:var(--mu);font-style:italic;min-height:0}' +
    '.cp{display:flex;gap:8px;align-items:flex-end;padding:10px 12px;border-top:1px solid var(--bd);background:#fff;margin:0}' +
    '.cp textarea{resize:none;height:44px;max-height:132px;border-radius:22px;padding:11px 16px;line-height:20px;overflow-y:auto}' +
    '.sd{flex:none;width:44px;height:44px;border:0;border-radius:50%;background:var(--a);color:#fff;display:grid;place-items:center}.sd:hover{filter:brightness(.93)}.sd svg{width:20px;height:20px;fill:currentColor}' +
    '.ed{padding:4px 12px 12px;background:#fff;border-top:1px solid var(--bd)}.cn{padding:6px 14px 0;background:#fff}' +
    '.sv{max-height:330px;overflow-y:auto}.sq{margin:10px 0;border:0;padding:0}.sq label{font-weight:400}legend{font-weight:600;font-size:14px;padding:0}.sq input[type=radio],.sq input[type=checkbox]{width:auto;margin-right:6px}.sn{background:#e5e7eb;color:var(--fg)}' +
    '.ft{padding:6px 12px 9px;font-size:11.5px;color:var(--mu);text-align:center;background:#fff}.ft a,.lk{color:var(--mu)}.lk{border:0;background:none;padding:0;font:inherit;text-decoration:underline;cursor:pointer}' +
    '@media (max-width:480px){.pn,.pn.ch{inset:0;width:auto;height:auto;max-height:none;border-radius:0;border:0}.open .ln{display:none}input,textarea{font-size:16px}}' +
    '@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important;scroll-behavior:auto!important}}';

  var CHAT = 'M12 3C6.5 3 2 6.9 2 11.6c0 2.5 1.3 4.8 3.4 6.4L4.6 21.4c-.1.5.4.8.8.6l4-2c.8.2 1.7.3 2.6.3 5.5 0 10-3.9 10-8.7S17.5 3 12 3z';
  var DOWN = 'M6.7 8.3 12 13.6l5.3-5.3 1.4 1.4L12 16.4 5.3 9.7z';
  var X = 'M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7l1.4-1.4 6.3 6.3 6.3-6.3z';
  var SEND = 'M3.4 20.4 21 12 3.4 3.6 3.4 10.2 15 12 3.4 13.8z';

  function build() {
    host = d.createElement('livehelp-widget');
    host.style.setProperty('display', 'block', 'important'); // inline !important beats page rules
    root = host.attachShadow({ mode: 'open' });
    try { var sh = new CSSStyleSheet(); sh.replaceSync(CSS); root.adoptedStyleSheets = [sh]; } catch (e) { root.append(el('style', { text: CSS })); }
    var u = ui = {};
    u.wrap = el('div', { class: 'lh' });
    var acc = script.getAttribute('data-accent');
    if (acc && w.CSS && CSS_supports(acc)) u.wrap.style.setProperty('--a', acc);
    u.launcher = el('button', { class: 'ln', type: 'button', 'aria-label': T.open, 'aria-expanded': 'false', 'aria-controls': 'lh-panel', 'aria-haspopup': 'dialog', 'data-testid': 'lh-launcher', onclick: function () { interact(); isOpen ? close() : open(); } },
      [icon(CHAT), u.badge = el('span', { class: 'bd', 'data-testid': 'lh-badge', hidden: true, 'aria-hidden': 'true' })]);
    u.title = el('h2', { id: 'lh-title', text: T.title });
    u.status = el('p', { class: 'st', role: 'status', 'data-testid': 'lh-status', text: T.tagline });
    u.end = el('button', { class: 'ib eb', type: 'button', 'data-testid': 'lh-end', text: T.end, hidden: true, onclick: endChat });
    u.close = el('button', { class: 'ib', type: 'button', 'aria-label': T.close, title: T.close, 'data-testid': 'lh-close', onclick: close }, [icon(DOWN)]);
    u.avatar = el('div', { class: 'av', 'aria-hidden': 'true', text: '?' });
    var head = el('div', { class: 'hd' }, [u.avatar, el('div', { class: 'tt' }, [u.title, u.status]), u.end, u.close]);

    // intro: the privacy notice comes first, then the optional name.
    u.pv = el('p', { class: 'pv', 'data-testid': 'lh-privacy' });
    u.wb = el('p', { class: 'nt', 'data-testid': 'lh-welcome-back', hidden: true });
    u.name = el('input', { id: 'lh-name', type: 'text', autocomplete: 'name', 'data-testid': 'lh-name', placeholder: T.namePh, dir: 'auto', spellcheck: 'false' });
    u.nameBox = el('div', null, [el('label', { for: 'lh-name' }, [T.name + ' ', el('span', { class: 'op', text: T.optional })]), u.name]);
    u.dept = el('select', { id: 'lh-dept', 'data-testid': 'lh-dept' });
    u.deptBox = el('div', { hidden: true }, [el('label', { for: 'lh-dept', text: T.dept }), u.dept]);
    u.start = el('button', { class: 'bt', type: 'submit', 'data-testid': 'lh-start', text: T.start });
    u.inote = el('p', { class: 'nt', 'data-testid': 'lh-intro-note', role: 'alert', hidden: true });
    u.nameBox.append(ferr.name = el('p', { class: 'nt er', role: 'alert', 'data-testid': 'lh-f-name-error', hidden: true }));
    pin.name = u.name;
    u.pre = el('div', { class: 'pf', 'data-testid': 'lh-prechat' });
    u.form = el('form', { novalidate: true, 'data-testid': 'lh-start-form', onsubmit: function (e) { e.preventDefault(); startChat(u.nameBox.hidden ? '' : u.name.value); } }, [u.wb, u.nameBox, u.deptBox, u.pre, u.inote, u.start]);
    // offline: the message form (B4); what was typed stays on an error.
    u.osend = el('button', { class: 'bt', type: 'submit', 'data-testid': 'lh-leave', text: T.leave });
    u.off = el('form', { novalidate: true, 'data-testid': 'lh-offline', hidden: true, onsubmit: function (e) { e.preventDefault(); leave(); } },
      [el('p', { class: 'nt', text: T.away }), field('-name', T.name, el('input', { type: 'text', autocomplete: 'name', dir: 'auto' }), 1),
        field('-email', T.email, el('input', { type: 'email', autocomplete: 'email' })), field('-message', T.message, el('textarea', { rows: '4', maxlength: '5000', dir: 'auto' })), u.osend]);
    u.odone = el('p', { class: 'nt', role: 'status', 'data-testid': 'lh-offline-done', hidden: true, text: T.thanks });
    u.intro = el('div', { class: 'in', 'data-testid': 'lh-intro' }, [el('p', { class: 'hi', text: T.hi }), u.pv, u.form, u.off, u.odone]);

    // chat
    u.log = el('div', { class: 'lg', role: 'log', 'aria-live': 'polite', 'aria-label': T.log, 'data-testid': 'lh-log', tabindex: '0' });
    u.typing = el('div', { class: 'ty', 'data-testid': 'lh-typing', hidden: true });
    u.input = el('textarea', { rows: '1', 'aria-label': T.placeholder, placeholder: T.placeholder, 'data-testid': 'lh-input', dir: 'auto', oninput: onInput,
      onkeydown: function (e) { if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); } } });
    u.send = el('button', { class: 'sd', type: 'submit', 'aria-label': T.send, title: T.send, 'data-testid': 'lh-send' }, [icon(SEND)]);
    u.comp = el('form', { class: 'cp', 'data-testid': 'lh-composer', onsubmit: function (e) { e.preventDefault(); submit(); } }, [u.input, u.send]);
    u.newChat = el('button', { class: 'bt', type: 'button', 'data-testid': 'lh-new-chat', text: T.newChat, onclick: function () { if (cfg.prechat) { conv = null; cstate = null; clearLog(); paint(); focusFirst(); } else startChat(''); } });
    u.sv = el('div', { class: 'sv', 'data-testid': 'lh-survey', hidden: true });
    u.endbar = el('div', { class: 'ed', hidden: true }, [u.sv, u.newChat]);
    u.note = el('p', { class: 'nt', 'data-testid': 'lh-note', role: 'alert', hidden: true });
    u.chat = el('div', { class: 'by', hidden: true }, [u.log, u.typing, el('div', { class: 'cn' }, [u.note]), u.comp, u.endbar]);
    u.body = el('div', { class: 'by' }, [u.intro, u.chat]);
    u.ftLink = el('a', { target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'lh-footer-privacy', text: T.privacyShort });
    u.meNote = el('p', { class: 'nt', role: 'status', 'data-testid': 'lh-me-note' });
    u.me = el('form', { class: 'in', novalidate: true, hidden: true, 'data-testid': 'lh-me', onsubmit: saveDetails }, [
      el('label', null, [T.name, el('input', { type: 'text', dir: 'auto', autocomplete: 'name', 'data-testid': 'lh-me-name' })]),
      el('label', null, [T.email, el('input', { type: 'email', autocomplete: 'email', 'data-testid': 'lh-me-email' })]),
      u.meNote, el('button', { class: 'bt', type: 'submit', 'data-testid': 'lh-me-save', text: T.meSave })]);
    u.meLink = el('button', { class: 'lk', type: 'button', 'data-testid': 'lh-me-open', text: T.me, hidden: true, onclick: details });
    u.foot = el('div', { class: 'ft' }, [u.meLink, ' ', u.ftLink, ' · ' + T.powered]);
    u.panel = el('div', { class: 'pn', id: 'lh-panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'lh-title', 'data-testid': 'lh-panel', hidden: true,
      onkeydown: function (e) { if (e.key === 'Escape') { e.stopPropagation(); close(); } } }, [head, u.body, u.me, u.foot]);
    u.wrap.append(u.panel, u.launcher);
    root.append(u.wrap);
    d.body.append(host);
    paintPrivacy(); paint();
  }
  function CSS_supports(v) { try { return w.CSS.supports('color', v); } catch (e) { return false; } }
  function submit() { var v = ui.input.value; if (!v.trim()) return; sendText(v); if (!ui.note.hidden && ui.note.classList.contains('er')) return; ui.input.value = ''; autosize(); }
  function autosize() { var t = ui.input; t.style.height = ''; t.style.height = Math.min(t.scrollHeight + 2, 132) + 'px'; }
  function showNote(text, isErr) {
    if (!ui) return;
    [ui.note, ui.inote].forEach(function (n) { n.textContent = text || ''; n.hidden = !text; n.className = 'nt' + (isErr ? ' er' : ''); });
  }
  function paintPrivacy() {
    if (!ui) return;
    var url = cfg.privacy_policy_url, org = cfg.tenant_name || cfg.site_name || '';
    ui.title.textContent = org ? org : T.title;
    ui.avatar.textContent = (org.trim()[0] || '?').toUpperCase();
    ui.pv.textContent = '';
    var safe = url && /^https?:\/\//i.test(url);
    if (safe) {
      ui.pv.append(frag(T.privacy, { org: org || T.title }), el('a', { href: url, target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'lh-privacy-link', text: T.privacyLink }), '.');
      ui.ftLink.href = url; ui.ftLink.hidden = false;
    } else {
      ui.pv.textContent = T.privacyNone; ui.ftLink.hidden = true;
    }
  }
  function paintStatus() {
    if (!ui) return;
    var s = ui.status, cls = 'st', txt;
    if (cfg.available === false) { txt = T.unavailable; cls += ' end'; }
    else if (cstate === 'ended') { txt = T.ended; cls += ' end'; }
    else if (token && !online() && (conv || cstate === 'starting')) { txt = everConnected ? T.offline : T.connecting; cls += ' off'; }
    else if (cstate === 'starting' || cstate === 'queued') {
      var m = qpos && Math.ceil(qpos.estimated_wait_seconds / 60);
      txt = qpos ? str(T.position, { n: qpos.position, t: m > 1 ? str(T.mins, { n: m }) : T.soon }) : T.waiting; cls += ' off';
    }
    else if (cstate === 'active') { s.className = cls; s.textContent = ''; s.append(frag(T.active, { name: opName || T.agent })); return; }
    else txt = T.tagline;
    s.className = cls; s.textContent = txt;
  }
  function paint() {
    if (!ui) return;
    var chat = !!(conv || cstate === 'starting'), ended = cstate === 'ended';
    var view = chat ? 'chat' : 'intro';
    ui.intro.hidden = chat; ui.chat.hidden = !chat; ui.panel.classList.toggle('ch', chat); ui.meLink.hidden = !token;
    ui.end.hidden = !chat || ended || !conv;
    ui.comp.hidden = ended; ui.endbar.hidden = !ended;
    var p = cfg.prechat, off = cfg.mode === 'offline' && !chat;
    ui.nameBox.hidden = p ? p.name === 'hidden' : !!token;
    ui.form.hidden = off; ui.off.hidden = !off || !ui.odone.hidden;
    if (!chat) {
      ui.wb.hidden = !token;
      ui.wb.textContent = ''; if (token) ui.wb.append(vname ? frag(T.welcomeBack, { name: vname }) : T.welcomeBackAnon);
    }
    ui.start.disabled = !cfgDone || cfg.available === false || (starting && !token); // the privacy link first
    if (view !== viewShown) { var had = viewShown; viewShown = view; if (had && isOpen && ui.panel.contains(root.activeElement)) focusFirst(); }
    if (ended && isOpen && root.activeElement === ui.input) ui.newChat.focus();
    if (ended && conv) offerSurvey();
    paintStatus(); paintBadge();
  }
  function paintBadge() {
    if (!ui) return;
    ui.badge.hidden = !unread || isOpen; ui.badge.textContent = unread > 9 ? '9+' : String(unread);
    ui.launcher.setAttribute('aria-label', isOpen ? T.close : unread ? T.open + ' (' + unread + ')' : T.open);
  }
  function paintPending() {
    pending.forEach(function (row) { markRow(row, 'sending', online() ? T.sending : T.queued); });
  }
  function markRow(row, state, note, iso) {
    row.className = 'rw me ' + state; row.setAttribute('data-state', state);
    var t = row.querySelector('time');
    if (iso) { t.dateTime = iso; t.textContent = hhmm(iso); }
    row.querySelector('.ms').textContent = note ? ' · ' + note : '';
  }
  function nearBottom() { var l = ui.log; return l.scrollHeight - l.scrollTop - l.clientHeight < 80; }
  function stick(was) { if (was) ui.log.scrollTop = ui.log.scrollHeight; }
  var lastAuthor = null;
  function addBubble(who, text, name, iso, m, state) {
    var was = nearBottom();
    var row = el('div', { class: 'rw ' + who + (state ? ' ' + state : ''), 'data-testid': 'lh-message', 'data-author': who === 'me' ? 'visitor' : 'operator',
      'data-state': state || 'sent', 'data-id': m && m.id, 'data-seq': m && m.seq, 'data-client-msg-id': m && m.client_msg_id });
    if (who !== 'me' && name !== lastAuthor) row.append(el('div', { class: 'wh', 'data-testid': 'lh-author', dir: 'auto', text: name || T.agent }));
    if (who !== 'me') lastAuthor = name;
    row.append(el('div', { class: 'bu', dir: 'auto', 'data-testid': 'lh-message-text', text: text }),
      el('div', { class: 'mt' }, [el('time', { datetime: iso || new Date().toISOString(), text: hhmm(iso) }), el('span', { class: 'ms' })]));
    ui.log.append(row); stick(was || who === 'me');
    return row;
  }
  function addSystem(s, vars, ev) {
    var was = nearBottom();
    ui.log.append(el('div', { class: 'sy', 'data-testid': 'lh-system', 'data-event': ev || 'system' }, [frag(s, vars)]));
    lastAuthor = null; stick(was);
  }
  function clearLog() { if (ui) { ui.log.textContent = ''; ui.typing.hidden = true; } lastAuthor = null; lastSeq = 0; seen.clear(); pending.clear(); }
  function theirTyping(on, name) {
    clearTimeout(theirTypingT);
    if (!ui) return;
    ui.typing.hidden = !on;
    if (on) { ui.typing.textContent = ''; ui.typing.append(frag(T.typing, { name: name || opName || T.agent })); theirTypingT = setTimeout(theirTyping, 8000, false); }
  }
  function focusFirst() {
    var t = viewShown === 'chat' ? (cstate === 'ended' ? ui.newChat : ui.input) : !ui.off.hidden ? pin['-name'] : ui.form.hidden ? ui.close : (ui.nameBox.hidden ? ui.start : ui.name);
    try { t.focus({ preventScroll: true }); } catch (e) { /* ignore */ }
  }
  function open() {
    if (!ui || isOpen) return;
    isOpen = true; unread = 0;
    ui.panel.hidden = false; ui.wrap.classList.add('open');
    ui.launcher.setAttribute('aria-expanded', 'true');
    ui.launcher.replaceChildren(icon(DOWN), ui.badge);
    paint(); focusFirst(); stick(true);
    if (!conv) loadCfg(); // who is available may have changed since the page loaded
  }
  function close() {
    if (!ui || !isOpen) return;
    var had = ui.panel.contains(root.activeElement);
    isOpen = false;
    ui.panel.hidden = true; ui.wrap.classList.remove('open');
    ui.launcher.setAttribute('aria-expanded', 'false');
    ui.launcher.replaceChildren(icon(CHAT), ui.badge);
    paintBadge(); if (had) ui.launcher.focus();
  }

  // ---- public API: the only global ----
  var api_ = {
    open: open, close: close,
    consent: function (yes) { consentState = !!yes; saveToken(); },
    reset: function () { forget(); interacted = false; if (ui) { ui.name.value = ''; ui.input.value = ''; showNote(''); paint(); } },
    setStrings: function (o) { for (var k in o) if (typeof o[k] === 'string' && k in T) T[k] = o[k]; },
    version: '1'
  };
  w.LiveHelp = Object.freeze(api_);

  function loadCfg() {
    api('GET', '/api/v1/sites/' + encodeURIComponent(SITE) + '/widget-config').then(function (c) {
      var had = JSON.stringify(cfg.prechat);
      cfg = c || {}; cfgDone = true;
      if (ui && JSON.stringify(cfg.prechat) !== had) buildPre();
      paintPrivacy(); paint();
      if (isOpen && !ui.panel.contains(root.activeElement)) focusFirst();
      var ds = cfg.departments || [];
      if (ui) { var keep = ui.dept.value; ui.dept.textContent = ''; ui.deptBox.hidden = !ds.length; ui.dept.append(el('option', { value: '', text: T.deptAny })); ds.forEach(function (x) { ui.dept.append(el('option', { value: x.id, text: x.name })); }); ui.dept.value = keep; if (ui.dept.value !== keep) ui.dept.value = ''; }
    }, function (e) {
      cfgDone = true;
      if (e.code === 'site_not_found') { host.remove(); ui = null; } else paint();
    });
  }
  function boot() {
    build();
    loadCfg();
    countView();
    token = loadToken(); // a stored token means the visitor interacted or consented on an earlier visit
    if (token) { interacted = true; checkToken().then(function (ok) { if (ok) connect(); paint(); }); }
    try { w.dispatchEvent(new CustomEvent('livehelp:ready')); } catch (e) { /* ignore */ }
  }
  if (d.body) boot(); else d.addEventListener('DOMContentLoaded', boot);
})(window, document);

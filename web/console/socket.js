// The operator WebSocket: connects, reconnects with exponential backoff and jitter,
// keeps every state-changing frame in an outbox until its `ack` (or `error`) arrives and
// resends it, with the same client_msg_id and in the same order, after a reconnect.
//
// The owner supplies callbacks:
//   onFrame(frame)              every server frame, in order
//   onReady(hello)              after `hello`: send `resume`s here (before the outbox is flushed)
//   onState({state, retryIn, pending})  'connecting' | 'online' | 'offline'
//   onAuthLost()                the handshake failed and /auth/session says unauthenticated

import { checkSession } from './api.js';

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
const PING_EVERY_MS = 20_000;
const SILENCE_LIMIT_MS = 50_000;

export function newClientMsgId() {
  if (globalThis.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class OperatorSocket {
  constructor(callbacks) {
    this.cb = callbacks;
    this.ws = null;
    this.ready = false; // hello received on the current socket
    this.stopped = false;
    this.attempt = 0;
    this.retryTimer = null;
    this.retryAt = 0;
    this.pingTimer = null;
    this.lastHeard = 0;
    /** @type {{id: string, frame: object, sent: boolean}[]} */
    this.outbox = [];
    this.onOnline = () => this.retryNow();
    window.addEventListener('online', this.onOnline);
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/api/v1/ws/operator`;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  /** Closes for good (logout). */
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    window.removeEventListener('online', this.onOnline);
    if (this.ws) {
      this.ws.onclose = null;
      try { this.ws.close(1000, 'logout'); } catch { /* already closed */ }
    }
    this.ws = null;
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.ready = false;
    this.emitState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleRetry(false);
      return;
    }
    this.ws = ws;
    let gotHello = false;
    ws.onopen = () => {
      this.lastHeard = Date.now();
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.keepAlive(ws), PING_EVERY_MS);
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      this.lastHeard = Date.now();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!frame || typeof frame.type !== 'string') return;
      if (frame.type === 'hello') {
        gotHello = true;
        this.attempt = 0;
        this.ready = true;
        this.cb.onFrame(frame);
        this.cb.onReady(frame);
        this.flush();
        this.emitState('online');
        return;
      }
      if (frame.type === 'ack' || frame.type === 'error') this.settle(frame);
      this.cb.onFrame(frame);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      clearInterval(this.pingTimer);
      this.ws = null;
      this.ready = false;
      for (const item of this.outbox) item.sent = false;
      if (this.stopped) return;
      // 1008: a frame was too large. Drop the frame that was in flight first so the
      // reconnect does not resend it forever.
      if (event.code === 1008) this.dropOversized();
      // 4001: the login session ended (logout elsewhere, revoked, disabled, suspended).
      if (event.code === 4001) { this.stopped = true; this.cb.onAuthLost(); return; }
      this.scheduleRetry(!gotHello);
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  keepAlive(ws) {
    if (ws !== this.ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastHeard > SILENCE_LIMIT_MS) {
      // Half-open connection (no close frame ever arrived): drop it and reconnect.
      ws.onclose({ code: 4000 });
      ws.onclose = null;
      try { ws.close(); } catch { /* ignore */ }
      return;
    }
    try { ws.send(JSON.stringify({ type: 'ping' })); } catch { /* onclose follows */ }
  }

  async scheduleRetry(handshakeFailed) {
    if (this.stopped) return;
    if (handshakeFailed && (await this.sessionGone())) {
      this.stop();
      this.cb.onAuthLost();
      return;
    }
    const cap = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempt);
    const delay = Math.round(cap / 2 + Math.random() * (cap / 2)); // "equal jitter"
    this.attempt = Math.min(this.attempt + 1, 16);
    this.retryAt = Date.now() + delay;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.emitState('offline');
  }

  /** True when the server answers and says our session is gone. */
  async sessionGone() {
    try {
      return (await checkSession()).authenticated === false;
    } catch {
      return false;
    }
  }

  retryNow() {
    if (this.stopped || this.ws) return;
    this.attempt = 0;
    this.connect();
  }

  emitState(state) {
    this.cb.onState({
      state,
      retryAt: state === 'offline' ? this.retryAt : 0,
      pending: this.outbox.length,
    });
  }

  isOpen() {
    return !!this.ws && this.ready && this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a frame that needs no ack (typing, resume, set_status). Dropped when offline. */
  sendVolatile(frame) {
    if (!this.isOpen()) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** Sends a frame with a client_msg_id; it stays in the outbox until acked or refused. */
  sendReliable(frame) {
    if (!frame.client_msg_id) frame.client_msg_id = newClientMsgId();
    const item = { id: frame.client_msg_id, frame, sent: false };
    this.outbox.push(item);
    if (this.isOpen()) this.transmit(item);
    else this.emitState(this.ws ? 'connecting' : 'offline');
    return frame.client_msg_id;
  }

  /** Forgets an unacked frame (the user dismissed a failed message). */
  discard(id) {
    this.outbox = this.outbox.filter((item) => item.id !== id);
  }

  hasPending(id) {
    return this.outbox.some((item) => item.id === id);
  }

  transmit(item) {
    try {
      this.ws.send(JSON.stringify(item.frame));
      item.sent = true;
    } catch {
      item.sent = false;
    }
  }

  /** Resends every unacked frame, oldest first. */
  flush() {
    for (const item of this.outbox) {
      if (!this.isOpen()) return;
      if (!item.sent) this.transmit(item);
    }
  }

  settle(frame) {
    if (!frame.client_msg_id) return;
    const before = this.outbox.length;
    this.outbox = this.outbox.filter((item) => item.id !== frame.client_msg_id);
    if (this.outbox.length !== before && this.ready) this.emitState('online');
  }

  dropOversized() {
    const index = this.outbox.findIndex((item) => item.sent);
    if (index >= 0) {
      const [item] = this.outbox.splice(index, 1);
      this.cb.onFrame({ type: 'error', code: 'frame_too_large', message: 'frame too large', client_msg_id: item.id });
    }
  }
}

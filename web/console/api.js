// The one way the console talks to the REST API: same-origin session cookie, JSON both
// ways, and the session's anti-CSRF token (from login or /api/v1/auth/session) in
// `X-CSRF-Token` on every POST, PATCH and DELETE. Errors become ApiError with the
// server's stable `code` (docs/protocol.md, "Error codes").

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let csrfToken = '';
let clockOffset = 0; // server time − local time, ms
let authLostHandler = null;

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || (status ? `HTTP ${status}` : 'network error'));
    this.name = 'ApiError';
    this.status = status;
    this.code = (body && body.code) || (status ? `http_${status}` : 'network');
    this.fields = (body && body.fields) || null;
    this.retryAfter = body && typeof body.retry_after === 'number' ? body.retry_after : null;
  }
}

/** Remembers the session's anti-CSRF token ('' after logout). */
export function setCsrfToken(token) {
  csrfToken = typeof token === 'string' ? token : '';
}

/**
 * Called with the ApiError when an authenticated call shows the session is unusable:
 * 401 `unauthorized` (gone) or 403 `tenant_suspended` (the account was suspended).
 */
export function onAuthLost(handler) {
  authLostHandler = handler;
}

/** Now, by the server's clock (the Date header corrects clearly wrong local clocks). */
export const serverNow = () => Date.now() + clockOffset;

function noteServerClock(response) {
  const header = response.headers.get('date');
  const server = header ? Date.parse(header) : NaN;
  if (Number.isNaN(server)) return;
  const offset = server - Date.now();
  // The Date header has one-second resolution: only correct clearly wrong clocks.
  clockOffset = Math.abs(offset) > 2_000 ? offset : 0;
}

async function send(path, method, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  return fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/**
 * Calls the API. Resolves with the JSON body (null when there is none, e.g. 204);
 * rejects with ApiError. With `auth` (the default) a 401 `unauthorized` also tells the
 * console that the session is gone; login passes `auth: false`.
 */
export async function api(path, { method = 'GET', body, auth = true, retried = false } = {}) {
  let response;
  try {
    response = await send(path, method, body);
  } catch {
    throw new ApiError(0, null);
  }
  noteServerClock(response);
  const text = response.status === 204 ? '' : await response.text().catch(() => '');
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (response.ok) return data;
  const error = new ApiError(response.status, data);
  if (error.code === 'csrf_token_invalid' && !retried) {
    // The token we hold is not this cookie's (another tab signed in again): fetch the
    // current one, over a same-origin GET, and try once more.
    const session = await checkSession().catch(() => null);
    if (session && session.authenticated) return api(path, { method, body, auth, retried: true });
    if (auth && authLostHandler) authLostHandler(error);
    throw error;
  }
  const sessionUnusable = (response.status === 401 && error.code === 'unauthorized') || error.code === 'tenant_suspended';
  if (sessionUnusable && auth && authLostHandler) authLostHandler(error);
  throw error;
}

/** `GET /api/v1/auth/session`; keeps the CSRF token when authenticated. */
export async function checkSession() {
  const session = await api('/api/v1/auth/session', { auth: false });
  setCsrfToken(session && session.authenticated && session.operator ? session.operator.csrf_token : '');
  return session;
}

/** `POST /api/v1/auth/login`; keeps the CSRF token. Resolves with the operator. */
export async function login(email, password) {
  const me = await api('/api/v1/auth/login', { method: 'POST', body: { email, password }, auth: false });
  setCsrfToken(me && me.csrf_token);
  return me;
}

/** `POST /api/v1/auth/logout` (needs the CSRF token like every POST). */
export async function logout() {
  try {
    await api('/api/v1/auth/logout', { method: 'POST', auth: false });
  } finally {
    setCsrfToken('');
  }
}

/** Query string from an object, skipping empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const enc = encodeURIComponent;

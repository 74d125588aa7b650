/* The dispatcher's session (this tab only: sessionStorage) and the JSON API. */
import { API, SESSION_KEY } from './config.js';
import { t } from './lang.js';

// ------------------------------------------------------------------ session
function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
    if (s && s.token && (!s.expires_at || s.expires_at > Date.now())) return s;
    sessionStorage.removeItem(SESSION_KEY);
  } catch (e) { /* storage disabled: log in every time */ }
  return null;
}
let session = loadSession();

export const getSession = () => session;

/** Keep a new session (a login), or forget it (null: a logout). */
export function setSession(s) {
  session = s;
  try {
    if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
    else sessionStorage.removeItem(SESSION_KEY);
  } catch (e) { /* ignore */ }
}

/** The server no longer takes the session (a 401, a closed socket): map.js logs out with the message. */
const authListeners = [];
export const onAuthLost = (fn) => authListeners.push(fn);
export function authLost(message) {
  for (const fn of authListeners) fn(message);
}

// ------------------------------------------------------------------ the JSON API
function errorMessage(data, status) {
  const e = data && data.error;
  if (e && typeof e === 'object') {
    let m = String(e.message || e.code || `HTTP ${status}`);
    const d = e.details;
    if (Array.isArray(d) && d.length && d[0] && d[0].msg) {
      m += ` — ${Array.isArray(d[0].loc) ? d[0].loc.join('.') + ': ' : ''}${d[0].msg}`;
    } else if (typeof d === 'string' && d) {
      m += ` — ${d}`;
    }
    return m;
  }
  if (data && typeof data.detail === 'string') return data.detail;
  return `HTTP ${status}`;
}

/** fetch + JSON; never throws. Resolves to {ok, status, data, message, code, missing}. A 401 logs out. */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (session) headers.Authorization = 'Bearer ' + session.token;
  let payload;
  if (body instanceof URLSearchParams) payload = body; // application/x-www-form-urlencoded
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  let r;
  try {
    r = await fetch(API + path, { method, headers, body: payload, cache: 'no-store', credentials: 'same-origin' });
  } catch (e) {
    return { ok: false, status: 0, data: null, message: t('err.network') };
  }
  let data = null;
  try { const text = await r.text(); data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (r.ok) return { ok: true, status: r.status, data };
  const code = data && data.error && data.error.code;
  const out = {
    ok: false, status: r.status, data, code, message: errorMessage(data, r.status),
    // no such route (yet): the app answers unknown paths with code http_404 / http_405
    missing: (r.status === 404 && (code === 'http_404' || !code)) || (r.status === 405 && code === 'http_405'),
  };
  if (r.status === 401 && session && path !== '/auth/token') authLost(out.message);
  return out;
}

/** An API list answer as an array: the API answers either `[...]` or `{"items": [...]}`. */
export const itemsOf = (data) => (Array.isArray(data) ? data : (data && Array.isArray(data.items) ? data.items : []));

/** A binary answer (a report's photo) as an object URL for an <img>; the caller revokes it. Null on failure. */
export async function apiBlobUrl(path) {
  const headers = {};
  if (session) headers.Authorization = 'Bearer ' + session.token;
  const url = path.startsWith('/api/') || path.startsWith('http') ? path : API + path;
  try {
    const r = await fetch(url, { headers, cache: 'no-store', credentials: 'same-origin' });
    if (!r.ok) return null;
    return URL.createObjectURL(await r.blob());
  } catch (e) {
    return null;
  }
}

/* The agency login (kept on this device until it expires or the staff log out) and the JSON API. */
import { CFG } from './ui.js';

const API = CFG.api_base || '/api/v1';
const SESSION_KEY = 'jogo.agency.session';

let session = null;
try {
  session = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
  if (!session || !session.token || (session.expires_at && session.expires_at < Date.now())) session = null;
} catch (e) { session = null; }

export const getSession = () => session;
export function setSession(s) {
  session = s;
  try {
    if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
    else localStorage.removeItem(SESSION_KEY);
  } catch (e) { /* storage off: this tab only */ }
}

const authListeners = [];
/** The server no longer takes the login (a 401, the socket refused): app.js goes back to the login. */
export const onAuthLost = (fn) => authListeners.push(fn);
export function authLost(code) { for (const fn of authListeners) fn(code); }

/**
 * fetch + JSON; never throws. `json` or `form` (FormData / URLSearchParams) is the body.
 * Resolves to {ok, status, data, code, details, message}; a 401 on a logged-in call logs out.
 */
export async function api(method, path, { json, form } = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
  else if (form !== undefined) body = form;
  if (session) headers.Authorization = `Bearer ${session.token}`;
  let r;
  try {
    r = await fetch(API + path, { method, headers, body, cache: 'no-store', credentials: 'omit' });
  } catch (e) {
    return { ok: false, status: 0, data: null, code: 'network', message: String(e.message || e) };
  }
  let data = null;
  try { const text = await r.text(); data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (r.ok) return { ok: true, status: r.status, data };
  const err = (data && data.error) || {};
  const out = {
    ok: false, status: r.status, data, code: err.code || `http_${r.status}`, details: err.details,
    message: err.message || `HTTP ${r.status}`,
  };
  if (r.status === 401 && session && path !== '/auth/token') authLost(out.code);
  return out;
}

/** A photo the API serves to this login only (it needs the bearer header): as an object URL. */
export async function photoUrl(path) {
  if (!session) return null;
  // the server names its files from /api/v1 (no root path): the same file under this page's API base
  const url = path.startsWith('/api/v1/') ? API + path.slice('/api/v1'.length) : path;
  try {
    const r = await fetch(url, { headers: { Authorization: `Bearer ${session.token}` }, cache: 'no-store' });
    if (!r.ok) return null;
    return URL.createObjectURL(await r.blob());
  } catch (e) { return null; }
}

/* The admin's session (this tab only: sessionStorage) and the JSON API, in the project's error shape. */
import { CFG } from '/static/live/shared/dom.js';

const API = CFG.api_base || '/api/v1';
const SESSION_KEY = 'jogo.admin.session';

let session = null;
try {
  session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
  if (session && session.expires_at && session.expires_at < Date.now()) session = null;
} catch (e) { session = null; }

export const getSession = () => session;
export function setSession(s) {
  session = s;
  try {
    if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
    else sessionStorage.removeItem(SESSION_KEY);
  } catch (e) { /* storage off: this page load only */ }
}

const authListeners = [];
export const onAuthLost = (fn) => authListeners.push(fn);

function headers(json) {
  const out = { Accept: 'application/json' };
  if (json) out['Content-Type'] = 'application/json';
  if (session) out.Authorization = `Bearer ${session.token}`;
  return out;
}

function failure(status, data) {
  const e = (data && data.error) || {};
  let message = e.message || `HTTP ${status}`;
  if (Array.isArray(e.details) && e.details[0] && e.details[0].msg) {
    const d = e.details[0];
    message += ` — ${Array.isArray(d.loc) ? d.loc.slice(1).join('.') + ': ' : ''}${d.msg}`;
  }
  return { ok: false, status, data, code: e.code || `http_${status}`, message, details: e.details };
}

/** fetch + JSON; never throws. Resolves {ok, status, data} or {ok: false, status, code, message, details}. */
export async function api(method, path, body) {
  const isForm = body instanceof URLSearchParams;
  let r;
  try {
    r = await fetch(API + path, {
      method,
      headers: isForm ? { ...headers(false), 'Content-Type': 'application/x-www-form-urlencoded' } : headers(body !== undefined),
      body: isForm ? body : body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (e) {
    return { ok: false, status: 0, code: 'network', message: 'network' };
  }
  let data = null;
  const text = await r.text();
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  if (r.ok) return { ok: true, status: r.status, data };
  const out = failure(r.status, data);
  if (r.status === 401 && session && path !== '/auth/token') for (const fn of authListeners) fn(out.message);
  return out;
}

/** A GET answered with text (a CSV download). */
export async function apiText(path) {
  let r;
  try {
    r = await fetch(API + path, { headers: { ...headers(false), Accept: 'text/csv' }, cache: 'no-store' });
  } catch (e) {
    return { ok: false, status: 0, code: 'network', message: 'network' };
  }
  if (r.ok) return { ok: true, status: r.status, data: await r.text() };
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  return failure(r.status, data);
}

/** A POST answered with NDJSON lines (the roster import): onLine(obj) for each; resolves like api(). */
export async function stream(path, body, onLine) {
  let r;
  try {
    r = await fetch(API + path, { method: 'POST', headers: headers(true), body: JSON.stringify(body), cache: 'no-store' });
  } catch (e) {
    return { ok: false, status: 0, code: 'network', message: 'network' };
  }
  if (!r.ok) {
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return failure(r.status, data);
  }
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line) continue;
      last = JSON.parse(line);
      onLine(last);
    }
    if (done) break;
  }
  if (last && last.type === 'done') return { ok: true, status: 200, data: last.report };
  if (last && last.type === 'error') return failure(last.status || 400, { error: last.error });
  return { ok: false, status: 0, code: 'network', message: 'network' };
}

/** Does the running server have this route (GET /openapi.json, read once)? */
let spec = null;
export async function hasRoute(method, path) {
  if (!spec) {
    try { spec = await (await fetch('/openapi.json', { cache: 'no-store' })).json(); } catch (e) { spec = { paths: {} }; }
  }
  const ops = (spec.paths || {})[path];
  return Boolean(ops && ops[method.toLowerCase()]);
}

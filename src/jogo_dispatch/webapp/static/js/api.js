/* The JSON API: the login session, one fetch wrapper with the project's error shape, phone-number login. */
import { CFG, uuid } from './dom.js';

const API = CFG.api_base || '/api/v1';
const SESSION_KEY = 'jogo.app.session';

/** The server answered with an error body {"error": {"code", "message", "details"}}. */
export class ApiError extends Error {
  constructor(status, body, headers) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || `http_${status}`;
    this.details = e.details;
    this.headers = headers;
  }
  /** Worth trying again later with the same Idempotency-Key (nothing was decided yet). */
  get retryable() {
    return this.status >= 500 || [408, 409, 425, 429].includes(this.status);
  }
}
/** No answer at all (offline, DNS, reset): the request may or may not have reached the server. */
export class NetworkError extends Error {}

// ------------------------------------------------------------------ session
let session = null;
try {
  session = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
  if (session && session.expires_at && session.expires_at < Date.now()) session = null;
} catch (e) { session = null; }

const authListeners = [];
export const onAuthLost = (fn) => authListeners.push(fn);
export const getSession = () => session;
/** Whose queued items and saved state these are: the user id (the same however the number was typed). */
export const owner = () => (session ? (session.user_id != null ? `u${session.user_id}` : session.username) : '');

export function setSession(s) {
  session = s;
  try {
    if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
    else localStorage.removeItem(SESSION_KEY);
  } catch (e) { /* storage off: this tab only */ }
}

/** One id per installation, sent as X-Device-Id: the command centre can trace a hoax to a phone. */
const DEVICE_KEY = 'jogo.app.device';
let deviceId = null;
try {
  deviceId = localStorage.getItem(DEVICE_KEY);
  if (!deviceId) { deviceId = `web-${uuid()}`; localStorage.setItem(DEVICE_KEY, deviceId); }
} catch (e) { deviceId = null; }

let skewMs = 0; // server clock minus ours, from the Date header and socket messages
export const serverNow = () => Date.now() + skewMs;
export function noteServerTime(v) {
  const ms = typeof v === 'number' ? v : Date.parse(v);
  if (Number.isFinite(ms)) skewMs = ms - Date.now();
}

/**
 * fetch against the API. `json` or `form` (FormData / URLSearchParams) is the body; `key` becomes the
 * Idempotency-Key header. Resolves with the parsed body; rejects with ApiError or NetworkError.
 */
export async function api(path, { method = 'GET', json, form, key, auth = true, signal } = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
  else if (form !== undefined) body = form;
  if (auth && session) headers.Authorization = `Bearer ${session.token}`;
  if (deviceId) headers['X-Device-Id'] = deviceId;
  if (key) headers['Idempotency-Key'] = key;
  let r;
  try {
    r = await fetch(API + path, { method, headers, body, signal, cache: 'no-store', credentials: 'omit' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new NetworkError(e.message || 'network');
  }
  const date = r.headers.get('Date');
  if (date && !r.headers.get('Idempotent-Replayed')) {
    const ms = Date.parse(date);
    if (Number.isFinite(ms) && Math.abs(ms - Date.now() - skewMs) > 1500) skewMs = ms - Date.now();
  }
  let data = null;
  if (r.status !== 204) {
    const text = await r.text();
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  }
  if (!r.ok) {
    const err = new ApiError(r.status, data, r.headers);
    if (r.status === 401 && auth && session) for (const fn of authListeners) fn(err);
    throw err;
  }
  return data;
}

/** An API list answer as an array: the API answers either `[...]` or `{"items": [...]}`. */
export const items = (data) => (Array.isArray(data) ? data : (data && (data.items || data.results)) || []);

// ------------------------------------------------------------------ login
/** 0812-3456-789 → +628123456789 (what the server stores); other input is returned trimmed. */
export function normalisePhone(raw) {
  const s = String(raw || '').trim();
  const digits = s.replace(/[\s\-().]/g, '');
  if (/^\+?\d{8,15}$/.test(digits)) {
    if (digits.startsWith('+')) return digits;
    if (digits.startsWith('0')) return '+62' + digits.slice(1);
    if (digits.startsWith('62')) return '+' + digits;
    if (digits.startsWith('8')) return '+62' + digits;
  }
  return s;
}

async function token(username, password) {
  const form = new URLSearchParams({ username, password });
  return api('/auth/token', { method: 'POST', form, auth: false });
}

/** Log in with what was typed; a phone number that fails as typed is tried once more in +62 form. */
export async function login(username, password) {
  const typed = String(username || '').trim();
  let data;
  try {
    data = await token(typed, password);
  } catch (e) {
    const alt = normalisePhone(typed);
    if (!(e instanceof ApiError) || e.status !== 401 || alt === typed) throw e;
    data = await token(alt, password);
  }
  const s = {
    token: data.access_token, role: data.role, username: typed,
    expires_at: data.expires_in ? Date.now() + data.expires_in * 1000 : null,
  };
  setSession(s);
  try {
    const me = await api('/me');
    s.user_id = me.user_id; s.officer_id = me.officer_id; s.role = s.role || me.role;
    setSession(s);
  } catch (e) { /* the token answer had the role already */ }
  return s;
}

export async function register({ phone, name, password }) {
  return api('/citizens', { method: 'POST', json: { phone: String(phone).trim(), name, password }, auth: false });
}

export async function logout() {
  setSession(null);
}

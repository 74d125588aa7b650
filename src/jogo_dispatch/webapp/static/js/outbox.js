/* The outbox: every report and SOS press goes through here, online or not, and reaches the server once.
 *
 * An item gets its Idempotency-Key when it is created, before the first attempt, and keeps it on every
 * attempt: a request whose answer was lost (the connection dropped after the server committed) is sent
 * again with the same key and the server replays its first answer instead of creating a second report.
 * Items live in IndexedDB, so a closed tab or a dead battery does not lose them; an item caught in
 * "sending" when the page died is simply sent again (same key). Retries: on the `online` event, when the
 * page comes back to the foreground, and on a timer with exponential backoff. Only the logged-in owner's
 * items are sent, with the owner's token. Web Locks keep two open tabs from draining at the same time.
 *
 * States: pending (waiting for a connection or a retry) → sending → sent | failed (the server said no:
 * nothing was created, so "try again" takes a fresh key).
 */
import { ApiError, NetworkError, getSession, owner } from './api.js';
import { uuid } from './dom.js';

const DB_NAME = 'jogo-app';
const STORE = 'outbox';
const BACKOFF_MIN_MS = 2000;
const BACKOFF_MAX_MS = 60000;
const KEEP_SENT_MS = 3 * 86400 * 1000;
const KEEP_SENT_MAX = 30;

const SENDERS = {};
const listeners = [];
let timer = 0;
let running = null;
let again = false;

// ------------------------------------------------------------------ storage (IndexedDB, memory as a last resort)
let dbp = null;
const memory = new Map();
function db() {
  if (!dbp) {
    dbp = new Promise((resolve) => {
      let req;
      try { req = indexedDB.open(DB_NAME, 1); } catch (e) { resolve(null); return; }
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(null);
    });
  }
  return dbp;
}
const done = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});
async function store(mode) {
  const d = await db();
  return d ? d.transaction(STORE, mode).objectStore(STORE) : null;
}
async function put(item) {
  const s = await store('readwrite');
  if (s) await done(s.put(item)); else memory.set(item.id, structuredClone(item));
}
async function get(id) {
  const s = await store('readonly');
  return s ? done(s.get(id)) : structuredClone(memory.get(id));
}
async function all() {
  const s = await store('readonly');
  return s ? done(s.getAll()) : [...memory.values()].map((i) => structuredClone(i));
}
async function del(id) {
  const s = await store('readwrite');
  if (s) await done(s.delete(id)); else memory.delete(id);
}

// ------------------------------------------------------------------ public API
/** `send(item)` resolves with the server's answer or rejects with ApiError / NetworkError. */
export function registerSender(kind, send) { SENDERS[kind] = send; }
export function subscribe(fn) { listeners.push(fn); }
function notify(item) { for (const fn of listeners) { try { fn(item); } catch (e) { console.error(e); } } }

const active = (i) => i.state === 'pending' || i.state === 'sending';

/** Queue a report or SOS; it is sent at once when there is a connection. */
export async function enqueue(kind, payload, label) {
  const item = {
    id: uuid(), key: uuid(), kind, payload, label: label || '', owner: owner(), state: 'pending',
    created_at: Date.now(), attempts: 0, next_at: 0, error: null, result: null, sent_at: null,
  };
  await put(item);
  notify(item);
  flush();
  return item;
}

/** This user's items, newest first. */
export async function list() {
  const me = owner();
  return (await all()).filter((i) => i.owner === me).sort((a, b) => b.created_at - a.created_at);
}

export const find = get;

/** A failed item, tried again: the server refused the old key's request, so a new key is safe. */
export async function retry(id) {
  const item = await get(id);
  if (!item || item.state !== 'failed') return;
  Object.assign(item, { key: uuid(), state: 'pending', attempts: 0, next_at: 0, error: null });
  await put(item);
  notify(item);
  flush();
}

export async function discard(id) {
  const item = await get(id);
  if (!item || item.state === 'sending') return;
  await del(id);
  notify({ ...item, state: 'discarded' });
}

/** Send what is due now. One drain at a time per tab (and per browser with Web Locks). */
export function flush() {
  if (running) { again = true; return running; }
  running = (async () => {
    try {
      do {
        again = false;
        if (navigator.locks) await navigator.locks.request('jogo-outbox', drain);
        else await drain();
      } while (again);
    } finally {
      running = null;
      schedule();
    }
  })();
  return running;
}

/** Everything waiting becomes due now (the connection is back, or the user pressed "send now"). */
export async function wake() {
  for (const item of await list()) {
    if (item.state === 'pending' && item.next_at > Date.now()) { item.next_at = 0; await put(item); }
  }
  return flush();
}

let started = false;
export async function start() {
  if (!started) {
    started = true;
    window.addEventListener('online', () => wake());
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') wake(); });
    await prune();
  }
  return wake();
}

// ------------------------------------------------------------------ sending
function backoff(attempts, err) {
  const retryAfter = err instanceof ApiError && err.headers ? Number(err.headers.get('Retry-After')) : NaN;
  if (Number.isFinite(retryAfter) && retryAfter > 0) return Math.min(retryAfter * 1000, 10 * BACKOFF_MAX_MS);
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

async function drain() {
  if (!getSession()) return;
  const due = (await list()).filter((i) => active(i) && (i.next_at || 0) <= Date.now()).reverse(); // oldest first
  for (const { id } of due) {
    if (!navigator.onLine) return; // the browser knows it is offline: wait for `online`
    const item = await get(id); // again, inside the lock: another tab may have sent it meanwhile
    const send = item && SENDERS[item.kind];
    if (!item || !active(item) || !send) continue;
    item.state = 'sending';
    item.attempts += 1;
    await put(item);
    notify(item);
    let stop = false;
    try {
      item.result = await send(item);
      Object.assign(item, { state: 'sent', sent_at: Date.now(), error: null });
    } catch (e) {
      if (e instanceof NetworkError || (e instanceof ApiError && e.retryable)) {
        Object.assign(item, { state: 'pending', next_at: Date.now() + backoff(item.attempts, e),
          error: { code: e instanceof ApiError ? e.code : 'network', message: e.message } });
        stop = e instanceof NetworkError;
      } else if (e instanceof ApiError && e.status === 401) {
        // the login expired: keep it, it goes out after the next login
        Object.assign(item, { state: 'pending', next_at: 0, error: { code: e.code, message: e.message } });
        stop = true;
      } else {
        Object.assign(item, { state: 'failed', error: {
          code: e.code || 'error', message: e.message || String(e), status: e.status || 0 } });
      }
    }
    await put(item);
    notify(item);
    if (stop) return;
  }
}

async function schedule() {
  clearTimeout(timer);
  const waiting = (await list()).filter((i) => i.state === 'pending');
  if (!waiting.length || !getSession() || !navigator.onLine) return; // offline: the `online` event wakes us
  const next = Math.min(...waiting.map((i) => i.next_at || 0));
  timer = setTimeout(() => flush(), Math.max(500, next - Date.now()));
}

async function prune() {
  const sent = (await all()).filter((i) => i.state === 'sent').sort((a, b) => b.sent_at - a.sent_at);
  for (const [n, item] of sent.entries()) {
    if (n >= KEEP_SENT_MAX || Date.now() - item.sent_at > KEEP_SENT_MS) await del(item.id);
  }
}

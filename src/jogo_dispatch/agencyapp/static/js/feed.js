/* The agency's share of the /api/v1/live websocket: a snapshot of its open forwards, then the `forward` and
 * `forward_note` events of its own agency (the server sends nothing else to an agency login). Pushed, never
 * polled: a heartbeat every 15 s keeps it honest, a silent socket is dropped and reopened with backoff. */
import { CFG, $, fill, t } from './ui.js';
import { authLost, getSession } from './api.js';

const WATCHDOG_MS = 45000;
let ws = null;
let gen = 0;
let retry = 0;
let retryTimer = 0;
let watchdog = 0;
let handlers = {};

export const connected = () => !!(ws && ws.readyState === WebSocket.OPEN);

let connState = 'off';
/** state: live | connecting | reconnecting | off */
function setConn(state) {
  connState = state;
  const box = $('conn');
  box.dataset.state = state;
  const text = t(`conn.${navigator.onLine === false && state !== 'live' ? 'offline' : state}`);
  box.title = text;
  fill($('conn-text'), text);
}
/** The indicator in the page's language again (after the language switch). */
export const relabel = () => setConn(connState);

function kick(g) {
  clearTimeout(watchdog);
  watchdog = setTimeout(() => {
    if (g !== gen || !ws) return;
    const stale = ws;
    gen++;
    ws = null;
    try { stale.close(4000, 'stale'); } catch (e) { /* ignore */ }
    schedule();
  }, WATCHDOG_MS);
}

function connect() {
  const session = getSession();
  if (!session) return;
  clearTimeout(retryTimer);
  const g = ++gen;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const path = CFG.live_path || '/api/v1/live';
  setConn(retry ? 'reconnecting' : 'connecting');
  let sock;
  try { sock = new WebSocket(`${proto}//${location.host}${path}?token=${encodeURIComponent(session.token)}`); } catch (e) { schedule(); return; }
  ws = sock;
  let refusal = null;
  sock.onopen = () => { if (g === gen) { setConn('live'); kick(g); } };
  sock.onmessage = (ev) => {
    if (g !== gen) return;
    kick(g);
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'heartbeat') { send({ type: 'pong' }); return; }
    if (msg.type === 'error') { refusal = (msg.error && msg.error.code) || refusal; return; }
    if (msg.type === 'snapshot') retry = 0;
    const fn = handlers[msg.type];
    if (fn) { try { fn(msg); } catch (e) { console.warn('live message', msg.type, e); } }
  };
  sock.onclose = (ev) => {
    if (g !== gen) return;
    ws = null;
    clearTimeout(watchdog);
    if (!getSession()) return;
    if (ev.code === 4401 || ev.code === 4403) { authLost(refusal || (ev.code === 4401 ? 'unauthorized' : 'forbidden')); return; }
    schedule();
  };
}

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

function schedule() {
  clearTimeout(retryTimer);
  if (!getSession()) return;
  setConn('reconnecting');
  const delay = Math.min(30000, 1000 * 2 ** Math.min(retry, 5)) * (0.75 + Math.random() * 0.5);
  retry++;
  retryTimer = setTimeout(connect, delay);
}

/** Open the feed; `on` maps message types (snapshot, forward, forward_note...) to handlers. */
export function start(on) {
  handlers = on;
  retry = 0;
  connect();
}

export function stop() {
  gen++;
  clearTimeout(retryTimer);
  clearTimeout(watchdog);
  if (ws) { try { ws.close(1000, 'logout'); } catch (e) { /* ignore */ } ws = null; }
  setConn('off');
}

window.addEventListener('online', () => { if (getSession() && !ws) { retry = 0; connect(); } });
window.addEventListener('offline', () => { if (!connected()) setConn('reconnecting'); });

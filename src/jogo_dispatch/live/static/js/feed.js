/* The /api/v1/live websocket: connecting with the session token, the viewport the server filters by,
 * the heartbeat watchdog, reconnecting with backoff, the connection indicator, and every message type.
 * Every message also goes to bus.js by its type, for the panels that follow one (the desk, forwards). */
import { $, fill, h } from '../shared/dom.js';
import { LIVE_PATH, VIEWPORT_DEBOUNCE_MS, WATCHDOG_MS } from './config.js';
import { api, authLost, getSession } from './api.js';
import { loadAlerts, removeAlert, upsertAlert } from './alerts.js';
import { noteServerTime } from './format.js';
import { onOffer, removeIncident, upsertIncident } from './incidents.js';
import { map } from './layers.js';
import { finishAnimations, onPositions, removeOfficer, setOfficer, upsertOfficer } from './officers.js';
import { loadReports, upsertReport } from './reports.js';
import { emit } from './bus.js';
import { label, onLangChange, t } from './lang.js';
import { dirty, forwards, incidents, officers } from './state.js';
import { toast } from './ui.js';

// ------------------------------------------------------------------ the connection indicator
let retryTicker = 0;
/** state: 'live' | 'connecting' | 'reconnecting' | 'off'; detail: the countdown and reason of a reconnect. */
let lastConn = ['off', ''];
export function setConn(state, detail) {
  lastConn = [state, detail];
  const key = ['live', 'connecting', 'reconnecting', 'off'].includes(state) ? `conn.${state}` : 'conn.off';
  const box = $('conn');
  box.className = 'conn conn-' + state;
  box.title = detail || '';
  box.dataset.state = state;
  fill($('conn-text'), t(key), detail && state === 'reconnecting' ? h('small', null, ` (${detail})`) : null);
}

onLangChange(() => setConn(...lastConn));

// ------------------------------------------------------------------ the socket
let ws = null;
let wsGen = 0;
let retry = 0;
let retryTimer = 0;
let watchdog = 0;
let lastBbox = '';
let syncedGen = 0;

export const connected = () => !!(ws && ws.readyState === WebSocket.OPEN);

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

function sendViewport(force) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  const b = map.getBounds().pad(0.15);
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const round = (v) => Math.round(v * 1e5) / 1e5;
  const bbox = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
    clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)].map(round);
  const key = bbox.join(',');
  if (!force && key === lastBbox) return;
  lastBbox = key;
  send({ type: 'viewport', bbox });
}
let viewportTimer = 0;
map.on('moveend', () => {
  clearTimeout(viewportTimer);
  viewportTimer = setTimeout(() => sendViewport(false), VIEWPORT_DEBOUNCE_MS);
});

function kickWatchdog(gen) {
  clearTimeout(watchdog);
  watchdog = setTimeout(() => {
    if (gen !== wsGen || !getSession()) return;
    const stale = ws;
    wsGen++; // orphan it: its late events are ignored
    ws = null;
    try { stale.close(4000, 'stale'); } catch (e) { /* ignore */ }
    scheduleReconnect(t('conn.no_data'));
  }, WATCHDOG_MS);
}

function connect() {
  const session = getSession();
  if (!session) return;
  clearTimeout(retryTimer);
  clearInterval(retryTicker);
  const gen = ++wsGen;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${proto}//${location.host}${LIVE_PATH}?token=${encodeURIComponent(session.token)}`;
  setConn('connecting');
  let sock;
  try { sock = new WebSocket(url); } catch (e) { scheduleReconnect(String(e)); return; }
  ws = sock;
  let opened = false;
  let openedAt = 0;
  let lastError = null;
  let bye = null;
  sock.onopen = () => {
    if (gen !== wsGen) return;
    opened = true;
    openedAt = Date.now();
    lastBbox = '';
    setConn('live');
    sendViewport(true);
    kickWatchdog(gen);
  };
  sock.onmessage = (ev) => {
    if (gen !== wsGen) return;
    kickWatchdog(gen);
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'error') lastError = msg.error || null;
    if (msg.type === 'bye') bye = String(msg.reason || '');
    try { handle(msg, gen); } catch (e) { console.error('live message', msg.type, e); }
  };
  sock.onclose = (ev) => {
    if (gen !== wsGen) return;
    ws = null;
    clearTimeout(watchdog);
    if (!getSession()) return;
    const reason = bye || ev.reason || (lastError && lastError.message) || '';
    if (ev.code === 4401) { authLost((lastError && lastError.message) || t('session.expired')); return; }
    if (ev.code === 4403) {
      authLost((lastError && lastError.message) || t('session.refused'));
      return;
    }
    if (opened && Date.now() - openedAt > 15000) retry = 0;
    if (bye) toast(`Server: ${bye} — ${t('conn.reconnecting')}`, '');
    scheduleReconnect(reason);
    if (!opened) api('GET', '/me'); // an expired token makes this a 401, which goes back to the login form
  };
}

function scheduleReconnect(reason) {
  clearTimeout(retryTimer);
  clearInterval(retryTicker);
  if (!getSession()) return;
  const delay = Math.min(30000, 1000 * 2 ** Math.min(retry, 5)) * (0.75 + Math.random() * 0.5);
  retry++;
  const due = Date.now() + delay;
  const tick = () => {
    const s = Math.max(0, Math.ceil((due - Date.now()) / 1000));
    setConn('reconnecting', `${t('conn.retry_in', { s })}${reason ? ' · ' + reason : ''}`);
  };
  tick();
  retryTicker = setInterval(tick, 1000);
  retryTimer = setTimeout(connect, delay);
}

/** Connect now, with a fresh backoff (a login, a page opened with a session). */
export function start() {
  retry = 0;
  connect();
}

/** Close the socket for good (a logout): no reconnect, late events ignored. */
export function stop() {
  wsGen++;
  clearTimeout(retryTimer);
  clearInterval(retryTicker);
  clearTimeout(watchdog);
  if (ws) { try { ws.close(1000, 'logout'); } catch (e) { /* ignore */ } ws = null; }
}

window.addEventListener('online', () => { if (getSession() && !ws) start(); });

// ------------------------------------------------------------------ messages
function onSnapshot(msg, gen) {
  finishAnimations();
  const seen = new Set();
  for (const d of Array.isArray(msg.officers) ? msg.officers : []) { if (d && d.id != null) { seen.add(d.id); upsertOfficer(d); } }
  for (const id of [...officers.keys()]) if (!seen.has(id)) removeOfficer(id);
  const seenInc = new Set();
  for (const d of Array.isArray(msg.incidents) ? msg.incidents : []) { if (d && d.id != null) { seenInc.add(d.id); upsertIncident(d); } }
  for (const id of [...incidents.keys()]) if (!seenInc.has(id)) removeIncident(id);
  for (const d of Array.isArray(msg.alerts) ? msg.alerts : []) upsertAlert(d, false);
  if (Array.isArray(msg.reports)) for (const d of msg.reports) upsertReport(d);
  if (syncedGen !== gen) { // once per connection: catch up with what changed while we were away
    syncedGen = gen;
    loadAlerts();
    loadReports();
  }
  retry = 0;
  dirty('incidents', 'alerts', 'reports');
}

/** The caller (or the command centre) ended an SOS: the incident stays open for the dispatcher to close. */
function onSosEnded(m) {
  const params = { id: m.incident_id };
  const line = m.by_role === 'citizen' ? t('sos.ended_by_caller', params) : t('sos.ended_by_centre', params);
  toast(m.reason ? `${line} — ${m.reason}` : line, '', 10000);
}

/** A forward changed state (sent, acknowledged by the agency, closed, failed...). */
function onForward(f) {
  if (!f || f.id == null) return;
  const prev = forwards.get(f.id);
  forwards.set(f.id, { ...(prev || {}), ...f });
  if (prev && prev.status !== f.status && ['acknowledged', 'in_progress', 'closed', 'failed'].includes(f.status)) {
    toast(t('forward.changed', { agency: f.agency_code || `#${f.agency_id}`, id: f.incident_id, status: label('forward_status', f.status) }),
      f.status === 'failed' ? 'err' : 'ok', 6000);
  }
  dirty('incidents');
}

function onForwardNote(n) {
  if (!n) return;
  toast(t('forward.note_in', { agency: n.agency_code || '', id: n.incident_id, text: String(n.text || '').slice(0, 120) }), '', 8000);
}

function handle(msg, gen) {
  noteServerTime(msg.server_time);
  switch (msg.type) {
    case 'snapshot': onSnapshot(msg, gen); break;
    case 'positions': onPositions(msg.positions); break;
    case 'status': setOfficer(msg.officer_id, { status: msg.status }); break;
    case 'presence': setOfficer(msg.officer_id, { online: msg.online === true, presence: msg.presence, position_age_s: msg.position_age_s }); break;
    case 'incident': upsertIncident(msg.incident); break;
    case 'offer': onOffer(msg.offer); break;
    case 'alert': upsertAlert(msg.alert, true); break;
    case 'alert_ack': removeAlert(msg.alert_id); break;
    case 'report': upsertReport(msg.report); break;
    case 'sos_ended': onSosEnded(msg); break;
    case 'forward': onForward(msg.forward); break;
    case 'forward_note': onForwardNote(msg.note); break;
    case 'heartbeat': send({ type: 'pong' }); break;
    case 'bye': setConn('reconnecting', String(msg.reason || '')); break;
    case 'error': if (msg.error && msg.error.message) console.warn('live:', msg.error.code, msg.error.message); break;
    default: break; // the bus below may know it
  }
  emit(msg.type, msg);
}

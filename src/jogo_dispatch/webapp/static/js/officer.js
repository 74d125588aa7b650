/* The officer's screen: duty status, dispatch offers (sound, vibration, countdown), the assignment's
 * progress buttons, GPS streaming from the page over the officer socket, navigation to the scene. The
 * officer's own safety (panic, welfare check, backup) and incidents started on view: safety.js. */
import { ApiError, NetworkError, api, getSession, items, noteServerTime, serverNow } from './api.js';
import { categoryName, refreshCategories } from './categories.js';
import { $, CFG, distance, duration, fill, h, onLangChange, show, t, tCode, toast } from './dom.js';
import { followFix, latestFix, metres, navigationLinks } from './geo.js';
import { PATTERNS, tones, unlockAudio } from '../../live/shared/sound.js';
import {
  apiErrorText, redrawSafety, renderBackup, showWelfareCheck, startSafety, stopSafety, syncOffers, welfareAnswered,
  wireSafety,
} from './safety.js';

const DUTY_KEY = 'jogo.app.duty';
const JOB_KEY = 'jogo.app.job';
const GPS_KEY = 'jogo.app.gps';
const POLL_LIVE_MS = 15000;       // offers are pushed over the socket; the poll is the safety net
const POLL_OFFLINE_MS = 5000;
const RING_EVERY_MS = 6000;
const RECONNECT_MAX_MS = 30000;
const MAX_UNACKED = 200;
const NEXT_STEP = { dispatched: 'en_route', en_route: 'on_scene', on_scene: 'resolved' };

let running = false;
let duty = localStorage.getItem(DUTY_KEY) || null;
let job = loadJob();
let offer = null;             // the pending offer on screen
const seenOffers = new Set(); // ids that already rang
let pollTimer = 0;
let tick = 0;
let ringTimer = 0;

// ------------------------------------------------------------------ offers from the API, whatever their nesting
function offerView(o) {
  const inc = o.incident || {};
  const pick = (...vals) => vals.find((v) => v != null && v !== '');
  return {
    id: pick(o.id, o.offer_id),
    incident_id: pick(o.incident_id, inc.id),
    status: pick(o.status, 'pending'),
    expires_at: pick(o.expires_at, o.expires),
    created_at: pick(o.created_at, o.offered_at),
    distance_m: pick(o.distance_m, inc.distance_m),
    eta_s: pick(o.eta_s, o.eta_seconds, inc.eta_s),
    lat: Number(pick(inc.lat, o.lat, o.incident_lat)),
    lon: Number(pick(inc.lon, o.lon, o.incident_lon)),
    category: pick(inc.category, o.category),
    category_name: pick(inc.category_name, o.category_name),
    priority: pick(inc.priority, o.priority),
    source: pick(inc.source, o.source),
    description: pick(inc.description, o.description, ''),
    address: pick(inc.address, o.address),
    incident_status: pick(inc.status, o.incident_status),
    units: Array.isArray(inc.units) ? inc.units : null,
  };
}

/** Where the officer's own unit stands on its incident (several units each have their own state). */
function unitState(units, offerId, fallback) {
  const u = Array.isArray(units) ? units.find((x) => String(x.offer_id) === String(offerId)) : null;
  return u ? u.state : fallback;
}

function loadJob() {
  try { return JSON.parse(localStorage.getItem(JOB_KEY) || 'null'); } catch (e) { return null; }
}
function saveJob() {
  try { if (job) localStorage.setItem(JOB_KEY, JSON.stringify(job)); else localStorage.removeItem(JOB_KEY); } catch (e) { /* */ }
}

// ------------------------------------------------------------------ alert: WebAudio siren + vibration
// Browsers only let a page make sound after a tap: the login tap (or any tap) unlocks it (app.js).
function ring() {
  const card = $('offer-card');
  card.dataset.alerts = String(Number(card.dataset.alerts || 0) + 1);
  if (navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 800]);
  unlockAudio();
  tones(PATTERNS.offer);
}

// ------------------------------------------------------------------ screen on while on duty (Wake Lock API)
let wakeLock = null;
async function keepScreenOn() {
  if (!running || wakeLock || document.visibilityState !== 'visible' || !('wakeLock' in navigator)) return;
  try {
    wakeLock = await navigator.wakeLock.request('screen');
    wakeLock.addEventListener('release', () => { wakeLock = null; });
  } catch (e) { wakeLock = null; /* battery saver or not allowed: the alert still rings */ }
}
document.addEventListener('visibilitychange', keepScreenOn);

// ------------------------------------------------------------------ start / stop
export function startOfficer() {
  running = true;
  startSafety({ job: () => job, startJob, refresh: refreshOffers });
  refreshCategories().then(() => { renderOffer(); renderJob(); });
  renderDuty();
  refreshDuty();
  renderGpsToggle();
  renderJob();
  connect();
  refreshOffers();
  schedulePoll();
  clearInterval(tick);
  tick = setInterval(renderCountdown, 250);
  if (localStorage.getItem(GPS_KEY) === 'on') startGps();
  keepScreenOn();
}

export function stopOfficer() {
  running = false;
  stopSafety();
  clearTimeout(pollTimer);
  clearInterval(tick);
  clearInterval(ringTimer);
  stopGps(false);
  disconnect();
  if (wakeLock) wakeLock.release().catch(() => {});
  offer = null;
  job = null;
  duty = null;
  saveJob();
  try { localStorage.removeItem(DUTY_KEY); } catch (e) { /* */ }
}

onLangChange(() => {
  if (running) { renderDuty(); renderOffer(); renderJob(); renderGpsToggle(); setWsState(wsState); redrawSafety(); }
});

/** An incident the officer started on view is theirs at once, on scene (safety.js). */
function startJob(j) {
  job = j;
  saveJob();
  duty = 'busy';
  dutyVersion += 1;
  localStorage.setItem(DUTY_KEY, duty);
  renderDuty();
  renderJob();
  refreshOffers();
}

function schedulePoll() {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(async () => {
    if (document.visibilityState === 'visible') await refreshOffers();
    if (running) schedulePoll();
  }, wsState === 'live' ? POLL_LIVE_MS : POLL_OFFLINE_MS);
}

// ------------------------------------------------------------------ duty status
let dutyVersion = 0;  // a tap while the server's word is on its way wins over that word

/** The duty status the server has for this officer (GET /me: duty_status): a new login starts from it. */
async function refreshDuty() {
  const asked = dutyVersion;
  try {
    const me = await api('/me');
    if (!running || asked !== dutyVersion || !me || !me.duty_status) return;
    duty = me.duty_status;
    localStorage.setItem(DUTY_KEY, duty);
    renderDuty();
  } catch (e) { /* offline: the last known state stays */ }
}

async function setDuty(status) {
  dutyVersion += 1;
  const buttons = document.querySelectorAll('#duty button');
  for (const b of buttons) b.disabled = true;
  try {
    await api('/me/status', { method: 'PUT', json: { status } });
    duty = status;
    localStorage.setItem(DUTY_KEY, status);
  } catch (e) {
    toast(apiErrorText(e), 'err');
  } finally {
    for (const b of buttons) b.disabled = false;
    renderDuty();
  }
}

function renderDuty() {
  for (const b of document.querySelectorAll('#duty button')) {
    b.setAttribute('aria-pressed', String(b.dataset.status === duty));
  }
  $('duty').dataset.status = duty || '';
  fill($('duty-now'), duty ? t(`duty.${duty}`) : t('duty.unknown'));
}

// ------------------------------------------------------------------ offers
let offersBusy = false;
async function refreshOffers() {
  if (!running || offersBusy) return;
  offersBusy = true;
  const askedAt = Date.now();
  try {
    const raw = items(await api('/me/offers'));
    applyOffers(raw.map(offerView));
    syncOffers(raw, askedAt);
  } catch (e) {
    if (!(e instanceof NetworkError) && !(e instanceof ApiError && e.status === 401)) {
      fill($('officer-note'), apiErrorText(e));
    }
  } finally {
    offersBusy = false;
  }
}

function applyOffers(list) {
  const accepted = list.find((o) => o.status === 'accepted');
  if (accepted && (!job || String(job.offer_id) !== String(accepted.id))) {
    job = { ...accepted, offer_id: accepted.id,
      status: unitState(accepted.units, accepted.id, accepted.incident_status || 'dispatched') };
    saveJob();
  } else if (accepted && job) {
    job.status = unitState(accepted.units, accepted.id, accepted.incident_status || job.status);
    saveJob();
  } else if (job && !list.some((o) => String(o.id) === String(job.offer_id) && o.status === 'accepted')) {
    // the list holds the pending and accepted offers: ours is gone, so the incident was closed or cancelled
    job = null;
    saveJob();
    toast(t('job.ended'));
  }
  const pending = list.filter((o) => o.status === 'pending' && remainingMs(o) > 0)
    .sort((a, b) => remainingMs(a) - remainingMs(b))[0] || null;
  showOffer(pending);
  renderJob();
}

function showOffer(o) {
  const isNew = o && !seenOffers.has(o.id);
  offer = o;
  renderOffer();
  clearInterval(ringTimer);
  if (!o) return;
  if (isNew) { seenOffers.add(o.id); ring(); }
  ringTimer = setInterval(() => { if (offer && remainingMs(offer) > 0) ring(); else clearInterval(ringTimer); }, RING_EVERY_MS);
}

const remainingMs = (o) => {
  const end = Date.parse(o.expires_at);
  return Number.isFinite(end) ? end - serverNow() : 60000;
};

function describe(o) {
  const cat = o.category_name || categoryName(o.category);
  return [
    h('div', { class: 'row' },
      h('b', { class: 'offer-title' }, cat),
      o.priority != null ? h('span', { class: `chip p${o.priority}` }, t('offer.priority', { p: o.priority })) : null),
    o.description ? h('p', { class: 'desc' }, o.description) : null,
    o.address ? h('p', { class: 'muted' }, o.address) : null,
  ];
}

function renderOffer() {
  const card = $('offer-card');
  show(card, Boolean(offer));
  if (!offer) return;
  card.dataset.offerId = offer.id;
  fill($('offer-body'), describe(offer));
  let dist = offer.distance_m;
  const me = latestFix();
  if (dist == null && me && Number.isFinite(offer.lat)) dist = metres(me, offer);
  fill($('offer-distance'), distance(dist));
  fill($('offer-eta'), duration(offer.eta_s));
  renderCountdown();
}

function renderCountdown() {
  if (!offer) return;
  const left = remainingMs(offer);
  const total = Math.max(1, Date.parse(offer.expires_at) - (Date.parse(offer.created_at) || Date.parse(offer.expires_at) - 60000));
  const bar = $('offer-bar');
  bar.style.width = `${Math.max(0, Math.min(100, (100 * left) / total))}%`;
  fill($('offer-countdown'), left > 0 ? t('offer.left', { s: Math.ceil(left / 1000) }) : t('offer.expired'));
  $('offer-card').dataset.expired = String(left <= 0);
  $('offer-accept').disabled = left <= 0;
  $('offer-decline').disabled = left <= 0;
  if (left <= -3000) { offer = null; renderOffer(); refreshOffers(); }
}

async function answer(accept) {
  if (!offer) return;
  const o = offer;
  $('offer-accept').disabled = true;
  $('offer-decline').disabled = true;
  try {
    const r = await api(`/offers/${encodeURIComponent(o.id)}/${accept ? 'accept' : 'decline'}`, { method: 'POST', json: {} });
    clearInterval(ringTimer);
    offer = null;
    renderOffer();
    if (accept) {
      const fresh = r && typeof r === 'object' ? offerView({ ...r, incident: r.incident || undefined }) : {};
      job = { ...o, ...Object.fromEntries(Object.entries(fresh).filter(([, v]) => v != null && !Number.isNaN(v))),
        offer_id: o.id, status: (r && (r.incident_status || (r.incident && r.incident.status))) || 'dispatched' };
      saveJob();
      duty = 'busy';
      dutyVersion += 1;
      localStorage.setItem(DUTY_KEY, duty);
      renderDuty();
      toast(t('offer.accepted'), 'ok');
    } else {
      toast(t('offer.declined'));
    }
    renderJob();
    refreshOffers();
  } catch (e) {
    toast(apiErrorText(e), 'err');
    if (e instanceof ApiError && [404, 409, 410].includes(e.status)) { offer = null; renderOffer(); refreshOffers(); }
    else renderCountdown();
  }
}

// ------------------------------------------------------------------ the assignment
function renderJob() {
  show('job-card', Boolean(job));
  show('officer-idle', !job && !offer);
  show('onview-card', !job && !offer);
  renderBackup();
  if (!job) return;
  $('job-card').dataset.status = job.status;
  $('job-card').dataset.incidentId = job.incident_id;
  fill($('job-body'), describe(job),
    h('p', null, t('job.status'), ' ', h('span', { class: `chip status-${job.status}`, id: 'job-status' },
      tCode('incident_status', job.status))));
  const ok = Number.isFinite(job.lat) && Number.isFinite(job.lon);
  show('job-nav', ok);
  if (ok) {
    const links = navigationLinks(job.lat, job.lon);
    $('nav-geo').href = links.geo;
    $('nav-web').href = links.web;
    fill($('job-coords'), `${job.lat.toFixed(5)}, ${job.lon.toFixed(5)}`);
  }
  const next = NEXT_STEP[job.status];
  for (const b of document.querySelectorAll('#job-steps button')) {
    b.disabled = b.dataset.step !== next;
    b.classList.toggle('primary', b.dataset.step === next);
  }
}

async function step(status) {
  if (!job) return;
  for (const b of document.querySelectorAll('#job-steps button')) b.disabled = true;
  try {
    const r = await api(`/incidents/${encodeURIComponent(job.incident_id)}/status`, { method: 'POST', json: { status } });
    const incidentStatus = (r && r.status) || status;
    const mine = unitState(r && r.units, job.offer_id, incidentStatus);
    job.status = mine === 'cleared' ? 'resolved' : mine;
    if (job.status === 'resolved' || job.status === 'cancelled' || incidentStatus === 'cancelled') {
      toast(incidentStatus === 'resolved' || incidentStatus === 'cancelled' ? t('job.done') : t('job.unit_cleared'), 'ok');
      job = null;
      duty = 'available';
      dutyVersion += 1;
      localStorage.setItem(DUTY_KEY, duty);
      renderDuty();
    }
    saveJob();
  } catch (e) {
    toast(apiErrorText(e), 'err');
    if (e instanceof ApiError && e.status === 409 && e.details && e.details.from) { job.status = e.details.from; saveJob(); }
  } finally {
    renderJob();
  }
}

// ------------------------------------------------------------------ the officer socket
let ws = null;
let wsState = 'off';
let retries = 0;
let reconnectTimer = 0;
let seq = 0;
const unacked = new Map(); // seq → message, resent after a reconnect (the server drops duplicates)

function setWsState(state) {
  wsState = state;
  const el = $('ws-state');
  el.dataset.state = state;
  fill(el, t(`ws.${state}`));
}

function connect() {
  const s = getSession();
  if (!running || !s || ws) return;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const path = CFG.officer_stream_path || '/api/v1/officers/stream';
  setWsState(retries ? 'reconnecting' : 'connecting');
  let sock;
  try {
    sock = new WebSocket(`${proto}//${location.host}${path}?token=${encodeURIComponent(s.token)}`);
  } catch (e) { scheduleReconnect(); return; }
  ws = sock;
  sock.onmessage = (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (msg.server_time) noteServerTime(msg.server_time);
    onSocketMessage(msg);
  };
  sock.onclose = (ev) => {
    if (ws !== sock) return;
    ws = null;
    if (!running) return;
    if (ev.code === 4401 || ev.code === 4403) { setWsState('off'); return; }
    scheduleReconnect();
  };
  sock.onerror = () => { /* onclose follows */ };
}

function scheduleReconnect() {
  setWsState(navigator.onLine ? 'reconnecting' : 'off');
  retries += 1;
  clearTimeout(reconnectTimer);
  const wait = Math.min(RECONNECT_MAX_MS, 1000 * 2 ** Math.min(retries, 5)) * (0.8 + Math.random() * 0.4);
  reconnectTimer = setTimeout(connect, wait);
  schedulePoll();
}

function disconnect() {
  clearTimeout(reconnectTimer);
  const sock = ws;
  ws = null;
  if (sock) try { sock.close(1000); } catch (e) { /* */ }
  setWsState('off');
}

window.addEventListener('online', () => { if (running && !ws) { retries = 0; connect(); } });

function onSocketMessage(msg) {
  const type = String(msg.type || '');
  if (type === 'hello') {
    retries = 0;
    setWsState('live');
    schedulePoll();
    refreshDuty();
    for (const m of unacked.values()) send(m);
    refreshOffers();
  } else if (type === 'ack') {
    unacked.delete(msg.seq);
    const n = $('gps-count');
    n.dataset.acked = String(Number(n.dataset.acked || 0) + (msg.accepted || 0));
    renderGpsCount();
  } else if (type === 'welfare_check') {
    // {"type": "welfare_check", "offer_id", "incident_id", "deadline", "text"}: "Aman?" on screen at once
    showWelfareCheck(msg);
  } else if (type === 'welfare_answered') {
    welfareAnswered(msg);
  } else if (type === 'offer') {
    // {"type": "offer", "offer_id", ...the offer, "incident": {...}}: on screen at once, then the API's word
    const o = offerView(msg.offer || msg);
    if (o.id != null && o.status === 'pending' && remainingMs(o) > 0) showOffer(o);
    refreshOffers();
  } else if (type === 'offer_withdrawn') {
    if (offer && String(offer.id) === String(msg.offer_id)) {
      showOffer(null);
      toast(t('offer.withdrawn'));
    }
    refreshOffers();
  } else if (type.startsWith('offer')) {
    refreshOffers();
  } else if (type.startsWith('incident') || type.startsWith('assignment')) {
    refreshOffers();
  } else if (type === 'error' && msg.error && /unauthori[sz]ed|token/.test(msg.error.code || '')) {
    disconnect();
  }
}

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

// ------------------------------------------------------------------ GPS from the page
// A tunnel or a building loses the signal for a while: the watch keeps retrying (geo.followFix) and the
// state says so; only a denied permission switches the page's GPS off, with what to do about it.
let stopWatch = null;
let gps = { state: 'off' };  // off | searching (attempt, retry_ms) | ok | denied

function startGps() {
  if (stopWatch) return;
  localStorage.setItem(GPS_KEY, 'on');
  gps = { state: 'searching', attempt: 0 };
  stopWatch = followFix((fix) => {
    gps = { state: 'ok', accuracy_m: fix.accuracy_m };
    seq += 1;
    const msg = {
      type: 'ping', seq,
      ping: {
        lat: fix.lat, lon: fix.lon, recorded_at: fix.recorded_at, accuracy_m: fix.accuracy_m,
        speed_mps: fix.speed_mps, heading_deg: fix.heading_deg,
      },
    };
    unacked.set(seq, msg);
    if (unacked.size > MAX_UNACKED) unacked.delete(unacked.keys().next().value);
    send(msg);
    $('gps-count').dataset.sent = String(seq);
    renderGpsCount();
  }, (state, info) => {
    if (state === 'denied') {
      stopGps(true);
      gps = { state: 'denied' };
      toast(t('geo.denied'), 'err');
    } else if (state === 'searching') {
      gps = { state, attempt: info.attempt || 0, retry_ms: info.retry_ms || 0 };
    } else {
      gps = { ...gps, state };
    }
    renderGpsCount();
  });
  renderGpsToggle();
}

function stopGps(remember) {
  if (stopWatch) stopWatch();
  stopWatch = null;
  gps = { state: 'off' };
  if (remember) localStorage.setItem(GPS_KEY, 'off');
  renderGpsToggle();
}

function renderGpsToggle() {
  $('gps-stream').checked = Boolean(stopWatch);
  renderGpsCount();
}

function gpsStateText() {
  if (gps.state === 'searching') {
    return gps.attempt ? t('gps.searching_retry', { s: Math.round((gps.retry_ms || 0) / 1000), n: gps.attempt })
      : t('gps.searching');
  }
  if (gps.state === 'ok') {
    return t('gps.ok', { acc: gps.accuracy_m == null ? '?' : Math.round(gps.accuracy_m) });
  }
  if (gps.state === 'denied') return t('gps.denied_fix');
  return '';
}

function renderGpsCount() {
  const el = $('gps-count');
  fill(el, stopWatch ? t('gps.count', { sent: el.dataset.sent || 0, acked: el.dataset.acked || 0 }) : t('gps.off'));
  const st = $('gps-state');
  st.dataset.state = gps.state;
  fill(st, gpsStateText());
  show(st, gps.state !== 'off');
}

// ------------------------------------------------------------------ wiring (once)
export function wireOfficer() {
  for (const b of document.querySelectorAll('#duty button')) b.addEventListener('click', () => setDuty(b.dataset.status));
  $('offer-accept').addEventListener('click', () => answer(true));
  $('offer-decline').addEventListener('click', () => answer(false));
  for (const b of document.querySelectorAll('#job-steps button')) b.addEventListener('click', () => step(b.dataset.step));
  $('gps-stream').addEventListener('change', (ev) => (ev.target.checked ? startGps() : stopGps(true)));
  $('offers-refresh').addEventListener('click', refreshOffers);
  wireSafety();
}

/* The citizen's screens: SOS, report form, my reports (with the outbox), account (points, warnings, appeal). */
import { ApiError, NetworkError, api, items, owner } from './api.js';
import {
  $, distance, fill, fixed, h, hasText, onLangChange, show, t, tCode, toast, when,
} from './dom.js';
import { categories, categoryName, knownCategories, refreshCategories } from './categories.js';
import { currentFix, followFix, latestFix, metres, pinMap } from './geo.js';
import * as outbox from './outbox.js';

const SOS_KEY = 'jogo.app.sos';
const SOS_MIN_INTERVAL_MS = 5000;   // at most one location update per 5 s...
const SOS_HEARTBEAT_MS = 15000;     // ...and at least one per 15 s while the SOS is open
const SOS_MIN_MOVE_M = 10;
const MINE_POLL_MS = 15000;
const PHOTO_MAX_PX = 1600;
const PHOTO_QUALITY = 0.85;

let running = false;
let pin = null;
let reporterFix = null;
let photo = null;          // {buffer, type, name, width, height, url}
let pollTimer = 0;
let blocked = false;

// ------------------------------------------------------------------ outbox senders (registered once)
outbox.registerSender('report', async (item) => {
  const p = item.payload;
  const form = new FormData();
  for (const k of ['category', 'description', 'lat', 'lon', 'reporter_lat', 'reporter_lon']) form.append(k, String(p[k]));
  if (p.reporter_accuracy_m != null) form.append('reporter_accuracy_m', String(p.reporter_accuracy_m));
  if (p.address) form.append('address', p.address);
  if (p.photo) form.append('photo', new Blob([p.photo.buffer], { type: p.photo.type }), p.photo.name);
  return api('/reports', { method: 'POST', form, key: item.key });
});
outbox.registerSender('sos', (item) => api('/sos', { method: 'POST', json: item.payload, key: item.key }));
// "End SOS" pressed while the connection was down: the command centre hears it when the phone is back online
outbox.registerSender('sos_end', (item) => endSosCall(item.payload.sos_id, item.key));

/** POST /sos/{id}/end (idempotent). An SOS the server no longer has open counts as ended. */
async function endSosCall(sosId, key) {
  try {
    return await api(`/sos/${encodeURIComponent(sosId)}/end`, { method: 'POST', json: {}, key });
  } catch (e) {
    // closed already (by the command centre, or an earlier attempt): ended; a server without the route
    // (a plain 404 "http_404") is not that, and says so
    if (e instanceof ApiError && e.code !== 'http_404' && [404, 409, 410].includes(e.status)) {
      return { sos_id: sosId, already: true, code: e.code };
    }
    throw e;
  }
}

// ------------------------------------------------------------------ start / stop
export function startCitizen() {
  running = true;
  loadCategories();
  sosResume();
  renderOutbox();
  refreshMine();
  refreshAccount();
  clearInterval(pollTimer);
  pollTimer = setInterval(() => { if (document.visibilityState === 'visible') refreshMine(); }, MINE_POLL_MS);
}

export function stopCitizen() {
  running = false;
  try { localStorage.removeItem(mineKey()); } catch (e) { /* */ }
  fill($('mine-list'));
  clearInterval(pollTimer);
  sosStopTracking();
  sos = null;
  myRank = null;
  show('account-main', true);
  show('account-leaderboard', false);
  fill($('points-history'));
  fill($('leaderboard-list'));
  resetReportForm();
}

/** A tab was shown: the report map needs a size, the report tab a fix, the lists fresh data. */
export function citizenTabShown(tab) {
  if (tab === 'report') {
    ensureMap();
    if (pin) setTimeout(() => pin.refresh(), 0);
    if (!reporterFix) locate(false);
  } else if (tab === 'mine') refreshMine();
  else if (tab === 'account') { showLeaderboard(false); refreshAccount(); }
}

outbox.subscribe((item) => {
  if (!running) return;
  renderOutbox();
  if (item.kind === 'sos') sosOnItem(item);
  if (item.kind === 'sos_end' && item.state === 'sent') toast(t('sos.end_delivered'), 'ok', 8000);
  if (item.state === 'sent' && item.kind === 'report') refreshMine();
  if (item.state === 'failed' && item.error && item.error.code === 'account_blocked') setBlocked(true);
});

onLangChange(() => {
  if (!running) return;
  fillCategories();
  renderOutbox();
  refreshMine();
  refreshAccount();
  if (!$('account-leaderboard').hidden) refreshLeaderboard();
  renderSos();
});

// ------------------------------------------------------------------ SOS
let sos = null;  // {item_id, started_at, sos_id, incident_id, incident_status, nearest, sent, last_at}
let stopWatch = null;
let heartbeat = 0;
let lastSent = null;  // {lat, lon, at}
let sending = false;

// kept per user: a closed tab resumes an open SOS, and the next person to log in on this phone starts clean
const sosKey = () => `${SOS_KEY}.${owner()}`;
function loadSos() {
  try { return JSON.parse(localStorage.getItem(sosKey()) || 'null'); } catch (e) { return null; }
}
function saveSos() {
  try { if (sos) localStorage.setItem(sosKey(), JSON.stringify(sos)); else localStorage.removeItem(sosKey()); } catch (e) { /* */ }
}

async function sosPress() {
  if (sos) return;
  const btn = $('sos-btn');
  btn.disabled = true;
  fill($('sos-note'), t('sos.locating'));
  let fix;
  try {
    fix = await currentFix({ maximumAge: 30000, timeout: 8000 });
  } catch (e) {
    fix = latestFix();
    if (!fix) {
      btn.disabled = false;
      fill($('sos-note'), e && e.code === 1 ? t('geo.denied') : t('geo.unavailable'));
      show('sos-call', true);
      return;
    }
  }
  if (navigator.vibrate) navigator.vibrate(200);
  const item = await outbox.enqueue('sos', { lat: fix.lat, lon: fix.lon, accuracy_m: fix.accuracy_m ?? null }, 'SOS');
  sos = { item_id: item.id, started_at: Date.now(), sos_id: null, incident_id: null, sent: 0, last_at: null };
  saveSos();
  btn.disabled = false;
  renderSos();
}

async function sosOnItem(item) {
  if (!sos || item.id !== sos.item_id) return;
  if (item.state === 'sent' && !sos.sos_id && item.result) {
    sos.sos_id = item.result.sos_id ?? item.result.id;
    sos.incident_id = item.result.incident_id ?? null;
    sos.nearest = Array.isArray(item.result.nearest)
      ? item.result.nearest.slice(0, 3).map((c) => ({ officer_id: c.officer_id, distance_m: c.distance_m })) : [];
    sos.shortfall = item.result.shortfall_reason || null;
    sos.received_at = item.sent_at || Date.now();
    sos.sent = 1;
    sos.incident_status = item.result.status || null;
    sos.last_at = Date.now();
    lastSent = { lat: item.payload.lat, lon: item.payload.lon, at: Date.now() };
    saveSos();
    sosStartTracking();
  }
  if (item.state === 'discarded') { sos = null; saveSos(); }
  if (sos && sos.ending && sos.sos_id) { await sosEnd(); return; }  // "End" was pressed while it was sending
  renderSos();
}

async function sosResume() {
  sos = loadSos();
  lastSent = null;
  if (!sos) { renderSos(); return; }
  const item = await outbox.find(sos.item_id);
  if (item && item.state === 'sent' && !sos.sos_id) await sosOnItem(item);
  else if (sos.sos_id) sosStartTracking();
  renderSos();
}

function sosStartTracking() {
  if (!sos || !sos.sos_id || stopWatch) return;
  // a lost signal is retried (geo.followFix); the heartbeat keeps sending the last fix meanwhile
  stopWatch = followFix((fix) => sosSendLocation(fix, false), () => {});
  clearInterval(heartbeat);
  heartbeat = setInterval(() => { const f = latestFix(); if (f) sosSendLocation(f, true); }, SOS_HEARTBEAT_MS);
}

function sosStopTracking() {
  if (stopWatch) stopWatch();
  stopWatch = null;
  clearInterval(heartbeat);
}

async function sosSendLocation(fix, heartbeatTick) {
  if (!sos || !sos.sos_id || sending) return;
  const now = Date.now();
  if (lastSent) {
    if (now - lastSent.at < SOS_MIN_INTERVAL_MS) return;
    if (!heartbeatTick && metres(lastSent, fix) < SOS_MIN_MOVE_M && now - lastSent.at < SOS_HEARTBEAT_MS) return;
    if (heartbeatTick && now - lastSent.at < SOS_HEARTBEAT_MS - 1000) return;
  }
  sending = true;
  try {
    const r = await api(`/sos/${encodeURIComponent(sos.sos_id)}/location`, {
      method: 'POST',
      json: { lat: fix.lat, lon: fix.lon, accuracy_m: fix.accuracy_m ?? null, recorded_at: fix.recorded_at },
    });
    lastSent = { lat: fix.lat, lon: fix.lon, at: now };
    sos.sent = r && Number.isFinite(r.points) ? r.points : sos.sent + 1;
    if (r && r.status) sos.incident_status = r.status;
    sos.last_at = now;
    sos.offline = false;
    saveSos();
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 410 || e.code === 'sos_closed' || e.code === 'sos_ended')) {
      // the command centre closed this SOS, or it was ended (from another tab, or by an operator)
      sosStopTracking();
      sos = null;
      saveSos();
      toast(e.code === 'sos_ended' ? t('sos.ended_remote') : t('sos.closed'), 'ok', 8000);
    } else if (e instanceof NetworkError) {
      sos.offline = true;  // the next fix goes out when the connection is back
    }
  } finally {
    sending = false;
    renderSos();
  }
}

/** "Akhiri SOS": the trail stops at once; the command centre is told (now, or from the outbox when back online). */
async function sosStop() {
  if (!sos || !window.confirm(t('sos.stop_confirm'))) return;
  if (!sos.sos_id) {
    const item = await outbox.find(sos.item_id);
    if (item && item.state === 'sending') {  // on its way: end it as soon as the server has opened it
      sos.ending = true;
      saveSos();
      renderSos();
      return;
    }
    // never reached the server: nothing to end there
    if (item && (item.state === 'pending' || item.state === 'failed')) await outbox.discard(item.id);
    sosClear();
    toast(t('sos.cancelled'), 'ok');
    return;
  }
  await sosEnd();
}

async function sosEnd() {
  const sosId = sos.sos_id;
  sosStopTracking();
  $('sos-stop').disabled = true;
  try {
    await endSosCall(sosId);
    toast(t('sos.ended'), 'ok', 8000);
  } catch (e) {
    if (e instanceof NetworkError || (e instanceof ApiError && e.retryable)) {
      await outbox.enqueue('sos_end', { sos_id: sosId }, 'SOS');
      toast(t('sos.end_queued'), null, 8000);
    } else {
      toast(`${t('sos.end_failed')} ${errorText({ code: e.code, message: e.message })}`, 'err', 10000);
    }
  } finally {
    $('sos-stop').disabled = false;
    sosClear();
  }
}

function sosClear() {
  sosStopTracking();
  sos = null;
  lastSent = null;
  saveSos();
  renderSos();
}

async function renderSos() {
  const item = sos ? await outbox.find(sos.item_id) : null;
  const state = !sos ? 'idle' : sos.sos_id ? 'active' : item ? item.state : 'pending';
  const box = $('sos-screen');
  box.dataset.state = state;
  show('sos-btn', state === 'idle');
  show('sos-hint', state === 'idle');
  show('sos-status', state !== 'idle');
  show('sos-call', state !== 'idle' && state !== 'active');
  if (state === 'idle') { fill($('sos-note')); return; }
  const title = {
    active: t('sos.active'), pending: t('sos.pending'), sending: t('sos.sending'), failed: t('sos.failed'),
    sent: t('sos.sending'),
  }[state] || t('sos.pending');
  fill($('sos-title'), title);
  const lines = [];
  if (state === 'active') {
    // what happened, no more: the command centre has the SOS; the nearest officers were found, not called
    lines.push(h('p', { id: 'sos-received' }, sosReceivedText()));
    if (!sos.incident_status || ['new', 'verified'].includes(sos.incident_status)) {
      lines.push(h('p', { class: 'muted' }, t('sos.not_assigned')));
    }
    lines.push(h('p', null, t('sos.active_help')));
    if (sos.incident_status) {
      lines.push(h('p', null, t('mine.incident'), ' ', h('span', { class: `chip status-${sos.incident_status}` },
        tCode('incident_status', sos.incident_status))));
    }
    lines.push(h('p', { class: 'muted', id: 'sos-updates' },
      t('sos.updates', { n: sos.sent || 0, at: sos.last_at ? when(sos.last_at) : '—' })));
    if (sos.offline) lines.push(h('p', { class: 'warn' }, t('sos.offline_updates')));
  } else if (state === 'failed') {
    lines.push(h('p', { class: 'error' }, errorText(item.error)));
  } else {
    lines.push(h('p', null, t('sos.pending_help')));
  }
  fill($('sos-detail'), lines);
  fill($('sos-note'));
  fill($('sos-stop'), sos.ending ? t('sos.ending') : t('sos.stop'));
  $('sos-stop').disabled = Boolean(sos.ending);
}

function sosReceivedText() {
  const near = (sos.nearest || []).filter((c) => Number.isFinite(Number(c.distance_m)));
  if (!near.length) return t('sos.received_nobody');
  const far = Math.max(...near.map((c) => Number(c.distance_m)));
  return t(near.length === 1 ? 'sos.received_one' : 'sos.received_nearest', { n: near.length, d: distance(far) });
}

// ------------------------------------------------------------------ report form
async function loadCategories() {
  fillCategories();
  await refreshCategories();
  fillCategories();
}

function fillCategories() {
  const sel = $('rep-category');
  const chosen = sel.value;
  fill(sel, h('option', { value: '' }, t('report.category_pick')),
    categories().map((c) => h('option', { value: c.code }, categoryName(c.code))));
  sel.value = categories().some((c) => c.code === chosen) ? chosen : '';
}

function ensureMap() {
  if (pin || !window.L) return;
  pin = pinMap($('rep-map'), (p) => { showCoords(p, false); });
  const f = reporterFix || latestFix();
  if (f) pin.set(f.lat, f.lon);
  showCoords(pin.get(), !f);
}

function showCoords(p, guessed) {
  const el = $('rep-coords');
  el.dataset.lat = p.lat;
  el.dataset.lon = p.lon;
  fill(el, `${fixed(p.lat)}, ${fixed(p.lon)}`, guessed ? ` · ${t('report.pin_guess')}` : '');
}

async function locate(loud) {
  const btn = $('rep-locate');
  btn.disabled = true;
  try {
    reporterFix = await currentFix();
    ensureMap();
    if (pin) { pin.set(reporterFix.lat, reporterFix.lon, 17); showCoords(pin.get(), false); }
    fill($('rep-gps'), t('report.gps_ok', { acc: reporterFix.accuracy_m == null ? '?' : Math.round(reporterFix.accuracy_m) }));
  } catch (e) {
    fill($('rep-gps'), e && e.code === 1 ? t('geo.denied') : t('geo.unavailable'));
    if (loud) toast(e && e.code === 1 ? t('geo.denied') : t('geo.unavailable'), 'err');
  } finally {
    btn.disabled = false;
  }
}

/** JPEG of at most PHOTO_MAX_PX on the longer side, drawn through a canvas (EXIF rotation applied). */
async function downscale(file) {
  let img;
  try {
    img = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch (e) {
    img = await new Promise((resolve, reject) => {
      const el = new Image();
      el.onload = () => resolve(el);
      el.onerror = () => reject(new Error('not an image'));
      el.src = URL.createObjectURL(file);
    });
  }
  const w0 = img.width || img.naturalWidth;
  const h0 = img.height || img.naturalHeight;
  const scale = Math.min(1, PHOTO_MAX_PX / Math.max(w0, h0));
  const w = Math.max(1, Math.round(w0 * scale));
  const hgt = Math.max(1, Math.round(h0 * scale));
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = hgt;
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingQuality = 'high';
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, hgt);
  ctx.drawImage(img, 0, 0, w, hgt);
  if (img.close) img.close();
  const blob = await new Promise((resolve, reject) => canvas.toBlob(
    (b) => (b ? resolve(b) : reject(new Error('encode'))), 'image/jpeg', PHOTO_QUALITY));
  return { blob, width: w, height: hgt };
}

async function onPhoto(ev) {
  const file = ev.target.files && ev.target.files[0];
  clearPhoto(false);
  if (!file) return;
  fill($('rep-photo-info'), t('report.photo_working'));
  try {
    const { blob, width, height } = await downscale(file);
    photo = { buffer: await blob.arrayBuffer(), type: 'image/jpeg', name: 'photo.jpg', width, height,
      url: URL.createObjectURL(blob) };
    $('rep-preview').src = photo.url;
    show('rep-photo-box', true);
    fill($('rep-photo-info'), t('report.photo_ready', { w: width, h: height, kb: Math.round(blob.size / 1024) }));
  } catch (e) {
    photo = null;
    fill($('rep-photo-info'), t('report.photo_bad'));
  }
}

function clearPhoto(resetInput = true) {
  if (photo && photo.url) URL.revokeObjectURL(photo.url);
  photo = null;
  if (resetInput) $('rep-photo').value = '';
  $('rep-preview').removeAttribute('src');
  show('rep-photo-box', false);
  fill($('rep-photo-info'));
}

function resetReportForm() {
  $('form-report').reset();
  clearPhoto();
  fill($('rep-error'));
}

async function submitReport(ev) {
  ev.preventDefault();
  const err = $('rep-error');
  fill(err);
  const category = $('rep-category').value;
  const description = $('rep-desc').value.trim();
  if (!category) { fill(err, t('report.need_category')); return; }
  if (description.length < 5) { fill(err, t('report.need_description')); return; }
  ensureMap();
  const where = pin ? pin.get() : (reporterFix || latestFix());
  if (!where) { fill(err, t('report.need_location')); return; }
  // where the phone was; without any fix the pin is all we know
  const phone = reporterFix || latestFix() || where;
  const payload = {
    category, description, lat: round6(where.lat), lon: round6(where.lon),
    reporter_lat: round6(phone.lat), reporter_lon: round6(phone.lon),
    reporter_accuracy_m: phone === where ? null : (phone.accuracy_m ?? null),
    address: $('rep-address').value.trim() || null,
    photo: photo ? { buffer: photo.buffer, type: photo.type, name: photo.name } : null,
  };
  const item = await outbox.enqueue('report', payload, categoryName(category));
  $('rep-last').dataset.item = item.id;
  resetReportForm();
  if (!navigator.onLine) toast(t('report.queued_offline'));
}
const round6 = (x) => Math.round(x * 1e6) / 1e6;

// ------------------------------------------------------------------ outbox list
const STATE_CLASS = { pending: 'warn', sending: 'info', sent: 'ok', failed: 'bad' };

function errorText(error) {
  if (!error) return '';
  if (error.code === 'account_blocked') return t('err.account_blocked');
  if (error.code === 'network') return t('err.network');
  if (error.code === 'unauthorized' || error.code === 'http_401') return t('err.login_again');
  if (error.code === 'http_429' || error.code === 'rate_limited') return t('err.rate_limited');
  if (hasText(`err.${error.code}`)) return t(`err.${error.code}`);
  return error.status >= 500 ? t('err.server') : t('err.failed', { code: error.code || '?' });
}

function outboxRow(item) {
  const state = item.state;
  const what = item.kind === 'sos' ? 'SOS'
    : item.kind === 'sos_end' ? t('outbox.sos_end') : `${t('outbox.report')}: ${item.label || ''}`;
  let detail = '';
  if (state === 'pending') detail = item.error ? `${t('outbox.retrying')} (${errorText(item.error)})` : t('outbox.waiting');
  if (state === 'sent') detail = t('outbox.sent_at', { at: when(item.sent_at) });
  if (state === 'failed') detail = errorText(item.error);
  const actions = [];
  if (state === 'failed') {
    actions.push(h('button', { type: 'button', class: 'small', onclick: () => outbox.retry(item.id) }, t('outbox.retry')));
  }
  if (state === 'pending' || state === 'failed') {
    actions.push(h('button', { type: 'button', class: 'small subtle', onclick: () => outbox.discard(item.id) },
      t('outbox.discard')));
  }
  if (state === 'pending' && navigator.onLine) {
    actions.push(h('button', { type: 'button', class: 'small', onclick: () => outbox.wake() }, t('outbox.send_now')));
  }
  return h('li', { class: 'outbox-item', dataset: { state, kind: item.kind, id: item.id } },
    h('div', { class: 'row' },
      h('b', null, what),
      h('span', { class: `chip ${STATE_CLASS[state] || ''} outbox-state` }, t(`outbox.${state}`))),
    h('div', { class: 'muted' }, when(item.created_at), detail ? ` · ${detail}` : ''),
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

async function renderOutbox() {
  const all = await outbox.list();
  const waiting = all.filter((i) => i.state !== 'sent').length;
  for (const el of document.querySelectorAll('.outbox-list')) {
    const limit = Number(el.dataset.limit || 20);
    fill(el, all.slice(0, limit).map(outboxRow));
    show(el.closest('.outbox-box'), all.length > 0);
  }
  const badge = $('badge-mine');
  fill(badge, waiting ? String(waiting) : '');
  show(badge, waiting > 0);
  const last = $('rep-last');
  const item = last.dataset.item && all.find((i) => i.id === last.dataset.item);
  show(last, Boolean(item));
  if (item) {
    last.dataset.state = item.state;
    fill(last, h('span', { class: `chip ${STATE_CLASS[item.state] || ''}` }, t(`outbox.${item.state}`)), ' ',
      t(`report.last_${item.state}`));
  }
}

// ------------------------------------------------------------------ my reports
let mineBusy = false;
const mineKey = () => `jogo.app.mine.${owner()}`;

function renderMine(list) {
  fill($('mine-list'), list.length ? list.map(mineRow) : h('li', { class: 'empty' }, t('mine.empty')));
}

async function refreshMine() {
  if (!running || mineBusy) return;
  mineBusy = true;
  try {
    const list = items(await api('/reports/mine'));
    renderMine(list);
    fill($('mine-updated'), t('mine.updated', { at: when(Date.now()) }));
    try { localStorage.setItem(mineKey(), JSON.stringify({ at: Date.now(), items: list.slice(0, 50) })); } catch (e) { /* */ }
  } catch (e) {
    if (e instanceof NetworkError) {
      // offline: what we saw last time
      let cached = null;
      try { cached = JSON.parse(localStorage.getItem(mineKey()) || 'null'); } catch (err) { cached = null; }
      if (cached) renderMine(cached.items || []);
      fill($('mine-updated'), cached ? t('mine.offline_at', { at: when(cached.at) }) : t('mine.offline'));
    } else fill($('mine-updated'), errorText(e));
  } finally {
    mineBusy = false;
  }
}

function mineRow(r) {
  const incident = r.incident || {};
  const incStatus = r.incident_status ?? incident.status ?? null;
  return h('li', { class: 'report', dataset: { id: r.id, status: r.status } },
    h('div', { class: 'row' },
      h('b', null, categoryName(r.category || r.category_code)),
      h('span', { class: `chip status-${r.status}` }, tCode('report_status', r.status))),
    r.description ? h('p', { class: 'desc' }, r.description) : null,
    incStatus ? h('p', { class: 'incident' }, t('mine.incident'), ' ',
      h('span', { class: `chip status-${incStatus}` }, tCode('incident_status', incStatus))) : null,
    h('div', { class: 'muted' }, `#${r.id} · ${when(r.created_at || r.received_at)}`,
      r.address ? ` · ${r.address}` : '', r.has_photo ? ` · ${t('mine.photo')}` : ''));
}

// ------------------------------------------------------------------ account: points, warnings, appeal
let myRank = null;

async function refreshAccount() {
  if (!running) return;
  try {
    // GET /me/points: {user_id, total, awards, rank, history: [{id, report_id, category, points, awarded_at}]}
    const p = await api('/me/points');
    myRank = p.rank ?? null;
    fill($('points-total'), String(p.total ?? 0));
    fill($('points-rank'), myRank != null ? t('account.rank', { n: myRank }) : t('account.no_rank'));
    $('points-rank').dataset.rank = myRank ?? '';
    fill($('points-summary'), t('account.awards', { n: p.awards ?? 0 }));
    const history = items(p.history);
    await knownCategories(); // each award names its category
    fill($('points-history'), history.length ? history.slice(0, 10).map(awardRow)
      : h('li', { class: 'muted' }, t('account.no_points')));
  } catch (e) {
    fill($('points-total'), '—');
    fill($('points-rank'));
    fill($('points-summary'));
    fill($('points-history'), h('li', { class: 'muted' }, e instanceof NetworkError ? t('err.network') : t('account.not_available')));
  }
  try {
    const w = await api('/me/warnings');
    const obj = w && !Array.isArray(w) ? w : {};
    const list = Array.isArray(w) ? w : items(obj.warnings || obj.items);
    const strikes = obj.strike_count ?? obj.strikes ?? list.length;
    fill($('strikes'), t('account.strikes', { n: strikes, max: obj.strikes_to_block ?? 3 }));
    fill($('warnings-list'), list.length ? list.map((x) => h('li', { class: x.cleared_at ? 'muted' : null },
      h('b', null, when(x.created_at)), ' ', x.warning || x.message || x.reason || ''))
      : h('li', { class: 'muted' }, t('account.no_warnings')));
    setBlocked(Boolean(obj.blocked), obj.latest_appeal);
  } catch (e) {
    fill($('warnings-list'), h('li', { class: 'muted' },
      e instanceof NetworkError ? t('err.network') : t('account.not_available')));
  }
}

function awardRow(x) {
  const pts = Number(x.points) || 0;
  return h('li', { class: 'award', dataset: { report: x.report_id ?? '' } },
    h('b', { class: 'pts' }, `${pts > 0 ? '+' : ''}${pts}`), ' · ', categoryName(x.category),
    x.report_id != null ? ` · ${t('account.report_no', { id: x.report_id })}` : '', ' · ', when(x.awarded_at));
}

// ------------------------------------------------------------------ leaderboard (GET /rewards/leaderboard)
let boardDays = null;  // null: all time

function showLeaderboard(open) {
  show('account-main', !open);
  show('account-leaderboard', open);
  window.scrollTo(0, 0);
  if (open) refreshLeaderboard();
}

async function refreshLeaderboard() {
  if (!running) return;
  for (const b of document.querySelectorAll('#leaderboard-period button')) {
    b.setAttribute('aria-pressed', String((b.dataset.days || null) === (boardDays == null ? null : String(boardDays))));
  }
  const list = $('leaderboard-list');
  list.dataset.loading = 'true';
  try {
    const board = await api(`/rewards/leaderboard?limit=20${boardDays ? `&days=${boardDays}` : ''}`);
    const rows = items(board);
    fill(list, rows.length ? rows.map(leaderRow) : h('li', { class: 'muted empty' }, t('board.empty')));
    fill($('leaderboard-note'), t('board.note'));
  } catch (e) {
    fill(list, h('li', { class: 'muted empty' }, e instanceof NetworkError ? t('err.network') : t('account.not_available')));
  } finally {
    list.dataset.loading = 'false';
  }
}

function leaderRow(r) {
  // names and numbers come masked; our own row is the one at our rank (all-time ranks only)
  const mine = boardDays == null && myRank != null && r.rank === myRank;
  return h('li', { class: mine ? 'leader me' : 'leader', dataset: { rank: r.rank } },
    h('span', { class: `rank r${Math.min(r.rank, 4)}` }, `#${r.rank}`),
    h('span', { class: 'who' }, h('b', null, r.name || r.phone || '—', mine ? ` (${t('board.you')})` : ''),
      h('small', { class: 'muted' }, t('board.reports', { n: r.reports }))),
    h('b', { class: 'pts' }, t('board.points', { n: r.points })));
}

/** The latest appeal once decided: what was decided and the officer's note (told once as a toast too). */
function showDecision(appeal) {
  const box = $('appeal-decision');
  const decided = Boolean(appeal && (appeal.status === 'granted' || appeal.status === 'upheld'));
  show(box, decided);
  box.dataset.status = decided ? appeal.status : '';
  if (!decided) return;
  fill($('appeal-decision-text'), t(`appeal.decision_${appeal.status}`));
  fill($('appeal-decision-note'), appeal.decision_note || t('appeal.no_note'));
  fill($('appeal-decision-at'), appeal.decided_at ? t('appeal.decision_at', { at: when(appeal.decided_at) }) : '');
  const seenKey = `jogo.app.appeal_seen.${owner()}`;
  let seen = null;
  try { seen = localStorage.getItem(seenKey); } catch (e) { seen = null; }
  const mark = `${appeal.id}:${appeal.status}`;
  if (seen !== mark) {
    toast(t(`appeal.decision_toast_${appeal.status}`, { note: appeal.decision_note || '' }), appeal.status === 'granted' ? 'ok' : 'err', 12000);
    try { localStorage.setItem(seenKey, mark); } catch (e) { /* told again next time */ }
  }
}

function setBlocked(value, appeal) {
  if (appeal !== undefined) showDecision(appeal);
  blocked = value;
  for (const el of document.querySelectorAll('.blocked-banner')) show(el, blocked);
  show('appeal-box', blocked);
  // one pending appeal at a time: while it waits there is nothing more to file
  const waiting = Boolean(appeal && appeal.status === 'pending');
  show('form-appeal', blocked && !waiting);
  $('appeal-box').dataset.appeal = appeal ? appeal.status : '';
  fill($('appeal-status'), appeal && appeal.status
    ? t('appeal.status', { s: tCode('appeal_status', appeal.status) }) : '');
}

async function submitAppeal(ev) {
  ev.preventDefault();
  const text = $('appeal-text').value.trim();
  if (text.length < 10) { fill($('appeal-status'), t('appeal.too_short')); return; }
  const btn = ev.submitter || $('appeal-submit');
  btn.disabled = true;
  try {
    const r = await api('/appeals', { method: 'POST', json: { text } });
    $('appeal-text').value = '';
    setBlocked(true, r || { status: 'pending' });
    toast(t('appeal.sent'), 'ok');
  } catch (e) {
    fill($('appeal-status'), e instanceof NetworkError ? t('err.network') : errorText(e));
  } finally {
    btn.disabled = false;
  }
}

// ------------------------------------------------------------------ wiring (once)
export function wireCitizen(openTab) {
  $('sos-btn').addEventListener('click', sosPress);
  $('sos-stop').addEventListener('click', sosStop);
  $('form-report').addEventListener('submit', submitReport);
  $('rep-photo').addEventListener('change', onPhoto);
  $('rep-photo-clear').addEventListener('click', () => clearPhoto());
  $('rep-locate').addEventListener('click', () => locate(true));
  $('mine-refresh').addEventListener('click', () => { refreshMine(); outbox.wake(); });
  $('form-appeal').addEventListener('submit', submitAppeal);
  $('leaderboard-open').addEventListener('click', () => showLeaderboard(true));
  $('leaderboard-back').addEventListener('click', () => showLeaderboard(false));
  for (const b of document.querySelectorAll('#leaderboard-period button')) {
    b.addEventListener('click', () => { boardDays = b.dataset.days ? Number(b.dataset.days) : null; refreshLeaderboard(); });
  }
  for (const el of document.querySelectorAll('.blocked-banner button')) el.addEventListener('click', () => openTab('account'));
}

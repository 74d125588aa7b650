/* The officer's own safety and the incidents they start: the panic button (press and hold), the welfare
 * check ("Aman?" / "Safe?", one tap), backup on the current assignment, and an incident started on view.
 *
 * officer.js owns the assignment (the job) and the socket; it hands this module a small context:
 *   job()            the current assignment or null
 *   startJob(j)      an on-view incident became the officer's assignment
 *   refresh()        read the offers again
 * and tells it about welfare messages from the socket and about each fresh list of offers.
 */
import { ApiError, NetworkError, api, getSession, serverNow } from './api.js';
import { categories, categoryName, refreshCategories } from './categories.js';
import { $, duration, fill, h, hasText, show, t, toast, uuid } from './dom.js';
import { currentFix, latestFix } from './geo.js';
import { PATTERNS, tones, unlockAudio } from '../../live/shared/sound.js';

const HOLD_MS = 1500;              // the panic button fires after this long pressed
const PANIC_RETRY_MS = 3000;       // no connection: the same alarm (same Idempotency-Key) again
const PANIC_FIX_WAIT_MS = 3000;    // an emergency does not wait long for a better fix
const ONVIEW_FIX_WAIT_MS = 10000;
const FRESH_FIX_MS = 30000;
const WELFARE_RING_MS = 8000;

let ctx = { job: () => null, startJob: () => {}, refresh: () => {} };
let running = false;

/** The API's error in the app's language, chosen by its machine-readable code. */
export function apiErrorText(e) {
  if (e instanceof NetworkError) return t('err.network');
  if (!(e instanceof ApiError)) return String((e && e.message) || e);
  if (e.code === 'rate_limited' || e.status === 429) return t('err.rate_limited');
  if (hasText(`err.${e.code}`)) return t(`err.${e.code}`);
  if (e.code === 'validation_error' || e.status === 422) return t('err.invalid_form');
  if (e.status >= 500) return t('err.server');
  return t('err.failed', { code: e.code });
}

/** The phone's position now: a recent fix at once, else one new fix within `waitMs` (else the last one). */
async function here(waitMs) {
  const last = latestFix();
  if (last && Date.now() - Date.parse(last.recorded_at) < FRESH_FIX_MS) return last;
  try {
    return await currentFix({ timeout: waitMs, maximumAge: FRESH_FIX_MS });
  } catch (e) {
    return last || null;
  }
}

// ------------------------------------------------------------------ the panic button (press and hold)
let hold = null;        // {start, raf} while pressed
let panic = { state: 'idle' };  // idle | sending | offline | sent | failed (+ incident, error)
let panicTimer = 0;
let panicKey = null;

function holdStart(ev) {
  if (hold || (ev && ev.button != null && ev.button !== 0)) return;
  if (ev) ev.preventDefault();
  unlockAudio();
  const btn = $('panic-btn');
  if (ev && ev.pointerId != null && btn.setPointerCapture) { try { btn.setPointerCapture(ev.pointerId); } catch (e) { /* */ } }
  hold = { start: performance.now(), raf: 0 };
  btn.dataset.holding = 'true';
  fill(btn.querySelector('small'), t('panic.keep_holding'));
  if (navigator.vibrate) navigator.vibrate(40);
  const step = () => {
    if (!hold) return;
    const done = Math.min(1, (performance.now() - hold.start) / HOLD_MS);
    $('panic-fill').style.width = `${Math.round(done * 100)}%`;
    if (done >= 1) { holdEnd(true); return; }
    hold.raf = requestAnimationFrame(step);
  };
  hold.raf = requestAnimationFrame(step);
}

function holdEnd(fired) {
  if (!hold) return;
  cancelAnimationFrame(hold.raf);
  hold = null;
  const btn = $('panic-btn');
  btn.dataset.holding = 'false';
  $('panic-fill').style.width = '0%';
  fill(btn.querySelector('small'), t('panic.button_sub'));
  if (fired) firePanic();
}

function firePanic() {
  if (navigator.vibrate) navigator.vibrate([300, 100, 300]);
  clearTimeout(panicTimer);
  panicKey = uuid();  // one alarm per hold; its retries keep the key (the server answers them once)
  panic = { state: 'sending' };
  renderPanic();
  sendPanic(panicKey);
}

async function sendPanic(key) {
  const fix = await here(PANIC_FIX_WAIT_MS);
  if (key !== panicKey || !running) return;
  const body = fix ? { lat: fix.lat, lon: fix.lon } : {};
  try {
    const incident = await api('/me/panic', { method: 'POST', json: body, key });
    if (key !== panicKey) return;
    panic = { state: 'sent', incident };
    toast(t('panic.sent_title'), 'ok');
  } catch (e) {
    if (key !== panicKey) return;
    if (e instanceof NetworkError || (e instanceof ApiError && e.retryable)) {
      panic = { state: 'offline', error: apiErrorText(e) };
      panicTimer = setTimeout(() => { if (running && key === panicKey) sendPanic(key); }, PANIC_RETRY_MS);
    } else {
      panic = { state: 'failed', error: apiErrorText(e) };
      toast(apiErrorText(e), 'err');
    }
  }
  renderPanic();
}

function renderPanic() {
  const box = $('panic-status');
  box.dataset.state = panic.state;
  $('panic-card').dataset.state = panic.state;
  show(box, panic.state !== 'idle');
  if (panic.state === 'sending') {
    fill($('panic-title'), t('panic.sending'));
    fill($('panic-text'));
  } else if (panic.state === 'sent') {
    const inc = panic.incident || {};
    const called = Math.max(0, Number(inc.units_needed || 0) - Number(inc.shortfall || 0));
    fill($('panic-title'), t('panic.sent_title'));
    fill($('panic-text'), called ? t('panic.sent_units', { id: inc.id, n: called }) : t('panic.sent_none', { id: inc.id }),
      ' ', h('small', null, t('panic.again')));
  } else if (panic.state === 'offline') {
    fill($('panic-title'), t('panic.offline_title'));
    fill($('panic-text'), t('panic.offline'));
  } else if (panic.state === 'failed') {
    fill($('panic-title'), t('panic.failed_title'));
    fill($('panic-text'), panic.error || '', ' ', h('small', null, t('panic.again')));
  }
}

// ------------------------------------------------------------------ the welfare check
let check = null;   // {offer_id, incident_id, deadline, shownAt}
let checkRing = 0;
let checkTick = 0;
const answeredAt = new Map();  // offer id -> when this phone last answered (a list asked before is stale)

function ringCheck() {
  if (navigator.vibrate) navigator.vibrate([600, 200, 600]);
  unlockAudio();
  tones(PATTERNS.welfare);
  const card = $('welfare-card');
  card.dataset.alerts = String(Number(card.dataset.alerts || 0) + 1);
}

/** `{"type": "welfare_check", "offer_id", "incident_id", "deadline"}` from the socket (or found in the offers). */
export function showWelfareCheck(msg, ring = true) {
  if (!running || msg.offer_id == null) return;
  const same = check && String(check.offer_id) === String(msg.offer_id);
  check = {
    offer_id: msg.offer_id,
    incident_id: msg.incident_id != null ? msg.incident_id : (same ? check.incident_id : null),
    deadline: msg.deadline || (same ? check.deadline : null),
    shownAt: same ? check.shownAt : Date.now(),
  };
  fill($('welfare-error'));
  renderWelfare();
  clearInterval(checkRing);
  if (ring || !same) ringCheck();
  checkRing = setInterval(() => { if (check) ringCheck(); else clearInterval(checkRing); }, WELFARE_RING_MS);
  clearInterval(checkTick);
  checkTick = setInterval(renderWelfareCountdown, 1000);
  const card = $('welfare-card');
  card.scrollIntoView({ block: 'start' });
  $('welfare-safe').focus({ preventScroll: true });
}

function hideWelfare(answered) {
  if (answered && check) answeredAt.set(String(check.offer_id), Date.now());
  check = null;
  clearInterval(checkRing);
  clearInterval(checkTick);
  renderWelfare();
}

/** `{"type": "welfare_answered", "offer_id", "safe"}`: answered (here, or from another tab of this officer). */
export function welfareAnswered(msg) {
  if (check && String(check.offer_id) === String(msg.offer_id)) hideWelfare(true);
}

function renderWelfare() {
  const card = $('welfare-card');
  show(card, Boolean(check));
  document.body.classList.toggle('welfare-open', Boolean(check));
  if (!check) return;
  card.dataset.offerId = check.offer_id;
  fill($('welfare-help'), t('welfare.help'), check.incident_id != null ? ` (${t('welfare.incident', { id: check.incident_id })})` : '');
  renderWelfareCountdown();
}

function renderWelfareCountdown() {
  if (!check) return;
  const end = Date.parse(check.deadline);
  const el = $('welfare-countdown');
  if (!Number.isFinite(end)) { fill(el); return; }
  const left = (end - serverNow()) / 1000;
  el.dataset.late = String(left <= 0);
  fill(el, left > 0 ? t('welfare.left', { t: duration(left) }) : t('welfare.late'));
}

async function answerWelfare(safe) {
  if (!check) return;
  const c = check;
  const buttons = [$('welfare-safe'), $('welfare-help-btn')];
  for (const b of buttons) b.disabled = true;
  fill($('welfare-error'));
  try {
    await api(`/offers/${encodeURIComponent(c.offer_id)}/welfare`, { method: 'POST', json: { safe }, key: uuid() });
    if (check && check.offer_id === c.offer_id) hideWelfare(true);
    toast(safe ? t('welfare.sent_safe') : t('welfare.sent_help'), safe ? 'ok' : 'err');
  } catch (e) {
    fill($('welfare-error'), apiErrorText(e));
    if (e instanceof ApiError && (e.status === 404 || e.status === 409)) {
      // the unit is gone (cleared, or the incident closed): nothing left to answer
      toast(apiErrorText(e), 'err');
      if (check && check.offer_id === c.offer_id) hideWelfare();
      ctx.refresh();
    }
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

const after = (a, b) => Boolean(a) && (!b || Date.parse(a) > Date.parse(b));

/**
 * A fresh list of the officer's offers (each with its incident and units), asked for at `askedAt`: a check
 * the phone missed while it was away comes back (the unit's welfare_sent_at after its last answer), and one
 * answered elsewhere, or whose unit has ended, goes.
 */
export function syncOffers(list, askedAt) {
  if (!running) return;
  let pending = null;
  for (const o of list) {
    if (o.status !== 'accepted' || !o.incident || !Array.isArray(o.incident.units)) continue;
    const u = o.incident.units.find((x) => String(x.offer_id) === String(o.id));
    const stale = askedAt <= (answeredAt.get(String(o.id)) || 0);
    if (u && u.state !== 'cleared' && !stale && after(u.welfare_sent_at, u.welfare_ok_at)) {
      pending = { offer_id: o.id, incident_id: o.incident.id };
    }
  }
  if (pending && !(check && String(check.offer_id) === String(pending.offer_id))) showWelfareCheck(pending, true);
  else if (!pending && check && askedAt > check.shownAt) hideWelfare();
}

// ------------------------------------------------------------------ backup on the current assignment
let backupFor = null;   // the incident the result below the form belongs to

function openBackup(open) {
  show('backup-form', open);
  show('backup-open', !open);
  if (open) {
    fill($('backup-form').querySelector('.error'));
    $('backup-units').value = '1';
    $('backup-reason').value = '';
    $('backup-reason').focus();
  }
}

async function submitBackup(ev) {
  ev.preventDefault();
  const job = ctx.job();
  if (!job) return;
  const form = $('backup-form');
  const btn = form.querySelector('button[type=submit]');
  const err = form.querySelector('.error');
  const units = Number($('backup-units').value) || 1;
  const reason = $('backup-reason').value.trim();
  fill(err);
  btn.disabled = true;
  try {
    const r = await api(`/incidents/${encodeURIComponent(job.incident_id)}/backup`, {
      method: 'POST', json: reason ? { units, reason } : { units }, key: uuid(),
    });
    const n = (r && Array.isArray(r.offers)) ? r.offers.length : 0;
    const text = n >= units ? t('backup.sent_all', { n }) : n ? t('backup.sent_some', { n, m: units }) : t('backup.sent_none');
    backupFor = { incident_id: job.incident_id, text };
    openBackup(false);
    renderBackup();
    toast(text, 'ok');
  } catch (e) {
    fill(err, apiErrorText(e));
    if (e instanceof ApiError && (e.status === 404 || e.status === 409)) ctx.refresh();
  } finally {
    btn.disabled = false;
  }
}

/** The backup button and the last request's result on the job card (officer.js renderJob calls it). */
export function renderBackup() {
  const job = ctx.job();
  if (!job) { backupFor = null; openBackup(false); }
  const mine = backupFor && job && String(backupFor.incident_id) === String(job.incident_id);
  const el = $('backup-result');
  show(el, Boolean(mine));
  fill(el, mine ? backupFor.text : '');
}

// ------------------------------------------------------------------ an incident started on view
let onviewFix = null;

function fillCategories() {
  const sel = $('onview-category');
  const was = sel.value;
  fill(sel, h('option', { value: '' }, t('report.category_pick')),
    categories().map((c) => h('option', { value: c.code, selected: c.code === was }, categoryName(c.code))));
}

async function openOnview(open) {
  show('onview-form', open);
  show('onview-open', !open);
  if (!open) return;
  fill($('onview-form').querySelector('.error'));
  fillCategories();
  if (!categories().length) refreshCategories().then(fillCategories);
  $('onview-category').focus();
  onviewFix = null;
  fill($('onview-where'), t('onview.locating'));
  const fix = await here(ONVIEW_FIX_WAIT_MS);
  if (!running) return;
  onviewFix = fix;
  renderWhere();
}

function renderWhere() {
  const f = onviewFix;
  fill($('onview-where'), f ? t('onview.where', { lat: f.lat.toFixed(5), lon: f.lon.toFixed(5), acc: f.accuracy_m == null ? '?' : Math.round(f.accuracy_m) })
    : t('geo.unavailable'));
}

async function submitOnview(ev) {
  ev.preventDefault();
  const form = $('onview-form');
  const btn = form.querySelector('button[type=submit]');
  const err = form.querySelector('.error');
  fill(err);
  const category = $('onview-category').value;
  if (!category) { fill(err, t('report.need_category')); return; }
  btn.disabled = true;
  try {
    const fix = await here(ONVIEW_FIX_WAIT_MS);
    if (!fix) { fill(err, t('geo.unavailable')); return; }
    onviewFix = fix;
    renderWhere();
    const narrative = $('onview-narrative').value.trim();
    const json = { category, lat: fix.lat, lon: fix.lon, source: 'officer' };
    if (narrative) json.narrative = narrative;
    const r = await api('/incidents', { method: 'POST', json, key: uuid() });
    const me = getSession() || {};
    const units = Array.isArray(r.units) ? r.units : [];
    const unit = units.find((u) => String(u.officer_id) === String(me.officer_id)) || units[0] || {};
    ctx.startJob({
      id: unit.offer_id, offer_id: unit.offer_id, incident_id: r.id, status: unit.state || 'on_scene',
      lat: Number(r.lat), lon: Number(r.lon), category: r.category, priority: r.priority,
      description: r.description || '', address: r.address, source: r.source,
    });
    $('onview-narrative').value = '';
    $('onview-category').value = '';
    openOnview(false);
    toast(t('onview.started', { id: r.id }), 'ok');
  } catch (e) {
    fill(err, apiErrorText(e));
  } finally {
    btn.disabled = false;
  }
}

// ------------------------------------------------------------------ start / stop / language / wiring
export function startSafety(context) {
  ctx = context;
  running = true;
  panic = { state: 'idle' };
  renderPanic();
  renderWelfare();
  renderBackup();
}

export function stopSafety() {
  running = false;
  clearTimeout(panicTimer);
  panicKey = null;
  holdEnd(false);
  hideWelfare();
  backupFor = null;
  openOnview(false);
}

export function redrawSafety() {
  if (!running) return;
  renderPanic();
  renderWelfare();
  renderBackup();
  if (!$('onview-form').hidden) { fillCategories(); if (onviewFix) renderWhere(); }
  fill($('panic-btn').querySelector('small'), t(hold ? 'panic.keep_holding' : 'panic.button_sub'));
}

export function wireSafety() {
  const btn = $('panic-btn');
  btn.addEventListener('pointerdown', holdStart);
  for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) btn.addEventListener(type, () => holdEnd(false));
  btn.addEventListener('contextmenu', (ev) => ev.preventDefault());  // a long press is not a menu here
  btn.addEventListener('keydown', (ev) => {
    if ((ev.key === ' ' || ev.key === 'Enter') && !ev.repeat) { ev.preventDefault(); holdStart(null); }
  });
  btn.addEventListener('keyup', (ev) => { if (ev.key === ' ' || ev.key === 'Enter') holdEnd(false); });
  btn.addEventListener('blur', () => holdEnd(false));
  btn.addEventListener('click', (ev) => ev.preventDefault());  // a tap alone never fires

  $('welfare-safe').addEventListener('click', () => answerWelfare(true));
  $('welfare-help-btn').addEventListener('click', () => answerWelfare(false));

  $('backup-open').addEventListener('click', () => openBackup(true));
  $('backup-cancel').addEventListener('click', () => openBackup(false));
  $('backup-form').addEventListener('submit', submitBackup);

  $('onview-open').addEventListener('click', () => openOnview(true));
  $('onview-cancel').addEventListener('click', () => openOnview(false));
  $('onview-form').addEventListener('submit', submitOnview);
}

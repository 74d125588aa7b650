/* Jogo phone app: start-up, login / registration, the screens of each role, language, install, offline.
 *
 * Plain ES modules, no build step; Leaflet comes from the live map's vendored copy. Every string is in
 * strings.js (Indonesian first, English switch). The service worker (/app/sw.js) keeps the app shell for
 * an offline start; reports and SOS presses made offline wait in the outbox (outbox.js).
 */
import { ApiError, NetworkError, getSession, login, logout, onAuthLost, register } from './api.js';
import { $, CFG, applyI18n, currentLang, fill, hasText, setLang, show, t, toast } from './dom.js';
import { citizenTabShown, startCitizen, stopCitizen, wireCitizen } from './citizen.js';
import { startOfficer, stopOfficer, wireOfficer } from './officer.js';
import { unlockAudio } from '../../live/shared/sound.js';
import * as outbox from './outbox.js';

const TAB_KEY = 'jogo.app.tab';
const TABS = ['sos', 'report', 'mine', 'account'];
let role = null;

// ------------------------------------------------------------------ screens and tabs
function showScreen(name) {
  for (const s of ['login', 'citizen', 'officer', 'other']) show(`screen-${s}`, s === name);
  document.body.dataset.screen = name;
}

function openTab(tab) {
  if (!TABS.includes(tab)) tab = 'sos';
  for (const b of document.querySelectorAll('#tabs button')) {
    b.setAttribute('aria-selected', String(b.dataset.tab === tab));
  }
  for (const name of TABS) show(`tab-${name}`, name === tab);
  try { sessionStorage.setItem(TAB_KEY, tab); } catch (e) { /* */ }
  citizenTabShown(tab);
}

function enter(session) {
  role = session.role;
  fill($('who'), session.username || '');
  show('logout', true);
  if (role === 'citizen') {
    showScreen('citizen');
    startCitizen();
    outbox.start();
    let tab = 'sos';
    try { tab = sessionStorage.getItem(TAB_KEY) || 'sos'; } catch (e) { /* */ }
    openTab(tab);
  } else if (role === 'officer') {
    showScreen('officer');
    startOfficer();
  } else {
    showScreen('other');
  }
}

async function leave(expired) {
  if (!expired && role === 'citizen') {
    const waiting = (await outbox.list()).filter((i) => i.state === 'pending' || i.state === 'sending').length;
    if (waiting && !window.confirm(t('logout.pending', { n: waiting }))) return;
  }
  if (role === 'citizen') stopCitizen();
  if (role === 'officer') stopOfficer();
  role = null;
  await logout();
  fill($('who'));
  show('logout', false);
  showScreen('login');
  if (expired) toast(t('err.login_again'), 'err');
}

// ------------------------------------------------------------------ login and registration
// Errors speak the app's language: chosen by the error body's `code` (and, for schema errors, by the field
// named in `details`), never the server's English message.
const PHONE_CODES = new Set(['bad_phone', 'invalid_phone', 'phone_invalid', 'bad_phone_number', 'invalid_phone_number',
  'phone_not_allowed', 'phone_country_not_allowed', 'phone_country']);
const PASSWORD_CODES = new Set(['weak_password', 'bad_password', 'password_too_short', 'password_too_weak']);
const TAKEN_CODES = new Set(['user_exists', 'phone_taken', 'phone_exists', 'duplicate_phone', 'already_registered']);

// what a refused number's `details.regions` (ISO codes, e.g. ["ID"]) read as: "Indonesia (+62)"
const CALLING = { ID: '62', MY: '60', SG: '65', BN: '673', TL: '670', PH: '63', TH: '66', AU: '61', NL: '31' };
function regionNames(details) {
  const list = details && Array.isArray(details.regions) ? details.regions : [];
  let names = null;
  try { names = new Intl.DisplayNames([currentLang()], { type: 'region' }); } catch (e) { names = null; }
  return list.map((r) => {
    const code = String(r).toUpperCase();
    let name = code;
    try { name = (names && names.of(code)) || code; } catch (e) { name = code; }
    return CALLING[code] ? `${name} (+${CALLING[code]})` : name;
  }).join(', ');
}

/** bad_phone: details.problem says why (not_a_number, invalid, region_not_allowed, not_mobile). */
function phoneError(details) {
  const problem = details && details.problem;
  const regions = regionNames(details);
  if (problem === 'region_not_allowed') return t('register.phone_region', { list: regions || '—' });
  if (problem === 'not_mobile') return t('register.phone_not_mobile');
  return t('register.bad_phone');
}

function fieldOf(details) {
  const d = Array.isArray(details) ? details[0] : null;
  if (!d) return '';
  return String((Array.isArray(d.loc) ? d.loc[d.loc.length - 1] : d.field) || '');
}

function formError(e) {
  if (e instanceof NetworkError) return t('err.network');
  if (!(e instanceof ApiError)) return String(e.message || e);
  const code = e.code || '';
  if (TAKEN_CODES.has(code)) return t('register.taken');
  if (PHONE_CODES.has(code) || /phone/.test(code)) return phoneError(e.details);
  if (PASSWORD_CODES.has(code)) return t('register.short_password');
  if (TAKEN_CODES.has(code) || e.status === 409) return t('register.taken');
  if (code === 'bad_credentials' || e.status === 401) return code === 'account_disabled' ? t('err.account_disabled') : t('login.bad');
  if (code === 'account_disabled') return t('err.account_disabled');
  if (code === 'rate_limited' || e.status === 429) return t('err.rate_limited');
  if (code === 'validation_error' || e.status === 422) {
    const field = fieldOf(e.details);
    if (field === 'phone' || field === 'username') return t('register.bad_phone');
    if (field === 'password') return t('register.short_password');
    if (field === 'name') return t('register.need_name');
    return t('err.invalid_form');
  }
  if (hasText(`err.${code}`)) return t(`err.${code}`);
  return e.status >= 500 ? t('err.server') : t('err.failed', { code });
}

/** Checks before anything goes out (the form is novalidate: the browser's own bubbles speak its language). */
function checkRegistration({ name, phone, password }) {
  if (!name) return t('register.need_name');
  const digits = phone.replace(/[\s\-().+]/g, '');
  if (!/^\d{8,15}$/.test(digits)) return t('register.bad_phone');
  if (password.length < 6) return t('register.short_password');
  return '';
}

async function busy(form, fn) {
  const btn = form.querySelector('button[type=submit]');
  const err = form.querySelector('.error');
  fill(err);
  btn.disabled = true;
  try { await fn(); } catch (e) { fill(err, formError(e)); } finally { btn.disabled = false; }
}

function onLogin(ev) {
  ev.preventDefault();
  unlockAudio();
  const form = ev.currentTarget;
  busy(form, async () => {
    const s = await login($('login-user').value, $('login-pass').value);
    $('login-pass').value = '';
    enter(s);
  });
}

function onRegister(ev) {
  ev.preventDefault();
  unlockAudio();
  const form = ev.currentTarget;
  busy(form, async () => {
    const phone = $('reg-phone').value.trim();
    const password = $('reg-pass').value;
    const name = $('reg-name').value.trim();
    const problem = checkRegistration({ name, phone, password });
    if (problem) throw new Error(problem);
    await register({ phone, name, password });
    const s = await login(phone, password);
    form.reset();
    toast(t('register.welcome'), 'ok');
    enter(s);
  });
}

function loginTab(which) {
  for (const b of document.querySelectorAll('#login-tabs button')) {
    b.setAttribute('aria-selected', String(b.dataset.form === which));
  }
  show('form-login', which === 'login');
  show('form-register', which === 'register');
}

// ------------------------------------------------------------------ connection, language, install
function renderNet() {
  const online = navigator.onLine;
  const el = $('net');
  el.dataset.state = online ? 'online' : 'offline';
  fill($('net-text'), online ? t('net.online') : t('net.offline'));
  document.body.classList.toggle('is-offline', !online);
}

let installEvent = null;
function wireInstall() {
  window.addEventListener('beforeinstallprompt', (ev) => {
    ev.preventDefault();
    installEvent = ev;
    show('install', true);
  });
  $('install').addEventListener('click', async () => {
    if (!installEvent) return;
    installEvent.prompt();
    try { await installEvent.userChoice; } catch (e) { /* */ }
    installEvent = null;
    show('install', false);
  });
  window.addEventListener('appinstalled', () => show('install', false));
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || !CFG.sw_url) return;
  navigator.serviceWorker.register(CFG.sw_url, { scope: CFG.sw_scope || '/app' })
    .then((reg) => { document.body.dataset.sw = reg.active ? 'active' : 'installing'; })
    .catch((e) => { document.body.dataset.sw = 'failed'; console.warn('service worker', e); });
  navigator.serviceWorker.ready.then(() => { document.body.dataset.sw = 'ready'; });
}

// ------------------------------------------------------------------ start
function boot() {
  applyI18n();
  renderNet();
  window.addEventListener('online', renderNet);
  window.addEventListener('offline', renderNet);
  $('lang').addEventListener('click', () => setLang(currentLang() === 'id' ? 'en' : 'id'));
  $('logout').addEventListener('click', () => leave(false));
  $('form-login').addEventListener('submit', onLogin);
  $('form-register').addEventListener('submit', onRegister);
  for (const b of document.querySelectorAll('#login-tabs button')) b.addEventListener('click', () => loginTab(b.dataset.form));
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => openTab(b.dataset.tab));
  document.addEventListener('pointerdown', unlockAudio, { once: true });
  wireCitizen(openTab);
  wireOfficer();
  wireInstall();
  onAuthLost(() => { if (role) leave(true); });
  loginTab('login');
  const s = getSession();
  if (s && s.token) enter(s); else showScreen('login');
  registerServiceWorker();
  document.body.dataset.ready = 'true';
}

boot();

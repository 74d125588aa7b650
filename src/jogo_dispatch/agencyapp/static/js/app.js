/* Jogo agency portal (/agency): start-up, staff login, language, install, sound, and the live board.
 *
 * Plain ES modules, no build step; Leaflet and the DOM / strings / sound helpers are the live map's
 * (/static/live/). Every text is in strings.js (Indonesian first, English switch).
 *
 *   js/api.js     the login and the JSON API        js/feed.js    the /api/v1/live socket (pushed, no polling)
 *   js/board.js   forwards by state: list and map    js/detail.js  one forward: acknowledge, start, notes, close
 */
import { $, CFG, applyI18n, currentLang, fill, onLangChange, setLang, show, t, toast } from './ui.js';
import { api, getSession, onAuthLost, setSession } from './api.js';
import * as board from './board.js';
import * as detail from './detail.js';
import * as feed from './feed.js';
import { audioRunning, tones, unlockAudio } from '../../live/shared/sound.js';

// A new forward: four rising beeps (the map's SOS alarm is lower and faster).
const NEW_FORWARD = { count: 4, high: 1046, low: 784, every: 0.26, peak: 0.2, attack: 0.015, fade: 0.2, length: 0.22 };
const stats = { beeps: 0, arrivals: 0 };
let primed = false; // the first snapshot after a login is what was there, not news
let me = null;

// ------------------------------------------------------------------ screens
function showScreen(name) {
  for (const s of ['login', 'board', 'detail']) show(`screen-${s}`, s === name);
  document.body.dataset.screen = name;
  if (name === 'board') setTimeout(board.invalidateMap, 0);
}

function soundButton() {
  show('sound', !!getSession() && !audioRunning());
}

function gesture() {
  unlockAudio();
  setTimeout(soundButton, 50);
}
document.addEventListener('pointerdown', gesture, { passive: true });
document.addEventListener('keydown', gesture);
$('sound').addEventListener('click', () => { unlockAudio(); setTimeout(() => { soundButton(); if (audioRunning()) toast(t('sound.on'), 'ok'); }, 50); });

function beep() {
  if (navigator.vibrate) { try { navigator.vibrate([200, 100, 200]); } catch (e) { /* no vibration */ } }
  if (!audioRunning()) return;
  tones(NEW_FORWARD);
  stats.beeps++;
}

// ------------------------------------------------------------------ login
function loginError(code, role) {
  if (code === 'not_agency') {
    const page = role === 'dispatcher' || role === 'admin' ? '/map' : '/app';
    return t('login.not_agency', { role, page });
  }
  if (code === 'not_agency_member') return t('login.not_member');
  if (code === 'rate_limited') return t('login.rate_limited');
  if (code === 'network') return t('err.network');
  if (code === 'expired') return t('login.expired');
  return t('login.bad');
}

function showLogin(code, role) {
  showScreen('login');
  show('logout', false);
  show('conn', false);
  soundButton();
  const err = $('login-error');
  fill(err, code ? loginError(code, role) : '');
  setTimeout(() => $($('login-username').value ? 'login-password' : 'login-username').focus(), 0);
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  unlockAudio();
  const username = $('login-username').value.trim();
  const password = $('login-password').value;
  const btn = $('login-submit');
  btn.disabled = true;
  const r = await api('POST', '/auth/token', { form: new URLSearchParams({ username, password }) });
  btn.disabled = false;
  if (!r.ok) { showLogin(r.code === 'network' || r.code === 'rate_limited' ? r.code : 'bad'); return; }
  if (r.data.role !== 'agency') { showLogin('not_agency', r.data.role); return; }
  $('login-password').value = '';
  const ttl = Number(r.data.expires_in);
  setSession({
    token: r.data.access_token, username,
    expires_at: Number.isFinite(ttl) && ttl > 0 ? Date.now() + ttl * 1000 : null,
  });
  await start();
});

async function logout(code) {
  feed.stop();
  detail.close();
  setSession(null);
  board.forwards.clear();
  board.render();
  primed = false;
  me = null;
  showLogin(code);
}
$('logout').addEventListener('click', () => logout(''));
onAuthLost((code) => logout(code === 'not_agency_member' ? code : 'expired'));

// ------------------------------------------------------------------ the live board
async function loadInbox() {
  const open = await api('GET', '/agency/inbox?status=open&limit=500');
  if (!open.ok) return open;
  board.setAgency({ code: open.data.agency_code, name: open.data.agency_name, ack_minutes: open.data.ack_minutes });
  for (const f of open.data.items) board.upsert(f);
  const closed = await api('GET', '/agency/inbox?status=closed&limit=100');
  if (closed.ok) for (const f of closed.data.items) board.upsert(f);
  board.render();
  return open;
}

async function arrived(id) {
  const r = await api('GET', `/agency/forwards/${id}`);
  if (!r.ok) return;
  board.upsert(r.data);
  board.render();
  if (board.stateOf(r.data) === 'closed') return;
  stats.arrivals++;
  beep();
  toast(t('new.toast', { what: board.categoryName(r.data.incident.category), id: r.data.incident.id }), 'ok', 8000);
}

const live = {
  snapshot(msg) {
    const known = new Set(board.forwards.keys());
    for (const f of msg.forwards || []) {
      const news = primed && !known.has(f.id);
      board.upsert(f);
      if (news) arrived(f.id);
    }
    primed = true;
    board.render();
  },
  forward(msg) {
    const f = msg.forward || {};
    if (f.id == null) return;
    if (!board.forwards.has(f.id)) { arrived(f.id); return; }
    board.upsert({ id: f.id, status: f.status, outcome: f.outcome });
    board.render();
    if (detail.openId() === f.id) detail.refresh();
  },
  forward_note(msg) {
    const n = msg.note || {};
    if (detail.openId() === n.forward_id) { detail.refresh(); return; }
    if (me && n.author_id === me.user_id) return;
    const f = board.forwards.get(n.forward_id);
    toast(t('note.toast', { id: f && f.incident ? f.incident.id : n.incident_id }), '');
  },
  // the command centre's own note on an incident forwarded to this agency
  incident_note(msg) {
    const n = msg.note || {};
    if (n.author_role === 'agency') return;
    toast(t('centre_note.toast', { id: n.incident_id, text: String(n.text || '').slice(0, 160) }), '', 10000);
  },
};

async function start() {
  const session = getSession();
  if (!session) { showLogin(''); return; }
  show('logout', true);
  show('conn', true);
  showScreen('board');
  soundButton();
  const cats = await api('GET', '/categories');
  if (cats.ok) board.setCategories(cats.data);
  const mine = await api('GET', '/me');
  if (mine.ok) me = mine.data;
  const r = await loadInbox();
  if (!r.ok) {
    if (r.code === 'not_agency_member' || r.code === 'wrong_role') { logout(r.code === 'wrong_role' ? 'not_agency' : r.code); return; }
    if (r.status !== 401) toast(r.code === 'network' ? t('err.network') : t('err.generic', { message: r.message }), 'err');
  }
  primed = false;
  feed.start(live);
}

async function pick(id) {
  if (!(await detail.open(id))) return;
  showScreen('detail');
  window.scrollTo(0, 0);
  board.focus(id);
}

// ------------------------------------------------------------------ language, install, worker
function relabel() {
  applyI18n();
  feed.relabel();
  board.setAgency({});
  board.render();
  if (detail.openId() != null) detail.refresh();
}
$('lang').addEventListener('click', () => setLang(currentLang() === 'en' ? 'id' : 'en'));
onLangChange(relabel);

let installPrompt = null;
window.addEventListener('beforeinstallprompt', (e) => { e.preventDefault(); installPrompt = e; show('install', true); });
$('install').addEventListener('click', async () => {
  if (!installPrompt) return;
  installPrompt.prompt();
  try { await installPrompt.userChoice; } catch (e) { /* dismissed */ }
  installPrompt = null;
  show('install', false);
});
if ('serviceWorker' in navigator && CFG.sw_url) {
  navigator.serviceWorker.register(CFG.sw_url, { scope: CFG.sw_scope }).catch(() => { /* no offline shell */ });
}

for (const b of document.querySelectorAll('#states button')) b.addEventListener('click', () => board.setTab(b.dataset.state));
detail.wire(() => { detail.close(); showScreen('board'); board.render(); });

// Exposed for debugging and the browser tests.
window.jogoAgency = { forwards: board.forwards, connected: feed.connected, stats };

applyI18n();
board.initMap(pick);
board.render();
if (getSession()) start(); else showLogin('');
document.body.dataset.ready = 'true';

/* Jogo Dispatch: the dispatchers' live map, the workspace of the operator on duty. The entry module: login
 * / logout, the language switch, and what starts the page.
 *
 * Plain ES modules, no build step; Leaflet 1.9 is vendored next to this file (vendor/leaflet, a classic
 * script loaded first: the global L). Server strings are only ever put into the page as text nodes (h() in
 * shared/dom.js), never through innerHTML. Everything the page needs from the server comes from the JSON
 * config in #jogo-config (js/config.js), the JSON API (js/api.js) and the /api/v1/live websocket (js/feed.js,
 * which hands every message to js/bus.js by type).
 *
 *   js/lang.js, strings.js, labels.js   the language switch, every text, the one table of code labels
 *   js/layers.js     the Leaflet map and its layers      js/officers.js   officer dots, gliding moves
 *   js/incidents.js  incident markers, offers, units     js/reports.js    the verification queue
 *   js/alerts.js     alerts, SOS beep, acknowledge       js/panel.js      side-panel tabs, lists, counters
 *   js/desk.js       the desk column (one thing at a time, views by kind)
 *   js/incident_desk.js  an incident: summary, units, offers, responders by ETA; its sections in
 *                    incident_actions.js (edit, close, merge, split), notes.js (notes, timeline),
 *                    forwards.js (routing decision, forwarding, agency answers), sos.js (call-back, trail)
 *   js/evidence.js   a report's evidence, verify / reject / false   js/calltaking.js  a new incident
 *   js/officer_desk.js, tracks.js, track_range.js   an officer and the replay of their track
 *   js/search.js     find an officer      js/filters.js   status / unit / sector filters, sector polygons
 *   js/kpi.js        the KPI tab          js/state.js     what the page knows
 *   shared/          DOM, strings and sound helpers shared with the phone app (/app)
 *
 * A new panel is one module that registers itself (registerView / addIncidentSection / bus.on) and one
 * import line below.
 */
import { $ } from './shared/dom.js';
import { unlockAudio } from './shared/sound.js';
import { api, getSession, onAuthLost, setSession } from './js/api.js';
import { removeAlert } from './js/alerts.js';
import { loadAgencies, loadCategories } from './js/catalogue.js';
import { closeDesk } from './js/desk.js';
import { connected, setConn, start as startFeed, stop as stopFeed } from './js/feed.js';
import { loadSectors } from './js/filters.js';
import { removeIncident } from './js/incidents.js';
import { applyStatic, setLang, t } from './js/lang.js';
import { deskLayer, map, trackLayer } from './js/layers.js';
import { finishAnimations, removeOfficer } from './js/officers.js';
import { removeReport } from './js/reports.js';
import { alerts, dirty, forwards, incidents, offers, officers, panels, reports } from './js/state.js';
import './js/panel.js';
import './js/incident_desk.js';
import './js/sos.js';
import './js/notes.js';
import './js/forwards.js';
import './js/incident_actions.js';
import './js/evidence.js';
import './js/calltaking.js';
import './js/officer_desk.js';
import './js/search.js';
import './js/kpi.js';

document.addEventListener('pointerdown', unlockAudio, { passive: true });
document.addEventListener('keydown', unlockAudio);
for (const b of document.querySelectorAll('[data-lang]')) b.addEventListener('click', () => setLang(b.dataset.lang));
applyStatic();

function showLogin(message) {
  $('login').hidden = false;
  $('logout').hidden = true;
  $('btn-new').hidden = true;
  $('user-name').textContent = '';
  const err = $('login-error');
  err.textContent = message || '';
  err.hidden = !message;
  setTimeout(() => $(($('login-username').value ? 'login-password' : 'login-username')).focus(), 0);
}

function clearData() {
  finishAnimations();
  closeDesk();
  for (const id of [...officers.keys()]) removeOfficer(id);
  for (const id of [...incidents.keys()]) removeIncident(id);
  for (const id of [...alerts.keys()]) removeAlert(id);
  for (const id of [...reports.keys()]) removeReport(id);
  offers.clear();
  forwards.clear();
  deskLayer.clearLayers();
  trackLayer.clearLayers();
  panels.reports = 'loading';
  panels.alerts = 'loading';
  dirty('alerts', 'reports', 'incidents');
}

function logout(message) {
  setSession(null);
  stopFeed();
  map.closePopup();
  clearData();
  setConn('off');
  showLogin(message);
}
onAuthLost(logout);

function start() {
  const session = getSession();
  $('login').hidden = true;
  $('logout').hidden = false;
  $('btn-new').hidden = false;
  $('user-name').textContent = session.username || '';
  $('user-name').title = session.role || '';
  startFeed();
  loadCategories();
  loadAgencies();
  loadSectors();
  if (session.expires_at) {
    const left = session.expires_at - Date.now();
    if (left < 2 ** 31 - 1) {
      setTimeout(() => {
        const s = getSession();
        if (s && s.expires_at <= Date.now()) logout(t('session.expired'));
      }, left + 1000);
    }
  }
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  unlockAudio();
  const username = $('login-username').value.trim();
  const password = $('login-password').value;
  const submit = $('login-submit');
  submit.disabled = true;
  const r = await api('POST', '/auth/token', new URLSearchParams({ username, password }));
  submit.disabled = false;
  if (!r.ok) {
    showLogin(r.status === 401 || r.status === 400 ? t('login.failed') : (r.message || t('login.failed')));
    return;
  }
  const d = r.data || {};
  if (d.role === 'citizen' || d.role === 'officer') {
    showLogin(t('login.refused', { role: d.role }));
    return;
  }
  $('login-password').value = '';
  const ttl = Number(d.expires_in);
  setSession({
    token: d.access_token, role: d.role || '', username,
    expires_at: Number.isFinite(ttl) && ttl > 0 ? Date.now() + ttl * 1000 : null,
  });
  start();
});

$('logout').addEventListener('click', () => logout(''));

// Exposed for debugging and the browser tests.
window.jogoLive = {
  state: { officers, incidents, alerts, reports, offers, forwards },
  map,
  connected,
};

dirty('alerts', 'reports', 'incidents');
if (getSession()) start(); else { setConn('off'); showLogin(''); }

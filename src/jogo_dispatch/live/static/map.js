/* Jogo Dispatch: the dispatchers' live map. The entry module: login / logout, and what starts the page.
 *
 * Plain ES modules, no build step; Leaflet 1.9 is vendored next to this file (vendor/leaflet, a classic
 * script loaded first: the global L). Server strings are only ever put into the page as text nodes (h() in
 * shared/dom.js), never through innerHTML. Everything the page needs from the server comes from the JSON
 * config in #jogo-config (js/config.js), the JSON API (js/api.js) and the /api/v1/live websocket (js/feed.js).
 *
 *   js/strings.js    every text, Indonesian and English       js/layers.js     the Leaflet map and its layers
 *   js/officers.js   officer dots, gliding moves              js/incidents.js  incident desk: nearest, dispatch
 *   js/alerts.js     alerts, SOS beep, acknowledge            js/reports.js    the verification queue
 *   js/panel.js      the side panel's lists, counters         js/state.js      what the page knows
 *   shared/          DOM, strings and sound helpers shared with the phone app (/app)
 */
import { $ } from './shared/dom.js';
import { unlockAudio } from './shared/sound.js';
import { api, getSession, onAuthLost, setSession } from './js/api.js';
import { removeAlert } from './js/alerts.js';
import { connected, setConn, start as startFeed, stop as stopFeed } from './js/feed.js';
import { removeIncident } from './js/incidents.js';
import { lineLayer, map } from './js/layers.js';
import { finishAnimations, removeOfficer } from './js/officers.js';
import './js/panel.js';
import { removeReport } from './js/reports.js';
import { alerts, dirty, incidents, offers, officers, panels, reports } from './js/state.js';
import { dual } from './js/strings.js';

document.addEventListener('pointerdown', unlockAudio, { passive: true });
document.addEventListener('keydown', unlockAudio);

function showLogin(message) {
  $('login').hidden = false;
  $('logout').hidden = true;
  $('user-name').textContent = '';
  const err = $('login-error');
  err.textContent = message || '';
  err.hidden = !message;
  setTimeout(() => $(($('login-username').value ? 'login-password' : 'login-username')).focus(), 0);
}

function clearData() {
  finishAnimations();
  for (const id of [...officers.keys()]) removeOfficer(id);
  for (const id of [...incidents.keys()]) removeIncident(id);
  for (const id of [...alerts.keys()]) removeAlert(id);
  for (const id of [...reports.keys()]) removeReport(id);
  offers.clear();
  lineLayer.clearLayers();
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
  $('user-name').textContent = session.username ? `${session.username}${session.role ? ' (' + session.role + ')' : ''}` : '';
  startFeed();
  if (session.expires_at) {
    const left = session.expires_at - Date.now();
    if (left < 2 ** 31 - 1) {
      setTimeout(() => {
        const s = getSession();
        if (s && s.expires_at <= Date.now()) logout(dual('session.expired'));
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
    showLogin(r.message || dual('login.failed'));
    return;
  }
  const d = r.data || {};
  if (d.role === 'citizen' || d.role === 'officer') {
    showLogin(dual('login.refused', { role: d.role }));
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
  state: { officers, incidents, alerts, reports, offers },
  map,
  connected,
};

dirty('alerts', 'reports', 'incidents');
if (getSession()) start(); else { setConn('off'); showLogin(''); }

/* The admin console's entry: login (admin role only), the menu (one section at a time, by #hash), the
 * language switch. Each section renders itself from the API when it is opened. */
import { api, getSession, onAuthLost, setSession } from './api.js';
import { renderCategories, renderKeys, renderPlans, renderRules } from './catalogue.js';
import { render as renderAgencies } from './agencies.js';
import { render as renderOfficers } from './officers.js';
import { refreshAppealCount, renderAppeals, renderAudit, renderUsers } from './people.js';
import { render as renderImport } from './roster.js';
import { $, applyStatic, fill, onLangChange, setLang, t } from './ui.js';

const SECTIONS = {
  officers: renderOfficers,
  import: renderImport,
  agencies: renderAgencies,
  categories: renderCategories,
  rules: renderRules,
  plans: renderPlans,
  keys: () => renderKeys(),
  appeals: renderAppeals,
  users: renderUsers,
  audit: renderAudit,
};
let current = null;

function sectionFromHash() {
  const name = location.hash.replace(/^#/, '');
  return name in SECTIONS ? name : 'officers';
}

function open(name) {
  current = name;
  for (const a of document.querySelectorAll('#nav a')) a.setAttribute('aria-current', a.dataset.section === name ? 'page' : 'false');
  for (const s of document.querySelectorAll('#main .sec')) s.hidden = s.id !== `sec-${name}`;
  SECTIONS[name]();
}

function showLogin(message) {
  $('login').hidden = false;
  $('logout').hidden = true;
  fill($('user-name'));
  const err = $('login-error');
  err.hidden = !message;
  fill(err, message || '');
  $('login-username').focus();
}

async function start() {
  const me = await api('GET', '/me');
  if (!me.ok || me.data.role !== 'admin') {
    setSession(null);
    showLogin(me.ok ? t('login.not_admin') : '');
    return;
  }
  $('login').hidden = true;
  $('logout').hidden = false;
  fill($('user-name'), me.data.full_name || me.data.username || '');
  open(sectionFromHash());
  refreshAppealCount();
}

async function login(ev) {
  ev.preventDefault();
  const btn = $('login-submit');
  btn.disabled = true;
  const form = new URLSearchParams({ username: $('login-username').value.trim(), password: $('login-password').value });
  const r = await api('POST', '/auth/token', form);
  btn.disabled = false;
  if (!r.ok) { showLogin(r.status === 401 ? t('login.wrong') : r.message); return; }
  if (r.data.role !== 'admin') { showLogin(t('login.not_admin')); return; }
  setSession({ token: r.data.access_token, expires_at: Date.now() + r.data.expires_in * 1000 });
  $('login-password').value = '';
  await start();
}

function logout() {
  setSession(null);
  showLogin('');
}

applyStatic();
$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', logout);
for (const b of document.querySelectorAll('[data-lang]')) b.addEventListener('click', () => setLang(b.dataset.lang));
onLangChange(() => { if (current && getSession()) SECTIONS[current](); });
onAuthLost((message) => { setSession(null); showLogin(message); });
window.addEventListener('hashchange', () => { if (getSession()) open(sectionFromHash()); });
(getSession() ? start() : Promise.resolve(showLogin(''))).finally(() => { document.body.dataset.ready = 'true'; });

/* The page's language: Indonesian, or English by the switch in the top bar (kept in this browser). Texts
 * come from strings.js; every code the server sends (category, status, alert kind, source, forward state,
 * timeline action...) is shown through label() from the one table of codes in labels.js. */
import { lookup } from '../shared/i18n.js';
import { LABELS } from './labels.js';
import { STRINGS } from './strings.js';

const LANG_KEY = 'jogo.live.lang';
let lang = 'id';
try { lang = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'id'; } catch (e) { lang = 'id'; }
const listeners = [];

export const getLang = () => lang;

/** The text of a key in the page's language ({x} filled in from params). */
export const t = (key, params) => lookup(STRINGS, lang, key, params);

/** A server code as a label: label('incident_status', 'en_route') → "Menuju lokasi"; unknown → the code. */
export function label(group, code) {
  if (code == null || code === '') return '—';
  const key = `${group}.${code}`;
  const mine = LABELS[lang][key];
  if (mine != null) return mine;
  if (LABELS.id[key] != null) return LABELS.id[key];
  return String(code).replace(/_/g, ' ');
}
export const hasLabel = (group, code) => LABELS.id[`${group}.${code}`] != null;

/** A system reason of the timeline (reason_code, reason_params) in the page's language, else its English text. */
export function reasonText(e) {
  if (!e.reason_code || !hasLabel('reason', e.reason_code)) return e.reason;
  const p = { ...(e.reason_params || {}) };
  if (p.source) p.source = label('source', p.source); // a code among the values reads as a label too
  if (p.by) p.by = label('role', p.by);
  return lookup(LABELS, lang, `reason.${e.reason_code}`, p);
}

/** The category names of GET /categories join the table (an admin may add categories at any time). */
export function addCategories(list) {
  for (const c of list || []) {
    if (!c || !c.code) continue;
    if (c.name_id) LABELS.id[`category.${c.code}`] = c.name_id;
    if (c.name_en) LABELS.en[`category.${c.code}`] = c.name_en;
  }
}

/** fn(lang) after every switch: each module redraws what it drew. */
export const onLangChange = (fn) => listeners.push(fn);

export function setLang(next) {
  const was = lang;
  lang = next === 'en' ? 'en' : 'id';
  try { localStorage.setItem(LANG_KEY, lang); } catch (e) { /* private mode: this tab only */ }
  applyStatic();
  if (was !== lang) for (const fn of listeners) { try { fn(lang); } catch (e) { console.error('lang', e); } }
}

/** The page's fixed texts: data-i18n (text), data-i18n-placeholder, data-i18n-title. */
export function applyStatic(root = document) {
  document.documentElement.lang = lang;
  document.title = t('page.title');
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const b of document.querySelectorAll('[data-lang]')) b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
}

/** An API failure in the page's language: the label of its error code when there is one, else its message. */
export function errorText(r) {
  if (!r) return t('err.unknown');
  if (r.status === 0) return t('err.network');
  const code = r.code || '';
  if (code === 'validation_error' && r.message) return `${label('error', code)}: ${r.message}`;
  if (code && LABELS.id[`error.${code}`] != null) return label('error', code);
  return r.message || code || t('err.unknown');
}

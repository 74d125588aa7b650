/* The portal's language (Indonesian first, an English switch), its texts, times and toasts, over the helpers
 * it shares with the live map (/static/live/shared/). Server strings only ever become text nodes. */
import { CFG, toaster } from '../../live/shared/dom.js';
import { known, lookup } from '../../live/shared/i18n.js';
import { toDate, validZone, zoneAbbr } from '../../live/shared/time.js';
import { STRINGS } from './strings.js';

export { $, CFG, fill, h, show } from '../../live/shared/dom.js';
export { toDate } from '../../live/shared/time.js';

const LANG_KEY = 'jogo.agency.lang';
let lang = 'id';
try { lang = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'id'; } catch (e) { /* storage off */ }
const listeners = [];

export const currentLang = () => lang;
export const t = (key, params) => lookup(STRINGS, lang, key, params);

/** A server code (state, outcome...) in words when the table knows it, else as it is. */
export function tCode(prefix, code) {
  if (code == null || code === '') return '—';
  const key = `${prefix}.${code}`;
  return known(STRINGS, lang, key) ? t(key) : String(code).replace(/_/g, ' ');
}

/** Fill every [data-i18n] (text), [data-i18n-placeholder] and [data-i18n-label] (aria-label). */
export function applyI18n(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  document.title = t('app.title');
}

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'id';
  try { localStorage.setItem(LANG_KEY, lang); } catch (e) { /* ignore */ }
  applyI18n();
  for (const fn of listeners) fn(lang);
}
export const onLangChange = (fn) => listeners.push(fn);

export const toast = toaster({ max: 3, roles: true });

const TZ = validZone(CFG.timezone || 'Asia/Jakarta');
const TZ_ABBR = zoneAbbr(TZ);

/** "14.05 WIB" today, "3 Des 14.05 WIB" another day. */
export function when(v) {
  const d = toDate(v);
  if (!d) return '—';
  const locale = lang === 'en' ? 'en-GB' : 'id-ID';
  const day = (x) => new Intl.DateTimeFormat(locale, { timeZone: TZ, dateStyle: 'short' }).format(x);
  const opts = day(d) === day(new Date())
    ? { timeZone: TZ, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
    : { timeZone: TZ, day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  return new Intl.DateTimeFormat(locale, opts).format(d) + (TZ_ABBR ? ' ' + TZ_ABBR : '');
}

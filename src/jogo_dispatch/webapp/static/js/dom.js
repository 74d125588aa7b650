/* The phone app's language switch and number/time formatting, over the helpers it shares with the live map
 * (element builders, toasts, the string lookup, time zone: /static/live/shared/). Server strings only ever
 * become text nodes. */
import { CFG, toaster } from '../../live/shared/dom.js';
import { known, lookup } from '../../live/shared/i18n.js';
import { toDate, validZone, zoneAbbr } from '../../live/shared/time.js';
import { STRINGS } from './strings.js';

export { $, CFG, fill, h, show } from '../../live/shared/dom.js';
export { toDate } from '../../live/shared/time.js';

// ------------------------------------------------------------------ language (Indonesian first)
const LANG_KEY = 'jogo.app.lang';
let lang = 'id';
try { lang = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'id'; } catch (e) { /* storage off */ }
const langListeners = [];

export const currentLang = () => lang;

/** The text of a key in the current language, with {name} placeholders filled in. */
export const t = (key, params) => lookup(STRINGS, lang, key, params);

/** Is there a text for this key? */
export const hasText = (key) => STRINGS.id[key] != null;

/** Translate a server code (status, category code...) when the dictionary knows it, else show it as is. */
export function tCode(prefix, code) {
  if (code == null || code === '') return '—';
  const key = `${prefix}.${code}`;
  return known(STRINGS, lang, key) ? t(key) : String(code).replace(/_/g, ' ');
}

/** Fill every [data-i18n] element (text), [data-i18n-placeholder], [data-i18n-label] (aria-label). */
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
  for (const fn of langListeners) fn(lang);
}
export const onLangChange = (fn) => langListeners.push(fn);

// ------------------------------------------------------------------ toasts (at most three on screen)
export const toast = toaster({ max: 3, roles: true });

// ------------------------------------------------------------------ formatting
const TZ = validZone(CFG.timezone || 'Asia/Jakarta');
const TZ_ABBR = zoneAbbr(TZ);

export function when(v) {
  const d = toDate(v);
  if (!d) return '—';
  const locale = lang === 'en' ? 'en-GB' : 'id-ID';
  const sameDay = new Intl.DateTimeFormat(locale, { timeZone: TZ, dateStyle: 'short' }).format(d)
    === new Intl.DateTimeFormat(locale, { timeZone: TZ, dateStyle: 'short' }).format(new Date());
  const opts = sameDay ? { timeZone: TZ, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
    : { timeZone: TZ, day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  return new Intl.DateTimeFormat(locale, opts).format(d) + (TZ_ABBR ? ' ' + TZ_ABBR : '');
}
export function distance(m) {
  const v = Number(m);
  if (m == null || !Number.isFinite(v)) return '—';
  const locale = lang === 'en' ? 'en-GB' : 'id-ID';
  return v < 1000 ? `${Math.round(v)} m` : `${(v / 1000).toLocaleString(locale, { maximumFractionDigits: 1 })} km`;
}
export function duration(s) {
  const v = Number(s);
  if (s == null || !Number.isFinite(v)) return '—';
  if (v < 60) return t('unit.seconds', { n: Math.max(0, Math.round(v)) });
  if (v < 3600) return t('unit.minutes', { n: Math.round(v / 60) });
  return t('unit.hours', { h: Math.floor(v / 3600), m: Math.round((v % 3600) / 60) });
}
export const fixed = (x, n = 5) => (Number.isFinite(Number(x)) ? Number(x).toFixed(n) : '—');

/** An RFC 4122 v4 id; crypto.randomUUID needs a secure context, getRandomValues does not. */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

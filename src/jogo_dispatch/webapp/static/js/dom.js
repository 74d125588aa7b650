/* The phone app's language switch and number/time formatting, over the helpers it shares with the live map
 * (element builders, toasts, the string lookup, time zone: /static/live/shared/). Server strings only ever
 * become text nodes. */
import { CFG, toaster } from '../../live/shared/dom.js';
import { pageLanguage } from '../../live/shared/i18n.js';
import { STRINGS } from './strings.js';

export { $, CFG, fill, h, show } from '../../live/shared/dom.js';
export { toDate } from '../../live/shared/time.js';

// ------------------------------------------------------------------ language (Indonesian first)
export const {
  currentLang, t, hasText, tCode, applyI18n, setLang, onLangChange, when,
} = pageLanguage(STRINGS, { storageKey: 'jogo.app.lang', titleKey: 'app.title', zone: CFG.timezone });

// ------------------------------------------------------------------ toasts (at most three on screen)
export const toast = toaster({ max: 3, roles: true });

// ------------------------------------------------------------------ formatting
export function distance(m) {
  const v = Number(m);
  if (m == null || !Number.isFinite(v)) return '—';
  const locale = currentLang() === 'en' ? 'en-GB' : 'id-ID';
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

/* Shared by /map and /app: the bilingual strings. A dictionary is {id: {key: text}, en: {key: text}},
 * Indonesian first; "{name}" in a text is filled in from params.
 *
 * The phone app and the agency portal show one language at a time (pageLanguage below); the dispatchers'
 * page shows both at once: "Tersedia · available", or <span>Tersedia <small>available</small></span>.
 */
import { h } from './dom.js';
import { toDate, validZone, zoneAbbr } from './time.js';

/** The text of a key in a language, else the Indonesian one, else the key itself. */
export function lookup(dict, lang, key, params) {
  let s = dict[lang] ? dict[lang][key] : null;
  if (s == null) s = dict.id[key];
  if (s == null) return key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] == null ? m : String(params[k])));
  return s;
}

/** Has the dictionary a text for this key (in this language or in Indonesian)? */
export const known = (dict, lang, key) => (dict[lang] && dict[lang][key] != null) || dict.id[key] != null;

/** Indonesian text with the English one after it, smaller: <span>id <small>en</small></span>. */
export const bilingualSpan = (id, en) => h('span', null, id, ' ', h('small', null, en));

/** Both languages at once: t (Indonesian), en, dual ("id · en") and bi (the <span> above) over one dictionary. */
export function bilingual(dict) {
  const t = (key, params) => lookup(dict, 'id', key, params);
  const en = (key, params) => lookup(dict, 'en', key, params);
  return {
    t,
    en,
    dual: (key, params) => `${t(key, params)} · ${en(key, params)}`,
    bi: (key, params) => bilingualSpan(t(key, params), en(key, params)),
  };
}

/**
 * One language at a time, as the phone app and the agency portal show it: Indonesian first, an English switch
 * kept in this browser under `storageKey`; [data-i18n] (text), [data-i18n-placeholder] and
 * [data-i18n-label] (aria-label) elements follow it, and so does the document's title (the text of
 * `titleKey`). `when` writes a time in `zone`: "14.05 WIB" today, "3 Des 14.05 WIB" another day.
 */
export function pageLanguage(dict, { storageKey, titleKey, zone }) {
  let lang = 'id';
  try { lang = localStorage.getItem(storageKey) === 'en' ? 'en' : 'id'; } catch (e) { /* storage off */ }
  const listeners = [];
  const t = (key, params) => lookup(dict, lang, key, params);
  const tz = validZone(zone || 'Asia/Jakarta');
  const abbr = zoneAbbr(tz);

  function applyI18n(root = document) {
    document.documentElement.lang = lang;
    for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
    for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
    if (titleKey) document.title = t(titleKey);
  }

  return {
    currentLang: () => lang,
    t,
    /** Is there a text for this key? */
    hasText: (key) => dict.id[key] != null,
    /** A server code (status, category...) in words when the dictionary knows it, else as it is. */
    tCode(prefix, code) {
      if (code == null || code === '') return '—';
      const key = `${prefix}.${code}`;
      return known(dict, lang, key) ? t(key) : String(code).replace(/_/g, ' ');
    },
    applyI18n,
    setLang(next) {
      lang = next === 'en' ? 'en' : 'id';
      try { localStorage.setItem(storageKey, lang); } catch (e) { /* ignore */ }
      applyI18n();
      for (const fn of listeners) fn(lang);
    },
    onLangChange: (fn) => listeners.push(fn),
    when(v) {
      const d = toDate(v);
      if (!d) return '—';
      const locale = lang === 'en' ? 'en-GB' : 'id-ID';
      const day = (x) => new Intl.DateTimeFormat(locale, { timeZone: tz, dateStyle: 'short' }).format(x);
      const opts = day(d) === day(new Date())
        ? { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
        : { timeZone: tz, day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
      return new Intl.DateTimeFormat(locale, opts).format(d) + (abbr ? ' ' + abbr : '');
    },
  };
}

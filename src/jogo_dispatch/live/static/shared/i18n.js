/* Shared by /map and /app: the bilingual strings. A dictionary is {id: {key: text}, en: {key: text}},
 * Indonesian first; "{name}" in a text is filled in from params.
 *
 * The phone app shows one language at a time (its switch, webapp/static/js/dom.js); the dispatchers' page
 * shows both at once: "Tersedia · available", or <span>Tersedia <small>available</small></span>.
 */
import { h } from './dom.js';

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

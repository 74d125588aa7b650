/* The report categories (GET /categories), cached for offline use, named in the current language. */
import { api, items } from './api.js';
import { currentLang, tCode } from './dom.js';

const KEY = 'jogo.app.categories';
let list = [];
try { list = JSON.parse(localStorage.getItem(KEY) || '[]'); } catch (e) { list = []; }

export const categories = () => list;

let pending = null;

/** Fetch the catalogue; offline (or on error) the cached one stays. Resolves with the list. Callers at
 * the same moment share one request. */
export function refreshCategories() {
  if (!pending) pending = fetchCategories().finally(() => { pending = null; });
  return pending;
}

/** The catalogue, fetched first when nothing is cached yet (names drawn after it are the server's). */
export const knownCategories = () => (list.length ? Promise.resolve(list) : refreshCategories());

async function fetchCategories() {
  try {
    const fresh = items(await api('/categories', { auth: false }));
    if (fresh.length) {
      list = fresh;
      try { localStorage.setItem(KEY, JSON.stringify(fresh)); } catch (e) { /* */ }
    }
  } catch (e) { /* offline: the cached list */ }
  return list;
}

/** "Kecelakaan lalu lintas" for traffic_accident; incident-only codes (sos) come from the dictionary. */
export function categoryName(code) {
  const c = list.find((x) => x.code === code);
  if (!c) return tCode('category', code);
  return (currentLang() === 'en' ? c.name_en : c.name_id) || c.name_id || c.name_en || c.code;
}

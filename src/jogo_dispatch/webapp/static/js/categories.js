/* The report categories (GET /categories), cached for offline use, named in the current language. */
import { api, items } from './api.js';
import { currentLang, tCode } from './dom.js';

const KEY = 'jogo.app.categories';
let list = [];
try { list = JSON.parse(localStorage.getItem(KEY) || '[]'); } catch (e) { list = []; }

export const categories = () => list;

/** Fetch the catalogue; offline (or on error) the cached one stays. Resolves with the list. */
export async function refreshCategories() {
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

/* The report categories (GET /categories): their names join the labels table, the call-taking and edit
 * forms list them, each with the priority its incidents get unless set. The region's agencies (GET
 * /agencies), by code, for the agencies a response plan names. */
import { api } from './api.js';
import { addCategories } from './lang.js';

let list = [];
const listeners = [];

export const categories = () => list;
export const categoryOf = (code) => list.find((c) => c.code === code) || null;
export const onCategories = (fn) => listeners.push(fn);

export async function loadCategories() {
  const r = await api('GET', '/categories');
  if (!r.ok || !Array.isArray(r.data)) return;
  list = r.data;
  addCategories(list);
  for (const fn of listeners) fn(list);
}

let agencies = new Map(); // code -> agency
export const agencyByCode = (code) => agencies.get(code) || null;

export async function loadAgencies() {
  const r = await api('GET', '/agencies');
  if (r.ok && Array.isArray(r.data)) agencies = new Map(r.data.filter((a) => a.active !== false).map((a) => [a.code, a]));
}

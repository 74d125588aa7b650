/* Finding an officer by badge or name: GET /officers?q= (an exact badge first), the answers in a list
 * under the box; choosing one centres the map on them and opens them in the desk column. The list is
 * filtered here too, so an older server that ignores q still finds the right officers. */
import { $, fill, h } from '../shared/dom.js';
import { api } from './api.js';
import { open } from './bus.js';
import { pointOf } from './format.js';
import { errorText, label, t } from './lang.js';
import { focusOn } from './layers.js';
import { upsertOfficer } from './officers.js';

const input = $('officer-q');
const box = $('officer-results');
let timer = 0;
let asked = 0;
let results = [];
let active = 0;

const norm = (s) => String(s || '').toLowerCase();
/** Officers matching q, an exact badge first, then badges starting with it, then names. */
export function matchOfficers(list, q) {
  const n = norm(q).trim();
  if (!n) return [];
  const rank = (o) => (norm(o.badge) === n ? 0 : norm(o.badge).startsWith(n) ? 1 : norm(o.badge).includes(n) ? 2 : norm(o.name).includes(n) ? 3 : 9);
  return list.filter((o) => rank(o) < 9).sort((a, b) => rank(a) - rank(b) || norm(a.badge).localeCompare(norm(b.badge)));
}

function choose(o) {
  box.hidden = true;
  input.value = o.badge || '';
  upsertOfficer(o);
  open('officer', o.id);
  focusOn(pointOf(o), 16);
}

function draw(message) {
  if (message) { fill(box, h('div', { class: 'empty' }, message)); box.hidden = false; return; }
  fill(box, results.slice(0, 10).map((o, i) => h('div', {
    class: 'option' + (i === active ? ' active' : ''), role: 'option', dataset: { id: String(o.id) },
    onmousedown: (ev) => { ev.preventDefault(); choose(o); },
  }, h('b', null, o.badge), ` ${o.name || ''}`, h('span', { class: 'sub' }, ` · ${label('officer_status', o.status)} · ${label('unit_type', o.unit_type)}`),
  o.online === false ? h('span', { class: 'sub' }, ` · ${t('officer.offline')}`) : null)));
  box.hidden = false;
}

async function search() {
  const q = input.value.trim();
  const mine = ++asked;
  if (!q) { box.hidden = true; return; }
  const r = await api('GET', `/officers?q=${encodeURIComponent(q)}`);
  if (mine !== asked) return; // a newer search is under way
  if (!r.ok) { draw(errorText(r)); return; }
  results = matchOfficers(Array.isArray(r.data) ? r.data : [], q);
  active = 0;
  if (!results.length) draw(t('search.none', { q })); else draw();
}

input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 200); });
input.addEventListener('focus', () => { if (input.value.trim() && results.length) draw(); });
input.addEventListener('blur', () => setTimeout(() => { box.hidden = true; }, 150));
input.addEventListener('keydown', async (ev) => {
  if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
    ev.preventDefault();
    if (!results.length) return;
    active = (active + (ev.key === 'ArrowDown' ? 1 : -1) + Math.min(10, results.length)) % Math.min(10, results.length);
    draw();
  } else if (ev.key === 'Enter') {
    ev.preventDefault();
    clearTimeout(timer);
    if (!results.length || box.hidden) await search();
    if (results[active]) choose(results[active]);
  } else if (ev.key === 'Escape') {
    box.hidden = true;
  }
});

/* The KPI tab: GET /stats over the last day, week or month: incidents by status, category and police
 * sector, how long reports waited to be verified (from when they arrived), to a unit, to the scene
 * (median and 90th percentile), reports by review state. Refreshed while the tab is shown. */
import { $, fill, h } from '../shared/dom.js';
import { KPI_REFRESH_MS } from './config.js';
import { api, getSession } from './api.js';
import { on } from './bus.js';
import { clock, duration } from './format.js';
import { errorText, label, onLangChange, t } from './lang.js';
import { select } from './ui.js';

const RANGES = { '24h': 24, '7d': 24 * 7, '30d': 24 * 30 };
let range = '24h';
let data = null;
let error = '';
let visible = false;
let timer = 0;

function table(title, obj, group) {
  const rows = Object.entries(obj || {}).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...rows.map(([, n]) => n));
  return h('section', { class: 'kpi-block' }, h('h4', null, title),
    rows.length ? h('table', { class: 'kpi-table' }, h('tbody', null, rows.map(([code, n]) => h('tr', null,
      h('td', null, group ? label(group, code) : code),
      h('td', { class: 'bar' }, h('i', { style: `width:${Math.round((n / max) * 100)}%` })),
      h('td', { class: 'num' }, String(n))))))
      : h('div', { class: 'empty' }, t('kpi.none')));
}

function render() {
  const box = $('kpi');
  const picker = select(Object.keys(RANGES).map((k) => [k, t(`kpi.range_${k}`)]), range, { id: 'kpi-range' });
  picker.addEventListener('change', () => { range = picker.value; load(); });
  const head = h('div', { class: 'row kpi-head' }, picker, data ? h('span', { class: 'sub' }, t('kpi.as_of', { at: clock(data.until) })) : null);
  if (error) { fill(box, head, h('div', { class: 'unavailable' }, error)); return; }
  if (!data) { fill(box, head, h('div', { class: 'empty' }, t('panel.loading'))); return; }
  const times = data.times || {};
  fill(box, head,
    h('div', { class: 'kpi-big' }, h('b', { id: 'kpi-incidents' }, String(data.incidents)), ' ', t('kpi.incidents')),
    h('section', { class: 'kpi-block' }, h('h4', null, t('kpi.times')),
      h('table', { class: 'kpi-table times' },
        h('thead', null, h('tr', null, h('th'), h('th', { class: 'num' }, 'n'), h('th', { class: 'num' }, t('kpi.median')), h('th', { class: 'num' }, 'p90'))),
        h('tbody', null, ['to_verify', 'to_dispatch', 'to_scene', 'unit_to_scene'].filter((k) => k in times).map((k) => {
          const x = times[k] || {};
          return h('tr', { dataset: { kpi: k } }, h('td', null, label('kpi', k)), h('td', { class: 'num' }, String(x.n ?? 0)),
            h('td', { class: 'num' }, x.median_s == null ? '—' : duration(x.median_s)),
            h('td', { class: 'num' }, x.p90_s == null ? '—' : duration(x.p90_s)));
        })))),
    table(t('kpi.by_status'), data.by_status, 'incident_status'),
    table(t('kpi.by_category'), data.by_category, 'category'),
    table(t('kpi.by_sector'), data.by_sector, null),
    table(t('kpi.reports'), data.reports_by_status, 'report_status'));
}

export async function load() {
  if (!getSession()) return;
  const until = new Date();
  const since = new Date(until.getTime() - RANGES[range] * 3600000);
  const q = new URLSearchParams({ since: since.toISOString(), until: until.toISOString() });
  const r = await api('GET', `/stats?${q}`);
  data = r.ok ? r.data : data;
  error = r.ok ? '' : errorText(r);
  if (visible) render();
}

on('tab', (name) => {
  visible = name === 'kpi';
  clearInterval(timer);
  if (!visible) return;
  render();
  load();
  timer = setInterval(load, KPI_REFRESH_MS);
});
onLangChange(() => { if (visible) render(); });

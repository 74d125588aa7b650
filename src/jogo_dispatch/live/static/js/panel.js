/* The side panel: its tabs (incidents, reports to verify, alerts, KPI), the lists drawn from state.js when
 * something changed (dirty()), and the top bar's counters. A click on an item opens it in the desk column. */
import { $, fill, h } from '../shared/dom.js';
import { PANEL_REFRESH_MS } from './config.js';
import { getSession } from './api.js';
import { ackButton, alertPoint, openAlert } from './alerts.js';
import { emit, open } from './bus.js';
import { ago, clock, isDistress, meters, pointOf, priorityOf, toDate } from './format.js';
import { incidentTitle, offersFor, unitBadges } from './incidents.js';
import { label, onLangChange, t } from './lang.js';
import { focusOn } from './layers.js';
import { badgeOf } from './officers.js';
import { falseReports, loadFalseReports } from './reports.js';
import { alerts, dirty, forwards, incidentShown, incidents, officers, onRender, panels, reports, selection } from './state.js';
import { reportTimer } from './timers.js';
import { chip, countdown, timerLine } from './ui.js';

// ------------------------------------------------------------------ tabs
let tab = 'incidents';
export const currentTab = () => tab;
export function showTab(name) {
  tab = name;
  for (const b of document.querySelectorAll('#tabs [data-tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  for (const s of document.querySelectorAll('#panel .tab')) s.hidden = s.id !== `tab-${name}`;
  emit('tab', name);
}
for (const b of document.querySelectorAll('#tabs [data-tab]')) b.addEventListener('click', () => showTab(b.dataset.tab));

let queue = 'received';
for (const b of document.querySelectorAll('[data-queue]')) {
  b.addEventListener('click', () => {
    queue = b.dataset.queue;
    for (const x of document.querySelectorAll('[data-queue]')) x.setAttribute('aria-pressed', String(x === b));
    if (queue === 'false') loadFalseReports();
    dirty('reports');
  });
}

// ------------------------------------------------------------------ counters
function renderCounters() {
  let online = 0;
  let available = 0;
  let busy = 0;
  for (const o of officers.values()) {
    if (o.d.online !== true) continue;
    online++;
    if (o.d.status === 'available') available++;
    else if (o.d.status === 'busy') busy++;
  }
  $('c-online').textContent = online;
  $('c-available').textContent = available;
  $('c-busy').textContent = busy;
  $('c-incidents').textContent = incidents.size;
  $('c-reports').textContent = reports.size;
  $('c-alerts').textContent = alerts.size;
  let distress = false;
  for (const a of alerts.values()) if (isDistress(a.d)) { distress = true; break; }
  $('c-alerts-box').classList.toggle('has-alerts', alerts.size > 0);
  $('c-alerts-box').classList.toggle('has-distress', distress);
  $('tab-alerts-btn').classList.toggle('has-distress', distress);
}

function panelNote(state, error, empty) {
  if (state === 'missing') return h('div', { class: 'unavailable' }, t('panel.missing'));
  if (state === 'error') return h('div', { class: 'unavailable' }, error || t('panel.error'));
  if (state === 'loading') return h('div', { class: 'empty' }, t('panel.loading'));
  return empty ? h('div', { class: 'empty' }, empty) : null;
}

const isSelected = (kind, id) => selection.kind === kind && selection.id === id;
function item(kind, id, extraClass, onclick, ...children) {
  return h('div', {
    class: `item${extraClass ? ' ' + extraClass : ''}${isSelected(kind, id) ? ' selected' : ''}`,
    dataset: { kind, id: String(id) }, onclick, tabindex: 0,
  }, ...children);
}

// ------------------------------------------------------------------ lists
function renderAlerts() {
  const list = [...alerts.values()].sort((x, y) => (isDistress(y.d) - isDistress(x.d))
    || ((toDate(y.d.created_at) || 0) - (toDate(x.d.created_at) || 0)));
  $('n-alerts').textContent = list.length;
  const items = list.map((a) => {
    const d = a.d;
    return item('alert', d.id, isDistress(d) ? 'distress' : '', () => { openAlert(d); focusOn(alertPoint(d)); },
      h('div', { class: 'row' }, h('span', { class: 'title' }, isDistress(d) ? h('span', { class: 'sos' }, 'SOS') : '⚠', ' ', label('alert_kind', d.kind)),
        h('span', { class: 'meta' }, clock(d.created_at))),
      h('div', { class: 'desc' }, d.message || '', d.officer_id != null ? ` · ${badgeOf(d.officer_id)}` : '',
        d.incident_id != null ? ` · #${d.incident_id}` : ''),
      h('div', { class: 'actions' }, ackButton(d.id)));
  });
  fill($('list-alerts'), items, panelNote(panels.alerts, panels.alertsError, items.length ? '' : t('panel.no_alerts')));
}

function reportItem(d) {
  return item('report', d.id, '', () => { open('report', d.id); focusOn(pointOf(d)); },
    h('div', { class: 'row' }, h('span', { class: 'title' }, label('category', d.category), ` #${d.id}`),
      d.has_photo ? chip(t('evidence.photo'), 'photo-tag') : null,
      h('span', { class: 'meta' }, ago(d.created_at))),
    timerLine(reportTimer(d)),
    d.address ? h('div', { class: 'addr' }, d.address) : null,
    d.description ? h('div', { class: 'desc' }, d.description) : null,
    d.reporter_distance_m != null ? h('div', { class: 'sub' }, t('evidence.distance_short', { d: meters(d.reporter_distance_m) })) : null);
}

function renderReports() {
  $('n-reports').textContent = reports.size;
  if (queue === 'false') {
    const items = falseReports.items.map(reportItem);
    fill($('list-reports'), items, panelNote(falseReports.state === 'ok' ? 'ok' : falseReports.state,
      falseReports.error, items.length ? '' : t('panel.no_false')));
    return;
  }
  const list = [...reports.values()].sort((x, y) => (priorityOf(x.d) - priorityOf(y.d))
    || ((toDate(x.d.created_at) || 0) - (toDate(y.d.created_at) || 0)));
  const items = list.map((rp) => reportItem(rp.d));
  fill($('list-reports'), items, panelNote(panels.reports, panels.reportsError, items.length ? '' : t('panel.no_reports')));
}

/** The forwards the page has seen for an incident ("DLH: diterima"). */
function forwardChips(incidentId) {
  const out = [];
  for (const f of forwards.values()) {
    if (f.incident_id === incidentId) out.push(chip(`${f.agency_code || '#' + f.agency_id}: ${label('forward_status', f.status)}`, `fw-${f.status}`));
  }
  return out;
}

function renderIncidents() {
  const list = [...incidents.values()].filter((it) => incidentShown(it.d)).sort((x, y) => (priorityOf(x.d) - priorityOf(y.d))
    || ((toDate(x.d.created_at) || 0) - (toDate(y.d.created_at) || 0)));
  $('n-incidents').textContent = list.length;
  const items = list.map((it) => {
    const d = it.d;
    const p = priorityOf(d);
    const units = unitBadges(d);
    const pending = offersFor(d.id).filter((o) => o.status === 'pending');
    return item('incident', d.id, d.source === 'sos' || d.source === 'officer_sos' ? 'distress' : '', () => { open('incident', d.id); focusOn(pointOf(d)); },
      h('div', { class: 'row' }, h('span', { class: `pbadge p${p}` }, `P${p}`),
        h('span', { class: 'title' }, label('category', d.category), ` #${d.id}`),
        h('span', { class: 'meta' }, ago(d.received_at || d.created_at))),
      h('div', { class: 'row chips' }, chip(label('incident_status', d.status), `st-${d.status}`),
        d.source && d.source !== 'report' ? chip(label('source', d.source), 'src') : null,
        d.sector ? h('span', { class: 'sub' }, d.sector) : null),
      d.address ? h('div', { class: 'addr' }, d.address) : (d.description ? h('div', { class: 'desc' }, d.description) : null),
      units.length || pending.length ? h('div', { class: 'units' }, h('span', { class: 'sub' }, t('list.unit')), ' ',
        units.map((u, i) => [i ? ', ' : '', h('b', { class: 'unit-badge' }, u.badge), ` (${label('unit_state', u.state)})`]),
        pending.map((o) => [units.length ? ' · ' : '', `${badgeOf(o.officer_id)} ${label('offer_status', 'pending')} `, countdown(o.expires_at)]))
        : null,
      h('div', { class: 'row chips' }, forwardChips(d.id)));
  });
  fill($('list-incidents'), items, items.length ? null : h('div', { class: 'empty' }, t('panel.no_incidents')));
}

onRender((what) => {
  if (what.has('counters')) renderCounters();
  if (what.has('alerts')) renderAlerts();
  if (what.has('reports')) renderReports();
  if (what.has('incidents')) renderIncidents();
});
onLangChange(() => dirty('alerts', 'reports', 'incidents'));

// The "… lalu" times move on.
setInterval(() => { if (getSession()) dirty('alerts', 'reports', 'incidents'); }, PANEL_REFRESH_MS);

/* The side panel's three queues (alerts, reports to verify, open incidents) and the top bar's counters,
 * drawn from state.js when something changed (dirty()). */
import { $, fill, h } from '../shared/dom.js';
import { PANEL_REFRESH_MS } from './config.js';
import { getSession } from './api.js';
import { ackButton, alertPoint, alertTag } from './alerts.js';
import { ago, clock, hasPoint, isDistress, num, priorityOf, toDate } from './format.js';
import { offerLine, offersFor } from './incidents.js';
import { focusOn } from './layers.js';
import { badgeOf } from './officers.js';
import { reportActions } from './reports.js';
import { alerts, dirty, incidents, officers, onRender, panels, reports } from './state.js';
import { dual, t } from './strings.js';

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
  $('c-alerts').textContent = alerts.size;
  let distress = false;
  for (const a of alerts.values()) if (isDistress(a.d)) { distress = true; break; }
  const box = $('c-alerts-box');
  box.classList.toggle('has-alerts', alerts.size > 0);
  box.classList.toggle('has-distress', distress);
}

function panelNote(state, error, empty) {
  if (state === 'missing') return h('div', { class: 'unavailable' }, dual('panel.missing'));
  if (state === 'error') return h('div', { class: 'unavailable' }, error || t('panel.error'));
  if (state === 'loading') return h('div', { class: 'empty' }, dual('panel.loading'));
  return empty ? h('div', { class: 'empty' }, empty) : null;
}

const pointOf = (d) => (hasPoint(d) ? [num(d.lat), num(d.lon)] : null);

function renderAlerts() {
  const list = [...alerts.values()].sort((x, y) => (isDistress(y.d) - isDistress(x.d))
    || ((toDate(y.d.created_at) || 0) - (toDate(x.d.created_at) || 0)));
  $('n-alerts').textContent = list.length;
  const items = list.map((a) => {
    const d = a.d;
    return h('div', { class: 'item' + (isDistress(d) ? ' distress' : ''), onclick: () => focusOn(alertPoint(d), a.m) },
      h('div', { class: 'row' }, h('span', { class: 'title' }, alertTag(d), ' ', d.kind || t('alert.fallback')),
        h('span', { class: 'meta' }, clock(d.created_at))),
      h('div', { class: 'desc' }, d.message || '', d.officer_id != null ? ` · ${badgeOf(d.officer_id)}` : ''),
      h('div', { class: 'actions' }, ackButton(d.id)));
  });
  fill($('list-alerts'), items,
    panelNote(panels.alerts, panels.alertsError, items.length ? '' : dual('panel.no_alerts')));
}

function renderReports() {
  const list = [...reports.values()].sort((x, y) => (toDate(x.d.created_at) || 0) - (toDate(y.d.created_at) || 0));
  $('n-reports').textContent = list.length;
  const items = list.map((rp) => {
    const d = rp.d;
    return h('div', { class: 'item', onclick: () => focusOn(pointOf(d), rp.m) },
      h('div', { class: 'row' }, h('span', { class: 'title' }, d.category || t('report.title'), ` #${d.id}`),
        h('span', { class: 'meta' }, ago(d.created_at))),
      d.description ? h('div', { class: 'desc' }, d.description) : null,
      reportActions(d));
  });
  fill($('list-reports'), items,
    panelNote(panels.reports, panels.reportsError, items.length ? '' : dual('panel.no_reports')));
}

function renderIncidents() {
  const list = [...incidents.values()].sort((x, y) => (priorityOf(x.d) - priorityOf(y.d))
    || ((toDate(x.d.created_at) || 0) - (toDate(y.d.created_at) || 0)));
  $('n-incidents').textContent = list.length;
  const items = list.map((it) => {
    const d = it.d;
    const p = priorityOf(d);
    const os = offersFor(d.id);
    return h('div', { class: 'item', onclick: () => focusOn(pointOf(d), it.m) },
      h('div', { class: 'row' }, h('span', { class: `pbadge p${p}` }, `P${p}`),
        h('span', { class: 'title' }, d.category || t('incident.fallback'), ` #${d.id}`),
        h('span', { class: 'meta' }, ago(d.created_at))),
      d.description ? h('div', { class: 'desc' }, d.description) : null,
      h('div', { class: 'offers' }, d.status || '', os.length ? ' · ' + offerLine(os[0]) : ''));
  });
  fill($('list-incidents'), items,
    items.length ? null : h('div', { class: 'empty' }, dual('panel.no_incidents')));
}

onRender((what) => {
  if (what.has('counters')) renderCounters();
  if (what.has('alerts')) renderAlerts();
  if (what.has('reports')) renderReports();
  if (what.has('incidents')) renderIncidents();
});

// The "… lalu" times move on.
setInterval(() => { if (getSession()) dirty('alerts', 'reports', 'incidents'); }, PANEL_REFRESH_MS);

/* Citizens' reports waiting for verification: markers, popup, the verify / reject / false buttons and the
 * catch-up load of the queue. */
import { h } from '../shared/dom.js';
import { REPORT_COLOR } from './config.js';
import { api, getSession, itemsOf } from './api.js';
import { clockAgo, hasPoint, num } from './format.js';
import { dotRenderer, reportLayer } from './layers.js';
import { currentSeq, dirty, nextSeq, panels, reports } from './state.js';
import { bi, dual, t } from './strings.js';
import { button, toast } from './ui.js';

function reportPopup(rp) {
  const d = rp.d;
  return h('div', { class: 'pop' },
    h('h3', null, bi('report.title'), ` #${d.id}`, d.category ? ` — ${d.category}` : ''),
    h('div', { class: 'desc' }, d.description || ''),
    h('dl', null, h('dt', null, bi('report.received')), h('dd', null, clockAgo(d.created_at))),
    reportActions(d));
}

/** Verifikasi / Tolak / Palsu (the popup and the list item). */
export function reportActions(d) {
  return h('div', { class: 'actions' },
    button(bi('report.verify'), (b) => reportAction(d.id, 'verify', undefined, b), 'primary'),
    button(bi('report.reject'), (b) => reportAction(d.id, 'reject', { reason: 'not_incident' }, b)),
    button(bi('report.false'), (b) => reportAction(d.id, 'reject', { reason: 'false' }, b), 'danger'));
}

export function upsertReport(d) {
  if (!d || d.id == null) return;
  if (d.status && d.status !== 'received') { removeReport(d.id); return; }
  let rp = reports.get(d.id);
  if (!rp) { rp = { d: {}, m: null, seq: 0 }; reports.set(d.id, rp); }
  Object.assign(rp.d, d);
  rp.seq = nextSeq();
  if (hasPoint(rp.d)) {
    const ll = [num(rp.d.lat), num(rp.d.lon)];
    if (!rp.m) {
      rp.m = L.circleMarker(ll, {
        renderer: dotRenderer, radius: 7, color: REPORT_COLOR, weight: 3, fillColor: '#ffffff', fillOpacity: 1,
        bubblingMouseEvents: false,
      }).bindPopup(() => reportPopup(rp)).addTo(reportLayer);
    } else {
      rp.m.setLatLng(ll);
    }
  }
  dirty('reports');
}

export function removeReport(id) {
  const rp = reports.get(id);
  if (!rp) return;
  if (rp.m) reportLayer.removeLayer(rp.m);
  reports.delete(id);
  dirty('reports');
}

/** The queue from the API: drops the reports someone else handled while the page was away. */
export async function loadReports() {
  const started = currentSeq();
  const r = await api('GET', '/reports?status=received');
  if (!getSession() || r.status === 401) return;
  if (r.ok) {
    const list = itemsOf(r.data);
    const ids = new Set(list.map((d) => d.id));
    for (const [id, rp] of [...reports]) if (!ids.has(id) && rp.seq <= started) removeReport(id);
    for (const d of list) upsertReport(d);
    panels.reports = 'ok';
  } else {
    panels.reports = r.status === 404 || r.missing ? 'missing' : 'error';
    panels.reportsError = r.message;
  }
  dirty('reports');
}

async function reportAction(id, action, body, btn) {
  btn.disabled = true;
  const r = await api('POST', `/reports/${encodeURIComponent(id)}/${action}`, body);
  btn.disabled = false;
  if (r.ok) {
    removeReport(id);
    const what = action === 'verify' ? dual('report.verified')
      : (body && body.reason === 'false' ? dual('report.marked_false') : dual('report.rejected'));
    toast(t('report.done', { id, what }), 'ok');
  } else if (r.missing) {
    toast(dual('report.missing'), 'err');
  } else {
    toast(r.message, 'err');
    if (r.status === 409 || r.status === 404) loadReports(); // someone else handled it
  }
}

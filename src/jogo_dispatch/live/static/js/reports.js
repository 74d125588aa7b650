/* Citizens' reports waiting for verification: markers (a click opens the evidence in the desk column) and
 * the catch-up load of the queue; the list of reports marked false, for withdrawing a marking. */
import { REPORT_COLOR } from './config.js';
import { api, getSession, itemsOf } from './api.js';
import { open } from './bus.js';
import { hasPoint, num } from './format.js';
import { label, t } from './lang.js';
import { dotRenderer, reportLayer } from './layers.js';
import { currentSeq, dirty, nextSeq, panels, reports } from './state.js';

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
      }).bindTooltip(() => `${t('report.title')} #${rp.d.id} · ${label('category', rp.d.category)}`, { direction: 'top' })
        .on('click', () => open('report', rp.d.id))
        .addTo(reportLayer);
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

/** Reports marked false (newest first), for the "false" view of the queue tab. */
export const falseReports = { items: [], state: 'idle', error: '' };
export async function loadFalseReports() {
  falseReports.state = 'loading';
  dirty('reports');
  const r = await api('GET', '/reports?status=false&limit=100');
  falseReports.state = r.ok ? 'ok' : 'error';
  falseReports.error = r.ok ? '' : r.message;
  falseReports.items = r.ok ? itemsOf(r.data) : [];
  dirty('reports');
}

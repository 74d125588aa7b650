/* Incidents on the map: markers (size and colour by priority, hidden outside the sector filter), a tooltip,
 * a click that opens the incident desk; the offers the dispatches made, and who holds each incident. */
import { CLOSED_INCIDENT } from './config.js';
import { open } from './bus.js';
import { hasPoint, num, priorityOf } from './format.js';
import { label, t } from './lang.js';
import { incidentLayer } from './layers.js';
import { badgeOf } from './officers.js';
import { dirty, incidentShown, incidents, offers, selection } from './state.js';
import { toast } from './ui.js';

function incidentIcon(p, selected) {
  const size = [0, 26, 22, 18, 15, 12][p] + (selected ? 6 : 0);
  return L.divIcon({
    className: 'inc-marker', iconSize: [size, size], iconAnchor: [size / 2, size / 2],
    html: `<div class="inc-icon p${p}${selected ? ' selected' : ''}" style="width:${size}px;height:${size}px"><span>${p <= 3 ? p : ''}</span></div>`,
  });
}

/** "P2 Pohon tumbang #12" */
export const incidentTitle = (d) => `P${priorityOf(d)} ${label('category', d.category)} #${d.id}`;

/** The offers made for an incident, newest first. */
export function offersFor(incidentId) {
  const out = [];
  for (const o of offers.values()) if (o.incident_id === incidentId) out.push(o);
  return out.sort((a, b) => (b.id || 0) - (a.id || 0));
}

/** The officers holding an incident (its units; else the officer of an older answer), as badges. */
export function unitBadges(d) {
  const units = Array.isArray(d.units) ? d.units.filter((u) => u.state !== 'cleared') : [];
  if (units.length) return units.map((u) => ({ badge: badgeOf(u.officer_id), state: u.state, officer_id: u.officer_id }));
  if (d.officer_id != null) return [{ badge: badgeOf(d.officer_id), state: d.status, officer_id: d.officer_id }];
  return [];
}

function place(it) {
  const show = incidentShown(it.d);
  if (show && !it.shown) incidentLayer.addLayer(it.m);
  else if (!show && it.shown) incidentLayer.removeLayer(it.m);
  it.shown = show;
}

/** The sector filter changed. */
export function applyIncidentFilters() {
  for (const it of incidents.values()) if (it.m) place(it);
  dirty('incidents');
}

function restyle(it) {
  const p = priorityOf(it.d);
  const sel = selection.kind === 'incident' && selection.id === it.d.id;
  if (p === it.p && sel === it.sel) return;
  it.p = p;
  it.sel = sel;
  it.m.setIcon(incidentIcon(p, sel));
  it.m.setZIndexOffset((6 - p) * 100 + (sel ? 1000 : 0));
}

/** The desk opened or closed something: the selected incident's marker is drawn bigger. */
export function markSelected() {
  for (const it of incidents.values()) if (it.m) restyle(it);
}

export function upsertIncident(d) {
  if (!d || d.id == null) return;
  if (CLOSED_INCIDENT.has(String(d.status || '').toLowerCase())) { removeIncident(d.id); return; }
  let it = incidents.get(d.id);
  if (!it) { it = { d: {}, m: null, p: 0, sel: false, shown: false }; incidents.set(d.id, it); }
  Object.assign(it.d, d);
  if (hasPoint(it.d)) {
    const ll = [num(it.d.lat), num(it.d.lon)];
    if (!it.m) {
      it.m = L.marker(ll, { icon: incidentIcon(priorityOf(it.d), false), riseOnHover: true, keyboard: false })
        .bindTooltip(() => `${incidentTitle(it.d)} · ${label('incident_status', it.d.status)}`, { direction: 'top', offset: [0, -10] })
        .on('click', () => open('incident', it.d.id));
      it.p = -1;
    } else {
      it.m.setLatLng(ll);
    }
    restyle(it);
    place(it);
  }
  dirty('incidents');
}

export function removeIncident(id) {
  const it = incidents.get(id);
  if (!it) return;
  if (it.m && it.shown) incidentLayer.removeLayer(it.m);
  incidents.delete(id);
  dirty('incidents');
}

/** An "offer" message: an officer was offered, accepted or declined an incident. */
export function onOffer(o) {
  if (!o || o.id == null) return;
  const prev = offers.get(o.id);
  offers.set(o.id, { ...(prev || {}), ...o });
  if (offers.size > 500) offers.delete(offers.keys().next().value);
  if (prev && prev.status !== o.status && (o.status === 'accepted' || o.status === 'declined')) {
    toast(t('offer.answered', { who: badgeOf(o.officer_id), what: label('offer_status', o.status), id: o.incident_id }),
      o.status === 'accepted' ? 'ok' : '');
  }
  dirty('incidents');
}

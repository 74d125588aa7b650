/* The incident desk: incident markers (size and colour by priority), their popup with the nearest
 * responders and the dispatch buttons, and the offers the dispatches made. */
import { fill, h } from '../shared/dom.js';
import { CLOSED_INCIDENT, LINE_COLOR } from './config.js';
import { api, itemsOf } from './api.js';
import { DASH, clock, clockAgo, hasPoint, num, priorityOf } from './format.js';
import { incidentLayer, lineLayer } from './layers.js';
import { badgeOf } from './officers.js';
import { dirty, incidents, offers, officers } from './state.js';
import { bi, dual, offerStatus, t, unitNames } from './strings.js';
import { button, toast } from './ui.js';

function incidentIcon(p) {
  const size = [0, 26, 22, 18, 15, 12][p];
  return L.divIcon({
    className: 'inc-marker', iconSize: [size, size], iconAnchor: [size / 2, size / 2], popupAnchor: [0, -size / 2],
    html: `<div class="inc-icon p${p}" style="width:${size}px;height:${size}px"><span>${p <= 3 ? p : ''}</span></div>`,
  });
}

/** The offers made for an incident, newest first. */
export function offersFor(incidentId) {
  const out = [];
  for (const o of offers.values()) if (o.incident_id === incidentId) out.push(o);
  return out.sort((a, b) => (b.id || 0) - (a.id || 0));
}

/** "B0003: menunggu · pending s/d 14.19.26 WIB" */
export function offerLine(o) {
  const off = officers.get(o.officer_id);
  const who = off ? (off.d.badge || `#${o.officer_id}`) : `#${o.officer_id}`;
  const exp = o.status === 'pending' && o.expires_at ? ' ' + t('offer.until', { time: clock(o.expires_at) }) : '';
  return `${who}: ${offerStatus(o.status)}${exp}`;
}

function makeIncidentPopup(it) {
  const title = h('h3');
  const where = h('div', { class: 'meta' });
  const desc = h('div', { class: 'desc' });
  const facts = h('dl');
  const result = h('div', { class: 'result' });
  const table = h('div');
  const setResult = (text, kind) => {
    result.className = 'result ' + (kind || '');
    result.textContent = text || '';
    if (it.m && it.m.isPopupOpen()) it.m.getPopup().update();
  };
  const nearestBtn = button(bi('incident.nearest'), (b) => nearest(it, pop, b), 'primary');
  const dispatchBtn = button(bi('incident.dispatch_nearest'), (b) => dispatch(it, null, b, pop));
  const el = h('div', { class: 'pop' }, title, where, desc, facts,
    h('div', { class: 'actions' }, nearestBtn, dispatchBtn), result, table);
  const pop = {
    el, table, setResult,
    refresh() {
      const d = it.d;
      const p = priorityOf(d);
      fill(title, h('span', { class: `pbadge p${p}` }, `P${p}`), ' ', d.category || t('incident.fallback'), ` #${d.id}`);
      where.textContent = d.address || '';
      desc.textContent = d.description || '';
      const os = offersFor(d.id);
      fill(facts,
        h('dt', null, t('incident.status')), h('dd', { class: 'status' }, d.status || DASH),
        h('dt', null, bi('incident.created')), h('dd', null, clockAgo(d.created_at)),
        os.length ? [h('dt', null, bi('incident.offers')), h('dd', null, os.slice(0, 4).map((o) => h('div', null, offerLine(o))))] : null);
    },
  };
  return pop;
}

function incidentContent(it) {
  if (!it.pop) it.pop = makeIncidentPopup(it);
  it.pop.refresh();
  return it.pop.el;
}

/** Redraw an incident's open popup (its offers changed). */
function refreshOpenPopup(it) {
  if (it && it.m && it.m.isPopupOpen() && it.pop) { it.pop.refresh(); it.m.getPopup().update(); }
}

export function upsertIncident(d) {
  if (!d || d.id == null) return;
  if (CLOSED_INCIDENT.has(String(d.status || '').toLowerCase())) { removeIncident(d.id); return; }
  let it = incidents.get(d.id);
  if (!it) { it = { d: {}, m: null, pop: null, p: 0 }; incidents.set(d.id, it); }
  Object.assign(it.d, d);
  const p = priorityOf(it.d);
  if (hasPoint(it.d)) {
    const ll = [num(it.d.lat), num(it.d.lon)];
    if (!it.m) {
      it.m = L.marker(ll, { icon: incidentIcon(p), riseOnHover: true, zIndexOffset: (6 - p) * 100, title: it.d.category || '' })
        .bindPopup(() => incidentContent(it), { minWidth: 280, maxWidth: 420 })
        .on('popupclose', () => { lineLayer.clearLayers(); it.pop = null; })
        .addTo(incidentLayer);
    } else {
      it.m.setLatLng(ll);
      if (p !== it.p) { it.m.setIcon(incidentIcon(p)); it.m.setZIndexOffset((6 - p) * 100); }
      refreshOpenPopup(it);
    }
  }
  it.p = p;
  dirty('incidents');
}

export function removeIncident(id) {
  const it = incidents.get(id);
  if (!it) return;
  if (it.m) { if (it.m.isPopupOpen()) lineLayer.clearLayers(); incidentLayer.removeLayer(it.m); }
  incidents.delete(id);
  dirty('incidents');
}

// ------------------------------------------------------------------ nearest responders, dispatch
async function nearest(it, pop, btn) {
  if (!hasPoint(it.d)) return;
  btn.disabled = true;
  pop.setResult(dual('nearest.searching'));
  const q = new URLSearchParams({ lat: String(num(it.d.lat)), lon: String(num(it.d.lon)), k: '5' });
  const r = await api('GET', `/responders/nearest?${q}`);
  btn.disabled = false;
  if (!it.m || !incidents.has(it.d.id)) return;
  if (!r.ok) {
    pop.setResult(r.missing ? dual('nearest.missing') : r.message, 'err');
    return;
  }
  const items = itemsOf(r.data);
  const shortfall = r.data && !Array.isArray(r.data) ? r.data.shortfall_reason : null;
  lineLayer.clearLayers();
  const from = [num(it.d.lat), num(it.d.lon)];
  for (const x of items) {
    if (!hasPoint(x)) continue;
    L.polyline([from, [num(x.lat), num(x.lon)]], {
      color: LINE_COLOR, weight: 2, opacity: 0.8, dashArray: '6 5', interactive: false,
    }).addTo(lineLayer);
  }
  const rows = items.map((x) => {
    const dist = num(x.distance_m);
    const eta = num(x.eta_s);
    return h('tr', null,
      h('td', { title: x.name || '' }, x.badge || `#${x.officer_id}`),
      h('td', null, unitNames(x.unit_type, DASH)[0]),
      h('td', { class: 'num' }, Number.isFinite(dist) ? (dist / 1000).toFixed(dist < 10000 ? 2 : 1) : DASH),
      h('td', { class: 'num' }, Number.isFinite(eta) ? String(Math.max(1, Math.round(eta / 60))) : DASH),
      h('td', null, button(dual('dispatch.one'), (b) => dispatch(it, x.officer_id, b, pop, x.badge))));
  });
  fill(pop.table,
    items.length
      ? h('table', null,
        h('thead', null, h('tr', null, h('th', null, t('nearest.badge')), h('th', null, t('nearest.unit')),
          h('th', { class: 'num' }, t('nearest.km')), h('th', { class: 'num' }, t('nearest.eta')), h('th'))),
        h('tbody', null, rows))
      : null,
    shortfall ? h('div', { class: 'note' }, `⚠ ${shortfall}`) : null);
  pop.setResult(items.length ? '' : dual('nearest.none'), items.length ? '' : 'err');
}

async function dispatch(it, officerId, btn, pop, badge) {
  btn.disabled = true;
  pop.setResult(dual('dispatch.sending'));
  const body = officerId == null ? {} : { officer_id: officerId };
  const r = await api('POST', `/incidents/${encodeURIComponent(it.d.id)}/dispatch`, body);
  btn.disabled = false;
  if (r.ok) {
    const d = r.data || {};
    const offer = d.offer || d;
    const who = badge || badgeOf(offer.officer_id != null ? offer.officer_id : d.officer_id);
    if (offer && offer.id != null && offer.incident_id != null) offers.set(offer.id, offer);
    const text = `${dual('dispatch.sent')}${who ? ': ' + who : ''} → #${it.d.id}`;
    pop.setResult(text, 'ok');
    toast(text, 'ok');
  } else if (r.status === 409) {
    pop.setResult(`${dual('dispatch.conflict')}: ${r.message}`, 'err');
  } else {
    pop.setResult(r.missing ? dual('dispatch.missing') : r.message, 'err');
  }
}

/** An "offer" message: an officer was offered, accepted or declined an incident. */
export function onOffer(o) {
  if (!o || o.id == null) return;
  const prev = offers.get(o.id);
  offers.set(o.id, { ...(prev || {}), ...o });
  if (offers.size > 500) offers.delete(offers.keys().next().value);
  if (prev && prev.status !== o.status && (o.status === 'accepted' || o.status === 'declined')) {
    toast(`${badgeOf(o.officer_id)} ${offerStatus(o.status)} → #${o.incident_id}`, o.status === 'accepted' ? 'ok' : '');
  }
  refreshOpenPopup(incidents.get(o.incident_id));
  dirty('incidents');
}

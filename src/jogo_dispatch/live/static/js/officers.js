/* Officers on the map: one canvas dot each (colour = duty status, hollow = offline), their popup, and the
 * smooth glide from one GPS fix to the next. */
import { h } from '../shared/dom.js';
import { ANIM_MS, LOW_BATTERY, STATUS, UNKNOWN_STATUS } from './config.js';
import { DASH, clockAgo, hasPoint, num } from './format.js';
import { dotRenderer, map, officerLayer } from './layers.js';
import { dirty, officers } from './state.js';
import { bi, bilingualSpan, dual, t, unitNames } from './strings.js';

function officerStyle(d) {
  const color = (STATUS[d.status] || UNKNOWN_STATUS).color;
  if (d.online === false) {
    return { radius: 5, color, weight: 2, opacity: 0.7, fillColor: color, fillOpacity: 0.06 };
  }
  return { radius: 6, color: '#ffffff', weight: 1.2, opacity: 1, fillColor: color, fillOpacity: 0.95 };
}
const styleKey = (d) => `${d.status}|${d.online !== false}`;

/** An officer's badge ("#id" when the page does not know it). */
export function badgeOf(officerId) {
  const o = officers.get(officerId);
  return o && o.d.badge ? o.d.badge : (officerId != null ? `#${officerId}` : '');
}

function officerPopup(o) {
  const d = o.d;
  const st = STATUS[d.status] || UNKNOWN_STATUS;
  const unit = unitNames(d.unit_type, DASH);
  const speed = num(d.speed_mps);
  const battery = num(d.battery_pct);
  const low = d.low_battery === true || (Number.isFinite(battery) && battery < LOW_BATTERY);
  return h('div', { class: 'pop' },
    h('h3', null, d.badge || `#${d.id}`, d.name ? ` — ${d.name}` : ''),
    h('dl', null,
      h('dt', null, t('officer.unit')), h('dd', null, bilingualSpan(unit[0], unit[1])),
      h('dt', null, t('officer.status')), h('dd', { class: `status status-${d.status}` }, bi(st.label)),
      d.sector ? [h('dt', null, t('officer.sector')), h('dd', null, d.sector)] : null,
      h('dt', null, bi('officer.last_fix')), h('dd', null, clockAgo(d.recorded_at)),
      h('dt', null, bi('officer.speed')),
      h('dd', null, Number.isFinite(speed) ? t('speed.kmh', { v: (speed * 3.6).toFixed(0) }) : DASH,
        Number.isFinite(num(d.heading_deg)) ? ` · ${Math.round(num(d.heading_deg))}°` : ''),
      h('dt', null, bi('officer.battery')),
      h('dd', { class: low ? 'warn' : null }, Number.isFinite(battery) ? `${Math.round(battery)}%` : DASH,
        low ? ` ⚠ ${dual('officer.low_battery')}` : ''),
      h('dt', null, t('officer.online')),
      h('dd', { class: d.online === false ? 'warn' : null },
        d.online === false ? dual('officer.is_offline') : dual('officer.is_online'))));
}

export function upsertOfficer(d) {
  if (!d || d.id == null) return;
  let o = officers.get(d.id);
  if (!o) { o = { d: {}, m: null, key: '' }; officers.set(d.id, o); }
  Object.assign(o.d, d);
  if (!hasPoint(o.d)) return;
  const ll = [num(o.d.lat), num(o.d.lon)];
  if (!o.m) {
    o.m = L.circleMarker(ll, { renderer: dotRenderer, bubblingMouseEvents: false, ...officerStyle(o.d) })
      .bindPopup(() => officerPopup(o), { autoPan: true })
      .addTo(officerLayer);
    o.key = styleKey(o.d);
  } else {
    moving.delete(d.id);
    o.m.setLatLng(ll);
    restyleOfficer(o);
  }
}

/** After a status / presence change: a new colour if it changed, and an open popup redrawn. */
export function restyleOfficer(o) {
  if (!o.m) return;
  const key = styleKey(o.d);
  if (key !== o.key) { o.key = key; o.m.setStyle(officerStyle(o.d)); }
  if (o.m.isPopupOpen()) o.m.getPopup().update();
}

export function removeOfficer(id) {
  const o = officers.get(id);
  if (o && o.m) officerLayer.removeLayer(o.m);
  moving.delete(id);
  officers.delete(id);
}

// ------------------------------------------------------------------ smooth moves
// One requestAnimationFrame loop for every gliding marker (the canvas redraws once a frame).
const moving = new Map(); // id -> {o, a, b, c, d, t0}
let animFrame = 0;
function step(now) {
  animFrame = 0;
  for (const [id, mv] of moving) {
    let f = (now - mv.t0) / ANIM_MS;
    if (f >= 1) { f = 1; moving.delete(id); }
    const e = f * (2 - f);
    mv.o.m.setLatLng([mv.a + (mv.c - mv.a) * e, mv.b + (mv.d - mv.b) * e]);
  }
  if (moving.size) animFrame = requestAnimationFrame(step);
}

/** Every gliding marker jumps to where it is going. */
export function finishAnimations() {
  for (const mv of moving.values()) mv.o.m.setLatLng([mv.c, mv.d]);
  moving.clear();
}

let zooming = false;
map.on('zoomstart', () => { zooming = true; finishAnimations(); });
map.on('zoomend', () => { zooming = false; });

/** A "positions" message: move the markers (gliding when on screen), create the ones not seen yet. */
export function onPositions(list) {
  if (!Array.isArray(list)) return;
  const view = map.getBounds().pad(0.1);
  const animate = !document.hidden && !zooming && list.length <= 3000;
  const t0 = performance.now();
  for (const p of list) {
    if (!p || p.officer_id == null || !hasPoint(p)) continue;
    const lat = num(p.lat);
    const lon = num(p.lon);
    let o = officers.get(p.officer_id);
    const fields = { lat, lon };
    for (const k of ['recorded_at', 'speed_mps', 'heading_deg', 'accuracy_m', 'battery_pct']) {
      if (p[k] !== undefined) fields[k] = p[k];
    }
    if (fields.battery_pct != null && Number.isFinite(num(fields.battery_pct))) {
      fields.low_battery = num(fields.battery_pct) < LOW_BATTERY;
    }
    if (!o || !o.m) { upsertOfficer({ id: p.officer_id, ...fields }); continue; }
    const from = o.m.getLatLng();
    Object.assign(o.d, fields);
    const far = Math.abs(from.lat - lat) + Math.abs(from.lng - lon) > 0.03;
    if (animate && !far && (view.contains(from) || view.contains([lat, lon]))) {
      moving.set(p.officer_id, { o, a: from.lat, b: from.lng, c: lat, d: lon, t0 });
    } else {
      moving.delete(p.officer_id);
      o.m.setLatLng([lat, lon]);
    }
    if (o.m.isPopupOpen()) o.m.getPopup().update();
  }
  if (moving.size && !animFrame) animFrame = requestAnimationFrame(step);
  dirty('counters');
}

/** A "status" / "presence" message. */
export function setOfficer(officerId, fields) {
  const o = officers.get(officerId);
  if (o) { Object.assign(o.d, fields); restyleOfficer(o); dirty('counters'); }
}

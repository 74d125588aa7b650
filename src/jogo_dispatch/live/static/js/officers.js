/* Officers on the map: one canvas dot each (colour = duty status, dashed = stale position, hollow = offline), hidden when the
 * toolbar's filters leave them out, a tooltip, a click that opens the officer in the desk column, and the
 * smooth glide from one GPS fix to the next. */
import { ANIM_MS, LOW_BATTERY, STATUS, UNKNOWN_STATUS } from './config.js';
import { open } from './bus.js';
import { hasPoint, num } from './format.js';
import { label, t } from './lang.js';
import { dotRenderer, map, officerLayer } from './layers.js';
import { dirty, officerShown, officers } from './state.js';

/** online, stale (no fix for a while: still dispatched, its place may be old) or offline. */
export const presenceOf = (d) => (d.online === false ? 'offline' : (d.presence === 'stale' ? 'stale' : 'online'));

function officerStyle(d) {
  const color = (STATUS[d.status] || UNKNOWN_STATUS).color;
  const presence = presenceOf(d);
  if (presence === 'offline') {
    return { radius: 5, color, weight: 2, opacity: 0.7, fillColor: color, fillOpacity: 0.06, dashArray: null };
  }
  if (presence === 'stale') {
    return { radius: 6, color: '#101828', weight: 1.5, opacity: 0.9, fillColor: color, fillOpacity: 0.45, dashArray: '2 2' };
  }
  return { radius: 6, color: '#ffffff', weight: 1.2, opacity: 1, fillColor: color, fillOpacity: 0.95, dashArray: null };
}
const styleKey = (d) => `${d.status}|${presenceOf(d)}`;

/** An officer's badge ("#id" when the page does not know it). */
export function badgeOf(officerId) {
  const o = officers.get(officerId);
  return o && o.d.badge ? o.d.badge : (officerId != null ? `#${officerId}` : '');
}

/** "posisi 4 mnt lalu" for a stale officer (the age of its last fix). */
export function staleText(d) {
  const age = num(d.position_age_s);
  return t('officer.stale_age', { min: Number.isFinite(age) ? Math.max(1, Math.round(age / 60)) : '?' });
}

const tooltipOf = (d) => `${d.badge || '#' + d.id}${d.name ? ' — ' + d.name : ''} · ${label('officer_status', d.status)}`
  + (presenceOf(d) === 'stale' ? ` · ${staleText(d)}` : '')
  + (d.low_battery ? ` · ${t('officer.low_battery')}` : '');

/** Show or hide a marker by the filters. */
function place(o) {
  const show = officerShown(o.d);
  if (show && !o.shown) officerLayer.addLayer(o.m);
  else if (!show && o.shown) officerLayer.removeLayer(o.m);
  o.shown = show;
}

/** The filters changed: every marker in or out. */
export function applyOfficerFilters() {
  for (const o of officers.values()) if (o.m) place(o);
}

export function upsertOfficer(d) {
  if (!d || d.id == null) return;
  let o = officers.get(d.id);
  if (!o) { o = { d: {}, m: null, key: '', shown: false }; officers.set(d.id, o); }
  Object.assign(o.d, d);
  if (!hasPoint(o.d)) return;
  const ll = [num(o.d.lat), num(o.d.lon)];
  if (!o.m) {
    o.m = L.circleMarker(ll, { renderer: dotRenderer, bubblingMouseEvents: false, ...officerStyle(o.d) })
      .bindTooltip(() => tooltipOf(o.d), { direction: 'top', offset: [0, -6] })
      .on('click', () => open('officer', o.d.id));
    o.key = styleKey(o.d);
    place(o);
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
  place(o);
}

export function removeOfficer(id) {
  const o = officers.get(id);
  if (o && o.m && o.shown) officerLayer.removeLayer(o.m);
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
    for (const k of ['recorded_at', 'speed_mps', 'heading_deg', 'accuracy_m', 'battery_pct', 'presence', 'position_age_s', 'online']) {
      if (p[k] !== undefined) fields[k] = p[k];
    }
    if (fields.battery_pct != null && Number.isFinite(num(fields.battery_pct))) {
      fields.low_battery = num(fields.battery_pct) < LOW_BATTERY;
    }
    if (!o || !o.m) { upsertOfficer({ id: p.officer_id, ...fields }); continue; }
    const from = o.m.getLatLng();
    Object.assign(o.d, fields);
    restyleOfficer(o);
    const far = Math.abs(from.lat - lat) + Math.abs(from.lng - lon) > 0.03;
    if (animate && !far && (view.contains(from) || view.contains([lat, lon]))) {
      moving.set(p.officer_id, { o, a: from.lat, b: from.lng, c: lat, d: lon, t0 });
    } else {
      moving.delete(p.officer_id);
      o.m.setLatLng([lat, lon]);
    }
  }
  if (moving.size && !animFrame) animFrame = requestAnimationFrame(step);
  dirty('counters');
}

/** A "status" / "presence" message. */
export function setOfficer(officerId, fields) {
  const o = officers.get(officerId);
  if (o) { Object.assign(o.d, fields); restyleOfficer(o); dirty('counters'); }
}

/* The board: the agency's forwards by state (new, acknowledged, in progress, closed) in a list and on a
 * Leaflet map. A forward's state on the board comes from its status: pending / sent / failed are new. */
import { $, CFG, currentLang, fill, h, show, t, tCode, toDate, when } from './ui.js';

export const STATES = ['new', 'acknowledged', 'in_progress', 'closed'];
const NEW = new Set(['pending', 'sent', 'failed']);
export const stateOf = (f) => (NEW.has(f.status) ? 'new' : STATES.includes(f.status) ? f.status : 'new');

export const forwards = new Map(); // id -> inbox item (the forward with its incident)
const markers = new Map(); // id -> Leaflet marker
const categories = new Map(); // code -> {name_id, name_en}
let tab = 'new';
let map = null;
let layer = null;
let onPick = () => {};
let agency = { code: '', name: '', ack_minutes: null };

export function setCategories(list) {
  for (const c of list || []) if (c && c.code) categories.set(c.code, c);
}

/** The category in the page's language, else its code in words. */
export function categoryName(code) {
  const c = categories.get(code);
  if (!c) return tCode('category', code);
  return (currentLang() === 'en' ? c.name_en : c.name_id) || c.name_id || code;
}

export function setAgency(info) {
  agency = { ...agency, ...info };
  renderSla();
}
export const agencyInfo = () => agency;

function renderSla() {
  fill($('agency-name'), agency.name || t('app.tagline'));
  const min = Number(agency.ack_minutes);
  fill($('sla'), Number.isFinite(min) && agency.name
    ? t('sla.line', { agency: agency.code || agency.name, min: Number.isInteger(min) ? min : min.toFixed(1) })
    : '');
}

/** When its acknowledgement falls due (the server's `ack_due_at`, else made + the agency's SLA). */
export function dueOf(f) {
  const due = toDate(f.ack_due_at);
  if (due) return due;
  const made = toDate(f.created_at);
  const min = Number(agency.ack_minutes);
  return made && Number.isFinite(min) ? new Date(made.getTime() + min * 60000) : null;
}

// ------------------------------------------------------------------ the map
export function initMap(pick) {
  onPick = pick;
  if (typeof L === 'undefined') return;
  map = L.map('map', { zoomControl: true, attributionControl: true })
    .setView(CFG.center || [-7.9797, 112.6304], CFG.zoom || 13);
  if (CFG.tile_url) L.tileLayer(CFG.tile_url, { maxZoom: 19, attribution: CFG.tile_attribution || '' }).addTo(map);
  layer = L.layerGroup().addTo(map);
}

export function invalidateMap() { if (map) map.invalidateSize(); }

function icon(f) {
  const p = Math.min(5, Math.max(1, Number(f.incident && f.incident.priority) || 3));
  return L.divIcon({
    className: 'fw-marker',
    html: `<div class="fw-icon st-${stateOf(f)}"><span>${p}</span></div>`,
    iconSize: [26, 26], iconAnchor: [13, 13],
  });
}

function placeMarker(f) {
  if (!layer || !f.incident) return;
  const shown = stateOf(f) !== 'closed' || tab === 'closed';
  let m = markers.get(f.id);
  if (!shown) {
    if (m) { layer.removeLayer(m); markers.delete(f.id); }
    return;
  }
  const ll = [Number(f.incident.lat), Number(f.incident.lon)];
  if (!Number.isFinite(ll[0]) || !Number.isFinite(ll[1])) return;
  if (!m) {
    m = L.marker(ll, { icon: icon(f), title: `#${f.incident.id}` }).on('click', () => onPick(f.id)).addTo(layer);
    markers.set(f.id, m);
  } else {
    m.setLatLng(ll);
    m.setIcon(icon(f));
  }
}

// ------------------------------------------------------------------ the list
export function setTab(next) {
  tab = STATES.includes(next) ? next : 'new';
  for (const b of document.querySelectorAll('#states button')) b.setAttribute('aria-selected', String(b.dataset.state === tab));
  render();
}
export const currentTab = () => tab;

function item(f) {
  const inc = f.incident || {};
  const state = stateOf(f);
  let sub = t('item.received', { time: when(f.created_at) });
  let late = false;
  if (state === 'new') {
    const due = dueOf(f);
    late = !!due && due.getTime() < Date.now();
    if (due) sub = t(late ? 'item.overdue' : 'item.due', { time: when(due) });
  } else if (state === 'closed') {
    sub = `${tCode('outcome', f.outcome)} · ${when(f.closed_at)}`;
  }
  return h('li', { class: `item st-${state}${late ? ' late' : ''}`, dataset: { id: String(f.id) } },
    h('button', { type: 'button', class: 'item-btn', onclick: () => onPick(f.id) },
      h('span', { class: `pbadge p${inc.priority || 3}` }, `P${inc.priority || '?'}`),
      h('span', { class: 'item-main' },
        h('b', null, `${categoryName(inc.category)} #${inc.id}`),
        h('span', { class: 'item-where' }, inc.address || inc.description || ''),
        h('small', { class: late ? 'late-text' : null }, sub))));
}

export function render() {
  const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
  const rows = [];
  for (const f of forwards.values()) {
    const s = stateOf(f);
    counts[s]++;
    if (s === tab) rows.push(f);
  }
  for (const s of STATES) fill($(`count-${s}`), String(counts[s]));
  rows.sort((a, b) => (tab === 'closed' ? b.id - a.id : (a.incident?.priority || 9) - (b.incident?.priority || 9) || a.id - b.id));
  fill($('list'), rows.map(item));
  fill($('list-empty'), t(`empty.${tab}`));
  show('list-empty', rows.length === 0);
  for (const f of forwards.values()) placeMarker(f);
}

/** A forward from the inbox, the snapshot or a detail answer (merged into what the board knows). */
export function upsert(f) {
  if (!f || f.id == null) return;
  const prev = forwards.get(f.id);
  forwards.set(f.id, { ...(prev || {}), ...f, incident: f.incident || (prev && prev.incident) });
}

export function focus(id) {
  const f = forwards.get(id);
  if (map && f && f.incident) map.setView([Number(f.incident.lat), Number(f.incident.lon)], Math.max(map.getZoom(), 15));
}

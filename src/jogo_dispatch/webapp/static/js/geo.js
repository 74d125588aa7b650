/* The phone's position (browser Geolocation API), the small Leaflet map, links to the phone's maps app. */
import { CFG } from './dom.js';

const FIX_OPTIONS = { enableHighAccuracy: true, maximumAge: 10000, timeout: 15000 };
let lastFix = null;

/** {lat, lon, accuracy_m, speed_mps, heading_deg, recorded_at} from a GeolocationPosition. */
function asFix(p) {
  const c = p.coords;
  return {
    lat: c.latitude, lon: c.longitude,
    accuracy_m: Number.isFinite(c.accuracy) ? Math.round(c.accuracy * 10) / 10 : null,
    speed_mps: Number.isFinite(c.speed) ? c.speed : null,
    heading_deg: Number.isFinite(c.heading) ? c.heading : null,
    recorded_at: new Date(p.timestamp || Date.now()).toISOString(),
  };
}

/** Great-circle distance in metres (for "how far" labels; the server ranks with exact geodesics). */
export function metres(a, b) {
  const rad = Math.PI / 180;
  const x = Math.sin(((b.lat - a.lat) * rad) / 2) ** 2
    + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lon - a.lon) * rad) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(x));
}

export const hasGeolocation = () => 'geolocation' in navigator;
export const latestFix = () => lastFix;

/** One fix; rejects with the GeolocationPositionError (code 1 = denied, 2 = unavailable, 3 = timeout). */
export function currentFix(options) {
  return new Promise((resolve, reject) => {
    if (!hasGeolocation()) { reject(Object.assign(new Error('no geolocation'), { code: 2 })); return; }
    navigator.geolocation.getCurrentPosition((p) => { lastFix = asFix(p); resolve(lastFix); }, reject,
      { ...FIX_OPTIONS, ...options });
  });
}

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;

/**
 * Follow the position through bad spells: a timeout or "position unavailable" (a tunnel, indoors) is not the
 * end; the watch is restarted with backoff (1 s, 2 s, 4 s … 30 s) until fixes come again. Only a denied
 * permission stops it. `onState(state, info)` hears 'searching' (info: {code, attempt, retry_ms}), 'ok'
 * (after the first fix of a spell) and 'denied' (the watch has stopped). Returns the function that stops.
 */
export function followFix(onFix, onState) {
  let id = null;
  let timer = 0;
  let attempt = 0;
  let stopped = false;
  let healthy = false;
  const say = (state, info) => { try { onState && onState(state, info || {}); } catch (e) { console.error(e); } };
  const clear = () => {
    clearTimeout(timer);
    if (id != null) { try { navigator.geolocation.clearWatch(id); } catch (e) { /* */ } }
    id = null;
  };
  const begin = () => {
    if (stopped) return;
    clear();
    if (!hasGeolocation()) { fail({ code: 2 }); return; }
    id = navigator.geolocation.watchPosition((p) => {
      if (stopped) return;
      attempt = 0;
      lastFix = asFix(p);
      if (!healthy) { healthy = true; say('ok'); }
      onFix(lastFix);
    }, fail, FIX_OPTIONS);
  };
  function fail(e) {
    if (stopped) return;
    clear();
    healthy = false;
    if (e && e.code === 1) { stopped = true; say('denied', { code: 1 }); return; }
    attempt += 1;
    const wait = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (attempt - 1));
    say('searching', { code: e ? e.code : 2, attempt, retry_ms: wait });
    timer = setTimeout(begin, wait);
  }
  say('searching', { code: 0, attempt: 0, retry_ms: 0 });
  begin();
  return () => { stopped = true; clear(); };
}

/** Links that open the scene in the phone's maps app: the geo: URI (Android), and Google Maps on the web. */
export function navigationLinks(lat, lon) {
  const ll = `${Number(lat).toFixed(6)},${Number(lon).toFixed(6)}`;
  return {
    geo: `geo:${ll}?q=${ll}`,
    web: `https://www.google.com/maps/dir/?api=1&destination=${encodeURIComponent(ll)}`,
  };
}

/** A small Leaflet map with one draggable pin. `onMove({lat, lon})` after a drag or a tap on the map. */
export function pinMap(el, onMove) {
  const L = window.L;
  if (!L) return null;
  const center = CFG.center || [-7.9797, 112.6304];
  const map = L.map(el, { zoomControl: true, attributionControl: Boolean(CFG.tile_url) })
    .setView(center, Math.max(CFG.zoom || 13, 15));
  if (CFG.tile_url) {
    L.tileLayer(CFG.tile_url, { maxZoom: 19, attribution: CFG.tile_attribution || '' }).addTo(map);
    if (map.attributionControl) map.attributionControl.setPrefix(false);
  }
  const marker = L.marker(center, { draggable: true, autoPan: true, keyboard: true }).addTo(map);
  const moved = () => { const p = marker.getLatLng(); onMove({ lat: p.lat, lon: p.lng }); };
  marker.on('dragend', moved);
  map.on('click', (ev) => { marker.setLatLng(ev.latlng); moved(); });
  return {
    map,
    set(lat, lon, zoom) {
      marker.setLatLng([lat, lon]);
      map.setView([lat, lon], zoom || Math.max(map.getZoom(), 16));
    },
    get() { const p = marker.getLatLng(); return { lat: p.lat, lon: p.lng }; },
    refresh() { map.invalidateSize(); },
  };
}

/* Replaying an officer's track: GET /officers/{id}/track?since&until (GeoJSON: a LineString and one Point
 * per fix) drawn on the map, and a player that moves a marker along the fixes in their own time, faster
 * than life (×speed), with a slider to jump anywhere. */
import { h } from '../shared/dom.js';
import { TRACK_COLOR } from './config.js';
import { api } from './api.js';
import { clock, num, toDate } from './format.js';
import { errorText, t } from './lang.js';
import { map, trackLayer } from './layers.js';
import { button, select } from './ui.js';

/** The fixes of a track answer, oldest first: [{lat, lon, at (ms), p (properties)}]. */
export function fixesOf(geojson) {
  const feats = (geojson && Array.isArray(geojson.features)) ? geojson.features : [];
  return feats.filter((f) => f.geometry && f.geometry.type === 'Point')
    .map((f) => ({ lon: num(f.geometry.coordinates[0]), lat: num(f.geometry.coordinates[1]), at: (toDate(f.properties && f.properties.recorded_at) || new Date(0)).getTime(), p: f.properties || {} }))
    .filter((f) => Number.isFinite(f.lat) && Number.isFinite(f.lon))
    .sort((a, b) => a.at - b.at);
}

/** A player for one track in `box`; returns {load(officerId, since, until), clear()}. */
export function trackPlayer(box) {
  let fixes = [];
  let line = null;
  let dot = null;
  let raf = 0;
  let simAt = 0;      // the replayed moment (ms)
  let lastFrame = 0;
  const status = h('div', { class: 'sub', id: 'track-status' });
  const slider = h('input', { type: 'range', min: 0, max: 0, value: 0, step: 1, id: 'track-slider' });
  const when = h('span', { class: 'when', id: 'track-time' });
  const speed = select([['10', '×10'], ['60', '×60'], ['300', '×300'], ['1200', '×1200']], '60', { id: 'track-speed', title: t('track.speed') });
  const play = button('▶', () => (raf ? pause() : start()), 'small', { id: 'track-play', title: t('track.play') });
  const controls = h('div', { class: 'player', hidden: true }, play, slider, when);
  box.append(h('label', { class: 'toggle' }, t('track.speed'), ' ', speed), status, controls);

  const indexAt = (ms) => {
    let i = 0;
    while (i + 1 < fixes.length && fixes[i + 1].at <= ms) i++;
    return i;
  };
  const show = (i, exact) => {
    const f = fixes[i];
    if (!f) return;
    let ll = [f.lat, f.lon];
    const g = fixes[i + 1];
    if (!exact && g && g.at > f.at && simAt > f.at) { // between two fixes: where the officer was then
      const k = Math.min(1, (simAt - f.at) / (g.at - f.at));
      ll = [f.lat + (g.lat - f.lat) * k, f.lon + (g.lon - f.lon) * k];
    }
    if (!dot) dot = L.circleMarker(ll, { radius: 8, color: '#fff', weight: 2, fillColor: TRACK_COLOR, fillOpacity: 1, interactive: false }).addTo(trackLayer);
    else dot.setLatLng(ll);
    slider.value = String(i);
    when.textContent = clock(exact ? f.at : simAt || f.at);
    controls.dataset.index = String(i);
  };
  const setState = (s) => { controls.dataset.state = s; play.textContent = s === 'playing' ? '❚❚' : '▶'; };
  function frame(now) {
    const dt = lastFrame ? now - lastFrame : 0;
    lastFrame = now;
    simAt += dt * Number(speed.value);
    const end = fixes[fixes.length - 1].at;
    if (simAt >= end) { simAt = end; show(fixes.length - 1, true); raf = 0; setState('ended'); return; }
    show(indexAt(simAt), false);
    raf = requestAnimationFrame(frame);
  }
  function start() {
    if (fixes.length < 2) return;
    if (simAt >= fixes[fixes.length - 1].at || controls.dataset.state === 'ended') simAt = fixes[0].at;
    lastFrame = 0;
    setState('playing');
    raf = requestAnimationFrame(frame);
  }
  function pause() { cancelAnimationFrame(raf); raf = 0; setState('paused'); }
  slider.addEventListener('input', () => {
    const i = Number(slider.value);
    if (fixes[i]) { simAt = fixes[i].at; show(i, true); if (!raf) setState('paused'); }
  });

  function clear() {
    cancelAnimationFrame(raf);
    raf = 0;
    trackLayer.clearLayers();
    line = null;
    dot = null;
    fixes = [];
    controls.hidden = true;
    status.textContent = '';
  }

  async function load(officerId, since, until) {
    clear();
    status.textContent = t('panel.loading');
    const q = new URLSearchParams({ since: since.toISOString(), until: until.toISOString() });
    const r = await api('GET', `/officers/${officerId}/track?${q}`);
    if (!r.ok) { status.textContent = errorText(r); return 0; }
    fixes = fixesOf(r.data);
    const props = ((r.data.features || []).find((f) => f.geometry && f.geometry.type === 'LineString') || {}).properties || {};
    if (!fixes.length) { status.textContent = t('track.empty'); return 0; }
    line = L.polyline(fixes.map((f) => [f.lat, f.lon]), { color: TRACK_COLOR, weight: 3, opacity: 0.8 }).addTo(trackLayer);
    for (const f of [fixes[0], fixes[fixes.length - 1]]) {
      L.circleMarker([f.lat, f.lon], { radius: 4, color: TRACK_COLOR, weight: 2, fillColor: '#fff', fillOpacity: 1 })
        .bindTooltip(clock(f.at)).addTo(trackLayer);
    }
    map.fitBounds(line.getBounds().pad(0.25), { maxZoom: 17, animate: false });
    status.textContent = t('track.loaded', { n: fixes.length, from: clock(fixes[0].at), to: clock(fixes[fixes.length - 1].at) })
      + (props.truncated ? ` · ${t('track.truncated')}` : '');
    slider.max = String(fixes.length - 1);
    simAt = fixes[0].at;
    show(0, true);
    controls.hidden = fixes.length < 2;
    setState('ready');
    return fixes.length;
  }
  return { load, clear, start };
}

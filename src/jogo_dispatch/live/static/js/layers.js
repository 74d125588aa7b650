/* The Leaflet map (global L: the vendored leaflet.js loads first): base grid, tiles, the layer groups,
 * layer switch, legend, and picking a point on the map (call-taking, moving an incident). */
import { h } from '../shared/dom.js';
import { CFG, INCIDENT_COLOR, REPORT_COLOR, STATUS } from './config.js';
import { label, onLangChange, t } from './lang.js';

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const map = L.map('map', { zoomControl: true, minZoom: 3, maxZoom: 19, worldCopyJump: false })
  .setView(CFG.center || [-7.9797, 112.6304], CFG.zoom || 13);
map.attributionControl.setPrefix('Leaflet');

/** One canvas for every dot (officers, reports): thousands of markers stay cheap. */
export const dotRenderer = L.canvas({ padding: 0.3, tolerance: 4 });

// A light grid drawn locally, under the tiles: with no tiles (offline) the map still pans and zooms visibly.
const Grid = L.GridLayer.extend({
  createTile() {
    const size = this.getTileSize();
    const c = document.createElement('canvas');
    c.width = size.x;
    c.height = size.y;
    const g = c.getContext('2d');
    g.strokeStyle = 'rgba(70, 90, 120, 0.13)';
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(0.5, 0); g.lineTo(0.5, size.y);
    g.moveTo(0, 0.5); g.lineTo(size.x, 0.5);
    g.stroke();
    return c;
  },
});
new Grid({ zIndex: 0, maxZoom: 19 }).addTo(map);

if (CFG.tile_url) {
  const tiles = L.tileLayer(CFG.tile_url, {
    maxZoom: 19, zIndex: 1, attribution: CFG.tile_attribution ? esc(CFG.tile_attribution) : '',
  }).addTo(map);
  let loaded = 0;
  let failed = 0;
  const note = L.control({ position: 'bottomright' });
  note.onAdd = () => h('div', { class: 'tiles-note' }, t('map.tiles_offline'));
  tiles.on('tileload', () => { loaded++; if (note._map) note.remove(); });
  tiles.on('tileerror', () => { failed++; if (!loaded && failed >= 4 && !note._map) note.addTo(map); });
}

map.createPane('sectors').style.zIndex = 350; // under the markers, above the tiles
/** Police-sector polygons (filters.js fills it; off until the toolbar switch turns it on). */
export const sectorLayer = L.layerGroup();
export const officerLayer = L.layerGroup().addTo(map);
export const reportLayer = L.layerGroup().addTo(map);
export const incidentLayer = L.layerGroup().addTo(map);
export const alertLayer = L.layerGroup().addTo(map);
/** What the desk column draws: lines to responders, a pin, an SOS trail (cleared when the desk changes). */
export const deskLayer = L.layerGroup().addTo(map);
/** A replayed officer track. */
export const trackLayer = L.layerGroup().addTo(map);

let layerControl = null;
function buildLayerControl() {
  if (layerControl) layerControl.remove();
  layerControl = L.control.layers(null, {
    [t('layer.officers')]: officerLayer,
    [t('layer.incidents')]: incidentLayer,
    [t('layer.reports')]: reportLayer,
    [t('layer.alerts')]: alertLayer,
    [t('layer.sectors')]: sectorLayer,
    [t('layer.track')]: trackLayer,
  }, { collapsed: true }).addTo(map);
}

let legend = null;
function buildLegend() {
  if (legend) legend.remove();
  legend = L.control({ position: 'bottomleft' });
  legend.onAdd = () => {
    const dot = (color, text, cls) => h('div', null, h('i', { class: cls || null, style: `background:${color}` }), text);
    return h('div', { class: 'legend' },
      Object.entries(STATUS).map(([code, s]) => dot(s.color, label('officer_status', code))),
      dot(STATUS.available.color, t('legend.stale'), 'stale'),
      dot('transparent', t('legend.offline'), 'hollow'),
      dot(INCIDENT_COLOR, t('legend.incidents'), 'square'),
      dot(REPORT_COLOR, t('legend.report'), 'ring'));
  };
  legend.addTo(map);
}
buildLayerControl();
buildLegend();
onLangChange(() => { buildLayerControl(); buildLegend(); });

/** Centre on a point (zoomed in). No animation: the operator's view jumps at once, and a view change
 * that follows (a fitBounds) is never cut short by one still running. */
export function focusOn(latlng, zoom) {
  if (!latlng) return;
  map.setView(latlng, Math.max(map.getZoom(), zoom || 16), { animate: false });
}

// ------------------------------------------------------------------ picking a point
let picker = null;
/** While set, a click on the map gives fn(latlng) instead of the usual; null ends it. */
export function pickOnMap(fn) {
  picker = fn;
  map.getContainer().classList.toggle('picking', !!fn);
}
export const picking = () => !!picker;
map.on('click', (ev) => { if (picker) picker(ev.latlng); });

/** The map column changed size (the desk column opened or closed). */
export function resized() {
  map.invalidateSize({ pan: true, animate: false }); // at once (before any view change), the centre kept
}

/* The Leaflet map (global L: the vendored leaflet.js loads first): base grid, tiles, the layer groups,
 * layer switch and legend. */
import { h } from '../shared/dom.js';
import { CFG, INCIDENT_COLOR, REPORT_COLOR, STATUS } from './config.js';
import { dual, t } from './strings.js';

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
  note.onAdd = () => h('div', { class: 'tiles-note' }, dual('map.tiles_offline'));
  tiles.on('tileload', () => { loaded++; if (note._map) note.remove(); });
  tiles.on('tileerror', () => { failed++; if (!loaded && failed >= 4 && !note._map) note.addTo(map); });
}

export const officerLayer = L.layerGroup().addTo(map);
export const reportLayer = L.layerGroup().addTo(map);
export const incidentLayer = L.layerGroup().addTo(map);
export const alertLayer = L.layerGroup().addTo(map);
/** The dashed lines from an incident to its nearest responders (cleared when its popup closes). */
export const lineLayer = L.layerGroup().addTo(map);
L.control.layers(null, {
  [dual('layer.officers')]: officerLayer,
  [dual('layer.incidents')]: incidentLayer,
  [dual('layer.reports')]: reportLayer,
  [dual('layer.alerts')]: alertLayer,
}, { collapsed: true }).addTo(map);

const legend = L.control({ position: 'bottomleft' });
legend.onAdd = () => {
  const dot = (color, label, cls) => h('div', null, h('i', { class: cls || null, style: `background:${color}` }), label);
  return h('div', { class: 'legend' },
    dot(STATUS.available.color, dual(STATUS.available.label)),
    dot(STATUS.busy.color, dual(STATUS.busy.label)),
    dot(STATUS.off_duty.color, dual(STATUS.off_duty.label)),
    dot('transparent', t('legend.offline'), 'hollow'),
    dot(INCIDENT_COLOR, t('legend.incidents')),
    dot(REPORT_COLOR, dual('legend.report')));
};
legend.addTo(map);

/** Centre on a list item's point (zoomed in) and open its marker's popup. */
export function focusOn(latlng, marker) {
  if (!latlng) return;
  map.setView(latlng, Math.max(map.getZoom(), 16));
  if (marker) setTimeout(() => marker.openPopup(), 50);
}

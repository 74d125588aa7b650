/* The toolbar over the map: officers by duty status and unit type, officers and incidents by police sector
 * (zooming to it), and the layer of police-sector polygons (GET /police-sectors). */
import { $, fill, h } from '../shared/dom.js';
import { SECTOR_COLOR, UNIT_TYPES } from './config.js';
import { api } from './api.js';
import { applyIncidentFilters } from './incidents.js';
import { label, onLangChange, t } from './lang.js';
import { map, sectorLayer } from './layers.js';
import { applyOfficerFilters } from './officers.js';
import { dirty, filters } from './state.js';

let sectors = []; // features
let polygons = null;

function options() {
  const keep = [$('f-status').value, $('f-unit').value, $('f-sector').value];
  fill($('f-status'), h('option', { value: '' }, t('filter.all_status')),
    ...['available', 'busy', 'off_duty'].map((s) => h('option', { value: s }, label('officer_status', s))));
  fill($('f-unit'), h('option', { value: '' }, t('filter.all_units')),
    ...UNIT_TYPES.map((u) => h('option', { value: u }, label('unit_type', u))));
  fill($('f-sector'), h('option', { value: '' }, t('filter.all_sectors')),
    ...sectors.map((f) => h('option', { value: f.properties.code }, f.properties.name)));
  [$('f-status').value, $('f-unit').value, $('f-sector').value] = keep;
}

function apply() {
  filters.status = $('f-status').value;
  filters.unit = $('f-unit').value;
  const code = $('f-sector').value;
  const f = sectors.find((x) => x.properties.code === code);
  filters.sector = f ? { code: f.properties.code, name: f.properties.name } : null;
  for (const el of ['f-status', 'f-unit', 'f-sector']) $(el).classList.toggle('on', !!$(el).value);
  applyOfficerFilters();
  applyIncidentFilters();
  dirty('counters');
}

$('f-status').addEventListener('change', apply);
$('f-unit').addEventListener('change', apply);
$('f-sector').addEventListener('change', () => {
  apply();
  if (!polygons) return;
  let bounds = null;
  polygons.eachLayer((l) => {
    const on = filters.sector && l.feature && l.feature.properties.code === filters.sector.code;
    l.setStyle({ weight: on ? 3 : 1.5, fillOpacity: on ? 0.1 : 0.03 });
    if (on) bounds = l.getBounds();
  });
  if (bounds) {
    map.fitBounds(bounds, { padding: [20, 20], animate: false });
    if (!map.hasLayer(sectorLayer)) { $('f-sectors').checked = true; sectorLayer.addTo(map); }
  }
});
$('f-sectors').addEventListener('change', () => {
  if ($('f-sectors').checked) sectorLayer.addTo(map); else sectorLayer.remove();
});
// the layer switch of the map turns it on and off too
map.on('overlayadd overlayremove', (ev) => { if (ev.layer === sectorLayer) $('f-sectors').checked = ev.type === 'overlayadd'; });

function centreOf(layer) {
  const b = layer.getBounds();
  return b.isValid() ? b.getCenter() : null;
}

/** The police sectors of the region, once per login. */
export async function loadSectors() {
  const r = await api('GET', '/police-sectors');
  if (!r.ok || !r.data || !Array.isArray(r.data.features)) return;
  sectors = r.data.features.filter((f) => f && f.properties && f.properties.code)
    .sort((a, b) => String(a.properties.name).localeCompare(String(b.properties.name)));
  sectorLayer.clearLayers();
  polygons = L.geoJSON({ type: 'FeatureCollection', features: sectors }, {
    pane: 'sectors', interactive: false,
    style: () => ({ color: SECTOR_COLOR, weight: 1.5, opacity: 0.8, dashArray: '5 4', fillColor: SECTOR_COLOR, fillOpacity: 0.03 }),
  }).addTo(sectorLayer);
  polygons.eachLayer((l) => {
    const c = centreOf(l);
    if (c) L.tooltip({ permanent: true, direction: 'center', className: 'sector-label', interactive: false }).setLatLng(c).setContent(h('span', null, String(l.feature.properties.name))).addTo(sectorLayer);
  });
  options();
}

options();
onLangChange(options);

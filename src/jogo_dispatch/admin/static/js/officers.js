/* Officers: the roster (search, pages), create, edit, deactivate / activate, export; each officer's phones
 * (register, revoke; the token shown once with the Traccar Client and OwnTracks set-up QR codes). */
import { api, apiText } from './api.js';
import {
  $, chip, confirmDialog, download, errorText, field, fill, formValues, h, label, openDialog, sectionHead,
  secretBox, t, table, toast, when,
} from './ui.js';

const PAGE = 50;
const UNITS = ['car', 'motorbike', 'foot'];
const state = { q: '', active: '', offset: 0, total: 0, items: [], selected: null, setup: null };
let searchTimer = 0;

export function render() {
  const sec = $('sec-officers');
  const search = h('input', {
    type: 'search', id: 'officer-search', value: state.q, placeholder: t('officers.search'),
    oninput: (ev) => { clearTimeout(searchTimer); searchTimer = setTimeout(() => { state.q = ev.target.value.trim(); state.offset = 0; load(); }, 250); },
  });
  const filter = h('select', { id: 'officer-active', onchange: (ev) => { state.active = ev.target.value; state.offset = 0; load(); } },
    [['', t('officers.all')], ['true', t('officers.only_active')], ['false', t('officers.only_inactive')]]
      .map(([v, text]) => h('option', { value: v, selected: v === state.active ? true : null }, text)));
  fill(sec,
    sectionHead('officers.title', [
      search, filter,
      h('button', { type: 'button', onclick: exportCsv }, t('officers.export')),
      h('button', { type: 'button', class: 'primary', id: 'officer-new', onclick: createOfficer }, t('officers.new')),
    ], 'officers.hint'),
    h('div', { class: 'split' },
      h('div', { class: 'pane-list' }, h('div', { id: 'officer-table' }), h('div', { class: 'pager', id: 'officer-pager' })),
      h('aside', { class: 'pane-detail', id: 'officer-detail' }, h('p', { class: 'muted' }, t('officers.pick')))));
  load();
}

async function load() {
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(state.offset) });
  if (state.q) params.set('q', state.q);
  if (state.active) params.set('active', state.active);
  const r = await api('GET', `/officers/roster?${params}`);
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  state.items = r.data.items;
  state.total = r.data.total;
  renderTable();
  if (state.selected) {
    const still = state.items.find((o) => o.id === state.selected.id);
    if (still) showDetail(still);
  }
}

function renderTable() {
  fill($('officer-table'), table([
    { label: 'officers.badge', key: 'badge', class: 'mono' },
    { label: 'officers.name', key: 'name' },
    { label: 'officers.unit', cell: (o) => label('unit', o.unit_type) },
    { label: 'officers.sector', cell: (o) => o.sector || '—' },
    { label: 'officers.status', cell: (o) => chip(label('status', o.status), `st-${o.status}`) },
    { label: 'officers.login', cell: (o) => (o.active ? chip(t('common.active'), 'ok') : chip(t('common.inactive'), 'off')) },
    { label: 'officers.phones', key: 'devices', class: 'num' },
  ], state.items, { onRow: showDetail, selected: state.selected?.id, id: 'officers-grid', empty: t('officers.none') }));
  const from = state.total ? state.offset + 1 : 0;
  const to = Math.min(state.offset + PAGE, state.total);
  fill($('officer-pager'),
    h('button', { type: 'button', class: 'small', disabled: state.offset === 0 ? true : null, onclick: () => { state.offset = Math.max(0, state.offset - PAGE); load(); } }, '‹'),
    h('span', null, t('common.range', { from, to, total: state.total })),
    h('button', { type: 'button', class: 'small', disabled: to >= state.total ? true : null, onclick: () => { state.offset += PAGE; load(); } }, '›'));
}

function unitOptions() { return UNITS.map((u) => [u, label('unit', u)]); }

async function createOfficer() {
  await openDialog('officers.new', () => [
    field('officers.badge', { name: 'badge', required: true, maxlength: 32, id: 'new-badge' }),
    field('officers.name', { name: 'name', required: true, maxlength: 200, id: 'new-name' }),
    field('officers.unit', { name: 'unit_type', value: 'motorbike' }, unitOptions()),
    field('officers.sector', { name: 'sector', maxlength: 100 }),
    field('officers.password', { name: 'password', type: 'password', minlength: 6, required: true, autocomplete: 'new-password' }),
    field('officers.device_id', { name: 'device_id', maxlength: 128 }),
  ], async (v) => {
    const body = { badge: v.badge.trim(), name: v.name.trim(), unit_type: v.unit_type, password: v.password };
    if (v.sector.trim()) body.sector = v.sector.trim();
    if (v.device_id.trim()) body.device_id = v.device_id.trim();
    const r = await api('POST', '/officers', body);
    if (!r.ok) return errorText(r);
    toast(t('officers.created', { badge: body.badge }), 'ok');
    state.q = body.badge;
    render();
    return true;
  });
}

async function exportCsv() {
  const r = await apiText('/officers/export.csv');
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  download('officers.csv', r.data);
  toast(t('officers.exported'), 'ok');
}

// ------------------------------------------------------------------ one officer
async function showDetail(o) {
  state.selected = o;
  for (const tr of document.querySelectorAll('#officers-grid tbody tr')) tr.setAttribute('aria-selected', String(Number(tr.dataset.id) === o.id));
  const pane = $('officer-detail');
  const form = h('form', { id: 'officer-edit', class: 'stack', onsubmit: (ev) => saveOfficer(ev, o) },
    field('officers.badge', { name: 'badge', value: o.badge, required: true, maxlength: 32 }),
    field('officers.name', { name: 'name', value: o.name, required: true, maxlength: 200 }),
    field('officers.unit', { name: 'unit_type', value: o.unit_type }, unitOptions()),
    field('officers.sector', { name: 'sector', value: o.sector || '', maxlength: 100 }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('common.save'))));
  const toggle = o.active
    ? h('button', { type: 'button', class: 'danger', id: 'officer-deactivate', onclick: () => deactivate(o) }, t('officers.deactivate'))
    : h('button', { type: 'button', id: 'officer-activate', onclick: () => activate(o) }, t('officers.activate'));
  fill(pane,
    h('div', { class: 'detail-head' }, h('h2', null, `${o.badge} · ${o.name}`),
      o.active ? chip(t('common.active'), 'ok') : chip(t('common.inactive'), 'off')),
    h('p', { class: 'muted' }, t('officers.since', { at: when(o.created_at) }), ' · ', label('status', o.status), o.online ? ` · ${t('officers.online')}` : ''),
    form,
    h('div', { class: 'actions left' }, toggle),
    h('h3', null, t('devices.title')),
    h('div', { id: 'device-list' }),
    o.active ? deviceForm(o) : h('p', { class: 'muted' }, t('devices.inactive')),
    h('div', { id: 'device-setup' }));
  await loadDevices(o);
}

async function saveOfficer(ev, o) {
  ev.preventDefault();
  const v = formValues(ev.target);
  const patch = {};
  for (const k of ['badge', 'name', 'unit_type']) if (v[k].trim() !== o[k]) patch[k] = v[k].trim();
  if ((v.sector.trim() || null) !== (o.sector || null)) patch.sector = v.sector.trim() || null;
  if (!Object.keys(patch).length) { toast(t('common.no_changes')); return; }
  const r = await api('PATCH', `/officers/${o.id}`, patch);
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  toast(t('common.saved'), 'ok');
  replace(r.data);
}

function replace(o) {
  state.items = state.items.map((x) => (x.id === o.id ? o : x));
  renderTable();
  showDetail(o);
}

async function deactivate(o) {
  let reason = '';
  let done = false;
  await openDialog('officers.deactivate', () => [
    h('p', null, t('officers.deactivate_help', { badge: o.badge })),
    field('common.reason', { name: 'reason', maxlength: 500 }),
  ], async (v) => {
    reason = v.reason.trim();
    const r = await api('POST', `/officers/${o.id}/deactivate`, reason ? { reason } : {});
    if (!r.ok) return errorText(r);
    done = true;
    replace(r.data);
    return true;
  }, { submitKey: 'officers.deactivate' });
  if (done) toast(t('officers.deactivated', { badge: o.badge }), 'ok');
}

async function activate(o) {
  const r = await api('POST', `/officers/${o.id}/activate`, {});
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  toast(t('officers.activated', { badge: o.badge }), 'ok');
  replace(r.data);
}

// ------------------------------------------------------------------ phones
async function loadDevices(o) {
  const r = await api('GET', `/officers/${o.id}/devices`);
  const box = $('device-list');
  if (!box) return;
  if (!r.ok) { fill(box, h('p', { class: 'error' }, errorText(r))); return; }
  fill(box, table([
    { label: 'devices.identifier', cell: (d) => (d.revoked_at ? d.identifier.replace(/#revoked-\d+$/, '') : d.identifier), class: 'mono' },
    { label: 'devices.label', cell: (d) => d.label || '—' },
    { label: 'devices.registered', cell: (d) => when(d.created_at) },
    { label: 'devices.state', cell: (d) => (d.revoked_at ? chip(t('devices.revoked_at', { at: when(d.revoked_at) }), 'off') : chip(t('common.active'), 'ok')) },
    { label: '', cell: (d) => (d.revoked_at ? '' : h('span', { class: 'row-actions' },
      h('button', { type: 'button', class: 'small', onclick: () => showSetup(o, d, null) }, t('devices.qr')),
      h('button', { type: 'button', class: 'small danger', dataset: { revoke: d.id }, onclick: () => revoke(o, d) }, t('devices.revoke')))) },
  ], r.data, { id: 'devices-grid', empty: t('devices.none') }));
}

function deviceForm(o) {
  return h('form', { id: 'device-form', class: 'inline', onsubmit: (ev) => register(ev, o) },
    field('devices.identifier', { name: 'identifier', required: true, maxlength: 128, id: 'device-identifier', placeholder: `${o.badge.toLowerCase()}-hp1` }),
    field('devices.label', { name: 'label', maxlength: 100, id: 'device-label' }),
    h('button', { type: 'submit', class: 'primary', id: 'device-register' }, t('devices.register')));
}

async function register(ev, o) {
  ev.preventDefault();
  const v = formValues(ev.target);
  const body = { identifier: v.identifier.trim() };
  if (v.label.trim()) body.label = v.label.trim();
  const r = await api('POST', `/officers/${o.id}/devices`, body);
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  ev.target.reset();
  await loadDevices(o);
  await showSetup(o, r.data, r.data.token);
  o.devices += 1;
  state.items = state.items.map((x) => (x.id === o.id ? o : x));
  renderTable();
}

async function revoke(o, d) {
  if (!(await confirmDialog('devices.revoke_confirm', { id: d.identifier }))) return;
  const r = await api('DELETE', `/officers/${o.id}/devices/${d.id}`);
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  toast(t('devices.revoked', { id: d.identifier }), 'ok');
  fill($('device-setup'));
  o.devices = Math.max(0, o.devices - 1);
  await loadDevices(o);
  renderTable();
}

/** The set-up QR codes; with the token (right after registering) also OwnTracks, and the token once. */
async function showSetup(o, d, token) {
  const r = await api('POST', `/officers/${o.id}/devices/${d.id}/setup`, token ? { token } : {});
  const box = $('device-setup');
  if (!r.ok) { fill(box, h('p', { class: 'error' }, errorText(r))); return; }
  const s = r.data;
  const app = (name, setup, help) => h('figure', { class: 'qr', dataset: { app: name } },
    h('img', { src: setup.qr_svg, alt: `QR ${name}`, width: 180, height: 180 }),
    h('figcaption', null, h('b', null, t(`devices.app_${name}`)), h('small', null, t(help)),
      h('a', { href: setup.link, class: 'setup-link' }, t('devices.open_link'))));
  fill(box,
    h('div', { class: 'setup', id: 'setup-card' },
      h('h3', null, t('devices.setup_title', { id: s.identifier })),
      token ? secretBox('devices.token', token, 'device-token') : null,
      s.reachable ? null : h('p', { class: 'warn' }, t('devices.unreachable', { url: s.server_url })),
      h('div', { class: 'qrs' },
        app('traccar', s.traccar, 'devices.traccar_help'),
        s.owntracks ? app('owntracks', s.owntracks, 'devices.owntracks_help')
          : h('p', { class: 'muted qr-missing' }, t('devices.owntracks_needs_token'))),
      h('p', { class: 'hint' }, t('devices.manual', { url: `${s.server_url}/osmand`, id: s.identifier, ot: `${s.server_url}/owntracks`, badge: s.badge }))));
}

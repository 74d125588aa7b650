/* Agencies and hospitals of the region: how each receives forwards (inbox, webhook, both) and its logins. */
import { api } from './api.js';
import {
  $, chip, errorText, field, fill, formValues, h, label, openDialog, sectionHead, t, table, toast,
} from './ui.js';

const state = { items: [], selected: null, kind: '' };

export async function render() {
  const kinds = ['', 'government', 'utility', 'hospital', 'police_unit', 'fire', 'insurer'];
  fill($('sec-agencies'),
    sectionHead('agencies.title', [
      h('select', { id: 'agency-kind', onchange: (ev) => { state.kind = ev.target.value; renderTable(); } },
        kinds.map((k) => h('option', { value: k, selected: k === state.kind ? true : null }, k ? label('kind', k) : t('agencies.all_kinds')))),
    ], 'agencies.hint'),
    h('div', { class: 'split' },
      h('div', { class: 'pane-list', id: 'agency-table' }),
      h('aside', { class: 'pane-detail', id: 'agency-detail' }, h('p', { class: 'muted' }, t('agencies.pick')))));
  const r = await api('GET', '/agencies');
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  state.items = r.data;
  renderTable();
  if (state.selected) {
    const again = state.items.find((a) => a.id === state.selected.id);
    if (again) show(again);
  }
}

function renderTable() {
  const rows = state.items.filter((a) => !state.kind || a.kind === state.kind);
  fill($('agency-table'), table([
    { label: 'agencies.code', key: 'code', class: 'mono' },
    { label: 'agencies.name', key: 'name' },
    { label: 'agencies.kind', cell: (a) => label('kind', a.kind), class: 'nw' },
    { label: 'agencies.delivery', cell: (a) => label('delivery', a.delivery), class: 'nw' },
    { label: 'agencies.state', cell: (a) => (a.active ? chip(t('common.active'), 'ok') : chip(t('common.inactive'), 'off')) },
  ], rows, { onRow: show, selected: state.selected?.id, id: 'agencies-grid' }));
}

async function show(a) {
  state.selected = a;
  for (const tr of document.querySelectorAll('#agencies-grid tbody tr')) tr.setAttribute('aria-selected', String(Number(tr.dataset.id) === a.id));
  const delivery = h('form', { class: 'stack', id: 'agency-delivery', onsubmit: (ev) => saveDelivery(ev, a) },
    field('agencies.delivery', { name: 'delivery', value: a.delivery }, ['inbox', 'webhook', 'both'].map((d) => [d, label('delivery', d)])),
    field('agencies.webhook', { name: 'webhook_url', value: a.webhook_url || '', type: 'url', placeholder: 'https://…' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('common.save'))));
  fill($('agency-detail'),
    h('div', { class: 'detail-head' }, h('h2', null, `${a.code} · ${a.name}`)),
    h('p', { class: 'muted' }, label('kind', a.kind), a.phone ? ` · ${a.phone}` : '', a.address ? ` · ${a.address}` : ''),
    h('h3', null, t('agencies.delivery_title')), delivery,
    h('h3', null, t('agencies.sla_title')), h('div', { id: 'agency-sla' }),
    h('div', { class: 'row-head' }, h('h3', null, t('agencies.logins')),
      h('button', { type: 'button', class: 'small primary', id: 'agency-login-new', onclick: () => newLogin(a) }, t('agencies.new_login'))),
    h('div', { id: 'agency-logins' }));
  await Promise.all([loadLogins(a), loadSla(a)]);
}

/** How soon the agency must acknowledge a forward before the dispatchers are alerted. */
async function loadSla(a) {
  const box = $('agency-sla');
  const r = await api('GET', `/agencies/${a.id}/sla`);
  if (!r.ok) { fill(box, h('p', { class: 'muted' }, r.status === 404 || r.status === 405 ? t('agencies.sla_missing') : errorText(r))); return; }
  const s = r.data;
  fill(box, h('form', { class: 'inline', id: 'agency-sla-form', onsubmit: (ev) => saveSla(ev, a) },
    field('agencies.sla_minutes', { name: 'ack_minutes', type: 'number', min: 1, max: 10080, value: s.ack_minutes ?? '', placeholder: t('agencies.sla_default', { n: Math.round(s.default_ack_minutes) }) }),
    h('button', { type: 'submit', class: 'primary' }, t('common.save'))),
  h('p', { class: 'hint' }, t('agencies.sla_now', { n: Math.round(s.effective_ack_minutes) })));
}

async function saveSla(ev, a) {
  ev.preventDefault();
  const v = formValues(ev.target);
  const r = await api('PUT', `/agencies/${a.id}/sla`, { ack_minutes: v.ack_minutes === '' ? null : Number(v.ack_minutes) });
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  toast(t('common.saved'), 'ok');
  loadSla(a);
}

async function loadLogins(a) {
  const r = await api('GET', `/agencies/${a.id}/users`);
  if (!r.ok) { fill($('agency-logins'), h('p', { class: 'error' }, errorText(r))); return; }
  fill($('agency-logins'), table([
    { label: 'users.username', key: 'username', class: 'mono' },
    { label: 'users.full_name', cell: (u) => u.full_name || '—' },
    { label: 'users.state', cell: (u) => (u.is_active === false ? chip(t('common.inactive'), 'off') : chip(t('common.active'), 'ok')) },
  ], r.data.items, { empty: t('agencies.no_logins') }));
}

async function saveDelivery(ev, a) {
  ev.preventDefault();
  const v = formValues(ev.target);
  const body = { delivery: v.delivery };
  if (v.webhook_url.trim()) body.webhook_url = v.webhook_url.trim();
  const r = await api('PUT', `/agencies/${a.id}/delivery`, body);
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  toast(t('common.saved'), 'ok');
  Object.assign(a, { delivery: r.data.delivery ?? body.delivery, webhook_url: r.data.webhook_url ?? body.webhook_url ?? null });
  renderTable();
}

async function newLogin(a) {
  await openDialog('agencies.new_login', () => [
    h('p', { class: 'muted' }, t('agencies.login_help', { code: a.code })),
    field('users.username', { name: 'username', required: true, maxlength: 64, pattern: '[A-Za-z0-9_.@+\\-]+', value: `${a.code.toLowerCase()}-` }),
    field('users.full_name', { name: 'full_name', maxlength: 200 }),
    field('users.password', { name: 'password', type: 'password', required: true, minlength: 6, autocomplete: 'new-password' }),
  ], async (v) => {
    const body = { username: v.username.trim(), password: v.password };
    if (v.full_name.trim()) body.full_name = v.full_name.trim();
    const r = await api('POST', `/agencies/${a.id}/users`, body);
    if (!r.ok) return errorText(r);
    toast(t('agencies.login_created', { u: body.username }), 'ok');
    await loadLogins(a);
    return true;
  });
}

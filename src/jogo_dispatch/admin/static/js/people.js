/* People: the appeals queue (grant or deny with a note the citizen reads in the app), logins and roles,
 * and the audit log of every change. */
import { api } from './api.js';
import {
  $, chip, errorText, field, fill, formValues, h, label, openDialog, secretBox, sectionHead, t, table, toast,
  when,
} from './ui.js';

// ------------------------------------------------------------------ appeals
let appealStatus = 'pending';

export async function refreshAppealCount() {
  const r = await api('GET', '/appeals?status=pending&limit=500');
  const badge = $('n-appeals');
  if (!r.ok) return;
  badge.hidden = r.data.length === 0;
  fill(badge, String(r.data.length));
}

export async function renderAppeals() {
  fill($('sec-appeals'),
    sectionHead('appeals.title', [
      h('div', { class: 'seg', role: 'group' }, ['pending', 'granted', 'upheld'].map((s) => h('button', {
        type: 'button', 'aria-pressed': String(s === appealStatus), dataset: { status: s },
        onclick: () => { appealStatus = s; renderAppeals(); },
      }, label('appeal', s)))),
    ], 'appeals.hint'),
    h('div', { id: 'appeal-list', class: 'cards' }));
  const r = await api('GET', `/appeals?status=${appealStatus}&limit=200`);
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  fill($('appeal-list'), r.data.length ? r.data.map(appealCard) : h('p', { class: 'muted empty' }, t('appeals.none')));
  refreshAppealCount();
}

function appealCard(a) {
  const pending = a.status === 'pending';
  const note = h('textarea', { rows: 2, maxlength: 4000, id: `appeal-note-${a.id}`, placeholder: t('appeals.note_hint') });
  const error = h('p', { class: 'error', hidden: true });
  const decide = async (decision) => {
    const text = note.value.trim();
    if (!text) { error.hidden = false; fill(error, t('appeals.note_required')); note.focus(); return; }
    const r = await api('POST', `/appeals/${a.id}/decide`, { decision, note: text });
    if (!r.ok) { error.hidden = false; fill(error, errorText(r)); return; }
    toast(t(decision === 'grant' ? 'appeals.granted' : 'appeals.upheld', { who: a.username || `#${a.user_id}` }), 'ok');
    renderAppeals();
  };
  return h('article', { class: 'card appeal', dataset: { id: a.id, status: a.status } },
    h('div', { class: 'row-head' },
      h('div', null, h('b', null, a.full_name || a.username || `#${a.user_id}`), ' ', h('span', { class: 'mono muted' }, a.username || '')),
      chip(label('appeal', a.status), `ap-${a.status}`)),
    h('p', { class: 'muted' }, t('appeals.filed', { at: when(a.created_at) }),
      a.blocked_at ? ` · ${t('appeals.blocked_since', { at: when(a.blocked_at) })}` : '',
      ` · ${t('appeals.strikes', { n: a.strike_count })}`),
    h('blockquote', null, a.text),
    a.strikes && a.strikes.length ? h('details', null, h('summary', null, t('appeals.history', { n: a.strikes.length })),
      h('ul', { class: 'strikes' }, a.strikes.map((s) => h('li', { class: s.cleared_at ? 'muted' : null },
        h('b', null, when(s.created_at)), ' ', s.report_id ? `#${s.report_id} ` : '', s.reason || ''))))
      : null,
    pending ? [
      note, error,
      h('div', { class: 'actions left' },
        h('button', { type: 'button', class: 'primary', dataset: { decide: 'grant' }, onclick: () => decide('grant') }, t('appeals.grant')),
        h('button', { type: 'button', class: 'danger', dataset: { decide: 'uphold' }, onclick: () => decide('uphold') }, t('appeals.deny'))),
    ] : h('p', { class: 'decision' }, h('b', null, t('appeals.decided', { at: when(a.decided_at) })), ' ', a.decision_note || ''));
}

// ------------------------------------------------------------------ users and roles
const users = { role: '', q: '', items: [], selected: null };
let userTimer = 0;
const ROLES = ['citizen', 'officer', 'dispatcher', 'agency', 'admin'];

export async function renderUsers() {
  fill($('sec-users'),
    sectionHead('users.title', [
      h('input', { type: 'search', id: 'user-search', value: users.q, placeholder: t('users.search'),
        oninput: (ev) => { clearTimeout(userTimer); userTimer = setTimeout(() => { users.q = ev.target.value.trim(); loadUsers(); }, 250); } }),
      h('select', { id: 'user-role', onchange: (ev) => { users.role = ev.target.value; loadUsers(); } },
        h('option', { value: '' }, t('users.all_roles')), ROLES.map((r) => h('option', { value: r, selected: r === users.role ? true : null }, label('role', r)))),
      h('button', { type: 'button', class: 'primary', id: 'user-new', onclick: newUser }, t('users.new')),
    ], 'users.hint'),
    h('div', { class: 'split' },
      h('div', { class: 'pane-list', id: 'user-table' }),
      h('aside', { class: 'pane-detail', id: 'user-detail' }, h('p', { class: 'muted' }, t('users.pick')))));
  await loadUsers();
}

async function loadUsers() {
  const p = new URLSearchParams({ limit: '200' });
  if (users.q) p.set('q', users.q);
  if (users.role) p.set('role', users.role);
  const r = await api('GET', `/users?${p}`);
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  users.items = r.data.items;
  fill($('user-table'), table([
    { label: 'users.username', key: 'username', class: 'mono' },
    { label: 'users.full_name', cell: (u) => u.full_name || '—' },
    { label: 'users.role', cell: (u) => chip(label('role', u.role), `role-${u.role}`) },
    { label: 'users.state', cell: (u) => (u.is_active ? chip(t('common.active'), 'ok') : chip(t('common.inactive'), 'off')) },
    { label: 'users.created_at', cell: (u) => when(u.created_at) },
  ], users.items, { onRow: showUser, selected: users.selected?.id, id: 'users-grid' }));
}

function showUser(u) {
  users.selected = u;
  for (const tr of document.querySelectorAll('#users-grid tbody tr')) tr.setAttribute('aria-selected', String(Number(tr.dataset.id) === u.id));
  const staff = u.role === 'dispatcher' || u.role === 'admin';
  const form = h('form', { class: 'stack', id: 'user-edit', onsubmit: (ev) => saveUser(ev, u) },
    staff ? field('users.role', { name: 'role', value: u.role }, [['dispatcher', label('role', 'dispatcher')], ['admin', label('role', 'admin')]])
      : h('p', { class: 'muted' }, t('users.role_fixed', { role: label('role', u.role) })),
    field('users.full_name', { name: 'full_name', value: u.full_name || '', maxlength: 200 }),
    u.role === 'officer' ? h('p', { class: 'muted' }, t('users.officer_hint', { badge: u.officer_badge || u.username }))
      : field('users.active', { name: 'is_active', type: 'checkbox', value: u.is_active }),
    field('common.reason', { name: 'reason', maxlength: 500 }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('common.save'))));
  fill($('user-detail'),
    h('div', { class: 'detail-head' }, h('h2', null, u.username), chip(label('role', u.role), `role-${u.role}`)),
    h('p', { class: 'muted' }, t('users.since', { at: when(u.created_at) }), u.phone ? ` · ${u.phone}` : ''),
    form,
    h('h3', null, t('users.password_title')),
    h('div', { class: 'actions left' }, h('button', { type: 'button', id: 'user-reset', onclick: () => resetPassword(u) }, t('users.reset'))),
    h('div', { id: 'user-secret' }));
}

async function saveUser(ev, u) {
  ev.preventDefault();
  const v = formValues(ev.target);
  const patch = {};
  if (v.role && v.role !== u.role) patch.role = v.role;
  if ((v.full_name.trim() || null) !== (u.full_name || null)) patch.full_name = v.full_name.trim() || null;
  if ('is_active' in v && v.is_active !== u.is_active) patch.is_active = v.is_active;
  if (!Object.keys(patch).length) { toast(t('common.no_changes')); return; }
  if (v.reason.trim()) patch.reason = v.reason.trim();
  const r = await api('PATCH', `/users/${u.id}`, patch);
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  toast(t('common.saved'), 'ok');
  users.selected = r.data;
  await loadUsers();
  showUser(r.data);
}

async function resetPassword(u) {
  const r = await api('POST', `/users/${u.id}/password`, {});
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  fill($('user-secret'), secretBox('users.new_password', r.data.password, 'user-password'));
}

async function newUser() {
  await openDialog('users.new', () => [
    field('users.username', { name: 'username', required: true, maxlength: 64, pattern: '[A-Za-z0-9_.@+\\-]+' }),
    field('users.full_name', { name: 'full_name', maxlength: 200 }),
    field('users.role', { name: 'role', value: 'dispatcher' }, [['dispatcher', label('role', 'dispatcher')], ['admin', label('role', 'admin')]]),
    field('users.password', { name: 'password', type: 'password', required: true, minlength: 6, autocomplete: 'new-password' }),
    h('p', { class: 'hint' }, t('users.new_hint')),
  ], async (v) => {
    const body = { username: v.username.trim(), role: v.role, password: v.password };
    if (v.full_name.trim()) body.full_name = v.full_name.trim();
    const r = await api('POST', '/users', body);
    if (!r.ok) return errorText(r);
    toast(t('users.created', { u: body.username }), 'ok');
    await loadUsers();
    return true;
  });
}

// ------------------------------------------------------------------ audit log
const audit = { type: '', entity: '', items: [], more: false };
const TYPES = ['', 'officer', 'user', 'agency', 'category', 'routing_rule', 'appeal', 'citizen', 'strike', 'incident', 'report', 'forward', 'offer'];

export async function renderAudit() {
  fill($('sec-audit'),
    sectionHead('audit.title', [
      h('select', { id: 'audit-type', onchange: (ev) => { audit.type = ev.target.value; loadAudit(false); } },
        TYPES.map((x) => h('option', { value: x, selected: x === audit.type ? true : null }, x ? x : t('audit.all')))),
      h('input', { type: 'number', min: 1, id: 'audit-entity', value: audit.entity, placeholder: t('audit.entity_id'),
        onchange: (ev) => { audit.entity = ev.target.value; loadAudit(false); } }),
    ], 'audit.hint'),
    h('div', { id: 'audit-table' }),
    h('div', { class: 'actions left' }, h('button', { type: 'button', id: 'audit-more', hidden: true, onclick: () => loadAudit(true) }, t('audit.more'))));
  await loadAudit(false);
}

async function loadAudit(more) {
  const p = new URLSearchParams({ limit: '100' });
  if (audit.type) p.set('entity_type', audit.type);
  if (audit.entity) p.set('entity_id', audit.entity);
  if (more && audit.items.length) p.set('before_id', String(audit.items[audit.items.length - 1].id));
  const r = await api('GET', `/audit?${p}`);
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  audit.items = more ? audit.items.concat(r.data) : r.data;
  fill($('audit-table'), table([
    { label: 'audit.at', cell: (e) => when(e.at) },
    { label: 'audit.entity', cell: (e) => `${e.entity_type} #${e.entity_id}`, class: 'mono' },
    { label: 'audit.action', key: 'action' },
    { label: 'audit.change', cell: (e) => (e.from_state || e.to_state ? `${e.from_state || '∅'} → ${e.to_state || '∅'}` : '—') },
    { label: 'audit.actor', cell: (e) => (e.actor_id ? `#${e.actor_id}` : t('audit.system')) },
    { label: 'audit.detail', cell: (e) => h('span', { class: 'detail' }, [e.reason, Object.keys(e.data || {}).length ? JSON.stringify(e.data) : ''].filter(Boolean).join(' · ')) },
  ], audit.items, { id: 'audit-grid' }));
  $('audit-more').hidden = r.data.length < 100;
}

/* The catalogue: report categories (names in both languages, default priority, reward points, on/off),
 * routing rules (who gets an incident of a category), response plans, and Open311 API keys. */
import { api, hasRoute } from './api.js';
import {
  $, chip, confirmDialog, errorText, field, fill, h, label, openDialog, secretBox, sectionHead, t,
  table, toast, when,
} from './ui.js';

// ------------------------------------------------------------------ categories
let categories = [];

export async function renderCategories() {
  fill($('sec-categories'),
    sectionHead('categories.title', [
      h('button', { type: 'button', class: 'primary', id: 'category-new', onclick: () => editCategory(null) }, t('categories.new')),
    ], 'categories.hint'),
    h('div', { id: 'category-table' }));
  const r = await api('GET', '/categories/all');
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  categories = r.data;
  fill($('category-table'), table([
    { label: 'categories.code', key: 'code', class: 'mono' },
    { label: 'categories.name_id', key: 'name_id' },
    { label: 'categories.name_en', key: 'name_en' },
    { label: 'categories.priority', cell: (c) => chip(`P${c.default_priority}`, `p${c.default_priority}`) },
    { label: 'categories.points', cell: (c) => (c.reward_points == null ? h('span', { class: 'muted' }, `${c.points} (${t('categories.default')})`) : String(c.points)), class: 'num' },
    { label: 'categories.order', key: 'sort_order', class: 'num' },
    { label: 'categories.state', cell: (c) => (c.active ? chip(t('common.active'), 'ok') : chip(t('common.inactive'), 'off')) },
  ], categories, { onRow: editCategory, id: 'categories-grid' }));
}

async function editCategory(c) {
  const isNew = !c;
  const v0 = c || { code: '', name_id: '', name_en: '', default_priority: 3, reward_points: null, active: true, sort_order: 100 };
  await openDialog(isNew ? 'categories.new' : 'categories.edit', () => [
    isNew ? field('categories.code', { name: 'code', required: true, pattern: '[a-z][a-z0-9_]{1,31}', maxlength: 32 })
      : h('p', null, h('b', { class: 'mono' }, c.code)),
    field('categories.name_id', { name: 'name_id', value: v0.name_id, required: true, maxlength: 100 }),
    field('categories.name_en', { name: 'name_en', value: v0.name_en, required: true, maxlength: 100 }),
    field('categories.priority', { name: 'default_priority', value: v0.default_priority },
      [1, 2, 3, 4, 5].map((p) => [p, t(`priority.${p}`)])),
    field('categories.points_own', { name: 'reward_points', type: 'number', min: 0, max: 1000, value: v0.reward_points ?? '', placeholder: t('categories.points_default') }),
    field('categories.order', { name: 'sort_order', type: 'number', min: 0, max: 32767, value: v0.sort_order }),
    field('categories.active', { name: 'active', type: 'checkbox', value: v0.active }),
  ], async (v) => {
    const body = {
      name_id: v.name_id.trim(), name_en: v.name_en.trim(), default_priority: Number(v.default_priority),
      reward_points: v.reward_points === '' ? null : Number(v.reward_points), active: v.active, sort_order: Number(v.sort_order),
    };
    const r = isNew ? await api('POST', '/categories', { code: v.code.trim(), ...body }) : await api('PUT', `/categories/${c.code}`, body);
    if (!r.ok) return errorText(r);
    toast(t('common.saved'), 'ok');
    renderCategories();
    return true;
  });
}

// ------------------------------------------------------------------ routing rules
let ruleFilter = '';

export async function renderRules() {
  const [rules, cats, agencies] = await Promise.all([
    api('GET', `/routing-rules${ruleFilter ? `?category=${encodeURIComponent(ruleFilter)}` : ''}`),
    api('GET', '/categories/all'), api('GET', '/agencies'),
  ]);
  const catList = cats.ok ? cats.data : [];
  const agencyList = agencies.ok ? agencies.data : [];
  fill($('sec-rules'),
    sectionHead('rules.title', [
      h('select', { id: 'rule-category', onchange: (ev) => { ruleFilter = ev.target.value; renderRules(); } },
        h('option', { value: '' }, t('rules.all_categories')),
        catList.map((c) => h('option', { value: c.code, selected: c.code === ruleFilter ? true : null }, c.code))),
      h('button', { type: 'button', class: 'primary', id: 'rule-new', onclick: () => editRule(null, catList, agencyList) }, t('rules.new')),
    ], 'rules.hint'),
    h('div', { id: 'rule-table' }));
  if (!rules.ok) { toast(errorText(rules), 'err'); return; }
  fill($('rule-table'), table([
    { label: 'rules.category', key: 'category', class: 'mono' },
    { label: 'rules.role', cell: (r) => label('rule_role', r.role) },
    { label: 'rules.agency', key: 'agency_code', class: 'mono' },
    { label: 'rules.sector', cell: (r) => r.sector_code || t('rules.whole_region') },
    { label: 'rules.priority', key: 'priority', class: 'num' },
    { label: 'rules.state', cell: (r) => (r.active ? chip(t('common.active'), 'ok') : chip(t('common.inactive'), 'off')) },
    { label: '', cell: (r) => h('span', { class: 'row-actions' },
      h('button', { type: 'button', class: 'small', onclick: (ev) => { ev.stopPropagation(); editRule(r, catList, agencyList); } }, t('common.edit')),
      h('button', { type: 'button', class: 'small danger', onclick: (ev) => { ev.stopPropagation(); deleteRule(r); } }, t('common.delete'))) },
  ], rules.data, { id: 'rules-grid' }));
}

async function editRule(rule, cats, agencies) {
  const v0 = rule || { category: ruleFilter || (cats[0] && cats[0].code) || '', role: 'responsible', agency_code: '', sector_code: '', priority: 100, active: true };
  const agencyOptions = [['@sector', t('rules.at_sector')], ['@nearest', t('rules.at_nearest')], ...agencies.map((a) => [a.code, `${a.code} · ${a.name}`])];
  await openDialog(rule ? 'rules.edit' : 'rules.new', () => [
    field('rules.category', { name: 'category', value: v0.category }, cats.map((c) => [c.code, `${c.code} · ${c.name_id}`])),
    field('rules.role', { name: 'role', value: v0.role }, ['responsible', 'always_notify', 'hospital'].map((r) => [r, label('rule_role', r)])),
    field('rules.agency', { name: 'agency_code', value: v0.agency_code }, agencyOptions),
    field('rules.sector', { name: 'sector_code', value: v0.sector_code || '', maxlength: 64, placeholder: t('rules.whole_region') }),
    field('rules.priority', { name: 'priority', type: 'number', min: 0, max: 10000, value: v0.priority }),
    field('rules.active', { name: 'active', type: 'checkbox', value: v0.active }),
  ], async (v) => {
    const body = { category: v.category, role: v.role, agency_code: v.agency_code, priority: Number(v.priority), active: v.active };
    if (v.sector_code.trim()) body.sector_code = v.sector_code.trim();
    const r = rule ? await api('PUT', `/routing-rules/${rule.id}`, body) : await api('POST', '/routing-rules', body);
    if (!r.ok) return errorText(r);
    toast(t('common.saved'), 'ok');
    renderRules();
    return true;
  });
}

async function deleteRule(rule) {
  if (!(await confirmDialog('rules.delete_confirm', { c: rule.category, a: rule.agency_code }))) return;
  const r = await api('DELETE', `/routing-rules/${rule.id}`);
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  toast(t('common.deleted'), 'ok');
  renderRules();
}

// ------------------------------------------------------------------ response plans
export async function renderPlans() {
  const sec = $('sec-plans');
  fill(sec, sectionHead('plans.title', [], 'plans.hint'), h('div', { id: 'plans-body' }));
  if (!(await hasRoute('GET', '/api/v1/response-plans'))) {
    fill($('plans-body'), h('div', { class: 'card pad empty-section', id: 'plans-missing' }, h('b', null, t('plans.missing')), h('p', { class: 'muted' }, t('plans.missing_help'))));
    return;
  }
  const r = await api('GET', '/response-plans');
  if (!r.ok) { fill($('plans-body'), h('p', { class: 'error' }, errorText(r))); return; }
  const rows = Array.isArray(r.data) ? r.data : r.data.items || [];
  fill($('plans-body'), table([
    { label: 'plans.name', cell: (p) => p.name || p.name_id || p.code || `#${p.id}` },
    { label: 'plans.category', cell: (p) => p.category || '—' },
    { label: 'plans.summary', cell: (p) => JSON.stringify(p.steps || p.units || p.resources || '').slice(0, 120) },
  ], rows, { empty: t('plans.none') }));
}

// ------------------------------------------------------------------ Open311 API keys
export async function renderKeys(fresh) {
  fill($('sec-keys'),
    sectionHead('keys.title', [
      h('button', { type: 'button', class: 'primary', id: 'key-new', onclick: newKey }, t('keys.new')),
    ], 'keys.hint'),
    fresh ? secretBox('keys.key', fresh, 'new-api-key') : null,
    h('div', { id: 'key-table' }));
  const r = await api('GET', '/api-keys');
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  fill($('key-table'), table([
    { label: 'keys.label', key: 'label' },
    { label: 'keys.prefix', cell: (k) => `${k.prefix}…`, class: 'mono' },
    { label: 'keys.created', cell: (k) => when(k.created_at) },
    { label: 'keys.used', cell: (k) => when(k.last_used_at) },
    { label: 'keys.state', cell: (k) => (k.revoked_at ? chip(t('keys.revoked', { at: when(k.revoked_at) }), 'off') : chip(t('common.active'), 'ok')) },
    { label: '', cell: (k) => (k.revoked_at ? '' : h('button', { type: 'button', class: 'small danger', onclick: () => revokeKey(k) }, t('keys.revoke'))) },
  ], r.data.items, { empty: t('keys.none') }));
}

async function newKey() {
  await openDialog('keys.new', () => [field('keys.label', { name: 'label', required: true, maxlength: 100 })], async (v) => {
    const r = await api('POST', '/api-keys', { label: v.label.trim() });
    if (!r.ok) return errorText(r);
    renderKeys(r.data.key);
    return true;
  });
}

async function revokeKey(k) {
  if (!(await confirmDialog('keys.revoke_confirm', { label: k.label }))) return;
  const r = await api('DELETE', `/api-keys/${k.id}`);
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  toast(t('keys.revoked_now'), 'ok');
  renderKeys();
}


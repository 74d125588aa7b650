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

// ------------------------------------------------------------------ response plans (run cards)
const codes = (text) => text.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

export async function renderPlans() {
  const sec = $('sec-plans');
  const available = await hasRoute('GET', '/api/v1/response-plans');
  fill(sec, sectionHead('plans.title', available ? [
    h('button', { type: 'button', class: 'primary', id: 'plan-new', onclick: () => editPlan(null) }, t('plans.new')),
  ] : [], 'plans.hint'), h('div', { id: 'plans-body' }));
  if (!available) {
    fill($('plans-body'), h('div', { class: 'card pad empty-section', id: 'plans-missing' }, h('b', null, t('plans.missing')), h('p', { class: 'muted' }, t('plans.missing_help'))));
    return;
  }
  const r = await api('GET', '/response-plans');
  if (!r.ok) { fill($('plans-body'), h('p', { class: 'error' }, errorText(r))); return; }
  const rows = Array.isArray(r.data) ? r.data : r.data.items || [];
  fill($('plans-body'), table([
    { label: 'plans.name', key: 'name' },
    { label: 'plans.category', key: 'category', class: 'mono' },
    { label: 'plans.priority', cell: (p) => (p.priority ? `P${p.priority}` : t('plans.any')) },
    { label: 'plans.sector', cell: (p) => p.sector_code || t('rules.whole_region') },
    { label: 'plans.units', cell: (p) => `${p.units}${p.unit_types && p.unit_types.length ? ` · ${p.unit_types.map((u) => label('unit', u)).join(', ')}` : ''}` },
    { label: 'plans.forward_to', cell: (p) => (p.forward_to || []).join(', ') || '—', class: 'mono' },
    { label: 'plans.suggest', cell: (p) => (p.suggest || []).join(', ') || '—', class: 'mono' },
    { label: 'plans.state', cell: (p) => (p.active ? chip(t('common.active'), 'ok') : chip(t('common.inactive'), 'off')) },
    { label: '', cell: (p) => h('button', { type: 'button', class: 'small danger', onclick: (ev) => { ev.stopPropagation(); deletePlan(p); } }, t('common.delete')) },
  ], rows, { onRow: editPlan, id: 'plans-grid', empty: t('plans.none') }));
}

async function editPlan(plan) {
  const cats = await api('GET', '/categories/all');
  const v0 = plan || { name: '', category: '', priority: null, sector_code: '', units: 1, unit_types: [], forward_to: [], suggest: [], welfare_interval_s: null, active: true };
  await openDialog(plan ? 'plans.edit' : 'plans.new', () => [
    field('plans.name', { name: 'name', value: v0.name, required: true, maxlength: 200 }),
    field('plans.category', { name: 'category', value: v0.category }, (cats.ok ? cats.data : []).map((c) => [c.code, `${c.code} · ${c.name_id}`])),
    field('plans.priority', { name: 'priority', value: v0.priority ?? '' }, [['', t('plans.any')], ...[1, 2, 3, 4, 5].map((p) => [p, t(`priority.${p}`)])]),
    field('plans.sector', { name: 'sector_code', value: v0.sector_code || '', maxlength: 64, placeholder: t('rules.whole_region') }),
    field('plans.units', { name: 'units', type: 'number', min: 0, max: 10, value: v0.units }),
    field('plans.unit_types', { name: 'unit_types', value: (v0.unit_types || []).join(', '), placeholder: 'car, motorbike' }),
    field('plans.forward_to', { name: 'forward_to', value: (v0.forward_to || []).join(', '), placeholder: 'PLN, DLH' }),
    field('plans.suggest', { name: 'suggest', value: (v0.suggest || []).join(', ') }),
    field('plans.welfare', { name: 'welfare_interval_s', type: 'number', min: 60, max: 86400, value: v0.welfare_interval_s ?? '' }),
    field('plans.active', { name: 'active', type: 'checkbox', value: v0.active }),
  ], async (v) => {
    const body = {
      name: v.name.trim(), category: v.category, priority: v.priority === '' ? null : Number(v.priority),
      sector_code: v.sector_code.trim() || null, units: Number(v.units), unit_types: codes(v.unit_types),
      forward_to: codes(v.forward_to), suggest: codes(v.suggest),
      welfare_interval_s: v.welfare_interval_s === '' ? null : Number(v.welfare_interval_s), active: v.active,
    };
    const r = plan ? await api('PUT', `/response-plans/${plan.id}`, body) : await api('POST', '/response-plans', body);
    if (!r.ok) return errorText(r);
    toast(t('common.saved'), 'ok');
    renderPlans();
    return true;
  }, { wide: true });
}

async function deletePlan(plan) {
  if (!(await confirmDialog('plans.delete_confirm', { name: plan.name }))) return;
  const r = await api('DELETE', `/response-plans/${plan.id}`);
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  toast(t('common.deleted'), 'ok');
  renderPlans();
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


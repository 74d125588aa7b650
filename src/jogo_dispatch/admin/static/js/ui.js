/* What every section of the console uses: the language (Indonesian, or English by the switch), element
 * builders, tables, the dialog, toasts and time formatting. Server text only ever becomes text nodes. */
import { $, CFG, fill, h, toaster } from '/static/live/shared/dom.js';
import { lookup } from '/static/live/shared/i18n.js';
import { toDate, validZone } from '/static/live/shared/time.js';
import { STRINGS } from './strings.js';

export { $, fill, h };

const LANG_KEY = 'jogo.admin.lang';
let lang = 'id';
try { lang = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'id'; } catch (e) { lang = 'id'; }
const langListeners = [];

export const getLang = () => lang;
export const t = (key, params) => lookup(STRINGS, lang, key, params);
/** A code from the server as a label ("role.admin"), else the code itself. */
export function label(group, code) {
  if (code == null || code === '') return '—';
  const key = `${group}.${code}`;
  const s = t(key);
  return s === key ? String(code) : s;
}
export const onLangChange = (fn) => langListeners.push(fn);

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'id';
  try { localStorage.setItem(LANG_KEY, lang); } catch (e) { /* */ }
  applyStatic();
  for (const fn of langListeners) fn(lang);
}

/** The page's fixed texts: data-i18n (text) and data-i18n-placeholder. */
export function applyStatic(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const b of document.querySelectorAll('[data-lang]')) b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
}

export const toast = toaster({ max: 4 });

/** An API failure as a message in the page's language: our code's text when we have one. */
export function errorText(r) {
  if (!r) return t('err.unknown');
  if (r.code === 'network') return t('err.network');
  const key = `err.${r.code}`;
  const known = t(key);
  return known === key ? r.message || r.code : known;
}

const zone = validZone(CFG.timezone || 'Asia/Jakarta');
export function when(v) {
  const d = toDate(v);
  if (!d) return '—';
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'id-ID', {
    timeZone: zone, day: '2-digit', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(d);
}

/**
 * A table: columns [{key, label (string key), cell(row) => node|string, class}], rows, and onRow(row) for
 * a click (the chosen row is marked aria-selected).
 */
export function table(columns, rows, { onRow, selected, empty, id } = {}) {
  const head = h('tr', null, columns.map((c) => h('th', { class: c.class }, c.label ? t(c.label) : '')));
  const body = rows.map((row) => {
    const tr = h('tr', {
      dataset: { id: row.id ?? row.code ?? '' },
      'aria-selected': selected != null && (row.id ?? row.code) === selected ? 'true' : null,
      tabindex: onRow ? '0' : null,
      onclick: onRow ? () => onRow(row) : null,
      onkeydown: onRow ? (ev) => { if (ev.key === 'Enter') onRow(row); } : null,
    }, columns.map((c) => h('td', { class: c.class }, c.cell ? c.cell(row) : row[c.key] ?? '—')));
    return tr;
  });
  return h('table', { class: onRow ? 'grid clickable' : 'grid', id },
    h('thead', null, head),
    h('tbody', null, body.length ? body : h('tr', null, h('td', { class: 'empty', colspan: columns.length }, empty || t('common.empty')))));
}

export const chip = (text, kind) => h('span', { class: `chip ${kind || ''}` }, text);

/** A labelled input: field('officer.name', {name, value, ...attrs}); type 'select' takes options [[value, text]]. */
export function field(labelKey, attrs = {}, options) {
  let input;
  if (options) {
    input = h('select', { ...attrs, value: undefined },
      options.map(([v, text]) => h('option', { value: v, selected: String(v) === String(attrs.value ?? '') ? true : null }, text)));
  } else if (attrs.type === 'textarea') {
    const { type, value, ...rest } = attrs;
    input = h('textarea', rest, value ?? '');
  } else if (attrs.type === 'checkbox') {
    const { value, ...rest } = attrs;
    input = h('input', { ...rest, checked: value ? true : null });
    return h('label', { class: 'check' }, input, ' ', t(labelKey));
  } else {
    input = h('input', { ...attrs, value: attrs.value ?? '' });
  }
  return h('label', null, h('span', null, t(labelKey)), input);
}

/** The values of a form's named fields (checkboxes as booleans, empty strings kept). */
export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    out[el.name] = el.type === 'checkbox' ? el.checked : el.value;
  }
  return out;
}

/**
 * The modal dialog: build(form) fills it; onSubmit(values, form) returns true (close) or false / a
 * message (stay open, shown). Resolves when closed.
 */
export function openDialog(titleKey, build, onSubmit, { submitKey = 'common.save', wide = false } = {}) {
  const dlg = $('dialog');
  const form = $('dialog-form');
  dlg.classList.toggle('wide', wide);
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary', value: 'ok', id: 'dialog-submit' }, t(submitKey));
  fill(form, h('h2', null, t(titleKey)), h('div', { class: 'dialog-body' }, build(form)), error,
    h('div', { class: 'actions' },
      h('button', { type: 'button', value: 'cancel', onclick: () => dlg.close() }, t('common.cancel')), submit));
  return new Promise((resolve) => {
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      try {
        const result = await onSubmit(formValues(form), form);
        if (result === true) { dlg.close(); return; }
        if (result) { error.hidden = false; fill(error, result); }
      } finally {
        submit.disabled = false;
      }
    };
    dlg.onclose = () => resolve();
    dlg.showModal();
  });
}

export async function confirmDialog(textKey, params) {
  return new Promise((resolve) => {
    let yes = false;
    openDialog('common.confirm', () => h('p', null, t(textKey, params)), () => { yes = true; return true; },
      { submitKey: 'common.yes' }).then(() => resolve(yes));
  });
}

/** A section's header: title, an optional hint, and toolbar nodes on the right. */
export const sectionHead = (titleKey, tools, hintKey) => h('div', { class: 'sec-head' },
  h('div', null, h('h1', null, t(titleKey)), hintKey ? h('p', { class: 'hint' }, t(hintKey)) : null),
  h('div', { class: 'tools' }, tools || []));

/** A secret shown once (a device token, an API key, a password) with a copy button. */
export function secretBox(titleKey, value, id) {
  const code = h('code', { id }, value);
  return h('div', { class: 'secret' },
    h('b', null, t(titleKey)), h('p', { class: 'hint' }, t('common.shown_once')),
    h('div', { class: 'secret-row' }, code,
      h('button', { type: 'button', class: 'small', onclick: () => navigator.clipboard?.writeText(value).then(() => toast(t('common.copied'), 'ok')).catch(() => {}) }, t('common.copy'))));
}

export function download(name, text, type = 'text/csv') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

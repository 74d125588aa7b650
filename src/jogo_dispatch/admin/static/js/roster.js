/* Importing a roster from CSV: the server checks it row by row (POST /officers/import?dry_run=true, the same
 * checks as `jogo-dispatch import-officers`); a bad row is fixed in place or skipped, the file is checked
 * again, then imported in one transaction with progress (NDJSON). Generated passwords are offered once. */
import { api, stream } from './api.js';
import { $, chip, download, errorText, fill, h, sectionHead, t, toast } from './ui.js';

const CELLS = ['badge', 'name', 'unit_type', 'sector', 'device_id', 'active'];
const state = { name: '', csv: '', fixes: {}, skip: new Set(), report: null, busy: false, result: null };

export function render() {
  const input = h('input', { type: 'file', id: 'roster-file', accept: '.csv,text/csv', onchange: pick });
  fill($('sec-import'),
    sectionHead('import.title', [], 'import.hint'),
    h('div', { class: 'card pad' },
      h('div', { class: 'inline' },
        h('label', { class: 'file' }, h('span', null, t('import.file')), input),
        h('button', { type: 'button', id: 'roster-check', disabled: state.csv ? null : true, onclick: check }, t('import.check'))),
      h('p', { class: 'hint' }, t('import.columns'))),
    h('div', { id: 'roster-report' }, state.report ? reportView() : null),
    h('div', { id: 'roster-result' }, state.result ? resultView(state.result) : null));
}

async function pick(ev) {
  const file = ev.target.files && ev.target.files[0];
  if (!file) return;
  state.name = file.name;
  state.csv = await file.text();
  state.fixes = {};
  state.skip = new Set();
  state.report = null;
  state.result = null;
  $('roster-check').disabled = false;
  await check();
}

const body = () => ({ csv: state.csv, fixes: state.fixes, skip: [...state.skip] });

async function check() {
  if (!state.csv || state.busy) return;
  collectFixes();
  state.busy = true;
  const r = await api('POST', '/officers/import?dry_run=true', body());
  state.busy = false;
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  state.report = r.data;
  state.result = null;
  fill($('roster-report'), reportView());
  fill($('roster-result'));
}

/** What the admin typed into the bad rows' cells becomes that row's fixes. */
function collectFixes() {
  for (const input of document.querySelectorAll('#roster-bad input[data-row]')) {
    const row = input.dataset.row;
    const col = input.dataset.col;
    const original = input.dataset.original ?? '';
    if (input.value.trim() !== original || (state.fixes[row] && col in state.fixes[row])) {
      state.fixes[row] = { ...(state.fixes[row] || {}), [col]: input.value.trim() };
    }
  }
}

function reportView() {
  const rep = state.report;
  const header = rep.bad_rows.find((b) => b.row === 1);
  const ready = rep.bad === 0 && rep.good > 0;
  const summary = h('div', { class: 'summary', id: 'roster-summary' },
    h('b', null, state.name), ' · ',
    t('import.summary', { total: rep.total, good: rep.good, bad: rep.bad, skipped: rep.skipped.length }));
  if (header) return [summary, h('p', { class: 'error', id: 'roster-header-error' }, header.problems.join('; '))];
  const rows = rep.bad_rows.map((b) => h('tr', { dataset: { row: b.row }, class: state.skip.has(b.row) ? 'skipped' : null },
    h('td', { class: 'num' }, String(b.row)),
    CELLS.map((c) => h('td', { class: b.columns.includes(c) ? 'bad' : null },
      h('input', {
        value: state.fixes[b.row]?.[c] ?? b.values[c] ?? '', dataset: { row: b.row, col: c, original: b.values[c] ?? '' },
        'aria-label': `${t('import.row')} ${b.row} ${c}`, size: c === 'name' ? 18 : 9,
      }))),
    h('td', { class: 'problems' }, h('ul', null, b.problems.map((p) => h('li', null, p)))),
    h('td', null, h('button', { type: 'button', class: 'small', dataset: { skip: b.row }, onclick: () => toggleSkip(b.row) }, t('import.skip')))));
  const skipped = rep.skipped.length
    ? h('p', { class: 'muted' }, t('import.skipped_rows', { rows: rep.skipped.join(', ') }), ' ',
      h('button', { type: 'button', class: 'link', onclick: () => { state.skip = new Set(); check(); } }, t('import.unskip')))
    : null;
  return [
    summary,
    rep.bad ? h('div', { class: 'card' },
      h('table', { class: 'grid roster-bad', id: 'roster-bad' },
        h('thead', null, h('tr', null, h('th', null, t('import.row')), CELLS.map((c) => h('th', null, c)), h('th', null, t('import.problems')), h('th'))),
        h('tbody', null, rows)),
      h('div', { class: 'actions left' },
        h('button', { type: 'button', id: 'roster-recheck', onclick: check }, t('import.recheck')),
        h('span', { class: 'hint' }, t('import.fix_help')))) : null,
    skipped,
    h('div', { class: 'actions left' },
      h('button', { type: 'button', class: 'primary', id: 'roster-import', disabled: ready ? null : true, onclick: commit },
        t('import.go', { n: rep.good })),
      ready ? chip(t('import.ready'), 'ok') : chip(t('import.not_ready'), 'warn')),
    h('div', { class: 'progress', id: 'roster-progress', hidden: true }, h('div', { class: 'bar' }), h('span')),
  ];
}

function toggleSkip(row) {
  collectFixes();
  if (state.skip.has(row)) state.skip.delete(row); else state.skip.add(row);
  check();
}

async function commit() {
  if (state.busy) return;
  state.busy = true;
  const btn = $('roster-import');
  btn.disabled = true;
  const box = $('roster-progress');
  box.hidden = false;
  const bar = box.querySelector('.bar');
  const text = box.querySelector('span');
  fill(text, t('import.starting'));
  const r = await stream('/officers/import?dry_run=false', body(), (line) => {
    if (line.type !== 'progress') return;
    const pct = line.total ? Math.round((100 * line.done) / line.total) : 100;
    bar.style.width = `${pct}%`;
    box.dataset.done = line.done;
    fill(text, t('import.progress', { done: line.done, total: line.total }));
  });
  state.busy = false;
  if (!r.ok) {
    btn.disabled = false;
    fill(text, errorText(r));
    toast(errorText(r), 'err');
    return;
  }
  state.result = r.data;
  state.report = null;
  state.csv = '';
  fill($('roster-report'));
  fill($('roster-result'), resultView(r.data));
  toast(t('import.done', { n: r.data.imported }), 'ok', 8000);
}

function resultView(res) {
  const csv = 'badge,password\n' + res.credentials.map((c) => `${c.badge},${c.password}`).join('\n') + '\n';
  return h('div', { class: 'card pad', id: 'roster-done' },
    h('h2', null, t('import.done', { n: res.imported })),
    res.skipped.length ? h('p', { class: 'muted' }, t('import.skipped_rows', { rows: res.skipped.join(', ') })) : null,
    res.credentials.length ? [
      h('p', null, t('import.credentials', { n: res.credentials.length })),
      h('button', { type: 'button', class: 'primary', id: 'roster-credentials', onclick: () => download('roster-credentials.csv', csv) }, t('import.download')),
    ] : null);
}

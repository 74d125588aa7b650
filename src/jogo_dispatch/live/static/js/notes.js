/* The incident desk's narrative notes (by dispatchers, the officers on it, the agencies it was forwarded
 * to) and its timeline: the audit trail of the incident, its offers and reports, with the history of its
 * forwards (forwards.js keeps it in ctx.forwards) merged in by time. */
import { fill, h } from '../shared/dom.js';
import { api } from './api.js';
import { clock, toDate } from './format.js';
import { addIncidentSection } from './incident_desk.js';
import { errorText, hasLabel, label, reasonText, t } from './lang.js';
import { block, button, resultLine } from './ui.js';

addIncidentSection({
  order: 45,
  mount(ctx) {
    const list = h('div', { class: 'notes' });
    const text = h('textarea', { id: 'note-text', rows: 2, maxlength: 2000, placeholder: t('notes.placeholder') });
    const result = resultLine();
    const add = button(t('notes.add'), async (b) => {
      const body = text.value.trim();
      if (!body) { text.focus(); return; }
      b.disabled = true;
      const r = await api('POST', `/incidents/${ctx.d.id}/notes`, { text: body });
      b.disabled = false;
      if (!r.ok) { result.set(errorText(r), 'err'); return; }
      text.value = '';
      result.set('');
      ctx.reload();
    }, 'primary small', { id: 'note-add' });
    text.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) add.click(); });
    const el = block(t('notes.title'), list, text, h('div', { class: 'actions' }, add), result.el);
    return {
      el,
      update() {
        const notes = Array.isArray(ctx.d.notes) ? ctx.d.notes : [];
        fill(list, ...notes.map((n) => h('div', { class: 'note' },
          h('div', { class: 'row' }, h('b', null, n.author_name || `#${n.author_id}`), h('span', { class: 'sub' }, label('role', n.author_role)),
            h('span', { class: 'meta' }, clock(n.created_at))),
          h('div', { class: 'text' }, n.text))),
        notes.length ? '' : h('div', { class: 'empty' }, t('notes.none')));
      },
    };
  },
});

/** "Diteruskan → terkirim" for an audit entry. */
function actionText(e) {
  const key = `${e.entity_type}.${e.action}`;
  if (hasLabel('audit', key)) return label('audit', key);
  if (hasLabel('audit', e.action)) return label('audit', e.action);
  return label('audit', e.action);
}

const STATE_GROUP = { incident: 'incident_status', offer: 'offer_status', report: 'report_status', forward: 'forward_status' };
function stateText(e, code) {
  if (!code) return '';
  const group = STATE_GROUP[e.entity_type] || 'incident_status';
  if (e.entity_type === 'offer' && hasLabel('unit_state', code) && !hasLabel('offer_status', code)) return label('unit_state', code);
  return label(group, code);
}

/** "Prioritas 3 → 1 · Alamat — → Jl. Ijen" for an edit's field-by-field changes. */
function changesText(changes) {
  const show = (field, v) => {
    if (v == null || v === '') return '—';
    if (field === 'category') return label('category', v);
    if (field === 'location' && Array.isArray(v)) return v.map((x) => Number(x).toFixed(5)).join(', ');
    return String(v);
  };
  return Object.entries(changes || {}).map(([f, [a, b]]) => `${label('field', f)} ${show(f, a)} → ${show(f, b)}`).join(' · ');
}

function entryLine(e, forwardAgency) {
  const moved = e.from_state !== e.to_state && (e.from_state || e.to_state);
  const who = e.entity_type === 'forward' ? ((e.data && e.data.agency_code) || forwardAgency(e.entity_id)) : (e.entity_type === 'offer' && e.data && e.data.officer_id != null ? `#${e.data.officer_id}` : '');
  return h('li', { class: `tl-${e.entity_type}`, dataset: { action: e.action } },
    h('span', { class: 'when' }, clock(e.at)),
    h('span', { class: 'what' }, h('b', null, actionText(e)), who ? ` ${who}` : '',
      moved ? h('span', { class: 'move' }, ` ${stateText(e, e.from_state) || '∅'} → ${stateText(e, e.to_state)}`) : ''),
    e.action === 'edited' && e.data && e.data.changes ? h('div', { class: 'changes' }, changesText(e.data.changes)) : null,
    e.reason ? h('div', { class: 'why' }, reasonText(e)) : null,
    e.actor_id != null ? h('span', { class: 'sub' }, ` · ${actorText(e)}`) : null);
}

/** "oleh Bripka Sari (operator)", else "oleh #12" when the person is gone. */
function actorText(e) {
  if (!e.actor_name) return t('timeline.by', { id: e.actor_id });
  return t('timeline.by_name', { name: e.actor_name, role: label('role', e.actor_role) });
}

addIncidentSection({
  order: 90,
  mount(ctx) {
    const list = h('ol', { class: 'timeline', id: 'timeline' });
    const el = block(t('timeline.title'), list);
    return {
      el,
      update() {
        const fw = Array.isArray(ctx.forwards) ? ctx.forwards : [];
        const agencyOf = new Map(fw.map((f) => [f.id, f.agency ? f.agency.code : `#${f.agency_id}`]));
        const seen = new Set((ctx.timeline || []).map((e) => e.id));
        const merged = [...(ctx.timeline || []), ...fw.flatMap((f) => (f.history || []).filter((e) => !seen.has(e.id)))];
        merged.sort((a, b) => ((toDate(a.at) || 0) - (toDate(b.at) || 0)) || (a.id - b.id));
        fill(list, ...merged.map((e) => entryLine(e, (fid) => agencyOf.get(fid) || `#${fid}`)));
        if (!merged.length) list.append(h('li', { class: 'empty' }, t('timeline.none')));
      },
    };
  },
});

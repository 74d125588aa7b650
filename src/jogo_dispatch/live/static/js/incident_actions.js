/* What a dispatcher changes on an incident from its desk: category, priority, address, description and
 * location (PATCH with the version seen; a 409 stale_incident reloads what changed meanwhile), closing or
 * cancelling with a reason, merging another open incident in, splitting reports off. */
import { fill, h } from '../shared/dom.js';
import { api } from './api.js';
import { open } from './bus.js';
import { categories } from './catalogue.js';
import { meters, pointOf } from './format.js';
import { addIncidentSection } from './incident_desk.js';
import { errorText, label, t } from './lang.js';
import { deskLayer, map, pickOnMap } from './layers.js';
import { incidents } from './state.js';
import { block, button, confirmStep, field, resultLine, select, toast } from './ui.js';

const FINAL = new Set(['resolved', 'cancelled']);
const priorities = () => [1, 2, 3, 4, 5].map((p) => [String(p), t(`priority.${p}`)]);

// ------------------------------------------------------------------ edit
addIncidentSection({
  order: 60,
  mount(ctx) {
    const cat = select([], '', { id: 'edit-category' });
    const pri = select(priorities(), '', { id: 'edit-priority' });
    const addr = h('input', { id: 'edit-address', maxlength: 500 });
    const desc = h('textarea', { id: 'edit-description', rows: 2, maxlength: 2000 });
    const why = h('input', { id: 'edit-reason', maxlength: 1000, placeholder: t('edit.reason') });
    const where = h('span', { class: 'sub', id: 'edit-where' });
    const result = resultLine();
    let pin = null;
    let moved = null;
    let seen = null; // the values the form was filled from (what "unchanged" means)
    const fillForm = (d) => {
      fill(cat, ...categories().map((c) => h('option', { value: c.code }, label('category', c.code))));
      if (![...cat.options].some((o) => o.value === d.category)) cat.append(h('option', { value: d.category }, label('category', d.category)));
      cat.value = d.category;
      pri.value = String(d.priority);
      addr.value = d.address || '';
      desc.value = d.description || '';
      seen = { category: d.category, priority: String(d.priority), address: d.address || '', description: d.description || '' };
      moved = null;
      where.textContent = '';
      if (pin) { deskLayer.removeLayer(pin); pin = null; }
    };
    const setMoved = (ll) => {
      moved = ll;
      where.textContent = t('edit.new_place', { lat: ll.lat.toFixed(5), lon: ll.lng.toFixed(5), d: meters(map.distance(ll, pointOf(ctx.d))) });
      if (!pin) {
        pin = L.marker(ll, { draggable: true, title: t('edit.pin') }).addTo(deskLayer);
        pin.on('dragend', () => setMoved(pin.getLatLng()));
      } else pin.setLatLng(ll);
    };
    const moveBtn = button(t('edit.move'), () => {
      setMoved(L.latLng(pointOf(ctx.d)));
      pickOnMap((ll) => setMoved(ll));
    }, 'small', { id: 'edit-move' });
    const save = button(t('edit.save'), async (b) => {
      const d = ctx.d;
      const body = { version: d.version };
      if (cat.value !== seen.category) body.category = cat.value;
      if (pri.value !== seen.priority) body.priority = Number(pri.value);
      if (addr.value.trim() !== seen.address) body.address = addr.value.trim();
      if (desc.value.trim() !== seen.description) body.description = desc.value.trim();
      if (moved) { body.lat = moved.lat; body.lon = moved.lng; }
      if (why.value.trim()) body.reason = why.value.trim();
      if (Object.keys(body).length <= (body.reason ? 2 : 1)) { result.set(t('edit.nothing'), 'err'); return; }
      b.disabled = true;
      const r = await api('PATCH', `/incidents/${d.id}`, body);
      if (r.status === 409 && r.code === 'stale_incident') {
        // the new version first, then the message: saving again (only once it is said) uses it
        await ctx.reload();
        b.disabled = false;
        result.set(t('edit.stale'), 'err');
        return; // the form keeps what was typed
      }
      b.disabled = false;
      if (!r.ok) { result.set(errorText(r), 'err'); return; }
      result.set('');
      toast(t('edit.saved_toast', { id: d.id }), 'ok');
      pickOnMap(null);
      why.value = '';
      await ctx.reload();
      fillForm(ctx.d);
      details.open = false;
    }, 'primary small', { id: 'edit-save' });
    const details = h('details', { class: 'edit', id: 'edit' }, h('summary', null, t('edit.title')),
      h('div', { class: 'grid2' }, field(t('edit.category'), cat), field(t('edit.priority'), pri)),
      field(t('edit.address'), addr), field(t('edit.description'), desc),
      h('div', { class: 'row' }, moveBtn, where), why, h('div', { class: 'actions' }, save), result.el);
    // Opening fills the form from the incident as it is now, unless something was typed already (the
    // toggle event comes a moment after the click: a quick hand, or a test, may be first).
    const untouched = () => !seen || (!moved && cat.value === seen.category && pri.value === seen.priority
      && addr.value === seen.address && desc.value === seen.description);
    details.addEventListener('toggle', () => { if (!details.open) pickOnMap(null); else if (untouched()) fillForm(ctx.d); });
    const el = block(null, details);
    return {
      el,
      update() {
        el.hidden = FINAL.has(ctx.d.status);
        if (!details.open && ctx.d) fillForm(ctx.d);
      },
    };
  },
});

// ------------------------------------------------------------------ close, cancel
async function setStatus(ctx, status, reason) {
  const r = await api('POST', `/incidents/${ctx.d.id}/status`, { status, reason });
  if (!r.ok) { toast(errorText(r), 'err'); return false; }
  toast(t('close.done', { id: ctx.d.id, status: label('incident_status', status) }), 'ok');
  await ctx.reload();
  return true;
}

addIncidentSection({
  order: 70,
  mount(ctx) {
    const resolve = confirmStep({
      text: t('close.resolve'), confirmText: t('close.resolve_confirm'), cls: 'small', placeholder: t('close.reason'),
      onConfirm: (why) => setStatus(ctx, 'resolved', why), attrs: { id: 'close-resolve' },
    });
    const cancel = confirmStep({
      text: t('close.cancel'), confirmText: t('close.cancel_confirm'), cls: 'small danger', placeholder: t('close.reason'),
      onConfirm: (why) => setStatus(ctx, 'cancelled', why), attrs: { id: 'close-cancel' },
    });
    const el = block(null, h('div', { class: 'actions closing' }, resolve, cancel));
    return { el, update() { el.hidden = FINAL.has(ctx.d.status); } };
  },
});

// ------------------------------------------------------------------ merge, split
addIncidentSection({
  order: 80,
  mount(ctx) {
    const other = h('select', { id: 'merge-other' });
    const merge = confirmStep({
      text: t('merge.go'), confirmText: t('merge.confirm'), cls: 'small', reason: false, placeholder: t('merge.reason'),
      attrs: { id: 'merge-go' },
      onConfirm: async (why) => {
        const oid = Number(other.value);
        if (!oid) return false;
        const r = await api('POST', `/incidents/${ctx.d.id}/merge`, { other_incident_id: oid, reason: why || null });
        if (!r.ok) { toast(errorText(r), 'err'); return false; }
        toast(t('merge.done', { a: oid, b: ctx.d.id }), 'ok');
        await ctx.reload();
        return true;
      },
    });
    const picks = h('div', { class: 'picks' });
    const split = button(t('split.go'), async (b) => {
      const ids = [...picks.querySelectorAll('input:checked')].map((c) => Number(c.value));
      if (!ids.length) return;
      b.disabled = true;
      const r = await api('POST', `/incidents/${ctx.d.id}/split`, { report_ids: ids });
      b.disabled = false;
      if (!r.ok) { toast(errorText(r), 'err'); return; }
      toast(t('split.done', { id: r.data.id }), 'ok');
      open('incident', r.data.id);
    }, 'small', { id: 'split-go' });
    const mergeBox = h('div', { class: 'row' }, other, merge);
    const splitBox = h('div', null, h('div', { class: 'sub' }, t('split.hint')), picks, split);
    const el = block(t('merge.title'), mergeBox, splitBox);
    return {
      el,
      update() {
        const d = ctx.d;
        const here = pointOf(d);
        const others = [...incidents.values()].map((it) => it.d).filter((x) => x.id !== d.id && pointOf(x))
          .map((x) => ({ x, m: here ? map.distance(here, pointOf(x)) : 0 }))
          .sort((a, b) => (b.x.category === d.category) - (a.x.category === d.category) || a.m - b.m).slice(0, 30);
        const keep = other.value;
        fill(other, h('option', { value: '' }, t('merge.pick')),
          ...others.map(({ x, m }) => h('option', { value: String(x.id) }, `#${x.id} ${label('category', x.category)} · ${meters(m)}`)));
        if ([...other.options].some((o) => o.value === keep)) other.value = keep;
        mergeBox.hidden = !others.length;
        const reports = Array.isArray(d.reports) ? d.reports : [];
        const checked = new Set([...picks.querySelectorAll('input:checked')].map((c) => c.value));
        fill(picks, ...reports.map((r) => h('label', { class: 'target' },
          h('input', { type: 'checkbox', value: String(r.id), checked: checked.has(String(r.id)) }),
          ` ${t('report.title')} #${r.id} · ${r.description ? r.description.slice(0, 60) : ''}`)));
        splitBox.hidden = reports.length < 2;
        el.hidden = FINAL.has(d.status) || (mergeBox.hidden && splitBox.hidden);
      },
    };
  },
});

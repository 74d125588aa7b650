/* Call-taking: a 110 call, a radio message or someone at the desk becomes an incident. The form in the desk
 * column (category, priority from the category unless chosen, source, caller, address, narrative) and a pin
 * placed by clicking the map or dragged; POST /incidents answers a verified incident with its responders
 * ranked by ETA and the open incidents nearby it could be linked to, shown on its desk at once. */
import { $, fill, h } from '../shared/dom.js';
import { DESK_SOURCES } from './config.js';
import { api } from './api.js';
import { open } from './bus.js';
import { categories, categoryOf, onCategories } from './catalogue.js';
import { registerView } from './desk.js';
import { upsertIncident } from './incidents.js';
import { errorText, label, t } from './lang.js';
import { deskLayer, map, pickOnMap } from './layers.js';
import { block, button, field, resultLine, select, toast } from './ui.js';

registerView('new', {
  mount(ctx) {
    ctx.setTitle(t('call.title'));
    const cat = h('select', { id: 'call-category', required: true });
    const pri = h('select', { id: 'call-priority' });
    const fillCategories = () => {
      const keep = cat.value;
      fill(cat, h('option', { value: '' }, t('call.pick_category')),
        ...categories().map((c) => h('option', { value: c.code }, label('category', c.code))));
      cat.value = keep;
      fillPriorities();
    };
    const fillPriorities = () => {
      const keep = pri.value;
      const c = categoryOf(cat.value);
      fill(pri, h('option', { value: '' }, c ? t('call.priority_auto', { p: c.default_priority }) : t('call.priority_auto_none')),
        ...[1, 2, 3, 4, 5].map((p) => h('option', { value: String(p) }, t(`priority.${p}`))));
      pri.value = keep;
    };
    cat.addEventListener('change', fillPriorities);
    const source = select(DESK_SOURCES.map((s) => [s, label('source', s)]), 'phone', { id: 'call-source' });
    const name = h('input', { id: 'call-name', maxlength: 200, autocomplete: 'off' });
    const phone = h('input', { id: 'call-phone', type: 'tel', maxlength: 40, autocomplete: 'off' });
    const addr = h('input', { id: 'call-address', maxlength: 500, autocomplete: 'off' });
    const narrative = h('textarea', { id: 'call-narrative', rows: 3, maxlength: 2000 });
    const where = h('div', { class: 'where', id: 'call-where' }, t('call.click_map'));
    const result = resultLine();
    let pin = null;
    const place = (ll) => {
      if (!pin) {
        pin = L.marker(ll, { draggable: true, title: t('call.pin'), autoPan: true }).addTo(deskLayer);
        pin.on('drag dragend', () => showWhere(pin.getLatLng()));
      } else pin.setLatLng(ll);
      showWhere(ll);
    };
    const showWhere = (ll) => {
      where.textContent = t('call.at', { lat: ll.lat.toFixed(5), lon: ll.lng.toFixed(5) });
      where.classList.add('set');
    };
    pickOnMap(place);
    if (ctx.extra && ctx.extra.latlng) place(L.latLng(ctx.extra.latlng));
    const centre = button(t('call.use_centre'), () => place(map.getCenter()), 'small', { id: 'call-centre' });

    const submit = button(t('call.submit'), async (b) => {
      if (!cat.value) { result.set(t('call.need_category'), 'err'); cat.focus(); return; }
      if (!pin) { result.set(t('call.need_place'), 'err'); return; }
      const ll = pin.getLatLng();
      const body = {
        category: cat.value, lat: Number(ll.lat.toFixed(6)), lon: Number(ll.lng.toFixed(6)), source: source.value,
        priority: pri.value ? Number(pri.value) : null,
        address: addr.value.trim() || null, caller_name: name.value.trim() || null,
        caller_phone: phone.value.trim() || null, narrative: narrative.value.trim() || null,
      };
      b.disabled = true;
      result.set(t('call.sending'));
      const r = await api('POST', '/incidents', body);
      b.disabled = false;
      if (!r.ok) { result.set(errorText(r), 'err'); return; }
      toast(t('call.created', { id: r.data.id }), 'ok');
      upsertIncident(r.data);
      open('incident', r.data.id, r.data);
    }, 'primary', { id: 'call-submit' });

    ctx.body.append(block(null,
      h('p', { class: 'sub' }, t('call.hint')),
      h('div', { class: 'grid2' }, field(t('call.category'), cat), field(t('call.priority'), pri)),
      h('div', { class: 'grid2' }, field(t('call.source'), source), field(t('call.caller_phone'), phone)),
      field(t('call.caller_name'), name),
      field(t('call.address'), addr),
      field(t('call.narrative'), narrative),
      h('div', { class: 'row' }, where, centre),
      h('div', { class: 'actions' }, submit), result.el));
    fillCategories();
    onCategories(() => { if (ctx.alive()) fillCategories(); });
    setTimeout(() => cat.focus(), 0);
    return {};
  },
});

$('btn-new').addEventListener('click', () => open('new'));
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'F2' && !$('btn-new').hidden) { ev.preventDefault(); open('new'); }
});

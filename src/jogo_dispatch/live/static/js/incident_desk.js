/* The incident desk: one incident in the desk column, reloaded from the API when the live feed says it
 * changed. Sections register with addIncidentSection({order, mount(ctx) → {el, update?}}); this module
 * holds the summary, the units and offers, the link candidates and the responders ranked by ETA (offer
 * through the phone app, or assign by radio to a tracker-only officer). Others: incident_actions.js,
 * notes.js, forwards.js, sos.js. */
import { fill, h } from '../shared/dom.js';
import { LINE_COLOR } from './config.js';
import { api, itemsOf } from './api.js';
import { on, open } from './bus.js';
import { registerView } from './desk.js';
import { DASH, clock, clockAgo, duration, meters, num, pointOf, priorityOf } from './format.js';
import { markSelected, upsertIncident } from './incidents.js';
import { errorText, label, t } from './lang.js';
import { deskLayer, focusOn } from './layers.js';
import { badgeOf } from './officers.js';
import { incidents, officers } from './state.js';
import { unitTimer } from './timers.js';
import { block, button, chip, confirmStep, countdown, facts, telLink, timerLine, toast } from './ui.js';

const sections = [];
/** A part of the incident desk: mount(ctx) → {el, update?()}; ctx.d is the incident's detail. */
export function addIncidentSection(s) {
  sections.push(s);
  sections.sort((a, b) => a.order - b.order);
}

const WAITING = new Set(['new', 'verified']);
const FINAL = new Set(['resolved', 'cancelled']);

registerView('incident', {
  mount(ctx) {
    const id = ctx.id;
    ctx.d = incidents.has(id) ? { ...incidents.get(id).d } : null;
    if (ctx.extra && ctx.extra.id === id) ctx.d = { ...ctx.extra };
    ctx.timeline = [];
    const subs = [];
    ctx.on = (type, fn) => subs.push(on(type, (m) => { if (ctx.alive()) fn(m); }));
    let mounted = [];
    const draw = () => {
      const d = ctx.d;
      if (!d) return;
      const p = priorityOf(d);
      ctx.setTitle(h('span', { class: `pbadge p${p}` }, `P${p}`), ' ', label('category', d.category), ` #${d.id}`);
      for (const m of mounted) if (m.update) m.update();
    };
    ctx.redraw = draw;
    mounted = sections.map((s) => s.mount(ctx)).filter(Boolean);
    const status = h('div', { class: 'desk-status' });
    ctx.body.append(status, ...mounted.map((m) => m.el));
    let loading = null;
    ctx.reload = async () => {
      if (loading) return loading;
      loading = (async () => {
        const [r, tl] = await Promise.all([api('GET', `/incidents/${id}`), api('GET', `/incidents/${id}/timeline`)]);
        if (!ctx.alive()) return;
        if (!r.ok) { status.textContent = errorText(r); status.className = 'desk-status err'; return; }
        status.textContent = '';
        status.className = 'desk-status';
        const keep = ctx.d && Array.isArray(ctx.d.link_candidates) ? ctx.d.link_candidates : null;
        ctx.d = r.data;
        if (keep && !r.data.link_candidates) ctx.d.link_candidates = keep;
        ctx.timeline = tl.ok ? itemsOf(tl.data) : [];
        upsertIncident(r.data);
        draw();
      })();
      try { await loading; } finally { loading = null; }
    };
    let soon = 0;
    ctx.reloadSoon = () => { clearTimeout(soon); soon = setTimeout(() => ctx.reload(), 250); };
    ctx.on('incident', (m) => { if (m.incident && m.incident.id === id) ctx.reloadSoon(); });
    ctx.on('offer', (m) => { if (m.offer && m.offer.incident_id === id) ctx.reloadSoon(); });
    ctx.on('incident_note', (m) => { if (m.note && m.note.incident_id === id) ctx.reloadSoon(); });
    ctx.on('sos_ended', (m) => { if (m.incident_id === id) ctx.reloadSoon(); });
    markSelected();
    draw();
    ctx.reload();
    return {
      update: draw,
      destroy() { clearTimeout(soon); for (const off of subs) off(); setTimeout(markSelected, 0); },
    };
  },
});

// ------------------------------------------------------------------ summary
addIncidentSection({
  order: 10,
  mount(ctx) {
    const el = block(null);
    return {
      el,
      update() {
        const d = ctx.d;
        const caller = (d.data && d.data.caller) || {};
        const record = d.data && d.data.caller_record;
        const plan = d.data && d.data.plan;
        fill(el,
          h('div', { class: 'row chips' }, chip(label('incident_status', d.status), `st-${d.status}`),
            chip(label('source', d.source), 'src'), d.sector ? chip(d.sector, 'sector') : null,
            button(t('desk.show_on_map'), () => focusOn(pointOf(d), 17), 'link small')),
          d.address ? h('div', { class: 'addr big' }, d.address) : null,
          d.description ? h('div', { class: 'narrative' }, d.description) : null,
          facts(
            [t('desk.received'), clockAgo(d.received_at || d.created_at)],
            d.verified_at ? [t('desk.verified'), clock(d.verified_at)] : null,
            d.dispatched_at ? [t('desk.dispatched'), clock(d.dispatched_at)] : null,
            d.on_scene_at ? [t('desk.on_scene'), clock(d.on_scene_at)] : null,
            d.cleared_at ? [t('desk.cleared'), clock(d.cleared_at)] : null,
            caller.name || caller.phone ? [t('desk.caller'), h('span', null, caller.name || '', caller.name && caller.phone ? ' · ' : '', telLink(caller.phone))] : null,
            d.report_count ? [t('desk.reports'), String(d.report_count)] : null,
            d.merged_into_id ? [t('desk.merged_into'), button(`#${d.merged_into_id}`, () => open('incident', d.merged_into_id), 'link small')] : null,
            plan ? [t('desk.plan'), h('span', { class: 'plan' }, plan.name, h('div', { class: 'sub' },
              t('desk.plan_units', { n: plan.units }), (plan.forward_to || []).length ? ` · ${t('desk.plan_forward', { list: plan.forward_to.join(', ') })}` : ''))] : null),
          record && (record.blocked || record.false_reports) ? h('div', { class: 'warn-text' },
            t('desk.caller_record', { n: record.false_reports || 0, s: record.strike_count || 0 }), record.blocked ? ` · ${t('desk.caller_blocked')}` : '') : null);
        const ll = pointOf(d);
        deskLayer.eachLayer((l) => { if (l.options && l.options.deskRing) deskLayer.removeLayer(l); });
        if (ll) L.circleMarker(ll, { radius: 16, color: '#101828', weight: 2, fill: false, dashArray: '3 3', interactive: false, deskRing: true }).addTo(deskLayer);
      },
    };
  },
});

// ------------------------------------------------------------------ open incidents nearby to link instead
addIncidentSection({
  order: 15,
  mount(ctx) {
    const el = block(t('desk.link_candidates'));
    return {
      el,
      update() {
        const list = Array.isArray(ctx.d.link_candidates) ? ctx.d.link_candidates.filter((c) => c.id !== ctx.d.id) : [];
        el.hidden = !list.length || ctx.d.status === 'cancelled';
        fill(el, h('h3', null, t('desk.link_candidates')), h('p', { class: 'sub' }, t('desk.link_hint')),
          list.map((c) => h('div', { class: 'row line' }, h('span', { class: `pbadge p${priorityOf(c)}` }, `P${priorityOf(c)}`),
            h('span', null, `${label('category', c.category)} #${c.id}`, c.address ? ` · ${c.address}` : ''),
            button(t('desk.link_into', { id: c.id }), async (b) => {
              b.disabled = true;
              const r = await api('POST', `/incidents/${c.id}/merge`, { other_incident_id: ctx.d.id, reason: t('desk.link_reason') });
              b.disabled = false;
              if (!r.ok) { toast(errorText(r), 'err'); return; }
              toast(t('desk.linked', { a: ctx.d.id, b: c.id }), 'ok');
              open('incident', c.id);
            }, 'primary small'))));
      },
    };
  },
});

// ------------------------------------------------------------------ units and offers
async function cancelOffer(ctx, o, b) {
  b.disabled = true;
  const r = await api('POST', `/offers/${o.id}/cancel`);
  b.disabled = false;
  if (!r.ok) toast(errorText(r), 'err'); else ctx.reload();
}

addIncidentSection({
  order: 20,
  mount(ctx) {
    const el = block(t('desk.units'));
    const backup = confirmStep({
      text: t('desk.backup'), confirmText: t('desk.backup_confirm'), cls: 'small', reason: false, placeholder: t('desk.backup_reason'),
      attrs: { id: 'backup' },
      onConfirm: async (why) => {
        const r = await api('POST', `/incidents/${ctx.d.id}/backup`, { units: 1, reason: why || null });
        if (!r.ok) { toast(errorText(r), 'err'); return false; }
        toast(t('desk.backup_sent', { n: ((r.data && r.data.offers) || []).length }), 'ok');
        ctx.reload();
        return true;
      },
    });
    return {
      el,
      update() {
        const d = ctx.d;
        const units = Array.isArray(d.units) ? d.units : [];
        const offersOf = Array.isArray(d.offers) ? d.offers : [];
        const pending = offersOf.filter((o) => o.status === 'pending');
        const past = offersOf.filter((o) => o.status !== 'pending' && o.status !== 'accepted' && o.status !== 'completed').slice(0, 4);
        const who = (oid) => { const o = officers.get(oid); return o ? `${o.d.badge}${o.d.name ? ' — ' + o.d.name : ''}` : badgeOf(oid); };
        fill(el, h('h3', null, t('desk.units')),
          units.length ? units.map((u) => h('div', { class: 'row line unit', dataset: { officer: String(u.officer_id) } },
            h('b', { class: 'unit-badge' }, who(u.officer_id)), chip(label('unit_state', u.state), `st-${u.state}`),
            h('span', { class: 'sub' }, clock(u.on_scene_at || u.en_route_at || u.dispatched_at)),
            u.welfare_missed_at ? chip(t('desk.welfare_missed'), 'fw-failed') : (u.welfare_ok_at ? chip(t('desk.welfare_ok'), 'reach-app') : null),
            timerLine(unitTimer(d, u)),
            button(t('desk.officer'), () => open('officer', u.officer_id), 'link small')))
            : (d.officer_id != null ? h('div', { class: 'row line unit', dataset: { officer: String(d.officer_id) } }, h('b', { class: 'unit-badge' }, who(d.officer_id)))
              : (pending.length ? null : h('div', { class: 'empty' }, t('desk.no_unit')))),
          d.shortfall > 0 && units.length ? h('div', { class: 'warn-text' }, t('desk.shortfall', { n: d.shortfall })) : null,
          pending.map((o) => h('div', { class: 'row line offer' }, h('b', null, badgeOf(o.officer_id)), ' ',
            label('offer_status', o.status), ' ', countdown(o.expires_at),
            button(t('desk.cancel_offer'), (b) => cancelOffer(ctx, o, b), 'small'))),
          past.length ? h('div', { class: 'sub' }, past.map((o) => `${badgeOf(o.officer_id)}: ${label('offer_status', o.status)}`).join(' · ')) : null,
          units.length && !FINAL.has(d.status) ? h('div', { class: 'actions' }, backup) : null);
      },
    };
  },
});

// ------------------------------------------------------------------ responders by ETA
async function offerTo(ctx, officerId, b) {
  b.disabled = true;
  const body = officerId == null ? {} : { officer_id: officerId };
  const r = await api('POST', `/incidents/${ctx.d.id}/dispatch`, body);
  b.disabled = false;
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  toast(t('dispatch.sent', { who: badgeOf(r.data && r.data.officer_id), id: ctx.d.id }), 'ok');
  ctx.reload();
}

async function assignByRadio(ctx, officerId, b) {
  b.disabled = true;
  const r = await api('POST', `/incidents/${ctx.d.id}/assign`, { officer_id: officerId, reason: t('dispatch.radio_reason') });
  b.disabled = false;
  if (!r.ok) { toast(errorText(r), 'err'); return; }
  toast(t('dispatch.assigned', { who: badgeOf(officerId), id: ctx.d.id }), 'ok');
  ctx.reload();
}

addIncidentSection({
  order: 30,
  mount(ctx) {
    const el = block(t('desk.responders'));
    return {
      el,
      update() {
        const d = ctx.d;
        const list = Array.isArray(d.nearest) ? [...d.nearest].sort((a, b) => num(a.eta_s) - num(b.eta_s)) : null;
        const open = WAITING.has(d.status) || d.shortfall > 0;
        el.hidden = !open || !list;
        for (const l of [...deskLayer.getLayers()]) if (l.options && l.options.responderLine) deskLayer.removeLayer(l);
        if (el.hidden) return;
        const from = pointOf(d);
        for (const x of list) {
          const to = pointOf(x);
          if (from && to) L.polyline([from, to], { color: LINE_COLOR, weight: 2, opacity: 0.75, dashArray: '6 5', interactive: false, responderLine: true }).addTo(deskLayer);
        }
        const rows = list.map((x, i) => h('tr', { dataset: { officer: String(x.officer_id), reach: x.can_offer ? 'app' : 'tracker' } },
          h('td', { class: 'num' }, String(i + 1)),
          h('td', { class: 'who', title: x.name || '' }, h('b', null, x.badge || `#${x.officer_id}`), h('div', { class: 'sub' }, label('unit_type', x.unit_type))),
          h('td', { class: 'num' }, duration(x.eta_s), h('div', { class: 'sub' }, meters(x.distance_m))),
          h('td', { title: `${x.channel ? label('channel', x.channel) : ''} · ${t('reach.age')}: ${duration(x.position_age_s)}` },
            x.can_offer ? chip(t('reach.app'), 'reach-app') : chip(t('reach.tracker'), 'reach-tracker'),
            x.stale ? chip(t('reach.stale'), 'reach-stale') : null,
            h('div', { class: 'sub' }, x.position_age_s != null ? t('reach.fix_ago', { d: duration(x.position_age_s) }) : DASH)),
          h('td', { class: 'acts' },
            x.can_offer ? button(t('dispatch.offer'), (b) => offerTo(ctx, x.officer_id, b), 'primary small offer-btn') : null,
            button(t('dispatch.radio'), (b) => assignByRadio(ctx, x.officer_id, b), (x.can_offer ? '' : 'primary ') + 'small radio-btn'))));
        fill(el, h('h3', null, t('desk.responders'), ' ', h('small', null, t('desk.by_eta'))),
          d.units_needed === 0 ? h('div', { class: 'sub' }, t('desk.no_police_unit')) : null,
          list.length ? h('table', { class: 'responders' },
            h('thead', null, h('tr', null, h('th'), h('th', null, t('nearest.officer')), h('th', { class: 'num' }, 'ETA'), h('th', null, t('nearest.reach')), h('th'))),
            h('tbody', null, rows)) : h('div', { class: 'empty' }, t('nearest.none')),
          list.some((x) => x.can_offer) ? h('div', { class: 'actions' }, button(t('dispatch.offer_nearest'), (b) => offerTo(ctx, null, b), 'small')) : null);
      },
    };
  },
});

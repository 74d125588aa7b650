/* Forwarding from the incident desk: the routing decision (GET /route: the responsible agency by category,
 * the Polsek duty picket by jurisdiction, the nearest hospitals when someone may be hurt) pre-filled with
 * its reasons, the agencies of the incident's response plan (data.plan: forward_to checked, suggest not),
 * one action that forwards, and each forward's state, the agency's deadline to acknowledge, its notes
 * (with photos) and its outcome, kept live by the `forward` and `forward_note` events. */
import { fill, h } from '../shared/dom.js';
import { api, itemsOf } from './api.js';
import { agencyByCode } from './catalogue.js';
import { clock, meters, num } from './format.js';
import { addIncidentSection } from './incident_desk.js';
import { errorText, label, t } from './lang.js';
import { forwards as seenForwards } from './state.js';
import { block, button, chip, countdown, photoButton, resultLine, toast } from './ui.js';

const CLOSED = new Set(['resolved', 'cancelled']);
const NO_ROUTE = new Set(['sos', 'officer_sos']); // no routing rules: the desk picks the police response

function forwardRow(ctx, f) {
  const notes = Array.isArray(f.notes) ? f.notes : [];
  const waiting = (f.status === 'sent' || f.status === 'pending') && f.ack_due_at;
  return h('div', { class: `forward fw-${f.status}`, dataset: { forward: String(f.id), status: f.status } },
    h('div', { class: 'row' }, h('b', null, f.agency ? f.agency.code : `#${f.agency_id}`),
      h('span', { class: 'sub' }, f.agency ? f.agency.name : ''), chip(label('forward_status', f.status), `fw-${f.status}`)),
    h('div', { class: 'sub' }, label('forward_role', f.role), ' · ', label('delivery', f.delivery),
      f.sent_at ? ` · ${t('forward.sent_at', { at: clock(f.sent_at) })}` : '',
      f.acknowledged_at ? ` · ${t('forward.acked_at', { at: clock(f.acknowledged_at) })}` : '',
      f.started_at ? ` · ${t('forward.started_at', { at: clock(f.started_at) })}` : '',
      f.closed_at ? ` · ${t('forward.closed_at', { at: clock(f.closed_at) })}` : '',
      f.include_caller_phone ? ` · ${t('forward.phone_shared')}` : ''),
    waiting ? h('div', { class: 'sub' }, t('forward.ack_due'), ' ', countdown(f.ack_due_at)) : null,
    f.outcome ? h('div', null, t('forward.outcome'), ' ', h('b', null, label('outcome', f.outcome))) : null,
    f.status === 'failed' ? h('div', { class: 'warn-text' }, f.last_error || '', ' ',
      button(t('forward.retry'), async (b) => {
        b.disabled = true;
        const r = await api('POST', `/forwards/${f.id}/retry`);
        b.disabled = false;
        if (!r.ok) toast(errorText(r), 'err'); else loadForwards(ctx);
      }, 'small')) : null,
    notes.map((n) => h('div', { class: 'agency-note' }, h('span', { class: 'meta' }, clock(n.created_at)), ' » ', n.text,
      n.photo_url ? [' ', photoButton(n.photo_url, t('evidence.photo'))] : null)));
}

async function loadForwards(ctx) {
  const r = await api('GET', `/incidents/${ctx.id}/forwards`);
  if (!ctx.alive()) return;
  ctx.forwards = r.ok ? itemsOf(r.data) : [];
  for (const f of ctx.forwards) {
    seenForwards.set(f.id, { id: f.id, incident_id: f.incident_id, agency_id: f.agency_id, agency_code: f.agency && f.agency.code, status: f.status });
  }
  ctx.forwardsError = r.ok ? '' : errorText(r);
  ctx.redraw();
}

async function loadRoute(ctx) {
  const d = ctx.d;
  if (!d || !Number.isFinite(num(d.lat)) || NO_ROUTE.has(d.category)) return;
  const q = new URLSearchParams({ category: d.category, lat: String(d.lat), lon: String(d.lon) });
  if (ctx.injured) q.set('injured', 'true');
  const r = await api('GET', `/route?${q}`);
  if (!ctx.alive()) return;
  ctx.route = r.ok ? r.data : null;
  ctx.routeError = r.ok ? '' : errorText(r);
  ctx.routeKey = `${d.category}|${d.lat}|${d.lon}|${!!ctx.injured}`;
  ctx.fw.update();
}

/** What may still be forwarded, each agency once: [{x (a target), role, routed, checked}]. */
function targetsOf(ctx) {
  const done = new Set((ctx.forwards || []).map((f) => f.agency_id));
  const out = [];
  const seen = new Set();
  const add = (x, role, routed, checked) => {
    if (!x || x.agency_id == null || done.has(x.agency_id) || seen.has(x.agency_id)) return;
    seen.add(x.agency_id);
    out.push({ x, role, routed, checked });
  };
  const route = ctx.route || {};
  for (const role of ['responsible', 'always_notify', 'hospitals']) {
    for (const x of route[role] || []) add(x, role === 'hospitals' ? 'hospital' : role, true, true);
  }
  const plan = (ctx.d && ctx.d.data && ctx.d.data.plan) || null;
  const fromPlan = (code) => { const a = agencyByCode(code); return a ? { ...a, agency_id: a.id } : null; };
  if (plan) {
    for (const code of plan.forward_to || []) add(fromPlan(code), 'plan', false, true);
    for (const code of plan.suggest || []) add(fromPlan(code), 'suggest', false, false);
  }
  return out;
}

/** The whole routing decision goes as one forward (the server routes it again and keeps each agency's role);
 * the plan's agencies, or a choice that leaves some of the decision out, go by name. */
async function send(ctx, targets, checks, extra) {
  const chosen = targets.filter(({ x }) => checks.get(x.agency_id).checked);
  const routed = targets.filter((x) => x.routed);
  const whole = routed.length && routed.every(({ x }) => checks.get(x.agency_id).checked);
  const calls = [];
  if (whole) calls.push({ ...extra });
  const named = chosen.filter((c) => !(whole && c.routed)).map(({ x }) => x.agency_id);
  if (named.length) calls.push({ ...extra, agency_ids: named });
  const made = [];
  for (const body of calls) {
    const r = await api('POST', `/incidents/${ctx.d.id}/forwards`, body);
    if (!r.ok) return { error: errorText(r), made };
    made.push(...((r.data && r.data.forwards) || []).filter((f) => (r.data.created || []).includes(f.id)));
  }
  return { made };
}

addIncidentSection({
  order: 35,
  mount(ctx) {
    ctx.forwards = [];
    ctx.injured = !!(ctx.d && ctx.d.data && ctx.d.data.injured);
    const list = h('div', { class: 'forwards', id: 'forward-list' });
    const decision = h('div', { class: 'route', id: 'route' });
    const note = h('textarea', { rows: 1, maxlength: 1000, placeholder: t('forward.note_placeholder'), id: 'forward-note' });
    const injured = h('input', { type: 'checkbox', id: 'forward-injured', checked: ctx.injured });
    const phone = h('input', { type: 'checkbox', id: 'forward-phone' });
    const result = resultLine();
    const checks = new Map(); // agency_id -> checkbox (kept across redraws)
    let targets = [];
    const go = button(t('forward.go'), async (b) => {
      const shown = targets.filter(({ x }) => checks.get(x.agency_id));
      if (!shown.some(({ x }) => checks.get(x.agency_id).checked)) { result.set(t('forward.none_chosen'), 'err'); return; }
      b.disabled = true;
      const out = await send(ctx, shown, checks, { note: note.value.trim() || null, injured: ctx.injured || null, include_caller_phone: phone.checked });
      b.disabled = false;
      if (out.error) result.set(out.error, 'err');
      else {
        note.value = '';
        result.set(t('forward.done', { n: out.made.length }), 'ok');
        toast(t('forward.done_toast', { id: ctx.d.id, list: out.made.map((f) => f.agency && f.agency.code).filter(Boolean).join(', ') }), 'ok');
      }
      await loadForwards(ctx);
      ctx.reload();
    }, 'primary', { id: 'forward-go' });
    injured.addEventListener('change', () => { ctx.injured = injured.checked; loadRoute(ctx); });
    const el = block(t('forward.title'), list, decision, result.el);
    ctx.fw = {
      update() {
        const d = ctx.d;
        if (!d) return;
        el.hidden = NO_ROUTE.has(d.category) && !(ctx.forwards || []).length;
        if (el.hidden) return;
        fill(list, (ctx.forwards || []).map((f) => forwardRow(ctx, f)),
          ctx.forwardsError ? h('div', { class: 'unavailable' }, ctx.forwardsError) : null);
        const key = `${d.category}|${d.lat}|${d.lon}|${!!ctx.injured}`;
        if (ctx.routeKey !== undefined && ctx.routeKey !== key && !ctx.routing) { ctx.routing = true; loadRoute(ctx).finally(() => { ctx.routing = false; }); }
        if (CLOSED.has(d.status)) { fill(decision); return; }
        if (ctx.routeError) { fill(decision, h('div', { class: 'unavailable' }, ctx.routeError)); return; }
        if (!ctx.route) { fill(decision, h('div', { class: 'empty' }, t('panel.loading'))); return; }
        targets = targetsOf(ctx);
        const rows = targets.map(({ x, role, checked }) => {
          let c = checks.get(x.agency_id);
          if (!c) {
            c = h('input', { type: 'checkbox', value: String(x.agency_id), dataset: { code: x.code } });
            c.checked = checked;
            checks.set(x.agency_id, c);
          }
          return h('label', { class: 'target', dataset: { agency: x.code, role } }, c, h('span', { class: 'tname' }, h('b', null, x.code), ' ', x.name,
            h('div', { class: 'sub' }, label('forward_role', role), x.distance_m != null && role === 'hospital' ? ` · ${meters(x.distance_m)}` : '',
              x.phone ? ` · ${x.phone}` : '')));
        });
        const sector = ctx.route.sector;
        const plan = d.data && d.data.plan;
        fill(decision,
          h('div', { class: 'sub' }, t('forward.decision'), sector ? ` · ${t('forward.sector', { name: sector.name })}` : '',
            plan ? ` · ${t('forward.plan', { name: plan.name })}` : ''),
          rows.length ? rows : h('div', { class: 'empty' }, (ctx.forwards || []).length ? t('forward.all_sent') : t('forward.no_targets')),
          h('details', { class: 'reasons' }, h('summary', null, t('forward.reasons', { n: (ctx.route.reasons || []).length })),
            h('ul', null, (ctx.route.reasons || []).map((why) => h('li', null, why)))),
          h('label', { class: 'toggle' }, injured, ' ', t('forward.injured')),
          rows.length ? [h('label', { class: 'toggle' }, phone, ' ', t('forward.include_phone')), note, h('div', { class: 'actions' }, go)] : null);
      },
    };
    ctx.on('forward', (m) => { if (m.forward && m.forward.incident_id === ctx.id) loadForwards(ctx); });
    ctx.on('forward_note', (m) => { if (m.note && m.note.incident_id === ctx.id) loadForwards(ctx); });
    loadForwards(ctx);
    let routed = false;
    return {
      el,
      update() {
        if (!routed && ctx.d && ctx.d.category) { routed = true; loadRoute(ctx); }
        ctx.fw.update();
      },
    };
  },
});

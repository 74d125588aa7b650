/* An SOS on the incident desk: the caller's phone as a call-back link, the live trail of the caller's
 * phone on the map (GET /sos/{id}, then every move of the incident), the end of the call (`sos_ended`:
 * the incident stays open) and ending it from the desk. An officer's SOS shows their badge. */
import { fill, h } from '../shared/dom.js';
import { api } from './api.js';
import { open } from './bus.js';
import { clock, num, pointOf } from './format.js';
import { addIncidentSection } from './incident_desk.js';
import { errorText, t } from './lang.js';
import { deskLayer } from './layers.js';
import { block, button, confirmStep, facts, telLink, toast } from './ui.js';

const TRAIL = { color: '#d92d20', weight: 3, opacity: 0.85, interactive: false };

addIncidentSection({
  order: 12,
  mount(ctx) {
    const el = block(null);
    let sos = null;
    let trail = null;
    let loadedFor = null;
    const drawTrail = (points) => {
      if (!trail) trail = L.polyline([], TRAIL).addTo(deskLayer);
      trail.setLatLngs(points);
    };
    const load = async (sosId) => {
      const r = await api('GET', `/sos/${sosId}`);
      if (!ctx.alive() || !r.ok) return;
      sos = r.data;
      drawTrail((sos.trail || []).map((p) => [num(p.lat), num(p.lon)]));
      draw();
    };
    const end = confirmStep({
      text: t('sos.end'), confirmText: t('sos.end_confirm'), reason: false, cls: 'small danger', placeholder: t('sos.end_reason'),
      onConfirm: async (why) => {
        const r = await api('POST', `/sos/${sos.sos_id}/end`, why ? { reason: why } : {});
        if (!r.ok) { toast(errorText(r), 'err'); return false; }
        sos = r.data;
        draw();
        return true;
      },
    });
    const draw = () => {
      const d = ctx.d;
      const data = d.data || {};
      const isCitizen = d.source === 'sos';
      const isOfficer = d.source === 'officer_sos';
      el.hidden = !isCitizen && !isOfficer;
      if (el.hidden) return;
      el.classList.add('sos-box');
      if (isOfficer) {
        fill(el, h('h3', null, h('span', { class: 'sos' }, 'SOS'), ' ', t('sos.officer')),
          facts([t('desk.officer'), button(data.badge || `#${data.officer_id}`, () => open('officer', data.officer_id), 'link')]));
        return;
      }
      const caller = data.caller || {};
      const ended = sos && sos.ended_at;
      fill(el, h('h3', null, h('span', { class: 'sos' }, 'SOS'), ' ', t('sos.citizen')),
        h('div', { class: 'callback' }, caller.phone ? telLink(caller.phone) : h('span', { class: 'sub' }, t('sos.no_phone')),
          caller.name ? h('span', null, ` · ${caller.name}`) : null),
        facts(
          [t('sos.state'), ended ? h('span', { class: 'warn-text' }, t('sos.ended_at', { at: clock(sos.ended_at) }), sos.end_reason ? ` — ${sos.end_reason}` : '')
            : h('b', { class: 'live' }, t('sos.active'))],
          sos ? [t('sos.trail'), h('span', { id: 'sos-trail' }, t('sos.points', { n: trail ? trail.getLatLngs().length : (sos.trail || []).length }))] : null,
          data.accuracy_m != null ? [t('sos.accuracy'), `± ${Math.round(num(data.accuracy_m))} m`] : null),
        sos && !ended && d.status !== 'resolved' && d.status !== 'cancelled' ? h('div', { class: 'actions' }, end) : null);
    };
    // the incident follows the caller's newest fix: each move extends the trail
    ctx.on('incident', (m) => {
      const d = m.incident;
      if (!d || d.id !== ctx.id || !trail || (sos && sos.ended_at)) return;
      const ll = pointOf(d);
      const pts = trail.getLatLngs();
      const last = pts[pts.length - 1];
      if (ll && (!last || last.lat !== ll[0] || last.lng !== ll[1])) { trail.addLatLng(ll); draw(); }
    });
    ctx.on('sos_ended', (m) => { if (m.incident_id === ctx.id && sos) load(sos.sos_id); });
    return {
      el,
      update() {
        const data = ctx.d.data || {};
        if (ctx.d.source === 'sos' && data.sos_id != null && loadedFor !== data.sos_id) { loadedFor = data.sos_id; load(data.sos_id); }
        draw();
      },
    };
  },
});

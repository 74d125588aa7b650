/* An officer in the desk column: who they are, their unit, duty status (changeable), last fix, battery,
 * the incident they hold, and the replay of their track over a chosen time range (tracks.js). */
import { fill, h } from '../shared/dom.js';
import { LOW_BATTERY } from './config.js';
import { api } from './api.js';
import { on, open } from './bus.js';
import { registerView } from './desk.js';
import { DASH, clockAgo, num, pointOf } from './format.js';
import { unitBadges } from './incidents.js';
import { errorText, label, t } from './lang.js';
import { deskLayer, focusOn } from './layers.js';
import { presenceOf, setOfficer, staleText } from './officers.js';
import { incidents, officers } from './state.js';
import { trackTime } from './track_range.js';
import { trackPlayer } from './tracks.js';
import { block, button, chip, facts, field, select, toast } from './ui.js';

function holding(officerId) {
  const out = [];
  for (const it of incidents.values()) if (unitBadges(it.d).some((u) => u.officer_id === officerId)) out.push(it.d);
  return out;
}

registerView('officer', {
  mount(ctx) {
    const id = ctx.id;
    const info = block(null);
    const status = select(['available', 'busy', 'off_duty'].map((s) => [s, label('officer_status', s)]), '', { id: 'officer-status' });
    status.addEventListener('change', async () => {
      const r = await api('PUT', `/officers/${id}/status`, { status: status.value });
      if (!r.ok) { toast(errorText(r), 'err'); draw(); return; }
      setOfficer(id, { status: r.data.status });
      toast(t('officer.status_set', { badge: r.data.badge, status: label('officer_status', r.data.status) }), 'ok');
      draw();
    });
    const range = trackTime();
    const replayBox = h('div', { class: 'replay' });
    const player = trackPlayer(replayBox);
    const show = button(t('track.show'), async (b) => {
      const [since, until] = range.value();
      if (!(since < until)) { toast(t('track.bad_range'), 'err'); return; }
      b.disabled = true;
      const n = await player.load(id, since, until);
      b.disabled = false;
      if (n > 1) player.start();
    }, 'primary small', { id: 'track-show' });
    const replay = block(t('track.title'), range.el, h('div', { class: 'actions' }, show), replayBox);
    ctx.body.append(info, replay);

    let last = null;
    const draw = () => {
      const o = officers.get(id);
      const d = o ? o.d : last;
      if (!d) { fill(info, h('div', { class: 'empty' }, t('panel.loading'))); return; }
      last = d;
      ctx.setTitle(d.badge || `#${id}`, d.name ? h('small', null, ` ${d.name}`) : '');
      const battery = num(d.battery_pct);
      const low = d.low_battery === true || (Number.isFinite(battery) && battery < LOW_BATTERY);
      const speed = num(d.speed_mps);
      if (document.activeElement !== status) status.value = d.status || '';
      const held = holding(id);
      fill(info,
        h('div', { class: 'row chips' }, chip(label('officer_status', d.status), `os-${d.status}`),
          chip(label('unit_type', d.unit_type), 'unit'), presenceChip(d),
          pointOf(d) ? button(t('desk.show_on_map'), () => focusOn(pointOf(d), 17), 'link small') : null),
        facts(
          d.sector ? [t('officer.sector'), d.sector] : null,
          [t('officer.last_fix'), clockAgo(d.recorded_at)],
          [t('officer.speed'), Number.isFinite(speed) ? t('speed.kmh', { v: (speed * 3.6).toFixed(0) }) : DASH],
          [t('officer.battery'), h('span', { class: low ? 'warn-text' : null }, Number.isFinite(battery) ? `${Math.round(battery)}%` : DASH, low ? ` ⚠ ${t('officer.low_battery')}` : '')],
          held.length ? [t('officer.holding'), held.map((x) => button(`#${x.id} ${label('category', x.category)}`, () => open('incident', x.id), 'link small'))] : null),
        field(t('officer.set_status'), status));
      deskLayer.clearLayers();
      const ll = pointOf(d);
      if (ll) L.circleMarker(ll, { radius: 13, color: '#101828', weight: 2, fill: false, dashArray: '3 3', interactive: false }).addTo(deskLayer);
    };
    draw();
    if (!officers.has(id)) {
      api('GET', '/officers').then((r) => {
        if (!ctx.alive() || !r.ok) return;
        last = (Array.isArray(r.data) ? r.data : []).find((x) => x.id === id) || null;
        draw();
      });
    }
    const offs = [
      on('status', (m) => { if (m.officer_id === id) draw(); }),
      on('presence', (m) => { if (m.officer_id === id) draw(); }),
      on('positions', (m) => { if ((m.positions || []).some((p) => p.officer_id === id)) draw(); }),
    ];
    return { destroy() { for (const off of offs) off(); player.clear(); } };
  },
});

/** online / stale with the age of its fix / offline. */
function presenceChip(d) {
  const presence = presenceOf(d);
  if (presence === 'offline') return chip(t('officer.offline'), 'off');
  if (presence === 'stale') return chip(staleText(d), 'stale');
  return chip(t('officer.online'), 'on');
}

/* Alerts (an officer's distress button, a citizen's SOS, low battery ...): markers, popup, the beep and
 * toast of a new one, acknowledging, and the catch-up load of the open ones. */
import { h } from '../shared/dom.js';
import { PATTERNS, audioRunning, tones } from '../shared/sound.js';
import { api, getSession, itemsOf } from './api.js';
import { clockAgo, hasPoint, isDistress, num } from './format.js';
import { alertLayer } from './layers.js';
import { badgeOf } from './officers.js';
import { alerts, currentSeq, dirty, nextSeq, officers, panels } from './state.js';
import { bi, dual, t } from './strings.js';
import { button, toast } from './ui.js';

/** A red "SOS" tag for a distress alert, else ⚠. */
export const alertTag = (d) => (isDistress(d) ? h('span', { class: 'sos' }, 'SOS') : '⚠');

/** Where to show an alert: its own point, else its officer's marker. */
export function alertPoint(d) {
  if (hasPoint(d)) return [num(d.lat), num(d.lon)];
  const o = d.officer_id != null ? officers.get(d.officer_id) : null;
  return o && o.m ? o.m.getLatLng() : null;
}

/** The "Konfirmasi · acknowledge" button of an alert (its popup and its list item). */
export const ackButton = (id) => button(bi('alert.ack'), (b) => ackAlert(id, b), 'primary');

function alertPopup(a) {
  const d = a.d;
  return h('div', { class: 'pop' },
    h('h3', { class: isDistress(d) ? 'warn' : null }, alertTag(d), ' ', d.kind || t('alert.fallback')),
    h('div', { class: 'desc' }, d.message || ''),
    h('dl', null,
      d.officer_id != null ? [h('dt', null, bi('alert.officer')), h('dd', null, badgeOf(d.officer_id))] : null,
      h('dt', null, bi('alert.time')), h('dd', null, clockAgo(d.created_at))),
    h('div', { class: 'actions' }, ackButton(d.id)));
}

/** A new or changed alert; `live` (from the socket, not a reload): a new one beeps (SOS) and toasts. */
export function upsertAlert(d, live) {
  if (!d || d.id == null) return;
  if (d.acknowledged_at) { removeAlert(d.id); return; }
  let a = alerts.get(d.id);
  const isNew = !a;
  if (!a) { a = { d: {}, m: null, seq: 0 }; alerts.set(d.id, a); }
  Object.assign(a.d, d);
  a.seq = nextSeq();
  const ll = alertPoint(a.d);
  if (ll && !a.m) {
    a.m = L.marker(ll, {
      icon: L.divIcon({ className: 'alert-marker', html: isDistress(a.d) ? '<div class="alert-icon"></div>' : '<div class="alert-icon minor">!</div>', iconSize: [22, 22] }),
      zIndexOffset: 2000, title: a.d.kind || t('alert.fallback'),
    }).bindPopup(() => alertPopup(a)).addTo(alertLayer);
  } else if (ll && a.m) {
    a.m.setLatLng(ll);
  }
  if (live && isNew) {
    if (isDistress(a.d)) {
      if (audioRunning()) tones(PATTERNS.alert);
      toast(`SOS — ${a.d.message || a.d.kind}`, 'err', 10000);
    } else {
      toast(`⚠ ${a.d.message || a.d.kind}`, '');
    }
  }
  dirty('alerts');
}

export function removeAlert(id) {
  const a = alerts.get(id);
  if (!a) return;
  if (a.m) alertLayer.removeLayer(a.m);
  alerts.delete(id);
  dirty('alerts');
}

async function ackAlert(id, btn) {
  btn.disabled = true;
  const r = await api('POST', `/alerts/${encodeURIComponent(id)}/ack`);
  btn.disabled = false;
  if (r.ok) { removeAlert(id); toast(dual('alert.acked'), 'ok'); }
  else {
    toast(r.missing ? dual('alert.ack_missing') : r.message, 'err');
    if (r.status === 404 && !r.missing) loadAlerts(); // gone on the server: resynchronise the list
  }
}

/** The open alerts from the API: drops the ones acknowledged elsewhere while the page was away. */
export async function loadAlerts() {
  const started = currentSeq();
  const r = await api('GET', '/alerts');
  if (!getSession() || r.status === 401) return;
  if (r.ok) {
    const list = itemsOf(r.data);
    const ids = new Set(list.map((d) => d.id));
    for (const [id, a] of [...alerts]) if (!ids.has(id) && a.seq <= started) removeAlert(id);
    for (const d of list) upsertAlert(d, false);
    panels.alerts = 'ok';
  } else {
    panels.alerts = r.missing ? 'missing' : 'error';
    panels.alertsError = r.message;
  }
  dirty('alerts');
}

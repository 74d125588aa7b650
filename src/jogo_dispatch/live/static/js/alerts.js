/* Alerts (an officer's distress button, a citizen's SOS, offers nobody took, forwards an agency did not
 * acknowledge ...): markers, the beep and toast of a new one, acknowledging, and the catch-up load. */
import { PATTERNS, audioRunning, tones } from '../shared/sound.js';
import { api, getSession, itemsOf } from './api.js';
import { open } from './bus.js';
import { hasPoint, isDistress, num } from './format.js';
import { errorText, label, t } from './lang.js';
import { alertLayer } from './layers.js';
import { alerts, currentSeq, dirty, nextSeq, officers, panels } from './state.js';
import { button, toast } from './ui.js';

/** Where to show an alert: its own point, else its officer's marker. */
export function alertPoint(d) {
  if (hasPoint(d)) return [num(d.lat), num(d.lon)];
  const o = d.officer_id != null ? officers.get(d.officer_id) : null;
  return o && o.m ? o.m.getLatLng() : null;
}

/** An alert leads to its incident (desk), else its officer. */
export function openAlert(d) {
  if (d.incident_id != null) open('incident', d.incident_id);
  else if (d.officer_id != null) open('officer', d.officer_id);
}

/** The "Konfirmasi" button of an alert. */
export const ackButton = (id) => button(t('alert.ack'), (b) => ackAlert(id, b), 'primary small');

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
      zIndexOffset: 2000, keyboard: false,
    }).bindTooltip(() => label('alert_kind', a.d.kind), { direction: 'top' })
      .on('click', () => openAlert(a.d))
      .addTo(alertLayer);
  } else if (ll && a.m) {
    a.m.setLatLng(ll);
  }
  if (live && isNew) {
    if (isDistress(a.d)) {
      if (audioRunning()) tones(PATTERNS.alert);
      toast(`SOS — ${label('alert_kind', a.d.kind)}: ${a.d.message || ''}`, 'err', 10000);
    } else {
      toast(`⚠ ${label('alert_kind', a.d.kind)}: ${a.d.message || ''}`, '');
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
  if (r.ok) { removeAlert(id); toast(t('alert.acked'), 'ok'); }
  else {
    toast(errorText(r), 'err');
    if (r.status === 404) loadAlerts(); // gone on the server: resynchronise the list
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

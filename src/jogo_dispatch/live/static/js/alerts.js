/* Alerts (an officer's distress button, a citizen's SOS, offers nobody took, forwards an agency did not
 * acknowledge ...): markers, the beep and toast of a new one, acknowledging, and the catch-up load.
 *
 * An officer in danger (the panic button or Traccar's SOS, "need help" on a welfare check, a welfare check
 * nobody answered) and a citizen's SOS sound an alarm over and over and keep a flashing banner over the map,
 * on every dispatcher's page and after a reload, until somebody acknowledges them; backup requests stand in
 * the same banner (amber, one beep) so nobody misses an officer asking for more units. */
import { $, fill, h } from '../shared/dom.js';
import { PATTERNS, audioRunning, tones } from '../shared/sound.js';
import { api, getSession, itemsOf } from './api.js';
import { open } from './bus.js';
import { clock, hasPoint, isDistress, num } from './format.js';
import { errorText, label, onLangChange, t } from './lang.js';
import { alertLayer, focusOn } from './layers.js';
import { badgeOf } from './officers.js';
import { alerts, currentSeq, dirty, nextSeq, officers, panels } from './state.js';
import { button, toast } from './ui.js';

const ALARM_EVERY_MS = 2500;

/** A citizen's SOS (Sergap's one-press button): someone is calling for help right now. */
export const isCitizenSos = (d) => isDistress(d) && /citizen/i.test(String(d.kind || ''));
/** An officer in danger: every other distress alert. */
export const isOfficerDanger = (d) => isDistress(d) && !isCitizenSos(d);
export const isBackup = (d) => /backup/i.test(String((d && d.kind) || ''));

function markerHtml(d) {
  if (isOfficerDanger(d)) return '<div class="alert-icon danger">!</div>';
  if (isDistress(d)) return '<div class="alert-icon"></div>';
  if (isBackup(d)) return '<div class="alert-icon backup">+</div>';
  return '<div class="alert-icon minor">!</div>';
}

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
      icon: L.divIcon({ className: 'alert-marker', html: markerHtml(a.d), iconSize: isOfficerDanger(a.d) ? [30, 30] : [22, 22] }),
      zIndexOffset: isOfficerDanger(a.d) ? 3000 : 2000, keyboard: false,
    }).bindTooltip(() => label('alert_kind', a.d.kind), { direction: 'top' })
      .on('click', () => openAlert(a.d))
      .addTo(alertLayer);
  } else if (ll && a.m) {
    a.m.setLatLng(ll);
  }
  if (live && isNew) {
    if (isOfficerDanger(a.d)) {
      if (audioRunning()) tones(PATTERNS.alarm);
    } else if (isDistress(a.d)) {
      if (audioRunning()) tones(PATTERNS.alert);
      toast(`SOS — ${label('alert_kind', a.d.kind)}: ${a.d.message || ''}`, 'err', 10000);
    } else if (isBackup(a.d)) {
      if (audioRunning()) tones(PATTERNS.alert);
    } else {
      toast(`⚠ ${label('alert_kind', a.d.kind)}: ${a.d.message || ''}`, '');
    }
  }
  renderAlarm();
  dirty('alerts');
}

export function removeAlert(id) {
  const a = alerts.get(id);
  if (!a) return;
  if (a.m) alertLayer.removeLayer(a.m);
  alerts.delete(id);
  renderAlarm();
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

// ------------------------------------------------------------------ the alarm: banner over the map, repeated sound
const STYLE = `
#alarm-banner { position: absolute; top: 8px; left: 50%; transform: translateX(-50%); z-index: 1100;
  width: min(760px, calc(100% - 120px)); display: flex; flex-direction: column; gap: 6px; pointer-events: auto; }
#alarm-banner .alarm-row { display: flex; align-items: center; gap: 10px; padding: 8px 12px; border-radius: 8px;
  box-shadow: 0 4px 16px rgba(0, 0, 0, .35); font: 600 13px/1.35 system-ui, sans-serif; color: #fff; }
#alarm-banner .alarm-row.danger { background: #d92d20; border: 2px solid #fff; animation: alarm-flash .7s steps(2) infinite; }
#alarm-banner .alarm-row.backup { background: #fffaeb; color: #93370d; border: 2px solid #f79009; }
#alarm-banner .alarm-text { flex: 1; min-width: 0; }
#alarm-banner .alarm-text b { display: block; font-size: 15px; letter-spacing: .03em; }
#alarm-banner .alarm-text span { display: block; }
#alarm-banner .alarm-text small { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden;
  font-weight: 500; color: inherit; opacity: .92; }
#alarm-banner .alarm-row button { flex: none; }
#alarm-banner .alarm-row.danger button { background: #fff; color: #912018; border-color: #fff; }
#alarm-banner .alarm-mute { align-self: center; background: #101828; color: #fff; padding: 4px 10px; border-radius: 6px;
  font: 600 12px system-ui, sans-serif; }
@keyframes alarm-flash { 50% { background: #7a271a; } }
.alert-icon.danger { width: 30px; height: 30px; color: #fff; font: 800 16px/24px system-ui, sans-serif; text-align: center;
  animation: pulse .8s ease-out infinite; }
.alert-icon.backup { background: #fff; border: 3px solid #dc6803; animation: none; color: #b54708;
  font: 800 15px/16px system-ui, sans-serif; text-align: center; }
@media (prefers-reduced-motion: reduce) { #alarm-banner .alarm-row.danger { animation: none; } }
`;

let banner = null;
let muteShown = false;  // the banner says the sound is off
function bannerEl() {
  if (banner && banner.isConnected) return banner;
  const host = $('map');
  if (!host) return null;
  if (!$('alarm-style')) document.head.append(h('style', { id: 'alarm-style' }, STYLE));
  banner = h('div', { id: 'alarm-banner', role: 'alert', 'aria-live': 'assertive', hidden: true });
  // clicks and wheel turns on the banner are not the map's (no pin placed, no zoom)
  if (window.L && L.DomEvent) { L.DomEvent.disableClickPropagation(banner); L.DomEvent.disableScrollPropagation(banner); }
  host.append(banner);
  return banner;
}

// Both sound again and again until acknowledged; the officer's first.
const dangerAlerts = () => {
  const all = [...alerts.values()].map((a) => a.d);
  return [...all.filter(isOfficerDanger), ...all.filter(isCitizenSos)];
};
const backupAlerts = () => [...alerts.values()].map((a) => a.d).filter(isBackup);

/** "2 unit diminta, 1 dipanggil" from a backup alert's data. */
function backupText(d) {
  const data = d.data || {};
  if (!isBackup(d) || data.units == null) return '';
  return t('alarm.backup_units', { n: data.units, offered: data.offered != null ? data.offered : '?' });
}

function alarmRow(d, cls) {
  const oid = d.officer_id != null ? d.officer_id : (d.data || {}).officer_id;  // backup: the asking officer
  const who = oid != null ? badgeOf(oid) : '';
  const where = d.incident_id != null ? `#${d.incident_id}` : '';
  const heading = cls !== 'danger' ? t('alarm.backup') : (isCitizenSos(d) ? t('alarm.citizen_sos') : t('alarm.officer_danger'));
  const kind = label('alert_kind', d.kind);  // "SOS WARGA" needs no "— SOS warga" after it
  return h('div', { class: `alarm-row ${cls}`, dataset: { alertId: String(d.id), kind: d.kind || '' } },
    h('div', { class: 'alarm-text' },
      h('b', null, heading, kind.toLowerCase() === heading.toLowerCase() ? '' : ` — ${kind}`),
      h('span', null, [who, where, clock(d.created_at), backupText(d)].filter(Boolean).join(' · ')),
      d.message ? h('small', null, d.message) : null),
    button(t('alarm.show'), () => { openAlert(d); focusOn(alertPoint(d), 17); }, 'small'),
    button(t('alert.ack'), (b) => ackAlert(d.id, b), 'primary small'));
}

/** The banner as the open alerts stand; called on every change and every language switch. */
export function renderAlarm() {
  const el = bannerEl();
  if (!el) return;
  const danger = dangerAlerts();
  const backup = backupAlerts();
  el.hidden = !danger.length && !backup.length;
  document.body.classList.toggle('alarm-on', danger.length > 0);
  muteShown = danger.length > 0 && !audioRunning();
  fill(el,
    danger.map((d) => alarmRow(d, 'danger')),
    backup.map((d) => alarmRow(d, 'backup')),
    muteShown ? h('div', { class: 'alarm-mute' }, t('alarm.sound_off')) : null);
  el.dataset.danger = String(danger.length);
  el.dataset.backup = String(backup.length);
}

// Sounds again and again while an officer is in danger and nobody has acknowledged it. A page opened
// without a tap yet cannot play sound: the banner says so, and the first click anywhere starts it.
setInterval(() => {
  if (!getSession() || !dangerAlerts().length) return;
  const running = audioRunning();
  if (running) tones(PATTERNS.alarm);
  if (running === muteShown) renderAlarm();
}, ALARM_EVERY_MS);
onLangChange(() => renderAlarm());

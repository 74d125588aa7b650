/* Times in the configured zone (WIB by default) against the server's clock, distances, and reading the
 * API's values. */
import { toDate, validZone, zoneAbbr } from '../shared/time.js';
import { CFG } from './config.js';
import { t } from './lang.js';

export { toDate };
export const DASH = '—';

const TZ = validZone(CFG.timezone || 'Asia/Jakarta');
const TZ_ABBR = zoneAbbr(TZ) || (TZ === 'UTC' ? 'UTC' : '');
const fmtTime = new Intl.DateTimeFormat('id-ID', {
  timeZone: TZ, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});
const fmtDay = new Intl.DateTimeFormat('id-ID', { timeZone: TZ, day: 'numeric', month: 'short' });

let skewMs = 0; // server clock minus ours
export const serverNow = () => Date.now() + skewMs;
/** Every live message carries server_time: keep our clock in step with it. */
export function noteServerTime(v) {
  const d = toDate(v);
  if (d) skewMs = d.getTime() - Date.now();
}

/** "14.18.25 WIB", with the day in front when it is not today. */
export function clock(v) {
  const d = toDate(v);
  if (!d) return DASH;
  const sameDay = fmtDay.format(d) === fmtDay.format(new Date(serverNow()));
  return (sameDay ? '' : fmtDay.format(d) + ' ') + fmtTime.format(d) + (TZ_ABBR ? ' ' + TZ_ABBR : '');
}

/** "12 dtk lalu", "3 mnt lalu", ... */
export function ago(v) {
  const d = toDate(v);
  if (!d) return '';
  const s = Math.max(0, Math.round((serverNow() - d.getTime()) / 1000));
  if (s < 60) return t('ago.seconds', { n: s });
  if (s < 3600) return t('ago.minutes', { n: Math.floor(s / 60) });
  if (s < 86400) return t('ago.hours', { n: Math.floor(s / 3600) });
  return t('ago.days', { n: Math.floor(s / 86400) });
}
export const clockAgo = (v) => { const a = ago(v); return a ? `${clock(v)} (${a})` : clock(v); };

/** "350 m", "1,2 km" */
export function meters(v) {
  const m = num(v);
  if (!Number.isFinite(m)) return DASH;
  if (m < 1000) return `${Math.round(m)} m`;
  return `${(m / 1000).toFixed(m < 10000 ? 1 : 0).replace('.', ',')} km`;
}

/** An ETA or a wait in seconds: "45 dtk", "3 mnt", "1 j 5 mnt". */
export function duration(v) {
  const s = num(v);
  if (!Number.isFinite(s)) return DASH;
  if (s < 60) return t('dur.seconds', { n: Math.round(s) });
  if (s < 3600) return t('dur.minutes', { n: Math.round(s / 60) });
  return t('dur.hours', { h: Math.floor(s / 3600), m: Math.round((s % 3600) / 60) });
}

export const num = (v) => (v == null || v === '' ? NaN : Number(v));
export const hasPoint = (d) => d && Number.isFinite(num(d.lat)) && Number.isFinite(num(d.lon));
export const pointOf = (d) => (hasPoint(d) ? [num(d.lat), num(d.lon)] : null);
export const priorityOf = (d) => Math.min(5, Math.max(1, Math.round(num(d && d.priority)) || 3));
export const isDistress = (a) => /distress|sos|panic|emergency|darurat|needs_help|welfare_check_missed/i.test(String((a && a.kind) || ''));

/** A Date as the value of an <input type="datetime-local"> in this browser's zone. */
export function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/* Shared by /map and /app: the configured time zone (WIB by default) and reading the server's timestamps. */

/** The zone if this browser knows it, else UTC. */
export function validZone(tz) {
  try { new Intl.DateTimeFormat('id-ID', { timeZone: tz }); return tz; } catch (e) { return 'UTC'; }
}

const ABBR = { 'Asia/Jakarta': 'WIB', 'Asia/Pontianak': 'WIB', 'Asia/Makassar': 'WITA', 'Asia/Jayapura': 'WIT' };
/** WIB / WITA / WIT for the Indonesian zones, else ''. */
export const zoneAbbr = (tz) => ABBR[tz] || '';

/** An ISO string, epoch seconds or epoch milliseconds as a Date; null when missing or unreadable. */
export function toDate(v) {
  if (v == null || v === '') return null;
  const d = typeof v === 'number' ? new Date(v < 1e12 ? v * 1000 : v) : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/* The live map's settings (from the page's #jogo-config, see live/page.py) and fixed tunables. */
import { CFG } from '../shared/dom.js';

export { CFG };
export const API = CFG.api_base || '/api/v1';
export const LIVE_PATH = CFG.live_path || '/api/v1/live';
export const LOW_BATTERY = Number.isFinite(CFG.low_battery_pct) ? CFG.low_battery_pct : 15;
/** The server's safety and queue timers (seconds), for the countdowns (timers.js). */
export const TIMERS = CFG.timers || {};
export const SESSION_KEY = 'jogo.live.session';
export const WATCHDOG_MS = 45000;       // the server sends a heartbeat every 15 s
export const ANIM_MS = 900;             // marker glide between two fixes
export const VIEWPORT_DEBOUNCE_MS = 300;
export const PANEL_REFRESH_MS = 30000;  // re-render the lists: their "… lalu" times move on
export const KPI_REFRESH_MS = 60000;
export const FAR_REPORTER_M = 500;      // a reporter's phone this far from the reported place is flagged

/** Officer duty statuses: marker colour (the label is label('officer_status', code)). */
export const STATUS = {
  available: { color: '#2e9d47' },
  busy: { color: '#f08c00' },
  off_duty: { color: '#8a8f98' },
};
export const UNKNOWN_STATUS = { color: '#5b6b8c' };
export const UNIT_TYPES = ['car', 'motorbike', 'foot'];
export const INCIDENT_COLOR = '#d92d20';
export const REPORT_COLOR = '#7a5af8';
export const LINE_COLOR = '#1f5fbf';
export const SECTOR_COLOR = '#3b4a6b';
export const TRACK_COLOR = '#c11574';
export const CLOSED_INCIDENT = new Set(['resolved', 'cancelled', 'canceled', 'closed']);
/** Sources a dispatcher takes an incident from (POST /incidents). */
export const DESK_SOURCES = ['phone', 'radio', 'walk_in', 'officer', 'other'];

/* The live map's settings (from the page's #jogo-config, see live/page.py) and fixed tunables. */
import { CFG } from '../shared/dom.js';

export { CFG };
export const API = CFG.api_base || '/api/v1';
export const LIVE_PATH = CFG.live_path || '/api/v1/live';
export const LOW_BATTERY = Number.isFinite(CFG.low_battery_pct) ? CFG.low_battery_pct : 15;
export const SESSION_KEY = 'jogo.live.session';
export const WATCHDOG_MS = 45000;       // the server sends a heartbeat every 15 s
export const ANIM_MS = 900;             // marker glide between two fixes
export const VIEWPORT_DEBOUNCE_MS = 300;
export const PANEL_REFRESH_MS = 30000;  // re-render the lists: their "… lalu" times move on

/** Officer duty statuses: marker colour and the strings.js key of the label. */
export const STATUS = {
  available: { color: '#2e9d47', label: 'status.available' },
  busy: { color: '#f08c00', label: 'status.busy' },
  off_duty: { color: '#8a8f98', label: 'status.off_duty' },
};
export const UNKNOWN_STATUS = { color: '#5b6b8c', label: 'status.unknown' };
export const INCIDENT_COLOR = '#d92d20';
export const REPORT_COLOR = '#7a5af8';
export const LINE_COLOR = '#1f5fbf';
export const CLOSED_INCIDENT = new Set(['resolved', 'cancelled', 'canceled', 'closed']);

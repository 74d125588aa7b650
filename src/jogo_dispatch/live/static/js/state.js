/* What the page knows, keyed by id, the map filters, and the batched re-render of the side panel. */

export const officers = new Map();  // id -> {d, m, key, shown}
export const incidents = new Map(); // id -> {d, m, p}
export const alerts = new Map();    // id -> {d, m, seq}
export const reports = new Map();   // id -> {d, m, seq}
export const offers = new Map();    // id -> offer
export const forwards = new Map();  // id -> the latest `forward` event of a forward (agency_code, status)
/** The side panel's lists: 'loading' | 'ok' | 'missing' | 'error' (with the message). */
export const panels = { reports: 'loading', reportsError: '', alerts: 'loading', alertsError: '' };
/** What the desk column shows: {kind, id} or null (panel.js highlights it in the lists). */
export const selection = { kind: null, id: null };

// ------------------------------------------------------------------ filters (toolbar over the map)
/** status / unit: a code or ''; sector: {code, name} of a police sector or null. */
export const filters = { status: '', unit: '', sector: null };

const norm = (s) => String(s || '').trim().toLowerCase();
/** Does a sector value of the API (a code such as KLOJEN, or a name such as Klojen) name the filter's sector? */
export function inSector(value) {
  const f = filters.sector;
  if (!f) return true;
  const v = norm(value);
  return !!v && (v === norm(f.code) || v === norm(f.name));
}
export const officerShown = (d) => (!filters.status || d.status === filters.status)
  && (!filters.unit || d.unit_type === filters.unit) && inSector(d.sector);
export const incidentShown = (d) => inSector(d.sector);

let seq = 0; // bumped on every alert/report update: a list reload only drops entries older than itself
export const nextSeq = () => ++seq;
export const currentSeq = () => seq;

// ------------------------------------------------------------------ dirty parts, drawn at most every 200 ms
const dirtySet = new Set();
let flushTimer = 0;
let render = () => {};

/** panel.js draws: render(set of 'counters' | 'alerts' | 'reports' | 'incidents'). */
export function onRender(fn) { render = fn; }

export function dirty(...what) {
  for (const w of what) dirtySet.add(w);
  dirtySet.add('counters');
  if (!flushTimer) flushTimer = setTimeout(flush, 200);
}

function flush() {
  flushTimer = 0;
  const what = new Set(dirtySet);
  dirtySet.clear();
  render(what);
}

/* What the page knows, keyed by id, and the batched re-render of the side panel and the counters. */

export const officers = new Map();  // id -> {d, m, key}
export const incidents = new Map(); // id -> {d, m, pop, p}
export const alerts = new Map();    // id -> {d, m, seq}
export const reports = new Map();   // id -> {d, m, seq}
export const offers = new Map();    // id -> offer
/** The side panel's lists: 'loading' | 'ok' | 'missing' | 'error' (with the message). */
export const panels = { reports: 'loading', reportsError: '', alerts: 'loading', alertsError: '' };

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

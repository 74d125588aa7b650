/* Messages between the page's modules: every /api/v1/live message by its type ("incident", "forward",
 * "incident_note"...) and the page's own ("open": show something in the desk column). A module that adds
 * a panel subscribes here, so map.js only has to import it. */
const handlers = new Map();

/** fn(payload) for every message of this type; returns a function that unsubscribes. */
export function on(type, fn) {
  if (!handlers.has(type)) handlers.set(type, new Set());
  handlers.get(type).add(fn);
  return () => handlers.get(type).delete(fn);
}

export function emit(type, payload) {
  const set = handlers.get(type);
  if (!set) return;
  for (const fn of [...set]) {
    try { fn(payload); } catch (e) { console.error('bus', type, e); }
  }
}

/** Show something in the desk column: open('incident', 12), open('report', 7), open('officer', 3), open('new'). */
export const open = (kind, id, extra) => emit('open', { kind, id, extra });

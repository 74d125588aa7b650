/* The safety and queue timers as countdowns, worked out as the server's sweep does (dispatch/timers.py):
 * an officer on scene gets the next welfare check at the last of on scene / answered / missed plus the
 * interval (the incident's response plan may set its own), and has the grace period to answer one; an
 * accepted unit must be en route within its limit; a report waits for verification within its own. */
import { TIMERS } from './config.js';
import { toDate } from './format.js';

const plus = (at, s) => { const d = toDate(at); return d && Number.isFinite(s) ? new Date(d.getTime() + s * 1000) : null; };
const latest = (...xs) => xs.map(toDate).filter(Boolean).reduce((a, b) => (b > a ? b : a), null);

/** The unit's running timer {key, until} (key: a strings.js text), or null. */
export function unitTimer(incident, u) {
  if (!u || u.state === 'cleared') return null;
  if (u.state === 'on_scene') {
    const answered = latest(u.welfare_ok_at, u.welfare_missed_at);
    const sent = toDate(u.welfare_sent_at);
    if (sent && (!answered || sent > answered)) {
      return { key: 'timer.welfare_answer', until: plus(sent, TIMERS.welfare_grace_s) };
    }
    const plan = (incident && incident.data && incident.data.plan) || {};
    const every = Number(plan.welfare_interval_s) > 0 ? Number(plan.welfare_interval_s) : TIMERS.welfare_interval_s;
    return { key: 'timer.welfare_next', until: plus(latest(u.on_scene_at, answered), every) };
  }
  if (u.state === 'dispatched' && u.acknowledged_at) {
    return { key: 'timer.en_route', until: plus(u.acknowledged_at, TIMERS.en_route_within_s) };
  }
  return null;
}

/** A report's time left for verification, or null once it is handled. */
export function reportTimer(r) {
  if (!r || (r.status && r.status !== 'received')) return null;
  return { key: 'timer.verify', until: plus(r.created_at, TIMERS.verify_within_s) };
}

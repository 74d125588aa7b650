/* The time range of a track replay: from / until (this browser's clock) with quick choices. */
import { h } from '../shared/dom.js';
import { localInput, serverNow } from './format.js';
import { t } from './lang.js';
import { button, field } from './ui.js';

export function trackTime() {
  const since = h('input', { type: 'datetime-local', id: 'track-since', step: 60 });
  const until = h('input', { type: 'datetime-local', id: 'track-until', step: 60 });
  const last = (hours) => {
    const now = new Date(serverNow() + 60000);
    until.value = localInput(now);
    since.value = localInput(new Date(now.getTime() - hours * 3600000));
  };
  const today = () => {
    const now = new Date(serverNow() + 60000);
    const start = new Date(now);
    start.setHours(0, 0, 0, 0);
    since.value = localInput(start);
    until.value = localInput(now);
  };
  last(1);
  const el = h('div', null,
    h('div', { class: 'grid2' }, field(t('track.since'), since), field(t('track.until'), until)),
    h('div', { class: 'row quick' }, button(t('track.last_1h'), () => last(1), 'small'), button(t('track.last_4h'), () => last(4), 'small'),
      button(t('track.last_12h'), () => last(12), 'small'), button(t('track.today'), today, 'small')));
  return { el, value: () => [new Date(since.value), new Date(until.value)] };
}

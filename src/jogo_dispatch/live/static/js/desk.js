/* The desk column between the map and the side panel: one thing at a time (an incident, a report's
 * evidence, an officer, the call-taking form). Views register by kind; open('incident', 12) on bus.js
 * shows one. A view's mount(ctx) fills ctx.body once and returns {update?, destroy?}; the live messages
 * it follows come through bus.js. The language switch mounts the view again. */
import { $, fill } from '../shared/dom.js';
import { on } from './bus.js';
import { onLangChange } from './lang.js';
import { deskLayer, pickOnMap, resized } from './layers.js';
import { dirty, selection } from './state.js';

const views = new Map();
let cur = null; // {kind, id, extra, body, view, mounted, gen}
let gen = 0;
const selectionListeners = [];

/** view: {mount(ctx) → {update?(), destroy?()}}; ctx = {kind, id, extra, body, setTitle(...nodes), alive()}. */
export function registerView(kind, view) { views.set(kind, view); }

/** fn() after the desk shows something else (or nothing). */
export const onSelection = (fn) => selectionListeners.push(fn);

export const current = () => cur;
export const isOpen = (kind, id) => !!cur && cur.kind === kind && (id === undefined || cur.id === id);

function teardown() {
  if (!cur) return;
  try { cur.mounted && cur.mounted.destroy && cur.mounted.destroy(); } catch (e) { console.error('desk', e); }
  pickOnMap(null);
  deskLayer.clearLayers();
  cur = null;
}

export function openDesk(kind, id, extra) {
  const view = views.get(kind);
  if (!view) return;
  teardown();
  const myGen = ++gen;
  const body = $('desk-body');
  fill(body);
  fill($('desk-title'));
  body.scrollTop = 0;
  cur = {
    kind, id, extra: extra || null, body, view, mounted: null, gen: myGen,
    setTitle: (...nodes) => fill($('desk-title'), ...nodes),
    alive: () => !!cur && cur.gen === myGen,
  };
  const wasHidden = $('desk').hidden;
  $('desk').hidden = false;
  $('desk').dataset.kind = kind;
  if (wasHidden) resized();
  selection.kind = kind;
  selection.id = id ?? null;
  cur.mounted = view.mount(cur) || {};
  for (const fn of selectionListeners) fn();
  dirty('incidents', 'reports', 'alerts');
}

export function closeDesk() {
  teardown();
  if (!$('desk').hidden) { $('desk').hidden = true; resized(); }
  selection.kind = null;
  selection.id = null;
  for (const fn of selectionListeners) fn();
  dirty('incidents', 'reports', 'alerts');
}

/** Ask the open view to redraw what changed. */
export function updateDesk() {
  if (cur && cur.mounted && cur.mounted.update) cur.mounted.update();
}

on('open', ({ kind, id, extra }) => openDesk(kind, id, extra));
$('desk-close').addEventListener('click', closeDesk);
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && cur && !document.querySelector('#lightbox:not([hidden])')) {
    const tag = (ev.target && ev.target.tagName) || '';
    if (tag !== 'INPUT' && tag !== 'TEXTAREA' && tag !== 'SELECT') closeDesk();
  }
});
onLangChange(() => { if (cur) openDesk(cur.kind, cur.id, cur.extra); });

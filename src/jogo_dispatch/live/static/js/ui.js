/* The live map's building blocks on the DOM helpers shared with the phone app: toasts (four at most),
 * buttons, chips, form fields, countdowns, the two-step confirmation with a reason, call-back links. */
import { $, fill, h, toaster } from '../shared/dom.js';
import { apiBlobUrl } from './api.js';
import { toDate } from './format.js';
import { t } from './lang.js';

export const toast = toaster({ max: 4, roles: false });

/** A button whose click does not reach the list item or marker under it; onClick gets the button. */
export function button(label, onClick, cls, attrs) {
  return h('button', {
    type: 'button', class: cls || null, ...(attrs || {}),
    onclick: (ev) => { ev.stopPropagation(); onClick(ev.currentTarget); },
  }, label);
}

/** A small coloured tag: chip(label('incident_status', s), 'st-' + s). */
export const chip = (text, cls) => h('span', { class: 'chip' + (cls ? ' ' + cls : '') }, text);

/** A titled block of the desk column. */
export const block = (title, ...children) => h('section', { class: 'dsec' }, title ? h('h3', null, title) : null, ...children);
/** A definition list of [term, value] pairs (null pairs are skipped). */
export const facts = (...pairs) => h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));

/** <label>text <input></label> */
export const field = (text, input, cls) => h('label', { class: 'field' + (cls ? ' ' + cls : '') }, h('span', null, text), input);

/** A <select> of [value, text] pairs. */
export function select(pairs, value, attrs) {
  return h('select', attrs || null, pairs.map(([v, text]) => h('option', { value: v, selected: String(v) === String(value ?? '') }, text)));
}

/** The caller's phone as a call-back link (tel:), or nothing. */
export function telLink(phone) {
  if (!phone) return null;
  const digits = String(phone).replace(/[^\d+]/g, '');
  return h('a', { class: 'tel', href: `tel:${digits}`, title: t('desk.call_back') }, '☎ ', String(phone));
}

// ------------------------------------------------------------------ countdowns
export function mmss(s) {
  const v = Math.max(0, Math.round(s));
  return `${Math.floor(v / 60)}:${String(v % 60).padStart(2, '0')}`;
}

/** "0:42" counting down to `until` (every countdown on the page ticks once a second). */
export function countdown(until) {
  const d = toDate(until);
  const el = h('span', { class: 'countdown', dataset: { until: d ? String(d.getTime()) : '' } });
  tickOne(el, Date.now());
  return el;
}
/** "Cek keselamatan berikut 28:41" for a running timer ({key, until}), nothing without one. */
export function timerLine(timer) {
  if (!timer || !timer.until) return null;
  return h('span', { class: 'timer', dataset: { timer: timer.key } }, t(timer.key), ' ', countdown(timer.until));
}
function tickOne(el, now) {
  const until = Number(el.dataset.until);
  if (!until) { el.textContent = ''; return; }
  const left = (until - now) / 1000;
  el.textContent = mmss(left);
  el.classList.toggle('late', left <= 10);
}
setInterval(() => {
  const now = Date.now();
  for (const el of document.querySelectorAll('.countdown[data-until]')) tickOne(el, now);
}, 1000);

// ------------------------------------------------------------------ ask for a reason, then confirm
/**
 * A button that opens a small form: a reason (required when `reason` is true) and a confirmation button.
 * onConfirm(reasonText, confirmButton) does the work; it resolves to true when done (the form closes).
 */
export function confirmStep({ text, confirmText, cls, reason = true, placeholder, warning, onConfirm, attrs }) {
  const box = h('div', { class: 'confirm', hidden: true });
  const input = h('textarea', { rows: 2, maxlength: 1000, placeholder: placeholder || t('confirm.reason'), class: 'reason' });
  const ok = button(confirmText || t('confirm.yes'), async (b) => {
    const why = input.value.trim();
    if (reason && !why) { input.focus(); input.classList.add('invalid'); return; }
    b.disabled = true;
    const done = await onConfirm(why, b);
    b.disabled = false;
    if (done) { box.hidden = true; opener.hidden = false; input.value = ''; }
  }, 'danger-solid confirm-yes');
  const no = button(t('confirm.cancel'), () => { box.hidden = true; opener.hidden = false; }, 'confirm-no');
  input.addEventListener('input', () => input.classList.remove('invalid'));
  fill(box, warning ? h('div', { class: 'warn-text' }, warning) : null, reason !== null ? input : null,
    h('div', { class: 'actions' }, ok, no));
  const opener = button(text, () => { opener.hidden = true; box.hidden = false; if (reason !== null) input.focus(); }, cls, attrs);
  return h('span', { class: 'confirm-wrap' }, opener, box);
}

/** A line of result text under a form: set(text, 'ok' | 'err' | ''). */
export function resultLine() {
  const el = h('div', { class: 'result' });
  return {
    el,
    set(text, kind) { el.className = 'result ' + (kind || ''); el.textContent = text || ''; },
  };
}

// ------------------------------------------------------------------ a photo full size
let lightboxUrl = null; // an object URL this module made (revoked when the lightbox closes)
export function lightbox(url, owned) {
  closeLightbox();
  if (owned) lightboxUrl = url;
  $('lightbox-img').src = url;
  $('lightbox').hidden = false;
}
export function closeLightbox() {
  $('lightbox').hidden = true;
  $('lightbox-img').removeAttribute('src');
  if (lightboxUrl) { URL.revokeObjectURL(lightboxUrl); lightboxUrl = null; }
}
$('lightbox').addEventListener('click', closeLightbox);
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && !$('lightbox').hidden) { ev.stopImmediatePropagation(); closeLightbox(); } // the desk stays open
});

/** A button that fetches a protected photo (the session's token) and shows it full size. */
export const photoButton = (path, text) => button(text, async (b) => {
  b.disabled = true;
  const url = await apiBlobUrl(path);
  b.disabled = false;
  if (url) lightbox(url, true); else toast(t('evidence.photo_failed'), 'err');
}, 'link small photo-link');

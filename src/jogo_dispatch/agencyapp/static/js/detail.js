/* One forward: what, where, the command centre's note, the caller's phone (only when the dispatcher included
 * it), the photos; acknowledge, start, notes with an optional photo, close with an outcome. */
import { $, fill, h, show, t, tCode, toast, when } from './ui.js';
import { api, photoUrl } from './api.js';
import { categoryName, dueOf, render, stateOf, upsert } from './board.js';

let current = null; // the forward shown (AgencyForwardOut)
let onBack = () => {};
let photo = null; // {blob, width, height, url} of the note's photo, downscaled
const objectUrls = [];

export const openId = () => (current ? current.id : null);

export function wire(back) {
  onBack = back;
  $('back').addEventListener('click', () => onBack());
  $('note-photo').addEventListener('change', pickPhoto);
  $('note-form').addEventListener('submit', sendNote);
  $('close-form').addEventListener('submit', closeForward);
}

function dropObjectUrls() {
  while (objectUrls.length) URL.revokeObjectURL(objectUrls.pop());
}

/** Show forward `id` (loaded fresh from the API); false when it is not this agency's. */
export async function open(id) {
  const r = await api('GET', `/agency/forwards/${encodeURIComponent(id)}`);
  if (!r.ok) {
    toast(r.status === 404 ? t('detail.missing') : t('err.generic', { message: r.message }), 'err');
    return false;
  }
  const keepForm = current && current.id === r.data.id;
  current = r.data;
  upsert(current);
  render();
  draw(keepForm);
  return true;
}

/** The forward shown changed elsewhere (a live event): load it again. */
export async function refresh() {
  if (current) await open(current.id);
}

export function close() {
  current = null;
  dropObjectUrls();
  resetPhoto();
}

function fact(label, value) {
  return value == null || value === '' ? null : [h('dt', null, t(label)), h('dd', null, value)];
}

function draw(keepForm) {
  const f = current;
  const inc = f.incident;
  const state = stateOf(f);
  const chip = $('d-status');
  chip.className = `chip st-${state}`;
  fill(chip, tCode('status', f.status));
  fill($('d-title'), h('span', { class: `pbadge p${inc.priority}` }, `P${inc.priority}`), ' ', `${categoryName(inc.category)} #${inc.id}`);
  fill($('d-where'), [inc.address, inc.sector].filter(Boolean).join(' · '));
  fill($('d-desc'), inc.description || '');
  const due = dueOf(f);
  fill($('d-facts'),
    fact('detail.received', when(inc.received_at)),
    fact('detail.forwarded', when(f.created_at)),
    state === 'new' && due ? fact('detail.due', when(due)) : null,
    fact('detail.incident_status', tCode('incident', inc.status)),
    fact('detail.dispatcher_note', f.note),
    f.include_caller_phone && f.caller_phone
      ? fact('detail.caller', h('a', { href: `tel:${f.caller_phone}`, class: 'tel' }, f.caller_phone))
      : null,
    state === 'closed' ? fact('detail.outcome', tCode('outcome', f.outcome)) : null);
  drawPhotos(inc.photos || []);
  drawActions(state);
  drawNotes(f.notes || []);
  show('note-form', state !== 'closed');
  show('close-card', state !== 'closed');
  if (!keepForm) {
    $('note-text').value = '';
    $('close-note').value = '';
    $('close-outcome').value = 'resolved';
    fill($('note-error'));
    fill($('close-error'));
    resetPhoto();
  }
}

async function drawPhotos(urls) {
  const box = $('d-photos');
  dropObjectUrls();
  fill(box);
  for (const u of urls) {
    const src = await photoUrl(u);
    if (!src) continue;
    objectUrls.push(src);
    box.append(h('a', { href: src, target: '_blank', rel: 'noopener' }, h('img', { src, alt: t('detail.photos') })));
  }
}

function drawActions(state) {
  const box = $('d-actions');
  const buttons = [];
  if (state === 'new') buttons.push(h('button', { type: 'button', class: 'primary big', id: 'act-ack', onclick: (e) => act(e.currentTarget, 'ack', 'action.acked') }, t('action.ack')));
  if (state === 'new' || state === 'acknowledged') buttons.push(h('button', { type: 'button', class: 'big', id: 'act-start', onclick: (e) => act(e.currentTarget, 'start', 'action.started') }, t('action.start')));
  fill(box, buttons);
}

function drawNotes(notes) {
  const list = $('d-notes');
  if (!notes.length) { fill(list, h('li', { class: 'muted' }, t('notes.none'))); return; }
  fill(list, notes.map((n) => {
    const li = h('li', null,
      h('div', { class: 'note-meta' }, `${n.author_name || '—'} · ${when(n.created_at)}`),
      h('div', { class: 'note-text' }, n.text));
    if (n.photo_url) {
      photoUrl(n.photo_url).then((src) => {
        if (!src) return;
        objectUrls.push(src);
        li.append(h('a', { href: src, target: '_blank', rel: 'noopener' }, h('img', { class: 'note-img', src, alt: '' })));
      });
    }
    return li;
  }));
}

async function act(btn, action, done) {
  btn.disabled = true;
  const r = await api('POST', `/agency/forwards/${current.id}/${action}`);
  btn.disabled = false;
  if (r.ok) toast(t(done), 'ok');
  else toast(r.status === 409 ? t('action.conflict') : t('err.generic', { message: r.message }), 'err');
  await refresh();
}

// ------------------------------------------------------------------ a note with an optional photo
function resetPhoto() {
  if (photo && photo.url) URL.revokeObjectURL(photo.url);
  photo = null;
  $('note-photo').value = '';
  fill($('note-photo-info'));
  const img = $('note-preview');
  img.removeAttribute('src');
  img.hidden = true;
}

/** Phone photos are big: send at most 1600 px on the long side as JPEG (the server checks it again). */
async function downscale(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
  const w = Math.max(1, Math.round(bitmap.width * scale));
  const hgt = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = hgt;
  canvas.getContext('2d').drawImage(bitmap, 0, 0, w, hgt);
  bitmap.close();
  const blob = await new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('encode'))), 'image/jpeg', 0.85));
  return { blob, width: w, height: hgt };
}

async function pickPhoto() {
  const file = $('note-photo').files[0];
  if (photo && photo.url) URL.revokeObjectURL(photo.url);
  photo = null;
  if (!file) { fill($('note-photo-info')); $('note-preview').hidden = true; return; }
  fill($('note-photo-info'), t('notes.photo_working'));
  try {
    const { blob, width, height } = await downscale(file);
    photo = { blob, width, height, url: URL.createObjectURL(blob) };
    $('note-preview').src = photo.url;
    $('note-preview').hidden = false;
    fill($('note-photo-info'), t('notes.photo_ready', { w: width, h: height, kb: Math.round(blob.size / 1024) }));
  } catch (e) {
    fill($('note-photo-info'), t('notes.photo_bad'));
    $('note-photo').value = '';
  }
}

function errorText(r) {
  if (r.code === 'network') return t('err.network');
  if (r.code === 'bad_photo') return t('err.bad_photo', { problem: (r.details && r.details.problem) || r.message });
  if (r.status === 413) return t('err.too_large');
  if (r.code === 'forward_closed') return t('notes.closed');
  return t('err.generic', { message: r.message });
}

async function sendNote(ev) {
  ev.preventDefault();
  const text = $('note-text').value.trim();
  if (!text) return;
  const btn = $('note-submit');
  btn.disabled = true;
  let r;
  if (photo) {
    const form = new FormData();
    form.append('text', text);
    form.append('photo', photo.blob, 'catatan.jpg');
    r = await api('POST', `/agency/forwards/${current.id}/notes`, { form });
  } else {
    r = await api('POST', `/agency/forwards/${current.id}/notes`, { json: { text } });
  }
  btn.disabled = false;
  if (!r.ok) { fill($('note-error'), errorText(r)); return; }
  fill($('note-error'));
  $('note-text').value = '';
  resetPhoto();
  toast(t('notes.sent'), 'ok');
  await refresh();
}

async function closeForward(ev) {
  ev.preventDefault();
  const outcome = $('close-outcome').value;
  if (!window.confirm(t('close.confirm', { id: current.incident.id, outcome: tCode('outcome', outcome) }))) return;
  const note = $('close-note').value.trim();
  const btn = $('close-submit');
  btn.disabled = true;
  const r = await api('POST', `/agency/forwards/${current.id}/close`, { json: note ? { outcome, note } : { outcome } });
  btn.disabled = false;
  if (!r.ok) { fill($('close-error'), errorText(r)); return; }
  toast(t('action.closed'), 'ok');
  await refresh();
}


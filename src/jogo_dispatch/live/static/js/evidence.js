/* A report's evidence in the desk column, to weigh before verifying: the photo (fetched with the session's
 * token, shown from a blob URL, full size in the lightbox), address, description, the reporter's phone
 * and record, how far the phone was from the place it reported, open incidents it may duplicate. Verify
 * (into a new incident or one of those), reject or mark false with a reason and a confirmation; a false
 * marking can be withdrawn. */
import { fill, h } from '../shared/dom.js';
import { FAR_REPORTER_M } from './config.js';
import { api, apiBlobUrl } from './api.js';
import { open } from './bus.js';
import { registerView } from './desk.js';
import { clockAgo, meters, num, pointOf, priorityOf } from './format.js';
import { errorText, label, t } from './lang.js';
import { deskLayer, map } from './layers.js';
import { loadFalseReports, removeReport } from './reports.js';
import { block, button, chip, closeLightbox, confirmStep, facts, lightbox, resultLine, telLink, toast } from './ui.js';

async function review(ctx, action, body, result) {
  const r = await api('POST', `/reports/${ctx.id}/${action}`, body);
  if (!r.ok) { result.set(errorText(r), 'err'); return null; }
  removeReport(ctx.id);
  return r.data || {};
}

function drawMap(rep) {
  deskLayer.clearLayers();
  const place = pointOf(rep);
  const phone = Number.isFinite(num(rep.reporter_lat)) ? [num(rep.reporter_lat), num(rep.reporter_lon)] : null;
  if (place) L.circleMarker(place, { radius: 12, color: '#7a5af8', weight: 3, fill: false, interactive: false }).addTo(deskLayer);
  if (phone) {
    L.circleMarker(phone, { radius: 6, color: '#101828', weight: 2, fillColor: '#fff', fillOpacity: 1 })
      .bindTooltip(t('evidence.phone_here'), { direction: 'top' }).addTo(deskLayer);
    if (rep.reporter_accuracy_m) L.circle(phone, { radius: num(rep.reporter_accuracy_m), color: '#101828', weight: 1, fillOpacity: 0.05, interactive: false }).addTo(deskLayer);
    if (place) {
      L.polyline([phone, place], { color: '#101828', weight: 2, dashArray: '4 4', interactive: false }).addTo(deskLayer);
      map.fitBounds(L.latLngBounds([phone, place]).pad(0.6), { maxZoom: 17, animate: false });
    }
  } else if (place) map.setView(place, Math.max(map.getZoom(), 16), { animate: false });
}

registerView('report', {
  mount(ctx) {
    let photoUrl = null;
    const status = h('div', { class: 'desk-status' }, t('panel.loading'));
    ctx.body.append(status);
    ctx.setTitle(`${t('report.title')} #${ctx.id}`);
    (async () => {
      const r = await api('GET', `/reports/${ctx.id}/evidence`);
      if (!ctx.alive()) return;
      if (!r.ok) { status.textContent = errorText(r); status.className = 'desk-status err'; return; }
      status.remove();
      const ev = r.data;
      const rep = ev.report;
      const rec = ev.reporter;
      const p = priorityOf(rep);
      ctx.setTitle(h('span', { class: `pbadge p${p}` }, `P${p}`), ' ', label('category', rep.category), ` · ${t('report.title')} #${rep.id}`);
      const img = h('img', { class: 'photo', id: 'evidence-photo', alt: t('evidence.photo') });
      const photoBox = h('div', { class: 'photo-box' }, rep.has_photo ? h('div', { class: 'empty' }, t('evidence.photo_loading')) : h('div', { class: 'empty' }, t('evidence.no_photo')));
      if (rep.has_photo) {
        apiBlobUrl(ev.photo_url || `/reports/${rep.id}/photo`).then((url) => {
          if (!url) { fill(photoBox, h('div', { class: 'unavailable' }, t('evidence.photo_failed'))); return; }
          if (!ctx.alive()) { URL.revokeObjectURL(url); return; }
          photoUrl = url;
          img.src = url;
          img.addEventListener('click', () => lightbox(url));
          fill(photoBox, img, h('div', { class: 'sub' }, t('evidence.photo_hint')));
        });
      }
      const far = num(rep.reporter_distance_m) > FAR_REPORTER_M;
      const result = resultLine();
      const dupes = Array.isArray(ev.duplicates) ? ev.duplicates : [];
      const verify = (incidentId) => async (b) => {
        b.disabled = true;
        const out = await review(ctx, 'verify', incidentId ? { incident_id: incidentId } : {}, result);
        b.disabled = false;
        if (!out) return;
        toast(t('report.done_verified', { id: rep.id, incident: out.incident_id }), 'ok');
        if (out.incident_id != null) open('incident', out.incident_id);
      };
      const reject = (reason) => async (why) => {
        const out = await review(ctx, 'reject', { reason, note: why }, result);
        if (!out) return false;
        toast(t(reason === 'false' ? 'report.done_false' : 'report.done_rejected', { id: rep.id }), 'ok');
        ctx.setTitle(`${t('report.title')} #${rep.id} · ${label('report_status', out.status || reason)}`);
        fill(actions, chip(label('report_status', out.status || reason), `rs-${out.status || reason}`));
        return true;
      };
      const unmark = confirmStep({
        text: t('report.unmark'), confirmText: t('report.unmark_confirm'), cls: 'small', placeholder: t('report.unmark_reason'),
        warning: t('report.unmark_warning'), attrs: { id: 'report-unmark' },
        onConfirm: async (why) => {
          const out = await review(ctx, 'unmark-false', { reason: why }, result);
          if (!out) return false;
          toast(t('report.done_unmarked', { id: rep.id }), 'ok');
          loadFalseReports();
          open('report', rep.id);
          return true;
        },
      });
      const actions = rep.status === 'received' ? h('div', { class: 'actions review' },
        button(t('report.verify'), verify(null), 'primary', { id: 'report-verify' }),
        confirmStep({ text: t('report.reject'), confirmText: t('report.reject_confirm'), placeholder: t('report.reject_reason'),
          onConfirm: reject('not_incident'), attrs: { id: 'report-reject' } }),
        confirmStep({ text: t('report.false'), confirmText: t('report.false_confirm'), cls: 'danger', placeholder: t('report.false_reason'),
          warning: t('report.false_warning'), onConfirm: reject('false'), attrs: { id: 'report-false' } }))
        : h('div', { class: 'actions' }, chip(label('report_status', rep.status), `rs-${rep.status}`),
          rep.status === 'false' ? unmark : null,
          rep.incident_id != null ? button(`→ #${rep.incident_id}`, () => open('incident', rep.incident_id), 'link small') : null);
      ctx.body.append(...[
        block(null, photoBox),
        block(null,
          rep.address ? h('div', { class: 'addr big' }, rep.address) : null,
          h('div', { class: 'narrative' }, rep.description || ''),
          facts(
            [t('report.received'), clockAgo(rep.created_at)],
            [t('evidence.reporter_phone'), telLink(rep.reporter_phone) || '—'],
            [t('evidence.distance'), h('span', { class: far ? 'warn-text' : null, id: 'evidence-distance' },
              meters(rep.reporter_distance_m), rep.reporter_accuracy_m != null ? ` (± ${Math.round(num(rep.reporter_accuracy_m))} m)` : '',
              far ? ` ⚠ ${t('evidence.far')}` : '')],
            rep.device_id ? [t('evidence.device'), rep.device_id] : null)),
        rec ? block(t('evidence.record'), h('div', { class: 'record' + (rec.blocked || rec.false_reports ? ' bad' : '') },
          t('evidence.record_line', { n: rec.reports, v: rec.verified, r: rec.rejected, f: rec.false_reports, s: rec.strike_count }),
          rec.blocked ? h('b', { class: 'warn-text' }, ` · ${t('evidence.blocked')}`) : null)) : null,
        dupes.length ? block(t('evidence.duplicates'), dupes.map((d) => h('div', { class: 'row line dupe' },
          h('span', { class: `pbadge p${priorityOf(d)}` }, `P${priorityOf(d)}`),
          button(`#${d.id} ${label('category', d.category)}`, () => open('incident', d.id), 'link small'),
          h('span', { class: 'sub' }, label('incident_status', d.status), pointOf(d) && pointOf(rep) ? ` · ${meters(map.distance(pointOf(d), pointOf(rep)))}` : ''),
          rep.status === 'received' ? button(t('evidence.verify_into', { id: d.id }), verify(d.id), 'small') : null))) : null,
        block(null, actions, result.el)].filter(Boolean));
      drawMap(rep);
    })();
    return { destroy() { if (photoUrl) URL.revokeObjectURL(photoUrl); closeLightbox(); } };
  },
});

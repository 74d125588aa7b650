/* Jogo Dispatch: the dispatchers' live map.
 *
 * Plain JS, no build step; Leaflet 1.9 is vendored next to this file. Server strings are only ever put into
 * the page as text nodes (see h()), never through innerHTML. Everything the page needs from the server comes
 * from the JSON config in #jogo-config, the JSON API (api()) and the /api/v1/live websocket (connect()).
 */
(() => {
  'use strict';

  const CFG = JSON.parse(document.getElementById('jogo-config').textContent || '{}');
  const API = CFG.api_base || '/api/v1';
  const LIVE_PATH = CFG.live_path || '/api/v1/live';
  const LOW_BATTERY = Number.isFinite(CFG.low_battery_pct) ? CFG.low_battery_pct : 15;
  const SESSION_KEY = 'jogo.live.session';
  const WATCHDOG_MS = 45000;       // the server sends a heartbeat every 15 s
  const ANIM_MS = 900;             // marker glide between two fixes
  const VIEWPORT_DEBOUNCE_MS = 300;

  const STATUS = {
    available: { color: '#2e9d47', id: 'Tersedia', en: 'available' },
    busy: { color: '#f08c00', id: 'Sibuk', en: 'busy' },
    off_duty: { color: '#8a8f98', id: 'Tidak dinas', en: 'off duty' },
  };
  const UNKNOWN_STATUS = { color: '#5b6b8c', id: '?', en: 'unknown' };
  const UNIT = { car: ['Mobil', 'car'], motorbike: ['Motor', 'motorbike'], foot: ['Jalan kaki', 'foot'] };
  const OFFER = {
    pending: 'menunggu · pending', accepted: 'diterima · accepted', declined: 'ditolak · declined',
    expired: 'kedaluwarsa · expired', cancelled: 'batal · cancelled',
  };
  const CLOSED_INCIDENT = new Set(['resolved', 'cancelled', 'canceled', 'closed']);
  const DASH = '—';

  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ DOM helpers (text nodes only)
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v == null || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children.flat(Infinity)) {
      if (c == null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  /** Replace an element's children; arrays are flattened, null/false skipped (replaceChildren would print "null"). */
  function fill(el, ...nodes) {
    el.replaceChildren(...nodes.flat(Infinity).filter((n) => n != null && n !== false));
  }
  const bi = (id, en) => h('span', null, id, ' ', h('small', null, en));
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

  function button(label, onClick, cls) {
    return h('button', {
      type: 'button', class: cls || null,
      onclick: (ev) => { ev.stopPropagation(); onClick(ev.currentTarget); },
    }, label);
  }

  // ------------------------------------------------------------------ time (configured zone, WIB by default)
  function validZone(tz) {
    try { new Intl.DateTimeFormat('id-ID', { timeZone: tz }); return tz; } catch (e) { return 'UTC'; }
  }
  const TZ = validZone(CFG.timezone || 'Asia/Jakarta');
  const TZ_ABBR = { 'Asia/Jakarta': 'WIB', 'Asia/Pontianak': 'WIB', 'Asia/Makassar': 'WITA', 'Asia/Jayapura': 'WIT' }[TZ]
    || (TZ === 'UTC' ? 'UTC' : '');
  const fmtTime = new Intl.DateTimeFormat('id-ID', {
    timeZone: TZ, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });
  const fmtDay = new Intl.DateTimeFormat('id-ID', { timeZone: TZ, day: 'numeric', month: 'short' });
  let skewMs = 0; // server clock minus ours

  function toDate(v) {
    if (v == null || v === '') return null;
    const d = typeof v === 'number' ? new Date(v < 1e12 ? v * 1000 : v) : new Date(v);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const serverNow = () => Date.now() + skewMs;
  function clock(v) {
    const d = toDate(v);
    if (!d) return DASH;
    const sameDay = fmtDay.format(d) === fmtDay.format(new Date(serverNow()));
    return (sameDay ? '' : fmtDay.format(d) + ' ') + fmtTime.format(d) + (TZ_ABBR ? ' ' + TZ_ABBR : '');
  }
  function ago(v) {
    const d = toDate(v);
    if (!d) return '';
    const s = Math.max(0, Math.round((serverNow() - d.getTime()) / 1000));
    if (s < 60) return `${s} dtk lalu`;
    if (s < 3600) return `${Math.floor(s / 60)} mnt lalu`;
    if (s < 86400) return `${Math.floor(s / 3600)} jam lalu`;
    return `${Math.floor(s / 86400)} hari lalu`;
  }
  const clockAgo = (v) => { const a = ago(v); return a ? `${clock(v)} (${a})` : clock(v); };

  const num = (v) => (v == null || v === '' ? NaN : Number(v));
  const hasPoint = (d) => d && Number.isFinite(num(d.lat)) && Number.isFinite(num(d.lon));
  const priorityOf = (d) => Math.min(5, Math.max(1, Math.round(num(d && d.priority)) || 3));
  const isDistress = (a) => /distress|sos|panic|emergency|darurat/i.test(String((a && a.kind) || ''));

  // ------------------------------------------------------------------ toasts, connection indicator
  function toast(text, kind, ms) {
    const box = $('toasts');
    const el = h('div', { class: 'toast ' + (kind || '') }, text);
    box.append(el);
    while (box.children.length > 4) box.firstChild.remove();
    setTimeout(() => el.remove(), ms || (kind === 'err' ? 7000 : 4000));
  }

  let retryTicker = 0;
  function setConn(state, detail) {
    const labels = {
      live: ['langsung', 'live'], connecting: ['menyambung…', 'connecting'],
      reconnecting: ['menyambung ulang', 'reconnecting'], off: ['terputus', 'offline'],
    };
    const [id, en] = labels[state] || labels.off;
    const box = $('conn');
    box.className = 'conn conn-' + state;
    box.title = detail || '';
    fill($('conn-text'), id + (detail && state === 'reconnecting' ? ` (${detail})` : '') + ' · ', h('small', null, en));
  }

  // ------------------------------------------------------------------ session and the JSON API
  function loadSession() {
    try {
      const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
      if (s && s.token && (!s.expires_at || s.expires_at > Date.now())) return s;
      sessionStorage.removeItem(SESSION_KEY);
    } catch (e) { /* storage disabled: log in every time */ }
    return null;
  }
  function saveSession(s) {
    try { sessionStorage.setItem(SESSION_KEY, JSON.stringify(s)); } catch (e) { /* ignore */ }
  }
  let session = loadSession();

  function errorMessage(data, status) {
    const e = data && data.error;
    if (e && typeof e === 'object') {
      let m = String(e.message || e.code || `HTTP ${status}`);
      const d = e.details;
      if (Array.isArray(d) && d.length && d[0] && d[0].msg) {
        m += ` — ${Array.isArray(d[0].loc) ? d[0].loc.join('.') + ': ' : ''}${d[0].msg}`;
      } else if (typeof d === 'string' && d) {
        m += ` — ${d}`;
      }
      return m;
    }
    if (data && typeof data.detail === 'string') return data.detail;
    return `HTTP ${status}`;
  }

  /** fetch + JSON; never throws. Resolves to {ok, status, data, message, code, missing}. A 401 logs out. */
  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (session) headers.Authorization = 'Bearer ' + session.token;
    let payload;
    if (body instanceof URLSearchParams) payload = body; // application/x-www-form-urlencoded
    else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
    let r;
    try {
      r = await fetch(API + path, { method, headers, body: payload, cache: 'no-store', credentials: 'same-origin' });
    } catch (e) {
      return { ok: false, status: 0, data: null, message: 'Jaringan gagal · network error' };
    }
    let data = null;
    try { const text = await r.text(); data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (r.ok) return { ok: true, status: r.status, data };
    const code = data && data.error && data.error.code;
    const out = {
      ok: false, status: r.status, data, code, message: errorMessage(data, r.status),
      // no such route (yet): the app answers unknown paths with code http_404 / http_405
      missing: (r.status === 404 && (code === 'http_404' || !code)) || (r.status === 405 && code === 'http_405'),
    };
    if (r.status === 401 && session && path !== '/auth/token') logout(out.message);
    return out;
  }
  const itemsOf = (data) => (Array.isArray(data) ? data : (data && Array.isArray(data.items) ? data.items : []));

  // ------------------------------------------------------------------ sound (WebAudio, after a user gesture)
  let audio = null;
  function unlockAudio() {
    try {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return;
      if (!audio) audio = new AC();
      if (audio.state === 'suspended') audio.resume().catch(() => {});
    } catch (e) { audio = null; }
  }
  document.addEventListener('pointerdown', unlockAudio, { passive: true });
  document.addEventListener('keydown', unlockAudio);
  function beep() {
    if (!audio || audio.state !== 'running') return;
    try {
      const t0 = audio.currentTime + 0.02;
      for (let i = 0; i < 3; i++) {
        const t = t0 + i * 0.28;
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.type = 'square';
        osc.frequency.value = i % 2 ? 660 : 880;
        gain.gain.setValueAtTime(0.0001, t);
        gain.gain.exponentialRampToValueAtTime(0.18, t + 0.015);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.2);
        osc.connect(gain).connect(audio.destination);
        osc.start(t);
        osc.stop(t + 0.22);
      }
    } catch (e) { /* no sound, no problem */ }
  }

  // ------------------------------------------------------------------ the map
  const map = L.map('map', { zoomControl: true, minZoom: 3, maxZoom: 19, worldCopyJump: false })
    .setView(CFG.center || [-7.9797, 112.6304], CFG.zoom || 13);
  map.attributionControl.setPrefix('Leaflet');
  const dotRenderer = L.canvas({ padding: 0.3, tolerance: 4 });

  // A light grid drawn locally, under the tiles: with no tiles (offline) the map still pans and zooms visibly.
  const Grid = L.GridLayer.extend({
    createTile() {
      const size = this.getTileSize();
      const c = document.createElement('canvas');
      c.width = size.x;
      c.height = size.y;
      const g = c.getContext('2d');
      g.strokeStyle = 'rgba(70, 90, 120, 0.13)';
      g.lineWidth = 1;
      g.beginPath();
      g.moveTo(0.5, 0); g.lineTo(0.5, size.y);
      g.moveTo(0, 0.5); g.lineTo(size.x, 0.5);
      g.stroke();
      return c;
    },
  });
  new Grid({ zIndex: 0, maxZoom: 19 }).addTo(map);

  if (CFG.tile_url) {
    const tiles = L.tileLayer(CFG.tile_url, {
      maxZoom: 19, zIndex: 1, attribution: CFG.tile_attribution ? esc(CFG.tile_attribution) : '',
    }).addTo(map);
    let loaded = 0;
    let failed = 0;
    const note = L.control({ position: 'bottomright' });
    note.onAdd = () => h('div', { class: 'tiles-note' }, 'Peta dasar tidak tersedia · base map offline');
    tiles.on('tileload', () => { loaded++; if (note._map) note.remove(); });
    tiles.on('tileerror', () => { failed++; if (!loaded && failed >= 4 && !note._map) note.addTo(map); });
  }

  const officerLayer = L.layerGroup().addTo(map);
  const reportLayer = L.layerGroup().addTo(map);
  const incidentLayer = L.layerGroup().addTo(map);
  const alertLayer = L.layerGroup().addTo(map);
  const lineLayer = L.layerGroup().addTo(map);
  L.control.layers(null, {
    'Petugas · officers': officerLayer,
    'Insiden · incidents': incidentLayer,
    'Laporan · reports': reportLayer,
    'Peringatan · alerts': alertLayer,
  }, { collapsed: true }).addTo(map);

  const legend = L.control({ position: 'bottomleft' });
  legend.onAdd = () => {
    const dot = (color, label, cls) => h('div', null, h('i', { class: cls || null, style: `background:${color}` }), label);
    return h('div', { class: 'legend' },
      dot(STATUS.available.color, 'Tersedia · available'),
      dot(STATUS.busy.color, 'Sibuk · busy'),
      dot(STATUS.off_duty.color, 'Tidak dinas · off duty'),
      dot('transparent', 'Offline', 'hollow'),
      dot('#d92d20', 'Insiden P1 … P5'),
      dot('#7a5af8', 'Laporan · report'));
  };
  legend.addTo(map);

  let zooming = false;
  map.on('zoomstart', () => { zooming = true; finishAnimations(); });
  map.on('zoomend', () => { zooming = false; });

  // ------------------------------------------------------------------ state
  const officers = new Map();  // id -> {d, m}
  const incidents = new Map(); // id -> {d, m, pop}
  const alerts = new Map();    // id -> {d, m}
  const reports = new Map();   // id -> {d, m}
  const offers = new Map();    // id -> offer
  const panels = { reports: 'loading', reportsError: '', alerts: 'loading', alertsError: '' };
  let seq = 0; // bumped on every alert/report update: a list reload only drops entries older than itself

  // ------------------------------------------------------------------ officers
  function officerStyle(d) {
    const color = (STATUS[d.status] || UNKNOWN_STATUS).color;
    if (d.online === false) {
      return { radius: 5, color, weight: 2, opacity: 0.7, fillColor: color, fillOpacity: 0.06 };
    }
    return { radius: 6, color: '#ffffff', weight: 1.2, opacity: 1, fillColor: color, fillOpacity: 0.95 };
  }
  const styleKey = (d) => `${d.status}|${d.online !== false}`;

  function officerPopup(o) {
    const d = o.d;
    const st = STATUS[d.status] || UNKNOWN_STATUS;
    const unit = UNIT[d.unit_type] || [d.unit_type || DASH, ''];
    const speed = num(d.speed_mps);
    const battery = num(d.battery_pct);
    const low = d.low_battery === true || (Number.isFinite(battery) && battery < LOW_BATTERY);
    return h('div', { class: 'pop' },
      h('h3', null, d.badge || `#${d.id}`, d.name ? ` — ${d.name}` : ''),
      h('dl', null,
        h('dt', null, 'Unit'), h('dd', null, bi(unit[0], unit[1])),
        h('dt', null, 'Status'), h('dd', { class: `status status-${d.status}` }, bi(st.id, st.en)),
        d.sector ? [h('dt', null, 'Sektor'), h('dd', null, d.sector)] : null,
        h('dt', null, bi('Posisi', 'last fix')), h('dd', null, clockAgo(d.recorded_at)),
        h('dt', null, bi('Kecepatan', 'speed')),
        h('dd', null, Number.isFinite(speed) ? `${(speed * 3.6).toFixed(0)} km/j` : DASH,
          Number.isFinite(num(d.heading_deg)) ? ` · ${Math.round(num(d.heading_deg))}°` : ''),
        h('dt', null, bi('Baterai', 'battery')),
        h('dd', { class: low ? 'warn' : null }, Number.isFinite(battery) ? `${Math.round(battery)}%` : DASH,
          low ? ' ⚠ baterai lemah · low battery' : ''),
        h('dt', null, 'Online'),
        h('dd', { class: d.online === false ? 'warn' : null }, d.online === false ? 'tidak · offline' : 'ya · online')));
  }

  function upsertOfficer(d) {
    if (!d || d.id == null) return;
    let o = officers.get(d.id);
    if (!o) { o = { d: {}, m: null, key: '' }; officers.set(d.id, o); }
    Object.assign(o.d, d);
    if (!hasPoint(o.d)) return;
    const ll = [num(o.d.lat), num(o.d.lon)];
    if (!o.m) {
      o.m = L.circleMarker(ll, { renderer: dotRenderer, bubblingMouseEvents: false, ...officerStyle(o.d) })
        .bindPopup(() => officerPopup(o), { autoPan: true })
        .addTo(officerLayer);
      o.key = styleKey(o.d);
    } else {
      moving.delete(d.id);
      o.m.setLatLng(ll);
      restyleOfficer(o);
    }
  }

  function restyleOfficer(o) {
    if (!o.m) return;
    const key = styleKey(o.d);
    if (key !== o.key) { o.key = key; o.m.setStyle(officerStyle(o.d)); }
    if (o.m.isPopupOpen()) o.m.getPopup().update();
  }

  function removeOfficer(id) {
    const o = officers.get(id);
    if (o && o.m) officerLayer.removeLayer(o.m);
    moving.delete(id);
    officers.delete(id);
  }

  // Smooth moves: one requestAnimationFrame loop for every gliding marker (the canvas redraws once a frame).
  const moving = new Map(); // id -> {o, a, b, c, d, t0}
  let animFrame = 0;
  function step(now) {
    animFrame = 0;
    for (const [id, mv] of moving) {
      let t = (now - mv.t0) / ANIM_MS;
      if (t >= 1) { t = 1; moving.delete(id); }
      const e = t * (2 - t);
      mv.o.m.setLatLng([mv.a + (mv.c - mv.a) * e, mv.b + (mv.d - mv.b) * e]);
    }
    if (moving.size) animFrame = requestAnimationFrame(step);
  }
  function finishAnimations() {
    for (const mv of moving.values()) mv.o.m.setLatLng([mv.c, mv.d]);
    moving.clear();
  }

  function onPositions(list) {
    if (!Array.isArray(list)) return;
    const view = map.getBounds().pad(0.1);
    const animate = !document.hidden && !zooming && list.length <= 3000;
    const t0 = performance.now();
    for (const p of list) {
      if (!p || p.officer_id == null || !hasPoint(p)) continue;
      const lat = num(p.lat);
      const lon = num(p.lon);
      let o = officers.get(p.officer_id);
      const fields = { lat, lon };
      for (const k of ['recorded_at', 'speed_mps', 'heading_deg', 'accuracy_m', 'battery_pct']) {
        if (p[k] !== undefined) fields[k] = p[k];
      }
      if (fields.battery_pct != null && Number.isFinite(num(fields.battery_pct))) {
        fields.low_battery = num(fields.battery_pct) < LOW_BATTERY;
      }
      if (!o || !o.m) { upsertOfficer({ id: p.officer_id, ...fields }); continue; }
      const from = o.m.getLatLng();
      Object.assign(o.d, fields);
      const far = Math.abs(from.lat - lat) + Math.abs(from.lng - lon) > 0.03;
      if (animate && !far && (view.contains(from) || view.contains([lat, lon]))) {
        moving.set(p.officer_id, { o, a: from.lat, b: from.lng, c: lat, d: lon, t0 });
      } else {
        moving.delete(p.officer_id);
        o.m.setLatLng([lat, lon]);
      }
      if (o.m.isPopupOpen()) o.m.getPopup().update();
    }
    if (moving.size && !animFrame) animFrame = requestAnimationFrame(step);
    dirty('counters');
  }

  // ------------------------------------------------------------------ incidents
  function incidentIcon(p) {
    const size = [0, 26, 22, 18, 15, 12][p];
    return L.divIcon({
      className: 'inc-marker', iconSize: [size, size], iconAnchor: [size / 2, size / 2], popupAnchor: [0, -size / 2],
      html: `<div class="inc-icon p${p}" style="width:${size}px;height:${size}px"><span>${p <= 3 ? p : ''}</span></div>`,
    });
  }

  function offersFor(incidentId) {
    const out = [];
    for (const o of offers.values()) if (o.incident_id === incidentId) out.push(o);
    return out.sort((a, b) => (b.id || 0) - (a.id || 0));
  }
  function offerLine(o) {
    const off = officers.get(o.officer_id);
    const who = off ? (off.d.badge || `#${o.officer_id}`) : `#${o.officer_id}`;
    const exp = o.status === 'pending' && o.expires_at ? ` s/d ${clock(o.expires_at)}` : '';
    return `${who}: ${OFFER[o.status] || o.status}${exp}`;
  }
  function badgeOf(officerId) {
    const o = officers.get(officerId);
    return o && o.d.badge ? o.d.badge : (officerId != null ? `#${officerId}` : '');
  }

  function makeIncidentPopup(it) {
    const title = h('h3');
    const where = h('div', { class: 'meta' });
    const desc = h('div', { class: 'desc' });
    const facts = h('dl');
    const result = h('div', { class: 'result' });
    const table = h('div');
    const setResult = (text, kind) => {
      result.className = 'result ' + (kind || '');
      result.textContent = text || '';
      if (it.m && it.m.isPopupOpen()) it.m.getPopup().update();
    };
    const nearestBtn = button(bi('Responden terdekat', 'nearest responders'), (b) => nearest(it, pop, b), 'primary');
    const dispatchBtn = button(bi('Kirim terdekat', 'dispatch nearest'), (b) => dispatch(it, null, b, pop));
    const el = h('div', { class: 'pop' }, title, where, desc, facts,
      h('div', { class: 'actions' }, nearestBtn, dispatchBtn), result, table);
    const pop = {
      el, table, setResult,
      refresh() {
        const d = it.d;
        const p = priorityOf(d);
        fill(title, h('span', { class: `pbadge p${p}` }, `P${p}`), ' ', d.category || 'Insiden', ` #${d.id}`);
        where.textContent = d.address || '';
        desc.textContent = d.description || '';
        const os = offersFor(d.id);
        fill(facts, 
          h('dt', null, 'Status'), h('dd', { class: 'status' }, d.status || DASH),
          h('dt', null, bi('Dibuat', 'created')), h('dd', null, clockAgo(d.created_at)),
          os.length ? [h('dt', null, bi('Penawaran', 'offers')), h('dd', null, os.slice(0, 4).map((o) => h('div', null, offerLine(o))))] : null);
      },
    };
    return pop;
  }

  function incidentContent(it) {
    if (!it.pop) it.pop = makeIncidentPopup(it);
    it.pop.refresh();
    return it.pop.el;
  }

  function upsertIncident(d) {
    if (!d || d.id == null) return;
    if (CLOSED_INCIDENT.has(String(d.status || '').toLowerCase())) { removeIncident(d.id); return; }
    let it = incidents.get(d.id);
    if (!it) { it = { d: {}, m: null, pop: null, p: 0 }; incidents.set(d.id, it); }
    Object.assign(it.d, d);
    const p = priorityOf(it.d);
    if (hasPoint(it.d)) {
      const ll = [num(it.d.lat), num(it.d.lon)];
      if (!it.m) {
        it.m = L.marker(ll, { icon: incidentIcon(p), riseOnHover: true, zIndexOffset: (6 - p) * 100, title: it.d.category || '' })
          .bindPopup(() => incidentContent(it), { minWidth: 280, maxWidth: 420 })
          .on('popupclose', () => { lineLayer.clearLayers(); it.pop = null; })
          .addTo(incidentLayer);
      } else {
        it.m.setLatLng(ll);
        if (p !== it.p) { it.m.setIcon(incidentIcon(p)); it.m.setZIndexOffset((6 - p) * 100); }
        if (it.m.isPopupOpen() && it.pop) { it.pop.refresh(); it.m.getPopup().update(); }
      }
    }
    it.p = p;
    dirty('incidents');
  }

  function removeIncident(id) {
    const it = incidents.get(id);
    if (!it) return;
    if (it.m) { if (it.m.isPopupOpen()) lineLayer.clearLayers(); incidentLayer.removeLayer(it.m); }
    incidents.delete(id);
    dirty('incidents');
  }

  async function nearest(it, pop, btn) {
    if (!hasPoint(it.d)) return;
    btn.disabled = true;
    pop.setResult('Mencari… · searching…');
    const q = new URLSearchParams({ lat: String(num(it.d.lat)), lon: String(num(it.d.lon)), k: '5' });
    const r = await api('GET', `/responders/nearest?${q}`);
    btn.disabled = false;
    if (!it.m || !incidents.has(it.d.id)) return;
    if (!r.ok) {
      pop.setResult(r.missing ? 'Pencarian responden belum tersedia · not available' : r.message, 'err');
      return;
    }
    const items = itemsOf(r.data);
    const shortfall = r.data && !Array.isArray(r.data) ? r.data.shortfall_reason : null;
    lineLayer.clearLayers();
    const from = [num(it.d.lat), num(it.d.lon)];
    for (const x of items) {
      if (!hasPoint(x)) continue;
      L.polyline([from, [num(x.lat), num(x.lon)]], {
        color: '#1f5fbf', weight: 2, opacity: 0.8, dashArray: '6 5', interactive: false,
      }).addTo(lineLayer);
    }
    const rows = items.map((x) => {
      const unit = UNIT[x.unit_type] || [x.unit_type || DASH, ''];
      const dist = num(x.distance_m);
      const eta = num(x.eta_s);
      return h('tr', null,
        h('td', { title: x.name || '' }, x.badge || `#${x.officer_id}`),
        h('td', null, unit[0]),
        h('td', { class: 'num' }, Number.isFinite(dist) ? (dist / 1000).toFixed(dist < 10000 ? 2 : 1) : DASH),
        h('td', { class: 'num' }, Number.isFinite(eta) ? String(Math.max(1, Math.round(eta / 60))) : DASH),
        h('td', null, button('Kirim · dispatch', (b) => dispatch(it, x.officer_id, b, pop, x.badge))));
    });
    fill(pop.table, 
      items.length
        ? h('table', null,
          h('thead', null, h('tr', null, h('th', null, 'Badge'), h('th', null, 'Unit'),
            h('th', { class: 'num' }, 'km'), h('th', { class: 'num' }, 'ETA mnt'), h('th'))),
          h('tbody', null, rows))
        : null,
      shortfall ? h('div', { class: 'note' }, `⚠ ${shortfall}`) : null);
    pop.setResult(items.length ? '' : 'Tidak ada responden · no responders found', items.length ? '' : 'err');
  }

  async function dispatch(it, officerId, btn, pop, badge) {
    btn.disabled = true;
    pop.setResult('Mengirim… · dispatching…');
    const body = officerId == null ? {} : { officer_id: officerId };
    const r = await api('POST', `/incidents/${encodeURIComponent(it.d.id)}/dispatch`, body);
    btn.disabled = false;
    if (r.ok) {
      const d = r.data || {};
      const offer = d.offer || d;
      const who = badge || badgeOf(offer.officer_id != null ? offer.officer_id : d.officer_id);
      if (offer && offer.id != null && offer.incident_id != null) offers.set(offer.id, offer);
      const text = `Terkirim · dispatched${who ? ': ' + who : ''} → #${it.d.id}`;
      pop.setResult(text, 'ok');
      toast(text, 'ok');
    } else if (r.status === 409) {
      pop.setResult(`Sudah diambil · conflict: ${r.message}`, 'err');
    } else {
      pop.setResult(r.missing ? 'Pengiriman belum tersedia · not available' : r.message, 'err');
    }
  }

  function onOffer(o) {
    if (!o || o.id == null) return;
    const prev = offers.get(o.id);
    offers.set(o.id, { ...(prev || {}), ...o });
    if (offers.size > 500) offers.delete(offers.keys().next().value);
    if (prev && prev.status !== o.status && (o.status === 'accepted' || o.status === 'declined')) {
      toast(`${badgeOf(o.officer_id)} ${OFFER[o.status]} → #${o.incident_id}`, o.status === 'accepted' ? 'ok' : '');
    }
    const it = incidents.get(o.incident_id);
    if (it && it.m && it.m.isPopupOpen() && it.pop) { it.pop.refresh(); it.m.getPopup().update(); }
    dirty('incidents');
  }

  // ------------------------------------------------------------------ alerts
  function alertPopup(a) {
    const d = a.d;
    return h('div', { class: 'pop' },
      h('h3', { class: isDistress(d) ? 'warn' : null }, alertTag(d), ' ', d.kind || 'alert'),
      h('div', { class: 'desc' }, d.message || ''),
      h('dl', null,
        d.officer_id != null ? [h('dt', null, bi('Petugas', 'officer')), h('dd', null, badgeOf(d.officer_id))] : null,
        h('dt', null, bi('Waktu', 'time')), h('dd', null, clockAgo(d.created_at))),
      h('div', { class: 'actions' }, button(bi('Konfirmasi', 'acknowledge'), (b) => ackAlert(d.id, b), 'primary')));
  }

  const alertTag = (d) => (isDistress(d) ? h('span', { class: 'sos' }, 'SOS') : '⚠');

  function alertPoint(d) {
    if (hasPoint(d)) return [num(d.lat), num(d.lon)];
    const o = d.officer_id != null ? officers.get(d.officer_id) : null;
    return o && o.m ? o.m.getLatLng() : null;
  }

  function upsertAlert(d, live) {
    if (!d || d.id == null) return;
    if (d.acknowledged_at) { removeAlert(d.id); return; }
    let a = alerts.get(d.id);
    const isNew = !a;
    if (!a) { a = { d: {}, m: null, seq: 0 }; alerts.set(d.id, a); }
    Object.assign(a.d, d);
    a.seq = ++seq;
    const ll = alertPoint(a.d);
    if (ll && !a.m) {
      a.m = L.marker(ll, {
        icon: L.divIcon({ className: 'alert-marker', html: isDistress(a.d) ? '<div class="alert-icon"></div>' : '<div class="alert-icon minor">!</div>', iconSize: [22, 22] }),
        zIndexOffset: 2000, title: a.d.kind || 'alert',
      }).bindPopup(() => alertPopup(a)).addTo(alertLayer);
    } else if (ll && a.m) {
      a.m.setLatLng(ll);
    }
    if (live && isNew) {
      if (isDistress(a.d)) {
        beep();
        toast(`SOS — ${a.d.message || a.d.kind}`, 'err', 10000);
      } else {
        toast(`⚠ ${a.d.message || a.d.kind}`, '');
      }
    }
    dirty('alerts');
  }

  function removeAlert(id) {
    const a = alerts.get(id);
    if (!a) return;
    if (a.m) alertLayer.removeLayer(a.m);
    alerts.delete(id);
    dirty('alerts');
  }

  async function ackAlert(id, btn) {
    btn.disabled = true;
    const r = await api('POST', `/alerts/${encodeURIComponent(id)}/ack`);
    btn.disabled = false;
    if (r.ok) { removeAlert(id); toast('Peringatan dikonfirmasi · alert acknowledged', 'ok'); }
    else {
      toast(r.missing ? 'Konfirmasi belum tersedia · not available' : r.message, 'err');
      if (r.status === 404 && !r.missing) loadAlerts(); // gone on the server: resynchronise the list
    }
  }

  async function loadAlerts() {
    const started = seq;
    const r = await api('GET', '/alerts');
    if (!session || r.status === 401) return;
    if (r.ok) {
      const list = itemsOf(r.data);
      const ids = new Set(list.map((d) => d.id));
      for (const [id, a] of [...alerts]) if (!ids.has(id) && a.seq <= started) removeAlert(id);
      for (const d of list) upsertAlert(d, false);
      panels.alerts = 'ok';
    } else {
      panels.alerts = r.missing ? 'missing' : 'error';
      panels.alertsError = r.message;
    }
    dirty('alerts');
  }

  // ------------------------------------------------------------------ citizen reports (verification queue)
  function reportPopup(rp) {
    const d = rp.d;
    return h('div', { class: 'pop' },
      h('h3', null, bi('Laporan', 'report'), ` #${d.id}`, d.category ? ` — ${d.category}` : ''),
      h('div', { class: 'desc' }, d.description || ''),
      h('dl', null, h('dt', null, bi('Diterima', 'received')), h('dd', null, clockAgo(d.created_at))),
      reportActions(d));
  }

  function reportActions(d) {
    return h('div', { class: 'actions' },
      button(bi('Verifikasi', 'verify'), (b) => reportAction(d.id, 'verify', undefined, b), 'primary'),
      button(bi('Tolak', 'reject'), (b) => reportAction(d.id, 'reject', { reason: 'not_incident' }, b)),
      button(bi('Palsu', 'false report'), (b) => reportAction(d.id, 'reject', { reason: 'false' }, b), 'danger'));
  }

  function upsertReport(d) {
    if (!d || d.id == null) return;
    if (d.status && d.status !== 'received') { removeReport(d.id); return; }
    let rp = reports.get(d.id);
    if (!rp) { rp = { d: {}, m: null, seq: 0 }; reports.set(d.id, rp); }
    Object.assign(rp.d, d);
    rp.seq = ++seq;
    if (hasPoint(rp.d)) {
      const ll = [num(rp.d.lat), num(rp.d.lon)];
      if (!rp.m) {
        rp.m = L.circleMarker(ll, {
          renderer: dotRenderer, radius: 7, color: '#7a5af8', weight: 3, fillColor: '#ffffff', fillOpacity: 1,
          bubblingMouseEvents: false,
        }).bindPopup(() => reportPopup(rp)).addTo(reportLayer);
      } else {
        rp.m.setLatLng(ll);
      }
    }
    dirty('reports');
  }

  function removeReport(id) {
    const rp = reports.get(id);
    if (!rp) return;
    if (rp.m) reportLayer.removeLayer(rp.m);
    reports.delete(id);
    dirty('reports');
  }

  async function loadReports() {
    const started = seq;
    const r = await api('GET', '/reports?status=received');
    if (!session || r.status === 401) return;
    if (r.ok) {
      const list = itemsOf(r.data);
      const ids = new Set(list.map((d) => d.id));
      for (const [id, rp] of [...reports]) if (!ids.has(id) && rp.seq <= started) removeReport(id);
      for (const d of list) upsertReport(d);
      panels.reports = 'ok';
    } else {
      panels.reports = r.status === 404 || r.missing ? 'missing' : 'error';
      panels.reportsError = r.message;
    }
    dirty('reports');
  }

  async function reportAction(id, action, body, btn) {
    btn.disabled = true;
    const r = await api('POST', `/reports/${encodeURIComponent(id)}/${action}`, body);
    btn.disabled = false;
    if (r.ok) {
      removeReport(id);
      const what = action === 'verify' ? 'diverifikasi · verified'
        : (body && body.reason === 'false' ? 'ditandai palsu · marked false' : 'ditolak · rejected');
      toast(`Laporan #${id} ${what}`, 'ok');
    } else if (r.missing) {
      toast('Verifikasi belum tersedia · not available', 'err');
    } else {
      toast(r.message, 'err');
      if (r.status === 409 || r.status === 404) loadReports(); // someone else handled it
    }
  }

  // ------------------------------------------------------------------ side panel and counters (batched)
  const dirtySet = new Set();
  let flushTimer = 0;
  function dirty(...what) {
    for (const w of what) dirtySet.add(w);
    dirtySet.add('counters');
    if (!flushTimer) flushTimer = setTimeout(flush, 200);
  }
  function flush() {
    flushTimer = 0;
    const what = new Set(dirtySet);
    dirtySet.clear();
    if (what.has('counters')) renderCounters();
    if (what.has('alerts')) renderAlerts();
    if (what.has('reports')) renderReports();
    if (what.has('incidents')) renderIncidents();
  }

  function focusOn(latlng, marker) {
    if (!latlng) return;
    map.setView(latlng, Math.max(map.getZoom(), 16));
    if (marker) setTimeout(() => marker.openPopup(), 50);
  }

  function renderCounters() {
    let online = 0;
    let available = 0;
    let busy = 0;
    for (const o of officers.values()) {
      if (o.d.online !== true) continue;
      online++;
      if (o.d.status === 'available') available++;
      else if (o.d.status === 'busy') busy++;
    }
    $('c-online').textContent = online;
    $('c-available').textContent = available;
    $('c-busy').textContent = busy;
    $('c-incidents').textContent = incidents.size;
    $('c-alerts').textContent = alerts.size;
    let distress = false;
    for (const a of alerts.values()) if (isDistress(a.d)) { distress = true; break; }
    const box = $('c-alerts-box');
    box.classList.toggle('has-alerts', alerts.size > 0);
    box.classList.toggle('has-distress', distress);
  }

  function panelNote(state, error, empty) {
    if (state === 'missing') return h('div', { class: 'unavailable' }, 'Tidak tersedia · not available');
    if (state === 'error') return h('div', { class: 'unavailable' }, error || 'error');
    if (state === 'loading') return h('div', { class: 'empty' }, 'Memuat… · loading…');
    return empty ? h('div', { class: 'empty' }, empty) : null;
  }

  function renderAlerts() {
    const list = [...alerts.values()].sort((x, y) => (isDistress(y.d) - isDistress(x.d))
      || ((toDate(y.d.created_at) || 0) - (toDate(x.d.created_at) || 0)));
    $('n-alerts').textContent = list.length;
    const items = list.map((a) => {
      const d = a.d;
      return h('div', { class: 'item' + (isDistress(d) ? ' distress' : ''), onclick: () => focusOn(alertPoint(d), a.m) },
        h('div', { class: 'row' }, h('span', { class: 'title' }, alertTag(d), ' ', d.kind || 'alert'),
          h('span', { class: 'meta' }, clock(d.created_at))),
        h('div', { class: 'desc' }, d.message || '', d.officer_id != null ? ` · ${badgeOf(d.officer_id)}` : ''),
        h('div', { class: 'actions' }, button(bi('Konfirmasi', 'acknowledge'), (b) => ackAlert(d.id, b), 'primary')));
    });
    fill($('list-alerts'), items,
      panelNote(panels.alerts, panels.alertsError, items.length ? '' : 'Tidak ada peringatan · no open alerts'));
  }

  function renderReports() {
    const list = [...reports.values()].sort((x, y) => (toDate(x.d.created_at) || 0) - (toDate(y.d.created_at) || 0));
    $('n-reports').textContent = list.length;
    const items = list.map((rp) => {
      const d = rp.d;
      return h('div', { class: 'item', onclick: () => focusOn(hasPoint(d) ? [num(d.lat), num(d.lon)] : null, rp.m) },
        h('div', { class: 'row' }, h('span', { class: 'title' }, d.category || 'Laporan', ` #${d.id}`),
          h('span', { class: 'meta' }, ago(d.created_at))),
        d.description ? h('div', { class: 'desc' }, d.description) : null,
        reportActions(d));
    });
    fill($('list-reports'), items,
      panelNote(panels.reports, panels.reportsError, items.length ? '' : 'Antrean kosong · queue empty'));
  }

  function renderIncidents() {
    const list = [...incidents.values()].sort((x, y) => (priorityOf(x.d) - priorityOf(y.d))
      || ((toDate(x.d.created_at) || 0) - (toDate(y.d.created_at) || 0)));
    $('n-incidents').textContent = list.length;
    const items = list.map((it) => {
      const d = it.d;
      const p = priorityOf(d);
      const os = offersFor(d.id);
      return h('div', { class: 'item', onclick: () => focusOn(hasPoint(d) ? [num(d.lat), num(d.lon)] : null, it.m) },
        h('div', { class: 'row' }, h('span', { class: `pbadge p${p}` }, `P${p}`),
          h('span', { class: 'title' }, d.category || 'Insiden', ` #${d.id}`),
          h('span', { class: 'meta' }, ago(d.created_at))),
        d.description ? h('div', { class: 'desc' }, d.description) : null,
        h('div', { class: 'offers' }, d.status || '', os.length ? ' · ' + offerLine(os[0]) : ''));
    });
    fill($('list-incidents'), items,
      items.length ? null : h('div', { class: 'empty' }, 'Tidak ada insiden terbuka · no open incidents'));
  }

  setInterval(() => { if (session) dirty('alerts', 'reports', 'incidents'); }, 30000);

  // ------------------------------------------------------------------ the live websocket
  let ws = null;
  let wsGen = 0;
  let retry = 0;
  let retryTimer = 0;
  let watchdog = 0;
  let lastBbox = '';
  let syncedGen = 0;

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  function sendViewport(force) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const b = map.getBounds().pad(0.15);
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    const round = (v) => Math.round(v * 1e5) / 1e5;
    const bbox = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
      clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)].map(round);
    const key = bbox.join(',');
    if (!force && key === lastBbox) return;
    lastBbox = key;
    send({ type: 'viewport', bbox });
  }
  let viewportTimer = 0;
  map.on('moveend', () => {
    clearTimeout(viewportTimer);
    viewportTimer = setTimeout(() => sendViewport(false), VIEWPORT_DEBOUNCE_MS);
  });

  function kickWatchdog(gen) {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      if (gen !== wsGen || !session) return;
      const stale = ws;
      wsGen++; // orphan it: its late events are ignored
      ws = null;
      try { stale.close(4000, 'stale'); } catch (e) { /* ignore */ }
      scheduleReconnect('tidak ada data · no data');
    }, WATCHDOG_MS);
  }

  function connect() {
    if (!session) return;
    clearTimeout(retryTimer);
    clearInterval(retryTicker);
    const gen = ++wsGen;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${proto}//${location.host}${LIVE_PATH}?token=${encodeURIComponent(session.token)}`;
    setConn('connecting');
    let sock;
    try { sock = new WebSocket(url); } catch (e) { scheduleReconnect(String(e)); return; }
    ws = sock;
    let opened = false;
    let openedAt = 0;
    let lastError = null;
    let bye = null;
    sock.onopen = () => {
      if (gen !== wsGen) return;
      opened = true;
      openedAt = Date.now();
      lastBbox = '';
      setConn('live');
      sendViewport(true);
      kickWatchdog(gen);
    };
    sock.onmessage = (ev) => {
      if (gen !== wsGen) return;
      kickWatchdog(gen);
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (!msg || typeof msg !== 'object') return;
      if (msg.type === 'error') lastError = msg.error || null;
      if (msg.type === 'bye') bye = String(msg.reason || '');
      try { handle(msg, gen); } catch (e) { console.error('live message', msg.type, e); }
    };
    sock.onclose = (ev) => {
      if (gen !== wsGen) return;
      ws = null;
      clearTimeout(watchdog);
      if (!session) return;
      const reason = bye || ev.reason || (lastError && lastError.message) || '';
      if (ev.code === 4401) { logout((lastError && lastError.message) || 'Sesi berakhir · session expired'); return; }
      if (ev.code === 4403) {
        logout((lastError && lastError.message) || 'Akun ini tidak dapat membuka peta · this account cannot use the live map');
        return;
      }
      if (opened && Date.now() - openedAt > 15000) retry = 0;
      if (bye) toast(`Server: ${bye} — menyambung ulang · reconnecting`, '');
      scheduleReconnect(reason);
      if (!opened) api('GET', '/me'); // an expired token makes this a 401, which goes back to the login form
    };
  }

  function scheduleReconnect(reason) {
    clearTimeout(retryTimer);
    clearInterval(retryTicker);
    if (!session) return;
    const delay = Math.min(30000, 1000 * 2 ** Math.min(retry, 5)) * (0.75 + Math.random() * 0.5);
    retry++;
    const due = Date.now() + delay;
    const tick = () => {
      const s = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      setConn('reconnecting', `${s} dtk${reason ? ' · ' + reason : ''}`);
    };
    tick();
    retryTicker = setInterval(tick, 1000);
    retryTimer = setTimeout(connect, delay);
  }

  window.addEventListener('online', () => { if (session && !ws) { retry = 0; connect(); } });

  function onSnapshot(msg, gen) {
    finishAnimations();
    const seen = new Set();
    for (const d of Array.isArray(msg.officers) ? msg.officers : []) { if (d && d.id != null) { seen.add(d.id); upsertOfficer(d); } }
    for (const id of [...officers.keys()]) if (!seen.has(id)) removeOfficer(id);
    const seenInc = new Set();
    for (const d of Array.isArray(msg.incidents) ? msg.incidents : []) { if (d && d.id != null) { seenInc.add(d.id); upsertIncident(d); } }
    for (const id of [...incidents.keys()]) if (!seenInc.has(id)) removeIncident(id);
    for (const d of Array.isArray(msg.alerts) ? msg.alerts : []) upsertAlert(d, false);
    if (Array.isArray(msg.reports)) for (const d of msg.reports) upsertReport(d);
    if (syncedGen !== gen) { // once per connection: catch up with what changed while we were away
      syncedGen = gen;
      loadAlerts();
      loadReports();
    }
    retry = 0;
    dirty('incidents', 'alerts', 'reports');
  }

  function handle(msg, gen) {
    const t = toDate(msg.server_time);
    if (t) skewMs = t.getTime() - Date.now();
    switch (msg.type) {
      case 'snapshot': onSnapshot(msg, gen); break;
      case 'positions': onPositions(msg.positions); break;
      case 'status': {
        const o = officers.get(msg.officer_id);
        if (o) { o.d.status = msg.status; restyleOfficer(o); dirty('counters'); }
        break;
      }
      case 'presence': {
        const o = officers.get(msg.officer_id);
        if (o) { o.d.online = msg.online === true; restyleOfficer(o); dirty('counters'); }
        break;
      }
      case 'incident': upsertIncident(msg.incident); break;
      case 'offer': onOffer(msg.offer); break;
      case 'alert': upsertAlert(msg.alert, true); break;
      case 'alert_ack': removeAlert(msg.alert_id); break;
      case 'report': upsertReport(msg.report); break;
      case 'heartbeat': send({ type: 'pong' }); break;
      case 'bye': setConn('reconnecting', String(msg.reason || '')); break;
      case 'error': if (msg.error && msg.error.message) console.warn('live:', msg.error.code, msg.error.message); break;
      default: break; // unknown types are ignored
    }
  }

  // ------------------------------------------------------------------ login / logout
  function showLogin(message) {
    $('login').hidden = false;
    $('logout').hidden = true;
    $('user-name').textContent = '';
    const err = $('login-error');
    err.textContent = message || '';
    err.hidden = !message;
    setTimeout(() => $(($('login-username').value ? 'login-password' : 'login-username')).focus(), 0);
  }

  function clearData() {
    finishAnimations();
    for (const id of [...officers.keys()]) removeOfficer(id);
    for (const id of [...incidents.keys()]) removeIncident(id);
    for (const id of [...alerts.keys()]) removeAlert(id);
    for (const id of [...reports.keys()]) removeReport(id);
    offers.clear();
    lineLayer.clearLayers();
    panels.reports = 'loading';
    panels.alerts = 'loading';
    dirty('alerts', 'reports', 'incidents');
  }

  function logout(message) {
    session = null;
    try { sessionStorage.removeItem(SESSION_KEY); } catch (e) { /* ignore */ }
    wsGen++;
    clearTimeout(retryTimer);
    clearInterval(retryTicker);
    clearTimeout(watchdog);
    if (ws) { try { ws.close(1000, 'logout'); } catch (e) { /* ignore */ } ws = null; }
    map.closePopup();
    clearData();
    setConn('off');
    showLogin(message);
  }

  function start() {
    $('login').hidden = true;
    $('logout').hidden = false;
    $('user-name').textContent = session.username ? `${session.username}${session.role ? ' (' + session.role + ')' : ''}` : '';
    retry = 0;
    connect();
    if (session.expires_at) {
      const left = session.expires_at - Date.now();
      if (left < 2 ** 31 - 1) setTimeout(() => { if (session && session.expires_at <= Date.now()) logout('Sesi berakhir · session expired'); }, left + 1000);
    }
  }

  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    unlockAudio();
    const username = $('login-username').value.trim();
    const password = $('login-password').value;
    const submit = $('login-submit');
    submit.disabled = true;
    const r = await api('POST', '/auth/token', new URLSearchParams({ username, password }));
    submit.disabled = false;
    if (!r.ok) {
      showLogin(r.message || 'Gagal masuk · sign-in failed');
      return;
    }
    const d = r.data || {};
    if (d.role === 'citizen' || d.role === 'officer') {
      showLogin(`Akun ini (${d.role}) tidak dapat membuka peta · this account cannot use the live map`);
      return;
    }
    $('login-password').value = '';
    const ttl = Number(d.expires_in);
    session = {
      token: d.access_token, role: d.role || '', username,
      expires_at: Number.isFinite(ttl) && ttl > 0 ? Date.now() + ttl * 1000 : null,
    };
    saveSession(session);
    start();
  });

  $('logout').addEventListener('click', () => logout(''));

  // Exposed for debugging and the browser tests.
  window.jogoLive = {
    state: { officers, incidents, alerts, reports, offers },
    map,
    connected: () => !!(ws && ws.readyState === WebSocket.OPEN),
  };

  dirty('alerts', 'reports', 'incidents');
  if (session) start(); else { setConn('off'); showLogin(''); }
})();

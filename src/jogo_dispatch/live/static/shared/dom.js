/* Shared by the dispatchers' live map (/map) and the phone app (/app): the page config, element builders and
 * toasts. Server strings only ever become text nodes (h() never sets innerHTML).
 *
 * Served as /static/live/shared/dom.js; the phone app imports it as '../../live/shared/dom.js' and keeps it
 * in its offline shell (webapp/router.py, SHARED_SHELL).
 */

/** The settings the server put into the page's <script id="jogo-config" type="application/json">. */
export const CFG = JSON.parse(document.getElementById('jogo-config')?.textContent || '{}');
export const $ = (id) => document.getElementById(id);

/** h('div', {class, dataset, onclick, ...attrs}, ...children): strings become text nodes; null/false are skipped. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
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
export function fill(el, ...nodes) {
  el.replaceChildren(...nodes.flat(Infinity).filter((n) => n != null && n !== false));
}

export function show(el, visible) {
  (typeof el === 'string' ? $(el) : el).hidden = !visible;
}

/**
 * A toast function for the page's #toasts box: toast(text, kind, ms); kind 'ok' | 'err' | ''.
 * `max` toasts stay on screen; `roles` gives each one role=alert (errors) or role=status.
 */
export function toaster({ max = 3, roles = true } = {}) {
  return function toast(text, kind, ms) {
    const box = $('toasts');
    const role = roles ? (kind === 'err' ? 'alert' : 'status') : null;
    const el = h('div', { class: 'toast ' + (kind || ''), role }, text);
    box.append(el);
    while (box.children.length > max) box.firstChild.remove();
    setTimeout(() => el.remove(), ms || (kind === 'err' ? 7000 : 4000));
  };
}

/* The live map's toasts (four at most) and its buttons, on the DOM helpers shared with the phone app. */
import { h, toaster } from '../shared/dom.js';

export const toast = toaster({ max: 4, roles: false });

/** A button whose click does not reach the list item or marker under it; onClick gets the button. */
export function button(label, onClick, cls) {
  return h('button', {
    type: 'button', class: cls || null,
    onclick: (ev) => { ev.stopPropagation(); onClick(ev.currentTarget); },
  }, label);
}

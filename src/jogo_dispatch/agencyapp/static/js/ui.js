/* The portal's language (Indonesian first, an English switch), its texts, times and toasts, over the helpers
 * it shares with the live map (/static/live/shared/). Server strings only ever become text nodes. */
import { CFG, toaster } from '../../live/shared/dom.js';
import { pageLanguage } from '../../live/shared/i18n.js';
import { STRINGS } from './strings.js';

export { $, CFG, fill, h, show } from '../../live/shared/dom.js';
export { toDate } from '../../live/shared/time.js';

export const {
  currentLang, t, tCode, applyI18n, setLang, onLangChange, when,
} = pageLanguage(STRINGS, { storageKey: 'jogo.agency.lang', titleKey: 'app.title', zone: CFG.timezone });

export const toast = toaster({ max: 3, roles: true });

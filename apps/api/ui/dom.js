// @ts-check
/** Small DOM helpers. Text always goes in through textContent, never innerHTML: run data can hold anything. */

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * `h('a', {href: '#/', class: 'x'}, 'text', child)`: an element with attributes (`on*` functions become listeners,
 * `dataset` an object of data-* values) and children (strings become text nodes; null and false are skipped).
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * The same for SVG elements.
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {SVGElement}
 */
export function s(tag, attrs = {}, ...children) {
  const el = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {Record<string, unknown>} attrs
 */
function setAttrs(el, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    } else if (name === 'dataset' && typeof value === 'object') {
      for (const [k, v] of Object.entries(/** @type {object} */ (value))) el.setAttribute(`data-${k}`, String(v));
    } else el.setAttribute(name, value === true ? '' : String(value));
  }
}

/**
 * @param {Element} el
 * @param {(Node | string | number | null | undefined | false)[]} children
 */
function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** @param {Element} el */
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
}

/**
 * 0.41s, 12.3s, 2m05s, 1h02m; '' when unknown.
 * @param {number | undefined} ms
 */
export function formatMs(ms) {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '';
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)}s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const sec = Math.floor(ms / 1000);
  if (sec < 3600) return `${Math.floor(sec / 60)}m${String(sec % 60).padStart(2, '0')}s`;
  return `${Math.floor(sec / 3600)}h${String(Math.floor((sec % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * A timestamp as local date and time, with the ISO form as a tooltip.
 * @param {string | undefined} iso
 */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: iso }, new Date(iso).toLocaleString());
}

/**
 * A coloured status label; `data-status` is what styles it (and what tests read).
 * @param {string} status
 */
export function badge(status) {
  return h('span', { class: 'badge', dataset: { status } }, status.replace('_', ' '));
}

// @ts-check
import { h } from './dom.js';

/**
 * Zoom, pan and fit for an SVG drawing: the drawing sits in one `<g>` whose transform this controller owns. Drag to
 * pan, the wheel (or a trackpad) pans, Ctrl/⌘ + wheel (and pinch) zooms around the pointer, and the keys + − 0 and
 * the arrows do the same from the keyboard. The first view is "fit", but never smaller than READABLE, so labels
 * stay legible however big the graph is: a big graph opens at its top, and the rest is a pan away.
 */

/** The smallest scale the first view uses: 13px labels stay above 10px. */
export const READABLE = 0.8;
const MIN_SCALE = 0.05;
const MAX_SCALE = 2.5;
/** Below this scale the secondary lines are hidden (they would be unreadable specks). */
const FAR = 0.55;
const PAD = 16;
/** Height of the zoom buttons' strip over the top of the view. */
const CONTROLS = 44;

/**
 * @param {SVGSVGElement} svg the viewport; sized by CSS
 * @param {SVGGElement} content
 * @param {{width: number, height: number}} size of the drawing at scale 1
 */
export function zoomPan(svg, content, size) {
  let k = 1;
  let tx = 0;
  let ty = 0;
  /** @type {Set<() => void>} */
  const listeners = new Set();

  const viewport = () => ({ w: svg.clientWidth || 800, h: svg.clientHeight || 500 });

  const apply = () => {
    // Keep some of the drawing on screen: it cannot be panned out of sight.
    const { w, h: vh } = viewport();
    const keep = 48;
    tx = Math.min(w - keep, Math.max(keep - size.width * k, tx));
    ty = Math.min(vh - keep, Math.max(keep - size.height * k, ty));
    content.setAttribute('transform', `translate(${tx.toFixed(1)} ${ty.toFixed(1)}) scale(${k.toFixed(4)})`);
    svg.dataset.zoom = k < FAR ? 'far' : 'near';
    svg.dataset.scale = k.toFixed(3);
    for (const listener of listeners) listener();
  };

  const fitScale = () => {
    const { w, h: vh } = viewport();
    return Math.min((w - 2 * PAD) / size.width, (vh - 2 * PAD) / size.height);
  };

  /**
   * @param {number} scale
   * @param {number} [cx] the viewport point that stays put
   * @param {number} [cy]
   */
  const zoomTo = (scale, cx, cy) => {
    const { w, h: vh } = viewport();
    const px = cx ?? w / 2;
    const py = cy ?? vh / 2;
    const next = Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
    tx = px - ((px - tx) * next) / k;
    ty = py - ((py - ty) * next) / k;
    k = next;
    apply();
  };

  const controller = {
    get scale() {
      return k;
    },
    /** The whole drawing in view, however small that makes it. */
    fit() {
      const { w, h: vh } = viewport();
      k = Math.min(MAX_SCALE, Math.max(MIN_SCALE, Math.min(1, fitScale())));
      tx = (w - size.width * k) / 2;
      ty = Math.max(PAD, (vh - size.height * k) / 2);
      apply();
    },
    /**
     * Fit, but no smaller than READABLE. A drawing that does not fit then shows the part `focus` picks (given the
     * size of the view in drawing units), or its top left corner.
     * @param {(view: {width: number, height: number}) => {x: number, y: number}} [focus]
     */
    initial(focus) {
      const { w, h: vh } = viewport();
      k = Math.max(READABLE, Math.min(1, fitScale()));
      const at = focus?.({ width: (w - 2 * PAD) / k, height: (vh - CONTROLS - PAD) / k }) ?? { x: 0, y: 0 };
      tx = size.width * k + 2 * PAD <= w ? (w - size.width * k) / 2 : PAD - at.x * k;
      // Below the zoom buttons, which sit in the top left corner.
      ty = size.height * k + 2 * PAD <= vh ? (vh - size.height * k) / 2 : CONTROLS - at.y * k;
      apply();
    },
    /** @param {number} factor */
    zoomBy(factor) {
      zoomTo(k * factor);
    },
    /** 100%, keeping the centre of the view. */
    actualSize() {
      zoomTo(1);
    },
    /**
     * Pans so a point of the drawing is in the middle of the view.
     * @param {number} x
     * @param {number} y
     */
    centerOn(x, y) {
      const { w, h: vh } = viewport();
      tx = w / 2 - x * k;
      ty = vh / 2 - y * k;
      apply();
    },
    /** The part of the drawing in view, in drawing units. */
    visible() {
      const { w, h: vh } = viewport();
      return { x: -tx / k, y: -ty / k, width: w / k, height: vh / k };
    },
    /** @param {() => void} listener called after every change */
    onChange(listener) {
      listeners.add(listener);
    },
  };

  svg.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      const rect = svg.getBoundingClientRect();
      if (event.ctrlKey || event.metaKey) {
        zoomTo(k * Math.exp(-event.deltaY * 0.0025), event.clientX - rect.left, event.clientY - rect.top);
      } else {
        tx -= event.deltaX;
        ty -= event.deltaY;
        apply();
      }
    },
    { passive: false },
  );

  // Drag to pan. A press that moves less than a few pixels stays a click (selecting a task).
  /** @type {{x: number, y: number, tx: number, ty: number, id: number, moved: boolean} | undefined} */
  let drag;
  svg.addEventListener('pointerdown', (event) => {
    if (event.button !== 0 || (event.target instanceof Element && event.target.closest('a'))) return;
    drag = { x: event.clientX, y: event.clientY, tx, ty, id: event.pointerId, moved: false };
  });
  svg.addEventListener('pointermove', (event) => {
    if (!drag || event.pointerId !== drag.id) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < 4) return;
    if (!drag.moved) svg.setPointerCapture(drag.id);
    drag.moved = true;
    svg.classList.add('panning');
    tx = drag.tx + dx;
    ty = drag.ty + dy;
    apply();
  });
  const end = () => {
    if (drag?.moved) {
      // The click that ends a drag must not select whatever is under the pointer.
      svg.addEventListener('click', (e) => e.stopPropagation(), { capture: true, once: true });
    }
    drag = undefined;
    svg.classList.remove('panning');
  };
  svg.addEventListener('pointerup', end);
  svg.addEventListener('pointercancel', end);

  svg.addEventListener('keydown', (event) => {
    if (event.target !== svg) return;
    const step = 60;
    /** @type {Record<string, () => void>} */
    const keys = {
      '+': () => controller.zoomBy(1.25),
      '=': () => controller.zoomBy(1.25),
      '-': () => controller.zoomBy(0.8),
      0: () => controller.fit(),
      ArrowLeft: () => {
        tx += step;
        apply();
      },
      ArrowRight: () => {
        tx -= step;
        apply();
      },
      ArrowUp: () => {
        ty += step;
        apply();
      },
      ArrowDown: () => {
        ty -= step;
        apply();
      },
    };
    const action = keys[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  return controller;
}

/**
 * The zoom buttons and the scale readout.
 * @param {ReturnType<typeof zoomPan>} view
 */
export function zoomControls(view) {
  const readout = h('span', { class: 'zoom-readout', 'aria-live': 'polite' });
  const update = () => {
    readout.textContent = `${Math.round(view.scale * 100)}%`;
  };
  view.onChange(update);
  update();
  /**
   * @param {string} label
   * @param {string} name
   * @param {string} title
   * @param {() => void} act
   */
  const button = (label, name, title, act) =>
    h('button', { type: 'button', class: `zoom-${name}`, title, 'aria-label': title, onclick: act }, label);
  return h(
    'div',
    { class: 'zoom-controls', role: 'toolbar', 'aria-label': 'graph zoom' },
    button('−', 'out', 'Zoom out (-)', () => view.zoomBy(0.8)),
    readout,
    button('+', 'in', 'Zoom in (+)', () => view.zoomBy(1.25)),
    button('Fit', 'fit', 'Fit the whole graph (0)', () => view.fit()),
    button('1:1', 'actual', 'Actual size', () => view.actualSize()),
  );
}

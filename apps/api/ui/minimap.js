// @ts-check
import { h, s } from './dom.js';

/**
 * An overview of a graph bigger than its view: every node as a small box in its status colour, and the part in
 * view as a frame. Clicking or dragging on it moves the view there. Hidden while the whole graph is in view.
 */

const WIDTH = 180;
const MAX_HEIGHT = 140;

/**
 * @param {import('./dag-layout.js').Layout} placed
 * @param {ReturnType<typeof import('./zoom-pan.js').zoomPan>} view
 * @param {(nodeId: string) => string} statusOf
 */
export function minimap(placed, view, statusOf) {
  const scale = Math.min(WIDTH / placed.width, MAX_HEIGHT / placed.height);
  const width = Math.max(24, Math.round(placed.width * scale));
  const height = Math.max(16, Math.round(placed.height * scale));
  const frame = s('rect', { class: 'minimap-view' });
  /** @type {[string, SVGElement][]} */
  const boxes = [];
  const svg = s('svg', { class: 'minimap-map', width, height, viewBox: `0 0 ${placed.width} ${placed.height}` });
  for (const [id, p] of placed.nodes) {
    const box = s('rect', { x: p.x, y: p.y, width: p.width, height: p.height, rx: 6, dataset: { status: 'pending' } });
    boxes.push([id, box]);
    svg.append(box);
  }
  svg.append(frame);
  const element = h('div', { class: 'minimap', title: 'overview: click or drag to move the view' }, svg);

  const showFrame = () => {
    const v = view.visible();
    const whole = v.x <= 0 && v.y <= 0 && v.x + v.width >= placed.width && v.y + v.height >= placed.height;
    element.hidden = whole;
    frame.setAttribute('x', String(v.x));
    frame.setAttribute('y', String(v.y));
    frame.setAttribute('width', String(v.width));
    frame.setAttribute('height', String(v.height));
  };
  view.onChange(showFrame);

  /** @param {PointerEvent} event */
  const moveTo = (event) => {
    const rect = svg.getBoundingClientRect();
    view.centerOn(
      ((event.clientX - rect.left) / rect.width) * placed.width,
      ((event.clientY - rect.top) / rect.height) * placed.height,
    );
  };
  let dragging = false;
  svg.addEventListener('pointerdown', (event) => {
    dragging = true;
    svg.setPointerCapture(event.pointerId);
    moveTo(event);
  });
  svg.addEventListener('pointermove', (event) => {
    if (dragging) moveTo(event);
  });
  svg.addEventListener('pointerup', () => {
    dragging = false;
  });

  return {
    element,
    update() {
      for (const [id, box] of boxes) box.dataset.status = statusOf(id);
      showFrame();
    },
  };
}

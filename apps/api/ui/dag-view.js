// @ts-check
import { clip, curve, isTall, layout } from './dag-layout.js';
import { formatMs, h, s } from './dom.js';
import { groupLabel, groupStatus, statusCounts } from './graph-model.js';
import { minimap } from './minimap.js';
import { zoomControls, zoomPan } from './zoom-pan.js';

/**
 * The workflow DAG as SVG: laid out once (a new layout only when a group is expanded or folded), then updated in
 * place as statuses change, so a live run does not jump around. A task is a `g.task` with `data-task` and
 * `data-status`; a folded fan-out is a `g.group` with `data-group`, its members' counts and a status bar; a
 * parallel task shows its items the same way; a sub-workflow task links to its child run.
 */

/** Average advance of an 11px secondary-line character. */
const SMALL_CHAR_PX = 6.2;

/**
 * @typedef {{id: string, name?: string, type: string, depends_on: string[], condition?: string,
 *   branches?: Record<string, 'on_success' | 'on_failure'>, child_execution_id?: string}} GraphTask
 * @typedef {{id: string, type: string, status: string, attempts: number, duration_ms?: number, started_at?: string,
 *   finished_at?: string, waiting_for?: object, skip_reason?: string, error?: string, output?: unknown, worker?: string,
 *   name?: string, history?: RecordAttempt[]}} TaskState
 * @typedef {{attempt: number, worker?: string, started_at: string, ended_at?: string, status: string, error?: string,
 *   duration_ms?: number}} RecordAttempt  one entry of a task record's `history`
 * @typedef {{total: number, counts: Record<string, number>}} ItemsSummary
 * @typedef {{statusOf: (id: string) => string, states: Map<string, TaskState>, items: Map<string, ItemsSummary>,
 *   now: number, preview?: boolean}} DagState  `preview`: a template's graph, which has no statuses
 */

/**
 * @param {import('./graph-model.js').DisplayGraph} graph
 * @param {{onSelect: (nodeId: string) => void, onExpand: (groupKey: string) => void,
 *   direction?: 'TB' | 'LR' | 'auto', onDirection?: (direction: 'TB' | 'LR') => void}} options
 */
export function createDag(graph, options) {
  const placed = layout(graph, options.direction);
  const content = /** @type {SVGGElement} */ (s('g', { class: 'viewport' }));
  const svg = /** @type {SVGSVGElement} */ (
    s(
      'svg',
      {
        class: 'dag',
        tabindex: 0,
        role: 'img',
        'aria-label': `workflow graph of ${graph.nodes.length} nodes; drag or scroll to pan, Ctrl+scroll to zoom`,
        dataset: { width: placed.width, height: placed.height, direction: placed.direction },
      },
      s(
        'defs',
        {},
        s(
          'marker',
          {
            id: 'arrow',
            viewBox: '0 0 10 10',
            refX: 9,
            refY: 5,
            markerWidth: 7,
            markerHeight: 7,
            orient: 'auto-start-reverse',
          },
          s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow-head' }),
        ),
      ),
      content,
    )
  );

  /** @type {Map<string, SVGElement[]>} edges by source node, so they can take its status */
  const edgesFrom = new Map();
  for (const e of placed.edges) {
    const path = s('path', {
      class: 'edge',
      d: curve(e.points),
      'marker-end': 'url(#arrow)',
      dataset: { from: e.from, to: e.to },
    });
    content.append(path);
    edgesFrom.set(e.from, [...(edgesFrom.get(e.from) ?? []), path]);
    if (e.branch) {
      const mid = /** @type {{x: number, y: number}} */ (e.points[Math.floor(e.points.length / 2)]);
      content.append(
        s('text', { class: 'edge-label', x: mid.x + 6, y: mid.y }, e.branch === 'on_success' ? 'true' : 'false'),
      );
    }
  }

  /** @type {Map<string, {g: SVGElement, sub: SVGElement, bar?: SVGElement, counts?: SVGElement, link?: SVGElement, place: import('./dag-layout.js').PlacedNode}>} */
  const nodes = new Map();
  for (const place of placed.nodes.values()) {
    const { node, width, height } = place;
    const group = node.kind === 'group';
    const sub = s('text', { class: 'task-sub', x: 12, y: 38 });
    const title = group
      ? `${node.members.length} tasks with the same dependencies: ${groupLabel(node.members)}`
      : node.task.name
        ? `${node.id}: ${node.task.name}`
        : node.id;
    const label = group ? `${node.members.length} × ${node.type}` : node.id;
    const select = () => options.onSelect(node.id);
    const g = s(
      'g',
      {
        class: group ? 'group' : 'task',
        transform: `translate(${place.x}, ${place.y})`,
        tabindex: 0,
        role: 'button',
        'aria-label': group ? `group of ${node.members.length} tasks` : `task ${node.id}`,
        dataset: group
          ? { group: node.key, node: node.id, status: 'pending', members: node.members.length }
          : { task: node.id, type: node.task.type, status: 'pending' },
        onclick: select,
        ondblclick: group ? () => options.onExpand(node.key) : undefined,
        onkeydown: (/** @type {KeyboardEvent} */ event) => {
          if (event.key === 'Enter' || event.key === ' ') select();
        },
      },
      s('title', {}, title),
      s('rect', { class: 'box', width, height, rx: 9 }),
      s('rect', { class: 'task-stripe', x: 1.5, y: 1.5, width: 5, height: height - 3, rx: 2.5 }),
      s('text', { class: 'task-id', x: 12, y: 21 }, clip(label, width)),
      sub,
    );
    /** @type {{g: SVGElement, sub: SVGElement, bar?: SVGElement, counts?: SVGElement, link?: SVGElement, place: typeof place}} */
    const entry = { g, sub, place };
    if (group || (isTall(node) && node.task.type === 'parallel')) {
      entry.bar = s('g', { class: 'bar', transform: 'translate(12, 46)' });
      entry.counts = s('text', { class: 'task-sub counts', x: 12, y: 66 });
      g.append(entry.bar, entry.counts);
      if (group) sub.textContent = clip(groupLabel(node.members), width, SMALL_CHAR_PX);
    } else if (isTall(node)) {
      entry.link = s('a', { class: 'child-link' }, s('text', { x: 12, y: 62 }, ''));
      g.append(entry.link);
    }
    nodes.set(node.id, entry);
    content.append(g);
  }

  const view = zoomPan(svg, content, placed);
  const map = minimap(placed, view, (id) => nodes.get(id)?.g.dataset.status ?? 'pending');
  const controls = zoomControls(view);
  if (options.onDirection) {
    const other = placed.direction === 'TB' ? 'LR' : 'TB';
    controls.append(
      h(
        'button',
        {
          type: 'button',
          class: 'direction',
          title: other === 'LR' ? 'Lay out left to right' : 'Lay out top to bottom',
          onclick: () => options.onDirection?.(other),
        },
        other === 'LR' ? '→' : '↓',
      ),
    );
  }
  const element = h('div', { class: 'dag-frame' }, svg, controls, map.element);

  return {
    element,
    view,
    layout: placed,
    /**
     * Call once the element is in the document (the view needs its size). `fit` shows all of it however small
     * (a template's preview); otherwise labels stay readable and a big graph opens on its busiest part.
     * @param {'readable' | 'fit'} [mode]
     */
    start(mode = 'readable') {
      if (mode === 'fit') view.fit();
      else view.initial((size) => busiestWindow([...placed.nodes.values()], size));
    },
    /** @param {DagState} state */
    update(state) {
      for (const [id, entry] of nodes) {
        const { node, width } = entry.place;
        let status;
        if (node.kind === 'group') {
          const counts = statusCounts(node.members, state.statusOf);
          status = groupStatus(counts);
          drawBar(entry, counts, node.members.length, width, 'tasks');
        } else {
          const task = state.states.get(id);
          status = state.statusOf(id);
          const took = task?.duration_ms ?? (task?.started_at ? state.now - Date.parse(task.started_at) : undefined);
          const attempt = (task?.attempts ?? 0) > 1 ? ` · #${task?.attempts}` : '';
          entry.sub.textContent = state.preview
            ? clip(node.task.name ? `${node.task.type} · ${node.task.name}` : node.task.type, width, SMALL_CHAR_PX)
            : `${node.task.type} · ${status.replace('_', ' ')}${attempt}${took === undefined ? '' : ` · ${formatMs(took)}`}`;
          entry.g.dataset.attempts = String(task?.attempts ?? 0);
          const items = state.items.get(id);
          if (entry.bar && items) {
            const counts = /** @type {[string, number][]} */ (Object.entries(items.counts).filter(([, n]) => n > 0));
            drawBar(entry, counts, items.total, width, 'items');
          } else if (entry.counts) {
            entry.counts.textContent = state.preview || !task || task.status === 'pending' ? 'items: not started' : '';
          }
          const child = node.task.child_execution_id;
          if (entry.link && child) {
            entry.link.setAttribute('href', `#/runs/${encodeURIComponent(child)}`);
            entry.link.dataset.child = child;
            /** @type {Element} */ (entry.link.firstChild).textContent = 'open child run ↗';
          }
        }
        entry.g.dataset.status = status;
        for (const edge of edgesFrom.get(id) ?? []) edge.dataset.status = status;
      }
      map.update();
    },
    /** @param {string | undefined} nodeId */
    select(nodeId) {
      for (const [id, entry] of nodes) entry.g.classList.toggle('selected', id === nodeId);
    },
    /**
     * Pans to a node when it is out of view.
     * @param {string} nodeId
     */
    reveal(nodeId) {
      const place = nodes.get(nodeId)?.place;
      if (!place) return;
      const v = view.visible();
      const inside =
        place.x >= v.x &&
        place.y >= v.y &&
        place.x + place.width <= v.x + v.width &&
        place.y + place.height <= v.y + v.height;
      if (!inside) view.centerOn(place.x + place.width / 2, place.y + place.height / 2);
    },
  };
}

/**
 * Where a view of `size` shows the most whole nodes, its corner at some node's corner; ties go to the one nearest
 * the drawing's start. A big graph then opens on the part with something to read, not on the empty margin dagre
 * leaves around a few long rows.
 * @param {import('./dag-layout.js').PlacedNode[]} places
 * @param {{width: number, height: number}} size
 */
function busiestWindow(places, size) {
  let best = { x: 0, y: 0, count: -1 };
  for (const corner of places) {
    const x = corner.x - 8;
    const y = corner.y - 8;
    let count = 0;
    for (const p of places) {
      if (p.x >= x && p.y >= y && p.x + p.width <= x + size.width && p.y + p.height <= y + size.height) count++;
    }
    if (count > best.count || (count === best.count && x + y < best.x + best.y)) best = { x, y, count };
  }
  return best;
}

/**
 * A stacked bar of counts by status and the counts as text.
 * @param {{bar?: SVGElement, counts?: SVGElement}} entry
 * @param {[string, number][]} counts
 * @param {number} total
 * @param {number} width
 * @param {string} noun
 */
function drawBar(entry, counts, total, width, noun) {
  if (!entry.bar || !entry.counts) return;
  const barWidth = width - 24;
  while (entry.bar.firstChild) entry.bar.firstChild.remove();
  entry.bar.append(s('rect', { class: 'track', width: barWidth, height: 7, rx: 3.5 }));
  let x = 0;
  for (const [status, n] of counts) {
    const w = total > 0 ? (barWidth * n) / total : 0;
    entry.bar.append(s('rect', { class: 'seg', x, width: Math.max(w, 1), height: 7, dataset: { status, count: n } }));
    x += w;
  }
  const text = counts.map(([status, n]) => `${n} ${status.replace('_', ' ')}`).join(' · ');
  entry.counts.textContent = clip(`${total} ${noun}: ${text}`, width, SMALL_CHAR_PX);
  entry.counts.setAttribute('data-counts', JSON.stringify(Object.fromEntries(counts)));
}

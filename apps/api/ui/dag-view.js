// @ts-check
import { formatMs, s } from './dom.js';

/**
 * The workflow DAG as SVG: laid out once with dagre (ranks top to bottom), then updated in place as statuses change,
 * so a live run does not jump around. Each task is a `g.task` with `data-task` and `data-status`.
 */

/**
 * @typedef {{id: string, name?: string, type: string, depends_on: string[], condition?: string,
 *   branches?: Record<string, 'on_success' | 'on_failure'>}} GraphTask
 * @typedef {{id: string, type: string, status: string, attempts: number, duration_ms?: number, started_at?: string,
 *   finished_at?: string, waiting_for?: object, skip_reason?: string, error?: string, output?: unknown,
 *   worker?: string, name?: string}} TaskState
 */

const NODE_HEIGHT = 54;

/** @type {any} */
const globals = window;

/**
 * @param {GraphTask[]} tasks
 * @param {{onSelect: (id: string) => void}} options
 * @returns {{svg: SVGElement, update: (states: Map<string, TaskState>, now: number) => void, select: (id: string | undefined) => void}}
 */
export function createDag(tasks, options) {
  const dagre = globals.dagre;
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 46, edgesep: 12, marginx: 16, marginy: 16 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const task of tasks) {
    const longest = Math.max(task.id.length, task.type.length + 16);
    graph.setNode(task.id, { width: Math.min(260, Math.max(132, longest * 7.4 + 34)), height: NODE_HEIGHT });
  }
  for (const task of tasks) for (const dep of task.depends_on) graph.setEdge(dep, task.id);
  dagre.layout(graph);
  const size = graph.graph();

  const svg = s('svg', {
    class: 'dag',
    viewBox: `0 0 ${Math.ceil(size.width)} ${Math.ceil(size.height)}`,
    width: Math.ceil(size.width),
    height: Math.ceil(size.height),
    role: 'img',
    'aria-label': `workflow graph of ${tasks.length} tasks`,
  });
  svg.append(
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
  );
  const byId = new Map(tasks.map((t) => [t.id, t]));
  /** @type {Map<string, SVGElement[]>} edges by source task, so they can take its status */
  const edgesFrom = new Map();
  for (const e of graph.edges()) {
    const points = graph.edge(e).points;
    const path = s('path', {
      class: 'edge',
      d: curve(points),
      'marker-end': 'url(#arrow)',
      dataset: { from: e.v, to: e.w },
    });
    svg.append(path);
    edgesFrom.set(e.v, [...(edgesFrom.get(e.v) ?? []), path]);
    const branch = byId.get(e.w)?.branches?.[e.v];
    if (branch) {
      const mid = points[Math.floor(points.length / 2)];
      svg.append(
        s('text', { class: 'edge-label', x: mid.x + 6, y: mid.y }, branch === 'on_success' ? 'true' : 'false'),
      );
    }
  }
  /** @type {Map<string, {g: SVGElement, sub: SVGElement}>} */
  const nodes = new Map();
  for (const task of tasks) {
    const n = graph.node(task.id);
    const sub = s('text', { class: 'task-sub', x: 12, y: 38 }, task.type);
    const g = s(
      'g',
      {
        class: 'task',
        transform: `translate(${n.x - n.width / 2}, ${n.y - n.height / 2})`,
        tabindex: 0,
        role: 'button',
        'aria-label': `task ${task.id}`,
        dataset: { task: task.id, type: task.type, status: 'pending' },
        onclick: () => options.onSelect(task.id),
        onkeydown: (/** @type {KeyboardEvent} */ event) => {
          if (event.key === 'Enter' || event.key === ' ') options.onSelect(task.id);
        },
      },
      s('title', {}, task.name ? `${task.id}: ${task.name}` : task.id),
      s('rect', { width: n.width, height: n.height, rx: 9 }),
      s('rect', { class: 'task-stripe', x: 1.5, y: 1.5, width: 5, height: n.height - 3, rx: 2.5 }),
      s('text', { class: 'task-id', x: 12, y: 21 }, clip(task.id, Math.floor((n.width - 20) / 7.4))),
      sub,
    );
    nodes.set(task.id, { g, sub });
    svg.append(g);
  }

  return {
    svg,
    update(states, now) {
      for (const [id, node] of nodes) {
        const state = states.get(id);
        const status = state?.waiting_for && state.status === 'running' ? 'waiting' : (state?.status ?? 'pending');
        node.g.dataset.status = status;
        node.g.dataset.attempts = String(state?.attempts ?? 0);
        const took = state?.duration_ms ?? (state?.started_at ? now - Date.parse(state.started_at) : undefined);
        const attempt = (state?.attempts ?? 0) > 1 ? ` · #${state?.attempts}` : '';
        node.sub.textContent = `${byId.get(id)?.type} · ${status.replace('_', ' ')}${attempt}${took === undefined ? '' : ` · ${formatMs(took)}`}`;
        for (const edge of edgesFrom.get(id) ?? []) edge.dataset.status = status;
      }
    },
    select(id) {
      for (const [taskId, node] of nodes) node.g.classList.toggle('selected', taskId === id);
    },
  };
}

/**
 * A smooth path through dagre's edge points: quadratic segments through the midpoints.
 * @param {{x: number, y: number}[]} points
 */
function curve(points) {
  const [first, ...rest] = points;
  if (!first) return '';
  let d = `M ${first.x} ${first.y}`;
  for (let i = 0; i < rest.length - 1; i++) {
    const p = /** @type {{x: number, y: number}} */ (rest[i]);
    const q = /** @type {{x: number, y: number}} */ (rest[i + 1]);
    d += ` Q ${p.x} ${p.y} ${(p.x + q.x) / 2} ${(p.y + q.y) / 2}`;
  }
  const last = rest.at(-1);
  if (last) d += ` L ${last.x} ${last.y}`;
  return d;
}

/**
 * @param {string} text
 * @param {number} max
 */
function clip(text, max) {
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

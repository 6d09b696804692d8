// @ts-check
import { clear, formatMs, h, s } from './dom.js';
import { groupLabel, groupStatus, statusCounts } from './graph-model.js';
import { readyAt } from './run-history.js';

/**
 * The run as a Gantt chart: one row per task, in start order. Each row shows the wait before the task's first
 * attempt (from the moment its last dependency ended), then every attempt, coloured by how it ended; the gap
 * between two attempts is the retry's backoff. A folded fan-out is one row with all its members' bars overlaid,
 * so its spread shows; clicking the row's label expands it. All of it comes from the run's events.
 */

const ROW = 22;
const LABEL = 190;
const AXIS = 26;
const RIGHT = 16;

/**
 * @typedef {import('./run-history.js').TaskHistory} TaskHistory
 * @typedef {{history: {tasks: Map<string, TaskHistory>, started?: number, ended?: number},
 *   statusOf: (id: string) => string, now: number, selected?: string}} TimelineState
 */

/**
 * @param {{tasks: import('./dag-view.js').GraphTask[], graph: import('./graph-model.js').DisplayGraph,
 *   onSelect: (nodeId: string) => void, onExpand: (groupKey: string) => void}} props
 */
export function createTimeline(props) {
  const chart = h('div', { class: 'timeline-chart' });
  const element = h(
    'section',
    { class: 'timeline', 'aria-label': 'timeline' },
    h(
      'p',
      { class: 'legend' },
      ...[
        ['wait', 'waiting to start'],
        ['running', 'running'],
        ['completed', 'completed'],
        ['retried', 'failed, retried'],
        ['failed', 'failed'],
      ].map(([k, text]) => h('span', { class: 'key', dataset: { kind: k } }, text)),
    ),
    chart,
  );
  const byId = new Map(props.tasks.map((t) => [t.id, t]));
  /** @type {TimelineState | undefined} */
  let last;

  /** @param {TimelineState} state */
  const render = (state) => {
    last = state;
    const { history } = state;
    const width = Math.max(480, chart.clientWidth || 960);
    const rows = rowsOf(props.graph, history.tasks, byId);
    const t0 = history.started ?? firstStart(history.tasks) ?? state.now;
    const t1 = Math.max(t0 + 1, history.ended ?? state.now, lastEnd(history.tasks) ?? t0);
    const span = t1 - t0;
    const plot = width - LABEL - RIGHT;
    const x = (/** @type {number} */ t) => LABEL + ((t - t0) / span) * plot;
    const height = AXIS + rows.length * ROW + 4;
    const svg = s('svg', { class: 'gantt', width, height, dataset: { span, rows: rows.length } });
    svg.append(axis(t0, span, plot, height));
    rows.forEach((row, i) => {
      const y = AXIS + i * ROW;
      const status = row.members ? groupStatus(statusCounts(row.members, state.statusOf)) : state.statusOf(row.id);
      const g = s('g', {
        class: `row${state.selected === row.node ? ' selected' : ''}`,
        transform: `translate(0, ${y})`,
        dataset: row.members ? { group: row.key, status } : { task: row.id, status },
        onclick: () => props.onSelect(row.node),
      });
      g.append(s('rect', { class: 'row-bg', x: 0, y: 0, width, height: ROW }));
      const label = row.members ? `${row.members.length} × ${groupLabel(row.members)}` : row.id;
      const text = s('text', { class: 'row-label', x: 8, y: 15 }, label.length > 26 ? `${label.slice(0, 25)}…` : label);
      if (row.members) {
        text.classList.add('expandable');
        text.addEventListener('click', (event) => {
          event.stopPropagation();
          props.onExpand(/** @type {string} */ (row.key));
        });
        text.append(s('title', {}, 'expand this group'));
      }
      g.append(text);
      const ids = row.members ?? [row.id];
      const faint = ids.length > 1;
      for (const id of ids) drawTask(g, id, byId, history, state, x, faint);
      svg.append(g);
    });
    clear(chart);
    chart.append(svg);
  };

  window.addEventListener('resize', () => {
    if (last && element.isConnected) render(last);
  });
  return { element, update: render };
}

/**
 * @param {SVGElement} g
 * @param {string} id
 * @param {Map<string, import('./dag-view.js').GraphTask>} byId
 * @param {TimelineState['history']} history
 * @param {TimelineState} state
 * @param {(t: number) => number} x
 * @param {boolean} faint
 */
function drawTask(g, id, byId, history, state, x, faint) {
  const task = byId.get(id);
  const h = history.tasks.get(id);
  if (!task || !h || h.attempts.length === 0) return;
  const first = /** @type {import('./run-history.js').Attempt} */ (h.attempts[0]);
  const ready = readyAt(task, history.tasks, history.started);
  const cls = faint ? ' faint' : '';
  if (ready !== undefined && ready < first.started) {
    g.append(
      s(
        'rect',
        { class: `wait${cls}`, x: x(ready), y: 8, width: Math.max(1, x(first.started) - x(ready)), height: 6 },
        s('title', {}, `${id} waited ${formatMs(first.started - ready)} before its first attempt`),
      ),
    );
  }
  for (const a of h.attempts) {
    const end = a.ended ?? state.now;
    const worker = a.worker ? ` on ${a.worker}` : '';
    const tip = `${id} attempt ${a.attempt}${worker}: ${a.status}, ${formatMs(end - a.started)}${a.error ? `\n${a.error}` : ''}`;
    g.append(
      s(
        'rect',
        {
          class: `attempt${cls}`,
          x: x(a.started),
          y: 4,
          width: Math.max(2, x(end) - x(a.started)),
          height: 14,
          rx: 2,
          dataset: { status: a.status, attempt: a.attempt, task: id },
        },
        s('title', {}, tip),
      ),
    );
  }
}

/**
 * Rows in start order; a folded group is one row placed at its first member's start.
 * @param {import('./graph-model.js').DisplayGraph} graph
 * @param {Map<string, TaskHistory>} tasks
 * @param {Map<string, import('./dag-view.js').GraphTask>} byId
 * @returns {{node: string, id: string, key?: string, members?: string[], start: number}[]}
 */
function rowsOf(graph, tasks, byId) {
  const startOf = (/** @type {string} */ id) => tasks.get(id)?.attempts[0]?.started ?? Number.POSITIVE_INFINITY;
  const order = [...byId.keys()];
  const rows = graph.nodes.map((node) => {
    if (node.kind === 'group') {
      const start = Math.min(...node.members.map(startOf));
      return { node: node.id, id: node.id, key: node.key, members: node.members, start };
    }
    return { node: node.id, id: node.id, start: startOf(node.id) };
  });
  return rows.sort((a, b) => a.start - b.start || order.indexOf(a.id) - order.indexOf(b.id));
}

/** @param {Map<string, TaskHistory>} tasks */
function firstStart(tasks) {
  let first;
  for (const t of tasks.values()) {
    const started = t.attempts[0]?.started;
    if (started !== undefined && (first === undefined || started < first)) first = started;
  }
  return first;
}

/** @param {Map<string, TaskHistory>} tasks */
function lastEnd(tasks) {
  let last;
  for (const t of tasks.values()) for (const a of t.attempts) if (a.ended && (!last || a.ended > last)) last = a.ended;
  return last;
}

/**
 * Tick marks at a round step, about one per 90 px.
 * @param {number} t0
 * @param {number} span ms
 * @param {number} plot px
 * @param {number} height
 */
function axis(t0, span, plot, height) {
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 3e4, 6e4, 3e5, 6e5, 18e5, 36e5, 72e5];
  const wanted = span / Math.max(1, Math.floor(plot / 90));
  const step = steps.find((st) => st >= wanted) ?? 36e5 * Math.ceil(wanted / 36e5);
  const g = s('g', { class: 'axis' });
  for (let t = 0; t <= span; t += step) {
    const x = LABEL + (t / span) * plot;
    g.append(
      s('line', { x1: x, x2: x, y1: AXIS - 6, y2: height }),
      s(
        'text',
        { x: x + 3, y: AXIS - 10 },
        t === 0 ? new Date(t0).toLocaleTimeString() : step < 1000 ? `+${t}ms` : `+${formatMs(t)}`,
      ),
    );
  }
  return g;
}

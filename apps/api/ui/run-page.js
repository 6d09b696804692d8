// @ts-check
import { api, followEvents, runPath } from './api.js';
import { createDag } from './dag-view.js';
import { clear, h } from './dom.js';
import { displayGraph } from './graph-model.js';
import { groupPanel } from './group-panel.js';
import { stopLogs } from './logs-view.js';
import { runHead } from './run-head.js';
import { readyAt, runHistory } from './run-history.js';
import { taskPanel } from './task-panel.js';
import { createTimeline } from './timeline-view.js';

const TERMINAL = new Set(['completed', 'failed', 'timed_out', 'cancelled']);
const TASK_DONE = new Set(['completed', 'failed', 'skipped', 'upstream_failed', 'cancelled']);
/** Events shown in the log, newest first; the page keeps them all for the timeline. */
const EVENT_ROWS = 200;

/**
 * The run page: header with progress and actions, the DAG (or the timeline) coloured by task status, the selected
 * task's or group's panel, and the event log. Live from the event stream: each event updates the view at once, and
 * the full record (outputs, waits, attempts) is re-read shortly after, at most a few times a second.
 * `#/runs/<id>?view=timeline` opens the timeline.
 * @param {HTMLElement} root
 * @param {string} id
 * @param {URLSearchParams} query
 * @param {{onError: (error: unknown) => void}} ctx
 * @returns {() => void} stops the live updates
 */
export function runPage(root, id, query, ctx) {
  const stop = new AbortController();
  /** @type {any} */
  let record;
  /** @type {Map<string, import('./dag-view.js').TaskState>} */
  const states = new Map();
  /** @type {import('./api.js').RunEvent[]} */
  const events = [];
  /** @type {Map<string, import('./dag-view.js').ItemsSummary>} */
  const items = new Map();
  /** Parallel tasks whose counts were read after they ended. */
  const itemsDone = new Set();
  /** @type {any} */
  let graph;
  /** @type {import('./graph-model.js').DisplayGraph | undefined} */
  let shape;
  /** @type {ReturnType<typeof createDag> | undefined} */
  let dag;
  /** @type {ReturnType<typeof createTimeline> | undefined} */
  let timeline;
  const expanded = new Set();
  const ui = {
    view: query.get('view') === 'timeline' ? 'timeline' : 'graph',
    /** @type {string | undefined} a display node: a task or `group:<key>` */
    selected: undefined,
    /** @type {string | undefined} a group member opened from the group's panel */
    member: undefined,
    /** @type {string | undefined} */
    tab: undefined,
    /** @type {string | undefined} */
    filter: undefined,
    /** @type {'TB' | 'LR' | 'auto'} */
    direction: 'auto',
  };
  let liveState = 'connecting';

  const head = h('div', { class: 'run-head' });
  const viewTabs = h('div', { class: 'view-tabs', role: 'tablist', 'aria-label': 'run view' });
  const stage = h('div', { class: 'stage' }, h('p', { class: 'muted' }, 'loading…'));
  const panelSlot = h('div', { class: 'panel-slot' });
  const log = h('ol', { class: 'events', reversed: true });
  clear(root);
  root.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← runs')),
    head,
    viewTabs,
    h('div', { class: 'run-body' }, stage, panelSlot),
    h('section', { class: 'event-log' }, h('h2', {}, 'events'), log),
  );

  const statusOf = (/** @type {string} */ taskId) => {
    const t = states.get(taskId);
    return t?.waiting_for && t.status === 'running' ? 'waiting' : (t?.status ?? 'pending');
  };

  const draw = () => {
    if (!record || !graph) return;
    const parentId = graph.parent?.execution_id ?? record.parent_execution_id;
    head.replaceChildren(
      ...runHead({
        id,
        record,
        statuses: graph.tasks.map((/** @type {{id: string}} */ t) => states.get(t.id)?.status ?? 'pending'),
        liveState,
        parent: parentId ? { execution_id: parentId, task: graph.parent?.task } : undefined,
        act,
      }),
    );
    const now = Date.now();
    const history = runHistory(events);
    if (ui.view === 'graph') dag?.update({ statusOf, states, items, now });
    else timeline?.update({ history, statusOf, now, selected: ui.selected });
    dag?.select(ui.selected);
    renderPanel(history);
  };

  /** Many events can arrive at once (the replay of a long run): draw once per animation frame. */
  let frame = 0;
  const scheduleDraw = () => {
    frame ||= requestAnimationFrame(() => {
      frame = 0;
      draw();
    });
  };

  /** (Re)builds the graph and the timeline for the current set of expanded groups. */
  const build = () => {
    shape = displayGraph(graph.tasks, expanded);
    dag = createDag(shape, {
      onSelect: select,
      onExpand: expand,
      direction: ui.direction,
      onDirection: (direction) => {
        ui.direction = direction;
        build();
      },
    });
    timeline = createTimeline({ tasks: graph.tasks, graph: shape, onSelect: select, onExpand: expand });
    showView();
  };

  const showView = () => {
    viewTabs.replaceChildren(
      ...['graph', 'timeline'].map((v) =>
        h(
          'button',
          {
            type: 'button',
            role: 'tab',
            class: 'tab',
            dataset: { view: v },
            'aria-selected': String(ui.view === v),
            onclick: () => {
              ui.view = v;
              history.replaceState(null, '', `#/runs/${encodeURIComponent(id)}${v === 'graph' ? '' : `?view=${v}`}`);
              showView();
            },
          },
          v === 'graph' ? 'Graph' : 'Timeline',
        ),
      ),
    );
    stage.replaceChildren(ui.view === 'graph' ? (dag?.element ?? '') : (timeline?.element ?? ''));
    if (ui.view === 'graph') dag?.start();
    draw();
  };

  /** @param {string} groupKey */
  const expand = (groupKey) => {
    expanded.add(groupKey);
    ui.selected = ui.member ?? (ui.selected === `group:${groupKey}` ? undefined : ui.selected);
    ui.member = undefined;
    build();
    if (ui.selected) dag?.reveal(ui.selected);
  };

  /** What the panel shows; it is rebuilt only when this changes, so a half-filled approval form survives updates. */
  let shown = '';
  /** @param {ReturnType<typeof runHistory>} history */
  const renderPanel = (history = runHistory(events)) => {
    if (!graph) return;
    const group = shape?.groups.find((g) => g.id === ui.selected);
    const taskId = group ? ui.member : ui.selected;
    const graphTask = graph.tasks.find((/** @type {any} */ t) => t.id === taskId);
    const own = taskId ? history.tasks.get(taskId) : undefined;
    const key = JSON.stringify([
      ui.selected,
      ui.member,
      ui.filter,
      graphTask && states.get(graphTask.id),
      own?.attempts,
      group?.members.map(statusOf).join(),
    ]);
    if (key === shown) return;
    shown = key;
    if (graphTask) {
      const h0 = own;
      const ready = readyAt(graphTask, history.tasks, history.started);
      const first = h0?.attempts[0]?.started;
      panelSlot.replaceChildren(
        taskPanel({
          runId: id,
          task: states.get(graphTask.id),
          graphTask,
          attempts: h0?.attempts ?? [],
          waitedMs: ready !== undefined && first !== undefined ? Math.max(0, first - ready) : undefined,
          tab: ui.tab,
          onTab: (tab) => {
            ui.tab = tab;
          },
          onDecided: () => refresh(),
          onClose: () => select(undefined),
          back: group
            ? { label: `${group.members.length} × ${group.type}`, onClick: () => openMember(undefined) }
            : undefined,
        }),
      );
    } else if (group) {
      panelSlot.replaceChildren(
        groupPanel({
          group,
          statusOf,
          states,
          filter: ui.filter,
          onFilter: (status) => {
            ui.filter = status;
            renderPanel();
          },
          onOpen: openMember,
          onExpand: () => expand(group.key),
          onClose: () => select(undefined),
        }),
      );
    } else {
      panelSlot.replaceChildren(
        h('p', { class: 'hint muted' }, 'Click a task for its attempts, timings, output, logs and errors.'),
      );
    }
  };

  /** @param {string | undefined} nodeId */
  const select = (nodeId) => {
    ui.selected = nodeId;
    ui.member = undefined;
    ui.filter = undefined;
    draw();
  };

  /** @param {string | undefined} taskId */
  const openMember = (taskId) => {
    ui.member = taskId;
    renderPanel();
  };

  /**
   * @param {string} path
   * @param {(answer: any) => void} then
   */
  const act = async (path, then) => {
    try {
      then(await api('POST', `${runPath(id)}/${path}`));
      refresh();
    } catch (error) {
      ctx.onError(error);
    }
  };

  const itemsPath = (/** @type {string} */ task) =>
    `/ui/api/runs/${encodeURIComponent(id)}/tasks/${encodeURIComponent(task)}/items?limit=1`;
  /** When each parallel task's counts were last read: at most once a second each (a for_each can be 10,000 items). */
  /** @type {Map<string, number>} */
  const itemsRead = new Map();
  /** Item counts of parallel tasks that started: while they run, and once more when they are done. */
  const loadItems = async () => {
    const now = Date.now();
    const wanted = graph.tasks.filter((/** @type {any} */ t) => {
      if (t.type !== 'parallel' || statusOf(t.id) === 'pending' || itemsDone.has(t.id)) return false;
      return now - (itemsRead.get(t.id) ?? 0) >= 1000;
    });
    for (const t of wanted) itemsRead.set(t.id, now);
    await Promise.all(
      wanted.map(async (/** @type {any} */ t) => {
        const page = await api('GET', itemsPath(t.id));
        items.set(t.id, { total: page.total, counts: page.counts });
        // Read once more after the task ended, then never again: its items no longer change.
        if (statusOf(t.id) !== 'running') itemsDone.add(t.id);
      }),
    );
  };

  /** A sub-workflow task that started has a child run: read the graph again for its id. */
  const loadChildren = async () => {
    const missing = graph.tasks.filter(
      (/** @type {any} */ t) => t.type === 'workflow' && !t.child_execution_id && statusOf(t.id) !== 'pending',
    );
    if (missing.length === 0) return;
    const fresh = await api('GET', `/ui/api/runs/${encodeURIComponent(id)}/graph`);
    for (const t of fresh.tasks) {
      const mine = graph.tasks.find((/** @type {any} */ g) => g.id === t.id);
      if (mine && t.child_execution_id) mine.child_execution_id = t.child_execution_id;
    }
  };

  const load = async () => {
    record = await api('GET', runPath(id));
    states.clear();
    for (const t of record.tasks) states.set(t.id, t);
    if (graph) await Promise.all([loadItems(), loadChildren()]);
    draw();
  };

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pending;
  const refresh = () => {
    pending ??= setTimeout(() => {
      pending = undefined;
      load().catch(ctx.onError);
    }, 250);
  };

  /** @param {import('./api.js').RunEvent} event */
  const onEvent = (event) => {
    events.push(event);
    log.prepend(
      h(
        'li',
        { dataset: { type: event.type } },
        h('time', { datetime: event.at, title: event.at }, event.at.slice(11, 23)),
        ` ${event.type}`,
        event.task ? ` ${event.task}` : '',
        event.attempt ? ` #${event.attempt}` : '',
        event.error ? h('span', { class: 'error' }, ` ${event.error}`) : '',
      ),
    );
    while (log.children.length > EVENT_ROWS) log.lastElementChild?.remove();
    const [scope, what] = event.type.split('.');
    const task = event.task ? states.get(event.task) : undefined;
    if (scope === 'task' && task && what === 'started') {
      Object.assign(task, { status: 'running', attempts: event.attempt ?? task.attempts + 1, started_at: event.at });
      task.finished_at = task.duration_ms = task.error = undefined;
    } else if (scope === 'task' && task && what && TASK_DONE.has(what)) {
      task.status = what;
      task.finished_at = event.at;
      if (task.started_at) task.duration_ms = Date.parse(event.at) - Date.parse(task.started_at);
      if (event.error) task.error = event.error;
      task.waiting_for = undefined;
    } else if (scope === 'workflow' && what && (TERMINAL.has(what) || what === 'paused' || what === 'started')) {
      record.status = what;
    }
    scheduleDraw();
    refresh();
  };

  (async () => {
    try {
      const [g] = await Promise.all([api('GET', `/ui/api/runs/${encodeURIComponent(id)}/graph`), load()]);
      graph = g;
      await loadItems();
      build();
      const ticker = setInterval(() => {
        if (record && !TERMINAL.has(record.status)) draw();
      }, 1000);
      stop.signal.addEventListener('abort', () => clearInterval(ticker));
      await followEvents(id, {
        signal: stop.signal,
        onEvent,
        onState: (state) => {
          liveState = state;
          scheduleDraw();
        },
      });
      if (!stop.signal.aborted) await load();
    } catch (error) {
      if (!stop.signal.aborted) ctx.onError(error);
    }
  })();

  return () => {
    stop.abort();
    stopLogs();
    if (pending) clearTimeout(pending);
    if (frame) cancelAnimationFrame(frame);
  };
}

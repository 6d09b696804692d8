// @ts-check
import { api, followEvents, runPath } from './api.js';
import { createDag } from './dag-view.js';
import { badge, clear, formatMs, h, time } from './dom.js';
import { taskPanel } from './task-panel.js';

const TERMINAL = new Set(['completed', 'failed', 'timed_out', 'cancelled']);
const TASK_DONE = new Set(['completed', 'failed', 'skipped', 'upstream_failed', 'cancelled']);
/** Events shown in the log, newest first; the API keeps them all. */
const EVENT_ROWS = 200;

/**
 * The run page: header with progress and actions, the DAG coloured by task status, the selected task's details,
 * and the event log. Live from the event stream: each event updates the graph at once, and the full record
 * (outputs, waits, attempts) is re-read shortly after, at most a few times a second.
 * @param {HTMLElement} root
 * @param {string} id
 * @param {{onError: (error: unknown) => void}} ctx
 * @returns {() => void} stops the live updates
 */
export function runPage(root, id, ctx) {
  const stop = new AbortController();
  /** @type {any} */
  let record;
  /** @type {Map<string, import('./dag-view.js').TaskState>} */
  const states = new Map();
  /** @type {ReturnType<typeof createDag> | undefined} */
  let dag;
  /** @type {import('./dag-view.js').GraphTask[]} */
  let graphTasks = [];
  /** @type {string | undefined} */
  let selected;
  let liveState = 'connecting';

  const head = h('div', { class: 'run-head' });
  const graphWrap = h('div', { class: 'graph-wrap' });
  const panelSlot = h('div', { class: 'panel-slot' });
  const events = h('ol', { class: 'events', reversed: true });
  clear(root);
  root.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← runs')),
    head,
    h('div', { class: 'run-body' }, graphWrap, panelSlot),
    h('section', { class: 'event-log' }, h('h2', {}, 'events'), events),
  );

  const draw = () => {
    if (!record) return;
    renderHead();
    dag?.update(states, Date.now());
    dag?.select(selected);
    renderPanel();
  };

  /** Many events can arrive at once (the replay of a long run): draw once per animation frame. */
  let frame = 0;
  const scheduleDraw = () => {
    frame ||= requestAnimationFrame(() => {
      frame = 0;
      draw();
    });
  };

  const renderHead = () => {
    const done = [...states.values()].filter((t) => TASK_DONE.has(t.status)).length;
    const total = graphTasks.length;
    const took = record.duration_ms ?? (record.started_at ? Date.now() - Date.parse(record.started_at) : undefined);
    const status = record.status;
    const action = (/** @type {string} */ label, /** @type {string} */ path, /** @type {(a: any) => void} */ then) =>
      h('button', { type: 'button', class: `action ${label.toLowerCase()}`, onclick: () => act(path, then) }, label);
    clear(head);
    head.append(
      h('h1', {}, 'run ', h('code', { class: 'run-id' }, id), ' ', badge(status)),
      h(
        'p',
        { class: 'meta' },
        h('strong', {}, record.workflow.name ?? record.workflow.id),
        record.template ? ` · template ${record.template.id}@${record.template.version ?? '-'}` : ' · inline workflow',
        record.correlation_id ? ` · correlation ${record.correlation_id}` : '',
        ' · created ',
        time(record.created_at),
      ),
      h(
        'div',
        { class: 'progress-line' },
        h('progress', { max: total, value: done, dataset: { status } }),
        ` ${done}/${total} tasks`,
        took === undefined ? '' : ` · ${formatMs(took)}`,
      ),
      record.error ? h('p', { class: 'run-error' }, record.error) : '',
      h(
        'div',
        { class: 'actions' },
        status === 'running' ? action('Pause', 'pause', () => undefined) : null,
        status === 'paused' ? action('Resume', 'resume', () => undefined) : null,
        TERMINAL.has(status) ? null : action('Cancel', 'cancel', () => undefined),
        status === 'failed' || status === 'cancelled' || status === 'timed_out'
          ? action('Retry', 'retry', (answer) => {
              location.hash = `#/runs/${encodeURIComponent(answer.execution_id)}`;
            })
          : null,
        h(
          'a',
          { href: `/admin/queues/queue/workflows/${encodeURIComponent(id)}`, target: '_blank', rel: 'noopener' },
          'run job in Bull Board',
        ),
        h('span', { class: 'live', dataset: { state: TERMINAL.has(status) ? 'ended' : liveState } }),
      ),
    );
  };

  /** What the panel shows; it is rebuilt only when this changes, so a half-filled approval form survives updates. */
  let shown = '';
  const renderPanel = () => {
    const graphTask = graphTasks.find((t) => t.id === selected);
    const key = JSON.stringify([selected, graphTask && states.get(graphTask.id)]);
    if (key === shown) return;
    shown = key;
    clear(panelSlot);
    if (!graphTask) {
      panelSlot.append(h('p', { class: 'hint muted' }, 'Click a task for its attempts, timings, output and errors.'));
      return;
    }
    panelSlot.append(
      taskPanel({
        runId: id,
        task: states.get(graphTask.id),
        graphTask,
        onDecided: () => refresh(),
        onClose: () => select(undefined),
      }),
    );
  };

  /** @param {string | undefined} taskId */
  const select = (taskId) => {
    selected = taskId;
    dag?.select(selected);
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

  const load = async () => {
    record = await api('GET', runPath(id));
    states.clear();
    for (const t of record.tasks) states.set(t.id, t);
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
    events.prepend(
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
    while (events.children.length > EVENT_ROWS) events.lastElementChild?.remove();
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
      const [graph] = await Promise.all([api('GET', `/ui/api/runs/${encodeURIComponent(id)}/graph`), load()]);
      graphTasks = graph.tasks;
      dag = createDag(graphTasks, { onSelect: select });
      clear(graphWrap);
      graphWrap.append(dag.svg);
      if (graph.parent) {
        graphWrap.prepend(
          h(
            'p',
            { class: 'muted' },
            'sub-workflow of ',
            h('a', { href: `#/runs/${encodeURIComponent(graph.parent.execution_id)}` }, graph.parent.execution_id),
            ` (task ${graph.parent.task})`,
          ),
        );
      }
      draw();
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
    if (pending) clearTimeout(pending);
    if (frame) cancelAnimationFrame(frame);
  };
}

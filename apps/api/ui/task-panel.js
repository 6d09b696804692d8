// @ts-check
import { waitingSection } from './approval-form.js';
import { badge, formatMs, h, time } from './dom.js';
import { itemsView } from './items-view.js';
import { logsView } from './logs-view.js';
import { tabs } from './tabs.js';

/**
 * The details of one task, in tabs: Overview (status, timings, the wait before it started, worker, its attempts,
 * what it waits on, its error), Output, Logs (followed live), and for a parallel task its Items.
 * @param {{runId: string, task: import('./dag-view.js').TaskState | undefined,
 *   graphTask: import('./dag-view.js').GraphTask, attempts: import('./run-history.js').Attempt[],
 *   waitedMs?: number, tab?: string, onTab: (tab: string) => void, onDecided: () => void, onClose: () => void,
 *   back?: {label: string, onClick: () => void}}} props
 */
export function taskPanel(props) {
  const { runId, graphTask } = props;
  const task = props.task ?? { id: graphTask.id, type: graphTask.type, status: 'pending', attempts: 0 };
  /** @type {import('./tabs.js').Tab[]} */
  const list = [{ id: 'overview', label: 'Overview', render: () => overview(props, task) }];
  if (task.output !== undefined) {
    list.push({
      id: 'output',
      label: 'Output',
      render: () => h('pre', { class: 'output' }, JSON.stringify(task.output, null, 2)),
    });
  }
  // The attempt's log (handler lines, a command's stdout and stderr), followed live.
  list.push({ id: 'logs', label: 'Logs', render: () => logsView(runId, task.id, task.attempts) });
  if (graphTask.type === 'parallel') {
    list.push({
      id: 'items',
      label: 'Items',
      render: () => itemsView(runId, task.id, Array.isArray(task.output) ? task.output : undefined),
    });
  }
  return h(
    'aside',
    { class: 'panel', dataset: { task: task.id }, 'aria-label': `task ${task.id}` },
    props.back
      ? h('button', { type: 'button', class: 'link back', onclick: props.back.onClick }, `← ${props.back.label}`)
      : null,
    h(
      'header',
      {},
      h('h2', {}, task.id),
      h('button', { type: 'button', class: 'link close', onclick: props.onClose, 'aria-label': 'close' }, '×'),
    ),
    task.name ? h('p', { class: 'muted' }, task.name) : null,
    tabs(list, { selected: props.tab, onChange: props.onTab, label: `task ${task.id}` }),
  );
}

/**
 * @param {Parameters<typeof taskPanel>[0]} props
 * @param {import('./dag-view.js').TaskState} task
 */
function overview(props, task) {
  const { runId, graphTask } = props;
  const jobId = `${runId}.${task.id}`;
  /** @type {[string, Node | string][]} */
  const rows = [
    ['type', task.type],
    ['status', badge(task.status)],
    ['attempts', String(task.attempts)],
    ['started', time(task.started_at)],
    ['finished', time(task.finished_at)],
    ['duration', formatMs(task.duration_ms) || '—'],
    ['waited', props.waitedMs === undefined ? '—' : formatMs(props.waitedMs)],
    ['worker', task.worker ?? '—'],
    ['depends on', graphTask.depends_on.length ? graphTask.depends_on.join(', ') : '—'],
  ];
  if (task.skip_reason) rows.splice(2, 0, ['skipped because', task.skip_reason]);
  if (graphTask.condition) rows.push(['condition', h('code', {}, graphTask.condition)]);
  const child = graphTask.child_execution_id;
  if (child) {
    rows.push(['child run', h('a', { href: `#/runs/${encodeURIComponent(child)}`, class: 'child-run' }, child)]);
  }
  return h(
    'div',
    { class: 'overview' },
    h('dl', {}, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    task.waiting_for ? waitingSection(runId, task, props.onDecided) : null,
    task.error ? h('section', {}, h('h3', {}, 'error'), h('pre', { class: 'error' }, task.error)) : null,
    attemptsSection(attemptsOf(task, props.attempts)),
    h(
      'p',
      {},
      h(
        'a',
        {
          href: `/admin/queues/queue/tasks/${encodeURIComponent(jobId)}`,
          target: '_blank',
          rel: 'noopener',
          class: 'board-link',
        },
        'job in Bull Board',
      ),
    ),
  );
}

/** How an attempt that is not the last one ended, in words. */
const ENDED = /** @type {Record<string, string>} */ ({
  retried: 'failed, retried',
  timed_out: 'timed out, retried',
  lost: 'lost: its worker was gone, run again',
});

/**
 * The record's history when it has one (the engine's own account, causes included), else what the events tell.
 * A failed attempt that is not the last was retried.
 * @param {import('./dag-view.js').TaskState} task
 * @param {import('./run-history.js').Attempt[]} fromEvents
 * @returns {import('./run-history.js').Attempt[]}
 */
function attemptsOf(task, fromEvents) {
  const history = task.history;
  if (!history || history.length === 0) return fromEvents;
  return history.map((a, i) => ({
    attempt: a.attempt,
    worker: a.worker,
    started: Date.parse(a.started_at),
    ended: a.ended_at ? Date.parse(a.ended_at) : undefined,
    status: a.status === 'failed' && i < history.length - 1 ? 'retried' : a.status,
    error: a.error,
  }));
}

/**
 * Every attempt: when it started, on which worker, how long it took and how it ended.
 * @param {import('./run-history.js').Attempt[]} attempts
 */
function attemptsSection(attempts) {
  if (attempts.length === 0) return null;
  return h(
    'section',
    { class: 'attempts' },
    h('h3', {}, 'attempts'),
    h(
      'table',
      { class: 'attempts-table' },
      h('thead', {}, h('tr', {}, ...['#', 'worker', 'started', 'took', 'outcome'].map((c) => h('th', {}, c)))),
      h(
        'tbody',
        {},
        ...attempts.map((a, i) =>
          h(
            'tr',
            { dataset: { attempt: a.attempt, status: a.status } },
            h('td', {}, String(a.attempt)),
            h('td', {}, a.worker ?? '—'),
            h('td', {}, clock(a.started)),
            h('td', {}, a.ended ? formatMs(a.ended - a.started) : 'running'),
            h('td', { title: a.error ?? '' }, (i < attempts.length - 1 && ENDED[a.status]) || a.status),
          ),
        ),
      ),
    ),
    // The last attempt's error is the task's, shown above; the earlier ones' here, each with its cause chain.
    ...attempts
      .filter((a, i) => i < attempts.length - 1 && a.error)
      .map((a) =>
        h('p', { class: 'attempt-error' }, `#${a.attempt}: `, h('span', { class: 'error' }, String(a.error))),
      ),
  );
}

/**
 * A time of day with milliseconds (as in the event log), the full timestamp as a tooltip.
 * @param {number} ms
 */
function clock(ms) {
  const iso = new Date(ms).toISOString();
  return h('time', { datetime: iso, title: iso }, iso.slice(11, 23));
}

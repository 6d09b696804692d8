// @ts-check
/**
 * Each task's attempts, read from the run's event stream: `task.started` opens an attempt (with its worker),
 * `task.retrying` ends it as a failure that will be retried, and the task's final event ends the last one. The
 * timeline and the task panel's Attempts section both read this.
 */

/**
 * @typedef {{attempt: number, worker?: string, started: number, ended?: number, status: string, error?: string}} Attempt
 * @typedef {{attempts: Attempt[], ended?: number, status?: string}} TaskHistory
 */

const FINAL = new Set(['completed', 'failed', 'skipped', 'upstream_failed', 'cancelled']);

/**
 * @param {import('./api.js').RunEvent[]} events oldest first
 * @returns {{tasks: Map<string, TaskHistory>, started?: number, ended?: number}}
 */
export function runHistory(events) {
  /** @type {Map<string, TaskHistory>} */
  const tasks = new Map();
  /** @type {number | undefined} */
  let started;
  /** @type {number | undefined} */
  let ended;
  const of = (/** @type {string} */ id) => {
    let t = tasks.get(id);
    if (!t) {
      t = { attempts: [] };
      tasks.set(id, t);
    }
    return t;
  };
  for (const event of events) {
    const at = Date.parse(event.at);
    const [scope, what = ''] = event.type.split('.');
    if (scope === 'workflow') {
      if (what === 'started' && started === undefined) started = at;
      if (/^(completed|failed|cancelled|timed_out)$/.test(what)) ended = at;
      continue;
    }
    if (scope !== 'task' || !event.task) continue;
    const t = of(event.task);
    const open = t.attempts.at(-1);
    if (what === 'started') {
      if (open && open.ended === undefined) Object.assign(open, { ended: at, status: 'lost' });
      t.attempts.push({
        attempt: event.attempt ?? t.attempts.length + 1,
        worker: event.worker,
        started: at,
        status: 'running',
      });
    } else if (what === 'retrying' && open && open.ended === undefined) {
      Object.assign(open, { ended: at, status: 'retried', error: event.error });
    } else if (FINAL.has(what)) {
      t.ended = at;
      t.status = what;
      if (open && open.ended === undefined) {
        open.ended = at;
        open.status = what;
        if (event.error) open.error = event.error;
      }
    }
  }
  return { tasks, started, ended };
}

/**
 * When a task could start: its last dependency's end, or the run's start for a root. Undefined until then.
 * @param {import('./dag-view.js').GraphTask} task
 * @param {Map<string, TaskHistory>} tasks
 * @param {number | undefined} runStarted
 */
export function readyAt(task, tasks, runStarted) {
  if (task.depends_on.length === 0) return runStarted;
  let latest = runStarted ?? 0;
  for (const d of task.depends_on) {
    const ended = tasks.get(d)?.ended;
    if (ended === undefined) return undefined;
    latest = Math.max(latest, ended);
  }
  return latest;
}

import type { EventType, RECOVERY_ACTIONS } from './run-events';
import { type ENDING_STATUSES, FINAL_STATUSES, SKIP_REASONS, type TASK_FINAL_STATUSES } from './run-status';

/** The fields an event may carry besides `id`, `type` and `at` (see ExecutionEvent). */
export type EventField = 'task' | 'attempt' | 'error' | 'worker' | 'by' | 'reason' | 'item' | 'status';

/** What one event type means and which of the fields it carries: the OpenAPI document and the README read it. */
export interface EventShape {
  description: string;
  /** Always present. */
  required: readonly EventField[];
  /** Present when known: an empty value is left out of the event. */
  optional: readonly EventField[];
}

/** What each field of an event holds. */
export const EVENT_FIELDS: Readonly<
  Record<EventField, { type: 'string' | 'integer'; description: string; enum?: readonly string[]; minimum?: number }>
> = {
  task: { type: 'string', description: 'The task id' },
  attempt: { type: 'integer', minimum: 1, description: 'The attempt, from 1' },
  error: { type: 'string', description: 'Why: the error message, or the reason given' },
  worker: { type: 'string', description: 'The worker that runs the attempt' },
  by: { type: 'string', description: 'Who decided: the API key name (or `by` when the API has no keys)' },
  reason: { type: 'string', enum: SKIP_REASONS, description: 'Why the task did not run' },
  item: { type: 'integer', minimum: 0, description: 'The index of the item of a parallel task' },
  status: { type: 'string', enum: FINAL_STATUSES, description: 'How it ends (or ended)' },
};

const none = { required: [], optional: [] } as const;

const ENDING: Record<(typeof ENDING_STATUSES)[number], EventShape> = {
  failing: {
    description: 'A task failed and the run fails fast: no task starts; the run then ends `failed`',
    required: [],
    optional: ['task', 'error'],
  },
  cancelling: {
    description: 'Cancel was asked for: running tasks are aborted; the run then ends `cancelled`',
    required: [],
    optional: ['error'],
  },
  timing_out: {
    description: 'The workflow timeout passed: running tasks are aborted; the run then ends `timed_out`',
    required: [],
    optional: ['error'],
  },
  exiting: {
    description: "The run's tasks are done and its exit handlers (`on_exit`) run; `status` is how it will end",
    required: [],
    optional: ['status'],
  },
};

const FINAL: Record<(typeof FINAL_STATUSES)[number], string> = {
  completed: 'The run completed: the last event of its stream',
  failed: 'The run failed (`error` says why): the last event of its stream',
  timed_out: 'The run timed out: the last event of its stream',
  cancelled: 'The run was cancelled: the last event of its stream',
};

const TASK_FINAL: Record<(typeof TASK_FINAL_STATUSES)[number], string> = {
  completed: 'A task completed',
  failed: 'A task failed for good (no retry left, or a permanent error)',
  skipped: 'A task was skipped: its condition or trigger rule was not met, or its branch was not taken',
  upstream_failed: 'A task will not run: a task it depends on failed',
  cancelled: 'A task was cancelled: the run was cancelled, timed out or failed fast before it finished',
};

const RECOVERY: Record<(typeof RECOVERY_ACTIONS)[number], string> = {
  admitted: 'Recovery admitted a run that was created but never admitted',
  started: 'Recovery started a run that was admitted but never started',
  timed_out: 'Recovery ended a run past its deadline as `timed_out`',
  resumed: 'Recovery resumed an orphaned run (strategy `resume`)',
  restarted: 'Recovery restarted an orphaned run from scratch (strategy `restart`)',
  failed: 'Recovery failed an orphaned run (strategy `fail`)',
  finalized: 'Recovery ended a run whose workflow job ended (or waited on nothing) without ending it',
  task_timeouts: 'Recovery aborted a task past its timeout; it is retried per its policy',
  slots_freed: 'Recovery freed the slot of a run that ended',
  index_cleaned: 'Recovery dropped expired runs from the run index',
  jobs_cleaned: 'Recovery removed finished BullMQ jobs older than EXECUTION_TTL',
};

function prefixed<P extends string, K extends string>(
  prefix: P,
  table: Record<K, string>,
  shape: Omit<EventShape, 'description'>,
): Record<`${P}${K}`, EventShape> {
  const entries = Object.entries<string>(table).map(([k, description]) => [`${prefix}${k}`, { description, ...shape }]);
  return Object.fromEntries(entries) as Record<`${P}${K}`, EventShape>;
}

/** Every event type, typed so that a new one does not compile until its shape is declared here. */
export const EVENT_SHAPES: Readonly<Record<EventType, EventShape>> = {
  'workflow.created': { description: 'The run was created', ...none },
  'workflow.queued': { description: 'The run waits for a slot (MAX_CONCURRENT_WORKFLOWS are running)', ...none },
  'workflow.started': { description: 'The run started', ...none },
  'workflow.paused': { description: 'The run was paused: no task starts until it is resumed', ...none },
  'workflow.resumed': { description: 'The run was resumed', ...none },
  'workflow.exit_grace_expired': {
    description: 'The exit handlers ran past their grace period and were stopped',
    required: [],
    optional: ['error'],
  },
  ...(Object.fromEntries(Object.entries(ENDING).map(([k, shape]) => [`workflow.${k}`, shape])) as Record<
    `workflow.${keyof typeof ENDING}`,
    EventShape
  >),
  ...prefixed('workflow.', FINAL, { required: [], optional: ['error'] }),
  'task.started': { description: 'A task attempt started', required: ['task', 'attempt'], optional: ['worker'] },
  'task.stalled': {
    description:
      'The worker running an attempt was lost (killed, or its job lock expired): `worker` names it, `attempt` is the lost attempt; the next `task.started` is its re-run',
    required: ['task', 'attempt'],
    optional: ['worker'],
  },
  'task.retrying': {
    description: 'A task attempt failed and will be retried after its backoff',
    required: ['task', 'attempt'],
    optional: ['error'],
  },
  'task.approved': { description: 'An approval task was approved', required: ['task'], optional: ['by'] },
  'task.rejected': { description: 'An approval task was rejected', required: ['task'], optional: ['by'] },
  ...prefixed('task.', TASK_FINAL, { required: ['task'], optional: ['attempt', 'error'] }),
  'task.skipped': {
    description: TASK_FINAL.skipped,
    required: ['task'],
    optional: ['attempt', 'error', 'reason'],
  },
  'item.started': {
    description: 'An item of a parallel task with `max_concurrency` took a slot and started',
    required: ['task', 'item'],
    optional: [],
  },
  'item.finished': {
    description: 'An item of a parallel task with `max_concurrency` ended and gave its slot back',
    required: ['task', 'item'],
    optional: ['status'],
  },
  ...prefixed('recovery.', RECOVERY, { required: [], optional: ['error'] }),
};

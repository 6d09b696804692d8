import { ATTEMPT_STATUSES, SKIP_REASONS, TASK_STATUSES } from '@orch/run-model';
import { anyValue, count, executionStatus, nullable, object, openObject, ref, str, strings, time } from './parts';

/** Response schemas of runs: created, listed, read, cancelled, retried, paused, decided. */

const templateRef = object({ id: str, version: str }, ['version'], 'The template and version the run used');

const taskState = {
  id: str,
  name: str,
  type: str,
  status: { type: 'string', enum: [...TASK_STATUSES] },
  skip_reason: { type: 'string', enum: [...SKIP_REASONS], description: 'Why a skipped task did not run' },
  on_exit: { const: true, description: "An exit handler (one of the workflow's on_exit tasks)" },
  attempts: { ...count, description: 'Attempts started so far' },
  started_at: time,
  finished_at: time,
  duration_ms: count,
  error: str,
  worker: { type: 'string', description: 'The worker that ran the latest attempt' },
  history: {
    type: 'array',
    items: ref('TaskAttempt'),
    description: 'Every attempt, oldest first: retries and re-runs after a lost worker each have their own',
  },
  waiting_for: ref('WaitingFor'),
};
const taskOptional = [
  'name',
  'skip_reason',
  'on_exit',
  'started_at',
  'finished_at',
  'duration_ms',
  'error',
  'worker',
  'history',
  'waiting_for',
];

const statusFields = {
  execution_id: str,
  status: executionStatus,
  correlation_id: str,
  submitted_by: { type: 'string', description: 'The name of the API key that submitted (or retried into) the run' },
  request_id: { type: 'string', description: 'The X-Request-Id of the request that created the run' },
  parent_execution_id: { type: 'string', description: 'A sub-workflow: the run whose `workflow` task started it' },
  parent_task_id: { type: 'string', description: 'A sub-workflow: the `workflow` task of the parent run' },
  trace_id: {
    type: 'string',
    pattern: '^[0-9a-f]{32}$',
    description: "The run's OpenTelemetry trace id, when the process that created it traces",
  },
  workflow: object({ id: str, name: str }, ['name']),
  template: templateRef,
  created_at: time,
  started_at: time,
  finished_at: time,
  duration_ms: count,
  error: str,
  waiting_for: {
    type: 'string',
    description: 'Why a live run does not move on by itself, such as `no worker serves queue gpu`',
  },
  progress: ref('Progress'),
};
const statusOptional = [
  'waiting_for',
  'correlation_id',
  'submitted_by',
  'request_id',
  'parent_execution_id',
  'parent_task_id',
  'trace_id',
  'template',
  'started_at',
  'finished_at',
  'duration_ms',
  'error',
];

export const RUN_SCHEMAS = {
  ExecutionLinks: object({ self: str, status: str, events: str, cancel: str }, [], 'Paths of the run, relative'),
  WaitingFor: object(
    {
      kind: { enum: ['approval', 'queue'], description: 'an approval, or a worker for its task queue' },
      message: str,
      approvers: strings,
      queue: { type: 'string', description: 'For `queue`: the task queue no live worker serves' },
    },
    ['message', 'approvers', 'queue'],
    'What a task waits on',
  ),
  Progress: object(
    Object.fromEntries([...TASK_STATUSES, 'total'].map((s) => [s, count])),
    [],
    'How many tasks have each status',
  ),
  TaskAttempt: object(
    {
      attempt: { type: 'integer', minimum: 1, description: 'From 1, in the order the attempts started' },
      worker: { type: 'string', description: 'The worker that ran it' },
      started_at: time,
      ended_at: { ...time, description: 'Absent while it runs; for a lost attempt, when its re-run found it lost' },
      status: {
        type: 'string',
        enum: [...ATTEMPT_STATUSES],
        description: '`lost`: its worker died or lost the job lock, and the task ran again',
      },
      error: { type: 'string', description: 'Why it failed, with one `caused by:` line per cause' },
      duration_ms: count,
    },
    ['worker', 'ended_at', 'error', 'duration_ms'],
    'One execution of a task',
  ),
  TaskState: object(taskState, taskOptional, 'One task of a run, without its output'),
  TaskRecord: object(
    { ...taskState, output: anyValue('What the task returned, once completed') },
    [...taskOptional, 'output'],
    'One task of a run, with its output',
  ),
  SubmitResult: object(
    {
      execution_id: str,
      status: executionStatus,
      correlation_id: nullable('string'),
      created: { type: 'boolean', description: 'False when the correlation id named an existing run' },
      links: ref('ExecutionLinks'),
      record: {
        ...ref('ExecutionRecord'),
        description:
          'With `?wait=`, when the run ended within the wait: its final record (as GET /api/v1/workflows/{id})',
      },
    },
    ['record'],
  ),
  ExecutionStatus: object(
    { ...statusFields, tasks: { type: 'array', items: ref('TaskState') } },
    statusOptional,
    'A run without its variables and task outputs',
  ),
  ExecutionRecord: object(
    {
      ...statusFields,
      variables: openObject('The variables the run started with'),
      result: anyValue(
        "What a completed run returns: its workflow's `output:` evaluated, else the outputs of its final tasks by id",
      ),
      tasks: { type: 'array', items: ref('TaskRecord') },
    },
    [...statusOptional, 'result'],
    'A run with its variables and task outputs',
  ),
  ExecutionSummary: object(
    {
      execution_id: str,
      status: executionStatus,
      workflow_id: str,
      template: templateRef,
      correlation_id: str,
      created_at: time,
      finished_at: time,
    },
    ['template', 'correlation_id', 'finished_at'],
  ),
  ExecutionList: object({
    items: { type: 'array', items: ref('ExecutionSummary') },
    next_cursor: { ...nullable('string'), description: 'Pass as `cursor` for the next page; null on the last' },
    links: object({ next: nullable('string') }),
  }),
  CancelResult: object({
    execution_id: str,
    status: executionStatus,
    cancel_requested: { const: true },
    links: ref('ExecutionLinks'),
  }),
  RetryResult: object({
    execution_id: { type: 'string', description: 'The new run' },
    status: executionStatus,
    retried_from: str,
    reused: { ...strings, description: 'Tasks whose outputs were reused' },
    links: ref('ExecutionLinks'),
  }),
  RunControlResult: object({ execution_id: str, status: executionStatus, links: ref('ExecutionLinks') }),
  DecisionResult: object(
    {
      execution_id: str,
      task: str,
      decision: { type: 'string', enum: ['approve', 'reject'] },
      payload: anyValue('The payload (approve) or `{reason}` (reject) given'),
      by: { type: 'string', description: 'Who decided' },
      at: time,
    },
    ['payload', 'by'],
  ),
} as const;

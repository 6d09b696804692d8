import { cancelWorkflow } from './handlers/cancel-workflow';
import { getWorkflow, getWorkflowStatus } from './handlers/get-workflow';
import { listWorkflows } from './handlers/list-workflows';
import { retryWorkflow } from './handlers/retry-workflow';
import { submitWorkflow } from './handlers/submit-workflow';
import { listWorkflowsQuery, submitWorkflowBody, submitWorkflowQuery, taskLogsQuery } from './request-schemas';
import { error, invalid, json, notFound, type RouteSpec } from './route-spec';

/** Runs: submit, list, read, follow, cancel, retry. */
export const WORKFLOW_ROUTES: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/api/v1/workflows',
    operationId: 'submitWorkflow',
    summary: 'Run a workflow from a catalog template or an inline definition',
    description:
      'Validates the body, the template or workflow and the variables, then creates the run; nothing is enqueued ' +
      'unless everything is valid. The run is `pending` while MAX_CONCURRENT_WORKFLOWS runs are running. A ' +
      '`correlation_id` is an idempotency key in the space of the calling API key: used again within ' +
      'EXECUTION_TTL with the same body it starts nothing and answers the existing run (across replicas too), ' +
      "with another body it is a 409 naming that run. `Location` is the run's status URL. With `?wait=30s` the " +
      'answer waits for the run to end: ' +
      '200 with its final `record` (status, task outputs) if it ends within the wait, else the usual 202. While ' +
      'the workers are behind (more than ORCHESTRATOR_BACKLOG_HIGH_WATER task jobs and runs waiting to start) a ' +
      'submit is held up to ORCHESTRATOR_BACKLOG_HOLD for room, then refused with 429 and Retry-After.',
    tag: 'workflows',
    handler: submitWorkflow,
    scope: 'run',
    body: submitWorkflowBody,
    query: submitWorkflowQuery,
    responses: {
      202: json('Accepted: the run was created (with `wait`: it had not ended when the wait ran out)', 'SubmitResult', [
        'Location',
      ]),
      200: json(
        'With `wait`: the run ended within the wait, and `record` is its final record; or the correlation id was ' +
          'already used with this body: the existing run',
        'SubmitResult',
        ['Location'],
      ),
      400: invalid,
      409: error('The correlation id was already used with a different body; the message names that run'),
      429: {
        ...error(
          'The workers are behind: the backlog stayed above ORCHESTRATOR_BACKLOG_HIGH_WATER while the submit was held',
        ),
        headers: ['Retry-After'],
      },
    },
  },
  {
    method: 'get',
    path: '/api/v1/workflows',
    operationId: 'listWorkflows',
    summary: 'List runs, newest first',
    description:
      'One page of runs, newest first, optionally only those with a `status` or of a `template`. Follow ' +
      '`links.next` (or pass `next_cursor` as `cursor`) for the next page; runs expire after EXECUTION_TTL.',
    tag: 'workflows',
    handler: listWorkflows,
    scope: 'read',
    query: listWorkflowsQuery,
    responses: { 200: json('One page of runs', 'ExecutionList'), 400: invalid },
  },
  {
    method: 'get',
    path: '/api/v1/workflows/:id',
    operationId: 'getWorkflow',
    summary: 'The full record of a run, with variables and task outputs',
    description:
      "Status, timings, variables, the result of a completed run (`result`: its workflow's `output:`, else its " +
      "final tasks' outputs), and every task with its status, attempts, timings, worker, output and what it " +
      'waits on (`waiting_for`). `/status` is the same without variables, outputs and result.',
    tag: 'workflows',
    handler: getWorkflow,
    scope: 'read',
    responses: { 200: json('The run', 'ExecutionRecord'), 404: notFound },
  },
  {
    method: 'get',
    path: '/api/v1/workflows/:id/status',
    operationId: 'getWorkflowStatus',
    summary: 'Status, progress counts and task states of a run (no outputs)',
    description: 'The record without variables and task outputs: small enough to poll.',
    tag: 'workflows',
    handler: getWorkflowStatus,
    scope: 'read',
    responses: { 200: json('The run without outputs and variables', 'ExecutionStatus'), 404: notFound },
  },
  {
    method: 'get',
    path: '/api/v1/workflows/:id/events',
    operationId: 'streamWorkflowEvents',
    summary: 'Server-Sent Events of a run: replay, then live until the run ends (honours Last-Event-ID)',
    description:
      'Every event of the run from the start (or after `Last-Event-ID`), then live, ending after the final ' +
      '`workflow.completed`, `workflow.failed`, `workflow.cancelled` or `workflow.timed_out`. Each SSE `event` is ' +
      'the type and `data` the event as JSON (the `ExecutionEvent` schema); `id` is its Redis stream id, so a ' +
      'client that reconnects with Last-Event-ID gets exactly what it missed, from any replica. A comment line ' +
      'is sent after 15 s of silence.',
    tag: 'workflows',
    handler: 'events',
    scope: 'read',
    responses: {
      200: { description: 'An event stream of ExecutionEvent', contentType: 'text/event-stream' },
      204: { description: 'Last-Event-ID is the final event of a finished run: nothing more will come' },
      400: error('Last-Event-ID is not an event id'),
      404: notFound,
      503: error('Too many streams open, or the server is shutting down (reconnect, to another replica)'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/workflows/:id/tasks/:task/logs',
    operationId: 'getTaskLogs',
    summary: "A task attempt's log: its handler's lines and its command's output (follow it live with follow=true)",
    description:
      "The lines one attempt of a task wrote (`ctx.log` in its handler; an `exec` task's stdout and stderr), oldest " +
      'first, a page at a time (`after`, `limit`); `attempt` picks the attempt (default: the latest), `attempts` ' +
      'lists those with a log. Each attempt keeps at most TASK_LOG_MAX_BYTES (`capped`, and a marker line, say when ' +
      "it was hit) for the run's EXECUTION_TTL. A parallel task's item is `<task>[<index>]`. With `follow=true` the " +
      'answer is Server-Sent Events: every line (`event: line`, `id:` its id; Last-Event-ID resumes), live, then ' +
      '`event: end` once the attempt is over.',
    tag: 'workflows',
    handler: 'logs',
    scope: 'read',
    query: taskLogsQuery,
    responses: {
      200: { ...json("One page of the attempt's log", 'TaskLogPage'), stream: 'TaskLogEvent' },
      204: { description: 'follow=true with Last-Event-ID after the last line of an attempt that is over' },
      400: invalid,
      404: error('No execution with this id (or it expired), or no such task in it'),
      503: error('Too many streams open, or the server is shutting down (reconnect, to another replica)'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/workflows/:id/cancel',
    operationId: 'cancelWorkflow',
    summary: 'Cancel a pending or running run',
    description:
      'A pending run ends `cancelled` at once (200). A running or paused one stops starting tasks and aborts the ' +
      'running ones, then ends `cancelled` (202). A run that already ended is a 409.',
    tag: 'workflows',
    handler: cancelWorkflow,
    scope: 'run',
    responses: {
      200: json('The run was pending and is now cancelled', 'CancelResult'),
      202: json('The run is stopping; it ends as cancelled', 'CancelResult'),
      404: notFound,
      409: error('The run already ended'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/workflows/:id/retry',
    operationId: 'retryWorkflow',
    summary: 'Start a new run of a finished run, reusing the outputs of its completed tasks',
    description:
      'A new run of the same workflow and variables in which the tasks that completed are not run again: their ' +
      'outputs are reused (`reused`). Only a run that ended other than `completed` can be retried.',
    tag: 'workflows',
    handler: retryWorkflow,
    scope: 'run',
    responses: {
      202: json('The new run', 'RetryResult', ['Location']),
      404: notFound,
      409: error('The run has not finished, or every task completed'),
    },
  },
];

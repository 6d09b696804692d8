import type { ApiScope } from '@orch/config';
import { cancelWorkflow } from './handlers/cancel-workflow';
import { generateWorkflow } from './handlers/generate-workflow';
import { getWorkflow, getWorkflowStatus } from './handlers/get-workflow';
import type { Handler } from './handlers/handler';
import { health } from './handlers/health';
import { listWorkflows } from './handlers/list-workflows';
import { openapiDocument } from './handlers/openapi-document';
import { prometheusMetrics } from './handlers/prometheus-metrics';
import { retryWorkflow } from './handlers/retry-workflow';
import { approveTask, pauseWorkflow, rejectTask, resumeWorkflow } from './handlers/run-control';
import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  listSchedules,
  pauseSchedule,
  resumeSchedule,
} from './handlers/schedules';
import { serviceStatus } from './handlers/service-status';
import { submitWorkflow } from './handlers/submit-workflow';
import { templateVersions } from './handlers/template-versions';
import { getTemplate, listTemplates } from './handlers/templates';
import { validateWorkflow } from './handlers/validate-workflow';
import type { RouteScope } from './middleware/auth';
import {
  decisionBody,
  generateBody,
  listWorkflowsQuery,
  scheduleBody,
  submitWorkflowBody,
  validateBody,
} from './request-schemas';

export interface RouteResponse {
  description: string;
  /** A component schema name in the OpenAPI document. */
  schema?: string;
  /** Defaults to application/json. */
  contentType?: string;
}

/** One HTTP route: the handler and what the OpenAPI document says about it. */
export interface RouteSpec {
  method: 'get' | 'post' | 'delete';
  /** Express syntax (`:id`); the OpenAPI document writes `{id}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: 'workflows' | 'templates' | 'schedules' | 'operations';
  /** A `(input, deps) => {status, body}` handler, or `events` for the Server-Sent Events stream. */
  handler: Handler | 'events';
  /** What a key needs here (enforced, and stated in the OpenAPI document); `none` only for /health (probes). */
  scope: RouteScope;
  /** Body fields that need more than `scope` when present, e.g. `save_as` (a template write) needs `admin`. */
  bodyScopes?: Record<string, ApiScope>;
  body?: object;
  /** The body may be left out (the handler then sees `{}`). */
  bodyOptional?: boolean;
  query?: object;
  responses: Record<number, RouteResponse>;
}

const json = (description: string, schema?: string): RouteResponse => ({ description, schema });
const error = (description: string): RouteResponse => ({ description, schema: 'Error' });
const notFound = error('No execution with this id (or it expired)');
const invalid = error('The body or query is invalid; `details` point at each problem');

/** Every route of the API, in the order Express matches them. */
export const ROUTES: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/api/v1/workflows',
    operationId: 'submitWorkflow',
    summary: 'Run a workflow from a catalog template or an inline definition',
    tag: 'workflows',
    handler: submitWorkflow,
    scope: 'run',
    body: submitWorkflowBody,
    responses: {
      202: json('Accepted: the run was created', 'SubmitResult'),
      200: json('The correlation id was already used: the existing run', 'SubmitResult'),
      400: invalid,
      413: error('The body is larger than ORCHESTRATOR_BODY_LIMIT'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/workflows',
    operationId: 'listWorkflows',
    summary: 'List runs, newest first',
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
    tag: 'workflows',
    handler: 'events',
    scope: 'read',
    responses: {
      200: { description: 'An event stream; each `id` is the Redis stream id', contentType: 'text/event-stream' },
      204: { description: 'Last-Event-ID is the final event of a finished run: nothing more will come' },
      400: error('Last-Event-ID is not an event id'),
      404: notFound,
      503: error('Too many streams open, or the server is shutting down'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/workflows/:id/cancel',
    operationId: 'cancelWorkflow',
    summary: 'Cancel a pending or running run',
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
    tag: 'workflows',
    handler: retryWorkflow,
    scope: 'run',
    responses: {
      202: json('The new run', 'RetryResult'),
      404: notFound,
      409: error('The run has not finished, or every task completed'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/workflows/:id/pause',
    operationId: 'pauseWorkflow',
    summary: 'Pause a running run: no task starts until resume; running tasks finish; the timeout keeps counting',
    tag: 'workflows',
    handler: pauseWorkflow,
    scope: 'run',
    responses: { 200: json('The run is paused'), 404: notFound, 409: error('The run is not running') },
  },
  {
    method: 'post',
    path: '/api/v1/workflows/:id/resume',
    operationId: 'resumeWorkflow',
    summary: 'Resume a paused run: whatever became ready starts',
    tag: 'workflows',
    handler: resumeWorkflow,
    scope: 'run',
    responses: { 200: json('The run is running again'), 404: notFound, 409: error('The run is not paused') },
  },
  {
    method: 'post',
    path: '/api/v1/workflows/:id/tasks/:task/approve',
    operationId: 'approveTask',
    summary: 'Approve an approval task; `payload` becomes its output',
    tag: 'workflows',
    handler: approveTask,
    scope: 'run',
    body: decisionBody,
    bodyOptional: true,
    responses: {
      200: json('The decision was recorded'),
      400: invalid,
      404: error('No such run or task'),
      409: error('Not an approval task, already decided, or already finished'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/workflows/:id/tasks/:task/reject',
    operationId: 'rejectTask',
    summary: 'Reject an approval task; it fails with the reason',
    tag: 'workflows',
    handler: rejectTask,
    scope: 'run',
    body: decisionBody,
    bodyOptional: true,
    responses: {
      200: json('The decision was recorded'),
      400: invalid,
      404: error('No such run or task'),
      409: error('Not an approval task, already decided, or already finished'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/templates',
    operationId: 'listTemplates',
    summary: 'The template catalog',
    tag: 'templates',
    handler: listTemplates,
    scope: 'read',
    responses: { 200: json('Every loaded template', 'TemplateList') },
  },
  {
    method: 'get',
    path: '/api/v1/templates/:id',
    operationId: 'getTemplate',
    summary: 'One template document',
    tag: 'templates',
    handler: getTemplate,
    scope: 'read',
    responses: { 200: json('The template', 'Template'), 404: error('No template with this id') },
  },
  {
    method: 'post',
    path: '/api/v1/schedules',
    operationId: 'createSchedule',
    summary:
      'Create or replace a cron schedule that starts a workflow; each firing has correlation id <id>:<fire time>',
    tag: 'schedules',
    handler: createSchedule,
    scope: 'admin',
    body: scheduleBody,
    responses: { 201: json('The schedule'), 400: invalid },
  },
  {
    method: 'get',
    path: '/api/v1/schedules',
    operationId: 'listSchedules',
    summary: 'Every schedule with its next run, counters and last run',
    tag: 'schedules',
    handler: listSchedules,
    scope: 'read',
    responses: { 200: json('The schedules') },
  },
  {
    method: 'get',
    path: '/api/v1/schedules/:id',
    operationId: 'getSchedule',
    summary: 'One schedule with its latest firings (started or skipped)',
    tag: 'schedules',
    handler: getSchedule,
    scope: 'read',
    responses: { 200: json('The schedule'), 404: error('No schedule with this id') },
  },
  {
    method: 'delete',
    path: '/api/v1/schedules/:id',
    operationId: 'deleteSchedule',
    summary: 'Delete a schedule; runs it started are kept',
    tag: 'schedules',
    handler: deleteSchedule,
    scope: 'admin',
    responses: { 204: { description: 'Deleted' }, 404: error('No schedule with this id') },
  },
  {
    method: 'post',
    path: '/api/v1/schedules/:id/pause',
    operationId: 'pauseSchedule',
    summary: 'Stop firing until resumed',
    tag: 'schedules',
    handler: pauseSchedule,
    scope: 'admin',
    responses: { 200: json('The schedule'), 404: error('No schedule with this id') },
  },
  {
    method: 'post',
    path: '/api/v1/schedules/:id/resume',
    operationId: 'resumeSchedule',
    summary: 'Fire again from the next tick',
    tag: 'schedules',
    handler: resumeSchedule,
    scope: 'admin',
    responses: { 200: json('The schedule'), 404: error('No schedule with this id') },
  },
  {
    method: 'get',
    path: '/api/v1/templates/:id/versions',
    operationId: 'listTemplateVersions',
    summary: 'Every version of a template the catalog holds, newest first (pin one with workflow_template: "id@1.2")',
    tag: 'templates',
    handler: templateVersions,
    scope: 'read',
    responses: { 200: json('The versions'), 404: error('No template with this id') },
  },
  {
    method: 'post',
    path: '/api/v1/validate',
    operationId: 'validateWorkflow',
    summary: 'Validate and plan a template or workflow with variables, without running it',
    tag: 'templates',
    handler: validateWorkflow,
    scope: 'read',
    body: validateBody,
    responses: {
      200: json('`valid: true` with the plan, or `valid: false` with every error', 'ValidateResult'),
      400: invalid,
    },
  },
  {
    method: 'post',
    path: '/api/v1/generate',
    operationId: 'generateWorkflow',
    summary: 'Generate a workflow from a prompt with the configured model, validated and planned',
    tag: 'templates',
    handler: generateWorkflow,
    scope: 'run',
    bodyScopes: { save_as: 'admin' },
    body: generateBody,
    responses: {
      200: json('The last candidate: `valid: true` with its plan, or `valid: false` with its errors', 'GenerateResult'),
      202: json('With execute: the generated workflow was started (`execution`)', 'GenerateResult'),
      400: invalid,
      409: error('save_as names a template that exists and overwrite is not set'),
      413: error('The prompt is longer than the generator allows'),
      502: error('The model endpoint failed'),
      503: error('No model endpoint is configured (OPENAI_BASE_URL / OPENAI_API_KEY)'),
      504: error('The model did not answer in time (OPENAI_TIMEOUT)'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    tag: 'operations',
    handler: openapiDocument,
    scope: 'read',
    responses: { 200: { description: 'OpenAPI 3.1' } },
  },
  {
    method: 'get',
    path: '/health',
    operationId: 'health',
    summary: 'Liveness and Redis reachability; needs no API key',
    tag: 'operations',
    handler: health,
    scope: 'none',
    responses: { 200: json('Up, and Redis answers', 'Health'), 503: error('Redis is unreachable') },
  },
  {
    method: 'get',
    path: '/status',
    operationId: 'serviceStatus',
    summary: 'Workflow counts, template statistics, recovery counters, Redis and queue state',
    tag: 'operations',
    handler: serviceStatus,
    scope: 'read',
    responses: { 200: json('Service status', 'ServiceStatus'), 503: error('Redis is unreachable') },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    tag: 'operations',
    handler: prometheusMetrics,
    scope: 'read',
    responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain' } },
  },
];

/** `/a/:id/b` -> `/a/{id}/b`. */
export function openapiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, '{$1}');
}

/** A matcher for a route path, to tell a wrong method (405) from an unknown path (404). */
export function pathPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

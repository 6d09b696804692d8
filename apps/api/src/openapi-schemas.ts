import { templateSchema } from '@orch/core';
import { EVENT_TYPES, EXECUTION_STATUSES, FINAL_STATUSES, SKIP_REASONS, TASK_STATUSES } from '@orch/run-model';

/** Response schemas of the OpenAPI document; request schemas come from request-schemas.ts. */

const str = { type: 'string' };
const int = { type: 'integer' };
const time = { type: 'string', format: 'date-time' };
const status = { enum: [...EXECUTION_STATUSES] };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const links = {
  type: 'object',
  properties: { self: str, status: str, events: str, cancel: str },
  required: ['self', 'status', 'events', 'cancel'],
};

const task = {
  type: 'object',
  properties: {
    id: str,
    name: str,
    type: str,
    status: { enum: [...TASK_STATUSES] },
    skip_reason: { enum: [...SKIP_REASONS], description: 'Why a skipped task did not run' },
    on_exit: { const: true, description: "An exit handler (the workflow's on_exit)" },
    attempts: int,
    started_at: time,
    finished_at: time,
    duration_ms: int,
    error: str,
    worker: str,
    output: { description: 'Only in the full record' },
  },
  required: ['id', 'type', 'status', 'attempts'],
};

const progress = {
  type: 'object',
  properties: Object.fromEntries([...TASK_STATUSES, 'total'].map((s) => [s, int])),
};

const statusProperties = {
  execution_id: str,
  status,
  correlation_id: str,
  request_id: { type: 'string', description: 'The X-Request-Id of the request that created the run' },
  submitted_by: { type: 'string', description: 'The name of the API key that submitted (or retried into) the run' },
  workflow: { type: 'object', properties: { id: str, name: str } },
  template: { type: 'object', properties: { id: str, version: str } },
  created_at: time,
  started_at: time,
  finished_at: time,
  duration_ms: int,
  error: str,
  progress,
  tasks: { type: 'array', items: task },
};

export const RESPONSE_SCHEMAS: Record<string, object> = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message', 'details'],
        properties: {
          code: { type: 'string', examples: ['VALIDATION_FAILED', 'NOT_FOUND'] },
          message: str,
          details: {
            type: 'array',
            items: {
              type: 'object',
              required: ['pointer', 'message'],
              properties: { pointer: { type: 'string', description: 'RFC 6901 JSON pointer' }, message: str },
            },
          },
        },
      },
    },
  },
  SubmitResult: {
    type: 'object',
    required: ['execution_id', 'status', 'correlation_id', 'created', 'links'],
    properties: {
      execution_id: str,
      status,
      correlation_id: { type: ['string', 'null'] },
      created: { type: 'boolean', description: 'False when the correlation id named an existing run' },
      links,
    },
  },
  ExecutionStatus: {
    type: 'object',
    required: ['execution_id', 'status', 'progress', 'tasks'],
    properties: statusProperties,
  },
  ExecutionRecord: {
    type: 'object',
    required: ['execution_id', 'status', 'variables', 'progress', 'tasks'],
    properties: { ...statusProperties, variables: { type: 'object' } },
  },
  ExecutionList: {
    type: 'object',
    required: ['items', 'next_cursor'],
    properties: {
      items: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            execution_id: str,
            status,
            workflow_id: str,
            template: { type: 'object', properties: { id: str, version: str } },
            correlation_id: str,
            created_at: time,
            finished_at: time,
          },
        },
      },
      next_cursor: { type: ['string', 'null'] },
      links: { type: 'object', properties: { next: { type: ['string', 'null'] } } },
    },
  },
  ExecutionEvent: {
    type: 'object',
    description: 'The `data` of one Server-Sent Event of `/api/v1/workflows/{id}/events`; its `event` is `type`',
    required: ['id', 'type', 'at'],
    properties: {
      id: { type: 'string', description: 'Redis stream id, also the SSE id' },
      type: { enum: [...EVENT_TYPES] },
      task: str,
      attempt: int,
      at: time,
      error: str,
      worker: str,
      reason: { enum: [...SKIP_REASONS], description: 'task.skipped: why the task did not run' },
      item: { type: 'integer', description: 'item.started, item.finished: the index of the parallel item' },
      status: {
        enum: [...FINAL_STATUSES],
        description: 'item.finished: how the item ended; workflow.exiting: the status the run ends with',
      },
    },
  },
  CancelResult: {
    type: 'object',
    properties: { execution_id: str, status, cancel_requested: { type: 'boolean' }, links },
  },
  RetryResult: {
    type: 'object',
    properties: {
      execution_id: str,
      status,
      retried_from: str,
      reused: { type: 'array', items: str, description: 'Tasks whose outputs were reused' },
      links,
    },
  },
  TemplateList: {
    type: 'object',
    properties: {
      count: int,
      templates: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: str,
            name: str,
            description: str,
            category: str,
            version: str,
            tasks: int,
            variables: { type: 'array', items: { type: 'object' } },
          },
        },
      },
    },
  },
  Template: templateSchema,
  ValidateResult: {
    type: 'object',
    required: ['valid'],
    properties: {
      valid: { type: 'boolean' },
      message: str,
      errors: { type: 'array', items: { type: 'object', properties: { pointer: str, message: str } } },
      plan: {
        type: 'object',
        properties: {
          levels: { type: 'array', items: { type: 'array', items: { type: 'object' } } },
          depth: int,
          width: int,
          critical_path: { type: 'array', items: str },
          critical_path_ms: int,
        },
      },
    },
  },
  GenerateResult: {
    type: 'object',
    required: ['workflow', 'valid', 'errors', 'attempts', 'model', 'usage', 'plan', 'provenance'],
    properties: {
      workflow: { oneOf: [ref('Workflow'), { type: 'null' }] },
      valid: { type: 'boolean' },
      errors: { type: 'array', items: { type: 'object', properties: { pointer: str, message: str } } },
      attempts: int,
      model: str,
      usage: { type: 'object', properties: { prompt_tokens: int, completion_tokens: int } },
      plan: { type: ['object', 'null'] },
      provenance: { type: 'object' },
    },
  },
  Health: {
    type: 'object',
    properties: {
      status: { const: 'ok' },
      redis: { type: 'object', properties: { status: str, ping_ms: { type: 'number' } } },
      uptime_s: int,
    },
  },
  ServiceStatus: {
    type: 'object',
    properties: {
      service: str,
      version: str,
      uptime_s: int,
      workflows: { type: 'object', properties: { active: int, pending: int, max_concurrent: int } },
      templates: { type: 'object' },
      recovery: { type: 'object' },
      redis: { type: 'object', properties: { status: str } },
      queues: { type: 'object', additionalProperties: { type: 'object', additionalProperties: int } },
      sse_streams: int,
    },
  },
};

export { ref };

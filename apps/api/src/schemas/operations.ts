import { QUEUE_STATES } from '@orch/engine';
import { RECOVERY_ACTIONS } from '@orch/run-model';
import { bool, count, object, ref, str, strings, time } from './parts';

/** Response schemas of the operations routes: health, status, this document. */

const counts = (names: readonly string[], optional: readonly string[] = []) =>
  object(Object.fromEntries(names.map((n) => [n, count])), optional);
const queueCounts = counts(QUEUE_STATES);
const recoveryCounters = RECOVERY_ACTIONS.map((a) => `recovery_${a}`);

export const OPERATIONS_SCHEMAS = {
  Health: object({
    status: { const: 'ok' },
    redis: object({ status: { const: 'ok' }, ping_ms: { type: 'number', minimum: 0 } }),
    uptime_s: count,
  }),
  ServiceStatus: object({
    service: str,
    version: str,
    uptime_s: count,
    workflows: object({
      active: { ...count, description: 'Runs holding a slot' },
      pending: { ...count, description: 'Runs waiting for a slot' },
      max_concurrent: count,
    }),
    templates: object({
      count,
      by_category: { type: 'object', additionalProperties: count },
      tasks: count,
      invalid_files: { type: 'array', items: object({ path: str, errors: count }) },
    }),
    recovery: object({
      enabled: bool,
      strategy: str,
      counters: { ...counts(recoveryCounters, recoveryCounters), description: 'Repairs so far, by action' },
    }),
    redis: object({ status: { type: 'string', description: "ioredis' connection status, e.g. `ready`" } }),
    queues: object({ workflows: queueCounts, tasks: queueCounts, control: queueCounts }, [], 'BullMQ job counts'),
    sse_streams: { ...count, description: 'Event streams this replica serves' },
    workers: object(
      { live: count, lost: { ...count, description: 'Silent for 3 heartbeats' } },
      [],
      'Workers by their heartbeats',
    ),
  }),
  Worker: object(
    {
      name: str,
      host: str,
      pid: count,
      queues: { ...strings, description: 'The task queues it takes jobs from' },
      task_types: { ...strings, description: 'The task types it runs' },
      concurrency: count,
      active: { ...count, description: 'Task jobs running at its latest heartbeat' },
      started_at: time,
      last_heartbeat_at: time,
      heartbeat_ms: count,
      version: str,
      kind: {
        enum: ['stock', 'sdk'],
        description: "`stock` (the orchestrator's worker) or `sdk` (@orchestrator/worker)",
      },
      status: { enum: ['live', 'lost'], description: '`lost` after 3 missed heartbeats' },
    },
    [],
    'One worker process, as its heartbeats describe it',
  ),
  WorkerList: object({ workers: { type: 'array', items: ref('Worker') } }, [], 'Live workers first, by name'),
  OpenApiDocument: {
    type: 'object',
    required: ['openapi', 'info', 'paths'],
    properties: {
      openapi: { const: '3.1.0' },
      info: { type: 'object', additionalProperties: true },
      paths: { type: 'object', additionalProperties: true },
    },
    additionalProperties: true,
    description: 'This document',
  },
} as const;

import { QUEUE_STATES } from '@orch/engine';
import { RECOVERY_ACTIONS } from '@orch/run-model';
import { bool, count, object, str } from './parts';

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
  }),
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

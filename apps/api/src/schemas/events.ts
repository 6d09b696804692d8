import { EVENT_FIELDS, EVENT_SHAPES, EVENT_TYPES, type EventType } from '@orch/run-model';
import { object, time } from './parts';

/**
 * One schema per event type of a run's stream (the SSE `event:` is the type, `data:` the event as JSON), from
 * @orch/run-model's EVENT_SHAPES; `ExecutionEvent` is their union, discriminated by `type`.
 */

/** `task.upstream_failed` -> `TaskUpstreamFailedEvent`. */
export function eventSchemaName(type: EventType): string {
  const words = type.split(/[._]/).map((w) => (w[0] ?? '').toUpperCase() + w.slice(1));
  return `${words.join('')}Event`;
}

function eventSchema(type: EventType) {
  const shape = EVENT_SHAPES[type];
  const fields = Object.fromEntries([...shape.required, ...shape.optional].map((f) => [f, EVENT_FIELDS[f]]));
  return object(
    {
      id: { type: 'string', description: 'The Redis stream id, also the SSE `id`: send it as Last-Event-ID to resume' },
      type: { const: type },
      at: time,
      ...fields,
    },
    shape.optional,
    shape.description,
  );
}

const ref = (type: EventType) => `#/components/schemas/${eventSchemaName(type)}`;

export const EVENT_SCHEMAS: Record<string, object> = {
  ...Object.fromEntries(EVENT_TYPES.map((type) => [eventSchemaName(type), eventSchema(type)])),
  ExecutionEvent: {
    description:
      'The `data` of one Server-Sent Event of `GET /api/v1/workflows/{id}/events`, as JSON; the SSE `event` is its `type`',
    oneOf: EVENT_TYPES.map((type) => ({ $ref: ref(type) })),
    discriminator: { propertyName: 'type', mapping: Object.fromEntries(EVENT_TYPES.map((t) => [t, ref(t)])) },
  },
};

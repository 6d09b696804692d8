import { DURATION_FORMAT, type TaskType, workflowSchema } from '@orch/core';

type Json = unknown;

/**
 * The workflow JSON Schema as sent in `response_format`. Our ajv dialect has keywords no model server knows
 * (`x-message`, our custom duration format); servers that compile the schema into a grammar reject or choke on
 * them, so they are dropped. The task `type` is narrowed to the types the request allows, which steers
 * constrained decoders; the validator still has the last word.
 */
export function buildGenerationSchema(allowedTypes: readonly TaskType[]): Record<string, unknown> {
  const schema = toModelSchema(workflowSchema) as Record<string, unknown>;
  const task = (schema.properties as { tasks: { items: { properties: Record<string, unknown> } } }).tasks.items;
  task.properties.type = { enum: [...allowedTypes] };
  return schema;
}

/** A deep copy without our ajv-only keywords: `x-*` annotations and our custom duration format. */
export function toModelSchema(value: Json): Json {
  if (Array.isArray(value)) return value.map(toModelSchema);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, Json> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key.startsWith('x-')) continue;
    if (key === 'format' && item === DURATION_FORMAT) continue;
    out[key] = toModelSchema(item);
  }
  return out;
}

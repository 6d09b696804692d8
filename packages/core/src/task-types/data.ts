import { defineTaskType } from './task-type';

const schema = {
  type: 'object',
  required: ['operation'],
  properties: {
    operation: { enum: ['traverse', 'search', 'enrich'] },
    query: { type: 'object' },
    collection: { type: 'string' },
    vector: { type: 'array', items: { type: 'number' } },
    text: { type: 'string' },
    top_k: { type: 'integer', minimum: 1, maximum: 10_000 },
    enrich: { type: 'array', items: { type: 'string' } },
    input: {},
  },
} as const;

export const data = defineTaskType<'data', typeof schema, 'service'>({
  name: 'data',
  kind: 'service',
  description: 'Query the data-abstractor service: graph traversal, vector search, enrichment.',
  schema,
  run: { kind: 'service' },
  subTask: true,
  // A dry run answers empty but schema-shaped, so `${t.output.rows}` evaluates as on a real, empty answer.
  simulate: () => ({ rows: [], matches: [], count: 0 }),
});

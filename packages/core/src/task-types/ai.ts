import { defineTaskType } from './task-type';

const schema = {
  type: 'object',
  required: ['prompt'],
  additionalProperties: false,
  properties: {
    prompt: { type: 'string', minLength: 1 },
    system: { type: 'string' },
    provider: { type: 'string' },
    model: { type: 'string' },
    response_format: { enum: ['text', 'json'] },
    max_tokens: { type: 'integer', minimum: 1 },
    temperature: { type: 'number', minimum: 0, maximum: 2 },
  },
} as const;

export const ai = defineTaskType<'ai', typeof schema, 'service'>({
  name: 'ai',
  kind: 'service',
  description: 'Call a language model through the ai-abstractor service or an OpenAI-compatible endpoint.',
  schema,
  run: { kind: 'service' },
  subTask: true,
  simulate: () => ({
    text: '(dry run)',
    json: {},
    model: 'dry-run',
    usage: { prompt_tokens: 0, completion_tokens: 0 },
  }),
});

import { durationSchema, inputFileNameSchema, stringMapSchema } from './schema-parts';
import { defineTaskType } from './task-type';

const schema = {
  type: 'object',
  required: ['image', 'command'],
  properties: {
    image: { type: 'string', minLength: 1 },
    command: {
      type: 'array',
      minItems: 1,
      items: { type: 'string' },
      description: 'argv array, never a shell string',
    },
    files: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'content'],
        additionalProperties: false,
        properties: { name: inputFileNameSchema, content: { type: 'string' } },
      },
    },
    env: stringMapSchema,
    timeout: durationSchema,
    network: {
      type: 'boolean',
      description: 'ask for network access; the exec-agent grants it only with EXEC_NETWORK=allowed',
    },
  },
} as const;

export const exec = defineTaskType<'exec', typeof schema, 'service'>({
  name: 'exec',
  kind: 'service',
  description: 'Run a command in a container through the exec-agent service.',
  schema,
  run: { kind: 'service' },
  subTask: true,
  simulate: () => ({ exit_code: 0, stdout: '', stderr: '', files: [], json: {} }),
});

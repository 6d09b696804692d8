import { namedValues, notReserved } from './reserved-names';

/**
 * THE catalog of task types. Each entry holds the JSON Schema of the type's `parameters` as they stand after
 * expressions are evaluated; `schemaWithExpressions()` derives the submit-time form in which any value may still be
 * a `${...}` expression. The worker's handler table is typed `Record<TaskType, ...>`, so a type added here does
 * not compile until it has a handler.
 */

type Schema = Record<string, unknown>;

const stringMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };
const durationSchema: Schema = { type: ['number', 'string'], format: 'duration', minimum: 0 };

/** As the exec-agent checks it again: a relative path that stays inside the request's input directory. */
const inputFileName: Schema = {
  type: 'string',
  minLength: 1,
  maxLength: 1024,
  pattern: '^(?!/)(?![\\s\\S]*(?:^|/)\\.\\.(?:/|$))(?!\\.$)[^\\\\\\u0000]*[^/\\\\\\u0000]$',
  'x-message': 'must be a relative file path inside /workspace/input: no leading /, no .. part, no \\ or NUL',
};

/** A catalog template, `id` or `id@version`: never a path. */
const templateReference: Schema = {
  type: 'string',
  maxLength: 300,
  pattern: '^[a-z0-9][a-z0-9._-]*(?:@[^@/\\\\\\s]+)?$',
  'x-message': 'must be a catalog template id, optionally with @version (such as data-analysis-basic@1.0)',
};

const leafTask = (types: string[]): Schema => ({
  type: 'object',
  required: ['type'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', allOf: [notReserved] },
    type: { enum: types },
    parameters: { type: 'object' },
    timeout: durationSchema,
  },
});

/** Sub-tasks of `parallel` are leaves: nesting fan-outs and branches inside them is not supported. */
export const SUB_TASK_TYPES = ['data', 'ai', 'exec', 'transform'] as const;

export const TASK_CATALOG = {
  data: {
    description: 'Query the data-abstractor service: graph traversal, vector search, enrichment.',
    schema: {
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
    },
  },
  ai: {
    description: 'Call a language model through the ai-abstractor service or an OpenAI-compatible endpoint.',
    schema: {
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
    },
  },
  exec: {
    description: 'Run a command in a container through the exec-agent service.',
    schema: {
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
            properties: { name: inputFileName, content: { type: 'string' } },
          },
        },
        env: stringMap,
        timeout: durationSchema,
        network: {
          type: 'boolean',
          description: 'ask for network access; the exec-agent grants it only with EXEC_NETWORK=allowed',
        },
      },
    },
  },
  parallel: {
    description: 'Run sub-tasks concurrently (a fixed list, or one sub-task per item of `for_each`).',
    schema: {
      type: 'object',
      properties: {
        tasks: { type: 'array', minItems: 1, items: leafTask([...SUB_TASK_TYPES]) },
        for_each: { type: 'array' },
        task: leafTask([...SUB_TASK_TYPES]),
        max_items: { type: 'integer', minimum: 1, maximum: 10_000 },
      },
      oneOf: [{ required: ['tasks'] }, { required: ['for_each', 'task'] }],
      'x-message': 'needs either tasks (a list of sub-tasks) or for_each (a list) with task (one sub-task)',
    },
  },
  condition: {
    description: 'Evaluate `condition`; run `on_success` tasks when true and `on_failure` tasks when false.',
    schema: { type: 'object' },
  },
  transform: {
    description: 'Output `parameters.output` with its expressions evaluated. No side effects.',
    schema: { type: 'object', required: ['output'], properties: { output: {} } },
  },
  workflow: {
    description:
      "Run another workflow (a catalog template, `id` or `id@version`, or an inline workflow) as this task; its task outputs become this task's output.",
    schema: {
      type: 'object',
      properties: {
        template: templateReference,
        workflow: { type: 'object' },
        variables: namedValues,
      },
      oneOf: [{ required: ['template'] }, { required: ['workflow'] }],
      'x-message': 'needs either template (a catalog id, optionally @version) or workflow (an inline workflow)',
    },
  },
  approval: {
    description:
      'Wait, holding no worker, until someone approves or rejects through the API (the payload becomes the output), or the task times out.',
    schema: {
      type: 'object',
      properties: {
        message: { type: 'string' },
        approvers: { type: 'array', items: { type: 'string' } },
      },
    },
  },
  delay: {
    description: 'Wait `parameters.duration` without holding a worker (a delayed job).',
    schema: { type: 'object', required: ['duration'], properties: { duration: durationSchema } },
  },
} as const satisfies Record<string, { description: string; schema: Schema }>;

export type TaskType = keyof typeof TASK_CATALOG;
export const TASK_TYPES = Object.keys(TASK_CATALOG) as TaskType[];

export function isTaskType(value: unknown): value is TaskType {
  return typeof value === 'string' && Object.hasOwn(TASK_CATALOG, value);
}

const EXPRESSION_STRING: Schema = { type: 'string', pattern: '^\\$\\{[\\s\\S]*\\}$' };

/**
 * The submit-time schema: every typed property may instead be a whole `${...}` expression, resolved at run time.
 * `for_each` in particular is normally an expression.
 */
export function schemaWithExpressions(schema: Schema): Schema {
  const out: Schema = { ...schema };
  if (schema.properties && typeof schema.properties === 'object') {
    const props: Record<string, Schema> = {};
    for (const [key, value] of Object.entries(schema.properties as Record<string, Schema>)) {
      props[key] = allowExpression(key === 'task' || key === 'tasks' ? value : schemaWithExpressions(value));
    }
    out.properties = props;
  }
  if (schema.items && typeof schema.items === 'object')
    out.items = allowExpression(schemaWithExpressions(schema.items as Schema));
  return out;
}

function allowExpression(schema: Schema): Schema {
  if (Object.keys(schema).length === 0) return schema;
  return { anyOf: [schema, EXPRESSION_STRING], 'x-or-expression': true };
}

import { DURATION_FORMAT } from './duration';
import { namedValues, notReserved } from './reserved-names';

/**
 * When a task with dependencies runs. The default, `none_failed_min_one_success`, runs it when no dependency failed
 * and at least one succeeded, so a join after a condition runs whichever branch was taken.
 */
export const TRIGGER_RULES = [
  'all_success',
  'all_done',
  'one_success',
  'none_failed',
  'none_failed_min_one_success',
] as const;

export const RECOVERY_STRATEGIES = ['resume', 'restart', 'fail'] as const;

export const VARIABLE_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array'] as const;

/**
 * JSON Schemas of the documents users write: templates (reference "Template Structure") and workflows.
 * `parameters` is only checked to be an object here; each task type's own schema is applied by the validator,
 * so its errors can name the type. `x-message` replaces ajv's wording where a rule needs explaining.
 */

const IDENTIFIER = '^[A-Za-z_][A-Za-z0-9_]*$';
const IDENTIFIER_MESSAGE =
  'must start with a letter or _ and hold only letters, digits and _ (it is used in expressions such as ${id.output})';

const duration = { type: ['number', 'string'], format: DURATION_FORMAT, minimum: 0 } as const;
const idList = {
  type: 'array',
  items: { type: 'string', minLength: 1 },
  uniqueItems: true,
  'x-message': 'must be a list of distinct task ids, such as ["fetch"]',
} as const;

export const retryPolicySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['max_retries'],
  properties: {
    max_retries: { type: 'integer', minimum: 0, maximum: 100 },
    backoff_type: { enum: ['fixed', 'exponential'] },
    initial_delay: duration,
    max_delay: duration,
    jitter: { type: 'number', minimum: 0, maximum: 1 },
  },
} as const;

export const taskSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type'],
  properties: {
    id: { type: 'string', pattern: IDENTIFIER, 'x-message': IDENTIFIER_MESSAGE, allOf: [notReserved] },
    name: { type: 'string' },
    description: { type: 'string' },
    type: { type: 'string' },
    depends_on: idList,
    parameters: { type: 'object' },
    retry_policy: retryPolicySchema,
    timeout: duration,
    condition: { type: 'string', minLength: 1 },
    on_success: idList,
    on_failure: idList,
    continue_on_failure: { type: 'boolean' },
    trigger_rule: { enum: [...TRIGGER_RULES] },
    queue: {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
      'x-message': 'must be a queue name: lowercase letters, digits, - and _ (up to 63), such as gpu',
      description: 'Only workers serving this queue (WORKER_QUEUES) run the task; default `default`',
    },
  },
} as const;

export const workflowSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'tasks'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 200 },
    name: { type: 'string' },
    description: { type: 'string' },
    timeout: duration,
    variables: namedValues,
    tasks: { type: 'array', minItems: 1, maxItems: 20_000, items: taskSchema },
    on_exit: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      items: taskSchema,
      description: "Exit handlers: tasks run once the run's tasks have ended, whatever its outcome",
    },
    max_concurrency: {
      type: 'integer',
      minimum: 1,
      maximum: 100_000,
      description: 'At most this many of its tasks (and parallel items) run at once',
    },
    fail_fast: { type: 'boolean' },
    output: {
      description:
        "What the run returns (its record's `result`, a waiting caller's answer, a parent's sub-workflow output): an expression, or any JSON with expressions in it, over the variables and the tasks' `.output`, `.status` and `.error`. Without it, the outputs of the final tasks.",
    },
    recovery: {
      type: 'object',
      additionalProperties: false,
      properties: { strategy: { enum: [...RECOVERY_STRATEGIES] } },
    },
  },
} as const;

export const variableSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: IDENTIFIER, 'x-message': IDENTIFIER_MESSAGE, allOf: [notReserved] },
    type: { enum: [...VARIABLE_TYPES] },
    description: { type: 'string' },
    required: { type: 'boolean' },
    default: {},
  },
} as const;

export const templateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'workflow'],
  properties: {
    id: {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9._-]*$',
      maxLength: 200,
      'x-message': 'must be lower-case letters, digits, ., _ and -, starting with a letter or digit',
      allOf: [notReserved],
    },
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    category: { type: 'string' },
    version: { type: 'string', 'x-message': 'must be a string: quote it in YAML, as in version: "1.0"' },
    variables: { type: 'array', items: variableSchema },
    workflow: workflowSchema,
    schedule: {
      type: 'object',
      additionalProperties: false,
      required: ['cron'],
      properties: {
        cron: { type: 'string', minLength: 1, description: 'cron pattern; 6 fields for seconds' },
        timezone: { type: 'string', minLength: 1 },
        variables: namedValues,
        overlap: { enum: ['skip', 'allow'] },
      },
    },
  },
} as const;

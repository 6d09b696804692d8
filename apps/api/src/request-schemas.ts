import {
  ajv,
  CORRELATION_ID_FORMAT,
  CORRELATION_ID_HINT,
  CORRELATION_ID_MAX_BYTES,
  CORRELATION_ID_PATTERN,
  DURATION_FORMAT,
  formatAjvErrors,
  namedValues,
  notReserved,
} from '@orch/core';
import { type ErrorDetail, ValidationError } from '@orch/errors';
import { EXECUTION_STATUSES } from '@orch/run-model';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/**
 * JSON Schemas of every request body and query string. They only check the envelope: the workflow or template
 * inside is checked by @orch/core afterwards, with pointers into the same body. The OpenAPI document reuses them.
 */

const correlationId = {
  type: 'string',
  minLength: 1,
  maxLength: CORRELATION_ID_MAX_BYTES,
  pattern: CORRELATION_ID_PATTERN,
  format: CORRELATION_ID_FORMAT,
  'x-message': CORRELATION_ID_HINT,
  description:
    'An idempotency key, in a space of its own per API key: the same id with the same body answers the run it ' +
    'started, with another body 409.',
} as const;
const templateId = { type: 'string', minLength: 1, maxLength: 200 } as const;
const variables = { ...namedValues, description: 'Values for the template or workflow variables.' } as const;

/** `{correlation_id?, workflow_template, variables}` or `{correlation_id?, workflow, variables}`. */
export const submitWorkflowBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    correlation_id: correlationId,
    workflow_template: { ...templateId, description: 'Id of a template in the catalog.' },
    workflow: { type: 'object', description: 'An inline workflow definition.' },
    variables,
    targets: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      uniqueItems: true,
      items: { type: 'string', minLength: 1, maxLength: 200 },
      description:
        'Run only these tasks and what they depend on (Argo\'s dag.target); the others are recorded skipped, "not targeted".',
    },
  },
  oneOf: [{ required: ['workflow_template'] }, { required: ['workflow'] }],
} as const;

/** A duration to hold the answer for the run's end (submit and wait), capped by ORCHESTRATOR_MAX_WAIT. */
const wait = {
  type: 'string',
  format: DURATION_FORMAT,
  description:
    'Answer once the run has ended (200, with its record) if that happens within this long, else 202 as usual: a duration like 500ms, 30s or 2m, or seconds as a number; at most ORCHESTRATOR_MAX_WAIT (longer waits are cut to it).',
  'x-message': 'must be a duration like 500ms, 30s or 2m, or seconds as a number',
} as const;

/** `POST /api/v1/workflows?wait=30s`. */
export const submitWorkflowQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { wait },
} as const;

/**
 * The message bus takes the POST body, but a correlation id is required: every replica gets every message. `wait`
 * is the query's: with it, a run that ends within the wait gets only its final message, not `accepted` first.
 */
export const busRequestBody = {
  ...submitWorkflowBody,
  properties: {
    ...submitWorkflowBody.properties,
    wait: { ...wait, type: ['string', 'number'], minimum: 0, description: 'As `?wait=` of POST /api/v1/workflows.' },
  },
  required: ['correlation_id'],
} as const;

/** `POST /api/v1/validate`: a catalog template, an inline template or an inline workflow, with variables. */
export const validateBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    correlation_id: correlationId,
    workflow_template: templateId,
    template: { type: 'object', description: 'An inline template document.' },
    workflow: { type: 'object', description: 'An inline workflow definition.' },
    variables,
  },
  oneOf: [{ required: ['workflow_template'] }, { required: ['template'] }, { required: ['workflow'] }],
} as const;

export const listWorkflowsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { enum: [...EXECUTION_STATUSES] },
    template: templateId,
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: 200,
      default: 20,
      description: 'Runs per page',
      'x-message': 'must be an integer from 1 to 200',
    },
    cursor: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

/** `GET /api/v1/workflows/{id}/tasks/{task}/logs`. */
export const taskLogsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    attempt: {
      type: 'integer',
      minimum: 1,
      maximum: 100_000,
      description: "The attempt (1 for the first); default: the task's latest",
      'x-message': 'must be an attempt number: an integer from 1',
    },
    after: {
      type: 'string',
      pattern: '^\\d{1,20}-\\d{1,20}$',
      description: "A line id (`next_after`, or a line's `id`): only the lines after it",
      'x-message': 'must be a line id such as 1700000000000-0',
    },
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: 5000,
      default: 1000,
      description: 'Lines per page',
      'x-message': 'must be an integer from 1 to 5000',
    },
    follow: {
      enum: ['true', 'false'],
      default: 'false',
      description:
        'true: Server-Sent Events (`event: line`, then `event: end` once the attempt is over), live from the start or after Last-Event-ID',
    },
  },
} as const;

/** `POST /api/v1/generate`, as in the reference; @orch/generator checks the values again. */
export const generateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['prompt'],
  properties: {
    prompt: { type: 'string', minLength: 1, description: 'What the workflow should do, in plain language.' },
    domain: { type: 'string', maxLength: 200 },
    complexity: { enum: ['low', 'medium', 'high'] },
    required_services: { type: 'array', items: { enum: ['data', 'ai', 'exec'] }, uniqueItems: true },
    dry_run: { type: 'boolean', description: 'Simulate the generated workflow with mock service outputs.' },
    execute: { type: 'boolean', description: 'Start the generated workflow (when valid) and return its execution id.' },
    variables: { ...namedValues, description: 'Variables for execute.' },
    save_as: {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9._-]*$',
      maxLength: 200,
      allOf: [notReserved],
      description: 'Write the workflow to the template catalog under this id (when valid).',
    },
    overwrite: {
      type: 'boolean',
      description: 'With save_as naming an existing template: save a new version of it (no file is ever replaced).',
    },
  },
} as const;

/** A cron schedule: a template or an inline workflow, with variables. */
export const scheduleBody = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'cron'],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$', allOf: [notReserved] },
    cron: { type: 'string', minLength: 1, description: 'cron pattern (5 fields, or 6 with seconds first)' },
    timezone: { type: 'string', minLength: 1, description: 'IANA time zone, e.g. Europe/Paris' },
    workflow_template: { type: 'string', minLength: 1 },
    workflow: { type: 'object' },
    variables: namedValues,
    overlap: {
      enum: ['skip', 'allow'],
      description: 'skip (default): a firing while the last run is active is skipped',
    },
  },
  oneOf: [{ required: ['workflow_template'] }, { required: ['workflow'] }],
} as const;

/** Approve or reject an approval task. */
export const decisionBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    payload: { description: 'Becomes the task output when approved (any JSON value).' },
    by: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: "Who decided. With API keys it is the key's name (by may only repeat it); without keys, as given.",
    },
    reason: { type: 'string', maxLength: 2000, description: 'Quoted in the error when rejected.' },
  },
} as const;

/** No query parameters at all. */
export const emptyQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

type ValidateFunction = ReturnType<typeof ajv.compile>;

const compiled = new WeakMap<object, ValidateFunction>();

function compile(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/**
 * Checks `value` against `schema` and returns every problem with a JSON pointer into it. A root `oneOf` of
 * `required` alternatives is reported as one readable line instead of ajv's per-branch errors.
 */
export function requestErrors(schema: object, value: unknown): ErrorDetail[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [{ pointer: '', message: 'must be a JSON object' }];
  }
  const validate = compile(schema);
  if (validate(value)) return [];
  const errors = validate.errors ?? [];
  const details = formatAjvErrors(errors.filter((e) => !e.schemaPath.startsWith('#/oneOf')));
  if (errors.some((e) => e.schemaPath.startsWith('#/oneOf'))) {
    const names = ((schema as { oneOf?: { required: string[] }[] }).oneOf ?? []).map((b) => b.required[0]);
    const given = names.filter((n) => Object.hasOwn(value, n as string));
    details.push({
      pointer: given.length > 1 ? `/${given[1]}` : '',
      message:
        given.length > 1
          ? `give only one of ${names.join(', ')}; got ${given.join(' and ')}`
          : `needs one of ${names.join(', ')}`,
    });
  }
  return details;
}

/**
 * A query string's values typed as `schema` declares them: a property of type integer that is written as one becomes
 * a number (`limit=20`), so query schemas say `integer` as the OpenAPI document does. Anything else stays a string
 * and fails validation with the property's message.
 */
export function typedQuery(schema: object, query: Record<string, unknown>): Record<string, unknown> {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  const typed: Record<string, unknown> = { ...query };
  for (const [name, value] of Object.entries(query)) {
    if (properties[name]?.type === 'integer' && typeof value === 'string' && /^(?:0|-?[1-9]\d{0,15})$/.test(value)) {
      typed[name] = Number(value);
    }
  }
  return typed;
}

/**
 * Throws a 400 ValidationError naming `what` when `value` does not fit `schema`; otherwise returns it typed from the
 * schema (the one place the schema's type is joined to the value, right after ajv checked it).
 */
export function checkRequest<S extends JSONSchema>(schema: S, value: unknown, what: string): FromSchema<S> {
  const details = requestErrors(schema as object, value);
  if (details.length > 0) throw new ValidationError(`${what} is invalid`, details);
  return value as FromSchema<S>;
}

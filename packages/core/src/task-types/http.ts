import { randomBytes } from 'node:crypto';
import { durationSchema, stringMapSchema } from './schema-parts';
import { defineTaskType } from './task-type';

const statusSchema = { type: 'integer', minimum: 100, maximum: 599 } as const;

const schema = {
  type: 'object',
  required: ['url'],
  additionalProperties: false,
  properties: {
    method: { enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], description: 'default GET' },
    url: { type: 'string', minLength: 1, maxLength: 8192, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://' },
    headers: stringMapSchema,
    query: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
    body: { description: 'an object or array is sent as JSON, a string as text' },
    expect_status: {
      description: 'the statuses that succeed (default any 2xx)',
      oneOf: [statusSchema, { type: 'array', minItems: 1, items: statusSchema }],
    },
    timeout: durationSchema,
    response: { enum: ['json', 'text'], description: 'how to read the body (default: json when it says it is)' },
  },
} as const;

/**
 * Unforgeable per process: `${env.NAME}` in headers evaluates to this marker, which only the http handler turns into
 * the variable's value (for names in HTTP_TASK_SECRET_ENV). Data from other tasks cannot contain it, so an upstream
 * output can never make a header carry a secret, and the secret itself is never in the run's record.
 */
const SECRET_NONCE = randomBytes(12).toString('hex');

export const secretMarker = (name: string) => `\u0000secret:${SECRET_NONCE}:${name}\u0000`;

/** Matches the markers `secretMarker` makes (group 1: the variable's name). */
export const SECRET_MARKER = new RegExp(`\\u0000secret:${SECRET_NONCE}:([A-Za-z_][A-Za-z0-9_]*)\\u0000`, 'g');

/** `env.NAME` references in a value (the headers), for the scope the runner evaluates them in. */
function envScope(headers: unknown): Record<string, unknown> {
  const env: Record<string, string> = {};
  for (const [, name] of JSON.stringify(headers ?? {}).matchAll(/\benv\.([A-Za-z_][A-Za-z0-9_]*)/g))
    if (name) env[name] = secretMarker(name);
  return { env };
}

export const http = defineTaskType<'http', typeof schema, 'service'>({
  name: 'http',
  kind: 'service',
  description: 'Call an HTTP endpoint (outbound addresses checked against HTTP_TASK_ALLOW / HTTP_TASK_DENY).',
  schema,
  run: { kind: 'service' },
  // `${env.NAME}` is a name only in headers, where the handler puts the secret in.
  expressionScopes: (parameters) => [{ value: parameters.headers, path: ['headers'], names: ['env'] }],
  runScope: (parameters) => envScope(parameters.headers),
  simulate: () => ({ status: 200, headers: {}, body: {} }),
});

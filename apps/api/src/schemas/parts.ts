import { ERROR_STATUS } from '@orch/errors';
import { EXECUTION_STATUSES } from '@orch/run-model';

/**
 * Pieces of the response schemas. Response schemas say every field the API sends: the contract test closes every
 * object that lists `properties` (an undocumented field fails it), while the published document leaves them open so
 * a client's validator accepts fields added later. An object meant to hold anything says `additionalProperties`.
 */

export const str = { type: 'string' } as const;
export const int = { type: 'integer' } as const;
export const count = { type: 'integer', minimum: 0 } as const;
export const bool = { type: 'boolean' } as const;
export const time = { type: 'string', format: 'date-time' } as const;
export const strings = { type: 'array', items: str } as const;
export const nullable = (type: 'string' | 'integer') => ({ type: [type, 'null'] }) as const;
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` }) as const;
export const executionStatus = { type: 'string', enum: [...EXECUTION_STATUSES] } as const;
/** Any JSON value. */
export const anyValue = (description: string) => ({ description }) as const;
/** A map of names to values of any type (variables, outputs). */
export const openObject = (description: string) =>
  ({ type: 'object', additionalProperties: true, description }) as const;

/** An object whose `required` keys are those not listed in `optional`. */
export function object(properties: Record<string, object>, optional: readonly string[] = [], description?: string) {
  const required = Object.keys(properties).filter((key) => !optional.includes(key));
  return {
    type: 'object',
    ...(description ? { description } : {}),
    properties,
    ...(required.length > 0 ? { required } : {}),
  } as const;
}

export const ERROR_SCHEMAS = {
  ErrorDetail: object({
    pointer: { type: 'string', description: 'RFC 6901 JSON pointer into the request body (empty: the whole body)' },
    message: str,
  }),
  Error: object(
    {
      error: object({
        code: { type: 'string', enum: Object.keys(ERROR_STATUS), description: 'Stable, machine-readable' },
        message: { type: 'string', description: 'What went wrong and what to do, for a person' },
        details: { type: 'array', items: ref('ErrorDetail') },
      }),
    },
    [],
    'Every 4xx and 5xx answer',
  ),
} as const;

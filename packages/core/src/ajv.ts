import type { ErrorDetail } from '@orch/errors';
import Ajv, { type ErrorObject } from 'ajv';
import { CORRELATION_ID_FORMAT, CORRELATION_ID_HINT, isCorrelationId } from './correlation-id';
import { DURATION_FORMAT, DURATION_HINT, tryParseDuration } from './duration';

/** The one ajv instance of the model: all errors at once, plus our duration format and annotation keywords. */
export const ajv = new Ajv({
  allErrors: true,
  verbose: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
});
ajv.addFormat(DURATION_FORMAT, { type: 'string', validate: (v: string) => tryParseDuration(v) !== undefined });
ajv.addFormat(CORRELATION_ID_FORMAT, { type: 'string', validate: isCorrelationId });
ajv.addKeyword({ keyword: 'x-message', schemaType: 'string' });
ajv.addKeyword({ keyword: 'x-or-expression', schemaType: 'boolean' });

/** Appends a JSON pointer token (RFC 6901). */
export function pointerJoin(base: string, token: string | number): string {
  return `${base}/${String(token).replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

/**
 * Turns ajv errors into located, readable details. Errors from the `${...}` alternative of an `x-or-expression`
 * anyOf are noise: the user meant the typed form, so only its errors are kept.
 */
export function formatAjvErrors(errors: ErrorObject[] | null | undefined, base = ''): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const seen = new Set<string>();
  for (const error of errors ?? []) {
    const detail = formatOne(error, base);
    if (!detail) continue;
    const key = `${detail.pointer}\u0000${detail.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      details.push(detail);
    }
  }
  return details;
}

function formatOne(error: ErrorObject, base: string): ErrorDetail | undefined {
  // A `propertyNames` failure is reported twice: by the failing keyword (with the key) and as a summary.
  if (error.keyword === 'propertyNames') return undefined;
  const pointer =
    error.propertyName === undefined
      ? base + error.instancePath
      : pointerJoin(base + error.instancePath, error.propertyName);
  const parent = error.parentSchema as Record<string, unknown> | undefined;
  if (/\/anyOf\/1\//.test(error.schemaPath) || error.schemaPath.endsWith('/anyOf/1/type')) return undefined;
  if (error.keyword === 'anyOf' && parent?.['x-or-expression']) return undefined;
  if (
    typeof parent?.['x-message'] === 'string' &&
    error.keyword !== 'required' &&
    error.keyword !== 'additionalProperties'
  ) {
    return { pointer, message: parent['x-message'] as string };
  }
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return {
        pointer: pointerJoin(pointer, String(p.additionalProperty)),
        message: `unknown field '${p.additionalProperty}'`,
      };
    case 'required':
      return { pointer: pointerJoin(pointer, String(p.missingProperty)), message: 'is required' };
    case 'enum':
      return {
        pointer,
        message: `must be one of: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'format':
      return {
        pointer,
        message:
          p.format === DURATION_FORMAT
            ? `must be ${DURATION_HINT}`
            : p.format === CORRELATION_ID_FORMAT
              ? CORRELATION_ID_HINT
              : `must be a valid ${p.format}`,
      };
    case 'oneOf':
      return { pointer, message: 'must match exactly one of the allowed forms' };
    default:
      return { pointer, message: error.message ?? 'is invalid' };
  }
}

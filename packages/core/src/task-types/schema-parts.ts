import { DURATION_FORMAT } from '../duration';
import { notReserved } from '../reserved-names';

/** Schema pieces the task types share. */

export const durationSchema = { type: ['number', 'string'], format: DURATION_FORMAT, minimum: 0 } as const;

export const stringMapSchema = { type: 'object', additionalProperties: { type: 'string' } } as const;

/** A parallel sub-task: a leaf (nesting fan-outs and branches inside one is not supported). */
export const subTaskSchema = (types: readonly string[]) =>
  ({
    type: 'object',
    required: ['type'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', allOf: [notReserved] },
      type: { enum: types },
      parameters: { type: 'object' },
      timeout: durationSchema,
    },
  }) as const;

/** The text of a condition as an expression: `score > 0.8` and `${score > 0.8}` mean the same. */
export const conditionExpression = (condition: string) => (condition.includes('${') ? condition : `\${${condition}}`);

/** As the exec-agent checks it again: a relative path that stays inside the request's input directory. */
export const inputFileNameSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 1024,
  pattern: '^(?!/)(?![\\s\\S]*(?:^|/)\\.\\.(?:/|$))(?!\\.$)[^\\\\\\u0000]*[^/\\\\\\u0000]$',
  'x-message': 'must be a relative file path inside /workspace/input: no leading /, no .. part, no \\ or NUL',
} as const;

/** A catalog template, `id` or `id@version`: never a path. */
export const templateReferenceSchema = {
  type: 'string',
  maxLength: 300,
  pattern: '^[a-z0-9][a-z0-9._-]*(?:@[^@/\\\\\\s]+)?$',
  'x-message': 'must be a catalog template id, optionally with @version (such as data-analysis-basic@1.0)',
} as const;

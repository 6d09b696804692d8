/** Schema pieces the task types share. */

export const durationSchema = { type: ['number', 'string'], format: 'duration', minimum: 0 } as const;

export const stringMapSchema = { type: 'object', additionalProperties: { type: 'string' } } as const;

/** A parallel sub-task: a leaf (nesting fan-outs and branches inside one is not supported). */
export const subTaskSchema = (types: readonly string[]) =>
  ({
    type: 'object',
    required: ['type'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      type: { enum: types },
      parameters: { type: 'object' },
      timeout: durationSchema,
    },
  }) as const;

/** The text of a condition as an expression: `score > 0.8` and `${score > 0.8}` mean the same. */
export const conditionExpression = (condition: string) => (condition.includes('${') ? condition : `\${${condition}}`);

/**
 * The submit-time form of the task types' parameter schemas. THE catalog is `task-types/` (one module per type);
 * it is re-exported here.
 */
export * from './task-types';

type Schema = Record<string, unknown>;

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

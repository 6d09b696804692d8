import { describeType } from './describe-type';
import { evaluateExpression } from './evaluate-expression';
import { ExpressionError } from './expression-error';
import { parseTemplate } from './parse-template';
import { quoteSource } from './quote-source';
import type { Scope } from './scope';
import { toText } from './to-text';

/**
 * Evaluates the `${...}` expressions in a string. When the string is exactly one expression, its value is
 * returned with its own type (number, object, boolean, even undefined); otherwise every value is written as
 * text (see toText) and undefined is an error, because "Hello undefined" is never what anyone meant.
 */
export function interpolate(template: string, scope: Scope): unknown {
  // Most strings in a workflow are plain; skip the scan for them.
  if (!template.includes('$')) return template;
  const parts = parseTemplate(template);
  const only = parts[0];
  if (parts.length === 1 && only?.kind === 'expression') return evaluateExpression(only.source, scope);

  let result = '';
  for (const part of parts) {
    if (part.kind === 'text') {
      result += part.text;
      continue;
    }
    const value = evaluateExpression(part.source, scope);
    const text = toText(value);
    if (text === undefined) {
      const what =
        value === undefined
          ? `is undefined in ${quoteSource(template)}; use default(value, fallback) to supply a fallback`
          : `gave a ${describeType(value)} that cannot be written as text in ${quoteSource(template)}`;
      throw new ExpressionError(`expression ${quoteSource(part.source)} ${what}`, part.source);
    }
    result += text;
  }
  return result;
}

import { parseExpression } from './parse-expression';
import type { Scope } from './scope';

/** Parses (cached) and evaluates one expression, e.g. `task1.output.score > 0.8`, against `scope`. */
export function evaluateExpression(source: string, scope: Scope): unknown {
  return parseExpression(source).evaluate(scope);
}

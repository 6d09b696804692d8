import type { Reference } from './find-references';
import { parseExpression } from './parse-expression';

/** The scope reads of one expression, as fresh objects the caller may keep or change without touching the cache. */
export function expressionReferences(source: string): Reference[] {
  return parseExpression(source).references.map((reference) => ({ root: reference.root, path: [...reference.path] }));
}

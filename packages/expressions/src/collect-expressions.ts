import { ExpressionError } from './expression-error';
import { isPlainObject } from './is-plain-object';
import { parseTemplate } from './parse-template';

/** One `${...}` found in a document: its source and the JSON pointer (RFC 6901) of the string holding it. */
export interface CollectedExpression {
  pointer: string;
  source: string;
}

/**
 * Walks plain objects and arrays and lists every embedded expression, for static validation. A string with an
 * unterminated `${` throws an ExpressionError whose details carry the pointer, so the report can locate it.
 */
export function collectExpressions(value: unknown, pointer = ''): CollectedExpression[] {
  const found: CollectedExpression[] = [];
  walk(value, pointer, found);
  return found;
}

function walk(value: unknown, pointer: string, found: CollectedExpression[]): void {
  if (typeof value === 'string') {
    for (const part of parseAt(value, pointer)) {
      if (part.kind === 'expression') found.push({ pointer, source: part.source });
    }
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) walk(item, `${pointer}/${index}`, found);
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) walk(item, `${pointer}/${escapePointerToken(key)}`, found);
  }
}

function parseAt(text: string, pointer: string): ReturnType<typeof parseTemplate> {
  try {
    return parseTemplate(text);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    throw new ExpressionError(error.message, error.source, {
      position: error.position,
      details: [{ pointer, message: error.message }],
      cause: error,
    });
  }
}

// RFC 6901: '~' must be escaped first, or the '~1' produced for '/' would be escaped again.
function escapePointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

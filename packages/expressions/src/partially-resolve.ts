import { expressionReferences } from './expression-references';
import { interpolate } from './interpolate';
import { mapStrings } from './map-strings';
import { parseTemplate } from './parse-template';
import type { Scope } from './scope';

/**
 * Like resolveValue, but a string is interpolated only when every expression in it reads nothing but roots for
 * which `isKnown(root)` holds; other strings stay verbatim. This shows a plan before task outputs exist.
 */
export function partiallyResolve(value: unknown, scope: Scope, isKnown: (root: string) => boolean): unknown {
  return mapStrings(value, (text) => {
    if (!text.includes('$')) return text;
    const ready = parseTemplate(text).every(
      (part) => part.kind === 'text' || expressionReferences(part.source).every((reference) => isKnown(reference.root)),
    );
    return ready ? interpolate(text, scope) : text;
  });
}

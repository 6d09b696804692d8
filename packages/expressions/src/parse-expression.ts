import jsep from 'jsep';
import { BoundedCache } from './bounded-cache';
import { checkAst } from './check-ast';
import { evaluateAst } from './evaluate-ast';
import { ExpressionError } from './expression-error';
import { EXPRESSION_LIMITS } from './expression-limits';
import { findReferences, type Reference } from './find-references';
import { quoteSource } from './quote-source';
import type { Scope } from './scope';

/** A parsed and checked expression. Shared through a cache, so it is frozen. */
export interface CompiledExpression {
  readonly source: string;
  readonly ast: jsep.Expression;
  /** Scope reads, in source order, each distinct chain once. */
  readonly references: readonly Readonly<Reference>[];
  evaluate(scope: Scope): unknown;
}

// Workflows repeat the same few expressions on every run; parsing each once is the whole point of the cache.
const cache = new BoundedCache<string, CompiledExpression>(EXPRESSION_LIMITS.maxCachedExpressions);

/** Parses and checks `source` (the text between `${` and `}`); throws ExpressionError when it is not valid. */
export function parseExpression(source: string): CompiledExpression {
  const cached = cache.get(source);
  if (cached) return cached;
  const compiled = compile(source);
  cache.set(source, compiled);
  return compiled;
}

function compile(source: string): CompiledExpression {
  const invalid = (detail: string, position?: number) =>
    new ExpressionError(`invalid expression ${quoteSource(source)}: ${detail}`, source, { position });
  const { maxSourceLength, maxAstDepth } = EXPRESSION_LIMITS;

  if (source.length > maxSourceLength) throw invalid(`longer than ${maxSourceLength} characters`);
  if (source.trim() === '') throw invalid('expression is empty');
  // jsep recurses once per bracket, so a few thousand of them overflow the stack before the tree exists.
  if (bracketDepth(source) > maxAstDepth) throw invalid(`nested more than ${maxAstDepth} levels deep`);

  let ast: jsep.Expression;
  try {
    ast = jsep(source);
  } catch (error) {
    if (error instanceof RangeError) throw invalid(`nested too deeply`);
    const { message, index } = error as { message?: unknown; index?: unknown };
    throw invalid(String(message), typeof index === 'number' ? index : undefined);
  }
  checkAst(ast, (detail) => {
    throw invalid(detail);
  });

  const references = Object.freeze(
    findReferences(ast).map((r) => Object.freeze({ ...r, path: Object.freeze(r.path) })),
  );
  return Object.freeze({
    source,
    ast,
    references: references as readonly Readonly<Reference>[],
    evaluate: (scope: Scope) => evaluateAst(ast, scope, source),
  });
}

/** Deepest nesting of ( and [ outside string literals. */
function bracketDepth(source: string): number {
  let depth = 0;
  let deepest = 0;
  let quote: string | undefined;
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '(' || char === '[') {
      deepest = Math.max(deepest, ++depth);
    } else if (char === ')' || char === ']') {
      depth--;
    }
  }
  return deepest;
}

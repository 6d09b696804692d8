import { ExpressionError } from './expression-error';
import { EXPRESSION_LIMITS } from './expression-limits';
import { parseExpression } from './parse-expression';

function parseError(source: string): ExpressionError {
  try {
    parseExpression(source);
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
  throw new Error(`expected "${source}" to be rejected`);
}

describe('parseExpression', () => {
  it('returns the source, the tree, the references and an evaluator', () => {
    const compiled = parseExpression('task1.output.n + bonus');
    expect(compiled.source).toBe('task1.output.n + bonus');
    expect(compiled.ast.type).toBe('BinaryExpression');
    expect(compiled.references).toEqual([
      { root: 'task1', path: ['output', 'n'] },
      { root: 'bonus', path: [] },
    ]);
    expect(compiled.evaluate({ task1: { output: { n: 1 } }, bonus: 2 })).toBe(3);
    expect(compiled.evaluate({ task1: { output: { n: 10 } }, bonus: 5 })).toBe(15);
  });

  it('reports jsep syntax errors with the source and position', () => {
    const error = parseError('a +');
    expect(error.message).toBe('invalid expression "a +": Expected expression after + at character 3');
    expect(error.code).toBe('EXPRESSION_ERROR');
    expect(error.source).toBe('a +');
    expect(error.position).toBe(3);
    expect(parseError('(a').message).toBe('invalid expression "(a": Unclosed ( at character 2');
    expect(parseError('"abc').message).toBe('invalid expression ""abc": Unclosed quote after "abc" at character 4');
    expect(parseError('a ? b').message).toBe('invalid expression "a ? b": Expected : at character 5');
    expect(parseError('a = 1').message).toBe('invalid expression "a = 1": Unexpected "=" at character 2');
  });

  it.each([
    ['', 'expression is empty'],
    ['   ', 'expression is empty'],
    ['a b', 'expected a single expression'],
    ['a; b', 'expected a single expression'],
    ['(a, b)', 'comma sequences are not supported'],
    ['this', "'this' is not supported"],
    ['a ** 2', "operator '**' is not supported"],
    ['a ?? b', "operator '??' is not supported"],
    ['a | b', "operator '|' is not supported"],
    ['a & b', "operator '&' is not supported"],
    ['a ^ b', "operator '^' is not supported"],
    ['a << 1', "operator '<<' is not supported"],
    ['a >>> 1', "operator '>>>' is not supported"],
    ['~a', "operator '~' is not supported"],
    ['[1, , 2]', 'array holes are not supported'],
    ['a?.b', "optional chaining '?.' is not supported; use default(value, fallback)"],
    ['a.__proto__', "access to '__proto__' is not allowed"],
    ['a["constructor"]', "access to 'constructor' is not allowed"],
    ['a.b.prototype', "access to 'prototype' is not allowed"],
    ['constructor', "access to 'constructor' is not allowed"],
  ])('rejects %p: %s', (source, detail) => {
    expect(parseError(source).message).toBe(`invalid expression "${source}": ${detail}`);
  });

  it('rejects unknown functions and method calls, listing the known functions', () => {
    const known =
      'abs, ceil, contains, default, ends_with, floor, join, json, keys, len, lower, max, min, number, parse_json, range, round, split, starts_with, string, sum, trim, upper';
    expect(parseError('foo(1)').message).toBe(
      `invalid expression "foo(1)": unknown function 'foo'; known functions: ${known}`,
    );
    expect(parseError('s.toUpperCase()').message).toBe(
      `invalid expression "s.toUpperCase()": unknown function 's.toUpperCase'; known functions: ${known}`,
    );
    expect(parseError('a.b.c(1)').message).toContain("unknown function 'a.b.c'");
    expect(parseError('list[0]()').message).toContain("unknown function '(expression)'");
    expect(parseError('constructor()').message).toContain("unknown function 'constructor'");
    expect(parseError('len(a)(1)').message).toContain("unknown function '(expression)'");
  });

  it('checks arguments of calls and nested expressions too', () => {
    expect(parseError('len(a.__proto__)').message).toBe(
      `invalid expression "len(a.__proto__)": access to '__proto__' is not allowed`,
    );
    expect(parseError('x ? y : z ** 2').message).toBe(
      `invalid expression "x ? y : z ** 2": operator '**' is not supported`,
    );
  });

  it(`limits the source to ${EXPRESSION_LIMITS.maxSourceLength} characters`, () => {
    const atLimit = `${'1+'.repeat(31)}1${' '.repeat(EXPRESSION_LIMITS.maxSourceLength - 63)}`;
    expect(atLimit).toHaveLength(4096);
    expect(parseExpression(atLimit).evaluate({})).toBe(32);
    const tooLong = `${atLimit} `;
    const error = parseError(tooLong);
    expect(error.message).toBe(`invalid expression "${tooLong.slice(0, 200)}…": longer than 4096 characters`);
    expect(error.source).toBe(tooLong);
  });

  it(`limits the tree depth to ${EXPRESSION_LIMITS.maxAstDepth}`, () => {
    const depth64 = `${'('.repeat(63)}1${')'.repeat(63)}`;
    expect(parseExpression(depth64).evaluate({})).toBe(1);
    expect(parseExpression(`${'-'.repeat(63)}1`).evaluate({})).toBe(-1);
    expect(parseError(`${'-'.repeat(64)}1`).message).toMatch(/: nested more than 64 levels deep$/);
    expect(parseError(`${'1+'.repeat(64)}1`).message).toMatch(/: nested more than 64 levels deep$/);
    expect(parseError(`${'a['.repeat(65)}0${']'.repeat(65)}`).message).toMatch(/: nested more than 64 levels deep$/);
  });

  it('rejects deep bracket nesting before jsep can overflow the stack', () => {
    expect(parseError(`${'['.repeat(2000)}${']'.repeat(2000)}`).message).toMatch(/: nested more than 64 levels deep$/);
    expect(parseError(`${'('.repeat(2000)}1${')'.repeat(2000)}`).message).toMatch(/: nested more than 64 levels deep$/);
    expect(parseError(`${'!'.repeat(4000)}x`).message).toMatch(/: nested more than 64 levels deep$/);
  });

  it('ignores brackets inside string literals when measuring depth', () => {
    expect(parseExpression(`"${'('.repeat(100)}" + '${'['.repeat(100)}'`).evaluate({})).toBe(
      '('.repeat(100) + '['.repeat(100),
    );
  });
});

describe('the parse cache', () => {
  it('returns the same compiled expression for the same source', () => {
    const first = parseExpression('cached.value * 2');
    expect(parseExpression('cached.value * 2')).toBe(first);
    expect(parseExpression('cached.value  * 2')).not.toBe(first);
  });

  it('shares frozen objects, so no caller can poison it', () => {
    const compiled = parseExpression('frozen.a[0] + 1');
    expect(Object.isFrozen(compiled)).toBe(true);
    expect(Object.isFrozen(compiled.ast)).toBe(true);
    expect(Object.isFrozen(compiled.references)).toBe(true);
    expect(Object.isFrozen(compiled.references[0]?.path)).toBe(true);
  });

  it('does not cache failures', () => {
    expect(() => parseExpression('bad +')).toThrow(ExpressionError);
    expect(() => parseExpression('bad +')).toThrow(
      'invalid expression "bad +": Expected expression after + at character 5',
    );
  });

  it(`holds at most ${EXPRESSION_LIMITS.maxCachedExpressions} expressions, evicting the least recently used`, () => {
    const oldest = parseExpression('evict.me');
    const recent = parseExpression('keep.me');
    for (let i = 0; i < EXPRESSION_LIMITS.maxCachedExpressions - 1; i++) {
      parseExpression(`filler + ${i}`);
      // Touch one entry throughout, so it stays among the most recently used.
      if (i % 1000 === 0) expect(parseExpression('keep.me')).toBe(recent);
    }
    expect(parseExpression('keep.me')).toBe(recent);
    expect(parseExpression('evict.me')).not.toBe(oldest);
  });
});

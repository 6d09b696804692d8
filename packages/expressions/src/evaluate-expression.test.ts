import { OrchestratorError } from '@orch/errors';
import { evaluateExpression } from './evaluate-expression';
import { ExpressionError } from './expression-error';

const scope = {
  a: 0.9,
  b: 'x',
  n: 5,
  zero: 0,
  s: 'hello',
  empty: '',
  nothing: null,
  missing: undefined,
  flag: true,
  list: [10, 20, 30],
  task1: { output: { n: 2, path: { to: [{ field: 'deep' }, { field: 'second' }] }, 'with-dash': 1, tags: ['a', 'b'] } },
  i: 1,
  key: 'n',
};

const run = (source: string) => evaluateExpression(source, scope);

function errorOf(source: string, customScope: Record<string, unknown> = scope): ExpressionError {
  try {
    evaluateExpression(source, customScope);
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
  throw new Error(`expected "${source}" to throw`);
}

describe('literals', () => {
  it.each([
    ['42', 42],
    ['3.25', 3.25],
    ['.5', 0.5],
    ['1e3', 1000],
    ["'single'", 'single'],
    ['"double"', 'double'],
    ['"it\'s"', "it's"],
    ['\'say "hi"\'', 'say "hi"'],
    ['"a\\nb"', 'a\nb'],
    ['true', true],
    ['false', false],
    ['null', null],
  ])('%s', (source, expected) => {
    expect(run(source)).toBe(expected);
  });

  it('builds array literals, including nested and computed elements', () => {
    expect(run('[1, 2]')).toEqual([1, 2]);
    expect(run('[]')).toEqual([]);
    expect(run('[n, [s], 1 + 1]')).toEqual([5, ['hello'], 2]);
  });
});

describe('arithmetic', () => {
  it.each([
    ['1 + 2', 3],
    ['1 + task1.output.n', 3],
    ['10 - 4', 6],
    ['6 * 7', 42],
    ['7 / 2', 3.5],
    ['7 % 3', 1],
    ['-7 % 3', -1],
    ['-n', -5],
    ['+n', 5],
    ['- -n', 5],
    ['1 - -1', 2],
  ])('%s = %p', (source, expected) => {
    expect(run(source)).toBe(expected);
  });

  it('concatenates when either side of + is a string', () => {
    expect(run('s + " world"')).toBe('hello world');
    expect(run('"n=" + n')).toBe('n=5');
    expect(run('n + "!"')).toBe('5!');
    expect(run('"flag: " + flag')).toBe('flag: true');
    expect(run('"" + 1 + 2')).toBe('12');
    expect(run('1 + 2 + ""')).toBe('3');
  });

  it.each([
    ['b - 1', `cannot apply '-' to string and number in "b - 1"`],
    ['n * "2"', `cannot apply '*' to number and string in "n * "2""`],
    ['flag + 1', `cannot apply '+' to boolean and number in "flag + 1"`],
    ['nothing + 1', `cannot apply '+' to null and number in "nothing + 1"`],
    ['list + 1', `cannot apply '+' to array and number in "list + 1"`],
    ['"x" + nothing', `cannot apply '+' to string and null in ""x" + nothing"`],
    ['"x" + missing', `cannot apply '+' to string and undefined in ""x" + missing"`],
    ['"x" + task1', `cannot apply '+' to string and object in ""x" + task1"`],
    ['-s', `cannot apply unary '-' to string in "-s"`],
    ['+"3"', `cannot apply unary '+' to string in "+"3""`],
    ['n / 0', 'division by zero in "n / 0"'],
    ['n % zero', 'division by zero in "n % zero"'],
  ])('%s is an error', (source, message) => {
    expect(errorOf(source).message).toBe(message);
  });
});

describe('equality is strict', () => {
  it.each([
    ['1 == 1', true],
    ['1 == "1"', false],
    ['1 === "1"', false],
    ['1 != "1"', true],
    ['1 !== 1', false],
    ['b == "x"', true],
    ['b === "x"', true],
    ['nothing == null', true],
    ['missing == null', false],
    ['zero == false', false],
    ['"" == 0', false],
    ['list == list', true],
    ['[1] == [1]', false],
  ])('%s is %p', (source, expected) => {
    expect(run(source)).toBe(expected);
  });
});

describe('comparison', () => {
  it.each([
    ['a > 0.8', true],
    ['a < 0.8', false],
    ['n >= 5', true],
    ['n <= 4', false],
    ['"abc" < "abd"', true],
    ['"b" > "a"', true],
    ['"10" < "9"', true],
  ])('%s is %p', (source, expected) => {
    expect(run(source)).toBe(expected);
  });

  it.each([
    ['n < "6"', `cannot compare number and string with '<' in "n < "6""`],
    ['nothing > 1', `cannot compare null and number with '>' in "nothing > 1"`],
    ['flag >= true', `cannot compare boolean and boolean with '>=' in "flag >= true"`],
    ['list <= list', `cannot compare array and array with '<=' in "list <= list"`],
  ])('%s is an error', (source, message) => {
    expect(errorOf(source).message).toBe(message);
  });
});

describe('logic', () => {
  it.each([
    ['a > 0.8 && b == "x"', true],
    ['a > 0.95 && b == "x"', false],
    ['a > 0.95 || b == "x"', true],
    ['!flag', false],
    ['!nothing', true],
    ['!!s', true],
    ['!empty', true],
  ])('%s is %p', (source, expected) => {
    expect(run(source)).toBe(expected);
  });

  it('returns an operand like JavaScript', () => {
    expect(run('empty || "fallback"')).toBe('fallback');
    expect(run('s || "fallback"')).toBe('hello');
    expect(run('s && n')).toBe(5);
    expect(run('zero && n')).toBe(0);
    expect(run('nothing || missing')).toBeUndefined();
  });

  it('short-circuits, so the right side can be guarded', () => {
    expect(run('nothing != null && nothing.field == 1')).toBe(false);
    expect(run('nothing == null || nothing.field == 1')).toBe(true);
    expect(run('false && unknown_name')).toBe(false);
    expect(run('true || n / 0')).toBe(true);
  });

  it('supports the ternary operator and evaluates only the chosen branch', () => {
    expect(run('a > 0.8 ? "high" : "low"')).toBe('high');
    expect(run('a > 0.95 ? "high" : "low"')).toBe('low');
    expect(run('n > 10 ? "big" : n > 3 ? "medium" : "small"')).toBe('medium');
    expect(run('flag ? 1 : n / 0')).toBe(1);
    expect(run('empty ? 1 : 2')).toBe(2);
  });
});

describe('precedence', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['2 * 3 % 4', 2],
    ['12 / 2 / 3', 2],
    ['-2 * 3', -6],
    ['1 + 2 > 2', true],
    ['1 < 2 == true', true],
    ['true || false && false', true],
    ['(true || false) && false', false],
    ['!flag || true', true],
    ['!(flag || true)', false],
    ['1 + 1 == 2 ? "yes" : "no"', 'yes'],
    ['false || true ? 1 : 2', 1],
  ])('%s = %p', (source, expected) => {
    expect(run(source)).toBe(expected);
  });
});

describe('names and member access', () => {
  it('reads variables and task outputs', () => {
    expect(run('b')).toBe('x');
    expect(run('task1.output')).toBe(scope.task1.output);
    expect(run('task1.output.path.to[0].field')).toBe('deep');
    expect(run('task1.output.path.to[i].field')).toBe('second');
    expect(run('task1.output["with-dash"]')).toBe(1);
    expect(run("task1.output['n']")).toBe(2);
    expect(run('task1.output[key]')).toBe(2);
    expect(run('list[1 + 1]')).toBe(30);
    expect(run('[1, 2, 3][2]')).toBe(3);
    expect(run('missing')).toBeUndefined();
  });

  it('gives the length of arrays and strings, and characters of strings', () => {
    expect(run('list.length')).toBe(3);
    expect(run('s.length')).toBe(5);
    expect(run('s[1]')).toBe('e');
    expect(run('task1.output.tags.length')).toBe(2);
  });

  it('gives undefined for missing keys and out-of-range indexes', () => {
    expect(run('task1.output.nope')).toBeUndefined();
    expect(run('list[3]')).toBeUndefined();
    expect(run('list[-1]')).toBeUndefined();
    expect(run('list[0.5]')).toBeUndefined();
    expect(run('list.first')).toBeUndefined();
    expect(run('s[10]')).toBeUndefined();
    expect(run('s.foo')).toBeUndefined();
  });

  it('reads own properties only, never inherited ones', () => {
    expect(run('task1.toString')).toBeUndefined();
    expect(run('task1.hasOwnProperty')).toBeUndefined();
    expect(run('list.map')).toBeUndefined();
    expect(run('s.toUpperCase')).toBeUndefined();
    expect(errorOf('toString').message).toBe(`unknown name 'toString' in "toString"`);
    expect(errorOf('valueOf + 1').message).toBe(`unknown name 'valueOf' in "valueOf + 1"`);
  });

  it('refuses prototype names, including computed ones', () => {
    expect(errorOf('task1["__" + "proto__"]').message).toBe(
      `access to '__proto__' is not allowed in "task1["__" + "proto__"]"`,
    );
    const withKey = { obj: {}, k: 'constructor', p: 'prototype' };
    expect(errorOf('obj[k]', withKey).message).toBe(`access to 'constructor' is not allowed in "obj[k]"`);
    expect(errorOf('obj[p]', withKey).message).toBe(`access to 'prototype' is not allowed in "obj[p]"`);
  });

  it('does not reach prototypes even through an own "__proto__" key from JSON', () => {
    const parsed = JSON.parse('{"o": {"__proto__": {"x": 1}}}') as Record<string, unknown>;
    expect(errorOf('o[k]', { ...parsed, k: '__proto__' }).message).toBe(
      `access to '__proto__' is not allowed in "o[k]"`,
    );
  });

  it('reports unknown names', () => {
    expect(errorOf('x').message).toBe(`unknown name 'x' in "x"`);
    expect(errorOf('task2.output').message).toBe(`unknown name 'task2' in "task2.output"`);
    expect(errorOf('undefined').message).toBe(`unknown name 'undefined' in "undefined"`);
  });

  it('reports reading a property of null or undefined', () => {
    expect(errorOf('task1.output.nope.field').message).toBe(
      `cannot read 'field' of undefined in "task1.output.nope.field"`,
    );
    expect(errorOf('nothing.field').message).toBe(`cannot read 'field' of null in "nothing.field"`);
    expect(errorOf('missing[0]').message).toBe(`cannot read '0' of undefined in "missing[0]"`);
  });

  it('reports reading a property of a number or boolean', () => {
    expect(errorOf('n.field').message).toBe(`cannot read 'field' of number in "n.field"`);
    expect(errorOf('flag.length').message).toBe(`cannot read 'length' of boolean in "flag.length"`);
  });

  it('requires computed keys to be strings or numbers', () => {
    expect(errorOf('list[flag]').message).toBe(`property key must be a string or number, got boolean in "list[flag]"`);
    expect(errorOf('list[nothing]').message).toBe(
      `property key must be a string or number, got null in "list[nothing]"`,
    );
    expect(errorOf('list[list]').message).toBe(`property key must be a string or number, got array in "list[list]"`);
  });

  it('never modifies the scope', () => {
    const frozen = Object.freeze({ data: Object.freeze({ items: Object.freeze([3, 1, 2]) }) });
    expect(evaluateExpression('sum(data.items) + len(keys(data))', frozen)).toBe(7);
  });

  it('works with a scope that has no prototype', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { v: 1 });
    expect(evaluateExpression('v + 1', bare)).toBe(2);
  });
});

describe('errors', () => {
  it('are ExpressionErrors with code EXPRESSION_ERROR carrying the source', () => {
    const error = errorOf('x + 1');
    expect(error).toBeInstanceOf(OrchestratorError);
    expect(error.name).toBe('ExpressionError');
    expect(error.code).toBe('EXPRESSION_ERROR');
    expect(error.status).toBe(400);
    expect(error.source).toBe('x + 1');
    expect(error.position).toBeUndefined();
  });
});

import { BUILTIN_FUNCTION_NAMES } from './builtin-functions';
import { evaluateExpression } from './evaluate-expression';
import { ExpressionError } from './expression-error';

const scope = {
  s: '  Hello World  ',
  word: 'Hello',
  csv: 'a,b,c',
  list: [3, 1, 2],
  words: ['a', 'b', 'c'],
  mixed: ['x', 1, true, null, { k: 1 }, [2]],
  obj: { a: 1, b: 2 },
  nothing: null,
  missing: undefined,
  n: -2.5,
  json_text: '{"a": [1, {"b": true}]}',
};

const run = (source: string) => evaluateExpression(source, scope);

function messageOf(source: string): string {
  try {
    run(source);
  } catch (error) {
    if (error instanceof ExpressionError) return error.message;
    throw error;
  }
  throw new Error(`expected "${source}" to throw`);
}

it('exposes the whitelist, sorted', () => {
  expect(BUILTIN_FUNCTION_NAMES).toEqual([
    'abs',
    'ceil',
    'contains',
    'default',
    'ends_with',
    'floor',
    'join',
    'json',
    'keys',
    'len',
    'lower',
    'max',
    'min',
    'number',
    'parse_json',
    'range',
    'round',
    'split',
    'starts_with',
    'string',
    'sum',
    'trim',
    'upper',
  ]);
});

describe.each<[string, [string, unknown][], [string, string][]]>([
  [
    'len',
    [
      ['len(word)', 5],
      ['len(list)', 3],
      ['len(obj)', 2],
      ['len("")', 0],
      ['len([])', 0],
    ],
    [
      ['len(1)', 'len() expects a string, array or object as argument 1, got number in "len(1)"'],
      ['len(nothing)', 'len() expects a string, array or object as argument 1, got null in "len(nothing)"'],
      ['len()', 'len() expects 1 argument, got 0 in "len()"'],
      ['len(list, list)', 'len() expects 1 argument, got 2 in "len(list, list)"'],
    ],
  ],
  [
    'lower / upper / trim',
    [
      ['lower(word)', 'hello'],
      ['upper(word)', 'HELLO'],
      ['trim(s)', 'Hello World'],
      ['upper(trim(s))', 'HELLO WORLD'],
    ],
    [
      ['lower(1)', 'lower() expects a string as argument 1, got number in "lower(1)"'],
      ['upper(list)', 'upper() expects a string as argument 1, got array in "upper(list)"'],
      ['trim(missing)', 'trim() expects a string as argument 1, got undefined in "trim(missing)"'],
    ],
  ],
  [
    'contains',
    [
      ['contains(word, "ell")', true],
      ['contains(word, "xyz")', false],
      ['contains(list, 2)', true],
      ['contains(list, "2")', false],
      ['contains(words, "b")', true],
    ],
    [
      ['contains(obj, "a")', 'contains() expects a string or array as argument 1, got object in "contains(obj, "a")"'],
      ['contains(word, 1)', 'contains() expects a string as argument 2, got number in "contains(word, 1)"'],
      ['contains(word)', 'contains() expects 2 arguments, got 1 in "contains(word)"'],
    ],
  ],
  [
    'starts_with / ends_with',
    [
      ['starts_with(word, "He")', true],
      ['starts_with(word, "lo")', false],
      ['ends_with(word, "lo")', true],
      ['ends_with(word, "He")', false],
    ],
    [['starts_with(1, "a")', 'starts_with() expects a string as argument 1, got number in "starts_with(1, "a")"']],
  ],
  [
    'join / split',
    [
      ['join(words, "-")', 'a-b-c'],
      ['join(words)', 'a,b,c'],
      ['join(mixed, "|")', 'x|1|true|null|{"k":1}|[2]'],
      ['join([], "-")', ''],
      ['split(csv, ",")', ['a', 'b', 'c']],
      ['split("abc", "")', ['a', 'b', 'c']],
      ['join(split(csv, ","), "+")', 'a+b+c'],
    ],
    [
      ['join(word, ",")', 'join() expects an array as argument 1, got string in "join(word, ",")"'],
      ['join(words, 1)', 'join() expects a string as argument 2, got number in "join(words, 1)"'],
      ['join([missing], ",")', 'join() cannot turn item 0 (undefined) into text in "join([missing], ",")"'],
      ['split(csv)', 'split() expects 2 arguments, got 1 in "split(csv)"'],
    ],
  ],
  [
    'round / floor / ceil / abs',
    [
      ['round(2.5)', 3],
      ['round(2.4)', 2],
      ['round(3.14159, 2)', 3.14],
      ['round(1.005, 2)', 1.01],
      ['round(n)', -2],
      ['round(1234.5678, 0)', 1235],
      ['round(1e300, 15)', 1e300],
      ['floor(n)', -3],
      ['floor(2.7)', 2],
      ['ceil(n)', -2],
      ['ceil(2.1)', 3],
      ['abs(n)', 2.5],
      ['abs(3)', 3],
    ],
    [
      ['round("1")', 'round() expects a number as argument 1, got string in "round("1")"'],
      ['round(1, 1.5)', 'round() expects digits to be an integer from 0 to 15, got 1.5 in "round(1, 1.5)"'],
      ['round(1, -1)', 'round() expects digits to be an integer from 0 to 15, got -1 in "round(1, -1)"'],
      ['round(1, 2, 3)', 'round() expects 1 to 2 arguments, got 3 in "round(1, 2, 3)"'],
      ['floor(nothing)', 'floor() expects a number as argument 1, got null in "floor(nothing)"'],
      ['abs("x")', 'abs() expects a number as argument 1, got string in "abs("x")"'],
    ],
  ],
  [
    'min / max / sum',
    [
      ['min(3, 1, 2)', 1],
      ['max(3, 1, 2)', 3],
      ['min(list)', 1],
      ['max(list)', 3],
      ['max(7)', 7],
      ['min(-1, n)', -2.5],
      ['sum(list)', 6],
      ['sum([])', 0],
      ['sum([0.5, 0.25])', 0.75],
    ],
    [
      ['min()', 'min() expects at least 1 argument, got 0 in "min()"'],
      ['max([])', 'max() of an empty array in "max([])"'],
      ['min(1, "2")', 'min() expects numbers, got string in "min(1, "2")"'],
      ['max(words)', 'max() expects numbers, got string in "max(words)"'],
      ['sum(words)', 'sum() expects numbers, got string in "sum(words)"'],
      ['sum(1)', 'sum() expects an array as argument 1, got number in "sum(1)"'],
    ],
  ],
  [
    'json / parse_json',
    [
      ['json(obj)', '{"a":1,"b":2}'],
      ['json(list)', '[3,1,2]'],
      ['json("x")', '"x"'],
      ['json(nothing)', 'null'],
      ['parse_json(json_text)', { a: [1, { b: true }] }],
      ['parse_json(json_text).a[1].b', true],
      ['parse_json("3")', 3],
    ],
    [
      ['json(missing)', 'json() cannot serialise undefined in "json(missing)"'],
      ['parse_json(1)', 'parse_json() expects a string as argument 1, got number in "parse_json(1)"'],
    ],
  ],
  [
    'string / number',
    [
      ['string(12)', '12'],
      ['string(true)', 'true'],
      ['string(nothing)', 'null'],
      ['string(word)', 'Hello'],
      ['string(obj)', '{"a":1,"b":2}'],
      ['number("42")', 42],
      ['number(" 4.5 ")', 4.5],
      ['number(7)', 7],
      ['number(true)', 1],
      ['number(false)', 0],
      ['number("1e3") + 1', 1001],
    ],
    [
      ['string(missing)', 'string() cannot convert undefined in "string(missing)"'],
      ['number("abc")', 'number() cannot convert "abc" to a number in "number("abc")"'],
      ['number("")', 'number() cannot convert "" to a number in "number("")"'],
      ['number(nothing)', 'number() cannot convert null to a number in "number(nothing)"'],
      ['number(list)', 'number() cannot convert array to a number in "number(list)"'],
    ],
  ],
  [
    'keys / default / range',
    [
      ['keys(obj)', ['a', 'b']],
      ['keys(parse_json("{}"))', []],
      ['default(nothing, "fb")', 'fb'],
      ['default(missing, 1)', 1],
      ['default(obj.zzz, 0)', 0],
      ['default(obj.zzz.deeper[0].still, "fb")', 'fb'],
      ['default(nothing.field, 2)', 2],
      ['default(0, 1)', 0],
      ['default("", "fb")', ''],
      ['default(false, true)', false],
      ['range(3)', [0, 1, 2]],
      ['range(0)', []],
      ['len(range(10000))', 10000],
    ],
    [
      ['keys(list)', 'keys() expects an object as argument 1, got array in "keys(list)"'],
      ['keys(word)', 'keys() expects an object as argument 1, got string in "keys(word)"'],
      ['default(1)', 'default() expects 2 arguments, got 1 in "default(1)"'],
      ['default(1, nothing.field)', 'cannot read \'field\' of null in "default(1, nothing.field)"'],
      ['range(10001)', 'range() is limited to 10000 items, got 10001 in "range(10001)"'],
      ['range(-1)', 'range() expects a non-negative integer, got -1 in "range(-1)"'],
      ['range(1.5)', 'range() expects a non-negative integer, got 1.5 in "range(1.5)"'],
      ['range("3")', 'range() expects a number as argument 1, got string in "range("3")"'],
    ],
  ],
])('%s', (_name, results, failures) => {
  it.each(results)('%s = %p', (source, expected) => {
    expect(run(source)).toEqual(expected);
  });
  if (failures.length > 0) {
    it.each(failures)('%s fails', (source, message) => {
      expect(messageOf(source)).toBe(message);
    });
  }
});

it('reports invalid JSON with the parser message', () => {
  expect(messageOf('parse_json("{bad")')).toMatch(/^parse_json\(\) got invalid JSON: .+ in "parse_json\("\{bad"\)"$/);
});

it('reports a value JSON cannot serialise', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  expect(() => evaluateExpression('json(c)', { c: cyclic })).toThrow(/^json\(\) failed: .*circular/i);
  expect(() => evaluateExpression('string(c)', { c: cyclic })).toThrow('string() cannot convert object in "string(c)"');
});

it('does not let functions mutate their arguments', () => {
  const data = { items: [3, 1, 2] };
  evaluateExpression('min(items) + max(items) + sum(items) + len(join(items, ","))', data);
  expect(data.items).toEqual([3, 1, 2]);
});

import { describeType } from './describe-type';
import { EXPRESSION_LIMITS } from './expression-limits';
import { isPlainObject } from './is-plain-object';
import { toText } from './to-text';

/** Raises an ExpressionError; the caller supplies the wording, the evaluator adds the source. */
export type Fail = (message: string) => never;

export interface BuiltinFunction {
  readonly name: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  /** Checks arity and argument types, then computes. Never mutates its arguments. */
  call(args: readonly unknown[], fail: Fail): unknown;
}

interface Check<T> {
  readonly what: string;
  readonly test: (value: unknown) => value is T;
}

const STRING: Check<string> = { what: 'a string', test: (v): v is string => typeof v === 'string' };
const NUMBER: Check<number> = { what: 'a number', test: (v): v is number => typeof v === 'number' };
const ARRAY: Check<readonly unknown[]> = { what: 'an array', test: (v): v is readonly unknown[] => Array.isArray(v) };

type Want = <T>(index: number, check: Check<T>) => T;
type Impl = (args: readonly unknown[], want: Want, fail: Fail) => unknown;

const registry = new Map<string, BuiltinFunction>();

function define(name: string, minArgs: number, maxArgs: number, impl: Impl): void {
  registry.set(name, {
    name,
    minArgs,
    maxArgs,
    call(args, fail) {
      if (args.length < minArgs || args.length > maxArgs)
        fail(`${name}() expects ${arity(minArgs, maxArgs)}, got ${args.length}`);
      const want: Want = (index, check) => {
        const value = args[index];
        if (check.test(value)) return value;
        return fail(`${name}() expects ${check.what} as argument ${index + 1}, got ${describeType(value)}`);
      };
      return impl(args, want, fail);
    },
  });
}

function arity(min: number, max: number): string {
  const plural = (n: number) => `${n} argument${n === 1 ? '' : 's'}`;
  if (min === max) return plural(min);
  if (max === Number.POSITIVE_INFINITY) return `at least ${plural(min)}`;
  return `${min} to ${plural(max)}`;
}

function numbersOf(name: string, values: readonly unknown[], fail: Fail): number[] {
  return values.map((value) =>
    typeof value === 'number' ? value : fail(`${name}() expects numbers, got ${describeType(value)}`),
  );
}

// min/max accept either numbers as arguments or one array of numbers, since lists usually come from task output.
function extreme(name: string, pick: (a: number, b: number) => number): Impl {
  return (args, _want, fail) => {
    const first = args[0];
    const values = numbersOf(name, args.length === 1 && Array.isArray(first) ? first : args, fail);
    if (values.length === 0) return fail(`${name}() of an empty array`);
    // A loop rather than Math.min(...values): spreading a long array can exceed the engine's argument limit.
    return values.reduce((a, b) => pick(a, b));
  };
}

define('len', 1, 1, ([value], _want, fail) => {
  if (typeof value === 'string' || Array.isArray(value)) return value.length;
  if (isPlainObject(value)) return Object.keys(value).length;
  return fail(`len() expects a string, array or object as argument 1, got ${describeType(value)}`);
});
define('lower', 1, 1, (_args, want) => want(0, STRING).toLowerCase());
define('upper', 1, 1, (_args, want) => want(0, STRING).toUpperCase());
define('trim', 1, 1, (_args, want) => want(0, STRING).trim());
define('contains', 2, 2, (args, want, fail) => {
  const haystack = args[0];
  if (typeof haystack === 'string') return haystack.includes(want(1, STRING));
  if (Array.isArray(haystack)) return haystack.includes(args[1]);
  return fail(`contains() expects a string or array as argument 1, got ${describeType(haystack)}`);
});
define('starts_with', 2, 2, (_args, want) => want(0, STRING).startsWith(want(1, STRING)));
define('ends_with', 2, 2, (_args, want) => want(0, STRING).endsWith(want(1, STRING)));
define('join', 1, 2, (args, want, fail) => {
  const items = want(0, ARRAY);
  const separator = args.length > 1 ? want(1, STRING) : ',';
  return items
    .map((item, index) => toText(item) ?? fail(`join() cannot turn item ${index} (${describeType(item)}) into text`))
    .join(separator);
});
define('split', 2, 2, (_args, want) => want(0, STRING).split(want(1, STRING)));
define('round', 1, 2, (args, want, fail) => {
  const value = want(0, NUMBER);
  const digits = args.length > 1 ? want(1, NUMBER) : 0;
  if (!Number.isInteger(digits) || digits < 0 || digits > 15) {
    return fail(`round() expects digits to be an integer from 0 to 15, got ${digits}`);
  }
  const factor = 10 ** digits;
  // Huge values have no fractional digits to round, and scaling them up could overflow to Infinity.
  if (!Number.isFinite(value * factor)) return value;
  // toPrecision(15) drops binary noise first, so round(1.005, 2) is 1.01 as a person expects, not 1.
  return Math.round(Number((value * factor).toPrecision(15))) / factor;
});
define('floor', 1, 1, (_args, want) => Math.floor(want(0, NUMBER)));
define('ceil', 1, 1, (_args, want) => Math.ceil(want(0, NUMBER)));
define('abs', 1, 1, (_args, want) => Math.abs(want(0, NUMBER)));
define('min', 1, Number.POSITIVE_INFINITY, extreme('min', Math.min));
define('max', 1, Number.POSITIVE_INFINITY, extreme('max', Math.max));
define('sum', 1, 1, (_args, want, fail) => numbersOf('sum', want(0, ARRAY), fail).reduce((a, b) => a + b, 0));
define('json', 1, 1, ([value], _want, fail) => {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    return fail(`json() failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return text ?? fail(`json() cannot serialise ${describeType(value)}`);
});
define('parse_json', 1, 1, (_args, want, fail) => {
  const text = want(0, STRING);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return fail(`parse_json() got invalid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
});
define(
  'string',
  1,
  1,
  ([value], _want, fail) => toText(value) ?? fail(`string() cannot convert ${describeType(value)}`),
);
define('number', 1, 1, ([value], _want, fail) => {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  // Number('') and Number('  ') are 0, which would hide a missing value; treat blank text as not a number.
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    if (!Number.isNaN(parsed)) return parsed;
  }
  return fail(`number() cannot convert ${typeof value === 'string' ? `"${value}"` : describeType(value)} to a number`);
});
define('keys', 1, 1, ([value], _want, fail) =>
  isPlainObject(value)
    ? Object.keys(value)
    : fail(`keys() expects an object as argument 1, got ${describeType(value)}`),
);
define('default', 2, 2, ([value, fallback]) => (value === null || value === undefined ? fallback : value));
define('range', 1, 1, (_args, want, fail) => {
  const count = want(0, NUMBER);
  if (!Number.isInteger(count) || count < 0) return fail(`range() expects a non-negative integer, got ${count}`);
  if (count > EXPRESSION_LIMITS.maxRange) {
    return fail(`range() is limited to ${EXPRESSION_LIMITS.maxRange} items, got ${count}`);
  }
  return Array.from({ length: count }, (_, index) => index);
});

/** The only functions an expression may call, by bare name. Pure: no I/O, no clock, no randomness. */
export const BUILTIN_FUNCTIONS: ReadonlyMap<string, BuiltinFunction> = registry;

/** Sorted names, for "known functions are ..." messages. */
export const BUILTIN_FUNCTION_NAMES: readonly string[] = Object.freeze([...registry.keys()].sort());

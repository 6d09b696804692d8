/*
 * Expression semantics. Deliberately smaller than JavaScript, and never coercing types behind your back.
 *
 * - Literals: numbers, 'single' or "double" quoted strings, true, false, null, array literals [1, 2].
 * - Names resolve in the scope, own properties only; an unknown name is an error.
 * - Member access (a.b, a[0], a["b"]) reads own properties only, plus `length` of arrays and strings.
 *   `__proto__`, `constructor` and `prototype` are always refused. Reading a property of null/undefined,
 *   or of a number or boolean, is an error; a missing key or an out-of-range index gives undefined.
 * - `+` concatenates when either side is a string (the other side must be a string, number or boolean),
 *   and adds two numbers; `- * / %` take numbers only; dividing by zero is an error. Unary `-`/`+` take
 *   numbers; `!` negates truthiness.
 * - `==`/`===` and `!=`/`!==` are both strict (no coercion; arrays/objects compare by identity).
 * - `< <= > >=` compare two numbers or two strings; anything else is an error.
 * - `&&`, `||` and `a ? b : c` use JavaScript truthiness and short-circuit; `&&`/`||` return an operand.
 * - Calls: only the whitelisted pure functions in builtin-functions.ts, by bare name; no method calls.
 *   The first argument of `default(x, fallback)` reads through null/undefined as undefined instead of failing.
 * - Not supported (rejected at parse time by checkAst): `?.`, `??`, bitwise operators, `**`, `this`,
 *   comma sequences, object literals. Sources are limited to 4,096 characters and 64 levels of nesting.
 */
import type jsep from 'jsep';
import { BUILTIN_FUNCTIONS, type Fail } from './builtin-functions';
import { describeType } from './describe-type';
import { ExpressionError } from './expression-error';
import { isForbiddenName } from './forbidden-names';
import { quoteSource } from './quote-source';
import type { Scope } from './scope';

interface Context {
  readonly scope: Scope;
  readonly fail: Fail;
  /** Inside `default(x, ...)`: reading through a missing value gives undefined, so the fallback applies. */
  readonly lenient?: boolean;
}

/** Evaluates a tree that has passed checkAst. `source` is only used to word errors. */
export function evaluateAst(ast: jsep.Expression, scope: Scope, source: string): unknown {
  const fail: Fail = (message) => {
    throw new ExpressionError(`${message} in ${quoteSource(source)}`, source);
  };
  return evaluate(ast, { scope, fail });
}

function evaluate(node: jsep.Expression, context: Context): unknown {
  switch (node.type) {
    case 'Literal':
      return (node as jsep.Literal).value;
    case 'Identifier':
      return lookup((node as jsep.Identifier).name, context);
    case 'ArrayExpression':
      return (node as jsep.ArrayExpression).elements.map((element) =>
        element === null ? undefined : evaluate(element, context),
      );
    case 'MemberExpression': {
      const member = node as jsep.MemberExpression;
      const object = evaluate(member.object, context);
      const key = member.computed ? evaluate(member.property, context) : (member.property as jsep.Identifier).name;
      if (context.lenient && (object === null || object === undefined)) return undefined;
      return readMember(object, key, context.fail);
    }
    case 'CallExpression':
      return call(node as jsep.CallExpression, context);
    case 'UnaryExpression':
      return unary(node as jsep.UnaryExpression, context);
    case 'BinaryExpression':
      return binary(node as jsep.BinaryExpression, context);
    case 'ConditionalExpression': {
      const conditional = node as jsep.ConditionalExpression;
      return evaluate(conditional.test, context)
        ? evaluate(conditional.consequent, context)
        : evaluate(conditional.alternate, context);
    }
    default:
      // checkAst rejects everything else; reaching here means a tree that skipped it.
      return context.fail(`unsupported syntax (${node.type})`);
  }
}

function lookup(name: string, { scope, fail }: Context): unknown {
  if (isForbiddenName(name) || !Object.hasOwn(scope, name)) return fail(`unknown name '${name}'`);
  return scope[name];
}

function readMember(object: unknown, key: unknown, fail: Fail): unknown {
  if (typeof key !== 'string' && typeof key !== 'number') {
    return fail(`property key must be a string or number, got ${describeType(key)}`);
  }
  const name = String(key);
  if (isForbiddenName(name)) return fail(`access to '${name}' is not allowed`);
  if (object === null || object === undefined) return fail(`cannot read '${name}' of ${describeType(object)}`);
  // Strings answer only `length` and character indexes as own properties, just like arrays.
  if (typeof object !== 'string' && typeof object !== 'object' && typeof object !== 'function') {
    return fail(`cannot read '${name}' of ${describeType(object)}`);
  }
  const target = Object(object) as Record<string, unknown>;
  return Object.hasOwn(target, name) ? target[name] : undefined;
}

function call(node: jsep.CallExpression, context: Context): unknown {
  const name = (node.callee as jsep.Identifier).name;
  const builtin = BUILTIN_FUNCTIONS.get(name);
  if (!builtin) return context.fail(`unknown function '${name}'`);
  // `default(a.b.c, x)` is how a template says "a.b may be missing": evaluate its first argument leniently.
  const args = node.arguments.map((argument, i) =>
    evaluate(argument, name === 'default' && i === 0 ? { ...context, lenient: true } : context),
  );
  return builtin.call(args, context.fail);
}

function unary(node: jsep.UnaryExpression, context: Context): unknown {
  const value = evaluate(node.argument, context);
  if (node.operator === '!') return !value;
  if (typeof value !== 'number') return context.fail(`cannot apply unary '${node.operator}' to ${describeType(value)}`);
  if (node.operator === '-') return -value;
  if (node.operator === '+') return value;
  return context.fail(`operator '${node.operator}' is not supported`);
}

function binary(node: jsep.BinaryExpression, context: Context): unknown {
  const { operator } = node;
  // Short-circuit operators must not evaluate their right side eagerly: it may guard against an error.
  if (operator === '&&') {
    const left = evaluate(node.left, context);
    return left ? evaluate(node.right, context) : left;
  }
  if (operator === '||') {
    const left = evaluate(node.left, context);
    return left ? left : evaluate(node.right, context);
  }
  const left = evaluate(node.left, context);
  const right = evaluate(node.right, context);
  const { fail } = context;
  const refuse = () => fail(`cannot apply '${operator}' to ${describeType(left)} and ${describeType(right)}`);

  switch (operator) {
    case '==':
    case '===':
      return left === right;
    case '!=':
    case '!==':
      return left !== right;
    case '<':
    case '<=':
    case '>':
    case '>=':
      return compare(operator, left, right, fail);
    case '+':
      if (typeof left === 'string' || typeof right === 'string') {
        return isTextual(left) && isTextual(right) ? String(left) + String(right) : refuse();
      }
      return typeof left === 'number' && typeof right === 'number' ? left + right : refuse();
    case '-':
    case '*':
    case '/':
    case '%':
      if (typeof left !== 'number' || typeof right !== 'number') return refuse();
      return arithmetic(operator, left, right, fail);
    default:
      return fail(`operator '${operator}' is not supported`);
  }
}

function isTextual(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function compare(operator: string, left: unknown, right: unknown, fail: Fail): boolean {
  const comparable =
    (typeof left === 'number' && typeof right === 'number') || (typeof left === 'string' && typeof right === 'string');
  if (!comparable) return fail(`cannot compare ${describeType(left)} and ${describeType(right)} with '${operator}'`);
  const a = left as number | string;
  const b = right as number | string;
  if (operator === '<') return a < b;
  if (operator === '<=') return a <= b;
  if (operator === '>') return a > b;
  return a >= b;
}

function arithmetic(operator: string, left: number, right: number, fail: Fail): number {
  if (operator === '-') return left - right;
  if (operator === '*') return left * right;
  if (right === 0) return fail('division by zero');
  return operator === '/' ? left / right : left % right;
}

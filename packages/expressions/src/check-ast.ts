import type jsep from 'jsep';
import { BUILTIN_FUNCTION_NAMES, BUILTIN_FUNCTIONS } from './builtin-functions';
import { EXPRESSION_LIMITS } from './expression-limits';
import { isForbiddenName } from './forbidden-names';

const BINARY_OPERATORS = new Set(['+', '-', '*', '/', '%', '==', '!=', '===', '!==', '<', '<=', '>', '>=', '&&', '||']);
const UNARY_OPERATORS = new Set(['-', '+', '!']);

/** Why the tree was rejected; parseExpression turns it into an ExpressionError with the source. */
export type Reject = (detail: string) => never;

/**
 * Rejects, at parse time, everything jsep accepts but our evaluator does not (bitwise operators, `this`,
 * sequences, method calls, unknown functions, prototype names, too much nesting), so static validation
 * reports it before a run starts. Freezes each node because compiled trees are shared through the cache.
 */
export function checkAst(node: jsep.Expression, reject: Reject, depth = 1): void {
  if (depth > EXPRESSION_LIMITS.maxAstDepth) reject(`nested more than ${EXPRESSION_LIMITS.maxAstDepth} levels deep`);
  const child = (next: jsep.Expression) => checkAst(next, reject, depth + 1);

  switch (node.type) {
    case 'Literal': {
      const { value } = node as jsep.Literal;
      if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) reject('unsupported literal');
      break;
    }
    case 'Identifier':
      checkName((node as jsep.Identifier).name, reject);
      break;
    case 'MemberExpression': {
      const member = node as jsep.MemberExpression;
      if (member.optional) reject(`optional chaining '?.' is not supported; use default(value, fallback)`);
      if (!member.computed) {
        checkName((member.property as jsep.Identifier).name, reject);
      } else {
        const key = member.property.type === 'Literal' ? (member.property as jsep.Literal).value : undefined;
        checkName(key, reject);
        child(member.property);
      }
      child(member.object);
      break;
    }
    case 'CallExpression': {
      const call = node as jsep.CallExpression;
      if (call.optional) reject(`optional call '?.()' is not supported`);
      const name = call.callee.type === 'Identifier' ? (call.callee as jsep.Identifier).name : undefined;
      if (name === undefined || !BUILTIN_FUNCTIONS.has(name)) {
        reject(
          `unknown function '${describeCallee(call.callee)}'; known functions: ${BUILTIN_FUNCTION_NAMES.join(', ')}`,
        );
      }
      // The callee is a function name, not a read of the scope, so it is not walked.
      for (const argument of call.arguments) child(argument);
      break;
    }
    case 'ArrayExpression':
      for (const element of (node as jsep.ArrayExpression).elements) {
        if (element === null) reject('array holes are not supported');
        child(element);
      }
      break;
    case 'UnaryExpression': {
      const unary = node as jsep.UnaryExpression;
      if (!UNARY_OPERATORS.has(unary.operator)) reject(`operator '${unary.operator}' is not supported`);
      child(unary.argument);
      break;
    }
    case 'BinaryExpression': {
      const binary = node as jsep.BinaryExpression;
      if (!BINARY_OPERATORS.has(binary.operator)) reject(`operator '${binary.operator}' is not supported`);
      child(binary.left);
      child(binary.right);
      break;
    }
    case 'ConditionalExpression': {
      const conditional = node as jsep.ConditionalExpression;
      child(conditional.test);
      child(conditional.consequent);
      child(conditional.alternate);
      break;
    }
    case 'Compound':
      // jsep returns an empty Compound for blank input and a Compound for `a b` or `a; b`.
      reject((node as jsep.Compound).body.length === 0 ? 'expression is empty' : 'expected a single expression');
      break;
    case 'SequenceExpression':
      reject('comma sequences are not supported');
      break;
    case 'ThisExpression':
      reject(`'this' is not supported`);
      break;
    default:
      reject(`unsupported syntax (${node.type})`);
  }
  Object.freeze(node);
}

function checkName(name: unknown, reject: Reject): void {
  if (isForbiddenName(name)) reject(`access to '${String(name)}' is not allowed`);
}

function describeCallee(callee: jsep.Expression): string {
  if (callee.type === 'Identifier') return (callee as jsep.Identifier).name;
  if (callee.type === 'MemberExpression' && !(callee as jsep.MemberExpression).computed) {
    const member = callee as jsep.MemberExpression;
    return `${describeCallee(member.object)}.${(member.property as jsep.Identifier).name}`;
  }
  return '(expression)';
}

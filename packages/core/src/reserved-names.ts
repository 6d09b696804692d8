/**
 * Names that lead to JavaScript's object machinery when used as keys (`obj['__proto__']` is the prototype), refused
 * wherever an id or a name becomes a key: task, sub-task, template and schedule ids, variable names. Expressions
 * refuse the same names (@orch/expressions).
 */
export const RESERVED_NAMES = ['__proto__', 'constructor', 'prototype'] as const;

/** Add to a string schema with `allOf: [notReserved]`, or to an object's `propertyNames`. */
export const notReserved = {
  not: { enum: [...RESERVED_NAMES] },
  'x-message': 'must not be __proto__, constructor or prototype: JavaScript objects reserve those names',
} as const;

/** An object whose keys are names (variables): any JSON values, under names that are not reserved. */
export const namedValues = { type: 'object', propertyNames: notReserved } as const;

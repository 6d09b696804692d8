// These names are the doors to prototypes; refusing them outright is simpler than reasoning about every object.
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** True for property or variable names an expression may never touch. */
export function isForbiddenName(name: unknown): boolean {
  return typeof name === 'string' && FORBIDDEN.has(name);
}

import { interpolate } from './interpolate';
import { mapStrings } from './map-strings';
import type { Scope } from './scope';

/** Deep copy of plain objects and arrays with every string interpolated against `scope`. */
export function resolveValue(value: unknown, scope: Scope): unknown {
  return mapStrings(value, (text) => interpolate(text, scope));
}

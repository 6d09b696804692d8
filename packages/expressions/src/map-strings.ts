import { isPlainObject } from './is-plain-object';

/**
 * Deep-copies plain objects and arrays, replacing every string by `replace(string)`. Other values (numbers,
 * class instances, ...) are kept as they are. Object keys are copied, never rewritten.
 */
export function mapStrings(value: unknown, replace: (text: string) => unknown): unknown {
  if (typeof value === 'string') return replace(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, replace));
  if (isPlainObject(value)) {
    // fromEntries defines own properties, so a "__proto__" key in parsed JSON stays data instead of a prototype.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, replace)]));
  }
  return value;
}

/** The type name used in error messages; unlike `typeof` it tells null and arrays apart from objects. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

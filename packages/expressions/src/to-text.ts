/**
 * How a value is written when embedded in a longer string: strings as-is, numbers and booleans via String,
 * null as 'null', objects and arrays as JSON. Returns undefined when there is no sensible text (undefined,
 * functions, symbols, values JSON cannot serialise) so each caller can word its own error.
 */
export function toText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      if (value === null) return 'null';
      try {
        return JSON.stringify(value);
      } catch {
        // Cycles and BigInt members make JSON.stringify throw.
        return undefined;
      }
    default:
      return undefined;
  }
}

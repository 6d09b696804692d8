import { createHash } from 'node:crypto';

/**
 * SHA-256 of a request body in canonical JSON: object keys sorted at every level, no whitespace. Two bodies that
 * differ only in key order or spacing (or arrive over HTTP and over the bus) get the same fingerprint; any other
 * difference, in a value, a variable or the workflow, gives another. Kept with a correlation id's claim, so reusing
 * the id with another body is told apart from a retry of the same request.
 */
export function requestFingerprint(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** JSON with sorted keys; `undefined` members are left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

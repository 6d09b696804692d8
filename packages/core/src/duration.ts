/**
 * Durations in templates and env: a number is seconds (as in the reference's `timeout: 3600`), a string is one or
 * more `<number><unit>` parts with units ms, s, m, h, d (`500ms`, `1s`, `5m`, `3600s`, `24h`, `1h30m`).
 */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/** Milliseconds, or undefined when the value is not a duration. */
export function tryParseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!WHOLE.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(PART)) total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  return Math.round(total);
}

/**
 * The JSON Schema `format` of our durations. Not `duration`: to standard validators that is ISO 8601 (`PT1S`), so
 * they refused our own templates. Documented in the OpenAPI document, which adds DURATION_PATTERN for validators
 * that do not know the format.
 */
export const DURATION_FORMAT = 'orchestrator-duration';

/** What DURATION_FORMAT accepts as a string, as a regular expression any validator can apply. */
export const DURATION_PATTERN = '^\\s*(?:\\d+(?:\\.\\d+)?|(?:\\d+(?:\\.\\d+)?(?:ms|s|m|h|d))+)\\s*$';

export const DURATION_HINT = 'a duration: seconds as a number, or a string like 500ms, 1s, 5m, 3600s, 24h';

/** Milliseconds; throws a message naming the accepted forms. */
export function parseDuration(value: unknown, what = 'duration'): number {
  const ms = tryParseDuration(value);
  if (ms === undefined) throw new TypeError(`${what} must be ${DURATION_HINT}; got ${JSON.stringify(value)}`);
  return ms;
}

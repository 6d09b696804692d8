/**
 * The JSON Schema `format` of a client's correlation id (an idempotency key): 1 to 200 bytes of UTF-8, well formed
 * (no lone surrogate, which UTF-8 would turn into U+FFFD and so into another id's key), with no whitespace and no
 * control character (C0, DEL, C1), so it is safe in a Redis key, a log line and a terminal.
 */
export const CORRELATION_ID_FORMAT = 'orchestrator-correlation-id';

export const CORRELATION_ID_MAX_BYTES = 200;

/**
 * The part of the rule a regular expression can say, all but the byte count (validators that do not know the
 * format apply it). `\p{Cs}` matches only a lone surrogate under the `u` flag: a pair reads as one code point.
 */
export const CORRELATION_ID_PATTERN = '^[^\\s\\p{Cc}\\p{Cs}]+$';

export const CORRELATION_ID_HINT =
  'must be 1 to 200 bytes (UTF-8) of printable characters: no whitespace, control characters or lone surrogates';

const printable = new RegExp(CORRELATION_ID_PATTERN, 'u');

export function isCorrelationId(value: string): boolean {
  return printable.test(value) && Buffer.byteLength(value, 'utf8') <= CORRELATION_ID_MAX_BYTES;
}

const WHOLE_FENCE = /^```[A-Za-z]*[ \t]*\r?\n?([\s\S]*?)\r?\n?```$/;
const INNER_FENCE = /```(?:json)?[ \t]*\r?\n([\s\S]*?)\r?\n```/i;

/**
 * Reads a model's JSON reply, tolerating a ```json fence around it, or prose around one fenced block or one
 * object. Undefined when no reading is JSON.
 */
export function parseJsonReply(text: string): { value: unknown } | undefined {
  const trimmed = text.trim();
  const candidates = [trimmed];
  const whole = WHOLE_FENCE.exec(trimmed);
  if (whole) candidates.push((whole[1] as string).trim());
  const inner = INNER_FENCE.exec(trimmed);
  if (inner) candidates.push((inner[1] as string).trim());
  const first = trimmed.indexOf('{');
  const last = trimmed.lastIndexOf('}');
  if (first >= 0 && last > first) candidates.push(trimmed.slice(first, last + 1));
  for (const candidate of candidates) {
    try {
      return { value: JSON.parse(candidate) };
    } catch {
      // try the next reading
    }
  }
  return undefined;
}

/** At most `max` characters, marked when cut, for error messages. */
export function truncateText(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

import type { ErrorDetail } from '@orch/errors';

export type ParsedReply = { ok: true; value: unknown } | { ok: false; error: ErrorDetail };

/**
 * Reads the model's reply as JSON. In json_object mode (or from servers that ignore response_format) models often
 * wrap the answer in a Markdown fence, and some answer with a whole template; both are unwrapped, since the
 * content is what was asked for. Anything else that is not JSON is an error the model gets back.
 */
export function parseReply(content: string | null | undefined): ParsedReply {
  const text = unfence((content ?? '').trim());
  if (text === '') return { ok: false, error: { pointer: '', message: 'reply is not JSON: the reply is empty' } };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: { pointer: '', message: `reply is not JSON: ${(error as Error).message}` } };
  }
  return { ok: true, value: unwrapTemplate(value) };
}

function unfence(text: string): string {
  const match = /^```[A-Za-z]*\s*\n([\s\S]*?)\n?```$/.exec(text);
  return match?.[1] ? match[1].trim() : text;
}

function unwrapTemplate(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  const inner = record.workflow;
  if (record.tasks === undefined && inner && typeof inner === 'object' && !Array.isArray(inner)) return inner;
  return value;
}

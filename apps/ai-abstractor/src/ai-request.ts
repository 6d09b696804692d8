import type { AiParameters } from '@orch/llm';
import { ServiceCallError } from '@orch/messaging';

export type { AiParameters, AiResult } from '@orch/llm';

/** Checks what the ai-abstractor relies on; the orchestrator validated the rest against the task catalog. */
export function readAiParameters(p: Record<string, unknown>): AiParameters {
  const bad = (message: string) => new ServiceCallError('BAD_REQUEST', message, { retryable: false });
  if (typeof p.prompt !== 'string' || p.prompt.length === 0) throw bad('prompt must be a non-empty string');
  for (const key of ['system', 'provider', 'model'] as const) {
    if (p[key] !== undefined && typeof p[key] !== 'string') throw bad(`${key} must be a string`);
  }
  if (p.response_format !== undefined && p.response_format !== 'text' && p.response_format !== 'json') {
    throw bad('response_format must be text or json');
  }
  if (p.max_tokens !== undefined && !(Number.isInteger(p.max_tokens) && (p.max_tokens as number) > 0)) {
    throw bad('max_tokens must be a positive integer');
  }
  if (p.temperature !== undefined && typeof p.temperature !== 'number') throw bad('temperature must be a number');
  return p as unknown as AiParameters;
}

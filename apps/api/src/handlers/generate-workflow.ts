import type { GenerationRequest } from '@orch/generator';
import { checkRequest, generateBody } from '../request-schemas';
import type { Handler } from './handler';

/**
 * `POST /api/v1/generate`: prompt -> workflow through the configured OpenAI-compatible endpoint, validated (and
 * repaired) by @orch/generator. A candidate that stays invalid is `200 {valid: false}`; no endpoint is a 503.
 * The call is aborted when the client goes away, so an abandoned request stops spending tokens.
 */
export const generateWorkflow: Handler = async (input, deps) => {
  const request = checkRequest<GenerationRequest>(generateBody, input.body, 'request body');
  const result = await deps.generator.generate(request, { signal: input.signal });
  deps.logger.info('workflow generated', { valid: result.valid, attempts: result.attempts, model: result.model });
  return { status: 200, body: result };
};

import type { TaskParameters } from '@orch/core';
import { PermanentTaskError, type TaskHandler } from '@orch/engine';
import { OrchestratorError } from '@orch/errors';
import { type AiResult, OpenAiChat, type OpenAiSettings } from '@orch/llm';
import { callService, type ServiceTaskDeps, toTaskError } from './call-service';
import { parseJsonReply, truncateText } from './json-reply';

export interface AiTaskDeps extends ServiceTaskDeps {
  /** `config.openai`. A `baseUrl` sends every `ai` task there; otherwise only `provider: openai` ones go to OpenAI. */
  openai?: OpenAiSettings;
}

/**
 * `ai` tasks. By default through the ai-abstractor (`ai-requests`, operation `complete`); directly to the
 * chat-completions API when the task says `provider: openai` or an OpenAI-compatible base URL is configured.
 * With `response_format: json` the reply must read as JSON (a ```json fence is fine); otherwise the attempt fails,
 * retryably, since a model asked again often complies.
 */
export function createAiTask(deps: AiTaskDeps): TaskHandler<TaskParameters<'ai'>> {
  let chat: OpenAiChat | undefined;
  return async (params, context) => {
    const direct = params.provider === 'openai' || Boolean(deps.openai?.baseUrl);
    let result: AiResult;
    if (direct) {
      if (!deps.openai || (!deps.openai.baseUrl && !deps.openai.apiKey)) {
        throw new PermanentTaskError(
          "provider 'openai' needs OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible endpoint)",
          {
            code: 'CONFIG_INVALID',
          },
        );
      }
      chat ??= new OpenAiChat(deps.openai);
      context.logger.debug('calling the chat-completions API', { model: params.model ?? deps.openai.model });
      try {
        result = await chat.complete(params, { signal: context.signal, deadline: context.deadline });
      } catch (error) {
        throw toTaskError(error);
      }
    } else {
      result = (await callService(deps, 'ai', 'complete', params, context)) as AiResult;
      if (!result || typeof result.text !== 'string') {
        throw new OrchestratorError('UPSTREAM_ERROR', 'the ai-abstractor answered without a text');
      }
    }
    if (params.response_format !== 'json') return result;
    if (result.json !== undefined) return result;
    const parsed = parseJsonReply(result.text);
    if (!parsed) {
      throw new OrchestratorError(
        'UPSTREAM_ERROR',
        `the model's reply is not JSON (response_format: json): ${truncateText(result.text)}`,
      );
    }
    return { ...result, json: parsed.value };
  };
}

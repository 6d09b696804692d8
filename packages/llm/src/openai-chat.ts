import { ServiceCallError } from '@orch/messaging';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';

/** The `ai` task's parameters (task catalog). */
export interface AiParameters {
  prompt: string;
  system?: string;
  provider?: string;
  model?: string;
  response_format?: 'text' | 'json';
  max_tokens?: number;
  temperature?: number;
}

/** The `ai` task's output. */
export interface AiResult {
  text: string;
  /** The reply read as JSON, when `response_format` is json. */
  json?: unknown;
  model: string;
  provider: string;
  usage: { prompt_tokens: number; completion_tokens: number };
  /** Set by the ai-abstractor when no model was called. */
  stand_in?: boolean;
}

/** `config.openai`: any OpenAI-compatible endpoint. */
export interface OpenAiSettings {
  baseUrl?: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
}

const JSON_INSTRUCTION = 'Reply with a single JSON object and nothing else.';
/** HTTP statuses a retry cannot fix. */
const PERMANENT_STATUS = new Set([400, 401, 403, 404, 413, 422]);

/**
 * One chat completion through the openai SDK, used by the worker's `ai` tasks and the ai-abstractor's forwarding.
 * The SDK's own retries are off: the caller's retry policy decides.
 * `response_format: json` is asked for in the system message rather than with the API's JSON mode, which not
 * every compatible server implements.
 */
export class OpenAiChat {
  private readonly client: OpenAI;

  constructor(private readonly settings: OpenAiSettings) {
    this.client = new OpenAI({
      baseURL: settings.baseUrl ?? 'https://api.openai.com/v1',
      // Local compatible servers often need no key; the SDK insists on one.
      apiKey: settings.apiKey ?? 'unused',
      maxRetries: 0,
      timeout: settings.timeoutMs,
    });
  }

  async complete(params: AiParameters, options: { signal: AbortSignal; deadline?: number }): Promise<AiResult> {
    const model = params.model ?? this.settings.model;
    const system = [params.system, params.response_format === 'json' ? JSON_INSTRUCTION : undefined]
      .filter(Boolean)
      .join('\n\n');
    const timeoutMs = Math.max(1, Math.min(this.settings.timeoutMs, (options.deadline ?? Infinity) - Date.now()));
    // Our own timer rather than the SDK's: the SDK cannot always tell its timeout from other connection errors.
    const controller = new AbortController();
    const forward = () => controller.abort(options.signal.reason);
    options.signal.addEventListener('abort', forward, { once: true });
    if (options.signal.aborted) forward();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('timed out'));
    }, timeoutMs);
    try {
      const completion = await this.client.chat.completions.create(
        {
          model,
          messages: [
            ...(system ? [{ role: 'system' as const, content: system }] : []),
            { role: 'user' as const, content: params.prompt },
          ],
          ...(params.max_tokens === undefined ? {} : { max_tokens: params.max_tokens }),
          ...(params.temperature === undefined ? {} : { temperature: params.temperature }),
        },
        { signal: controller.signal, timeout: timeoutMs + 1000, maxRetries: 0 },
      );
      return {
        text: completion.choices[0]?.message?.content ?? '',
        model: completion.model || model,
        provider: 'openai',
        usage: {
          prompt_tokens: completion.usage?.prompt_tokens ?? 0,
          completion_tokens: completion.usage?.completion_tokens ?? 0,
        },
      };
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason ?? error;
      if (timedOut) {
        throw new ServiceCallError('TIMEOUT', `the OpenAI-compatible endpoint did not answer within ${timeoutMs} ms`, {
          retryable: true,
          cause: error,
        });
      }
      throw classify(error);
    } finally {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', forward);
    }
  }
}

function classify(error: unknown): unknown {
  if (error instanceof APIConnectionTimeoutError) {
    return new ServiceCallError('TIMEOUT', 'the OpenAI-compatible endpoint timed out', {
      retryable: true,
      cause: error,
    });
  }
  if (error instanceof APIConnectionError) {
    return new ServiceCallError('UPSTREAM_ERROR', `cannot reach the OpenAI-compatible endpoint: ${error.message}`, {
      retryable: true,
      cause: error,
    });
  }
  if (error instanceof APIError) {
    const status = error.status ?? 0;
    const permanent = PERMANENT_STATUS.has(status);
    return new ServiceCallError(
      status === 401 || status === 403 ? 'UNAUTHORIZED' : permanent ? 'BAD_REQUEST' : 'UPSTREAM_ERROR',
      `the OpenAI-compatible endpoint answered ${status}: ${error.message}`,
      { retryable: !permanent, cause: error },
    );
  }
  return error;
}

import type { ErrorDetail } from '@orch/errors';
import type { Logger } from '@orch/logger';
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError, type ClientOptions } from 'openai';
import { retryDelayMs } from './backoff';
import type { Deadline } from './deadline';
import type { TokenUsage, UpstreamRetryPolicy } from './generation-types';
import { UpstreamError } from './upstream-error';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ModelReply {
  content: string | null;
  model: string;
  usage: TokenUsage;
}

export interface ModelClientOptions {
  baseUrl?: string;
  apiKey?: string;
  model: string;
  fetch?: ClientOptions['fetch'];
  retry: UpstreamRetryPolicy;
  logger: Logger;
}

/** Local servers (llama.cpp, vLLM, Ollama) need no key, but the SDK insists on one. */
const KEYLESS = 'not-needed';
const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/**
 * One chat completion under our retry policy: 429, 5xx and unreachable endpoints are retried with backoff inside
 * the deadline; other statuses fail at once. A server that refuses `json_schema` response formats is asked again
 * with `json_object`, and so is every later request of this client.
 */
export class ModelClient {
  private readonly client: OpenAI;
  private jsonSchemaRefused = false;

  constructor(private readonly options: ModelClientOptions) {
    // Everything explicit: the SDK would otherwise read OPENAI_* from the environment behind the config's back.
    this.client = new OpenAI({
      baseURL: options.baseUrl ?? DEFAULT_BASE_URL,
      apiKey: options.apiKey ?? KEYLESS,
      organization: null,
      project: null,
      maxRetries: 0,
      fetch: options.fetch,
      logLevel: 'off',
    });
  }

  get responseFormat(): 'json_schema' | 'json_object' {
    return this.jsonSchemaRefused ? 'json_object' : 'json_schema';
  }

  async complete(
    messages: readonly ChatMessage[],
    schema: Record<string, unknown>,
    deadline: Deadline,
  ): Promise<ModelReply> {
    const failures: ErrorDetail[] = [];
    for (let retry = 0; ; ) {
      if (deadline.signal.aborted) throw deadline.abortError();
      const useSchema = !this.jsonSchemaRefused;
      try {
        const completion = await this.client.chat.completions.create(
          {
            model: this.options.model,
            messages: messages.map((m) => ({ role: m.role, content: m.content })),
            response_format: useSchema
              ? { type: 'json_schema', json_schema: { name: 'workflow', schema, strict: false } }
              : { type: 'json_object' },
          },
          // The SDK's timer only backs ours up: the deadline's signal decides, so a timeout is always TIMEOUT.
          { signal: deadline.signal, timeout: deadline.remainingMs() + 1_000, maxRetries: 0 },
        );
        // Compatible servers vary; a body without choices is the endpoint's failure, not the model's.
        const choices: unknown = (completion as { choices?: unknown } | null)?.choices;
        if (!Array.isArray(choices) || choices.length === 0) {
          throw new UpstreamError('model endpoint answered without a chat completion (no choices)', undefined, [
            ...failures,
            { pointer: '', message: `request ${failures.length + 1}: no choices in the answer` },
          ]);
        }
        return {
          content: completion.choices[0]?.message?.content ?? null,
          model: typeof completion.model === 'string' && completion.model ? completion.model : this.options.model,
          usage: {
            prompt_tokens: completion.usage?.prompt_tokens ?? 0,
            completion_tokens: completion.usage?.completion_tokens ?? 0,
          },
        };
      } catch (error) {
        if (error instanceof UpstreamError) throw error;
        if (deadline.signal.aborted || deadline.remainingMs() === 0) throw deadline.abortError();
        if (error instanceof APIConnectionTimeoutError || error instanceof APIUserAbortError) {
          throw deadline.timeoutError();
        }
        if (!(error instanceof APIError)) throw error;
        const status = error.status;
        const text = describe(error);
        failures.push({ pointer: '', message: `request ${failures.length + 1}: ${text}` });
        if (useSchema && refusesJsonSchema(error)) {
          this.jsonSchemaRefused = true;
          this.options.logger.warn('model endpoint refused json_schema; using json_object from now on', {
            status,
            error: text,
          });
          continue;
        }
        const summary =
          status === undefined ? `model endpoint could not be reached: ${text}` : `model endpoint answered ${text}`;
        if (!retryable(status) || retry >= this.options.retry.maxRetries) {
          throw new UpstreamError(summary, status, failures, error);
        }
        const wait = retryDelayMs(retry, error.headers, this.options.retry);
        // A wait that ends past the deadline cannot lead to an answer in time; give up with the real cause.
        if (wait >= deadline.remainingMs()) throw new UpstreamError(summary, status, failures, error);
        this.options.logger.warn('model endpoint failed; retrying', { status, error: text, wait_ms: wait });
        await deadline.sleep(wait);
        retry++;
      }
    }
  }
}

function asError(value: unknown): { message?: unknown; cause?: unknown } | undefined {
  return value !== null && typeof value === 'object' && 'message' in value ? value : undefined;
}

function retryable(status: number | undefined): boolean {
  return status === undefined || status === 429 || status >= 500;
}

function refusesJsonSchema(error: APIError): boolean {
  return (
    (error.status === 400 || error.status === 422) && /response_format|json_schema|not supported/i.test(error.message)
  );
}

/**
 * "503: overloaded" from the SDK's "503 overloaded". Without a status the SDK only says "Connection error.";
 * the innermost cause (ECONNREFUSED, a DNS failure) is what an operator needs.
 */
function describe(error: APIError): string {
  if (error.status !== undefined) return `${error.status}: ${error.message.replace(/^\d{3} /, '')}`;
  // Duck-typed: fetch's errors may come from another realm (Jest's sandbox), where instanceof Error fails.
  let cause = asError(error.cause);
  for (let next = asError(cause?.cause); next; next = asError(next.cause)) cause = next;
  return cause?.message ? `${error.message} (${cause.message})` : error.message;
}

import { OpenAiChat, type OpenAiSettings } from '@orch/llm';
import type { Logger } from '@orch/logger';
import { SERVICE_CHANNELS, ServiceCallError, type ServiceRequest, ServiceResponder } from '@orch/messaging';
import type { RedisClient, RedisSettings } from '@orch/redis';
import { type AiResult, readAiParameters } from './ai-request';
import { standInAnswer } from './stand-in-answer';

export interface AiAbstractorOptions {
  logger: Logger;
  redis?: RedisSettings;
  publisher?: RedisClient;
  subscriber?: RedisClient;
  /** SERVICE_SECRET: requests must be signed with it; see ServiceResponder. */
  secret?: string;
  /** `config.openai`. With a `baseUrl`, requests are forwarded there; without one, answers are stand-ins. */
  openai?: OpenAiSettings;
}

/**
 * The ai-abstractor: answers `ai-requests` (operation `complete`). With OPENAI_BASE_URL set it forwards every
 * request to that OpenAI-compatible endpoint whatever its `provider`, since that endpoint is the only model it
 * knows. Without it, it is a development stand-in: deterministic answers marked `stand_in: true`.
 */
export class AiAbstractor {
  private readonly responder: ServiceResponder;
  private readonly chat?: OpenAiChat;

  constructor(options: AiAbstractorOptions) {
    if (options.openai?.baseUrl) this.chat = new OpenAiChat(options.openai);
    this.responder = new ServiceResponder({
      channel: SERVICE_CHANNELS.ai.requests,
      service: SERVICE_CHANNELS.ai.service,
      logger: options.logger,
      redis: options.redis,
      publisher: options.publisher,
      subscriber: options.subscriber,
      secret: options.secret,
      handler: (request, signal) => this.handle(request, signal),
    });
  }

  /** `openai` when forwarding, `stand-in` otherwise. */
  get mode(): 'openai' | 'stand-in' {
    return this.chat ? 'openai' : 'stand-in';
  }

  /** The responder, for tests that wait on its events. */
  get service(): ServiceResponder {
    return this.responder;
  }

  start(): Promise<void> {
    return this.responder.start();
  }

  close(): Promise<void> {
    return this.responder.close();
  }

  private async handle(request: ServiceRequest, signal: AbortSignal): Promise<AiResult> {
    if (request.operation !== 'complete') {
      throw new ServiceCallError('BAD_REQUEST', `unknown operation '${request.operation}'; expected complete`, {
        retryable: false,
      });
    }
    const params = readAiParameters(request.parameters);
    if (this.chat) return this.chat.complete(params, { signal, deadline: request.deadline });
    return standInAnswer(params);
  }
}

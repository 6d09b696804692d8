import { EventEmitter } from 'node:events';
import { OrchestratorError } from '@orch/errors';
import type { Logger } from '@orch/logger';
import {
  publishCounted,
  type RedisClient,
  type RedisSettings,
  unsubscribeQuietly,
  whileReachable,
  within,
} from '@orch/redis';
import { serviceForChannel } from './channels';
import {
  type OutputMessage,
  parseRequestChannelMessage,
  type ServiceErrorBody,
  type ServiceRequest,
  type ServiceResponse,
} from './envelope';
import { MessageSigner } from './message-signer';
import { RedisClientSlot } from './redis-clients';
import { ServiceCallError } from './service-call-error';
import { inServiceSpan } from './service-span';

/**
 * Does the work of one request. `signal` fires on a cancel message, at the request's deadline, and on close().
 * Throw a ServiceCallError to choose the error code and whether the caller may retry.
 */
export type ServiceHandler = (request: ServiceRequest, signal: AbortSignal, output: OutputSink) => Promise<unknown>;

/**
 * Sends a piece of the request's output to its caller now (signed, on its reply channel, before the response and in
 * order with it); fire and forget: a lost piece is still in the result.
 */
export type OutputSink = (stream: 'stdout' | 'stderr', data: string) => void;

export interface ServiceResponderOptions {
  /** The request channel, e.g. `exec-requests`. */
  channel: string;
  handler: ServiceHandler;
  logger: Logger;
  /** Connections are made from these (profile `worker`) unless clients are injected. */
  redis?: RedisSettings;
  publisher?: RedisClient;
  subscriber?: RedisClient;
  /** For logs and messages; defaults to the service named after the channel. */
  service?: string;
  /**
   * Larger results are answered with a PAYLOAD_TOO_LARGE error instead: Redis disconnects a subscriber whose output
   * buffer passes 32 MB (or 8 MB for 60 s) by default, which would fail every call of that worker, not just this one.
   */
  maxResponseBytes?: number;
  /** How long close() lets aborted handlers send their last responses. */
  drainMs?: number;
  /**
   * SERVICE_SECRET: requests must carry its HMAC (see message-signer.ts) and responses are signed with it. Without it
   * anyone who can PUBLISH on the channel is obeyed.
   */
  secret?: string;
}

/** A message on the request channel that failed the signature check; it is logged and nothing runs. */
export interface RejectedMessage {
  reason: string;
  detail: string;
}

/** A cancel message arrived; `active` is false when the request had already finished or was never seen. */
export interface CancelEvent {
  requestId: string;
  active: boolean;
}

interface InFlight {
  controller: AbortController;
  cancelled: boolean;
  done: Promise<void>;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** Codes of failures the same request cannot get past by trying again. */
const PERMANENT_CODES = new Set(['BAD_REQUEST', 'VALIDATION_FAILED', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE', 'UNAUTHORIZED']);

/**
 * The service side of the envelope: listens on a request channel, validates, runs the handler, publishes the
 * response on `reply_channel`, aborts the handler on a cancel message or at the deadline. A malformed request is
 * answered with a BAD_REQUEST error when its reply channel can be read, and logged either way. It never throws
 * out of a message callback.
 *
 * With a secret, unsigned, wrongly signed, stale and replayed messages are dropped before anything reads them.
 *
 * Emits `request` (ServiceRequest), `response` (ServiceResponse), `cancel` (CancelEvent), `invalid` (reason) and
 * `rejected` (RejectedMessage).
 */
export class ServiceResponder extends EventEmitter {
  readonly channel: string;
  readonly service: string;
  private readonly handler: ServiceHandler;
  private readonly logger: Logger;
  private readonly publisher: RedisClientSlot;
  private readonly subscriber: RedisClientSlot;
  private readonly maxResponseBytes: number;
  private readonly drainMs: number;
  private readonly signer: MessageSigner;
  private readonly inFlight = new Map<string, InFlight>();
  private started?: Promise<void>;
  private closing?: Promise<void>;
  private readonly onMessage = (channel: string, text: string) => {
    if (channel === this.channel) this.receive(text);
  };

  constructor(options: ServiceResponderOptions) {
    super();
    this.channel = options.channel;
    this.service = options.service ?? serviceForChannel(options.channel);
    this.handler = options.handler;
    this.logger = options.logger;
    const { publisher, subscriber, redis, logger } = options;
    this.publisher = new RedisClientSlot('ServiceResponder', publisher, redis, `${this.service}-pub`, 'worker', logger);
    this.subscriber = new RedisClientSlot(
      'ServiceResponder',
      subscriber,
      redis,
      `${this.service}-sub`,
      'subscriber',
      logger,
    );
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.drainMs = options.drainMs ?? 5000;
    this.signer = new MessageSigner(options.secret, { rejectReplays: true });
  }

  /** True when requests must be signed. */
  get authenticated(): boolean {
    return this.signer.enabled;
  }

  /** Requests being handled. */
  get activeCount(): number {
    return this.inFlight.size;
  }

  /** Subscribes to the request channel; resolves once Redis confirmed. Idempotent. */
  start(): Promise<void> {
    this.started ??= (async () => {
      const subscriber = this.subscriber.get();
      subscriber.on('message', this.onMessage);
      await subscriber.subscribe(this.channel);
      this.publisher.get();
      this.logger.info('listening for requests', {
        service: this.service,
        channel: this.channel,
        signed: this.signer.enabled,
      });
      if (!this.signer.enabled) {
        this.logger.warn(`SERVICE_SECRET is not set: anyone who can PUBLISH on ${this.channel} is obeyed`, {
          service: this.service,
        });
      }
    })();
    return this.started;
  }

  /** Idempotent. Stops taking requests, aborts the ones in flight, lets them answer briefly, closes what we made. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.subscriber.created) {
      const subscriber = this.subscriber.get();
      subscriber.off('message', this.onMessage);
      await unsubscribeQuietly(subscriber, [this.channel]);
    }
    const running = [...this.inFlight.values()];
    for (const entry of running) {
      entry.controller.abort(
        new ServiceCallError('SERVICE_UNAVAILABLE', `${this.service} is shutting down`, { retryable: true }),
      );
    }
    // Their last answers need Redis: with it gone, waiting the whole drain time would only delay the exit.
    const drained = Promise.allSettled(running.map((r) => r.done));
    if (running.length > 0) await whileReachable(this.publisher.get(), within(drained, this.drainMs), 1000);
    await Promise.all([this.subscriber.close(), this.publisher.close()]);
  }

  private receive(raw: string): void {
    try {
      const unwrapped = this.signer.unwrap(this.channel, raw);
      if (!unwrapped.ok) {
        this.logger.warn('rejected a message that failed the signature check', {
          channel: this.channel,
          reason: unwrapped.reason,
          detail: unwrapped.detail,
          message_start: raw.slice(0, 200),
        });
        this.emit('rejected', { reason: unwrapped.reason, detail: unwrapped.detail } satisfies RejectedMessage);
        return;
      }
      const text = unwrapped.text;
      const message = parseRequestChannelMessage(text);
      if (message.kind === 'request') {
        this.track(message.request);
      } else if (message.kind === 'cancel') {
        this.cancel(message.cancel.request_id);
      } else {
        this.rejectInvalid(message.reason, message.requestId, message.replyChannel, text);
      }
    } catch (error) {
      this.logger.error('failed to handle a message', { channel: this.channel, error: (error as Error).message });
    }
  }

  private track(request: ServiceRequest): void {
    if (this.closing) return;
    if (this.inFlight.has(request.request_id)) {
      this.logger.warn('ignored a duplicate request', { request_id: request.request_id, channel: this.channel });
      return;
    }
    const controller = new AbortController();
    const entry: InFlight = { controller, cancelled: false, done: Promise.resolve() };
    this.inFlight.set(request.request_id, entry);
    entry.done = this.run(request, entry)
      .catch((error) => {
        this.logger.error('request handling failed', { request_id: request.request_id, error: String(error) });
      })
      .finally(() => this.inFlight.delete(request.request_id));
  }

  private run(request: ServiceRequest, entry: InFlight): Promise<void> {
    return inServiceSpan(this.service, request, (fail) => this.handle(request, entry, fail));
  }

  private async handle(request: ServiceRequest, entry: InFlight, fail: (message: string) => void): Promise<void> {
    const log = this.logger.child({
      request_id: request.request_id,
      execution_id: request.execution_id,
      task_id: request.task_id,
      correlation_id: request.correlation_id,
    });
    this.emit('request', request);
    const remaining = request.deadline - Date.now();
    let response: ServiceResponse;
    if (remaining <= 0) {
      response = errorResponse(request.request_id, {
        code: 'TIMEOUT',
        message: 'the request arrived after its deadline',
        retryable: true,
      });
    } else {
      const timer = setTimeout(
        () =>
          entry.controller.abort(
            new ServiceCallError('TIMEOUT', `the deadline of request ${request.request_id} passed`, {
              retryable: true,
            }),
          ),
        Math.min(remaining, 2_147_483_647),
      );
      const started = Date.now();
      try {
        const output: OutputSink = (stream, data) => {
          if (entry.cancelled || data === '') return;
          const message: OutputMessage = { type: 'output', request_id: request.request_id, stream, data };
          const channel = request.reply_channel;
          void this.publisher
            .get()
            .publish(channel, this.signer.wrap(channel, JSON.stringify(message)))
            .catch((error: Error) => log.debug('could not publish output', { error: error.message }));
        };
        const result = await this.handler(request, entry.controller.signal, output);
        response = { type: 'response', request_id: request.request_id, status: 'ok', result: result ?? null };
      } catch (error) {
        response = errorResponse(request.request_id, toErrorBody(error));
      } finally {
        clearTimeout(timer);
      }
      if (response.status === 'error') fail(response.error.message);
      log.debug('request handled', { operation: request.operation, status: response.status, ms: Date.now() - started });
    }
    if (entry.cancelled) {
      log.debug('request was cancelled; no response sent');
      return;
    }
    await this.publish(request.reply_channel, response, log);
  }

  private cancel(requestId: string): void {
    const entry = this.inFlight.get(requestId);
    if (entry) {
      entry.cancelled = true;
      entry.controller.abort(new ServiceCallError('TASK_FAILED', 'cancelled by the caller', { retryable: true }));
    }
    this.logger.info('cancel message received', { request_id: requestId, active: entry !== undefined });
    this.emit('cancel', { requestId, active: entry !== undefined } satisfies CancelEvent);
  }

  private rejectInvalid(reason: string, requestId: string | undefined, replyChannel: string | undefined, text: string) {
    this.logger.warn('received a malformed request', {
      channel: this.channel,
      reason,
      request_id: requestId,
      message_start: text.slice(0, 200),
    });
    this.emit('invalid', reason);
    if (replyChannel) {
      const response = errorResponse(requestId ?? '', { code: 'BAD_REQUEST', message: reason, retryable: false });
      void this.publish(replyChannel, response, this.logger);
    }
  }

  private async publish(replyChannel: string, response: ServiceResponse, log: Logger): Promise<void> {
    let text: string;
    try {
      text = JSON.stringify(response);
    } catch (error) {
      text = JSON.stringify(
        errorResponse(response.request_id, {
          code: 'INTERNAL',
          message: `the result cannot be sent as JSON: ${(error as Error).message}`,
          retryable: false,
        }),
      );
    }
    const bytes = Buffer.byteLength(text);
    if (bytes > this.maxResponseBytes) {
      log.warn('response too large; sending an error instead', { bytes, limit: this.maxResponseBytes });
      response = errorResponse(response.request_id, {
        code: 'PAYLOAD_TOO_LARGE',
        message: `the result is ${bytes} bytes, over the limit of ${this.maxResponseBytes} bytes`,
        retryable: false,
      });
      text = JSON.stringify(response);
    }
    try {
      const receivers = await publishCounted(this.publisher.get(), replyChannel, this.signer.wrap(replyChannel, text));
      if (receivers === 0) log.warn('nobody was listening for the response', { reply_channel: replyChannel });
      this.emit('response', response);
    } catch (error) {
      log.error('could not publish a response', { reply_channel: replyChannel, error: (error as Error).message });
    }
  }
}

function errorResponse(requestId: string, error: ServiceErrorBody): ServiceResponse {
  return { type: 'response', request_id: requestId, status: 'error', error };
}

/** What the caller learns of a handler's failure: a code, a message, and whether trying again may help. */
export function toErrorBody(error: unknown): ServiceErrorBody {
  if (error instanceof ServiceCallError) {
    return { code: error.remoteCode ?? error.code, message: error.message, retryable: error.retryable };
  }
  if (error instanceof OrchestratorError) {
    return { code: error.code, message: error.message, retryable: !PERMANENT_CODES.has(error.code) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message, retryable: true };
}

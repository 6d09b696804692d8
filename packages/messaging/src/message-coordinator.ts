import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from '@orch/logger';
import { publishCounted, type RedisClient, type RedisSettings, unsubscribeQuietly, within } from '@orch/redis';
import { carrierOf } from '@orch/tracing';
import { serviceForChannel } from './channels';
import { type CancelMessage, parseResponseMessage, type ServiceRequest } from './envelope';
import { MessageSigner } from './message-signer';
import { RedisClientSlot } from './redis-clients';
import { ServiceCallError } from './service-call-error';

export interface MessageCoordinatorOptions {
  logger: Logger;
  /** Connections are made from these (profile `worker`) unless clients are injected. */
  redis?: RedisSettings;
  /** Used for PUBLISH; close() leaves an injected client open. */
  publisher?: RedisClient;
  /** Put in subscriber mode and used for nothing else; close() leaves an injected client open. */
  subscriber?: RedisClient;
  /** Settled request ids remembered, to tell a late response (ours, warn) from another process's (debug). */
  rememberSettled?: number;
  /** SERVICE_SECRET: requests and cancels are signed with it, and replies without its valid HMAC are dropped. */
  secret?: string;
}

/** The envelope fields a caller chooses; the coordinator adds ids, reply channel and deadline. */
export interface RequestFields {
  execution_id: string;
  task_id: string;
  attempt: number;
  operation: string;
  parameters: Record<string, unknown>;
  correlation_id?: string;
  /** Defaults to `<execution_id>:<task_id>`. */
  idempotency_key?: string;
}

export interface RequestOptions {
  /** Epoch ms; the call fails with a retryable TIMEOUT then, and the service is sent a cancel. */
  deadline: number;
  /** Aborting stops the wait and sends the service a cancel. */
  signal?: AbortSignal;
  /** Pieces of the request's output as the service sends them (the exec-agent's stdout and stderr), in order. */
  onOutput?: (stream: 'stdout' | 'stderr', data: string) => void;
}

/** Why a message on a reply channel was not delivered to a caller. */
export interface DroppedMessage {
  channel: string;
  reason: 'late' | 'unknown' | 'malformed' | 'forged';
  requestId?: string;
  detail?: string;
}

interface Pending {
  request: ServiceRequest;
  channel: string;
  service: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
  detach?: () => void;
  published: boolean;
  settled: boolean;
  /** Set when the caller stopped waiting; a request still being published gets its cancel afterwards. */
  cancel: boolean;
  onOutput?: RequestOptions['onOutput'];
}

const MAX_TIMER_MS = 2_147_483_647;

/**
 * Request/response over Redis pub/sub (envelope: envelope.schema.json). One subscriber connection per process,
 * subscribed lazily to each reply channel, and a table of pending calls by `request_id`. Every call ends exactly
 * once: with the service's answer, a timeout, an abort, "nobody is listening", a malformed answer, or close().
 *
 * Emits `dropped` (DroppedMessage) for reply-channel messages no caller receives.
 *
 * @example
 * const coordinator = new MessageCoordinator({ redis: config.redis, logger });
 * const rows = await coordinator.request('data-requests', 'data-responses',
 *   { execution_id, task_id, attempt: 1, operation: 'traverse', parameters }, { deadline: Date.now() + 60_000, signal });
 */
export class MessageCoordinator extends EventEmitter {
  private readonly logger: Logger;
  private readonly publisher: RedisClientSlot;
  private readonly subscriber: RedisClientSlot;
  private readonly pending = new Map<string, Pending>();
  private readonly settledIds = new Map<string, true>();
  private readonly rememberSettled: number;
  private readonly signer: MessageSigner;
  private readonly subscriptions = new Map<string, Promise<void>>();
  private listening = false;
  private closing?: Promise<void>;
  private readonly onMessage = (channel: string, text: string) => this.receive(channel, text);

  constructor(options: MessageCoordinatorOptions) {
    super();
    this.logger = options.logger;
    const { publisher, subscriber, redis, logger } = options;
    const what = 'MessageCoordinator';
    this.publisher = new RedisClientSlot(what, publisher, redis, 'orch-coordinator-pub', 'worker', logger);
    this.subscriber = new RedisClientSlot(what, subscriber, redis, 'orch-coordinator-sub', 'subscriber', logger);
    this.rememberSettled = options.rememberSettled ?? 10_000;
    this.signer = new MessageSigner(options.secret);
  }

  /** Calls in flight. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Publishes a request on `channel` and resolves with the `result` of the response on `replyChannel`.
   * Rejects with a ServiceCallError whose `retryable` says whether a retry may help.
   */
  request(channel: string, replyChannel: string, fields: RequestFields, options: RequestOptions): Promise<unknown> {
    const service = serviceForChannel(channel);
    if (this.closing) {
      return Promise.reject(
        new ServiceCallError('SERVICE_UNAVAILABLE', `the message coordinator is closed; cannot call ${service}`, {
          retryable: true,
          service,
        }),
      );
    }
    if (!Number.isFinite(options.deadline)) {
      return Promise.reject(new TypeError(`deadline must be epoch milliseconds; got ${String(options.deadline)}`));
    }
    if (options.signal?.aborted) return Promise.reject(abortError(service, options.signal));
    const request: ServiceRequest = {
      type: 'request',
      request_id: randomUUID(),
      ...(fields.correlation_id === undefined ? {} : { correlation_id: fields.correlation_id }),
      execution_id: fields.execution_id,
      task_id: fields.task_id,
      attempt: fields.attempt,
      idempotency_key: fields.idempotency_key ?? `${fields.execution_id}:${fields.task_id}`,
      operation: fields.operation,
      parameters: fields.parameters,
      reply_channel: replyChannel,
      deadline: Math.floor(options.deadline),
      // The caller's span (the task attempt's): the service's span joins the run's trace as its child.
      ...carrierOf(),
    };
    return new Promise((resolve, reject) => {
      const entry: Pending = {
        request,
        channel,
        service,
        resolve,
        reject,
        published: false,
        settled: false,
        cancel: false,
        onOutput: options.onOutput,
      };
      this.pending.set(request.request_id, entry);
      const remaining = request.deadline - Date.now();
      if (remaining <= 0) {
        this.settle(entry, timeoutError(entry, 0));
        return;
      }
      entry.timer = setTimeout(
        () => this.stopWaiting(entry, timeoutError(entry, remaining)),
        Math.min(remaining, MAX_TIMER_MS),
      );
      const signal = options.signal;
      if (signal) {
        const onAbort = () => this.stopWaiting(entry, abortError(service, signal));
        signal.addEventListener('abort', onAbort, { once: true });
        entry.detach = () => signal.removeEventListener('abort', onAbort);
      }
      void this.send(entry);
    });
  }

  /** Idempotent. Rejects every pending call (their services are sent a cancel) and closes connections we made. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const cancels: Promise<void>[] = [];
    for (const entry of [...this.pending.values()]) {
      const error = new ServiceCallError(
        'SERVICE_UNAVAILABLE',
        `the message coordinator was closed while waiting for ${entry.service} (request ${entry.request.request_id})`,
        { retryable: true, service: entry.service },
      );
      if (entry.published) cancels.push(this.sendCancel(entry));
      else entry.cancel = true;
      this.settle(entry, error);
    }
    // Cancels are a courtesy to the services: with Redis gone they would wait for it, so they get a second at most.
    await within(Promise.allSettled(cancels), 1000);
    if (this.subscriber.created) {
      const subscriber = this.subscriber.get();
      subscriber.off('message', this.onMessage);
      this.listening = false;
      const channels = [...this.subscriptions.keys()];
      this.subscriptions.clear();
      // An injected subscriber stays open for its owner, so give back what we subscribed to.
      if (channels.length > 0) await unsubscribeQuietly(subscriber, channels);
    }
    await Promise.all([this.subscriber.close(), this.publisher.close()]);
  }

  private async send(entry: Pending): Promise<void> {
    const { request, channel, service } = entry;
    try {
      await this.subscribe(request.reply_channel);
      if (entry.settled) return;
      // Counted cluster-wide: on a Redis Cluster the service's subscriber may sit on another node than our PUBLISH.
      const request_ = this.signer.wrap(channel, JSON.stringify(request));
      const receivers = await publishCounted(this.publisher.get(), channel, request_);
      entry.published = true;
      if (receivers === 0) {
        this.settle(
          entry,
          new ServiceCallError('SERVICE_UNAVAILABLE', `no ${service} is listening on ${channel}`, {
            retryable: true,
            service,
          }),
        );
      } else if (entry.cancel) {
        // The caller gave up while the request was on its way: the service has it now, so tell it to stop.
        await this.sendCancel(entry);
      }
    } catch (error) {
      this.settle(
        entry,
        new ServiceCallError(
          'SERVICE_UNAVAILABLE',
          `could not send the request to ${service} on ${channel}: ${(error as Error).message}`,
          { retryable: true, service, cause: error },
        ),
      );
    }
  }

  private subscribe(channel: string): Promise<void> {
    let subscribed = this.subscriptions.get(channel);
    if (!subscribed) {
      const subscriber = this.subscriber.get();
      if (!this.listening) {
        subscriber.on('message', this.onMessage);
        this.listening = true;
      }
      subscribed = subscriber.subscribe(channel).then(() => undefined);
      // A failed SUBSCRIBE is retried by the next call instead of failing every later one.
      subscribed.catch(() => this.subscriptions.delete(channel));
      this.subscriptions.set(channel, subscribed);
    }
    return subscribed;
  }

  /** The caller stops waiting (timeout, abort): reject, and ask the service to stop if it has the request. */
  private stopWaiting(entry: Pending, error: ServiceCallError): void {
    if (entry.settled) return;
    entry.cancel = true;
    this.settle(entry, error);
    if (entry.published) void this.sendCancel(entry);
  }

  private async sendCancel(entry: Pending): Promise<void> {
    const cancel: CancelMessage = { type: 'cancel', request_id: entry.request.request_id };
    try {
      await this.publisher.get().publish(entry.channel, this.signer.wrap(entry.channel, JSON.stringify(cancel)));
    } catch (error) {
      this.logger.warn('could not send a cancel message', {
        channel: entry.channel,
        request_id: cancel.request_id,
        error: (error as Error).message,
      });
    }
  }

  private settle(entry: Pending, outcome: Error | { value: unknown }): void {
    if (entry.settled) return;
    entry.settled = true;
    clearTimeout(entry.timer);
    entry.detach?.();
    const id = entry.request.request_id;
    this.pending.delete(id);
    this.settledIds.set(id, true);
    if (this.settledIds.size > this.rememberSettled) {
      const oldest = this.settledIds.keys().next().value;
      if (oldest !== undefined) this.settledIds.delete(oldest);
    }
    if (outcome instanceof Error) entry.reject(outcome);
    else entry.resolve(outcome.value);
  }

  private receive(channel: string, raw: string): void {
    if (!this.subscriptions.has(channel)) return;
    const unwrapped = this.signer.unwrap(channel, raw);
    if (!unwrapped.ok) {
      // A forged reply settles nothing: the real one may still come, or the call times out.
      this.drop({ channel, reason: 'forged', detail: `${unwrapped.reason}: ${unwrapped.detail}` }, raw);
      return;
    }
    const text = unwrapped.text;
    const parsed = parseResponseMessage(text);
    if (parsed.kind === 'invalid') {
      const entry = parsed.requestId ? this.pending.get(parsed.requestId) : undefined;
      this.drop({ channel, reason: 'malformed', requestId: parsed.requestId, detail: parsed.reason }, text);
      if (entry) {
        this.settle(
          entry,
          new ServiceCallError(
            'UPSTREAM_ERROR',
            `${entry.service} sent a malformed response on ${channel}: ${parsed.reason}`,
            { retryable: false, service: entry.service },
          ),
        );
      }
      return;
    }
    if (parsed.kind === 'output') {
      // Signed like a response; only the caller still waiting for that request gets it.
      const waiting = this.pending.get(parsed.output.request_id);
      if (waiting && !waiting.settled) waiting.onOutput?.(parsed.output.stream, parsed.output.data);
      return;
    }
    const response = parsed.response;
    const entry = this.pending.get(response.request_id);
    if (!entry) {
      const late = this.settledIds.has(response.request_id);
      this.drop({ channel, reason: late ? 'late' : 'unknown', requestId: response.request_id }, text);
      return;
    }
    if (response.status === 'ok') {
      this.settle(entry, { value: response.result });
      return;
    }
    const { code, message, retryable } = response.error;
    this.settle(
      entry,
      new ServiceCallError(
        code === 'TIMEOUT' ? 'TIMEOUT' : 'UPSTREAM_ERROR',
        `${entry.service}: ${message} (${code})`,
        {
          retryable,
          service: entry.service,
          remoteCode: code,
        },
      ),
    );
  }

  private drop(dropped: DroppedMessage, text: string): void {
    const fields = {
      channel: dropped.channel,
      request_id: dropped.requestId,
      detail: dropped.detail,
      message_start: text.slice(0, 200),
    };
    // Reply channels are shared by every worker, so a response for an id we never sent is normal: debug only.
    if (dropped.reason === 'unknown') this.logger.debug('dropped a response for a request of another process', fields);
    else if (dropped.reason === 'late') this.logger.warn('dropped a late response: its caller stopped waiting', fields);
    else if (dropped.reason === 'forged') this.logger.warn('dropped a reply that failed the signature check', fields);
    else this.logger.warn('dropped a malformed message on a reply channel', fields);
    this.emit('dropped', dropped);
  }
}

function timeoutError(entry: Pending, waitedMs: number): ServiceCallError {
  const what =
    waitedMs > 0
      ? `did not answer on ${entry.request.reply_channel} within ${waitedMs} ms`
      : 'was not called: the deadline had already passed';
  return new ServiceCallError('TIMEOUT', `${entry.service} ${what} (request ${entry.request.request_id})`, {
    retryable: true,
    service: entry.service,
  });
}

function abortError(service: string, signal: AbortSignal): ServiceCallError {
  const reason: unknown = signal.reason;
  const timedOut = reason instanceof Error && reason.name === 'TimeoutError';
  const text = reason instanceof Error ? reason.message : String(reason ?? 'aborted');
  return new ServiceCallError(
    timedOut ? 'TIMEOUT' : 'TASK_FAILED',
    `the call to ${service} was ${timedOut ? 'timed out' : 'cancelled'}: ${text}`,
    { retryable: true, service, cause: reason },
  );
}

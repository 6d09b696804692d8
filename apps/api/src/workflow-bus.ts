import { createHash, randomUUID } from 'node:crypto';
import { tryParseDuration } from '@orch/core';
import type { WorkflowEngine } from '@orch/engine';
import { OrchestratorError, toOrchestratorError } from '@orch/errors';
import type { Logger } from '@orch/logger';
import { type RedisClient, type RedisKeys, unsubscribeQuietly } from '@orch/redis';
import type { TemplateCatalog } from '@orch/templates';
import { SpanKind, withSpan } from '@orch/tracing';
import { jsonDepthExceeded } from './json-depth';
import type { ApiMetrics } from './metrics';
import { busRequestBody, checkRequest } from './request-schemas';
import type { RunWaiters } from './run-waiters';
import { clientClaim, prepareWithTaskTypes, type WorkflowRequest } from './workflow-request';

/** A bus message that passed its schema. */
type BusRequest = WorkflowRequest & { correlation_id: string; wait?: string | number };

/** The reference's message bus channels. */
export const BUS_CHANNELS = { requests: 'workflow-requests', responses: 'workflow-responses' } as const;

/** How long one replica's claim to answer a malformed message lasts; identical messages within it get one answer. */
const ERROR_CLAIM_MS = 60_000;

export interface WorkflowBusOptions {
  /** A connection in subscriber mode; it may carry other subscriptions (the finished channel). */
  subscriber: RedisClient;
  /** Publishes answers and claims error answers. */
  publisher: RedisClient;
  engine: WorkflowEngine;
  /** The claim keys of error answers (global keys under the engine's prefix). */
  keys: RedisKeys;
  catalog: TemplateCatalog;
  logger: Logger;
  metrics: ApiMetrics;
  /** A message with `wait` holds its `accepted` until the run ends (then only the final message goes out). */
  waiters: RunWaiters;
  /** The longest `wait` (ORCHESTRATOR_MAX_WAIT). */
  maxWaitMs: number;
  /** Messages above this many bytes are refused, like HTTP bodies. */
  maxMessageBytes: number;
  /** Messages nested deeper than this are refused before they are parsed, like HTTP bodies. */
  maxJsonDepth: number;
  channels?: { requests: string; responses: string };
}

/**
 * Starts workflows from `workflow-requests` messages. Every replica receives every message, so a start is keyed by
 * its required `correlation_id` (claimed in the bus's own space, the one an open API's requests share): the engine's
 * claim lets exactly one replica create the run, and only that one publishes `accepted`; when an HTTP request
 * created it, the one replica that makes the bus the run's final-message channel does. A malformed message gets one `error` answer, from the replica that claims it first.
 * The run's final message comes from the engine, on the `respond_to` channel recorded with the run.
 */
export class WorkflowBus {
  private readonly inflight = new Set<Promise<void>>();
  private readonly channels: { requests: string; responses: string };
  private readonly onMessage = (channel: string, message: string) => {
    if (channel !== this.channels.requests || this.stopped) return;
    const handling = this.handle(message).catch((error: unknown) => {
      this.options.logger.error('bus message handling failed', { error: (error as Error).message });
    });
    this.inflight.add(handling);
    void handling.finally(() => this.inflight.delete(handling));
  };
  private stopped = false;
  private stopping?: Promise<void>;

  constructor(private readonly options: WorkflowBusOptions) {
    this.channels = options.channels ?? BUS_CHANNELS;
  }

  async start(): Promise<void> {
    this.options.subscriber.on('message', this.onMessage);
    await this.options.subscriber.subscribe(this.channels.requests);
  }

  /** Handles one raw message; exposed for tests. Never throws for a bad message. */
  async handle(raw: string): Promise<void> {
    const { logger, metrics } = this.options;
    let correlationId: string | undefined;
    // A message has no headers: each gets an id here, kept with the run it starts and on its tasks' log lines.
    const requestId = randomUUID();
    try {
      if (Buffer.byteLength(raw) > this.options.maxMessageBytes) {
        throw new OrchestratorError(
          'PAYLOAD_TOO_LARGE',
          `message is larger than the ${this.options.maxMessageBytes} byte limit`,
        );
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (error) {
        throw new OrchestratorError('BAD_REQUEST', `message is not valid JSON: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const readable = (parsed as { correlation_id?: unknown } | null)?.correlation_id;
      if (typeof readable === 'string') correlationId = readable;
      // JSON.parse copes with any depth (and the size is capped); what follows it would not. Checked after the
      // parse only so that the error answer can carry the correlation id.
      if (jsonDepthExceeded(raw, this.options.maxJsonDepth) !== undefined) {
        throw new OrchestratorError(
          'BAD_REQUEST',
          `message nests arrays and objects deeper than ${this.options.maxJsonDepth} levels (ORCHESTRATOR_JSON_MAX_DEPTH)`,
        );
      }
      // Checked against the schema; typed by hand (FromSchema of it is too deep to compare).
      checkRequest(busRequestBody, parsed, 'message');
      await this.startRun(parsed as BusRequest, requestId, correlationId);
    } catch (thrown) {
      const error = toOrchestratorError(thrown);
      if (error.status >= 500) {
        // Another replica may well have started it: an error answer could contradict its `accepted`.
        metrics.busMessage('failed');
        logger.error('bus request failed', {
          correlation_id: correlationId,
          request_id: requestId,
          code: error.code,
          error: error.message,
        });
        return;
      }
      await this.reject(raw, correlationId, error);
    }
  }

  /** Starts a checked request's run and answers `accepted` (unless it ended within its `wait`, or already existed). */
  private async startRun(request: BusRequest, requestId: string, correlationId: string | undefined): Promise<void> {
    const { engine, logger, metrics } = this.options;
    // SDK workers' types: validated against the schemas they registered.
    const prepared = await prepareWithTaskTypes(engine, request, this.options.catalog);
    const waitMs = Math.min(tryParseDuration(request.wait) ?? 0, this.options.maxWaitMs);
    const claim = clientClaim(request, undefined);
    const executionId = engine.newExecutionId(claim);
    const waiting = waitMs > 0 ? this.options.waiters.expect(executionId) : undefined;
    // The message's span is the root of the run's trace (a message carries no trace context of its own).
    const attributes = { 'messaging.destination.name': this.channels.requests, 'orch.request_id': requestId };
    const submitted = withSpan(`receive ${this.channels.requests}`, { kind: SpanKind.CONSUMER, attributes }, () =>
      engine.submit(prepared, {
        claim,
        respondTo: this.channels.responses,
        requestId,
        executionId,
      }),
    );
    const result = await submitted.catch((error: unknown) => {
      waiting?.cancel();
      throw error;
    });
    if (!result.created) waiting?.cancel();
    const template = prepared.template?.id ?? 'inline';
    metrics.submitted('bus', template, result.created);
    const fields = {
      execution_id: result.executionId,
      correlation_id: correlationId,
      template,
      source: 'bus',
      request_id: requestId,
    };
    // A run this message did not create (an HTTP request with the same correlation id and body won): the one
    // replica that makes the bus its final-message channel answers `accepted`, so the requester gets its final message.
    const answer = result.created
      ? 'claimed'
      : await engine.claimResponder(result.executionId, this.channels.responses);
    if (answer !== 'claimed' && answer !== 'ended') {
      metrics.busMessage('duplicate');
      logger.debug('bus request for an existing run', fields);
      return;
    }
    // The engine sends the final message itself: a run that ends within the wait needs no `accepted` before it.
    if (result.created && waiting && (await waiting.until(waitMs)).finished) {
      metrics.busMessage('accepted');
      logger.info('workflow submitted and finished within the wait', fields);
      return;
    }
    await this.options.publisher.publish(
      this.channels.responses,
      JSON.stringify({
        type: 'accepted',
        execution_id: result.executionId,
        correlation_id: fields.correlation_id,
        status: result.status,
      }),
    );
    if (answer === 'ended') await engine.sendFinalMessage(result.executionId, this.channels.responses);
    metrics.busMessage('accepted');
    logger.info(result.created ? 'workflow submitted' : 'bus request joined an existing run', fields);
  }

  private async reject(raw: string, correlationId: string | undefined, error: OrchestratorError): Promise<void> {
    const digest = createHash('sha256').update(raw).digest('hex');
    const claimed = await this.options.publisher.set(
      this.options.keys.busError(digest),
      '1',
      'PX',
      ERROR_CLAIM_MS,
      'NX',
    );
    const answered = claimed === 'OK';
    this.options.logger.warn('bus message rejected', {
      correlation_id: correlationId,
      code: error.code,
      error: error.message,
      details: error.details,
      answered,
    });
    if (!answered) {
      this.options.metrics.busMessage('rejected_elsewhere');
      return;
    }
    await this.options.publisher.publish(
      this.channels.responses,
      JSON.stringify({ type: 'error', correlation_id: correlationId ?? null, error: error.toJSON() }),
    );
    this.options.metrics.busMessage('rejected');
  }

  /** Unsubscribes and waits for the messages being handled. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      this.options.subscriber.off('message', this.onMessage);
      await unsubscribeQuietly(this.options.subscriber, [this.channels.requests]);
      await Promise.allSettled([...this.inflight]);
    })();
    return this.stopping;
  }
}

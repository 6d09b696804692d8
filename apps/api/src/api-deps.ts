import type { Config } from '@orch/config';
import type { WorkflowEngine } from '@orch/engine';
import type { WorkflowGenerator } from '@orch/generator';
import type { Logger } from '@orch/logger';
import type { RedisClient } from '@orch/redis';
import type { TemplateCatalog } from '@orch/templates';
import type { Backpressure } from './backpressure';
import type { EventStreams } from './event-streams';
import type { ApiMetrics } from './metrics';
import type { RunWaiters } from './run-waiters';

/** Everything handlers use, injected so tests build the app against their own Redis. */
export interface ApiDeps {
  config: Readonly<Config>;
  engine: WorkflowEngine;
  catalog: TemplateCatalog;
  /** Prompt -> workflow; without OPENAI_BASE_URL/OPENAI_API_KEY it answers 503. */
  generator: WorkflowGenerator;
  /** Fail-fast client (the `api` profile) for the API's own commands; the engine's queues share it. */
  redis: RedisClient;
  logger: Logger;
  metrics: ApiMetrics;
  /** Live Server-Sent Event streams; each holds a dedicated blocking Redis connection. */
  streams: EventStreams;
  /** Submits waiting for their run's end (`?wait=`), woken by the finished channel. */
  waiters: RunWaiters;
  /** Holds or refuses (429) submits while the workers are behind. */
  backpressure: Backpressure;
  version: string;
  /** Epoch ms at which the process started serving. */
  startedAt: number;
}

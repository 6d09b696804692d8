/** One worker process as its heartbeats describe it (`GET /api/v1/workers`, `orchestrator workers`). */
export interface WorkerInfo {
  name: string;
  host: string;
  pid: number;
  /** The task queues (`queue:`) it takes jobs from. */
  queues: string[];
  /** The task types it can run (the built-in ones, or those an SDK worker registered). */
  task_types: string[];
  concurrency: number;
  /** Task jobs running on it at its latest heartbeat. */
  active: number;
  started_at: string;
  last_heartbeat_at: string;
  /** Milliseconds between its heartbeats. */
  heartbeat_ms: number;
  version: string;
  /** `stock` (the orchestrator's worker) or `sdk` (a user's worker built with @orchestrator/worker). */
  kind: 'stock' | 'sdk';
  /** `lost` once three heartbeats are missing: it crashed, hung or lost Redis. */
  status: 'live' | 'lost';
}

/** A worker is lost when this many heartbeats in a row did not come. */
export const LOST_AFTER_HEARTBEATS = 3;

/** The BullMQ job states counted by `operationalState()`. */
export const QUEUE_STATES = [
  'waiting',
  'waiting-children',
  'active',
  'delayed',
  'prioritized',
  'completed',
  'failed',
] as const;

export type QueueCounts = Record<'workflows' | 'tasks' | 'control', Record<(typeof QUEUE_STATES)[number], number>>;

/** What `/status` and `/metrics` report: slots in use, runs waiting, recovery counters, job counts per queue. */
export interface OperationalState {
  active: number;
  pending: number;
  recovery: Record<string, number>;
  queues: QueueCounts;
  /** Workers by heartbeat: live, and lost (3 heartbeats missed). */
  workers: { live: number; lost: number };
}

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

/** One partition's share of the operational state. */
export interface PartitionState {
  active: number;
  pending: number;
  counters: Map<string, number>;
  queues: QueueCounts;
}

/** The partitions' states added up (slots, waiting runs, recovery counters, job counts per queue and state). */
export function sumPartitionStates(states: readonly PartitionState[]): Omit<OperationalState, 'workers'> {
  const recovery: Record<string, number> = {};
  const queues = {} as QueueCounts;
  let active = 0;
  let pending = 0;
  for (const state of states) {
    active += state.active;
    pending += state.pending;
    for (const [name, n] of state.counters) recovery[name] = (recovery[name] ?? 0) + n;
    for (const [queue, counts] of Object.entries(state.queues) as [keyof QueueCounts, QueueCounts['tasks']][]) {
      const sum = queues[queue] ?? (Object.fromEntries(QUEUE_STATES.map((s) => [s, 0])) as QueueCounts['tasks']);
      for (const s of QUEUE_STATES) sum[s] += counts[s];
      queues[queue] = sum;
    }
  }
  return { active, pending, recovery, queues };
}

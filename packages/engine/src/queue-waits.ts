import type { ExecutionRecord } from '@orch/run-model';
import { type ExecutionDefinition, taskOf } from './execution-definition';
import type { WorkerRegistry } from './worker-registry';

/** What a task whose queue no live worker serves waits for; the record and `/status` show it. */
export const unservedQueue = (queue: string) => `no worker serves queue ${queue}`;

/**
 * Marks the unfinished tasks of a live run whose task queue (`queue:`) no live worker serves, and the run itself
 * with the first such queue, so a run stuck for want of a worker says so. Only runs with named queues pay for
 * reading the registry.
 */
export async function markUnservedQueues(
  record: ExecutionRecord,
  def: ExecutionDefinition,
  workers: WorkerRegistry,
): Promise<ExecutionRecord> {
  if (record.status !== 'running' && record.status !== 'pending') return record;
  const waiting = record.tasks.filter((t) => t.status === 'pending' && taskOf(def, t.id)?.queue);
  if (waiting.length === 0) return record;
  const served = await workers.servedQueues();
  for (const task of waiting) {
    const queue = taskOf(def, task.id)?.queue as string;
    if (served.has(queue)) continue;
    task.waiting_for = { kind: 'queue', queue, message: unservedQueue(queue) };
    record.waiting_for ??= unservedQueue(queue);
  }
  return record;
}

import { taskTypeOf } from '@orch/core';
import type { Job } from 'bullmq';
import type { EngineContext } from './engine-context';
import { type CompiledTask, type ExecutionDefinition, queueOf } from './execution-definition';
import type { Gate, GateMember } from './run-scripts';

/**
 * Concurrency limits (`max_concurrency` on a workflow, on a parallel task): a task or parallel item takes a slot of
 * each gate it is under before it runs and gives it back when it ends. One that finds no free slot queues and parks
 * its job (a BullMQ delayed job: no worker is held while it waits); the one that frees a slot wakes the oldest in
 * the queue. Only the units that do work hold slots: tasks run by a handler, sub-workflows and parallel items. A
 * parallel task itself, delays and approvals hold none (the module's `holdsSlot`). Runs without a limit never get
 * here.
 */

/** The run's gate: `max_concurrency` on the workflow. A parallel task's gate is named by its id. */
export const RUN_GATE = '*';

/**
 * A parked job that waits for a slot wakes this often to ask again even if nobody wakes it: a slot freed by a worker
 * that died before waking anyone is taken within this long.
 */
export const GATE_RECHECK_MS = 30_000;

/** The gates a task is under: the run's, when it has a limit and the task does work. */
export function taskGates(def: ExecutionDefinition, task: CompiledTask): Gate[] {
  if (!def.maxConcurrency) return [];
  const type = taskTypeOf(task.type);
  if (type?.kind === 'control' && !type.holdsSlot) return [];
  return [{ name: RUN_GATE, limit: def.maxConcurrency }];
}

/** The gates a parallel task's items are under: its own limit, and the run's. */
export function itemGates(def: ExecutionDefinition, taskId: string, limit?: number): Gate[] {
  const gates: Gate[] = [];
  if (limit) gates.push({ name: taskId, limit });
  if (def.maxConcurrency) gates.push({ name: RUN_GATE, limit: def.maxConcurrency });
  return gates;
}

/** Every gate a run may have used: dropped when its tasks have ended. */
export function gateNames(def: ExecutionDefinition): string[] {
  const names = def.maxConcurrency ? [RUN_GATE] : [];
  for (const t of [...def.workflow.tasks, ...(def.workflow.on_exit ?? [])]) {
    if (t.type === 'parallel' && t.parameters?.max_concurrency !== undefined) names.push(t.id);
  }
  return names;
}

export class ConcurrencyGates {
  constructor(private readonly ctx: EngineContext) {}

  /** Takes a task's slot of the run's gate, if it is under one; false when it must wait (its job is parked). */
  enterTask(job: Job, token: string | undefined, def: ExecutionDefinition, task: CompiledTask): Promise<boolean> {
    const gates = taskGates(def, task);
    if (gates.length === 0) return Promise.resolve(true);
    return this.enter(job, token, def.executionId, { member: task.id }, gates);
  }

  /**
   * Takes `who`'s slots. False when it must wait: its job is then parked (the caller throws BullMQ's DelayedError).
   */
  async enter(job: Job, token: string | undefined, e: string, who: GateMember, gates: Gate[]): Promise<boolean> {
    const { scripts } = this.ctx.store;
    const first = await scripts.gateEnter(e, who, gates);
    await this.wake(e, first.wake);
    if (first.entered) return true;
    await job.moveToDelayed(Date.now() + GATE_RECHECK_MS, token);
    // A slot freed between the two calls woke a job that was not parked yet, so nobody: ask again, now parked.
    const again = await scripts.gateEnter(e, who, gates);
    await this.wake(e, again.wake);
    if (again.entered) await job.promote().catch(() => undefined);
    return false;
  }

  /** Gives back `who`'s slots and wakes the jobs waiting for them. */
  async leave(e: string, who: GateMember, gates: Gate[], outcome: 'completed' | 'failed' = 'completed'): Promise<void> {
    if (gates.length === 0) return;
    await this.wake(e, await this.ctx.store.scripts.gateLeave(e, who, gates, outcome));
  }

  /** A member's job id is `<execution id>.<member>`: a task's job, or a parallel item's. */
  private async wake(e: string, members: readonly string[]): Promise<void> {
    if (members.length === 0) return;
    const def = await this.ctx.store.definition(e);
    // A member is a task id, or `<task>.<attempt>.<item>`: either way its job is in the task's queue.
    await Promise.all(members.map((m) => this.ctx.queues.wake(`${e}.${m}`, queueOf(def, m.split('.')[0] as string))));
  }
}

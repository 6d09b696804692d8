import type { RecoveryStrategy } from '@orch/core';
import { type Logger, silentLogger } from '@orch/logger';
import { isEndingStatus, isFinalStatus, RECOVERY_ACTIONS, type RecoveryAction } from '@orch/run-model';
import type { Job } from 'bullmq';
import type { EngineContext } from '../engine-context';
import { type ExecutionDefinition, queueOf, taskOf } from '../execution-definition';
import type { RunKernel } from '../run-kernel';
import { jobIds, type TaskJobData } from '../task-job';
import type { Orphan, RecoveryTools } from './recovery-strategy';
import { RECOVERY_STRATEGY_MODULES } from './strategies';

export interface RecoveryOptions {
  /** A running run with no event for this long, and a ready task without a job, is an orphan. */
  orphanAfterMs: number;
  /** Slack past a deadline before recovery acts on it (the deadline sweep or the task's own timer should have). */
  graceMs: number;
  /** For runs that do not set `recovery.strategy`. */
  strategy: RecoveryStrategy;
}

export type RecoveryReport = Record<RecoveryAction, string[]>;

/**
 * The recovery pass, run by a BullMQ job scheduler with a fixed id (one schedule however many workers start it).
 * Each repair is idempotent, so two passes overlapping, or a pass racing a live worker, do no harm. Every action is
 * counted in the counters hash, logged, and appended to the run's events. Orphans are repaired by the run's
 * strategy, one module each (`strategies/`).
 */
export class RecoveryManager {
  static readonly SCHEDULER_ID = 'recovery';
  private readonly logger: Logger;
  private readonly tools: RecoveryTools;

  constructor(
    private readonly ctx: EngineContext,
    private readonly kernel: RunKernel,
    private readonly options: RecoveryOptions,
    logger?: Logger,
  ) {
    this.logger = logger ?? silentLogger();
    this.tools = { ctx, kernel, note: (id, action, reason) => this.note(id, action, reason) };
  }

  /** Creates or updates the schedule; every worker calls this at start. */
  async schedule(everyMs: number): Promise<void> {
    await this.ctx.queues.control.upsertJobScheduler(
      RecoveryManager.SCHEDULER_ID,
      { every: everyMs },
      { name: 'recovery', opts: { removeOnComplete: true, removeOnFail: 50 } },
    );
  }

  async unschedule(): Promise<void> {
    await this.ctx.queues.control.removeJobScheduler(RecoveryManager.SCHEDULER_ID);
  }

  async run(now = Date.now()): Promise<RecoveryReport> {
    const report = Object.fromEntries(RECOVERY_ACTIONS.map((k) => [k, [] as string[]])) as RecoveryReport;
    await this.repairAdmission(now, report);
    await this.repairRuns(now, report);
    await this.abortOverdueTasks(now, report);
    await this.cleanUp(now, report);
    const counts = Object.entries(report).filter(([, ids]) => ids.length > 0);
    if (counts.length > 0) {
      await this.ctx.store.addToCounters(new Map(counts.map(([action, ids]) => [`recovery_${action}`, ids.length])));
      this.logger.info('recovery pass', Object.fromEntries(counts.map(([a, ids]) => [a, ids.length])));
    }
    return report;
  }

  /** Slots held by ended runs, runs admitted but never started, runs created but never admitted. */
  private async repairAdmission(now: number, report: RecoveryReport): Promise<void> {
    const { store, index, limits } = this.ctx;
    for (const id of await store.activeRuns()) {
      const status = await store.status(id);
      if (!status || isFinalStatus(status)) {
        await this.kernel.admitWaiting(id);
        report.slots_freed.push(id);
      } else if (status === 'pending') {
        const def = await store.definition(id);
        await this.note(id, 'started', 'admitted but never started');
        await this.kernel.startReady(def);
        report.started.push(id);
      }
    }
    const queued = new Set(await store.pendingRuns());
    for (const id of await index.createdSince(now - limits.executionTtlMs)) {
      if (queued.has(id)) continue;
      const meta = await store.meta(id);
      if (meta.status !== 'pending' || now - Number(meta.created_at) < this.options.orphanAfterMs) continue;
      if (await store.isActive(id)) continue;
      const admitted = await store.scripts.admit(id, limits.maxConcurrentWorkflows);
      await this.note(id, 'admitted', 'created but never admitted');
      if (admitted) await this.kernel.startReady(await store.definition(id));
      report.admitted.push(id);
    }
  }

  /** Running runs: deadlines, stuck workflow jobs, and orphans (work that no job will ever do). */
  private async repairRuns(now: number, report: RecoveryReport): Promise<void> {
    const { store, queues } = this.ctx;
    for (const id of await store.activeRuns()) {
      const meta = await store.meta(id);
      const status = meta.status ?? '';
      if (status !== 'running' && !isEndingStatus(status)) continue;
      const def = await store.definition(id).catch(() => undefined);
      if (!def) continue;
      const started = Number(meta.started_at ?? meta.created_at);
      if (status === 'running' && now > started + def.timeoutMs + this.options.graceMs) {
        await this.kernel.abort(id, 'timing_out', `workflow timed out after ${def.timeoutMs} ms (found by recovery)`);
        report.timed_out.push(id);
        continue;
      }
      if (status === 'exiting' && now > Number(meta.exit_deadline) + this.options.graceMs) {
        await this.kernel.abort(id, 'timing_out', 'exit handlers ran past their deadline (found by recovery)');
        report.timed_out.push(id);
        continue;
      }
      const parent = await queues.workflows.getJob(id);
      const state = parent ? await parent.getState() : 'missing';
      if (
        state === 'completed' ||
        state === 'failed' ||
        (state === 'waiting-children' && (await this.noPendingChildren(parent as Job)))
      ) {
        // The workflow job can no longer end the run (it ended without finishing it, or BullMQ will never wake it).
        await this.kernel.endRun(id);
        if (state === 'waiting-children') await parent?.remove().catch(() => undefined);
        await this.note(id, 'finalized', `workflow job was ${state}`);
        report.finalized.push(id);
        continue;
      }
      if (isEndingStatus(status) || now - (await store.lastEventAt(id)) < this.options.orphanAfterMs) continue;
      const missing = await this.readyWithoutJob(def);
      if (state !== 'missing' && missing.length === 0) continue;
      const reason = parent ? `ready tasks had no job: ${missing.join(', ')}` : 'its workflow job was missing';
      const orphan: Orphan = { def, parent, missing, reason };
      const strategy = RECOVERY_STRATEGY_MODULES[def.workflow.recovery?.strategy ?? this.options.strategy];
      await strategy.recover(orphan, this.tools);
      report[strategy.action].push(id);
    }
  }

  /** Ready tasks (not finished, every dependency finished) that have no BullMQ job in any state. */
  private async readyWithoutJob(def: ExecutionDefinition): Promise<string[]> {
    const ready = await this.ctx.store.readyTasks(def);
    const jobs = await Promise.all(
      ready.map((t) => this.ctx.queues.taskJob(jobIds.task(def.executionId, t), queueOf(def, t))),
    );
    return ready.filter((_, i) => !jobs[i]);
  }

  /** BullMQ moves a parent on atomically with its last child, so a parent still waiting after the count is stuck. */
  private async noPendingChildren(parent: Job): Promise<boolean> {
    const counts = await parent.getDependenciesCount({ unprocessed: true });
    return (counts.unprocessed ?? 0) === 0 && (await parent.getState()) === 'waiting-children';
  }

  /** Active task jobs past their timeout plus grace: their own timer did not fire, so ask their worker to abort them. */
  private async abortOverdueTasks(now: number, report: RecoveryReport): Promise<void> {
    const { store, queues } = this.ctx;
    const active = (await Promise.all(queues.taskQueues().map((q) => q.getActive(0, 999)))).flat();
    for (const job of active) {
      if (job.name === 'subtask') continue;
      const { e, t } = job.data as TaskJobData;
      const def = await store.definition(e).catch(() => undefined);
      const timeout = def ? taskOf(def, t)?.timeoutMs : undefined;
      if (timeout === undefined || !job.processedOn || now < job.processedOn + timeout + this.options.graceMs) continue;
      // A job whose task is recorded is carrying its dependents (inline continuation): they keep their own timeouts.
      if (await store.isFinished(e, t)) continue;
      await store.broadcastJobTimeout(job.id as string);
      await this.note(e, 'task_timeouts', `task ${t} ran past its timeout`);
      report.task_timeouts.push(job.id as string);
    }
  }

  /** Index entries of expired runs, and finished BullMQ jobs older than the TTL. */
  private async cleanUp(now: number, report: RecoveryReport): Promise<void> {
    const { index, queues, limits } = this.ctx;
    const ttl = limits.executionTtlMs;
    report.index_cleaned.push(...(await index.dropExpired(now - ttl)));
    for (const queue of [...queues.taskQueues(), queues.workflows]) {
      for (const type of ['completed', 'failed'] as const)
        report.jobs_cleaned.push(...(await queue.clean(ttl, 5000, type)));
    }
  }

  private async note(id: string, action: RecoveryAction, reason: string): Promise<void> {
    await this.ctx.store.appendEvent(id, `recovery.${action}`, { error: reason });
    this.logger.warn('recovery action', { execution_id: id, action, reason });
  }
}

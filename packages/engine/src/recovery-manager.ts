import type { RecoveryStrategy } from '@orch/core';
import { type Logger, silentLogger } from '@orch/logger';
import { QUEUES } from '@orch/redis';
import { TERMINAL_STATUSES } from '@orch/run-model';
import type { Job } from 'bullmq';
import type { ExecutionDefinition } from './execution-definition';
import type { WorkflowEngine } from './workflow-engine';

export interface RecoveryOptions {
  /** A running run with no event for this long, and a ready task without a job, is an orphan. */
  orphanAfterMs: number;
  /** Slack past a deadline before recovery acts on it (the deadline sweep or the task's own timer should have). */
  graceMs: number;
  /** For runs that do not set `recovery.strategy`. */
  strategy: RecoveryStrategy;
}

export type RecoveryAction =
  | 'admitted'
  | 'started'
  | 'timed_out'
  | 'resumed'
  | 'restarted'
  | 'failed'
  | 'finalized'
  | 'task_timeouts'
  | 'slots_freed'
  | 'index_cleaned'
  | 'jobs_cleaned';

export type RecoveryReport = Record<RecoveryAction, string[]>;

const ENDING = new Set(['failing', 'cancelling', 'timing_out']);

/**
 * The recovery pass, run by a BullMQ job scheduler with a fixed id (one schedule however many workers start it).
 * Each repair is idempotent, so two passes overlapping, or a pass racing a live worker, do no harm. Every action is
 * counted in the counters hash, logged, and appended to the run's events.
 */
export class RecoveryManager {
  static readonly SCHEDULER_ID = 'recovery';
  private readonly logger: Logger;

  constructor(
    private readonly engine: WorkflowEngine,
    private readonly options: RecoveryOptions,
    logger?: Logger,
  ) {
    this.logger = logger ?? silentLogger();
  }

  /** Creates or updates the schedule; every worker calls this at start. */
  async schedule(everyMs: number): Promise<void> {
    await this.engine.queues.control.upsertJobScheduler(
      RecoveryManager.SCHEDULER_ID,
      { every: everyMs },
      { name: 'recovery', opts: { removeOnComplete: true, removeOnFail: 50 } },
    );
  }

  async unschedule(): Promise<void> {
    await this.engine.queues.control.removeJobScheduler(RecoveryManager.SCHEDULER_ID);
  }

  async run(now = Date.now()): Promise<RecoveryReport> {
    const report = Object.fromEntries(
      [
        'admitted',
        'started',
        'timed_out',
        'resumed',
        'restarted',
        'failed',
        'finalized',
        'task_timeouts',
        'slots_freed',
        'index_cleaned',
        'jobs_cleaned',
      ].map((k) => [k, [] as string[]]),
    ) as RecoveryReport;
    await this.repairAdmission(now, report);
    await this.repairRuns(now, report);
    await this.abortOverdueTasks(now, report);
    await this.cleanUp(now, report);
    const counts = Object.entries(report).filter(([, ids]) => ids.length > 0);
    if (counts.length > 0) {
      const pipeline = this.engine.redis.pipeline();
      for (const [action, ids] of counts)
        pipeline.hincrby(this.engine.keys.counters(), `recovery_${action}`, ids.length);
      await pipeline.exec();
      this.logger.info('recovery pass', Object.fromEntries(counts.map(([a, ids]) => [a, ids.length])));
    }
    return report;
  }

  /** Slots held by ended runs, runs admitted but never started, runs created but never admitted. */
  private async repairAdmission(now: number, report: RecoveryReport): Promise<void> {
    const { engine } = this;
    for (const id of await engine.redis.smembers(engine.keys.active())) {
      const status = await engine.redis.hget(engine.keys.meta(id), 'status');
      if (!status || TERMINAL_STATUSES.has(status)) {
        await engine.admitWaiting(id);
        report.slots_freed.push(id);
      } else if (status === 'pending') {
        const def = await engine.store.definition(id);
        await this.note(id, 'started', 'admitted but never started');
        await engine.start(def, await engine.frontier(def));
        report.started.push(id);
      }
    }
    const queued = new Set(await engine.redis.lrange(engine.keys.pending(), 0, -1));
    for (const id of await this.recent(now)) {
      if (queued.has(id)) continue;
      const meta = await engine.redis.hmget(engine.keys.meta(id), 'status', 'created_at');
      if (meta[0] !== 'pending' || now - Number(meta[1]) < this.options.orphanAfterMs) continue;
      if (await engine.redis.sismember(engine.keys.active(), id)) continue;
      const admitted = await engine.scripts.admit(
        [engine.keys.active(), engine.keys.pending()],
        [id, engine.options.maxConcurrentWorkflows],
      );
      await this.note(id, 'admitted', 'created but never admitted');
      if (admitted === 1) {
        const def = await engine.store.definition(id);
        await engine.start(def, await engine.frontier(def));
      }
      report.admitted.push(id);
    }
  }

  /** Running runs: deadlines, stuck workflow jobs, and orphans (work that no job will ever do). */
  private async repairRuns(now: number, report: RecoveryReport): Promise<void> {
    const { engine } = this;
    for (const id of await engine.redis.smembers(engine.keys.active())) {
      const meta = await engine.store.meta(id);
      const status = meta.status ?? '';
      if (status !== 'running' && !ENDING.has(status)) continue;
      const def = await engine.store.definition(id).catch(() => undefined);
      if (!def) continue;
      const started = Number(meta.started_at ?? meta.created_at);
      if (status === 'running' && now > started + def.timeoutMs + this.options.graceMs) {
        await engine.abort(id, 'timing_out', `workflow timed out after ${def.timeoutMs} ms (found by recovery)`);
        report.timed_out.push(id);
        continue;
      }
      const parent = await engine.queues.workflows.getJob(id);
      const state = parent ? await parent.getState() : 'missing';
      if (
        state === 'completed' ||
        state === 'failed' ||
        (state === 'waiting-children' && (await this.noPendingChildren(parent as Job)))
      ) {
        // The workflow job can no longer end the run (it ended without finishing it, or BullMQ will never wake it).
        await engine.endRun(id);
        if (state === 'waiting-children') await parent?.remove().catch(() => undefined);
        await this.note(id, 'finalized', `workflow job was ${state}`);
        report.finalized.push(id);
        continue;
      }
      if (ENDING.has(status) || now - (await this.lastEventAt(id)) < this.options.orphanAfterMs) continue;
      const missing = await this.readyWithoutJob(def);
      if (state !== 'missing' && missing.length === 0) continue;
      const strategy = def.workflow.recovery?.strategy ?? this.options.strategy;
      await this.recover(def, strategy, parent, missing);
      report[strategy === 'resume' ? 'resumed' : strategy === 'restart' ? 'restarted' : 'failed'].push(id);
    }
  }

  private async recover(
    def: ExecutionDefinition,
    strategy: RecoveryStrategy,
    parent: Job | undefined,
    missing: string[],
  ): Promise<void> {
    const { engine } = this;
    const id = def.executionId;
    const reason = parent ? `ready tasks had no job: ${missing.join(', ')}` : 'its workflow job was missing';
    if (strategy === 'fail') {
      await engine.redis.hset(engine.keys.meta(id), 'status', 'failing', 'error', `orphaned: ${reason}`);
      await this.note(id, 'failed', reason);
      if (parent) await parent.remove().catch(() => undefined);
      await engine.endRun(id);
      return;
    }
    if (strategy === 'restart') {
      if (parent) await parent.remove().catch(() => undefined);
      await engine.redis.del(engine.keys.finished(id), engine.keys.outputs(id), engine.keys.tasks(id));
      await engine.resetWaits(def);
      await this.note(id, 'restarted', reason);
      await engine.start(def, def.roots);
      return;
    }
    await this.note(id, 'resumed', reason);
    if (parent) await engine.release(def, missing);
    else await engine.startJobs(def, missing);
  }

  /** Ready tasks (not finished, every dependency finished) that have no BullMQ job in any state. */
  private async readyWithoutJob(def: ExecutionDefinition): Promise<string[]> {
    const fin = await this.engine.redis.hgetall(this.engine.keys.finished(def.executionId));
    const ready = Object.values(def.tasks).filter(
      (t) => fin[t.id] === undefined && t.deps.every((d) => fin[d] !== undefined),
    );
    const jobs = await Promise.all(ready.map((t) => this.engine.queues.tasks.getJob(`${def.executionId}.${t.id}`)));
    return ready.filter((_, i) => !jobs[i]).map((t) => t.id);
  }

  /** BullMQ moves a parent on atomically with its last child, so a parent still waiting after the count is stuck. */
  private async noPendingChildren(parent: Job): Promise<boolean> {
    const counts = await parent.getDependenciesCount({ unprocessed: true });
    return (counts.unprocessed ?? 0) === 0 && (await parent.getState()) === 'waiting-children';
  }

  private async lastEventAt(id: string): Promise<number> {
    const [last] = await this.engine.redis.xrevrange(this.engine.keys.events(id), '+', '-', 'COUNT', 1);
    return last ? Number(last[0].split('-')[0]) : 0;
  }

  /** Active task jobs past their timeout plus grace: their own timer did not fire, so ask their worker to abort them. */
  private async abortOverdueTasks(now: number, report: RecoveryReport): Promise<void> {
    const active = await this.engine.queues.tasks.getActive(0, 999);
    for (const job of active) {
      if (job.name === 'subtask') continue;
      const { e, t } = job.data as { e: string; t: string };
      const def = await this.engine.store.definition(e).catch(() => undefined);
      const timeout = def?.tasks[t]?.timeoutMs;
      if (timeout === undefined || !job.processedOn || now < job.processedOn + timeout + this.options.graceMs) continue;
      await this.engine.redis.publish(this.engine.keys.abortChannel(), `job:${job.id}`);
      await this.note(e, 'task_timeouts', `task ${t} ran past its timeout`);
      report.task_timeouts.push(job.id as string);
    }
  }

  /** Index entries of expired runs, and finished BullMQ jobs older than the TTL. */
  private async cleanUp(now: number, report: RecoveryReport): Promise<void> {
    const { engine } = this;
    const ttl = engine.options.executionTtlMs;
    const old = await engine.redis.zrangebyscore(engine.keys.index(), '-inf', now - ttl, 'LIMIT', 0, 5000);
    if (old.length > 0) {
      const pipeline = engine.redis.pipeline();
      for (const id of old) pipeline.exists(engine.keys.meta(id));
      const exists = (await pipeline.exec()) ?? [];
      const gone = old.filter((_, i) => exists[i]?.[1] === 0);
      if (gone.length > 0) await engine.redis.zrem(engine.keys.index(), ...gone);
      report.index_cleaned.push(...gone);
    }
    for (const name of [QUEUES.tasks, QUEUES.workflows] as const) {
      const queue = engine.queues[name];
      for (const type of ['completed', 'failed'] as const)
        report.jobs_cleaned.push(...(await queue.clean(ttl, 5000, type)));
    }
  }

  /** Runs created within the TTL, for the admission check. */
  private async recent(now: number): Promise<string[]> {
    return this.engine.redis.zrangebyscore(this.engine.keys.index(), now - this.engine.options.executionTtlMs, '+inf');
  }

  private async note(id: string, action: string, reason: string): Promise<void> {
    await this.engine.redis.xadd(
      this.engine.keys.events(id),
      '*',
      'type',
      `recovery.${action}`,
      'at',
      String(Date.now()),
      'error',
      reason,
    );
    this.logger.warn('recovery action', { execution_id: id, action, reason });
  }
}

import { EventEmitter } from 'node:events';
import { type PreparedWorkflow, prepareFromTemplate, prepareInline } from '@orch/core';
import { NotFoundError, OrchestratorError, ValidationError } from '@orch/errors';
import { type Logger, silentLogger } from '@orch/logger';
import { isFinalStatus } from '@orch/run-model';
import { SpanKind, withSpan } from '@orch/tracing';
import type { Job } from 'bullmq';
import type { EngineContext } from './engine-context';
import type { RunClaim } from './execution-definition';
import { kernelOf } from './run-kernel';
import type { SubmitResult } from './run-submission';
import type { TemplateResolver } from './task-runner';
import { internalsOf, type WorkflowEngine } from './workflow-engine';

export interface ScheduleSpec {
  id: string;
  cron: string;
  timezone?: string;
  workflow_template?: string;
  workflow?: unknown;
  variables?: Record<string, unknown>;
  /** `skip`: a firing while the previous run is still active is recorded as skipped instead of starting a run. */
  overlap?: 'skip' | 'allow';
}

export interface Schedule extends ScheduleSpec {
  overlap: 'skip' | 'allow';
  paused: boolean;
  /** `api` or `template:<id>` (declared with `schedule:` in a template). */
  source: string;
  created_at: string;
  next_run_at?: string;
  last_fired_at?: string;
  last_execution_id?: string;
  fired: number;
  skipped: number;
}

export interface Firing {
  fired_at: string;
  execution_id?: string;
  skipped?: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const schedulerId = (id: string) => `schedule:${id}`;

/**
 * Cron schedules backed by BullMQ job schedulers (one per schedule, fixed id, so any number of workers yields one
 * firing per tick). Each firing starts a run with correlation id `<schedule id>:<fire time>`, so a firing never
 * starts twice, even if its job runs twice. Emits `firing` (schedule id, Firing) after each one it ran.
 */
export class ScheduleManager extends EventEmitter {
  private readonly logger: Logger;
  /** Partition 0's: its control queue holds the job schedulers (schedules are global, one partition runs them). */
  private readonly ctx: EngineContext;

  constructor(engine: WorkflowEngine, logger?: Logger) {
    super();
    ({ ctx: this.ctx } = internalsOf(engine));
    this.logger = logger ?? silentLogger();
  }

  /** A firing's run goes to its claim's partition. */
  private submit(prepared: PreparedWorkflow, claim: RunClaim): Promise<SubmitResult> {
    return kernelOf(this.ctx.placement({ claim })).submit(prepared, { claim });
  }

  /** Schedules are global data (not a run's), in the engine's keys. */
  private get key(): string {
    return this.ctx.keys.schedules();
  }

  private get redis() {
    return this.ctx.redis;
  }

  /** Creates or replaces a schedule; an invalid cron pattern or time zone is a ValidationError. */
  async upsert(spec: ScheduleSpec, source = 'api'): Promise<Schedule> {
    if (!ID.test(spec.id)) {
      throw new ValidationError('invalid schedule', [
        { pointer: '/id', message: 'must be letters, digits, ., _ and -, up to 100' },
      ]);
    }
    const existing = await this.find(spec.id);
    const schedule: Schedule = {
      ...spec,
      overlap: spec.overlap ?? 'skip',
      paused: existing?.paused ?? false,
      source,
      created_at: existing?.created_at ?? new Date().toISOString(),
      fired: existing?.fired ?? 0,
      skipped: existing?.skipped ?? 0,
    };
    if (existing?.last_execution_id) schedule.last_execution_id = existing.last_execution_id;
    if (!schedule.paused) await this.arm(schedule);
    await this.redis.hset(this.key, spec.id, JSON.stringify(strip(schedule)));
    return this.get(spec.id);
  }

  private async arm(schedule: Schedule): Promise<void> {
    try {
      await this.ctx.queues.control.upsertJobScheduler(
        schedulerId(schedule.id),
        { pattern: schedule.cron, ...(schedule.timezone ? { tz: schedule.timezone } : {}) },
        { name: 'schedule', data: { s: schedule.id }, opts: { removeOnComplete: true, removeOnFail: 100 } },
      );
    } catch (error) {
      throw new ValidationError(`invalid schedule '${schedule.id}'`, [
        {
          pointer: '/cron',
          message: `${schedule.cron}${schedule.timezone ? ` (${schedule.timezone})` : ''}: ${(error as Error).message}`,
        },
      ]);
    }
  }

  async list(): Promise<Schedule[]> {
    const all = await this.redis.hgetall(this.key);
    const schedules = await Promise.all(
      Object.keys(all)
        .sort()
        .map((id) => this.get(id)),
    );
    return schedules;
  }

  private async find(id: string): Promise<Schedule | undefined> {
    const raw = await this.redis.hget(this.key, id);
    return raw ? (JSON.parse(raw) as Schedule) : undefined;
  }

  async get(id: string): Promise<Schedule> {
    const schedule = await this.find(id);
    if (!schedule) throw new NotFoundError('schedule', id);
    const scheduler = schedule.paused ? undefined : await this.ctx.queues.control.getJobScheduler(schedulerId(id));
    if (scheduler?.next) schedule.next_run_at = new Date(scheduler.next).toISOString();
    return schedule;
  }

  async remove(id: string): Promise<void> {
    await this.get(id);
    await this.ctx.queues.control.removeJobScheduler(schedulerId(id));
    await this.redis.multi().hdel(this.key, id).del(this.ctx.keys.scheduleFirings(id)).exec();
  }

  async pause(id: string): Promise<Schedule> {
    const schedule = await this.get(id);
    await this.ctx.queues.control.removeJobScheduler(schedulerId(id));
    await this.redis.hset(this.key, id, JSON.stringify(strip({ ...schedule, paused: true })));
    return this.get(id);
  }

  async resume(id: string): Promise<Schedule> {
    const schedule = await this.get(id);
    const resumed = { ...schedule, paused: false };
    await this.arm(resumed);
    await this.redis.hset(this.key, id, JSON.stringify(strip(resumed)));
    return this.get(id);
  }

  /** The latest firings, newest first. */
  async firings(id: string, count = 50): Promise<Firing[]> {
    return (await this.redis.lrange(this.ctx.keys.scheduleFirings(id), 0, count - 1)).map(
      (f) => JSON.parse(f) as Firing,
    );
  }

  /** Runs one firing (the `schedule` control job). */
  async fire(job: Job<{ s: string }>, templates?: TemplateResolver): Promise<Firing | undefined> {
    const schedule = await this.find(job.data.s);
    if (!schedule || schedule.paused) return undefined;
    const at = (job.opts as { prevMillis?: number }).prevMillis ?? job.timestamp;
    const firing: Firing = { fired_at: new Date(at).toISOString() };
    if (schedule.overlap === 'skip' && schedule.last_execution_id) {
      const status = await this.ctx.peer(schedule.last_execution_id).store.status(schedule.last_execution_id);
      if (status && !isFinalStatus(status)) firing.skipped = `run ${schedule.last_execution_id} is still ${status}`;
    }
    if (!firing.skipped) {
      const variables = schedule.variables ?? {};
      let prepared: ReturnType<typeof prepareInline>;
      if (schedule.workflow_template) {
        if (!templates) throw new OrchestratorError('INTERNAL', 'this worker has no template catalog');
        prepared = prepareFromTemplate(templates(schedule.workflow_template), variables);
      } else {
        prepared = prepareInline(schedule.workflow, variables);
      }
      // The firing's span is the root of the run's trace.
      const attributes = { 'orch.schedule_id': schedule.id, 'orch.fired_at': firing.fired_at };
      const started = await withSpan(`schedule ${schedule.id}`, { kind: SpanKind.PRODUCER, attributes }, () =>
        this.submit(prepared, { space: 'schedule', id: `${schedule.id}:${at}` }),
      );
      firing.execution_id = started.executionId;
    }
    // Read-modify-write of the counters: firings of one schedule never overlap (one scheduler, ticks apart).
    const latest = (await this.find(schedule.id)) ?? schedule;
    const updated: Schedule = {
      ...latest,
      fired: latest.fired + 1,
      skipped: latest.skipped + (firing.skipped ? 1 : 0),
      last_fired_at: firing.fired_at,
    };
    if (firing.execution_id) updated.last_execution_id = firing.execution_id;
    await this.redis
      .multi()
      .hset(this.key, schedule.id, JSON.stringify(strip(updated)))
      .lpush(this.ctx.keys.scheduleFirings(schedule.id), JSON.stringify(firing))
      .ltrim(this.ctx.keys.scheduleFirings(schedule.id), 0, 199)
      .exec();
    this.logger.info(firing.skipped ? 'schedule firing skipped' : 'schedule fired', {
      schedule: schedule.id,
      ...firing,
    });
    this.emit('firing', schedule.id, firing);
    return firing;
  }
}

/** Derived fields are not stored. */
function strip(schedule: Schedule): Schedule {
  const { next_run_at: _next, ...stored } = schedule;
  return stored;
}

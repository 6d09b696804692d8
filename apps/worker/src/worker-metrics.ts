import type { TaskObserver, TaskOutcome } from '@orch/engine';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One worker process's Prometheus metrics, fed by the engine worker's observer hooks: how long task jobs run (by
 * task type and outcome), how attempts end, how long jobs waited in the queue, how many run now, and the stalls
 * this worker's checks found. Every series carries the worker's name.
 */
export class WorkerMetrics implements TaskObserver {
  readonly registry = new Registry();
  private readonly duration: Histogram<'type' | 'status'>;
  private readonly attempts: Counter<'type' | 'outcome'>;
  private readonly lag: Histogram<'type'>;
  private readonly active: Gauge<'type'>;
  private readonly stalls: Counter<'queue'>;

  constructor(worker: string) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ worker });
    collectDefaultMetrics({ register: this.registry });
    this.duration = new Histogram({
      name: 'orchestrator_worker_task_duration_seconds',
      help: 'Time a task job ran on this worker, by task type and how the run ended (completed, failed, retrying, parked, ...)',
      labelNames: ['type', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    });
    this.attempts = new Counter({
      name: 'orchestrator_worker_task_attempts_total',
      help: 'Task attempts that ended on this worker, by task type and outcome (retrying: failed and will be retried)',
      labelNames: ['type', 'outcome'],
      registers,
    });
    this.lag = new Histogram({
      name: 'orchestrator_worker_queue_lag_seconds',
      help: 'Time a task job waited in the queue before this worker started it (first run of its first attempt)',
      labelNames: ['type'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    });
    this.active = new Gauge({
      name: 'orchestrator_worker_active_jobs',
      help: 'Task jobs running on this worker now, by task type',
      labelNames: ['type'],
      registers,
    });
    this.stalls = new Counter({
      name: 'orchestrator_worker_job_stalls_total',
      help: "Jobs this worker's stall check found abandoned by their worker (lock not renewed), by queue",
      labelNames: ['queue'],
      registers,
    });
  }

  jobStarted(job: { type: string; attempt: number; waitedMs?: number }): void {
    this.active.inc({ type: job.type });
    if (job.waitedMs !== undefined) this.lag.observe({ type: job.type }, job.waitedMs / 1000);
  }

  jobEnded(job: { type: string; attempt: number; outcome: TaskOutcome; durationMs: number }): void {
    this.active.dec({ type: job.type });
    this.duration.observe({ type: job.type, status: job.outcome }, job.durationMs / 1000);
    // A parked job comes back to finish the same attempt; only the run that ends the attempt counts it.
    if (job.outcome !== 'parked') this.attempts.inc({ type: job.type, outcome: job.outcome });
  }

  jobStalled(job: { queue: string }): void {
    this.stalls.inc({ queue: job.queue });
  }
}

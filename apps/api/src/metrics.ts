import type { WorkflowEngine } from '@orch/engine';
import type { Logger } from '@orch/logger';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type SubmitSource = 'http' | 'bus' | 'retry';
export type BusOutcome = 'accepted' | 'duplicate' | 'rejected' | 'rejected_elsewhere' | 'failed';

/**
 * The API's Prometheus metrics, in a registry of its own (two apps in one test process must not share one).
 * Counters count what this replica saw; `workflows_finished_total` counts every run of the cluster (each replica
 * hears the finished channel), so aggregate it with max(), not sum(). Gauges are read from Redis per scrape.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly submittedTotal: Counter<'source' | 'template' | 'outcome'>;
  private readonly finishedTotal: Counter<'status'>;
  private readonly busTotal: Counter<'outcome'>;
  private readonly admissionTotal: Counter<'outcome'>;
  private readonly requestSeconds: Histogram<'method' | 'route' | 'status'>;
  private readonly workflows: Gauge<'state'>;
  private readonly queueJobs: Gauge<'queue' | 'state'>;
  private readonly recovery: Gauge<'operation'>;
  private readonly redisUp: Gauge;
  private readonly streams: Gauge;

  constructor(
    private readonly engine: WorkflowEngine,
    private readonly logger: Logger,
    private readonly openStreams: () => number = () => 0,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.submittedTotal = new Counter({
      name: 'orchestrator_workflows_submitted_total',
      help: 'Workflow submissions by source (http, bus, retry), template (or inline) and outcome (created, duplicate)',
      labelNames: ['source', 'template', 'outcome'],
      registers,
    });
    this.finishedTotal = new Counter({
      name: 'orchestrator_workflows_finished_total',
      help: 'Runs that ended, by final status (every run of the cluster, heard on the finished channel)',
      labelNames: ['status'],
      registers,
    });
    this.busTotal = new Counter({
      name: 'orchestrator_bus_messages_total',
      help: 'workflow-requests messages by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.admissionTotal = new Counter({
      name: 'orchestrator_submits_backpressure_total',
      help: 'Submits held while the backlog was above ORCHESTRATOR_BACKLOG_HIGH_WATER (held), and refused with 429 (refused)',
      labelNames: ['outcome'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'orchestrator_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.workflows = new Gauge({
      name: 'orchestrator_workflows',
      help: 'Runs holding a concurrency slot (active) and runs waiting for one (pending)',
      labelNames: ['state'],
      registers,
    });
    this.queueJobs = new Gauge({
      name: 'orchestrator_queue_jobs',
      help: 'BullMQ jobs by queue and state',
      labelNames: ['queue', 'state'],
      registers,
    });
    this.recovery = new Gauge({
      name: 'orchestrator_recovery_operations',
      help: 'Recovery actions taken so far, by operation (cluster-wide counters kept in Redis)',
      labelNames: ['operation'],
      registers,
    });
    this.redisUp = new Gauge({
      name: 'orchestrator_redis_up',
      help: '1 when the last scrape reached Redis',
      registers,
    });
    this.streams = new Gauge({ name: 'orchestrator_sse_streams', help: 'Open Server-Sent Event streams', registers });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  submitted(source: SubmitSource, template: string, created: boolean): void {
    this.submittedTotal.inc({ source, template, outcome: created ? 'created' : 'duplicate' });
  }

  finished(status: string): void {
    this.finishedTotal.inc({ status });
  }

  backpressure(outcome: 'held' | 'refused'): void {
    this.admissionTotal.inc({ outcome });
  }

  busMessage(outcome: BusOutcome): void {
    this.busTotal.inc({ outcome });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requestSeconds.observe({ method, route, status: String(status) }, seconds);
  }

  /** Reads the Redis-backed gauges, then renders. Redis being away sets `orchestrator_redis_up 0`, not an error. */
  async render(): Promise<string> {
    await this.refresh();
    return this.registry.metrics();
  }

  private async refresh(): Promise<void> {
    const { engine } = this;
    this.streams.set(this.openStreams());
    try {
      const { active, pending, recovery, queues } = await engine.operationalState();
      this.workflows.set({ state: 'active' }, active);
      this.workflows.set({ state: 'pending' }, pending);
      for (const [operation, value] of Object.entries(recovery)) this.recovery.set({ operation }, value);
      for (const [queue, counts] of Object.entries(queues)) {
        for (const [state, count] of Object.entries(counts)) this.queueJobs.set({ queue, state }, count);
      }
      this.redisUp.set(1);
    } catch (error) {
      this.redisUp.set(0);
      this.logger.warn('metrics scrape could not read Redis', { error: (error as Error).message });
    }
  }
}

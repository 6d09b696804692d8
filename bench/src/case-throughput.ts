import { COMPLETED_TASK_JOBS_KEPT } from '@orch/engine';
import { FlowProducer, Queue } from 'bullmq';
import type { BenchCase, BenchContext, CaseResult, Row } from './bench-case';
import { fmt, summaryJson } from './bench-case';
import { callDelta, scriptCalls, totalCalls } from './bench-redis';
import { cpuMeter } from './cpu';
import { type BenchChild, type RawWorker, sleep, startOrchWorkers, startRawWorker } from './processes';
import { workerCommands } from './round-trips';
import { type BenchWorkflow, chain, describeShape, randomDag, wide, wideLimited } from './shapes';
import { summarize } from './stats';
import { Submitter } from './submitter';

/** Jobs per raw BullMQ run: enough for ~1 s of work, so start-up and the last straggler do not dominate. */
export const RAW_JOBS = 5000;
export const RANDOM_SEED = 20_251_126;

export interface Measured {
  ms: number;
  perSecond: number;
  calls: number;
  scripts: number;
  topCalls: [string, number][];
  /** CPU milliseconds per task (or job) of Redis, the worker process and the bench process (the submitter). */
  cpuMs: Record<string, number>;
}

interface Measurement<T> {
  result: T;
  delta: [string, number][];
  cpu: Record<string, number>;
}

/**
 * Runs `work` between two snapshots of commandstats and of CPU time (Redis, the bench, `pids`); the trailing sleep
 * lets the last job's bookkeeping land.
 */
export async function measure<T>(
  ctx: BenchContext,
  pids: Record<string, number>,
  work: () => Promise<T>,
): Promise<Measurement<T>> {
  const before = await ctx.redis.commandCalls();
  const meter = await cpuMeter(ctx.redis, pids);
  const result = await work();
  await sleep(100);
  const cpu = await meter.stop();
  const after = await ctx.redis.commandCalls();
  // The bench's own INFO calls are not the engine's: the first commandstats and both cpu snapshots fall inside the
  // delta (the last commandstats call is not in its own output).
  const delta = callDelta(before, after).map(([c, n]): [string, number] => [c, c === 'info' ? n - 3 : n]);
  return { result, delta: delta.filter(([, n]) => n > 0), cpu };
}

/** N no-op jobs in one addBulk; the time runs from the addBulk call to the worker's N-th 'completed' event. */
export interface RawRunOptions {
  /** The memory comparison keeps every completed job (by age only), as a run keeps its task records. */
  keep?: 'like-task-jobs' | 'all';
  /** Add every job as a child of this parent (BullMQ's flow structure, which the engine's task jobs have). */
  parent?: { id: string; queue: string };
}

export async function rawRun(
  ctx: BenchContext,
  queue: Queue,
  worker: RawWorker,
  n: number,
  options: RawRunOptions = {},
): Promise<Measured> {
  const { keep = 'like-task-jobs', parent } = options;
  const {
    result: ms,
    delta,
    cpu,
  } = await measure(ctx, { worker: worker.pid }, async () => {
    const { done } = await worker.expect(n);
    const start = Date.now();
    await queue.addBulk(
      Array.from({ length: n }, (_, i) => ({
        name: 'noop',
        data: { i },
        // The same retention as the engine's task jobs (by age, and the newest COMPLETED_TASK_JOBS_KEPT), so both pay
        // the same cleanup in moveToFinished.
        opts: {
          removeOnComplete: keep === 'all' ? { age: 3600 } : { age: 3600, count: COMPLETED_TASK_JOBS_KEPT },
          removeOnFail: { age: 3600 },
          ...(parent ? { parent, ignoreDependencyOnFailure: true } : {}),
        },
      })),
    );
    return (await done) - start;
  });
  return measured(n, ms, delta, cpu);
}

/** One workflow from submit (validation included) to its message on the finished channel. */
export async function orchRun(
  ctx: BenchContext,
  submitter: Submitter,
  workers: BenchChild[],
  workflow: BenchWorkflow,
): Promise<Measured> {
  const pids =
    workers.length === 1 ? { worker: workers[0]?.pid ?? 0 } : Object.fromEntries(workers.map((w) => [w.name, w.pid]));
  const { result, delta, cpu } = await measure(ctx, pids, () => submitter.run(workflow));
  if (result.status !== 'completed') throw new Error(`${workflow.id} ended ${result.status}`);
  const record = await submitter.engine.get(result.id);
  if (record.progress.completed !== workflow.tasks.length) {
    throw new Error(`${workflow.id}: ${record.progress.completed} of ${workflow.tasks.length} tasks completed`);
  }
  return measured(workflow.tasks.length, result.ms, delta, cpu);
}

function measured(n: number, ms: number, delta: [string, number][], cpu: Record<string, number>): Measured {
  return {
    ms,
    perSecond: (n / ms) * 1000,
    calls: totalCalls(delta) / n,
    scripts: scriptCalls(delta) / n,
    topCalls: delta.slice(0, 8).map(([c, calls]) => [c, Math.round((calls / n) * 100) / 100]),
    cpuMs: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Math.round(((v * 1000) / n) * 1000) / 1000])),
  };
}

/** Median CPU ms per task for each process over the repetitions. */
function cpuMedians(list: Measured[]): Record<string, number> {
  const names = Object.keys(list[0]?.cpuMs ?? {});
  return Object.fromEntries(names.map((n) => [n, summarize(list.map((m) => m.cpuMs[n] ?? Number.NaN)).median]));
}

function cpuText(cpu: Record<string, number>): string {
  return `${(cpu.redis ?? Number.NaN).toFixed(3)} + ${(cpu.worker ?? Number.NaN).toFixed(3)}`;
}

export const SHAPES = [
  { key: 'wide', label: 'wide 1->2,000->1', make: () => wide(2000), target: 0.5 },
  { key: 'chain', label: 'chain of 200', make: () => chain(200), target: undefined },
  { key: 'random', label: 'random DAG 2,000', make: () => randomDag(2000, RANDOM_SEED), target: 0.5 },
  {
    key: 'limited',
    label: 'wide 1->2,000->1, max_concurrency 50',
    make: () => wideLimited(2000, 50),
    target: undefined,
  },
] as const;

/**
 * Case 1: one worker process each, same concurrency; raw BullMQ jobs/s against orchestrator tasks/s per shape, and
 * Redis calls per task. Shapes and the raw run are interleaved per repetition, so drift hits them alike.
 */
export const throughputCase: BenchCase = {
  key: 'throughput',
  title: 'Throughput ratio',
  async run(ctx) {
    const { redis } = ctx;
    const children: BenchChild[] = [];
    const submitter = await Submitter.create(redis);
    const queue = new Queue('raw', { connection: redis.connect('bench-raw-queue'), prefix: 'raw' });
    const flows = new FlowProducer({ connection: redis.connect('bench-raw-flow'), prefix: 'raw' });
    /**
     * A parent for one raw run's jobs, held in waiting-children by a child delayed for an hour, so that the raw jobs
     * pay what BullMQ's flow structure costs (the engine's task jobs are children of their workflow job).
     */
    const rawParent = async () => {
      const { job } = await flows.add({
        name: 'parent',
        queueName: 'rawparent',
        data: {},
        children: [{ name: 'hold', queueName: 'rawhold', data: {}, opts: { delay: 3_600_000 } }],
      });
      return { id: job.id as string, queue: 'raw:rawparent' };
    };
    try {
      const raw = await startRawWorker(
        redis.settings,
        'raw',
        ctx.concurrency,
        ctx.profileArgs('throughput-raw-worker'),
      );
      children.push(raw);
      const workers = await startOrchWorkers(redis.settings, redis.admin, 1, {
        concurrency: ctx.concurrency,
        nodeArgs: ctx.profileArgs('throughput-worker'),
      });
      children.push(...workers);
      ctx.log('throughput: warm-up');
      await rawRun(ctx, queue, raw, 1000);
      for (const shape of [wide(200), chain(20), randomDag(200, 7)]) await orchRun(ctx, submitter, workers, shape);

      const rawRuns: Measured[] = [];
      const rawFlowRuns: Measured[] = [];
      const runs: Record<string, Measured[]> = Object.fromEntries(SHAPES.map((s) => [s.key, []]));
      for (let rep = 0; rep < ctx.reps; rep++) {
        const r = await rawRun(ctx, queue, raw, RAW_JOBS);
        rawRuns.push(r);
        const f = await rawRun(ctx, queue, raw, RAW_JOBS, { parent: await rawParent() });
        rawFlowRuns.push(f);
        ctx.log(
          `throughput rep ${rep + 1}: raw ${Math.round(r.perSecond)} jobs/s, as children of one parent ${Math.round(f.perSecond)} jobs/s`,
        );
        for (const shape of SHAPES) {
          const m = await orchRun(ctx, submitter, workers, shape.make());
          runs[shape.key]?.push(m);
          ctx.log(
            `throughput rep ${rep + 1}: ${shape.key} ${Math.round(m.perSecond)} tasks/s, ${m.calls.toFixed(1)} calls/task`,
          );
        }
      }

      // Round trips, counted apart from the timed runs (MONITOR slows Redis): what the worker process sends per job.
      const rawTrips = (await workerCommands(redis, () => rawRun(ctx, queue, raw, RAW_JOBS))).commands / RAW_JOBS;
      const trips: Record<string, number> = {};
      for (const shape of SHAPES) {
        const workflow = shape.make();
        const { commands } = await workerCommands(redis, () => orchRun(ctx, submitter, workers, workflow));
        trips[shape.key] = commands / workflow.tasks.length;
      }
      ctx.log(`throughput: worker commands per task ${JSON.stringify(trips)}, raw ${rawTrips.toFixed(2)} per job`);

      const rawRate = summarize(rawRuns.map((r) => r.perSecond));
      const rawCalls = summarize(rawRuns.map((r) => r.calls));
      const flowRate = summarize(rawFlowRuns.map((r) => r.perSecond));
      const flowRatio = (list: Measured[]) =>
        summarize(list.map((m, i) => m.perSecond / (rawFlowRuns[i]?.perSecond ?? Number.NaN)));
      const rows: Row[] = [
        {
          case: '1 raw BullMQ jobs as children of one parent',
          orchestrator: '',
          raw: fmt(flowRate, 'jobs/s'),
          ratio: `${fmt(summarize(rawFlowRuns.map((f, i) => f.perSecond / (rawRuns[i]?.perSecond ?? Number.NaN))), 'x', 2)} of plain`,
          target: '(reference: the flow structure alone)',
        },
        {
          case: '1 throughput ratio to raw children of one parent',
          orchestrator: SHAPES.map(
            (shape) => `${shape.key} ${flowRatio(runs[shape.key] ?? []).median.toFixed(2)}x`,
          ).join(', '),
          raw: '',
          ratio: '',
          target: '(reference)',
        },
      ];
      const data: Record<string, unknown> = {
        concurrency: ctx.concurrency,
        raw: {
          jobs: RAW_JOBS,
          jobsPerSecond: summaryJson(rawRate),
          callsPerJob: summaryJson(rawCalls),
          scriptsPerJob: summaryJson(summarize(rawRuns.map((r) => r.scripts))),
          topCallsPerJob: rawRuns[rawRuns.length - 1]?.topCalls,
          cpuMsPerJob: cpuMedians(rawRuns),
          workerCommandsPerJob: rawTrips,
        },
        rawChildrenOfOneParent: {
          jobsPerSecond: summaryJson(flowRate),
          callsPerJob: summaryJson(summarize(rawFlowRuns.map((r) => r.calls))),
          cpuMsPerJob: cpuMedians(rawFlowRuns),
        },
      };
      for (const shape of SHAPES) {
        const list = runs[shape.key] ?? [];
        const rate = summarize(list.map((m) => m.perSecond));
        // Each repetition's ratio uses the raw rate measured in that same repetition.
        const ratio = summarize(list.map((m, i) => m.perSecond / (rawRuns[i]?.perSecond ?? Number.NaN)));
        const calls = summarize(list.map((m) => m.calls));
        const callRatio = summarize(list.map((m, i) => m.calls / (rawRuns[i]?.calls ?? Number.NaN)));
        rows.push({
          case: `1 throughput ${shape.label}`,
          orchestrator: fmt(rate, 'tasks/s'),
          raw: fmt(rawRate, 'jobs/s'),
          ratio: fmt(ratio, 'x', 2),
          target: shape.target === undefined ? '(none)' : `>= ${shape.target}x`,
          ok: shape.target === undefined ? undefined : ratio.median >= shape.target,
        });
        rows.push({
          case: `1 redis calls/task ${shape.key}`,
          orchestrator: fmt(calls, 'calls', 1),
          raw: fmt(rawCalls, 'calls/job', 1),
          ratio: fmt(callRatio, 'x', 1),
          target: '(report)',
        });
        rows.push({
          case: `1 worker -> redis commands/task ${shape.key}`,
          orchestrator: `${(trips[shape.key] ?? Number.NaN).toFixed(2)} commands`,
          raw: `${rawTrips.toFixed(2)} commands/job (+ its add, sent by the producer)`,
          ratio: `${((trips[shape.key] ?? Number.NaN) / rawTrips).toFixed(1)} x`,
          target: '(report; few)',
        });
        const cpu = cpuMedians(list);
        const rawCpu = cpuMedians(rawRuns);
        const orchCpu = { redis: cpu.redis ?? Number.NaN, worker: cpu.worker ?? Number.NaN };
        rows.push({
          case: `1 cpu ms/task ${shape.key} (redis + worker)`,
          orchestrator: cpuText(orchCpu),
          raw: cpuText(rawCpu),
          // Orchestrator CPU per task over raw's per job. Other load on the machine distorts CPU per task far less
          // than rates, and on a quiet machine where both are CPU-bound its inverse is the throughput ratio.
          ratio: `${((orchCpu.redis + orchCpu.worker) / ((rawCpu.redis ?? 0) + (rawCpu.worker ?? 0))).toFixed(1)} x`,
          target: '(report)',
        });
        data[shape.key] = {
          shape: describeShape(shape.make()),
          tasksPerSecond: summaryJson(rate),
          ms: summaryJson(summarize(list.map((m) => m.ms))),
          ratioToRaw: summaryJson(ratio),
          callsPerTask: summaryJson(calls),
          scriptsPerTask: summaryJson(summarize(list.map((m) => m.scripts))),
          workerCommandsPerTask: trips[shape.key],
          ratioToRawChildren: summaryJson(flowRatio(list)),
          topCallsPerTask: list[list.length - 1]?.topCalls,
          cpuMsPerTask: cpuMedians(list),
        };
      }
      return { rows, data } satisfies CaseResult;
    } finally {
      await queue.close();
      await flows.close();
      await submitter.close();
      await Promise.all(children.map((c) => c.stop()));
    }
  },
};

import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BenchCase, BenchContext, CaseResult } from './bench-case';
import { fmt, summaryJson } from './bench-case';
import { RANDOM_SEED, rawRun } from './case-throughput';
import { type BenchChild, sleep, startOrchWorkers, startRawWorker, withTimeout } from './processes';
import { rssMb, sampleRss } from './rss-sampler';
import { randomDag, wide } from './shapes';
import { summarize } from './stats';
import { Submitter } from './submitter';

const TASKS = 2000;
/** EXECUTION_TTL of this case: short, so expiry is observed within the run (BullMQ's job age follows it). */
const TTL_MS = 2000;
const TARGET_LIVE_BYTES = 2048;
/** "Back to baseline": what is left after cleanup must be under this share of what the run held while live. */
const RESIDUAL_SHARE = 0.05;

/** Waits for keyspace `expired` notifications instead of sleeping through the TTL. */
class ExpiryWatch {
  private readonly expired = new Set<string>();
  private readonly waiters: (() => void)[] = [];

  private constructor(private readonly subscriber: Redis) {}

  static async start(admin: Redis, subscriber: Redis): Promise<ExpiryWatch> {
    await admin.config('SET', 'notify-keyspace-events', 'Ex');
    const watch = new ExpiryWatch(subscriber);
    subscriber.on('message', (_channel: string, key: string) => {
      watch.expired.add(key);
      for (const wake of watch.waiters.splice(0)) wake();
    });
    await subscriber.subscribe('__keyevent@0__:expired');
    return watch;
  }

  async all(keys: string[], timeoutMs: number): Promise<void> {
    const check = async () => {
      while (!keys.every((k) => this.expired.has(k))) await new Promise<void>((r) => this.waiters.push(r));
    };
    await withTimeout(check(), timeoutMs, `expiry of ${keys.join(', ')}`);
  }

  async close(): Promise<void> {
    await this.subscriber.unsubscribe().catch(() => undefined);
  }
}

/** Key name -> pattern: execution ids and task ids become placeholders, so keys group by kind. */
function keyPattern(key: string): string {
  return key
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/<id>\.[^:]+/g, '<id>.<task>');
}

/** Bytes held per key pattern (MEMORY USAGE, exact: SAMPLES 0), biggest first. */
async function memoryByPattern(admin: Redis): Promise<{ pattern: string; keys: number; bytes: number }[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await admin.scan(cursor, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const pipeline = admin.pipeline();
  for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', 0);
  const sizes = (await pipeline.exec()) ?? [];
  const groups = new Map<string, { keys: number; bytes: number }>();
  keys.forEach((key, i) => {
    const pattern = keyPattern(key);
    const group = groups.get(pattern) ?? { keys: 0, bytes: 0 };
    group.keys += 1;
    group.bytes += Number(sizes[i]?.[1] ?? 0);
    groups.set(pattern, group);
  });
  return [...groups.entries()].map(([pattern, g]) => ({ pattern, ...g })).sort((a, b) => b.bytes - a.bytes);
}

interface CostRep {
  baseline: number;
  liveBytesPerTask: number;
  afterTtlBytesPerTask: number;
  afterCleanupBytesPerTask: number;
  peakRssMb: number;
}

/**
 * One run's memory: live (finished, record kept), after its TTL (every execution key expired), and after BullMQ's
 * age-based job removal ran. That removal is lazy: it happens inside moveToFinished of a later job of the same queue,
 * so a small run after the TTL triggers it (and its own keys are then waited out too).
 */
async function costRep(
  ctx: BenchContext,
  submitter: Submitter,
  watch: ExpiryWatch,
  children: BenchChild[],
  inspectLive?: () => Promise<void>,
): Promise<CostRep> {
  const { redis } = ctx;
  const keys = submitter.keys;
  const baseline = await redis.usedMemory();
  const rss = sampleRss(children);
  const run = await submitter.run(randomDag(TASKS, RANDOM_SEED));
  const peakRssMb = rss.stop();
  if (run.status !== 'completed') throw new Error(`cost run ended ${run.status}`);
  const live = await redis.usedMemory();
  await inspectLive?.();
  await watch.all(keys.executionKeys(run.id), TTL_MS + 10_000);
  const afterTtl = await redis.usedMemory();
  // The workflow job finishes a moment after finalize set the TTL: let it age past the limit as well.
  await sleep(250);
  // BullMQ removes at most 1000 aged jobs per completion: 10 task completions clear up to 10,000.
  const trigger = await submitter.run(wide(8));
  await watch.all(keys.executionKeys(trigger.id), TTL_MS + 10_000);
  const afterCleanup = await redis.usedMemory();
  return {
    baseline,
    liveBytesPerTask: (live - baseline) / TASKS,
    afterTtlBytesPerTask: (afterTtl - baseline) / TASKS,
    afterCleanupBytesPerTask: (afterCleanup - baseline) / TASKS,
    peakRssMb,
  };
}

/** Raw BullMQ's bytes per job: TASKS no-op jobs, every one kept after it completed (retention by age only). */
async function rawBytesPerJob(ctx: BenchContext): Promise<number> {
  const worker = await startRawWorker(ctx.redis.settings, 'rawcost', ctx.concurrency);
  const queue = new Queue('rawcost', { connection: ctx.redis.connect('bench-raw-cost'), prefix: 'raw' });
  try {
    // Queue metadata and scripts exist, and the events stream is at its cap, before the baseline (as for the engine).
    await rawRun(ctx, queue, worker, 2 * TASKS, { keep: 'all' });
    const baseline = await ctx.redis.usedMemory();
    await rawRun(ctx, queue, worker, TASKS, { keep: 'all' });
    return ((await ctx.redis.usedMemory()) - baseline) / TASKS;
  } finally {
    await queue.close();
    await worker.stop();
  }
}

/** Case 6: Redis bytes per completed task while live and after TTL cleanup; worker RSS. */
export const costCase: BenchCase = {
  key: 'cost',
  title: 'Cost',
  async run(ctx) {
    const { redis } = ctx;
    const ttl = `${TTL_MS}ms`;
    const children = await startOrchWorkers(redis.settings, redis.admin, 1, {
      concurrency: ctx.concurrency,
      executionTtl: ttl,
    });
    const submitter = await Submitter.create(redis, { executionTtlMs: TTL_MS });
    const watch = await ExpiryWatch.start(redis.admin, await redis.subscriber('bench-expired'));
    try {
      // Warm-up: scripts loaded, queue metadata written, and BullMQ's event streams (capped at ~10,000 entries,
      // never shrunk) filled to their cap, so the measured runs do not count the streams' one-off growth.
      await submitter.run(randomDag(2 * TASKS, 1));
      await costRep(ctx, submitter, watch, children);
      const idleRssMb = rssMb(children);
      const reps: CostRep[] = [];
      let breakdown: { pattern: string; keys: number; bytes: number }[] = [];
      for (let rep = 0; rep < ctx.reps; rep++) {
        // Where the bytes go, on the last repetition (MEMORY USAGE over every key is not free, but it runs after
        // the live figure was taken and before the TTL, so it changes nothing measured).
        const inspect =
          rep === ctx.reps - 1
            ? async () => {
                breakdown = (await memoryByPattern(redis.admin)).slice(0, 15).map((g) => ({
                  ...g,
                  bytesPerTask: Math.round((g.bytes / TASKS) * 10) / 10,
                }));
              }
            : undefined;
        const r = await costRep(ctx, submitter, watch, children, inspect);
        reps.push(r);
        ctx.log(
          `cost rep ${rep + 1}: live ${Math.round(r.liveBytesPerTask)} B/task, after TTL ${Math.round(r.afterTtlBytesPerTask)}, ` +
            `after cleanup ${Math.round(r.afterCleanupBytesPerTask)} B/task, worker peak RSS ${r.peakRssMb.toFixed(0)} MB`,
        );
      }

      // Variant: Redis keeps a hash as a compact listpack only while every value is <= hash-max-listpack-value
      // (64 bytes by default); BullMQ's `opts` and `parent` fields are longer, so each job hash is a full hashtable.
      const listpackDefault = ((await redis.admin.config('GET', 'hash-max-listpack-value')) as string[])[1] ?? '64';
      await redis.admin.config('SET', 'hash-max-listpack-value', '1024');
      const listpack = (await costRep(ctx, submitter, watch, children)).liveBytesPerTask;
      await redis.admin.config('SET', 'hash-max-listpack-value', listpackDefault);

      const rawBytes = await rawBytesPerJob(ctx);
      ctx.log(`cost: listpack variant ${Math.round(listpack)} B/task; raw BullMQ ${Math.round(rawBytes)} B/job`);

      const live = summarize(reps.map((r) => r.liveBytesPerTask));
      const afterTtl = summarize(reps.map((r) => r.afterTtlBytesPerTask));
      const afterCleanup = summarize(reps.map((r) => r.afterCleanupBytesPerTask));
      const peak = summarize(reps.map((r) => r.peakRssMb));
      return {
        rows: [
          {
            case: `6 redis bytes/task live (${TASKS.toLocaleString('en-US')}-task DAG)`,
            orchestrator: fmt(live, 'B'),
            raw: `${Math.round(rawBytes)} B/job kept`,
            ratio: `${(live.median / rawBytes).toFixed(1)} x`,
            target: `<= ${TARGET_LIVE_BYTES} B`,
            ok: live.median <= TARGET_LIVE_BYTES,
          },
          {
            case: '6 redis bytes/task live, hash-max-listpack-value 1024',
            orchestrator: `${Math.round(listpack)} B`,
            raw: '',
            ratio: `${(listpack / live.median).toFixed(2)} x of default`,
            target: '(what-if: Redis config)',
          },
          {
            case: '6 redis bytes/task after execution keys expired',
            orchestrator: fmt(afterTtl, 'B'),
            raw: '',
            ratio: `${fmt(summarize(reps.map((r) => r.afterTtlBytesPerTask / r.liveBytesPerTask)), 'x', 2)} of live`,
            target: '(report)',
          },
          {
            case: '6 redis bytes/task after BullMQ age cleanup',
            orchestrator: fmt(afterCleanup, 'B'),
            raw: '',
            ratio: `${fmt(summarize(reps.map((r) => r.afterCleanupBytesPerTask / r.liveBytesPerTask)), 'x', 3)} of live`,
            target: `baseline (< ${RESIDUAL_SHARE * 100}% of live)`,
            ok: afterCleanup.median < live.median * RESIDUAL_SHARE,
          },
          {
            case: '6 worker RSS idle / peak during run',
            orchestrator: `${idleRssMb.toFixed(0)} MB / ${fmt(peak, 'MB', 0)}`,
            raw: '',
            ratio: '',
            target: '(report)',
          },
        ],
        data: {
          tasks: TASKS,
          executionTtlMs: TTL_MS,
          liveBytesPerTask: summaryJson(live),
          afterTtlBytesPerTask: summaryJson(afterTtl),
          afterCleanupBytesPerTask: summaryJson(afterCleanup),
          idleRssMb: Math.round(idleRssMb),
          peakRssMb: summaryJson(peak),
          liveBreakdown: breakdown,
          liveBytesPerTaskListpack1024: Math.round(listpack),
          rawBullmqBytesPerJob: Math.round(rawBytes),
          reps,
        },
      } satisfies CaseResult;
    } finally {
      await watch.close();
      await submitter.close();
      await Promise.all(children.map((c) => c.stop()));
      await redis.admin.config('SET', 'notify-keyspace-events', '');
    }
  },
};

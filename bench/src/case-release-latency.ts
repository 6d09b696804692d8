import type { BenchCase, CaseResult } from './bench-case';
import { fmt, summaryJson } from './bench-case';
import { type BenchChild, startOrchWorkers } from './processes';
import { chain } from './shapes';
import { percentiles, summarize } from './stats';
import { Submitter } from './submitter';

/** Edges per repetition: one chain of SAMPLES + 1 tasks gives SAMPLES dependency -> dependent hand-overs. */
export const SAMPLES = 2000;

export interface ReleaseSamples {
  /** Stream-id based: Redis's clock when `task.completed` was appended to when `task.started` was. */
  byStreamId: number[];
  /** `at` based: the worker's clock passed to the same two scripts. */
  byAt: number[];
}

/**
 * Reads a finished chain's event stream and pairs each task's `task.completed` with its successor's `task.started`.
 * Both entries are written by Lua scripts (complete-task, start-task), so the stream id's millisecond part is the
 * moment each was recorded on the Redis clock: no clock skew between processes.
 */
export async function releaseSamples(submitter: Submitter, id: string, length: number): Promise<ReleaseSamples> {
  const completed = new Map<string, [number, number]>();
  const started = new Map<string, [number, number]>();
  const key = submitter.keys.events(id);
  let after = '-';
  for (;;) {
    const page = await submitter.connection.xrange(key, after, '+', 'COUNT', 5000);
    for (const [entryId, fields] of page) {
      const map: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) map[fields[i] as string] = fields[i + 1] as string;
      const ms = Number(entryId.slice(0, entryId.indexOf('-')));
      if (!map.task) continue;
      if (map.type === 'task.completed') completed.set(map.task, [ms, Number(map.at)]);
      // The first start of an attempt counts; a chain task has exactly one.
      if (map.type === 'task.started' && !started.has(map.task)) started.set(map.task, [ms, Number(map.at)]);
    }
    if (page.length < 5000) break;
    after = `(${(page[page.length - 1] as [string, string[]])[0]}`;
  }
  const samples: ReleaseSamples = { byStreamId: [], byAt: [] };
  for (let i = 1; i < length; i++) {
    const done = completed.get(`c${i - 1}`);
    const start = started.get(`c${i}`);
    if (!done || !start) throw new Error(`chain ${id}: no events for c${i - 1} -> c${i}`);
    samples.byStreamId.push(start[0] - done[0]);
    samples.byAt.push(start[1] - done[1]);
  }
  return samples;
}

/** Case 2: dependency release latency on an otherwise idle worker, from a chain's event stream. */
export const releaseLatencyCase: BenchCase = {
  key: 'release',
  title: 'Dependency release latency',
  async run(ctx) {
    const children: BenchChild[] = [];
    const submitter = await Submitter.create(ctx.redis);
    try {
      children.push(
        ...(await startOrchWorkers(ctx.redis.settings, ctx.redis.admin, 1, { concurrency: ctx.concurrency })),
      );
      await submitter.run(chain(50)); // warm-up: JIT and script cache
      const p50: number[] = [];
      const p99: number[] = [];
      const p50At: number[] = [];
      const p99At: number[] = [];
      const max: number[] = [];
      for (let rep = 0; rep < ctx.reps; rep++) {
        const { id, status } = await submitter.run(chain(SAMPLES + 1));
        if (status !== 'completed') throw new Error(`chain ended ${status}`);
        const samples = await releaseSamples(submitter, id, SAMPLES + 1);
        const [a = 0, b = 0, c = 0] = percentiles(samples.byStreamId, [50, 99, 100]);
        const [d = 0, e = 0] = percentiles(samples.byAt, [50, 99]);
        p50.push(a);
        p99.push(b);
        max.push(c);
        p50At.push(d);
        p99At.push(e);
        ctx.log(`release rep ${rep + 1}: p50 ${a} ms, p99 ${b} ms, max ${c} ms (${samples.byStreamId.length} samples)`);
      }
      const s50 = summarize(p50);
      const s99 = summarize(p99);
      return {
        rows: [
          {
            case: '2 release latency p50',
            orchestrator: fmt(s50, 'ms'),
            raw: '',
            ratio: '',
            target: '<= 3 ms',
            ok: s50.median <= 3,
          },
          {
            case: '2 release latency p99',
            orchestrator: fmt(s99, 'ms'),
            raw: '',
            ratio: '',
            target: '<= 15 ms',
            ok: s99.median <= 15,
          },
        ],
        data: {
          samplesPerRep: SAMPLES,
          method: 'chain; started(dependent) - completed(dependency), stream entry id ms (Redis clock)',
          p50: summaryJson(s50),
          p99: summaryJson(s99),
          max: summaryJson(summarize(max)),
          workerClock: { p50: summaryJson(summarize(p50At)), p99: summaryJson(summarize(p99At)) },
        },
      } satisfies CaseResult;
    } finally {
      await submitter.close();
      await Promise.all(children.map((c) => c.stop()));
    }
  },
};

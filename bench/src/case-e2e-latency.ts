import type { BenchCase, CaseResult, Row } from './bench-case';
import { fmt, skippedRow, summaryJson } from './bench-case';
import { closeHttp, postJson } from './http-client';
import { type ApiProcess, type BenchChild, startApi, startOrchWorkers } from './processes';
import { chain } from './shapes';
import { percentiles, summarize } from './stats';
import { Submitter } from './submitter';
import { writeTemplates } from './templates-dir';

/** Sequential runs per repetition. */
export const RUNS = 200;
const WARMUP = 20;
const TARGET_P50_MS = 15;

interface Latencies {
  p50: number[];
  p99: number[];
}

/**
 * Runs `one` RUNS times, one at a time, and keeps each repetition's p50/p99. `one` resolves with the latency of a
 * single run: submit to the run's message on the finished channel, which the bench is subscribed to before
 * submitting (no polling, and a run that ends before its submit returns is not missed).
 */
async function repeat(
  reps: number,
  one: () => Promise<number>,
  log: (m: string) => void,
  label: string,
): Promise<Latencies> {
  for (let i = 0; i < WARMUP; i++) await one();
  const out: Latencies = { p50: [], p99: [] };
  for (let rep = 0; rep < reps; rep++) {
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) samples.push(await one());
    const [p50 = 0, p99 = 0] = percentiles(samples, [50, 99]);
    out.p50.push(p50);
    out.p99.push(p99);
    log(`e2e ${label} rep ${rep + 1}: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
  }
  return out;
}

function rows(label: string, l: Latencies, target: boolean): Row[] {
  const s50 = summarize(l.p50);
  const s99 = summarize(l.p99);
  return [
    {
      case: `3 e2e 2-task chain ${label} p50`,
      orchestrator: fmt(s50, 'ms'),
      raw: '',
      ratio: '',
      target: target ? `<= ${TARGET_P50_MS} ms` : '(reference)',
      ok: target ? s50.median <= TARGET_P50_MS : undefined,
    },
    { case: `3 e2e 2-task chain ${label} p99`, orchestrator: fmt(s99, 'ms'), raw: '', ratio: '', target: '(report)' },
  ];
}

/**
 * Case 3: submit -> completed of a 2-task chain, one run at a time, over HTTP (the target) and, as a reference that
 * separates the API's share, through the engine's submit in the bench process.
 */
export const e2eLatencyCase: BenchCase = {
  key: 'e2e',
  title: 'End-to-end latency',
  async run(ctx) {
    const children: BenchChild[] = [];
    const submitter = await Submitter.create(ctx.redis);
    const templates = writeTemplates();
    try {
      children.push(
        ...(await startOrchWorkers(ctx.redis.settings, ctx.redis.admin, 1, { concurrency: ctx.concurrency })),
      );
      const workflow = chain(2);
      const data: Record<string, unknown> = { runsPerRep: RUNS, workflow: 'c0 -> c1 (transform)' };
      const out: Row[] = [];

      const api: ApiProcess | undefined = await startApi(ctx.redis.settings, {
        templatesDir: templates.dir,
        maxConcurrentWorkflows: 1_000_000,
      });
      if (api) {
        children.push(api);
        const http = await repeat(
          ctx.reps,
          async () => {
            const start = Date.now();
            const res = await postJson(api.baseUrl, '/api/v1/workflows', { workflow });
            const id = (res.body as { execution_id?: string }).execution_id;
            if (res.status !== 202 || !id)
              throw new Error(`POST /api/v1/workflows: ${res.status} ${JSON.stringify(res.body)}`);
            const end = await submitter.finished(id);
            if (end.status !== 'completed') throw new Error(`run ${id} ended ${end.status}`);
            return end.at - start;
          },
          ctx.log,
          'http',
        );
        out.push(...rows('over HTTP', http, true));
        data.http = { p50: summaryJson(summarize(http.p50)), p99: summaryJson(summarize(http.p99)) };
      } else {
        out.push(skippedRow('3 e2e 2-task chain over HTTP p50', 'API not built', `<= ${TARGET_P50_MS} ms`));
        data.http = 'skipped: API not built';
      }

      const direct = await repeat(
        ctx.reps,
        async () => {
          const r = await submitter.run(workflow);
          if (r.status !== 'completed') throw new Error(`run ${r.id} ended ${r.status}`);
          return r.ms;
        },
        ctx.log,
        'engine.submit',
      );
      out.push(...rows('via engine.submit (no HTTP)', direct, false));
      data.engineSubmit = { p50: summaryJson(summarize(direct.p50)), p99: summaryJson(summarize(direct.p99)) };
      return { rows: out, data } satisfies CaseResult;
    } finally {
      closeHttp();
      templates.remove();
      await submitter.close();
      await Promise.all(children.map((c) => c.stop()));
    }
  },
};

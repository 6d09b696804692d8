import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BenchCase, BenchContext, CaseResult, Row } from './bench-case';
import { fmt, skippedRow, summaryJson } from './bench-case';
import { cpuMeter } from './cpu';
import { closeHttp, postJson } from './http-client';
import { type BenchChild, startApi, startOrchWorkers } from './processes';
import { chain, wide } from './shapes';
import { percentiles, type Summary, summarize } from './stats';
import { Submitter } from './submitter';
import { writeTemplates } from './templates-dir';

/** Sequential HTTP runs per repetition for the latency figure, and runs of wide(10) per throughput repetition. */
const LATENCY_RUNS = 100;
const THROUGHPUT_RUNS = 200;
const WIDTH = 10;
const WARMUP = 10;

/** A stand-in OTLP/HTTP collector on loopback: answers 200 and counts the spans it is sent. */
async function startSink(): Promise<{ url: string; spans: () => number; close: () => Promise<void> }> {
  let spans = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      spans += Buffer.concat(chunks).toString().split('"spanId"').length - 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface ModeResult {
  p50: Summary;
  tasksPerSecond: Summary;
  cpuUsPerTask: Summary;
}

/** One repetition of one mode: a worker and the API with `env`, e2e latency over HTTP, then throughput. */
async function measureOnce(
  ctx: BenchContext,
  label: string,
  env: Record<string, string>,
): Promise<{ p50: number; tasksPerSecond: number; cpuUsPerTask: number } | undefined> {
  const children: BenchChild[] = [];
  const submitter = await Submitter.create(ctx.redis);
  const templates = writeTemplates();
  try {
    children.push(
      ...(await startOrchWorkers(ctx.redis.settings, ctx.redis.admin, 1, {
        concurrency: ctx.concurrency,
        env,
        nodeArgs: ctx.profileArgs(`tracing-${label.replace(/ /g, '-')}-worker`),
      })),
    );
    const api = await startApi(ctx.redis.settings, {
      templatesDir: templates.dir,
      maxConcurrentWorkflows: 1_000_000,
      env,
    });
    if (!api) return undefined;
    children.push(api);
    const one = async () => {
      const start = Date.now();
      const res = await postJson(api.baseUrl, '/api/v1/workflows', { workflow: chain(2) });
      const id = (res.body as { execution_id?: string }).execution_id;
      if (res.status !== 202 || !id)
        throw new Error(`POST /api/v1/workflows: ${res.status} ${JSON.stringify(res.body)}`);
      const end = await submitter.finished(id);
      if (end.status !== 'completed') throw new Error(`run ${id} ended ${end.status}`);
      return end.at - start;
    };
    for (let i = 0; i < WARMUP; i++) await one();
    const samples: number[] = [];
    for (let i = 0; i < LATENCY_RUNS; i++) samples.push(await one());
    const p50 = percentiles(samples, [50])[0] ?? 0;
    // The worker's CPU per task is steadier than wall time on a shared machine: other processes do not add to it.
    const meter = await cpuMeter(ctx.redis, { worker: children[0]?.pid as number });
    const tasksPerSecond = await throughput(submitter);
    const cpuUsPerTask = (((await meter.stop()).worker ?? 0) * 1e6) / (THROUGHPUT_RUNS * (WIDTH + 2));
    ctx.log(
      `tracing ${label}: e2e p50 ${p50.toFixed(1)} ms, ${tasksPerSecond.toFixed(0)} tasks/s, worker ${cpuUsPerTask.toFixed(0)} us CPU/task`,
    );
    return { p50, tasksPerSecond, cpuUsPerTask };
  } finally {
    closeHttp();
    templates.remove();
    await submitter.close();
    await Promise.all(children.map((c) => c.stop()));
  }
}

/**
 * Every repetition runs each mode in turn, on fresh processes and an empty Redis, so the order and the drift of a
 * shared machine weigh on all modes alike.
 */
async function measureModes(
  ctx: BenchContext,
  modes: Record<string, Record<string, string>>,
): Promise<Record<string, ModeResult> | undefined> {
  const figures: Record<string, { p50: number[]; rates: number[]; cpu: number[] }> = {};
  for (let rep = 0; rep < ctx.reps; rep++) {
    for (const [label, env] of Object.entries(modes)) {
      await ctx.redis.admin.flushall();
      const once = await measureOnce(ctx, `${label} rep ${rep + 1}`, env);
      if (!once) return undefined;
      figures[label] ??= { p50: [], rates: [], cpu: [] };
      const kept = figures[label];
      kept.p50.push(once.p50);
      kept.rates.push(once.tasksPerSecond);
      kept.cpu.push(once.cpuUsPerTask);
    }
  }
  return Object.fromEntries(
    Object.entries(figures).map(([label, f]) => [
      label,
      { p50: summarize(f.p50), tasksPerSecond: summarize(f.rates), cpuUsPerTask: summarize(f.cpu) },
    ]),
  );
}

/** THROUGHPUT_RUNS runs of wide(WIDTH) submitted at once; tasks per second until the last one finished. */
async function throughput(submitter: Submitter): Promise<number> {
  let left = THROUGHPUT_RUNS;
  const done = new Promise<void>((resolve) =>
    submitter.onEveryFinished(() => {
      if (--left === 0) resolve();
    }),
  );
  const start = Date.now();
  await Promise.all(Array.from({ length: THROUGHPUT_RUNS }, () => submitter.submit(wide(WIDTH))));
  await done;
  submitter.onEveryFinished(undefined);
  return (THROUGHPUT_RUNS * (WIDTH + 2) * 1000) / (Date.now() - start);
}

/**
 * What tracing costs: the same worker and API with tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT: nothing started)
 * and on (every span exported to a collector stand-in on loopback, sampler always_on).
 */
export const tracingCase: BenchCase = {
  key: 'tracing',
  title: 'Tracing off vs on',
  async run(ctx) {
    const sink = await startSink();
    try {
      const modes = await measureModes(ctx, {
        off: {},
        on: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: 'always_on' },
      });
      const { off, on } = modes ?? {};
      if (!off || !on)
        return { rows: [skippedRow('tracing off vs on', 'API not built')], data: {} } satisfies CaseResult;
      const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
      const rows: Row[] = [
        {
          case: 'tracing e2e 2-task chain p50, off',
          orchestrator: fmt(off.p50, 'ms'),
          raw: '',
          ratio: '',
          target: '(reference)',
        },
        {
          case: 'tracing e2e 2-task chain p50, on',
          orchestrator: fmt(on.p50, 'ms'),
          raw: '',
          ratio: ratio(on.p50.median, off.p50.median),
          target: '(report)',
        },
        {
          case: `tracing wide(${WIDTH}) tasks/s, off`,
          orchestrator: fmt(off.tasksPerSecond),
          raw: '',
          ratio: '',
          target: '(reference)',
        },
        {
          case: `tracing wide(${WIDTH}) tasks/s, on`,
          orchestrator: fmt(on.tasksPerSecond),
          raw: '',
          ratio: ratio(on.tasksPerSecond.median, off.tasksPerSecond.median),
          target: '(report)',
        },
        {
          case: `tracing worker CPU per task, off`,
          orchestrator: fmt(off.cpuUsPerTask, 'us'),
          raw: '',
          ratio: '',
          target: '(reference)',
        },
        {
          case: `tracing worker CPU per task, on`,
          orchestrator: fmt(on.cpuUsPerTask, 'us'),
          raw: '',
          ratio: ratio(on.cpuUsPerTask.median, off.cpuUsPerTask.median),
          target: '(report)',
        },
      ];
      const data = {
        latencyRunsPerRep: LATENCY_RUNS,
        throughputRunsPerRep: THROUGHPUT_RUNS,
        ...Object.fromEntries(
          Object.entries({ off, on }).map(([mode, r]) => [
            mode,
            {
              p50: summaryJson(r.p50),
              tasksPerSecond: summaryJson(r.tasksPerSecond),
              cpuUsPerTask: summaryJson(r.cpuUsPerTask),
            },
          ]),
        ),
        spansExported: sink.spans(),
      };
      return { rows, data } satisfies CaseResult;
    } finally {
      await sink.close();
    }
  },
};

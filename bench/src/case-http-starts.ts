import { prepareFromTemplate, type TemplateDefinition } from '@orch/core';
import autocannon from 'autocannon';
import type { BenchCase, BenchContext, CaseResult, Row } from './bench-case';
import { fmt, skippedRow, summaryJson } from './bench-case';
import { callDelta, totalCalls } from './bench-redis';
import { cpuMeter } from './cpu';
import { type ApiProcess, type BenchChild, sleep, startApi, startOrchWorkers } from './processes';
import { fiveTaskTemplate } from './shapes';
import { percentiles, summarize } from './stats';
import { Submitter } from './submitter';
import { writeTemplates } from './templates-dir';

const CONNECTIONS = 50;
/** Window of the full case (API and worker running). */
const WINDOW_S = 5;
/** Window of the API-only and engine-only variants: no backlog is drained, so they can be short. */
const SHORT_WINDOW_S = 3;
/** How long a repetition may take to finish its backlog before the next one starts anyway. */
const DRAIN_CAP_MS = 30_000;
const TARGET_STARTS = 1000;
const TARGET_P99_MS = 100;
/** A fixed start rate is kept up with when this share of its runs finish inside the window... */
const KEEP_UP_SHARE = 0.95;
/** ...and the rest within this long after it. */
const KEEP_UP_DRAIN_MS = 1000;
/** Fixed-rate trials of the sustained-rate search, at most. */
const MAX_TRIALS = 6;

interface Rep {
  startsPerSecond: number;
  p50: number;
  p99: number;
  finishedPerSecond: number;
  accepted: number;
  non2xx: number;
  errors: number;
  drainMs: number;
  drained: boolean;
  /** Average cores each process used during the window (the bench process runs autocannon). */
  cores: Record<string, number>;
  /** API CPU milliseconds per accepted request. */
  apiCpuMsPerStart: number;
  /** Runs per second the worker finished while clearing the backlog, with no new requests coming in. */
  drainRunsPerSecond: number;
}

/** One fixed-rate trial of the sustained-rate search. */
interface Trial {
  rate: number;
  startsPerSecond: number;
  finishedShare: number;
  p99: number;
  drainMs: number;
  keptUp: boolean;
}

interface Window {
  startsPerSecond: number;
  p99: number;
  cpuMsPerStart: number;
  callsPerStart: number;
  non2xx: number;
}

/** Requests as fast as `connections` allow, or at `overallRate` requests per second in all. */
const fire = (api: ApiProcess, connections: number, duration: number, overallRate?: number) =>
  autocannon({
    url: `${api.baseUrl}/api/v1/workflows`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workflow_template: 'bench-five', variables: {} }),
    connections,
    duration,
    ...(overallRate ? { overallRate } : {}),
  });

/**
 * The engine's submit alone, in the bench process, with no worker running: 50 concurrent callers, each submitting
 * the same 5-task template one run after another. What the API could reach if HTTP and Express cost nothing.
 */
async function engineOnly(ctx: BenchContext, submitter: Submitter): Promise<Window> {
  const template = fiveTaskTemplate() as TemplateDefinition;
  const latencies: number[] = [];
  const before = await ctx.redis.commandCalls();
  const meter = await cpuMeter(ctx.redis, {});
  const until = Date.now() + SHORT_WINDOW_S * 1000;
  const start = Date.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < until) {
        const t = Date.now();
        await submitter.engine.submit(prepareFromTemplate(template, {}));
        latencies.push(Date.now() - t);
      }
    }),
  );
  const seconds = (Date.now() - start) / 1000;
  const cpu = await meter.stop();
  const calls = totalCalls(callDelta(before, await ctx.redis.commandCalls())) - 3;
  return {
    startsPerSecond: latencies.length / seconds,
    p99: percentiles(latencies, [99])[0] ?? Number.NaN,
    cpuMsPerStart: ((cpu.bench ?? 0) * 1000) / latencies.length,
    callsPerStart: calls / latencies.length,
    non2xx: 0,
  };
}

/** The API with no worker running, so the API and Redis have the machine to themselves. */
async function apiOnly(ctx: BenchContext, api: ApiProcess): Promise<Window> {
  const before = await ctx.redis.commandCalls();
  const meter = await cpuMeter(ctx.redis, { api: api.pid });
  const result = await fire(api, CONNECTIONS, SHORT_WINDOW_S);
  const cpu = await meter.stop();
  const calls = totalCalls(callDelta(before, await ctx.redis.commandCalls())) - 3;
  const accepted = Math.max(1, result['2xx']);
  return {
    startsPerSecond: result['2xx'] / result.duration,
    p99: result.latency.p99,
    cpuMsPerStart: ((cpu.api ?? 0) * 1000) / accepted,
    callsPerStart: calls / accepted,
    non2xx: result.non2xx + result.errors,
  };
}

function windowRows(label: string, windows: Window[], who: string): Row[] {
  const starts = summarize(windows.map((w) => w.startsPerSecond));
  const p99 = summarize(windows.map((w) => w.p99));
  return [
    {
      case: `4 starts/s ${label}`,
      orchestrator: `${fmt(starts, '/s')}, p99 ${fmt(p99, 'ms')}`,
      raw: '',
      ratio: '',
      target: '(diagnostic)',
    },
    {
      case: `4 cost per start ${label}`,
      orchestrator:
        `${fmt(summarize(windows.map((w) => w.cpuMsPerStart)), 'ms', 2)} ${who} CPU, ` +
        `${fmt(summarize(windows.map((w) => w.callsPerStart)), 'redis calls', 0)}`,
      raw: '',
      ratio: '',
      target: '(diagnostic)',
    },
  ];
}

/**
 * Case 4: autocannon with 50 connections against `POST /api/v1/workflows` (the 5-task catalog template) while a
 * worker runs the started workflows, and whether it keeps up: runs finished per second in the same window, then how
 * long the backlog took to clear. Two diagnostics first split the cost: the engine's submit alone, and the API alone.
 */
export const httpStartsCase: BenchCase = {
  key: 'starts',
  title: 'Workflow starts per second over HTTP',
  async run(ctx) {
    const children: BenchChild[] = [];
    // The admission limit would park most runs in the pending list (a cheaper path); set it high everywhere so
    // every accepted request is a started run.
    const submitter = await Submitter.create(ctx.redis, { maxConcurrentWorkflows: 1_000_000 });
    const templates = writeTemplates();
    try {
      const rows: Row[] = [];
      const data: Record<string, unknown> = { connections: CONNECTIONS, windowSeconds: WINDOW_S };

      const direct: Window[] = [];
      for (let rep = 0; rep < ctx.reps; rep++) {
        direct.push(await engineOnly(ctx, submitter));
        await ctx.redis.admin.flushall(); // nothing runs them: drop the backlog
        ctx.log(`starts engine-only rep ${rep + 1}: ${Math.round(direct[rep]?.startsPerSecond ?? 0)}/s`);
      }
      rows.push(...windowRows('engine.submit only (no HTTP, no worker)', direct, 'submitter'));
      data.engineOnly = direct;

      const api = await startApi(ctx.redis.settings, {
        templatesDir: templates.dir,
        maxConcurrentWorkflows: 1_000_000,
        nodeArgs: ctx.profileArgs('starts-api'),
        // What a start costs, so no admission: the API-only windows run with no worker and would be held.
        env: { ORCHESTRATOR_BACKLOG_HIGH_WATER: '0' },
      });
      if (!api) {
        rows.push(
          skippedRow('4 workflow starts/s over HTTP', 'API not built', `>= ${TARGET_STARTS}/s`),
          skippedRow('4 submit p99 response time', 'API not built', `< ${TARGET_P99_MS} ms`),
          skippedRow('4 runs finished/s in the same window', 'API not built', 'keeps up (>= 0.95x)'),
        );
        return { rows, data: { ...data, http: 'skipped: API not built' } };
      }
      children.push(api);

      await fire(api, 10, 1); // warm-up: JIT, connections
      await ctx.redis.admin.flushall();
      const alone: Window[] = [];
      for (let rep = 0; rep < ctx.reps; rep++) {
        alone.push(await apiOnly(ctx, api));
        await ctx.redis.admin.flushall();
        ctx.log(
          `starts api-only rep ${rep + 1}: ${Math.round(alone[rep]?.startsPerSecond ?? 0)}/s, p99 ${alone[rep]?.p99} ms`,
        );
      }
      rows.push(...windowRows('API only (no worker)', alone, 'API'));
      data.apiOnly = alone;

      const workers = await startOrchWorkers(ctx.redis.settings, ctx.redis.admin, 1, {
        concurrency: ctx.concurrency,
        nodeArgs: ctx.profileArgs('starts-worker'),
      });
      children.push(...workers);
      const finishedAt: number[] = [];
      submitter.onEveryFinished((_id, f) => finishedAt.push(f.at));
      const drain = async (expected: number): Promise<{ ms: number; drained: boolean }> => {
        const start = Date.now();
        while (finishedAt.length < expected && Date.now() - start < DRAIN_CAP_MS) await sleep(50);
        return { ms: Date.now() - start, drained: finishedAt.length >= expected };
      };
      const warm = await fire(api, 10, 1);
      await drain(warm['2xx']);

      const reps: Rep[] = [];
      for (let rep = 0; rep < ctx.reps; rep++) {
        const before = finishedAt.length;
        const meter = await cpuMeter(ctx.redis, { api: api.pid, worker: workers[0]?.pid ?? 0 });
        const result = await fire(api, CONNECTIONS, WINDOW_S);
        const cpu = await meter.stop();
        const from = result.start.getTime();
        const to = result.finish.getTime();
        const seconds = (to - from) / 1000;
        const inWindow = finishedAt.slice(before).filter((at) => at >= from && at <= to).length;
        const backlog = before + result['2xx'] - finishedAt.length;
        const { ms, drained } = await drain(before + result['2xx']);
        const r: Rep = {
          startsPerSecond: result['2xx'] / seconds,
          p50: result.latency.p50,
          p99: result.latency.p99,
          finishedPerSecond: inWindow / seconds,
          accepted: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          drainMs: ms,
          drained,
          cores: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Math.round((v / seconds) * 100) / 100])),
          apiCpuMsPerStart: Math.round(((cpu.api ?? 0) * 1000 * 100) / Math.max(1, result['2xx'])) / 100,
          drainRunsPerSecond: Math.round((backlog / Math.max(1, ms)) * 1000),
        };
        reps.push(r);
        ctx.log(
          `starts rep ${rep + 1}: ${Math.round(r.startsPerSecond)}/s, p99 ${r.p99} ms, finished ${Math.round(r.finishedPerSecond)}/s, ` +
            `backlog cleared in ${ms} ms${drained ? '' : ' (NOT drained)'}, non-2xx ${r.non2xx}, errors ${r.errors}, ` +
            `cores ${JSON.stringify(r.cores)}`,
        );
      }
      // The highest fixed start rate the worker keeps up with while the API shares the machine: start from 40% of
      // the rate at which it cleared the backlog alone, go up by a quarter while it keeps up, down while it does not.
      const drainRate = summarize(reps.map((r) => r.drainRunsPerSecond));
      const trial = async (rate: number): Promise<Trial> => {
        const before = finishedAt.length;
        const result = await fire(api, CONNECTIONS, WINDOW_S, rate);
        const from = result.start.getTime();
        const to = result.finish.getTime();
        const inWindow = finishedAt.slice(before).filter((at) => at >= from && at <= to).length;
        const { ms } = await drain(before + result['2xx']);
        const accepted = Math.max(1, result['2xx']);
        const t: Trial = {
          rate,
          startsPerSecond: Math.round(result['2xx'] / ((to - from) / 1000)),
          finishedShare: Math.round((inWindow / accepted) * 100) / 100,
          p99: result.latency.p99,
          drainMs: ms,
          keptUp: inWindow / accepted >= KEEP_UP_SHARE && ms <= KEEP_UP_DRAIN_MS && result.non2xx === 0,
        };
        ctx.log(
          `starts at a fixed ${rate}/s: ${t.startsPerSecond}/s, ${t.finishedShare}x finished in the window, ` +
            `rest in ${ms} ms, p99 ${t.p99} ms: ${t.keptUp ? 'kept up' : 'fell behind'}`,
        );
        return t;
      };
      const trials: Trial[] = [];
      let rate = Math.max(50, Math.round((drainRate.median * 0.4) / 50) * 50);
      for (let i = 0; i < MAX_TRIALS; i++) {
        const t = await trial(rate);
        trials.push(t);
        const kept = trials.filter((x) => x.keptUp);
        const failed = trials.filter((x) => !x.keptUp);
        const best = Math.max(0, ...kept.map((x) => x.rate));
        const worst = Math.min(Number.POSITIVE_INFINITY, ...failed.map((x) => x.rate));
        if (best > 0 && worst <= best * 1.25) break; // bracketed to within a quarter
        rate = t.keptUp ? Math.round(rate * 1.25) : Math.round(rate * 0.75);
        if (t.keptUp && rate >= worst) break;
      }
      const sustained = trials.filter((t) => t.keptUp).sort((a, b) => b.rate - a.rate)[0];

      const starts = summarize(reps.map((r) => r.startsPerSecond));
      const p99 = summarize(reps.map((r) => r.p99));
      const finished = summarize(reps.map((r) => r.finishedPerSecond));
      const keepUp = summarize(reps.map((r) => r.finishedPerSecond / r.startsPerSecond));
      const failures = reps.reduce((n, r) => n + r.non2xx + r.errors, 0);
      rows.push(
        {
          case: '4 workflow starts/s over HTTP (5 tasks, 50 conns)',
          orchestrator: fmt(starts, '/s'),
          raw: '',
          ratio: '',
          target: `>= ${TARGET_STARTS}/s`,
          ok: starts.median >= TARGET_STARTS && failures === 0,
        },
        {
          case: '4 submit p99 response time',
          orchestrator: fmt(p99, 'ms'),
          raw: '',
          ratio: '',
          target: `< ${TARGET_P99_MS} ms`,
          ok: p99.median < TARGET_P99_MS,
        },
        {
          case: '4 runs finished/s in the same window',
          orchestrator: fmt(finished, '/s'),
          raw: '',
          ratio: `${fmt(keepUp, 'x', 2)} of starts`,
          target: 'keeps up (>= 0.95x)',
          ok: keepUp.median >= 0.95,
        },
        {
          case: '4 backlog cleared by the worker alone',
          orchestrator: `${fmt(drainRate, 'runs/s', 0)} (${Math.round(drainRate.median * 5)} tasks/s)`,
          raw: '',
          ratio: '',
          target: '(report)',
        },
        {
          case: '4 highest fixed start rate the worker keeps up with',
          orchestrator: sustained
            ? `${sustained.rate}/s: ${sustained.finishedShare}x finished in the window, p99 ${sustained.p99} ms`
            : `none of ${trials.map((t) => t.rate).join(', ')}/s`,
          raw: '',
          ratio: '',
          target: '(report; API and worker share 2 cores)',
        },
        {
          case: '4 cores used in the window (api/worker/redis/bench)',
          orchestrator: ['api', 'worker', 'redis', 'bench']
            .map((k) => summarize(reps.map((r) => r.cores[k] ?? Number.NaN)).median.toFixed(2))
            .join(' / '),
          raw: '',
          ratio: '',
          target: '(report; 2 cores total)',
        },
      );
      return {
        rows,
        data: {
          ...data,
          startsPerSecond: summaryJson(starts),
          p99Ms: summaryJson(p99),
          p50Ms: summaryJson(summarize(reps.map((r) => r.p50))),
          finishedPerSecond: summaryJson(finished),
          drainRunsPerSecond: summaryJson(drainRate),
          sustained: sustained ?? null,
          trials,
          reps,
        },
      } satisfies CaseResult;
    } finally {
      submitter.onEveryFinished(undefined);
      templates.remove();
      await submitter.close();
      await Promise.all(children.map((c) => c.stop()));
    }
  },
};

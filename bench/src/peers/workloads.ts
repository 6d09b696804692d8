import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { sleep } from '../processes';
import { percentiles } from '../stats';
import { cpuSnapshot } from './load';
import type { CompletionCounter, RunningSystem, Variant } from './system';

/** How big each workload is; `--quick` shrinks everything to a smoke run. */
export interface Sizes {
  latencyWarmup: number;
  latencyRuns: number;
  diamondClients: number;
  diamondWarmupMs: number;
  diamondWindowMs: number;
  fanoutWidth: number;
  fanoutRuns: number;
  flatSeconds: number;
  flatConnections: number;
  drainCapMs: number;
}

export const FULL: Sizes = {
  latencyWarmup: 20,
  latencyRuns: 200,
  diamondClients: 20,
  diamondWarmupMs: 1000,
  diamondWindowMs: 5000,
  fanoutWidth: 1000,
  fanoutRuns: 3,
  flatSeconds: 20,
  flatConnections: 50,
  drainCapMs: 120_000,
};

export const QUICK: Sizes = {
  latencyWarmup: 5,
  latencyRuns: 30,
  diamondClients: 20,
  diamondWarmupMs: 300,
  diamondWindowMs: 1500,
  fanoutWidth: 100,
  fanoutRuns: 1,
  flatSeconds: 3,
  flatConnections: 50,
  drainCapMs: 30_000,
};

export type WorkloadKey = 'a' | 'b' | 'c' | 'd';

export interface LatencyResult {
  p50: number;
  p99: number;
  runs: number;
}

/** (a) One client, a 2-step chain at a time: submit -> result, p50 and p99 in ms. */
export async function chainLatency(variant: Variant, sizes: Sizes): Promise<LatencyResult> {
  const client = await variant.client();
  try {
    for (let i = 0; i < sizes.latencyWarmup; i++) await client.run('chain');
    const samples: number[] = [];
    for (let i = 0; i < sizes.latencyRuns; i++) {
      const start = performance.now();
      await client.run('chain');
      samples.push(performance.now() - start);
    }
    const [p50 = Number.NaN, p99 = Number.NaN] = percentiles(samples, [50, 99]);
    return { p50, p99, runs: samples.length };
  } finally {
    client.close();
  }
}

export interface RateResult {
  perSecond: number;
  completed: number;
  clients: number;
}

/**
 * (b) `diamondClients` clients, each submitting a diamond and waiting for its result, over and over. Counts the runs
 * whose result arrived inside the window (after a warm-up); executions/s is that count over the window.
 */
export async function diamondRate(variant: Variant, sizes: Sizes): Promise<RateResult> {
  const clients = await Promise.all(Array.from({ length: sizes.diamondClients }, () => variant.client()));
  const warmEnd = performance.now() + sizes.diamondWarmupMs;
  const end = warmEnd + sizes.diamondWindowMs;
  let completed = 0;
  try {
    await Promise.all(
      clients.map(async (client) => {
        while (performance.now() < end) {
          await client.run('diamond');
          const at = performance.now();
          if (at >= warmEnd && at <= end) completed++;
        }
      }),
    );
  } finally {
    for (const c of clients) c.close();
  }
  return { perSecond: completed / (sizes.diamondWindowMs / 1000), completed, clients: clients.length };
}

export interface FanoutResult {
  /** median of the runs of this repetition */
  ms: number;
  runs: number[];
  width: number;
}

/** (c) root -> `fanoutWidth` steps -> join, one at a time after one warm-up run: submit -> result. */
export async function fanoutTime(variant: Variant, sizes: Sizes): Promise<FanoutResult> {
  const client = await variant.client();
  try {
    await client.run('fanout', sizes.fanoutWidth);
    const runs: number[] = [];
    for (let i = 0; i < sizes.fanoutRuns; i++) {
      const start = performance.now();
      await client.run('fanout', sizes.fanoutWidth);
      runs.push(performance.now() - start);
    }
    return { ms: percentiles(runs, [50])[0] ?? Number.NaN, runs, width: sizes.fanoutWidth };
  } finally {
    client.close();
  }
}

export interface FlatOutResult {
  seconds: number;
  accepted: number;
  refused: number;
  errors: number;
  acceptedPerSecond: number;
  submitP99: number;
  completedInWindow: number;
  completedInWindowPerSecond: number;
  /** the system's cheap completion counter when the window closed (handler returns for the peers) */
  progressAtWindowEnd: number;
  /** completed inside the window / accepted */
  keptUp: number;
  drainMs: number;
  drained: boolean;
  completedTotal: number;
  /** CPU of the system's processes from the first request until the last accepted run completed */
  cpuSeconds: number;
  cpuMsPerRun: number;
}

/**
 * Waits until `accepted` runs have completed and no more complete for half a second: requests still in flight when
 * the load generator stopped were accepted by the system but not counted by the client, and their runs belong to the
 * same batch. Gives up after `capMs`.
 */
async function drain(counter: CompletionCounter, accepted: number, capMs: number) {
  const start = Date.now();
  let done = await counter.progress();
  let changedAt = Date.now();
  while (Date.now() - start < capMs) {
    if (done >= accepted && Date.now() - changedAt >= 500) break;
    await sleep(100);
    const now = await counter.progress();
    if (now !== done) changedAt = Date.now();
    done = now;
  }
  // The last half second of waiting saw nothing complete: it is not part of the drain.
  return { done, drainMs: Math.max(0, changedAt - start) };
}

/**
 * (d) `flatConnections` connections submitting 5-task runs as fast as they are answered for `flatSeconds` (each
 * request is answered once the run is recorded, not when it ends). Then waits for every accepted run to complete, so
 * the CPU per run covers all of its work.
 */
export async function flatOut(system: RunningSystem, sizes: Sizes): Promise<FlatOutResult> {
  const counter = await system.counter();
  try {
    const pids = { [system.name]: system.pids() };
    const before = cpuSnapshot(pids);
    const from = Date.now();
    const result = await autocannon({
      url: system.flatOut.url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: system.flatOut.body,
      connections: sizes.flatConnections,
      duration: sizes.flatSeconds,
      timeout: 60,
    });
    const to = Date.now();
    // A cross-check of the in-window count that does not depend on the system's records: its own cheap counter.
    const progressAtWindowEnd = await counter.progress();
    const accepted = result['2xx'];
    const { done, drainMs } = await drain(counter, accepted, sizes.drainCapMs);
    const after = cpuSnapshot(pids);
    const cpuSeconds = (after.systems[system.name] ?? 0) - (before.systems[system.name] ?? 0);
    const seconds = (to - from) / 1000;
    // The systems' own records of when each run completed; give the last completions a moment to be written.
    let completedTotal = await counter.completedBetween(from, Date.now());
    for (let i = 0; i < 20 && completedTotal < done; i++) {
      await sleep(100);
      completedTotal = await counter.completedBetween(from, Date.now());
    }
    const completedInWindow = await counter.completedBetween(from, to);
    return {
      seconds,
      accepted,
      refused: result.non2xx,
      errors: result.errors + result.timeouts,
      acceptedPerSecond: accepted / seconds,
      submitP99: result.latency.p99,
      completedInWindow,
      completedInWindowPerSecond: completedInWindow / seconds,
      progressAtWindowEnd,
      keptUp: accepted > 0 ? completedInWindow / accepted : 0,
      drainMs,
      drained: done >= accepted,
      completedTotal,
      cpuSeconds,
      cpuMsPerRun: (cpuSeconds * 1000) / Math.max(1, completedTotal),
    };
  } finally {
    await counter.close();
  }
}

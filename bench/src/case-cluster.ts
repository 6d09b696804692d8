import { prepareFromTemplate, type TemplateDefinition } from '@orch/core';
import { Partitions } from '@orch/redis';
import autocannon from 'autocannon';
import type { BenchTopology } from './bench-topology';
import { processCpuSeconds } from './cpu';
import { systemSeconds } from './machine-load';
import { type ApiProcess, sleep, withTimeout } from './processes';
import { type BenchWorkflow, fiveTaskTemplate } from './shapes';
import { percentiles } from './stats';
import type { Submitter } from './submitter';

/** Concurrent callers of `engine.submit`, and autocannon's connections: the starts case's 50. */
export const CALLERS = 50;
/** Each starts window; no worker runs, so no backlog is drained and a short window suffices. */
export const STARTS_WINDOW_S = 3;
/** A batch that has not finished by then failed. */
const BATCH_TIMEOUT_MS = 180_000;

/** One measured window on one topology. */
export interface ClusterWindow {
  /** Tasks (throughput) or started runs (starts) in the window. */
  units: number;
  ms: number;
  perSecond: number;
  p50?: number;
  p99?: number;
  /** Per node of the topology (its `nodes` order: primaries, then replicas): CPU ms over the window. */
  nodeCpuMs: number[];
  /** Per node: commands processed in the window (the bench's own INFO calls left out). */
  nodeCommands: number[];
  /** CPU ms over the window of the bench's other processes: `workers` (summed), `api`, and `bench` (the submitter). */
  processCpuMs: Record<string, number>;
  /** Cores other processes on the machine (not the bench's, not its Redis) used on average: a busy machine skews rates. */
  foreignCores: number;
}

/** Runs `work` between two samples of every node's CPU and command count and of the given processes' CPU. */
export async function measureWindow(
  topo: BenchTopology,
  pids: Record<string, number[]>,
  work: () => Promise<{ units: number; ms: number; p50?: number; p99?: number }>,
): Promise<ClusterWindow> {
  const cpuOf = () =>
    Object.fromEntries(
      Object.entries({ ...pids, bench: [process.pid] }).map(([k, list]) => [
        k,
        list.reduce((s, pid) => s + processCpuSeconds(pid), 0),
      ]),
    );
  const before = await topo.sample();
  const procBefore = cpuOf();
  const machineBefore = systemSeconds().busy;
  const t0 = Date.now();
  const result = await work();
  await sleep(100); // the last run's bookkeeping lands (as the throughput case's measure does)
  const procAfter = cpuOf();
  const after = await topo.sample();
  const seconds = (Date.now() - t0) / 1000;
  const own =
    after.reduce((s, a, i) => s + a.cpu - (before[i]?.cpu ?? 0), 0) +
    Object.entries(procAfter).reduce((s, [k, v]) => s + v - (procBefore[k] ?? 0), 0);
  return {
    ...result,
    foreignCores: Math.max(0, (systemSeconds().busy - machineBefore - own) / seconds),
    perSecond: (result.units / result.ms) * 1000,
    nodeCpuMs: after.map((a, i) => (a.cpu - (before[i]?.cpu ?? 0)) * 1000),
    // The first INFO stats falls inside the delta; the second is not in its own count.
    nodeCommands: after.map((a, i) => a.commands - (before[i]?.commands ?? 0) - 1),
    processCpuMs: Object.fromEntries(Object.entries(procAfter).map(([k, v]) => [k, (v - (procBefore[k] ?? 0)) * 1000])),
  };
}

/**
 * `runs` runs of `shape` submitted at once, placed round-robin over the partitions (ids made for a partition, as
 * the engine's own `newExecutionId` does), so every partition, hence every primary, gets its share; from the first
 * submit to the last finished message.
 */
export async function batch(
  topo: BenchTopology,
  submitter: Submitter,
  workerPids: number[],
  shape: BenchWorkflow,
  runs: number,
): Promise<ClusterWindow> {
  const partitions = new Partitions(topo.partitions, topo.cluster || topo.partitions > 1);
  const ids = Array.from({ length: runs }, (_, i) => partitions.newId(i % topo.partitions));
  return measureWindow(topo, { workers: workerPids }, async () => {
    // Listening before submitting: a run can end before its submit returns.
    const ends = ids.map((id) => submitter.finished(id));
    const start = Date.now();
    await Promise.all(ids.map((id) => submitter.submit(shape, id)));
    const finished = await withTimeout(Promise.all(ends), BATCH_TIMEOUT_MS, `${runs} runs of ${shape.id}`);
    const bad = finished.filter((f) => f.status !== 'completed');
    if (bad.length > 0) throw new Error(`${bad.length} of ${runs} runs of ${shape.id} ended ${bad[0]?.status}`);
    return { units: runs * shape.tasks.length, ms: Math.max(...finished.map((f) => f.at)) - start };
  });
}

/**
 * `engine.submit` of the 5-task template by 50 callers in the bench process, one run after another each, with no
 * worker running: what a start costs Redis (and the client) on this topology.
 */
export function submitStarts(topo: BenchTopology, submitter: Submitter): Promise<ClusterWindow> {
  const template = fiveTaskTemplate() as TemplateDefinition;
  return measureWindow(topo, {}, async () => {
    const latencies: number[] = [];
    const start = Date.now();
    const until = start + STARTS_WINDOW_S * 1000;
    await Promise.all(
      Array.from({ length: CALLERS }, async () => {
        while (Date.now() < until) {
          const t = Date.now();
          await submitter.engine.submit(prepareFromTemplate(template, {}));
          latencies.push(Date.now() - t);
        }
      }),
    );
    const [p50, p99] = percentiles(latencies, [50, 99]);
    return { units: latencies.length, ms: Date.now() - start, p50, p99 };
  });
}

/** `POST /api/v1/workflows` of the 5-task template, autocannon with 50 connections, no worker running. */
export function fireStarts(api: ApiProcess, connections: number, seconds: number) {
  return autocannon({
    url: `${api.baseUrl}/api/v1/workflows`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workflow_template: 'bench-five', variables: {} }),
    connections,
    duration: seconds,
  });
}

export function httpStarts(topo: BenchTopology, api: ApiProcess): Promise<ClusterWindow> {
  return measureWindow(topo, { api: [api.pid] }, async () => {
    const result = await fireStarts(api, CALLERS, STARTS_WINDOW_S);
    if (result.non2xx + result.errors > 0) {
      throw new Error(`HTTP starts on ${topo.key}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    }
    return {
      units: result['2xx'],
      ms: result.finish.getTime() - result.start.getTime(),
      p50: result.latency.p50,
      p99: result.latency.p99,
    };
  });
}

/** 500 submits through the 50 callers, not measured: the submitter's JIT and the topology's script cache. */
export async function warmStarts(submitter: Submitter): Promise<void> {
  const template = fiveTaskTemplate() as TemplateDefinition;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      for (let i = 0; i < 10; i++) await submitter.engine.submit(prepareFromTemplate(template, {}));
    }),
  );
}

/**
 * `pnpm bench --cluster`: throughput and starts on a standalone Redis (the baseline), a 1-primary cluster and a
 * 3-primary cluster, interleaved per repetition; prints one table and writes bench/results/latest-cluster.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInfo } from './bench-redis';
import { type BenchTopology, startTopology, type TopologySpec } from './bench-topology';
import { batch, fireStarts, httpStarts, submitStarts, warmStarts } from './case-cluster';
import { clusterJson, renderClusterTable, type TopologyResult, type Workload } from './cluster-report';
import { environment } from './environment';
import { type BenchChild, killAll, startApi, startOrchWorkers } from './processes';
import { randomDag, wide } from './shapes';
import { Submitter } from './submitter';
import { writeTemplates } from './templates-dir';

export interface ClusterArgs {
  reps: number;
  concurrency: number;
  /** A quick sanity run: smaller batches. */
  small: boolean;
  /** Also a 3-primary cluster with one replica each (replicas take CPU from the same 2 cores). */
  replicas: boolean;
}

/** Worker processes in every topology, each with WORKER_CONCURRENCY `--concurrency`. */
const WORKERS = 2;
/** ORCHESTRATOR_PARTITIONS on both clusters (the default on a cluster). */
const PARTITIONS = 16;
const SEED = 20_251_126;
/** REDIS_WAIT_TIMEOUT's default. */
const WAIT_TIMEOUT_MS = 200;

const SPECS: TopologySpec[] = [
  { key: 'standalone', label: 'standalone', primaries: 0, replicas: 0, partitions: 1 },
  { key: 'cluster-1', label: '1 primary', primaries: 1, replicas: 0, partitions: PARTITIONS },
  { key: 'cluster-3', label: '3 primaries', primaries: 3, replicas: 0, partitions: PARTITIONS },
];
const REPLICATED: TopologySpec = {
  key: 'cluster-3r',
  label: '3 primaries + 3 replicas',
  primaries: 3,
  replicas: 1,
  partitions: PARTITIONS,
};

export async function runClusterBench(args: ClusterArgs, log: (message: string) => void): Promise<void> {
  const started = Date.now();
  // Two runs per partition, so each partition (and each primary) has work through the whole batch.
  const size = args.small ? { runs: 16, tasks: 200 } : { runs: 32, tasks: 500 };
  const shapes = { wide: wide(size.tasks - 2), random: randomDag(size.tasks, SEED) };
  const specs = args.replicas ? [...SPECS, REPLICATED] : SPECS;
  const topologies: BenchTopology[] = [];
  const templates = writeTemplates();
  try {
    for (const spec of specs) {
      topologies.push(await startTopology(spec));
      log(
        `started ${spec.label}: ${topologies
          .at(-1)
          ?.nodes.map((n) => `${n.role} :${n.port}`)
          .join(', ')}`,
      );
    }
    const results: TopologyResult[] = topologies.map((t) => ({
      key: t.key,
      label: t.label,
      partitions: t.partitions,
      nodes: t.nodes.map((n) => ({ port: n.port, role: n.role, partitions: n.partitions })),
      windows: { wide: [], random: [], submit: [], http: [] },
    }));
    for (let rep = 0; rep < args.reps; rep++) {
      for (const [i, topo] of topologies.entries()) {
        const windows = (results[i] as TopologyResult).windows;
        await oneRepetition(topo, args, size.runs, shapes, templates.dir, windows, (m) =>
          log(`rep ${rep + 1} ${topo.key}: ${m}`),
        );
      }
    }
    const table = renderClusterTable(results);
    process.stdout.write(`\n${table}\n`);
    const first = topologies[0] as BenchTopology;
    const env = await environment({
      info: async (section) => parseInfo(await (first.nodes[0]?.admin.info(section) ?? '')),
    });
    const out = join(__dirname, '..', 'results');
    mkdirSync(out, { recursive: true });
    const report = {
      finished_at: new Date().toISOString(),
      duration_s: Math.round((Date.now() - started) / 1000),
      settings: {
        reps: args.reps,
        concurrency: args.concurrency,
        workers: WORKERS,
        partitions: PARTITIONS,
        batch: { runs: size.runs, wide: shapes.wide.tasks.length, random: shapes.random.tasks.length },
        replicas: args.replicas,
      },
      environment: env,
      table,
      topologies: clusterJson(results),
    };
    writeFileSync(join(out, 'latest-cluster.json'), `${JSON.stringify(report, null, 2)}\n`);
    log('wrote bench/results/latest-cluster.json');
  } finally {
    killAll();
    templates.remove();
    await Promise.allSettled(topologies.map((t) => t.stop()));
  }
}

/**
 * One repetition on one topology, from an empty Redis: the two throughput batches through the worker processes,
 * then (workers stopped, Redis flushed) the starts windows, engine.submit and HTTP.
 */
async function oneRepetition(
  topo: BenchTopology,
  args: ClusterArgs,
  runs: number,
  shapes: { wide: ReturnType<typeof wide>; random: ReturnType<typeof randomDag> },
  templatesDir: string,
  windows: Record<Workload, unknown[]>,
  log: (message: string) => void,
): Promise<void> {
  await topo.flush();
  const connection = topo.client('worker', 'bench-submit');
  const subscriber = topo.client('subscriber', 'bench-finished');
  // On a cluster a submit waits for one replica to hold the new run (REDIS_WAIT_REPLICAS defaults to 1 there): with
  // no replicas that WAIT can only time out, so it is off; with replicas it stays on, as deployed, in every process.
  const acks = topo.replicas > 0 ? { replicas: 1, timeoutMs: WAIT_TIMEOUT_MS } : undefined;
  const submitter = await Submitter.on(connection, subscriber, {
    partitions: topo.partitions,
    cluster: topo.cluster,
    replicaAcks: acks,
  });
  const children: BenchChild[] = [];
  const partitionEnv: Record<string, string> = topo.cluster
    ? {
        ORCHESTRATOR_PARTITIONS: String(topo.partitions),
        REDIS_WAIT_REPLICAS: String(acks?.replicas ?? 0),
        REDIS_WAIT_TIMEOUT: `${WAIT_TIMEOUT_MS}ms`,
      }
    : {};
  try {
    const workers = await startOrchWorkers(topo.settings, (topo.nodes[0] as BenchTopology['nodes'][0]).admin, WORKERS, {
      concurrency: args.concurrency,
      env: partitionEnv,
      // A cluster spreads the workers' clients over its nodes: their heartbeats say they are up.
      ready: topo.cluster
        ? async (names) => {
            const live = new Set(
              (await submitter.engine.workers()).filter((w) => w.status === 'live').map((w) => w.name),
            );
            return names.every((n) => live.has(n));
          }
        : undefined,
    });
    children.push(...workers);
    const pids = workers.map((w) => w.pid);
    await batch(topo, submitter, pids, wide(48), topo.partitions); // warm-up: JIT, script cache, queue metadata
    await batch(topo, submitter, pids, randomDag(50, 7), topo.partitions);
    for (const key of ['wide', 'random'] as const) {
      const w = await batch(topo, submitter, pids, shapes[key], runs);
      windows[key].push(w);
      log(`${key} ${Math.round(w.perSecond)} tasks/s, redis CPU ms ${w.nodeCpuMs.map((c) => Math.round(c)).join('/')}`);
    }
    await Promise.all(workers.map((w) => w.stop()));

    await topo.flush();
    await warmStarts(submitter);
    await topo.flush();
    const s = await submitStarts(topo, submitter);
    windows.submit.push(s);
    log(`engine.submit ${Math.round(s.perSecond)}/s, p99 ${Math.round(s.p99 ?? 0)} ms`);
    await topo.flush();

    const api = await startApi(topo.settings, {
      templatesDir,
      maxConcurrentWorkflows: 1_000_000,
      // No admission: no worker runs, and a held start is not what is measured.
      env: { ORCHESTRATOR_BACKLOG_HIGH_WATER: '0', ...partitionEnv },
    });
    if (!api) {
      log('HTTP starts skipped: API not built');
      return;
    }
    children.push(api);
    await fireStarts(api, 10, 1); // warm-up: JIT, connections
    await topo.flush();
    const h = await httpStarts(topo, api);
    windows.http.push(h);
    log(`HTTP ${Math.round(h.perSecond)}/s, p99 ${Math.round(h.p99 ?? 0)} ms`);
    await api.stop();
    await topo.flush();
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await submitter.close();
    await Promise.all([connection, subscriber].map((c) => c.quit().catch(() => c.disconnect())));
  }
}

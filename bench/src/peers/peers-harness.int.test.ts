import { existsSync } from 'node:fs';
import { freePort } from '@orch/testing';
import { killAll } from '../processes';
import { startOrchestrator } from './orchestrator';
import { killEverythingNow, ownedProcesses, spawnOwned, stopEverything } from './owned-process';
import { buildRows, type Measurement } from './peers-report';
import { startPostgres } from './postgres';
import { assertListener, descendants, isAlive, treeCpuSeconds } from './proc-tree';
import type { RunningSystem } from './system';
import { runWorkload } from './workload-runner';
import type { FlatOutResult, LatencyResult, RateResult, Sizes, WorkloadKey } from './workloads';

/**
 * The plumbing of `pnpm bench:peers` with tiny sizes: the process lifecycle, the private PostgreSQL, and every
 * workload against the real orchestrator stack. Restate and DBOS themselves are not downloaded here (see
 * bench/README.md): their side is exercised by `pnpm bench:peers --quick`.
 */

const TINY: Sizes = {
  latencyWarmup: 1,
  latencyRuns: 3,
  diamondClients: 3,
  diamondWarmupMs: 200,
  // windows long enough that even a machine busy with other suites completes something inside them
  diamondWindowMs: 1500,
  fanoutWidth: 10,
  fanoutRuns: 1,
  flatSeconds: 2,
  flatConnections: 4,
  drainCapMs: 20_000,
};

/** A node process that listens on `port` and starts a child of its own that sleeps. */
const SERVER = `
  const { spawn } = require('node:child_process');
  spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.argv[1]), '127.0.0.1',
    () => console.log('listening'));
`;

afterAll(async () => {
  await stopEverything();
  killAll();
  killEverythingNow();
});

describe('process lifecycle', () => {
  it('checks who listens on a port and stops a process with everything it started', async () => {
    const port = await freePort();
    const server = spawnOwned('test-server', process.execPath, ['-e', SERVER, String(port)]);
    await server.waitForOutput('listening', 10_000);
    const tree = descendants(server.pid);
    expect(tree.length).toBe(2);
    expect(() => assertListener(server.pid, port, 'the test server')).not.toThrow();
    const sleeper = tree[1]?.pid as number; // the server's child, which listens nowhere
    expect(() => assertListener(sleeper, port, 'the sleeper')).toThrow(
      `port ${port} does not belong to the sleeper (pid ${sleeper}): another process answers there`,
    );
    expect(treeCpuSeconds([server.pid])).toBeGreaterThan(0);
    await server.stop();
    expect(tree.filter(isAlive)).toEqual([]);
    expect(ownedProcesses()).not.toContain(server);
  }, 30_000);
});

describe('private PostgreSQL', () => {
  it('initialises a cluster in a temporary directory, serves it on its own port, and removes it', async () => {
    const pg = await startPostgres();
    expect(pg.version).toMatch(/^postgres \(PostgreSQL\) \d+/);
    expect(pg.port).not.toBe(5432);
    expect(() => assertListener(pg.pid, pg.port, 'the bench PostgreSQL')).not.toThrow();
    expect(pg.url).toMatch(new RegExp(`^postgresql://bench:[^@]+@127\\.0\\.0\\.1:${pg.port}/dbos_bench$`));
    const tree = descendants(pg.pid);
    expect(tree.length).toBeGreaterThan(1); // the postmaster and its background processes
    await pg.stop();
    expect(tree.filter(isAlive)).toEqual([]);
    expect(existsSync(pg.dataDir)).toBe(false);
  }, 60_000);
});

describe('the orchestrator side of every workload', () => {
  let system: RunningSystem;

  beforeAll(async () => {
    system = await startOrchestrator(() => undefined, { concurrency: 50 });
  }, 60_000);

  it('runs (a)-(d) through the HTTP API and the bus, and builds the table rows', async () => {
    const measurements: Measurement[] = [];
    for (const workload of ['a', 'b', 'c', 'd'] as WorkloadKey[]) {
      const variants =
        workload === 'd'
          ? system.variants.slice(0, 1)
          : system.variants.filter((v) => !v.workloads || v.workloads.includes(workload));
      for (const variant of variants) {
        const result = await runWorkload(workload, variant, system, TINY);
        measurements.push({
          rep: 1,
          workload,
          variant: variant.key,
          system: 'orchestrator',
          result,
          load: { seconds: 1, cpuSeconds: {}, cores: {}, benchCores: 0, foreignCores: 0, stealCores: 0 },
        });
      }
    }
    const latency = measurements.find((x) => x.workload === 'a')?.result as LatencyResult;
    expect(latency.runs).toBe(3);
    expect(latency.p50).toBeGreaterThan(0);
    expect(latency.p99).toBeGreaterThanOrEqual(latency.p50);
    const rate = measurements.find((x) => x.workload === 'b' && x.variant === 'orchestrator-bus')?.result as RateResult;
    expect(rate.perSecond).toBeGreaterThan(0);
    const flat = measurements.find((x) => x.workload === 'd')?.result as FlatOutResult;
    expect(flat.accepted).toBeGreaterThan(0);
    expect(flat.drained).toBe(true);
    expect(flat.completedTotal).toBeGreaterThanOrEqual(flat.accepted);
    expect(flat.completedInWindow).toBeLessThanOrEqual(flat.completedTotal);
    expect(flat.cpuMsPerRun).toBeGreaterThan(0);
    const rows = buildRows(measurements);
    expect(rows.map((r) => r.workload)).toEqual([
      '(a) 2-step chain, 1 client, submit -> result p50 (HTTP ?wait=)',
      '(a) ... p99',
      '(a) ... p50 submit, then the SSE event stream',
      '(a) ... p99 submit, then the SSE event stream',
      '(a) ... p50 via the Redis bus',
      '(a) ... p99 via the Redis bus',
      '(b) diamond A -> {B, C} -> D, 3 clients, executions/s',
      '(b) ... via the Redis bus',
      '(c) fan-out 1 -> 10 -> 1, time to done',
      '(c) ... via the Redis bus',
      '(d) 5-task runs flat out: runs/s accepted',
      '(d) ... runs/s completed within the window',
      '(d) ... completed within the window / accepted',
      'CPU ms per 5-task run, all processes of the system',
    ]);
    // no peer ran: nothing to compare with, and only the goal that needs no peer is judged
    expect(rows.every((r) => r.restate === '' && r.dbos === '' && r.vsBest === '')).toBe(true);
    expect(rows.filter((r) => r.met !== undefined).map((r) => r.goal)).toEqual(['>= 0.9']);

    const tree = system.pids().flatMap((pid) => descendants(pid));
    expect(tree.length).toBeGreaterThanOrEqual(3); // redis-server, worker, API
    await system.stop();
    expect(tree.filter(isAlive)).toEqual([]);
  }, 120_000);
});

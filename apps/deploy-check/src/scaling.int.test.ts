import { join } from 'node:path';
import { WorkflowEngine } from '@orch/engine';
import { internalsOf } from '@orch/engine/testing';
import { createRedisConnection } from '@orch/redis';
import { type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import { REPO_ROOT } from './deploy-files';
import { buildApps, callJson, type Exit, killAll, type ServiceProcess, startService } from './test-processes';

jest.setTimeout(180_000);

/**
 * Horizontal scaling as the compose file and the Kubernetes manifests deploy it: several API and worker processes
 * (the repository's apps/*\/dist) on one Redis, sharing runs submitted to any API, and a worker leaving mid-run.
 */

const RUNS = 100;
const WORKERS = ['w1', 'w2', 'w3'];
const APIS = 2;
const PREFIX = 'scale';
/** w3 is stopped once this many runs have finished, while the others are still queued or running. */
const STOP_AFTER = 25;

let server: RedisServer;
const processes: ServiceProcess[] = [];
/** ioredis, as @orch/redis makes it (this package does not depend on ioredis itself). */
type Redis = ReturnType<typeof createRedisConnection>;

let connection: Redis;
let subscriber: Redis;
let engine: WorkflowEngine;

function env(extra: Record<string, string>): Record<string, string> {
  return {
    REDIS_HOST: server.host,
    REDIS_PORT: String(server.port),
    QUEUE_PREFIX: PREFIX,
    ORCHESTRATOR_TEMPLATES: join(REPO_ROOT, 'templates'),
    // Admission is cluster-wide: with fewer slots than runs, most runs wait as `pending`, so the workload lasts
    // long enough for a worker to leave in the middle of it.
    MAX_CONCURRENT_WORKFLOWS: '10',
    WORKER_CONCURRENCY: '8',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/**
 * root -> six branches (four transforms, two delays) -> join: 8 tasks. A delay parks its job in BullMQ's delayed
 * set and whichever worker is free completes it when due. Durations vary per run so runs do not move in lockstep.
 */
function workflow(i: number) {
  const duration = `${600 + (i % 5) * 200}ms`;
  const branches = Array.from({ length: 6 }, (_, b) =>
    b < 4
      ? { id: `t${b}`, type: 'transform', depends_on: ['root'], parameters: { output: `\${root.output + ${b}}` } }
      : { id: `d${b}`, type: 'delay', depends_on: ['root'], parameters: { duration } },
  );
  return {
    id: `scale-${i}`,
    tasks: [
      { id: 'root', type: 'transform', parameters: { output: i } },
      ...branches,
      {
        id: 'join',
        type: 'transform',
        depends_on: branches.map((b) => b.id),
        parameters: { output: '${t0.output + t1.output + t2.output + t3.output}' },
      },
    ],
  };
}

/** True when `worker` started a delay whose job is parked until at least `marginMs` from now. */
async function hasParkedDelay(worker: string, marginMs: number): Promise<boolean> {
  const { ctx } = internalsOf(engine);
  for (const job of await ctx.queues.tasks.getDelayed()) {
    const { e, t, until } = job.data as { e: string; t: string; until?: number };
    if (until === undefined || until < Date.now() + marginMs) continue;
    const state = await connection.hget(ctx.keys.tasks(e), t);
    if (state && (JSON.parse(state) as { w?: string }).w === worker) return true;
  }
  return false;
}

beforeAll(async () => {
  buildApps(['api', 'worker']);
  server = await startRedisServer();
  connection = createRedisConnection({ host: server.host, port: server.port }, 'worker');
  subscriber = createRedisConnection({ host: server.host, port: server.port }, 'worker');
  engine = new WorkflowEngine({
    connection,
    prefix: PREFIX,
    maxConcurrentWorkflows: 10,
    executionTtlMs: 600_000,
    defaultWorkflowTimeoutMs: 120_000,
  });
});

afterAll(async () => {
  await killAll(processes);
  await engine?.close();
  await Promise.all([connection?.quit(), subscriber?.quit()]);
  await server?.stop();
});

describe('horizontal scaling', () => {
  it('spreads 100 runs over 3 workers and 2 APIs, each task once, while a worker leaves mid-run', async () => {
    const workers = WORKERS.map((name) => {
      const worker = startService(
        name,
        process.execPath,
        [join(REPO_ROOT, 'apps/worker/dist/main.js')],
        env({ WORKER_NAME: name }),
      );
      processes.push(worker);
      return worker;
    });
    const apis = Array.from({ length: APIS }, (_, i) => {
      const api = startService(
        `api${i + 1}`,
        process.execPath,
        [join(REPO_ROOT, 'apps/api/dist/main.js')],
        env({ ORCHESTRATOR_HOST: '127.0.0.1', ORCHESTRATOR_PORT: '0' }),
      );
      processes.push(api);
      return api;
    });
    await Promise.all(workers.map((w) => w.waitForLog((l) => l.message === 'worker ready', 'worker ready')));
    const urls = await Promise.all(
      apis.map(async (a) => String((await a.waitForLog((l) => l.message === 'api listening', 'listening')).url)),
    );

    // Every run's end, from the engine's finished channel (no polling); the victim leaves after STOP_AFTER.
    const finished = new Set<string>();
    let onFinished: () => void = () => undefined;
    const allFinished = new Promise<void>((resolve) => {
      onFinished = () => {
        if (finished.size === RUNS) resolve();
      };
    });
    // The stop point: STOP_AFTER runs have finished and w3 has a delay parked (checked at each run's end, so it
    // is decided by events, not by time); a job w3 parked must then be completed by another worker.
    let reachedStopPoint: () => void = () => undefined;
    const stopPoint = new Promise<void>((resolve) => {
      reachedStopPoint = resolve;
    });
    let checking = false;
    let recheck = false;
    let stopping = false;
    // One check at a time; a run that ends during a check asks for another one afterwards.
    const check = () => {
      if (checking) {
        recheck = true;
        return;
      }
      checking = true;
      recheck = false;
      hasParkedDelay('w3', 300)
        .catch(() => false)
        .then((parked) => {
          checking = false;
          if (parked && !stopping) {
            stopping = true;
            reachedStopPoint();
          } else if (recheck && !stopping) check();
        });
    };
    subscriber.on('message', (_channel: string, message: string) => {
      finished.add((JSON.parse(message) as { execution_id: string }).execution_id);
      onFinished();
      if (finished.size >= STOP_AFTER && !stopping) check();
    });
    await subscriber.subscribe(engine.finishedChannel());

    // Submitted round-robin over HTTP, all at once.
    const submitted = await Promise.all(
      Array.from({ length: RUNS }, async (_, i) => {
        const url = urls[i % APIS] as string;
        const response = await callJson('POST', `${url}/api/v1/workflows`, { workflow: workflow(i) });
        expect(response.status).toBe(202);
        return { id: String(response.body.execution_id), api: url, index: i };
      }),
    );
    expect(new Set(submitted.map((s) => s.id)).size).toBe(RUNS);

    // w3 leaves with SIGTERM in the middle of the workload.
    await withDeadline(stopPoint, 60_000, `${STOP_AFTER} runs to finish with a delay of w3 parked`);
    const victim = workers[2] as ServiceProcess;
    const stoppedAt = Date.now();
    const finishedAtSignal = finished.size;
    const exit: Exit = await victim.stop('SIGTERM', 30_000);
    const exitedAt = Date.now();
    const finishedAtExit = finished.size;
    expect(exit).toEqual({ code: 0, signal: null }); // a graceful close, not a crash or a kill
    expect(finishedAtExit).toBeLessThan(RUNS); // it left while runs were still waiting for workers

    await withDeadline(allFinished, 90_000, `all ${RUNS} runs to finish (${finished.size} did)`);

    const split = new Map<string, number>(WORKERS.map((w) => [w, 0]));
    const splitWhileAllRan = new Map<string, number>(WORKERS.map((w) => [w, 0]));
    let handedBack = 0;
    let tasks = 0;
    for (const { id, index } of submitted) {
      const record = await engine.get(id);
      expect([id, record.status]).toEqual([id, 'completed']);
      const join = record.tasks.find((t) => t.id === 'join');
      expect(join?.output).toBe(4 * index + 6);
      const events = await engine.events(id, '0', 10_000);
      // Exactly one completion per task: nothing ran twice, nothing was lost when w3 left.
      const completions = events.filter((e) => e.type === 'task.completed').map((e) => e.task);
      expect([id, completions.length, new Set(completions).size]).toEqual([
        id,
        record.tasks.length,
        record.tasks.length,
      ]);
      for (const task of record.tasks) {
        tasks++;
        expect([id, task.id, task.status, task.attempts]).toEqual([id, task.id, 'completed', 1]);
        const worker = task.worker as string;
        split.set(worker, (split.get(worker) ?? 0) + 1);
        if (Date.parse(task.started_at as string) < stoppedAt)
          splitWhileAllRan.set(worker, (splitWhileAllRan.get(worker) ?? 0) + 1);
        if (worker !== 'w3') continue;
        // w3 started nothing after it had gone.
        expect(Date.parse(task.started_at as string)).toBeLessThanOrEqual(exitedAt);
        // Started (and parked) by w3, completed after w3 had exited: another worker took the job it left behind.
        if (Date.parse(task.finished_at as string) > exitedAt) handedBack++;
      }
    }
    expect([...split.keys()].sort()).toEqual(WORKERS);
    for (const worker of WORKERS) expect([worker, split.get(worker)]).toEqual([worker, expect.any(Number)]);
    for (const worker of WORKERS) expect(split.get(worker)).toBeGreaterThan(0);
    for (const worker of ['w1', 'w2']) expect(split.get(worker) as number).toBeGreaterThan(tasks * 0.1);
    // w3 had a delay parked when it left (the stop point), and exited before it was due.
    expect(handedBack).toBeGreaterThan(0);
    const perApi = urls.map((u) => submitted.filter((s) => s.api === u).length);
    expect(perApi).toEqual([RUNS / APIS, RUNS / APIS]);

    // The numbers for the README's scaling notes.
    process.stdout.write(
      `${JSON.stringify({
        runs: RUNS,
        tasks,
        per_worker: Object.fromEntries(split),
        per_worker_before_w3_stopped: Object.fromEntries(splitWhileAllRan),
        per_api: perApi,
        w3_sigterm_after_runs: finishedAtSignal,
        runs_finished_when_w3_exited: finishedAtExit,
        w3_close_ms: exitedAt - stoppedAt,
        parked_by_w3_finished_after_it_exited: handedBack,
      })}\n`,
    );

    for (const p of processes)
      if (p !== victim) expect([p.name, await p.stop('SIGTERM', 30_000)]).toEqual([p.name, { code: 0, signal: null }]);
  });
});

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { WorkflowEngine } from '@orch/engine';
import { createRedisConnection } from '@orch/redis';
import type { RedisServer } from '@orch/testing';
import type { Redis } from 'ioredis';

const ROOT = join(__dirname, '../../..');

/** Builds the worker app once per test file (incremental; fast when dist is current). */
export function buildWorker(): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'apps/worker'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

export interface WorkerFleet {
  engine: WorkflowEngine;
  waiter: Redis;
  processes: ChildProcess[];
  spawnWorker(name: string): Promise<ChildProcess>;
  kill(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null>;
  /** Resolves once the run's event stream has an event of `type` for `task` (XREAD BLOCK, no polling). */
  waitForEvent(id: string, type: string, task: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Real worker processes (`node apps/worker/dist/main.js`) against a test Redis, and an engine to submit with. */
export async function startFleet(server: RedisServer, env: Record<string, string> = {}): Promise<WorkerFleet> {
  const connection = createRedisConnection({ host: server.host, port: server.port }, 'worker');
  // Only (un)subscribes: without the subscriber profile, a Redis restart left it unsubscribed on a loaded machine
  // (ioredis's ready check sends INFO on a connection already resubscribing: "Connection in subscriber mode").
  const waiter = createRedisConnection({ host: server.host, port: server.port }, 'subscriber');
  const engine = new WorkflowEngine({
    connection,
    prefix: 'orch',
    maxConcurrentWorkflows: 100,
    executionTtlMs: 600_000,
    defaultWorkflowTimeoutMs: 120_000,
  });
  const processes: ChildProcess[] = [];
  const fleet: WorkerFleet = {
    engine,
    waiter,
    processes,
    spawnWorker(name) {
      const child = spawn(process.execPath, [join(ROOT, 'apps/worker/dist/main.js')], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          REDIS_HOST: server.host,
          REDIS_PORT: String(server.port),
          QUEUE_PREFIX: 'orch',
          LOG_LEVEL: 'info',
          WORKER_CONCURRENCY: '20',
          WORKER_NAME: name,
          ...env,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      processes.push(child);
      return new Promise((resolve, reject) => {
        let output = '';
        const timer = setTimeout(() => reject(new Error(`worker ${name} did not start: ${output}`)), 15_000);
        child.stderr?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('"worker ready"')) {
            clearTimeout(timer);
            resolve(child);
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`worker ${name} exited with ${code}: ${output}`));
        });
      });
    },
    kill(child, signal) {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
      return new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      });
    },
    async waitForEvent(id, type, task, timeoutMs = 20_000) {
      const reader = connection.duplicate();
      const deadline = Date.now() + timeoutMs;
      let last = '0';
      try {
        for (;;) {
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`no ${type} of ${task} in ${id} within ${timeoutMs} ms`);
          const events = await engine.waitForEvents(reader, id, last, { count: 1000, blockMs: left });
          for (const event of events ?? []) {
            last = event.id;
            if (event.type === type && event.task === task) return;
          }
        }
      } finally {
        reader.disconnect();
      }
    },
    async stop() {
      await Promise.all(processes.map((p) => fleet.kill(p, 'SIGKILL')));
      await engine.close();
      await Promise.all([connection.quit(), waiter.quit()]);
    },
  };
  return fleet;
}

/** A seeded random DAG of transform tasks; each output is 1 + the sum of its dependencies' outputs. */
export function randomDag(size: number, seed: number): { tasks: unknown[]; expected: Map<string, number> } {
  let a = seed;
  const random = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const expected = new Map<string, number>();
  const tasks = Array.from({ length: size }, (_, i) => {
    const deps = new Set<string>();
    const wanted = i === 0 ? 0 : Math.floor(random() * 3);
    for (let k = 0; k < wanted; k++) deps.add(`n${Math.floor(random() * i)}`);
    const list = [...deps];
    expected.set(`n${i}`, 1 + list.reduce((s, d) => s + (expected.get(d) as number), 0));
    const output = list.length === 0 ? 1 : `\${1 + ${list.map((d) => `${d}.output`).join(' + ')}}`;
    return { id: `n${i}`, type: 'transform', depends_on: list, parameters: { output } };
  });
  return { tasks, expected };
}

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { prepareInline } from '@orch/core';
import { waitForEnd } from '@orch/engine/testing';
import { freePort, type RedisServer, startRedisServer } from '@orch/testing';
import { buildWorker, startFleet, type WorkerFleet } from './test-worker-processes';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '../../..');
let server: RedisServer;
let fleet: WorkerFleet;
let api: ChildProcess;
let url: string;

beforeAll(async () => {
  buildWorker();
  server = await startRedisServer({ appendonly: true });
  fleet = await startFleet(server, { RECOVERY_ENABLED: 'false' });
  await fleet.spawnWorker('o1');
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  api = spawn(process.execPath, [join(ROOT, 'apps/api/dist/main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_HOST: server.host,
      REDIS_PORT: String(server.port),
      QUEUE_PREFIX: 'orch',
      ORCHESTRATOR_PORT: String(port),
      ORCHESTRATOR_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`API did not start: ${out}`)), 20_000);
    api.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const probe = async () => {
      try {
        if ((await fetch(`${url}/health`)).ok) {
          clearTimeout(timer);
          return resolve();
        }
      } catch {
        // not listening yet
      }
      setTimeout(probe, 100);
    };
    void probe();
  });
});
afterAll(async () => {
  api?.kill('SIGKILL');
  await fleet?.stop();
  await server?.stop();
});

const submit = () =>
  fetch(`${url}/api/v1/workflows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workflow: { id: 'w', tasks: [{ id: 't', type: 'transform', parameters: { output: 1 } }] } }),
  });

it('answers 503 while Redis is unreachable for 10 s, crashes nothing, and resumes the work', async () => {
  // A run in flight across the outage: a delay keeps it running.
  const { executionId } = await fleet.engine.submit(
    prepareInline({
      id: 'across',
      tasks: [
        { id: 'wait', type: 'delay', parameters: { duration: '2s' } },
        { id: 'after', type: 'transform', depends_on: ['wait'], parameters: { output: 'done' } },
      ],
    }),
  );
  await fleet.waitForEvent(executionId, 'task.started', 'wait');
  await server.stop({ keepDir: true });
  const until = Date.now() + 10_000;
  let probes = 0;
  while (Date.now() < until) {
    expect((await fetch(`${url}/health`)).status).toBe(503);
    const refused = await submit();
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('SERVICE_UNAVAILABLE');
    probes++;
    await new Promise((r) => setTimeout(r, 250)); // pace the probes over the outage; not a synchronisation
  }
  expect(probes).toBeGreaterThan(10);
  await server.restart();
  const record = await waitForEnd(fleet.engine, executionId, fleet.waiter, 60_000);
  expect(record.status).toBe('completed');
  expect(record.tasks.find((t) => t.id === 'after')?.output).toBe('done');
  expect((await submit()).status).toBe(202);
  expect(api.exitCode).toBeNull();
  for (const worker of fleet.processes) expect(worker.exitCode).toBeNull();
});

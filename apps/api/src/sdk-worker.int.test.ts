import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { waitUntil } from '@orch/testing';
import { byId, type Harness, startApi, startHarness, type TestApi } from './testing';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '../../..');
const processes: ChildProcess[] = [];
let h: Harness;
let api: TestApi;
let server: Server;
let serverUrl: string;

/** Builds what the processes run: the stock worker and the SDK (the example requires its dist). */
function build(): void {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'apps/worker', 'packages/worker-sdk'], { cwd: ROOT, stdio: 'inherit' });
}

function spawnProcess(script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [join(ROOT, script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.on('exit', (code, signal) => {
    if (code && code !== 0) console.error(`${script} exited ${code} (${signal}): ${stderr}`);
  });
  processes.push(child);
  return child;
}

const redisEnv = () => ({ REDIS_HOST: h.server.host, REDIS_PORT: String(h.server.port), QUEUE_PREFIX: 'test' });
const sampleWorker = (name: string) =>
  spawnProcess('examples/sdk-worker/worker.js', {
    REDIS_URL: `redis://${h.server.host}:${h.server.port}`,
    QUEUE_PREFIX: 'test',
    WORKER_NAME: name,
    LOCK_MS: '1500',
    HEARTBEAT_MS: '300',
  });

async function workers(): Promise<{ name: string; status: string; queues: string[]; kind: string }[]> {
  return (await api.call('GET', '/api/v1/workers')).body.workers;
}
const isLive = async (name: string) => (await workers()).some((w) => w.name === name && w.status === 'live');

beforeAll(async () => {
  build();
  h = await startHarness();
  api = await startApi(h);
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ user: 'Ada', numbers: [1, 2, 3] }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  spawnProcess('apps/worker/dist/main.js', {
    ...redisEnv(),
    WORKER_NAME: 'stock',
    WORKER_HEARTBEAT_INTERVAL: '300ms',
    HTTP_TASK_ALLOW: '127.0.0.1/32',
    ORCHESTRATOR_TEMPLATES: join(ROOT, 'templates'),
    LOG_LEVEL: 'warn',
  });
  sampleWorker('sample-1');
  await waitUntil(async () => (await isLive('stock')) && (await isLive('sample-1')), 30_000, 'both workers');
});
afterAll(async () => {
  for (const child of processes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  server?.close();
  await api?.service.close();
  await h?.stop();
});

const submit = (workflow: unknown) => api.call('POST', '/api/v1/workflows', { body: { workflow } });

describe('an SDK worker beside the stock worker', () => {
  it('registers its types with itself: the workers list shows both, with their queues', async () => {
    const listed = await workers();
    const sample = listed.find((w) => w.name === 'sample-1');
    expect(sample).toMatchObject({ kind: 'sdk', status: 'live', queues: ['greet', 'special'] });
    expect(listed.find((w) => w.name === 'stock')).toMatchObject({ kind: 'stock', queues: ['default'] });
  });

  it('runs a workflow mixing its types with built-in ones and an http task', async () => {
    const answer = await submit({
      id: 'mixed',
      tasks: [
        { id: 'fetch', type: 'http', parameters: { url: `${serverUrl}/profile` } },
        { id: 'hello', type: 'greet', depends_on: ['fetch'], parameters: { name: '${fetch.output.body.user}' } },
        { id: 'sum', type: 'slow-sum', depends_on: ['fetch'], parameters: { numbers: '${fetch.output.body.numbers}' } },
        {
          id: 'report',
          type: 'transform',
          depends_on: ['hello', 'sum'],
          parameters: { output: '${hello.output.greeting + " total=" + sum.output.total}' },
        },
      ],
    });
    expect(answer.status).toBe(202);
    const record = await h.waitForEnd(answer.body.execution_id, 60_000);
    expect(record.status).toBe('completed');
    const tasks = byId(record);
    expect(tasks.report?.output).toBe('Hello, Ada. total=6');
    expect(tasks.fetch?.worker).toBe('stock');
    expect(tasks.hello?.worker).toBe('sample-1');
    expect(tasks.sum?.worker).toBe('sample-1');
    expect(tasks.report?.worker).toBe('stock');
  });

  it('refuses at submit a parameter that breaks the registered schema, with its JSON pointer', async () => {
    const answer = await submit({ id: 'bad', tasks: [{ id: 'hello', type: 'greet', parameters: { name: 42 } }] });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details).toEqual([
      expect.objectContaining({ pointer: '/workflow/tasks/0/parameters/name' }),
    ]);
    const unknown = await submit({ id: 'bad', tasks: [{ id: 'x', type: 'grete', parameters: {} }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details[0].message).toMatch(
      /unknown task type 'grete'; known types: .*http.*greet, slow-sum/,
    );
  });

  it('accepts a type registered a moment ago, though the API read the registry within the last second', async () => {
    const warm = await submit({ id: 'warm', tasks: [{ id: 'x', type: 'transform', parameters: { output: 1 } }] });
    expect(warm.status).toBe(202);
    await h.engine.registerTaskTypes([
      { name: 'just-registered', parameters: { type: 'object', required: ['n'] }, queue: 'nobody' },
    ]);
    const answer = await submit({ id: 'new', tasks: [{ id: 'n', type: 'just-registered', parameters: { n: 1 } }] });
    expect(answer.status).toBe(202);
    // Its schema applies at once too.
    const refused = await submit({ id: 'new', tasks: [{ id: 'n', type: 'just-registered', parameters: {} }] });
    expect([refused.status, refused.body.error.details[0].pointer]).toEqual([400, '/workflow/tasks/0/parameters/n']);
    await h.engine.cancel(answer.body.execution_id); // no worker serves its queue
  });

  it('hands the job of a sample worker killed mid-task to a second instance', async () => {
    const numbers = Array.from({ length: 20 }, (_, i) => i + 1);
    const answer = await submit({
      id: 'long',
      tasks: [{ id: 'sum', type: 'slow-sum', parameters: { numbers, step_ms: 250 } }],
    });
    const id = answer.body.execution_id as string;
    await h.waitForEvent(id, (e) => e.type === 'task.started' && e.task === 'sum', 30_000);
    const first = processes.find((p) => p.spawnargs.includes(join(ROOT, 'examples/sdk-worker/worker.js')));
    first?.kill('SIGKILL');
    const [, signal] = await once(first as ChildProcess, 'exit');
    const killedAt = Date.now();
    expect(signal).toBe('SIGKILL');
    sampleWorker('sample-2');
    const record = await h.waitForEnd(id, 60_000);
    expect(record.status).toBe('completed');
    // Only sample-2 serves `special` now, so it ran the task again from the start once the dead lock expired: a
    // second attempt, and the record keeps the first as lost with the worker that died.
    expect(byId(record).sum?.output).toEqual({ total: 210, attempt: 2 });
    expect(byId(record).sum?.history?.map((a) => [a.attempt, a.status, a.worker])).toEqual([
      [1, 'lost', 'sample-1'],
      [2, 'completed', 'sample-2'],
    ]);
    expect(Date.parse(byId(record).sum?.finished_at as string)).toBeGreaterThan(killedAt + 4000);
    expect(
      (await workers()).filter((w) => w.status === 'live' && w.queues.includes('special')).map((w) => w.name),
    ).toEqual(['sample-2']);
    await waitUntil(
      async () => (await workers()).some((w) => w.name === 'sample-1' && w.status === 'lost'),
      10_000,
      'sample-1 listed as lost',
    );
  });
});

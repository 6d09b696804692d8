import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '@orch/config';
import { prepareInline } from '@orch/core';
import { WorkflowEngine } from '@orch/engine';
import { waitForEnd } from '@orch/engine/testing';
import { createLogger } from '@orch/logger';
import { createRedisConnection } from '@orch/redis';
import { type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import type { Redis } from 'ioredis';
import { buildWorker } from './test-worker-processes';
import { startWorkerProcess, type WorkerProcess } from './worker-process';

jest.setTimeout(90_000);

const ROOT = join(__dirname, '../../..');

/** A chat-completions endpoint that holds every request until `release()`, then answers them all. */
async function heldChatServer() {
  const held: ServerResponse[] = [];
  let released = false;
  const arrived = new EventTarget();
  const answer = (res: ServerResponse) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        id: 'chatcmpl-test',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: 'test',
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      }),
    );
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrived.dispatchEvent(new Event('request'));
      if (released) answer(res);
      else held.push(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    arrived: () => once(arrived as unknown as NodeJS.EventEmitter, 'request'),
    release() {
      released = true;
      for (const res of held.splice(0)) answer(res);
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let redis: RedisServer;
let engine: WorkflowEngine;
let connection: Redis;
let waiter: Redis;
let worker: WorkerProcess;
let chat: Awaited<ReturnType<typeof heldChatServer>>;
const logs: Record<string, unknown>[] = [];
let env: Record<string, string>;

beforeAll(async () => {
  buildWorker();
  redis = await startRedisServer();
  chat = await heldChatServer();
  env = {
    REDIS_HOST: redis.host,
    REDIS_PORT: String(redis.port),
    QUEUE_PREFIX: 'orch',
    ORCHESTRATOR_TEMPLATES: join(ROOT, 'templates'),
    OPENAI_BASE_URL: chat.baseUrl,
    OPENAI_API_KEY: 'test',
    WORKER_LOCK_DURATION: '2s',
    WORKER_STALLED_INTERVAL: '1s',
    RECOVERY_ENABLED: 'false',
  };
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', stream, defaults: { service: 'worker-test' } });
  worker = await startWorkerProcess(loadConfig({ ...env, WORKER_METRICS_PORT: '0', WORKER_NAME: 'metrics-1' }), logger);
  connection = createRedisConnection({ host: redis.host, port: redis.port }, 'worker');
  waiter = connection.duplicate();
  engine = new WorkflowEngine({
    connection,
    prefix: 'orch',
    maxConcurrentWorkflows: 10,
    executionTtlMs: 600_000,
    defaultWorkflowTimeoutMs: 60_000,
  });
});
afterAll(async () => {
  chat?.release();
  await worker?.close();
  await engine?.close();
  await Promise.allSettled([connection?.quit(), waiter?.quit()]);
  await chat?.close();
  await redis?.stop();
});

async function scrape(): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(worker.metricsUrl as string);
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

/** The value of the series `name` with exactly these labels (in any order), or undefined. */
function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = [...(match[2] as string).matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]);
    if (JSON.stringify(found.sort()) === wanted) return Number(match[3]);
  }
  return undefined;
}

describe('worker /metrics', () => {
  it('serves task durations by type and status, attempts, queue lag and active jobs, labelled with the worker', async () => {
    expect(worker.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(logs.find((l) => l.message === 'worker metrics listening')?.url).toBe(worker.metricsUrl);
    const retry = { max_retries: 1, backoff_type: 'fixed', initial_delay: '50ms' };
    const workflow = {
      id: 'measured',
      tasks: [
        { id: 'shape', type: 'transform', parameters: { output: 1 } },
        { id: 'pause', type: 'delay', depends_on: ['shape'], parameters: { duration: '50ms' } },
        // No data-abstractor runs here: each attempt fails at once (retryable), then the task fails.
        { id: 'lookup', type: 'data', depends_on: ['shape'], parameters: { operation: 'search' }, retry_policy: retry },
      ],
    };
    const { executionId } = await engine.submit(prepareInline(workflow), { requestId: 'req-metrics-1' });
    const record = await waitForEnd(engine, executionId, waiter, 30_000);
    expect(record.tasks.map((t) => [t.id, t.status])).toEqual([
      ['shape', 'completed'],
      ['pause', 'completed'],
      ['lookup', 'failed'],
    ]);

    const { status, type, text } = await scrape();
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    const w = { worker: 'metrics-1' };
    expect(
      value(text, 'orchestrator_worker_task_duration_seconds_count', { type: 'transform', status: 'completed', ...w }),
    ).toBe(1);
    expect(
      value(text, 'orchestrator_worker_task_duration_seconds_count', { type: 'data', status: 'retrying', ...w }),
    ).toBe(1);
    expect(
      value(text, 'orchestrator_worker_task_duration_seconds_count', { type: 'data', status: 'failed', ...w }),
    ).toBe(1);
    // The delay runs twice: once to park itself (it holds no worker while it waits), once to complete.
    expect(
      value(text, 'orchestrator_worker_task_duration_seconds_count', { type: 'delay', status: 'parked', ...w }),
    ).toBe(1);
    expect(
      value(text, 'orchestrator_worker_task_duration_seconds_count', { type: 'delay', status: 'completed', ...w }),
    ).toBe(1);
    expect(value(text, 'orchestrator_worker_task_attempts_total', { type: 'data', outcome: 'retrying', ...w })).toBe(1);
    expect(value(text, 'orchestrator_worker_task_attempts_total', { type: 'data', outcome: 'failed', ...w })).toBe(1);
    expect(value(text, 'orchestrator_worker_task_attempts_total', { type: 'delay', outcome: 'completed', ...w })).toBe(
      1,
    );
    expect(
      value(text, 'orchestrator_worker_task_attempts_total', { type: 'delay', outcome: 'parked', ...w }),
    ).toBeUndefined();
    // Queue lag: each job's first run only (not the retry, not the delay's second half).
    expect(value(text, 'orchestrator_worker_queue_lag_seconds_count', { type: 'transform', ...w })).toBe(1);
    expect(value(text, 'orchestrator_worker_queue_lag_seconds_count', { type: 'data', ...w })).toBe(1);
    expect(value(text, 'orchestrator_worker_queue_lag_seconds_count', { type: 'delay', ...w })).toBe(1);
    for (const t of ['transform', 'data', 'delay']) {
      expect(value(text, 'orchestrator_worker_active_jobs', { type: t, ...w })).toBe(0);
    }
    expect(text).toContain('# TYPE orchestrator_worker_job_stalls_total counter');
    expect(value(text, 'process_cpu_seconds_total', w)).toBeGreaterThan(0);

    // The run's request id is on the task's log lines.
    const retried = logs.find((l) => l.message === 'task attempt failed; it will be retried' && l.task_id === 'lookup');
    expect(retried).toMatchObject({ execution_id: executionId, request_id: 'req-metrics-1', attempt: 1 });
    expect(logs.find((l) => l.message === 'task failed' && l.task_id === 'lookup')?.request_id).toBe('req-metrics-1');

    const other = await fetch(worker.metricsUrl?.replace('/metrics', '/nothing') as string);
    expect([other.status, await other.text()]).toEqual([404, 'only GET /metrics is served here\n']);
  });

  it('counts a stall: the job of a killed worker, found by this worker', async () => {
    // Another worker process takes an ai task (the chat endpoint holds it) and is killed while it runs.
    const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'apps/worker/dist/main.js')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env, WORKER_NAME: 'doomed', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let output = '';
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        child.stderr?.on('data', () => output.includes('"worker ready"') && resolve());
        child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${output}`)));
      }),
      15_000,
      'the second worker to start',
    );
    // This process's worker must not take it first: pause its task queue until the other worker has it.
    await worker.worker.workers[0]?.pause();
    const requested = chat.arrived();
    const { executionId } = await engine.submit(
      prepareInline({ id: 'held', tasks: [{ id: 'ask', type: 'ai', parameters: { prompt: 'hi' } }] }),
    );
    await withDeadline(requested, 15_000, 'the ai call of the other worker');
    const killed = once(child, 'exit');
    child.kill('SIGKILL');
    await killed;
    worker.worker.workers[0]?.resume();
    // Once the dead worker's lock (2 s) expires, this worker's stall check (every 1 s) moves the job back to wait
    // and runs it; the chat endpoint now answers, so the run completes here.
    chat.release();
    const record = await waitForEnd(engine, executionId, waiter, 20_000);
    expect(record.status).toBe('completed');
    const stalls = value((await scrape()).text, 'orchestrator_worker_job_stalls_total', {
      queue: 'tasks',
      worker: 'metrics-1',
    });
    expect(stalls).toBe(1);
    // The re-run is a second attempt, on this worker, and the lost one is in the record and the event stream.
    const [ask] = record.tasks;
    expect(ask?.attempts).toBe(2);
    expect(ask?.worker).toBe('metrics-1');
    expect(ask?.history?.map((h) => [h.attempt, h.worker, h.status])).toEqual([
      [1, 'doomed', 'lost'],
      [2, 'metrics-1', 'completed'],
    ]);
    for (const h of ask?.history ?? [])
      expect(h.duration_ms).toBe(Date.parse(h.ended_at as string) - Date.parse(h.started_at));
    const events = await engine.events(executionId, '0', 100);
    expect(events.filter((e) => e.task === 'ask').map((e) => [e.type, e.attempt, e.worker ?? null])).toEqual([
      ['task.started', 1, 'doomed'],
      ['task.stalled', 1, 'doomed'],
      ['task.started', 2, 'metrics-1'],
      ['task.completed', 2, null],
    ]);
  });
});

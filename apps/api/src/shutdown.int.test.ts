import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { withDeadline } from '@orch/testing';
import { type Harness, probe, ROOT, startApi, startHarness, type TestApi, testEnv, wf } from './testing';

jest.setTimeout(90_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorker({ concurrency: 10 });
});
afterAll(() => h?.stop());

/**
 * Opens an SSE stream and resolves `opened` once the server has sent `until` (its first bytes when not given);
 * `text` resolves at its end.
 */
function follow(url: string, until = ''): { opened: Promise<void>; text: Promise<string> } {
  let markOpen: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    markOpen = resolve;
  });
  const text = (async () => {
    const response = await fetch(url);
    const reader = response.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let received = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return received;
      received += new TextDecoder().decode(value);
      if (received.includes(until)) markOpen();
    }
  })();
  return { opened, text };
}

describe('ApiService.close() in process', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startApi(h, {}, { heartbeatMs: 60_000 });
  });
  afterAll(() => api?.service.close());

  it('refuses new connections, lets an in-flight request finish, ends SSE streams, then quits Redis', async () => {
    const slow = await api.call('POST', '/api/v1/workflows', {
      body: { workflow: wf([probe('shutdown_hold', [], { sleep_ms: 30_000 })]) },
    });
    const id = slow.body.execution_id;
    await h.started('shutdown_hold');
    // Opened once the replay has reached the run's start: closing before that would race the replay.
    const stream = follow(`${api.url}/api/v1/workflows/${id}/events`, 'event: workflow.started');
    await withDeadline(stream.opened, 10_000, 'the replay of workflow.started');

    // A request whose body is still arriving when shutdown starts.
    const body = JSON.stringify({ correlation_id: 'in-flight', workflow: wf([probe('late')]) });
    const arrived = new Promise((resolve) => api.service.server.once('request', resolve));
    const req = request(`${api.url}/api/v1/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    });
    const response = new Promise<{ status: number; connection?: string; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }));
      });
      req.on('error', reject);
    });
    req.write(body.slice(0, 10));
    await arrived;

    const closed = api.service.close();
    expect(api.service.server.listening).toBe(false);
    await expect(fetch(`${api.url}/health`)).rejects.toThrow('fetch failed');
    // The stream ends (the client resumes elsewhere with Last-Event-ID); the run itself goes on.
    const streamed = await withDeadline(stream.text, 5_000, 'the SSE stream to end');
    expect(streamed).toContain('event: workflow.started');
    expect(streamed).not.toContain('event: workflow.completed');

    req.end(body.slice(10));
    const answer = await withDeadline(response, 5_000, 'the in-flight request');
    expect(answer.status).toBe(202);
    expect(answer.connection).toBe('close');
    expect(JSON.parse(answer.body ?? '{}')).toMatchObject({ correlation_id: 'in-flight', created: true });

    await withDeadline(closed, 10_000, 'close()');
    expect(api.service.close()).toBe(closed); // idempotent: the same promise
    const { redis } = api.service.deps;
    if (redis.status !== 'end') await withDeadline(new Promise((r) => redis.once('end', r)), 5_000, 'Redis to end');
    expect(redis.status).toBe('end');
    expect(await h.connection.pubsub('NUMSUB', 'workflow-requests')).toEqual(['workflow-requests', 0]);
    const reasons = api.logs.filter((l) => l.message === 'event stream closed').map((l) => l.reason);
    expect(reasons).toEqual(['server closing']);
    const order = api.logs
      .map((l) => l.message)
      .filter((m) => m === 'api shutting down' || m === 'api stopped' || m === 'request');
    expect(order.slice(-2)).toEqual(['request', 'api stopped']);

    await h.engine.cancel(id);
    await h.waitForEnd(id);
  });
});

describe('SIGTERM to a spawned API process', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('drains and exits 0', async () => {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'apps/api'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    const proc = spawn(process.execPath, [join(ROOT, 'apps/api/dist/main.js')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...testEnv(h, { LOG_LEVEL: 'info' }) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = proc;
    let output = '';
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const listening = new Promise<string>((resolve) => {
      proc.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const line = output.split('\n').find((l) => l.includes('"api listening"'));
        if (line) resolve((JSON.parse(line) as { url: string }).url);
      });
    });
    const url = await withDeadline(
      Promise.race([listening, exited.then((code) => Promise.reject(new Error(`exited ${code}: ${output}`)))]),
      20_000,
      'the API process to listen',
    );
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const created = await fetch(`${url}/api/v1/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workflow: wf([probe('proc_hold', [], { sleep_ms: 30_000 })]) }),
    });
    const { execution_id: id } = (await created.json()) as { execution_id: string };
    await h.started('proc_hold');
    const stream = follow(`${url}/api/v1/workflows/${id}/events`);
    await stream.opened;

    const started = Date.now();
    proc.kill('SIGTERM');
    expect(await withDeadline(exited, 15_000, 'the process to exit')).toBe(0);
    const exitMs = Date.now() - started;
    await withDeadline(stream.text, 5_000, 'the SSE stream to end');
    const messages = output
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { message: string }).message);
    expect(messages).toEqual(expect.arrayContaining(['stopping', 'api shutting down', 'api stopped']));
    expect(messages.indexOf('api stopped')).toBeGreaterThan(messages.indexOf('api shutting down'));
    expect(exitMs).toBeLessThan(5_000);
    await h.engine.cancel(id);
    await h.waitForEnd(id);
  });
});

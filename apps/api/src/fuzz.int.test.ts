import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { createRedisConnection } from '@orch/redis';
import { freePort, type RedisServer, startRedisServer, withDeadline } from '@orch/testing';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { type RunningStack, startStack } from '../../cli/src/service-stack';
import { type BusInput, FUZZ_REPLY_CHANNEL, type FuzzInput, fuzzInput, type HttpInput } from './test-fuzz-inputs';

/**
 * Throws generated HTTP requests (fetch and raw bytes), and messages on `workflow-requests` and the service request
 * channels, at the processes of `orchestrator up` (API, worker, the three stand-ins) for a bounded time. Every HTTP
 * answer must come within REQUEST_MS and be below 500 or a 503; no process may exit or log an error; memory must
 * stay bounded. FUZZ_SECONDS sets the budget (default 15), FUZZ_SEED replays a run (fast-check prints its seed).
 */

const BUDGET_MS = Number(process.env.FUZZ_SECONDS || '15') * 1000;
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const REQUEST_MS = 5_000;
/** RSS a process may gain over the run; a leak of request bodies or runs would pass it in seconds. */
const MAX_GROWTH_BYTES = 300 * 1024 * 1024;

jest.setTimeout(BUDGET_MS + 120_000);

interface LogLine {
  process: string;
  level?: string;
  message?: string;
  raw: string;
}

let server: RedisServer;
let stack: RunningStack;
let bus: Redis;
let replies: Redis;
let died: string | undefined;
const notable: LogLine[] = [];
const ready = new Set<string>();
let allReady: () => void = () => undefined;
const readyPromise = new Promise<void>((resolve) => {
  allReady = resolve;
});

beforeAll(async () => {
  server = await startRedisServer();
  stack = await startStack({
    env: {
      PATH: process.env.PATH,
      REDIS_HOST: server.host,
      REDIS_PORT: String(server.port),
      QUEUE_PREFIX: 'fuzz',
      ORCHESTRATOR_PORT: String(await freePort()),
      ORCHESTRATOR_WORKSPACE: mkdtempSync(join(tmpdir(), 'orch-fuzz-')),
      ORCHESTRATOR_TEMPLATES: join(__dirname, '../../../templates'),
      ORCHESTRATOR_HEADERS_TIMEOUT: '1s',
      ORCHESTRATOR_REQUEST_TIMEOUT: '2s',
      LOG_LEVEL: 'info',
    },
    log: (raw) => {
      const match = /^\[([a-z-]+)\] (\{.*\})$/.exec(raw);
      if (!match) {
        if (/^\[[a-z-]+\] /.test(raw)) notable.push({ process: raw.slice(1, raw.indexOf(']')), raw });
        return;
      }
      const line = JSON.parse(match[2] as string) as { level?: string; message?: string };
      const process = match[1] as string;
      if (line.message === 'worker ready' || line.message === 'listening for requests') {
        ready.add(process);
        if (ready.size === 4) allReady();
      }
      // A task that fails is the run's own business (the worker logs it at error), not a fault of a process.
      if (line.level === 'error' && line.message !== 'task failed') {
        notable.push({ process, level: line.level, message: line.message, raw });
      }
    },
  });
  void stack.exited.then((name) => {
    died = name;
  });
  bus = createRedisConnection(server, 'worker');
  replies = createRedisConnection(server, 'worker');
  await replies.subscribe(FUZZ_REPLY_CHANNEL);
  await withDeadline(readyPromise, 30_000, 'the worker and the stand-ins to be ready');
});
afterAll(async () => {
  await Promise.allSettled([bus?.quit(), replies?.quit()]);
  await stack?.stop();
  await server?.stop();
});

async function submit(workflow: unknown): Promise<string> {
  const response = await fetch(`${stack.apiUrl}/api/v1/workflows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workflow }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { execution_id: string }).execution_id;
}

function compress(text: string, encoding: string | undefined): Uint8Array | string {
  if (encoding === 'gzip') return gzipSync(text);
  if (encoding === 'deflate') return deflateSync(text);
  if (encoding === 'br') return brotliCompressSync(text);
  return text;
}

/** The status of the answer, or undefined when fetch refused to send the request (an invalid header, say). */
async function sendHttp(input: HttpInput): Promise<number | undefined> {
  const init: RequestInit = { method: input.method, headers: input.headers, redirect: 'manual' };
  if (input.body !== undefined && input.method !== 'GET' && input.method !== 'HEAD') {
    init.body =
      input.compress && typeof input.body === 'string'
        ? compress(input.body, input.headers['content-encoding'])
        : input.body;
  }
  let response: Response;
  try {
    response = await fetch(`${stack.apiUrl}${input.path}`, { ...init, signal: AbortSignal.timeout(REQUEST_MS) });
    // An event stream lasts as long as its run: the status is all that is checked.
    if (response.headers.get('content-type')?.startsWith('text/event-stream')) await response.body?.cancel();
    else await response.arrayBuffer();
  } catch (error) {
    const { name, message, cause } = error as Error & { cause?: Error };
    if (name === 'TimeoutError') throw new Error(`no answer within ${REQUEST_MS} ms`);
    if (message === 'fetch failed') throw new Error(`the connection failed: ${cause?.message ?? 'no cause'}`);
    return undefined;
  }
  return response.status;
}

/** The status line's code, read from the socket; undefined when the server closed without answering. */
function sendRaw(text: string): Promise<number | undefined> {
  const address = new URL(stack.apiUrl);
  return withDeadline(
    new Promise<number | undefined>((resolve, reject) => {
      const socket = connect(Number(address.port), address.hostname);
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
        const line = /^HTTP\/1\.[01] (\d{3})/.exec(received);
        if (line) {
          socket.destroy();
          resolve(Number(line[1]));
        } else if (received.includes('\r\n')) {
          socket.destroy();
          reject(new Error(`not an HTTP status line: ${JSON.stringify(received.slice(0, 80))}`));
        }
      });
      socket.on('close', () => resolve(undefined));
      socket.on('error', () => resolve(undefined));
      socket.write(text, 'latin1');
    }),
    REQUEST_MS,
    'an answer to a raw request',
  );
}

async function sendBus(input: BusInput): Promise<void> {
  let message = input.message;
  try {
    const envelope = JSON.parse(message) as { deadline?: unknown };
    // Generated deadlines are offsets from now, so that some requests are live and some already late.
    if (envelope && typeof envelope.deadline === 'number' && Math.abs(envelope.deadline) <= 5_000) {
      message = JSON.stringify({ ...envelope, deadline: Date.now() + envelope.deadline });
    }
  } catch {
    // not JSON: sent as it is
  }
  await bus.publish(input.channel, message);
}

function rss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

it('answers generated hostile input without a 5xx (but 503), a crash, an error log line or unbounded memory', async () => {
  // Real ids to aim at: a run that waits, one that waits for an approval, one that ended.
  const known = [
    await submit({ id: 'waits', tasks: [{ id: 'wait', type: 'delay', parameters: { duration: '10m' } }] }),
    await submit({ id: 'approves', tasks: [{ id: 'approve_me', type: 'approval', parameters: {} }] }),
    await submit({ id: 'ends', tasks: [{ id: 'a', type: 'transform', parameters: { output: 1 } }] }),
  ];
  const processes = stack.processes();
  const baseline = new Map(processes.map(({ name, pid }) => [name, rss(pid)]));
  const peak = new Map(baseline);
  const sampler = setInterval(() => {
    for (const { name, pid } of stack.processes()) peak.set(name, Math.max(peak.get(name) ?? 0, rss(pid)));
  }, 250);
  let serviceReplies = 0;
  replies.on('message', () => serviceReplies++);

  const counts: Record<FuzzInput['kind'], number> = { http: 0, raw: 0, bus: 0 };
  const statuses = new Map<number, number>();
  let refusedByClient = 0;
  let closedWithoutAnswer = 0;
  const started = Date.now();
  try {
    await fc.assert(
      fc.asyncProperty(fuzzInput(known), async (input) => {
        if (died) throw new Error(`${died} exited`);
        counts[input.kind]++;
        if (input.kind === 'bus') return sendBus(input);
        const status = input.kind === 'http' ? await sendHttp(input) : await sendRaw(input.text);
        if (status === undefined) {
          if (input.kind === 'http') refusedByClient++;
          else closedWithoutAnswer++;
          return;
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 500 && status !== 503) throw new Error(`answered ${status}`);
      }),
      { numRuns: 10_000_000, seed: SEED, plugins: [fc.interruptAfterTimeLimit(BUDGET_MS)] },
    );
  } finally {
    clearInterval(sampler);
  }
  const elapsedMs = Date.now() - started;

  // Still serving, every process still there, nothing logged as an error.
  const health = await fetch(`${stack.apiUrl}/health`, { signal: AbortSignal.timeout(REQUEST_MS) });
  expect(health.status).toBe(200);
  expect(died).toBeUndefined();
  expect(stack.processes().map((p) => p.name)).toEqual(processes.map((p) => p.name));
  expect(notable.map((l) => l.raw)).toEqual([]);
  const memory = Object.fromEntries(
    [...peak].map(([name, bytes]) => [name, { baseline_mb: mb(baseline.get(name) ?? 0), peak_mb: mb(bytes) }]),
  );
  for (const [name, bytes] of peak) {
    expect([name, bytes - (baseline.get(name) ?? 0) < MAX_GROWTH_BYTES]).toEqual([name, true]);
  }
  const total = counts.http + counts.raw + counts.bus;
  console.log(
    `fuzz: ${total} inputs in ${(elapsedMs / 1000).toFixed(1)} s (${JSON.stringify(counts)}); ` +
      `statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}; ` +
      `${refusedByClient} not sendable by fetch, ${closedWithoutAnswer} raw closed unanswered; ` +
      `${serviceReplies} service replies; memory ${JSON.stringify(memory)}`,
  );
  expect(total).toBeGreaterThan(100);
});

const mb = (bytes: number) => Math.round(bytes / (1024 * 1024));

import { randomUUID } from 'node:crypto';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { type BenchRedis, startBenchRedis } from '../bench-redis';
import { type BenchChild, PREFIX, ROOT, startApi, startOrchWorkers, waitFor } from '../processes';
import { chain, wide } from '../shapes';
import { writeTemplates } from '../templates-dir';
import { HttpClient, type SseEvent } from './http';
import { disownPid, ownDir, ownPid, removeDir } from './owned-process';
import { assertListener, readStat } from './proc-tree';
import type { CompletionCounter, Flow, RunClient, RunningSystem } from './system';

const TERMINAL = new Set(['completed', 'failed', 'timed_out', 'cancelled']);
const BUS = { requests: 'workflow-requests', responses: 'workflow-responses' };

/** The same shapes the peers run, as inline workflows of no-op transform tasks (the five-task one is a template). */
export function orchestratorRequest(flow: Flow, width = 1000): object {
  switch (flow) {
    case 'chain':
      return { workflow: chain(2) };
    case 'diamond':
      return {
        workflow: {
          id: 'bench-diamond',
          name: 'bench diamond',
          tasks: [
            { id: 'a', type: 'transform', parameters: { output: 1 } },
            { id: 'b', type: 'transform', depends_on: ['a'], parameters: { output: 1 } },
            { id: 'c', type: 'transform', depends_on: ['a'], parameters: { output: 1 } },
            { id: 'd', type: 'transform', depends_on: ['b', 'c'], parameters: { output: 1 } },
          ],
        },
      };
    case 'fanout':
      return { workflow: wide(width) };
    case 'five':
      return { workflow_template: 'bench-five', variables: {} };
  }
}

const finalEvent = (e: SseEvent) => e.event.startsWith('workflow.') && TERMINAL.has(e.event.slice(9));

/**
 * POST /api/v1/workflows?wait=: one request that answers with the final record when the run ends within the wait
 * (every run of these workloads does), else 202 and the event stream as below.
 */
class HttpWaitClient implements RunClient {
  private readonly http: HttpClient;

  constructor(baseUrl: string) {
    this.http = new HttpClient(baseUrl);
  }

  async run(flow: Flow, width?: number): Promise<void> {
    const res = await this.http.post('/api/v1/workflows?wait=60s', orchestratorRequest(flow, width));
    const body = res.body as { execution_id?: string; status?: string };
    if (res.status === 200 && body.status === 'completed') return;
    if (res.status !== 202 || !body.execution_id) {
      throw new Error(`POST /api/v1/workflows?wait=60s: ${res.status} ${JSON.stringify(res.body)}`);
    }
    const last = await this.http.events(`/api/v1/workflows/${body.execution_id}/events`, finalEvent);
    if (last.event !== 'workflow.completed') throw new Error(`run ${body.execution_id} ended with ${last.event}`);
  }

  close(): void {
    this.http.close();
  }
}

/** POST /api/v1/workflows, then the run's event stream until its final event: submit, then follow. */
class HttpSseClient implements RunClient {
  private readonly http: HttpClient;

  constructor(baseUrl: string) {
    this.http = new HttpClient(baseUrl);
  }

  async run(flow: Flow, width?: number): Promise<void> {
    const res = await this.http.post('/api/v1/workflows', orchestratorRequest(flow, width));
    const id = (res.body as { execution_id?: string }).execution_id;
    if (res.status !== 202 || !id) throw new Error(`POST /api/v1/workflows: ${res.status} ${JSON.stringify(res.body)}`);
    const last = await this.http.events(`/api/v1/workflows/${id}/events`, finalEvent);
    if (last.event !== 'workflow.completed') throw new Error(`run ${id} ended with ${last.event}`);
  }

  close(): void {
    this.http.close();
  }
}

/** Submits on `workflow-requests` and waits for the run's final message on `workflow-responses`. */
class BusHub {
  private readonly waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
  ) {
    subscriber.on('message', (channel: string, text: string) => {
      if (channel !== BUS.responses) return;
      const msg = JSON.parse(text) as { type: string; correlation_id?: string; error?: unknown };
      const waiter = msg.correlation_id ? this.waiting.get(msg.correlation_id) : undefined;
      if (!waiter || msg.type === 'accepted') return;
      this.waiting.delete(msg.correlation_id as string);
      if (msg.type === 'completed') waiter.resolve();
      else waiter.reject(new Error(`bus run ${msg.correlation_id}: ${msg.type} ${JSON.stringify(msg.error)}`));
    });
  }

  static async create(redis: BenchRedis): Promise<BusHub> {
    const subscriber = await redis.subscriber('bench-peers-bus-sub');
    await subscriber.subscribe(BUS.responses);
    return new BusHub(redis.connect('bench-peers-bus-pub'), subscriber);
  }

  run(flow: Flow, width?: number): Promise<void> {
    const correlationId = randomUUID();
    const done = new Promise<void>((resolve, reject) => this.waiting.set(correlationId, { resolve, reject }));
    const message = { correlation_id: correlationId, ...orchestratorRequest(flow, width) };
    return this.publisher.publish(BUS.requests, JSON.stringify(message)).then(() => done);
  }
}

async function finishedCounter(redis: BenchRedis): Promise<CompletionCounter> {
  const subscriber = await redis.subscriber('bench-peers-finished');
  const times: number[] = [];
  const channel = `${PREFIX}:finished`;
  subscriber.on('message', (ch: string, text: string) => {
    if (ch === channel && (JSON.parse(text) as { status: string }).status === 'completed') times.push(Date.now());
  });
  await subscriber.subscribe(channel);
  return {
    progress: async () => times.length,
    completedBetween: async (from, to) => times.filter((t) => t >= from && t <= to).length,
    // Unsubscribed only: the bench Redis quits every client it made when it closes.
    close: async () => {
      await subscriber.unsubscribe(channel);
    },
  };
}

/**
 * Starts the API and waits until it has subscribed to `workflow-requests`. The API can lose that subscription at
 * start: its subscriber connection may send SUBSCRIBE before ioredis's ready check (the INFO it sends on connect),
 * which then fails with "Connection in subscriber mode" and leaves the client unsubscribed. It happens when the
 * catalog loads quickly (a directory with one template: every time on this machine), so the catalog here also holds
 * the repository's templates, and an API that did not subscribe is replaced (up to 3 times).
 */
async function startSubscribedApi(
  redis: BenchRedis,
  templatesDir: string,
  log: (m: string) => void,
  env: Record<string, string>,
) {
  for (let attempt = 1; ; attempt++) {
    const api = await startApi(redis.settings, { templatesDir, maxConcurrentWorkflows: 1_000_000, env });
    if (!api) throw new Error('apps/api/dist/main.js is missing: run `pnpm build` first');
    const subscribed = await waitFor(
      async () => ((await redis.admin.pubsub('NUMSUB', BUS.requests)) as [string, number])[1] >= 1,
      3000,
      () => 'the API to subscribe to workflow-requests',
    ).then(
      () => true,
      () => false,
    );
    if (subscribed) return api;
    await api.stop();
    log(`the API (attempt ${attempt}) did not subscribe to ${BUS.requests}: ${api.output().slice(-300)}`);
    if (attempt === 3) throw new Error(`the API did not subscribe to ${BUS.requests} in 3 starts`);
  }
}

/** The bench's 5-task template beside the repository's own templates (see startSubscribedApi). */
function catalogDir(): { dir: string; remove(): void } {
  const catalog = writeTemplates();
  ownDir(catalog.dir); // removed by the emergency path too
  const shipped = join(ROOT, 'templates');
  for (const file of readdirSync(shipped)) {
    if (/\.(ya?ml|json)$/.test(file)) copyFileSync(join(shipped, file), join(catalog.dir, file));
  }
  return catalog;
}

/**
 * The orchestrator as `pnpm bench` runs it: a private redis-server (no AOF, no snapshots), one worker process
 * (WORKER_CONCURRENCY 50) and the API process, with the bench's 5-task template in the API's catalog.
 */
export async function startOrchestrator(
  log: (m: string) => void,
  options: { concurrency: number; highWater?: number },
): Promise<RunningSystem> {
  const redis = await startBenchRedis();
  const redisPid = Number((await redis.info('server')).process_id);
  ownPid(redisPid);
  ownDir(redis.server.dir);
  const templates = catalogDir();
  const children: BenchChild[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => c.stop()));
    await redis.close();
    disownPid(redisPid);
    removeDir(redis.server.dir);
    removeDir(templates.dir);
  };
  try {
    if (readStat(redisPid)?.ppid !== process.pid) throw new Error(`Redis pid ${redisPid} is not the bench's child`);
    assertListener(redisPid, redis.settings.port, 'the bench redis-server');
    children.push(...(await startOrchWorkers(redis.settings, redis.admin, 1, { concurrency: options.concurrency })));
    const env: Record<string, string> =
      options.highWater === undefined ? {} : { ORCHESTRATOR_BACKLOG_HIGH_WATER: String(options.highWater) };
    const api = await startSubscribedApi(redis, templates.dir, log, env);
    children.push(api);
    assertListener(api.pid, Number(new URL(api.baseUrl).port), 'the bench API');
    const bus = await BusHub.create(redis);
    log(
      `orchestrator: redis-server on ${redis.settings.port} (pid ${redisPid}), worker ${children[0]?.pid}, API ${api.pid}`,
    );
    return {
      name: 'orchestrator',
      pids: () => [redisPid, ...children.map((c) => c.pid)],
      variants: [
        {
          key: 'orchestrator',
          system: 'orchestrator',
          label: 'orchestrator (HTTP, submit and wait)',
          client: async () => new HttpWaitClient(api.baseUrl),
        },
        {
          key: 'orchestrator-sse',
          system: 'orchestrator',
          label: 'orchestrator (HTTP + SSE)',
          workloads: ['a'],
          client: async () => new HttpSseClient(api.baseUrl),
        },
        {
          key: 'orchestrator-bus',
          system: 'orchestrator',
          label: 'orchestrator (Redis bus)',
          client: async () => ({ run: (flow, width) => bus.run(flow, width), close: () => undefined }),
        },
      ],
      flatOut: { url: `${api.baseUrl}/api/v1/workflows`, body: JSON.stringify(orchestratorRequest('five')) },
      counter: () => finishedCounter(redis),
      describe: async () => {
        const server = await redis.info('server');
        const [, appendonly] = (await redis.admin.config('GET', 'appendonly')) as string[];
        const [, save] = (await redis.admin.config('GET', 'save')) as string[];
        return {
          redis: server.redis_version,
          durability: { appendonly: appendonly ?? '?', save: save === '' ? '(none)' : (save ?? '?') },
          notes:
            `1 worker process, WORKER_CONCURRENCY=${options.concurrency}; ORCHESTRATOR_BACKLOG_HIGH_WATER ` +
            `${options.highWater ?? 'default'}; Redis keeps everything in memory only`,
        };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

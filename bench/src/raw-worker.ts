/**
 * The raw BullMQ baseline's worker process: one BullMQ Worker with no-op jobs and the same concurrency and lock
 * settings as the orchestrator's task worker, so the ratio compares engine overhead and nothing else.
 * Controlled over IPC: `{type:'expect', n}` arms a counter; `{type:'done', at}` goes back when n jobs completed.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

interface Expect {
  type: 'expect';
  n: number;
}

function main(): void {
  const env = process.env;
  const connection = new Redis({
    host: env.REDIS_HOST ?? '127.0.0.1',
    port: Number(env.REDIS_PORT ?? 6379),
    maxRetriesPerRequest: null,
  });
  let target = Number.POSITIVE_INFINITY;
  let completed = 0;
  const worker = new Worker(env.QUEUE_NAME ?? 'raw', async () => undefined, {
    connection,
    prefix: env.QUEUE_PREFIX ?? 'raw',
    concurrency: Number(env.WORKER_CONCURRENCY ?? 50),
    // The engine's task worker uses 30 s locks and a 15 s stall check (the config defaults); so does this one.
    lockDuration: 30_000,
    stalledInterval: 15_000,
    maxStalledCount: 2,
  });
  // 'completed' fires after moveToFinished has committed, the same point at which an orchestrator task is done.
  worker.on('completed', () => {
    completed += 1;
    if (completed === target) process.send?.({ type: 'done', at: Date.now() });
  });
  worker.on('error', (error) => process.stderr.write(`raw worker error: ${error.message}\n`));
  process.on('message', (message: Expect) => {
    if (message.type !== 'expect') return;
    completed = 0;
    target = message.n;
    process.send?.({ type: 'armed' });
  });
  const stop = () => {
    worker
      .close()
      .then(() => connection.quit())
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  worker.waitUntilReady().then(
    () => process.send?.({ type: 'ready' }),
    (error: unknown) => {
      process.stderr.write(`raw worker failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
}

main();
